"""On one sector with Erlang-C-like processing, the planner finds the optimum, its fluid bound lies
below it, and its certificate's claims hold on independent replications."""

from __future__ import annotations

import numpy as np
import pytest
from planner_cases import one_sector_model, troops_spec
from scipy.stats import beta

from bordersim.planner import PlanResult, plan_model
from bordersim.planner.evaluate import Simulator, run_flow
from bordersim.planner.problem import build_problem
from bordersim.planner.search import feasible
from bordersim.planner.targets import evaluate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planned() -> PlanResult:
    return plan_model(one_sector_model(), troops_spec(), frontier=False, compare_base=False)


def test_planner_finds_the_exhaustive_optimum(planned: PlanResult) -> None:
    spec = troops_spec()
    problem = build_problem(one_sector_model(), spec)
    sim = Simulator(problem, spec.search.replications, spec.search.seed, spec.targets)
    required = planned.outcome.required
    # every headcount on the grid, on the same replications: the smallest feasible one
    answers = {}
    for n in range(0, 105, 5):
        ev = sim.evaluation(np.full(problem.shape, float(n)))
        answers[n] = bool(feasible(ev, required, spec.targets.alpha).all())
    optimum = min(n for n, ok in answers.items() if ok)
    assert not answers[0] and answers[optimum]
    assert all(answers[n] for n in answers if n >= optimum)  # monotone on this grid
    assert planned.outcome.x.item() == optimum  # the search, before any certification repair
    assert planned.x.item() >= optimum
    # the fluid program is a lower bound on what simulation shows is needed
    assert planned.outcome.lower_bound <= problem.cost(np.full(problem.shape, float(optimum)))
    assert 0.0 <= planned.gap < 1.0


def test_certificate_claims_hold_on_independent_replications(planned: PlanResult) -> None:
    cert = planned.certificate
    claimed = cert.certified & cert.required
    assert claimed.any()
    problem = planned.problem
    fresh_seed = cert.seed + 104729
    fresh = evaluate(
        run_flow(problem.model_for(planned.x), 300, fresh_seed), problem.weeks, problem.spec.targets
    )
    k = fresh.successes()[claimed]
    n = fresh.n_replications
    # the fresh sample must not reject "probability >= 1 - alpha" at the 1 % level (one-sided
    # Clopper-Pearson upper bound), for any certified constraint
    upper = np.where(k >= n, 1.0, beta.ppf(0.99, k + 1.0, n - k))
    assert np.all(upper >= 1.0 - problem.spec.targets.alpha), (k, n)
