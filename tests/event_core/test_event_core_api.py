"""The simulator's controls and guarantees: injections, headcount, schedules, errors."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from bordersim.engines.event.core import (
    Arrivals,
    BatchSize,
    CustomerClass,
    Deterministic,
    Empirical,
    Exponential,
    Network,
    Pool,
    Simulator,
    Station,
    simulate,
)
from bordersim.errors import ModelError


def desk(headcount: int = 1, rate: float | list[float] = 0.0, **station: object) -> Network:
    return Network(
        stations=[Station("desk", service=Deterministic(1.0), **station)],  # type: ignore[arg-type]
        pools=[Pool("clerks", headcount=headcount, skills={"desk": 1.0})],
        classes=[CustomerClass("walk-in"), CustomerClass("urgent", priority=-1)],
        arrivals=[Arrivals("desk", "walk-in", rate=rate)] if rate else [],
    )


def test_injected_customers_queue_and_are_served_in_order() -> None:
    sim = Simulator(desk(), seed=0, record=True)
    sim.inject("desk", "walk-in", n=3, time=2.0)
    sim.run_until(2.0)
    assert sim.in_service("desk") == 1 and sim.queue_length("desk") == 2
    sim.run_until(10.0)
    rec = sim.records()
    np.testing.assert_array_equal(rec.start, [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(rec.end, [3.0, 4.0, 5.0])
    assert sim.summary().mean_wait("desk") == pytest.approx(1.0)


def test_priority_class_overtakes_waiting_customers_but_not_the_one_in_service() -> None:
    sim = Simulator(desk(), seed=0, record=True)
    sim.inject("desk", "walk-in", n=3, time=0.0)
    sim.inject("desk", "urgent", n=1, time=0.5)
    sim.run_until(10.0)
    rec = sim.records()
    urgent = rec.customer_class == 1
    assert rec.start[urgent][0] == 1.0  # right after the service under way
    assert sorted(rec.start[~urgent]) == [0.0, 2.0, 3.0]


def test_headcount_changes_start_and_stop_service() -> None:
    sim = Simulator(desk(headcount=0), seed=0)
    sim.inject("desk", "walk-in", n=4)
    sim.run_until(5.0)
    assert sim.queue_length() == 4 and sim.busy("clerks") == 0
    sim.set_headcount("clerks", 2)
    sim.run_until(5.5)
    assert sim.busy("clerks") == 2 and sim.queue_length() == 2
    sim.set_headcount("clerks", 0)  # busy clerks finish, nobody new starts
    sim.run_until(7.0)
    assert sim.busy("clerks") == 0 and sim.queue_length() == 2
    assert sim.summary().served("desk") == 2


def test_scheduled_shifts_follow_the_pool_schedule() -> None:
    net = Network(
        stations=[Station("desk", service=Deterministic(0.25))],
        pools=[Pool("clerks", 0, {"desk": 1.0}, schedule=[(8.0, 3), (16.0, 0)])],
        classes=[CustomerClass("walk-in")],
    )
    sim = Simulator(net, seed=0, record=True)
    sim.inject("desk", "walk-in", n=30, time=1.0)
    sim.run_until(24.0)
    starts = sim.records().start
    assert np.nanmin(starts) == 8.0
    assert sim.summary().utilisation("clerks") == pytest.approx(30 * 0.25 / (3 * 8.0))


def test_changes_listed_at_one_time_settle_to_the_last_before_anyone_starts() -> None:
    # Two rows for one pool at one instant: the last listed holds from that instant, and the
    # passing headcount of 2 must not start a service in between.
    net = Network(
        stations=[Station("desk", service=Deterministic(0.25))],
        pools=[Pool("clerks", 0, {"desk": 1.0}, schedule=[(2.0, 2), (2.0, 0), (3.0, 1)])],
        classes=[CustomerClass("walk-in")],
    )
    sim = Simulator(net, seed=0, record=True)
    sim.inject("desk", "walk-in", n=2, time=1.0)
    sim.run_until(10.0)
    np.testing.assert_array_equal(sim.records().start, [3.0, 3.25])


def test_set_headcount_called_twice_at_one_time_settles_to_the_last_call() -> None:
    # As with a schedule's rows: the passing headcount of 2 started both services at 2.0.
    net = Network(
        stations=[Station("desk", service=Deterministic(0.25))],
        pools=[Pool("clerks", 0, {"desk": 1.0})],
        classes=[CustomerClass("walk-in")],
    )
    sim = Simulator(net, seed=0, record=True)
    sim.inject("desk", "walk-in", n=2, time=1.0)
    sim.set_headcount("clerks", 2, time=2.0)
    sim.set_headcount("clerks", 0, time=2.0)
    sim.set_headcount("clerks", 1, time=3.0)
    sim.run_until(2.5)
    assert sim.headcount("clerks") == 0 and sim.busy("clerks") == 0
    sim.run_until(10.0)
    np.testing.assert_array_equal(sim.records().start, [3.0, 3.25])
    # a later call at a time already reached is a new change, applied from then
    sim.set_headcount("clerks", 3)
    sim.run_until(10.0)
    assert sim.headcount("clerks") == 3


def test_speed_of_a_pool_scales_its_service_times() -> None:
    net = Network(
        stations=[Station("desk", service=Deterministic(2.0))],
        pools=[Pool("fast", 1, {"desk": 4.0})],
        classes=[CustomerClass("walk-in")],
    )
    sim = Simulator(net, 0, record=True)
    sim.inject("desk", "walk-in", 1)
    sim.run_until(5.0)
    assert sim.records().end[0] == 0.5


def test_fastest_free_pool_serves_first_and_pools_share_stations() -> None:
    net = Network(
        stations=[
            Station("a", service=Deterministic(1.0)),
            Station("b", service=Deterministic(1.0)),
        ],
        pools=[Pool("slow", 1, {"a": 1.0, "b": 1.0}), Pool("fast", 1, {"a": 2.0})],
        classes=[CustomerClass("x")],
    )
    sim = Simulator(net, 0, record=True)
    sim.inject("a", "x", 1)
    sim.inject("b", "x", 1)
    sim.run_until(3.0)
    rec = sim.records()
    assert list(rec.pool) == [1, 0]  # "a" to the fast pool; "b" only the slow one can serve
    np.testing.assert_array_equal(rec.end, [0.5, 1.0])


def test_capacity_blocks_and_patience_abandons() -> None:
    net = Network(
        stations=[Station("desk", service=Deterministic(10.0), capacity=2)],
        pools=[Pool("clerks", 1, {"desk": 1.0})],
        classes=[CustomerClass("walk-in", patience=Deterministic(3.0))],
    )
    sim = Simulator(net, 0, record=True)
    sim.inject("desk", "walk-in", n=4, time=1.0)
    sim.run_until(20.0)
    s = sim.summary()
    assert (s.blocked("desk"), s.abandoned("desk"), s.served("desk")) == (2, 1, 1)
    rec = sim.records()
    abandoned = rec.outcome == 2
    assert rec.end[abandoned][0] == 4.0 and math.isnan(rec.start[abandoned][0])


def test_routing_moves_customers_on_and_exits() -> None:
    net = Network(
        stations=[
            Station("a", service=Deterministic(1.0)),
            Station("b", service=Deterministic(2.0)),
        ],
        pools=[Pool("p", 5, {"a": 1.0, "b": 1.0})],
        classes=[CustomerClass("x", routing={"a": {"b": 1.0}})],
    )
    sim = Simulator(net, 0, record=True)
    sim.inject("a", "x", 2)
    sim.run_until(10.0)
    s = sim.summary()
    assert s.exited() == 2 and s.mean_sojourn() == 3.0
    assert list(sim.records().station) == [0, 0, 1, 1]


def test_piecewise_rates_and_batches_give_the_expected_counts() -> None:
    net = Network(
        stations=[Station("desk", service=Exponential(100.0))],
        pools=[Pool("clerks", 50, {"desk": 1.0})],
        classes=[CustomerClass("x")],
        arrivals=[
            Arrivals(
                "desk",
                "x",
                rate=[0.0, 200.0],
                period=1.0,
                cyclic=True,
                batch=BatchSize((1, 3), (0.5, 0.5)),
            ),
        ],
    )
    sim = Simulator(net, 3, record=True)
    sim.run_until(100.0)
    rec = sim.records()
    hour = np.floor(rec.arrive).astype(int)
    assert np.all(hour % 2 == 1)  # nobody arrives in the zero-rate hours
    expected = 50 * 200.0 * 2.0  # 50 busy hours, 200 batches/hour, 2 per batch on average
    assert abs(len(rec) - expected) < 4 * math.sqrt(expected * 2.5)  # var of compound Poisson
    sizes = np.bincount(np.unique(rec.arrive, return_counts=True)[1])
    assert set(np.nonzero(sizes)[0]) == {1, 3}


def test_empirical_service_draws_only_observed_values() -> None:
    net = Network(
        stations=[Station("desk", service=Empirical([0.5, 1.5]))],
        pools=[Pool("p", 100, {"desk": 1.0})],
        classes=[CustomerClass("x")],
        arrivals=[Arrivals("desk", "x", rate=20.0)],
    )
    sim = Simulator(net, 1, record=True)
    sim.run_until(50.0)
    rec = sim.records()
    done = ~np.isnan(rec.end)
    durations = np.round(rec.end[done] - rec.start[done], 9)
    assert set(durations) == {0.5, 1.5}


def test_statistics_reset_discards_the_warm_up() -> None:
    sim = Simulator(desk(rate=0.5), 4)
    sim.run_until(100.0)
    before = sim.summary().arrivals("desk")
    sim.reset_statistics()
    assert sim.summary().arrivals("desk") == 0
    sim.run_until(200.0)
    after = sim.summary()
    assert after.since == 100.0 and after.duration == 100.0
    assert after.arrivals("desk") > 0 and before > 0


def test_simulate_is_simulator_in_one_call() -> None:
    one = simulate(desk(rate=0.5), 300.0, seed=9, warmup=50.0)
    sim = Simulator(desk(rate=0.5), 9)
    sim.run_until(50.0)
    sim.reset_statistics()
    sim.run_until(300.0)
    np.testing.assert_array_equal(one.station_class, sim.summary().station_class)


def test_different_seeds_give_different_runs() -> None:
    a = simulate(desk(rate=0.5), 200.0, seed=1).station_class
    b = simulate(desk(rate=0.5), 200.0, seed=2).station_class
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (
            lambda: Network(
                [Station("a", service=Exponential(1.0))],
                [Pool("p", 1, {"b": 1.0})],
                [CustomerClass("x")],
            ),
            "unknown station 'b'",
        ),
        (
            lambda: Network(
                [Station("a", service=Exponential(1.0))],
                [Pool("p", -1, {"a": 1.0})],
                [CustomerClass("x")],
            ),
            "headcount must be a whole number >= 0",
        ),
        (
            lambda: Network(
                [Station("a", service=Exponential(1.0))],
                [Pool("p", 1, {"a": 1.0})],
                [CustomerClass("x", routing={"a": {"a": 0.8, "a ": 0.1}})],
            ),
            "unknown station 'a '",
        ),
        (
            lambda: Network(
                [Station("a", service=Exponential(1.0)), Station("b")],
                [Pool("p", 1, {"a": 1.0})],
                [CustomerClass("x", routing={"a": {"b": 1.0}})],
                [Arrivals("a", "x", 1.0)],
            ),
            "no service time for class 'x'",
        ),
        (
            lambda: Network(
                [Station("a", service=Exponential(1.0))],
                [Pool("p", 1, {"a": 1.0})],
                [CustomerClass("x")],
                [Arrivals("a", "x", -2.0)],
            ),
            "rate must be",
        ),
        (
            lambda: Network(
                [Station("a", service=Exponential(1.0)), Station("b", service=Exponential(1.0))],
                [Pool("p", 1, {"a": 1.0})],
                [CustomerClass("x", routing={"a": {"b": 0.7, "a": 0.6}})],
            ),
            "sum to 1.3",
        ),
        (
            lambda: Network(
                [Station("a", service=Exponential(1.0), capacity=0)], [], [CustomerClass("x")]
            ),
            "capacity must be a whole number >= 1",
        ),
        (lambda: Network([Station("a"), Station("a")], [], [CustomerClass("x")]), "used twice"),
    ],
)
def test_bad_networks_are_refused_with_a_clear_message(network, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match=message.replace("(", r"\(")):
        Simulator(network(), 0)


def test_bad_distribution_parameters_are_refused() -> None:
    with pytest.raises(ModelError, match=r"Exponential\.rate must be a positive"):
        Exponential(0.0)
    with pytest.raises(ModelError, match=r"BatchSize\.probabilities"):
        BatchSize((1, 2), (0.5, 0.6))


def test_bad_controls_are_refused() -> None:
    sim = Simulator(desk(), 0)
    sim.run_until(5.0)
    with pytest.raises(ModelError, match="run_until needs a finite time >= now"):
        sim.run_until(4.0)
    with pytest.raises(ModelError, match="inject time must be finite and >= now"):
        sim.inject("desk", "walk-in", 1, time=1.0)
    with pytest.raises(ModelError, match="unknown station 'nowhere'"):
        sim.inject("nowhere", "walk-in")
    with pytest.raises(ModelError, match="headcount must be a whole number"):
        sim.set_headcount("clerks", -3)
    with pytest.raises(ModelError, match="record=True"):
        sim.records()
    with pytest.raises(ModelError, match="seed"):
        Simulator(desk(), -1)


def test_large_injections_and_headcount_jumps_grow_the_arrays() -> None:
    sim = Simulator(desk(), 0, record=True)
    sim.inject("desk", "walk-in", n=5000, time=1.0)
    sim.set_headcount("clerks", 3000, time=2.0)
    sim.run_until(10.0)
    s = sim.summary()
    assert s.arrived() == 5000 and s.served("desk") == 5000
    assert len(sim.records()) == 5000


def test_a_profile_with_a_vanishing_rate_never_arrives_and_returns_at_once() -> None:
    # The next arrival inverts the cumulative rate and skips whole cycles: a rate of 1e-300 in one
    # piece of a cyclic profile used to walk one piece per loop until its arrival (forever).
    # Run in a child process so that a regression fails on the timeout instead of hanging.
    code = """
from bordersim.engines.event.core import Arrivals, CustomerClass, Exponential, Network, Pool
from bordersim.engines.event.core import Simulator, Station
for rates in ([1e-300, 0.0], [0.0, 1e-12, 0.0], [5e-324, 0.0]):
    for cyclic in (True, False):
        net = Network(
            stations=[Station("desk", service=Exponential(1.0))],
            pools=[Pool("clerks", 1, {"desk": 1.0})],
            classes=[CustomerClass("x")],
            arrivals=[Arrivals("desk", "x", rate=rates, period=0.5, cyclic=cyclic)],
        )
        sim = Simulator(net, 5, record=True)
        sim.run_until(1000.0)
        assert sim.customers_created == 0, (rates, cyclic, sim.customers_created)
"""
    done = subprocess.run([sys.executable, "-c", code], timeout=300, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_cyclic_profile_gives_its_mean_count_in_every_piece() -> None:
    # 20 seeds of a cyclic profile 0, 2, 1 per unit time over 300 cycles: 600 and 300 arrivals per
    # seed in the two busy pieces, none in the idle one (Poisson: sd 24.5 and 17.3 per seed).
    counts = np.zeros((20, 3))
    for seed in range(20):
        net = Network(
            stations=[Station("desk", service=Exponential(10.0))],
            pools=[Pool("clerks", 5, {"desk": 1.0})],
            classes=[CustomerClass("x")],
            arrivals=[Arrivals("desk", "x", rate=[0.0, 2.0, 1.0], period=1.0, cyclic=True)],
        )
        sim = Simulator(net, seed, record=True)
        sim.run_until(900.0)
        phase = np.floor(sim.records().arrive).astype(int) % 3
        counts[seed] = np.bincount(phase, minlength=3)
    mean = counts.mean(axis=0)
    assert mean[0] == 0
    assert abs(mean[1] - 600) < 4 * 24.5 / math.sqrt(20)
    assert abs(mean[2] - 300) < 4 * 17.3 / math.sqrt(20)
