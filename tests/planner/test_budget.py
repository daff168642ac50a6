"""The plan file's budget: the fluid program stays solvable under it, and a plan that costs
more says so."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from planner_cases import one_sector_model, troops_spec

from bordersim.commands.plan import _show
from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan, plan_model
from bordersim.planner.evaluate import Simulator
from bordersim.planner.fluid import solve, workload
from bordersim.planner.output import over_budget
from bordersim.planner.problem import Problem, build_problem
from bordersim.planner.search import SearchOutcome, caps_by_load, feasible, optimise
from bordersim.scenario import load_scenario
from repo_paths import REPO


def _problem(budget: float | None) -> Problem:
    spec = load_plan(REPO / "plans/examples/small-stress.toml")
    scenario = load_scenario(REPO / "scenarios/examples/small-staff-bound.toml")
    return build_problem(
        compile_scenario(scenario), dataclasses.replace(spec, budget_dollars=budget)
    )


def test_a_budget_below_the_need_leaves_a_shortfall_not_an_infeasible_program() -> None:
    """At demand x 2.5 the 72-hour requirement needs far more than $200,000 of staff, and the
    backlog the budget leaves needs more custody watch than the agents can give. The program was
    infeasible (`bordersim plan` stopped with a traceback); it now spends within the budget and
    reports the rest as shortfall."""
    for budget, within in ((2.0e5, True), (None, False)):
        problem = _problem(budget)
        m = problem.base
        encounters = m.first_attempts_per_day[m.warmup_days :].sum(axis=2)
        none = np.zeros_like(encounters)
        found = solve(problem, workload(problem, encounters, none, none), q=0.95)
        assert bool(found.cost <= 2.0e5) is within
        assert bool(found.shortfall.sum() > 0) is within  # what the budget leaves undone


def test_a_plan_over_the_budget_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """One sector needs about 125 troops ($1.3M); with budget_dollars = $500,000 the fluid program
    plans within the budget, the sample shows it short, and the planner plans as without the
    budget, over it. The certificate and `bordersim plan` said nothing of the budget; they now
    say the plan is over it, and why."""
    spec = troops_spec(replications=8)
    spec = dataclasses.replace(
        spec,
        budget_dollars=5.0e5,
        search=dataclasses.replace(spec.search, trim_seconds=0),
    )
    result = plan_model(one_sector_model(), spec, frontier=False, compare_base=False, bound=False)
    assert result.cost > 5.0e5
    data = result.certificate_json
    assert data["budget_dollars"] == 5.0e5
    assert data["within_budget"] is False
    assert data["search"]["within_budget"] is False
    _show(result, Path("out"))
    shown = capsys.readouterr().out
    assert "over the budget: the plan costs $" in shown
    assert "budget_dollars = $0.500M; no plan within it that the search simulated" in shown


def _search(budget: float | None) -> tuple[Problem, SearchOutcome]:
    spec = dataclasses.replace(troops_spec(replications=8), budget_dollars=budget)
    problem = build_problem(one_sector_model(), spec)
    sim = Simulator(problem, spec.search.replications, spec.search.seed, spec.targets)
    return problem, optimise(problem, sim, q=spec.targets.within_72h, progress=lambda _: None)


def test_a_budget_too_tight_for_the_targets_plans_as_without_it() -> None:
    """With budget_dollars = $500,000 (one sector needs about $1.3M) the budget-limited fluid
    program could add no staff, so the correction stopped as if at the caps, the local search
    had no plan meeting the targets to cut, and the search returned the only plan it had
    simulated that met them: every pool at its cap, far dearer than the plan without a budget.
    It now plans as without the budget, and says that it did."""
    free_problem, free = _search(None)
    problem, tight = _search(5.0e5)
    assert problem.cost(tight.x) <= free_problem.cost(free.x) + 1e-6
    assert problem.cost(tight.x) < problem.cost(caps_by_load(problem))
    assert bool(feasible(tight.evaluation, tight.required, 0.05).all())
    assert (free.within_budget, tight.within_budget) == (None, False)
    assert [h for h in tight.history if h["stage"] == "budget"]
    # a budget the plan needs no more than changes nothing
    _, roomy = _search(1.0e8)
    np.testing.assert_array_equal(roomy.x, free.x)
    assert roomy.within_budget is True


def test_the_over_budget_line_says_why() -> None:
    searched_over = over_budget(1.246e6, 0.6e6, False, 1.246e6)
    assert searched_over.startswith(
        "over the budget: the plan costs $1.246M against budget_dollars = $0.600M; no plan "
        "within it that the search simulated met every target on the search's sample, so the "
        "planner planned as without a budget"
    )
    repaired = over_budget(1.233e6, 1.0e6, True, 0.754e6)
    assert "the search's plan ($0.754M) was within it" in repaired
    assert "the certification's repairs added staff" in repaired
    assert "found no plan within it" not in repaired
