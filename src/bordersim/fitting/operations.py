"""Fit the operational parameters that are assumptions, by simulation with common random
numbers, on a named subset of the operational targets (docs/validation.md, "Fitting the
operational parameters").

The parameters: processing stations per place of holding capacity and the crowding slowdown
(docs/model.md, "Processing stations"). The targets: `validation.fit_targets` (southwest custody
on three dates of 2023 and two of 2019). The method: a grid over the parameters' plausible ranges,
every point simulated from the same seed (common random numbers, so that points differ by their
parameters, not their noise), scored by the mean squared log error over the fitted targets
(zero inside a bound or range). A grid, not Bayesian optimisation or ABC: two parameters, a
simulation of a few seconds, and the whole loss surface is the sensitivity table the user needs.
Leave one scenario out: the point fitted on one case alone is scored on the other's targets.

    python -m bordersim.fitting.operations --replications 4 --out out/operations-fit.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.model.compiled import CompiledModel
from bordersim.model.fields import day_axis_fields
from bordersim.scenario import load_scenario
from bordersim.validation.compare import Comparison, compare
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.measures import RunView
from bordersim.validation.targets import Target, load_targets

SCENARIOS = ("2023-title42-end", "2019-family-surge")
STATIONS = (0.03, 0.04, 0.045, 0.05, 0.055, 0.06, 0.07, 0.08)  # plausible range (defaults file)
SLOWDOWNS = (0.0, 0.05, 0.1, 0.25, 0.5)


@dataclass(frozen=True)
class Point:
    stations_per_holding_place: float
    crowding_slowdown: float


def with_point(model: CompiledModel, per_place_now: float, point: Point) -> CompiledModel:
    """The model with the point's parameters (stations scale linearly with the per-place rate)."""
    return model.replace(
        processing_stations=model.processing_stations
        * (point.stations_per_holding_place / per_place_now),
        crowding_slowdown=point.crowding_slowdown,
    )


def through(model: CompiledModel, last: dt.date) -> CompiledModel:
    """The model simulated only up to `last` (the fitted targets' last day): the rest of the
    period cannot change them, and a point whose custody runs away costs minutes, not hours."""
    n_days = (last - model.start_date).days + 2
    if n_days >= model.n_days:
        return model
    cut = {name: getattr(model, name)[:n_days] for name in day_axis_fields(CompiledModel)}
    return model.replace(n_days=n_days, **cut)


def squared_log_error(comparison: Comparison) -> float:
    """(log(1 + error))^2 of one target: zero inside its bound or range; an error of -75 % costs
    as much as one of +300 %."""
    return math.log1p(comparison.error) ** 2


def score_point(
    model: CompiledModel, targets: list[Target], replications: int, seed: int
) -> list[Comparison]:
    result = simulate(model, replications=replications, seed=seed)
    view = RunView(result, None, model.dates[0])
    return [compare(t, view) for t in targets]


def grid(repo: Path, replications: int, seed: int) -> pd.DataFrame:
    """One row per scenario, point and fitted target: simulated mean, error, squared log error."""
    fitted = [t for t in load_targets() if is_fit_target(t) and t.metric == "custody_population"]
    rows = []
    for name in SCENARIOS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a demand fit of another scenario version
            scenario = load_scenario(repo / "scenarios" / f"{name}.toml")
            model = compile_scenario(scenario)
        per_place = float(scenario.processing.stations_per_holding_place)
        targets = [t for t in fitted if model.dates[0] <= t.start <= model.dates[-1]]
        model = through(model, max(t.end for t in targets))
        for stations, slowdown in itertools.product(STATIONS, SLOWDOWNS):
            point = Point(stations, slowdown)
            for c in score_point(with_point(model, per_place, point), targets, replications, seed):
                assert c.simulated is not None
                rows.append(
                    {
                        "scenario": name,
                        "stations_per_holding_place": stations,
                        "crowding_slowdown": slowdown,
                        "target": f"{c.target.metric} {c.target.start} {c.target.scope}",
                        "figure": c.target.describe_value(),
                        "simulated": c.simulated.mean,
                        "error": c.error,
                        "loss": squared_log_error(c),
                    }
                )
    return pd.DataFrame(rows)


def losses(table: pd.DataFrame) -> pd.DataFrame:
    """Mean loss per point: each scenario alone and both together."""
    keys = ["stations_per_holding_place", "crowding_slowdown"]
    per = table.groupby(["scenario", *keys])["loss"].mean().unstack("scenario")
    per["both"] = table.groupby(keys)["loss"].mean()
    return per


def leave_one_out(per: pd.DataFrame) -> pd.DataFrame:
    """Fitted on one scenario, scored on the other: in-sample and out-of-sample losses."""
    rows = []
    for fitted_on in SCENARIOS:
        best = _best(per, fitted_on)
        for scored_on in SCENARIOS:
            rows.append(
                {
                    "fitted on": fitted_on,
                    "point": best,
                    "scored on": scored_on,
                    "sample": "in" if scored_on == fitted_on else "out",
                    "loss": float(per[scored_on][best]),
                    "rms log error": float(np.sqrt(per[scored_on][best])),
                }
            )
    return pd.DataFrame(rows)


def _best(per: pd.DataFrame, column: str) -> tuple[float, float]:
    """The (stations per place, slowdown) point of least loss in `column`."""
    point: tuple[float, float] = tuple(per[column].idxmin())  # type: ignore[arg-type, assignment]
    return float(point[0]), float(point[1])


def grid_arguments(description: str, argv: list[str] | None) -> argparse.Namespace:
    """The command line of a grid fit: replications, seed, `--out` CSV and the checkout."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    return parser.parse_args(argv)


def write_table(table: pd.DataFrame, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)


def main(argv: list[str] | None = None) -> None:
    args = grid_arguments(__doc__.splitlines()[0], argv)
    table = grid(args.repo, args.replications, args.seed)
    per = losses(table)
    pd.set_option("display.width", 200)
    print(per.round(4).to_string())
    print(leave_one_out(per).to_string(index=False))
    best = _best(per, "both")
    print(f"best on both: stations per place {best[0]}, crowding slowdown {best[1]}")
    print(
        table[
            (table.stations_per_holding_place == best[0]) & (table.crowding_slowdown == best[1])
        ].to_string(index=False)
    )
    write_table(table, args.out)


if __name__ == "__main__":
    main()
