"""`bordersim validate`: simulate a scenario and put every operational target of its period beside
the simulated value, with the error and a score, and say plainly where the model misses.

Nothing is stored: validation is a measurement of the model, not a run of the catalogue. The event
engine keeps per-person records for the measures that need them (children in custody, time in
custody of Title 42 expulsions, the share held over 72 hours); on the flow engine those targets are
listed as not compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bordersim.commands.simulate import ENGINE_HELP
from bordersim.words import counted

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from bordersim.commands.tables import Table
    from bordersim.results.schema import RunResult
    from bordersim.validation.compare import Comparison
    from bordersim.validation.targets import Target

DEFAULT_REPLICATIONS = 10
DEFAULT_SEED = 1


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)


def validate_command(
    # read as text, so that an empty one is refused (commands._guard_arguments)
    scenario_given: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file (TOML)."),
    replications: int = typer.Option(
        DEFAULT_REPLICATIONS, "--replications", "-r", help="Replications to simulate."
    ),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed of replication streams."),
    engine: str = typer.Option(
        "event",
        "--engine",
        help=f"{ENGINE_HELP[:-1]}; the flow engine keeps no per-person records, so the targets "
        "measured from them are not compared.",
    ),
    out: Path | None = typer.Option(  # noqa: B008
        None,
        "--out",
        help="Folder for validation-<scenario>.csv, or with --set "
        "validation-<scenario>-set-<digest>.csv (every target, all columns; none is written "
        "without --out).",
    ),
    targets_file: Path | None = typer.Option(  # noqa: B008
        None,
        "--targets",
        help="Targets file (default: the one shipped with bordersim).",
    ),
    settings: list[str] = typer.Option(  # noqa: B008
        [],
        "--set",
        help="KEY=VALUE: set a scenario key path, such as processing.min_custody_hours.release=60 "
        "(repeat); the table and the CSV say what was set.",
    ),
) -> None:
    """Simulate a scenario and score it against the public operational targets of its period."""
    from rich.markup import escape

    from bordersim import interrupts
    from bordersim.engines import simulate
    from bordersim.output_folders import missing_folders, removed_on_failure
    from bordersim.services.loading import load_and_compile, parse_settings
    from bordersim.services.record import CLI_NAMES, check_report_folder, check_request
    from bordersim.validation.compare import as_frame, validate
    from bordersim.validation.measures import RunView
    from bordersim.validation.targets import load_targets

    # validation records no run: an interrupt says what it leaves in its own words
    interrupts.describe("the validation stopped cleanly; nothing was written")
    console = validation_console()
    check_request(engine, replications, records=False, seed=seed, names=CLI_NAMES)
    changes = parse_settings(settings)
    targets = load_targets(targets_file)
    loaded = load_and_compile(Path(scenario_given), changes)
    model = loaded.model
    _check_some_target_applies(targets, model.dates[0], model.dates[-1], targets_file)
    csv_file = csv_name(model.scenario_name, changes)
    made: list[Path] = []  # the folders made for --out: removed again if the command fails
    if out is not None:  # before the simulation: an --out that cannot be written wastes none
        made = missing_folders(out)
        out = check_report_folder(out, (csv_file,), CLI_NAMES.out)
    with removed_on_failure(made):
        for message in loaded.warnings:  # a stale demand fit, or one not within its tolerance
            console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)
        records = engine == "event"
        started = time.perf_counter()
        doing = (
            f"simulating {model.scenario_name} ({engine}, {counted(replications, 'replication')})"
        )
        if not console.is_terminal:  # no status line on a file or a pipe: say it on stderr
            print(
                f"validate: {doing}; the first run may compile the engine for a few minutes...",
                file=sys.stderr,
                flush=True,
            )
        with console.status(doing):
            result = simulate(
                model, engine=engine, replications=replications, seed=seed, records=records
            )
        elapsed = time.perf_counter() - started
        view = RunView(result, result.people, model.dates[0])
        comparisons = validate(targets, view)
        console.print(
            f"[bold]{model.scenario_name}[/]: {engine} engine, "
            f"{counted(replications, 'replication')} from seed "
            f"{seed}, reported {result.dates[0]} to {result.dates[-1]} ({elapsed:.0f} s)"
            + (f"; set {describe_settings(changes)}" if changes else ""),
            highlight=False,
        )
        print_validation(console, comparisons)
        print_custody_course(console, result)
        if out is not None:
            frame = as_frame(comparisons).assign(settings=describe_settings(changes))
            path = write_csv(frame, out / csv_file)
            console.print(f"Wrote {path}", highlight=False, markup=False)


def validation_console() -> Console:
    """The console of `bordersim validate`: a terminal's own, or, into a file or a pipe, 180
    columns, room for the table's columns, and lines never broken (soft wrap): a miss or the
    course of custody cut in two at column 180 was half a line to grep."""
    from bordersim.commands.console import wide_console

    console = wide_console()
    if not console.is_terminal:
        console.width = 180
        console.soft_wrap = True
    return console


def _check_some_target_applies(
    targets: list[Target], first: dt.date, last: dt.date, targets_file: Path | None
) -> None:
    """Refuse, before the simulation, a scenario whose days no target of the file falls in: its
    validation would compare nothing."""
    from bordersim.errors import BordersimError

    if any(t.end >= first and t.start <= last for t in targets):
        return
    span = (
        f"they cover {min(t.start for t in targets)} to {max(t.end for t in targets)}"
        if targets
        else "it holds none"
    )
    raise BordersimError(
        f"no target falls in the scenario's simulated days, {first} to {last} ({span}): "
        "nothing to validate; give a scenario of a period with targets",
        where=str(targets_file) if targets_file is not None else "the shipped targets file",
    )


def describe_settings(changes: dict[str, object]) -> str:
    """The `--set` options as given, in order: ``key=value; key=value`` ("" for none)."""
    return "; ".join(f"{key}={value}" for key, value in changes.items())


def csv_name(scenario_name: str, changes: dict[str, object]) -> str:
    """``validation-<scenario>.csv``; with `--set`, a name of its own for those settings (a short
    digest of them), so that a variant's table never overwrites the scenario's own."""
    if not changes:
        return f"validation-{scenario_name}.csv"
    digest = hashlib.sha256(describe_settings(changes).encode()).hexdigest()[:8]
    return f"validation-{scenario_name}-set-{digest}.csv"


def print_validation(console: Console, comparisons: list[Comparison]) -> None:
    """The compared targets (a table, or one line each where the table would not fit), their
    sources in full as numbered notes, the misses in words, and what could not be compared."""
    from bordersim.validation.compare import MISS, NOT_COMPARED, counts_by_score
    from bordersim.words import counted

    compared = [c for c in comparisons if c.score != NOT_COMPARED]
    if compared:
        _print_compared(console, compared)
    counts = counts_by_score(comparisons)
    console.print(
        f"{counted(len(compared), 'target')} compared: {counts['in range']} in range, "
        f"{counts['within 30 %']} within 30 %, {counts[MISS]} missed; "
        f"{counts[NOT_COMPARED]} of the period not compared.",
        highlight=False,
    )
    _print_misses(console, [c for c in compared if c.score == MISS])
    _print_not_compared(console, [c for c in comparisons if c.score == NOT_COMPARED])


#: The compared targets' table: (header, justify, max width) of each column.
COLUMNS = (
    ("measure", "left", 26),
    ("period", "left", 24),
    ("scope", "left", 18),
    ("target", "right", 16),
    ("simulated", "right", 24),
    ("error", "right", 7),
    ("score", "left", 11),
    ("evidence", "left", 20),
    ("conf.", "left", 6),
    ("source", "left", 6),
)


def source_notes(compared: list[Comparison]) -> dict[str, int]:
    """Each source of the compared targets and its note's number, in the order first cited."""
    notes: dict[str, int] = {}
    for c in compared:
        notes.setdefault(c.target.source_title, len(notes) + 1)
    return notes


def _print_compared(console: Console, compared: list[Comparison]) -> None:
    """The table of compared targets, each source named by a note's number ([1]) and the notes
    below it, the titles whole: in the table's last column they were cut to one line ("CBS
    News: Spike in illegal border…"), which left a reader unsure which report it was. Where the
    table would not fit the console's width (an 80-column terminal), one line per target."""
    from rich.markup import escape
    from rich.measure import Measurement

    from bordersim.validation.compare import MISS, format_error, format_interval, format_target

    notes = source_notes(compared)
    style = {MISS: "red", "in range": "green", "within 30 %": "yellow"}
    table = _targets_table(compared, notes, style)
    unwrapped = Measurement.get(console, console.options.update_width(1000), table).maximum
    if unwrapped <= console.width:
        console.print(table, soft_wrap=False)  # the table is laid out to the console's width
    else:
        console.print(f"[bold]{escape(table_title(compared))}:[/]", highlight=False)
        for c in compared:
            score = f"[{style.get(c.score, '')}]{c.score}[/]"
            console.print(
                f"- {escape(c.label)}, {escape(c.target.scope)}, {c.target.period_text()}: "
                f"target {escape(format_target(c))}, simulated {escape(format_interval(c))} "
                f"({format_error(c.error)}), {score}; {escape(c.evidence)}, "
                f"{escape(c.target.confidence)} confidence; "
                f"source [{notes[c.target.source_title]}]",
                highlight=False,
            )
    console.print("Sources:", highlight=False)
    for title, number in notes.items():
        console.print(f"[{number}] {escape(title)}", highlight=False)


TABLE_TITLE = "Operational targets against the simulation (mean [95 % interval])"
#: The title where one replication was simulated: its values have no interval to promise.
ONE_REPLICATION_TITLE = (
    "Operational targets against the simulation (one replication: its values, no interval)"
)


def table_title(compared: list[Comparison]) -> str:
    """The title of the compared targets, which promises intervals only where there are some."""
    one = all(c.simulated is not None and c.simulated.n <= 1 for c in compared)
    return ONE_REPLICATION_TITLE if one else TABLE_TITLE


def _targets_table(
    compared: list[Comparison], notes: dict[str, int], style: dict[str, str]
) -> Table:
    """One row per compared target, its score coloured and its source a note's number."""
    from rich.markup import escape

    from bordersim.commands.tables import Table
    from bordersim.validation.compare import comparison_cells

    table = Table(title=escape(table_title(compared)))
    for header, justify, width in COLUMNS:
        table.add_column(
            header,
            justify=justify,  # type: ignore[arg-type]
            max_width=width,
            no_wrap=header in ("period", "simulated", "score", "evidence", "source"),
            overflow="fold",
        )
    for c in compared:
        cells = [escape(cell) for cell in comparison_cells(c)]
        cells[6] = f"[{style.get(c.score, '')}]{c.score}[/]"
        cells[-1] = f"[{notes[c.target.source_title]}]"
        table.add_row(*cells)
    return table


def _print_misses(console: Console, misses: list[Comparison]) -> None:
    """Each missed target in words, with the model's note on it."""
    from rich.markup import escape

    from bordersim.validation.compare import format_error, format_interval, format_target

    if not misses:
        return
    console.print("[bold red]Where the model misses:[/]")
    for c in misses:
        # the file's words are text, not markup: a scope "El Paso [sic]" is shown as written
        console.print(
            f"- {escape(c.label)}, {escape(c.target.scope)}, {c.target.period_text()}: simulated "
            f"{escape(format_interval(c))} against {escape(format_target(c))} "
            f"({format_error(c.error)}; {escape(c.target.confidence)} confidence). "
            f"Model: {escape(c.note)}.",
            highlight=False,
        )


def _print_not_compared(console: Console, skipped: list[Comparison]) -> None:
    """The period's targets that could not be compared, named as the table names its measures
    (the targets file's metric names are in the CSV), and why."""
    from rich.markup import escape

    if not skipped:
        return
    console.print("[bold]Not compared:[/]")
    for c in skipped:
        console.print(
            f"- {escape(c.label)}, {escape(c.target.scope)}, {c.target.period_text()}: "
            f"{escape(c.note)}",
            highlight=False,
        )


def print_custody_course(console: Console, result: RunResult) -> None:
    """The course of custody over the whole run, with a warning where it is still growing at
    the end (`validation/course.py`: a runaway between the dated targets)."""
    from bordersim.validation.course import custody_course, describe

    first, *warning = describe(custody_course(result))
    console.print(first, highlight=False)
    for line in warning:
        console.print(f"[bold red]{line}[/]", highlight=False)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    from bordersim.output_files import write_atomically

    return write_atomically(path, frame.to_csv(index=False))
