"""The grid of lateral decompression in May 2023 (`bordersim.fitting.decompression`): its
scored figures, and on the real engine that moving people out of crowded sectors raises El Paso's
custody and lowers the southwest total."""

from __future__ import annotations

import datetime as dt

import numpy as np

from bordersim.fitting.decompression import grid, split_targets
from repo_paths import REPO


def test_the_scored_figures_are_the_two_sector_counts_of_may_2023() -> None:
    scored, shown = split_targets()
    assert {(t.metric, t.start, t.scope, t.value) for t in scored} == {
        ("custody_population", dt.date(2023, 5, 13), "Rio Grande Valley", 5000.0),
        ("custody_population_weekly_avg", dt.date(2023, 5, 8), "El Paso", 5554.0),
    }
    assert any(t.scope == "SWB" for t in shown)


def test_moving_people_out_of_crowded_sectors_fills_el_paso() -> None:
    # At the fitted stations the valley is near the sending threshold and sends little; the
    # moves come from Del Rio, San Diego and Yuma and fill El Paso (docs/validation.md).
    table = grid(REPO, replications=1, seed=3, seats=(0.0, 1000.0), thresholds=((2.5, 1.5),))
    held = table.groupby(["target", "seats_per_day"])["simulated"].first().unstack()
    el_paso = held.loc["custody_population_weekly_avg 2023-05-08 El Paso"]
    valley = held.loc["custody_population 2023-05-13 Rio Grande Valley"]
    border = held.loc["custody_population 2023-05-10 SWB"]
    assert el_paso[1000.0] > 1.5 * el_paso[0.0]
    assert valley[1000.0] <= valley[0.0]
    assert border[1000.0] < border[0.0]
    assert np.allclose(table["loss"], np.log1p(table["error"]) ** 2)
