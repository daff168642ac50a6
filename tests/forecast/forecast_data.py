"""Monthly series the forecast tests share: the shipped data, and synthetic series."""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np

from bordersim.calibration import load_calibration
from bordersim.forecast.data import MonthlySeries, from_calibration
from bordersim.ingest.fiscal import add_months

FAST_METHODS = ("naive", "seasonal_naive", "theta", "calibration")
FAST_MEMBERS = ("naive", "theta", "calibration")


@cache
def shipped() -> MonthlySeries:
    return from_calibration(load_calibration())


def lognormal_noise(months: int, sigma: float | np.ndarray, seed: int) -> MonthlySeries:
    """Nine sectors of independent lognormal months around fixed levels: log y = mu + N(0, s^2).

    `sigma` is one value, or one per month (a calmer and a more volatile regime).
    """
    rng = np.random.default_rng(seed)
    levels = np.linspace(2_000.0, 20_000.0, 9)
    spread = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (months,))[:, None]
    sectors = levels * np.exp(spread * rng.standard_normal((months, 9)))
    return MonthlySeries(
        months=tuple(add_months(date(2000, 10, 1), k) for k in range(months)),
        sectors=np.round(sectors),
        demographics=np.round(sectors.sum(axis=1, keepdims=True) * np.array([0.6, 0.3, 0.1])),
        source="synthetic",
    )
