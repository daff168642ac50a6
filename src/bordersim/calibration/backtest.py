"""Rolling-origin back-test of monthly sector encounter forecasts.

For each target month in the last two fiscal years of the data (FY2022-FY2023 in the shipped
files) and each horizon h (1 and 3 months), every method forecasts each sector's encounters from
the data up to the origin (the target minus h months) only. The error is MAPE: the mean, over
sectors and target months, of |forecast - actual| / actual, in percent. Methods:
- `seasonal-trend`: bordersim's method (`calibration.seasonal.forecast`);
- `seasonal naive`: the same month a year earlier;
- `naive`: the last month observed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from bordersim.calibration import seasonal
from bordersim.ingest.fiscal import fiscal_month_of, fiscal_year_of

HORIZONS = (1, 3)
BACKTEST_FISCAL_YEARS = 2
MIN_HISTORY_MONTHS = 36  # three years, for the seasonal profile


Forecaster = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
METHODS: dict[str, Forecaster] = {
    "seasonal-trend": seasonal.forecast,
    "seasonal naive": lambda history, _months, horizon: seasonal.seasonal_naive(history, horizon),
    "naive": lambda history, _months, horizon: seasonal.naive(history, horizon),
}
OURS = "seasonal-trend"


@dataclass(frozen=True)
class BacktestResult:
    first_target: date
    last_target: date
    horizons: tuple[int, ...]
    targets: int  # target months per horizon
    mape: dict[str, dict[int, float]]  # method -> horizon -> MAPE %
    mape_by_sector: dict[str, dict[int, list[float]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "MAPE % of monthly sector encounters, mean over sectors and target months",
            "first_target": self.first_target.isoformat(),
            "last_target": self.last_target.isoformat(),
            "horizons": list(self.horizons),
            "targets": self.targets,
            "mape": {m: {str(h): v for h, v in by.items()} for m, by in self.mape.items()},
            "mape_by_sector": {
                m: {str(h): list(v) for h, v in by.items()} for m, by in self.mape_by_sector.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestResult:
        return cls(
            first_target=date.fromisoformat(data["first_target"]),
            last_target=date.fromisoformat(data["last_target"]),
            horizons=tuple(int(h) for h in data["horizons"]),
            targets=int(data["targets"]),
            mape={m: {int(h): float(v) for h, v in by.items()} for m, by in data["mape"].items()},
            mape_by_sector={
                m: {int(h): [float(x) for x in v] for h, v in by.items()}
                for m, by in data["mape_by_sector"].items()
            },
        )

    def winner(self, horizon: int) -> str:
        return min(self.mape, key=lambda method: self.mape[method][horizon])


def rolling_origin_backtest(
    months: tuple[date, ...] | list[date],
    sector_encounters: np.ndarray,
    horizons: tuple[int, ...] = HORIZONS,
) -> BacktestResult:
    """Back-test every method over the last two fiscal years of `months` ([M, S] encounters)."""
    values = np.asarray(sector_encounters, dtype=np.float64)
    fiscal_months = np.array([fiscal_month_of(month) for month in months])
    last_year = fiscal_year_of(months[-1])
    targets = [
        position
        for position, month in enumerate(months)
        if fiscal_year_of(month) > last_year - BACKTEST_FISCAL_YEARS
        and position - max(horizons) + 1 >= MIN_HISTORY_MONTHS
    ]
    if not targets:
        raise ValueError("not enough history for a back-test")
    errors: dict[str, dict[int, list[np.ndarray]]] = {m: {h: [] for h in horizons} for m in METHODS}
    for horizon in horizons:
        for target in targets:
            origin = target - horizon  # last month known
            actual = values[target]
            for name, method in METHODS.items():
                predicted = np.array(
                    [
                        method(values[: origin + 1, s], fiscal_months[: origin + 1], horizon)[-1]
                        for s in range(values.shape[1])
                    ]
                )
                with np.errstate(divide="ignore", invalid="ignore"):
                    error = np.where(actual > 0, np.abs(predicted - actual) / actual, np.nan)
                errors[name][horizon].append(error)
    mape: dict[str, dict[int, float]] = {}
    by_sector: dict[str, dict[int, list[float]]] = {}
    for name in METHODS:
        mape[name] = {}
        by_sector[name] = {}
        for horizon in horizons:
            table = np.array(errors[name][horizon]) * 100.0  # [targets, S]
            mape[name][horizon] = round(float(np.nanmean(table)), 4)
            by_sector[name][horizon] = [round(float(x), 4) for x in np.nanmean(table, axis=0)]
    return BacktestResult(
        first_target=months[targets[0]],
        last_target=months[targets[-1]],
        horizons=tuple(horizons),
        targets=len(targets),
        mape=mape,
        mape_by_sector=by_sector,
    )
