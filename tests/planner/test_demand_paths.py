"""Planning against forecast sample paths: the plan file's [forecast], the replications spread
over the paths on streams of their own, and what the planner's stages read from them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
from planner_cases import one_sector_model, troops_spec

from bordersim.errors import ScenarioError
from bordersim.model.compiled import CompiledModel
from bordersim.planner.demand_paths import DemandPaths, path_seed, run_over_paths, split
from bordersim.planner.evaluate import Simulator, run_flow
from bordersim.planner.problem import build_problem
from bordersim.planner.spec import ForecastPaths, PlanError, PlanSpec, parse_plan

PLAN = """
name = "p"
[pools.active_duty]
tasks = ["intake"]
max_headcount = 100
"""


def _paths(model: CompiledModel, *levels: float) -> DemandPaths:
    shape = model.first_attempts_per_day.shape
    factors = np.stack([np.full(shape, level) for level in levels])
    return DemandPaths(factors, dt.date(2023, 3, 1), 1, "test paths")


def _with_forecast(spec: PlanSpec, paths: int) -> PlanSpec:
    return dataclasses.replace(spec, forecast=ForecastPaths(dt.date(2023, 3, 1), paths, 1))


def test_replications_split_as_evenly_as_they_can() -> None:
    assert split(10, 4) == [3, 3, 2, 2]
    assert split(8, 8) == [1] * 8
    assert sum(split(101, 7)) == 101 and max(split(101, 7)) - min(split(101, 7)) <= 1


def test_each_path_runs_its_own_demand_on_streams_of_its_own() -> None:
    model = one_sector_model()
    paths = _paths(model, 0.5, 2.0)
    pooled = run_over_paths(run_flow, model, paths, 7, seed=11)
    assert pooled.n_replications == 7
    light = run_flow(paths.models(model)[0], 4, 11)
    heavy = run_flow(paths.models(model)[1], 3, path_seed(11, 1))
    np.testing.assert_array_equal(pooled.daily[:4], light.daily)
    np.testing.assert_array_equal(pooled.daily[4:], heavy.daily)
    ratio = heavy.metric("first_attempts").mean() / light.metric("first_attempts").mean()
    assert 3.6 < ratio < 4.4  # twice against half the demand
    assert path_seed(11, 1) != 11  # so the two paths' replications are independent


def test_the_simulator_pools_the_paths_and_the_fluid_program_sees_their_mean() -> None:
    model = one_sector_model()
    spec = _with_forecast(troops_spec(replications=6), 2)
    problem = build_problem(model, spec, _paths(model, 0.5, 2.0))
    np.testing.assert_allclose(
        problem.mean_demand_model.first_attempts_per_day, 1.25 * problem.base.first_attempts_per_day
    )
    sim = Simulator(problem, 6, 3, spec.targets)
    ev, result = sim.run(np.zeros(problem.shape))
    assert ev.n_replications == 6 and sim.replications_run == 6
    first = result.metric("first_attempts").sum(axis=(1, 2))
    assert first[3:].min() > 3 * first[:3].max()  # the heavy path's replications come second


def test_a_forecast_plan_needs_its_paths_and_a_replication_for_each() -> None:
    model = one_sector_model()
    spec = troops_spec(replications=6)
    with pytest.raises(PlanError, match=r"\[forecast\]"):
        build_problem(model, _with_forecast(spec, 2))
    with pytest.raises(PlanError, match="without \\[forecast\\]"):
        build_problem(model, spec, _paths(model, 1.0, 1.0))
    with pytest.raises(PlanError, match=r"search\.replications = 6: at least one replication"):
        build_problem(model, _with_forecast(spec, 8), _paths(model, *[1.0] * 8))


def test_the_forecast_table_of_a_plan_file() -> None:
    spec = parse_plan(PLAN + '[forecast]\norigin = "2023-04"\npaths = 12\n', "plan.toml")
    assert spec.forecast == ForecastPaths(dt.date(2023, 4, 1), 12, 1)
    dated = parse_plan(PLAN + "[forecast]\norigin = 2023-04-17\nseed = 5\n", "plan.toml")
    assert dated.forecast == ForecastPaths(dt.date(2023, 4, 1), 20, 5)
    assert parse_plan(PLAN, "plan.toml").forecast is None
    for table, message in (
        ('origin = "2023-13"', "forecast.origin = '2023-13': must be a month"),
        ("paths = 4", "forecast.origin = None: is required"),
        (
            "origin = 2023-04-01T00:00:00",
            "forecast.origin = datetime.datetime(2023, 4, 1, 0, 0): must",
        ),
        (
            'origin = "2023-04"\npaths = 1',
            "forecast.paths = 1: must be a whole number of at least 2",
        ),
        ('origin = "2023-04"\npaths = 1000', "forecast.paths = 1000: must be at most 200"),
        (  # refused as the file is read, before the paths are drawn
            'origin = "2023-04"\npaths = 30',
            "search.replications = 24: at least one replication per forecast path is needed",
        ),
        ('origin = "2023-04"\nquantile = 0.9', "forecast.quantile = 0.9: unknown key"),
    ):
        with pytest.raises(PlanError, match=re.escape(message)) as raised:
            parse_plan(PLAN + "[forecast]\n" + table + "\n", "plan.toml")
        assert "plan.toml" in str(raised.value)


def test_a_plan_file_and_its_paths_state_where_the_demand_came_from(tmp_path: Path) -> None:
    from bordersim.compiler import compile_scenario
    from bordersim.planner import load_plan
    from bordersim.planner.output import plan_toml
    from bordersim.scenario import load_scenario
    from repo_paths import REPO, SMALL

    spec = _with_forecast(load_plan(REPO / "plans/examples/small-stress.toml"), 4)
    model = compile_scenario(load_scenario(SMALL))
    problem = build_problem(model, spec, _paths(model, 0.9, 1.0, 1.1, 1.2))
    text = plan_toml(problem, np.zeros(problem.shape), SMALL, tmp_path, "p", "test plan")
    assert "# Planned against 4 sample paths of the demand forecast from 2023-03" in text


@pytest.fixture(scope="module")
def forecast_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forecast-cache")


@pytest.mark.slow
def test_paths_follow_the_calibration_before_the_origin_and_the_forecast_after(
    forecast_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bordersim.compiler import compile_scenario
    from bordersim.forecast.scenario_demand import CACHE_ENV_VAR
    from bordersim.planner.demand_paths import demand_paths
    from bordersim.scenario import load_scenario
    from repo_paths import SMALL

    monkeypatch.setenv(CACHE_ENV_VAR, str(forecast_cache))
    scenario = load_scenario(SMALL)
    model = compile_scenario(scenario)  # 13 April (warm-up) to 31 May 2023
    # origin May: the daily shape of May itself leans on June's forecast (mass-preserving
    # smoothing between months), April's does not
    paths = demand_paths(scenario, model, dt.date(2023, 5, 1), 6, 1)
    assert paths.factors.shape == (6, *model.first_attempts_per_day.shape)
    days = [model.start_date + dt.timedelta(days=d) for d in range(model.n_days)]
    april = np.array([d.month == 4 for d in days])
    seen = model.first_attempts_per_day > 0
    np.testing.assert_allclose(paths.factors[:, april][:, seen[april]], 1.0)  # data, not forecast
    may = paths.factors[:, ~april][:, seen[~april]]
    assert np.abs(may[1:] - may[0]).max() > 0.1  # the paths differ after the origin
    with pytest.raises(ScenarioError, match=r"forecast\.origin = 2031-01: outside"):
        demand_paths(scenario, model, dt.date(2031, 1, 1), 6, 1)


@pytest.mark.slow
def test_bordersim_plan_against_forecast_paths(
    tmp_path: Path, forecast_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from bordersim.cli import main
    from bordersim.forecast.scenario_demand import CACHE_ENV_VAR
    from repo_paths import REPO

    monkeypatch.setenv(CACHE_ENV_VAR, str(forecast_cache))
    text = (REPO / "plans/examples/small-forecast-paths.toml").read_text(encoding="utf-8")
    for shipped, quick in (
        ("certify_replications = 100", "certify_replications = 60"),
        ("bound_seconds = 120", "bound_seconds = 0"),
        ("trim_seconds = 60", "trim_seconds = 0"),
    ):
        assert shipped in text
        text = text.replace(shipped, quick)
    plan_file = tmp_path / "paths.toml"
    plan_file.write_text(text, encoding="utf-8")
    out = tmp_path / "plan"
    scenario = REPO / "scenarios/examples/small-staff-bound.toml"
    main(["plan", str(scenario), "--plan", str(plan_file), "--no-frontier", "--out", str(out)])
    data = json.loads((out / "certificate.json").read_text(encoding="utf-8"))
    assert data["forecast"]["origin"] == "2023-04" and data["forecast"]["paths"] == 8
    assert data["certification"]["replications"] == 60
    assert data["cost_dollars"] > 0  # April's paths call for troops (docs/planner.md's table)
    assert "sample paths of the demand forecast from 2023-04" in (out / "plan.toml").read_text()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Planned against 8 sample paths of the demand forecast from 2023-04" in report
