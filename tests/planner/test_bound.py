"""The probe bound (planner/bound.py): its cost model is the plan's, its program finds the
cheapest plan past the cuts, and the monotonicity it assumes holds on the small example."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan
from bordersim.planner.bound import (
    PROBES_PER_FAMILY,
    Cut,
    _Prober,
    ceiling,
    cheapest_plan_beyond,
    families,
    ramp_unit_cost,
    window_unit_cost,
)
from bordersim.planner.evaluate import Simulator
from bordersim.planner.problem import Problem, build_problem
from bordersim.planner.targets import Evaluation
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


def _plan_170_250(problem: Problem) -> np.ndarray:
    x = np.zeros(problem.shape)
    x[0, 1, 1:] = [170.0, 250.0]  # troops in Rio Grande Valley, windows 2 and 3
    return x


def test_staircase_and_prefix_families_below_a_plan(problem: Problem) -> None:
    """Below troops in windows 2 and 3: five staircase families (the last window lowered, the
    second at the ceiling, then fixed at all, 2/3, 1/3 and none of the plan's 170), then the
    prefix families; a plan in one window gets one staircase family, and no family twice."""
    rgv = 1
    found = families(problem, _plan_170_250(problem))
    kinds = [f.kind for f in found]
    stairs = ["staircase ceiling", "staircase 1.00", "staircase 0.67", "staircase 0.33"]
    assert kinds == [*stairs, "staircase 0.00", "prefix", "prefix"]
    seconds = (np.inf, 170.0, 110.0, 50.0, 0.0)
    for family, second in zip(found[:5], seconds, strict=True):
        assert family.sector == rgv
        assert family.lowered[:, 2].all() and not family.lowered[:, :2].any()
        assert family.fixed is not None and family.fixed[0, 1] == second
        assert np.isinf(family.fixed[0, 0])  # no planned staff there: at the ceiling
    assert found[5].lowered[:, :2].all() and not found[5].lowered[:, 2].any()
    assert found[6].lowered.all()
    one = np.zeros(problem.shape)
    one[0, rgv, 2] = 200.0
    single = families(problem, one)
    assert [f.kind for f in single] == ["staircase 1.00", "prefix"]
    assert single[0].fixed is None


def _constant_run(problem: Problem, p_of: Callable[[np.ndarray], float]):  # type: ignore[no-untyped-def]
    """A run whose RGV week-5 target holds in exactly round(p n) of n replications (the others
    always): deterministic, so the judging is what is tested."""
    calls: list[tuple[int, int]] = []

    def run(plan: np.ndarray, n: int, look: int) -> Evaluation:
        calls.append((n, look))
        held = round(p_of(plan) * n)
        holds = np.ones((n, 3, problem.shape[1], len(problem.weeks)), dtype=np.bool_)
        holds[held:, 0, 1, 4] = False
        return Evaluation(
            values=holds.astype(float),
            holds=holds,
            active=np.array([True, True, False]),
            level=np.array([0.95, 0.95, 1.0]),
            at_most=np.array([False, False, True]),
        )

    return run, calls


def test_an_undecided_probe_gets_a_second_look_and_its_cut_is_the_largest_shown(
    problem: Problem,
) -> None:
    """Along the staircase family (second window fixed at 110), the last window's troops decide:
    below 150 the target holds in 88 % (not shown to miss on 100 replications at the
    probes' confidence, shown on 200), from 150 always. The cut is the largest probe below 150,
    judged on both looks; a clear result is judged on the first look alone."""
    x = _plan_170_250(problem)
    required = np.zeros((3, 2, len(problem.weeks)), dtype=np.bool_)
    required[:2] = True
    run, calls = _constant_run(problem, lambda plan: 1.0 if plan[0, 1, 2] >= 150 else 0.88)
    found = families(problem, x)
    tests = 2 * (PROBES_PER_FAMILY * len(found) + 1)
    prober = _Prober(problem, run, required, tests, ceiling(problem, x), 100, extend=1)
    cut = prober.walk(found[2])
    assert cut is not None and cut.levels[0, 1] == 110.0
    assert cut.levels[0, 2] == 140.0  # the largest troop level below 150 the bisection met
    by_level = {p["headcount"][0][2]: p for p in prober.log}  # type: ignore[index]
    assert by_level[140.0]["replications"] == 200 and by_level[140.0]["shown_infeasible"]
    passed = [p for p in prober.log if not p["shown_infeasible"]]
    assert passed and all(p["replications"] == 100 for p in passed)
    assert (100, 1) in calls and all(n == 100 for n, _ in calls)
    # without the second look the same probe is not shown to miss: no cut
    run, _ = _constant_run(problem, lambda plan: 1.0 if plan[0, 1, 2] >= 150 else 0.88)
    alone = _Prober(problem, run, required, tests // 2, ceiling(problem, x), 100, extend=0)
    assert alone.walk(found[2]) is None
