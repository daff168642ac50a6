"""Plotly figures of a run's results; each takes one or more labelled `RunResult`s.

Bands are the 5-95 % range over replications of the day's value (all sectors summed), the line is
the mean. Figures with several runs overlay them in the same colours across a report.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bordersim.model.dimensions import SECTOR_NAMES, Pathway, Pool, Task
from bordersim.results.capability import CapabilityGap
from bordersim.results.schema import HIST_ALL, HIST_UAC, RunResult

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
Labelled = list[tuple[str, RunResult]]
HIST_SHOWN_HOURS = 24 * 10


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title=title,
        yaxis_title=y_title,
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
    )
    return fig


def add_band(
    fig: go.Figure,
    dates: list[dt.date],
    values: np.ndarray,
    name: str,
    color: str,
    dash: str | None = None,
) -> None:
    """Mean line and 5-95 % band of an [R, D] array."""
    low, high = np.percentile(values, 5, axis=0), np.percentile(values, 95, axis=0)
    x = list(dates)
    fig.add_trace(
        go.Scatter(
            x=x + x[::-1],
            y=np.concatenate([high, low[::-1]]),
            fill="toself",
            fillcolor=_rgba(color, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=values.mean(axis=0),
            name=name,
            legendgroup=name,
            line={"color": color, "dash": dash},
        )
    )


def daily_total(run: RunResult, metric: str) -> np.ndarray:
    """[R, D] of a metric summed over sectors."""
    return run.metric(metric).sum(axis=2)


def series(runs: Labelled, metrics: list[tuple[str, str]], title: str, y_title: str) -> go.Figure:
    """Mean and band of each (metric, label) per run; runs are told apart by line style."""
    fig = go.Figure()
    for i, (run_label, run) in enumerate(runs):
        for j, (metric, label) in enumerate(metrics):
            name = label if len(runs) == 1 else f"{label} ({run_label})"
            color = COLORS[(j if len(runs) == 1 else i * len(metrics) + j) % len(COLORS)]
            add_band(
                fig,
                run.dates,
                daily_total(run, metric),
                name,
                color,
                dash=None if i == 0 else "dot",
            )
    return _layout(fig, title, y_title)


def occupancy(runs: Labelled) -> go.Figure:
    fig = go.Figure()
    for i, (label, run) in enumerate(runs):
        suffix = "" if len(runs) == 1 else f" ({label})"
        add_band(
            fig,
            run.dates,
            daily_total(run, "occupancy_mean"),
            f"mean occupancy{suffix}",
            COLORS[2 * i % len(COLORS)],
        )
        add_band(
            fig,
            run.dates,
            daily_total(run, "occupancy_peak"),
            f"peak occupancy{suffix}",
            COLORS[(2 * i + 1) % len(COLORS)],
            dash="dot",
        )
        fig.add_trace(
            go.Scatter(
                x=run.dates,
                y=daily_total(run, "custody_capacity").mean(axis=0),
                name=f"capacity{suffix}",
                line={"color": "black", "dash": "dash"},
            )
        )
    return _layout(fig, "Custody occupancy against capacity (all sectors)", "people")


def crowding_heatmap(run: RunResult) -> go.Figure:
    occupancy_ = run.metric("occupancy_mean").mean(axis=0)  # [D, S]
    capacity = run.metric("custody_capacity").mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(capacity > 0, occupancy_ / np.where(capacity > 0, capacity, 1), np.nan)
    fig = go.Figure(
        go.Heatmap(
            z=ratio.T,
            x=run.dates,
            y=[s.name for s in run.sectors],
            colorscale="YlOrRd",
            colorbar={"title": "occupancy / capacity"},
            zmin=0,
        )
    )
    fig = _layout(fig, "Crowding by sector and day (mean occupancy / capacity)", "sector")
    fig.update_layout(height=120 + 30 * len(run.sectors), hovermode="closest")
    return fig


def custody_time(runs: Labelled) -> go.Figure:
    """Share of custody exits by hours in custody, everyone and unaccompanied children."""
    fig = go.Figure()
    hours = np.arange(HIST_SHOWN_HOURS + 1)
    for i, (label, run) in enumerate(runs):
        for j, (population, name) in enumerate(((HIST_ALL, "everyone"), (HIST_UAC, "children"))):
            counts = run.custody_hist[:, :, population, :].sum(axis=(0, 1))
            total = counts.sum()
            if total <= 0:
                continue
            shown = np.concatenate([counts[:HIST_SHOWN_HOURS], [counts[HIST_SHOWN_HOURS:].sum()]])
            trace_name = name if len(runs) == 1 else f"{name} ({label})"
            fig.add_trace(
                go.Scatter(
                    x=hours,
                    y=100 * shown / total,
                    name=trace_name,
                    mode="lines",
                    line={"color": COLORS[(2 * i + j) % len(COLORS)], "shape": "hv"},
                )
            )
    fig.add_vline(x=72, line={"color": "red", "dash": "dash"}, annotation_text="72 h standard")
    fig = _layout(
        fig,
        "Time in custody (share of exits per hour; the last point is "
        f"{HIST_SHOWN_HOURS} h or more)",
        "% of exits",
    )
    fig.update_layout(xaxis_title="hours in custody", hovermode="closest")
    return fig


def staff_hours_by_pool_and_task(runs: Labelled) -> go.Figure:
    fig = go.Figure()
    for i, (label, run) in enumerate(runs):
        for k, pool in enumerate(Pool):
            hours = [
                float(
                    run.metric(f"staff_hours:{pool.name.lower()}:{t.name.lower()}")
                    .sum(axis=(1, 2))
                    .mean()
                )
                for t in Task
            ]
            if not any(hours):
                continue
            fig.add_trace(
                go.Bar(
                    x=[t.name.lower() for t in Task],
                    y=hours,
                    name=pool.name.lower() + ("" if len(runs) == 1 else f" ({label})"),
                    marker_color=COLORS[k % len(COLORS)],
                    offsetgroup=str(i),
                    marker_pattern_shape="" if i == 0 else "/",
                )
            )
    fig = _layout(
        fig, "Staff-hours by pool and task (mean over replications, whole period)", "staff-hours"
    )
    fig.update_layout(barmode="stack", hovermode="closest")
    return fig


def departures(run: RunResult, title_suffix: str = "") -> go.Figure:
    fig = go.Figure()
    for k, pathway in enumerate(Pathway):
        values = daily_total(run, f"departures:{pathway.name.lower()}").mean(axis=0)
        fig.add_trace(
            go.Scatter(
                x=run.dates,
                y=values,
                name=pathway.name.lower(),
                stackgroup="one",
                line={"color": COLORS[k % len(COLORS)]},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=run.dates,
            y=daily_total(run, "releases_to_street").mean(axis=0),
            name="of which released to the street",
            line={"color": "black", "dash": "dot"},
        )
    )
    return _layout(
        fig, f"Departures from custody by pathway (daily mean){title_suffix}", "people per day"
    )


def cost(runs: Labelled) -> go.Figure:
    fig = go.Figure()
    for i, (label, run) in enumerate(runs):
        cumulative = np.cumsum(daily_total(run, "cost_total_dollars"), axis=1) / 1e6
        add_band(
            fig,
            run.dates,
            cumulative,
            "cumulative cost" + ("" if len(runs) == 1 else f" ({label})"),
            COLORS[i % len(COLORS)],
        )
    if len(runs) == 1:
        run = runs[0][1]
        for j, part in enumerate(("staff", "custody", "supplies")):
            daily = daily_total(run, f"cost_{part}_dollars").mean(axis=0) / 1e6
            fig.add_trace(
                go.Bar(
                    x=run.dates,
                    y=daily,
                    name=f"daily {part}",
                    yaxis="y2",
                    marker_color=COLORS[(j + 3) % len(COLORS)],
                    opacity=0.5,
                )
            )
        fig.update_layout(
            yaxis2={"overlaying": "y", "side": "right", "title": "$M per day"}, barmode="stack"
        )
    return _layout(fig, "Cost", "$ million, cumulative")


def capability_gap_heatmap(gap: CapabilityGap, sectors: list[str], title: str) -> go.Figure:
    """Mean weekly gap (staff-hours) for every task and sector that has one."""
    mean_gap = gap.gap.mean(axis=0)  # [W, S, T]
    rows, z = [], []
    for t in Task:
        for s, sector in enumerate(sectors):
            if mean_gap[:, s, t].any():
                rows.append(f"{t.name.lower()} · {sector}")
                z.append(mean_gap[:, s, t])
    if not rows:
        rows, z = ["(no gap)"], [np.zeros(len(gap.week_starts))]
    fig = go.Figure(
        go.Heatmap(
            z=np.array(z),
            x=[d.isoformat() for d in gap.week_starts],
            y=rows,
            colorscale="Reds",
            zmin=0,
            colorbar={"title": "staff-hours"},
        )
    )
    fig = _layout(fig, title, "task · sector")
    fig.update_layout(height=160 + 22 * len(rows), hovermode="closest", xaxis_title="week from")
    return fig


def validation_bars(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    labels = [f"{row.sector} {row.month:%Y-%m}" for row in table.itertuples()]
    fig.add_trace(go.Bar(x=labels, y=table["official"], name="official", marker_color="#7f7f7f"))
    fig.add_trace(
        go.Bar(
            x=labels,
            y=table["simulated"],
            name="simulated (mean, 5-95 % over replications)",
            marker_color=COLORS[0],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": table["simulated_p95"] - table["simulated"],
                "arrayminus": table["simulated"] - table["simulated_p05"],
            },
        )
    )
    fig = _layout(fig, "Monthly encounters per sector: simulated against official", "encounters")
    fig.update_layout(barmode="group", hovermode="closest")
    return fig


def by_sector(
    run: RunResult,
    metrics: list[tuple[str, str]],
    title: str,
    y_title: str,
    *,
    capacity: bool = False,
) -> go.Figure:
    """Mean and band of each metric, with a menu to show all sectors together or one of them."""
    fig = go.Figure()
    choices = [("all sectors", slice(None))] + [
        (f"{sec.name} ({SECTOR_NAMES[sec]})", slice(s, s + 1)) for s, sec in enumerate(run.sectors)
    ]
    owners: list[int] = []
    for c, (_, sectors) in enumerate(choices):
        before = len(fig.data)
        for j, (metric, label) in enumerate(metrics):
            values = run.metric(metric)[:, :, sectors].sum(axis=2)
            add_band(fig, run.dates, values, label, COLORS[j % len(COLORS)])
        if capacity:
            fig.add_trace(
                go.Scatter(
                    x=run.dates,
                    y=run.metric("custody_capacity")[:, :, sectors].sum(axis=2).mean(axis=0),
                    name="capacity",
                    line={"color": "black", "dash": "dash"},
                )
            )
        owners += [c] * (len(fig.data) - before)
    for i, trace in enumerate(fig.data):
        trace.visible = owners[i] == 0
    fig.update_layout(
        updatemenus=[
            {
                "buttons": [
                    {
                        "label": name,
                        "method": "update",
                        "args": [{"visible": [owner == c for owner in owners]}],
                    }
                    for c, (name, _) in enumerate(choices)
                ],
                "x": 1.0,
                "xanchor": "right",
                "y": 1.15,
                "yanchor": "top",
            }
        ]
    )
    return _layout(fig, title, y_title)
