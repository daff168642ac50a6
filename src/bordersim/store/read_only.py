"""Reading the store without writing to it, for the Python API's `open_run`.

DuckDB lets one process write a database file, or several read it, not both at once. A read-only
connection never creates, migrates or repairs the store (`open_store(read_only=True)`, with the
same checks as any open: a missing, foreign or damaged store is refused); it is meant to be held
only while data is copied out (`read_only_store` closes it on leaving), so that it never keeps the
CLI out for longer. A store a writer holds (a run storing its results) is waited for, saying so on
stderr, up to `wait_s` seconds (default 2; None: `BORDERSIM_STORE_WAIT`, else 120), then refused
in one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bordersim.store.interface import Catalog
from bordersim.store.migrations import MIGRATIONS, check_readable, recorded_version


@contextmanager
def read_only_store(
    path: str | Path | None = None, *, wait_s: float | None = 2.0
) -> Iterator[Catalog]:
    """The store at `path` (or the resolved default) opened read-only, closed on leaving."""
    from bordersim.store import open_store, store_location
    from bordersim.store.postgres import open_postgres

    location = store_location(path)
    if isinstance(location, str):
        with open_postgres(location, create=False, read_only=True) as catalog:
            yield catalog
        return
    connection = open_store(location, create=False, read_only=True, wait_s=wait_s)
    try:
        _check_version(connection, location)
        yield connection
    finally:
        connection.close()


def _check_version(connection: duckdb.DuckDBPyConnection, location: Path) -> None:
    """A store this bordersim would migrate (or cannot read) is refused, not changed."""
    try:
        version = recorded_version(connection)
    except duckdb.Error:
        version = 0
    check_readable(version, MIGRATIONS[-1].version, where=str(location))
