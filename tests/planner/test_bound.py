"""The probe bound (planner/bound.py): its cost model is the plan's, its program finds the
cheapest plan past the cuts, and the monotonicity it assumes holds on the small example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan
from bordersim.planner.bound import (
    Cut,
    cheapest_plan_beyond,
    ramp_unit_cost,
    window_unit_cost,
)
from bordersim.planner.evaluate import Simulator
from bordersim.planner.problem import Problem, build_problem
from bordersim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def problem() -> Problem:
    spec = load_plan(REPO / "plans/examples/small-stress.toml")
    model = compile_scenario(load_scenario(REPO / "scenarios/examples/small-staff-bound.toml"))
    return build_problem(model, spec)


def _cost_by_parts(problem: Problem, x: np.ndarray) -> float:
    arrivals = np.maximum(np.diff(x, axis=2, prepend=0.0), 0.0)
    return float(
        np.einsum("ksw,kw->", x, window_unit_cost(problem))
        + np.einsum("ksw,kw->", arrivals, ramp_unit_cost(problem))
    )


def test_window_and_ramp_costs_add_up_to_the_plans_cost(problem: Problem) -> None:
    """The bound's program prices a plan as the planner does (window days plus the ramp-up of
    every increase), so its optimum is a lower bound on `Problem.cost` and not on something
    else."""
    rng = np.random.default_rng(7)
    caps = problem.upper_bounds()
    for _ in range(20):
        x = rng.integers(0, 30, problem.shape) * 10.0 * (caps > 0)
        assert _cost_by_parts(problem, x) == pytest.approx(problem.cost(x), rel=1e-12)


def test_the_program_finds_the_cheapest_plan_past_the_cuts(problem: Problem) -> None:
    rgv = 1
    troops = [[20.0, 20.0, 20.0], [0.0, 0.0, 10.0]]  # troops per window; contractors per window
    bound = cheapest_plan_beyond(problem, [Cut(rgv, np.array(troops))])
    # past the cut: 30 troops in one window of RGV (contractors: 20 in the last window, dearer)
    candidates = []
    for w in range(3):
        x = np.zeros(problem.shape)
        x[0, rgv, w] = 30.0
        candidates.append(problem.cost(x))
    x = np.zeros(problem.shape)
    x[1, rgv, 2] = 20.0
    candidates.append(problem.cost(x))
    assert bound == pytest.approx(min(candidates), rel=1e-6)
    assert cheapest_plan_beyond(problem, []) == 0.0
    # a second cut in the other sector adds its own cheapest step
    both = cheapest_plan_beyond(problem, [Cut(rgv, np.array(troops)), Cut(0, np.zeros((2, 3)))])
    tca = np.zeros(problem.shape)
    tca[0, 0, 2] = 10.0  # the last window's ramp-up starts latest: the cheapest single step
    assert both == pytest.approx(min(candidates) + problem.cost(tca), rel=1e-6)


@pytest.mark.slow
def test_targets_are_monotone_in_headcount_on_the_small_example(problem: Problem) -> None:
    """Assumption (M) of the probe bound, on common random numbers: adding troops in Rio Grande
    Valley never lowers the number of replications in which its targets hold, and adding troops
    in Tucson never raises it."""
    spec = problem.spec
    sim = Simulator(problem, 16, spec.search.seed, spec.targets)
    rgv, tca = 1, 0

    def held(x: np.ndarray) -> np.ndarray:
        return sim.evaluation(x).successes()[:, rgv, :]

    previous = None
    for level in (0.0, 20.0, 40.0, 80.0, 160.0):
        x = np.zeros(problem.shape)
        x[0, rgv, :] = level
        now = held(x)
        if previous is not None:
            assert (now >= previous).all(), (level, previous, now)
        previous = now
    base = np.zeros(problem.shape)
    base[0, rgv, 1] = 40.0
    alone = held(base)
    for level in (40.0, 400.0):
        crowded = base.copy()
        crowded[0, tca, :] = level
        assert (held(crowded) <= alone).all(), level
