"""`bordersim main-job` (what `make run` runs): the end of Title 42 with and without the troops.

From a fresh clone it imports the shipped official data into the store when the store has none,
calibrates when no calibration is available, then runs `2023-title42-end.toml` (A) and
`2023-title42-end-no-troops.toml` (B) with common random numbers and writes both run reports and
the comparison report under `out/main/`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from bordersim.commands.calibrate import STORE_OPTION_HELP
from bordersim.commands.console import ConsoleObserver, wide_console
from bordersim.commands.simulate import ENGINE_HELP

BASELINE = "2023-title42-end.toml"
VARIANT = "2023-title42-end-no-troops.toml"
DEFAULT_REPLICATIONS = 20
DEFAULT_SEED = 20230511  # the day Title 42 ended; any fixed seed gives reproducible results


def register(app: typer.Typer) -> None:
    app.command("main-job")(main_job_command)


def scenarios_folder(option: Path | None) -> Path:
    """The shipped `scenarios/` folder: the option, else the checkout's, else ./scenarios."""
    import bordersim
    from bordersim.errors import BordersimError

    checkout = Path(bordersim.__file__).resolve().parents[2] / "scenarios"
    candidates = [option] if option is not None else [checkout, Path.cwd() / "scenarios"]
    for folder in candidates:
        if (folder / BASELINE).is_file() and (folder / VARIANT).is_file():
            return folder
    raise BordersimError(
        f"no scenarios folder with {BASELINE} and {VARIANT}; give one with --scenarios",
        where=", ".join(str(c) for c in candidates),
    )


def main_job_command(
    replications: int = typer.Option(
        DEFAULT_REPLICATIONS, "--replications", "-r", help="Replications of each scenario."
    ),
    seed: int = typer.Option(
        DEFAULT_SEED, "--seed", help="Seed of replication streams, both scenarios."
    ),
    engine: str = typer.Option("event", "--engine", help=ENGINE_HELP),
    out: Path = typer.Option(Path("out") / "main", "--out", help="Folder of the reports."),  # noqa: B008
    scenarios: Path | None = typer.Option(  # noqa: B008
        None, "--scenarios", help="Folder of the shipped scenarios (default: the checkout's)."
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_OPTION_HELP),
) -> None:
    """Title 42 ends: simulate with and without the 1,500 troops and write the comparison."""
    from bordersim.commands.simulate import print_differences
    from bordersim.services.compare import run_comparison
    from bordersim.services.prepare import ensure_calibration, ensure_official_data
    from bordersim.services.record import CLI_NAMES, check_request

    # refused in run's words before the store is given the official data or a calibration
    check_request(engine, replications, False, seed, CLI_NAMES)
    console = wide_console()
    observer = ConsoleObserver(console)
    folder = scenarios_folder(scenarios)
    store_file = Path(store) if store is not None else None
    ensure_official_data(store_file, observer)
    ensure_calibration(store_file, observer)
    record_a, record_b, path = run_comparison(
        str(folder / BASELINE),
        str(folder / VARIANT),
        store=store,
        engine=engine,
        replications=replications,
        seed=seed,
        out_root=out,
        observer=observer,
        option_names=CLI_NAMES,
    )
    from rich.markup import escape

    print_differences(console, record_a, record_b)
    for record in (record_a, record_b):
        console.print(
            f"report of {record.label} (run {record.run_id}): {record.report_path}", markup=False
        )
    console.print(f"[bold]comparison report: {escape(str(path.absolute()))}[/]", soft_wrap=True)
