"""`bordersim sweep`: a grid of scenario variants run as one flow-engine batch.

Each ``--vary KEY=V1,V2,...`` names a scenario key path (as in the TOML file) and its values; the
grid is every combination. All variants are compiled, checked to share one layout, and simulated
together (`engines.flow.simulate_batch`: vmap over variants, common random numbers), then the KPIs
of `results.kpis` with their 95 % intervals are written as a table (CSV and Parquet) and an HTML
report with Plotly charts that reads offline. Output goes to a temporary folder renamed into place
at the end, so an interrupted sweep leaves nothing that looks complete.
"""

from __future__ import annotations

import itertools
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bordersim.errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from bordersim.model.compiled import CompiledModel
    from bordersim.results.schema import RunResult

#: KPIs charted in the report (the table has all of them).
CHARTED_KPIS = (
    "encounters",
    "gotaways",
    "occupancy_mean",
    "custody_share_over_72h",
    "uac_share_over_72h",
    "processing_backlog_mean",
    "agents_field_share",
    "releases_to_street",
    "capability_gap_hours",
    "cost_total_dollars",
)


@dataclass(frozen=True)
class Axis:
    key: str
    values: tuple[Any, ...]


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


def build_variants(
    path: Path, axes: list[Axis]
) -> tuple[list[dict[str, Any]], list[CompiledModel]]:
    """Every grid point (key -> value) and its compiled model, in grid order."""
    from bordersim.model.compile import compile_scenario
    from bordersim.scenario import load_scenario, vary

    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"--vary names a key twice: {', '.join(keys)}")
    base = load_scenario(path)
    points: list[dict[str, Any]] = []
    models = []
    for combination in itertools.product(*(a.values for a in axes)):
        scenario = base
        point = dict(zip(keys, combination, strict=True))
        for key, value in point.items():
            try:
                scenario = vary(scenario, key, value)
            except ScenarioError as err:
                raise ScenarioError(f"--vary {key}={value!r}: {err}") from err
        points.append(point)
        models.append(compile_scenario(scenario))
    return points, models


def kpi_table(points: list[dict[str, Any]], runs: list[RunResult]) -> pd.DataFrame:
    """One row per variant and KPI: the varied values, mean and 95 % interval."""
    import pandas as pd

    from bordersim.results.kpis import KPI_BY_NAME, health_is_on, replication_kpis, summarize

    rows = []
    for i, (point, run) in enumerate(zip(points, runs, strict=True)):
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
    return pd.DataFrame(rows)


def _cell(value: Any) -> Any:
    """Numbers and booleans stay typed in the table; anything else (dates, names) is text."""
    return value if isinstance(value, int | float | bool) else str(value)


def html_report(table: pd.DataFrame, axes: list[Axis], title: str) -> str:
    """KPIs against the first varied key, one line per combination of the others, with error
    bars for the 95 % intervals; Plotly is embedded so the page reads offline."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    charted = [k for k in CHARTED_KPIS if k in set(table["kpi"])]
    x_key = axes[0].key
    others = [a.key for a in axes[1:]]
    fig = make_subplots(
        rows=(len(charted) + 1) // 2,
        cols=2,
        subplot_titles=[table.loc[table["kpi"] == k, "label"].iloc[0] for k in charted],
    )
    groups = table.groupby(others, sort=False) if others else [((), table)]
    for g, (label, part) in enumerate(groups):
        label_values = label if isinstance(label, tuple) else (label,)
        name = ", ".join(f"{k}={v}" for k, v in zip(others, label_values, strict=True)) or "mean"
        for i, kpi in enumerate(charted):
            rows = part[part["kpi"] == kpi]
            fig.add_trace(
                go.Scatter(
                    x=rows[x_key],
                    y=rows["mean"],
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": (rows["high"] - rows["mean"]).fillna(0),
                        "arrayminus": (rows["mean"] - rows["low"]).fillna(0),
                    },
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    marker={"color": _COLORS[g % len(_COLORS)]},
                ),
                row=i // 2 + 1,
                col=i % 2 + 1,
            )
            fig.update_xaxes(title_text=x_key, type="category", row=i // 2 + 1, col=i % 2 + 1)
    fig.update_layout(
        title=f"{title}: KPIs against {x_key} (mean and 95 % interval over replications)",
        height=320 * ((len(charted) + 1) // 2),
    )
    return fig.to_html(full_html=True, include_plotlyjs=True)


_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")


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

    from bordersim.engines.flow import simulate_batch

    console = Console()
    if not scenario.is_file():
        raise ScenarioError(f"scenario file not found: {scenario}")
    axes = [parse_vary(option) for option in vary_options]
    points, models = build_variants(scenario, axes)
    console.print(
        f"{len(models)} variants x {replications} replications of {models[0].scenario_name} "
        "(flow engine, one batch)"
    )
    runs = simulate_batch(models, replications=replications, seed=seed)
    table = kpi_table(points, runs)
    target = out if out is not None else Path("out") / f"{models[0].scenario_name}-sweep"
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        table.to_csv(partial / "kpis.csv", index=False)
        table.to_parquet(partial / "kpis.parquet", index=False)
        (partial / "report.html").write_text(
            html_report(table, axes, models[0].scenario_name), encoding="utf-8"
        )
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise

    timings = runs[0].timings
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
