"""Fit the operational parameters that are assumptions, by simulation with common random
numbers, on a named subset of the operational targets (docs/validation.md, "Fitting the
operational parameters").

The parameters: processing stations per place of holding capacity, the days of past load that
split them over sectors, the crowding slowdown (docs/model.md, "Processing stations") and the
occupancy thresholds of lateral decompression (docs/model.md step 6: a sector sends above one and
receives below the other; the seats a day stay at their sourced value). The targets:
`validation.fit_targets` (southwest custody on three dates of 2023 and two of 2019, and two sector
figures of May 2023 that the moves between sectors decide). The method: a grid over the
parameters' plausible ranges, every point simulated from the same seed (common random numbers, so
that points differ by their parameters, not their noise), scored by the mean squared log error
over the fitted targets (zero inside a bound or range; the several figures of one measure, day
and place count once, by the nearest). A point is admissible only if custody does not run away
over the whole 2023 scenario (the upper end of its peak's 95 % interval at most twice the highest
custody figure of the record); the fit is the admissible point of least loss. A grid, not
Bayesian optimisation or ABC: a few parameters, a simulation of a few seconds, and the whole loss
surface is the sensitivity table the user needs. Leave one scenario out: the point fitted on one
case alone is scored on the other's targets.

    python -m bordersim.fitting.operations --replications 4 --out out/operations-fit.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.model.compiled import CompiledModel
from bordersim.model.fields import day_axis_fields
from bordersim.results.kpis import mean_interval
from bordersim.scenario import load_scenario
from bordersim.validation.compare import Comparison, compare
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.measures import RunView
from bordersim.validation.targets import Target, load_targets

SCENARIOS = ("2023-title42-end", "2019-family-surge")
# The plausible range (defaults file); 0.035 and 0.04 ran away at every length on earlier grids.
STATIONS = (0.045, 0.0475, 0.05, 0.0525, 0.055, 0.06)
# A month to half a year of past load (a year ran away in the summer of 2023 on earlier grids).
LOAD_DAYS = (30, 45, 60, 90, 120, 180)
# Every slowdown above 0 that came near the 2023 figures ran away in the summer on the earlier
# grid (0.05-0.5; docs/validation.md), so the slowdown is held at its fitted 0.
SLOWDOWNS = (0.0,)
#: Lateral decompression's thresholds, (send above, receive below) occupancy over capacity; (0, 0)
#: is the mechanism off. Where a scenario switches it on from a date, the grid keeps the date.
DECOMPRESSION = ((0.0, 0.0), (1.25, 0.8), (1.5, 1.0), (2.0, 1.25), (2.5, 1.5), (3.0, 1.5))
KEYS = [
    "stations_per_holding_place",
    "crowding_slowdown",
    "station_load_days",
    "send_above_fraction",
    "receive_below_fraction",
]
#: The custody measures of the fitted targets.
CUSTODY_METRICS = frozenset({"custody_population", "custody_population_weekly_avg"})
#: Custody runs away when its peak over the full 2023 scenario exceeds this many times the
#: record's highest southwest custody figure (28,717 on 10 May 2023).
RUNAWAY_RATIO = 2.0
ADMISSIBILITY_SCENARIO = "2023-title42-end"


@dataclass(frozen=True)
class Point:
    stations_per_holding_place: float
    crowding_slowdown: float
    station_load_days: int = 120  # the shipped value (defaults file)


def with_point(model: CompiledModel, per_place_now: float, point: Point) -> CompiledModel:
    """The model with the point's stations per place and slowdown (stations scale linearly with
    the per-place rate; the days of load are compiled in, `grid`)."""
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
    """One row per scenario, point and fitted target: simulated mean, error, squared log error;
    and per point the peak custody of the full 2023 scenario (`peak`, the upper end of its 95 %
    interval, on the admissibility scenario's rows)."""
    fitted = [t for t in load_targets() if is_fit_target(t) and t.metric in CUSTODY_METRICS]
    rows = []
    blocks = list(itertools.product(SCENARIOS, LOAD_DAYS, DECOMPRESSION))
    for block, (name, load_days, (send, receive)) in enumerate(blocks, start=1):
        moves = f"{send:g} / {receive:g}" if send else "off"
        print(
            f"[{block}/{len(blocks)}] {name}: {load_days} days of load, decompression {moves}",
            file=sys.stderr,
            flush=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a demand fit of another scenario version
            scenario = load_scenario(repo / "scenarios" / f"{name}.toml")
            scenario = scenario.with_changes(
                {"processing.station_load_days": load_days, **decompression(send, receive)}
            )
            full = compile_scenario(scenario)
        per_place = float(scenario.processing.stations_per_holding_place)
        targets = [t for t in fitted if full.dates[0] <= t.start <= full.dates[-1]]
        model = through(full, max(t.end for t in targets))
        for stations, slowdown in itertools.product(STATIONS, SLOWDOWNS):
            point = Point(stations, slowdown, load_days)
            peak = (
                peak_custody(with_point(full, per_place, point), replications, seed)
                if name == ADMISSIBILITY_SCENARIO
                else math.nan
            )
            for c in score_point(with_point(model, per_place, point), targets, replications, seed):
                assert c.simulated is not None
                rows.append(
                    {
                        "scenario": name,
                        **dict(
                            zip(KEYS, (stations, slowdown, load_days, send, receive), strict=True)
                        ),
                        "target": f"{c.target.metric} {c.target.start} {c.target.scope}",
                        "figure": c.target.describe_value(),
                        "simulated": c.simulated.mean,
                        "error": c.error,
                        "loss": squared_log_error(c),
                        "peak": peak,
                    }
                )
    return pd.DataFrame(rows)


def decompression(send: float, receive: float) -> dict[str, object]:
    """The scenario changes of a grid point's decompression: off at (0, 0), else on with the
    thresholds (and the scenario's own dates and seats)."""
    if send == 0.0:
        return {"custody.decompression.enabled": False}
    return {
        "custody.decompression.enabled": True,
        "custody.decompression.send_above_fraction": send,
        "custody.decompression.receive_below_fraction": receive,
    }


def peak_custody(model: CompiledModel, replications: int, seed: int) -> float:
    """The upper end of the 95 % t interval of the mean southwest custody on the run's busiest
    day (warm-up excluded): a point is admitted only if it does not run away with confidence,
    not merely on average over a few replications."""
    result = simulate(model, replications=replications, seed=seed)
    per_replication = result.metric("occupancy_mean").sum(axis=2)[:, model.warmup_days :]
    busiest = per_replication[:, int(per_replication.mean(axis=0).argmax())]
    return upper_end(busiest)


def upper_end(values: np.ndarray) -> float:
    """Upper end of the 95 % t interval of the mean of `values` (the mean alone for one value)."""
    interval = mean_interval(values)
    return interval.high if np.isfinite(interval.high) else interval.mean


def runaway_limit() -> float:
    """Twice the record's highest southwest custody figure in the shipped targets."""
    highest = max(
        t.value
        for t in load_targets()
        if t.metric == "custody_population" and t.scope == "SWB" and t.value is not None
    )
    return RUNAWAY_RATIO * float(highest)


def losses(table: pd.DataFrame) -> pd.DataFrame:
    """Mean loss per point: each scenario alone and both together; the 2023 peak and whether
    the point is admissible (custody does not run away)."""
    keys = [k for k in KEYS if k in table.columns]
    table = nearest_figure(table, keys)
    per = table.groupby(["scenario", *keys])["loss"].mean().unstack("scenario")
    per["both"] = table.groupby(keys)["loss"].mean()
    if "peak" in table.columns:
        per["peak"] = table.groupby(keys)["peak"].max()
        per["admissible"] = per["peak"].isna() | (per["peak"] <= runaway_limit())
    return per


def nearest_figure(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per scenario, point and measured thing: the several sources' figures of one
    measure, day and place (10 May 2023 has three) count once, by the one nearest the simulation,
    as a range would; a table without a `target` column is returned as it is."""
    if "target" not in table.columns:
        return table
    by = ["scenario", *keys, "target"]
    nearest = table.loc[table.groupby(by, sort=False)["loss"].idxmin()]
    return nearest.reset_index(drop=True)


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


def _best(per: pd.DataFrame, column: str) -> tuple[float, ...]:
    """The admissible point of least loss in `column`."""
    admissible = per[per["admissible"]] if "admissible" in per.columns else per
    if admissible.empty:
        raise ValueError("no admissible point: custody runs away at every point of the grid")
    point = admissible[column].idxmin()
    return tuple(float(v) for v in (point if isinstance(point, tuple) else (point,)))


def grid_arguments(
    description: str, argv: list[str] | None, *, scenarios: tuple[str, ...] = ()
) -> argparse.Namespace:
    """The command line of a grid fit: replications, seed, `--out` CSV and the checkout; with
    `scenarios`, which of them to fit (`--scenario`, the first by default)."""
    parser = argparse.ArgumentParser(description=description)
    if scenarios:
        parser.add_argument("--scenario", choices=scenarios, default=scenarios[0])
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    return parser.parse_args(argv)


def write_table(table: pd.DataFrame, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)


def print_least_loss(table: pd.DataFrame, parameter: str, out: Path | None) -> None:
    """Print a one-parameter grid (one row per point and target), its mean loss per point and
    the least-loss point; write the table to `out` when given."""
    pd.set_option("display.width", 200)
    print(table.round(4).to_string(index=False))
    loss = table.groupby(parameter)["loss"].mean()
    print(loss.round(4).to_string())
    print(f"least loss: {parameter} = {loss.idxmin():g}")
    write_table(table, out)


def main(argv: list[str] | None = None) -> None:
    args = grid_arguments(__doc__.splitlines()[0], argv)
    table = grid(args.repo, args.replications, args.seed)
    per = losses(table)
    pd.set_option("display.width", 200)
    print(per.round(4).to_string())
    print(leave_one_out(per).to_string(index=False))
    best = _best(per, "both")
    keys = [k for k in KEYS if k in table.columns]
    named = ", ".join(f"{k} {v:g}" for k, v in zip(keys, best, strict=True))
    print(f"best admissible on both: {named}")
    chosen = np.logical_and.reduce([table[k] == v for k, v in zip(keys, best, strict=True)])
    print(table[chosen].to_string(index=False))
    write_table(table, args.out)


if __name__ == "__main__":
    main()
