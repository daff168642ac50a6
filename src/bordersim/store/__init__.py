"""The embedded store (DuckDB): official data tables and the run catalog.

`open_store` finds the file (option, `BORDERSIM_STORE`, or ./.bordersim/bordersim.duckdb) and
checks it before anything reads or writes it:

- a store that does not exist is created only where asked (`create=True`: commands that write,
  such as `data import`, `calibrate`, `run`); a command that only reads refuses a missing store,
  so that a mistyped `--store` does not silently make an empty one;
- a file that is not a DuckDB database, or a DuckDB database that is not a bordersim store (it
  holds tables but no `schema_version`), is refused and left untouched, never migrated;
- a truncated store (shorter than the blocks it uses) is refused;
- the schema is brought up to date with the ordered migrations (read-write opens only);
- runs left 'running' by a process that has died are marked 'failed' (read-write opens only;
  see `store.runs.repair_dead_runs`).

DuckDB lets one process write a database file, or several read it, never both at once. bordersim
therefore holds the store only for short transactions (a run does not hold it while it
simulates), and an open that finds the file locked waits for it, saying so once on stderr, up to
`BORDERSIM_STORE_WAIT` seconds (default 120). `open_store(read_only=True)` opens without writing
anything (no migration, no repair): for notebooks and the public API, which should close it soon.
Every open goes through `store.connection.connect_current`, which makes sure the connection sees
the file as it is (DuckDB reads the file's headers before it takes the lock; see there).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Union

import duckdb

from bordersim.errors import BordersimError
from bordersim.store.connection import HEADER_BYTES, StaleView, connect_current, read_head
from bordersim.store.location import DEFAULT_STORE, STORE_ENV_VAR, resolve_store_path
from bordersim.store.migrations import (
    MIGRATIONS,
    migrate,
    newer_schema_message,
    recorded_version,
)
from bordersim.store.postgres import is_postgres_url

if TYPE_CHECKING:
    from bordersim.ingest import ParsedFile
    from bordersim.store.interface import Catalog
    from bordersim.store.postgres import PostgresStore

__all__ = [
    "DEFAULT_STORE",
    "MIGRATIONS",
    "STORE_ENV_VAR",
    "StoreError",
    "check_store_to_write",
    "import_parsed",
    "imported_kinds",
    "open_catalog",
    "open_store",
    "resolve_store_path",
    "results_dir",
    "store_location",
    "using_store",
]


def import_parsed(connection: duckdb.DuckDBPyConnection, files: list[ParsedFile]) -> None:
    """`store.official.import_parsed` (imported when used: the official-data readers load
    pandas, which a command that only records runs or sweeps, or a sweep's worker, never needs)."""
    from bordersim.store.official import import_parsed as imported

    imported(connection, files)


def imported_kinds(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, int]]:
    """`store.official.imported_kinds` (imported when used, as `import_parsed`)."""
    from bordersim.store.official import imported_kinds as kinds

    return kinds(connection)


#: A store as services take it: an open store (used as it is, left open) or a location: a file,
#: a `postgresql://` URL or None for the default (opened for each short step and closed again, so
#: that other processes can use the store).
StoreRef = Union[duckdb.DuckDBPyConnection, "PostgresStore", str, Path, None]

WAIT_ENV_VAR = "BORDERSIM_STORE_WAIT"
DEFAULT_WAIT_S = 120.0
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


class StoreError(BordersimError):
    """A store that cannot be opened as asked: missing, foreign, damaged or locked too long."""


def open_store(
    path: str | Path | None = None,
    *,
    create: bool = True,
    read_only: bool = False,
    wait_s: float | None = None,
    repair: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the embedded store at `path` (or the resolved default), checked; see the module
    docstring. Official data (imports, calibration, forecasts) lives only in an embedded store.
    `repair=False` leaves runs whose process died to the caller (`bordersim runs`, which says
    what it repaired)."""
    location = resolve_store_path(path)  # a postgresql:// URL is refused there
    _check_file(location, create=create and not read_only)
    connection = _connect(location, read_only=read_only, wait_s=wait_s)
    try:
        _check_contents(connection, location, read_only=read_only)
        if not read_only:
            migrate(connection, where=str(location))
            if repair:
                from bordersim.store.runs import repair_dead_runs

                repair_dead_runs(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def store_location(path: str | Path | None = None) -> str | Path:
    """A `postgresql://` URL as given (option, else `$BORDERSIM_STORE`), else the store file."""
    if path is not None and str(path) != "":
        if is_postgres_url(str(path)):
            return str(path)
    elif is_postgres_url(os.environ.get(STORE_ENV_VAR, "")):
        return os.environ[STORE_ENV_VAR]
    return resolve_store_path(path)


def open_catalog(
    path: str | Path | None = None,
    *,
    create: bool = True,
    read_only: bool = False,
    wait_s: float | None = None,
    repair: bool = True,
) -> Catalog:
    """Open the store of runs at `path`: a PostgreSQL catalog for a `postgresql://` URL, else the
    embedded store (`open_store`; `repair` as there)."""
    location = store_location(path)
    if isinstance(location, str):
        from bordersim.store.postgres import open_postgres

        return open_postgres(location, create=create, read_only=read_only, repair=repair)
    return open_store(location, create=create, read_only=read_only, wait_s=wait_s, repair=repair)


def results_dir(store: StoreRef) -> Path:
    """The folder of a store's result files (`store.result_files`)."""
    from bordersim.store.interface import results_dir_of
    from bordersim.store.postgres import PostgresStore, split_url
    from bordersim.store.result_files import results_dir_for

    if isinstance(store, duckdb.DuckDBPyConnection | PostgresStore):
        return results_dir_of(store)
    location = store_location(store)
    if isinstance(location, str):
        return split_url(location)[1]
    return results_dir_for(location)


@contextmanager
def using_store(
    store: StoreRef, *, create: bool = True, read_only: bool = False
) -> Iterator[Catalog]:
    """A store for one short step: `store` itself if it is open, else the store at that location,
    opened for the step and closed after it."""
    from bordersim.store.postgres import PostgresStore

    if isinstance(store, duckdb.DuckDBPyConnection | PostgresStore):
        yield store
        return
    connection = open_catalog(store, create=create, read_only=read_only)
    try:
        yield connection
    finally:
        connection.close()


def _check_file(location: Path, *, create: bool) -> None:
    where = str(location)
    if not location.exists():
        if not create:
            raise StoreError(
                "no store here (is --store or $BORDERSIM_STORE mistyped?); `bordersim data "
                "import`, `bordersim run` or `bordersim sweep --store` creates one",
                where=where,
            )
        try:
            location.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"cannot create the store's folder ({_folder_problem(location.parent, err)})",
                where=where,
            ) from None
        return
    if not location.is_file():
        raise StoreError("is not a file; a store is one DuckDB file", where=where)
    size = location.stat().st_size
    if size == 0:
        # an empty file (from `touch`, say): the store is made in its place (`connect_current`)
        # by a command that may create one; a reading command finds no store there
        if not create:
            raise StoreError(
                "is an empty file, not a store yet; `bordersim data import`, `bordersim run` or "
                "`bordersim sweep --store` makes one there",
                where=where,
            )
        return
    try:
        head = read_head(location, 12)  # not open-and-close: see `store.connection.read_head`
    except StaleView as err:
        raise StoreError(f"cannot open the store ({err})", where=where) from None
    if len(head) < 12 or head[8:12] != _DUCKDB_MAGIC:
        raise StoreError("is not a DuckDB database (left untouched)", where=where)


def check_store_to_write(location: Path) -> None:
    """What opening `location` to write would refuse, checked without making anything: a
    command that reads long first (`data import`) says so before it reads. A store there is
    opened read-only and closed; where there is none (or an empty file), its folder must be
    one that can be made."""
    if location.exists():
        if not (location.is_file() and location.stat().st_size == 0):
            open_store(location, create=False, read_only=True).close()
        return
    for above in location.parents:
        if above.exists():
            if not above.is_dir():
                raise StoreError(
                    f"cannot create the store's folder ({above} is a file, not a folder)",
                    where=str(location),
                )
            return


def _folder_problem(folder: Path, err: OSError) -> str:
    """Why `folder` could not be made: the file that stands where one of its folders should be
    (the system says only "File exists" or "Not a directory"), else the system's reason."""
    for above in (folder, *folder.parents):
        if above.exists():
            if not above.is_dir():
                return f"{above} is a file, not a folder"
            break
    return str(err.strerror or err)


def _connect(location: Path, *, read_only: bool, wait_s: float | None) -> duckdb.DuckDBPyConnection:
    """Connect, waiting while another process holds the file's lock."""
    limit = _wait_limit() if wait_s is None else wait_s
    deadline = time.monotonic() + limit
    said = False
    pause = 0.05
    while True:
        try:
            return connect_current(location, read_only=read_only)
        except StaleView as err:
            raise StoreError(f"cannot open the store ({err})", where=str(location)) from None
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise StoreError(_short_cause(err), where=str(location)) from None
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"another process is using it ({_holder(err)}); gave up "
                    f"after {limit:g} s: try again when it has finished (or set {WAIT_ENV_VAR} "
                    "to wait longer)",
                    where=str(location),
                ) from None
            if not said:
                sys.stderr.write(
                    f"waiting for the store {location}: another process ({_holder(err)}) "
                    "is using it\n"
                )
                sys.stderr.flush()
                said = True
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        except duckdb.Error as err:
            raise StoreError(_short_cause(err), where=str(location)) from None


def _wait_limit() -> float:
    """Seconds to wait for a store another process is using: ``$BORDERSIM_STORE_WAIT`` (a finite
    number, at least 0), else `DEFAULT_WAIT_S`; any other value is refused, not replaced."""
    text = os.environ.get(WAIT_ENV_VAR, "")
    if not text.strip():
        return DEFAULT_WAIT_S
    try:
        limit = float(text)
    except ValueError:
        limit = math.nan
    if not (math.isfinite(limit) and limit >= 0):
        raise StoreError(
            f"{WAIT_ENV_VAR}={text!r}: the seconds to wait for a store another process is using "
            "must be a finite number of at least 0"
        )
    return limit


def _holder(err: Exception) -> str:
    text = str(err)
    marker = text.find("(PID ")
    if marker >= 0:
        return "PID " + text[marker + 5 :].split(")")[0]
    return "a DuckDB lock"


def _short_cause(err: Exception) -> str:
    text = " ".join(str(err).split())
    return f"cannot open the store ({text[:160]})"


def _check_contents(
    connection: duckdb.DuckDBPyConnection, location: Path, *, read_only: bool
) -> None:
    """Refuse a foreign database, a truncated file, or a schema newer than this bordersim."""
    where = str(location)
    tables = {
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    if tables and "schema_version" not in tables:
        shown = ", ".join(sorted(tables)[:4]) + (", ..." if len(tables) > 4 else "")
        raise StoreError(
            f"is a DuckDB database but not a bordersim store (it holds {shown}); it is left "
            "untouched: give another --store",
            where=where,
        )
    # After a killed writer, DuckDB replays the write-ahead log on open: the blocks it counts then
    # include the replayed ones, which are not in the file yet, so the size check applies only
    # when no log is pending.
    wal = Path(f"{location}.wal")
    log_pending = wal.is_file() and wal.stat().st_size > 0
    row = None if log_pending else connection.execute("PRAGMA database_size").fetchone()
    if row is not None:
        # DuckDB cuts free blocks off the end of the file but still counts them in total_blocks;
        # only the used blocks are certain to lie in the file, so they give the lower bound.
        block_size, used_blocks = int(row[2]), int(row[4])
        expected = HEADER_BYTES + block_size * used_blocks
        actual = location.stat().st_size
        if used_blocks and actual < expected:
            raise StoreError(
                f"the store is damaged: truncated to {actual:,} bytes where its used blocks need "
                f"{expected:,}; restore it from a copy or start a new store",
                where=where,
            )
    if read_only and tables:
        version = recorded_version(connection)
        latest = MIGRATIONS[-1].version
        if version > latest:
            raise StoreError(newer_schema_message(version, latest), where=where)
    try:
        for table in ("schema_version", "runs", "data_imports"):
            if table in tables:
                connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    except duckdb.Error as err:
        raise StoreError(f"the store is damaged ({_short_cause(err)})", where=where) from None
