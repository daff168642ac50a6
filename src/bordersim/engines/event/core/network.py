"""The declarative description of a queueing network: plain dataclasses a user writes by hand.

    Network(
        stations=[Station("desk", service=Exponential(1.0))],
        pools=[Pool("clerks", headcount=10, skills={"desk": 1.0})],
        classes=[CustomerClass("walk-in")],
        arrivals=[Arrivals("desk", "walk-in", rate=9.0)],
    )

Time has no unit of its own: rates, service times, patience and the arrival `period` must all use
the same one (the border model uses hours). `compile_network` checks the description and turns it
into arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bordersim.engines.event.core.distributions import BatchSize, Distribution


@dataclass(frozen=True)
class Station:
    """A queue with its waiting line, served by the pools that list it among their skills.

    `service` is the service time of a server of speed 1 (see `Pool.skills`); `service_by_class`
    overrides it for some classes. `capacity` bounds the customers present (waiting plus in
    service); an arrival that finds the station full is blocked and lost. Customers abandon while
    waiting here according to their class's patience unless `abandonment` is False.
    """

    name: str
    service: Distribution | None = None
    service_by_class: Mapping[str, Distribution] = field(default_factory=dict)
    capacity: int | None = None
    abandonment: bool = True


@dataclass(frozen=True)
class Pool:
    """Identical servers. `skills` maps each station the pool serves to its speed there.

    A server of speed 2 finishes a job in half the station's service time. `schedule` lists
    `(time, headcount)` changes (shifts, deployments); headcount is `headcount` before the first,
    and of several changes listed at one time the last holds from that time.
    A cut in headcount never interrupts a service: busy servers finish, then leave.
    """

    name: str
    headcount: int
    skills: Mapping[str, float]
    schedule: Sequence[tuple[float, int]] = ()


@dataclass(frozen=True)
class CustomerClass:
    """A kind of customer: its priority, patience and routing.

    Lower `priority` is served first (non-preemptive); equal priorities are first come, first
    served. `patience` is how long a customer waits in a queue before leaving the network
    (`None`: forever). `routing[a][b]` is the probability of going to station `b` after service at
    `a`; the rest of the row's probability (all of it for a station without a row) is exit.
    """

    name: str
    priority: int = 0
    patience: Distribution | None = None
    routing: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Arrivals:
    """A Poisson stream of customers of one class into one station.

    `rate` is customers (batches, with `batch`) per time unit: one number, or a piecewise-constant
    profile with one value per `period` (for example 24 hourly rates). A profile repeats when
    `cyclic`, otherwise its last value holds forever.
    """

    station: str
    customer_class: str
    rate: float | Sequence[float]
    period: float = 1.0
    cyclic: bool = True
    batch: BatchSize | None = None


@dataclass(frozen=True)
class Network:
    """Stations, pools of servers, customer classes and arrival streams."""

    stations: Sequence[Station]
    pools: Sequence[Pool]
    classes: Sequence[CustomerClass]
    arrivals: Sequence[Arrivals] = ()
