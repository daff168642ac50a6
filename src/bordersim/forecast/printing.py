"""Terminal tables and CSV files of forecasts and back-tests."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from bordersim.forecast import (
    GROUP_SHARE_MONTHS,
    group_split_note,
    sectors_without_data,
    sectors_without_data_note,
)
from bordersim.forecast.data import DEMOGRAPHIC_CODES, sector_label
from bordersim.forecast.methods import METHOD_LABELS
from bordersim.forecast.rolling import ENSEMBLE, N_SECTORS, SERIES_CODES
from bordersim.words import counted, whole_percent

if TYPE_CHECKING:
    from bordersim.forecast import Forecast
    from bordersim.forecast.backtest import Backtest

QUANTILES = (0.025, 0.10, 0.5, 0.90, 0.975)
#: The demographic groups in words, beside forecast.csv's codes.
GROUP_WORDS = {
    "single_adult": "single adults",
    "family_unit": "family unit members",
    "unaccompanied_child": "unaccompanied children",
}


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"{value:,.0f}"


def _interval(low: float, high: float) -> str:
    """`low - high`, or `n/a` where there is no interval (too few past errors: NaN bounds)."""
    if math.isnan(low) or math.isnan(high):
        return "n/a"
    return f"{_number(low)} - {_number(high)}"


def _share(value: float) -> str:
    return "n/a" if math.isnan(value) else whole_percent(value)


def _metric(value: float, digits: int = 2) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def forecast_table(forecast: Forecast) -> tuple[list[str], list[list[str]]]:
    """Rows of sector, month, forecast, 80 % and 95 % intervals (sectors, then the total)."""
    values = forecast.totals_set(QUANTILES)
    quantiles = {p: values[i] for i, p in enumerate(QUANTILES)}
    rows = []
    missing = sectors_without_data(forecast.series, forecast.origin_position)
    for k, code in enumerate(SERIES_CODES):
        for h, month in enumerate(forecast.months):
            if code in missing:  # a 0 with n/a intervals read as a forecast of no encounters
                rows.append([f"{code} {sector_label(code)}", f"{month:%Y-%m}", "no data", "", ""])
                continue
            rows.append(
                [
                    f"{code} {sector_label(code)}",
                    f"{month:%Y-%m}",
                    _number(quantiles[0.5][h, k]),
                    _interval(quantiles[0.10][h, k], quantiles[0.90][h, k]),
                    _interval(quantiles[0.025][h, k], quantiles[0.975][h, k]),
                ]
            )
    return ["sector", "month", "forecast", "80 % interval", "95 % interval"], rows


def forecast_title(forecast: Forecast) -> str:
    """What the forecast covers and what it was made from: the data up to its origin only,
    whatever they hold after it; the data named by their source (the OHSS workbook the store
    holds, as report.html names it), not as the store's: a CBP CSV there may run further."""
    months = forecast.months
    span = f"{months[0]:%Y-%m}" if len(months) == 1 else f"{months[0]:%Y-%m} .. {months[-1]:%Y-%m}"
    series = forecast.series
    return (
        f"Encounters forecast for {span} (ensemble), from the data up to {forecast.origin:%Y-%m} "
        f"(the origin; data: {series.source}, "
        f"{series.months[0]:%Y-%m} .. {series.months[-1]:%Y-%m})"
    )


def scored_sectors(result: Backtest) -> str:
    """The sectors the back-test's means are over: "the nine sectors", or those with a score
    where a release leaves sectors out (their rows have none, and the means skip them)."""
    scored = {row.sector for row in result.rows if row.sector != "SWB" and not math.isnan(row.mase)}
    if len(scored) == N_SECTORS or not scored:
        return "the nine sectors"
    codes = ", ".join(code for code in SERIES_CODES if code in scored)
    return f"the {counted(len(scored), 'sector')} with data ({codes})"


def backtest_words(result: Backtest) -> str:
    """How the ensemble did in the back-test up to the origin, in one sentence: its intervals'
    coverage and its mean absolute percentage error, per horizon, over the nine sectors."""
    targets = max((row.targets for row in result.rows), default=0)
    if targets == 0:
        return (
            f"Back-test up to the origin: no month up to {result.last_target:%Y-%m} has an "
            "earlier forecast to score yet, so how this forecast does is not measured."
        )
    parts = []
    for horizon in result.horizons:
        c80 = result.sector_mean(ENSEMBLE, horizon, "coverage80")
        c95 = result.sector_mean(ENSEMBLE, horizon, "coverage95")
        mape = result.sector_mean(ENSEMBLE, horizon, "mape")
        parts.append(
            f"{counted(horizon, 'month')} ahead, {_coverage_words(c80, c95)}, and "
            + _error_words(mape)
        )
    return (
        f"Back-test of the ensemble up to the origin ({counted(targets, 'target month')}, "
        f"{result.first_target:%Y-%m} .. {result.last_target:%Y-%m}, each forecast from the "
        f"data up to its own origin; the mean over {scored_sectors(result)}): "
        f"{'; '.join(parts)}. "
        "report.html and backtest.csv give every method."
    )


def _error_words(mape: float) -> str:
    """The mean absolute percentage error, or why there is none: a month without encounters
    has no relative error (NaN where no target month had any)."""
    if math.isnan(mape):
        return "its percentage error is not defined (no target month had encounters)"
    return f"the forecast was off by {_metric(mape, 1)} % on average"


def _coverage_words(c80: float, c95: float) -> str:
    """Each interval's coverage, or why it has none (NaN: too few past errors to set it), not
    an unexplained `n/a`."""
    if math.isnan(c80) and math.isnan(c95):
        return "no interval had the past errors it needs yet"
    unscored = "did not have the past errors it needs yet"
    if math.isnan(c95):
        return (
            f"the 80 % interval held {_share(c80)} of the months, and the 95 % interval {unscored}"
        )
    if math.isnan(c80):
        return (
            f"the 80 % interval {unscored}, and the 95 % interval held {_share(c95)} of the months"
        )
    return f"the 80 % interval held {_share(c80)} of the months and the 95 % interval {_share(c95)}"


def print_forecast(console: Console, forecast: Forecast, backtest: Backtest | None = None) -> None:
    header, rows = forecast_table(forecast)
    table = Table(title=forecast_title(forecast))
    for column in header:
        table.add_column(column, justify="left" if column in ("sector", "month") else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    position = forecast.origin_position
    first = forecast.series.month_at(max(0, position + 1 - GROUP_SHARE_MONTHS))
    groups = Table(
        title="Southwest border by demographic group (shares of "
        f"{first:%Y-%m} .. {forecast.origin:%Y-%m})"
    )
    groups.add_column("group")
    groups.add_column("share", justify="right")
    for month in forecast.months:
        groups.add_column(f"{month:%Y-%m}", justify="right")
    medians = forecast.quantiles([0.5])[0].sum(axis=1)  # [H, 3]
    for g, code in enumerate(DEMOGRAPHIC_CODES):
        groups.add_row(
            f"{GROUP_WORDS.get(code, code)} ({code})",
            _share(float(forecast.group_shares[g])),
            *[_number(float(medians[h, g])) for h in range(forecast.horizon)],
        )
    console.print(groups)
    for note in (
        sectors_without_data_note(forecast.series, forecast.origin_position),
        group_split_note(forecast.series, forecast.origin_position),
    ):
        if note is not None:
            console.print(note, highlight=False)
    if backtest is not None:
        console.print(backtest_words(backtest), highlight=False)


def write_forecast_csv(path: Path, forecast: Forecast) -> Path:
    """forecast.csv: per month, each sector and its groups, then the southwest total. A sector
    without data up to the origin keeps its rows with empty quantiles, the `no data` of the
    terminal and the report (a 0.0 would read as a forecast of no encounters)."""
    from bordersim.output_files import write_atomically

    table = forecast.totals_set(QUANTILES)
    totals = {p: table[i] for i, p in enumerate(QUANTILES)}
    missing = sectors_without_data(forecast.series, forecast.origin_position)
    header = "month,sector,group," + ",".join(f"q{p:g}" for p in QUANTILES)
    lines = [header]
    for h, month in enumerate(forecast.months):
        for k, code in enumerate(SERIES_CODES):
            values = None if code in missing else [totals[p][h, k] for p in QUANTILES]
            lines.append(f"{month:%Y-%m},{code},all," + _csv_quantiles(values, 1.0))
            if k >= N_SECTORS:
                continue
            for g, group in enumerate(DEMOGRAPHIC_CODES):
                share = float(forecast.group_shares[g])
                lines.append(f"{month:%Y-%m},{code},{group}," + _csv_quantiles(values, share))
    return write_atomically(path, "\n".join(lines) + "\n")


def _csv_quantiles(values: list[float] | None, share: float) -> str:
    """The quantiles times `share`, to one decimal; an empty cell where there is no value (a
    bound without an interval; every cell of a sector without data, `values` None), as
    backtest.csv writes a missing value."""
    if values is None:
        return "," * (len(QUANTILES) - 1)
    return ",".join("" if math.isnan(v) else f"{v * share:.1f}" for v in values)


def backtest_summary(result: Backtest, horizon: int) -> list[list[str]]:
    """Per method: mean over sectors of MASE, MAPE, bias, coverage; then the southwest total."""
    rows = []
    for method in result.methods():
        total = result.row(method, horizon, "SWB")
        rows.append(
            [
                METHOD_LABELS.get(method, method),
                _metric(result.sector_mean(method, horizon, "mase")),
                _metric(result.sector_mean(method, horizon, "mape"), 1),
                _metric(result.sector_mean(method, horizon, "bias"), 1),
                _share(result.sector_mean(method, horizon, "coverage80")),
                _share(result.sector_mean(method, horizon, "coverage95")),
                _metric(total.mase),
                _metric(total.mape, 1),
                _metric(total.bias, 1),
                _share(total.coverage80),
                _share(total.coverage95),
            ]
        )
    return rows


SUMMARY_HEADER = [
    "method",
    "MASE",
    "MAPE %",
    "bias %",
    "cov 80",
    "cov 95",
    "SWB MASE",
    "SWB MAPE %",
    "SWB bias %",
    "SWB cov 80",
    "SWB cov 95",
]


def paired_rows(result: Backtest) -> list[list[str]]:
    """Per pair and horizon: the difference, its interval and the verdict, the methods named by
    their labels, as in the summary tables above it."""
    rows = []
    for pair in result.paired:
        a, b = (METHOD_LABELS.get(method, method) for method in (pair.method_a, pair.method_b))
        if np.isnan(pair.mean_difference):
            verdict = "n/a"
        elif pair.upper < 0:
            verdict = f"{a} better"
        elif pair.lower > 0:
            verdict = f"{b} better"
        else:
            verdict = "no difference shown"
        rows.append(
            [
                str(pair.horizon),
                f"{a} - {b}",
                _metric(pair.mean_difference, 3),
                f"{_metric(pair.lower, 3)} .. {_metric(pair.upper, 3)}",
                verdict,
            ]
        )
    return rows


PAIRED_HEADER = ["h", "difference", "mean scaled error", "95 % interval", "verdict"]


def print_backtest(console: Console, result: Backtest, source: str) -> None:
    targets = max((row.targets for row in result.rows), default=0)
    console.print(
        f"Rolling-origin back-test, target months {result.first_target:%Y-%m} .. "
        f"{result.last_target:%Y-%m} ({targets} per horizon), data: {source}",
        highlight=False,
        markup=False,  # the source names a file: `ohss[new].xlsx` is shown so
    )
    console.print(
        f"MASE, MAPE, bias and coverage: mean over {scored_sectors(result)}, then the southwest "
        "total (SWB). MASE scale: mean absolute one-month change over the ten years up to the "
        "origin (fewer where the data start later).",
        highlight=False,
    )
    for horizon in result.horizons:
        table = Table(title=f"{counted(horizon, 'month')} ahead")
        for column in SUMMARY_HEADER:
            table.add_column(column, justify="left" if column == "method" else "right")
        for row in backtest_summary(result, horizon):
            table.add_row(*row)
        console.print(table)
    paired = Table(
        title="Paired differences of per-month mean scaled error over sectors (Newey-West t)"
    )
    for column in PAIRED_HEADER:
        paired.add_column(column)
    for row in paired_rows(result):
        paired.add_row(*row)
    console.print(paired)
    segments = Table(title="Ensemble interval coverage by Title 42 segment (sectors and SWB)")
    for column in ("h", "segment", "target months", "cov 80", "cov 95"):
        segments.add_column(column)
    for horizon, segment, n, c80, c95 in segment_coverage_rows(result):
        segments.add_row(str(horizon), segment, str(n), c80, c95)
    console.print(segments)


def segment_coverage_rows(result: Backtest) -> list[tuple[int, str, int, str, str]]:
    """The ensemble's coverage per horizon and Title 42 segment: horizon, segment, target
    months, then the 80 % and 95 % coverage (`n/a` where no interval was finite yet)."""
    return [
        (horizon, segment, n, _share(c80), _share(c95))
        for (method, horizon, segment), (c80, c95, n) in result.coverage_by_segment.items()
        if method == ENSEMBLE
    ]
