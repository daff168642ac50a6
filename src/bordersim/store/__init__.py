"""The embedded store (DuckDB): official data tables and the run catalog.

`open_store` finds the file (option, `BORDERSIM_STORE`, or ./.bordersim/bordersim.duckdb),
creates its folder, and brings its schema up to date with the ordered migrations.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from bordersim.errors import BordersimError
from bordersim.store.location import DEFAULT_STORE, STORE_ENV_VAR, resolve_store_path
from bordersim.store.migrations import MIGRATIONS, migrate
from bordersim.store.official import import_parsed, imported_kinds

__all__ = [
    "DEFAULT_STORE",
    "MIGRATIONS",
    "STORE_ENV_VAR",
    "import_parsed",
    "imported_kinds",
    "open_store",
    "resolve_store_path",
]


def open_store(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating and migrating as needed) the store at `path` or the resolved default."""
    location = resolve_store_path(path)
    try:
        location.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(location))
    except (OSError, duckdb.Error) as err:
        raise BordersimError(f"cannot open the store ({err})", where=str(location)) from err
    try:
        migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection
