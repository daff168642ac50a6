"""Simulate a compiled scenario and record it: the store, the report and the per-person records.

Before anything is recorded, the request (engine, replications, seed) and the output folder are
checked: a folder that cannot be created or written, an output folder that is a file, or a report
path that is a folder is one error, before the simulation rather than after it.

A run is then recorded as 'running' (with this process and its output folder), simulated, and its
results, KPIs and report are committed together: the report is written to a temporary file named
after this process, renamed into place only once the store has marked the run complete. Any
failure, Ctrl-C or SIGTERM marks it 'failed' with the reason and removes the temporary files.

The store is held only for those short steps, not while the engine runs, so that other commands
(`runs`, `data show`, another run) can use it meanwhile (`store.using_store`).
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bordersim import interrupts
from bordersim.engines import MAX_REPLICATIONS
from bordersim.output_folders import remove_empty
from bordersim.services.loading import LoadedScenario, code_version, sources_from_text
from bordersim.services.observer import QUIET, Observer

if TYPE_CHECKING:
    from bordersim.report.run_report import RunRecord
    from bordersim.results.schema import RunResult
    from bordersim.store import StoreRef
    from bordersim.store.interface import Catalog
    from bordersim.store.result_files import ResultFile
    from bordersim.store.runs import RunContext

DEFAULT_REPLICATIONS = 10
DEFAULT_SEED = 1


@dataclass(frozen=True)
class OptionNames:
    """What a refusal calls the caller's options: the Python API's parameters (the default),
    or the CLI's flags (`CLI_NAMES`, which the commands pass)."""

    seed: str = "seed"
    records: str = "records=True"
    out: str = "out"
    replications: str = "replications"
    engine: str = "engine"
    settings: str = "settings"


API_NAMES = OptionNames()
CLI_NAMES = OptionNames(
    seed="--seed",
    records="--records",
    out="--out",
    replications="--replications",
    engine="--engine",
    settings="--set",
)


def check_request(
    engine: str,
    replications: int,
    records: bool,
    seed: int = DEFAULT_SEED,
    names: OptionNames = API_NAMES,
) -> None:
    """Refuse, before anything is recorded, what no engine would run; the refusal calls the
    options by `names` (the API's parameters, or the CLI's flags)."""
    from bordersim.engines import ENGINES, MAX_SEED
    from bordersim.errors import ModelError

    # a list or None is not an engine's name: refused in the same line, not a TypeError
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    # A fraction, a text or None is refused, not rounded: seed=1.5 would run as seed 1 and be
    # stored as seed 2, so that nobody could reproduce the run from its record.
    if names.replications.startswith("--") and _whole(replications):
        # an option with its value and the bound it passes, as sweep, fit and plan say a count
        if replications < 1:
            raise ModelError(f"{names.replications} {replications}: must be at least 1")
        if replications > MAX_REPLICATIONS:
            raise ModelError(
                f"{names.replications} {replications}: must be at most {MAX_REPLICATIONS:,}"
            )
    if not _whole(replications) or not 1 <= replications <= MAX_REPLICATIONS:
        raise ModelError(
            f"{names.replications} must be at least 1 and at most {MAX_REPLICATIONS:,} (a whole "
            f"number), got {replications!r}"
        )
    if names.seed.startswith("--") and _whole(seed) and not 0 <= seed <= MAX_SEED:
        raise ModelError(f"{names.seed} {seed}: must be a whole number from 0 to 2^63 - 1")
    if not _whole(seed) or not 0 <= seed <= MAX_SEED:
        raise ModelError(f"{names.seed} must be a whole number from 0 to 2^63 - 1, got {seed!r}")
    if records and engine != "event":
        raise ModelError(
            f"{names.records} keeps per-person records, which only the event engine has"
        )


def _whole(value: object) -> bool:
    """An int or a NumPy integer; True and False are not counts."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


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

    check_request(engine, replications, records, seed)
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


def check_report_folder(out_dir: Path, files: tuple[str, ...], option: str = "out") -> Path:
    """Create `out_dir` if needed and check that `files` can be written in it; one error if not
    (`option`: what the caller calls the folder, the API's ``out`` or the CLI's ``--out``).

    Returns the folder as an absolute path. Nothing is left behind but the folder."""
    from bordersim.errors import BordersimError
    from bordersim.output_folders import check_writable

    folder = Path(out_dir).absolute()
    where = str(folder)
    if folder.exists() and not folder.is_dir():
        raise BordersimError(f"{option} names a file, not a folder; give a folder", where=where)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BordersimError(
            f"cannot create the output folder ({err.strerror})", where=where
        ) from None
    for name in files:
        target = folder / name
        if target.is_dir() or target.is_symlink():
            raise BordersimError(
                f"{name} exists as a folder or a link; bordersim writes a file there",
                where=where,
            )
    check_writable(folder, "cannot write in the output folder", where=where)
    return folder


def simulate_and_record(
    loaded: LoadedScenario,
    store: StoreRef,
    *,
    engine: str,
    replications: int,
    seed: int,
    out_dir: Path | None,
    records: bool,
    observer: Observer = QUIET,
    on_progress: Callable[[int, int], None] | None = None,
    names: OptionNames = API_NAMES,
) -> RunRecord:
    """Simulate a compiled scenario, store it and write its report; mark it failed on any error.

    `store` is an open connection (held throughout) or the store's location (None: the default),
    opened only to record the run and to store its results. `on_progress(done, total)` is called
    with the engine's progress, after the observer's. Refusals call the options by `names`.
    """
    from bordersim.store.runs import check_finite, new_run_id

    check_request(engine, replications, records, seed, names)
    name = loaded.model.scenario_name
    run_id = new_run_id(name)
    made = _not_there(_report_folder(name, run_id, out_dir))
    folder = _checked_folder(name, run_id, out_dir, records, names)
    for message in loaded.warnings:
        observer.warning(message)
    try:
        created_at = _start(store, run_id, loaded, engine, seed, replications, folder)
    except BaseException:
        # nothing was recorded (a store that is not a store, or one being written): the empty
        # report folder made for the run would only be a run folder with no run behind it
        remove_empty(made)
        raise
    pending: list[Path] = []  # the temporary files written so far, removed if the run fails
    try:
        result = _simulate_shown(loaded, engine, replications, seed, records, observer, on_progress)
        interrupts.check()
        check_finite(result)  # before the report: a NaN run has no report and is not complete
        record = new_run_record(run_id, loaded, result, created_at)
        _write_pending(folder, record, records, pending, observer)
        _store(store, record, folder / "report.html", observer)
        _put_in_place(pending, folder, own_folder=out_dir is None)
        record.report_path = folder / "report.html"
        _note_earlier_records(folder, records, observer, names)
        return record
    except BaseException as err:
        # Decided before `_fail` acknowledges the signal: compiled code may have turned the
        # interrupt into an error of its own, with the interrupt as its cause or without it.
        interrupted = interrupts.is_interrupt(err)
        if _fail(store, run_id, err, pending, interrupted):
            # Ctrl-C once the store had committed the run: it is complete, so the report that
            # its catalog entry names goes in place (the interrupt is still reported)
            _put_in_place(pending, folder, own_folder=out_dir is None)
        if interrupted and not isinstance(err, KeyboardInterrupt | interrupts.Interrupted):
            raise interrupts.as_interrupt() from err
        raise


def _checked_folder(
    name: str, run_id: str, out_dir: Path | None, records: bool, names: OptionNames
) -> Path:
    """The run's report folder, created and checked writable before anything is recorded."""
    # By default each run gets its own folder, out/<scenario>/<run id>/, and out/<scenario>/latest
    # points to the newest: a run on the other engine never overwrites an earlier report.
    outputs = ("report.html", "people.parquet") if records else ("report.html",)
    return check_report_folder(_report_folder(name, run_id, out_dir), outputs, names.out)


def _report_folder(name: str, run_id: str, out_dir: Path | None) -> Path:
    """`out_dir`, or the run's own folder out/<scenario>/<run id>/ by default."""
    from bordersim.report.locations import run_folder

    return out_dir or run_folder(Path("out"), name, run_id)


def _not_there(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, outermost first (the order
    `output_folders.remove_empty` takes)."""
    absolute = folder.absolute()
    return [path for path in (*reversed(absolute.parents), absolute) if not path.exists()]


def _start(
    store: StoreRef,
    run_id: str,
    loaded: LoadedScenario,
    engine: str,
    seed: int,
    replications: int,
    folder: Path,
) -> dt.datetime | None:
    """Record the run as running, with its output folder; returns the store's creation time."""
    from bordersim.store import using_store
    from bordersim.store.runs import get_run

    with using_store(store) as connection:
        start_recorded(
            connection,
            run_id,
            loaded,
            engine=engine,
            seed=seed,
            replications=replications,
            folder=folder,
        )
        return get_run(connection, run_id).created_at


def start_recorded(
    connection: Catalog,
    run_id: str,
    loaded: LoadedScenario,
    *,
    engine: str,
    seed: int,
    replications: int,
    folder: Path,
) -> None:
    """Record the run as running in an open store: its scenario (name, hash and text), engine,
    seed, replications, this code's version and its output folder."""
    from bordersim.store.runs import start_run

    model = loaded.model
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
        out_dir=folder,
        scenario_path=scenario_file(loaded),
    )


def scenario_file(loaded: LoadedScenario) -> str:
    """The scenario file a run comes from, as the store keeps it: absolute, as given (a link
    is not followed)."""
    return str(loaded.path.absolute())


def _simulate_shown(
    loaded: LoadedScenario,
    engine: str,
    replications: int,
    seed: int,
    records: bool,
    observer: Observer,
    on_progress: Callable[[int, int], None] | None,
) -> RunResult:
    """Simulate with the observer's progress (then `on_progress`), checking for interrupts."""
    with observer.progress(f"{loaded.model.scenario_name} ({engine})") as shown:

        def progress(done: int, total: int) -> None:
            interrupts.check()
            shown(done, total)
            if on_progress is not None:
                on_progress(done, total)

        return simulate_loaded(
            loaded,
            engine=engine,
            replications=replications,
            seed=seed,
            records=records,
            progress=progress,
        )


def new_run_record(
    run_id: str, loaded: LoadedScenario, result: RunResult, created_at: dt.datetime | None
) -> RunRecord:
    """What the report of a run just simulated shows besides its results."""
    from bordersim.report.run_report import RunRecord

    model = loaded.model
    return RunRecord(
        run_id=run_id,
        result=result,
        scenario_text=loaded.text,
        sources=dict(model.sources),
        sources_note="" if model.sources else "The compiled scenario has no parameter sources.",
        code_version=code_version(),
        created_at=created_text(created_at),
        warnings=loaded.warnings,
        calibration=loaded.calibration,
        calibration_sha256=_sha256_of_file(loaded.calibration),
        scenario_path=scenario_file(loaded),
    )


def _sha256_of_file(path: str | None) -> str | None:
    """The sha256 of a calibration file the run reads (None for the shipped one)."""
    from bordersim.store.result_files import sha256_of

    return None if path is None else sha256_of(Path(path))


def _write_pending(
    folder: Path, record: RunRecord, records: bool, pending: list[Path], observer: Observer
) -> None:
    """Write the report, and the per-person records if kept, to temporary files (`pending`)."""
    from bordersim.store.runs import temporary_name
    from bordersim.validation.reference import load_official_monthly

    result = record.result
    # Validated against the calibration this run used, not always the shipped one.
    official, reason = load_official_monthly(record.calibration, record.calibration_sha256)
    pending.append(temporary_name(folder / "report.html"))
    with observer.stage("writing the report"):
        started = time.perf_counter()
        _write_output(lambda: _write_report(pending[0], record, official, reason), folder)
        result.timings["report_s"] = time.perf_counter() - started
    if records and result.people is not None:
        pending.append(temporary_name(folder / "people.parquet"))
        people = result.people
        _write_output(lambda: people.to_parquet(pending[1]), folder)


def _store(store: StoreRef, record: RunRecord, report_path: Path, observer: Observer) -> None:
    """Write the result files, then mark the run complete with its KPIs in one transaction."""
    from bordersim.store import results_dir, using_store
    from bordersim.store.result_files import write_run_files

    result = record.result
    kpis = kpis_of(result)
    with observer.stage(f"writing {result.daily.size:,} daily values"):
        # The result files are written before the store is opened: it is held only for the
        # short transaction that records them.
        written = write_run_files(results_dir(store), record.run_id, result)
    with observer.stage("storing the run"), using_store(store) as connection:
        complete_recorded(connection, record, kpis, report_path, written)


def kpis_of(result: RunResult) -> dict[str, dict[str, float | int]]:
    """The run's key indicators as the catalog keeps them (mean and interval of each)."""
    from bordersim.results.kpis import replication_kpis, summarize

    return {
        name: interval.as_dict() for name, interval in summarize(replication_kpis(result)).items()
    }


def complete_recorded(
    connection: Catalog,
    record: RunRecord,
    kpis: dict[str, dict[str, float | int]],
    report_path: Path,
    written: list[ResultFile] | None = None,
) -> None:
    """Keep what the report shows besides the results, so that `bordersim report RUN_ID`
    rewrites it byte for byte, and mark the run complete with its KPIs and result files."""
    from bordersim.store.runs import complete_run, save_run_context

    save_run_context(
        connection,
        record.run_id,
        sources=record.sources,
        warnings=record.warnings,
        calibration=record.calibration,
        calibration_sha256=record.calibration_sha256,
    )
    complete_run(
        connection,
        record.run_id,
        record.result,
        kpis=kpis,
        timings=record.result.timings,
        report_path=str(report_path),
        written=written,
    )


def _put_in_place(pending: list[Path], folder: Path, *, own_folder: bool) -> None:
    """Rename the temporary report (and records) into place, once the run is complete; a file
    already in place (by a call that an interrupt stopped midway) stays."""
    from bordersim.report.locations import point_latest

    for temporary, name in zip(pending, ("report.html", "people.parquet"), strict=False):
        if temporary.exists():
            os.replace(temporary, folder / name)
    if own_folder:
        point_latest(folder)


def _note_earlier_records(
    folder: Path, records: bool, observer: Observer, names: OptionNames
) -> None:
    """An output folder given again may hold an earlier run's per-person records: they are the
    user's and stay, but must not be read as this run's."""
    people = folder / "people.parquet"
    if not records and people.is_file():
        observer.warning(
            f"{people} is an earlier run's per-person records, kept as they were: this run kept "
            f"none ({names.records} keeps them)"
        )


def _write_report(path: Path, record: RunRecord, official: object, reason: str) -> None:
    from bordersim.output_files import readable_mode
    from bordersim.report.run_report import write_run_report

    write_run_report(path, record, official=official, official_reason=reason)  # type: ignore[arg-type]
    os.chmod(path, readable_mode())


def _write_output(write: Callable[[], object], folder: Path) -> None:
    """Run `write`; a full disk or a folder that became unwritable is one error."""
    from bordersim.errors import BordersimError

    try:
        write()
    except OSError as err:
        raise BordersimError(
            f"cannot write the run's output ({err.strerror or err}); the run is not stored",
            where=str(folder),
        ) from None


def _fail(
    store: StoreRef, run_id: str, err: BaseException, pending: list[Path], interrupted: bool
) -> bool:
    """Mark the run failed with the reason and remove its temporary files, whatever happens;
    unless the store had already committed it complete (an interrupt just after): True then,
    and the temporary files are kept for the caller to put in place."""
    from bordersim.store import using_store
    from bordersim.store.runs import fail_run

    if interrupted:
        interrupts.acknowledge()
    reason = "interrupted (Ctrl-C or SIGTERM)" if interrupted else failure_reason(err)
    complete = False
    try:
        with using_store(store) as connection:
            complete = fail_run(connection, run_id, reason=reason)
    finally:
        if not complete:
            for leftover in pending:
                leftover.unlink(missing_ok=True)
    return complete


def failure_reason(err: BaseException) -> str:
    """Why a run failed, as the catalog keeps it: the error's kind and its message on one line."""
    return f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"


def stored_record(connection: Catalog, run_id: str) -> RunRecord:
    """A complete run read back from the store, with its scenario's sources recompiled."""
    from bordersim.report.run_report import RunRecord
    from bordersim.store.runs import get_run, load_result, run_context

    stored = get_run(connection, run_id)
    result = load_result(connection, run_id)
    kept = run_context(connection, run_id)
    if kept is not None:
        sources, warnings = kept.sources, kept.warnings
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
        calibration=_calibration_kept(kept, stored.scenario_text),
        calibration_sha256=kept.calibration_sha256 if kept is not None else None,
        scenario_path=stored.scenario_path,
    )


def created_text(created_at: dt.datetime | None) -> str:
    """A run's creation time as its report shows it (the store's own timestamp, UTC)."""
    return f"{created_at:%Y-%m-%d %H:%M:%S} UTC" if created_at else ""


def rewrite_report(
    connection: Catalog, run_id: str, out_dir: Path | None, names: OptionNames = API_NAMES
) -> tuple[RunRecord, Path]:
    """Write the report of a stored run again, from the store, and record where it is."""
    from bordersim.report.export import check_not_in_store
    from bordersim.report.locations import run_folder
    from bordersim.report.run_report import write_run_report
    from bordersim.store.runs import set_report_path
    from bordersim.validation.reference import load_official_monthly

    record = stored_record(connection, run_id)
    official, reason = load_official_monthly(record.calibration, record.calibration_sha256)
    folder = out_dir or run_folder(Path("out"), record.label, run_id)
    # among the runs' result files a report would be taken for one of them, as an export would
    check_not_in_store(connection, folder, "report")
    folder = check_report_folder(folder, ("report.html",), names.out)
    path = write_run_report(
        folder / "report.html",
        record,
        official=official,
        official_reason=reason,
    )
    set_report_path(connection, run_id, str(path.absolute()))
    return record, path


def stored_calibration(connection: Catalog, run_id: str) -> str | None:
    """The calibration a stored run used: the one kept with it, else (a run stored before the
    store kept it) what its scenario text names, where the text alone can find it."""
    from bordersim.store.runs import get_run, run_context

    return _calibration_kept(
        run_context(connection, run_id), get_run(connection, run_id).scenario_text
    )


def _calibration_kept(kept: RunContext | None, scenario_text: str) -> str | None:
    if kept is not None and kept.calibration is not None:
        return kept.calibration
    return calibration_of_text(scenario_text)


def calibration_of_text(text: str) -> str | None:
    """The calibration a stored scenario text names, when it can be found from the text alone
    ("default", or an absolute path); None otherwise (the shipped calibration is used)."""
    import tomllib

    try:
        ref = tomllib.loads(text).get("demand", {}).get("calibration")
    except (tomllib.TOMLDecodeError, AttributeError):
        return None
    if isinstance(ref, str) and ref != "default" and Path(ref).is_absolute():
        return ref
    return None
