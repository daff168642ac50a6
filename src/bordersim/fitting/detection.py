"""Fit the detection ceiling (`detection.p_max_fraction`, an assumption) on the got-aways of spring
2023, by simulation with common random numbers (docs/validation.md, "Fitting the detection
ceiling").

The targets (`validation.fit_targets`): the share of got-aways among got-aways and encounters on
10 May 2023 (one in four) and the got-aways of April 2023 (at least 73,463). Encounters are fitted
to the official counts whatever the detection (`bordersim fit`), and a lower ceiling needs more
crossers for the same encounters, which in turn keeps agents busier; so each point of the grid is
scored at its own fitted demand: the scenario with the point's ceiling, its demand fitted again
(the same settings as the shipped fits, fewer replications), then simulated from the same seed
(common random numbers) through the last fitted day. One parameter: a grid, which is also the
sensitivity table. About a minute a point on one core.

    python -m bordersim.fitting.detection --replications 4
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bordersim.calibration.fit_file import nearest_month
from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.fitting.demand import FitSettings, fit_demand
from bordersim.fitting.operations import grid_arguments, print_least_loss, through
from bordersim.model.compiled import CompiledModel
from bordersim.scenario import Scenario, load_scenario
from bordersim.validation.compare import compare, relative_error
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.measures import RunView
from bordersim.validation.targets import Target, load_targets

SCENARIO = "2023-title42-end"
CEILINGS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85)  # around the plausible range (defaults file)
GOT_AWAY_METRICS = ("gotaways", "gotaway_ratio_estimate")


def with_ceiling(scenario: Scenario, ceiling: float) -> Scenario:
    """The scenario with one detection ceiling in every sector."""
    per_sector = {str(sector): ceiling for sector in scenario.sectors}
    return scenario.with_changes({"detection.p_max_fraction": per_sector})


def at_fitted_demand(scenario: Scenario, settings: FitSettings) -> CompiledModel:
    """The scenario compiled with first attempts fitted again to the official encounters (the
    fit is not written anywhere)."""
    outcome = fit_demand(scenario, settings)
    base = compile_scenario(scenario, apply_fit=False)
    month_of_day = nearest_month(base.dates, outcome.months)
    return base.replace(
        first_attempts_per_day=base.first_attempts_per_day * outcome.factors[month_of_day]
    )


def score(
    model: CompiledModel,
    targets: list[Target],
    replications: int,
    seed: int,
    *,
    records: bool = False,
) -> list[dict[str, float | str]]:
    """Each target: simulated mean, error and squared log error (`records`: keep the event
    engine's per-person records, for targets measured from them)."""
    run = simulate(model, replications=replications, seed=seed, records=records)
    view = RunView(run, run.people if records else None, model.dates[0])
    rows: list[dict[str, float | str]] = []
    for target in targets:
        simulated = compare(target, view).simulated
        assert simulated is not None
        error = relative_error(target, simulated.mean)
        rows.append(
            {
                "target": f"{target.metric} {target.start} {target.scope}",
                "figure": target.describe_value(),
                "simulated": simulated.mean,
                "error": error,
                "loss": float(np.log1p(error) ** 2),
            }
        )
    return rows


def scenario_grid(
    repo: Path,
    scenario_name: str,
    parameter: str,
    column: str,
    values: tuple[float, ...],
    targets: list[Target],
    replications: int,
    seed: int,
    *,
    records: bool = False,
) -> pd.DataFrame:
    """A one-parameter grid on a shipped scenario's demand fit: one row per value of the
    scenario `parameter` (named `column` in the table) and target, each point simulated from
    the same seed through the targets' last day (`score`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the shipped fit was made at another value
        scenario = load_scenario(repo / "scenarios" / f"{scenario_name}.toml")
    last = max(t.end for t in targets)
    rows = []
    for value in values:
        model = through(compile_scenario(scenario.with_changes({parameter: value})), last)
        for row in score(model, targets, replications, seed, records=records):
            rows.append({column: value, **row})
    return pd.DataFrame(rows)


def grid(
    repo: Path, replications: int, seed: int, ceilings: tuple[float, ...] = CEILINGS
) -> pd.DataFrame:
    """One row per detection ceiling and fitted target."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the shipped fit was made on another ceiling
        scenario = load_scenario(repo / "scenarios" / f"{SCENARIO}.toml")
    targets = [t for t in load_targets() if is_fit_target(t) and t.metric in GOT_AWAY_METRICS]
    last = max(t.end for t in targets)
    settings = FitSettings(replications=replications, seed=seed)
    rows = []
    for ceiling in ceilings:
        model = through(at_fitted_demand(with_ceiling(scenario, ceiling), settings), last)
        for row in score(model, targets, replications, seed):
            rows.append({"p_max_fraction": ceiling, **row})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    args = grid_arguments(__doc__.splitlines()[0], argv)
    print_least_loss(grid(args.repo, args.replications, args.seed), "p_max_fraction", args.out)


if __name__ == "__main__":
    main()
