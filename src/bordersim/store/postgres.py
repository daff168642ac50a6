"""A store for shared use: the catalog in PostgreSQL (psycopg 3), the results as Parquet files in
a results folder every user and worker can reach.

`--store postgresql://USER@HOST/DB?results=/shared/bordersim-results` (or `$BORDERSIM_STORE`
holding that URL) selects it. The results folder comes from the URL's `results` parameter, else
`$BORDERSIM_RESULTS`; there is no default, because a folder local to one machine would silently
split a team's results. The URL's other parameters are passed to libpq (`host=/socket/dir`,
`port`, `sslmode`, ...); a password is best kept in `~/.pgpass` or `$PGPASSWORD`.

It answers the same calls as the embedded store's connection (`execute` and `executemany` with
`?` placeholders in the SQL both databases accept), so the run catalog (`store.runs`) runs
unchanged on either. Transactions are explicit (`BEGIN TRANSACTION` ... `COMMIT`), as in DuckDB;
PostgreSQL lets many processes write at once, so runs are never waited for. Migrations take an
advisory lock, so that several processes opening a new database at once create it once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import duckdb

from bordersim.errors import BordersimError
from bordersim.store.migrations import (
    PG_MIGRATIONS,
    apply_migrations,
    check_readable,
    recorded_version,
)

RESULTS_ENV_VAR = "BORDERSIM_RESULTS"
_MIGRATION_LOCK = 7_391_208_114  # pg_advisory_lock key of bordersim's migrations

_PLACEHOLDER = re.compile(r"\?")


def is_postgres_url(location: object) -> bool:
    """A `postgresql://` (or `postgres://`) URL; also as a `Path` option leaves it, with one slash,
    so that commands that take only a store file recognise it and say so."""
    return str(location).startswith(("postgresql:/", "postgres:/")) if location else False


def split_url(url: str) -> tuple[str, Path]:
    """The libpq connection URL and the results folder (its `results` parameter, else
    `$BORDERSIM_RESULTS`); one error if there is none."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    results = [value for key, value in query if key == "results"]
    kept = [(key, value) for key, value in query if key != "results"]
    folder = results[-1] if results else os.environ.get(RESULTS_ENV_VAR, "")
    if not folder:
        raise BordersimError(
            "a PostgreSQL store needs a results folder that every user can reach: add "
            f"?results=/shared/folder to the URL or set {RESULTS_ENV_VAR}",
            where=shown_url(url),
        )
    path = Path(folder).expanduser()
    if not path.is_absolute():
        # taken from the working folder, it was another folder for each user and each place a
        # command ran from: the catalog then listed files that the next reader could not find
        given = "results=" if results else f"${RESULTS_ENV_VAR} "
        raise BordersimError(
            f"{given}{folder}: the results folder must be an absolute path, the same for every "
            "user and worker (such as /shared/bordersim-results)",
            where=shown_url(url),
        )
    return urlunsplit(parts._replace(query=urlencode(kept))), path


def shown_url(url: str) -> str:
    """The URL without its password (`user:PASSWORD@` or libpq's `?password=`), for messages."""
    parts = urlsplit(url)
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query, flags=re.IGNORECASE)
    if parts.password is None and query == parts.query:
        return url
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


class PostgresStore:
    """A connection to a PostgreSQL catalog with its results folder (see the module docstring)."""

    kind = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        import psycopg

        self.url = url
        self.location = shown_url(url)
        conninfo, self.results_dir = split_url(url)
        try:
            # UTC, as the embedded store's now(); a read-only open cannot write, by the server
            settings = "-c TimeZone=UTC" + (
                " -c default_transaction_read_only=on" if read_only else ""
            )
            self._connection = psycopg.connect(
                conninfo, autocommit=True, connect_timeout=10, options=settings
            )
        except psycopg.Error as err:
            from bordersim.store import StoreError

            cause = " ".join(str(err).split())[:200]
            raise StoreError(
                f"cannot connect to PostgreSQL ({cause})", where=self.location
            ) from None
        self._reader: duckdb.DuckDBPyConnection | None = None
        self.read_only = read_only

    # ----- the calls the run catalog makes -----------------------------------------------------
    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Any:
        cursor = self._connection.cursor()
        cursor.execute(_pg_sql(sql), list(parameters) if parameters is not None else None)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._connection.cursor() as cursor:
            cursor.executemany(_pg_sql(sql), [list(row) for row in rows])

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Bulk insert by COPY (tables and columns are bordersim's own names, never input)."""
        with (
            self._connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def reader(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB that reads the result files (kept until `close`)."""
        if self._reader is None:
            self._reader = duckdb.connect()
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._connection.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # ----- schema --------------------------------------------------------------------------------
    def table_names(self) -> set[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
        return {row[0] for row in rows}

    def migrate(self) -> int:
        """Apply the PostgreSQL migrations newer than the catalog's, under an advisory lock (so
        that processes opening a new database at once create it once)."""
        self.execute("SELECT pg_advisory_lock(?)", [_MIGRATION_LOCK])
        try:
            return apply_migrations(self, PG_MIGRATIONS, where=self.location)
        finally:
            self.execute("SELECT pg_advisory_unlock(?)", [_MIGRATION_LOCK])

    def check_version(self) -> None:
        """A read-only open of a catalog this bordersim would migrate is refused."""
        version = recorded_version(self) if "schema_version" in self.table_names() else 0
        check_readable(version, PG_MIGRATIONS[-1].version, where=self.location)


def _pg_sql(sql: str) -> str:
    """DuckDB's `?` placeholders as psycopg's `%s` (the catalog's SQL has no other `?` or `%`)."""
    return _PLACEHOLDER.sub("%s", sql)


def open_postgres(
    url: str, *, create: bool = True, read_only: bool = False, repair: bool = True
) -> PostgresStore:
    """Connect, migrate (read-write opens) and repair runs whose process died on this host
    (unless `repair=False`: `bordersim runs` repairs them itself, to say so)."""
    store = PostgresStore(url, read_only=read_only)
    try:
        if create:  # before the catalog is migrated: a folder that cannot be made changes nothing
            _make_results_folder(store)
        if read_only:
            store.check_version()
        else:
            store.migrate()  # the database exists (the server's); its tables are bordersim's
        if repair and not read_only:
            from bordersim.store.runs import repair_dead_runs

            repair_dead_runs(store)
    except BaseException:
        store.close()
        raise
    return store


def _make_results_folder(store: PostgresStore) -> None:
    """The store's results folder, made if need be, or one line naming the URL and what stands
    in its way (a results folder under a file ended every command in a NotADirectoryError or
    FileExistsError traceback)."""
    try:
        store.results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        from bordersim.store import _folder_problem

        raise BordersimError(
            f"cannot make its results folder ({_folder_problem(store.results_dir, err)})",
            where=store.location,
        ) from None
