"""A run's results as Parquet files beside the catalog, partitioned by run.

The catalog (the `runs` table) keeps what a run is; its daily results and custody-time histograms
are files under the store's *results folder*, one folder per run:

    <results>/runs/run_id=<run id>/daily.parquet         replication, date, sector, metric,
                                                          value
    <results>/runs/run_id=<run id>/custody_hist.parquet  replication, sector, population,
                                                          hours, count

The folders are hive-partitioned, so DuckDB reads every run in place
(`read_parquet('<results>/runs/*/daily.parquet', hive_partitioning = true)` gives a `run_id`
column). The embedded store's results folder is `<store file name without .duckdb>.results`
beside the store file (`.bordersim/bordersim.results/` by default).

A file is written under a temporary name of this process (`.daily.parquet.<pid>.<random>.partial`),
flushed to disk and renamed into place, so a reader never sees half a file under the final name.
The catalog's `run_files` table records each file of a complete run (path relative to the results
folder, bytes, rows, sha256) in the same transaction that marks the run complete; a file the
catalog does not list is not a result. Readers check a file's size and sha256 against the
catalog before reading it (the sha256 once a process, while the file keeps its size and
modification time); `verify_files` checks every file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bordersim.errors import BordersimError, StoreFileError
from bordersim.results.schema import DAILY_METRICS, HIST_ALL, HIST_UAC, RunResult

DAILY, CUSTODY_HIST = "daily", "custody_hist"
KINDS = (DAILY, CUSTODY_HIST)
HIST_POPULATIONS = {HIST_ALL: "all", HIST_UAC: "uac"}
#: Daily rows built and written at a time (whole replications; at least one), so that memory
#: stays flat for ensembles of thousands of replications.
ROWS_PER_CHUNK = 4_000_000
_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")

DAILY_SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("date", pa.date32()),
        ("sector", pa.dictionary(pa.int32(), pa.string())),
        ("metric", pa.dictionary(pa.int32(), pa.string())),
        ("value", pa.float64()),
    ]
)
HIST_SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("sector", pa.string()),
        ("population", pa.string()),
        ("hours", pa.int32()),
        ("count", pa.float64()),
    ]
)


@dataclass(frozen=True)
class ResultFile:
    """One file of a run's results as the catalog records it."""

    run_id: str
    kind: str
    path: str  # relative to the results folder, '/'-separated
    bytes: int
    rows: int
    sha256: str


# ----- where ---------------------------------------------------------------------------------
def results_dir_for(store_file: Path) -> Path:
    """The results folder of the embedded store at `store_file`."""
    return store_file.with_name(f"{store_file.stem}.results")


def embedded_results_dir(connection: duckdb.DuckDBPyConnection) -> Path:
    """The results folder of the embedded store this connection has open."""
    row = connection.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if row is None or not row[0]:
        raise BordersimError("an in-memory store has no results folder; open a store file")
    return results_dir_for(Path(row[0]).absolute())


def run_folder_name(run_id: str) -> str:
    """The partition folder of a run: `run_id=<id>` for ids safe as a file name (every id bordersim
    makes), else a hash of the id (the catalog records the path, so readers need not know)."""
    if _SAFE_RUN_ID.match(run_id):
        return f"run_id={run_id}"
    return f"run_hash={hashlib.sha256(run_id.encode()).hexdigest()[:24]}"


def run_dir(results_dir: Path, run_id: str) -> Path:
    return results_dir / "runs" / run_folder_name(run_id)


# ----- writing -------------------------------------------------------------------------------
def write_run_files(results_dir: Path, run_id: str, result: RunResult) -> list[ResultFile]:
    """Write the run's daily rows and custody histograms; return what the catalog records."""
    folder = run_dir(results_dir, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        written.append(
            _write_atomically(
                results_dir,
                folder / f"{DAILY}.parquet",
                run_id,
                DAILY,
                DAILY_SCHEMA,
                daily_chunks(result),
            )
        )
        written.append(
            _write_atomically(
                results_dir,
                folder / f"{CUSTODY_HIST}.parquet",
                run_id,
                CUSTODY_HIST,
                HIST_SCHEMA,
                [hist_table(result)],
            )
        )
    except BaseException:
        remove_run_files(results_dir, run_id)
        raise
    return written


def _write_atomically(
    results_dir: Path,
    target: Path,
    run_id: str,
    kind: str,
    schema: pa.Schema,
    tables: Iterable[pa.Table],
) -> ResultFile:
    temporary = partial_name(target)
    rows = 0
    try:
        with pq.ParquetWriter(temporary, schema, compression="zstd") as writer:
            for table in tables:
                writer.write_table(table)
                rows += table.num_rows
        put_in_place(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return _recorded(results_dir, target, run_id, kind, rows)


def put_in_place(temporary: Path, target: Path) -> None:
    """Flush a finished temporary file to disk and rename it onto `target` (atomic)."""
    _fsync(temporary)
    os.replace(temporary, target)


def _recorded(results_dir: Path, target: Path, run_id: str, kind: str, rows: int) -> ResultFile:
    return ResultFile(
        run_id=run_id,
        kind=kind,
        path=target.relative_to(results_dir).as_posix(),
        bytes=target.stat().st_size,
        rows=rows,
        sha256=sha256_of(target),
    )


def partial_name(target: Path) -> Path:
    """A temporary name beside `target`, naming this process (a repair finds what it left)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")


def copy_to_parquet(
    connection: duckdb.DuckDBPyConnection,
    results_dir: Path,
    run_id: str,
    kind: str,
    query: str,
) -> ResultFile:
    """Write the rows of `query` (a SELECT with the run's columns, values inlined) to the run's
    `kind` file atomically, by DuckDB straight from the store (memory stays flat); the file is
    renamed into place only once it holds exactly the query's rows (count and content hash)."""
    folder = run_dir(results_dir, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{kind}.parquet"
    temporary = partial_name(target)
    columns = ", ".join((DAILY_SCHEMA if kind == DAILY else HIST_SCHEMA).names)
    try:
        connection.execute(
            f"COPY ({query}) TO '{_quoted(temporary)}' (FORMAT parquet, COMPRESSION zstd)"
        )
        fingerprint = f"SELECT count(*), bit_xor(hash({columns})) FROM "
        expected = connection.execute(fingerprint + f"({query})").fetchone()
        found = connection.execute(fingerprint + parquet_source(temporary)).fetchone()
        if expected != found:
            raise BordersimError(
                f"moving the {kind} results of run {run_id} to Parquet: the file does not hold "
                "the stored rows; nothing was changed"
            )
        put_in_place(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return _recorded(results_dir, target, run_id, kind, int(expected[0]) if expected else 0)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sha256_of(path: Path) -> str:
    """The file's sha256 (hex), read in blocks. (Not `ingest.parsed.file_sha256`, the same
    digest: importing the official-data readers loads pandas, which a sweep's worker never
    needs.)"""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_run_files(results_dir: Path, run_id: str) -> None:
    """Remove a run's folder of results (a failed run's, or one written but never recorded)."""
    folder = run_dir(results_dir, run_id)
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)


def daily_chunks(result: RunResult) -> Iterator[pa.Table]:
    """The tidy daily rows as Arrow tables of whole replications, strings dictionary-encoded."""
    n_reps, n_days, n_sectors, n_metrics = result.daily.shape
    per_replication = n_days * n_sectors * n_metrics
    step = max(1, ROWS_PER_CHUNK // max(per_replication, 1))
    dates = np.array(result.dates, dtype="datetime64[D]")
    day_of_row = np.repeat(np.arange(n_days), n_sectors * n_metrics)
    sector_of_row = np.tile(np.repeat(np.arange(n_sectors, dtype=np.int32), n_metrics), n_days)
    metric_of_row = np.tile(np.arange(n_metrics, dtype=np.int32), n_days * n_sectors)
    sector_names = pa.array([sec.name for sec in result.sectors])
    metric_names = pa.array(list(DAILY_METRICS))
    for start in range(0, n_reps, step):
        stop = min(n_reps, start + step)
        count = stop - start
        yield pa.table(
            {
                "replication": np.repeat(np.arange(start, stop, dtype=np.int32), per_replication),
                "date": pa.array(np.tile(dates[day_of_row], count), type=pa.date32()),
                "sector": pa.DictionaryArray.from_arrays(
                    np.tile(sector_of_row, count), sector_names
                ),
                "metric": pa.DictionaryArray.from_arrays(
                    np.tile(metric_of_row, count), metric_names
                ),
                "value": np.ascontiguousarray(result.daily[start:stop]).reshape(-1),
            },
            schema=DAILY_SCHEMA,
        )


def hist_table(result: RunResult) -> pa.Table:
    """The custody-time histograms' non-zero bins (they are sparse)."""
    r, s, p, h = np.nonzero(result.custody_hist)
    sector_names = np.array([sec.name for sec in result.sectors], dtype=object)
    populations = np.array(
        [HIST_POPULATIONS[i] for i in range(result.custody_hist.shape[2])], dtype=object
    )
    return pa.table(
        {
            "replication": r.astype(np.int32),
            "sector": pa.array(sector_names[s] if s.size else [], type=pa.string()),
            "population": pa.array(populations[p] if p.size else [], type=pa.string()),
            "hours": h.astype(np.int32),
            "count": result.custody_hist[r, s, p, h].astype(np.float64),
        },
        schema=HIST_SCHEMA,
    )


# ----- reading -------------------------------------------------------------------------------
def checked_path(results_dir: Path, recorded: ResultFile) -> Path:
    """The file's absolute path, after checking it is there with the size and sha256 the catalog
    recorded."""
    path = results_dir / recorded.path
    restore = "restore the results folder from a copy"
    try:
        stat = path.stat()
    except OSError:
        missing = f"the {recorded.kind} results of run {recorded.run_id} are missing from the store"
        raise StoreFileError(
            f"{missing} ({recorded.path} under {results_dir}); {restore}",
            public=f"{missing} ({recorded.path} in its results folder); {restore}",
        ) from None
    changed = f"the {recorded.kind} results of run {recorded.run_id} changed on disk"
    advice = f"{restore} (`bordersim store verify` checks them all)"
    if stat.st_size != recorded.bytes:
        raise StoreFileError(
            f"{changed} ({recorded.path}: {stat.st_size:,} bytes, the catalog recorded "
            f"{recorded.bytes:,}); {advice}"
        )
    if not same_content(path, stat, recorded.sha256):
        raise StoreFileError(
            f"{changed} ({recorded.path}: the same size, another sha256 than the catalog "
            f"recorded); {advice}"
        )
    return path


#: Files whose sha256 was found to be the catalog's, by (path, size, modification time, sha256):
#: a workbench reading one run's results page after page hashes each file once.
_VERIFIED: set[tuple[str, int, int, str]] = set()


def same_content(path: Path, stat: os.stat_result, sha256: str) -> bool:
    """Whether the file (`stat` its `os.stat`) has the sha256 `sha256`, hashed once a process
    while it keeps its size and modification time (hashing takes about a millisecond a
    megabyte; the reading that follows takes longer). A run's result files and a sweep's block
    files are checked this way."""
    key = (str(path), stat.st_size, stat.st_mtime_ns, sha256)
    if key in _VERIFIED:
        return True
    if sha256_of(path) != sha256:
        return False
    _VERIFIED.add(key)
    return True


def parquet_source(path: Path) -> str:
    """A `read_parquet(...)` table expression for one file (paths cannot be SQL parameters)."""
    return f"read_parquet('{_quoted(path)}')"


def verify_files(results_dir: Path, recorded: Iterable[ResultFile]) -> list[str]:
    """One line per recorded file that is missing or whose size or sha256 differs."""
    problems = []
    for item in recorded:
        path = results_dir / item.path
        if not path.is_file():
            problems.append(f"{item.run_id} {item.kind}: missing ({item.path})")
        elif path.stat().st_size != item.bytes or sha256_of(path) != item.sha256:
            problems.append(f"{item.run_id} {item.kind}: changed on disk ({item.path})")
    return problems
