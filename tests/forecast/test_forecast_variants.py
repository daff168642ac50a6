"""The methods tried against last month (forecast.variants): each does what it claims on
processes whose best forecast is known."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from bordersim.forecast import variants
from bordersim.forecast.methods import to_log
from bordersim.ingest.fiscal import add_months, fiscal_month_of

MONTHS = 216
SECTORS = 9
FIRST_ORIGIN = 60


def fiscal_months(count: int) -> np.ndarray:
    return np.array([fiscal_month_of(add_months(date(2000, 10, 1), k)) for k in range(count)])


def seasonal_ar_process(phi: float, sigma: float, amplitude: float, seed: int) -> np.ndarray:
    """[M, 9] y with log y = level + amplitude x profile(month) + x, x an AR(1) (phi, sigma)."""
    rng = np.random.default_rng(seed)
    months = np.arange(MONTHS)
    profile = amplitude * np.cos(2 * np.pi * (months[:, None] + np.arange(SECTORS)) / 12)
    x = np.zeros((MONTHS, SECTORS))
    for t in range(1, MONTHS):
        x[t] = phi * x[t - 1] + sigma * rng.standard_normal(SECTORS)
    levels = np.log(np.linspace(3_000.0, 30_000.0, SECTORS))
    return np.exp(levels + profile + x), levels + profile


def one_month_mse(forecast: np.ndarray, values: np.ndarray, origins: np.ndarray) -> float:
    known = origins + 1 < values.shape[0]
    error = to_log(values[origins[known] + 1]) - to_log(forecast[known, :, 0])
    return float(np.mean(error**2))


def pooled_forecasts(values: np.ndarray, names: tuple[str, ...], ridge: float) -> np.ndarray:
    origins = np.arange(FIRST_ORIGIN, MONTHS - 1)
    inputs = variants.pooled_inputs(values, fiscal_months(MONTHS), origins, 1)
    return variants.pooled_regression(inputs, 1, names, ridge=ridge, window=120)


def test_pooled_regression_nears_the_best_forecast_of_a_seasonal_mean_reverting_process() -> None:
    phi, sigma = 0.5, 0.1
    values, mean_logs = seasonal_ar_process(phi, sigma, amplitude=0.3, seed=3)
    origins = np.arange(FIRST_ORIGIN, MONTHS - 1)
    pooled = pooled_forecasts(values, ("seas", "rev12", "rev36"), ridge=0.0)
    # The best forecast knows the process: mean + phi x (deviation from the mean).
    best = np.exp(mean_logs[origins + 1] + phi * (np.log(values[origins]) - mean_logs[origins]))
    naive = values[origins]
    scored = origins >= 120  # after the regression has 5 years of origins behind it
    pooled_mse = one_month_mse(pooled[scored], values, origins[scored])
    best_mse = one_month_mse(best[scored, :, None], values, origins[scored])
    naive_mse = one_month_mse(naive[scored, :, None], values, origins[scored])
    assert best_mse == pytest.approx(sigma**2, rel=0.2)
    assert pooled_mse < 1.35 * best_mse  # near the best forecast ...
    assert pooled_mse < 0.55 * naive_mse  # ... and far from last month


def test_pooled_regression_of_a_random_walk_stays_at_last_month() -> None:
    rng = np.random.default_rng(5)
    values = np.exp(9.0 + np.cumsum(0.1 * rng.standard_normal((MONTHS, SECTORS)), axis=0))
    origins = np.arange(FIRST_ORIGIN, MONTHS - 1)
    pooled = pooled_forecasts(values, ("seas", "mom1", "rev12", "rev36"), ridge=0.03)
    scored = origins >= 120
    ratio = one_month_mse(pooled[scored], values, origins[scored]) / one_month_mse(
        values[origins[scored], :, None], values, origins[scored]
    )
    assert 0.9 < ratio < 1.1


def test_pooled_regression_reads_only_data_up_to_each_origin() -> None:
    values, _ = seasonal_ar_process(0.5, 0.1, amplitude=0.3, seed=4)
    cut = 150
    before = pooled_forecasts(values, ("seas", "mom1", "rev36", "yoy"), ridge=0.003)
    changed_values = values.copy()
    changed_values[cut + 1 :] *= 7.0
    changed = pooled_forecasts(changed_values, ("seas", "mom1", "rev36", "yoy"), ridge=0.003)
    rows = np.arange(FIRST_ORIGIN, MONTHS - 1) <= cut
    np.testing.assert_array_equal(before[rows], changed[rows])
    assert not np.array_equal(before[~rows], changed[~rows])


def test_shrunk_weights_move_toward_naive_and_still_add_to_one() -> None:
    rng = np.random.default_rng(1)
    weights = rng.dirichlet(np.ones(4), size=(10, 6))
    np.testing.assert_array_equal(variants.shrunk_weights(weights, np.zeros(6), 0), weights)
    all_naive = variants.shrunk_weights(weights, np.ones(6), 2)
    np.testing.assert_allclose(all_naive[..., 2], 1.0)
    half = variants.shrunk_weights(weights, np.full(6, 0.5), 0)
    np.testing.assert_allclose(half.sum(axis=-1), 1.0)
    np.testing.assert_allclose(half[..., 1], 0.5 * weights[..., 1])


def alternating_errors(sizes: np.ndarray) -> np.ndarray:
    """[O, 2] errors of exactly the given sizes, alternating in sign (rms = size)."""
    signs = np.where(np.arange(sizes.size) % 2 == 0, 1.0, -1.0)
    return np.repeat((signs * sizes)[:, None], 2, axis=1)


def test_fast_scales_grow_with_one_month_errors_since_h_months_before() -> None:
    origins = np.arange(100)
    one_month = alternating_errors(np.where(origins + 1 >= 60, 0.3, 0.1))  # triple at month 60
    six_month = alternating_errors(np.full(origins.size, 0.2))

    def scales(**options: object) -> np.ndarray:
        return variants.fast_error_scales(six_month, one_month, origins, 6, recent=4, **options)

    np.testing.assert_allclose(scales()[50], 0.2)  # calm: the six-month scale itself
    # Origin 64: one-month errors of months 61-64 (0.3) over those of months 48-59 (0.1).
    np.testing.assert_allclose(scales()[64], 0.6)
    np.testing.assert_allclose(scales(cap=2.0)[64], 0.4)
    np.testing.assert_allclose(scales()[90], 0.2)  # both windows after the change: factor 1
    calmer = variants.fast_error_scales(six_month, one_month[::-1], origins, 6, recent=4)
    calmer_free = variants.fast_error_scales(
        six_month, one_month[::-1], origins, 6, recent=4, floor=False
    )
    # Errors that shrink leave the scale alone, unless the floor is off.
    np.testing.assert_allclose(calmer[46], 0.2)
    np.testing.assert_allclose(calmer_free[46], 0.2 / 3.0)


def test_volatility_state_marks_origins_after_errors_grow() -> None:
    origins = np.arange(200)
    one_month = alternating_errors(np.where(origins + 1 >= 150, 0.5, 0.1))
    state = variants.volatility_state(one_month, origins, threshold=1.5)
    assert state[140:149].sum() == 0
    assert state[160:170].all()
