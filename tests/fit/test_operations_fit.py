"""The operational fit (`bordersim.fitting.operations`): its loss, its named targets and its
leave-one-scenario-out bookkeeping."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from bordersim.fitting.operations import (
    SCENARIOS,
    Point,
    decompression,
    leave_one_out,
    losses,
    squared_log_error,
    through,
    upper_end,
    with_point,
)
from bordersim.model.examples import tiny_model
from bordersim.results.kpis import Interval
from bordersim.validation.compare import Comparison
from bordersim.validation.fit_targets import OPERATIONAL_FIT_TARGETS, is_fit_target
from bordersim.validation.targets import load_targets


def comparison(error: float) -> Comparison:
    target = next(t for t in load_targets() if is_fit_target(t))
    return Comparison(
        target, "people in custody", "people", Interval(1.0, 0.0, 1.0, 2), error, "", ""
    )


def test_the_loss_is_symmetric_in_ratio_and_zero_inside_a_bound() -> None:
    assert squared_log_error(comparison(0.0)) == 0.0
    assert squared_log_error(comparison(-0.75)) == pytest.approx(squared_log_error(comparison(3.0)))
    assert squared_log_error(comparison(-0.5)) == pytest.approx(math.log(2) ** 2)


def test_every_named_target_is_in_the_shipped_targets() -> None:
    shipped = {(t.metric, t.start, t.scope) for t in load_targets()}
    assert shipped >= OPERATIONAL_FIT_TARGETS
    assert {start.year for _, start, _ in OPERATIONAL_FIT_TARGETS} == {2019, 2021, 2023}
    assert all(isinstance(start, dt.date) for _, start, _ in OPERATIONAL_FIT_TARGETS)


def test_a_point_scales_the_stations_and_sets_the_slowdown() -> None:
    model = tiny_model(warmup_days=0, n_days=3)
    model = model.replace(processing_stations=np.full_like(model.custody_capacity, 60.0))
    moved = with_point(model, 0.06, Point(0.03, 0.25))
    assert np.allclose(moved.processing_stations, 30.0)
    assert moved.crowding_slowdown == 0.25


def test_leave_one_out_scores_each_fit_on_the_other_case() -> None:
    index = pd.MultiIndex.from_tuples(
        [(0.03, 0.0), (0.06, 0.0)], names=["stations_per_holding_place", "crowding_slowdown"]
    )
    per = pd.DataFrame({SCENARIOS[0]: [0.9, 0.1], SCENARIOS[1]: [0.2, 0.8]}, index=index)
    per["both"] = per.mean(axis=1)
    table = leave_one_out(per)
    out = table[table["sample"] == "out"].set_index("fitted on")
    assert out.loc[SCENARIOS[0], "loss"] == 0.8  # fitted on 2023 (0.06), scored on 2019
    assert out.loc[SCENARIOS[1], "loss"] == 0.9  # fitted on 2019 (0.03), scored on 2023
    rows = pd.DataFrame(
        {
            "scenario": [SCENARIOS[0], SCENARIOS[1]],
            "stations_per_holding_place": [0.03, 0.03],
            "crowding_slowdown": [0.0, 0.0],
            "loss": [0.5, 0.1],
        }
    )
    assert losses(rows).loc[(0.03, 0.0), "both"] == pytest.approx(0.3)


def test_a_model_is_cut_after_the_last_fitted_day() -> None:
    model = tiny_model(warmup_days=2, n_days=10)
    cut = through(model, model.dates[3])
    assert cut.n_days == 5 and cut.dates[-1] == model.dates[4]
    assert np.array_equal(cut.crew_headcount, model.crew_headcount[:5])
    assert through(model, model.dates[-1]) is model


def test_admissibility_reads_the_upper_end_of_the_peak_interval() -> None:
    steady = np.array([50_000.0, 50_000.0, 50_000.0])
    noisy = np.array([40_000.0, 50_000.0, 60_000.0])
    assert upper_end(steady) == pytest.approx(50_000.0)
    # mean 50,000, sd 10,000, n 3: t(0.975, 2) = 4.303 -> 50,000 + 4.303 x 10,000 / sqrt(3)
    assert upper_end(noisy) == pytest.approx(50_000.0 + 4.3027 * 10_000 / np.sqrt(3), rel=1e-4)
    assert upper_end(noisy) > 2 * 28_717 > upper_end(steady)


def test_several_figures_of_one_day_count_once_by_the_nearest() -> None:
    # 10 May 2023 has three sources; a point between two of them misses none (a range).
    rows = pd.DataFrame(
        {
            "scenario": [SCENARIOS[0]] * 4,
            "stations_per_holding_place": [0.05] * 4,
            "target": ["custody 2023-05-10 SWB"] * 3 + ["custody 2023-05-14 SWB"],
            "loss": [0.04, 0.0, 0.01, 0.2],
        }
    )
    assert losses(rows).loc[0.05, "both"] == pytest.approx(0.1)


def test_a_point_switches_decompression_off_at_zero_and_keeps_the_scenario_dates() -> None:
    assert decompression(0.0, 0.0) == {"custody.decompression.enabled": False}
    on = decompression(2.5, 1.5)
    assert on["custody.decompression.enabled"] is True
    assert on["custody.decompression.send_above_fraction"] == 2.5
    assert on["custody.decompression.receive_below_fraction"] == 1.5
    assert not any(key.endswith("_date") for key in on)
