"""A trial, not a benchmark: the southwest custody of a scenario on named dates, the average time
in custody of one day's exits and each month's mean custody, at points of a grid of scenario
settings, every point from the same seed (common random numbers), on the shipped demand fit.

    python -m bench.custody_grid [--scenario scenarios/2023-title42-end.toml]
        [--point "processing.min_custody_hours.release=150 ..."]
        [--dates 2023-04-01,2023-04-29,2023-05-10,2023-05-14] [--stay-day 2023-05-12]
        [--replications 2] [--seed 1]

Each `--point` (repeat) is a space-separated list of KEY=VALUE settings, as `--set` takes them;
with none, the trial runs the points of docs/validation.md ("The wait of 2022 carried into
2023"), the shipped scenario first. Event engine. The custody on a date is the day's mean
occupancy over the simulated sectors, summed; the average stay is the hours in custody of the
day's exits over those exits, in days.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bench import bench_arguments, count, existing_file
from bordersim.engines import simulate
from bordersim.services.loading import load_and_compile, parse_setting

DEFAULT_SCENARIO = Path("scenarios/2023-title42-end.toml")
RELEASE = "processing.min_custody_hours.release"
STATIONS = "processing.stations_per_holding_place"
#: The points of docs/validation.md: (wait before release in hours, stations per place).
DOC_POINTS = (
    (72, 0.06),
    (96, 0.06),
    (126, 0.05),
    (126, 0.06),
    (126, 0.07),
    (150, 0.065),
    (150, 0.07),
    (150, 0.08),
)
DEFAULT_DATES = "2023-04-01,2023-04-29,2023-05-10,2023-05-14"


def custody_at_point(
    scenario: Path,
    settings: Mapping[str, Any],
    dates: list[dt.date],
    stay_day: dt.date,
    replications: int,
    seed: int,
) -> dict[str, float]:
    """Custody on each date, the average stay of `stay_day`'s exits and each month's mean."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the shipped demand fit was made at other settings
        model = load_and_compile(scenario, dict(settings) or None).model
    run = simulate(model, engine="event", replications=replications, seed=seed)
    custody = run.metric("occupancy_mean").mean(axis=0).sum(axis=1)
    hours = run.metric("custody_hours_total").mean(axis=0).sum(axis=1)
    exits = run.metric("custody_exits").mean(axis=0).sum(axis=1)
    day_index = {day: i for i, day in enumerate(run.dates)}
    row = {str(day): float(custody[day_index[day]]) for day in dates}
    stay = day_index[stay_day]
    row[f"stay {stay_day} (days)"] = float(hours[stay] / exits[stay] / 24.0)
    months = np.array([f"{day:%Y-%m}" for day in run.dates])
    for month in dict.fromkeys(months):
        row[f"mean {month}"] = float(custody[months == month].mean())
    return row


def doc_points() -> list[dict[str, Any]]:
    """The shipped scenario, then each of `DOC_POINTS` as settings."""
    return [{}] + [{RELEASE: float(w), STATIONS: s} for w, s in DOC_POINTS]


def main(argv: list[str] | None = None) -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--scenario", type=existing_file, default=DEFAULT_SCENARIO)
    parser.add_argument("--point", action="append", default=[], help="KEY=VALUE ... (repeat)")
    parser.add_argument("--dates", default=DEFAULT_DATES, help="comma-separated dates")
    parser.add_argument("--stay-day", type=dt.date.fromisoformat, default=dt.date(2023, 5, 12))
    parser.add_argument("--replications", type=count, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    points = [
        dict(parse_setting(option, "--point") for option in text.split()) for text in args.point
    ] or doc_points()
    dates = [dt.date.fromisoformat(text) for text in args.dates.split(",")]
    for settings in points:
        row = custody_at_point(
            args.scenario, settings, dates, args.stay_day, args.replications, args.seed
        )
        shown = " ".join(f"{key}={value}" for key, value in settings.items()) or "as shipped"
        figures = "  ".join(
            f"{name}: {value:.2f}" if "stay" in name else f"{name}: {value:,.0f}"
            for name, value in row.items()
        )
        print(f"{shown}\n  {figures}", flush=True)


if __name__ == "__main__":
    main()
