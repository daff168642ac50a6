"""Simulate a compiled scenario and record it: the store, the report and the per-person records.

A run is recorded as 'running', simulated, and its results, KPIs and report are committed
together: the report is written to a temporary file that is renamed into place only once the store
has marked the run complete. Any failure or Ctrl-C marks it 'failed'.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bordersim.services.loading import LoadedScenario, code_version, sources_from_text
from bordersim.services.observer import QUIET, Observer

if TYPE_CHECKING:
    import duckdb

    from bordersim.report.run_report import RunRecord
    from bordersim.results.schema import RunResult

DEFAULT_REPLICATIONS = 10
DEFAULT_SEED = 1


def default_out_dir(scenario_name: str) -> Path:
    return Path("out") / scenario_name


def check_request(engine: str, replications: int, records: bool) -> None:
    """Refuse, before anything is recorded, what no engine would run."""
    from bordersim.engines import ENGINES
    from bordersim.errors import ModelError

    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if replications < 1:
        raise ModelError(f"replications must be at least 1, got {replications}")
    if records and engine != "event":
        raise ModelError("--records keeps per-person records, which only the event engine has")


def simulate_loaded(
    loaded: LoadedScenario,
    *,
    engine: str,
    replications: int,
    seed: int,
    records: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Simulate a compiled scenario, nothing recorded (the workbench's worker records it later,
    holding the store only then); its timings include the scenario compile."""
    from bordersim.engines import simulate

    check_request(engine, replications, records)
    started = time.perf_counter()
    result = simulate(
        loaded.model,
        engine=engine,
        replications=replications,
        seed=seed,
        progress=progress,
        records=records,
    )
    run_s = time.perf_counter() - started
    # The engine reports its own compile (JIT) and simulation times; wall_s has both.
    result.timings["scenario_compile_s"] = loaded.compile_s
    result.timings["wall_s"] = run_s
    result.timings.setdefault("run_s", run_s)
    result.timings.setdefault("run_s_per_replication", result.timings["run_s"] / replications)
    return result


def simulate_and_record(
    loaded: LoadedScenario,
    connection: duckdb.DuckDBPyConnection,
    *,
    engine: str,
    replications: int,
    seed: int,
    out_dir: Path | None,
    records: bool,
    observer: Observer = QUIET,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunRecord:
    """Simulate a compiled scenario, store it and write its report; mark it failed on any error.

    `on_progress(done, total)` is called with the engine's progress, after the observer's.
    """
    from bordersim.report.locations import point_latest, run_folder
    from bordersim.report.run_report import RunRecord, write_run_report
    from bordersim.results.kpis import replication_kpis, summarize
    from bordersim.store.runs import (
        complete_run,
        fail_run,
        get_run,
        new_run_id,
        save_run_context,
        start_run,
    )
    from bordersim.validation.reference import load_official_monthly

    check_request(engine, replications, records)
    for message in loaded.warnings:
        observer.warning(message)
    model = loaded.model
    run_id = new_run_id(model.scenario_name)
    start_run(
        connection,
        run_id,
        scenario_name=model.scenario_name,
        scenario_hash=model.scenario_hash,
        scenario_text=loaded.text,
        engine=engine,
        seed=seed,
        replications=replications,
        code_version=code_version(),
    )
    # By default each run gets its own folder, out/<scenario>/<run id>/, and out/<scenario>/latest
    # points to the newest: a run on the other engine never overwrites an earlier report.
    own_folder = out_dir is None
    out_dir = out_dir or run_folder(Path("out"), model.scenario_name, run_id)
    report_path = out_dir / "report.html"
    people_path = out_dir / "people.parquet"
    pending: Path | None = None
    pending_people: Path | None = None
    try:
        with observer.progress(f"{model.scenario_name} ({engine})") as shown:

            def progress(done: int, total: int) -> None:
                shown(done, total)
                if on_progress is not None:
                    on_progress(done, total)

            result = simulate_loaded(
                loaded,
                engine=engine,
                replications=replications,
                seed=seed,
                records=records,
                progress=progress,
            )
        summary = summarize(replication_kpis(result))
        official, reason = load_official_monthly()
        record = RunRecord(
            run_id=run_id,
            result=result,
            scenario_text=loaded.text,
            sources=dict(model.sources),
            sources_note="" if model.sources else "The compiled scenario has no parameter sources.",
            code_version=code_version(),
            created_at=created_text(get_run(connection, run_id).created_at),
            warnings=loaded.warnings,
        )
        # What the report shows besides the results is kept, so that `bordersim report RUN_ID`
        # rewrites it byte for byte.
        save_run_context(connection, run_id, sources=record.sources, warnings=record.warnings)
        pending = _temporary_beside(report_path)
        with observer.stage("writing the report"):
            started = time.perf_counter()
            write_run_report(pending, record, official=official, official_reason=reason)
            result.timings["report_s"] = time.perf_counter() - started
        if records and result.people is not None:
            pending_people = _temporary_beside(people_path)
            result.people.to_parquet(pending_people)
        with observer.stage(f"storing {result.daily.size:,} daily values"):
            complete_run(
                connection,
                run_id,
                result,
                kpis={name: interval.as_dict() for name, interval in summary.items()},
                timings=result.timings,
                report_path=str(report_path.absolute()),
            )
        os.replace(pending, report_path)
        if own_folder:
            point_latest(out_dir)
        record.report_path = report_path
        if pending_people is not None:
            os.replace(pending_people, people_path)
        return record
    except BaseException as err:
        try:
            fail_run(connection, run_id)
        finally:
            for leftover in (pending, pending_people):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
        if not isinstance(err, KeyboardInterrupt) and caused_by_interrupt(err):
            raise KeyboardInterrupt from err
        raise


def caused_by_interrupt(err: BaseException) -> bool:
    """Ctrl-C inside compiled code can surface as another error with the interrupt as its cause."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _temporary_beside(path: Path) -> Path:
    from bordersim.report.page import readable_mode

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    os.chmod(name, readable_mode())
    return Path(name)


def stored_record(connection: duckdb.DuckDBPyConnection, run_id: str) -> RunRecord:
    """A complete run read back from the store, with its scenario's sources recompiled."""
    from bordersim.report.run_report import RunRecord
    from bordersim.store.runs import get_run, load_result, run_context

    stored = get_run(connection, run_id)
    result = load_result(connection, run_id)
    kept = run_context(connection, run_id)
    if kept is not None:
        sources, warnings = kept
        note = "" if sources else "The compiled scenario has no parameter sources."
    else:  # a run stored before the store kept them: recompile the text (best effort)
        (sources, note), warnings = sources_from_text(stored.scenario_text), ()
    return RunRecord(
        run_id=run_id,
        result=result,
        scenario_text=stored.scenario_text,
        sources=sources,
        sources_note=note,
        code_version=stored.code_version,
        created_at=created_text(stored.created_at),
        warnings=warnings,
    )


def created_text(created_at: dt.datetime | None) -> str:
    """A run's creation time as its report shows it (the store's own timestamp, UTC)."""
    return f"{created_at:%Y-%m-%d %H:%M:%S} UTC" if created_at else ""


def rewrite_report(
    connection: duckdb.DuckDBPyConnection, run_id: str, out_dir: Path | None
) -> tuple[RunRecord, Path]:
    """Write the report of a stored run again, from the store, and record where it is."""
    from bordersim.report.locations import run_folder
    from bordersim.report.run_report import write_run_report
    from bordersim.store.runs import set_report_path
    from bordersim.validation.reference import load_official_monthly

    record = stored_record(connection, run_id)
    official, reason = load_official_monthly()
    path = write_run_report(
        (out_dir or run_folder(Path("out"), record.label, run_id)) / "report.html",
        record,
        official=official,
        official_reason=reason,
    )
    set_report_path(connection, run_id, str(path.absolute()))
    return record, path
