"""`bordersim export`: a stored run's daily results as CSV or Parquet."""

from __future__ import annotations

from pathlib import Path

import typer

STORE_HELP = (
    "Store file, or a postgresql:// URL of a shared store (default: $BORDERSIM_STORE, else "
    "./.bordersim/bordersim.duckdb)."
)


def export_command(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="Run id (see `bordersim runs`)."),
    file_format: str = typer.Option(..., "--format", help="csv or parquet (any case)."),
    out: Path = typer.Option(  # noqa: B008
        ..., "--out", help="File to write, or - for standard output."
    ),
    metrics: list[str] = typer.Option(  # noqa: B008
        [],
        "--metric",
        help="A daily metric to keep, or a pattern such as 'staff_hours:*' (repeat, or join by "
        "commas; default: all; every metric is listed in docs/running.md).",
    ),
    sectors: list[str] = typer.Option(  # noqa: B008
        [],
        "--sector",
        help="A sector code to keep, such as RGV (repeat, or join: RGV,TCA; default: all).",
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Write a run's daily results, one row per replication, day, sector and metric."""
    from rich.console import Console

    from bordersim.report.export import each_name, export_run, is_stream
    from bordersim.store import open_catalog

    if str(out) == "-":  # as other programs take it (./- too: a file named - is $PWD/-)
        out = Path("/dev/stdout")
    with open_catalog(store, create=False) as connection:
        rows = export_run(
            connection,
            run_id,
            out,
            file_format=file_format,
            metrics=each_name(metrics),
            sectors=each_name(sectors),
        )
    # the path is text, not markup: a file such as out[old].csv is shown as it is; and one line
    # however long (soft_wrap), so that a script or a user copying it gets the path whole; and
    # from the root, as `report` and `run` name the files they write, whatever folder it is read in
    rows_text = f"{rows:,} {'row' if rows == 1 else 'rows'}"  # thousands grouped, unlike counted
    # rows written to /dev/stdout or a pipe are followed by no line of ours: it goes to stderr
    Console(stderr=is_stream(out)).print(
        f"{rows_text} of run {run_id} written to {out.absolute()}", markup=False, soft_wrap=True
    )


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
