"""The flow engine on the tiny model: contract, determinism, conservation and histograms.

Every test here runs the same layout with the same number of replications so that the compiled
program is shared (one compilation per pytest process, cached on disk across processes).
"""

from __future__ import annotations

import numpy as np
import pytest

from bordersim.engines import simulate
from bordersim.engines.flow import simulate_batch
from bordersim.errors import ModelError
from bordersim.model.examples import tiny_model
from bordersim.results.schema import DAILY_METRICS, HIST_ALL, HIST_UAC, METRIC_INDEX, RunResult

REPLICATIONS = 6


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return tiny_model(warmup_days=0, n_days=10)


@pytest.fixture(scope="module")
def run(model) -> RunResult:  # type: ignore[no-untyped-def]
    return simulate(model, engine="flow", replications=REPLICATIONS, seed=5)


def total(run: RunResult, name: str) -> np.ndarray:
    """[R, S] sum over the reported days."""
    return run.metric(name).sum(axis=1)


def test_result_shape_and_every_metric_finite(run: RunResult, model) -> None:  # type: ignore[no-untyped-def]
    assert run.engine == "flow"
    assert run.daily.shape == (REPLICATIONS, model.n_days, model.n_sectors, len(DAILY_METRICS))
    assert np.all(np.isfinite(run.daily))
    assert run.timings["compile_s"] >= 0 and run.timings["run_s"] > 0
    assert run.metric("encounters").sum() > 0


def test_records_are_refused(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="per-person records"):
        simulate(model, engine="flow", replications=1, seed=0, records=True)


def test_same_seed_same_numbers_other_seed_others(run: RunResult, model) -> None:  # type: ignore[no-untyped-def]
    again = simulate(model, engine="flow", replications=REPLICATIONS, seed=5)
    other = simulate(model, engine="flow", replications=REPLICATIONS, seed=6)
    np.testing.assert_array_equal(again.daily, run.daily)
    assert not np.array_equal(other.metric("encounters"), run.metric("encounters"))
    # replications differ from one another
    enc = run.metric("encounters").sum(axis=(1, 2))
    assert len(set(enc.tolist())) > 1


def test_every_seed_the_commands_take_runs(run: RunResult, model) -> None:  # type: ignore[no-untyped-def]
    # `bordersim run --seed` and `bs.run(seed=)` take 0 to 2**63 - 1; the flow engine refused
    # anything from 2**32, after the command had recorded the run.
    from bordersim.engines import MAX_SEED
    from bordersim.engines.flow.runner import seed_key

    largest = simulate(model, engine="flow", replications=REPLICATIONS, seed=MAX_SEED)
    assert np.all(np.isfinite(largest.daily)) and largest.metric("encounters").sum() > 0
    above = simulate(model, engine="flow", replications=REPLICATIONS, seed=2**32 + 5)
    assert not np.array_equal(above.metric("encounters"), run.metric("encounters"))
    # a seed below 2**32 draws from the key it always had, PRNGKey(seed) = [0, seed]
    np.testing.assert_array_equal(seed_key(5), [0, 5])
    np.testing.assert_array_equal(seed_key(MAX_SEED), [2**31 - 1, 2**32 - 1])
    with pytest.raises(ModelError, match="2\\*\\*63"):
        simulate(model, engine="flow", replications=1, seed=MAX_SEED + 1)


def test_people_are_conserved(run: RunResult, model) -> None:  # type: ignore[no-untyped-def]
    """Encounters (plus initial custody, none here) minus exits is who is in custody at the end:
    waiting for processing, the port, ICE or HHS (releases leave at determination)."""
    inside = total(run, "encounters") - total(run, "custody_exits")
    last = {n: run.metric(n)[:, -1] for n in DAILY_METRICS}
    at_end = (
        last["processing_backlog"]
        + last["waiting_for_port"]
        + last["waiting_for_ice_bed"]
        + last["waiting_for_hhs"]
    )
    np.testing.assert_allclose(inside, at_end, rtol=1e-4, atol=0.05)
    departures = sum(total(run, m) for m in DAILY_METRICS if m.startswith("departures:"))
    np.testing.assert_allclose(departures, total(run, "custody_exits"), rtol=1e-5)
    attempts = total(run, "first_attempts") + total(run, "repeat_attempts")
    np.testing.assert_allclose(total(run, "attempts"), attempts, rtol=1e-6)
    assert np.all(total(run, "encounters") + total(run, "gotaways") <= attempts + 1e-3)


def test_histogram_counts_the_exits(run: RunResult) -> None:
    exits = total(run, "custody_exits")
    np.testing.assert_allclose(run.custody_hist[:, :, HIST_ALL].sum(axis=-1), exits, rtol=1e-4)
    uac = total(run, "uac_exits")
    np.testing.assert_allclose(
        run.custody_hist[:, :, HIST_UAC].sum(axis=-1), uac, rtol=1e-4, atol=1e-3
    )
    over = total(run, "custody_exits_over_72h")
    hist_over = (
        run.custody_hist[:, :, HIST_ALL, 73:].sum(axis=-1)
        + 0.5 * (run.custody_hist[:, :, HIST_ALL, 72])
    )
    assert np.all(over <= exits + 1e-6)
    # the histogram splits each whole-hour age over two bins, so compare loosely
    np.testing.assert_allclose(over, hist_over, rtol=0.25, atol=2.0)


def test_staff_hours_add_up(run: RunResult, model) -> None:  # type: ignore[no-untyped-def]
    field = run.metric("staff_hours:agent:field")
    np.testing.assert_allclose(run.metric("agents_field_hours"), field)
    agent_tasks = [m for m in DAILY_METRICS if m.startswith("staff_hours:agent:")]
    agent_hours = sum(run.metric(m) for m in agent_tasks)
    np.testing.assert_allclose(
        run.metric("agents_field_hours") + run.metric("agents_support_hours"),
        agent_hours,
        rtol=1e-5,
    )
    # every on-duty agent-hour is dispatched somewhere
    on_duty = model.crew_headcount[:, :, 0] * model.on_duty_fraction[0] * 24
    np.testing.assert_allclose(agent_hours.mean(axis=0), on_duty, rtol=1e-4)


def test_batch_of_variants_shares_random_numbers(model) -> None:  # type: ignore[no-untyped-def]
    more_troops = tiny_model(warmup_days=0, n_days=10, troops=200.0)
    single = simulate(model, engine="flow", replications=REPLICATIONS, seed=5)
    batch = simulate_batch([model, more_troops], replications=REPLICATIONS, seed=5)
    np.testing.assert_allclose(batch[0].daily, single.daily, rtol=1e-5, atol=1e-3)
    troop_hours = batch[1].metric("staff_hours:active_duty:intake").sum()
    assert troop_hours > 0 and single.metric("staff_hours:active_duty:intake").sum() == 0
    # the first days (before troops arrive) are identical: common random numbers
    np.testing.assert_allclose(
        batch[1].metric("encounters")[:, :4], batch[0].metric("encounters")[:, :4], rtol=1e-5
    )


def test_batch_needs_one_layout(model) -> None:  # type: ignore[no-untyped-def]
    other = tiny_model(warmup_days=0, n_days=12)
    with pytest.raises(ModelError, match="n_days"):
        simulate_batch([model, other], replications=1, seed=0)


def test_health_module_counts_infections() -> None:
    sick = tiny_model(warmup_days=0, n_days=10, health=True)
    run = simulate(sick, engine="flow", replications=REPLICATIONS, seed=2)
    arrivals = total(run, "infectious_arrivals").sum()
    expected = 0.02 * total(run, "encounters").sum()
    assert arrivals == pytest.approx(expected, rel=0.25)
    assert total(run, "infections_in_custody").sum() > 0
    assert METRIC_INDEX["staff_days_lost"] >= 0


def test_people_who_recovered_in_custody_are_not_infected_again() -> None:
    """Every arrival infectious and short infections: nobody in custody is ever susceptible.
    The flow engine made the recovered susceptible again; the event engine infects a person at
    most once."""
    import dataclasses

    sick = tiny_model(warmup_days=0, n_days=10, health=True)
    everyone = dataclasses.replace(
        sick, arrival_prevalence=np.ones_like(sick.arrival_prevalence), infectious_days=0.5
    )
    for engine in ("flow", "event"):
        run = simulate(everyone, engine=engine, replications=3, seed=2)
        assert total(run, "infectious_arrivals").sum() == total(run, "encounters").sum() > 0
        # (the flow engine's counts are real numbers: float32 leaves a residue of ~1e-4)
        assert total(run, "infections_in_custody").sum() < 0.01, engine


def test_demand_beyond_the_exact_range_of_its_counts_is_refused() -> None:
    """The flow engine's float32 counts are exact below 2^24 people per sector: a run whose
    first attempts could pass that range is refused, naming the sector, not run inexactly."""
    import dataclasses

    base = tiny_model(warmup_days=0, n_days=10)
    per_sector = base.first_attempts_per_day.sum(axis=(0, 2))
    huge = dataclasses.replace(
        base, first_attempts_per_day=base.first_attempts_per_day * (2**23 / per_sector.min() * 1.5)
    )
    with pytest.raises(ModelError, match=r"first attempts over the run.*event engine"):
        simulate(huge, engine="flow", replications=1, seed=0)
    # just inside the range it runs
    inside = dataclasses.replace(
        base, first_attempts_per_day=base.first_attempts_per_day * (2**23 / per_sector.max() * 0.9)
    )
    assert simulate(inside, engine="flow", replications=1, seed=0).daily.shape[0] == 1
