"""The course of custody over a run (`validation/course.py`): a runaway between the dated targets
is reported, a run that settles is not."""

from __future__ import annotations

import math

import numpy as np

from bordersim.engines import simulate
from bordersim.model.examples import tiny_model
from bordersim.results.schema import METRIC_INDEX, RunResult
from bordersim.validation.course import custody_course, describe
from constructed_runs import constructed_run

DAYS = 20


def test_scarce_stations_are_reported_as_custody_still_growing() -> None:
    model = tiny_model(warmup_days=0, n_days=DAYS)
    scarce = model.replace(processing_stations=np.full_like(model.custody_capacity, 4.0))
    course = custody_course(simulate(scarce, engine="flow", replications=2, seed=3))
    assert course.end_date == scarce.dates[-1] == course.peak_date
    assert course.end_people > course.end_capacity and course.still_growing
    first, warning = describe(course)
    assert f"{course.peak_people:,.0f} on {course.peak_date}" in first
    assert "still growing" in warning


def test_custody_that_settles_is_not_reported_as_growing() -> None:
    model = tiny_model(warmup_days=0, n_days=DAYS, attempts_per_day=100.0)
    course = custody_course(simulate(model, engine="flow", replications=2, seed=3))
    assert course.peak_people < course.peak_capacity and course.crowded_ratio < 1.0
    assert not course.still_growing
    assert len(describe(course)) == 1


def test_growing_custody_under_capacity_is_not_a_warning() -> None:
    """The default tiny model fills up all fortnight: a warning only once over capacity."""
    model = tiny_model(warmup_days=0, n_days=DAYS)
    roomy = model.replace(custody_capacity=model.custody_capacity * 10)
    course = custody_course(simulate(roomy, engine="flow", replications=2, seed=3))
    assert course.end_date == course.peak_date and course.end_people > course.week_before_people
    assert course.end_people < course.end_capacity and not course.still_growing


def _held(held: float, capacity: tuple[float, float]) -> RunResult:
    run = constructed_run(replications=2, days=10)
    run.daily[..., METRIC_INDEX["occupancy_mean"]] = held
    run.daily[..., METRIC_INDEX["custody_capacity"]] = np.array(capacity)
    return run


def test_a_sector_holding_people_with_no_capacity_is_the_most_crowded() -> None:
    # With no holding capacity in Rio Grande Valley, the line read "most crowded: TCA at 0.5 x
    # its capacity" while RGV held as many with no room at all.
    course = custody_course(_held(50.0, (100.0, 0.0)))
    assert course.crowded_sector == "RGV" and math.isinf(course.crowded_ratio)
    (first,) = describe(course)
    assert "most crowded: RGV, holding people with no capacity" in first
    # no capacity anywhere: not "0.0 x its capacity"
    (first,) = describe(custody_course(_held(50.0, (0.0, 0.0))))
    assert "0.0 x" not in first and "no capacity" in first


def test_a_run_that_holds_nobody_names_no_crowded_sector() -> None:
    (first,) = describe(custody_course(_held(0.0, (100.0, 100.0))))
    assert "most crowded: nobody held in any sector." in first
