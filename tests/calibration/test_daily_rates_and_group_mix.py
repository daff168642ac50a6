"""Monthly totals to daily rates, and the group mix fitted to published margins."""

from __future__ import annotations

from datetime import date

import numpy as np

from bordersim.calibration.demand import month_lengths, smooth_daily
from bordersim.calibration.group_mix import fit_to_margins
from bordersim.ingest.fiscal import add_months


def test_smoothing_keeps_every_month_total_and_a_flat_series_flat() -> None:
    months = [add_months(date(2021, 10, 1), k) for k in range(14)]
    lengths = month_lengths(months)
    rng = np.random.default_rng(7)
    totals = rng.gamma(2.0, 1000.0, size=(14, 3))
    totals[5, 1] = 0.0
    daily = smooth_daily(totals, lengths)
    assert daily.shape == (lengths.sum(), 3)
    assert (daily >= 0).all()
    month_of_day = np.repeat(np.arange(14), lengths)
    sums = np.zeros_like(totals)
    np.add.at(sums, month_of_day, daily)
    np.testing.assert_allclose(sums, totals, rtol=1e-12)
    assert (daily[month_of_day == 5, 1] == 0).all()
    flat = smooth_daily(lengths[:, None] * 10.0, lengths)
    np.testing.assert_allclose(flat, 10.0)


def test_smoothing_follows_a_rising_series_within_the_month() -> None:
    months = [add_months(date(2022, 1, 1), k) for k in range(3)]
    lengths = month_lengths(months)
    daily = smooth_daily(np.array([31.0, 280.0, 3100.0]), lengths)
    february = daily[31:59]
    assert np.all(np.diff(february) > 0)


def test_mix_fit_reproduces_both_margins_and_keeps_the_association() -> None:
    seed = np.array([[0.5, 0.1, 0.1], [0.02, 0.15, 0.03], [0.01, 0.08, 0.01]])
    rows = np.array([0.6, 0.3, 0.1])
    columns = np.array([0.5, 0.3, 0.2])
    table = fit_to_margins(seed, rows, columns)
    np.testing.assert_allclose(table.sum(axis=1), rows, atol=1e-10)
    np.testing.assert_allclose(table.sum(axis=0), columns, atol=1e-10)

    # Odds ratios are what fitting to margins preserves.
    def odds(t: np.ndarray) -> float:
        return float(t[0, 0] * t[1, 1] / (t[0, 1] * t[1, 0]))

    assert abs(odds(table) - odds(seed)) < 1e-6
    independent = fit_to_margins(np.ones((3, 3)), rows, columns)
    np.testing.assert_allclose(independent, np.outer(rows, columns), atol=1e-12)
