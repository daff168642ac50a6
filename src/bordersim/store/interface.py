"""What bordersim asks of a store, whichever database holds its catalog.

A store is a *catalog* (runs, their result files, imported official data) reached through a
connection, and a *results folder* of Parquet files (`store.result_files`). Two kinds answer:

- the embedded store (the default, no setup): a DuckDB file, whose connection is the catalog and
  also reads the result files; its results folder sits beside the file;
- the shared store (`store.postgres.PostgresStore`): the catalog in PostgreSQL, the results in a
  folder every user can reach, read through an in-memory DuckDB.

The run catalog (`store.runs`) is written once against what both connections offer:

- `execute(sql, parameters)` returning a cursor (`fetchone`, `fetchall`), and
  `executemany(sql, rows)`, with SQL both databases accept and `?` placeholders;
- explicit transactions (`BEGIN TRANSACTION`, `COMMIT`, `ROLLBACK`);
- `close()`, and use as a context manager;

plus two answers that differ by kind, given here: `results_dir_of` (where the result files are)
and `reader_of` (a DuckDB connection that reads them). The contract tests
(`tests/store/test_store_contract.py`) run the same suite against both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Union

import duckdb

if TYPE_CHECKING:
    from bordersim.store.postgres import PostgresStore

#: An open store: the embedded store's DuckDB connection, or a PostgreSQL catalog.
Catalog = Union[duckdb.DuckDBPyConnection, "PostgresStore"]


def results_dir_of(catalog: Catalog) -> Path:
    """The folder of the store's result files."""
    if isinstance(catalog, duckdb.DuckDBPyConnection):
        from bordersim.store.result_files import embedded_results_dir

        return embedded_results_dir(catalog)
    return catalog.results_dir


def shown_location(catalog: Catalog) -> str:
    """The store as messages name it: the embedded store's file, or a PostgreSQL store's URL
    without its password."""
    if isinstance(catalog, duckdb.DuckDBPyConnection):
        row = catalog.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
        return str(Path(row[0]).absolute()) if row and row[0] else "an in-memory store"
    return catalog.location


def reader_of(catalog: Catalog) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads the store's result files."""
    if isinstance(catalog, duckdb.DuckDBPyConnection):
        return catalog
    return catalog.reader()
