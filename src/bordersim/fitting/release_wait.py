"""Fit the wait before release (`processing.min_custody_hours.release`) of a historical case on
the people in Border Patrol custody along the southwest border, by simulation with common random
numbers (docs/validation.md, "Fitting the wait before release in 2019" and "... in 2022").

The default's 30 hours are the 2014-2015 average for Title 8 stays. Two cases hold people far
longer, at every load, in a way that a processing bottleneck cannot give without custody running
away; a wait that does not grow with the load can:

- `2019-family-surge`: until 19 March 2019 Border Patrol did not release families itself (50
  people on the first day in the Rio Grande Valley): it handed them to ICE, which released them
  (about 200,000 family members in FY2019, against more than 145,000 released directly from
  Border Patrol stations from March to September 2019; validation/record.csv). More than 13,400
  people were held on 27 March at about 3,000 apprehensions a day (4.5 days by Little's law), more
  than 16,000 on 17 May at about 4,300 (3.7 days). The stations grid keeps custody in March near
  3,600 at every density while May runs away.
- `2022-title42-record-year`: more than 15,000 held on 8 December 2021 and about 9,000 in March
  2023 (validation/record.csv), where the scenario at the default wait holds 3,800 and 2,800; the
  OIG found 42 %, 48 % and 73 % of the people held over 72 hours at the facilities it inspected in
  March 2022, November 2022 and March 2023, the model none. At a notice to appear's paperwork
  custody runs away from May 2022 instead (docs/validation.md, "The release paperwork").

The targets (`validation.fit_targets`) are the case's southwest custody figures; every other
figure of the case stays out of sample (custody by sector, occupancy over capacity, the share held
over 72 hours, agents off the field, children's custody and time in custody, releases per day).
The least-loss point; points of equal loss (in 2019 both figures are lower bounds, met by every
wait long enough) go to the shortest wait, the least departure from the default. The grid runs on
the shipped demand fit; the fit is made again at the chosen wait (`bordersim fit`). One parameter:
a grid, which is also the sensitivity table.

    python -m bordersim.fitting.release_wait --replications 4
    python -m bordersim.fitting.release_wait --scenario 2022-title42-record-year --replications 4
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from bordersim.fitting.detection import scenario_grid
from bordersim.fitting.operations import grid_arguments, print_least_loss
from bordersim.scenario import load_scenario
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.targets import Target, load_targets

PARAMETER = "processing.min_custody_hours.release"
METRIC = "custody_population"


#: Each historical case whose wait is fitted, and its grid of waits (hours from apprehension).
CASES: dict[str, tuple[float, ...]] = {
    "2019-family-surge": (72.0, 96.0, 108.0, 120.0, 132.0, 144.0, 168.0),
    "2022-title42-record-year": (96.0, 108.0, 120.0, 126.0, 132.0, 138.0, 144.0, 156.0),
}
SCENARIO = "2019-family-surge"  # the first case, and the command's default


def fitted_targets(repo: Path, scenario: str = SCENARIO) -> list[Target]:
    """The case's named southwest custody figures: those inside its scenario's period."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a demand fit made at another wait
        period = load_scenario(repo / "scenarios" / f"{scenario}.toml").period
    return [
        t
        for t in load_targets()
        if is_fit_target(t)
        and t.metric == METRIC
        and period.start_date <= t.start <= period.end_date
    ]


def grid(
    repo: Path,
    replications: int,
    seed: int,
    waits: tuple[float, ...] | None = None,
    scenario: str = SCENARIO,
) -> pd.DataFrame:
    """One row per wait and fitted target: simulated mean, error, squared log error."""
    return scenario_grid(
        repo,
        scenario,
        PARAMETER,
        "release_wait_hours",
        CASES[scenario] if waits is None else waits,
        fitted_targets(repo, scenario),
        replications,
        seed,
    )


def main(argv: list[str] | None = None) -> None:
    args = grid_arguments(__doc__.splitlines()[0], argv, scenarios=tuple(CASES))
    table = grid(args.repo, args.replications, args.seed, scenario=args.scenario)
    print_least_loss(table, "release_wait_hours", args.out)


if __name__ == "__main__":
    main()
