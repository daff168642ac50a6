"""Properties every run must have, on random small networks."""

from __future__ import annotations

import numpy as np
from event_core_networks import networks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bordersim.engines.event.core import OUTCOMES, Network, Simulator, compile_network

SERVED = next(k for k, v in OUTCOMES.items() if v == "served")
BLOCKED = next(k for k, v in OUTCOMES.items() if v == "blocked")
HORIZON = 60.0

property_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _run(network: Network, seed: int, cuts: int = 1) -> Simulator:
    sim = Simulator(network, seed, record=True)
    for k in range(1, cuts + 1):
        sim.run_until(HORIZON * k / cuts)
    return sim


@property_settings
@given(networks(), st.integers(0, 2**32))
def test_every_customer_is_accounted_for(network: Network, seed: int) -> None:
    sim = _run(network, seed)
    s = sim.summary()
    for cls in compile_network(network).class_names:
        assert s.arrived(cls) == (
            s.exited(cls) + s.network_abandoned(cls) + s.network_blocked(cls) + sim.in_system(cls)
        )
    assert sim.in_system() == sim.queue_length() + sim.in_service()
    assert s.arrived() == sim.customers_created


@property_settings
@given(networks(), st.integers(0, 2**32))
def test_records_are_consistent_in_time(network: Network, seed: int) -> None:
    rec = _run(network, seed).records()
    started = ~np.isnan(rec.start)
    ended = ~np.isnan(rec.end)
    assert np.all(rec.start[started] >= rec.arrive[started])  # never served before arrival
    assert np.all(rec.end[ended] >= rec.arrive[ended])
    both = started & ended
    assert np.all(rec.end[both] >= rec.start[both])
    assert np.all(started[rec.outcome == SERVED])
    assert np.all(~started[rec.outcome == BLOCKED])
    assert np.all((rec.pool >= 0) == started)
    # Visits of one customer follow each other in time.
    order = np.lexsort((rec.arrive, rec.customer))
    same = rec.customer[order][1:] == rec.customer[order][:-1]
    prev_end = rec.end[order][:-1][same]
    assert np.all(rec.arrive[order][1:][same] == prev_end)


def _headcount_at(network: Network, pool: int, t: float) -> int:
    p = network.pools[pool]
    count = p.headcount
    for when, n in sorted(p.schedule, key=lambda e: e[0]):
        if when <= t:
            count = n
    return count


@property_settings
@given(networks(), st.integers(0, 2**32))
def test_servers_and_places_are_never_overused(network: Network, seed: int) -> None:
    rec = _run(network, seed).records()
    started = ~np.isnan(rec.start)
    for k in range(len(network.pools)):
        mine = started & (rec.pool == k)
        starts, ends = rec.start[mine], np.nan_to_num(rec.end[mine], nan=np.inf)
        for t in np.unique(starts):
            busy = int(np.sum((starts <= t) & (ends > t)))
            # A cut in headcount lets busy servers finish, so the bound holds when service starts.
            began_now = int(np.sum(starts == t))
            assert busy - began_now < _headcount_at(network, k, t) or began_now == 0
            assert busy <= max(_headcount_at(network, k, t), busy - began_now)
    for s, station in enumerate(network.stations):
        if station.capacity is None:
            continue
        here = (rec.station == s) & (rec.outcome != BLOCKED)
        arrive, end = rec.arrive[here], np.nan_to_num(rec.end[here], nan=np.inf)
        for t in arrive:
            assert int(np.sum((arrive <= t) & (end > t))) <= station.capacity


@settings(max_examples=15, deadline=None)
@given(networks(), st.integers(0, 2**32), st.integers(2, 7))
def test_same_seed_same_run_however_it_is_cut(network: Network, seed: int, cuts: int) -> None:
    a = _run(network, seed).records()
    b = _run(network, seed, cuts).records()
    for column in ("customer", "customer_class", "station", "outcome", "pool"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column))
    for column in ("arrive", "start", "end"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column))


@property_settings
@given(networks(), st.integers(0, 2**32))
def test_counts_after_a_statistics_reset_match_the_records(network: Network, seed: int) -> None:
    # Arrivals, services ended and network arrivals are derived from occupancy at read time;
    # they must count exactly the visits in the window, customers present at the reset aside.
    sim = Simulator(network, seed, record=True)
    reset_at = HORIZON / 2
    sim.run_until(reset_at)
    created_before = sim.customers_created
    sim.reset_statistics()
    sim.run_until(HORIZON)
    s = sim.summary()
    rec = sim.records()
    compiled = compile_network(network)
    for si, station in enumerate(compiled.station_names):
        for ci, cls in enumerate(compiled.class_names):
            visits = (rec.station == si) & (rec.customer_class == ci)
            arrived = visits & (rec.arrive > reset_at)
            served = visits & (rec.outcome == SERVED) & (rec.end > reset_at)
            assert s.arrivals(station, cls) == int(arrived.sum())
            assert s.served(station, cls) == int(served.sum())
    assert s.arrived() == sim.customers_created - created_before
