"""`bordersim sweep`: a grid of scenario variants run on the flow engine, in blocks.

Each ``--vary KEY=V1,V2,...`` names a scenario key path (as in the TOML file) and its values; the
grid is every combination. `bordersim.services.sweep` compiles and simulates the variants and
writes their KPI table (CSV and Parquet) and HTML report; this command parses and prints. With
`--cluster`, `--store`, `--resume` or a block size it is a blocked sweep (`services.blocks`),
recorded in the store's catalog (docs/scaling.md).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bordersim import interrupts
from bordersim.commands import stripped
from bordersim.errors import ScenarioError
from bordersim.services.sweep import Axis, check_grid_size, same_value
from bordersim.words import counted

if TYPE_CHECKING:
    from bordersim.scenario import Scenario


def parse_value(text: str) -> Any:
    """A value as TOML reads it (1500, 0.5, true, 2023-05-10, "text"); bare words are strings;
    1e3 is 1000, as --set reads it (`typed_value`)."""
    from bordersim.services.loading import typed_value

    return typed_value(text)


def parse_vary(option: str) -> Axis:
    """``KEY=V1,V2,...`` as an axis of the grid, or a `ScenarioError` saying what is wrong. KEY
    is a key path as TOML writes one, a name holding a dot in quotes
    (``deployments."phase.1".headcount=0,10``)."""
    from bordersim.scenario.loader import parse_key_path, split_key_and_value

    key, values = split_key_and_value(option) or ("", "")
    key = key.strip()
    if not key or not values.strip():
        raise ScenarioError(
            f"--vary {option!r}: expected KEY=V1,V2,... (for example "
            "deployments.title42_active_duty.headcount=0,1500,3000)"
        )
    try:
        parse_key_path(key)
    except ScenarioError as err:
        raise ScenarioError(f"--vary {option!r}: {err}") from None
    parts = [v.strip() for v in values.split(",")]
    if any(not v for v in parts):
        raise ScenarioError(f"--vary {option!r}: an empty value in the list")
    parsed = tuple(parse_value(v) for v in parts)
    for i, value in enumerate(parsed):
        for j in range(i):
            if same_value(parsed[j], value):
                same = (
                    "is listed twice" if parts[j] == parts[i] else f"and {parts[i]} are one value"
                )
                raise ScenarioError(f"--vary {option!r}: {parts[j]} {same}")
    return Axis(key, parsed)


def sweep_command(
    # read as text, so that an empty one is refused (commands._guard_arguments)
    scenario_given: str | None = typer.Argument(
        None, metavar="SCENARIO", help="Scenario TOML file to vary (not with --resume)."
    ),
    vary_options: list[str] | None = typer.Option(  # noqa: B008
        None,
        "--vary",
        help="KEY=V1,V2,...: a scenario key path and its values; repeat for a grid.",
    ),
    replications_option: int | None = typer.Option(
        None, "--replications", "-r", help="Replications per variant (default 100)."
    ),
    seed_option: int | None = typer.Option(None, "--seed", help="Seed (default 0)."),
    out_given: str | None = typer.Option(
        None, "--out", metavar="FOLDER", help="Output folder (default out/<scenario>-sweep)."
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        callback=stripped,
        help="Run as blocks on Dask: local[:N] starts N local workers, tcp://HOST:PORT joins a "
        "scheduler.",
    ),
    resume: str | None = typer.Option(
        None,
        "--resume",
        # an id copied from a terminal may bring a space or line end with it
        callback=stripped,
        help="SWEEP_ID: finish an interrupted blocked sweep.",
    ),
    block_variants: int | None = typer.Option(
        None, "--block-variants", help="Variants per block (default 10)."
    ),
    block_replications: int | None = typer.Option(
        None, "--block-replications", help="Replications per block (default 100)."
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        help="Record the blocks in this store: a file or a postgresql://...?results=FOLDER URL "
        "(default: $BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb). Makes it blocked.",
    ),
    settings: list[str] = typer.Option(  # noqa: B008
        [],
        "--set",
        help="KEY=VALUE: set a scenario key path in every variant, such as demand.scale=1.3.",
    ),
) -> None:
    """Run a grid of scenario variants on the flow engine; write KPIs against the values.

    The grid runs in blocks of variants x replications, in this process or, resumable, on a Dask
    cluster: the same numbers either way.
    """
    from rich.console import Console

    from bordersim.commands import given_folder

    console = Console()
    interrupts.describe("the sweep stopped cleanly; nothing was written")  # it records no run
    # "$OUT" with the variable unset was the current folder, refused as "exists and is not a
    # sweep folder bordersim wrote" under a name the user never gave
    out = given_folder(out_given, "--out")
    request = _checked_request(
        _SweepRequest(
            scenario=None if scenario_given is None else Path(scenario_given),
            vary_options=vary_options or [],
            settings=settings,
            replications=100 if replications_option is None else replications_option,
            seed=0 if seed_option is None else seed_option,
            out=out,
            cluster=cluster,
            resume=resume,
            block_variants=block_variants,
            block_replications=block_replications,
            store=store,
        ),
        replications_option=replications_option,
        seed_option=seed_option,
    )
    _run_sweep_command(console, request)


@dataclass(frozen=True)
class _SweepRequest:
    """What `bordersim sweep` was asked to do, its defaults filled in."""

    scenario: Path | None
    vary_options: list[str]
    settings: list[str]
    replications: int
    seed: int
    out: Path | None
    cluster: str | None
    resume: str | None
    block_variants: int | None
    block_replications: int | None
    store: str | None

    @property
    def blocked(self) -> bool:
        """Whether the sweep runs in blocks recorded in a store (docs/scaling.md)."""
        return any(
            x is not None
            for x in (
                self.cluster,
                self.resume,
                self.block_variants,
                self.block_replications,
                self.store,
            )
        )


def _checked_request(
    request: _SweepRequest, *, replications_option: int | None, seed_option: int | None
) -> _SweepRequest:
    """The request with its options checked, each against the others, before anything runs:
    the options a --resume cannot change, counts below one, the seed and replications' ranges,
    and the --cluster given."""
    from bordersim.engines import MAX_REPLICATIONS, MAX_SEED
    from bordersim.errors import ModelError

    if request.resume is not None:
        _check_sweep_id(request.resume)
        _refuse_plan_changes(
            replications_option,
            seed_option,
            request.block_variants,
            request.block_replications,
            request.settings,
        )
    _refuse_counts_below_one(
        ("--replications", replications_option),
        ("--block-variants", request.block_variants),
        ("--block-replications", request.block_replications),
    )
    if not 0 <= request.seed <= MAX_SEED:
        raise ModelError(f"--seed {request.seed}: must be a whole number from 0 to 2^63 - 1")
    if request.replications > MAX_REPLICATIONS:
        # what run, fit and plan take: a billion planned ten million blocks before one ran
        raise ModelError(
            f"--replications {request.replications}: must be at most {MAX_REPLICATIONS:,}"
        )
    if request.cluster is not None:
        from bordersim.services.cluster_spec import parse_cluster

        parse_cluster(request.cluster)  # a bad --cluster is refused before anything else
    return request


class _Opening:
    """The cluster's client being opened (`_start_cluster`), once a sweep has started one."""

    def __init__(self) -> None:
        self.client: Any = None

    def start(self, cluster: str | None) -> Any:
        self.client = _start_cluster(cluster)
        return self.client


def _run_sweep_command(console: Any, request: _SweepRequest) -> None:
    """Run the checked request (a new sweep or a resumed one), then write and show its KPIs;
    a cluster it started is closed however it ends."""
    opening = _Opening()
    try:
        if request.resume is not None:
            sweep, axes = _resume(console, request, request.resume, opening)
        else:
            sweep, axes = _new_sweep(console, request, opening)
    except BaseException:
        if opening.client is not None:
            opening.client.close()  # gracefully (blocks may still be running), and waited for
        raise
    if opening.client is not None:
        opening.client.release(finished=True)  # its workers end while the results are written
    try:
        _write_and_show(console, sweep, axes, request.out)
    finally:
        if opening.client is not None:
            opening.client.close()


def _resume(
    console: Any, request: _SweepRequest, resume: str, opening: _Opening
) -> tuple[Any, list[Axis]]:
    """Finish the interrupted blocked sweep `resume`, its output folder checked first."""
    if request.scenario is not None or request.vary_options:
        raise ScenarioError("--resume SWEEP_ID takes no scenario file and no --vary")
    from bordersim.services.sweep import check_sweep_target

    # before the blocks run, not after: the id starts with the scenario's name
    # a sweep id is "<scenario>-<hash>" (services.blocks.sweep_id_of)
    target = _sweep_folder(request.out, resume.rsplit("-", 1)[0])
    check_sweep_target(target)
    _describe_interrupt(target, blocked=True)
    from bordersim.services.blocks import resumable_sweep

    # a sweep that cannot resume starts no cluster, and is not said to be resuming
    resumable_sweep(resume, request.store)
    return _run_blocked(
        console,
        None,
        [],
        request.replications,
        request.seed,
        request.cluster,
        opening.start(request.cluster),
        resume,
        None,
        request.store,
        out=request.out,
    )


def _new_sweep(console: Any, request: _SweepRequest, opening: _Opening) -> tuple[Any, list[Axis]]:
    """Run a new sweep, blocked or in this process, its grid and output folder checked first."""
    base, axes = _checked_grid(
        request.scenario, request.vary_options, request.settings, request.out
    )
    _describe_interrupt(_sweep_folder(request.out, base.name), blocked=request.blocked)
    if not request.blocked:
        return _run_in_process(console, base, axes, request.replications, request.seed), axes
    _check_store(request.store)  # before the sweep is announced, as --resume does
    shape = _shape(axes, request.replications, request.block_variants, request.block_replications)
    return _run_blocked(
        console,
        base,
        axes,
        request.replications,
        request.seed,
        request.cluster,
        # the workers start (2-3 s) while the grid is checked and the sweep recorded
        opening.start(request.cluster),
        None,
        shape,
        request.store,
        out=request.out,
    )


def _check_sweep_id(resume: str) -> None:
    """Refuse an empty --resume (a shell variable that was not set, say) before anything else:
    an empty id would be read as no id at all."""
    if not resume.strip():
        raise ScenarioError(
            "--resume needs a sweep id (such as small-1a2b3c4d5e6f; `bordersim runs` lists the "
            "store's sweeps), got an empty one"
        )


def _describe_interrupt(target: Path, *, blocked: bool) -> None:
    """What an interrupt leaves, in the sweep's words (a sweep records no run): its KPI folder
    is written only at the end, and a blocked sweep's finished blocks stay in the store."""
    kept = "; its finished blocks are kept in the store" if blocked else ""
    interrupts.describe(f"the sweep stopped cleanly{kept}; nothing was written to {target}")


def _refuse_plan_changes(
    replications: int | None,
    seed: int | None,
    block_variants: int | None,
    block_replications: int | None,
    settings: list[str],
) -> None:
    """Refuse options given with --resume: what fixes a sweep's numbers is its plan's, so a
    value given here would be ignored."""
    given = [
        flag
        for flag, value in (
            ("--replications", replications),
            ("--seed", seed),
            ("--block-variants", block_variants),
            ("--block-replications", block_replications),
            ("--set", settings or None),
        )
        if value is not None
    ]
    if given:
        raise ScenarioError(
            f"--resume SWEEP_ID takes the sweep's own grid, replications, seed, block "
            f"shape and --set values; {', '.join(given)} cannot change them (run a new "
            "sweep instead)"
        )


def _checked_grid(
    scenario: Path | None, vary_options: list[str] | None, settings: list[str], out: Path | None
) -> tuple[Scenario, list[Axis]]:
    """The base scenario (with its --set values) and the grid, each checked, and the output
    folder checked, before the sweep runs rather than after."""
    from bordersim.input_files import check_path_text
    from bordersim.services.loading import load_with_settings, parse_settings
    from bordersim.services.sweep import check_points, check_sweep_target

    if scenario is None or not vary_options:
        raise ScenarioError("sweep needs a scenario file and at least one --vary KEY=V1,V2")
    check_path_text(str(scenario), what="scenario file", error=ScenarioError, where=str(scenario))
    if not scenario.is_file():
        raise ScenarioError("no such scenario file", where=str(scenario))
    _refuse_large_grid(vary_options)
    axes = [parse_vary(option) for option in vary_options]
    base = load_with_settings(scenario, parse_settings(settings))
    check_points(base, axes)  # a grid point that does not apply is refused first
    check_sweep_target(_sweep_folder(out, base.name))
    return base, axes


def _refuse_large_grid(vary_options: list[str]) -> None:
    """Refuse a grid of more than `MAX_GRID_POINTS` points, counted from the values as given:
    before they are parsed, since telling each value from the others in a list of thousands
    takes long of its own. A malformed --vary is left to `parse_vary` to name."""
    from bordersim.scenario.loader import split_key_and_value

    given = [split_key_and_value(option) for option in vary_options]
    check_grid_size([len(values.split(",")) for _, values in filter(None, given)])


def _sweep_folder(out: Path | None, scenario_name: str) -> Path:
    """Where the sweep's files go: --out, or out/<scenario>-sweep."""
    return out if out is not None else Path("out") / f"{scenario_name}-sweep"


def _start_cluster(cluster: str | None) -> Any:
    """The cluster's client being opened in the background (None without --cluster): a local
    cluster's workers start while this process checks the grid and records the sweep."""
    if cluster is None:
        return None
    from bordersim.services.cluster import BackgroundClient
    from bordersim.services.cluster_spec import SCHEDULER_TIMEOUT_S, check_scheduler, parse_cluster

    # a scheduler nobody runs, or something else answering there, is said before the sweep is
    # recorded: a scheduler's port refusing is said at once (Dask's client retries for 20 s),
    # and the client is connected (in well under a second) before anything is recorded
    check_scheduler(cluster)
    opening = BackgroundClient(cluster)
    if parse_cluster(cluster)[0] == "address":
        opening.connected(SCHEDULER_TIMEOUT_S + 5)  # Dask's client gives up after 20 s itself
    return opening


def _refuse_counts_below_one(*counts: tuple[str, int | None]) -> None:
    """A count option below 1, in the words of one above the most (the framework's range check
    printed a four-line usage error for the one and bordersim one line for the other)."""
    from bordersim.errors import ModelError

    for option, count in counts:
        if count is not None and count < 1:
            raise ModelError(f"{option} {count}: must be at least 1")


def _shape(
    axes: list[Axis], replications: int, variants: int | None, block_replications: int | None
) -> Any:
    from bordersim.services.blocks import (
        DEFAULT_BLOCK_REPLICATIONS,
        DEFAULT_BLOCK_VARIANTS,
        BlockShape,
    )

    n_variants = 1
    for axis in axes:
        n_variants *= len(axis.values)
    return BlockShape(
        min(variants or DEFAULT_BLOCK_VARIANTS, n_variants),
        min(block_replications or DEFAULT_BLOCK_REPLICATIONS, replications),
    )


def _run_in_process(console: Any, base: Any, axes: list[Axis], replications: int, seed: int) -> Any:
    from bordersim.services.blocks import default_shape
    from bordersim.services.sweep import run_sweep

    shape = default_shape(_count(axes), replications)
    console.print(
        f"{counted(_count(axes), 'variant')} x {counted(replications, 'replication')} "
        f"of {base.name} "
        f"(flow engine, blocks of {shape.variants} x {shape.replications} in this process)",
        markup=False,
        soft_wrap=True,  # one line, as the sweep's other lines are
    )
    return run_sweep(base, axes, replications=replications, seed=seed)


def _run_blocked(
    console: Any,
    base: Any,
    axes: list[Axis],
    replications: int,
    seed: int,
    cluster: str | None,
    client: Any,
    resume: str | None,
    shape: Any,
    store: str | None,
    *,
    out: Path | None,
) -> tuple[Any, list[Axis]]:
    """A blocked sweep (new or resumed) in this process or on a Dask cluster (`client`, being
    opened in the background: `_start_cluster`)."""
    from bordersim.commands.console import ConsoleObserver
    from bordersim.services.blocks import resume_sweep, run_blocked_sweep, sweep_id_of

    observer = ConsoleObserver(console)
    sweep_id = resume or sweep_id_of(base, axes, replications, seed, shape)
    where = f"on {cluster}" if cluster else "in this process"
    try:
        if resume is not None:
            console.print(f"resuming sweep {resume} {where}", markup=False, soft_wrap=True)
            done = resume_sweep(
                resume, client=client, store=store, observer=observer, on_block=_load_report
            )
        else:
            console.print(
                f"{counted(_count(axes), 'variant')} x {counted(replications, 'replication')} "
                f"of {base.name}, "
                f"blocks of {shape.variants} x {shape.replications} {where}",
                markup=False,
                soft_wrap=True,
            )
            done = run_blocked_sweep(
                base,
                axes,
                replications=replications,
                seed=seed,
                shape=shape,
                client=client,
                store=store,
                observer=observer,
                on_block=_load_report,
            )
    except BaseException as err:
        from bordersim.interrupts import is_interrupt

        if not is_interrupt(err):  # Ctrl-C or SIGTERM (`Interrupted`), not only KeyboardInterrupt
            raise
        if resume is None and not _recorded(sweep_id, store):
            # stopped while its grid was checked: a --resume command would find no such sweep
            console.print(
                "interrupted before the sweep was recorded: nothing to resume; run the same "
                "command again",
                markup=False,
            )
            interrupts.describe(
                "the sweep stopped cleanly before it was recorded; nothing was written to "
                f"{_sweep_folder(out, base.name)}"
            )
            raise
        console.print(
            "interrupted: finished blocks are kept; finish with "
            f"{_resume_command(sweep_id, store, out)}",
            markup=False,
            soft_wrap=True,  # a command to copy: one line however long
        )
        raise
    console.print(
        f"sweep {done.sweep_id}: {counted(done.blocks_run, 'block')} run, "
        f"{done.blocks_reused} reused; "
        f"block files in {done.folder}",
        markup=False,
        soft_wrap=True,
    )
    return done.sweep, list(done.sweep.axes)


def _check_store(store: str | None) -> None:
    """Refuse a store that is there and is none (a folder, another file), a PostgreSQL URL
    without a results folder or whose server cannot be reached, before anything runs; a store
    not there yet, or an empty file, is made when the sweep is recorded."""
    from bordersim.store import open_store, store_location
    from bordersim.store.postgres import PostgresStore, split_url

    location = store_location(store)
    if isinstance(location, str):
        split_url(location)
        PostgresStore(location, read_only=True).close()  # connected only: nothing is made
        return
    empty = location.is_file() and location.stat().st_size == 0
    if (location.exists() or location.is_symlink()) and not empty:
        open_store(location, create=False, read_only=True).close()


def _recorded(sweep_id: str, store: str | None) -> bool:
    """Whether the store records the sweep (False where there is no store yet); True where the
    store cannot be read now, so that the --resume command is printed as before."""
    from bordersim.store import StoreError, using_store
    from bordersim.store.sweeps import sweep_plan

    try:
        with using_store(store, create=False, read_only=True) as catalog:
            return sweep_plan(catalog, sweep_id) is not None
    except StoreError as err:
        return "no store here" not in str(err)
    except Exception:
        return True


def _resume_command(sweep_id: str, store: str | None, out: Path | None) -> str:
    """The command that finishes an interrupted sweep where it was going: its store and its
    --out (without which the KPI table would go to out/<scenario>-sweep instead), each quoted
    for the shell."""
    from bordersim.store.postgres import shown_url

    command = f"bordersim sweep --resume {sweep_id}"
    if store:
        command += f" --store {shlex.quote(shown_url(store))}"
    if out is not None:
        command += f" --out {shlex.quote(str(out))}"
    return command


def _load_report(report: Any) -> None:
    """Import the report's modules (Plotly, 0.2-0.9 s) while the workers run the other blocks,
    not after the last one (a no-op after the first block)."""
    import bordersim.report.sweep_report  # noqa: F401


def _count(axes: list[Axis]) -> int:
    n = 1
    for axis in axes:
        n *= len(axis.values)
    return n


def kpi_cell(mean: float, low: float, high: float, unit: str = "") -> str:
    """A KPI in the sweep's table as `bordersim run` prints it, in its unit: `mean [low, high]`,
    the mean alone with one replication, n/a where the KPI has no value (a share of nobody: no
    exits, no encounters). Three significant digits read 14,259 [14,230, 14,290] encounters as
    1.43e+04 [1.42e+04, 1.43e+04], an interval that hid its own width."""
    from bordersim.results.kpis import Interval, format_interval

    if math.isnan(mean):
        return "n/a"
    return format_interval(Interval(mean, low, high, 0), unit)


def _write_and_show(console: Any, sweep: Any, axes: list[Axis], out: Path | None) -> None:
    from bordersim.commands.tables import Table
    from bordersim.results.kpis import KPI_BY_NAME
    from bordersim.services.sweep import timing_summary, write_sweep

    table, points = sweep.table, sweep.points
    target = _sweep_folder(out, sweep.scenario_name)
    write_sweep(sweep, target)

    shown = Table(title="KPIs by variant (mean [95 % interval])")
    # a name too long for a narrow page folds across lines rather than losing its end: the
    # names are the --vary keys and the KPI table's, to be found there
    for axis in axes:
        shown.add_column(axis.key, overflow="fold")
    for kpi in ("encounters", "custody_share_over_72h", "occupancy_mean", "cost_total_dollars"):
        shown.add_column(kpi, overflow="fold")
    lookup = {
        (int(v), str(k)): (float(m), float(lo), float(hi))
        for v, k, m, lo, hi in table[["variant", "kpi", "mean", "low", "high"]].itertuples(
            index=False
        )
    }
    for i, point in enumerate(points):
        cells = [str(v) for v in point.values()]
        for kpi in ("encounters", "custody_share_over_72h", "occupancy_mean", "cost_total_dollars"):
            cells.append(kpi_cell(*lookup[(i, kpi)], KPI_BY_NAME[kpi].unit))
        shown.add_row(*cells)
    console.print(shown)
    took = timing_summary(sweep.timings)
    console.print(
        # by the whole path, as `run`, `compare` and `export` say where they wrote
        f"{took + '; ' if took else ''}wrote {target.absolute() / 'kpis.csv'}, kpis.parquet, "
        "report.html",
        markup=False,
        soft_wrap=True,  # a path broken across lines cannot be copied or piped whole
    )


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
