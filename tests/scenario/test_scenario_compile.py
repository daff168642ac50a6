"""Compiling scenarios into `CompiledModel`, against the shipped calibration."""

from __future__ import annotations

import datetime as dt
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scenario_texts import MINIMAL

from bordersim.compiler import compile_scenario
from bordersim.errors import BordersimError, ScenarioError
from bordersim.model.dimensions import Pathway, Pool, Sector, Task
from bordersim.scenario import load_scenario, vary
from repo_paths import SCENARIOS, SMALL

ALL = list(Sector)
T42_END = SCENARIOS / "2023-title42-end.toml"


def day_index(model: Any, day: dt.date) -> int:
    return (day - model.start_date).days


@pytest.mark.parametrize("path", [*sorted(SCENARIOS.glob("*.toml")), SMALL], ids=lambda p: p.name)
def test_every_shipped_scenario_compiles(path: Path, calibration: Any) -> None:
    scenario = load_scenario(path)
    model = compile_scenario(scenario, calibration)
    period = scenario.period
    assert model.start_date == period.start_date - dt.timedelta(days=period.warmup_days)
    assert model.dates[-1] == period.end_date
    assert model.warmup_days == period.warmup_days
    assert model.scenario_hash == scenario.hash
    assert [s.name for s in model.sectors] == scenario.sectors
    assert model.first_attempts_per_day.sum() > 0
    model.check()


def test_demand_is_the_calibration_without_shocks(calibration: Any) -> None:
    model = compile_scenario(load_scenario(SMALL), calibration)
    expected = calibration.daily_first_attempts(model.dates, list(model.sectors))
    np.testing.assert_array_equal(model.first_attempts_per_day, expected)


def test_shock_ramps_before_and_surges_after_the_policy_date(calibration: Any) -> None:
    # the scenario's demand fit multiplies months further (tests/fit); shocks alone here
    model = compile_scenario(load_scenario(T42_END), calibration, apply_fit=False)
    base = calibration.daily_first_attempts(model.dates, list(model.sectors))
    ratio = model.first_attempts_per_day.sum(axis=(1, 2)) / base.sum(axis=(1, 2))
    at = {day: ratio[day_index(model, day)] for day in model.dates}
    assert at[dt.date(2023, 4, 27)] == pytest.approx(1.0)  # before the 14-day ramp
    assert at[dt.date(2023, 5, 5)] == pytest.approx(1 + 1.15 * 8 / 14)  # mid-ramp, linear
    assert at[dt.date(2023, 5, 11)] == pytest.approx(2.15)  # last day of Title 42: the peak
    assert at[dt.date(2023, 5, 12)] == pytest.approx(1.16)  # first day after: a one-day surge
    assert at[dt.date(2023, 5, 13)] == pytest.approx(0.5)  # then the second shock, a lull
    assert at[dt.date(2023, 5, 22)] == pytest.approx(1 - 0.5 * 21 / 30)  # recovering
    assert at[dt.date(2023, 6, 12)] == pytest.approx(1.0)  # 30 days later: back to 1
    may = [i for i, d in enumerate(model.dates) if d.month == 5]
    may_change = model.first_attempts_per_day[may].sum() / base[may].sum()
    # the shocks move demand within May and change its total little (first attempts +6 %: the
    # peak days' extra crossers largely get away; the demand fit holds May's encounters)
    assert abs(may_change - 1) < 0.08


def test_title42_regime_follows_the_policy_dates(calibration: Any) -> None:
    model = compile_scenario(load_scenario(T42_END), calibration)
    active = dict(zip(model.dates, model.title42_active, strict=True))
    assert active[dt.date(2023, 5, 11)] and not active[dt.date(2023, 5, 12)]
    assert model.title42_active.sum() == (dt.date(2023, 5, 11) - model.start_date).days + 1
    covid = compile_scenario(load_scenario(SCENARIOS / "2020-covid-support.toml"), calibration)
    active = dict(zip(covid.dates, covid.title42_active, strict=True))
    assert not active[dt.date(2020, 3, 20)] and active[dt.date(2020, 3, 21)]
    assert covid.title42_active[day_index(covid, dt.date(2020, 3, 21)) :].all()
    np.testing.assert_allclose(covid.pathway_share.sum(axis=2), 1.0)


def test_title42_override_expels_children_case_by_case(calibration: Any) -> None:
    covid = compile_scenario(load_scenario(SCENARIOS / "2020-covid-support.toml"), calibration)
    children = [6, 7, 8]  # unaccompanied_child x (Mexico, northern Central America, other)
    on = day_index(covid, dt.date(2020, 6, 1))
    off = day_index(covid, dt.date(2020, 3, 15))
    np.testing.assert_allclose(covid.pathway_share[on, children, Pathway.TITLE42_EXPULSION], 0.8)
    assert covid.pathway_share[off, children, Pathway.TITLE42_EXPULSION].sum() == 0
    calibrated = calibration.pathway_shares(covid.dates, covid.title42_active)
    # the other pathways keep their calibrated proportions, scaled to the remaining 20 %
    ratio = (
        covid.pathway_share[on, 6, Pathway.VOLUNTARY_RETURN]
        / calibrated[on, 6, Pathway.VOLUNTARY_RETURN]
    )
    assert ratio == pytest.approx(0.2 / (1 - calibrated[on, 6, Pathway.TITLE42_EXPULSION]))
    # adults and families: 91 % expelled (the scenario's FY2020 total), every nationality alike
    adults_and_families = covid.pathway_share[on, 0:6]
    np.testing.assert_allclose(adults_and_families[:, Pathway.TITLE42_EXPULSION], 0.91)
    title8 = adults_and_families.copy()
    title8[:, Pathway.TITLE42_EXPULSION] = 0.0
    calibrated_title8 = calibrated[on, 0:6].copy()
    calibrated_title8[:, Pathway.TITLE42_EXPULSION] = 0.0
    np.testing.assert_allclose(
        title8 / title8.sum(axis=1, keepdims=True),
        calibrated_title8 / calibrated_title8.sum(axis=1, keepdims=True),
    )


def test_troop_deployment_ramps_up_and_ends_on_its_dates(calibration: Any) -> None:
    model = compile_scenario(load_scenario(T42_END), calibration)
    crew = model.crew_names.index("deployment title42_active_duty: active_duty")
    assert model.crew_pool[crew] == Pool.ACTIVE_DUTY
    tasks = {Task(int(t)) for t in np.flatnonzero(model.crew_tasks[crew])}
    assert tasks == {Task.DETECTION, Task.INTAKE, Task.WAREHOUSE}
    border = model.crew_headcount[:, :, crew].sum(axis=1)  # all nine sectors are modelled
    by_day = dict(zip(model.dates, border, strict=True))
    assert by_day[dt.date(2023, 5, 9)] == 0
    assert by_day[dt.date(2023, 5, 10)] == pytest.approx(1500 / 7)
    assert by_day[dt.date(2023, 5, 13)] == pytest.approx(1500 * 4 / 7)
    assert by_day[dt.date(2023, 5, 16)] == pytest.approx(1500)
    assert by_day[dt.date(2023, 8, 7)] == pytest.approx(1500)  # day 90
    assert by_day[dt.date(2023, 8, 8)] == 0
    contractors = model.crew_names.index("deployment contracted_support: contractor")
    assert model.crew_headcount[day_index(model, dt.date(2023, 8, 7)), :, contractors].sum() == 0
    assert model.crew_headcount[-1, :, contractors].sum() == pytest.approx(1000)


def test_southwest_deployment_is_split_by_load(calibration: Any) -> None:
    model = compile_scenario(load_scenario(T42_END), calibration)
    crew = model.crew_names.index("deployment title42_active_duty: active_duty")
    d = day_index(model, dt.date(2023, 6, 1))
    start, end = day_index(model, dt.date(2023, 5, 10)), day_index(model, dt.date(2023, 8, 7))
    load = calibration.daily_first_attempts(model.dates[start : end + 1], ALL).sum(axis=(0, 2))
    np.testing.assert_allclose(model.crew_headcount[d, :, crew], 1500 * load / load.sum())
    coordinators = model.crew_names.index("processing coordinators")
    assert model.crew_headcount[d, :, coordinators].sum() == pytest.approx(800)
    agents = model.crew_names.index("agents")
    assert model.crew_headcount[d, Sector.RGV, agents] == 2004  # the default (parameters.toml)


def test_a_two_sector_scenario_gets_its_share_of_a_border_wide_deployment(
    write: Callable[[str, str], Path], calibration: Any
) -> None:
    text = (
        MINIMAL
        + """
        [deployments.guard]
        pool = "national_guard"
        headcount = 2500
        tasks = ["detection"]
        start_date = 2023-01-01
        end_date = 2023-12-31

        [deployments.explicit]
        pool = "contractor"
        headcount_by_sector = { RGV = 120 }
        tasks = ["intake"]
        start_date = 2023-05-01
        end_date = 2023-05-31
        """
    )
    model = compile_scenario(load_scenario(write("two.toml", text)), calibration)
    guard = model.crew_names.index("deployment guard: national_guard")
    # spread by the load of its whole tour (to the calibration's last day), not of the run's days
    first, last = dt.date(2023, 1, 1), min(dt.date(2023, 12, 31), calibration.last_date)
    tour = [first + dt.timedelta(days=d) for d in range((last - first).days + 1)]
    load = calibration.daily_first_attempts(tour, ALL).sum(axis=(0, 2))
    share = load[[Sector.TCA, Sector.RGV]] / load.sum()
    np.testing.assert_allclose(model.crew_headcount[0, :, guard], 2500 * share)
    assert model.crew_headcount[0, :, guard].sum() < 2500
    explicit = model.crew_names.index("deployment explicit: contractor")
    may = day_index(model, dt.date(2023, 5, 15))
    assert list(model.crew_headcount[may, :, explicit]) == [0.0, 120.0]


def test_health_module_and_prevalence_by_date(calibration: Any) -> None:
    covid = compile_scenario(load_scenario(SCENARIOS / "2020-covid-support.toml"), calibration)
    assert covid.health_enabled
    prevalence = dict(zip(covid.dates, covid.arrival_prevalence, strict=True))
    assert prevalence[dt.date(2020, 5, 15)] == pytest.approx(0.01)
    assert prevalence[dt.date(2020, 7, 15)] == pytest.approx(0.03)
    middle = (dt.date(2020, 6, 14) - dt.date(2020, 5, 15)).days / 61
    assert prevalence[dt.date(2020, 6, 14)] == pytest.approx(0.01 + 0.02 * middle)
    t42 = compile_scenario(load_scenario(T42_END), calibration)
    assert not t42.health_enabled and not t42.arrival_prevalence.any()


def test_capacity_changes_and_initial_custody(
    write: Callable[[str, str], Path], calibration: Any
) -> None:
    text = (
        MINIMAL
        + """
        [custody]
        initial_occupancy_fraction = 0.5

        [custody.capacity_changes.soft_sided]
        sector = "RGV"
        start_date = 2023-05-05
        end_date = 2023-05-20
        change_people = 1000
        """
    )
    model = compile_scenario(load_scenario(write("cap.toml", text)), calibration)
    rgv = model.custody_capacity[:, 1]
    by_day = dict(zip(model.dates, rgv, strict=True))
    assert by_day[dt.date(2023, 5, 4)] == 4000
    assert by_day[dt.date(2023, 5, 5)] == 5000
    assert by_day[dt.date(2023, 5, 20)] == 5000
    assert by_day[dt.date(2023, 5, 21)] == 4000
    np.testing.assert_allclose(model.initial_custody.sum(axis=1), [0.5 * 1245, 0.5 * 4000])


def test_sources_name_defaults_scenario_files_and_calibration(calibration: Any) -> None:
    model = compile_scenario(load_scenario(T42_END), calibration)
    assert "GAO-18-50" in model.sources["staff.pools.agent.on_duty_fraction"]
    assert model.sources["deployments"] == "scenario file 2023-title42-end.toml"
    assert any(key.startswith("calibration.") for key in model.sources)


def test_vary_reaches_the_compiled_model(calibration: Any) -> None:
    scenario = load_scenario(SMALL)
    varied = vary(scenario, "staff.pools.active_duty.on_duty_fraction", 0.5)
    model = compile_scenario(varied, calibration)
    assert model.on_duty_fraction[Pool.ACTIVE_DUTY] == 0.5
    assert model.scenario_hash != compile_scenario(scenario, calibration).scenario_hash


def test_calibration_path_is_relative_to_the_scenario_file(
    write: Callable[[str, str], Path], calibration: Any, tmp_path: Path
) -> None:
    from bordersim.calibration import SHIPPED_ARTIFACT

    shutil.copy(SHIPPED_ARTIFACT, tmp_path / "my-calibration.json")
    text = MINIMAL + '\n[demand]\ncalibration = "my-calibration.json"\n'
    model = compile_scenario(load_scenario(write("own.toml", text)))
    expected = calibration.daily_first_attempts(model.dates, list(model.sectors))
    np.testing.assert_array_equal(model.first_attempts_per_day, expected)
    missing = write("missing.toml", MINIMAL + '\n[demand]\ncalibration = "nope.json"\n')
    with pytest.raises(BordersimError, match=r"nope\.json"):
        compile_scenario(load_scenario(missing))


def test_negative_capacity_after_a_change_is_refused(
    write: Callable[[str, str], Path], calibration: Any
) -> None:
    text = (
        MINIMAL
        + """
        [custody.capacity_changes.closure]
        sector = "TCA"
        start_date = 2023-05-01
        change_people = -5000
        """
    )
    path = write("neg.toml", text)
    with pytest.raises(ScenarioError) as error:
        compile_scenario(load_scenario(path), calibration)
    # the change that removes the places, with its line (the message named only the table)
    assert str(error.value) == (
        f"{path}, line 12: custody.capacity_changes.closure.change_people = -5000: capacity of "
        "TCA falls to -3755 on 2023-05-01; holding capacity cannot be negative"
    )


def test_compiling_the_2023_scenario_is_fast(calibration: Any) -> None:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        compile_scenario(load_scenario(T42_END), calibration)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 1.0


def test_crews_that_can_do_fewer_bounded_tasks_come_first(calibration: Any) -> None:
    # Agents first as declared; then the troops, Guard and contractors (intake and warehouse)
    # before the processing coordinators, who can also watch, determine, drive and treat.
    model = compile_scenario(load_scenario(T42_END), calibration)
    pools = [Pool(int(p)) for p in model.crew_pool]
    assert pools[0] == Pool.AGENT
    coordinators = model.crew_names.index("processing coordinators")
    for name in (
        "deployment title42_active_duty: active_duty",
        "deployment national_guard: national_guard",
        "deployment contracted_support: contractor",
    ):
        assert model.crew_names.index(name) < coordinators
    bounded = [Task.CUSTODY_WATCH, Task.INTAKE, Task.DETERMINATION, Task.TRANSPORT]
    bounded += [Task.MEDICAL, Task.WAREHOUSE]
    counts = [int(model.crew_tasks[c, bounded].sum()) for c in range(len(pools))]
    others = [counts[c] for c in range(len(pools)) if pools[c] != Pool.AGENT]
    assert others == sorted(others)


def test_specialists_first_keeps_agents_first_and_breaks_ties_by_pool_then_name() -> None:
    from bordersim.compiler.staff import specialists_first

    tasks = np.zeros((6, len(Task)), dtype=bool)
    tasks[0, :] = True  # agents: everything
    tasks[1, [Task.CUSTODY_WATCH, Task.INTAKE, Task.TRANSPORT]] = True  # coordinators
    tasks[2, [Task.INTAKE, Task.WAREHOUSE]] = True  # contractors
    tasks[3, [Task.INTAKE, Task.WAREHOUSE, Task.DETECTION]] = True  # troops
    tasks[4, [Task.INTAKE, Task.WAREHOUSE, Task.DETECTION]] = True  # Guard, declared last
    tasks[5, [Task.INTAKE, Task.WAREHOUSE, Task.DETECTION]] = True  # Guard, declared first
    pools = [
        Pool.AGENT,
        Pool.PROCESSING_COORDINATOR,
        Pool.CONTRACTOR,
        Pool.ACTIVE_DUTY,
        Pool.NATIONAL_GUARD,
        Pool.NATIONAL_GUARD,
    ]
    names = ["agents", "coordinators", "contract", "troops", "guard b", "guard a"]
    order = specialists_first([int(p) for p in pools], list(tasks), names)
    assert order == [0, 5, 4, 3, 2, 1]


DEPLOYMENTS = {
    "guard": """
        [deployments.guard]
        pool = "national_guard"
        headcount = 400
        tasks = ["detection", "intake", "warehouse"]
        start_date = 2023-05-01
        end_date = 2023-05-14
    """,
    "troops": """
        [deployments.troops]
        pool = "active_duty"
        headcount = 300
        tasks = ["detection", "intake", "warehouse"]
        start_date = 2023-05-03
        end_date = 2023-05-14
    """,
    "contract": """
        [deployments.contract]
        pool = "contractor"
        headcount = 200
        tasks = ["intake", "warehouse"]
        start_date = 2023-05-01
        end_date = 2023-05-14
    """,
}


def test_the_order_of_deployment_tables_in_the_file_changes_nothing(
    write: Callable[[str, str], Path], calibration: Any
) -> None:
    # Troops, Guard and contractors may each do intake and warehouse work, so dispatch needs an
    # order among them: it was the order of the tables in the file, and swapping two tables moved
    # the 2023 scenario's got-aways by 0.6 % and which pool did the intake.
    head = """
        name = "order"
        sectors = ["TCA", "RGV"]
        [period]
        start_date = 2023-05-01
        end_date = 2023-05-14
        warmup_days = 3
    """
    models = []
    for order in (["guard", "troops", "contract"], ["contract", "troops", "guard"]):
        text = head + "".join(DEPLOYMENTS[name] for name in order)
        models.append(compile_scenario(load_scenario(write(f"{order[0]}.toml", text)), calibration))
    first, second = models
    assert first.crew_names == second.crew_names
    for field in ("crew_pool", "crew_tasks", "crew_headcount"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))


def test_a_deployment_dated_outside_the_simulated_days_is_warned_of(
    write: Callable[[str, str], Path],
    calibration: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A year mistyped (2021 for 2023) made a valid scenario without its troops, silently."""
    from bordersim.cli import main
    from bordersim.compiler import ScenarioWarning

    troops = """
        [deployments.troops]
        pool = "active_duty"
        headcount = 300
        tasks = ["detection"]
        start_date = {start}
        duration_days = 20
        """
    path = write("typo.toml", MINIMAL + troops.format(start="2021-05-01"))
    with pytest.warns(ScenarioWarning) as caught:
        compile_scenario(load_scenario(path), calibration)
    (message,) = [str(w.message) for w in caught]
    assert message == (
        f"{path}, line 9: deployments.troops (2021-05-01 to 2021-05-20) has no day in the "
        "simulated 2023-04-13 to 2023-05-31: it changes nothing"
    )
    monkeypatch.setenv("COLUMNS", "400")
    main(["scenario", "check", "-q", str(path)])
    assert f"warning: {message}" in capsys.readouterr().out
    # one day inside is enough
    inside = write("inside.toml", MINIMAL + troops.format(start="2023-05-31"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_scenario(load_scenario(inside), calibration)


def test_a_shock_of_multipliers_one_is_warned_of(
    write: Callable[[str, str], Path], calibration: Any
) -> None:
    """A shock given its date and days but no multiplier (or multipliers of 1) changed no day,
    silently."""
    from bordersim.compiler import ScenarioWarning

    shock = """
        [demand.shocks.expiry]
        date = 2023-05-11
        surge_days = 10
        {multiplier}
        """
    path = write("flat.toml", MINIMAL + shock.format(multiplier=""))
    with pytest.warns(ScenarioWarning) as caught:
        compile_scenario(load_scenario(path), calibration)
    (message,) = [str(w.message) for w in caught]
    assert message == (
        f"{path}, line 9: demand.shocks.expiry has no multiplier other than 1 (give "
        "ramp_peak_multiplier or surge_multiplier with their days): it changes nothing"
    )
    surge = write("surge.toml", MINIMAL + shock.format(multiplier="surge_multiplier = 1.5"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_scenario(load_scenario(surge), calibration)


def test_a_warning_names_an_entry_holding_a_dot_in_quotes_with_its_line(
    write: Callable[[str, str], Path], calibration: Any
) -> None:
    """A deployment or shock named "phase.1" was warned of as deployments.phase.1, a key path
    of three parts that the file does not have (and --set does not read so), without its line."""
    from bordersim.compiler import ScenarioWarning

    entries = """
        [deployments."phase.1"]
        pool = "active_duty"
        headcount = 300
        tasks = ["detection"]
        start_date = 2021-05-01
        duration_days = 20

        [demand.shocks."wave.2"]
        date = 2023-05-11
        surge_days = 10
        """
    path = write("dotted.toml", MINIMAL + entries)
    with pytest.warns(ScenarioWarning) as caught:
        compile_scenario(load_scenario(path), calibration)
    messages = [str(w.message) for w in caught]
    assert messages[0].startswith(f'{path}, line 9: deployments."phase.1" (2021-05-01 to')
    assert messages[1].startswith(f'{path}, line 16: demand.shocks."wave.2" has no multiplier')


def test_a_shock_set_on_the_command_line_is_warned_of_by_its_set(calibration: Any) -> None:
    """A shock made by `--set demand.shocks.x.date=...` was warned of as the scenario file's,
    which has no such shock."""
    from bordersim.compiler import ScenarioWarning
    from bordersim.services.loading import apply_settings, parse_setting

    setting = "demand.shocks.x.date=2023-05-01"
    scenario = apply_settings(load_scenario(SMALL), dict([parse_setting(setting)]))
    with pytest.warns(ScenarioWarning) as caught:
        compile_scenario(scenario, calibration)
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(f"--set {setting}: demand.shocks.x has no multiplier other than 1")


def test_a_constant_prevalence_beside_dated_ones_is_warned_of(
    write: Callable[[str, str], Path], calibration: Any
) -> None:
    """With dated prevalences the constant one is used on no day; a file giving both ran on the
    dated ones without a word."""
    from bordersim.compiler import ScenarioWarning

    health = """
        [health]
        enabled = true
        {constant}
        arrival_prevalence_by_date = {{ 2023-05-01 = 0.02 }}
        """
    both = write(
        "both.toml", MINIMAL + health.format(constant="arrival_prevalence_fraction = 0.05")
    )
    with pytest.warns(ScenarioWarning) as caught:
        compile_scenario(load_scenario(both), calibration)
    (message,) = [str(w.message) for w in caught]
    assert message == (
        f"{both}, line 11: health.arrival_prevalence_fraction 0.05 is not used, since "
        "health.arrival_prevalence_by_date gives every day's prevalence (flat outside its "
        "dates): it changes nothing"
    )
    dated = write("dated.toml", MINIMAL + health.format(constant=""))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_scenario(load_scenario(dated), calibration)
