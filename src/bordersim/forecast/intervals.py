"""Split-conformal prediction intervals from past rolling-origin errors.

For a method, a series (sector or total), a horizon h and an origin T, the errors used are those
of the same method and series at the origins whose target month is already observed at T
(origin + h <= T), over the last `CONFORMAL_WINDOW` such target months. Errors are on the log
scale, e = log(1 + actual) - log(1 + forecast). The quantile p of the forecast is
exp(log(1 + forecast) + q_p) - 1, where q_p is the conformal quantile of the past errors: the
ceil((n + 1) p)-th smallest for p > 1/2, the floor((n + 1) p)-th for p < 1/2 (Vovk et al. 2005;
Lei et al. 2018), infinite where n is too small for the level asked.

The window and the per-series (rather than pooled) errors were chosen on target months before
FY2016 only (docs/forecast.md); ten years of errors hold both calm and turbulent years.
"""

from __future__ import annotations

import math

import numpy as np

CONFORMAL_WINDOW = 120  # target months of past errors per horizon (ten years; see above)
MIN_CONFORMAL_ERRORS = 40  # fewer past errors than this: no interval (95 % needs 39)
LEVELS = (0.80, 0.95)


def conformal_quantile(errors: np.ndarray, probability: float) -> float:
    """The split-conformal quantile of a sample of scores (NaN ignored); +-inf where too few."""
    sample = np.sort(np.asarray(errors, dtype=np.float64)[np.isfinite(errors)])
    n = sample.size
    if n == 0:
        return math.nan
    if probability == 0.5:
        return float(np.median(sample))
    if probability > 0.5:
        rank = math.ceil((n + 1) * probability)
        return float(sample[rank - 1]) if rank <= n else math.inf
    rank = math.floor((n + 1) * probability)
    return float(sample[rank - 1]) if rank >= 1 else -math.inf


def past_error_rows(origins: np.ndarray, origin: int, horizon: int) -> np.ndarray:
    """Rows (indices into `origins`) whose errors at `horizon` are known at `origin`."""
    latest = origin - horizon
    earliest = latest - CONFORMAL_WINDOW + 1
    return np.flatnonzero((origins <= latest) & (origins >= earliest))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of finite intervals that hold the actual value (NaN where none is finite)."""
    usable = np.isfinite(lower) | np.isfinite(upper)
    usable &= ~(np.isnan(lower) | np.isnan(upper)) & np.isfinite(actual)
    if not usable.any():
        return math.nan
    inside = (actual[usable] >= lower[usable]) & (actual[usable] <= upper[usable])
    return float(inside.mean())
