"""Fit the detection ceiling (`detection.p_max_fraction`, an assumption) on the got-aways of spring
2023, by simulation with common random numbers (docs/validation.md, "Fitting the detection
ceiling").

The targets (`validation.fit_targets`): the share of got-aways among got-aways and encounters on
10 May 2023 (one in four) and the got-aways of April 2023 (at least 73,463). The demand fit makes
encounters match the official counts whatever the detection, so a point is scored at the fitted
demand: its got-aways of April are scaled by the official April encounters over its simulated
ones (got-aways per encounter do not depend on the level of demand while agents, not demand,
set detection). The ratio needs no scaling. Every point runs from the same seed, through the last
fitted day. One parameter, a few seconds a point: a grid, and the grid is the sensitivity table.

    python -m bordersim.fitting.detection --replications 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.fitting.operations import through
from bordersim.model.compiled import CompiledModel
from bordersim.results.schema import RunResult
from bordersim.results.validation import as_monthly_counts
from bordersim.scenario import load_scenario
from bordersim.validation.compare import compare, relative_error
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.measures import RunView
from bordersim.validation.reference import load_official_monthly
from bordersim.validation.targets import Target, load_targets

SCENARIO = "2023-title42-end"
CEILINGS = (0.92, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55)  # plausible range (defaults file)
APRIL = dt.date(2023, 4, 1)


def official_encounters(model: CompiledModel, month: dt.date) -> float:
    """The official encounters of `month` in the model's sectors (the calibration's counts)."""
    official, reason = load_official_monthly()
    if official is None:
        raise SystemExit(reason)
    return float(
        sum(as_monthly_counts(official(sector)).get(month, 0.0) for sector in model.sectors)
    )


def simulated_encounters(run: RunResult, month: dt.date) -> float:
    """Mean encounters of `month` over the replications, all sectors."""
    in_month = np.array([(d.year, d.month) == (month.year, month.month) for d in run.dates])
    return float(run.metric("encounters")[:, in_month, :].sum(axis=(1, 2)).mean())


def score(
    model: CompiledModel,
    targets: list[Target],
    official: tuple[dt.date, float],
    replications: int,
    seed: int,
) -> list[dict[str, float | str]]:
    """Each target at the fitted demand: simulated value, error and squared log error. Counts of
    got-aways are scaled by `official` (a month and its official encounters) over the month's
    simulated encounters; ratios are not."""
    run = simulate(model, replications=replications, seed=seed)
    view = RunView(run, None, model.dates[0])
    month, official_encounters = official
    to_fitted_demand = official_encounters / simulated_encounters(run, month)
    rows: list[dict[str, float | str]] = []
    for target in targets:
        simulated = compare(target, view).simulated
        assert simulated is not None
        mean = simulated.mean * (to_fitted_demand if target.metric == "gotaways" else 1.0)
        error = relative_error(target, mean)
        rows.append(
            {
                "target": f"{target.metric} {target.start} {target.scope}",
                "figure": target.describe_value(),
                "simulated": mean,
                "error": error,
                "loss": float(np.log1p(error) ** 2),
            }
        )
    return rows


def grid(repo: Path, replications: int, seed: int) -> pd.DataFrame:
    """One row per detection ceiling and fitted target."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a demand fit of another scenario version
        model = compile_scenario(load_scenario(repo / "scenarios" / f"{SCENARIO}.toml"))
    targets = [
        t
        for t in load_targets()
        if is_fit_target(t) and t.metric in ("gotaways", "gotaway_ratio_estimate")
    ]
    model = through(model, max(t.end for t in targets))
    official = (APRIL, official_encounters(model, APRIL))
    rows = []
    for ceiling in CEILINGS:
        point = model.replace(detection_p_max=np.full_like(model.detection_p_max, ceiling))
        for row in score(point, targets, official, replications, seed):
            rows.append({"p_max_fraction": ceiling, **row})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    table = grid(args.repo, args.replications, args.seed)
    pd.set_option("display.width", 200)
    print(table.round(4).to_string(index=False))
    loss = table.groupby("p_max_fraction")["loss"].mean()
    print(loss.round(4).to_string())
    print(f"least loss: p_max_fraction = {loss.idxmin()}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
