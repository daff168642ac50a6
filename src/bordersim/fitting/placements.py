"""Fit the children HHS can place a day in spring 2021 (`departures.hhs_placement_per_day` of
`2021-uac-surge`, an assumption) on the drawdown of children in Border Patrol custody in April
2021, by simulation with common random numbers (docs/validation.md, "Fitting the placements of
children in 2021").

The targets (`validation.fit_targets`): children in Border Patrol custody on 13 April 2021 (2,853,
high confidence) and 28 April 2021 (954, medium). HHS opened emergency intake sites from March
2021; the scenario's dated beds say where the children could go, this rate how fast HHS took them
in. Every other figure of the case stays out of sample: children in custody before and after the
two dates, their time in custody and time over 72 hours, the transfers per day and the net flows.
The placements do not move encounters (children wait in custody either way), so the grid runs on
the shipped demand fit; the fit is made again at the chosen value (`bordersim fit`). One
parameter: a grid, which is also the sensitivity table. Seconds a point.

    python -m bordersim.fitting.placements --replications 4
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bordersim.fitting.detection import scenario_grid
from bordersim.fitting.operations import grid_arguments, print_least_loss
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.targets import load_targets

SCENARIO = "2021-uac-surge"
PLACEMENTS = (500.0, 600.0, 650.0, 700.0, 750.0, 800.0, 900.0)  # children a day, nationally
METRIC = "custody_population_uac"


def grid(
    repo: Path, replications: int, seed: int, placements: tuple[float, ...] = PLACEMENTS
) -> pd.DataFrame:
    """One row per placement rate and fitted target: simulated mean, error, squared log error."""
    targets = [
        t
        for t in load_targets()
        if is_fit_target(t) and t.metric == METRIC and t.start.year == 2021
    ]
    return scenario_grid(
        repo,
        SCENARIO,
        "departures.hhs_placement_per_day",
        "hhs_placement_per_day",
        placements,
        targets,
        replications,
        seed,
        records=True,
    )


def main(argv: list[str] | None = None) -> None:
    args = grid_arguments(__doc__.splitlines()[0], argv)
    table = grid(args.repo, args.replications, args.seed)
    print_least_loss(table, "hhs_placement_per_day", args.out)


if __name__ == "__main__":
    main()
