"""KPI arithmetic: t intervals over replications, paired and Welch differences, histograms."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from bordersim.results.capability import capability_gap
from bordersim.results.kpis import (
    KPIS,
    differences,
    histogram_quantile,
    mean_interval,
    paired_difference,
    replication_kpis,
    summarize,
    welch_difference,
)
from bordersim.results.schema import METRIC_INDEX, RunResult


def test_mean_interval_matches_scipy_t_interval() -> None:
    values = np.array([12.0, 15.5, 9.25, 14.0, 11.0, 13.75, 10.5])
    interval = mean_interval(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert interval.mean == pytest.approx(values.mean())
    assert interval.low == pytest.approx(low)
    assert interval.high == pytest.approx(high)
    assert interval.n == 7


def test_one_replication_has_a_mean_and_no_interval() -> None:
    interval = mean_interval(np.array([4.0]))
    assert interval.mean == 4.0
    assert math.isnan(interval.low) and math.isnan(interval.high)


def test_a_kpis_interval_stays_within_the_values_it_can_take() -> None:
    # few replications near a bound: the t interval reaches past it, the KPI cannot
    share = np.array([0.0, 0.1, 0.3, 0.05])
    assert mean_interval(share).low < 0
    cut = summarize({"custody_share_over_72h": share, "gotaways": np.array([0.0, 40.0])})
    assert cut["custody_share_over_72h"].low == 0.0
    assert cut["custody_share_over_72h"].mean == mean_interval(share).mean
    assert cut["custody_share_over_72h"].high == mean_interval(share).high  # under 1: kept
    assert cut["gotaways"].low == 0.0
    assert cut["gotaways"].high == mean_interval(np.array([0.0, 40.0])).high  # no top
    near_one = summarize({"agents_field_share": np.array([0.95, 1.0])})["agents_field_share"]
    assert near_one.high == 1.0 and near_one.low == mean_interval(np.array([0.95, 1.0])).low
    # a name that is no KPI is left as it is; a difference may be negative
    other = summarize({"some_measure": share})["some_measure"]
    assert other.low == mean_interval(share).low
    assert (
        differences(
            {"gotaways": np.array([5.0, 9.0])}, {"gotaways": np.array([1.0, 8.0])}, paired=True
        )["gotaways"].low
        < -5
    )


def test_paired_difference_is_the_t_interval_of_differences() -> None:
    rng = np.random.default_rng(3)
    common = rng.normal(100, 30, size=12)  # the shared randomness of both variants
    a = common + rng.normal(0, 1, size=12)
    b = common + 5 + rng.normal(0, 1, size=12)
    paired = paired_difference(a, b)
    d = b - a
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert (paired.low, paired.high) == pytest.approx((low, high))
    # Pairing removes the common variation: the interval is far narrower than Welch's.
    welch = welch_difference(a, b)
    assert welch.mean == pytest.approx(paired.mean)
    assert welch.half_width > 5 * paired.half_width
    assert paired.excludes_zero() and not welch.excludes_zero()


def test_welch_difference_matches_scipy() -> None:
    a = np.array([1.0, 2.5, 3.0, 2.0, 1.5])
    b = np.array([4.0, 3.5, 6.0, 5.5, 4.5, 7.0])
    welch = welch_difference(a, b)
    result = stats.ttest_ind(b, a, equal_var=False)
    low, high = result.confidence_interval(0.95)
    assert (welch.low, welch.high) == pytest.approx((low, high))


def test_histogram_quantile_interpolates_within_one_hour_bins() -> None:
    counts = np.zeros(721)
    counts[10] = 50
    counts[20] = 50
    assert histogram_quantile(counts, 0.5) == pytest.approx(11.0)
    assert histogram_quantile(counts, 0.25) == pytest.approx(10.5)
    assert histogram_quantile(counts, 0.9) == pytest.approx(20.8)
    assert math.isnan(histogram_quantile(np.zeros(721), 0.5))


def test_replication_kpis_follow_the_daily_metrics(make_run: Callable[..., RunResult]) -> None:
    run = make_run(replications=4)
    kpis = replication_kpis(run)
    encounters = run.metric("encounters").sum(axis=(1, 2))
    gotaways = run.metric("gotaways").sum(axis=(1, 2))
    np.testing.assert_allclose(kpis["encounters"], encounters)
    np.testing.assert_allclose(kpis["apprehension_rate"], encounters / (encounters + gotaways))
    occupancy = run.metric("occupancy_mean").sum(axis=2)
    np.testing.assert_allclose(kpis["occupancy_p95"], np.percentile(occupancy, 95, axis=1))
    over = run.metric("custody_exits_over_72h").sum(axis=(1, 2))
    exits = run.metric("custody_exits").sum(axis=(1, 2))
    np.testing.assert_allclose(kpis["custody_share_over_72h"], over / exits)
    crowding = run.metric("occupancy_peak") / run.metric("custody_capacity")
    np.testing.assert_allclose(kpis["crowding_max"], crowding.max(axis=(1, 2)))
    assert all(v.shape == (4,) for v in kpis.values())
    # The constructed run has health outputs, so health KPIs are present, in catalogue order.
    assert list(kpis) == [k.name for k in KPIS]
    summary = summarize(kpis)
    assert summary["encounters"].low < summary["encounters"].mean < summary["encounters"].high


def test_health_kpis_are_absent_when_health_is_off(make_run: Callable[..., RunResult]) -> None:
    run = make_run(replications=3)
    assert "infections_in_custody" in replication_kpis(run)
    for name in ("infectious_arrivals", "staff_days_lost"):
        run.daily[..., METRIC_INDEX[name]] = 0.0
    assert "infections_in_custody" not in replication_kpis(run)


def test_capability_gap_is_the_positive_part_of_weekly_needed_minus_supplied(
    make_run: Callable[..., RunResult],
) -> None:
    run = make_run(replications=2, days=10)
    gap = capability_gap(run)
    assert len(gap.week_starts) == 2 and gap.gap.shape[:2] == (2, 2)
    needed_intake = run.metric("staff_hours_needed:intake")[:, :7].sum(axis=1)
    supplied_intake = sum(
        run.metric(f"staff_hours:{pool}:intake")[:, :7].sum(axis=1)
        for pool in (
            "agent",
            "processing_coordinator",
            "national_guard",
            "active_duty",
            "contractor",
        )
    )
    np.testing.assert_allclose(gap.gap[:, 0, :, 2], np.maximum(needed_intake - supplied_intake, 0))
    assert (gap.gap >= 0).all()


def test_differences_pair_kpis_by_name(make_run: Callable[..., RunResult]) -> None:
    a = replication_kpis(make_run(replications=5, seed=1))
    b = replication_kpis(make_run(replications=5, seed=2))
    diff = differences(a, b, paired=True)
    assert diff["encounters"].mean == pytest.approx(
        float((b["encounters"] - a["encounters"]).mean())
    )


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (-181_800_000.0, "dollars", "-$181.80 M"),
        (2_500.0, "dollars", "$2,500"),
        (-0.0001, "share", "0.0 %"),
        (-0.001, "hours", "0.00"),
        (0.8612, "share", "86.1 %"),
        (12_763_431.0, "hours", "12,763,431"),
        (float("nan"), "people", "n/a"),
    ],
)
def test_values_print_with_their_units(value: float, unit: str, text: str) -> None:
    from bordersim.results.kpis import format_value

    assert format_value(value, unit) == text


def test_crowding_is_not_the_other_sectors_when_one_holds_people_with_no_capacity(
    make_run: Callable[..., RunResult],
) -> None:
    # With no holding capacity in RGV, crowding was the largest ratio of the sectors with some
    # (TCA at 0.5) while RGV held 50 with no room at all.
    run = make_run(replications=2, days=5)
    run.daily[..., METRIC_INDEX["occupancy_peak"]] = 50.0
    run.daily[..., METRIC_INDEX["custody_capacity"]] = np.array([100.0, 0.0])
    assert np.isnan(replication_kpis(run)["crowding_max"]).all()
    # an empty sector without capacity is not crowded: the others' ratio stands
    run.daily[:, :, 1, METRIC_INDEX["occupancy_peak"]] = 0.0
    np.testing.assert_allclose(replication_kpis(run)["crowding_max"], 0.5)


def test_the_table_of_one_replication_does_not_promise_intervals(
    make_run: Callable[..., RunResult],
) -> None:
    # `bordersim run -r 1` titled its table "1 replications ... (mean [95 % interval])" and
    # showed no interval.
    from bordersim.commands.simulate import kpi_table_title

    one = kpi_table_title(make_run(replications=1))
    assert "one replication" in one and "no interval" in one and "95 %" not in one
    assert "(mean [95 % interval])" in kpi_table_title(make_run(replications=3))


def test_the_printed_table_names_the_days_and_sectors_its_values_are_over(
    make_run: Callable[..., RunResult],
) -> None:
    """`bordersim run` printed "Encounters 86,258" under a title naming the scenario, engine and
    seed but not the period: a total over what days was left to the report. The title now names
    the reported days and the sectors, as the report's first line does."""
    from bordersim.commands.simulate import kpi_table_title

    for replications in (1, 3):
        title = kpi_table_title(make_run(replications=replications, days=21))
        assert title.endswith("\nover 2023-05-01 to 2023-05-21 (21 days), sectors TCA, RGV")


def test_an_indicator_without_a_value_says_why_in_the_table_and_the_report(
    make_run: Callable[..., RunResult],
) -> None:
    """A run in which no child left custody printed "Children in custody over 72 h, share | n/a"
    and nothing more, and an indicator missing from some replications (a sector holding people
    with no capacity in one of them) showed a mean over fewer replications than the title said.
    A line under the table, in the terminal and the report, now gives the reason, or over how
    many replications the value is."""
    from rich.console import Console

    from bordersim.commands.simulate import print_kpis
    from bordersim.report.run_report import RunRecord, run_report_page

    run = make_run(replications=3)
    for metric in ("uac_exits", "uac_exits_over_72h"):
        run.daily[..., METRIC_INDEX[metric]] = 0.0
    run.daily[1, 0, 0, METRIC_INDEX["custody_capacity"]] = 0.0  # people held, no capacity
    nobody = "Children in custody over 72 h, share: n/a, as no child left custody"
    partial = (
        "Crowding, max occupancy / capacity: over the 2 of 3 replications that have it "
        "(in the others a sector held people with no custody capacity)"
    )
    record = RunRecord(run_id="r1", result=run)
    console = Console(record=True, width=300)
    print_kpis(console, record)
    printed = console.export_text()
    assert nobody in printed and partial in printed
    page = run_report_page(record, official=None).render()
    assert f'<p class="note">{nobody}</p>' in page and f'<p class="note">{partial}</p>' in page
    # a run whose every indicator has a value in every replication has no such line
    console = Console(record=True, width=300)
    print_kpis(console, RunRecord(run_id="r2", result=make_run(replications=3)))
    assert ": n/a, as" not in console.export_text()
    assert "replications that have it" not in console.export_text()


def test_indicators_counted_in_sector_days_or_staff_days_say_so_in_their_unit(
    make_run: Callable[..., RunResult],
) -> None:
    """ "Stock-out days (sector-days)" and "Staff-days lost to illness" had the unit "days", so a
    run of 42 days in two sectors could read "Stock-out days 60 days", more days than the run
    had. Their unit is now the one their label names, in the printed table, the report, the API
    and the comparison."""
    from rich.console import Console

    from bordersim.commands.simulate import print_kpis
    from bordersim.report.compare_report import KpiComparison
    from bordersim.report.run_report import RunRecord
    from bordersim.results.kpis import KPI_BY_NAME

    assert KPI_BY_NAME["stock_out_days"].unit == "sector-days"
    assert KPI_BY_NAME["staff_days_lost"].unit == "staff-days"
    run = make_run(replications=2)
    console = Console(record=True, width=300)
    print_kpis(console, RunRecord(run_id="r", result=run))
    (line,) = [ln for ln in console.export_text().splitlines() if "Stock-out days" in ln]
    assert line.split("│")[3].strip() == "sector-days"
    units = {row[0]: row[1] for row in KpiComparison.of(run, run).rows()}
    assert units["Stock-out days (sector-days)"] == "sector-days"
    assert units["Staff-days lost to illness"] == "staff-days"


@pytest.mark.parametrize(
    ("interval", "unit", "text"),
    [
        # counts of people or events printed "0.00 [0.00, 0.00]", and a bound cut to zero
        # "1,882 [0.00, 4,287]": a count of no one has no hundredths
        ((0.0, 0.0, 0.0), "people", "0 [0, 0]"),
        ((1_882.0, 0.0, 4_287.0), "people", "1,882 [0, 4,287]"),
        ((3.0, 1.0, 5.0), "events", "3 [1, 5]"),
        ((0.0, 0.0, 0.0), "sector-days", "0 [0, 0]"),
        ((68.5, 0.0, 774.0), "person-days", "68.5 [0, 774]"),
        # a mean of counts that is not whole keeps its decimals
        ((0.5, 0.0, 2.37), "people", "0.50 [0, 2.37]"),
        ((3.43, 0.0, 38.7), "staff-hours", "3.43 [0, 38.7]"),
    ],
)
def test_a_count_of_whole_things_prints_as_a_whole_number(
    interval: tuple[float, float, float], unit: str, text: str
) -> None:
    from bordersim.results.kpis import Interval, format_interval

    assert format_interval(Interval(*interval, n=2), unit) == text
