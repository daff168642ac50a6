"""Loading validated official files into the store: idempotent and atomic.

An import replaces everything the store holds for that file kind (the OHSS workbook or the CBP
CSV) inside one transaction: importing the same file twice leaves the same rows, a newer release
replaces the older one, and a failure leaves the previous data exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from bordersim.errors import DataFileError
from bordersim.ingest.parsed import CBP_KIND, OHSS_KIND, ParsedFile

DATA_TABLES = {OHSS_KIND: "ohss_encounters", CBP_KIND: "cbp_swb_encounters"}


def import_parsed(
    connection: duckdb.DuckDBPyConnection,
    files: list[ParsedFile],
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Replace the store's rows for each file's kind by the file's rows, all in one transaction;
    `check` reads the data as replaced, before the commit, and any error it raises undoes it."""
    kinds = [parsed.kind for parsed in files]
    if len(set(kinds)) != len(kinds):
        raise DataFileError(
            "two files of the same kind in one import; give one OHSS workbook and/or one CBP CSV",
            where=", ".join(str(parsed.path) for parsed in files),
        )
    connection.execute("BEGIN TRANSACTION")
    try:
        for parsed in files:
            _replace(connection, parsed)
        if check is not None:
            _checked(check, connection)
        connection.execute("COMMIT")
    except BaseException as err:
        connection.execute("ROLLBACK")
        if isinstance(err, duckdb.Error):
            raise DataFileError(
                f"could not be stored ({err}); the store is unchanged",
                where=", ".join(str(parsed.path) for parsed in files),
            ) from err
        raise


def _checked(
    check: Callable[[duckdb.DuckDBPyConnection], None], connection: duckdb.DuckDBPyConnection
) -> None:
    try:
        check(connection)
    except DataFileError as err:
        raise DataFileError(f"{err}; nothing was imported: the store is unchanged") from err


def _replace(connection: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> None:
    # imported here: every command opens a store, few import official data (pandas: 0.3 s)
    import pandas as pd

    table = DATA_TABLES[parsed.kind]
    columns = [row[0] for row in connection.execute(f"DESCRIBE {table}").fetchall()]
    frame = parsed.table.reindex(columns=columns)
    frame = frame.astype(object).where(pd.notna(frame), None)
    connection.execute(f"DELETE FROM {table}")
    connection.register("incoming_rows", frame)
    try:
        connection.execute(
            f"INSERT INTO {table} SELECT "
            + ", ".join(_cast(column) for column in columns)
            + " FROM incoming_rows"
        )
    finally:
        connection.unregister("incoming_rows")
    connection.execute("DELETE FROM data_imports WHERE kind = ?", [parsed.kind])
    connection.execute(
        "INSERT INTO data_imports VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [parsed.kind, parsed.path.name, parsed.sha256, "|".join(parsed.sheets), parsed.rows],
    )


def _cast(column: str) -> str:
    if column == "month_start":
        return "CAST(month_start AS DATE) AS month_start"
    return column


def imported_kinds(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, int]]:
    """Kind -> (file name, sha256, rows) of the imports the store holds."""
    rows = connection.execute(
        "SELECT kind, file_name, file_sha256, row_count FROM data_imports"
    ).fetchall()
    return {kind: (name, sha, int(count)) for kind, name, sha, count in rows}


def missing_shipped_files(connection: duckdb.DuckDBPyConnection) -> list[Path]:
    """The file shipped with bordersim of each kind the store holds no import of (a newer
    release the user imported is kept: only an absent kind is filled)."""
    from bordersim.ingest import shipped_files

    held = imported_kinds(connection)
    shipped = dict(zip((OHSS_KIND, CBP_KIND), shipped_files(), strict=True))
    return [path for kind, path in shipped.items() if kind not in held]


def import_official_files(
    connection: duckdb.DuckDBPyConnection, paths: list[Path] | None = None
) -> list[ParsedFile]:
    """Read and validate every file first, then store them all in one transaction.

    `None` imports the files shipped with bordersim. Nothing is stored if any file is bad.
    """
    parsed = parse_official_files(paths)
    import_parsed(connection, parsed)
    return parsed


def parse_official_files(paths: list[Path] | None = None) -> list[ParsedFile]:
    """Read and validate official files (`None`: those shipped with bordersim); no store."""
    from bordersim.ingest import read_official_file, shipped_files

    chosen = shipped_files() if paths is None else [Path(path) for path in paths]
    return [read_official_file(path) for path in chosen]
