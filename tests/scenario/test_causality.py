"""A day never depends on the days after it: a run cut short agrees with the long run on every
day the two share (stations and staff split by load read only the past, or a deployment's own
tour, never the scenario's end date)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.compiler.frame import trailing_load_shares
from bordersim.engines import simulate
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import Sector
from bordersim.model.fields import day_axis_fields
from bordersim.results.schema import DAILY_METRICS
from bordersim.scenario import load_scenario
from repo_paths import SCENARIOS, SMALL

CUT_DAYS = 40


def _cut_short(path: Path) -> tuple[Any, Any]:
    scenario = load_scenario(path)
    end = scenario.period.end_date - dt.timedelta(days=CUT_DAYS)
    return scenario, scenario.with_changes({"period.end_date": end})


@pytest.mark.parametrize(
    "path",
    [SCENARIOS / "2023-title42-end.toml", SCENARIOS / "2021-uac-surge.toml", SMALL],
    ids=lambda p: p.name,
)
def test_compiled_days_do_not_depend_on_the_end_date(path: Path, calibration: Any) -> None:
    long, short = _cut_short(path)
    a, b = compile_scenario(long, calibration), compile_scenario(short, calibration)
    assert b.n_days == a.n_days - CUT_DAYS
    differ = [
        name
        for name in day_axis_fields(CompiledModel)
        if not np.array_equal(np.asarray(getattr(a, name))[: b.n_days], getattr(b, name))
    ]
    assert differ == []


def test_event_engine_days_do_not_depend_on_the_end_date(calibration: Any) -> None:
    long, short = _cut_short(SMALL)
    a = simulate(compile_scenario(long, calibration), replications=2, seed=5, engine="event")
    b = simulate(compile_scenario(short, calibration), replications=2, seed=5, engine="event")
    n = len(b.dates)
    for metric in DAILY_METRICS:
        np.testing.assert_array_equal(a.metric(metric)[:, :n], b.metric(metric), err_msg=metric)


def test_station_shares_follow_the_load_of_the_days_before(calibration: Any) -> None:
    dates = [dt.date(2023, 5, 1) + dt.timedelta(days=d) for d in range(3)]
    shares = trailing_load_shares(calibration, dates, 30)
    assert shares.shape == (3, 9)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    window = [dt.date(2023, 4, 1) + dt.timedelta(days=d) for d in range(30)]  # 1-30 April
    load = np.asarray(calibration.daily_first_attempts(window, list(Sector))).sum(axis=(0, 2))
    np.testing.assert_allclose(shares[0], load / load.sum())
