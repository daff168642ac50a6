"""Reach on the certifying engine: a target the certification misses stays required where some
plan in the decision space certifies it, and is dropped (and listed) where neither the plan at
the caps nor the plan with no planned staff does, as when the processing stations bind."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan
from bordersim.planner.certify import certify
from bordersim.planner.evaluate import Simulator, run_flow
from bordersim.planner.problem import Problem, build_problem
from bordersim.planner.run import _reach_on_certifying_engine
from bordersim.planner.search import SearchOutcome, caps_by_load, optimise
from bordersim.planner.targets import evaluate
from bordersim.scenario import load_scenario
from repo_paths import REPO, SCENARIOS

PLAN = REPO / "plans/examples/small-stress.toml"
SEED = 11


def _problem(scenario: str) -> Problem:
    spec = load_plan(PLAN)
    search = dataclasses.replace(
        spec.search, replications=8, certify_replications=60, certify_engine="flow"
    )
    spec = dataclasses.replace(spec, search=search)
    return build_problem(compile_scenario(load_scenario(SCENARIOS / scenario)), spec)


def _everything_required(problem: Problem) -> tuple[SearchOutcome, np.ndarray]:
    """The search's outcome with every active target required (as if the search had found each
    within reach), and the plan with no planned staff as the plan to certify."""
    spec = problem.spec
    sim = Simulator(problem, spec.search.replications, spec.search.seed, spec.targets)
    outcome = optimise(problem, sim, q=spec.targets.within_72h, progress=lambda _: None)
    active = outcome.caps_evaluation.active[:, None, None] & np.ones_like(outcome.required)
    everything = dataclasses.replace(outcome, required=active, unattainable=np.zeros_like(active))
    return everything, np.zeros(problem.shape)


def _reach(problem: Problem) -> tuple[SearchOutcome, np.ndarray, np.ndarray]:
    outcome, x = _everything_required(problem)
    spec = problem.spec
    ev = evaluate(run_flow(problem.model_for(x), 60, SEED), problem.weeks, spec.targets)
    first = certify(
        ev, outcome.required, alpha=spec.targets.alpha, confidence=0.95, engine="flow", seed=SEED
    )
    missed = first.required & ~first.certified
    updated, recertified, runs = _reach_on_certifying_engine(
        problem, outcome, x, first, ev, lambda _: None, None
    )
    assert runs == 60  # the plan certified has no planned staff: only the caps are checked
    # the certificate is the same evaluation judged against the targets still required
    np.testing.assert_array_equal(recertified.successes, first.successes)
    assert not (recertified.required & ~updated.required).any()
    return updated, missed, updated.unreachable_certifying


@pytest.mark.slow
def test_targets_that_staff_can_meet_stay_required() -> None:
    # staff-bound processing: troops and contractors at their caps shorten custody
    problem = _problem("examples/small-staff-bound.toml")
    updated, missed, dropped = _reach(problem)
    assert missed.sum() >= 4  # with no planned staff the stressed sectors miss
    kept = missed & ~dropped
    assert kept.sum() >= 4
    # a kept target is certified with every pool at its cap on fresh replications
    spec = problem.spec
    caps = evaluate(
        run_flow(problem.model_for(caps_by_load(problem)), 60, SEED + 1),
        problem.weeks,
        spec.targets,
    )
    assert (caps.successes()[kept] >= 57).mean() >= 0.9
    assert not (dropped & ~missed).any()  # only missed targets are ever dropped
    assert updated.required[kept].all()


@pytest.mark.slow
def test_targets_no_plan_can_meet_are_dropped_and_listed() -> None:
    # the small example's stations bind at demand x 2.5: no pool shortens custody there
    problem = _problem("examples/small.toml")
    updated, missed, dropped = _reach(problem)
    assert dropped.sum() >= 4
    assert not (dropped & ~missed).any()
    assert not (updated.required & dropped).any()
    assert (updated.unattainable & dropped).sum() == dropped.sum()
