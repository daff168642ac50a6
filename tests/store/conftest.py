"""The two stores the contract suite runs against: the embedded DuckDB store, and a PostgreSQL
catalog on a real server started for the session (tests/postgres_server.py).

Without a server here the PostgreSQL half is skipped, saying why; with
`BORDERSIM_REQUIRE_POSTGRES=1` (set by .ci/run) it fails instead, so CI never passes silently
without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(params=["duckdb", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A location of a new, empty store of each kind."""
    if request.param == "duckdb":
        return str(tmp_path / "store" / "bordersim.duckdb")
    server = request.getfixturevalue("postgres")
    return server.new_store_url(tmp_path / "shared-results")
