"""The fit of the children HHS placed a day in 2021 (`bordersim.fitting.placements`): its named
targets, its scoring on the real engine, and the shipped scenario's value."""

from __future__ import annotations

import datetime as dt
import tomllib

import numpy as np
import pytest

from bordersim.fitting.placements import METRIC, grid
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.targets import load_targets
from repo_paths import REPO, SCENARIOS


def test_the_drawdown_of_april_2021_is_the_named_target() -> None:
    named = [
        t
        for t in load_targets()
        if is_fit_target(t) and t.metric == METRIC and t.start.year == 2021
    ]
    assert {(t.metric, t.start, t.value) for t in named} == {
        (METRIC, dt.date(2021, 4, 13), 2853.0),
        (METRIC, dt.date(2021, 4, 28), 954.0),
    }


def test_faster_placement_leaves_fewer_children_in_custody() -> None:
    table = grid(REPO, replications=2, seed=5, placements=(400.0, 1200.0))
    held = table.pivot(index="target", columns="hhs_placement_per_day", values="simulated")
    assert (held[1200.0] < 0.5 * held[400.0]).all()
    assert np.allclose(table["loss"], np.log1p(table["error"]) ** 2)


@pytest.mark.slow
def test_the_shipped_rate_is_the_least_loss_point_of_the_grid() -> None:
    table = grid(REPO, replications=4, seed=1)
    least = table.groupby("hhs_placement_per_day")["loss"].mean().idxmin()
    with (SCENARIOS / "2021-uac-surge.toml").open("rb") as handle:
        shipped = tomllib.load(handle)["departures"]["hhs_placement_per_day"]
    assert shipped == least
