"""The detection fit (`bordersim.fitting.detection`): its points, its scoring on the real engine,
and its named targets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.fitting.detection import GOT_AWAY_METRICS, score, with_ceiling
from bordersim.model.examples import tiny_model
from bordersim.scenario import load_scenario
from bordersim.validation.compare import compare
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.measures import RunView
from bordersim.validation.targets import Target, load_targets
from repo_paths import SCENARIOS


def target_like(metric: str, start: dt.date, end: dt.date, value: float) -> Target:
    shipped = next(t for t in load_targets() if t.metric == metric and is_fit_target(t))
    return dataclasses.replace(
        shipped, start=start, end=end, scope="Rio Grande Valley", value=value
    )


def test_a_point_sets_one_ceiling_in_every_sector() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a demand fit of another version
        scenario = load_scenario(SCENARIOS / "2023-title42-end.toml")
        model = compile_scenario(with_ceiling(scenario, 0.7))
    np.testing.assert_array_equal(model.detection_p_max, np.full(9, 0.7))


def test_a_point_is_scored_on_what_the_engine_simulates() -> None:
    model = tiny_model()
    first, last = dt.date(2023, 4, 6), dt.date(2023, 4, 12)
    targets = [
        target_like("gotaways", first, last, 1000.0),
        target_like("gotaway_ratio_estimate", last, last, 0.25),
    ]
    rows = score(model, targets, replications=2, seed=3)
    view = RunView(simulate(model, replications=2, seed=3), None, model.dates[0])
    for row, target in zip(rows, targets, strict=True):
        simulated = compare(target, view).simulated
        assert simulated is not None and simulated.mean > 0
        assert row["simulated"] == pytest.approx(simulated.mean)
        assert row["loss"] == pytest.approx(np.log1p(row["error"]) ** 2)


def test_the_got_away_figures_of_spring_2023_are_the_named_targets() -> None:
    named = [t for t in load_targets() if is_fit_target(t) and t.metric in GOT_AWAY_METRICS]
    assert {(t.metric, t.start) for t in named} == {
        ("gotaway_ratio_estimate", dt.date(2023, 5, 10)),
        ("gotaways", dt.date(2023, 4, 1)),
    }
