"""The border model on the event engine: conservation, determinism, staff rules, custody laws."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bordersim.engines import simulate as simulate_any
from bordersim.engines.event.border import simulate
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import GROUP_NAMES, N_TASKS, Pathway
from bordersim.model.examples import tiny_model
from bordersim.model.routes import line_index
from bordersim.results.schema import (
    CUSTODY_HIST_HOURS,
    DAILY_METRICS,
    HIST_ALL,
    HIST_UAC,
    RunResult,
)

REPO = Path(__file__).resolve().parents[2]


def stable_model(**kwargs: object) -> CompiledModel:
    """The tiny model with departures that keep up, so custody settles into a steady state."""
    return (
        tiny_model(**kwargs)  # type: ignore[arg-type]
        .with_line("hhs", national_capacity_per_day=400.0, beds=1e5)
        .with_line("ice", beds=1e5, national_capacity_per_day=1e5)
    )


@pytest.fixture(scope="module")
def full_run() -> tuple[CompiledModel, RunResult]:
    """No warm-up (so daily metrics cover the whole run), people in custody at the start, health."""
    base = tiny_model(warmup_days=0, health=True, troops=100.0)
    initial = np.zeros_like(base.initial_custody)
    initial[:, 0] = 40.0
    initial[:, 7] = 5.0
    model = base.replace(initial_custody=initial)
    return model, simulate(model, replications=2, seed=11, records=True)


def totals(result: RunResult, name: str, r: int = 0) -> float:
    return float(result.metric(name)[r].sum())


def test_every_metric_is_filled_and_finite(full_run: tuple[CompiledModel, RunResult]) -> None:
    model, result = full_run
    assert result.daily.shape == (2, model.n_days, model.n_sectors, len(DAILY_METRICS))
    assert np.isfinite(result.daily).all()
    for name in (
        "attempts",
        "encounters",
        "gotaways",
        "custody_exits",
        "infections_in_custody",
        "staff_hours:active_duty:detection",
        "supply_units_used",
        "cost_total_dollars",
    ):
        assert totals(result, name) > 0, name


def test_conservation_for_every_group(full_run: tuple[CompiledModel, RunResult]) -> None:
    model, result = full_run
    people = result.people
    assert people is not None
    end = float(model.n_hours)
    for r in range(2):
        rows = people[people.replication == r]
        crossing = rows[~rows.initial_custody]
        apprehended = crossing.apprehension_h.notna()
        in_field_at_end = ~crossing.got_away & ~apprehended
        # Nobody is stranded in the field: whoever is neither apprehended nor a got-away crossed
        # within the last patience times of the run.
        assert (crossing.arrival_h[in_field_at_end] > end - 48.0).all()
        for g, name in enumerate(GROUP_NAMES):
            mine = crossing[crossing.group == name]
            attempts = len(mine)
            gotaways = int(mine.got_away.sum())
            encounters = int(mine.apprehension_h.notna().sum())
            waiting = int((~mine.got_away & mine.apprehension_h.isna()).sum())
            assert attempts == gotaways + encounters + waiting, name
            assert not (mine.got_away & mine.apprehension_h.notna()).any(), name
            initial = round(float(model.initial_custody[:, g].sum()))
            held = rows[(rows.group == name) & rows.apprehension_h.notna()]
            departed = int(held.departure_h.notna().sum())
            still = int(held.departure_h.isna().sum())
            assert encounters + initial == departed + still, name
        # The daily counters agree with the people, and everyone still held is in some line.
        assert totals(result, "attempts", r) == len(crossing)
        assert totals(result, "repeat_attempts", r) == int((crossing.attempt > 1).sum())
        assert totals(result, "gotaways", r) == int(crossing.got_away.sum())
        assert totals(result, "encounters", r) == int(apprehended.sum())
        assert totals(result, "custody_exits", r) == int(rows.departure_h.notna().sum())
        held_at_end = int((rows.apprehension_h.notna() & rows.departure_h.isna()).sum())
        last = result.daily[r, -1].sum(axis=0)
        lines = sum(
            last[DAILY_METRICS.index(n)]
            for n in (
                "processing_backlog",
                "waiting_for_ice_bed",
                "waiting_for_hhs",
                "waiting_for_port",
            )
        )
        assert lines == held_at_end


def test_people_records_are_causal(full_run: tuple[CompiledModel, RunResult]) -> None:
    _, result = full_run
    people = result.people
    assert people is not None
    held = people[people.departure_h.notna()]
    assert (held.arrival_h <= held.apprehension_h).all()
    assert (held.apprehension_h <= held.intake_h).all()
    assert (held.intake_h <= held.determination_h).all()
    assert (held.determination_h <= held.departure_h).all()
    # A re-attempt follows a departure by expulsion or voluntary return of the same person.
    repeats = people[people.attempt > 1]
    assert len(repeats) > 0
    previous = people.set_index(["replication", "person", "attempt"])
    for row in repeats.head(200).itertuples():
        before = previous.loc[(row.replication, row.person, row.attempt - 1)]
        assert before.pathway in (
            Pathway.TITLE42_EXPULSION.name.lower(),
            Pathway.VOLUNTARY_RETURN.name.lower(),
        )
        assert before.departure_h <= row.arrival_h


def test_same_seed_same_results_and_different_seeds_differ() -> None:
    model = tiny_model(health=True)
    a = simulate(model, replications=2, seed=5)
    b = simulate_any(model, engine="event", replications=2, seed=5)
    c = simulate(model, replications=2, seed=6)
    np.testing.assert_array_equal(a.daily, b.daily)
    np.testing.assert_array_equal(a.custody_hist, b.custody_hist)
    assert not np.array_equal(a.daily, c.daily)
    assert not np.array_equal(a.daily[0], a.daily[1])  # replications are independent streams


def test_troops_and_guard_never_on_law_enforcement_posts() -> None:
    result = simulate(tiny_model(troops=300.0, attempts_per_day=800.0), replications=2, seed=3)
    for pool in ("active_duty", "national_guard"):
        for task in ("field", "determination", "custody_watch"):
            assert totals(result, f"staff_hours:{pool}:{task}") == 0.0
    assert totals(result, "staff_hours:active_duty:detection") > 0.0
    assert totals(result, "staff_hours:active_duty:intake") > 0.0


def test_agents_leave_the_field_when_processing_load_rises() -> None:
    light = simulate(stable_model(attempts_per_day=150.0), replications=3, seed=2)
    heavy = simulate(stable_model(attempts_per_day=600.0), replications=3, seed=2)
    light_field = light.metric("agents_field_hours").sum(axis=(1, 2))
    heavy_field = heavy.metric("agents_field_hours").sum(axis=(1, 2))
    assert heavy_field.max() < light_field.min()
    assert heavy.metric("agents_support_hours").sum() > light.metric("agents_support_hours").sum()


def _after_troops_arrive(result: RunResult, name: str, model: CompiledModel) -> np.ndarray:
    first_troop_day = model.n_days // 2 - model.warmup_days
    return result.metric(name)[:, first_troop_day:].sum(axis=(1, 2))


def test_troops_on_detection_raise_apprehensions_and_lower_gotaways() -> None:
    # Troops join on day n_days // 2 and may do detection, intake and warehouse work.
    replications = 8
    without = stable_model(troops=0.0, n_days=16)
    with_troops = stable_model(troops=400.0, n_days=16)
    a = simulate(without, replications=replications, seed=21)
    b = simulate(with_troops, replications=replications, seed=21)
    for name, sign in (("encounters", 1.0), ("gotaways", -1.0)):
        diff = _after_troops_arrive(b, name, with_troops) - _after_troops_arrive(a, name, without)
        half = stats.t.ppf(0.975, replications - 1) * diff.std(ddof=1) / math.sqrt(replications)
        low, high = sign * diff.mean() - half, sign * diff.mean() + half
        assert low > 0.0, (
            f"{name}: effect {diff.mean():.0f} +/- {half:.0f} not in the expected direction"
        )
        del high


def test_littles_law_on_custody() -> None:
    model = stable_model(n_days=40, warmup_days=10)
    replications = 6
    result = simulate(model, replications=replications, seed=8, records=True)
    people = result.people
    assert people is not None
    start, end = model.warmup_days * 24.0, model.n_hours * 1.0
    gaps = []
    for r in range(replications):
        occupancy = result.metric("occupancy_mean")[r].sum(axis=1)  # all sectors, per day
        # Exact identity: person-hours in custody over the reported days, from the records.
        rows = people[(people.replication == r) & people.apprehension_h.notna()]
        enter = rows.apprehension_h.to_numpy()
        leave = rows.departure_h.fillna(end).to_numpy()
        overlap = np.clip(np.minimum(leave, end) - np.maximum(enter, start), 0.0, None).sum()
        assert overlap == pytest.approx(occupancy.sum() * 24.0, rel=1e-9)
        # Little's law: mean occupancy = exits per hour x mean time in custody of the exits.
        exits = result.metric("custody_exits")[r].sum()
        hours = result.metric("custody_hours_total")[r].sum()
        rate = exits / (end - start)
        gaps.append(occupancy.mean() - rate * hours / exits)
    gap = np.array(gaps)
    half = stats.t.ppf(0.975, replications - 1) * gap.std(ddof=1) / math.sqrt(replications)
    # People straddling the window's ends bias the estimate by far less than the interval here
    # (stays of hours against a 30-day window).
    assert abs(gap.mean()) <= half


def test_custody_histogram_matches_people_records(
    full_run: tuple[CompiledModel, RunResult],
) -> None:
    model, result = full_run
    people = result.people
    assert people is not None
    for r in range(2):
        for s, sector in enumerate(model.sectors):
            rows = people[
                (people.replication == r)
                & (people.sector == sector.name)
                & people.departure_h.notna()
            ]
            rows = rows[rows.departure_h >= model.warmup_days * 24.0]
            hours = np.minimum(
                (rows.departure_h - rows.apprehension_h).to_numpy().astype(np.int64),
                CUSTODY_HIST_HOURS,
            )
            expected = np.bincount(hours, minlength=CUSTODY_HIST_HOURS + 1)
            np.testing.assert_array_equal(result.custody_hist[r, s, HIST_ALL], expected)
            uac = rows.group.astype(str).str.startswith("unaccompanied_child").to_numpy()
            expected_uac = np.bincount(hours[uac], minlength=CUSTODY_HIST_HOURS + 1)
            np.testing.assert_array_equal(result.custody_hist[r, s, HIST_UAC], expected_uac)
            assert (
                result.custody_hist[r, s, HIST_ALL].sum()
                == result.metric("custody_exits")[r, :, s].sum()
            )


def test_release_valve_turns_removals_into_releases() -> None:
    crowded = tiny_model(attempts_per_day=900.0).replace(
        custody_capacity=np.full((14, 2), 150.0),
        release_trigger_occupancy=np.full((14, 2), 1.0),
        release_share=np.full((14, 2), 1.0),
    )
    closed = crowded.replace(release_valve_enabled=False)
    opened = simulate(crowded, replications=1, seed=4)
    shut = simulate(closed, replications=1, seed=4)
    assert totals(opened, "valve_open_hours") > 0
    assert totals(shut, "valve_open_hours") == 0
    # Not the share of exits: removals held back by the ICE transfer limit leave the closed run's
    # exits mostly releases. The number of releases is what the valve raises.
    assert totals(opened, "departures:release") > 1.2 * totals(shut, "departures:release")


def test_small_example_scenario_runs_and_conserves() -> None:
    path = REPO / "scenarios" / "examples" / "small.toml"
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario

    model = compile_scenario(load_scenario(path))
    result = simulate(model, replications=1, seed=1, records=True)
    people = result.people
    assert isinstance(people, pd.DataFrame)
    crossing = people[~people.initial_custody]
    assert (crossing.got_away & crossing.apprehension_h.notna()).sum() == 0
    assert np.isfinite(result.daily).all()
    assert totals(result, "encounters") > 0


def test_screening_isolates_cases_and_cuts_spread() -> None:
    base = tiny_model(health=True).replace(
        arrival_prevalence=np.full(14, 0.1),
        transmission_rate_per_day=3.0,
        symptomatic_fraction=1.0,
        isolation_capacity=np.full(2, 1e5),
    )
    blind = simulate(base.replace(screening_sensitivity=0.0), replications=3, seed=9)
    screened = simulate(base.replace(screening_sensitivity=1.0), replications=3, seed=9)
    assert totals(blind, "isolated") == 0.0
    assert totals(screened, "isolated") > 0.0
    blind_infections = blind.metric("infections_in_custody").sum(axis=(1, 2))
    screened_infections = screened.metric("infections_in_custody").sum(axis=(1, 2))
    assert screened_infections.max() < blind_infections.min()


def test_empty_warehouse_means_unmet_care_and_stock_outs() -> None:
    stocked = tiny_model(warmup_days=0)  # the first order is placed on day 0
    empty = stocked.replace(supply_initial_stock_days=0.0, supply_reorder_lead_days=30.0)
    assert totals(simulate(stocked, replications=1, seed=1), "unmet_care_person_days") == 0.0
    result = simulate(empty, replications=1, seed=1)
    assert totals(result, "unmet_care_person_days") > 0.0
    assert result.metric("stock_out").max() == 1.0
    assert totals(result, "cost_supplies_dollars") > 0.0  # the order was placed


def test_progress_is_reported_and_bad_arguments_are_refused() -> None:
    seen: list[tuple[int, int]] = []
    simulate(
        tiny_model(n_days=6, warmup_days=1),
        replications=3,
        seed=0,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    from bordersim.errors import ModelError

    with pytest.raises(ModelError, match="seed"):
        simulate(tiny_model(), replications=1, seed=-1)
    with pytest.raises(ModelError, match="replications"):
        simulate(tiny_model(), replications=0, seed=1)


def erlang_a(
    arrival_rate: float, service_rate: float, servers: int, patience_rate: float
) -> tuple[float, float]:
    """M/M/n+M (Palm, Erlang A): probability of abandoning and mean number of busy servers."""
    k = np.arange(0, 2000)
    death = service_rate * np.minimum(k[1:], servers) + patience_rate * np.maximum(
        k[1:] - servers, 0
    )
    log_pi = np.concatenate([[0.0], np.cumsum(np.log(arrival_rate / death))])
    pi = np.exp(log_pi - log_pi.max())
    pi /= pi.sum()
    queue = (np.maximum(k - servers, 0) * pi).sum()
    busy = (np.minimum(k, servers) * pi).sum()
    return patience_rate * queue / arrival_rate, busy


def test_field_stage_is_an_erlang_a_queue() -> None:
    # Everyone surrenders alone, Poisson arrivals, no work off the field: the field is exactly
    # M/M/20+M with arrival rate 20 an hour, service mean 1 h and patience mean 0.5 h.
    from bordersim.model.dimensions import N_GROUPS, N_PATHWAYS

    servers, rate_per_hour, patience_hours = 20, 20.0, 0.5
    model = tiny_model(
        n_days=22, warmup_days=2, attempts_per_day=rate_per_hour * 24, agents=servers / 0.43
    )
    model = model.replace(
        demand_dispersion=math.inf,
        batch_size_mean=np.ones(N_GROUPS),
        surrender_fraction=np.ones(N_GROUPS),
        repeat_probability=np.zeros((2, N_GROUPS)),
        pickup_patience_hours=patience_hours,
        field_hours_per_pickup=1.0,
        persons_per_watch_staff=math.inf,
        intake_hours=np.zeros(N_PATHWAYS),
        release_intake_hours=0.0,
        determination_hours=np.zeros(N_PATHWAYS),
        transport_hours_per_person=np.zeros(N_PATHWAYS),
        custody_day_hours=np.zeros(N_TASKS),
    )
    replications = 6
    result = simulate(model, replications=replications, seed=17)
    assert result.metric("agents_field_hours").mean() == pytest.approx(servers * 24, rel=1e-9)
    abandon, busy = erlang_a(rate_per_hour, 1.0, servers, 1.0 / patience_hours)
    share = result.metric("gotaways").sum(axis=(1, 2)) / result.metric("attempts").sum(axis=(1, 2))
    t = stats.t.ppf(0.975, replications - 1) / math.sqrt(replications)
    assert abs(share.mean() - abandon) <= t * share.std(ddof=1), (share.mean(), abandon)
    busy_sim = result.metric("staff_hours_needed:field").sum(axis=2).mean(axis=1) / 24.0 / 2
    assert abs(busy_sim.mean() - busy) <= t * busy_sim.std(ddof=1), (busy_sim.mean(), busy)


def test_variants_with_one_seed_see_the_same_crossings() -> None:
    # Common random numbers: crossings come from their own stream, so a staffing change leaves
    # first attempts untouched and only moves what operations decide.
    base = simulate(stable_model(troops=0.0), replications=2, seed=31)
    troops = simulate(stable_model(troops=300.0), replications=2, seed=31)
    np.testing.assert_array_equal(base.metric("first_attempts"), troops.metric("first_attempts"))
    assert not np.array_equal(base.metric("gotaways"), troops.metric("gotaways"))


def test_nobody_departs_before_the_minimum_time_in_custody(
    full_run: tuple[CompiledModel, RunResult],
) -> None:
    model, result = full_run
    people = result.people
    assert people is not None
    departed = people[people.departure_h.notna()]
    codes = departed.pathway.cat.codes.to_numpy()
    minimum = model.min_custody_hours[codes]
    stay = (departed.departure_h - departed.apprehension_h).to_numpy()
    assert (stay >= minimum - 1e-9).all()
    # The minimum binds: people finished early and waited for it, releases included.
    after_determination = (departed.departure_h - departed.determination_h).to_numpy()
    held = np.isclose(stay, minimum) & (after_determination > 1e-6)
    assert held.sum() > 0.1 * len(departed)
    release = codes == Pathway.RELEASE
    assert (held & release).sum() > 0


def test_minimum_time_in_custody_raises_occupancy_by_littles_law() -> None:
    # Everything but the minimum is fast, so a longer release minimum adds its extra hours to
    # every release's stay: occupancy rises by releases per hour times the extra hours.
    base = stable_model(n_days=12, warmup_days=4)
    extra = 24.0
    longer_minimum = base.min_custody_hours.copy()
    longer_minimum[Pathway.RELEASE] += extra
    short = simulate(base, replications=2, seed=12)
    long = simulate(base.replace(min_custody_hours=longer_minimum), replications=2, seed=12)
    released_per_hour = short.metric("departures:release").sum(axis=2).mean() / 24.0
    rise = (
        long.metric("occupancy_mean")[:, 2:].sum(axis=2).mean()
        - short.metric("occupancy_mean")[:, 2:].sum(axis=2).mean()
    )
    assert rise == pytest.approx(released_per_hour * extra, rel=0.15)


def test_ice_transfers_never_exceed_the_daily_limit_spread_over_the_hours() -> None:
    limit = 30.0
    model = stable_model(warmup_days=0).with_line("ice", national_capacity_per_day=limit)
    result = simulate(model, replications=2, seed=14, records=True)
    transfers = result.metric("departures:expedited_removal").sum(axis=2)  # [r, day]
    assert transfers.max() <= limit
    assert (transfers[:, 2:] == limit).all()  # a backlog of removals keeps the limit binding
    # Within a day, hour k may use at most the shares of hours 0..k.
    people = result.people
    assert people is not None
    removed = people[
        (people.pathway == Pathway.EXPEDITED_REMOVAL.name.lower()) & people.departure_h.notna()
    ]
    for r in range(2):
        # A transfer leaves within its hour, at the hour's end when transport is fully used.
        times = removed.departure_h[removed.replication == r].to_numpy()
        hours = (np.ceil(times) - 1).astype(int)
        per_hour = np.bincount(hours, minlength=model.n_hours).reshape(model.n_days, 24)
        allowed = np.floor(np.arange(1, 25) * limit / 24.0 + 1e-9)
        assert (np.cumsum(per_hour, axis=1) <= allowed).all()


def test_hhs_gets_transport_while_ports_are_backed_up() -> None:
    # Transport is the bottleneck (an hour of it per person): under Title 42 the port line alone
    # could use all of it. Each line gets transport in proportion to the work that could leave on
    # it within the hour's limits, so children still reach HHS.
    hours = 1.0
    model = (
        tiny_model(title42=True, attempts_per_day=800.0)
        .replace(transport_hours_per_person=np.array([hours, hours, 0.25, hours, hours]))
        .with_line("hhs", beds=1e5)
        .with_line("ice", beds=1e5)
    )
    port, hhs = line_index("port"), line_index("hhs")
    result = simulate(model, replications=2, seed=3)
    days = model.n_days - model.warmup_days
    port_capacity = model.line_sector_capacity_per_day[port].sum() * days
    expelled = result.metric("departures:title42_expulsion").sum(axis=(1, 2))
    assert (expelled < 0.7 * port_capacity).all()  # ports wait for transport, not for the port
    assert (result.metric("waiting_for_port")[:, -1].sum(axis=1) > 1000).all()
    placed = result.metric("departures:uac_transfer").sum(axis=(1, 2))
    placements = model.line_national_capacity_per_day[hhs]
    assert (placed > 0.25 * placements * days).all()
    assert (placed <= placements * days).all()


def test_other_crews_before_agents_and_agents_never_on_detection() -> None:
    base = stable_model()
    headcount = base.crew_headcount.copy()
    # Processing coordinators enough for every post they may take, the hour's expected arrivals
    # included.
    headcount[:, :, 1] = 600.0
    result = simulate(base.replace(crew_headcount=headcount), replications=1, seed=6)
    for task in ("intake", "custody_watch", "transport"):
        assert totals(result, f"staff_hours:processing_coordinator:{task}") > 0.0, task
        assert totals(result, f"staff_hours:agent:{task}") == 0.0, task
    assert totals(result, "staff_hours:agent:detection") == 0.0
    assert totals(result, "staff_hours:processing_coordinator:detection") > 0.0
    scarce = simulate(base, replications=1, seed=6)  # 15 coordinators a sector: agents help
    assert totals(scarce, "staff_hours:agent:intake") > 0.0
    assert totals(scarce, "staff_hours:agent:detection") == 0.0
