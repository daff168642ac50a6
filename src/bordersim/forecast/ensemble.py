"""The ensemble: a weighted mean of the member methods' log forecasts, weights from past errors.

At each origin and horizon h, a member's weight is proportional to the inverse of its mean squared
log error over the last `ENSEMBLE_WINDOW` target months already observed at the origin (origin +
h <= the forecast's origin), pooled over the nine sectors (Bates and Granger 1969, without the
covariances, which are too noisy to estimate from a few years). With fewer past errors than
`MIN_ENSEMBLE_ORIGINS` the weights are equal. The southwest total is the sum of the sectors'
ensemble forecasts.

Why these members and this rule: the design was chosen on origins before FY2016 only (target
months FY2011-FY2015, `docs/forecast.md`); the FY2016-FY2023 back-test is never used to choose.
"""

from __future__ import annotations

import numpy as np

ENSEMBLE_MEMBERS: tuple[str, ...] = ("naive", "arima", "theta", "calibration")
ENSEMBLE_WINDOW = 24  # target months of past errors behind the weights (an assumption)
MIN_ENSEMBLE_ORIGINS = 6


def inverse_mse_weights(squared_errors: np.ndarray) -> np.ndarray:
    """[members] weights from [members, n] past squared errors (NaN ignored); equal if too few."""
    counts = np.isfinite(squared_errors).sum(axis=1)
    if counts.min() < 1:
        return np.full(squared_errors.shape[0], 1.0 / squared_errors.shape[0])
    mse = np.nanmean(squared_errors, axis=1)
    inverse = 1.0 / np.maximum(mse, 1e-12)
    return inverse / inverse.sum()


def weights_at(log_errors: np.ndarray, origins: np.ndarray, row: int, horizon: int) -> np.ndarray:
    """[members] weights at origin row `row` for `horizon`, from [members, O, K, H] log errors."""
    origin = origins[row]
    latest = origin - horizon
    past = np.flatnonzero((origins <= latest) & (origins > latest - ENSEMBLE_WINDOW))
    members = log_errors.shape[0]
    if past.size < MIN_ENSEMBLE_ORIGINS:
        return np.full(members, 1.0 / members)
    # Index the horizon first: `[:, past, :, h]` would put the origins axis before the members
    # (NumPy moves separated advanced indices to the front) and mix the members' errors.
    errors = log_errors[..., horizon - 1][:, past].reshape(members, -1)
    return inverse_mse_weights(errors**2)
