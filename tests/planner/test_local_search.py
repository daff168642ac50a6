"""The local search records only the cuts it keeps."""

from __future__ import annotations

import itertools

import pytest

from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan
from bordersim.planner.evaluate import Simulator
from bordersim.planner.problem import build_problem
from bordersim.planner.search import optimise
from bordersim.scenario import load_scenario
from repo_paths import REPO


@pytest.mark.slow
def test_a_local_search_round_whose_cuts_are_all_undone_keeps_nothing() -> None:
    """On the small example at demand x 2.5 the cuts kept in Rio Grande Valley broke its targets
    together, and undoing them left the plan as it was; the round was recorded as a step at the
    same cost, the fraction stayed, and the next round tried the same cuts on the same sample.
    Such a round now keeps nothing (the fraction halves): every step recorded lowers the cost."""
    spec = load_plan(REPO / "plans/examples/small-stress.toml")
    scenario = load_scenario(REPO / "scenarios/examples/small-staff-bound.toml")
    problem = build_problem(compile_scenario(scenario), spec)
    sim = Simulator(problem, 16, spec.search.seed, spec.targets)
    outcome = optimise(problem, sim, q=0.95, progress=lambda _: None)
    costs = [float(str(h["cost"])) for h in outcome.history if h["stage"] == "local search"]
    assert len(costs) >= 3
    assert all(later < earlier for earlier, later in itertools.pairwise(costs))
