"""`bordersim run`, `compare`, `runs` and `report`: simulate scenarios, store runs, write reports.

The commands parse their arguments, call the services (`bordersim.services`) and print. A run is
loaded and compiled before anything is recorded, so a bad scenario fails with one line and leaves
nothing behind; `services.record` says how a run is recorded and marked failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bordersim.commands.console import ConsoleObserver, wide_console
from bordersim.services.record import DEFAULT_REPLICATIONS, DEFAULT_SEED

if TYPE_CHECKING:
    from rich.console import Console

    from bordersim.report.run_report import RunRecord
    from bordersim.results.schema import RunResult

STORE_HELP = (
    "Store file, or a postgresql:// URL of a shared store (default: $BORDERSIM_STORE, else "
    "./.bordersim/bordersim.duckdb)."
)
ENGINE_HELP = "Engine: 'event' (individual people) or 'flow' (hourly counts, JAX)."


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("compare")(compare_command)
    app.command("report")(report_command)


def kpi_table_title(result: RunResult) -> str:
    """The title of `bordersim run`'s table: what run, over which days and sectors (its totals
    and means are over those), and how to read its values."""
    from bordersim.words import counted

    covers = (
        f"\nover {result.dates[0]} to {result.dates[-1]} ({counted(len(result.dates), 'day')}), "
        f"sectors {', '.join(s.name for s in result.sectors)}"
    )
    if result.n_replications == 1:
        return (
            f"{result.scenario_name}: one replication, {result.engine} engine, seed "
            f"{result.seed} (its values; one replication gives no interval){covers}"
        )
    return (
        f"{result.scenario_name}: {result.n_replications} replications, {result.engine} "
        f"engine, seed {result.seed} (mean [95 % interval]){covers}"
    )


def print_kpis(console: Console, record: RunRecord) -> None:
    from bordersim.commands.tables import Table
    from bordersim.results.kpis import (
        KPI_BY_NAME,
        format_interval,
        replication_kpis,
        summarize,
        undefined_notes,
    )

    result = record.result
    table = Table(title=kpi_table_title(result))
    table.add_column("indicator")
    table.add_column("value", justify="right")
    table.add_column("unit")
    summary = summarize(replication_kpis(result))
    for name, interval in summary.items():
        kpi = KPI_BY_NAME[name]
        table.add_row(kpi.label, format_interval(interval, kpi.unit), kpi.unit)
    console.print(table)
    for note in undefined_notes(summary, result.n_replications):
        console.print(note, markup=False, highlight=False)


def print_differences(console: Console, a: RunRecord, b: RunRecord) -> None:
    from rich.markup import escape

    from bordersim.commands.tables import Table
    from bordersim.report.compare_report import (
        KpiComparison,
        coverage_line,
        has_intervals,
        pairing_note,
        single_replication_side,
    )

    comparison = KpiComparison.of(a.result, b.result)
    rows, paired = comparison.rows(), comparison.paired
    how = "paired, common random numbers" if paired else "unpaired, Welch"
    note = pairing_note(a.result, b.result)
    intervals = has_intervals(a.result, b.result)
    heading = (
        f"B - A with 95 % intervals ({how})"
        if intervals
        else f"B - A ({single_replication_side(a.result, b.result)}: no intervals)"
    )
    table = Table(
        title=f"{heading}\nA = run {a.run_id} ({a.label})   B = run {b.run_id} ({b.label})"
        + (f"\n{note}" if note else "")
        + f"\n{escape(coverage_line(a.result, b.result))}"
    )
    difference = "B - A [95 % interval]" if intervals else "B - A"
    columns = ("indicator", "unit", "A", "B", difference, "change", "d", "excludes 0")
    for column in columns:
        table.add_column(column, justify="left" if column in ("indicator", "unit") else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
    for line in comparison.notes(a.result, b.result):
        console.print(line, markup=False, highlight=False)


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


# ----- commands ---------------------------------------------------------------------------------


def run_command(
    # read as text, so that an empty one is refused (commands._guard_arguments)
    scenario_given: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file (TOML)."),
    # no framework range: a count out of range gets check_request's one line, either end
    replications: int = typer.Option(
        DEFAULT_REPLICATIONS, "--replications", "-r", help="Replications to simulate."
    ),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed of replication streams."),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Report folder (default: out/<scenario-name>/<run id>/)."
    ),
    engine: str = typer.Option("event", "--engine", help=ENGINE_HELP),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    records: bool = typer.Option(
        False, "--records", help="Keep per-person records (event engine): out/.../people.parquet."
    ),
    settings: list[str] = typer.Option(  # noqa: B008
        [], "--set", help="KEY=VALUE: set a scenario key path, such as demand.scale=1.3 (repeat)."
    ),
) -> None:
    """Simulate a scenario: KPI table, stored run, and a self-contained report.html."""
    from rich.markup import escape

    from bordersim.services.loading import load_and_compile, parse_settings
    from bordersim.services.record import CLI_NAMES, check_request, simulate_and_record

    console = wide_console()
    check_request(engine, replications, records, seed, CLI_NAMES)
    scenario = Path(scenario_given)
    loaded = load_and_compile(scenario, parse_settings(settings))
    # The store is opened only to record the run and to store its results, not while the
    # engine runs: other commands can use it meanwhile.
    record = simulate_and_record(
        loaded,
        store,
        engine=engine,
        replications=replications,
        seed=seed,
        out_dir=out,
        records=records,
        observer=ConsoleObserver(console),
        names=CLI_NAMES,
    )
    print_kpis(console, record)
    print_timings(console, record)
    # the path is text, not markup: a folder such as out[old] is shown as it is; one line
    # however long (soft_wrap): a path broken across lines cannot be copied or piped
    report = escape(str(record.report_path))
    console.print(f"run [bold]{record.run_id}[/] stored; report: {report}", soft_wrap=True)


def compare_command(
    a: str = typer.Argument(..., metavar="A", help="Scenario file or run id (A, the baseline)."),
    b: str = typer.Argument(..., metavar="B", help="Scenario file or run id (B, the variant)."),
    replications: int | None = typer.Option(
        None,
        "--replications",
        "-r",
        help=f"Replications of each side (default: a stored run's, else {DEFAULT_REPLICATIONS}).",
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        help=f"Seed of both sides' replications (default: a stored run's, else {DEFAULT_SEED}).",
    ),
    engine: str | None = typer.Option(
        None, "--engine", help=f"{ENGINE_HELP[:-1]} (default: a stored run's, else event)."
    ),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Folder of compare.html and new runs' reports (default: out/compare/)."
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    settings: list[str] = typer.Option(  # noqa: B008
        [],
        "--set",
        help="KEY=VALUE: set a scenario key path, such as demand.scale=1.3 on both sides (repeat).",
    ),
) -> None:
    """Compare two scenarios or runs: KPI differences B - A with 95 % paired intervals."""
    from bordersim.services.compare import run_comparison
    from bordersim.services.loading import parse_settings
    from bordersim.services.record import CLI_NAMES

    console = wide_console()
    record_a, record_b, path = run_comparison(
        a,
        b,
        store=store,
        engine=engine,
        replications=replications,
        seed=seed,
        out_root=out or Path("out") / "compare",
        observer=ConsoleObserver(console),
        settings=parse_settings(settings),
        option_names=CLI_NAMES,
    )
    print_differences(console, record_a, record_b)
    # from the root, as `run` and `report` name theirs; one line however long, to be copied whole
    console.print(f"comparison report: {path.absolute()}", markup=False, soft_wrap=True)


def report_command(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="Run id (see `bordersim runs`)."),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Report folder (default: out/<scenario-name>/<run id>/)."
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Write the report of a stored run again, from the store."""
    from rich.console import Console

    from bordersim.services.record import CLI_NAMES, rewrite_report
    from bordersim.store import open_catalog

    with open_catalog(store, create=False) as connection:
        _, path = rewrite_report(connection, run_id, out, CLI_NAMES)
    # one line however long (soft_wrap): a path broken across lines cannot be copied or read
    Console().print(f"report of run {run_id}: {path}", markup=False, soft_wrap=True)
