"""Loading validated official files into the store: idempotent and atomic.

An import replaces everything the store holds for that file kind (the OHSS workbook or the CBP
CSV) inside one transaction: importing the same file twice leaves the same rows, a newer release
replaces the older one, and a failure leaves the previous data exactly as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from bordersim.errors import DataFileError
from bordersim.ingest.parsed import CBP_KIND, OHSS_KIND, ParsedFile

if TYPE_CHECKING:
    import pandas as pd

DATA_TABLES = {OHSS_KIND: "ohss_encounters", CBP_KIND: "cbp_swb_encounters"}
#: The name under which the rows being stored are read by the INSERT.
INCOMING_ROWS = "incoming_rows"


def import_parsed(
    connection: duckdb.DuckDBPyConnection,
    files: list[ParsedFile],
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Replace the store's rows for each file's kind by the file's rows, all in one transaction;
    `check` reads the data as replaced, before the commit, and any error it raises undoes it."""
    _check_one_file_per_kind(files)
    connection.execute("BEGIN TRANSACTION")
    try:
        for parsed in files:
            _replace(connection, parsed)
        if check is not None:
            _checked(check, connection)
        connection.execute("COMMIT")
    except BaseException as err:
        # A failed statement or COMMIT may have ended the transaction already; nothing was
        # committed either way, and the error to report is the one that got here.
        with contextlib.suppress(duckdb.Error):
            connection.execute("ROLLBACK")
        if isinstance(err, duckdb.Error):
            raise DataFileError(
                f"could not be stored ({err}); the store is unchanged",
                where=", ".join(str(parsed.path) for parsed in files),
            ) from err
        raise
    finally:
        # Dropped once the transaction has ended: inside one that a failed statement aborted,
        # DuckDB refuses it, and its "Current transaction is aborted" hid the failure itself.
        with contextlib.suppress(duckdb.Error):
            connection.unregister(INCOMING_ROWS)


def _checked(
    check: Callable[[duckdb.DuckDBPyConnection], None], connection: duckdb.DuckDBPyConnection
) -> None:
    try:
        check(connection)
    except DataFileError as err:
        raise DataFileError(f"{err}; nothing was imported: the store is unchanged") from err


#: Each kind in words, plural: the refusal of two files of one kind says which kind.
KIND_PLURALS = {OHSS_KIND: "OHSS workbooks", CBP_KIND: "CBP CSVs"}


def _check_one_file_per_kind(files: list[ParsedFile]) -> None:
    """One file of each kind in an import: two would replace the same rows. The two are named
    by their file names (their folders, where the names are alike): a list of full paths cut
    to one line lost the first file's name."""
    seen: dict[str, ParsedFile] = {}
    for parsed in files:
        earlier = seen.setdefault(parsed.kind, parsed)
        if earlier is parsed:
            continue
        if earlier.path.resolve() == parsed.path.resolve():
            raise DataFileError(
                "given twice in one import; give each file once", where=str(parsed.path)
            )
        named = [earlier.path.name, parsed.path.name]
        if named[0] == named[1]:
            named = [str(earlier.path), str(parsed.path)]
        raise DataFileError(
            f"{named[0]} and {named[1]} are both {KIND_PLURALS.get(parsed.kind, parsed.kind)}; "
            "give one OHSS workbook and/or one CBP CSV"
        )


def _replace(connection: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> None:
    table = DATA_TABLES[parsed.kind]
    types = {str(row[0]): str(row[1]) for row in connection.execute(f"DESCRIBE {table}").fetchall()}
    connection.execute(f"DELETE FROM {table}")
    connection.register(INCOMING_ROWS, _typed_rows(parsed.table, types))
    connection.execute(
        f"INSERT INTO {table} SELECT "
        + ", ".join(f"CAST({column} AS {kind}) AS {column}" for column, kind in types.items())
        + f" FROM {INCOMING_ROWS}"
    )
    connection.execute("DELETE FROM data_imports WHERE kind = ?", [parsed.kind])
    connection.execute(
        "INSERT INTO data_imports VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [parsed.kind, parsed.path.name, parsed.sha256, "|".join(parsed.sheets), parsed.rows],
    )


def _typed_rows(rows: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """The parsed rows in the table's column order, each column of a type DuckDB reads as the
    table's: whole numbers as 64-bit integers (nullable), dates as dates, text as Python strings
    with None for NULL. A column of Python objects would leave DuckDB to guess its type from a
    sample of its rows: a 32-bit integer, when a count above 2**31 was not among them."""
    import pandas as pd

    columns: dict[str, pd.Series] = {}
    for column, kind in types.items():
        values = rows[column] if column in rows else pd.Series(None, index=rows.index)
        if kind in ("INTEGER", "BIGINT"):
            columns[column] = values.astype("Int64")
        elif kind == "DATE":
            columns[column] = pd.to_datetime(values)
        else:
            columns[column] = values.astype(object).where(values.notna(), None)
    return pd.DataFrame(columns, index=rows.index)


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


#: Each kind in words, as a note on the shipped file imported for it names what was lacking.
KIND_WORDS = {OHSS_KIND: "OHSS workbook", CBP_KIND: "CBP CSV"}


def shipped_import_note(
    connection: duckdb.DuckDBPyConnection, location: Path, missing: list[Path]
) -> str:
    """The line said before the shipped `missing` files are imported into the store at
    `location`: a store that holds one kind lacks the other only, not official data."""
    names = ", ".join(path.name for path in missing)
    files = "the shipped file" if len(missing) == 1 else "the shipped files"
    held = imported_kinds(connection)
    if not held:
        return f"The store {location} lacks official data: importing {files} {names}"
    lacking = [KIND_WORDS[kind] for kind in KIND_WORDS if kind not in held]
    return f"The store {location} holds no {' or '.join(lacking)}: importing {files} {names}"


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
    _check_given_once(chosen)
    return [read_official_file(path) for path in chosen]


def _check_given_once(paths: list[Path]) -> None:
    """A file given twice is refused before any file is read: reading a workbook takes
    seconds, and another file's fault would otherwise be reported first."""
    seen: set[Path] = set()
    for path in paths:
        if path.resolve() in seen:
            raise DataFileError("given twice in one import; give each file once", where=str(path))
        seen.add(path.resolve())
