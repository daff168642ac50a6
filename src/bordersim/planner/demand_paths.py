"""Demand from forecast sample paths: the planner's replications spread over them.

A plan file's ``[forecast]`` (`spec.ForecastPaths`) asks for a plan against the forecast's joint
sample paths (`Forecast.sample_paths`) instead of one demand. Path k changes the base model's
first attempts after the origin by the factor [D, S, G] between the first attempts implied by its
monthly encounters and the calibration's own (`ForecastDemand` with the path's totals), so the
demand fit, shocks and scales of the base scenario apply to every path as they do to the
calibration. Nothing else changes with the path: the processing stations stay where the base
scenario's demand places them (an assumption: a path moves the crossings, not the desks).

Every candidate then runs its replications spread over the paths (`split`), each path on
replication streams of its own (`path_seed`), and its evaluation pools them: a target that holds
with probability 1 - alpha holds over the forecast's uncertainty and the simulation's together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bordersim.model.compiled import CompiledModel
from bordersim.results.schema import RunResult
from bordersim.scenario import Scenario

if TYPE_CHECKING:
    from bordersim.compiler.inputs import CalibrationSource

#: Seeds of the paths' replication streams are this far apart (an engine's streams for one seed
#: are independent of another seed's).
PATH_SEED_STRIDE = 1_000_003


@dataclass(frozen=True)
class DemandPaths:
    """First-attempt factors of each path over the base model: [K, D, S, G]."""

    factors: np.ndarray
    origin: dt.date
    seed: int
    source: str

    @property
    def n_paths(self) -> int:
        return int(self.factors.shape[0])

    def models(self, model: CompiledModel) -> list[CompiledModel]:
        """`model` once per path, with the path's first attempts."""
        return [_times(model, factor) for factor in self.factors]

    def mean_model(self, model: CompiledModel) -> CompiledModel:
        """`model` at the paths' mean demand (the fluid program plans for it)."""
        return _times(model, self.factors.mean(axis=0))


def _times(model: CompiledModel, factor: np.ndarray) -> CompiledModel:
    return model.replace(first_attempts_per_day=model.first_attempts_per_day * factor)


def split(replications: int, paths: int) -> list[int]:
    """Replications per path: as even as can be, the first paths one more."""
    return [replications // paths + (k < replications % paths) for k in range(paths)]


def path_seed(seed: int, path: int) -> int:
    return seed + PATH_SEED_STRIDE * path


def demand_paths(
    scenario: Scenario, model: CompiledModel, origin: dt.date, paths: int, seed: int
) -> DemandPaths:
    """The factors of `paths` sample paths of the forecast from `origin` over `model`'s demand.

    `model` is `scenario` compiled. A scenario that takes its demand from a forecast quantile
    already (``[demand.forecast]``) is refused: one forecast sets the demand after an origin."""
    from bordersim.forecast.scenario_demand import ForecastDemand, forecast_path_totals

    calibration = check_forecast_origin(scenario, origin)
    dates = [model.start_date + dt.timedelta(days=d) for d in range(model.n_days)]
    sectors = list(model.sectors)
    own = np.asarray(calibration.daily_first_attempts(dates, sectors), dtype=np.float64)
    totals = forecast_path_totals(calibration, origin, paths, seed)
    factors = np.ones((paths, *own.shape))
    for k in range(paths):
        path = ForecastDemand(calibration, origin, totals=totals[k])
        implied = np.asarray(path.daily_first_attempts(dates, sectors), dtype=np.float64)
        # a group the calibration never sees in a sector stays at zero on every path
        np.divide(implied, own, out=factors[k], where=own > 0)
    source = (
        f"{paths} joint sample paths (seed {seed}) of the ensemble forecast from {origin:%Y-%m} "
        "(docs/forecast.md), as factors of the base scenario's first attempts after the origin"
    )
    return DemandPaths(factors, origin, seed, source)


def check_forecast_origin(
    scenario: Scenario, origin: dt.date, where: str | None = None
) -> CalibrationSource:
    """The calibration `scenario`'s demand comes from, once it is clear that the forecast from
    `origin` (sample paths or a quantile) can replace that demand: a scenario that takes its
    demand from a forecast quantile already (``[demand.forecast]``) is refused (one forecast sets
    the demand after an origin), and so is an origin outside the calibration's months (named at
    `where`: the plan file and line that set it). Quick (the calibration is cached), so
    `bordersim plan` and the workbench check a plan's ``[forecast]`` with it before the plan
    runs."""
    from bordersim.compiler.inputs import load_calibration_for
    from bordersim.forecast.scenario_demand import check_forecast_origin as check_origin
    from bordersim.planner.spec import PlanError

    if scenario.demand.forecast is not None:
        raise PlanError(
            "the plan file's [forecast] and the base scenario's [demand.forecast] both set the "
            "demand after an origin: keep one",
            where=str(scenario.path),
        )
    calibration = load_calibration_for(scenario)
    check_origin(calibration, origin, "forecast.origin", where)  # and its history
    return calibration


def run_over_paths(
    run: Callable[[CompiledModel, int, int], RunResult],
    model: CompiledModel,
    paths: DemandPaths | None,
    replications: int,
    seed: int,
) -> RunResult:
    """`replications` of `model` by `run(model, n, seed)`, spread over the paths (all on `model`
    without paths), as one result whose replications are the paths' in turn."""
    if paths is None:
        return run(model, replications, seed)
    counts = split(replications, paths.n_paths)
    results = [
        run(path_model, n, path_seed(seed, k))
        for k, (path_model, n) in enumerate(zip(paths.models(model), counts, strict=True))
        if n > 0
    ]
    return RunResult.concatenated(results, seed=seed)
