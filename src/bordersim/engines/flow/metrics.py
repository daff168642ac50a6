"""How hourly values become the daily metrics of `results.schema.DAILY_METRICS`."""

from __future__ import annotations

import numpy as np

from bordersim.model.routes import LINES
from bordersim.results.schema import DAILY_METRICS

#: End-of-day states.
LAST_OF_DAY = (
    "processing_backlog",
    *(route.waiting_metric for route in LINES),
    "supply_stock_units",
    "custody_capacity",
)
MAX_OF_DAY = ("occupancy_peak", "stock_out")
# Every other metric is the day's sum of its hourly values (occupancy_mean sums person-hours / 24);
# the custody-time metrics come after the run from the cumulative curves (`custody_times`).


def _mask(names: tuple[str, ...]) -> np.ndarray:
    return np.array([m in names for m in DAILY_METRICS])


IS_LAST = _mask(LAST_OF_DAY)
IS_MAX = _mask(MAX_OF_DAY)
