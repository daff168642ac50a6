"""The two stores the contract suite runs against: the embedded DuckDB store, and a PostgreSQL
catalog on the real server of tests/conftest.py (`postgres`)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["duckdb", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A location of a new, empty store of each kind."""
    if request.param == "duckdb":
        return str(tmp_path / "store" / "bordersim.duckdb")
    server = request.getfixturevalue("postgres")
    return server.new_store_url(tmp_path / "shared-results")
