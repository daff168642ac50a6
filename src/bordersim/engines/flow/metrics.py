"""How hourly values become the daily metrics of `results.schema.DAILY_METRICS`."""

from __future__ import annotations

import numpy as np

from bordersim.model.routes import LINES
from bordersim.results.schema import DAILY_METRICS

#: Metrics computed after the run from the cumulative curves (`custody_times`), not hour by hour.
FROM_CUSTODY_CURVES = ("custody_exits_over_72h", "uac_exits_over_72h", "custody_hours_total")

#: End-of-day states.
LAST_OF_DAY = (
    "processing_backlog",
    *(route.waiting_metric for route in LINES),
    "supply_stock_units",
    "custody_capacity",
)
MAX_OF_DAY = ("occupancy_peak", "stock_out")
MEAN_OF_DAY = ("occupancy_mean",)


def _mask(names: tuple[str, ...]) -> np.ndarray:
    return np.array([m in names for m in DAILY_METRICS])


IS_LAST = _mask(LAST_OF_DAY)
IS_MAX = _mask(MAX_OF_DAY)
IS_MEAN = _mask(MEAN_OF_DAY)
