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
from bordersim.model.dimensions import Pathway, Pool
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


def intake_hours_by_day(run: RunResult) -> np.ndarray:
    """[D] staff-hours of intake of every pool, mean of the replications, all sectors."""
    hours = sum(run.metric(f"staff_hours:{p.name.lower()}:intake") for p in Pool)
    return np.asarray(hours).mean(axis=0).sum(axis=1)


@pytest.mark.parametrize("engine", ["event", "flow"])
def test_releases_made_while_open_take_the_policys_paperwork(engine: str) -> None:
    """Parole or a notice to report instead of a notice to appear: while the release is open
    (from day 6, every day: the apprehension trigger holds), every release takes the policy's
    paperwork, so the intake work falls by the releases times the hours saved; on the days
    before, nothing differs."""
    model = with_policy(apprehensions=10.0)
    pathway_paperwork = float(model.intake_hours[Pathway.RELEASE])
    assert model.release_intake_hours == pathway_paperwork
    runs = {
        hours: simulate(
            model.replace(release_intake_hours=hours), engine=engine, replications=2, seed=2
        )
        for hours in (pathway_paperwork, 0.25)
    }
    assert open_days(runs[0.25])[6:].all()
    slow, quick = (intake_hours_by_day(runs[h]) for h in (pathway_paperwork, 0.25))
    np.testing.assert_allclose(quick[:6], slow[:6], rtol=1e-5)
    released = runs[0.25].metric("departures:release").mean(axis=0).sum(axis=1)[6:].sum()
    saved = slow[6:].sum() - quick[6:].sum()
    # Releases leave after their stay, so those counted lag the paperwork done by hours.
    assert 0.95 < saved / (released * (pathway_paperwork - 0.25)) < 1.2


def test_the_policy_paperwork_defaults_to_the_release_pathways() -> None:
    scenario = load_scenario(SCENARIOS / "2023-title42-end.toml")
    assert scenario.policy.release_intake_hours is None
    model = compile_scenario(scenario)
    assert model.release_intake_hours == scenario.processing.intake_hours.release
    quicker = compile_scenario(scenario.with_changes({"policy.release_intake_hours": 1.0}))
    assert quicker.release_intake_hours == 1.0
    with pytest.raises(ScenarioError, match="release_intake_hours"):
        scenario.with_changes({"policy.release_intake_hours": -1.0})
