"""Reading the store without writing to it, for the Python API's `open_run`.

DuckDB lets one process write a database file, or several read it, not both at once. A read-only
connection never creates, migrates or changes the store; it is meant to be held only while data is
copied out (`read_only_store` closes it on leaving), so that it never keeps the CLI out for longer.
A store held by a writer (a `bordersim run` under way) is reported as one clear error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bordersim.errors import BordersimError
from bordersim.store.location import resolve_store_path
from bordersim.store.migrations import MIGRATIONS


@contextmanager
def read_only_store(
    path: str | Path | None = None, *, wait_s: float = 2.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store at `path` (or the resolved default) opened read-only, closed on leaving.

    A store in use by a writer is retried for up to `wait_s` seconds, then refused.
    """
    location = resolve_store_path(path)
    if not location.is_file():
        raise BordersimError("no store here (`bordersim run` creates one)", where=str(location))
    connection = _connect(location, wait_s)
    try:
        _check_version(connection, location)
        yield connection
    finally:
        connection.close()


def _connect(location: Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(location), read_only=True)
        except duckdb.Error as err:
            if "lock" not in str(err).lower() or time.monotonic() >= deadline:
                raise BordersimError(
                    f"cannot open the store read-only: another bordersim process is writing to "
                    f"it; try again when it has finished ({_first_line(err)})"
                    if "lock" in str(err).lower()
                    else f"cannot open the store read-only ({_first_line(err)})",
                    where=str(location),
                ) from None
            time.sleep(0.1)


def _check_version(connection: duckdb.DuckDBPyConnection, location: Path) -> None:
    """A store this bordersim would migrate (or cannot read) is refused, not changed."""
    try:
        row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
    except duckdb.Error:
        row = None
    version = int(row[0]) if row and row[0] is not None else 0
    latest = MIGRATIONS[-1].version
    if version != latest:
        raise BordersimError(
            f"store schema version {version}, this bordersim reads version {latest}; "
            "any `bordersim` command that writes (such as `bordersim runs`) brings an older "
            "store up to date",
            where=str(location),
        )


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
