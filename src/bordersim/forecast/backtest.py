"""Rolling-origin back-test: errors, interval coverage and paired comparisons of the methods.

For each horizon h and each target month t of the window, every method forecasts t from the
origin t - h, with the data up to the origin only (`rolling.compute`). Per method, horizon and
series (nine sectors and the southwest total `SWB`):
- `mase`: mean of |forecast - actual| / scale, where scale is the mean absolute one-month change
  of the series over the `FIT_MONTHS` months up to the origin (in-sample MAE of the naive
  forecast; Hyndman and Koehler 2006). Last-month-naive therefore scores about 1 at one month.
- `mape`: mean of |forecast - actual| / actual, in percent.
- `bias`: mean of (forecast - actual) / actual, in percent: positive means over-forecast.
- `coverage80`, `coverage95`: share of target months inside the 80 % and 95 % intervals.
Paired comparisons take, per target month, the mean scaled error over the nine sectors of two
methods, and give the mean difference with a 95 % interval from a t statistic with a
Newey-West variance (Diebold and Mariano 1995): errors of overlapping horizons are correlated.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from scipy import stats

from bordersim.forecast import intervals, regimes
from bordersim.forecast.methods import FIT_MONTHS
from bordersim.forecast.rolling import ENSEMBLE, N_SECTORS, SERIES_CODES, Rolling

CSV_COLUMNS = ("method", "horizon", "sector", "mase", "mape", "bias", "coverage80", "coverage95")
DEFAULT_HORIZONS = (1, 3, 6)


@dataclass(frozen=True)
class Row:
    method: str
    horizon: int
    sector: str
    mase: float
    mape: float
    bias: float
    coverage80: float
    coverage95: float
    targets: int


@dataclass(frozen=True)
class Paired:
    method_a: str
    method_b: str
    horizon: int
    mean_difference: float  # mean scaled error of a minus b (negative: a is better)
    lower: float
    upper: float
    targets: int


@dataclass(frozen=True)
class Backtest:
    first_target: date
    last_target: date
    horizons: tuple[int, ...]
    rows: list[Row]
    paired: list[Paired]
    coverage_by_segment: dict[tuple[str, int, str], tuple[float, float, int]]  # (method,h,seg)

    def row(self, method: str, horizon: int, sector: str) -> Row:
        for row in self.rows:
            if (row.method, row.horizon, row.sector) == (method, horizon, sector):
                return row
        raise KeyError((method, horizon, sector))

    def sector_mean(self, method: str, horizon: int, metric: str) -> float:
        """Mean of a metric over the nine sectors (each sector counts once)."""
        values = [
            getattr(row, metric)
            for row in self.rows
            if row.method == method and row.horizon == horizon and row.sector != "SWB"
        ]
        return _mean(np.asarray(values, dtype=np.float64))  # NaN, without a warning, if none

    def methods(self) -> list[str]:
        return list(dict.fromkeys(row.method for row in self.rows))

    def write_csv(self, path: Path) -> Path:
        from bordersim.output_files import write_atomically

        lines = [",".join(CSV_COLUMNS)]
        for row in self.rows:
            values = [getattr(row, column) for column in CSV_COLUMNS]
            lines.append(",".join(_csv_value(value) for value in values))
        return write_atomically(path, "\n".join(lines) + "\n")


def _csv_value(value: object) -> str:
    """A measure to six significant digits, written out (never `1.2e+06`: a spreadsheet or a
    reader of the file takes every other number of it as positional) and its whole part kept;
    a missing one empty."""
    if not isinstance(value, float):
        return str(value)
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return f"{value:g}"
    whole_digits = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    return np.format_float_positional(
        value, precision=max(6, whole_digits), fractional=False, trim="-"
    )


def naive_scale(actual: np.ndarray) -> np.ndarray:
    """[M, K] mean absolute one-month change over the `FIT_MONTHS` months up to each month."""
    changes = np.abs(np.diff(actual, axis=0, prepend=actual[:1]))
    cumulative = np.cumsum(changes, axis=0)
    counts = np.arange(actual.shape[0], dtype=np.float64)[:, None] * np.ones(actual.shape[1])
    window = cumulative.copy()
    window_counts = counts.copy()
    window[FIT_MONTHS:] -= cumulative[:-FIT_MONTHS]
    window_counts[FIT_MONTHS:] -= counts[:-FIT_MONTHS]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = window / window_counts
    return np.where(np.isfinite(scale) & (scale > 0), scale, np.nan)


def target_positions(rolling: Rolling, first: int, last: int, horizon: int) -> np.ndarray:
    """Target months of the window whose origin was computed and whose value is known."""
    targets = np.arange(first, last + 1)
    origins = targets - horizon
    keep = (origins >= rolling.origins[0]) & (origins <= rolling.origins[-1])
    keep &= targets < rolling.actual.shape[0]
    return targets[keep]


def evaluate(
    rolling: Rolling,
    first_target: int,
    last_target: int,
    horizons: tuple[int, ...] = DEFAULT_HORIZONS,
) -> Backtest:
    scale = naive_scale(rolling.actual)
    rows: list[Row] = []
    losses: dict[tuple[str, int], np.ndarray] = {}
    segment_cover: dict[tuple[str, int, str], tuple[float, float, int]] = {}
    for method in rolling.methods:
        for horizon in horizons:
            scored = _score(rolling, method, horizon, first_target, last_target, scale)
            rows.extend(_rows(scored))
            losses[(method, horizon)] = np.nanmean(scored.scaled[:, :N_SECTORS], axis=1)
            for segment, cover in _coverage_by_segment(rolling, scored).items():
                segment_cover[(method, horizon, segment)] = cover
    paired = [
        paired_difference(losses[(a, h)], losses[(b, h)], a, b, h)
        for h in horizons
        for a, b in comparison_pairs(rolling.methods)
    ]
    return Backtest(
        first_target=rolling.series.month_at(first_target),
        last_target=rolling.series.month_at(last_target),
        horizons=tuple(horizons),
        rows=rows,
        paired=paired,
        coverage_by_segment=segment_cover,
    )


@dataclass(frozen=True)
class _Scored:
    """One method's forecasts at one horizon against the target months, per series."""

    method: str
    horizon: int
    targets: np.ndarray  # positions of the target months
    actual: np.ndarray  # [targets, series]
    lower: dict[float, np.ndarray]  # interval level -> [targets, series]
    upper: dict[float, np.ndarray]
    scaled: np.ndarray  # |forecast - actual| / scale
    relative: np.ndarray  # (forecast - actual) / actual, percent; NaN where actual is 0


def _score(
    rolling: Rolling,
    method: str,
    horizon: int,
    first_target: int,
    last_target: int,
    scale: np.ndarray,
) -> _Scored:
    targets = target_positions(rolling, first_target, last_target, horizon)
    origins = targets - horizon
    forecast = rolling.levels[method][origins - rolling.origins[0], :, horizon - 1]
    actual = rolling.actual[targets]
    tails = (0.025, 0.10, 0.90, 0.975)
    if origins.size:
        bands = np.stack(
            [rolling.quantiles(method, int(o), horizon, tails) for o in origins], axis=1
        )  # [4, targets, 10]
    else:  # no target month of the window has a forecast from its origin (too near the start)
        bands = np.empty((len(tails), 0, actual.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(actual > 0, (forecast - actual) / actual, np.nan) * 100.0
    return _Scored(
        method=method,
        horizon=horizon,
        targets=targets,
        actual=actual,
        lower={0.95: bands[0], 0.80: bands[1]},
        upper={0.80: bands[2], 0.95: bands[3]},
        scaled=np.abs(forecast - actual) / scale[origins],
        relative=relative,
    )


def _rows(scored: _Scored) -> list[Row]:
    """One row per series: errors, bias and the coverage of both intervals."""
    actual, lower, upper = scored.actual, scored.lower, scored.upper
    return [
        Row(
            method=scored.method,
            horizon=scored.horizon,
            sector=code,
            mase=_mean(scored.scaled[:, k]),
            mape=_mean(np.abs(scored.relative[:, k])),
            bias=_mean(scored.relative[:, k]),
            coverage80=intervals.coverage(actual[:, k], lower[0.80][:, k], upper[0.80][:, k]),
            coverage95=intervals.coverage(actual[:, k], lower[0.95][:, k], upper[0.95][:, k]),
            targets=int(scored.targets.size),
        )
        for k, code in enumerate(SERIES_CODES)
    ]


def _coverage_by_segment(rolling: Rolling, scored: _Scored) -> dict[str, tuple[float, float, int]]:
    """Coverage of the 80 % and 95 % intervals over all series, per policy regime segment of
    the target months, with the number of target months in it."""
    months = rolling.series
    segments = np.array([regimes.segment_of(months.month_at(int(t))) for t in scored.targets])
    cover: dict[str, tuple[float, float, int]] = {}
    for segment in dict.fromkeys(segments):
        chosen = segments == segment
        actual = scored.actual[chosen].ravel()
        cover[str(segment)] = (
            intervals.coverage(
                actual, scored.lower[0.80][chosen].ravel(), scored.upper[0.80][chosen].ravel()
            ),
            intervals.coverage(
                actual, scored.lower[0.95][chosen].ravel(), scored.upper[0.95][chosen].ravel()
            ),
            int(chosen.sum()),
        )
    return cover


def comparison_pairs(methods: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = [(ENSEMBLE, other) for other in methods if other != ENSEMBLE]
    if "calibration" in methods and "naive" in methods:
        pairs.append(("calibration", "naive"))
    return pairs


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def newey_west_lag(n: int, horizon: int) -> int:
    """max(h - 1, floor(4 (n / 100)^(2/9))): overlapping horizons, then the usual rule."""
    return max(horizon - 1, math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def paired_difference(
    loss_a: np.ndarray, loss_b: np.ndarray, method_a: str, method_b: str, horizon: int
) -> Paired:
    difference = np.asarray(loss_a - loss_b, dtype=np.float64)
    difference = difference[np.isfinite(difference)]
    n = difference.size
    if n < 3:
        return Paired(method_a, method_b, horizon, math.nan, math.nan, math.nan, n)
    mean = float(difference.mean())
    centred = difference - mean
    lag = min(newey_west_lag(n, horizon), n - 1)
    variance = float(centred @ centred) / n
    for k in range(1, lag + 1):
        variance += 2.0 * (1.0 - k / (lag + 1)) * float(centred[k:] @ centred[:-k]) / n
    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(max(variance, 0.0) / n)
    return Paired(method_a, method_b, horizon, mean, mean - half, mean + half, n)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
