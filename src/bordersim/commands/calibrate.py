"""`bordersim calibrate`: official data in the store -> calibration artifact and fit report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

STORE_OPTION_HELP = "Store file (default: $BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb)."


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_command)


def calibrate_command(
    store: str | None = typer.Option(None, "--store", help=STORE_OPTION_HELP),
    output: Path | None = typer.Option(  # noqa: B008
        None,
        # --out, as every other command names its output; --output, its earlier name, still works
        "--out",
        "--output",
        "-o",
        help="Where to write the artifact (default: calibration.json beside the store).",
    ),
    backtest_months: int = typer.Option(
        24,
        "--backtest-months",
        min=1,
        max=120,
        help="Back-test window: the last N months of the data are forecast.",
    ),
) -> None:
    """Calibrate demand from the official data: artifact, fit report and back-test.

    Reads the store, importing the shipped file of each kind it lacks, writes the calibration
    artifact, and prints the fit report and the rolling-origin back-test table.
    """
    from bordersim.calibration import Calibration, calibrate, write_artifact
    from bordersim.calibration.artifact import MAX_ARTIFACT_BYTES
    from bordersim.calibration.backtest import BacktestResult
    from bordersim.calibration.build import ARTIFACT_FORMAT
    from bordersim.calibration.report import print_backtest, print_fit_report
    from bordersim.output_files import check_replaceable_document, output_file_place
    from bordersim.store import open_store, resolve_store_path
    from bordersim.store.official import (
        import_official_files,
        missing_shipped_files,
        shipped_import_note,
    )

    console = _console()
    location = resolve_store_path(store)
    target = output if output is not None else location.parent / "calibration.json"
    where = "--out" if output is not None else "the artifact"
    with output_file_place(target, what=where):
        check_replaceable_document(
            target,
            what=where,
            document="calibration artifact",
            file_format=ARTIFACT_FORMAT,
            limit=MAX_ARTIFACT_BYTES,
        )
        with open_store(location) as connection:
            missing = missing_shipped_files(connection)
            if missing:
                console.print(
                    shipped_import_note(connection, location, missing),
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
                import_official_files(connection, missing)
            artifact = calibrate(connection, backtest_months=backtest_months)
        inputs = artifact["inputs"]
        for kind, held in inputs["vintage"].items():
            partial = (
                f"; partial: {', '.join(held['partial_years'])}" if held["partial_years"] else ""
            )
            console.print(
                f"data vintage ({kind}): {held['file']} (sha256 {held['sha256'][:12]}), "
                f"{str(held['first_month'])[:7]} to {str(held['last_month'])[:7]}{partial}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        if inputs["mixed_vintage"]:
            from rich.markup import escape

            mixed = escape(inputs["mixed_vintage"])  # it names files: text, not markup
            console.print(
                f"[bold yellow]warning:[/] mixed data vintages: {mixed}. The calibration "
                "records this; import both files of one release for a clean one.",
                highlight=False,
            )
        write_artifact(artifact, target)
    calibration = Calibration(artifact)
    print_fit_report(console, calibration)
    print_backtest(console, BacktestResult.from_dict(artifact["backtest"]))
    console.print(
        f"Wrote calibration {calibration.version} to {target}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _console() -> Any:
    """Rich console; when output is a file or a pipe, wide enough for whole tables."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)
