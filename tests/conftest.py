"""Fixtures every test folder may use: a real PostgreSQL server for the session
(tests/postgres_server.py), for the store's contract suite, sweeps and the workbench on a shared
store.

Without a server here the PostgreSQL tests are skipped, saying why; with
`BORDERSIM_REQUIRE_POSTGRES=1` (set by .ci/run) they fail instead, so CI never passes silently
without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.Server]:
    try:
        server = postgres_server.start()
    except postgres_server.Unavailable as err:
        if os.environ.get(postgres_server.REQUIRE_ENV_VAR) == "1":
            pytest.fail(f"PostgreSQL is required here ({postgres_server.REQUIRE_ENV_VAR}=1): {err}")
        pytest.skip(f"no PostgreSQL server could be started: {err}")
    yield server
    server.stop()
