"""The correction stage keeps every pool within its border-wide cap."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan
from bordersim.planner.evaluate import Simulator
from bordersim.planner.fluid import workload
from bordersim.planner.problem import build_problem
from bordersim.planner.search import caps_by_load, correct
from bordersim.scenario import load_scenario
from repo_paths import REPO


@pytest.mark.slow
def test_the_correction_keeps_a_pool_within_its_border_wide_cap() -> None:
    """Troops capped at 250 across the border, all 250 in Tucson, and Rio Grande Valley short: the
    correction kept every headcount at least what it was and added the re-solved plan's troops in
    the valley, 500 troops at once. A pool and window over the cap now takes the re-solved plan,
    which is within it."""
    spec = load_plan(REPO / "plans/examples/small-stress.toml")
    troops = dataclasses.replace(spec.pools[0], max_headcount=250.0)
    spec = dataclasses.replace(spec, pools=(troops, *spec.pools[1:]))
    scenario = load_scenario(REPO / "scenarios/examples/small-staff-bound.toml")
    problem = build_problem(compile_scenario(scenario), spec)
    sim = Simulator(problem, 8, 5, spec.targets)
    ev, run = sim.run(caps_by_load(problem))
    work = workload(
        problem,
        run.metric("encounters").mean(axis=0),
        run.metric("occupancy_mean").mean(axis=0),
        run.metric("processing_backlog").mean(axis=0),
    )
    required = ev.active[:, None, None] & np.ones(ev.probability.shape, dtype=np.bool_)
    x = np.zeros(problem.shape)
    x[0, 0, :] = 250.0  # every troop in Tucson
    correction = np.ones((problem.base.n_sectors, len(problem.weeks)))
    out, _, _ = correct(problem, sim, work, required, 0.95, correction, x, [], lambda _: None, 4)
    assert out[0, 1].any()  # troops went to the valley
    assert (out[0].sum(axis=0) <= 250.0).all()
    assert (out[1].sum(axis=0) <= spec.pools[1].max_headcount).all()
