"""The decision space: tours, headcount, cost, and plan.toml as the scenario variant it claims."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.model.dimensions import Pool
from bordersim.planner import load_plan
from bordersim.planner.output import plan_toml
from bordersim.planner.problem import build_problem
from bordersim.scenario import load_scenario
from repo_paths import REPO, SMALL


def _problem():  # type: ignore[no-untyped-def]
    spec = load_plan(REPO / "plans/examples/small-stress.toml")
    return build_problem(compile_scenario(load_scenario(SMALL)), spec)


def test_replaced_deployment_is_gone_and_pools_are_empty_crews() -> None:
    problem = _problem()
    names = problem.base.crew_names
    assert not any(n.startswith("deployment troops:") for n in names)
    assert [names[c] for c in problem.planned_crews] == ["plan: active_duty", "plan: contractor"]
    assert problem.base.crew_headcount[:, :, list(problem.planned_crews)].sum() == 0
    # contractors only from 1 May 2023 (arrivals included): not in the first window
    assert problem.available[0].all() and not problem.available[1, 0]


def test_tours_last_whole_windows_and_rebuild_the_decision() -> None:
    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, 1] = [100, 300, 50]
    x[0, 0] = [0, 40, 40]
    x[1, 1] = [0, 20, 0]
    tours = problem.tours(x)
    rebuilt = np.zeros(problem.shape)
    for tour in tours:
        assert tour.last >= tour.first
        rebuilt[tour.pool_index, tour.sector, tour.first : tour.last + 1] += tour.people
    np.testing.assert_allclose(rebuilt, x)
    head = problem.headcount(x)
    first, end = problem.windows[1]
    np.testing.assert_allclose(head[first:end, 1, 0], 300)  # full strength in the window
    ramp = problem.spec.pools[0].ramp_up_days
    # the 200 who join for window 2 arrive over the ramp-up days before it
    assert 100 < head[first - 1, 1, 0] < 300 and head[first - ramp, 1, 0] >= 100


def test_plan_toml_compiles_to_the_planned_headcount(tmp_path: Path) -> None:
    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, :, :] = [[30, 60, 60], [200, 400, 100]]
    x[1, 1, 1:] = [50, 50]
    text = plan_toml(problem, x, SMALL, tmp_path, "small-plan", "test plan")
    (tmp_path / "plan.toml").write_text(text)
    model = compile_scenario(load_scenario(tmp_path / "plan.toml"))
    planned = problem.headcount(x)
    for k, pool in enumerate(problem.spec.pools):
        crews = [
            c
            for c, name in enumerate(model.crew_names)
            if name.startswith("deployment plan_") and model.crew_pool[c] == pool.pool
        ]
        np.testing.assert_allclose(
            model.crew_headcount[:, :, crews].sum(axis=2), planned[:, :, k], atol=1e-9
        )
    person_days = sum(
        model.crew_headcount[:, :, c].sum() * model.cost_per_person_day[model.crew_pool[c]]
        for c, n in enumerate(model.crew_names)
        if n.startswith("deployment plan_")
    )
    assert abs(person_days - problem.cost(x)) < 1e-6 * problem.cost(x)


def test_a_small_plan_states_its_cost_to_the_thousand_and_the_days_it_pays(tmp_path: Path) -> None:
    """plan.toml and the report gave the cost to a tenth of a million, so that ten troops in Rio
    Grande Valley for a window ($31,280) read "$0.0M of planned staff", beside the CLI's
    "$0.031M" and no word of the days paid; every figure is now to the thousand, and the cost
    says its person-days and the reported period (the ramp-up before it apart)."""
    from bordersim.planner.output import cost_words
    from bordersim.planner.run import _PlanFile

    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, 1, 1] = 10  # second window: the ramp-up falls in the reported period
    assert problem.cost(x) == pytest.approx(31_280)
    period = "in the reported period, 2023-04-20 to 2023-05-31"
    assert cost_words(problem, x) == f"$0.031M of planned staff: 170 person-days {period}"
    first = np.zeros(problem.shape)
    first[0, 1, 0] = 10  # first window: six days of arrivals before the reported period
    assert cost_words(problem, first) == (
        f"$0.031M of planned staff: 140 person-days {period} (and 30 before it, ramping up)"
    )
    written = _PlanFile(problem, "small", SMALL, tmp_path)
    written.write(x)
    scenario = load_scenario(tmp_path / "plan.toml")
    assert scenario.description is not None and scenario.description.endswith(
        "$0.031M of planned staff"
    )


def test_the_plan_in_words_dates_its_windows_and_names_tasks_and_sectors() -> None:
    """bordersim plan printed "active_duty: 0, 30, 20  (people per window)": no window's dates,
    no task and no sector, though the plan is for sectors and dates; it now gives the windows'
    dates, and per pool its tasks and the sectors it serves in."""
    from bordersim.planner.output import deployment_lines

    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, 0] = [0, 20, 20]
    x[0, 1, 1] = 10
    assert deployment_lines(problem, x) == [
        "people serving in each window (2023-04-20 to 2023-05-03, 2023-05-04 to 2023-05-17, "
        "2023-05-18 to 2023-05-31):",
        "             active_duty: 0, 30, 20  (on intake, warehouse; TCA 0, 20, 20; RGV 0, 10, 0)",
        "              contractor: 0, 0, 0  (on intake, custody_watch, transport, warehouse)",
    ]


def test_plan_toml_names_a_tour_of_one_window_as_one_window(tmp_path: Path) -> None:
    """plan.toml headed a tour of the second window alone "# windows 2-2: serving ..."; it is
    "# window 2", and a tour of several windows "# windows 2 to 3"."""
    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, 1] = [0, 20, 10]  # 10 serve in windows 2 and 3, 10 in window 2 alone
    text = plan_toml(problem, x, SMALL, tmp_path, "small-plan", "test plan")
    assert "# window 2: serving 2023-05-04 to 2023-05-17\n" in text
    assert "# windows 2 to 3: serving 2023-05-04 to 2023-05-31\n" in text
    assert "windows 2-2" not in text


def test_plan_toml_runs_at_the_demand_planned_for_when_the_base_scales_its_own(
    tmp_path: Path,
) -> None:
    # The plan file stresses demand x 2.5; a base scenario that already scales its demand by 1.2
    # was planned at 3.0 times the calibrated first attempts, and plan.toml's own [demand] scale
    # replaces the base's, so it must say 3.0 for the certificate to test what was planned.
    base = tmp_path / "scaled.toml"
    base.write_text(f'base = "{SMALL}"\nname = "small-scaled"\n\n[demand]\nscale = 1.2\n')
    spec = load_plan(REPO / "plans/examples/small-stress.toml")
    problem = build_problem(compile_scenario(load_scenario(base)), spec)
    out = tmp_path / "plan"
    out.mkdir()
    text = plan_toml(problem, np.zeros(problem.shape), base, out, "small-plan", "test plan")
    (out / "plan.toml").write_text(text)
    model = compile_scenario(load_scenario(out / "plan.toml"))
    np.testing.assert_allclose(model.first_attempts_per_day, problem.base.first_attempts_per_day)


def test_a_repair_adds_a_quarter_once_per_sector_window_however_many_weeks_failed() -> None:
    from bordersim.planner.run import repair
    from bordersim.planner.search import _week_windows

    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, 1, 1] = 40.0  # troops in the second sector's second window
    weeks = np.flatnonzero(_week_windows(problem) == 1)
    assert len(weeks) >= 2
    failed = np.zeros((problem.shape[1], len(problem.weeks)), dtype=np.bool_)
    failed[1, weeks] = True
    repaired = repair(problem, x, failed)
    assert repaired[0, 1, 1] == 50.0  # 40 + a quarter, rounded up to the step of 10
    repaired[0, 1, 1] = 0.0
    assert not repaired.any()  # nothing anywhere else


def test_a_lead_time_keeps_every_arrival_until_it_has_passed() -> None:
    """lead_time_days = 14 with a 7-day ramp-up and 14-day windows: the second window's people
    would start arriving on day 8 of the period, before the lead time has passed, so only the
    third window is open (the second was open: the lead time was counted to the window's start,
    not to the first arrival)."""
    problem = _problem()
    spec = problem.spec
    troops = dataclasses.replace(spec.pools[0], lead_time_days=14)
    delayed = build_problem(
        compile_scenario(load_scenario(SMALL)),
        dataclasses.replace(spec, pools=(troops, *spec.pools[1:])),
    )
    assert delayed.available[0].tolist() == [False, False, True]
    x = np.where(delayed.available[:, None, :], 100.0, 0.0) * np.ones(delayed.shape)
    m = delayed.base
    ready = m.start_date + dt.timedelta(days=m.warmup_days + 14)
    for tour in delayed.tours(x):
        if tour.pool_index == 0:
            arrival = m.start_date + dt.timedelta(days=delayed.tour_start_day(tour))
            assert arrival >= ready


def test_a_ramp_up_longer_than_the_warm_up_is_paid_from_the_first_arrival() -> None:
    """Three warm-up days and a 10-day ramp-up: the first window's people start arriving six days
    before the simulated start. Those days are not simulated, but they are paid, as every other
    ramp-up day is (they were neither simulated nor paid, and the plan cost too little)."""
    from planner_cases import one_sector_model, troops_spec

    from bordersim.planner.bound import ramp_unit_cost, window_unit_cost

    spec = troops_spec()
    troops = dataclasses.replace(spec.pools[0], ramp_up_days=10)
    problem = build_problem(one_sector_model(), dataclasses.replace(spec, pools=(troops,)))
    first, end = problem.windows[0]
    assert problem.tour_start_day(problem.tours(np.full(problem.shape, 10.0))[0]) == first - 9
    x = np.full(problem.shape, 10.0)
    rate = problem.base.cost_per_person_day[Pool.ACTIVE_DUTY]
    arriving = sum(d / 10 for d in range(1, 10))  # 0.1, ..., 0.9 of a person, 9 days
    assert problem.cost(x) == pytest.approx(rate * 10 * (arriving + (end - first)))
    # the bound's cost of an increase counts the same days, so it stays below the plan's cost
    assert ramp_unit_cost(problem)[0, 0] == pytest.approx(rate * arriving)
    assert problem.cost(x) == pytest.approx(
        10 * (window_unit_cost(problem) + ramp_unit_cost(problem)).sum()
    )


def test_the_reports_cost_breakdown_counts_the_ramp_up_paid_before_the_simulated_start() -> None:
    """The report's cost breakdown gave the simulated person-days only, so that with a ramp-up
    longer than the warm-up its person-days times the rate fell short of the cost beside them
    (234 person-days at $500 beside $127,500: the 21 of arrivals before the simulated start left
    out); it counts every day paid."""
    from planner_cases import one_sector_model, troops_spec

    from bordersim.planner.report import cost_breakdown

    spec = troops_spec()
    troops = dataclasses.replace(spec.pools[0], ramp_up_days=10)
    problem = build_problem(one_sector_model(), dataclasses.replace(spec, pools=(troops,)))
    x = np.full(problem.shape, 10.0)
    rate = problem.base.cost_per_person_day[Pool.ACTIVE_DUTY]
    first, end = problem.windows[0]
    arriving = sum(d / 10 for d in range(1, 10))  # 9 days of arrivals, 6 before the start
    paid = 10 * (arriving + (end - first))
    assert problem.person_days_by_pool(x)[0] == pytest.approx(paid)
    assert problem.person_days_by_pool(x)[0] * rate == pytest.approx(problem.cost(x))
    table = cost_breakdown(problem, x)
    assert f'<td class="n">{paid:,.0f}</td>' in table
    assert f'<td class="n">{problem.cost(x):,.0f}</td>' in table


def test_the_reports_cost_breakdown_gives_each_rates_source_or_assumption(tmp_path: Path) -> None:
    """The report's cost breakdown gave each pool's $ per person-day (184 for troops, 400 for
    contractors) without a word of where it came from, though one is sourced (GAO-21-356) and
    the other an assumption; each rate now carries its source or assumption, as the scenario's
    parameters list them, and a rate the scenario file sets names that file."""
    from bordersim.planner.report import cost_breakdown

    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, 1, 1] = 10
    table = cost_breakdown(problem, x)
    assert "<th>the rate&#x27;s source or assumption</th>" in table
    assert "$841 million (GAO-21-356)" in table
    assert "assumption: contracted processing and warehouse support" in table
    mine = tmp_path / "mine.toml"
    mine.write_text(
        f'base = "{SMALL.as_posix()}"\n\n[staff.pools.contractor]\n'
        "cost_per_person_day_dollars = 500.0\n",
        encoding="utf-8",
    )
    spec = load_plan(REPO / "plans/examples/small-stress.toml")
    dearer = build_problem(compile_scenario(load_scenario(mine)), spec)
    assert '<td class="n">500</td><td class="n">0</td><td>scenario file mine.toml</td>' in (
        cost_breakdown(dearer, x)
    )


def test_the_reports_weekly_headcount_dates_its_weeks() -> None:
    """The report's weekly headcount headed its columns "w1" to "w6", weeks of no date, while
    the table above it dates every window; each week is now headed with its first day."""
    from bordersim.planner.report import plan_tables

    problem = _problem()
    x = np.zeros(problem.shape)
    x[0, 1, 1] = 10
    tables = plan_tables(problem, x)
    weekly = tables[tables.index("Weekly headcount per sector") :]
    days = ["20 Apr", "27 Apr", "04 May", "11 May", "18 May", "25 May"]
    head = "<th>sector</th>" + "".join(f"<th>w{j + 1} ({d})</th>" for j, d in enumerate(days))
    assert head in weekly
    assert "<th>04 May-17 May</th>" in tables  # the windows, dated as before


def test_a_minimum_tour_longer_than_the_reported_period_is_refused() -> None:
    """21 reported days and a 22-day minimum tour: no tour can last the minimum, so the plan is
    refused naming the keys (it made one 21-day window, a tour shorter than the minimum)."""
    from planner_cases import one_sector_model, troops_spec

    from bordersim.planner import PlanError

    spec = dataclasses.replace(troops_spec(), window_days=22, min_tour_days=22)
    with pytest.raises(PlanError) as caught:
        build_problem(one_sector_model(), spec)
    message = str(caught.value)
    assert "windows.min_tour_days = 22" in message
    assert "reported period (21 days" in message
    assert "period.start_date" in message and "period.end_date" in message
    assert "\n" not in message
    # a minimum tour of the whole period is one window of it
    whole = dataclasses.replace(troops_spec(), window_days=21, min_tour_days=21)
    assert build_problem(one_sector_model(), whole).windows == ((3, 24),)


def test_a_repair_stops_at_the_last_step_within_the_cap() -> None:
    """Troops in steps of 5 under a cap of 403: a repair of 390 stops at 400, the last step within
    the cap (it stopped at the cap, 403, off the grid that the fluid program, the search and the
    bound's program plan on); where the cap leaves no step, it adds nobody."""
    from planner_cases import one_sector_model, troops_spec

    from bordersim.planner.run import repair

    spec = troops_spec()
    troops = dataclasses.replace(spec.pools[0], max_headcount=403.0)
    problem = build_problem(one_sector_model(), dataclasses.replace(spec, pools=(troops,)))
    failed = np.ones((problem.shape[1], len(problem.weeks)), dtype=np.bool_)
    x = np.full(problem.shape, 390.0)
    assert repair(problem, x, failed).tolist() == [[[400.0]]]
    tiny = dataclasses.replace(troops, max_headcount=4.0)
    problem = build_problem(one_sector_model(), dataclasses.replace(spec, pools=(tiny,)))
    assert not repair(problem, np.zeros(problem.shape), failed).any()
