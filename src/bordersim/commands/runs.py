"""`bordersim runs`: list the runs (and blocked sweeps) in the store; `--repair` fails runs left
'running'.

Like every command that opens the store for writing, it marks failed every run whose process died
on this host (`store.runs.repair_dead_runs`), so a listing never shows such a run as 'running';
it does so itself rather than on opening, to say which runs it failed and which temporary files
it removed. `--repair` also fails runs recorded by an older bordersim, which did not record their
process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

STORE_HELP = (
    "Store file, or a postgresql:// URL of a shared store (default: $BORDERSIM_STORE, else "
    "./.bordersim/bordersim.duckdb)."
)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
    store_app = typer.Typer(
        help="Copy a store into another (embedded DuckDB or shared PostgreSQL), check its files.",
        no_args_is_help=True,
    )
    store_app.command("copy")(store_copy_command)
    store_app.command("verify")(store_verify_command)
    app.add_typer(store_app, name="store")


def store_copy_command(
    source: str = typer.Argument(
        ..., metavar="SOURCE", help="Store file or postgresql:// URL to copy from."
    ),
    dest: str = typer.Argument(
        ..., metavar="DEST", help="Store file or postgresql:// URL to copy into."
    ),
) -> None:
    """Copy every run and sweep, their result files and the official data into another store,
    checked."""
    from rich.console import Console

    from bordersim.errors import BordersimError
    from bordersim.store import open_catalog, store_location
    from bordersim.store.copy import copy_store
    from bordersim.store.location import made_by_opening, refuse_other_urls, remove_made

    refuse_other_urls(source, where="SOURCE")  # named as this command names them, not --store
    refuse_other_urls(dest, where="DEST")
    # an empty SOURCE or DEST (an unset variable, as in "$BORDERSIM_STORE") would name the
    # default store: it is refused as every command's empty argument is
    # (commands._guard_arguments)
    origin_at, dest_at = store_location(source), store_location(dest)
    if isinstance(origin_at, Path) and not (origin_at.exists() or origin_at.is_symlink()):
        # the store's own refusal asks whether --store is mistyped and says which commands
        # create a store, neither of which is what a copy's SOURCE needs
        raise BordersimError(
            "SOURCE: no store here (mistyped?); nothing was copied", where=str(origin_at)
        )
    if isinstance(origin_at, Path) and origin_at.is_file() and origin_at.stat().st_size == 0:
        raise BordersimError(
            "SOURCE: an empty file, not a store; nothing was copied", where=str(origin_at)
        )
    if _same_place(origin_at, dest_at):
        raise BordersimError(f"{source} and {dest} are the same store; copy into another one")
    # a store file this command makes (and the folders made for it) holds nothing the user
    # stored: it goes again if the copy fails
    made = made_by_opening(dest_at) if isinstance(dest_at, Path) else []
    try:
        with (
            open_catalog(source, create=False) as origin,
            open_catalog(dest, create=True) as target,
        ):
            copied = copy_store(origin, target, dest_name=_shown(dest_at))
    except BaseException:
        remove_made(made)
        raise
    rows = ", ".join(f"{table} {count:,}" for table, count in copied.tables.items())
    Console().print(
        f"copied {_of(copied.runs, 'run')}, {_of(copied.sweeps, 'sweep')} and "
        f"{_of(copied.files, 'result file')} ({_of(copied.bytes, 'byte')}); rows: {rows}"
        + (
            f"; the destination already held the same official data in {', '.join(copied.kept)}"
            " (left as it was)"
            if copied.kept
            else ""
        )
        + (
            f"; the source holds no official data in {', '.join(copied.not_in_source)}"
            " (the destination's left as it was)"
            if copied.not_in_source
            else ""
        ),
        highlight=False,
        soft_wrap=True,  # one line, not folded in the middle of its counts
    )


def _of(n: int, noun: str) -> str:
    """`n` (with thousands separators) and its noun, singular for one: "1 run", "1,024 bytes"."""
    return f"{n:,} {noun if n == 1 else noun + 's'}"


def _shown(location: str | Path) -> str:
    """A store location as messages show it: a URL without its password, a file by its path."""
    from bordersim.store.postgres import shown_url

    return shown_url(location) if isinstance(location, str) else str(location)


def _same_place(a: str | Path, b: str | Path) -> bool:
    """Two store locations that are one store: the same URL, or the same file by any path."""
    if isinstance(a, Path) and isinstance(b, Path):
        return a.resolve() == b.resolve()
    return a == b


def store_verify_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Check every recorded result file (runs' and sweep blocks'): present, same size, same
    sha256. Exit 1 if not."""
    from rich.console import Console

    from bordersim.store import open_catalog
    from bordersim.store.interface import results_dir_of
    from bordersim.store.result_files import verify_files
    from bordersim.store.runs import run_files
    from bordersim.store.sweeps import sweep_files

    with open_catalog(store, create=False, read_only=True) as catalog:
        recorded = run_files(catalog) + sweep_files(catalog)
        folder = results_dir_of(catalog)
        problems = verify_files(folder, recorded)
    console = Console()
    # whole lines, not folded at 80 columns: the paths are for copying
    for line in problems:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    # the paths above are under the results folder, which nothing else here names
    console.print(
        f"{len(recorded) - len(problems):,} of {len(recorded):,} result files intact "
        f"(their paths are under {folder})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if problems:
        raise typer.Exit(1)


def runs_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    repair: bool = typer.Option(
        False,
        "--repair",
        help="Mark failed every run left 'running' whose process is gone or was never recorded "
        "(runs on other hosts are left alone).",
    ),
) -> None:
    """List the runs in the store, and its blocked sweeps (with the blocks each has finished)."""
    from rich.console import Console

    from bordersim.commands.tables import Table
    from bordersim.store import open_catalog, store_location
    from bordersim.store.postgres import shown_url
    from bordersim.store.runs import (
        list_failures,
        list_runs,
        repair_dead_runs,
        running_processes,
    )
    from bordersim.store.sweeps import list_sweeps

    location = store_location(store)
    shown = shown_url(location) if isinstance(location, str) else location
    # no markup: a store or scenario path, or a failure's note, is shown as it is, brackets and
    # all (a folder named `d[/x]` ended the listing in a traceback)
    console = Console(markup=False) if Console().is_terminal else Console(width=160, markup=False)
    # repaired here, not by the open, so that the runs failed and the files removed are said
    with open_catalog(location, create=False, repair=False) as connection:
        repaired = repair_dead_runs(connection, include_unknown=repair)
        runs = list_runs(connection)
        failures = list_failures(connection)
        processes = running_processes(connection)
        sweeps = list_sweeps(connection)
    for fixed in repaired:
        removed = f"; removed {_of(len(fixed.removed), 'temporary file')}" if fixed.removed else ""
        console.print(f"repaired {fixed.run_id}: failed, {fixed.reason}{removed}", highlight=False)
    if repair and not repaired:
        console.print("nothing to repair: no run is left 'running' by a process that is gone")
    if sweeps:
        _show_sweeps(console, sweeps, shown)
    if not runs:
        console.print(
            f"No runs in {shown} yet: try `bordersim run`.", highlight=False, markup=False
        )
        return
    table = Table(title=f"Runs in {shown}")
    columns = ("run id", "scenario file", "created (UTC)", "status", "engine", "seed", "reps")
    for column in (*columns, "run s", "note"):
        if column == "scenario file":
            # a long path folds onto lines of its own width rather than squeezing the note, which
            # says why a run failed
            table.add_column(column, max_width=32, overflow="fold")
            continue
        table.add_column(column, no_wrap=column in ("run id", "created (UTC)"))
    for run in runs:
        run_s = run.timings.get("run_s")
        table.add_row(
            run.run_id,
            run.scenario_path or "not recorded",
            f"{run.created_at:%Y-%m-%d %H:%M}" if run.created_at else "",
            _run_state(run.status, processes.get(run.run_id)),
            run.engine,
            str(run.seed),
            str(run.replications),
            f"{run_s:.1f}" if isinstance(run_s, int | float) else "",
            failures.get(run.run_id, ""),
        )
    console.print(table)


def _show_sweeps(console: Any, sweeps: list[Any], shown: object) -> None:
    """Blocked sweeps: an unfinished one is finished by `bordersim sweep --resume SWEEP_ID`."""
    from bordersim.commands.tables import Table

    table = Table(title=f"Blocked sweeps in {shown}")
    for column in ("sweep id", "created (UTC)", "scenario", "blocks", "state"):
        table.add_column(column, no_wrap=column in ("sweep id", "created (UTC)"))
    for sweep in sweeps:
        table.add_row(
            sweep.sweep_id,
            f"{sweep.created_at:%Y-%m-%d %H:%M}",
            sweep.scenario_name,
            f"{sweep.registered} of {sweep.blocks}",
            _sweep_state(sweep),
        )
    console.print(table)


def _run_state(status: str, process: tuple[str | None, int | None, str | None] | None) -> str:
    """A run's status, a run under way with its process as a sweep's state names it: running
    (process N) here, running on HOST elsewhere, plain running where no process was recorded."""
    from bordersim.store.runs import process_state

    if process is None:
        return status
    host, pid, started = process
    if process_state(host, pid, started) == "alive":
        return f"{status} (process {pid})"
    return f"{status} on {host}" if host else status


def _sweep_state(sweep: Any) -> str:
    """Finished; running (its process alive here); perhaps running on another host, whose
    process cannot be checked from here; else unfinished, for `--resume`."""
    from bordersim.store.runs import process_state

    if sweep.finished_at is not None:
        return "finished"
    state = process_state(sweep.host, sweep.pid, sweep.process_start)
    if state == "alive":
        return f"running (process {sweep.pid})"
    if state == "unknown" and sweep.host:
        return f"unfinished: running on {sweep.host}, or --resume it"
    return "unfinished: --resume it"
