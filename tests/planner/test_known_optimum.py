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
from bordersim.planner.search import feasible, optimise
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
    for n in range(0, 205, 5):
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
    # so is the probe bound, which the gap is measured against, and it is the tighter of the two
    data = planned.certificate_json
    assert data["probe_bound"] is not None
    assert data["lower_bound_dollars"] == data["probe_bound"]["dollars"]
    assert 0.0 < data["lower_bound_dollars"] <= problem.cost(np.full(problem.shape, optimum))
    assert data["lower_bound_dollars"] >= data["fluid_lower_bound_dollars"]
    assert data["gap_proven"] is True  # one sector: nobody is moved between sectors


def test_probe_bound_lies_below_the_optimum_of_the_chance_constrained_problem(
    planned: PlanResult,
) -> None:
    """The stated problem asks each target to hold with probability >= 1 - alpha (not the
    search's stricter sample criterion): its optimum, estimated on 200 fresh replications per
    headcount, is at most the sample's, and the probe bound must not exceed it."""
    problem = planned.problem
    spec = problem.spec
    fresh = Simulator(problem, 200, spec.search.seed + 611953, spec.targets)
    required = planned.outcome.required
    smallest = None
    for n in range(0, 205, 5):
        ev = fresh.evaluation(np.full(problem.shape, float(n)))
        if bool((~required | (ev.probability >= 1.0 - spec.targets.alpha)).all()):
            smallest = n
            break
    assert smallest is not None
    bound = planned.certificate_json["lower_bound_dollars"]
    print(
        f"chance-constrained optimum about {smallest} troops; probe bound ${bound:,.0f}; "
        f"certified plan {planned.x.item():.0f} troops, ${planned.cost:,.0f}, "
        f"gap {100 * planned.gap:.1f} %"
    )
    assert bound <= problem.cost(np.full(problem.shape, float(smallest)))


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


def test_square_root_staffing_overstaffs_a_72_hour_standard(planned: PlanResult) -> None:
    """At the Halfin-Whitt beta for P(wait) = 1 - q, square-root and MOL staffing ask for more
    than the optimum: the standard lets work wait for days (docs/planner.md, the staffing rules).
    `pytest -s` prints the table in docs/planner.md."""
    from bordersim.planner.fluid import workload
    from bordersim.planner.search import caps_by_load
    from bordersim.planner.staffing import halfin_whitt_beta, square_root_plan

    spec = troops_spec()
    problem = build_problem(one_sector_model(), spec)
    sim = Simulator(problem, spec.search.replications, spec.search.seed, spec.targets)
    _, run = sim.run(caps_by_load(problem))
    work = workload(
        problem,
        run.metric("encounters").mean(axis=0),
        run.metric("occupancy_mean").mean(axis=0),
        run.metric("processing_backlog").mean(axis=0),
    )
    required = planned.outcome.required
    optimum = planned.outcome.x.item()
    rule_beta = halfin_whitt_beta(1.0 - spec.targets.within_72h)
    for time_varying in (False, True):
        for b in (rule_beta, -1.0, -2.0):
            x = square_root_plan(problem, work, b, time_varying=time_varying)
            ok = bool(feasible(sim.evaluation(x), required, spec.targets.alpha).all())
            rule = "MOL + square root" if time_varying else "square root"
            print(f"{rule}: beta {b:.2f}: {x.item():.0f} troops, feasible on the sample: {ok}")
        at_rule = square_root_plan(problem, work, rule_beta, time_varying=time_varying).item()
        assert at_rule > optimum


def test_the_report_leads_with_the_answer_and_has_every_section(planned: PlanResult) -> None:
    from bordersim.planner.report import plan_report

    page = plan_report(planned)
    answer = page.index("The cheapest plan found costs")
    assert answer < page.index("<h2>")
    assert f"${planned.cost / 1e6:,.3f}M" in page[answer : answer + 80]
    assert f"{100 * planned.gap:.1f} %" in page
    for section in (
        "Plan per window, sector and pool",
        "Weekly headcount per sector",
        "Cost breakdown",
        "Cost versus target",
        "Binding and failing sector-weeks",
        "<h2>Certificate</h2>",
    ):
        assert section in page
    assert "Comparison with the base" not in page  # planned without the base comparison
    assert page.endswith("</body></html>")


def test_the_cheapest_plan_simulated_that_meets_every_target_wins(planned: PlanResult) -> None:
    """Every candidate the search simulated counts: handed a dearer feasible plan, the incumbent
    step returns the cheapest feasible one on the same sample (here the exhaustive optimum)."""
    from bordersim.planner.search import incumbent

    spec = troops_spec()
    problem = build_problem(one_sector_model(), spec)
    sim = Simulator(problem, spec.search.replications, spec.search.seed, spec.targets)
    required = planned.outcome.required
    optimum = np.full(problem.shape, planned.outcome.x.item())
    dear = np.full(problem.shape, 200.0)
    for x in (np.zeros(problem.shape), optimum, dear):
        sim.evaluation(x)
    history: list[dict[str, object]] = []
    x, ev = incumbent(problem, sim, required, dear, sim.evaluation(dear), history, print)
    assert np.array_equal(x, optimum)
    assert feasible(ev, required, spec.targets.alpha).all()
    assert history[-1]["cost"] == problem.cost(optimum)


def test_with_two_windows_the_search_finds_the_exhaustive_optimum() -> None:
    """Two windows (10 and 11 days) in steps of 25 troops: every pair of headcounts up to 250 on
    the search's own replications; the search returns the cheapest pair that meets every target
    (the windows can trade staff: the backlog one leaves is the next one's work)."""
    import dataclasses
    import itertools

    spec = troops_spec()
    troops = dataclasses.replace(spec.pools[0], step=25)
    spec = dataclasses.replace(spec, pools=(troops,), window_days=10, min_tour_days=10)
    problem = build_problem(one_sector_model(), spec)
    assert problem.shape == (1, 1, 2)
    sim = Simulator(problem, spec.search.replications, spec.search.seed, spec.targets)
    outcome = optimise(problem, sim, q=spec.targets.within_72h, progress=lambda _: None)
    grid = [
        np.array([[[first, second]]], dtype=float)
        for first, second in itertools.product(range(0, 251, 25), repeat=2)
    ]
    met = [
        x for x in grid if feasible(sim.evaluation(x), outcome.required, spec.targets.alpha).all()
    ]
    assert met
    assert problem.cost(outcome.x) == min(problem.cost(x) for x in met)
