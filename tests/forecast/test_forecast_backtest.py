"""The back-test harness on the shipped data: no look-ahead, exact metrics, the CSV."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from forecast_data import FAST_MEMBERS, FAST_METHODS, shipped

from bordersim.forecast import backtest, ensemble, printing, rolling
from bordersim.forecast.methods import METHODS, OPTIONAL_METHODS


def window(first: date, last: date) -> tuple[int, int]:
    series = shipped()
    return series.index_of(first, "from"), series.index_of(last, "to")


@pytest.mark.parametrize(
    ("methods", "members"),
    [
        pytest.param(FAST_METHODS, FAST_MEMBERS, id="fast-methods"),
        pytest.param(
            (*METHODS, *OPTIONAL_METHODS),
            ensemble.ENSEMBLE_MEMBERS,
            id="all-methods",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_forecasts_and_intervals_use_only_data_before_each_origin(
    methods: tuple[str, ...], members: tuple[str, ...]
) -> None:
    series = shipped()
    cut = series.index_of(date(2019, 6, 1), "cut")  # the last month the forecasts may see
    origins = np.arange(cut - 160, cut + 4)
    before = rolling.compute(series, origins, 6, methods=methods, members=members)
    future = series.sectors.copy()
    future[cut + 1 :] *= 7.0  # a wildly different future
    changed = rolling.compute(
        replace(series, sectors=future), origins, 6, methods=methods, members=members
    )
    upto = origins <= cut
    for method in before.methods:
        np.testing.assert_array_equal(before.levels[method][upto], changed.levels[method][upto])
    np.testing.assert_array_equal(before.weights[upto], changed.weights[upto])
    for horizon in (1, 3, 6):
        for p in (0.025, 0.1, 0.9, 0.975):
            np.testing.assert_array_equal(
                before.quantile("ensemble", cut, horizon, p),
                changed.quantile("ensemble", cut, horizon, p),
            )
    # ... and the changed future does change forecasts made after it.
    assert not np.array_equal(before.levels["naive"][~upto], changed.levels["naive"][~upto])


@pytest.fixture(scope="module")
def fy2019() -> tuple[rolling.Rolling, backtest.Backtest]:
    first, last = window(date(2018, 10, 1), date(2019, 9, 1))
    origins = rolling.origin_range(last - 1)
    result = rolling.compute(shipped(), origins, 3, methods=FAST_METHODS, members=FAST_MEMBERS)
    return result, backtest.evaluate(result, first, last, (1, 3))


def test_naive_errors_match_a_direct_computation(
    fy2019: tuple[rolling.Rolling, backtest.Backtest],
) -> None:
    _, result = fy2019
    series = shipped()
    first, last = window(date(2018, 10, 1), date(2019, 9, 1))
    y = series.sectors[:, 3]  # Tucson
    targets = np.arange(first, last + 1)
    for horizon in (1, 3):
        forecast = y[targets - horizon]
        scale = np.array([np.abs(np.diff(y[o - 120 : o + 1])).mean() for o in targets - horizon])
        row = result.row("naive", horizon, "TCA")
        assert row.targets == 12
        assert row.mase == pytest.approx(np.mean(np.abs(forecast - y[targets]) / scale))
        assert row.mape == pytest.approx(100 * np.mean(np.abs(forecast - y[targets]) / y[targets]))
        assert row.bias == pytest.approx(100 * np.mean((forecast - y[targets]) / y[targets]))
    total = series.sectors.sum(axis=1)
    swb = result.row("naive", 1, "SWB")
    assert swb.mape == pytest.approx(
        100 * np.mean(np.abs(total[targets - 1] - total[targets]) / total[targets])
    )


def test_ensemble_weights_sum_to_one_and_its_forecast_lies_within_its_members(
    fy2019: tuple[rolling.Rolling, backtest.Backtest],
) -> None:
    result, _ = fy2019
    np.testing.assert_allclose(result.weights.sum(axis=2), 1.0)
    assert (result.weights >= 0).all()
    members = np.stack([result.levels[m][:, :9] for m in FAST_MEMBERS])
    combined = result.levels["ensemble"][:, :9]
    assert (combined >= members.min(axis=0) - 1e-6).all()
    assert (combined <= members.max(axis=0) + 1e-6).all()
    np.testing.assert_allclose(result.levels["ensemble"][:, 9], combined.sum(axis=1))


def test_ensemble_weights_are_the_inverse_mean_squared_log_errors_of_past_targets(
    fy2019: tuple[rolling.Rolling, backtest.Backtest],
) -> None:
    result, _ = fy2019
    series = shipped()
    log_actual = np.log1p(series.sectors)
    for origin in (int(result.origins[-1]), int(result.origins[-40])):
        for horizon in (1, 3):
            # Origins whose target is known at `origin`, the last ENSEMBLE_WINDOW of them.
            past = np.arange(origin - horizon - ensemble.ENSEMBLE_WINDOW + 1, origin - horizon + 1)
            inverse = []
            for member in FAST_MEMBERS:
                forecasts = result.levels[member][past - result.origins[0], :9, horizon - 1]
                errors = log_actual[past + horizon] - np.log1p(forecasts)
                inverse.append(1.0 / np.mean(errors**2))
            expected = np.array(inverse) / np.sum(inverse)
            np.testing.assert_allclose(
                result.weights[result.row_of(origin), horizon - 1], expected, rtol=1e-12
            )


def test_intervals_widen_with_the_level_and_coverage_is_a_share(
    fy2019: tuple[rolling.Rolling, backtest.Backtest],
) -> None:
    result, evaluated = fy2019
    origin = int(result.origins[-1])
    low80, high80 = result.interval("ensemble", origin, 3, 0.80)
    low95, high95 = result.interval("ensemble", origin, 3, 0.95)
    assert (low95 <= low80).all() and (high80 <= high95).all()
    point = result.levels["ensemble"][result.row_of(origin), :, 2]
    assert (low80 <= point).all() and (point <= high80).all()
    for row in evaluated.rows:
        assert 0.0 <= row.coverage80 <= row.coverage95 <= 1.0


def test_backtest_csv_has_exactly_the_documented_columns(
    fy2019: tuple[rolling.Rolling, backtest.Backtest], tmp_path: Path
) -> None:
    _, result = fy2019
    path = result.write_csv(tmp_path / "backtest.csv")
    assert path.read_text().splitlines()[0] == (
        "method,horizon,sector,mase,mape,bias,coverage80,coverage95"
    )
    rows = backtest.read_csv(path)
    assert len(rows) == (len(FAST_METHODS) + 1) * 2 * 10
    assert {r["sector"] for r in rows} == {
        "SDC", "ELC", "YUM", "TCA", "EPT", "BBT", "DRT", "LRT", "RGV", "SWB"
    }  # fmt: skip
    assert {r["method"] for r in rows} == {*FAST_METHODS, "ensemble"}


def test_backtest_csv_writes_no_number_in_exponent_notation(tmp_path: Path) -> None:
    """A percentage of a million or more (a month of 3 encounters forecast at 40,000) or a tiny
    ratio came out as `1.23457e+06` or `1.2e-05`, where every other number of backtest.csv and
    forecast.csv is written out; each is now positional, its whole part kept."""
    row = backtest.Row(
        "naive", 1, "BBT", 0.0000123456789, 1234567.891, -2345678.9, 0.8, 1.0, targets=12
    )
    result = backtest.Backtest(date(2023, 1, 1), date(2023, 9, 1), (1,), [row], [], {})
    (written,) = backtest.read_csv(result.write_csv(tmp_path / "backtest.csv"))
    assert written == {
        "method": "naive",
        "horizon": "1",
        "sector": "BBT",
        "mase": "0.0000123457",
        "mape": "1234568",
        "bias": "-2345679",
        "coverage80": "0.8",
        "coverage95": "1",
    }


def test_paired_interval_of_a_method_against_itself_is_zero() -> None:
    loss = np.array([0.3, 0.5, 0.2, 0.9, 0.4, 0.6])
    same = backtest.paired_difference(loss, loss, "a", "a", 1)
    assert same.mean_difference == same.lower == same.upper == 0.0
    better = backtest.paired_difference(loss, loss + 0.1 + 0.01 * np.arange(6), "a", "b", 1)
    assert better.upper < 0 < -better.lower


def test_paired_differences_name_methods_as_the_tables_above_them() -> None:
    """The paired table read `seasonal_naive better` and `ensemble - seasonal_naive` where the
    summary tables above it name the method "same month last year"."""
    pairs = [
        backtest.Paired("ensemble", "seasonal_naive", 1, -0.2, -0.3, -0.1, 24),
        backtest.Paired("ensemble", "seasonal_naive", 3, 0.2, 0.1, 0.3, 24),
    ]
    result = backtest.Backtest(date(2021, 10, 1), date(2023, 9, 1), (1, 3), [], pairs, {})
    rows = printing.paired_rows(result)
    assert [row[1] for row in rows] == ["ensemble - same month last year"] * 2
    assert [row[-1] for row in rows] == ["ensemble better", "same month last year better"]


def test_a_segment_without_intervals_reads_n_a_in_the_report_as_on_the_terminal() -> None:
    """A segment whose target months have no interval yet (too few past errors, near the data's
    start) has no coverage: the terminal said `n/a`, report.html `nan %`."""
    from bordersim.report.forecast_report import _backtest_sections
    from bordersim.report.page import Page

    cover = {
        ("ensemble", 1, "before Title 42"): (math.nan, math.nan, 4),
        ("ensemble", 1, "Title 42"): (0.75, 1.0, 8),
    }
    result = backtest.Backtest(date(2019, 12, 1), date(2020, 11, 1), (1,), [], [], cover)
    page = Page("back-test")
    _backtest_sections(page, result)
    html = page.render()
    assert "nan" not in html.split("Ensemble interval coverage")[1]
    assert '<td>before Title 42</td><td class="num">4</td><td>n/a</td><td>n/a</td>' in html
    assert '<td>Title 42</td><td class="num">8</td><td>75 %</td><td>100 %</td>' in html


def test_the_fan_chart_names_its_intervals_as_bordersim_writes_percentages() -> None:
    """The fan chart's legend read `95% interval` and `80% interval` beside tables headed
    `80 % interval` and `95 % interval`."""
    from forecast_data import lognormal_noise

    from bordersim.forecast import Forecast, group_shares_at
    from bordersim.report.forecast_report import fan_chart

    series = lognormal_noise(60, 0.2, seed=3)
    methods = ("naive", "seasonal_naive")
    rolling_run = rolling.compute(
        series, rolling.origin_range(59), 2, methods=methods, members=methods
    )
    forecast = Forecast(series, series.month_at(59), 2, rolling_run, group_shares_at(series, 59))
    names = [trace.name for trace in fan_chart(forecast, 0).data]
    assert names[:2] == ["95 % interval", "80 % interval"]


def test_the_back_test_says_which_sectors_its_means_are_over() -> None:
    """With a release of two sectors the back-test's means were said to be "over the nine
    sectors": the seven without data have no score, and the means are of the other two."""
    from forecast_data import lognormal_noise

    from bordersim.report.forecast_report import _backtest_sections
    from bordersim.report.page import Page

    noise = lognormal_noise(60, 0.2, seed=7)
    series = replace(noise, sectors=noise.sectors * (np.arange(9) >= 7))  # LRT and RGV only
    methods = ("naive", "seasonal_naive")
    run = rolling.compute(series, rolling.origin_range(58), 1, methods=methods, members=methods)
    result = backtest.evaluate(run, 50, 59, (1,))
    said = "the 2 sectors with data (LRT, RGV)"
    assert f"the mean over {said})" in printing.backtest_words(result)
    page = Page("back-test")
    _backtest_sections(page, result)
    assert f"means over {said}, then the southwest total" in page.render()
    shipped_like = backtest.evaluate(
        rolling.compute(noise, rolling.origin_range(58), 1, methods=methods, members=methods),
        50,
        59,
        (1,),
    )
    assert "the mean over the nine sectors)" in printing.backtest_words(shipped_like)


def test_the_back_test_sentence_says_when_no_interval_could_be_scored() -> None:
    """Near the data's start no interval has the past errors it needs: the forecast's sentence
    read "the 80 % interval held n/a of the months and the 95 % interval n/a"."""
    from forecast_data import lognormal_noise

    series = lognormal_noise(45, 0.2, seed=7)
    methods = ("naive", "seasonal_naive")
    run = rolling.compute(series, rolling.origin_range(43), 1, methods=methods, members=methods)
    words = printing.backtest_words(backtest.evaluate(run, 35, 44, (1,)))
    assert "n/a" not in words
    assert "1 month ahead, no interval had the past errors it needs yet, and the forecast" in words


def test_the_report_draws_no_fan_chart_for_a_sector_without_data(tmp_path: Path) -> None:
    """report.html drew a fan chart of a forecast of 0 for each sector the release has no data
    for, where its table and notes say `no data`."""
    from forecast_data import lognormal_noise

    from bordersim.forecast import Forecast, group_shares_at
    from bordersim.report.forecast_report import write_forecast_report

    noise = lognormal_noise(60, 0.2, seed=7)
    series = replace(noise, sectors=noise.sectors * (np.arange(9) >= 7))  # LRT and RGV only
    methods = ("naive", "seasonal_naive")
    run = rolling.compute(series, rolling.origin_range(59), 1, methods=methods, members=methods)
    forecast = Forecast(series, series.month_at(59), 1, run, group_shares_at(series, 59))
    evaluated = backtest.evaluate(run, 50, 59, (1,))
    html = write_forecast_report(tmp_path / "report.html", forecast, evaluated).read_text()
    charts = re.findall(r'"title":\{"text":"([A-Z]{3}) ', html)
    assert charts == ["LRT", "RGV", "SWB"]


def _ensemble_backtest(coverage80: float, coverage95: float, mape: float) -> backtest.Backtest:
    """A back-test of the ensemble one month ahead, every series scored alike."""
    rows = [
        backtest.Row(rolling.ENSEMBLE, 1, code, 1.2, mape, 3.0, coverage80, coverage95, 24)
        for code in rolling.SERIES_CODES
    ]
    return backtest.Backtest(date(2021, 5, 1), date(2023, 4, 1), (1,), rows, [], {})


@pytest.mark.parametrize(
    ("coverages", "said"),
    [
        (
            (0.75, math.nan),
            "the 80 % interval held 75 % of the months, and the 95 % interval did not have the "
            "past errors it needs yet",
        ),
        (
            (math.nan, 0.9),
            "the 80 % interval did not have the past errors it needs yet, and the 95 % interval "
            "held 90 % of the months",
        ),
    ],
)
def test_the_back_test_sentence_says_why_one_interval_was_not_scored(
    coverages: tuple[float, float], said: str
) -> None:
    """With one interval scored and not the other, the sentence read "the 95 % interval n/a",
    without saying why."""
    words = printing.backtest_words(_ensemble_backtest(*coverages, 12.5))
    assert "n/a" not in words
    assert f"1 month ahead, {said}, and the forecast was off by 12.5 % on average" in words


def test_the_back_test_sentence_says_why_the_percentage_error_is_missing() -> None:
    """Target months without encounters have no relative error: the sentence read "the forecast
    was off by n/a % on average"."""
    words = printing.backtest_words(_ensemble_backtest(0.8, 0.95, math.nan))
    assert "n/a" not in words
    assert "its percentage error is not defined (no target month had encounters)" in words


def test_the_report_says_a_regime_end_not_yet_announced_in_words() -> None:
    """The report's table of regimes read "end n/a" for the rule whose end has not been
    announced, beside "open" for its end date."""
    from bordersim.report.forecast_report import _method_section
    from bordersim.report.page import Page

    page = Page("forecast")
    _method_section(page)
    html = page.render()
    assert "start 2023-02-21; end not announced" in html
    assert "end n/a" not in html


def test_the_title42_segments_are_documented_by_the_target_months_they_hold() -> None:
    """docs/forecast.md put the segments' bounds at 21 March 2020 and 11 May 2023 and labelled
    the first "to March 2020", while a target month is placed whole: March 2020 and May 2023
    are in the Title 42 segment, February 2020 is the last month before it."""
    from bordersim.forecast.regimes import segment_of
    from repo_paths import REPO

    assert segment_of(date(2020, 2, 1)) == "before Title 42"
    assert segment_of(date(2020, 3, 1)) == segment_of(date(2023, 5, 1)) == "Title 42"
    assert segment_of(date(2023, 6, 1)) == "after Title 42"
    docs = " ".join((REPO / "docs" / "forecast.md").read_text(encoding="utf-8").split())
    assert (
        "before it (target months to February 2020), during it (March 2020 to May 2023, the "
        "months it began and ended in) and after it (from June 2023)"
    ) in docs
    assert "| before Title 42 (to February 2020) | 53 |" in docs
    assert "| Title 42 (March 2020 - May 2023) | 39 |" in docs


def test_the_back_test_sentence_says_its_months_run_up_to_the_origin() -> None:
    """The sentence read "Back-test of the ensemble before the origin (24 target months,
    2021-05 .. 2023-04" for a forecast from 2023-04: its months run up to the origin, which is
    among them."""
    words = printing.backtest_words(_ensemble_backtest(0.8, 0.95, 12.5))
    assert words.startswith(
        "Back-test of the ensemble up to the origin (24 target months, 2021-05 .. 2023-04, "
    )
    assert "before the origin" not in words


def test_the_printed_back_test_names_a_workbook_with_brackets_as_it_is() -> None:
    """A workbook named `ohss[new].xlsx` was printed as `ohss.xlsx` in the back-test's first
    line, its `[new]` taken for a style; the name is now printed as it is."""
    from rich.console import Console

    rows = [
        backtest.Row("naive", 1, code, 1.0, 10.0, 1.0, 0.8, 1.0, targets=1)
        for code in rolling.SERIES_CODES
    ]
    result = backtest.Backtest(date(2023, 9, 1), date(2023, 9, 1), (1,), rows, [], {})
    console = Console(record=True, width=200)
    printing.print_backtest(console, result, "OHSS workbook ohss[new].xlsx (sha256 0123abcd)")
    first = console.export_text().splitlines()[0]
    assert first.endswith("data: OHSS workbook ohss[new].xlsx (sha256 0123abcd)"), first
