"""Rolling-origin back-test of monthly sector encounter forecasts.

For each target month in an explicit window, the last `BACKTEST_MONTHS` months of the data (24:
October 2021 to September 2023 in the shipped files, FY2022-FY2023; a newer release moves the
window with its last month but never shrinks it; `bordersim calibrate --backtest-months`), and
each horizon h (1 and 3 months), every method forecasts each sector's encounters from the data
up to the origin (the target minus h months) only. The error is MAPE: the mean, over
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
from bordersim.errors import BordersimError
from bordersim.ingest.fiscal import fiscal_month_of

HORIZONS = (1, 3)
BACKTEST_MONTHS = 24  # two years of target months, whatever month the data end on
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
    window_months: int = BACKTEST_MONTHS

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "MAPE % of monthly sector encounters, mean over sectors and target months",
            "window": f"the last {self.window_months} months of the data",
            "window_months": self.window_months,
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
            window_months=int(data.get("window_months", BACKTEST_MONTHS)),
        )

    def winner(self, horizon: int) -> str:
        return min(self.mape, key=lambda method: self.mape[method][horizon])


def rolling_origin_backtest(
    months: tuple[date, ...] | list[date],
    sector_encounters: np.ndarray,
    horizons: tuple[int, ...] = HORIZONS,
    window_months: int = BACKTEST_MONTHS,
) -> BacktestResult:
    """Back-test every method over the last `window_months` months ([M, S] encounters)."""
    values = np.asarray(sector_encounters, dtype=np.float64)
    fiscal_months = np.array([fiscal_month_of(month) for month in months])
    targets = [
        position
        for position in range(max(0, len(months) - window_months), len(months))
        if position - max(horizons) + 1 >= MIN_HISTORY_MONTHS
    ]
    if len(targets) < window_months:
        raise BordersimError(
            f"a back-test over the last {window_months} months needs "
            f"{window_months + MIN_HISTORY_MONTHS + max(horizons) - 1} months of data; the store "
            f"holds {len(months)} (import the OHSS workbook from FY2000 on)"
        )
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
        window_months=window_months,
    )
