"""A grid of scenario variants run on the flow engine, and its KPI table and report.

Each axis names a scenario key path (as in the TOML file) and its values; the grid is every
combination. All variants are compiled, checked to share one layout, and simulated in blocks of
variants x replications (`services.blocks.simulate_in_blocks`, each block one
`engines.flow.simulate_batch`: vmap over variants, common random numbers; the same blocks a
sweep on a Dask cluster runs, so the same numbers bit for bit), then the KPIs of
`results.kpis` with their 95 % intervals are gathered in a table; its report is
`report.sweep_report`. `write_sweep` writes them to a temporary folder renamed into place at
the end, so an interrupted sweep leaves nothing that looks complete.
"""

from __future__ import annotations

import itertools
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bordersim.errors import BordersimError, ScenarioError
from bordersim.services.loading import apply_settings, code_version, shown_value
from bordersim.words import counted

if TYPE_CHECKING:
    import pandas as pd

    from bordersim.model.compiled import CompiledModel
    from bordersim.results.schema import RunResult
    from bordersim.scenario import Scenario


#: The most grid points one sweep takes: each is checked (about 3 ms) before anything runs,
#: and each is simulated `replications` times; a grid of millions would be checked for
#: hours in silence (docs/flow-engine.md).
MAX_GRID_POINTS = 10_000


def check_grid_size(sizes: list[int], option: str = "--vary") -> None:
    """Refuse a grid of more than `MAX_GRID_POINTS` points, from the number of each axis's
    values, named as the caller names the grid (`option`: ``--vary`` or ``vary``)."""
    points = math.prod(sizes)
    if points > MAX_GRID_POINTS:
        raise ScenarioError(
            f"{option}: a grid of {points:,} points ({' x '.join(f'{n:,}' for n in sizes)} "
            f"values); a sweep takes at most {MAX_GRID_POINTS:,}: split it into several sweeps"
        )


@dataclass(frozen=True)
class Axis:
    """One varied scenario key and its values."""

    key: str
    values: tuple[Any, ...]


def same_value(a: Any, b: Any) -> bool:
    """Two values of an axis that set the key alike: 1 and 1.0 give one variant twice (true and
    1 do not: a scenario key takes a boolean or a number, not both)."""
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


@dataclass(frozen=True)
class Sweep:
    """The grid points (key -> value), their runs and the KPI table, in grid order, with what
    is needed to run it again."""

    axes: tuple[Axis, ...]
    points: list[dict[str, Any]]
    runs: list[RunResult]
    table: pd.DataFrame
    scenario_path: Path
    replications: int
    seed: int
    #: ``wall_s``: seconds the sweep took, start to KPI table; ``blocks_compute_s``: the
    #: seconds of the blocks run for it, compile included, summed (workers that run blocks at
    #: once add up to more than the wall time); ``blocks_run``: how many (reused ones not)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scenario_name(self) -> str:
        return self.runs[0].scenario_name


def timing_summary(timings: dict[str, float]) -> str:
    """What the CLI and the report say of a sweep's time: the whole sweep's, then the blocks'
    compute summed, labelled as such (parallel workers' blocks add up to more than the wall)."""
    if "wall_s" not in timings:
        return ""
    blocks = int(timings.get("blocks_run", 0))
    compute = (
        f"{timings.get('blocks_compute_s', 0.0):.1f} s of compute summed over the "
        f"{counted(blocks, 'block')} run"
        if blocks
        else "no block run (all reused)"
    )
    return f"sweep took {timings['wall_s']:.1f} s; {compute}"


def build_variants(
    base: Scenario, axes: list[Axis], *, option: str = "--vary"
) -> tuple[list[dict[str, Any]], list[CompiledModel]]:
    """Every grid point (key -> value) and its compiled model, in grid order.

    `option` names the input in error messages (the CLI's ``--vary``, the API's ``vary``).
    """
    from bordersim.compiler import compile_scenario

    check_keys(axes, option)
    points = grid_points(axes)
    models = []
    for point in points:
        scenario = varied(base, point, option=option)
        try:
            models.append(compile_scenario(scenario))
        except BordersimError as err:
            raise compile_refusal(point, err, option) from err
    return points, models


def grid_points(axes: list[Axis]) -> list[dict[str, Any]]:
    """Every grid point (key -> value), in grid order (the last axis varies fastest)."""
    keys = [a.key for a in axes]
    return [
        dict(zip(keys, combination, strict=True))
        for combination in itertools.product(*(a.values for a in axes))
    ]


def check_keys(axes: list[Axis], option: str = "--vary") -> None:
    """Each axis varies a key of its own."""
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"{option} names a key twice: {', '.join(keys)}")


def check_points(base: Scenario, axes: list[Axis], *, option: str = "--vary") -> None:
    """Every grid point applies to `base` and validates (without compiling any of them)."""
    check_keys(axes, option)
    for point in grid_points(axes):
        varied(base, point, option=option)


def check_compiles(
    base: Scenario, axes: list[Axis], *, option: str = "--vary", variants_per_block: int = 1
) -> None:
    """Every grid point applies to `base`, validates and compiles (`check_points` and more), or
    one error naming the `option` values of the first that does not (`compile_refusal`).

    A value the schema accepts may still be refused by the compiler (a period the calibration
    does not cover, a capacity change that takes a sector below zero): a blocked sweep checks
    this before it records anything or runs a block. Every point is compiled, not each value
    once with the others at the base: two values may be refused together only. The points
    share their calibration, read once per calibration file, so a point costs 8-10 ms rather
    than the 35 ms of a compile that reads it (`small.toml`). The variants of each block of
    `variants_per_block` run as one flow batch, so they must share its layout
    (`check_layouts`)."""
    from bordersim.compiler import compile_scenario
    from bordersim.compiler.inputs import CalibrationSource, load_calibration_for

    check_keys(axes, option)
    calibrations: dict[str, CalibrationSource] = {}
    points = grid_points(axes)
    block_first: CompiledModel | None = None
    for i, point in enumerate(points):
        scenario = varied(base, point, option=option)
        ref = scenario.demand.calibration
        try:
            key = (
                ref if ref == "default" else str(scenario.relative_path(ref, "demand.calibration"))
            )
            if key not in calibrations:
                calibrations[key] = load_calibration_for(scenario)
            model = compile_scenario(scenario, calibrations[key])
        except BordersimError as err:
            raise compile_refusal(point, err, option) from err
        # only the block's first model is kept: a grid of thousands stays small in memory
        first = i - i % variants_per_block
        if i == first:
            block_first = model
        else:
            assert block_first is not None
            _check_layout(block_first, point, model, option)


def check_layouts(
    points: list[dict[str, Any]],
    models: list[CompiledModel],
    variants_per_block: int,
    *,
    option: str = "--vary",
) -> None:
    """The variants of each block of `variants_per_block` (one flow batch) share its layout,
    or one error naming the `option` values that change it and what to do."""
    for i, (point, model) in enumerate(zip(points, models, strict=True)):
        first = i - i % variants_per_block
        if i != first:
            _check_layout(models[first], point, model, option)


# what a field of the flow batch's layout (`engines.flow.layout`) is called in an error
_LAYOUT_FIELDS = {
    "n_days": "the number of days simulated",
    "warmup_days": "the warm-up",
    "sectors": "the sectors",
    "crew_names": "the crews",
    "crew_pool": "the crews' staff pools",
    "task_fill_order": "the order in which tasks are filled",
    "priority_class": "the priority classes",
}


def _check_layout(
    first: CompiledModel,
    point: dict[str, Any],
    model: CompiledModel,
    option: str,
) -> None:
    from bordersim.engines.flow.layout import layout_difference

    differs = layout_difference(first, model)
    if differs is not None:
        # the CLI's `--vary` has `--block-variants`; the API's `vary` has no such parameter
        remedy = (
            "give each variant its own block (--block-variants 1)"
            if option.startswith("--")
            else "sweep the values that change it in separate calls (one block each)"
        )
        raise ScenarioError(
            f"{option} {shown_point(point)}: changes {_LAYOUT_FIELDS.get(differs, differs)}, "
            f"which the variants of one block (one flow batch) share; {remedy}"
        )


def compile_refusal(point: dict[str, Any], err: BordersimError, option: str) -> ScenarioError:
    """The error for a grid point the compiler refused, named by all its values: with several
    axes, a value may be refused only beside another (an early start date with a long
    warm-up), and the compiler's own message says which key it refused. The compiler names
    the place of a varied key by its `option` value, which the point already names: that
    place is dropped, not said twice."""
    said = str(err)
    if err.where and err.where.startswith(f"{option} ") and said.startswith(f"{err.where}: "):
        said = said[len(err.where) + 2 :]
    return ScenarioError(f"{option} {shown_point(point)}: {said}")


def shown_point(point: dict[str, Any]) -> str:
    """A grid point as its values were typed: ``period.start_date=1999-10-05 with
    period.warmup_days=7``."""
    return " with ".join(f"{key}={shown_value(value)}" for key, value in point.items())


def varied(base: Scenario, point: dict[str, Any], *, option: str = "--vary") -> Scenario:
    """`base` with a grid point's values, validated once, as a whole (two dates may move
    together, as with `--set`), or one error naming the point's `option` values."""
    return apply_settings(base, point, flag=option)


def run_sweep(
    base: Scenario,
    axes: list[Axis],
    *,
    replications: int,
    seed: int,
    option: str = "--vary",
    client: Any = None,
    store: Any = None,
) -> Sweep:
    """Compile every grid point and simulate them in blocks of variants x replications in
    this process; with a Dask `client` or a `store`, as the same blocks (on the client's
    workers, else in this process) whose files that store's catalog records
    (`bordersim.services.blocks`). Both give the same numbers bit for bit: every block is one
    flow-engine batch of the same shape, wherever it runs."""
    from bordersim.services.blocks import default_shape, simulate_in_blocks

    if client is not None or store is not None:
        from bordersim.services.blocks import run_blocked_sweep

        return run_blocked_sweep(
            base,
            axes,
            replications=replications,
            seed=seed,
            client=client,
            store=store,
            option=option,
        ).sweep

    started = time.perf_counter()
    points, models = build_variants(base, axes, option=option)
    shape = default_shape(len(models), replications)
    check_layouts(points, models, shape.variants, option=option)
    runs = simulate_in_blocks(models, replications, seed, shape)
    table = kpi_table(points, runs)
    # the variants of a block share its batches, and so their times: one a variant block
    first_of_blocks = runs[:: shape.variants]
    timings = {
        "wall_s": time.perf_counter() - started,
        "blocks_compute_s": sum(
            r.timings["compile_s"] + r.timings["run_s"] for r in first_of_blocks
        ),
        "blocks_run": float(len(first_of_blocks) * -(-replications // shape.replications)),
    }
    return Sweep(tuple(axes), points, runs, table, base.path, replications, seed, timings)


def kpi_table(points: list[dict[str, Any]], runs: list[RunResult]) -> pd.DataFrame:
    """One row per variant and KPI: the varied values, mean and 95 % interval."""
    import pandas as pd

    return pd.DataFrame(kpi_rows(points, runs))


def kpi_rows(
    points: list[dict[str, Any]], runs: list[RunResult], first_variant: int = 0
) -> list[dict[str, Any]]:
    """`kpi_table`'s rows for some of a sweep's variants, numbered from `first_variant` (a
    blocked sweep summarises a block of variants as soon as it is in)."""
    from bordersim.results.kpis import KPI_BY_NAME, health_is_on, replication_kpis, summarize

    rows = []
    for i, (point, run) in enumerate(zip(points, runs, strict=True), start=first_variant):
        health = health_is_on(run)
        for name, interval in summarize(replication_kpis(run)).items():
            kpi = KPI_BY_NAME.get(name)
            if kpi is not None and kpi.health_only and not health:
                continue
            rows.append(
                {
                    "variant": i,
                    **{key: _cell(value) for key, value in point.items()},
                    "kpi": name,
                    "label": kpi.label if kpi else name,
                    "unit": kpi.unit if kpi else "",
                    **interval.as_dict(),
                }
            )
    return rows


def _cell(value: Any) -> Any:
    """Numbers and booleans stay typed in the table; anything else (dates, names) is text."""
    return value if isinstance(value, int | float | bool) else str(value)


def _details(sweep: Sweep) -> Any:
    from bordersim.report.sweep_report import SweepDetails

    return SweepDetails(
        scenario_name=sweep.scenario_name,
        scenario_path=str(sweep.scenario_path),
        axes=[(axis.key, axis.values) for axis in sweep.axes],
        replications=sweep.replications,
        seed=sweep.seed,
        engine="flow",
        code_version=code_version(),
        created_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        time=timing_summary(sweep.timings),
    )


#: The file that marks a folder as a sweep's output, so that a later sweep may replace it. A
#: folder without it (any other folder, `..`, a home directory) is never deleted or replaced.
SWEEP_MARKER = ".bordersim-sweep"
SWEEP_FILES = ("kpis.csv", "kpis.parquet", "report.html", SWEEP_MARKER)


def check_sweep_target(target: Path) -> Path:
    """The absolute output folder, if a sweep may write it: absent, or a sweep's own output.

    Checked before the sweep runs; anything else is one error and nothing is touched."""
    from bordersim.output_folders import check_output_folder

    return check_output_folder(target, marker=SWEEP_MARKER, what="sweep", own=SWEEP_FILES)


def write_sweep(sweep: Sweep, target: Path) -> None:
    """kpis.csv, kpis.parquet and report.html (`report.sweep_report`) in `target`, replaced as a
    whole at the end.

    The files are written to a new hidden folder beside `target`, which is then renamed onto it;
    a previous sweep's folder there is moved aside first and removed once the new one is in
    place. No other folder is ever removed (`check_sweep_target`)."""
    from bordersim.output_folders import make_work_folder, replace_folder
    from bordersim.report.sweep_report import write_sweep_report

    folder = check_sweep_target(target)
    partial = make_work_folder(folder, prefix=f".{folder.name}.", suffix=".partial")
    try:
        sweep.table.to_csv(partial / "kpis.csv", index=False)
        sweep.table.to_parquet(partial / "kpis.parquet", index=False)
        write_sweep_report(partial / "report.html", sweep.table, _details(sweep))
        (partial / SWEEP_MARKER).write_text(
            "written by bordersim sweep; a later sweep may replace this folder\n", encoding="utf-8"
        )
        replace_folder(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # created above, by this sweep
        raise
