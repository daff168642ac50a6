"""Release policies with dated triggers (docs/model.md step 6), in both engines: each trigger
opens a sector's release on the day after it held, only on the days the policy is in force, and
a policy a court blocked stops on the day it was blocked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.errors import ScenarioError
from bordersim.model.compiled import CompiledModel
from bordersim.model.examples import tiny_model
from bordersim.results.schema import RunResult
from bordersim.scenario import load_scenario
from repo_paths import SCENARIOS

DAYS = 12
SHAPE = (DAYS, 2)


def with_policy(**triggers: float) -> CompiledModel:
    """The tiny model, crowded, with one policy in force from day 6 releasing every removal."""
    model = tiny_model(warmup_days=0, n_days=DAYS)
    share = np.zeros(SHAPE)
    share[6:] = 1.0
    fields = {
        name: np.full(SHAPE, np.inf)
        for name in (
            "release_trigger_occupancy",
            "release_trigger_occupancy_growing",
            "release_trigger_stay_hours",
            "release_trigger_apprehensions",
        )
    }
    for name, value in triggers.items():
        fields[f"release_trigger_{name}"] = np.full(SHAPE, value)
    return model.replace(custody_capacity=np.full(SHAPE, 150.0), release_share=share, **fields)


def open_days(run: RunResult) -> np.ndarray:
    """[D, S] True where the release was open (every replication agrees on these triggers)."""
    return run.metric("valve_open_hours")[0] > 0


@pytest.mark.parametrize("engine", ["event", "flow"])
@pytest.mark.parametrize(
    "trigger",
    [
        {"occupancy": 1.0},
        {"occupancy_growing": 0.75},
        {"stay_hours": 10.0},
        {"apprehensions": 100.0},
    ],
)
def test_each_trigger_opens_only_while_the_policy_is_in_force(
    engine: str, trigger: dict[str, float]
) -> None:
    model = with_policy(**trigger)
    run = simulate(model, engine=engine, replications=1, seed=2)
    opened = open_days(run)
    assert not opened[:6].any()  # not in force
    assert opened[7:].mean() >= 0.5  # crowded, slow and busy: the trigger holds most days
    closed = simulate(
        model.replace(release_share=np.zeros(SHAPE)), engine=engine, replications=1, seed=2
    )
    assert run.metric("departures:release")[:, 7:].sum() > 1.2 * (
        closed.metric("departures:release")[:, 7:].sum()
    )


@pytest.mark.parametrize("engine", ["event", "flow"])
def test_a_trigger_that_does_not_hold_keeps_the_release_shut(engine: str) -> None:
    run = simulate(with_policy(occupancy=50.0), engine=engine, replications=1, seed=2)
    assert not open_days(run).any()


def test_scenario_policies_compile_with_dates_sectors_and_court_blocks() -> None:
    scenario = load_scenario(SCENARIOS / "2023-title42-end.toml")
    model = compile_scenario(scenario)
    (_, policy), *_ = scenario.policy.release_policies.items()
    dates = model.dates
    in_force = model.release_share.max(axis=1) > 0
    first, last = (
        dates[int(np.argmax(in_force))],
        dates[len(dates) - 1 - int(np.argmax(in_force[::-1]))],
    )
    assert first == policy.start_date
    assert policy.blocked_date is not None
    assert last == policy.blocked_date - dt.timedelta(days=1)
    day = dates.index(policy.start_date)
    assert model.release_trigger_occupancy[day] == pytest.approx(policy.occupancy_fraction)
    assert model.release_trigger_stay_hours[day] == pytest.approx(policy.mean_custody_hours)
    assert model.release_trigger_apprehensions[day] == pytest.approx(policy.apprehensions_per_day)
    assert np.isinf(model.release_trigger_occupancy_growing[day]).all()


def variant(tmp_path: Path, policy: str) -> Path:
    path = tmp_path / "variant.toml"
    base = SCENARIOS / "2023-title42-end.toml"
    path.write_text(
        f'base = "{base}"\nname = "variant"\n\n[policy.release_policies.second]\n{policy}'
    )
    return path


def test_overlapping_policies_are_refused_with_their_names(tmp_path: Path) -> None:
    policy = "start_date = 2023-05-11\nshare_fraction = 0.5\noccupancy_fraction = 1.0\n"
    with pytest.raises(ScenarioError, match="overlapping days"):
        load_scenario(variant(tmp_path, policy))


def test_a_policy_needs_a_trigger(tmp_path: Path) -> None:
    policy = "start_date = 2023-07-01\nshare_fraction = 0.5\n"
    with pytest.raises(ScenarioError, match="needs a trigger"):
        load_scenario(variant(tmp_path, policy))
