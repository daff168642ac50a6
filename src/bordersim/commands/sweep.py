"""`bordersim sweep`: a grid of scenario variants run as one flow-engine batch.

Each ``--vary KEY=V1,V2,...`` names a scenario key path (as in the TOML file) and its values; the
grid is every combination. `bordersim.services.sweep` compiles and simulates the variants and
writes their KPI table (CSV and Parquet) and HTML report; this command parses and prints.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import typer

from bordersim.errors import ScenarioError
from bordersim.services.sweep import Axis


def parse_value(text: str) -> Any:
    """A value as TOML reads it (1500, 0.5, true, 2023-05-10, "text"); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_vary(option: str) -> Axis:
    """``KEY=V1,V2,...`` as an axis of the grid, or a `ScenarioError` saying what is wrong."""
    key, sep, values = option.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise ScenarioError(
            f"--vary {option!r}: expected KEY=V1,V2,... (for example "
            "deployments.title42_active_duty.headcount=0,1500,3000)"
        )
    parts = [v.strip() for v in values.split(",")]
    if any(not v for v in parts):
        raise ScenarioError(f"--vary {option!r}: an empty value in the list")
    parsed = tuple(parse_value(v) for v in parts)
    if len(set(map(repr, parsed))) != len(parsed):
        raise ScenarioError(f"--vary {option!r}: a value is listed twice")
    return Axis(key, parsed)


def sweep_command(
    scenario: Path = typer.Argument(..., help="Scenario TOML file to vary."),  # noqa: B008
    vary_options: list[str] = typer.Option(  # noqa: B008
        ...,
        "--vary",
        help="KEY=V1,V2,...: a scenario key path and its values; repeat for a grid.",
    ),
    replications: int = typer.Option(100, "--replications", "-r", min=1),
    seed: int = typer.Option(0, "--seed"),
    out: Path | None = typer.Option(  # noqa: B008
        None, "--out", help="Output folder (default out/<scenario>-sweep)."
    ),
) -> None:
    """Run a grid of scenario variants as one flow-engine batch; write KPIs against the values."""
    from rich.console import Console
    from rich.table import Table

    from bordersim.scenario import load_scenario
    from bordersim.services.sweep import run_sweep, write_sweep

    console = Console()
    if not scenario.is_file():
        raise ScenarioError(f"scenario file not found: {scenario}")
    axes = [parse_vary(option) for option in vary_options]
    base = load_scenario(scenario)
    n_variants = 1
    for axis in axes:
        n_variants *= len(axis.values)
    console.print(
        f"{n_variants} variants x {replications} replications of {base.name} "
        "(flow engine, one batch)"
    )
    sweep = run_sweep(base, axes, replications=replications, seed=seed)
    table, points = sweep.table, sweep.points
    target = out if out is not None else Path("out") / f"{sweep.scenario_name}-sweep"
    write_sweep(sweep, target)

    timings = sweep.runs[0].timings
    shown = Table(title="KPIs by variant (mean [95 % interval])")
    for axis in axes:
        shown.add_column(axis.key)
    for kpi in ("encounters", "custody_share_over_72h", "occupancy_mean", "cost_total_dollars"):
        shown.add_column(kpi)
    lookup = {
        (int(v), str(k)): (float(m), float(lo), float(hi))
        for v, k, m, lo, hi in table[["variant", "kpi", "mean", "low", "high"]].itertuples(
            index=False
        )
    }
    for i, point in enumerate(points):
        cells = [str(v) for v in point.values()]
        for kpi in ("encounters", "custody_share_over_72h", "occupancy_mean", "cost_total_dollars"):
            mean, low, high = lookup[(i, kpi)]
            cells.append(f"{mean:,.3g} [{low:,.3g}, {high:,.3g}]")
        shown.add_row(*cells)
    console.print(shown)
    console.print(
        f"compile {timings['compile_s']:.1f} s, run {timings['run_s']:.1f} s "
        f"({timings['replications_per_s']:.1f} replications/s); wrote {target}/kpis.csv, "
        "kpis.parquet, report.html"
    )


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
