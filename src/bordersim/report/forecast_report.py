"""The forecast report: fan charts per sector, back-test tables, ensemble weights and why.

One self-contained HTML page (`report.page.Page`), written atomically.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from bordersim.forecast import (
    ensemble,
    group_split_note,
    intervals,
    regimes,
    sectors_without_data,
    sectors_without_data_note,
)
from bordersim.forecast.data import sector_label
from bordersim.forecast.methods import METHOD_LABELS
from bordersim.forecast.printing import (
    PAIRED_HEADER,
    SUMMARY_HEADER,
    backtest_summary,
    forecast_table,
    paired_rows,
    scored_sectors,
    segment_coverage_rows,
)
from bordersim.forecast.rolling import ENSEMBLE, SERIES_CODES, Rolling
from bordersim.report.page import Page
from bordersim.words import counted, whole_percent

if TYPE_CHECKING:
    from bordersim.forecast import Forecast
    from bordersim.forecast.backtest import Backtest

HISTORY_SHOWN_MONTHS = 36
BAND_COLOR = "31,119,180"

WHY_ENSEMBLE = (
    "The ensemble averages the log forecasts of its members with weights proportional to the "
    "inverse of each member's mean squared log error over the last {window} target months "
    "already observed at the origin, pooled over the nine sectors, separately per horizon "
    "(Bates and Granger 1969, without covariances). Members: {members}. Seasonal naive is left "
    "out because it is far worse than the others one to three months ahead, and ETS because it "
    "added nothing over ARIMA and Theta; both choices, the window and the weighting rule were "
    "made on target months before FY2016 only, never on the FY2016-FY2023 back-test."
)


def fan_chart(forecast: Forecast, column: int) -> go.Figure:
    code = SERIES_CODES[column]
    series = forecast.series
    origin = forecast.origin_position
    start = max(0, origin - HISTORY_SHOWN_MONTHS + 1)
    history_months = [series.month_at(t) for t in range(start, origin + 1)]
    history = forecast.rolling.actual[start : origin + 1, column]
    months = list(forecast.months)
    fig = go.Figure()
    bands = forecast.totals_set([0.025, 0.1, 0.9, 0.975])[:, :, column]
    for level, alpha, low, high in (
        (0.95, 0.15, bands[0], bands[3]),
        (0.80, 0.3, bands[1], bands[2]),
    ):
        fig.add_trace(
            go.Scatter(
                x=months + months[::-1],
                y=np.concatenate([high, low[::-1]]),
                fill="toself",
                fillcolor=f"rgba({BAND_COLOR},{alpha})",
                line={"width": 0},
                name=f"{whole_percent(level)} interval",
                hoverinfo="skip",
            )
        )
    fig.add_trace(go.Scatter(x=history_months, y=history, name="official", line={"color": "#222"}))
    later = range(origin + 1, min(origin + 1 + forecast.horizon, forecast.rolling.actual.shape[0]))
    if len(later):
        fig.add_trace(
            go.Scatter(
                x=[series.month_at(t) for t in later],
                y=forecast.rolling.actual[list(later), column],
                name="official, after the origin",
                line={"color": "#222", "dash": "dot"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=forecast.totals(0.5)[:, column],
            name="ensemble",
            line={"color": f"rgb({BAND_COLOR})"},
        )
    )
    fig.update_layout(
        title=f"{code} {sector_label(code)}",
        template="plotly_white",
        height=320,
        margin={"l": 60, "r": 20, "t": 40, "b": 30},
        yaxis_title="encounters per month",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def _backtest_sections(page: Page, result: Backtest) -> None:
    targets = max((row.targets for row in result.rows), default=0)
    page.paragraph(
        f"Target months {result.first_target:%Y-%m} .. {result.last_target:%Y-%m}, {targets} per "
        "horizon; every forecast uses only the data up to its origin. MASE, MAPE, bias and "
        f"coverage are means over {scored_sectors(result)}, then the southwest total (SWB). "
        "MASE divides "
        "by the mean absolute one-month change over the ten years up to the origin (fewer "
        "where the data start later)."
    )
    for horizon in result.horizons:
        page.paragraph(f"{counted(horizon, 'month')} ahead", "muted")
        page.table(SUMMARY_HEADER, backtest_summary(result, horizon))
    page.paragraph(
        "Paired differences: per target month, the mean scaled error over sectors of one method "
        "minus the other's; 95 % interval of the mean from a t statistic with a Newey-West "
        "variance. An interval that includes zero shows no difference."
    )
    page.table(PAIRED_HEADER, paired_rows(result))
    rows = [[METHOD_LABELS[ENSEMBLE], *row] for row in segment_coverage_rows(result)]
    page.paragraph("Ensemble interval coverage by Title 42 segment (sectors and SWB pooled).")
    page.table(["method", "h", "segment", "target months", "coverage 80 %", "coverage 95 %"], rows)


def _weights_section(page: Page, rolling: Rolling, origin: int, horizons: list[int]) -> None:
    members = list(ensemble.ENSEMBLE_MEMBERS)
    page.paragraph(
        WHY_ENSEMBLE.format(
            window=ensemble.ENSEMBLE_WINDOW,
            members=", ".join(METHOD_LABELS[m] for m in members),
        )
    )
    row = rolling.row_of(origin)
    page.table(
        ["horizon", *[METHOD_LABELS[m] for m in members]],
        [[h, *[f"{w:.2f}" for w in rolling.weights[row, h - 1]]] for h in horizons],
    )


def _method_section(page: Page) -> None:
    page.paragraph(
        "Intervals are locally weighted split-conformal: each method's own log errors at the "
        "same horizon, divided by the root mean square of that series' errors over the "
        f"{intervals.SCALE_MONTHS} target months before, pooled over the nine sectors for the "
        f"last {intervals.CONFORMAL_WINDOW} target months known at the origin; their quantiles "
        "are multiplied by the scale at the origin. Regimes used to read coverage:"
    )
    page.table(
        ["regime", "in force", "announced", "source"],
        [
            [
                r.description,
                f"{r.first_day} .. {r.last_day or 'open'}",
                f"start {r.start_announced}; end {r.end_announced or 'not announced'}",
                r.source,
            ]
            for r in regimes.regimes()
        ],
    )


def write_forecast_report(path: Path, forecast: Forecast, result: Backtest) -> Path:
    page = Page(f"bordersim forecast from {forecast.origin:%Y-%m}")
    page.paragraph(
        f"Data: {forecast.series.source}; {forecast.series.months[0]:%Y-%m} .. "
        f"{forecast.series.months[-1]:%Y-%m}. Origin {forecast.origin:%Y-%m} (the last month "
        f"used), {counted(forecast.horizon, 'month')} ahead.",
        "muted",
    )
    note = group_split_note(forecast.series, forecast.origin_position)
    if note is not None:  # the groups of forecast.csv and the terminal's table
        page.paragraph(f"Groups: {note}")
    missing = sectors_without_data_note(forecast.series, forecast.origin_position)
    if missing is not None:  # the sectors the table marks "no data"
        page.paragraph(missing)
    page.heading("Fan charts")
    without_data = sectors_without_data(forecast.series, forecast.origin_position)
    for column, code in enumerate(SERIES_CODES):
        if code not in without_data:  # its chart would draw a forecast of 0 (the note says why)
            page.figure(fan_chart(forecast, column))
    page.heading("Forecasts")
    header, rows = forecast_table(forecast)
    page.table(header, rows)
    page.heading("Ensemble weights and why")
    _weights_section(
        page, forecast.rolling, forecast.origin_position, list(range(1, forecast.horizon + 1))
    )
    page.heading("Back-test up to the origin")
    _backtest_sections(page, result)
    page.heading("Method")
    _method_section(page)
    return page.write(path)


def write_backtest_report(path: Path, rolling: Rolling, result: Backtest) -> Path:
    page = Page(
        f"bordersim forecast back-test {result.first_target:%Y-%m} .. {result.last_target:%Y-%m}"
    )
    page.paragraph(f"Data: {rolling.series.source}.", "muted")
    page.heading("Back-test")
    _backtest_sections(page, result)
    page.heading("Ensemble weights over the window")
    last_origin = int(rolling.origins[-1])
    _weights_section(page, rolling, last_origin, list(result.horizons))
    page.figure(_weights_figure(rolling, list(result.horizons)))
    page.heading("Method")
    _method_section(page)
    return page.write(path)


def _weights_figure(rolling: Rolling, horizons: list[int]) -> go.Figure:
    months: list[date] = [rolling.series.month_at(int(o)) for o in rolling.origins]
    fig = go.Figure()
    for index, member in enumerate(ensemble.ENSEMBLE_MEMBERS):
        fig.add_trace(
            go.Scatter(
                x=months,
                y=rolling.weights[:, horizons[0] - 1, index],
                name=METHOD_LABELS[member],
                stackgroup="weights",
            )
        )
    fig.update_layout(
        title=f"Ensemble weights by origin, {counted(horizons[0], 'month')} ahead",
        template="plotly_white",
        height=320,
        yaxis_title="weight",
    )
    return fig
