"""The run catalog: one row per run in `runs`; its results are Parquet files in the store's results
folder (`store.result_files`), each recorded in `run_files`.

A run's life in the store: `start_run` records it as 'running' with the process that runs it
(host, process id and that process's start time) and its output folder, committed at once so that
an interrupted run stays visible; `complete_run` checks that every result is finite, writes the
files (`write_run_files`, which a caller may do before, without holding the store) and, in one
transaction, records them and marks the run 'complete'; `fail_run` removes any results and marks
it 'failed' with the reason. Only complete runs are read back as results.

A process killed outright (SIGKILL, a power cut) cannot mark its run: the next command that opens
the store for writing finds the run 'running' with a process that no longer exists on this host,
marks it 'failed' and removes the temporary files it left (`repair_dead_runs`; `bordersim runs
--repair` does the same on demand, and also for runs recorded before processes were).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa

from bordersim.errors import BordersimError
from bordersim.model.dimensions import Sector
from bordersim.results.schema import CUSTODY_HIST_HOURS, DAILY_METRICS, METRIC_INDEX, RunResult
from bordersim.store.interface import Catalog, reader_of, results_dir_of
from bordersim.store.result_files import (
    CUSTODY_HIST,
    DAILY,
    HIST_POPULATIONS,
    KINDS,
    ResultFile,
    checked_path,
    parquet_source,
    remove_run_files,
    write_run_files,
)
from bordersim.words import counted

if TYPE_CHECKING:
    import duckdb

RUNNING, COMPLETE, FAILED = "running", "complete", "failed"
#: Daily rows read back from the store at a time (whole replications; at least one).
ROWS_PER_BLOCK = 4_000_000


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    created_at: dt.datetime | None
    finished_at: dt.datetime | None
    status: str
    scenario_name: str
    scenario_hash: str
    scenario_text: str
    engine: str
    seed: int
    replications: int
    code_version: str
    timings: dict[str, Any]
    kpis: dict[str, Any]
    report_path: str | None
    # The scenario file the run came from, by its absolute path as given (None: not recorded, as
    # for runs stored before the store kept it, or a run of no file).
    scenario_path: str | None = None

    def __repr__(self) -> str:
        """One line, as a `Run` shows itself: the id, status, what ran and when, not the
        scenario's whole resolved text and every KPI that the fields hold (10,000 characters)."""
        created = f", created {self.created_at:%Y-%m-%d %H:%M:%S}" if self.created_at else ""
        return (
            f"{type(self).__name__}({self.run_id!r}, {self.status}, {self.scenario_name!r}, "
            f"{self.engine} engine, seed {self.seed}, "
            f"{counted(self.replications, 'replication')}{created})"
        )


def new_run_id(scenario_name: str) -> str:
    """Readable and unique: scenario name, UTC time to the second, four random hex digits."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in scenario_name)
    return f"{safe}-{stamp}-{secrets.token_hex(2)}"


def start_run(
    connection: Catalog,
    run_id: str,
    *,
    scenario_name: str,
    scenario_hash: str,
    scenario_text: str,
    engine: str,
    seed: int,
    replications: int,
    code_version: str,
    out_dir: str | Path | None = None,
    scenario_path: str | None = None,
) -> None:
    """Record the run as 'running' by this process (committed at once), with the scenario file
    it came from (`scenario_path`, absolute as given) where it came from one."""
    connection.execute(
        """INSERT INTO runs (run_id, created_at, status, scenario_name, scenario_hash,
        scenario_text, engine, seed, replications, code_version, host, pid, process_start,
        out_dir, scenario_path)
        VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            run_id,
            RUNNING,
            scenario_name,
            scenario_hash,
            scenario_text,
            engine,
            seed,
            replications,
            code_version,
            socket.gethostname(),
            os.getpid(),
            process_start_time(os.getpid()),
            str(Path(out_dir).absolute()) if out_dir is not None else None,
            scenario_path,
        ],
    )


# ----- which process runs a run ----------------------------------------------------------------
def process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), "" where it is unknown.

    With the process id it names one process: a later process given the same id differs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # the command name (field 2) is in parentheses and may hold spaces
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def process_state(host: str | None, pid: int | None, started: str | None) -> str:
    """'alive', 'dead' or 'unknown' (another host, or no process recorded)."""
    if not host or not pid:
        return "unknown"
    if host != socket.gethostname():
        return "unknown"
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        pass  # it exists, owned by someone else
    except (OverflowError, ValueError):
        return "dead"
    if started and process_start_time(int(pid)) not in ("", started):
        return "dead"  # the id now belongs to another process
    return "alive"


@dataclass(frozen=True)
class Repaired:
    run_id: str
    reason: str
    removed: tuple[str, ...]  # temporary files removed


def repair_dead_runs(connection: Catalog, *, include_unknown: bool = False) -> list[Repaired]:
    """Mark failed every 'running' run whose process has died, removing its temporary files.

    `include_unknown` also repairs runs with no process recorded (made by an older bordersim);
    runs on another host are never touched: their process cannot be checked from here.
    """
    repaired: list[Repaired] = []
    rows = connection.execute(
        "SELECT run_id, host, pid, process_start, out_dir FROM runs WHERE status = ?", [RUNNING]
    ).fetchall()
    for run_id, host, pid, started, out_dir in rows:
        state = process_state(host, pid, started)
        if state == "alive" or (state == "unknown" and not (include_unknown and not host)):
            continue
        reason = (
            f"its process {pid} on {host} ended without finishing (killed or crashed)"
            if state == "dead"
            else "no process was recorded for it and it was still 'running' (repaired on request)"
        )
        fail_run(connection, run_id, reason=reason)
        removed = remove_temporaries(Path(out_dir), pid) if out_dir and pid else ()
        repaired.append(Repaired(run_id, reason, removed))
    return repaired


# ----- temporary output files ------------------------------------------------------------------
def temporary_name(target: Path) -> Path:
    """A temporary file beside `target`, named after this process so that a repair can find it
    (`.report.html.<pid>.<random>.tmp`); renamed onto `target` once the run is complete."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def remove_temporaries(out_dir: Path, pid: int) -> tuple[str, ...]:
    """Remove the temporary files process `pid` left in `out_dir`; return their names."""
    removed = []
    try:
        candidates = list(out_dir.glob(f".*.{int(pid)}.*.tmp"))
    except OSError:
        return ()
    for path in candidates:
        try:
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(path.name)
        except OSError:
            continue
    return tuple(removed)


def complete_run(
    connection: Catalog,
    run_id: str,
    result: RunResult,
    *,
    kpis: dict[str, Any],
    timings: dict[str, Any],
    report_path: str | None,
    written: list[ResultFile] | None = None,
) -> None:
    """Record the run's result files and mark it complete, all or nothing.

    `written` are the files `write_run_files` already wrote for it (so that the store need not
    be held while they are written); without them they are written now. Results that are not all
    finite (NaN or infinite, from an engine pushed past its range) are refused: the run is never
    'complete' with them. On any failure the files are removed."""
    check_finite(result)
    results_dir = results_dir_of(connection)
    try:
        if not _is_running(connection, run_id):
            raise BordersimError(f"run {run_id} is not running in the store; results not saved")
        files = written if written is not None else write_run_files(results_dir, run_id, result)
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute("DELETE FROM run_files WHERE run_id = ?", [run_id])
            connection.executemany(
                "INSERT INTO run_files VALUES (?, ?, ?, ?, ?, ?)",
                [[f.run_id, f.kind, f.path, f.bytes, f.rows, f.sha256] for f in files],
            )
            updated = connection.execute(
                """UPDATE runs SET status = ?, finished_at = now()::TIMESTAMP, timings_json = ?,
                kpis_json = ?, report_path = ? WHERE run_id = ? AND status = ? RETURNING run_id""",
                [COMPLETE, json.dumps(timings), json.dumps(kpis), report_path, run_id, RUNNING],
            ).fetchall()
            if not updated:
                raise BordersimError(f"run {run_id} is not running in the store; results not saved")
            _release_report_path(connection, run_id, report_path)
            connection.execute("COMMIT")
        except BaseException:
            _roll_back(connection)
            raise
    except BaseException:
        # An interrupt as COMMIT returns may come after the commit took effect (DuckDB reports
        # Ctrl-C during a COMMIT that then completes as "Query interrupted"): the files of a run
        # the store records as complete are its results and stay.
        if not _recorded_complete(connection, run_id):
            remove_run_files(results_dir, run_id)
        raise


def _roll_back(connection: Catalog) -> None:
    """Roll back the open transaction, if one is still open: a COMMIT interrupted once it had
    taken effect leaves none, and the error of rolling back nothing must not hide the cause."""
    import contextlib

    import duckdb

    with contextlib.suppress(duckdb.TransactionException):
        connection.execute("ROLLBACK")


def _recorded_complete(connection: Catalog, run_id: str) -> bool:
    """True if the store records the run as complete; also where it cannot be read (its files
    are then kept: `fail_run` removes them if the run is not complete)."""
    try:
        row = connection.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
    except Exception:
        return True
    return row is not None and row[0] == COMPLETE


def _is_running(connection: Catalog, run_id: str) -> bool:
    row = connection.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return row is not None and row[0] == RUNNING


def check_finite(result: RunResult) -> None:
    """A `ModelError` naming the first metric and day with a value that is not finite."""
    from bordersim.errors import ModelError

    bad = ~np.isfinite(result.daily)
    if bad.any():
        r, d, s, m = (int(i[0]) for i in np.nonzero(bad))
        raise ModelError(
            f"the {result.engine} engine produced non-finite values ({int(bad.sum()):,} of "
            f"{bad.size:,}; first: {DAILY_METRICS[m]} in {result.sectors[s].name} on "
            f"{result.dates[d]}, replication {r}); the run is not stored as complete"
        )
    if not np.isfinite(result.custody_hist).all():
        raise ModelError(
            f"the {result.engine} engine produced non-finite custody times; the run is not "
            "stored as complete"
        )


def fail_run(connection: Catalog, run_id: str, *, reason: str | None = None) -> bool:
    """Remove any results of the run and mark it failed (a complete run stays complete: True
    then, so that its caller keeps what belongs to it)."""
    connection.execute("BEGIN TRANSACTION")
    try:
        row = connection.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
        failing = row is not None and row[0] != COMPLETE
        if failing:
            connection.execute("DELETE FROM run_files WHERE run_id = ?", [run_id])
            connection.execute(
                "UPDATE runs SET status = ?, finished_at = now()::TIMESTAMP, failure = ? "
                "WHERE run_id = ?",
                [FAILED, (reason or "")[:500] or None, run_id],
            )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    if failing:
        # results written for it (by this process, or by one that died) are no results
        remove_run_files(results_dir_of(connection), run_id)
    return row is not None and not failing


def set_report_path(connection: Catalog, run_id: str, path: str) -> None:
    """Record that `path` holds the run's report (written over whatever was there)."""
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute("UPDATE runs SET report_path = ? WHERE run_id = ?", [path, run_id])
        _release_report_path(connection, run_id, path)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _release_report_path(connection: Catalog, run_id: str, path: str | None) -> None:
    """A report file belongs to one run: an earlier run whose report was at `path` (a folder
    given again with `--out`) no longer has one there, and its report is rebuilt from the
    store when asked for, never shown as another run's."""
    if path is not None:
        connection.execute(
            "UPDATE runs SET report_path = NULL WHERE report_path = ? AND run_id <> ?",
            [path, run_id],
        )


class RunContext(NamedTuple):
    """What a run's report shows besides its results, kept with the run."""

    sources: dict[str, str]
    warnings: tuple[str, ...]
    calibration: str | None  # the artifact's absolute path; None: the shipped calibration
    calibration_sha256: str | None = None  # of that file as the run read it (None: not kept)


def save_run_context(
    connection: Catalog,
    run_id: str,
    *,
    sources: dict[str, str],
    warnings: tuple[str, ...] | list[str],
    calibration: str | None = None,
    calibration_sha256: str | None = None,
) -> None:
    """Keep the parameter sources, compile warnings and calibration (its path and sha256) the
    run's report shows."""
    connection.execute(
        "UPDATE runs SET sources_json = ?, warnings_json = ?, calibration = ?, "
        "calibration_sha256 = ? WHERE run_id = ?",
        [json.dumps(sources), json.dumps(list(warnings)), calibration, calibration_sha256, run_id],
    )


def run_context(connection: Catalog, run_id: str) -> RunContext | None:
    """The context kept with a run, or None for a run stored without it."""
    row = connection.execute(
        "SELECT sources_json, warnings_json, calibration, calibration_sha256 FROM runs "
        "WHERE run_id = ?",
        [run_id],
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return RunContext(json.loads(row[0]), tuple(json.loads(row[1] or "[]")), row[2], row[3])


def running_processes(connection: Catalog) -> dict[str, tuple[str | None, int | None, str | None]]:
    """The process (host, id, start time) recorded for each run still 'running', by run id."""
    rows = connection.execute(
        "SELECT run_id, host, pid, process_start FROM runs WHERE status = ?", [RUNNING]
    ).fetchall()
    return {row[0]: (row[1], None if row[2] is None else int(row[2]), row[3]) for row in rows}


def list_runs(connection: Catalog) -> list[StoredRun]:
    rows = connection.execute(f"SELECT {_COLUMNS} FROM runs ORDER BY created_at, run_id").fetchall()
    return [_stored(row) for row in rows]


def get_run(connection: Catalog, run_id: str) -> StoredRun:
    """The run's catalog row; `BordersimError` if there is none."""
    row = connection.execute(f"SELECT {_COLUMNS} FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise _no_run(connection, run_id)
    return _stored(row)


def _no_run(connection: Catalog, run_id: str) -> BordersimError:
    """Why `run_id` is not a run of this store, naming the store (the default one may not be
    the one meant); the id of a blocked sweep, which `bordersim runs` lists beside the runs, is
    said to be one."""
    from bordersim.store.interface import shown_location
    from bordersim.store.sweeps import sweep_plan

    where = shown_location(connection)
    if sweep_plan(connection, run_id) is not None:
        option = store_option(where)
        said = (
            f"{run_id!r} is a blocked sweep, not a run: `bordersim sweep --resume {run_id}"
            f"{option}` writes its KPI table and report again"
        )
        if not option:
            return BordersimError(said, where=where)
        # the store is named once, in the command; and the line is not cut at its usual
        # length, since a command cut short cannot be run as printed
        error = BordersimError(said)
        error.args = (said,)
        return error
    return _no_such_run(connection, run_id, where)


def _no_such_run(connection: Catalog, run_id: str, where: str) -> BordersimError:
    """A run id the store lacks, with the nearest id it holds and the command that lists this
    store's runs: `bordersim runs` alone lists the default store's, not the one named."""
    import difflib

    ids = [stored.run_id for stored in list_runs(connection)]
    near = difflib.get_close_matches(run_id, ids, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    said = (
        f"no run {run_id!r} in this store{hint}; it holds {counted(len(ids), 'run')}: "
        f"`bordersim runs{store_option(where)}` lists them"
    )
    error = BordersimError(said, where=where)
    # not cut at its usual length: a command cut short cannot be run as printed
    error.args = (f"{error.where}: {said}",)
    return error


def store_option(shown: str) -> str:
    """` --store LOCATION`, quoted for the shell, for a store that is not the one a command
    opens without --store: a command printed for the user must work as printed."""
    import shlex

    from bordersim.store import store_location
    from bordersim.store.postgres import shown_url

    default = store_location(None)
    default_shown = shown_url(default) if isinstance(default, str) else str(default.absolute())
    return "" if shown == default_shown else f" --store {shlex.quote(shown)}"


def has_run(connection: Catalog, run_id: str) -> bool:
    row = connection.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return row is not None


_COLUMNS = (
    "run_id, created_at, finished_at, status, scenario_name, scenario_hash, scenario_text, "
    "engine, seed, replications, code_version, timings_json, kpis_json, report_path, "
    "scenario_path"
)


def _stored(row: tuple[Any, ...]) -> StoredRun:
    return StoredRun(
        run_id=row[0],
        created_at=row[1],
        finished_at=row[2],
        status=row[3],
        scenario_name=row[4] or "",
        scenario_hash=row[5] or "",
        scenario_text=row[6] or "",
        engine=row[7] or "",
        seed=int(row[8] or 0),
        replications=int(row[9] or 0),
        code_version=row[10] or "",
        timings=json.loads(row[11]) if row[11] else {},
        kpis=json.loads(row[12]) if row[12] else {},
        report_path=row[13],
        scenario_path=row[14],
    )


def run_files(connection: Catalog, run_id: str | None = None) -> list[ResultFile]:
    """The result files the catalog records (of one run, or of all runs)."""
    sql = "SELECT run_id, kind, path, bytes, rows, sha256 FROM run_files"
    rows = (
        connection.execute(sql + " WHERE run_id = ? ORDER BY kind", [run_id]).fetchall()
        if run_id is not None
        else connection.execute(sql + " ORDER BY run_id, kind").fetchall()
    )
    return [ResultFile(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]


def result_sources(connection: Catalog, run_id: str) -> dict[str, str]:
    """Kind -> `read_parquet(...)` of a complete run's files, each checked against the catalog."""
    run = get_run(connection, run_id)
    if run.status != COMPLETE:
        raise BordersimError(f"run {run_id} is {run.status}, not complete: it has no results")
    results_dir = results_dir_of(connection)
    recorded = {item.kind: item for item in run_files(connection, run_id)}
    missing = [kind for kind in KINDS if kind not in recorded]
    if missing:
        raise BordersimError(f"run {run_id} has no {missing[0]} results in the store")
    return {kind: parquet_source(checked_path(results_dir, recorded[kind])) for kind in KINDS}


def load_result(connection: Catalog, run_id: str) -> RunResult:
    """Rebuild the `RunResult` of a complete run from its tidy rows."""
    run = get_run(connection, run_id)
    sources = result_sources(connection, run_id)
    reader = reader_of(connection)
    dates, sectors, n_reps = _daily_extent(reader, sources[DAILY], run_id)
    sector_pos = {sec.name: i for i, sec in enumerate(sectors)}
    return RunResult(
        engine=run.engine,
        scenario_name=run.scenario_name,
        scenario_hash=run.scenario_hash,
        seed=run.seed,
        dates=dates,
        sectors=sectors,
        daily=_read_daily(reader, sources[DAILY], dates, sector_pos, n_reps),
        custody_hist=_read_custody_hist(reader, sources[CUSTODY_HIST], sector_pos, n_reps),
        timings=dict(run.timings),
    )


def _daily_extent(
    reader: duckdb.DuckDBPyConnection, daily: str, run_id: str
) -> tuple[list[dt.date], tuple[Sector, ...], int]:
    """The days (first to last, every day), sectors and number of replications of the rows."""
    span = reader.execute(f"SELECT min(date), max(date), max(replication) FROM {daily}").fetchone()
    if span is None or span[0] is None:
        raise BordersimError(f"run {run_id} has no daily results in the store")
    first, last, last_replication = span
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    names = reader.execute(f"SELECT DISTINCT sector FROM {daily}").fetchall()
    sectors = tuple(sorted((Sector[row[0]] for row in names), key=int))
    return dates, sectors, int(last_replication) + 1


def _read_daily(
    reader: duckdb.DuckDBPyConnection,
    daily: str,
    dates: list[dt.date],
    sector_pos: dict[str, int],
    n_reps: int,
) -> np.ndarray:
    """The daily values [replication, day, sector, metric]; zero where no row was stored."""
    codes_sector = pa.table({"name": list(sector_pos), "i": list(sector_pos.values())})
    codes_metric = pa.table({"name": list(METRIC_INDEX), "i": list(METRIC_INDEX.values())})
    reader.register("sector_codes", codes_sector)
    reader.register("metric_codes", codes_metric)
    array = np.zeros((n_reps, len(dates), len(sector_pos), len(DAILY_METRICS)))
    # Replications are read in blocks so that memory stays flat for large ensembles.
    step = max(1, ROWS_PER_BLOCK // max(array[0].size, 1))
    try:
        for start in range(0, n_reps, step):
            # Metrics this bordersim does not know (an older or newer schema) are left out.
            rows = reader.execute(
                f"""SELECT d.replication, datediff('day', ?::DATE, d.date) AS day,
                s.i AS sector, m.i AS metric, d.value FROM {daily} d
                JOIN sector_codes s ON d.sector = s.name JOIN metric_codes m ON d.metric = m.name
                WHERE d.replication >= ? AND d.replication < ?""",
                [dates[0], start, start + step],
            ).fetchnumpy()
            array[
                np.asarray(rows["replication"], dtype=np.int64),
                np.asarray(rows["day"], dtype=np.int64),
                np.asarray(rows["sector"], dtype=np.int64),
                np.asarray(rows["metric"], dtype=np.int64),
            ] = np.asarray(rows["value"], dtype=np.float64)
    finally:
        reader.unregister("sector_codes")
        reader.unregister("metric_codes")
    return array


def _read_custody_hist(
    reader: duckdb.DuckDBPyConnection, source: str, sector_pos: dict[str, int], n_reps: int
) -> np.ndarray:
    """The time-in-custody histogram [replication, sector, population, hours]."""
    hist = reader.execute(
        f"SELECT replication, sector, population, hours, count FROM {source}"
    ).df()
    custody_hist = np.zeros(
        (n_reps, len(sector_pos), len(HIST_POPULATIONS), CUSTODY_HIST_HOURS + 1)
    )
    if not hist.empty:
        population_pos = {name: i for i, name in HIST_POPULATIONS.items()}
        custody_hist[
            hist["replication"].to_numpy(),
            hist["sector"].map(sector_pos).to_numpy(dtype=np.int64),
            hist["population"].map(population_pos).to_numpy(dtype=np.int64),
            hist["hours"].to_numpy(dtype=np.int64),
        ] = hist["count"].to_numpy()
    return custody_hist


def list_failures(connection: Catalog) -> dict[str, str]:
    """Run id -> why it failed, for failed runs whose reason was recorded."""
    rows = connection.execute(
        "SELECT run_id, failure FROM runs WHERE status = ? AND failure IS NOT NULL", [FAILED]
    ).fetchall()
    return {run_id: failure for run_id, failure in rows}
