"""Planning against the demand forecast: the plan file's [forecast]; sample paths, with the
replications spread over them on streams of their own and what the planner's stages read from
them; quantiles, one plan each for the base scenario with that quantile's demand."""

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
    dated = parse_plan(PLAN + "[forecast]\norigin = 2023-04-01\nseed = 5\n", "plan.toml")
    assert dated.forecast == ForecastPaths(dt.date(2023, 4, 1), 20, 5)
    assert parse_plan(PLAN, "plan.toml").forecast is None
    for table, message in (
        ('origin = "2023-13"', "forecast.origin = '2023-13': must be a month"),
        # a day in mid-month was taken as its month without a word, where a scenario's
        # demand.forecast.origin and `bordersim forecast --origin` refuse it
        (
            "origin = 2023-04-17",
            'forecast.origin = 2023-04-17: is a day, not a month: give the month, "2023-04" '
            "(or its first day, 2023-04-01)",
        ),
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
    # a count the file sets is named with its line
    text = PLAN + '[search]\nreplications = 6\n[forecast]\norigin = "2023-04"\npaths = 8\n'
    with pytest.raises(PlanError, match=r"^plan\.toml, line 7: search\.replications = 6: "):
        parse_plan(text, "plan.toml")


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


def _quick_plan_file(example: str, folder: Path, *changes: tuple[str, str]) -> Path:
    """A shipped example plan file with small budgets (this checks the plumbing, not the plan)
    and `changes`, each (the shipped text, its replacement), written to `folder`."""
    from repo_paths import REPO

    text = (REPO / "plans" / "examples" / f"{example}.toml").read_text(encoding="utf-8")
    for shipped, quick in (
        ("certify_replications = 100", "certify_replications = 60"),
        ("bound_seconds = 120", "bound_seconds = 0"),
        ("trim_seconds = 60", "trim_seconds = 0"),
        *changes,
    ):
        assert shipped in text
        text = text.replace(shipped, quick)
    path = folder / f"{example}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
def test_bordersim_plan_against_forecast_paths(
    tmp_path: Path, forecast_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from bordersim.cli import main
    from bordersim.forecast.scenario_demand import CACHE_ENV_VAR
    from repo_paths import REPO

    monkeypatch.setenv(CACHE_ENV_VAR, str(forecast_cache))
    plan_file = _quick_plan_file("small-forecast-paths", tmp_path)
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


@pytest.mark.parametrize("example", ["small-forecast-paths", "small-forecast-quantiles"])
@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("2030-01", "forecast.origin = 2030-01: outside the calibration's months"),
        # too little history: it was found only as the forecast was fitted, after the paths
        # were announced, and named the forecast command's --origin
        ("2001-06", "forecast.origin 2001-06 has 20 months of history before it"),
    ],
)
def test_an_origin_outside_the_calibration_is_named_with_the_plan_file_line_before_any_work(
    example: str, origin: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim plan` with `[forecast] origin = "2030-01"` names the plan file and the line,
    as for any other bad key of it, before it draws sample paths or makes any folder."""
    from bordersim.cli import main
    from repo_paths import REPO

    plan_file = _quick_plan_file(example, tmp_path, ('origin = "2023-04"', f'origin = "{origin}"'))
    lines = plan_file.read_text(encoding="utf-8").splitlines()
    line = 1 + next(n for n, text in enumerate(lines) if text.startswith(f'origin = "{origin}"'))
    out = tmp_path / "new" / "plan"
    scenario = REPO / "scenarios/examples/small-staff-bound.toml"
    with pytest.raises(SystemExit) as stopped:
        main(["plan", str(scenario), "--plan", str(plan_file), "--out", str(out)])
    assert stopped.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: {plan_file}, line {line}: {expected}"), err
    assert "sample paths" not in err and "quantile 0." not in err  # no work was announced
    assert sorted(p.name for p in tmp_path.iterdir()) == [plan_file.name]


@pytest.mark.parametrize(
    ("changes", "option"),
    [
        ((), ["--replications", "4"]),
        (
            (
                ("replications = 16", "replications = 100"),
                ("certify_replications = 60", "certify_replications = 100"),
                ("paths = 8 ", "paths = 100 "),
            ),
            ["--certify-replications", "60"],
        ),
    ],
)
def test_too_few_replications_per_path_on_the_command_line_are_named_before_any_work(
    changes: tuple[tuple[str, str], ...],
    option: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The option that sets too few replications for the plan file's forecast paths is named,
    before the paths are drawn (about a minute the first time); the plan file was blamed for
    the option's value after the paths had been drawn."""
    from bordersim.cli import main
    from repo_paths import REPO

    plan_file = _quick_plan_file("small-forecast-paths", tmp_path, *changes)
    lines = plan_file.read_text(encoding="utf-8").splitlines()
    line = 1 + next(n for n, text in enumerate(lines) if text.startswith("paths = "))
    paths = lines[line - 1].split()[2]
    scenario = REPO / "scenarios/examples/small-staff-bound.toml"
    out = tmp_path / "plan"
    with pytest.raises(SystemExit) as stopped:
        main(["plan", str(scenario), "--plan", str(plan_file), *option, "--out", str(out)])
    assert stopped.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        f"error: {option[0]} {option[1]}: at least one replication per forecast path is needed "
        f"(forecast.paths = {paths}); the plan file sets forecast.paths at {plan_file}, "
        f"line {line}"
    ), err
    assert sorted(p.name for p in tmp_path.iterdir()) == [plan_file.name]


def test_the_forecast_quantiles_of_a_plan_file() -> None:
    from bordersim.planner.spec import ForecastQuantiles

    spec = parse_plan(PLAN + '[forecast]\norigin = "2023-04"\nquantiles = [0.9, 0.5]\n', "p.toml")
    assert spec.quantiles == ForecastQuantiles(dt.date(2023, 4, 1), (0.5, 0.9))  # ascending
    assert spec.forecast is None
    rule = "must be a list of 1 to 9 different quantiles, each above 0 and below 1"
    for table, message in (
        ("quantiles = [0.5]", "forecast.origin = None: is required"),
        ('origin = "2023-04"\nquantiles = [0.5]\npaths = 4', "forecast.paths = 4: sample paths "),
        ('origin = "2023-04"\nquantiles = [0.5]\nseed = 2', "forecast.seed = 2: sample paths or"),
        ('origin = "2023-04"\nquantiles = []', f"forecast.quantiles = []: {rule}"),
        ('origin = "2023-04"\nquantiles = 0.9', f"forecast.quantiles = 0.9: {rule}"),
        ('origin = "2023-04"\nquantiles = [0.5, 1]', f"forecast.quantiles = [0.5, 1]: {rule}"),
        ('origin = "2023-04"\nquantiles = [0, 0.5]', "forecast.quantiles = [0, 0.5]: must"),
        ('origin = "2023-04"\nquantiles = [0.5, 0.5]', "forecast.quantiles = [0.5, 0.5]: must"),
        ('origin = "2023-04"\nquantiles = ["0.5"]', "forecast.quantiles = ['0.5']: must"),
        ('origin = "2023-04"\nquantiles = [true]', "forecast.quantiles = [True]: must"),
        (
            'origin = "2023-04"\nquantiles = [' + ", ".join(["0.1"] * 10) + "]",
            "forecast.quantiles = [0.1, ",
        ),
    ):
        with pytest.raises(PlanError, match=re.escape(message)):
            parse_plan(PLAN + "[forecast]\n" + table + "\n", "plan.toml")


def test_a_quantile_plan_is_the_base_scenario_with_its_demand_from_that_quantile(
    tmp_path: Path,
) -> None:
    from bordersim.planner.run import plan_quantiles, quantile_scenario
    from bordersim.scenario import load_scenario, with_changes
    from repo_paths import SMALL

    base = load_scenario(SMALL)
    quantiles = '[forecast]\norigin = "2023-04"\nquantiles = [0.5, 0.9]\n'
    two = parse_plan(PLAN + quantiles, "plan.toml")
    one = parse_plan(PLAN + quantiles.replace("[0.5, 0.9]", "[0.9]"), "plan.toml")
    assert quantile_scenario(base, parse_plan(PLAN, "plan.toml")) is base
    forecast = quantile_scenario(base, one).demand.forecast
    assert forecast is not None
    assert (forecast.origin, forecast.quantile) == (dt.date(2023, 4, 1), 0.9)
    line = 1 + (PLAN + quantiles).splitlines().index("quantiles = [0.5, 0.9]")
    named = rf"^plan\.toml, line {line}: forecast\.quantiles: 2 quantiles are 2 plans; `bordersim"
    with pytest.raises(PlanError, match=named):
        quantile_scenario(base, two)
    late = parse_plan(PLAN + '[forecast]\norigin = "2031-01"\nquantiles = [0.9]\n', "p.toml")
    with pytest.raises(ScenarioError, match=r"forecast\.origin = 2031-01: outside"):
        quantile_scenario(base, late)
    taken = with_changes(base, {"demand.forecast": {"origin": "2023-03", "quantile": 0.5}})
    with pytest.raises(PlanError, match=r"\[demand\.forecast\] both set the demand"):
        quantile_scenario(taken, one)
    with pytest.raises(PlanError, match="plan_quantiles needs"):
        plan_quantiles(SMALL, parse_plan(PLAN, "plan.toml"), out=tmp_path)


def test_a_quantile_plans_file_runs_the_demand_it_was_planned_for(tmp_path: Path) -> None:
    from bordersim.compiler import compile_scenario
    from bordersim.planner import load_plan
    from bordersim.planner.output import plan_toml
    from bordersim.planner.run import quantile_scenario
    from bordersim.planner.spec import ForecastQuantiles
    from bordersim.scenario import load_scenario
    from repo_paths import REPO, SMALL

    spec = dataclasses.replace(
        load_plan(REPO / "plans/examples/small-stress.toml"),
        quantiles=ForecastQuantiles(dt.date(2023, 4, 1), (0.9,)),
    )
    model = compile_scenario(load_scenario(SMALL))
    problem = build_problem(model, spec)
    text = plan_toml(problem, np.zeros(problem.shape), SMALL, tmp_path, "p", "test plan")
    (tmp_path / "plan.toml").write_text(text, encoding="utf-8")
    forecast = load_scenario(tmp_path / "plan.toml").demand.forecast
    assert forecast is not None and (forecast.origin, forecast.quantile) == (
        dt.date(2023, 4, 1),
        0.9,
    )
    assert quantile_scenario(load_scenario(SMALL), spec).demand.forecast == forecast


@pytest.mark.slow
def test_bordersim_plan_for_forecast_quantiles(
    tmp_path: Path, forecast_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    import json
    import shutil

    from fastapi.testclient import TestClient

    from bordersim.cli import main
    from bordersim.commands.plan import PLAN_MARKER
    from bordersim.forecast.scenario_demand import CACHE_ENV_VAR
    from bordersim.scenario import load_scenario
    from bordersim.web.app import create_app
    from bordersim.web.settings import WebSettings
    from repo_paths import REPO

    monkeypatch.setenv(CACHE_ENV_VAR, str(forecast_cache))
    plan_file = _quick_plan_file(
        "small-forecast-quantiles",
        tmp_path,
        ("replications = 16", "replications = 8"),
        ("quantiles = [0.5, 0.9]", "quantiles = [0.9, 0.5]"),  # planned in ascending order
    )
    out = tmp_path / "plans"
    scenario = REPO / "scenarios/examples/small-staff-bound.toml"
    main(["plan", str(scenario), "--plan", str(plan_file), "--no-frontier", "--out", str(out)])
    # marked as the plan's own, with what it holds, so that a later plan may replace it
    marker = (out / PLAN_MARKER).read_text(encoding="utf-8").splitlines()
    assert marker[1:] == ["quantile-0.5", "quantile-0.9", "quantiles.csv"]
    with (out / "quantiles.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["quantile"], r["pool"]) for r in rows] == [
        ("0.5", "active_duty"),
        ("0.5", "contractor"),
        ("0.9", "active_duty"),
        ("0.9", "contractor"),
    ]
    costs = {}
    for quantile in ("0.5", "0.9"):
        folder = out / f"quantile-{quantile}"
        data = json.loads((folder / "certificate.json").read_text(encoding="utf-8"))
        assert data["forecast"]["origin"] == "2023-04"
        assert data["forecast"]["quantile"] == float(quantile)
        costs[quantile] = data["cost_dollars"]
        assert {float(r["cost_dollars"]) for r in rows if r["quantile"] == quantile} == {
            round(data["cost_dollars"], 2)
        }
        forecast = load_scenario(folder / "plan.toml").demand.forecast  # runs what it planned for
        assert forecast is not None and forecast.quantile == float(quantile)
        report = (folder / "report.html").read_text(encoding="utf-8")
        assert f"Planned for quantile {quantile} of the demand forecast from 2023-04" in report
    assert costs["0.9"] > costs["0.5"]  # more crossings call for more troops (docs' table)
    # the workbench's plan page says which quantile a plan was made for
    settings = WebSettings(
        scenarios_dir=REPO / "scenarios",
        store=tmp_path / "web.duckdb",
        out_dir=tmp_path / "web",
        plans_dir=REPO / "plans",
    )
    shutil.copytree(out / "quantile-0.9", settings.plans_out / "quantile-plan")
    with TestClient(create_app(settings, start_worker=False)) as client:
        page = client.get("/plans/quantile-plan")
    assert page.status_code == 200
    assert "planned for quantile 0.9 of the demand forecast from 2023-04" in page.text
