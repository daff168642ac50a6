"""Demand forecasts: monthly encounters per sector and demographic group, 1-12 months ahead.

`forecast_at(series, origin, horizon)` runs every method with rolling origins up to `origin`
(only data up to each origin), builds the ensemble and conformal intervals, and returns a
`Forecast`. Planners read it through:
- `Forecast.quantiles(probabilities)`: [Q, H, 9 sectors, 3 groups] encounter quantiles;
- `Forecast.sample_paths(n, seed)`: [N, H, 9, 3] joint sample paths (past error trajectories of
  all sectors at once, so that months and sectors move together as they did).
`backtest.evaluate` measures the same computation on any window. See docs/forecast.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from bordersim.errors import BordersimError
from bordersim.forecast import intervals
from bordersim.forecast.data import SECTOR_CODES, MonthlySeries, sector_label
from bordersim.forecast.methods import METHODS, from_log, to_log
from bordersim.forecast.rolling import (
    ENSEMBLE,
    N_SECTORS,
    Rolling,
    check_origin,
    compute,
    origin_range,
)
from bordersim.words import counted

MAX_HORIZON = 12
GROUP_SHARE_MONTHS = 3  # group shares held at their mean over the last 3 months (assumption)
REPORT_BACKTEST_MONTHS = 24  # target months up to the origin in the forecast's own back-test

__all__ = ["ENSEMBLE", "MAX_HORIZON", "Forecast", "MonthlySeries", "forecast_at", "group_shares_at"]


@dataclass(frozen=True)
class Forecast:
    series: MonthlySeries
    origin: date  # the last month known
    horizon: int
    rolling: Rolling
    group_shares: np.ndarray  # [3] demographic shares applied to every sector and month

    @property
    def origin_position(self) -> int:
        return self.series.index_of(self.origin, "origin")

    @property
    def months(self) -> tuple[date, ...]:
        return tuple(
            self.series.month_at(self.origin_position + h) for h in range(1, self.horizon + 1)
        )

    def totals(self, probability: float, method: str = ENSEMBLE) -> np.ndarray:
        """[H, 10] quantile of encounters per month: nine sectors, then the southwest total."""
        return self.totals_set([probability], method)[0]

    def totals_set(self, probabilities: Sequence[float], method: str = ENSEMBLE) -> np.ndarray:
        """[Q, H, 10] quantiles asked together (monotone in the probability)."""
        return np.stack(
            [
                self.rolling.quantiles(method, self.origin_position, h, probabilities)
                for h in range(1, self.horizon + 1)
            ],
            axis=1,
        )

    def quantiles(self, probabilities: Sequence[float], method: str = ENSEMBLE) -> np.ndarray:
        """[Q, H, 9, 3] encounter quantiles per month, sector and demographic group.

        Each is a marginal quantile of its sector and month, split by the group shares.
        """
        if len(probabilities) == 0:  # numpy's own error ("need at least one array") says less
            raise BordersimError("quantiles: give at least one probability, such as [0.5, 0.9]")
        for p in probabilities:
            if not 0.0 < p < 1.0:
                raise BordersimError(f"quantile {p} must lie strictly between 0 and 1")
        totals = self.totals_set(probabilities, method)[:, :, :N_SECTORS]
        return totals[..., None] * self.group_shares

    def sample_paths(self, paths: int, seed: int, method: str = ENSEMBLE) -> np.ndarray:
        """[N, H, 9, 3] sample paths: the forecast moved by one past origin's scaled errors.

        A path draws one past origin of the conformal window whose whole horizon is known, and
        adds to each sector's log forecast that origin's scores (errors over the scale then)
        times today's scale, at every horizon. A path so keeps the joint behaviour of months and
        sectors seen then, at today's size of errors.
        """
        for name, value in (("paths", paths), ("seed", seed)):
            _check_whole(name, value)
        rolling, origin = self.rolling, self.origin_position
        row = rolling.row_of(origin)
        past = intervals.past_error_rows(rolling.origins, origin, self.horizon)
        scores = np.empty((past.size, N_SECTORS, self.horizon))
        today = np.empty((N_SECTORS, self.horizon))
        for h in range(1, self.horizon + 1):
            scaled, scales = rolling.scaled_errors(method, h)
            scores[:, :, h - 1] = scaled[past, :N_SECTORS]
            today[:, h - 1] = scales[row, :N_SECTORS]
        complete = np.isfinite(scores).all(axis=(1, 2))
        scores = scores[complete]
        if scores.shape[0] == 0 or not np.isfinite(today).all():
            known = "the month after it" if self.horizon == 1 else f"all {self.horizon} months"
            raise BordersimError(
                f"no past origin with {known} known before "
                f"{self.origin:%Y-%m}: sample paths need more history"
            )
        point = rolling.levels[method][row, :N_SECTORS, : self.horizon]
        draws = np.random.default_rng(seed).integers(0, scores.shape[0], size=paths)
        sectors = from_log(to_log(point)[None] + scores[draws] * today[None])  # [N, S, H]
        return np.transpose(sectors, (0, 2, 1))[..., None] * self.group_shares


def _check_whole(name: str, value: object) -> None:
    """A count or a seed from Python: a whole number of at least 0, refused in words naming the
    argument (numpy's own errors name neither)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise BordersimError(f"{name} {value!r} must be a whole number of at least 0")


#: The first months of the official data that split family unit members (FY2012) and
#: unaccompanied children (FY2008) from single adults; before them everyone counts as a single
#: adult (docs/calibration.md, docs/forecast.md).
FAMILY_SPLIT_FROM = date(2011, 10, 1)
CHILD_SPLIT_FROM = date(2007, 10, 1)


def group_split_note(series: MonthlySeries, origin: int) -> str | None:
    """A note for a forecast whose group shares (the `GROUP_SHARE_MONTHS` months up to position
    `origin`) take in months before FY2012, where the data have no single-adult split; None
    otherwise."""
    first = series.month_at(max(0, origin + 1 - GROUP_SHARE_MONTHS))
    if first >= FAMILY_SPLIT_FROM:
        return None
    counted_as = (
        "family unit members and unaccompanied children"
        if first < CHILD_SPLIT_FROM
        else "family unit members"
    )
    return (
        f"The group shares come from months before FY2012 ({first:%Y-%m} .. "
        f"{series.month_at(origin):%Y-%m}), where the official data have no single-adult "
        f"split: {counted_as} are counted as single adults, so the single-adult share is "
        "overstated (the totals are not affected)."
    )


def sectors_without_data(series: MonthlySeries, origin: int) -> list[str]:
    """The codes of the sectors with no encounter in any month up to position `origin`: a
    release that leaves a sector out, whose forecast would be a 0 with no interval."""
    seen = series.sectors[: origin + 1].sum(axis=0)
    return [code for code, total in zip(SECTOR_CODES, seen, strict=True) if total == 0]


def sectors_without_data_note(series: MonthlySeries, origin: int) -> str | None:
    """A note naming the sectors without data up to `origin`; None when every sector has some."""
    missing = sectors_without_data(series, origin)
    if not missing:
        return None
    names = ", ".join(f"{sector_label(code)} ({code})" for code in missing)
    return (
        f"No data for {counted(len(missing), 'sector')} up to the origin "
        f"{series.month_at(origin):%Y-%m}: {names}; they are not forecast, and the southwest "
        "border total holds the other sectors only."
    )


def group_shares_at(series: MonthlySeries, origin: int) -> np.ndarray:
    shares = series.group_shares()[max(0, origin + 1 - GROUP_SHARE_MONTHS) : origin + 1]
    mean = shares.mean(axis=0)
    return mean / mean.sum()


def check_horizon(horizon: int, horizon_from: str = "--horizon") -> None:
    """1 to `MAX_HORIZON` months ahead; `horizon_from` names what gave it in the error (the
    forecast command's option, `forecast_at`'s argument)."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise BordersimError(
            f"{horizon_from} {horizon}: must be between 1 and {MAX_HORIZON} months"
        )


def forecast_at(
    series: MonthlySeries,
    origin: date,
    horizon: int,
    *,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    methods: Sequence[str] = METHODS,
    origin_from: str = "--origin",
) -> Forecast:
    """Forecast `horizon` months after `origin` (the last month used), running every method at
    every origin up to it (the same computation as the back-test). `origin_from` names what gave
    the origin in an error about it (the forecast command's option, a scenario's key)."""
    check_horizon(horizon, "horizon")
    if origin.day != 1:  # the whole month is used: a later day would read as data up to it
        raise BordersimError(
            f"{origin_from} {origin} is a day, not a month: give the month's first day, "
            f"{origin:%Y-%m}-01"
        )
    position = series.index_of(origin, origin_from)
    check_origin(series, position, origin_from)
    origins = origin_range(position)
    rolling = compute(series, origins, horizon, methods=methods, jobs=jobs, progress=progress)
    return Forecast(
        series=series,
        origin=series.month_at(position),
        horizon=horizon,
        rolling=rolling,
        group_shares=group_shares_at(series, position),
    )
