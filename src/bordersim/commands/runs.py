"""`bordersim runs`: list the runs in the store; `--repair` fails runs left 'running'.

Opening the store for writing already marks failed every run whose process died on this host
(`store.runs.repair_dead_runs`), so a listing never shows such a run as 'running'. `--repair`
also fails runs recorded by an older bordersim, which did not record their process.
"""

from __future__ import annotations

from pathlib import Path

import typer

STORE_HELP = "Store file (default: $BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb)."


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)


def runs_command(
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),  # noqa: B008
    repair: bool = typer.Option(
        False,
        "--repair",
        help="Mark failed every run left 'running' whose process is gone or was never recorded "
        "(runs on other hosts are left alone).",
    ),
) -> None:
    """List the runs in the store."""
    from rich.console import Console
    from rich.table import Table

    from bordersim.store import open_store, resolve_store_path
    from bordersim.store.runs import list_failures, list_runs, repair_dead_runs

    location = resolve_store_path(store)
    console = Console() if Console().is_terminal else Console(width=160)
    with open_store(location, create=False) as connection:
        repaired = repair_dead_runs(connection, include_unknown=True) if repair else []
        runs = list_runs(connection)
        failures = list_failures(connection)
    for fixed in repaired:
        removed = f"; removed {len(fixed.removed)} temporary file(s)" if fixed.removed else ""
        console.print(f"repaired {fixed.run_id}: failed, {fixed.reason}{removed}", highlight=False)
    if repair and not repaired:
        console.print("nothing to repair: no run is left 'running' by a process that is gone")
    if not runs:
        console.print(f"No runs in {location} yet: try `bordersim run`.", highlight=False)
        return
    table = Table(title=f"Runs in {location}")
    for column in ("run id", "created (UTC)", "status", "engine", "seed", "reps", "run s", "note"):
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
            failures.get(run.run_id, ""),
        )
    console.print(table)
