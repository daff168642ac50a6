"""The theory cases: each a network for the event core, the measures to compare, and the theory.

A case's `measures` read one batch's `Summary`; the runner turns batch values into a mean and a
confidence interval. Every case also checks Little's law on the whole network (see `runner`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bordersim.engines.event.core import (
    Arrivals,
    CustomerClass,
    Deterministic,
    Distribution,
    Exponential,
    Lognormal,
    Network,
    Pool,
    Station,
    Summary,
)
from bordersim.errors import ModelError
from bordersim.verify import formulas as F


@dataclass(frozen=True)
class Measure:
    name: str
    analytic: float
    read: Callable[[Summary], float]
    #: the chance per customer of the event the measure is made of (a wait, a block, an
    #: abandonment), which says how rare it is whatever the unit of time; None where every
    #: customer contributes (a sojourn), so that it is never too rare to judge
    chance: float | None = None


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    network: Network
    arrival_rate: float  # customers per time unit entering the network
    measures: tuple[Measure, ...]


def _single(
    arrival_rate: float,
    service: Distribution,
    servers: int,
    capacity: int | None = None,
    patience_rate: float | None = None,
) -> Network:
    patience = Exponential(patience_rate) if patience_rate else None
    return Network(
        stations=[Station("queue", service=service, capacity=capacity)],
        pools=[Pool("servers", headcount=servers, skills={"queue": 1.0})],
        classes=[CustomerClass("customer", patience=patience)],
        arrivals=[Arrivals("queue", "customer", rate=arrival_rate)],
    )


def _wait(s: Summary) -> float:
    return s.mean_wait("queue")


def _prob_wait(s: Summary) -> float:
    # Share of admitted customers who could not start at once: a positive wait.
    return _ratio(s.delayed("queue"), s.started("queue"))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def _check_rates(arrival_rate: float, service_rate: float) -> None:
    # named as `bordersim verify --case` takes them, as its own refusals are
    for name, value in (("--arrival-rate", arrival_rate), ("--service-rate", service_rate)):
        if not (math.isfinite(value) and value > 0):  # inf is no rate: "unstable" said otherwise
            raise ModelError(f"{name} {value:g}: must be a positive number")


def mm1(arrival_rate: float = 0.7, service_rate: float = 1.0) -> Case:
    _check_rates(arrival_rate, service_rate)
    if arrival_rate >= service_rate:
        raise ModelError(
            f"M/M/1 is unstable: arrival rate {arrival_rate:g} >= service rate {service_rate:g}"
        )
    m = F.mmc(arrival_rate, service_rate, 1)
    return Case(
        "mm1",
        f"M/M/1, lambda={arrival_rate:g}, mu={service_rate:g}",
        _single(arrival_rate, Exponential(service_rate), 1),
        arrival_rate,
        (
            Measure("mean wait", m.mean_wait, _wait, m.p_wait),
            Measure(
                "mean number present",
                m.mean_present,
                lambda s: s.mean_number_present("queue"),
                m.p_wait,  # someone is present exactly when an arrival would wait
            ),
        ),
    )


def mmc(arrival_rate: float = 9.0, service_rate: float = 1.0, servers: int = 10) -> Case:
    _check_rates(arrival_rate, service_rate)
    if arrival_rate >= servers * service_rate:
        raise ModelError(
            f"M/M/c is unstable: arrival rate {arrival_rate:g} >= servers x service rate "
            f"{servers * service_rate:g}; add --capacity (mmck) or --patience-rate (erlang-a)"
        )
    m = F.mmc(arrival_rate, service_rate, servers)
    return Case(
        "mmc",
        f"M/M/c (Erlang C), lambda={arrival_rate:g}, mu={service_rate:g}, c={servers}",
        _single(arrival_rate, Exponential(service_rate), servers),
        arrival_rate,
        (
            Measure("P(wait)", m.p_wait, _prob_wait, m.p_wait),
            Measure("mean wait", m.mean_wait, _wait, m.p_wait),
        ),
    )


def mmck(
    arrival_rate: float = 9.0, service_rate: float = 1.0, servers: int = 10, capacity: int = 15
) -> Case:
    _check_rates(arrival_rate, service_rate)
    m = F.birth_death(arrival_rate, service_rate, servers, capacity=capacity)
    return Case(
        "mmck",
        f"M/M/c/K, lambda={arrival_rate:g}, mu={service_rate:g}, c={servers}, K={capacity}",
        _single(arrival_rate, Exponential(service_rate), servers, capacity=capacity),
        arrival_rate,
        (
            Measure("P(blocked)", m.p_block, lambda s: s.blocking_probability("queue"), m.p_block),
            Measure("mean wait", m.mean_wait, _wait, m.p_wait),
        ),
    )


def erlang_a(
    arrival_rate: float = 9.0,
    service_rate: float = 1.0,
    servers: int = 10,
    patience_rate: float = 0.5,
) -> Case:
    _check_rates(arrival_rate, service_rate)
    if not (math.isfinite(patience_rate) and patience_rate > 0):  # inf: "must be >= 0" said
        raise ModelError(f"--patience-rate {patience_rate:g}: must be a positive number")
    m = F.birth_death(arrival_rate, service_rate, servers, patience_rate=patience_rate)
    return Case(
        "erlang-a",
        f"M/M/c+M (Erlang A), lambda={arrival_rate:g}, mu={service_rate:g}, c={servers}, "
        f"theta={patience_rate:g}",
        _single(arrival_rate, Exponential(service_rate), servers, patience_rate=patience_rate),
        arrival_rate,
        (
            Measure(
                "P(abandon)",
                m.p_abandon,
                lambda s: s.abandonment_probability("queue"),
                m.p_abandon,
            ),
            Measure("mean wait (all)", m.mean_wait, lambda s: s.mean_wait_all("queue"), m.p_wait),
        ),
    )


def mg1(arrival_rate: float = 0.7, service_rate: float = 1.0, service_cv: float = 1.0) -> Case:
    """M/G/1 with lognormal service of the given coefficient of variation (0: deterministic)."""
    _check_rates(arrival_rate, service_rate)
    if not (math.isfinite(service_cv) and service_cv >= 0):  # inf was "Lognormal.cv must be"
        raise ModelError(f"--service-cv {service_cv:g}: must be a finite number, 0 or more")
    mean = 1.0 / service_rate
    service: Distribution = (
        Deterministic(mean) if service_cv == 0 else Lognormal(mean=mean, cv=service_cv)
    )
    label = "deterministic" if service_cv == 0 else f"lognormal cv={service_cv:g}"
    wq = F.mg1_wait(arrival_rate, mean, mean**2 * (1.0 + service_cv**2))
    return Case(
        "mg1" if service_cv else "md1",
        f"M/G/1 (P-K), {label}, lambda={arrival_rate:g}, E[S]={mean:g}",
        _single(arrival_rate, service, 1),
        arrival_rate,
        # one server: an arrival waits when it is busy, a share rho of the time
        (Measure("mean wait", wq, _wait, arrival_rate * mean),),
    )


def priority(arrival_rates: tuple[float, float] = (0.3, 0.4), service_rate: float = 1.0) -> Case:
    """Two classes, non-preemptive priority, one exponential server."""
    for lam in arrival_rates:
        _check_rates(lam, service_rate)
    waits = F.priority_waits(arrival_rates, [1.0 / service_rate] * 2, [2.0 / service_rate**2] * 2)
    busy = sum(arrival_rates) / service_rate  # the one server's busy share: P(an arrival waits)
    net = Network(
        stations=[Station("queue", service=Exponential(service_rate))],
        pools=[Pool("server", headcount=1, skills={"queue": 1.0})],
        classes=[CustomerClass("high", priority=0), CustomerClass("low", priority=1)],
        arrivals=[
            Arrivals("queue", "high", rate=arrival_rates[0]),
            Arrivals("queue", "low", rate=arrival_rates[1]),
        ],
    )
    return Case(
        "priority",
        f"M/M/1 non-preemptive priority, lambda=({arrival_rates[0]:g}, {arrival_rates[1]:g}), "
        f"mu={service_rate:g}",
        net,
        sum(arrival_rates),
        (
            Measure("mean wait, high", waits[0], lambda s: s.mean_wait("queue", "high"), busy),
            Measure("mean wait, low", waits[1], lambda s: s.mean_wait("queue", "low"), busy),
        ),
    )


TANDEM_STATIONS = ((2.0, 1), (1.5, 1), (3.0, 1))


def tandem(
    arrival_rate: float = 1.0, stations: tuple[tuple[float, int], ...] = TANDEM_STATIONS
) -> Case:
    """Jackson tandem: stations in series, each (service rate, servers)."""
    names = [f"station{i + 1}" for i in range(len(stations))]
    sojourn = F.tandem_sojourn(arrival_rate, stations)
    routing = {names[i]: {names[i + 1]: 1.0} for i in range(len(names) - 1)}
    net = Network(
        stations=[
            Station(n, service=Exponential(mu)) for n, (mu, _) in zip(names, stations, strict=True)
        ],
        pools=[
            Pool(f"servers{i + 1}", headcount=c, skills={names[i]: 1.0})
            for i, (_, c) in enumerate(stations)
        ],
        classes=[CustomerClass("customer", routing=routing)],
        arrivals=[Arrivals(names[0], "customer", rate=arrival_rate)],
    )
    return Case(
        "tandem",
        f"Jackson tandem of {len(stations)} M/M/c, lambda={arrival_rate:g}, "
        "(mu, c)=" + ", ".join(f"({mu:g}, {c})" for mu, c in stations),
        net,
        arrival_rate,
        (Measure("mean sojourn", sojourn, lambda s: s.mean_sojourn()),),
    )


def default_cases() -> list[Case]:
    """The cases of `bordersim verify`, in order."""
    return [
        mm1(),
        mmc(),
        mmck(),
        erlang_a(),
        mg1(service_cv=0.0),
        mg1(service_cv=1.0),
        priority(),
        tandem(),
    ]
