"""Runs built from constructed arrays, for KPI arithmetic, the store round-trip and report
rendering: tests of what consumes a `RunResult`, not of an engine."""

from __future__ import annotations

import datetime as dt

import numpy as np

from bordersim.model.dimensions import Sector
from bordersim.results.schema import CUSTODY_HIST_HOURS, DAILY_METRICS, RunResult
from bordersim.store.interface import Catalog
from bordersim.store.runs import new_run_id, start_run


def constructed_run(
    replications: int = 5, days: int = 21, seed: int = 1, engine: str = "event"
) -> RunResult:
    rng = np.random.default_rng(seed)
    sectors = (Sector.TCA, Sector.RGV)
    daily = rng.gamma(2.0, 50.0, size=(replications, days, len(sectors), len(DAILY_METRICS)))
    hist = rng.poisson(3.0, size=(replications, len(sectors), 2, CUSTODY_HIST_HOURS + 1))
    hist[..., 200:] = 0
    return RunResult(
        engine=engine,
        scenario_name="constructed",
        scenario_hash="f" * 64,
        seed=seed,
        dates=[dt.date(2023, 5, 1) + dt.timedelta(days=d) for d in range(days)],
        sectors=sectors,
        daily=daily,
        custody_hist=hist.astype(np.float64),
        timings={"compile_s": 0.1, "run_s": 1.0},
    )


def start_constructed(
    catalog: Catalog, run: RunResult, run_id: str | None = None, scenario_path: str | None = None
) -> str:
    """Record `run` as started in the store, under `run_id` (a new id if None), from the scenario
    file `scenario_path` (None: not recorded); returns the id."""
    run_id = run_id or new_run_id(run.scenario_name)
    start_run(
        catalog,
        run_id,
        scenario_name=run.scenario_name,
        scenario_hash=run.scenario_hash,
        scenario_text="name = 'constructed'\n",
        engine=run.engine,
        seed=run.seed,
        replications=run.n_replications,
        code_version="test",
        scenario_path=scenario_path,
    )
    return run_id
