"""Rolling-origin back-test: the error measure, the baselines, and the shipped result."""

from __future__ import annotations

from datetime import date

import numpy as np

from bordersim.calibration import load_calibration
from bordersim.calibration.backtest import BacktestResult, rolling_origin_backtest
from bordersim.calibration.seasonal import forecast, seasonal_indices
from bordersim.ingest.fiscal import add_months, fiscal_month_of

PATTERN = np.array([1.0, 0.8, 0.7, 0.9, 1.1, 1.3, 1.4, 1.2, 1.0, 0.9, 0.85, 0.85])


def synthetic(years: int, growth_per_month: float = 0.0) -> tuple[list[date], np.ndarray]:
    months = [add_months(date(2015, 10, 1), k) for k in range(12 * years)]
    level = 1000.0 * np.exp(growth_per_month * np.arange(len(months)))
    season = PATTERN[[fiscal_month_of(m) - 1 for m in months]]
    return months, np.column_stack([level * season, 2 * level * season])


def test_a_purely_seasonal_series_is_forecast_exactly_by_both_seasonal_methods() -> None:
    months, values = synthetic(8)
    result = rolling_origin_backtest(months, values)
    assert result.targets == 24
    assert result.first_target == date(2021, 10, 1)
    assert result.mape["seasonal naive"][1] < 1e-9
    assert result.mape["seasonal-trend"][1] < 1e-6
    assert result.mape["seasonal-trend"][3] < 1e-6
    assert result.mape["naive"][1] > 5.0  # ignoring seasonality costs


def test_seasonal_profile_is_recovered_and_a_trend_beats_the_seasonal_naive() -> None:
    months, values = synthetic(8, growth_per_month=0.03)
    fiscal = np.array([fiscal_month_of(m) for m in months])
    np.testing.assert_allclose(
        seasonal_indices(values[:, 0], fiscal), PATTERN / PATTERN.mean(), rtol=0.02
    )
    result = rolling_origin_backtest(months, values)
    assert result.mape["seasonal-trend"][1] < result.mape["seasonal naive"][1]
    assert forecast(values[:60, 0], fiscal[:60], 3).shape == (3,)


def test_forecasts_use_only_the_data_up_to_the_origin() -> None:
    months, values = synthetic(8)
    fiscal = np.array([fiscal_month_of(m) for m in months])
    changed = values.copy()
    changed[80:] *= 5.0  # the future changes; the forecast from month 79 must not
    np.testing.assert_array_equal(
        forecast(values[:80, 0], fiscal[:80], 3), forecast(changed[:80, 0], fiscal[:80], 3)
    )


def test_the_shipped_artifact_carries_the_fy2022_fy2023_backtest() -> None:
    calibration = load_calibration()
    result = BacktestResult.from_dict(calibration.artifact["backtest"])
    assert result.first_target == date(2021, 10, 1)
    assert result.last_target == date(2023, 9, 1)
    assert result.horizons == (1, 3)
    recomputed = rolling_origin_backtest(calibration.months, calibration.sector_encounters)
    assert recomputed.mape == result.mape
    for method in ("seasonal-trend", "seasonal naive", "naive"):
        assert all(0 < result.mape[method][h] < 1000 for h in (1, 3))


def test_the_backtest_summary_names_each_method_once_per_horizon_in_plain_words() -> None:
    """`bordersim calibrate` ended on "1 month(s) ahead: best is naive (21.6 %); bordersim 23.1 %,
    seasonal naive 67.3 %", and three months ahead named bordersim's method twice, as the best
    and again as "bordersim", with the same figure."""
    from rich.console import Console

    from bordersim.calibration.report import print_backtest

    result = BacktestResult.from_dict(load_calibration().artifact["backtest"])
    console = Console(record=True, width=200)
    print_backtest(console, result)
    lines = [line for line in console.export_text().splitlines() if "ahead:" in line]
    assert lines == [
        "1 month ahead: naive is best (21.6 %); seasonal-trend (bordersim) 23.1 %, "
        "seasonal naive 67.3 %.",
        "3 months ahead: seasonal-trend (bordersim) is best (32.7 %); naive 38.5 %, "
        "seasonal naive 67.3 %.",
    ]


def test_the_fit_report_writes_its_percentages_as_bordersim_does() -> None:
    """The report printed "7% every group", "27%: single adults 35.8%" and a mix of "22.8%" beside
    its sources' "7 % in FY2019" and the back-test's "21.6 %": every percentage now has the space
    before the sign that bordersim's tables and docs put there (words.whole_percent)."""
    import re

    from rich.console import Console

    from bordersim.calibration.report import print_fit_report

    console = Console(record=True, width=250)
    print_fit_report(console, load_calibration())
    text = console.export_text()
    assert "7 % every group" in text and "27 %: single adults 35.8 %" in text
    assert not re.findall(r".{20}\d%.{5}", text)
