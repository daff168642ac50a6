"""Conformal intervals: the quantile rule, coverage arithmetic, and coverage on a known series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from forecast_data import lognormal_noise

from bordersim.forecast import backtest, intervals, rolling


def test_conformal_quantile_takes_the_finite_sample_rank() -> None:
    sample = np.arange(1.0, 20.0)  # 19 scores: 1..19
    # ceil(20 x 0.9) = 18th smallest; floor(20 x 0.1) = 2nd smallest.
    assert intervals.conformal_quantile(sample, 0.9) == 18.0
    assert intervals.conformal_quantile(sample, 0.1) == 2.0
    # 95 % two-sided needs ceil(20 x 0.975) = 20 > 19 scores: no finite bound.
    assert intervals.conformal_quantile(sample, 0.975) == math.inf
    assert intervals.conformal_quantile(sample, 0.025) == -math.inf
    assert intervals.conformal_quantile(np.array([np.nan, 1.0, 3.0]), 0.5) == 2.0


def test_the_rank_of_a_whole_n_plus_one_times_p_survives_binary_rounding() -> None:
    """The 80 % interval's lower tail as `Rolling.interval` and the variant study write it,
    (1 - 0.8) / 2, is 0.09999999999999998 in binary: of 39 scores it took the 3rd smallest,
    not floor(40 x 0.1) = 4th. And a level held at the lowest rank the sample has, 1 / (n + 1),
    gave rank 0 of 48, 252 or 477 scores: an infinite bound where every bound is to be finite
    (the adaptive-level study of `forecast.holdout` met 487 of them at 252 and 477 scores)."""
    sample = np.arange(1.0, 40.0)  # 39 scores: 1..39
    assert intervals.conformal_quantile(sample, (1 - 0.8) / 2) == 4.0
    assert intervals.conformal_quantile(sample, 0.1) == 4.0
    assert intervals.conformal_quantile(sample, 1 - (1 - 0.8) / 2) == 36.0
    for n in (48, 97, 252, 477):
        scores = np.arange(1.0, n + 1.0)
        assert intervals.conformal_quantile(scores, intervals.finite_level(0.0, n)) == 1.0
        assert intervals.conformal_quantile(scores, intervals.finite_level(1.0, n)) == float(n)


def test_a_missing_bound_stays_missing_when_quantiles_are_made_monotone() -> None:
    """With too few past errors for an interval, the upper quantiles asked with the median took
    the median's value (fmax skips NaN): forecast.csv gave q0.9 = q0.975 = q0.5 and the report
    "n/a - 7,725" for an interval that does not exist."""
    probabilities = np.array([0.025, 0.10, 0.5, 0.90, 0.975])
    values = np.array([[np.nan, 1.0], [np.nan, 3.0], [10.0, 5.0], [np.nan, 4.0], [np.nan, 9.0]])
    out = intervals.monotone(probabilities, values)
    assert np.isnan(out[[0, 1, 3, 4], 0]).all() and out[2, 0] == 10.0
    assert out[:, 1].tolist() == [1.0, 3.0, 5.0, 5.0, 9.0]  # finite ones as before


def test_coverage_counts_the_values_inside_finite_intervals() -> None:
    actual = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    lower = np.array([0.0, 2.5, 3.0, np.nan, 4.0])
    upper = np.array([2.0, 3.0, 3.0, np.nan, 4.5])
    # Inside: 1 in [0, 2]; 3 in [3, 3]. Outside: 2 < 2.5; 5 > 4.5. NaN interval: not counted.
    assert intervals.coverage(actual, lower, upper) == pytest.approx(0.5)
    assert math.isnan(intervals.coverage(actual[3:4], lower[3:4], upper[3:4]))


def test_naive_intervals_cover_at_their_nominal_rates_on_iid_lognormal_months() -> None:
    # log y = mu + e, e ~ N(0, 0.2^2) iid: the naive log error is a difference of two
    # independent normals, N(0, 2 x 0.2^2), at every horizon, so conformal intervals built on
    # past errors must cover about 80 % and 95 % of later months.
    series = lognormal_noise(months=300, sigma=0.2, seed=7)
    origins = np.arange(35, 299)
    result = rolling.compute(series, origins, 3, methods=("naive",), members=("naive",))
    first = int(origins[0]) + 3 + intervals.SCALE_MONTHS + intervals.CONFORMAL_WINDOW
    evaluated = backtest.evaluate(result, first, 299, (1, 3))
    for horizon in (1, 3):
        cover80 = evaluated.sector_mean("naive", horizon, "coverage80")
        cover95 = evaluated.sector_mean("naive", horizon, "coverage95")
        # 9 sectors x 128 months; errors one month apart share a term, so allow 4 points.
        assert cover80 == pytest.approx(0.80, abs=0.04)
        assert cover95 == pytest.approx(0.95, abs=0.025)
    # The 90 % quantile of the naive log error is 1.2816 x sqrt(2) x 0.2 in theory. One origin's
    # bound moves with its 12-month scale; over 100 origins and 9 sectors it is close.
    last = np.arange(199, 299)
    distance = [
        np.log1p(result.quantile("naive", int(o), 1, 0.9)[:9])
        - np.log1p(result.levels["naive"][result.row_of(int(o)), :9, 0])
        for o in last
    ]
    theory = 1.2816 * math.sqrt(2.0) * 0.2
    assert float(np.mean(distance)) == pytest.approx(theory, rel=0.08)


def test_intervals_widen_within_a_year_when_errors_grow() -> None:
    # Fifteen calm years (sigma 0.1), then sigma 0.4. Quantiles of raw past errors would stay far
    # too narrow for years (on this series: 45 % of months inside the 80 % interval over the
    # first four stormy years); scaled by the last 12 months' errors, they cover again soon.
    months = 300
    sigma = np.where(np.arange(months) < 180, 0.1, 0.4)
    series = lognormal_noise(months=months, sigma=sigma, seed=11)
    result = rolling.compute(
        series, np.arange(35, months - 1), 1, methods=("naive",), members=("naive",)
    )
    calm, stormy = 170, 204  # origins: before the change, and two years after it
    width = {
        origin: np.log1p(result.interval("naive", origin, 1, 0.80)[1][:9])
        - np.log1p(result.interval("naive", origin, 1, 0.80)[0][:9])
        for origin in (calm, stormy)
    }
    assert float(np.mean(width[stormy] / width[calm])) == pytest.approx(4.0, rel=0.3)
    # Coverage from 14 months after the change, over nearly four years: nominal within sampling
    # error (9 sectors x 47 months).
    evaluated = backtest.evaluate(result, 180 + 14, 240, (1,))
    assert evaluated.sector_mean("naive", 1, "coverage80") == pytest.approx(0.80, abs=0.05)
    assert evaluated.sector_mean("naive", 1, "coverage95") == pytest.approx(0.95, abs=0.03)


def test_an_interval_that_does_not_exist_reads_n_a_in_the_forecast_table() -> None:
    """With too few past errors the table's intervals read `n/a - n/a`, where docs/forecast.md
    says such an interval is `n/a` in the tables; the median is still given."""
    from bordersim.forecast import Forecast, group_shares_at
    from bordersim.forecast.printing import forecast_table

    series = lognormal_noise(months=40, sigma=0.2, seed=3)
    methods = ("naive", "seasonal_naive")
    result = rolling.compute(series, rolling.origin_range(39), 2, methods=methods, members=methods)
    forecast = Forecast(series, series.month_at(39), 2, result, group_shares_at(series, 39))
    header, rows = forecast_table(forecast)
    assert header[-2:] == ["80 % interval", "95 % interval"]
    assert {tuple(row[-2:]) for row in rows} == {("n/a", "n/a")}
    assert all(row[2].replace(",", "").isdigit() for row in rows)
