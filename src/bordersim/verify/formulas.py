"""Closed-form and exact numerical results of queueing theory used to verify the event core.

References: Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing Theory* (4th ed., 2008):
M/M/1 and M/M/c (sec. 2.2-2.3, Erlang C), M/M/c/K (sec. 2.5), Pollaczek-Khinchine (sec. 5.1.1),
non-preemptive priorities (Cobham's formula, sec. 3.4.1), Jackson networks (sec. 4.2); Garnett,
Mandelbaum & Reiman (2002), "Designing a call center with impatient customers", for M/M/c+M
(Erlang A), here solved exactly as a birth-death chain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bordersim.errors import ModelError


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state measures of one queue. Waits are in queue (before service)."""

    p_wait: float  # probability an arriving (admitted) customer waits
    p_block: float  # probability an arrival is turned away (finite capacity)
    p_abandon: float  # probability an admitted customer abandons
    mean_wait: float  # mean wait of admitted customers (abandoning ones until they leave)
    mean_queue: float  # time-average number waiting
    mean_present: float  # time-average number waiting or in service


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            # named as `bordersim verify --case` takes it, as its own refusals are
            raise ModelError(f"--{name.replace('_', '-')} {value:g}: must be a positive number")


def _check_servers(servers: int) -> None:
    if int(servers) != servers or servers < 1:
        raise ModelError(f"--servers {servers!r}: must be a whole number, 1 or more")


#: The most states of the birth-death chain summed, one Python step each: about ten seconds.
MAX_STATES = 10_000_000


def _check_states(servers: int, capacity: int | None) -> None:
    """Refuse at once a chain longer than `MAX_STATES`, naming the option that makes it so: it
    was summed for half a minute and then refused as "parameters too extreme"."""
    why = "(the states the exact formula sums)"
    if capacity is not None and capacity > MAX_STATES:
        raise ModelError(f"--capacity {capacity}: must be at most {MAX_STATES:,} {why}")
    if capacity is None and servers >= MAX_STATES:  # the chain runs past the servers
        raise ModelError(f"--servers {servers}: must be below {MAX_STATES:,} for erlang-a {why}")


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability of waiting in M/M/c with offered load a = lambda/mu < c (Erlang C)."""
    c, a = servers, offered_load
    if a >= c:
        raise ModelError(f"M/M/c is unstable: offered load {a:g} >= servers {c}")
    # Erlang B by its stable recursion, then C = B / (1 - rho (1 - B)).
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def mmc(arrival_rate: float, service_rate: float, servers: int) -> QueueMetrics:
    _check_positive(arrival_rate=arrival_rate, service_rate=service_rate)
    _check_servers(servers)
    a = arrival_rate / service_rate
    pw = erlang_c(servers, a)
    wq = pw / (servers * service_rate - arrival_rate)
    lq = arrival_rate * wq
    return QueueMetrics(pw, 0.0, 0.0, wq, lq, lq + a)


def birth_death(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    capacity: int | None = None,
    patience_rate: float = 0.0,
) -> QueueMetrics:
    """Exact M/M/c/K and M/M/c+M (Erlang A) measures from the stationary birth-death chain.

    Without a capacity, the chain is truncated where the remaining probability is below 1e-16
    (abandonment makes the tail decay faster than geometrically).
    """
    _check_positive(arrival_rate=arrival_rate, service_rate=service_rate)
    _check_servers(servers)
    if capacity is not None and (int(capacity) != capacity or capacity < servers):
        raise ModelError(
            f"--capacity {capacity!r}: must be a whole number, at least --servers ({servers})"
        )
    if patience_rate < 0 or not math.isfinite(patience_rate):
        raise ModelError(f"--patience-rate {patience_rate:g}: must be 0 or more")
    if capacity is None and patience_rate == 0 and arrival_rate >= servers * service_rate:
        raise ModelError(
            f"queue is unstable: arrival rate {arrival_rate:g} >= servers x service rate "
            f"{servers * service_rate:g}, and neither a capacity nor abandonment bounds it"
        )
    _check_states(servers, capacity)
    weights = [1.0]
    last = 1.0  # weights[-1], or the weight of the state before this part of the chain
    total = 1.0  # sum(weights), kept as it grows: summing the list each step was quadratic
    # The weights a^n / n! outgrow a float for hundreds of servers (900^n / n! passes 1e308):
    # the chain is then cut into parts, each kept with the log of the scale it was divided by.
    parts: list[tuple[list[float], float]] = []
    log_scale = 0.0
    n = 0
    while True:
        if capacity is not None and n >= capacity:
            break
        death = min(n + 1, servers) * service_rate + max(n + 1 - servers, 0) * patience_rate
        w = last * arrival_rate / death
        if not (math.isfinite(w) and math.isfinite(total + w)):
            parts.append((weights, log_scale))
            log_scale += math.log(last)
            total /= last
            weights, last = [], 1.0
            w = arrival_rate / death
            if not math.isfinite(w):
                raise ModelError("birth-death chain overflows; parameters too extreme")
        weights.append(w)
        last = w
        total += w
        n += 1
        if capacity is None and n > servers and w < 1e-16 * total:
            break
        if n > MAX_STATES:
            raise ModelError("birth-death chain did not converge; parameters too extreme")
    if parts:  # each earlier part in the last one's scale (the earliest fall to 0)
        parts.append((weights, log_scale))
        p = np.concatenate([np.asarray(part) * math.exp(ls - log_scale) for part, ls in parts])
    else:
        p = np.asarray(weights)
    p /= p.sum()
    states = np.arange(len(p))
    queue = np.maximum(states - servers, 0)
    lq = float((p * queue).sum())
    ln = float((p * states).sum())
    p_block = float(p[-1]) if capacity is not None else 0.0
    admitted = arrival_rate * (1.0 - p_block)
    # PASTA: an admitted arrival waits when it finds all servers busy.
    p_busy = float(p[servers:].sum())
    p_wait = (p_busy - p_block) / (1.0 - p_block)
    p_abandon = patience_rate * lq / admitted
    return QueueMetrics(p_wait, p_block, p_abandon, lq / admitted, lq, ln)


def mg1_wait(arrival_rate: float, mean_service: float, second_moment: float) -> float:
    """Pollaczek-Khinchine mean wait in M/G/1: lambda E[S^2] / (2 (1 - rho))."""
    rho = arrival_rate * mean_service
    if rho >= 1:
        raise ModelError(f"M/G/1 is unstable: utilisation {rho:g} >= 1")
    return arrival_rate * second_moment / (2.0 * (1.0 - rho))


def priority_waits(
    arrival_rates: Sequence[float], mean_services: Sequence[float], second_moments: Sequence[float]
) -> list[float]:
    """Mean waits per class in a non-preemptive priority M/G/1 (class 0 first), Cobham."""
    w0 = sum(lam * m2 for lam, m2 in zip(arrival_rates, second_moments, strict=True)) / 2.0
    waits = []
    sigma = 0.0
    for lam, mean in zip(arrival_rates, mean_services, strict=True):
        before = sigma
        sigma += lam * mean
        if sigma >= 1:
            raise ModelError(f"priority queue is unstable: utilisation {sigma:g} >= 1")
        waits.append(w0 / ((1.0 - before) * (1.0 - sigma)))
    return waits


def tandem_sojourn(arrival_rate: float, stations: Sequence[tuple[float, int]]) -> float:
    """Mean time through M/M/c stations in series (Jackson: each behaves as an M/M/c)."""
    total = 0.0
    for service_rate, servers in stations:
        m = mmc(arrival_rate, service_rate, servers)
        total += m.mean_wait + 1.0 / service_rate
    return total
