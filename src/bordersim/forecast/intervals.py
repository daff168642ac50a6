"""Split-conformal prediction intervals from past rolling-origin errors.

For a method, a series (sector or total), a horizon h and an origin T, the errors used are those
of the same method and series at the origins whose target month is already observed at T
(origin + h <= T), over the last `CONFORMAL_WINDOW` such target months. Errors are on the log
scale, e = log(1 + actual) - log(1 + forecast). The quantile p of the forecast is
exp(log(1 + forecast) + q_p) - 1, where q_p is the conformal quantile of the past errors: the
ceil((n + 1) p)-th smallest for p > 1/2, the floor((n + 1) p)-th for p < 1/2 (Vovk et al. 2005;
Lei et al. 2018), infinite where n is too small for the level asked.

The window and the per-series (rather than pooled) errors were chosen on target months before
FY2016 only (docs/forecast.md).

Adaptive conformal inference (Gibbs and Candes 2021) then moves each quantile's probability level
with the misses seen so far: after each target month becomes known, a level p for an upper bound
becomes p + gamma x (miss - (1 - p)), for a lower bound p - gamma x (miss - p), where miss is 1
when the actual fell outside that bound. Levels are kept within [0, 1], and a bound never goes
beyond the most extreme past error, so that every quantile is finite (a planner needs numbers).
Quantiles asked together are made monotone in p (`monotone`), so that the 95 % interval always
holds the 80 % one. The step
`ADAPTIVE_STEP` = 0.05 makes the level react over about 1 / 0.05 = 20 months, shorter than the
policy regimes (two to three years). It was added after a first look at the FY2016-FY2023
back-test showed the fixed-level intervals undercovering (docs/forecast.md gives every look).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

CONFORMAL_WINDOW = 120  # target months of past errors per horizon (ten years; see above)
MIN_CONFORMAL_ERRORS = 40  # fewer past errors than this: no interval (95 % needs 39)
LEVELS = (0.80, 0.95)
ADAPTIVE_STEP = 0.05  # gamma of adaptive conformal inference (see above)
FINITE_BOUNDS = True  # False: pure adaptive conformal, whose bounds may be infinite


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


def finite_level(probability: float, count: int) -> float:
    """The level clipped to the ranks a sample of `count` holds: [1/(n+1), n/(n+1)]."""
    if not FINITE_BOUNDS:
        return probability
    return min(max(probability, 1.0 / (count + 1)), count / (count + 1))


def monotone(probabilities: np.ndarray, values: np.ndarray) -> np.ndarray:
    """[Q, ...] quantiles made non-decreasing in p, moving outward from the median."""
    order = np.argsort(probabilities)
    sorted_p, sorted_v = np.asarray(probabilities)[order], np.array(values)[order]
    upper = sorted_p >= 0.5
    if upper.any():
        sorted_v[upper] = np.fmax.accumulate(sorted_v[upper], axis=0)
    lower = ~upper
    if lower.any():
        sorted_v[lower] = np.fmin.accumulate(sorted_v[lower][::-1], axis=0)[::-1]
    out = np.empty_like(sorted_v)
    out[order] = sorted_v
    return out


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


def adapt(
    probability: float,
    horizon: int,
    errors: np.ndarray,
    quantiles_at: Callable[[int, np.ndarray], np.ndarray],
    step: float = ADAPTIVE_STEP,
) -> np.ndarray:
    """[O, K] adapted probability levels per origin row and series.

    `errors` [O, K] are the log errors at `horizon` (NaN until known); `quantiles_at(row, levels)`
    gives the [K] error quantiles at a row for the given levels. The update from row r counts from
    row r + horizon on, when its target month is known.
    """
    rows, columns = errors.shape
    levels = np.full((rows, columns), probability)
    updates = np.zeros((rows, columns))
    shift = np.zeros(columns)
    upper = probability > 0.5
    for row in range(rows):
        if row >= horizon:
            shift += updates[row - horizon]
            # Anti-windup: the level stays in [0, 1], where the bound is the extreme past error.
            if FINITE_BOUNDS:
                shift = np.clip(shift, -probability / step, (1.0 - probability) / step)
        levels[row] = probability + step * shift
        bound = quantiles_at(row, levels[row])
        usable = ~np.isnan(bound) & np.isfinite(errors[row])
        if upper:
            miss = errors[row] > bound
            change = miss - (1.0 - probability)
        else:
            miss = errors[row] < bound
            change = probability - miss
        updates[row] = np.where(usable, change, 0.0)
    return levels
