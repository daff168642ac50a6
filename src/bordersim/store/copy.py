"""Move a store's catalog and result files into another store, of either kind, checked.

`bordersim store copy SOURCE DEST` (`copy_store`) copies every run (catalog row, recorded result
files), every blocked sweep (catalog rows, registered block files) and the imported official
data: from an embedded store into a shared PostgreSQL one, or back. Nothing in the destination is
overwritten:

- a run or sweep the destination already holds (same id) is refused, before anything is written;
- an official data table is copied only into an empty one; one the destination already holds with
  the same rows is left as it is, with other rows refused; one the source holds no rows of is left
  as it is too (a store of runs alone copies into a store with official data).

Every source result file is checked against the sha256 the catalog recorded before any is copied;
each is copied under a temporary name, checked again, and renamed; the catalog rows are then
inserted in one transaction. A copy that fails removes the files it wrote (and the folders it made
for them), so the destination is left as it was. `table_checksums` gives a
sha256 of each table's rows (sorted, so independent of the database's order and collation):
after a copy into an empty store the two stores' checksums are equal, which the copy checks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bordersim.errors import BordersimError
from bordersim.output_folders import make_parents
from bordersim.store.interface import Catalog, results_dir_of
from bordersim.store.result_files import ResultFile, partial_name, sha256_of
from bordersim.store.runs import run_files
from bordersim.store.sweeps import SWEEP_TABLES, sweep_files

RUN_TABLES = ("runs", "run_files")
OFFICIAL_TABLES = ("data_imports", "ohss_encounters", "cbp_swb_encounters")
#: Every table a store holds (its schema_version aside), in the order a copy inserts them.
TABLES = RUN_TABLES + SWEEP_TABLES + OFFICIAL_TABLES
#: The process that drives a sweep (`store.sweeps.claim_sweep`): it drives the source's sweep,
#: not the copy, which is left to `bordersim sweep --resume` and not compared.
SWEEP_PROCESS = ("host", "pid", "process_start")


@dataclass(frozen=True)
class Copied:
    runs: int
    sweeps: int
    files: int
    bytes: int
    tables: dict[str, int]  # rows copied per table
    checksums: dict[str, str]  # of the destination's tables after the copy
    kept: tuple[str, ...] = ()  # official tables the destination held already, with the same rows
    # official tables the source holds no rows of, where the destination holds some: left as they
    # were (there is nothing to copy into them)
    not_in_source: tuple[str, ...] = ()


def columns_of(catalog: Catalog, table: str) -> list[str]:
    cursor = catalog.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column[0] for column in cursor.description]


def _rows(catalog: Catalog, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in catalog.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    ]


def _canonical(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def compared(table: str, columns: Sequence[str]) -> list[str]:
    """The columns a copy keeps as they were: all but the process that drives a sweep."""
    return [c for c in columns if not (table == "sweeps" and c in SWEEP_PROCESS)]


def table_checksum(catalog: Catalog, table: str, columns: Sequence[str] | None = None) -> str:
    """sha256 of a table's rows, each written canonically, sorted, one per line (a sweep's
    process left out, as a copy does not keep it)."""
    names = compared(table, columns if columns is not None else columns_of(catalog, table))
    lines = sorted("\t".join(_canonical(v) for v in row) for row in _rows(catalog, table, names))
    digest = hashlib.sha256("\t".join(names).encode())
    for line in lines:
        digest.update(b"\n" + line.encode())
    return digest.hexdigest()


def table_checksums(catalog: Catalog) -> dict[str, str]:
    return {table: table_checksum(catalog, table) for table in TABLES}


def copy_store(source: Catalog, dest: Catalog, *, dest_name: str | None = None) -> Copied:
    """Copy every run, its result files and the official data from `source` into `dest`;
    `dest_name` (its path or URL, as shown) begins a refusal of what the destination holds."""
    columns = {table: columns_of(source, table) for table in TABLES}
    _refuse_runs_under_way(source)
    run_ids = _refuse_held(source, dest, "runs", "run_id", "run", dest_name)
    sweep_ids = _refuse_held(source, dest, "sweeps", "sweep_id", "sweep", dest_name)
    held = _count(dest, "runs") + _count(dest, "sweeps")
    not_in_source = tuple(
        table for table in OFFICIAL_TABLES if not _count(source, table) and _count(dest, table)
    )
    official = _official_to_copy(source, dest, columns, skip=not_in_source, dest_name=dest_name)
    recorded = run_files(source) + sweep_files(source)
    source_dir, dest_dir = results_dir_of(source), results_dir_of(dest)
    if source_dir.resolve() == dest_dir.resolve():
        recorded_to_copy: list[ResultFile] = []
    else:
        recorded_to_copy = recorded
        _check_sources(source_dir, recorded)  # all of them, before a file is written
    written: list[Path] = []
    try:
        copied_bytes = _copy_files(source_dir, dest_dir, recorded_to_copy, written)
        counts = _insert_tables(source, dest, (*RUN_TABLES, *SWEEP_TABLES, *official), columns)
    except BaseException:
        _remove_written(written)
        raise
    checksums = {t: table_checksum(dest, t, columns[t]) for t in TABLES}
    if not held:
        mismatched = [
            t
            for t in TABLES
            if t not in not_in_source and table_checksum(source, t, columns[t]) != checksums[t]
        ]
        if mismatched:
            raise BordersimError(
                f"after the copy the destination's {mismatched[0]} differs from the source's"
            )
    kept = tuple(t for t in OFFICIAL_TABLES if t not in official and t not in not_in_source)
    return Copied(
        len(run_ids),
        len(sweep_ids),
        len(recorded),
        copied_bytes,
        counts,
        checksums,
        kept,
        not_in_source,
    )


def _refuse_held(
    source: Catalog, dest: Catalog, table: str, key: str, what: str, dest_name: str | None
) -> list[str]:
    """The source's ids in `table`; an error, before anything is written, if the destination
    already holds one of them."""
    ids = [row[0] for row in source.execute(f"SELECT {key} FROM {table}").fetchall()]
    held = {row[0] for row in dest.execute(f"SELECT {key} FROM {table}").fetchall()}
    clash = sorted(held.intersection(ids))
    if clash:
        raise BordersimError(
            f"the destination already holds {what} {clash[0]!r} ({len(clash)} of the source's "
            f"{what}s in all); nothing was copied",
            where=dest_name,
        )
    return ids


def _refuse_runs_under_way(source: Catalog) -> None:
    """Refuse a source with a run its process on this machine is running: the process completes
    it in the source only, and the copy would hold it 'running' until it was called failed."""
    from bordersim.store.runs import process_state, running_processes

    for run_id, (host, pid, started) in sorted(running_processes(source).items()):
        if process_state(host, pid, started) == "alive":
            raise BordersimError(
                f"run {run_id!r} is still running (process {pid}); nothing was copied (copy the "
                "store once it has finished)"
            )


def _count(catalog: Catalog, table: str) -> int:
    row = catalog.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _official_to_copy(
    source: Catalog,
    dest: Catalog,
    columns: dict[str, list[str]],
    *,
    skip: Sequence[str] = (),
    dest_name: str | None = None,
) -> list[str]:
    """The official tables to copy: those the destination holds no rows of; an error if it holds
    other rows than the source's in one (`skip`: tables the source holds none of, left alone)."""
    chosen = []
    for table in OFFICIAL_TABLES:
        if table in skip:
            continue
        dest_rows = dest.execute(f"SELECT count(*) FROM {table}").fetchone()
        if not dest_rows or int(dest_rows[0]) == 0:
            chosen.append(table)
        elif table_checksum(source, table, columns[table]) != table_checksum(
            dest, table, columns[table]
        ):
            raise BordersimError(
                f"the destination already holds other official data in {table}; nothing was "
                "copied (copy into a store without official data, or re-import there)",
                where=dest_name,
            )
    return chosen


def _check_sources(source_dir: Path, recorded: list[ResultFile]) -> None:
    """An error naming the first recorded file that is missing or changed in the source."""
    for item in recorded:
        origin = source_dir / item.path
        if not origin.is_file() or sha256_of(origin) != item.sha256:
            raise BordersimError(
                f"{item.path} ({item.run_id} {item.kind}) is missing or changed in the source; "
                "nothing was copied"
            )


def _copy_files(
    source_dir: Path, dest_dir: Path, recorded: list[ResultFile], written: list[Path]
) -> int:
    """Copy the recorded files, each checked again against its sha256 once copied, adding each
    file (and each folder made for it) to `written` as it is made; return the bytes copied."""
    total = 0
    for item in recorded:
        target = dest_dir / item.path
        written.extend(make_parents(target))
        temporary = partial_name(target)
        try:
            shutil.copyfile(source_dir / item.path, temporary)
            if sha256_of(temporary) != item.sha256:
                raise BordersimError(f"copying {item.path}: the copy differs from the source")
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        written.append(target)
        total += item.bytes
    return total


def _remove_written(written: list[Path]) -> None:
    """Undo a failed copy: the files it wrote, then the folders it made, innermost first."""
    for path in reversed(written):
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()


def _insert_tables(
    source: Catalog, dest: Catalog, tables: Sequence[str], columns: dict[str, list[str]]
) -> dict[str, int]:
    """Insert the source's rows of `tables` into the destination in one transaction; the rows
    inserted per table."""
    counts: dict[str, int] = {}
    dest.execute("BEGIN TRANSACTION")
    try:
        for table in tables:
            kept = compared(table, columns[table])
            rows = _rows(source, table, kept)
            _insert(dest, table, kept, rows)
            counts[table] = len(rows)
        dest.execute("COMMIT")
    except BaseException:
        dest.execute("ROLLBACK")
        raise
    return counts


def _insert(dest: Catalog, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if isinstance(dest, duckdb.DuckDBPyConnection):
        arrays = {name: pa.array([row[i] for row in rows]) for i, name in enumerate(columns)}
        dest.register("incoming_rows", pa.table(arrays))
        try:
            names = ", ".join(columns)
            dest.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM incoming_rows")
        finally:
            # Inside a transaction that a failed INSERT aborted DuckDB refuses this, and its
            # "Current transaction is aborted" would hide the INSERT's own error.
            with contextlib.suppress(duckdb.Error):
                dest.unregister("incoming_rows")
    else:
        dest.insert_rows(table, columns, rows)
