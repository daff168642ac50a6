"""Small planning problems shared by the planner tests."""

from __future__ import annotations

import numpy as np

from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import Pool, Sector, Task
from bordersim.model.examples import tiny_model
from bordersim.planner.spec import PlanSpec, PoolPlan, Search, Targets


def one_sector_model() -> CompiledModel:
    """One sector, three weeks, where processing is the only constraint: departures are never
    limited (ports, ICE, HHS and shelters unbounded, no release valve), and 1,500 crossings a day
    load the 600 agents' processing share just past what it can do, so that troops on intake
    decide whether people leave custody within 72 hours (an Erlang-C-like staffing problem)."""
    m = tiny_model(
        n_days=24, warmup_days=3, sectors=(Sector.RGV,), attempts_per_day=1500.0, agents=600.0
    )
    unlimited = 1e6
    return (
        m.with_line("ice", beds=unlimited, national_capacity_per_day=unlimited)
        .with_line("hhs", beds=unlimited, national_capacity_per_day=unlimited)
        .with_line("port", sector_capacity_per_day=unlimited)
        .replace(shelter_intake_per_day=np.full(1, unlimited), release_valve_enabled=False)
    )


def troops_spec(
    *, replications: int = 16, certify: int = 60, seed: int = 3, engine: str = "flow"
) -> PlanSpec:
    """Troops on intake, one window over the whole period, in steps of 5 people."""
    return PlanSpec(
        name="one-sector",
        pools=(
            PoolPlan(Pool.ACTIVE_DUTY, (Task.INTAKE,), max_headcount=400.0, ramp_up_days=0, step=5),
        ),
        targets=Targets(),
        search=Search(
            replications=replications,
            certify_replications=certify,
            certify_engine=engine,
            seed=seed,
            frontier=(0.95,),
        ),
        window_days=21,
        min_tour_days=21,
    )
