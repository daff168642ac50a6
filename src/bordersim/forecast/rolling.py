"""Rolling-origin forecasts of every method, the ensemble and their conformal quantiles.

`compute` runs every method at every origin of a contiguous range (each origin sees only the data
up to itself), adds the southwest total, builds the ensemble and the scores the intervals need.
The back-test harness and `bordersim forecast` both read this one object, so a forecast and its
back-test are the same computation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bordersim.errors import BordersimError
from bordersim.forecast import ensemble, intervals
from bordersim.forecast.data import SECTOR_CODES, TOTAL, MonthlySeries
from bordersim.forecast.methods import (
    METHODS,
    MIN_HISTORY_MONTHS,
    base_forecasts,
    from_log,
    to_log,
)
from bordersim.words import counted

ENSEMBLE = "ensemble"
SERIES_CODES: tuple[str, ...] = (*SECTOR_CODES, TOTAL)
N_SECTORS = len(SECTOR_CODES)


@dataclass(frozen=True)
class Rolling:
    series: MonthlySeries
    origins: np.ndarray  # [O] positions of the origins (last month known), consecutive
    horizon: int
    actual: np.ndarray  # [M, 10] encounters: nine sectors, then the southwest total
    levels: dict[str, np.ndarray]  # method -> [O, 10, H] level forecasts
    weights: np.ndarray  # [O, H, members] ensemble weights
    errors: dict[str, np.ndarray]  # method -> [O, 10, H] log errors, NaN where not yet known
    _scaled: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.levels)

    def row_of(self, origin: int) -> int:
        row = int(origin - self.origins[0])
        if not 0 <= row < self.origins.size:
            raise ValueError(f"origin {origin} was not computed")
        return row

    def quantile(self, method: str, origin: int, horizon: int, probability: float) -> np.ndarray:
        """[10] forecast quantiles at `origin` and `horizon`: NaN where too few past errors."""
        row = self.row_of(origin)
        point = self.levels[method][row, :, horizon - 1]
        if probability == 0.5:
            return point.copy()
        scores, scales = self.scaled_errors(method, horizon)
        offsets = intervals.scaled_quantiles(
            scores, scales, self.origins, row, horizon, probability, pooled=N_SECTORS
        )
        with np.errstate(over="ignore", invalid="ignore"):
            return from_log(to_log(point) + offsets)

    def scaled_errors(self, method: str, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """([O, 10] scores, [O, 10] scales): log errors over the scale known at their origin."""
        key = (method, horizon)
        if key not in self._scaled:
            errors = self.errors[method][:, :, horizon - 1]
            scales = intervals.error_scales(errors, self.origins, horizon)
            with np.errstate(invalid="ignore"):
                self._scaled[key] = (errors / scales, scales)
        return self._scaled[key]

    def quantiles(
        self, method: str, origin: int, horizon: int, probabilities: Sequence[float]
    ) -> np.ndarray:
        """[Q, 10] quantiles asked together, made monotone in the probability."""
        values = np.stack([self.quantile(method, origin, horizon, p) for p in probabilities])
        return intervals.monotone(np.asarray(probabilities, dtype=np.float64), values)

    def interval(
        self, method: str, origin: int, horizon: int, level: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The interval at `level`, nested in those of the other `intervals.LEVELS`."""
        tails = [p for lv in intervals.LEVELS for p in ((1 - lv) / 2, 1 - (1 - lv) / 2)]
        values = self.quantiles(method, origin, horizon, tails)
        tail = (1.0 - level) / 2.0
        return values[tails.index(tail)], values[tails.index(1.0 - tail)]


def origin_range(last_origin: int) -> np.ndarray:
    """Every origin from the first the data allows to `last_origin`.

    Always from the data's start, so that a forecast from a month is the same computation
    whatever window is asked for (its intervals read up to ten years of past errors, and the
    ensemble weights two).
    """
    return np.arange(MIN_HISTORY_MONTHS - 1, last_origin + 1, dtype=np.int64)


def check_origin(series: MonthlySeries, origin: int, what: str, where: str | None = None) -> None:
    """An origin (position `origin`, named `what`, set at `where`) with the history a forecast
    needs. The months before it are counted: the origin's own month is not before it."""
    if origin < MIN_HISTORY_MONTHS - 1:
        raise BordersimError(
            f"{what} {series.month_at(origin):%Y-%m} has {counted(origin, 'month')} of history "
            f"before it; forecasts need at least {MIN_HISTORY_MONTHS - 1} before it "
            f"({MIN_HISTORY_MONTHS} months of history, the origin's month included; the data "
            f"start {series.months[0]:%Y-%m})",
            where=where,
        )


def compute(
    series: MonthlySeries,
    origins: np.ndarray,
    horizon: int,
    *,
    methods: Sequence[str] = METHODS,
    members: Sequence[str] = ensemble.ENSEMBLE_MEMBERS,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Rolling:
    origins = np.asarray(origins, dtype=np.int64)
    if origins.size == 0 or np.any(np.diff(origins) != 1):
        raise ValueError("origins must be a non-empty consecutive range")
    sectors = series.sectors
    actual = np.column_stack([sectors, sectors.sum(axis=1)])
    base = base_forecasts(
        sectors,
        series.fiscal_months,
        origins,
        horizon,
        methods,
        jobs=jobs,
        progress=progress,
        months=series.months,
    )
    levels = {m: np.concatenate([f, f.sum(axis=1, keepdims=True)], axis=1) for m, f in base.items()}
    log_actual = to_log(actual)
    targets = origins[:, None] + np.arange(1, horizon + 1)[None, :]  # [O, H]
    known = targets < actual.shape[0]
    future = np.full((origins.size, actual.shape[1], horizon), np.nan)
    for h in range(horizon):
        rows = known[:, h]
        future[rows, :, h] = log_actual[targets[rows, h]]

    def log_errors(level: np.ndarray) -> np.ndarray:
        return future - to_log(level)

    member_errors = np.stack([log_errors(levels[m])[:, :N_SECTORS] for m in members])
    weights = np.empty((origins.size, horizon, len(members)))
    for row in range(origins.size):
        for h in range(1, horizon + 1):
            weights[row, h - 1] = ensemble.weights_at(member_errors, origins, row, h)
    member_logs = np.stack([to_log(levels[m][:, :N_SECTORS]) for m in members])  # [m, O, S, H]
    combined = from_log(np.einsum("rhm,mrsh->rsh", weights, member_logs))
    levels[ENSEMBLE] = np.concatenate([combined, combined.sum(axis=1, keepdims=True)], axis=1)

    errors = {m: log_errors(level) for m, level in levels.items()}
    return Rolling(
        series=series,
        origins=origins,
        horizon=horizon,
        actual=actual,
        levels=levels,
        weights=weights,
        errors=errors,
    )
