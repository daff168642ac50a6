"""Fixtures every test folder may use: a real PostgreSQL server for the session
(tests/postgres_server.py), for the store's contract suite, sweeps and the workbench on a shared
store; runs built from constructed arrays (tests/constructed_runs.py), for the KPI arithmetic,
the store round-trip and rendering reports without running an engine; a store path of the test's
own.

Property tests (Hypothesis) draw their examples from a fixed seed and keep no example database,
so a run is the same on every machine and CI cannot fail by chance; widen `max_examples` in a
test to search harder.

Without a server here the PostgreSQL tests are skipped, saying why; with
`BORDERSIM_REQUIRE_POSTGRES=1` (set by .ci/run) they fail instead, so CI never passes silently
without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

import postgres_server
from bordersim.results.schema import RunResult
from constructed_runs import constructed_run

settings.register_profile("bordersim", derandomize=True, database=None)
settings.load_profile("bordersim")


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


@pytest.fixture
def make_run() -> Callable[..., RunResult]:
    return constructed_run


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"
