"""`bordersim run`, `compare`, `runs` and `report`: simulate scenarios, store runs, write reports.

A run is loaded and compiled before anything is recorded, so a bad scenario fails with one line
and leaves nothing behind. It is then recorded as 'running', simulated, and its results, KPIs and
report are committed together: the report is written to a temporary file that is renamed into
place only once the store has marked the run complete. Any failure or Ctrl-C marks it 'failed'.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    import duckdb
    from rich.console import Console

    from bordersim.model.compiled import CompiledModel
    from bordersim.report.run_report import RunRecord

STORE_HELP = "Store file (default: $BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb)."
ENGINE_HELP = "Engine: 'event' (individual people) or 'flow' (hourly counts, JAX)."
DEFAULT_REPLICATIONS = 10
DEFAULT_SEED = 1


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("compare")(compare_command)
    app.command("runs")(runs_command)
    app.command("report")(report_command)


# ----- building blocks shared with the main job ---------------------------------------------------


def code_version() -> str:
    """The package version, with the git commit when bordersim runs from a checkout."""
    from bordersim import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" if commit else __version__


@dataclass
class LoadedScenario:
    path: Path
    text: str
    model: CompiledModel
    compile_s: float
    warnings: tuple[str, ...] = ()


def load_and_compile(path: Path) -> LoadedScenario:
    """Load, validate and compile a scenario file; any problem is a `BordersimError`."""
    from bordersim.errors import ScenarioError
    from bordersim.model.compile import compile_scenario
    from bordersim.scenario import load_scenario

    if not path.is_file():
        raise ScenarioError("no such scenario file", where=str(path))
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = load_scenario(path)
        model = compile_scenario(scenario)
    model.check()
    return LoadedScenario(
        path,
        scenario.resolved_text,
        model,
        time.perf_counter() - started,
        tuple(dict.fromkeys(str(w.message) for w in caught)),
    )


def sources_from_text(text: str) -> tuple[dict[str, str], str]:
    """Parameter sources of a stored scenario text, by loading it again (best effort).

    The text is compiled again when it can be; a scenario that names files beside its original
    location (a demand fit) is only loaded, which gives the sources of everything but those files.
    """
    from bordersim.scenario import load_scenario

    if not text:
        return {}, "The store holds no scenario text for this run."
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return dict(load_and_compile(path).model.sources), ""
        except Exception as compile_error:  # the report still shows the text itself
            try:
                sources = dict(load_scenario(path).sources)
            except Exception as err:
                return {}, f"The stored scenario no longer loads with this bordersim ({err})."
            return sources, (
                "Sources of the scenario's own parameters; those of its calibration and demand "
                f"fit are in the run's original report ({compile_error})."
            )


def wide_console() -> Console:
    """Rich console; piped output gets a wide page so tables keep whole run ids and labels."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=140)


def default_out_dir(scenario_name: str) -> Path:
    return Path("out") / scenario_name


def _progress_bar(console: Console, label: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        f"[bold]{label}[/]",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def simulate_and_record(
    loaded: LoadedScenario,
    connection: duckdb.DuckDBPyConnection,
    *,
    engine: str,
    replications: int,
    seed: int,
    out_dir: Path | None,
    records: bool,
    console: Console,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunRecord:
    """Simulate a compiled scenario, store it and write its report; mark it failed on any error.

    `on_progress(done, total)` is called with the engine's progress, after the progress bar.
    """
    from bordersim.engines import simulate
    from bordersim.report.run_report import RunRecord, write_run_report
    from bordersim.results.kpis import replication_kpis, summarize
    from bordersim.store.runs import complete_run, fail_run, new_run_id, start_run
    from bordersim.validation.reference import load_official_monthly

    check_request(engine, replications, records)
    for message in loaded.warnings:
        console.print(f"[yellow]warning:[/] {message}", highlight=False)
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
    out_dir = out_dir or default_out_dir(model.scenario_name)
    report_path = out_dir / "report.html"
    people_path = out_dir / "people.parquet"
    pending: Path | None = None
    pending_people: Path | None = None
    try:
        with _progress_bar(console, f"{model.scenario_name} ({engine})") as bar:
            task = bar.add_task("simulate", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)
                if on_progress is not None:
                    on_progress(done, total)

            started = time.perf_counter()
            result = simulate(
                model,
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
        summary = summarize(replication_kpis(result))
        official, reason = load_official_monthly()
        record = RunRecord(
            run_id=run_id,
            result=result,
            scenario_text=loaded.text,
            sources=dict(model.sources),
            sources_note="" if model.sources else "The compiled scenario has no parameter sources.",
            code_version=code_version(),
            created_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            warnings=loaded.warnings,
        )
        pending = _temporary_beside(report_path)
        with console.status("writing the report"):
            started = time.perf_counter()
            write_run_report(pending, record, official=official, official_reason=reason)
            result.timings["report_s"] = time.perf_counter() - started
        if records and result.people is not None:
            pending_people = _temporary_beside(people_path)
            result.people.to_parquet(pending_people)
        with console.status(f"storing {result.daily.size:,} daily values"):
            complete_run(
                connection,
                run_id,
                result,
                kpis={name: interval.as_dict() for name, interval in summary.items()},
                timings=result.timings,
                report_path=str(report_path.absolute()),
            )
        os.replace(pending, report_path)
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
        if not isinstance(err, KeyboardInterrupt) and _caused_by_interrupt(err):
            raise KeyboardInterrupt from err
        raise


def _caused_by_interrupt(err: BaseException) -> bool:
    """Ctrl-C inside compiled code can surface as another error with the interrupt as its cause."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


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
    from bordersim.store.runs import get_run, load_result

    stored = get_run(connection, run_id)
    result = load_result(connection, run_id)
    sources, note = sources_from_text(stored.scenario_text)
    return RunRecord(
        run_id=run_id,
        result=result,
        scenario_text=stored.scenario_text,
        sources=sources,
        sources_note=note,
        code_version=stored.code_version,
        created_at=f"{stored.created_at:%Y-%m-%d %H:%M:%S} UTC" if stored.created_at else "",
    )


def print_kpis(console: Console, record: RunRecord) -> None:
    from rich.table import Table

    from bordersim.results.kpis import KPI_BY_NAME, format_interval, replication_kpis, summarize

    result = record.result
    table = Table(
        title=f"{result.scenario_name}: {result.n_replications} replications, {result.engine} "
        f"engine, seed {result.seed} (mean [95 % interval])"
    )
    table.add_column("indicator")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, interval in summarize(replication_kpis(result)).items():
        kpi = KPI_BY_NAME[name]
        table.add_row(kpi.label, format_interval(interval, kpi.unit), kpi.unit)
    console.print(table)


def print_differences(console: Console, a: RunRecord, b: RunRecord) -> None:
    from rich.table import Table

    from bordersim.report.compare_report import difference_rows

    rows, paired = difference_rows(a, b)
    how = "paired, common random numbers" if paired else "unpaired, Welch"
    table = Table(title=f"B - A with 95 % intervals ({how})\nA = {a.label}   B = {b.label}")
    for column in ("indicator", "A", "B", "B - A [95 % interval]", "excludes 0"):
        table.add_column(column, justify="left" if column == "indicator" else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)


def print_timings(console: Console, record: RunRecord) -> None:
    labels = {
        "scenario_compile_s": "scenario compile",
        "compile_s": "engine compile",
        "run_s": "simulation",
        "run_s_per_replication": "per replication",
    }
    t = record.result.timings
    parts = [f"{label} {t[key]:.2f} s" for key, label in labels.items() if key in t]
    if parts:
        console.print(f"timings: {', '.join(parts)}")


def resolve_compare_side(
    spec: str,
    connection: duckdb.DuckDBPyConnection,
) -> tuple[str, LoadedScenario | None]:
    """'file' with the loaded scenario, or 'run' when `spec` is a stored run id."""
    from bordersim.errors import BordersimError
    from bordersim.store.runs import has_run

    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        return "file", load_and_compile(path)
    if has_run(connection, spec):
        return "run", None
    raise BordersimError(f"{spec!r} is neither a scenario file nor a run id in the store")


def compare_specs(
    spec_a: str,
    spec_b: str,
    connection: duckdb.DuckDBPyConnection,
    *,
    engine: str | None,
    replications: int | None,
    seed: int | None,
    out_root: Path,
    console: Console,
) -> tuple[RunRecord, RunRecord]:
    """Both sides as stored runs, simulating missing ones with the same seed (CRN)."""
    from bordersim.store.runs import get_run

    sides = [resolve_compare_side(spec, connection) for spec in (spec_a, spec_b)]
    # A stored run fixes the seed, replications and engine the other side must share.
    for (kind, _), spec in zip(sides, (spec_a, spec_b), strict=True):
        if kind == "run":
            stored = get_run(connection, spec)
            seed = stored.seed if seed is None else seed
            replications = stored.replications if replications is None else replications
            engine = stored.engine if engine is None else engine
    names = [loaded.model.scenario_name if loaded else spec for _, loaded in sides]
    # The same scenario on both sides still gets two report folders.
    folders = names if names[0] != names[1] else [f"{names[0]}-a", f"{names[1]}-b"]
    records: list[RunRecord] = []
    for (kind, loaded), spec in zip(sides, (spec_a, spec_b), strict=True):
        if kind == "run":
            records.append(stored_record(connection, spec))
            continue
        assert loaded is not None
        record = simulate_and_record(
            loaded,
            connection,
            engine=engine or "event",
            replications=replications or DEFAULT_REPLICATIONS,
            seed=DEFAULT_SEED if seed is None else seed,
            out_dir=out_root / folders[len(records)],
            records=False,
            console=console,
        )
        console.print(f"run {record.run_id} stored; report {record.report_path}")
        records.append(record)
    return records[0], records[1]


# ----- commands ---------------------------------------------------------------------------------


def run_comparison(
    a: str,
    b: str,
    *,
    store: Path | None,
    engine: str | None,
    replications: int | None,
    seed: int | None,
    out_root: Path,
    console: Console,
) -> tuple[RunRecord, RunRecord, Path]:
    """Run what is missing of A and B, print B - A and write `out_root/compare.html`."""
    from bordersim.report.compare_report import write_compare_report
    from bordersim.store import open_store

    with open_store(store) as connection:
        record_a, record_b = compare_specs(
            a,
            b,
            connection,
            engine=engine,
            replications=replications,
            seed=seed,
            out_root=out_root,
            console=console,
        )
    print_differences(console, record_a, record_b)
    path = write_compare_report(out_root / "compare.html", record_a, record_b)
    return record_a, record_b, path


def run_command(
    scenario: Path = typer.Argument(..., help="Scenario file (TOML)."),  # noqa: B008
    replications: int = typer.Option(DEFAULT_REPLICATIONS, "--replications", "-r", min=1),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed of replication streams."),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Report folder (default: out/<scenario-name>/)."
    ),
    engine: str = typer.Option("event", "--engine", help=ENGINE_HELP),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),  # noqa: B008
    records: bool = typer.Option(
        False, "--records", help="Keep per-person records (event engine): out/.../people.parquet."
    ),
) -> None:
    """Simulate a scenario: KPI table, stored run, and a self-contained report.html."""
    from bordersim.store import open_store

    console = wide_console()
    check_request(engine, replications, records)
    loaded = load_and_compile(scenario)
    with open_store(store) as connection:
        record = simulate_and_record(
            loaded,
            connection,
            engine=engine,
            replications=replications,
            seed=seed,
            out_dir=out,
            records=records,
            console=console,
        )
    print_kpis(console, record)
    print_timings(console, record)
    console.print(f"run [bold]{record.run_id}[/] stored; report: {record.report_path}")


def compare_command(
    a: str = typer.Argument(..., help="Scenario file or run id (A, the baseline)."),
    b: str = typer.Argument(..., help="Scenario file or run id (B, the variant)."),
    replications: int | None = typer.Option(None, "--replications", "-r", min=1),
    seed: int | None = typer.Option(None, "--seed"),
    engine: str | None = typer.Option(None, "--engine", help=ENGINE_HELP),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Folder of compare.html and new runs' reports (default: out/compare/)."
    ),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),  # noqa: B008
) -> None:
    """Compare two scenarios or runs: KPI differences B - A with 95 % paired intervals."""
    console = wide_console()
    _, _, path = run_comparison(
        a,
        b,
        store=store,
        engine=engine,
        replications=replications,
        seed=seed,
        out_root=out or Path("out") / "compare",
        console=console,
    )
    console.print(f"comparison report: {path}")


def runs_command(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),  # noqa: B008
) -> None:
    """List the runs in the store."""
    from rich.table import Table

    from bordersim.store import open_store, resolve_store_path
    from bordersim.store.runs import list_runs

    with open_store(store) as connection:
        runs = list_runs(connection)
    console = wide_console()
    if not runs:
        console.print(f"No runs in {resolve_store_path(store)} yet: try `bordersim run`.")
        return
    table = Table(title=f"Runs in {resolve_store_path(store)}")
    for column in ("run id", "created (UTC)", "status", "engine", "seed", "reps", "run s"):
        table.add_column(column, no_wrap=column in ("run id", "created (UTC)"))
    for run in runs:
        run_s = run.timings.get("run_s")
        table.add_row(
            run.run_id,
            f"{run.created_at:%Y-%m-%d %H:%M}" if run.created_at else "",
            run.status,
            run.engine,
            str(run.seed),
            str(run.replications),
            f"{run_s:.1f}" if isinstance(run_s, int | float) else "",
        )
    console.print(table)


def report_command(
    run_id: str = typer.Argument(..., help="Run id (see `bordersim runs`)."),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Report folder (default: out/<scenario-name>/)."
    ),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),  # noqa: B008
) -> None:
    """Write the report of a stored run again, from the store."""
    from rich.console import Console

    from bordersim.report.run_report import write_run_report
    from bordersim.store import open_store
    from bordersim.store.runs import set_report_path
    from bordersim.validation.reference import load_official_monthly

    with open_store(store) as connection:
        record = stored_record(connection, run_id)
        official, reason = load_official_monthly()
        path = write_run_report(
            (out or default_out_dir(record.label)) / "report.html",
            record,
            official=official,
            official_reason=reason,
        )
        set_report_path(connection, run_id, str(path.absolute()))
    Console().print(f"report of run {run_id}: {path}")
