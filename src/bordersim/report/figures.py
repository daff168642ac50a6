"""Plotly figures of a run's results; each takes one or more labelled `RunResult`s.

Bands are the 5-95 % range over replications of the day's value, the line is the mean. Figures with
several runs overlay them in the same colours across a report; comparisons plot B - A with the 95 %
interval of the mean difference.

Every figure is drawn for a list of sector indices, so that `per_choice` can draw it once per
choice of the page's sector selector ("all sectors", then each sector) and the selector can show
one choice at a time in every chart. Daily series carry no date arrays (a start and a one-day step
instead) and values as float32: a report stays small with ten sector choices.

Colour scales are fixed, so the same colour means the same thing in every report: crowding runs
from 0 to 150 % of capacity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bordersim.model.dimensions import SECTOR_NAMES, Pathway, Pool, Task
from bordersim.results.capability import CapabilityGap
from bordersim.results.kpis import PATHWAY_WORDS, paired_difference, welch_difference
from bordersim.results.schema import HIST_ALL, HIST_UAC, RunResult

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
Labelled = list[tuple[str, RunResult]]
HIST_SHOWN_HOURS = 24 * 10
DAY_MS = 86_400_000
#: Crowding colour scale: mean occupancy over capacity, in percent (fixed in every report).
CROWDING_MAX_PCT = 150.0
Choices = list[tuple[str, list[int]]]


def sector_choices(run: RunResult) -> Choices:
    """'all sectors' and then each sector, as lists of sector indices of `run`."""
    every = list(range(len(run.sectors)))
    if len(every) == 1:
        return [(f"{run.sectors[0].name} ({SECTOR_NAMES[run.sectors[0]]})", every)]
    return [("all sectors", every)] + [
        (f"{sec.name} ({SECTOR_NAMES[sec]})", [s]) for s, sec in enumerate(run.sectors)
    ]


def per_choice(
    build: Callable[[list[int]], go.Figure], choices: Choices
) -> tuple[go.Figure, list[int]]:
    """The figure of each sector choice merged into one, with the choice each trace belongs to."""
    merged: go.Figure | None = None
    owners: list[int] = []
    for c, (_, sectors) in enumerate(choices):
        fig = build(sectors)
        if merged is None:
            merged = fig
        else:
            merged.add_traces(list(fig.data))
        owners += [c] * len(fig.data)
    assert merged is not None
    return merged, owners


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _compact(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


#: A light template of a few keys: plotly's "plotly_white" is 6.6 kB of JSON in every figure.
_AXIS = {"gridcolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "linecolor": "#c8d4e3"}
TEMPLATE = go.layout.Template(
    layout={
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"color": "#2a3f5f"},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "colorway": list(COLORS),
    }
)


def _layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title=title,
        yaxis_title=y_title,
        template=TEMPLATE,
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
    )
    return fig


def _daily_layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    """`_layout` for a figure over days: its x axis read as dates."""
    fig = _layout(fig, title, y_title)
    fig.update_xaxes(type="date")
    return fig


def _days(dates: Sequence[dt.date]) -> dict[str, object]:
    """A daily x axis as its first date and a one-day step."""
    return {"x0": dates[0].isoformat(), "dx": DAY_MS}


def add_band(
    fig: go.Figure,
    dates: Sequence[dt.date],
    values: np.ndarray,
    name: str,
    color: str,
    dash: str | None = None,
) -> None:
    """Mean line and 5-95 % band over replications of an [R, D] array."""
    low, high = np.percentile(values, 5, axis=0), np.percentile(values, 95, axis=0)
    add_interval(fig, dates, values.mean(axis=0), low, high, name, color, dash)


def add_interval(
    fig: go.Figure,
    dates: Sequence[dt.date],
    mean: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    name: str,
    color: str,
    dash: str | None = None,
) -> None:
    x = _days(dates)
    if np.isfinite(low).any() or np.isfinite(high).any():  # no interval on any day: no band
        _add_band_edges(fig, x, low, high, name, color)
    fig.add_trace(
        go.Scatter(
            y=_compact(mean),
            **x,
            name=name,
            legendgroup=name,
            mode="lines",
            line={"color": color, "dash": dash},
        )
    )


def _add_band_edges(
    fig: go.Figure, x: dict[str, object], low: np.ndarray, high: np.ndarray, name: str, color: str
) -> None:
    fig.add_trace(
        go.Scatter(
            y=_compact(low),
            **x,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
            mode="lines",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=_compact(high),
            **x,
            line={"width": 0},
            fill="tonexty",
            fillcolor=_rgba(color, 0.18),
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
            mode="lines",
        )
    )


def _reference_line(
    fig: go.Figure, run: RunResult, metric: str, sectors: Sequence[int], name: str, dash: str
) -> None:
    """A black line of `metric`'s mean over replications, summed over `sectors`: what the
    figure's other lines are read against (capacity, the share released to the street)."""
    fig.add_trace(
        go.Scatter(
            y=_compact(sector_total(run, metric, sectors).mean(axis=0)),
            **_days(run.dates),
            name=name,
            mode="lines",
            line={"color": "black", "dash": dash},
        )
    )


def sector_total(run: RunResult, metric: str, sectors: Sequence[int]) -> np.ndarray:
    """[R, D] of a metric summed over the given sectors."""
    return run.metric(metric)[:, :, list(sectors)].sum(axis=2)


def series(
    runs: Labelled,
    metrics: list[tuple[str, str]],
    title: str,
    y_title: str,
    sectors: Sequence[int] | None = None,
) -> go.Figure:
    """Mean and band of each (metric, label) per run; runs are told apart by line style."""
    fig = go.Figure()
    for i, (run_label, run) in enumerate(runs):
        chosen = range(len(run.sectors)) if sectors is None else sectors
        for j, (metric, label) in enumerate(metrics):
            name = label if len(runs) == 1 else f"{label} ({run_label})"
            color = COLORS[(j if len(runs) == 1 else i * len(metrics) + j) % len(COLORS)]
            add_band(
                fig,
                run.dates,
                sector_total(run, metric, chosen),
                name,
                color,
                dash=None if i == 0 else "dot",
            )
    return _daily_layout(fig, title, y_title)


def unmet_care(run: RunResult, sectors: Sequence[int]) -> go.Figure:
    """Unmet care per day (person-days, mean and band) and the number of the chosen sectors out
    of stock (mean) on an axis of its own: a count of sectors on the person-days axis was a
    line along zero beside hundreds of person-days."""
    fig = go.Figure()
    unmet = sector_total(run, "unmet_care_person_days", sectors)
    add_band(fig, run.dates, unmet, "unmet care", COLORS[0])
    fig.add_trace(
        go.Scatter(
            y=_compact(sector_total(run, "stock_out", sectors).mean(axis=0)),
            **_days(run.dates),
            name="sectors out of stock (right axis)",
            yaxis="y2",
            mode="lines",
            line={"color": COLORS[1], "dash": "dot"},
        )
    )
    fig.update_layout(
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "title": "sectors out of stock",
            "rangemode": "tozero",
            "range": [0, len(sectors)],
        }
    )
    return _daily_layout(fig, "Unmet care per day", "person-days per day")


def occupancy(run: RunResult, sectors: Sequence[int]) -> go.Figure:
    """Mean and peak occupancy with bands, against capacity."""
    fig = go.Figure()
    add_band(
        fig, run.dates, sector_total(run, "occupancy_mean", sectors), "mean occupancy", COLORS[0]
    )
    add_band(
        fig,
        run.dates,
        sector_total(run, "occupancy_peak", sectors),
        "peak occupancy",
        COLORS[1],
        dash="dot",
    )
    _reference_line(fig, run, "custody_capacity", sectors, "capacity", "dash")
    return _daily_layout(fig, "Custody occupancy against capacity", "people")


def crowding_heatmap(run: RunResult, sectors: Sequence[int]) -> go.Figure:
    """Mean occupancy over capacity per sector and day, on the fixed 0-150 % scale."""
    occupancy_ = run.metric("occupancy_mean").mean(axis=0)[:, list(sectors)]  # [D, S]
    capacity = run.metric("custody_capacity").mean(axis=0)[:, list(sectors)]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            capacity > 0, 100 * occupancy_ / np.where(capacity > 0, capacity, 1), np.nan
        )
    fig = go.Figure(
        go.Heatmap(
            z=_compact(ratio.T),
            **_days(run.dates),
            y=[run.sectors[s].name for s in sectors],
            colorscale="YlOrRd",
            # the top colour holds every day above the scale, and says so
            colorbar={
                "title": "% of capacity",
                "tickvals": [0, 50, 100, CROWDING_MAX_PCT],
                "ticktext": ["0 %", "50 %", "100 %", f"{CROWDING_MAX_PCT:.0f} % or more"],
            },
            zmin=0,
            zmax=CROWDING_MAX_PCT,
            hovertemplate="%{y} %{x}: %{z:.0f} % of capacity<extra></extra>",
        )
    )
    fig = _layout(
        fig,
        "Crowding by sector and day (mean occupancy / capacity; scale fixed at 0-150 %)",
        "sector",
    )
    fig.update_layout(height=140 + 30 * len(run.sectors), hovermode="closest")
    fig.update_xaxes(type="date")
    return fig


def custody_time(runs: Labelled, sectors: Sequence[int] | None = None) -> go.Figure:
    """Share of custody exits by hours in custody, everyone and unaccompanied children."""
    fig = go.Figure()
    for i, (label, run) in enumerate(runs):
        chosen = list(range(len(run.sectors)) if sectors is None else sectors)
        for j, (population, name) in enumerate(((HIST_ALL, "everyone"), (HIST_UAC, "children"))):
            counts = run.custody_hist[:, chosen, population, :].sum(axis=(0, 1))
            total = counts.sum()
            trace_name = name if len(runs) == 1 else f"{name} ({label})"
            shown = np.concatenate([counts[:HIST_SHOWN_HOURS], [counts[HIST_SHOWN_HOURS:].sum()]])
            share = 100 * shown / total if total > 0 else np.zeros_like(shown)
            fig.add_trace(
                go.Scatter(
                    y=_compact(share),
                    x0=0,
                    dx=1,
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


def _pool_task_hours(run: RunResult, pool: Pool, sectors: Sequence[int]) -> list[float]:
    return [
        float(
            run.metric(f"staff_hours:{pool.name.lower()}:{t.name.lower()}")[:, :, list(sectors)]
            .sum(axis=(1, 2))
            .mean()
        )
        for t in Task
    ]


def pools_with_hours(runs: Labelled) -> list[Pool]:
    """Pools with any staff-hours in any of the runs (fixed for every sector choice)."""
    shown = []
    for pool in Pool:
        if any(any(_pool_task_hours(run, pool, range(len(run.sectors)))) for _, run in runs):
            shown.append(pool)
    return shown


def staff_hours_by_pool_and_task(
    runs: Labelled, sectors: Sequence[int] | None = None, pools: Sequence[Pool] | None = None
) -> go.Figure:
    """One panel per pool, each on its own scale: a pool of 300 reads as well as one of 20,000."""
    shown = list(pools) if pools is not None else pools_with_hours(runs)
    shown = shown or [Pool.AGENT]
    fig = make_subplots(
        rows=len(shown),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=[p.name.lower().replace("_", " ") for p in shown],
    )
    tasks = [t.name.lower() for t in Task]
    for row, pool in enumerate(shown, start=1):
        for i, (label, run) in enumerate(runs):
            chosen = range(len(run.sectors)) if sectors is None else sectors
            hours = _pool_task_hours(run, pool, chosen)
            fig.add_trace(
                go.Bar(
                    x=tasks,
                    y=hours,
                    name=label if len(runs) > 1 else pool.name.lower(),
                    marker_color=COLORS[i % len(COLORS)] if len(runs) > 1 else COLORS[row - 1],
                    showlegend=len(runs) > 1 and row == 1,
                    legendgroup=label,
                    text=[f"{h:,.0f}" if h else "" for h in hours],
                    textposition="outside",
                    cliponaxis=False,
                ),
                row=row,
                col=1,
            )
    fig = _layout(
        fig,
        "Staff-hours by pool and task (mean over replications, whole period; each pool on its "
        "own scale)",
        "",
    )
    fig.update_layout(barmode="group", hovermode="closest", height=120 + 170 * len(shown))
    fig.update_yaxes(title_text="staff-hours", rangemode="tozero")
    return fig


def staff_hours_table(run: RunResult) -> list[list[object]]:
    """Rows of pool, then staff-hours per task, for every pool with hours (all sectors)."""
    every = range(len(run.sectors))
    rows: list[list[object]] = []
    for pool in Pool:
        hours = _pool_task_hours(run, pool, every)
        if any(hours):
            rows.append([pool.name.lower(), *hours, float(sum(hours))])
    return rows


def departures(run: RunResult, sectors: Sequence[int]) -> go.Figure:
    fig = go.Figure()
    x = _days(run.dates)
    for k, pathway in enumerate(Pathway):
        values = sector_total(run, f"departures:{pathway.name.lower()}", sectors).mean(axis=0)
        fig.add_trace(
            go.Scatter(
                y=_compact(values),
                **x,
                name=PATHWAY_WORDS[pathway],
                stackgroup="one",
                mode="lines",
                line={"color": COLORS[k % len(COLORS)]},
            )
        )
    _reference_line(
        fig, run, "releases_to_street", sectors, "of which released to the street", "dot"
    )
    return _daily_layout(fig, "Departures from custody by pathway (daily mean)", "people per day")


def cost(runs: Labelled, sectors: Sequence[int] | None = None) -> go.Figure:
    fig = go.Figure()
    for i, (label, run) in enumerate(runs):
        chosen = range(len(run.sectors)) if sectors is None else sectors
        cumulative = np.cumsum(sector_total(run, "cost_total_dollars", chosen), axis=1) / 1e6
        add_band(
            fig,
            run.dates,
            cumulative,
            "cumulative cost" + ("" if len(runs) == 1 else f" ({label})"),
            COLORS[i % len(COLORS)],
        )
    if len(runs) == 1:
        run = runs[0][1]
        chosen = range(len(run.sectors)) if sectors is None else sectors
        parts = ["staff", "custody", "supplies"]
        if run.metric("cost_decompression_dollars").any():
            parts.append("decompression")
        for j, part in enumerate(parts):
            daily = sector_total(run, f"cost_{part}_dollars", chosen).mean(axis=0) / 1e6
            fig.add_trace(
                go.Bar(
                    y=_compact(daily),
                    **_days(run.dates),
                    name=f"daily {part}",
                    yaxis="y2",
                    marker_color=COLORS[(j + 3) % len(COLORS)],
                    opacity=0.5,
                )
            )
        fig.update_layout(
            yaxis2={"overlaying": "y", "side": "right", "title": "$M per day"}, barmode="stack"
        )
    return _daily_layout(fig, "Cost", "$ million, cumulative")


def gap_rows(
    mean_gap: np.ndarray, sector_names: Sequence[str], sectors: Sequence[int]
) -> tuple[list[str], list[np.ndarray]]:
    """Task · sector rows with any gap, of a [W, S, T] mean gap."""
    rows, z = [], []
    for t in Task:
        for s in sectors:
            if mean_gap[:, s, t].any():
                rows.append(f"{t.name.lower()} · {sector_names[s]}")
                z.append(mean_gap[:, s, t])
    return rows, z


def capability_gap_heatmap(
    gap: CapabilityGap,
    sectors: list[str],
    title: str,
    chosen: Sequence[int] | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """Mean weekly gap (staff-hours) for every task and sector that has one."""
    mean_gap = gap.gap.mean(axis=0)  # [W, S, T]
    rows, z = gap_rows(mean_gap, sectors, range(len(sectors)) if chosen is None else chosen)
    if not rows:
        rows, z = ["(no gap)"], [np.zeros(len(gap.week_starts))]
    fig = go.Figure(
        go.Heatmap(
            z=_compact(np.array(z)),
            x=[d.isoformat() for d in gap.week_starts],
            y=rows,
            colorscale="Reds",
            zmin=0,
            zmax=zmax if zmax else None,
            colorbar={"title": "staff-hours"},
        )
    )
    fig = _layout(fig, title, "task · sector")
    fig.update_layout(height=160 + 22 * len(rows), hovermode="closest", xaxis_title="week from")
    return fig


def validation_bars(table: pd.DataFrame, *, single: bool = False) -> go.Figure:
    """Official against simulated monthly encounters; the simulated bars carry the 5-95 % range
    over replications, none for a run of one replication (`single`), which has no range."""
    fig = go.Figure()
    labels = [f"{row.sector} {row.month:%Y-%m}" for row in table.itertuples()]
    fig.add_trace(go.Bar(x=labels, y=table["official"], name="official", marker_color="#7f7f7f"))
    spread = {
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": table["simulated_p95"] - table["simulated"],
            "arrayminus": table["simulated"] - table["simulated_p05"],
        }
    }
    fig.add_trace(
        go.Bar(
            x=labels,
            y=table["simulated"],
            name="simulated (one replication)"
            if single
            else "simulated (mean, 5-95 % over replications)",
            marker_color=COLORS[0],
            **({} if single else spread),
        )
    )
    fig = _layout(fig, "Monthly encounters per sector: simulated against official", "encounters")
    fig.update_layout(barmode="group", hovermode="closest")
    return fig


# ----- comparisons: B - A ---------------------------------------------------------------------


def difference_band(
    a: np.ndarray, b: np.ndarray, paired: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of B - A per day and its 95 % interval, from [R, D] arrays of each run.

    Each day's interval is the one the comparison table gives a KPI (`kpis.paired_difference`
    under common random numbers, else `kpis.welch_difference` with Welch-Satterthwaite degrees
    of freedom): NaN bounds, hence no band, where the table says "no interval" (one replication
    a side).
    """
    diff = paired_difference if paired else welch_difference
    days = [diff(a[:, d], b[:, d]) for d in range(a.shape[1])]
    mean = np.array([i.mean for i in days], dtype=np.float64)
    low = np.array([i.low for i in days], dtype=np.float64)
    high = np.array([i.high for i in days], dtype=np.float64)
    return mean, low, high


def difference(
    a: RunResult,
    b: RunResult,
    metrics: list[tuple[str, str]],
    title: str,
    y_title: str,
    paired: bool,
    sectors: Sequence[int],
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> go.Figure:
    """B - A per day for each metric, with the 95 % interval of the mean difference."""
    fig = go.Figure()
    for j, (metric, label) in enumerate(metrics):
        values_a = sector_total(a, metric, sectors)
        values_b = sector_total(b, metric, sectors)
        if transform is not None:
            values_a, values_b = transform(values_a), transform(values_b)
        mean, low, high = difference_band(values_a, values_b, paired)
        add_interval(fig, a.dates, mean, low, high, f"{label}: B - A", COLORS[j % len(COLORS)])
    fig.add_hline(y=0, line={"color": "#444", "width": 1})
    return _daily_layout(fig, title, y_title)


def capability_gap_difference(
    gap_a: CapabilityGap, gap_b: CapabilityGap, sector_names: list[str], chosen: Sequence[int]
) -> go.Figure:
    """B - A of the mean weekly gap, on a diverging scale centred at zero."""
    delta = gap_b.gap.mean(axis=0) - gap_a.gap.mean(axis=0)  # [W, S, T]
    either = np.maximum(gap_a.gap.mean(axis=0), gap_b.gap.mean(axis=0))
    rows, z = [], []
    for t in Task:
        for s in chosen:
            if either[:, s, t].any():
                rows.append(f"{t.name.lower()} · {sector_names[s]}")
                z.append(delta[:, s, t])
    if not rows:
        rows, z = ["(no gap in either)"], [np.zeros(len(gap_a.week_starts))]
    limit = float(np.max(np.abs(z))) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=_compact(np.array(z)),
            x=[d.isoformat() for d in gap_a.week_starts],
            y=rows,
            colorscale="RdBu_r",
            zmin=-limit,
            zmax=limit,
            colorbar={"title": "B - A staff-hours"},
        )
    )
    fig = _layout(
        fig, "Capability gap per week: B - A (red: B short of more staff-hours)", "task · sector"
    )
    fig.update_layout(height=160 + 22 * len(rows), hovermode="closest", xaxis_title="week from")
    return fig
