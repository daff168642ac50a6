"""A trial, not a benchmark: move a share of single adults' Title 8 releases to expedited
removal (a transfer to ICE) and score the scenario against the targets it moves.

    python -m bench.ice_share_trial [--scenario scenarios/2022-title42-record-year.toml]
        [--shift 0,0.3,0.6] [--replications 2] [--seed 1]

The share is moved on every day of the compiled model's pathway shares (no scenario option does
this), on the shipped demand fit, event engine. Each arm prints the compared targets on custody,
occupancy, the share held over 72 hours and transfers to ICE. docs/validation.md ("More single
adults to ICE") holds its figures for the 2022 case and why the change was not adopted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench import bench_arguments, count, existing_file
from bordersim.engines import simulate
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import GROUP_DEMOGRAPHIC, Demographic, Pathway
from bordersim.services.loading import load_and_compile
from bordersim.validation.compare import (
    NOT_COMPARED,
    format_error,
    format_interval,
    format_target,
    validate,
)
from bordersim.validation.measures import RunView
from bordersim.validation.targets import load_targets

WORDS = ("custody", "ICE", "72", "occupancy")


def with_adults_to_ice(model: CompiledModel, shift: float) -> CompiledModel:
    """The model with `shift` of single adults' release share moved to expedited removal."""
    shares = np.array(model.pathway_share, dtype=float)
    for group in np.flatnonzero(np.equal(GROUP_DEMOGRAPHIC, int(Demographic.SINGLE_ADULT))):
        moved = shares[:, group, Pathway.RELEASE] * shift
        shares[:, group, Pathway.RELEASE] -= moved
        shares[:, group, Pathway.EXPEDITED_REMOVAL] += moved
    return model.replace(pathway_share=shares)


def main() -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument(
        "--scenario", type=existing_file, default=Path("scenarios/2022-title42-record-year.toml")
    )
    parser.add_argument("--shift", default="0,0.3,0.6", help="shares moved, comma-separated")
    parser.add_argument("--replications", type=count, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = load_and_compile(args.scenario).model
    targets = load_targets(None)
    for shift in (float(text) for text in args.shift.split(",")):
        model = with_adults_to_ice(base, shift)
        result = simulate(
            model, engine="event", replications=args.replications, seed=args.seed, records=True
        )
        print(f"\n== {shift:.0%} of single adults' releases moved to ICE")
        for c in validate(targets, RunView(result, result.people, model.dates[0])):
            if c.score == NOT_COMPARED or not any(word in c.label for word in WORDS):
                continue
            print(
                f"{c.label[:36]:36} {c.target.period_text():24} {c.target.scope[:14]:14} "
                f"{format_target(c):>16} {format_interval(c):>26} {format_error(c.error):>6} "
                f"{c.score}"
            )


if __name__ == "__main__":
    main()
