"""The fit of the wait before release in spring 2019 (`bordersim.fitting.release_wait`): its named
targets, its scoring on the real engine, and the shipped scenario's value."""

from __future__ import annotations

import datetime as dt
import tomllib

import numpy as np
import pytest

from bordersim.fitting.release_wait import fitted_targets, grid
from repo_paths import REPO, SCENARIOS


def test_the_two_southwest_custody_figures_of_2019_are_the_named_targets() -> None:
    named = {(t.metric, t.start, t.scope, t.value, t.bound) for t in fitted_targets()}
    assert {(start, value, bound) for _, start, _, value, bound in named} == {
        (dt.date(2019, 3, 27), 13400.0, "lower"),
        (dt.date(2019, 5, 17), 16000.0, "lower"),
    }
    assert {scope for _, _, scope, _, _ in named} == {"SWB"}


def test_a_longer_wait_before_release_holds_more_people_at_every_fitted_date() -> None:
    table = grid(REPO, replications=2, seed=5, waits=(30.0, 144.0))
    held = table.pivot(index="target", columns="release_wait_hours", values="simulated")
    # Little's law: about 2,000-3,000 releases a day held five more days each
    assert (held[144.0] > held[30.0] + 5000.0).all()
    assert np.allclose(table["loss"], np.log1p(table["error"]) ** 2)


@pytest.mark.slow
def test_the_shipped_wait_is_the_least_loss_point_of_the_grid() -> None:
    table = grid(REPO, replications=4, seed=1)
    least = table.groupby("release_wait_hours")["loss"].mean().idxmin()
    with (SCENARIOS / "2019-family-surge.toml").open("rb") as handle:
        shipped = tomllib.load(handle)["processing"]["min_custody_hours"]["release"]
    assert shipped == least
