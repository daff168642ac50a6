"""The sensitivity of May 2023's custody by sector to lateral decompression's seats and
thresholds (`custody.decompression` in `2023-title42-end`), by simulation with common random
numbers (docs/validation.md, "Lateral decompression in May 2023: seats and thresholds").

A grid over the seats a day and the occupancy that sends and receives, every point from the same
seed and the shipped stations and demand fit, scored on the two sector figures of May 2023 that
the operational fit uses for the thresholds: people in custody in the Rio Grande Valley on 13 May
(about 5,000, high confidence) and El Paso's weekly average of 8-14 May (5,554, high). Beside them
it prints the other sector and southwest custody figures of 28 April to 14 May 2023. The
thresholds themselves are fitted together with the stations (`bordersim.fitting.operations`); the
seats a day are sourced, and this grid shows how little they matter.

    python -m bordersim.fitting.decompression --replications 3
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from pathlib import Path

import pandas as pd

from bordersim.compiler import compile_scenario
from bordersim.fitting.detection import score
from bordersim.fitting.operations import grid_arguments, through, write_table
from bordersim.scenario import load_scenario
from bordersim.validation.targets import Target, load_targets

SCENARIO = "2023-title42-end"
SEATS = (0.0, 500.0, 1000.0, 1500.0, 2000.0, 3000.0)  # people moved a day along the border
#: (send above, receive below): occupancy over capacity.
THRESHOLDS = ((1.25, 0.8), (1.5, 1.0), (2.5, 1.5))
KEYS = ["seats_per_day", "send_above_fraction", "receive_below_fraction"]
#: The sector figures a fit of the mechanism would be scored on.
SCORED = frozenset(
    {
        ("custody_population", dt.date(2023, 5, 13), "Rio Grande Valley"),
        ("custody_population_weekly_avg", dt.date(2023, 5, 8), "El Paso"),
    }
)
SHOWN_METRICS = frozenset(
    {"custody_population", "custody_population_weekly_avg", "sectors_over_125pct_capacity"}
)
FIRST, LAST = dt.date(2023, 4, 28), dt.date(2023, 5, 14)


def split_targets() -> tuple[list[Target], list[Target]]:
    """The scored sector figures, and the other custody figures of 28 April-14 May 2023 (one
    facility's counts are not compared)."""
    scored: list[Target] = []
    shown: list[Target] = []
    for target in load_targets():
        if target.metric not in SHOWN_METRICS or not FIRST <= target.start <= LAST:
            continue
        if "(" in target.scope:
            continue
        key = (target.metric, target.start, target.scope)
        (scored if key in SCORED else shown).append(target)
    return scored, shown


def grid(
    repo: Path,
    replications: int,
    seed: int,
    seats: tuple[float, ...] = SEATS,
    thresholds: tuple[tuple[float, float], ...] = THRESHOLDS,
) -> pd.DataFrame:
    """One row per point and target: simulated mean, error, squared log error, and whether the
    target is scored. Zero seats is the mechanism off."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a demand fit of another scenario version
        scenario = load_scenario(repo / "scenarios" / f"{SCENARIO}.toml")
    scored, shown = split_targets()
    rows = []
    for per_day, (send, receive) in itertools.product(seats, thresholds):
        changed = scenario.with_changes(
            {
                "custody.decompression.enabled": per_day > 0,
                "custody.decompression.seats_per_day": per_day,
                "custody.decompression.send_above_fraction": send,
                "custody.decompression.receive_below_fraction": receive,
            }
        )
        model = through(compile_scenario(changed), LAST)
        for targets, is_scored in ((scored, True), (shown, False)):
            for row in score(model, targets, replications, seed):
                point = dict(zip(KEYS, (per_day, send, receive), strict=True))
                rows.append({**point, "scored": is_scored, **row})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    args = grid_arguments(__doc__.splitlines()[0], argv)
    table = grid(args.repo, args.replications, args.seed)
    pd.set_option("display.width", 220)
    print(table.round(3).to_string(index=False))
    loss = table[table["scored"]].groupby(KEYS)["loss"].mean()
    print(loss.round(4).to_string())
    best: tuple[float, ...] = tuple(loss.idxmin())  # type: ignore[arg-type]  # a MultiIndex label
    print("least loss: " + ", ".join(f"{k} {v:g}" for k, v in zip(KEYS, best, strict=True)))
    write_table(table, args.out)


if __name__ == "__main__":
    main()
