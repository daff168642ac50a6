"""Reports lead with the finding: headline boxes, B - A bands, fixed scales, one sector choice."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import special

import bordersim as bs
from bordersim.compiler import compile_scenario
from bordersim.report import figures
from bordersim.report.compare_report import KpiComparison, compare_report_page
from bordersim.report.headline import (
    KNOWN_LIMITS,
    binding_constraints,
    comparison_headline,
    effect_size,
    is_practically_zero,
    run_headline,
    staff_shortfalls,
    verdict,
)
from bordersim.report.run_report import RunRecord, run_report_page
from bordersim.results.kpis import (
    Interval,
    differences,
    format_value,
    replication_kpis,
    summarize,
)
from bordersim.results.schema import METRIC_INDEX, RunResult
from bordersim.scenario import load_scenario
from repo_paths import SMALL


def _set(run: RunResult, metric: str, value: float, sector: int | None = None) -> None:
    index = METRIC_INDEX[metric]
    if sector is None:
        run.daily[..., index] = value
    else:
        run.daily[:, :, sector, index] = value


def _quiet(run: RunResult) -> RunResult:
    """No limit binds anywhere: capacity far above the peak, nobody waiting."""
    _set(run, "custody_capacity", 1e6)
    for metric in ("valve_open_hours", "processing_backlog", "waiting_for_ice_bed"):
        _set(run, metric, 0.0)
    _set(run, "waiting_for_hhs", 0.0)
    _set(run, "waiting_for_port", 0.0)
    return run


def test_headline_names_the_limit_that_binds_and_where(make_run: Callable[..., RunResult]) -> None:
    run = _quiet(make_run(replications=3, days=21))
    assert binding_constraints(run) == []
    assert "No custody capacity" in run_headline(run)[0].text
    # RGV (sector 1) is over capacity on the first 5 days of every replication.
    run.daily[:, :5, 1, METRIC_INDEX["custody_capacity"]] = 0.0
    run.daily[:, :5, 1, METRIC_INDEX["occupancy_peak"]] = 10.0
    [binding] = binding_constraints(run)
    assert (binding.constraint, binding.sector, binding.days, binding.of_days) == (
        "custody capacity",
        "RGV (Rio Grande Valley)",
        5.0,
        21,
    )
    assert "Custody capacity binds in RGV (Rio Grande Valley) on 5 of 21 days" in " ".join(
        item.text for item in run_headline(run)
    )


def test_a_limit_binding_half_a_day_on_average_does_not_read_zero_days(
    make_run: Callable[..., RunResult],
) -> None:
    """One replication of two over capacity on one day: a mean of 0.5 days, which the headline
    rounded to "binds in RGV (Rio Grande Valley) on 0 of 21 days"."""
    run = _quiet(make_run(replications=2, days=21))
    run.daily[0, 0, 1, METRIC_INDEX["custody_capacity"]] = 0.0
    run.daily[0, 0, 1, METRIC_INDEX["occupancy_peak"]] = 10.0
    text = " ".join(item.text for item in run_headline(run))
    assert "Custody capacity binds in RGV (Rio Grande Valley) on 0.5 of 21 days" in text
    run.daily[1, :3, 1, METRIC_INDEX["custody_capacity"]] = 0.0
    run.daily[1, :3, 1, METRIC_INDEX["occupancy_peak"]] = 10.0
    assert "on 2 of 21 days" in " ".join(item.text for item in run_headline(run))


def test_each_binding_limit_reads_as_a_sentence(make_run: Callable[..., RunResult]) -> None:
    """The headline read "ICE beds binds in RGV ..." and "processing binds in ...": a plural
    limit now takes "bind", and each item starts with a capital like the sentences around it."""
    run = _quiet(make_run(replications=2, days=21))
    run.daily[:, :4, 1, METRIC_INDEX["waiting_for_ice_bed"]] = 3.0
    run.daily[:, :2, 1, METRIC_INDEX["waiting_for_hhs"]] = 3.0
    run.daily[:, :3, 1, METRIC_INDEX["processing_backlog"]] = 1e6
    texts = [item.text for item in run_headline(run)]
    assert texts[:3] == [
        "ICE beds bind in RGV (Rio Grande Valley) on 4 of 21 days.",
        "Processing binds in RGV (Rio Grande Valley) on 3 of 21 days.",
        "HHS shelters bind in RGV (Rio Grande Valley) on 2 of 21 days.",
    ]


def test_the_staff_a_gap_needs_counts_the_days_of_a_short_last_week(
    make_run: Callable[..., RunResult],
) -> None:
    """Ten reported days: a week of seven, then one of three. The workbench's "about staff (8 h
    a day)" divided every week's staff-hours by seven days, so 24 staff-hours a day short over
    the last three days read 1.3 staff instead of 3."""
    from bordersim.model.dimensions import Task
    from bordersim.web.dashboards import run_dashboard

    run = make_run(replications=2, days=10)
    for name in METRIC_INDEX:
        if name.startswith("staff_hours"):
            _set(run, name, 0.0)
    field = f"staff_hours_needed:{Task.FIELD.name.lower()}"
    run.daily[:, 7:, 1, METRIC_INDEX[field]] = 24.0
    view = run_dashboard(run, sector="all", month="all")
    [row] = view.top_gaps
    assert row[:5] == ["field", "RGV", "2023-05-08", "72", "3.0"]


def test_a_zero_difference_is_practically_zero_not_excluding_zero() -> None:
    exact_zero = Interval(0.0, 0.0, 0.0, 10)
    assert verdict(exact_zero, 5.0, 5.0) == "practically zero"
    tiny = Interval(0.2, 0.1, 0.3, 10)  # clear of zero, but 0.3 % of 100
    assert tiny.excludes_zero()
    assert verdict(tiny, 100.0, 100.2) == "practically zero"
    real = Interval(5.0, 3.0, 7.0, 10)
    assert verdict(real, 100.0, 105.0) == "yes"
    assert verdict(Interval(5.0, -1.0, 11.0, 10), 100.0, 105.0) == "no"
    assert not is_practically_zero(Interval(0.5, -3.0, 4.0, 10), 100.0, 100.5)


def test_effect_size_is_cohens_d() -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0])
    assert math.isclose(effect_size(a, b), 2.0)  # difference 2, pooled sd 1


def test_identical_runs_differ_by_practically_zero_everywhere(
    make_run: Callable[..., RunResult],
) -> None:
    a = RunRecord(run_id="a", result=make_run(replications=4, seed=3))
    b = RunRecord(run_id="b", result=make_run(replications=4, seed=3))
    comparison = KpiComparison.of(a.result, b.result)
    assert comparison.paired
    assert {row[-1] for row in comparison.rows()} == {"practically zero"}
    text = compare_report_page(a, b).render()
    assert "No indicator differs clearly" in text


def test_paired_runs_of_unequal_length_compare_the_same_replications(
    make_run: Callable[..., RunResult],
) -> None:
    """Two runs with one seed but 4 and 2 replications: B - A pairs the first 2, and A's column,
    the change and d were over A's 4, so that a row's B - A was not B minus A (a capability gap
    of 6.03 against 0.66 read "B - A 0.66, +10.9 %"). Every column now uses the pairs."""
    from rich.console import Console

    from bordersim.commands.simulate import print_differences
    from bordersim.results.kpis import replication_kpis

    a_result, b_result = make_run(replications=4, seed=3), make_run(replications=2, seed=3)
    b_result.daily[..., METRIC_INDEX["encounters"]] += 7.0
    comparison = KpiComparison.of(a_result, b_result)
    assert comparison.paired
    first_two = replication_kpis(a_result)["encounters"][:2]
    assert math.isclose(comparison.summary_a["encounters"].mean, float(first_two.mean()))
    for name, diff in comparison.diffs.items():
        expected = comparison.summary_b[name].mean - comparison.summary_a[name].mean
        assert math.isclose(diff.mean, expected, rel_tol=1e-9, abs_tol=1e-9), name
    a, b = RunRecord(run_id="a", result=a_result), RunRecord(run_id="b", result=b_result)
    console = Console(record=True, width=200)
    print_differences(console, a, b)
    assert "the first 2 of each, the pairs, are compared" in console.export_text()
    assert "the first 2 of each, the pairs, are compared" in compare_report_page(a, b).render()


def test_a_share_one_run_leaves_undefined_pairs_the_replications_both_define(
    make_run: Callable[..., RunResult],
) -> None:
    """Replication 1 of A has no children leaving custody, so no share of them over 72 h. B - A
    dropped that pair, but A's and B's columns kept their other replications: the row read
    B - A 0.43 under columns 0.86 and 1.46. Every column now uses the pairs both define."""
    a_result, b_result = make_run(replications=4, seed=3), make_run(replications=4, seed=3)
    for metric in ("uac_exits", "uac_exits_over_72h"):
        a_result.daily[1, :, :, METRIC_INDEX[metric]] = 0.0
    b_result.daily[..., METRIC_INDEX["uac_exits_over_72h"]] *= 1.5
    comparison = KpiComparison.of(a_result, b_result)
    name = "uac_share_over_72h"
    a, b, diff = comparison.summary_a[name], comparison.summary_b[name], comparison.diffs[name]
    assert (a.n, b.n, diff.n) == (3, 3, 3)
    assert math.isclose(diff.mean, b.mean - a.mean, rel_tol=1e-12)
    own_b = replication_kpis(b_result)[name]
    assert math.isclose(b.mean, float(own_b[[0, 2, 3]].mean()), rel_tol=1e-12)
    assert comparison.summary_b["encounters"].n == 4  # defined everywhere: every pair
    # A side with no value in any replication leaves the other's column as it was.
    nobody = make_run(replications=4, seed=3)
    for metric in ("uac_exits", "uac_exits_over_72h"):
        nobody.daily[..., METRIC_INDEX[metric]] = 0.0
    one_sided = KpiComparison.of(nobody, b_result)
    assert one_sided.diffs[name].n == 0 and one_sided.summary_b[name].n == 4


def test_runs_of_different_periods_are_compared_with_a_warning_saying_so(
    make_run: Callable[..., RunResult],
) -> None:
    """A run of 42 days against one of 21 read "Encounters -48.2 %, excludes 0: yes" with no word
    in the printed table, and the report said only, among its charts, that daily differences were
    not drawn. Both now say first that the runs cover different days and name each side's, and a
    comparison of like with like says what both cover."""
    from rich.console import Console

    from bordersim.commands.simulate import print_differences

    long, short = make_run(replications=2, days=21), make_run(replications=2, days=14)
    a, b = RunRecord(run_id="a", result=long), RunRecord(run_id="b", result=short)
    warning = (
        "Not like for like: A and B cover different reported days "
        "(A: 2023-05-01 to 2023-05-21, 21 days; B: 2023-05-01 to 2023-05-14, 14 days)"
    )
    console = Console(record=True, width=400)
    print_differences(console, a, b)
    printed = console.export_text()
    assert warning in printed
    assert printed.index(warning) < printed.index("Encounters")  # above the table
    page = compare_report_page(a, b).render()
    assert warning in page and page.index(warning) < page.index("What differs")
    same = RunRecord(run_id="c", result=make_run(replications=2, days=21, seed=2))
    console = Console(record=True, width=400)
    print_differences(console, a, same)
    printed = console.export_text()
    assert "Both runs cover 2023-05-01 to 2023-05-21, 21 days; sectors TCA, RGV." in printed
    assert "Not like for like" not in printed + compare_report_page(a, same).render()


def test_a_difference_of_shares_is_in_percentage_points(
    make_run: Callable[..., RunResult],
) -> None:
    """An apprehension rate of 77.3 % against 76.9 % read "B - A -0.4 % [-0.6 %, -0.2 %]" beside
    "change -0.5 %": two percentages of different kinds side by side. B - A of a share is now in
    percentage points, in the table and the headline; the change stays a relative %."""
    from bordersim.results.kpis import format_difference

    a_result, b_result = make_run(replications=3, seed=3), make_run(replications=3, seed=3)
    b_result.daily[..., METRIC_INDEX["gotaways"]] *= 1.5  # a lower apprehension rate in B
    comparison = KpiComparison.of(a_result, b_result)
    rows = {row[0]: row for row in comparison.rows()}
    diff = comparison.diffs["apprehension_rate"]
    points = f"{100 * diff.mean:.1f} pp [{100 * diff.low:.1f} pp, {100 * diff.high:.1f} pp]"
    assert rows["Apprehension rate"][4] == points
    assert rows["Apprehension rate"][5].endswith(" %")  # the relative change
    headline = comparison.headline(a_result, b_result)
    (line,) = [i.text for i in headline if i.text.startswith("Apprehension rate")]
    assert f"B - A {points}" in line
    assert rows["Got-aways"][4] == format_difference(comparison.diffs["gotaways"], "people")
    one = Interval(-0.004, math.nan, math.nan, 1)
    assert format_difference(one, "share") == "-0.4 pp"


def test_the_comparison_gives_each_indicator_its_unit(
    make_run: Callable[..., RunResult],
) -> None:
    """The printed B - A table and compare.html had no unit column, unlike bordersim run's table:
    "Time in custody, median 30.2" or "Unmet care 68.5" said neither hours nor person-days. Both
    now give each indicator's unit, as the run's table does."""
    from rich.console import Console

    from bordersim.commands.simulate import print_differences
    from bordersim.results.kpis import KPI_BY_NAME

    a_result, b_result = make_run(replications=2, seed=3), make_run(replications=2, seed=3)
    comparison = KpiComparison.of(a_result, b_result)
    units = {row[0]: row[1] for row in comparison.rows()}
    assert units == {KPI_BY_NAME[name].label: KPI_BY_NAME[name].unit for name in comparison.diffs}
    assert units["Time in custody, median"] == "hours"
    assert units["Unmet care"] == "person-days"
    a, b = RunRecord(run_id="a", result=a_result), RunRecord(run_id="b", result=b_result)
    page = compare_report_page(a, b).render()
    assert "<th>indicator</th><th>unit</th><th>A (mean)</th>" in page
    assert "<td>Unmet care</td><td>person-days</td>" in page
    console = Console(record=True, width=300)
    print_differences(console, a, b)
    (line,) = [ln for ln in console.export_text().splitlines() if "Unmet care" in ln]
    assert line.split("│")[2].strip() == "person-days"


def test_runs_of_two_engines_are_not_paired_even_with_one_seed(
    make_run: Callable[..., RunResult],
) -> None:
    """The event and flow engines draw their random numbers differently: replication r of one
    is not the pair of replication r of the other, so the intervals are Welch's and say so."""
    from rich.console import Console

    from bordersim.commands.simulate import print_differences
    from bordersim.web.dashboards import compare_dashboard

    event = make_run(replications=4, seed=3, engine="event")
    flow = make_run(replications=2, seed=3, engine="flow")
    comparison = KpiComparison.of(event, flow)
    assert not comparison.paired
    assert comparison.summary_a["encounters"].n == 4  # every replication, not the first 2
    a, b = RunRecord(run_id="a", result=event), RunRecord(run_id="b", result=flow)
    assert "unpaired (different seeds or engines)" in compare_report_page(a, b).render()
    console = Console(record=True, width=200)
    print_differences(console, a, b)
    assert "unpaired, Welch" in console.export_text()
    assert not compare_dashboard(("a", event), ("b", flow), sector="all").paired
    assert KpiComparison.of(event, make_run(replications=4, seed=3, engine="event")).paired


def test_comparison_plots_b_minus_a_with_the_interval_as_band(
    make_run: Callable[..., RunResult],
) -> None:
    a_result, b_result = make_run(replications=4, seed=3), make_run(replications=4, seed=3)
    b_result.daily[..., METRIC_INDEX["encounters"]] += 7.0
    fig = figures.difference(
        a_result, b_result, [("encounters", "encounters")], "t", "people", True, [0, 1]
    )
    low, high, mean = (np.asarray(trace.y, float) for trace in fig.data[:3])
    # Exactly 7 more per sector each day, in every replication: mean 14, no spread.
    np.testing.assert_allclose(mean, 14.0, rtol=1e-6)
    np.testing.assert_allclose(low, 14.0, rtol=1e-6)
    np.testing.assert_allclose(high, 14.0, rtol=1e-6)
    a = RunRecord(run_id="a", result=a_result)
    b = RunRecord(run_id="b", result=b_result)
    text = compare_report_page(a, b).render()
    assert "Encounters and got-aways per day: B - A" in text
    headline = text[text.index('class="headline"') : text.index("</section>")]
    assert "Encounters" in headline and "higher" in headline


def test_an_unpaired_band_is_the_tables_welch_interval_day_by_day(
    make_run: Callable[..., RunResult],
) -> None:
    a, b = make_run(replications=2, seed=3, days=5), make_run(replications=6, seed=4, days=5)
    a.daily[..., METRIC_INDEX["encounters"]] *= 5.0  # A spreads much more than B
    fig = figures.difference(a, b, [("encounters", "encounters")], "t", "people", False, [0, 1])
    low, high, mean = (np.asarray(trace.y, float) for trace in fig.data[:3])
    x, y = (
        figures.sector_total(a, "encounters", [0, 1]),
        figures.sector_total(b, "encounters", [0, 1]),
    )
    # Welch-Satterthwaite degrees of freedom, as the comparison table's interval has; the
    # smaller run's (2 - 1 = 1) would make each band several times as wide.
    va, vb = x.var(axis=0, ddof=1) / 2, y.var(axis=0, ddof=1) / 6
    dof = (va + vb) ** 2 / (va**2 / 1 + vb**2 / 5)
    half = np.array([special.stdtrit(d, 0.975) for d in dof]) * np.sqrt(va + vb)
    np.testing.assert_allclose(mean, y.mean(axis=0) - x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(high - mean, half, rtol=1e-4)
    np.testing.assert_allclose(mean - low, half, rtol=1e-4)
    table = differences({"e": x[:, 0]}, {"e": y[:, 0]}, paired=False)["e"]
    assert math.isclose(table.high - table.mean, half[0], rel_tol=1e-9)


def test_one_replication_a_side_draws_no_band(make_run: Callable[..., RunResult]) -> None:
    """The table says "no interval" there; a band of zero width would claim a certain difference."""
    metrics = [("encounters", "encounters"), ("gotaways", "got-aways")]
    for paired, b_seed in ((True, 3), (False, 4)):
        a, b = make_run(replications=1, seed=3), make_run(replications=1, seed=b_seed)
        fig = figures.difference(a, b, metrics, "t", "people", paired, [0, 1])
        assert [trace.name for trace in fig.data] == ["encounters: B - A", "got-aways: B - A"]
        assert not any(getattr(trace, "fill", None) for trace in fig.data)
        page = compare_report_page(RunRecord(run_id="a", result=a), RunRecord(run_id="b", result=b))
        assert "One replication a side: no interval, so no band." in page.render()


def _figure_boxes(text: str) -> list[str]:
    return re.findall(r'<div class="figure"([^>]*)>', text)


def test_the_sector_choice_drives_every_chart(
    make_run: Callable[..., RunResult], tmp_path: Path
) -> None:
    run = make_run(replications=3, days=21)
    text = run_report_page(RunRecord(run_id="r", result=run), official=None).render()
    boxes = _figure_boxes(text)
    assert len(boxes) >= 10
    choices = len(figures.sector_choices(run))
    assert choices == 3  # all sectors, TCA, RGV
    for attributes in boxes:
        owners = json.loads(re.search(r"data-owners='([^']*)'", attributes).group(1))  # type: ignore[union-attr]
        assert sorted(set(owners)) == list(range(choices)), attributes
    assert 'id="sector-choice"' in text


def test_crowding_uses_one_fixed_scale(make_run: Callable[..., RunResult]) -> None:
    quiet = make_run(replications=2, seed=1)
    crowded = make_run(replications=2, seed=2)
    crowded.daily[..., METRIC_INDEX["occupancy_mean"]] *= 10
    for run in (quiet, crowded):
        heatmap = figures.crowding_heatmap(run, [0, 1]).data[0]
        assert (heatmap.zmin, heatmap.zmax) == (0, 150.0)


def test_small_pools_get_their_own_scale(make_run: Callable[..., RunResult]) -> None:
    run = make_run(replications=2)
    fig = figures.staff_hours_by_pool_and_task([("r", run)], [0, 1])
    axes = {trace.yaxis for trace in fig.data}
    assert len(axes) == len(figures.pools_with_hours([("r", run)])) > 1


def test_the_same_record_renders_to_the_same_bytes_with_a_folded_appendix(
    make_run: Callable[..., RunResult],
) -> None:
    record = RunRecord(run_id="r", result=make_run(replications=2), scenario_text="name = 'x'\n")
    first = run_report_page(record, official=None).render()
    second = run_report_page(record, official=None).render()
    assert first == second
    appendix = first.index('<details class="appendix"')
    assert appendix < first.index("Scenario parameters and their sources</h2>")
    assert first.index('class="headline"') < first.index("Key performance indicators</h2>")


def test_a_sweep_report_has_title_units_intervals_values_and_details(
    make_run: Callable[..., RunResult],
) -> None:
    from bordersim.report.sweep_report import SweepDetails, sweep_report_page
    from bordersim.services.sweep import kpi_table

    points = [{"deployments.troops.headcount": n} for n in (0, 600)]
    table = kpi_table(points, [make_run(replications=3, seed=1), make_run(replications=3, seed=2)])
    details = SweepDetails(
        scenario_name="small",
        scenario_path="scenarios/examples/small.toml",
        axes=[("deployments.troops.headcount", (0, 600))],
        replications=3,
        seed=4,
        code_version="0.1.0",
    )
    text = sweep_report_page(table, details).render()
    assert "<title>bordersim sweep: small</title>" in text
    assert "deployments.troops.headcount: 0, 600" in text  # the varied values, up front
    assert "Encounters (events)" in text and "Share in custody over 72 h (%)" in text  # units
    assert "3 replications each from seed 4" in text
    encounters = table[(table["kpi"] == "encounters") & (table["variant"] == 0)].iloc[0]
    low, high = (
        format_value(encounters["low"], "events"),
        format_value(encounters["high"], "events"),
    )
    assert f"{format_value(encounters['mean'], 'events')} [{low}, {high}]" in text  # intervals
    assert "scenarios/examples/small.toml" in text


def test_the_headline_lists_no_staff_shortfall_that_rounds_to_zero() -> None:
    # The small example's gaps of a few hundredths of a staff-hour read "custody watch in RGV: 0"
    result = bs.run(SMALL, replications=2, seed=1, engine="flow").result
    (staff,) = [item.text for item in run_headline(result) if "staff" in item.text.lower()]
    assert "intake in RGV" in staff
    assert not re.search(r": 0[;.]", staff), staff


def test_the_known_limits_do_not_deny_what_the_model_does() -> None:
    # Every report's headline said "Processing-station capacity ... not modelled" and "about 6,000
    # people on 10 May 2023" while the stations bound custody and the main job held 27,000.
    model = compile_scenario(load_scenario(SMALL))
    assert np.isfinite(model.processing_stations).all() and model.processing_stations.max() > 0
    said = " ".join(KNOWN_LIMITS).lower()
    assert "not modelled" not in said
    assert "6,000 people" not in said and "below the reported" not in said
    assert "processing stations" in said


def test_an_indicator_neither_run_defines_is_not_called_indistinguishable() -> None:
    # Two runs that hold nobody have no share over 72 h: the headline said "Not distinguishable
    # from zero with these replications", as if more replications would tell.
    nothing = np.full(3, np.nan)
    per_a = {"custody_share_over_72h": nothing, "encounters": np.array([5.0, 6.0, 7.0])}
    per_b = {"custody_share_over_72h": nothing, "encounters": np.array([5.0, 6.0, 7.0])}
    a, b = summarize(per_a), summarize(per_b)
    diffs = differences(per_a, per_b, paired=True)
    share = diffs["custody_share_over_72h"]
    assert verdict(share, a["custody_share_over_72h"].mean, b["custody_share_over_72h"].mean) == (
        "n/a"
    )
    texts = [item.text for item in comparison_headline(diffs, a, b, per_a, per_b)]
    assert not any("Share in custody over 72 h" in t and "Not distinguishable" in t for t in texts)
    (undefined,) = [t for t in texts if t.startswith("No value to compare")]
    assert "Share in custody over 72 h" in undefined and "Encounters" not in undefined


def test_a_change_to_no_value_reads_n_a_not_nan() -> None:
    # A with encounters, B with none: B's apprehension rate has no value, and the comparison's
    # change column read "+nan %".
    per_a = {"apprehension_rate": np.array([0.8, 0.79, 0.81])}
    per_b = {"apprehension_rate": np.full(3, np.nan)}
    comparison = KpiComparison(
        per_a,
        per_b,
        summarize(per_a),
        summarize(per_b),
        differences(per_a, per_b, paired=True),
        True,
    )
    (row,) = comparison.rows()
    assert row[5] == "n/a" and not any("nan" in cell for cell in row), row


def test_a_change_from_a_base_near_zero_reads_not_meaningful_not_a_huge_percentage() -> None:
    # releases to the street 0.04 -> 19 read "+47400.0 %", and a share over 72 h of 0.0 % -> 0.0 %
    # read "-100.0 %": a share of almost nobody means nothing
    per_a = {
        "releases_to_street": np.array([0.02, 0.04, 0.06]),
        "custody_share_over_72h": np.array([1e-5, 2e-5, 3e-5]),
        "unmet_care_person_days": np.array([160.0, 167.0, 174.0]),
        "encounters": np.array([100.0, 110.0, 120.0]),
    }
    per_b = {
        "releases_to_street": np.array([18.0, 19.0, 20.0]),
        "custody_share_over_72h": np.zeros(3),
        "unmet_care_person_days": np.array([6900.0, 6937.0, 6974.0]),
        "encounters": np.array([110.0, 121.0, 132.0]),
    }
    a, b = summarize(per_a), summarize(per_b)
    diffs = differences(per_a, per_b, paired=True)
    comparison = KpiComparison(per_a, per_b, a, b, diffs, True)
    change = {row[0]: row[5] for row in comparison.rows()}
    assert change["Releases to the street"] == "n/a (base near zero)", change
    assert change["Share in custody over 72 h"] == "n/a (base near zero)", change
    assert change["Unmet care"] == "+4,053.9 %", change  # a real base, with its thousands
    assert change["Encounters"] == "+10.0 %", change
    texts = [item.text for item in comparison_headline(diffs, a, b, per_a, per_b)]
    (releases,) = [t for t in texts if t.startswith("Releases to the street")]
    assert "(base near zero: no relative change; effect size d = " in releases, releases


def test_one_replication_a_side_is_no_interval_not_indistinguishable() -> None:
    # With one replication a side, a fall of encounters from 14,259 to 0 read "excludes 0: no"
    # and "Not distinguishable from zero with these replications".
    per_a = {"encounters": np.array([14259.0]), "releases_to_street": np.array([0.0])}
    per_b = {"encounters": np.array([0.0]), "releases_to_street": np.array([0.0])}
    a, b = summarize(per_a), summarize(per_b)
    diffs = differences(per_a, per_b, paired=True)
    assert verdict(diffs["encounters"], 14259.0, 0.0) == "no interval"
    assert verdict(diffs["releases_to_street"], 0.0, 0.0) == "no interval"
    # a small difference is no finding either without an interval (docs/running.md): encounters
    # 86,481 against 87,142, 0.8 % apart, read 'practically zero'
    close = differences(
        {"encounters": np.array([86481.0])}, {"encounters": np.array([87142.0])}, paired=True
    )
    assert verdict(close["encounters"], 86481.0, 87142.0) == "no interval"
    texts = [item.text for item in comparison_headline(diffs, a, b, per_a, per_b)]
    assert not any("Not distinguishable" in t or "No indicator differs" in t for t in texts)
    (single,) = [t for t in texts if t.startswith("One replication a side: there is no interval")]
    assert "Encounters" in single and "Releases" in single  # 0 against 0 is no finding either


def test_a_sweep_of_one_replication_with_nobody_held_shows_n_a_not_nan(
    make_run: Callable[..., RunResult],
) -> None:
    # A sweep over demand.scale = 0, 1 with one replication: its report read "nan %" and
    # "nan hours" for the variant with no exits, and its table "nan" and "0 [nan, nan]".
    from bordersim.commands.sweep import kpi_cell
    from bordersim.report.sweep_report import SweepDetails, sweep_report_page
    from bordersim.services.sweep import kpi_table

    nobody = make_run(replications=1, seed=1)
    for metric in ("encounters", "gotaways", "custody_exits", "uac_exits"):
        _set(nobody, metric, 0.0)
    nobody.custody_hist[:] = 0.0
    points = [{"demand.scale": v} for v in (0, 1)]
    table = kpi_table(points, [nobody, make_run(replications=1, seed=2)])
    details = SweepDetails(
        scenario_name="small",
        scenario_path="scenarios/examples/small.toml",
        axes=[("demand.scale", (0, 1))],
        replications=1,
        seed=4,
        code_version="0.1.0",
    )
    page = sweep_report_page(table, details).render()
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert not re.search(r"\bnan\b", text, flags=re.I), re.findall(r".{40}\bnan\b.{20}", text)
    assert "n/a" in text
    share = table[(table["kpi"] == "custody_share_over_72h")].sort_values("variant")
    assert kpi_cell(*share[["mean", "low", "high"]].iloc[0]) == "n/a"
    assert "nan" not in kpi_cell(*share[["mean", "low", "high"]].iloc[1])
    assert kpi_cell(5.0, 4.0, 6.0) == "5.00 [4.00, 6.00]"


def test_a_sweep_gives_each_kpi_as_bordersim_run_does_in_its_unit() -> None:
    """Three significant digits read 14,259 [14,230, 14,290] encounters as 1.43e+04 [1.42e+04,
    1.43e+04], an interval that hid its own width, a share of 12.3 % as 0.123 and a cost of
    $25.3 M as 2.53e+07; the sweep's table and report now give them as the run's table does."""
    from bordersim.commands.sweep import kpi_cell
    from bordersim.report.sweep_report import _interval_text

    for cell in (_interval_text, kpi_cell):
        assert cell(14259.0, 14230.0, 14290.0, "events") == "14,259 [14,230, 14,290]"
        assert cell(0.123, 0.119, 0.127, "share") == "12.3 % [11.9 %, 12.7 %]"
        assert cell(25.3e6, 25.1e6, 25.5e6, "dollars") == "$25.30 M [$25.10 M, $25.50 M]"
        assert cell(14259.0, math.nan, math.nan, "events") == "14,259"
        assert cell(math.nan, math.nan, math.nan, "share") == "n/a"


def test_a_field_without_agents_is_not_called_fully_staffed(
    make_run: Callable[..., RunResult],
) -> None:
    # With no agents in any sector, everyone detected or surrendering walked off, the capability
    # gap (the field time of the apprehensions made) was 0, and the headline said "Every task is
    # fully staffed in every sector and week."
    run = _quiet(make_run(replications=2, days=7))
    for metric in ("encounters", "unique_encounters", "staff_hours:agent:field"):
        _set(run, metric, 0.0)
    for metric in METRIC_INDEX:
        if metric.startswith("staff_hours_needed:"):
            _set(run, metric, 0.0)  # no capability gap anywhere
    _set(run, "detected", 30.0)
    _set(run, "surrendered", 70.0)
    texts = [item.text for item in run_headline(run)]
    assert not any("fully staffed" in t for t in texts), texts
    (field,) = [t for t in texts if t.startswith("People detected or surrendering")]
    assert "TCA: 700" in field and "RGV: 700" in field  # 100 a day for 7 days
    # where agents reach everyone, nothing is said about the field
    _set(run, "encounters", 100.0)
    assert not any(t.startswith("People detected") for t in (i.text for i in run_headline(run)))


def test_a_comparison_of_one_replication_a_side_promises_no_intervals(
    make_run: Callable[..., RunResult],
) -> None:
    """Comparing runs of one replication each, bordersim compare titled its table "B - A with
    95 % intervals" over a column "B - A [95 % interval]" whose every row had none, and
    compare.html said "Differences are B - A with 95 % t intervals". Both now say that one
    replication a side gives no interval; runs of two or more keep their intervals' wording."""
    from rich.console import Console

    from bordersim.commands.simulate import print_differences
    from bordersim.web.dashboards import compare_dashboard

    a_result, b_result = make_run(replications=1, seed=3), make_run(replications=1, seed=3)
    b_result.daily[..., METRIC_INDEX["encounters"]] += 7.0
    a, b = RunRecord(run_id="a", result=a_result), RunRecord(run_id="b", result=b_result)
    console = Console(record=True, width=300)
    print_differences(console, a, b)
    printed = console.export_text()
    assert "B - A (one replication a side: no intervals)" in printed
    assert "95 %" not in printed
    page = compare_report_page(a, b).render()
    assert "Differences are B - A with 95 % t intervals" not in page
    assert "one replication a side, so there is no interval" in page
    assert "<th>B - A (one replication a side: no interval)</th>" in page
    assert "[95 % interval]" not in page
    view = compare_dashboard(("a", a_result), ("b", b_result), sector="all")
    assert "B - A (one replication a side: no interval)" in view.header
    several = make_run(replications=2, seed=3)
    console = Console(record=True, width=300)
    print_differences(console, RunRecord(run_id="c", result=several), a)
    assert "B - A (B has one replication: no intervals)" in console.export_text()
    pair = RunRecord(run_id="d", result=make_run(replications=2, seed=4))
    both = compare_report_page(RunRecord(run_id="c", result=several), pair).render()
    assert "<th>B - A [95 % interval]</th>" in both


def test_the_comparison_appendix_heads_each_run_as_a_or_b(
    make_run: Callable[..., RunResult],
) -> None:
    """compare.html's appendix gave the details of both runs under two headings "Run", listed as
    "Run Run" in the page's contents, so a reader had to match run ids to tell A from B; they
    are now headed "Run A: <id>" and "Run B: <id>"."""
    a = RunRecord(run_id="small-1", result=make_run(replications=2))
    b = RunRecord(run_id="small-2", result=make_run(replications=2, seed=2))
    page = compare_report_page(a, b).render()
    headings = re.findall(r"<h2 id=\"s\d+\">([^<]*)</h2>", page)
    assert headings[-2:] == ["Run A: small-1", "Run B: small-2"]
    assert "Run" not in headings


def test_a_comparison_says_why_an_indicator_reads_n_a_and_over_which_replications(
    make_run: Callable[..., RunResult],
) -> None:
    """bordersim compare, compare.html and the workbench's comparison gave "n/a" in A's column
    when no child left custody in A, and a mean over fewer replications than the run had where a
    sector held people with no capacity in one, without a word beyond the headline's list; they
    now give the lines a run's report gives under its table, for each side, and, paired, the
    pairs the row is over."""
    from rich.console import Console

    from bordersim.commands.simulate import print_differences
    from bordersim.web.dashboards import compare_dashboard

    a_result, b_result = make_run(replications=3, seed=3), make_run(replications=3, seed=4)
    for metric in ("uac_exits", "uac_exits_over_72h"):
        a_result.daily[..., METRIC_INDEX[metric]] = 0.0
    b_result.daily[1, 0, 0, METRIC_INDEX["custody_capacity"]] = 0.0  # people held, no capacity
    expected = [
        "A: Children in custody over 72 h, share: n/a, as no child left custody",
        "B: Crowding, max occupancy / capacity: over the 2 of 3 replications that have it (in "
        "the others a sector held people with no custody capacity)",
    ]
    comparison = KpiComparison.of(a_result, b_result)
    assert comparison.notes(a_result, b_result) == expected
    a, b = RunRecord(run_id="a", result=a_result), RunRecord(run_id="b", result=b_result)
    page = compare_report_page(a, b).render()
    console = Console(record=True, width=400)
    print_differences(console, a, b)
    printed = console.export_text()
    view = compare_dashboard(("a", a_result), ("b", b_result), sector="all")
    for note in expected:
        assert f'<p class="note">{note}</p>' in page and note in printed
    assert view.kpi_notes == expected
    # Paired (one seed): the row of an indicator some pairs lack is over the pairs that have it.
    paired_b = make_run(replications=3, seed=3)
    paired_b.daily[1, 0, 0, METRIC_INDEX["custody_capacity"]] = 0.0
    both = make_run(replications=3, seed=3)
    assert KpiComparison.of(both, paired_b).notes(both, paired_b) == [
        "Crowding, max occupancy / capacity: A, B and B - A are over the 2 of 3 pairs of "
        "replications in which both runs have it (in the others, in A or B, a sector held "
        "people with no custody capacity)"
    ]
    assert KpiComparison.of(both, make_run(replications=3, seed=3)).notes(both, both) == []


def test_a_comparison_where_only_a_has_one_replication_says_so(
    make_run: Callable[..., RunResult],
) -> None:
    """Comparing A of one replication with B of two, the page, the workbench and the CLI said
    "with one replication a side there is no interval", though B had two, and rows whose values
    were equal read 'practically zero' beside "no interval". They now say that A has one
    replication, and no row without an interval is called practically zero."""
    from rich.console import Console

    from bordersim.commands.simulate import print_differences
    from bordersim.web.dashboards import compare_dashboard

    a_result, b_result = make_run(replications=1, seed=3), make_run(replications=2, seed=4)
    a, b = RunRecord(run_id="a", result=a_result), RunRecord(run_id="b", result=b_result)
    console = Console(record=True, width=300)
    print_differences(console, a, b)
    printed = console.export_text()
    assert "B - A (A has one replication: no intervals)" in printed
    assert "practically zero" not in printed and "one replication a side" not in printed
    page = compare_report_page(a, b).render()
    assert "one replication a side" not in page
    assert "<th>B - A (A has one replication: no interval)</th>" in page
    assert "practically zero" not in page
    assert "A has one replication: no interval, so no band." in page  # the daily chart's words
    view = compare_dashboard(("a", a_result), ("b", b_result), sector="all")
    assert "B - A (A has one replication: no interval)" in view.header
    assert "A has one replication" in view.reading
    flipped = compare_report_page(b, a).render()
    assert "<th>B - A (B has one replication: no interval)</th>" in flipped


def test_the_headline_gives_a_staff_shortfall_as_the_gap_table_does() -> None:
    # the small example's warehouse gap in RGV read "warehouse in RGV: 3" in the headline and
    # 3.43 in the capability gap table and the indicators below it
    result = bs.run(SMALL, replications=2, seed=1, engine="event").result
    (staff,) = [item.text for item in run_headline(result) if "shortfalls" in item.text]
    (gap,) = [c for c in staff_shortfalls(result) if c[:2] == ("warehouse", "RGV")]
    assert f"warehouse in RGV: {format_value(gap[2], 'staff-hours')}." in staff, staff
    assert "warehouse in RGV: 3.43." in staff


def test_a_sweep_report_names_a_share_s_unit_as_the_run_report_does(
    make_run: Callable[..., RunResult],
) -> None:
    # its table read "Apprehension rate | 78.0 % [75.7 %, 80.3 %] | %", the unit repeating the
    # sign, where a run's report reads "share"
    from bordersim.report.sweep_report import SweepDetails, sweep_report_page
    from bordersim.services.sweep import kpi_table

    table = kpi_table([{"demand.scale": 1.0}], [make_run(replications=2, seed=1)])
    details = SweepDetails(
        scenario_name="small",
        scenario_path="scenarios/examples/small.toml",
        axes=[("demand.scale", (1.0,))],
        replications=2,
        seed=4,
        code_version="0.1.0",
    )
    text = sweep_report_page(table, details).render()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    rate = cells.index("Apprehension rate")
    assert cells[rate + 1].endswith("%]") and cells[rate + 2] == "share", cells[rate : rate + 3]
    assert "Share in custody over 72 h (%)" in text  # the charts' axes are in percent


def test_a_sweep_of_one_replication_is_not_said_to_have_intervals(
    make_run: Callable[..., RunResult],
) -> None:
    # `sweep -r 1` said "Values are means over replications with 95 % t intervals (error
    # bars)" over values with neither
    from bordersim.report.sweep_report import SweepDetails, sweep_report_page
    from bordersim.services.sweep import kpi_table

    table = kpi_table([{"demand.scale": 1.0}], [make_run(replications=1, seed=1)])
    details = SweepDetails(
        scenario_name="small",
        scenario_path="scenarios/examples/small.toml",
        axes=[("demand.scale", (1.0,))],
        replications=1,
        seed=4,
        code_version="0.1.0",
    )
    text = sweep_report_page(table, details).render()
    assert "95 % t intervals" not in text
    assert "Values are from one replication per variant: no interval and no error bars." in text


@pytest.mark.parametrize(("diff", "text"), [(0.0, "0.0 %"), (-0.0004, "0.0 %"), (0.05, "+5.0 %")])
def test_a_relative_change_that_rounds_to_zero_has_no_sign(diff: float, text: str) -> None:
    # two runs of equal cost read "+0.0 %" in the comparison's relative change column
    from bordersim.report.headline import relative_change

    assert relative_change(diff, 1.0, "people") == text


def test_the_compare_table_names_each_side_by_its_run_as_the_report_does(
    make_run: Callable[..., RunResult],
) -> None:
    # a run of small against a run of small with --set demand.scale=1.2 was titled
    # "A = small   B = small", which side was which left to guess; compare.html names the runs
    from rich.console import Console

    from bordersim.commands.simulate import print_differences

    a = RunRecord(run_id="small-1-aaaa", result=make_run(replications=2, seed=3))
    b = RunRecord(run_id="small-2-bbbb", result=make_run(replications=2, seed=3))
    console = Console(record=True, width=200)
    print_differences(console, a, b)
    text = console.export_text()
    assert f"A = run small-1-aaaa ({a.label})   B = run small-2-bbbb ({b.label})" in text
