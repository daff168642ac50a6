"""`bordersim fit`: fit first-attempt demand so that simulated encounters match the official ones.

The fit is made on a historical scenario (what actually happened) and written to the file its
``[demand] fit`` key names; its variants inherit the key and so the same fitted demand. Nothing is
written until the fit is done (the file is replaced atomically).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bordersim.commands.simulate import ENGINE_HELP

if TYPE_CHECKING:
    from rich.console import Console

    from bordersim.fitting import FitOutcome, FitSettings
    from bordersim.fitting.demand import FitProgress
    from bordersim.scenario import Scenario

FITS_FOLDER = "fits"


def register(app: typer.Typer) -> None:
    app.command("fit")(fit_command)


def fit_command(
    # read as text, so that an empty one is refused (commands._guard_arguments)
    scenario_given: str = typer.Argument(
        ..., metavar="SCENARIO", help="Historical scenario file to fit."
    ),
    replications: int = typer.Option(
        10, "--replications", "-r", help="Replications per iteration."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed (the same every iteration)."),
    iterations: int = typer.Option(
        8, "--iterations", "-n", help="Most iterations, 1 to 1,000 (it stops within tolerance)."
    ),
    tolerance: float = typer.Option(
        0.05, "--tolerance", help="Largest |simulated / official - 1| per sector and month."
    ),
    damping: float = typer.Option(
        0.8, "--damping", help="Exponent of each step, above 0 and at most 1."
    ),
    groups: bool = typer.Option(
        True, "--groups/--no-groups", help="Also fit each month's border-wide group mix."
    ),
    engine: str = typer.Option(
        "event",
        "--engine",
        help=f"{ENGINE_HELP[:-1]}; the flow engine fits the sector totals only (--no-groups).",
    ),
    out: Path | None = typer.Option(  # noqa: B008
        None,
        "--out",
        "-o",
        help="Fit file to write, .json (default: the scenario's demand.fit, else fits/NAME.json "
        "beside the scenario).",
    ),
) -> None:
    """Fit demand per sector, month and group by simulation; print the fit; write the fit file.

    Each iteration simulates the scenario with the current factors and multiplies each factor
    by the damped ratio of official to simulated encounters, until every sector and month is
    within the tolerance or the iteration cap is reached.
    """
    from bordersim import interrupts
    from bordersim.calibration.fit_file import FIT_FORMAT, MAX_FIT_BYTES, write_fit
    from bordersim.commands.console import wide_console
    from bordersim.commands.fit_tables import print_fit
    from bordersim.errors import ScenarioError
    from bordersim.fitting import FitSettings
    from bordersim.input_files import MIB, check_regular_file
    from bordersim.output_files import check_replaceable_document, output_file_place
    from bordersim.scenario import load_scenario
    from bordersim.services.loading import code_version

    _refuse_another_format(out)
    console = wide_console()
    scenario_file = Path(scenario_given)
    if not scenario_file.exists() and not scenario_file.is_symlink():
        raise ScenarioError("no such scenario file", where=str(scenario_file))
    # a folder, a device or a huge file is named as run names it
    check_regular_file(scenario_file, what="scenario file", error=ScenarioError, limit=MIB)
    scenario = load_scenario(scenario_file)
    target, recorded_hash, named = _target(scenario, out)
    where = "--out" if out is not None else "the fit file"
    settings = FitSettings(
        replications=replications,
        seed=seed,
        iterations=iterations,
        tolerance=tolerance,
        damping=damping,
        fit_groups=groups,
        engine=engine,
    )
    settings.check(flags=True)  # named as the options the user gave
    # the fit records no run: an interrupt says what it leaves in the fit's own words
    interrupts.describe(f"the fit stopped cleanly; nothing was written to {target}")
    with output_file_place(target, what=where):
        check_replaceable_document(
            target,
            what=where,
            document="demand fit file",
            file_format=FIT_FORMAT,
            limit=MAX_FIT_BYTES,
        )
        outcome = _fit_shown(console, scenario, settings)
        document = outcome.document(
            code_version=code_version(),
            scenario_hash=recorded_hash,
            scenario_file=scenario.path.name,
        )
        write_fit(document, target)
    print_fit(console, outcome)
    _say_written(console, scenario, target, named)


def _fit_shown(console: Console, scenario: Scenario, settings: FitSettings) -> FitOutcome:
    """Fit with a progress bar of the iterations' replications; to a file or a pipe, where no
    bar is shown, a line on stderr as the fit starts and as each iteration ends."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from bordersim.fitting import fit_demand

    iterations, replications = settings.iterations, settings.replications
    if not console.is_terminal:
        return fit_demand(scenario, settings, progress=_progress_lines(scenario, settings))
    with Progress(
        "[bold]fit {task.description}[/]",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{scenario.name}: iteration 1", total=iterations * replications)

        def progress(iteration: int, done: int, total: int) -> None:
            bar.update(
                task,
                description=f"{scenario.name}: iteration {iteration} of at most {iterations}",
                completed=(iteration - 1) * total + done,
            )

        return fit_demand(scenario, settings, progress=progress)


def _progress_lines(scenario: Scenario, settings: FitSettings) -> FitProgress:
    """Print on stderr that the fit started, once the scenario compiled (a scenario refused then
    is the command's only line), then one line as each iteration ends."""
    import sys
    import time

    from bordersim.words import counted

    started = time.perf_counter()
    announced: list[bool] = []

    def progress(iteration: int, done: int, total: int) -> None:
        if not announced:
            announced.append(True)
            print(
                f"fit {scenario.name}: simulating at most "
                f"{counted(settings.iterations, 'iteration')} of "
                f"{counted(settings.replications, 'replication')} ({settings.engine} engine; the "
                "first may compile it for a few minutes)...",
                file=sys.stderr,
                flush=True,
            )
        if done == total:
            print(
                f"fit {scenario.name}: iteration {iteration} simulated "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    return progress


def _say_written(console: Console, scenario: Scenario, target: Path, named: bool) -> None:
    """Where the fit went and, when the scenario does not name it, the line that would."""
    # markup=False: "[demand]" (or brackets in a path) is text to copy, not a Rich style tag
    # one line however long (soft_wrap): a path broken across lines cannot be copied
    console.print(
        f"Wrote the demand fit to {target}", highlight=False, markup=False, soft_wrap=True
    )
    if not named:
        relative = Path(os.path.relpath(target, scenario.path.parent)).as_posix()
        console.print(
            f'The scenario does not use it yet: add [demand] fit = "{relative}" to '
            f"{scenario.path}.",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _refuse_another_format(out: Path | None) -> None:
    """Refuse an --out whose name says another format (fit.csv): the fit file is JSON, which a
    spreadsheet or editor taking the name at its word then failed to open."""
    from bordersim.errors import ScenarioError

    if out is not None and out.suffix and out.suffix.lower() != ".json":
        raise ScenarioError(
            f"--out names a {out.suffix} file, but a demand fit file is JSON; give a .json "
            f"name, such as {out.stem}.json"
        )


def _target(scenario: object, out: Path | None) -> tuple[Path, str, bool]:
    """Where to write the fit, the scenario hash to record, and whether the scenario names it.

    The hash recorded is the scenario's `fit_hash`, which compilation compares with that of the
    scenario naming the fit file: it leaves out the ``demand.fit`` key, so it is the same
    whether the scenario names the file yet, and however it spells its path.
    """
    from bordersim.errors import ScenarioError
    from bordersim.scenario import Scenario

    assert isinstance(scenario, Scenario)
    key = "demand.fit"
    ref = scenario.demand.fit
    if ref is not None:
        defining = scenario.file_of(key)
        named_target = scenario.relative_path(ref, key)
        if defining != scenario.path and out is None:
            raise ScenarioError(
                f"{key} = {ref!r} is inherited from {defining.name}: fit the scenario that "
                f"names it (bordersim fit {defining}); its variants use the same fitted demand",
                where=scenario.location(key),
            )
        if out is None or out.resolve() == named_target:
            return named_target, scenario.fit_hash, defining == scenario.path
    target = (out or scenario.path.parent / FITS_FOLDER / f"{scenario.path.stem}.json").resolve()
    return target, scenario.fit_hash, False
