"""The methods of the design/holdout study (forecast.holdout): each does what it claims on
processes whose answer is known, and none reads data after its origin."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from bordersim.forecast import holdout, intervals, variants
from bordersim.forecast.methods import to_log
from bordersim.forecast.rolling import N_SECTORS
from bordersim.ingest.fiscal import add_months, fiscal_month_of

MONTHS = 216
FIRST_ORIGIN = 60


def fiscal_months(count: int) -> np.ndarray:
    return np.array([fiscal_month_of(add_months(date(2000, 10, 1), k)) for k in range(count)])


def inputs_for(values: np.ndarray, horizon: int) -> variants.PooledInputs:
    origins = np.arange(FIRST_ORIGIN, MONTHS - 1)
    return variants.pooled_inputs(values, fiscal_months(MONTHS), origins, horizon)


def test_damped_growth_extends_a_steady_log_growth_damped() -> None:
    growth = 0.02
    values = np.exp(8.0 + growth * np.arange(MONTHS))[:, None].repeat(3, axis=1) - 1.0
    inputs = inputs_for(values, 3)
    forecast = holdout.damped_growth(inputs, 3, damping=0.5, months=3, deseasonalise=False)
    last = to_log(values[inputs.origins])
    for h, damped in ((1, 0.5), (2, 0.75), (3, 0.875)):
        np.testing.assert_allclose(to_log(forecast[:, :, h - 1]), last + growth * damped)
    undamped = holdout.damped_growth(inputs, 3, damping=1.0, months=1, deseasonalise=False)
    known = inputs.origins + 3 < MONTHS
    np.testing.assert_allclose(undamped[known, :, 2], values[inputs.origins[known] + 3], rtol=1e-9)


def test_damped_growth_reads_only_data_up_to_each_origin() -> None:
    rng = np.random.default_rng(2)
    values = np.exp(9.0 + np.cumsum(0.1 * rng.standard_normal((MONTHS, 4)), axis=0))
    cut = 150
    changed = values.copy()
    changed[cut + 1 :] *= 7.0
    rows = np.arange(FIRST_ORIGIN, MONTHS - 1) <= cut
    for adjusted in (False, True):
        before = holdout.damped_growth(inputs_for(values, 6), 6, 0.6, 3, adjusted)
        after = holdout.damped_growth(inputs_for(changed, 6), 6, 0.6, 3, adjusted)
        np.testing.assert_array_equal(before[rows], after[rows])
        assert not np.array_equal(before[~rows], after[~rows])


def test_power_weights_lean_toward_the_recently_better_member() -> None:
    origins = np.arange(40)
    errors = np.full((2, origins.size, 3, 1), np.nan)
    errors[0, :, :, 0] = np.where(origins % 2 == 0, 1.0, -1.0)[:, None]  # MSE 1
    errors[1, :, :, 0] = np.sqrt(2.0) * errors[0, :, :, 0]  # MSE 2
    np.testing.assert_allclose(
        holdout.power_weights(errors, origins, 30, 1, 12, 1.0), [2 / 3, 1 / 3]
    )
    np.testing.assert_allclose(
        holdout.power_weights(errors, origins, 30, 1, 12, 4.0), [16 / 17, 1 / 17]
    )
    # Fewer known past targets than the ensemble's minimum: equal weights.
    np.testing.assert_allclose(holdout.power_weights(errors, origins, 3, 1, 12, 4.0), [0.5, 0.5])


def test_month_dummies_learn_a_seasonal_pattern_exactly() -> None:
    profile = 0.4 * np.cos(2 * np.pi * np.arange(MONTHS) / 12)
    values = np.exp(9.0 + profile)[:, None].repeat(N_SECTORS, axis=1)
    inputs = inputs_for(values, 2)
    forecast = variants.pooled_regression(inputs, 2, ("months",), ridge=0.0, window=120)
    origins = inputs.origins
    scored = (origins >= 120) & (origins + 2 < MONTHS)
    np.testing.assert_allclose(forecast[scored, :, 1], values[origins[scored] + 2], rtol=1e-6)


def test_southwest_features_are_the_log_changes_of_the_sectors_sum() -> None:
    rng = np.random.default_rng(4)
    values = np.exp(7.0 + rng.standard_normal((MONTHS, 3)))
    inputs = inputs_for(values, 1)
    x, keys = variants.features(inputs, 1, ("swb1", "swb3", "own1"))
    total = np.log1p(np.expm1(to_log(values)).sum(axis=1))
    t = inputs.origins
    np.testing.assert_allclose(x[:, 0, keys.index("swb1")], total[t] - total[t - 1])
    np.testing.assert_allclose(x[:, 2, keys.index("swb3")], total[t] - total[t - 3])
    own = to_log(values[:, 1])
    np.testing.assert_allclose(x[:, 1, keys.index("own1")], own[t] - own[t - 1])


def heteroscedastic_errors(
    seed: int, grow_from: int, origins: int = 400, growth: float = 1.08, months: int = 48
) -> np.ndarray:
    """[O, 9] log errors: standard normal times 0.1, growing by `growth` a month for `months`
    months from row `grow_from` on (a surge whose errors outgrow any trailing scale)."""
    rng = np.random.default_rng(seed)
    size = 0.1 * growth ** np.clip(np.arange(origins) - grow_from, 0, months)
    return size[:, None] * rng.standard_normal((origins, N_SECTORS))


def coverage_after(errors: np.ndarray, bands: tuple[np.ndarray, np.ndarray], rows: slice) -> float:
    return intervals.coverage(errors[rows].ravel(), bands[0][rows].ravel(), bands[1][rows].ravel())


def test_adaptive_bands_without_steps_are_the_shipped_intervals() -> None:
    errors = heteroscedastic_errors(seed=1, grow_from=1000, origins=200)
    origins = np.arange(200)
    for mode in holdout.ADAPTIVE_MODES:
        lower, upper = holdout.adaptive_bands(errors, origins, 3, 0.8, 0.0, mode)
        scales = intervals.error_scales(errors, origins, 3)
        scores = errors / scales
        for row in (60, 150, 199):
            shipped_low = intervals.scaled_quantiles(
                scores, scales, origins, row, 3, 0.1, N_SECTORS
            )
            shipped_high = intervals.scaled_quantiles(
                scores, scales, origins, row, 3, 0.9, N_SECTORS
            )
            np.testing.assert_allclose(lower[row], shipped_low)
            np.testing.assert_allclose(upper[row], shipped_high)


@pytest.mark.parametrize(("mode", "step"), [("level", 0.05), ("width", 0.1)])
def test_adaptive_bands_hold_coverage_while_errors_grow(mode: str, step: float) -> None:
    errors = heteroscedastic_errors(seed=2, grow_from=200)
    origins = np.arange(errors.shape[0])
    # While errors grow the shipped 12-month scale lags; the adaptive bands keep up.
    window = slice(215, 248)
    shipped = coverage_after(
        errors, holdout.adaptive_bands(errors, origins, 6, 0.8, 0.0, mode), window
    )
    adapted = coverage_after(
        errors, holdout.adaptive_bands(errors, origins, 6, 0.8, step, mode), window
    )
    assert shipped < 0.6
    assert adapted > shipped + 0.15
    # In calm times the adaptation keeps coverage near nominal.
    calm = slice(100, 195)
    calm_coverage = coverage_after(
        errors, holdout.adaptive_bands(errors, origins, 6, 0.8, step, mode), calm
    )
    assert 0.7 < calm_coverage < 0.9


def test_adaptive_bands_read_only_errors_known_at_each_origin() -> None:
    errors = heteroscedastic_errors(seed=3, grow_from=150, origins=220)
    origins = np.arange(errors.shape[0])
    horizon, row = 3, 170
    changed = errors.copy()
    changed[row - horizon + 1 :] *= 7.0  # errors whose targets lie after origin `row`
    for mode in holdout.ADAPTIVE_MODES:
        before = holdout.adaptive_bands(errors, origins, horizon, 0.95, 0.05, mode)
        after = holdout.adaptive_bands(changed, origins, horizon, 0.95, 0.05, mode)
        np.testing.assert_array_equal(before[0][: row + 1], after[0][: row + 1])
        np.testing.assert_array_equal(before[1][: row + 1], after[1][: row + 1])
        assert not np.array_equal(before[1][row + 1 :], after[1][row + 1 :])


def test_adaptive_bands_reject_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        holdout.adaptive_bands(np.zeros((50, N_SECTORS)), np.arange(50), 1, 0.8, 0.1, "speed")


def test_interval_score_is_the_width_plus_the_scaled_miss() -> None:
    actual = np.array([0.0, 2.0, -1.5])
    lower, upper = np.full(3, -1.0), np.full(3, 1.0)
    # Widths 2 each; misses of 1 and 0.5 cost 2 / 0.2 = 10 per unit at 80 %.
    assert holdout.interval_score(actual, lower, upper, 0.8) == pytest.approx((6 + 10 + 5) / 3)


@pytest.mark.parametrize("module", ["bordersim.forecast.holdout", "bordersim.forecast.variants"])
def test_the_studies_answer_help_without_starting_the_run(tmp_path: Path, module: str) -> None:
    """`python -m bordersim.forecast.holdout --help` ignored --help and started the minute-long
    study, making a store in the folder it ran in; it now prints its usage and what it does, and
    exits. An argument it does not take is refused the same way, before the store is touched."""
    command = [sys.executable, "-m", module]
    helped = subprocess.run(
        [*command, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith(f"usage: python -m {module}")
    assert "docs/forecast.md" in helped.stdout
    refused = subprocess.run(
        [*command, "--sotre", "x.duckdb"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2
    assert "unrecognized arguments: --sotre x.duckdb" in refused.stderr
    assert list(tmp_path.iterdir()) == []  # no store was made
