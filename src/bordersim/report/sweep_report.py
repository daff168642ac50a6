"""The report of a sweep: what was varied, KPIs with units and 95 % intervals against the varied
values, the full table, and the details needed to run it again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from bordersim.report.figures import COLORS, TEMPLATE
from bordersim.report.page import HeadlineItem, Page
from bordersim.words import counted

#: KPIs charted, one chart each (the table has all of them).
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
class SweepDetails:
    scenario_name: str
    scenario_path: str
    axes: Sequence[tuple[str, Sequence[Any]]]  # varied key and its values, in grid order
    replications: int
    seed: int
    engine: str = "flow"
    code_version: str = ""
    created_at: str = ""
    time: str = ""  # the sweep's time and its blocks' compute (`services.sweep.timing_summary`)


def _share(unit: str) -> bool:
    return unit == "share"


def _shown(values: pd.Series, unit: str) -> pd.Series:
    return 100 * values if _share(unit) else values


def _unit_label(unit: str) -> str:
    return "%" if _share(unit) else unit


def kpi_chart(table: pd.DataFrame, kpi: str, x_key: str, others: list[str]) -> go.Figure:
    """Mean and 95 % interval of one KPI against the first varied key, a line per other combo."""
    rows = table[table["kpi"] == kpi]
    label, unit = str(rows["label"].iloc[0]), str(rows["unit"].iloc[0])
    fig = go.Figure()
    groups = rows.groupby(others, sort=False) if others else [((), rows)]
    for g, (values, part) in enumerate(groups):
        values = values if isinstance(values, tuple) else (values,)
        name = ", ".join(f"{k} = {v}" for k, v in zip(others, values, strict=True)) or label
        mean = _shown(part["mean"], unit)
        fig.add_trace(
            go.Scatter(
                x=[str(v) for v in part[x_key]],
                y=mean,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (_shown(part["high"], unit) - mean).fillna(0),
                    "arrayminus": (mean - _shown(part["low"], unit)).fillna(0),
                },
                mode="lines+markers",
                name=name,
                marker={"color": COLORS[g % len(COLORS)]},
            )
        )
    fig.update_layout(
        title=f"{label} ({_unit_label(unit)})",
        template=TEMPLATE,
        height=340,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        showlegend=bool(others),
        legend={"orientation": "h", "y": -0.25},
        yaxis_title=_unit_label(unit),
        xaxis={"title": x_key, "type": "category"},
    )
    return fig


def _how_to_read(replications: int) -> str:
    """How to read the values: one replication has no interval to show."""
    if replications == 1:
        return "Values are from one replication per variant: no interval and no error bars."
    return "Values are means over replications with 95 % t intervals (error bars)."


def sweep_report_page(table: pd.DataFrame, details: SweepDetails) -> Page:
    keys = [key for key, _ in details.axes]
    x_key, others = keys[0], keys[1:]
    n_variants = int(table["variant"].nunique())
    page = Page(f"bordersim sweep: {details.scenario_name}")
    page.paragraph(
        f"{counted(n_variants, 'variant')} of {details.scenario_path}, "
        f"{counted(details.replications, 'replication')} each from seed {details.seed} on the "
        f"{details.engine} engine, with common random numbers across variants. "
        + _how_to_read(details.replications),
        "muted",
    )
    page.headline(
        "What was varied",
        [
            HeadlineItem(f"{key}: {', '.join(str(v) for v in values)}")
            for key, values in details.axes
        ],
    )
    page.heading("Indicators against the varied values")
    for kpi in CHARTED_KPIS:
        if kpi in set(table["kpi"]):
            page.figure(kpi_chart(table, kpi, x_key, others))
    page.heading("Every indicator of every variant")
    page.table(
        ["variant", *keys, "indicator", "mean [95 % interval]", "unit"],
        [
            [
                int(row["variant"]),
                *(str(row[key]) for key in keys),
                str(row["label"]),
                _interval_text(row["mean"], row["low"], row["high"], str(row["unit"])),
                str(row["unit"]),  # as the run's table: a share's value carries its own %
            ]
            for _, row in table.iterrows()
        ],
    )
    page.begin_appendix("Appendix: sweep details")
    page.heading("Sweep")
    rows: list[list[object]] = [
        ["scenario", details.scenario_name],
        ["scenario file", details.scenario_path],
        ["engine", details.engine],
        ["replications per variant", str(details.replications)],
        ["seed", str(details.seed)],
        ["variants", str(n_variants)],
    ]
    rows += [[key, ", ".join(str(v) for v in values)] for key, values in details.axes]
    rows += [["code version", details.code_version], ["created", details.created_at]]
    if details.time:
        rows.append(["time", details.time])
    page.table(["", ""], rows)
    return page


def _interval_text(mean: float, low: float, high: float, unit: str) -> str:
    """`mean [low, high]` as the run's report gives it, in the KPI's unit; the mean alone with
    one replication, and n/a where the KPI has no value (a share of nobody: no exits, no
    encounters)."""
    from bordersim.results.kpis import Interval, format_interval

    if pd.isna(mean):
        return "n/a"
    return format_interval(Interval(float(mean), float(low), float(high), 0), unit)


def write_sweep_report(path: Path, table: pd.DataFrame, details: SweepDetails) -> Path:
    return sweep_report_page(table, details).write(path)
