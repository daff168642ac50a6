"""The detection fit (`bordersim.fitting.detection`): got-aways are scored at the fitted demand,
ratios as simulated, on the real engine."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bordersim.engines import simulate
from bordersim.fitting.detection import score, simulated_encounters
from bordersim.model.examples import tiny_model
from bordersim.validation.compare import compare
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.measures import RunView
from bordersim.validation.targets import Target, load_targets

MONTH = dt.date(2023, 4, 1)


def target_like(metric: str, start: dt.date, end: dt.date, value: float) -> Target:
    shipped = next(t for t in load_targets() if t.metric == metric and is_fit_target(t))
    return dataclasses.replace(
        shipped, start=start, end=end, scope="Rio Grande Valley", value=value
    )


def test_gotaways_are_scaled_to_the_official_encounters_and_ratios_are_not() -> None:
    model = tiny_model()
    first, last = dt.date(2023, 4, 6), dt.date(2023, 4, 12)
    gotaways = target_like("gotaways", first, last, 1000.0)
    ratio = target_like("gotaway_ratio_estimate", last, last, 0.25)
    run = simulate(model, replications=2, seed=3)
    view = RunView(run, None, model.dates[0])
    encounters = simulated_encounters(run, MONTH)
    assert encounters > 0
    rows = score(model, [gotaways, ratio], (MONTH, 2 * encounters), replications=2, seed=3)
    simulated_gotaways = compare(gotaways, view).simulated
    simulated_ratio = compare(ratio, view).simulated
    assert simulated_gotaways is not None and simulated_ratio is not None
    assert rows[0]["simulated"] == pytest.approx(2 * simulated_gotaways.mean)
    assert rows[1]["simulated"] == pytest.approx(simulated_ratio.mean)


def test_the_got_away_figures_of_spring_2023_are_the_named_targets() -> None:
    named = [t for t in load_targets() if is_fit_target(t) and t.metric != "custody_population"]
    assert {(t.metric, t.start) for t in named} == {
        ("gotaway_ratio_estimate", dt.date(2023, 5, 10)),
        ("gotaways", dt.date(2023, 4, 1)),
    }
