"""A grid of scenario variants run as one flow-engine batch, and its KPI table and report.

Each axis names a scenario key path (as in the TOML file) and its values; the grid is every
combination. All variants are compiled, checked to share one layout, and simulated together
(`engines.flow.simulate_batch`: vmap over variants, common random numbers), then the KPIs of
`results.kpis` with their 95 % intervals are gathered in a table and an HTML report with Plotly
charts that reads offline. `write_sweep` writes them to a temporary folder renamed into place at
the end, so an interrupted sweep leaves nothing that looks complete.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bordersim.errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from bordersim.model.compiled import CompiledModel
    from bordersim.results.schema import RunResult
    from bordersim.scenario import Scenario

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
    """One varied scenario key and its values."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Sweep:
    """The grid points (key -> value), their runs and the KPI table, in grid order."""

    axes: tuple[Axis, ...]
    points: list[dict[str, Any]]
    runs: list[RunResult]
    table: pd.DataFrame

    @property
    def scenario_name(self) -> str:
        return self.runs[0].scenario_name


def build_variants(
    base: Scenario, axes: list[Axis], *, option: str = "--vary"
) -> tuple[list[dict[str, Any]], list[CompiledModel]]:
    """Every grid point (key -> value) and its compiled model, in grid order.

    `option` names the input in error messages (the CLI's ``--vary``, the API's ``vary``).
    """
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import vary

    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise ScenarioError(f"{option} names a key twice: {', '.join(keys)}")
    points: list[dict[str, Any]] = []
    models = []
    for combination in itertools.product(*(a.values for a in axes)):
        scenario = base
        point = dict(zip(keys, combination, strict=True))
        for key, value in point.items():
            try:
                scenario = vary(scenario, key, value)
            except ScenarioError as err:
                raise ScenarioError(f"{option} {key}={value!r}: {err}") from err
        points.append(point)
        models.append(compile_scenario(scenario))
    return points, models


def run_sweep(
    base: Scenario, axes: list[Axis], *, replications: int, seed: int, option: str = "--vary"
) -> Sweep:
    """Compile every grid point and simulate them as one flow-engine batch."""
    from bordersim.engines.flow import simulate_batch

    points, models = build_variants(base, axes, option=option)
    runs = simulate_batch(models, replications=replications, seed=seed)
    return Sweep(tuple(axes), points, runs, kpi_table(points, runs))


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


def write_sweep(sweep: Sweep, target: Path) -> None:
    """kpis.csv, kpis.parquet and report.html in `target`, replaced as a whole at the end."""
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        sweep.table.to_csv(partial / "kpis.csv", index=False)
        sweep.table.to_parquet(partial / "kpis.parquet", index=False)
        (partial / "report.html").write_text(
            html_report(sweep.table, list(sweep.axes), sweep.scenario_name), encoding="utf-8"
        )
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
