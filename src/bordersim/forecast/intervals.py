"""Split-conformal prediction intervals from past rolling-origin errors, scaled by recent errors.

For a method, a horizon h and an origin T, the errors used are those at the origins whose target
month is already observed at T (origin + h <= T). Errors are on the log scale,
e = log(1 + actual) - log(1 + forecast).

Locally weighted split-conformal (Lei et al. 2018, section 5.2): each error is divided by a scale
known at its own origin, sigma = the root mean square of the same method's h-month log errors on
the same series over the last `SCALE_MONTHS` target months known then. The scores e / sigma of
the last `CONFORMAL_WINDOW` target months known at T are pooled over the nine sectors (the
southwest total keeps its own), and the quantile p of the forecast is
exp(log(1 + forecast) + q_p x sigma_T) - 1, where q_p is the conformal quantile of the scores:
the ceil((n + 1) p)-th smallest for p > 1/2, the floor((n + 1) p)-th for p < 1/2 (Vovk et al.
2005). The interval therefore widens within a year of errors growing, as in 2019 and 2021, where
quantiles of raw errors over ten calm years stayed too narrow. Every bound is finite: the level
is held within the ranks the sample has, [1/(n+1), n/(n+1)].

Quantiles asked together are made monotone in p (`monotone`), so that the 95 % interval always
holds the 80 % one. `SCALE_MONTHS`, the pooling and the window were chosen on target months
before FY2016 (docs/forecast.md gives every variant tried, on both windows).
"""

from __future__ import annotations

import math

import numpy as np

CONFORMAL_WINDOW = 120  # target months of past scores per horizon (ten years; see above)
MIN_CONFORMAL_ERRORS = 40  # fewer past scores than this: no interval (95 % needs 39)
SCALE_MONTHS = 12  # target months of past errors behind each scale (see above)
MIN_SCALE_ERRORS = 6  # fewer past errors than this: no scale, hence no interval
LEVELS = (0.80, 0.95)


def conformal_quantile(errors: np.ndarray, probability: float) -> float:
    """The split-conformal quantile of a sample of scores (NaN ignored); +-inf where too few."""
    sample = np.sort(np.asarray(errors, dtype=np.float64)[np.isfinite(errors)])
    n = sample.size
    if n == 0:
        return math.nan
    if probability == 0.5:
        return float(np.median(sample))
    # (n + 1) p to nine decimals: in binary 1 - 0.8 is below 0.2 and 49 x (1 / 49) below 1,
    # so a whole (n + 1) p (the 4th of 39 scores at p = 0.1) lost a rank to rounding
    position = round((n + 1) * probability, 9)
    if probability > 0.5:
        rank = math.ceil(position)
        return float(sample[rank - 1]) if rank <= n else math.inf
    rank = math.floor(position)
    return float(sample[rank - 1]) if rank >= 1 else -math.inf


def finite_level(probability: float, count: int) -> float:
    """The level clipped to the ranks a sample of `count` holds: [1/(n+1), n/(n+1)]."""
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
    # fmax/fmin skip a missing bound; it stays missing (no interval), not the median or a
    # neighbour's value
    sorted_v[np.isnan(np.asarray(values)[order])] = np.nan
    out = np.empty_like(sorted_v)
    out[order] = sorted_v
    return out


def past_error_rows(
    origins: np.ndarray, origin: int, horizon: int, window: int = CONFORMAL_WINDOW
) -> np.ndarray:
    """Rows (indices into `origins`) of the last `window` errors at `horizon` known at `origin`."""
    latest = origin - horizon
    earliest = latest - window + 1
    return np.flatnonzero((origins <= latest) & (origins >= earliest))


def error_scales(errors: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """[O, K] root mean square of the last `SCALE_MONTHS` errors known at each origin.

    `errors` [O, K] are one method's log errors at `horizon` (NaN until known). NaN where fewer
    than `MIN_SCALE_ERRORS` are known, or where they are all zero.
    """
    scales = np.full(errors.shape, np.nan)
    for row, origin in enumerate(origins):
        past = errors[past_error_rows(origins, int(origin), horizon, SCALE_MONTHS)]
        counts = np.isfinite(past).sum(axis=0)
        with np.errstate(invalid="ignore"):
            rms = np.sqrt(np.nanmean(past**2, axis=0)) if past.size else np.nan
        scales[row] = np.where((counts >= MIN_SCALE_ERRORS) & (rms > 0), rms, np.nan)
    return scales


def scaled_quantiles(
    scores: np.ndarray,
    scales: np.ndarray,
    origins: np.ndarray,
    row: int,
    horizon: int,
    probability: float,
    pooled: int,
) -> np.ndarray:
    """[K] log-error quantiles at origin row `row`: conformal quantile of past scores x scale.

    `scores` [O, K] are errors / scales; the first `pooled` columns share one pool of scores,
    each later column keeps its own. NaN where the scale or enough past scores are missing.
    """
    past = scores[past_error_rows(origins, int(origins[row]), horizon)]
    pools = [(range(pooled), past[:, :pooled].ravel())]
    pools += [(range(k, k + 1), past[:, k]) for k in range(pooled, past.shape[1])]
    out = np.full(scores.shape[1], np.nan)
    for columns, sample in pools:
        count = int(np.isfinite(sample).sum())
        if count < MIN_CONFORMAL_ERRORS:
            continue
        quantile = conformal_quantile(sample, finite_level(probability, count))
        for k in columns:
            out[k] = quantile * scales[row, k]  # NaN where the scale is missing
    return out


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of finite intervals that hold the actual value (NaN where none is finite)."""
    usable = np.isfinite(lower) | np.isfinite(upper)
    usable &= ~(np.isnan(lower) | np.isnan(upper)) & np.isfinite(actual)
    if not usable.any():
        return math.nan
    inside = (actual[usable] >= lower[usable]) & (actual[usable] <= upper[usable])
    return float(inside.mean())
