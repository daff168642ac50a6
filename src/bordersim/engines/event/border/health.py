"""Health in custody (docs/model.md step 10): infection at arrival, screening, transmission.

The interface, shared with the flow engine's `engines/flow/health.py` (same names, called at the
same points of the hour): `start_hour` (infections that end, staff back), `admit` (step 6, entering
custody), `screen` (step 7, end of intake), `leave` (step 8, leaving custody), `transmit` and
`infect_staff` (step 10, after departures). The formulas both engines share are in
`model/health_rules.py`, compiled here with Numba.

Each sector keeps a list of the rows in its custody (`Health.members`, swap-remove), so that the
hour's new infections fall on people drawn uniformly from those in custody.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.border.layout import (
    F_INFECTIOUS,
    F_ISOLATED,
    F_SYMPTOMATIC,
    K_INFECTIONS,
    K_INFECTIOUS_ARRIVALS,
    K_INFECTIOUS_EXPELLED,
    K_INFECTIOUS_RELEASED,
    K_INFECTIOUS_REMOVED,
    K_ISOLATED,
    K_ISOLATION_OVERFLOW,
    K_STAFF_DAYS_LOST,
)
from bordersim.engines.event.border.sampling import binomial, poisson
from bordersim.engines.event.border.state import (
    EPS,
    ER,
    REL,
    UAC,
    Clock,
    Custody,
    Health,
    Metrics,
    Model,
    Plan,
    Rows,
)
from bordersim.engines.event.core.rng import uniform
from bordersim.model import health_rules

_pressure = njit(cache=True, inline="always")(health_rules.transmission_pressure)
_staff_hazard = njit(cache=True, inline="always")(health_rules.staff_infection_hazard)
_infectious_hours = njit(cache=True, inline="always")(health_rules.infectious_hours)
_absence_hours = njit(cache=True, inline="always")(health_rules.staff_absence_hours)


@njit(cache=True, inline="always")
def _member_add(health: Health, s: int, row: int) -> bool:
    """Add `row` to sector `s`'s custody list; False when the sector's region is full."""
    slot = health.region[s] + health.n_members[s]
    if slot >= health.region[s + 1]:
        return False
    health.members[slot] = row
    health.member_slot[row] = health.n_members[s]
    health.n_members[s] += 1
    return True


@njit(cache=True, inline="always")
def _member_remove(health: Health, s: int, row: int) -> None:
    k = health.member_slot[row]
    health.n_members[s] -= 1
    last = health.members[health.region[s] + health.n_members[s]]
    health.members[health.region[s] + k] = last
    health.member_slot[last] = k
    health.member_slot[row] = -1


@njit(cache=True, inline="always")
def _fall_ill(i: int, m: Model, ops: np.ndarray, rows: Rows) -> None:
    """Row `i` is infected, and symptomatic with the model's share."""
    rows.flags[i] |= F_INFECTIOUS
    if uniform(ops) < m.symptomatic_fraction:
        rows.flags[i] |= F_SYMPTOMATIC


@njit(cache=True, inline="always")
def _infectious_from(i: int, t: float, m: Model, rows: Rows, health: Health) -> None:
    """Row `i`, infected at `t`, is infectious in general holding for the infectious days."""
    s = rows.sec[i]
    health.infectious_until[i] = t + _infectious_hours(m.infectious_days)
    health.infectious_general[s] += 1
    end = int(health.infectious_until[i])
    if end < m.n_hours:
        health.recoveries[end, s] += 1


@njit(cache=True, inline="always")
def admit(
    i: int,
    t: float,
    day: int,
    count: bool,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    health: Health,
    out: Metrics,
) -> bool:
    """Row `i` enters custody at `t`: infectious with the day's prevalence (counted as an
    infectious arrival when `count`). False when the sector's member list is full."""
    s = rows.sec[i]
    if not _member_add(health, s, i):
        return False
    if uniform(ops) < m.arrival_prevalence[day]:
        _fall_ill(i, m, ops, rows)
        _infectious_from(i, t, m, rows, health)
        if count:
            out.daily[day, s, out.col[K_INFECTIOUS_ARRIVALS]] += 1
    else:
        health.susceptible[s] += 1
    return True


@njit(cache=True, inline="always")
def screen(
    i: int, clock: Clock, m: Model, ops: np.ndarray, rows: Rows, health: Health, out: Metrics
) -> None:
    """At the end of intake, a symptomatic infectious person is found and isolated, if room."""
    flags = rows.flags[i]
    if not (flags & F_INFECTIOUS and flags & F_SYMPTOMATIC):
        return
    end = int(health.infectious_until[i])
    if end <= clock.hour or uniform(ops) >= m.screening_sensitivity:
        return
    s = rows.sec[i]
    d = clock.day
    if health.isolated[s] + 1 <= m.isolation_capacity[s] + EPS:
        rows.flags[i] |= F_ISOLATED
        health.isolated[s] += 1
        health.infectious_general[s] -= 1
        if end < m.n_hours:
            health.recoveries[end, s] -= 1
        out.daily[d, s, out.col[K_ISOLATED]] += 1
    else:
        out.daily[d, s, out.col[K_ISOLATION_OVERFLOW]] += 1


@njit(cache=True, inline="always")
def leave(i: int, clock: Clock, m: Model, rows: Rows, health: Health, out: Metrics) -> None:
    """Row `i` leaves custody: infectious departures counted by kind, the lists updated."""
    s = rows.sec[i]
    p = rows.pathway[i]
    d = clock.day
    if rows.flags[i] & F_INFECTIOUS:
        end = int(health.infectious_until[i])
        if end > clock.hour:
            if p == REL or p == UAC:  # noqa: SIM109 (compiled code: plain comparisons)
                out.daily[d, s, out.col[K_INFECTIOUS_RELEASED]] += 1
            elif p == ER:
                out.daily[d, s, out.col[K_INFECTIOUS_REMOVED]] += 1
            else:
                out.daily[d, s, out.col[K_INFECTIOUS_EXPELLED]] += 1
            if not rows.flags[i] & F_ISOLATED:
                health.infectious_general[s] -= 1
                if end < m.n_hours:
                    health.recoveries[end, s] -= 1
    else:
        health.susceptible[s] -= 1
    if rows.flags[i] & F_ISOLATED:
        health.isolated[s] -= 1
    _member_remove(health, s, i)


@njit(cache=True, inline="always")
def start_hour(clock: Clock, health: Health) -> None:
    """Infections that end and staff who come back at the hour's start."""
    h = clock.hour
    n_sec, n_crews = health.absent.shape
    for s in range(n_sec):
        health.infectious_general[s] -= health.recoveries[h, s]
        for c in range(n_crews):
            health.absent[s, c] = max(0.0, health.absent[s, c] - health.staff_back[h, s, c])


@njit(cache=True, inline="always")
def transmit(
    s: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    custody: Custody,
    health: Health,
    out: Metrics,
) -> None:
    """The hour's new infections in sector `s`'s general holding."""
    n_occ = custody.occupancy[s]
    if not (n_occ > 0 and health.infectious_general[s] > 0 and health.susceptible[s] > 0):
        return
    d = clock.day
    capacity = m.custody_capacity[d, s]
    crowding = n_occ / capacity if capacity > 0 else 1.0
    rate = _pressure(
        m.transmission_rate_per_day,
        health.infectious_general[s],
        n_occ,
        crowding,
        m.crowding_exponent,
    )
    new = binomial(ops, int(health.susceptible[s]), 1.0 - math.exp(-rate))
    tries = 0
    while new > 0 and tries < 100 * n_occ:
        tries += 1
        pick = health.members[health.region[s] + int(uniform(ops) * health.n_members[s])]
        if rows.flags[pick] & F_INFECTIOUS:
            continue
        _fall_ill(pick, m, ops, rows)
        # Infected at a uniform time within the hour, infectious for departures at once.
        _infectious_from(pick, clock.hour + uniform(ops), m, rows, health)
        health.susceptible[s] -= 1
        out.daily[d, s, out.col[K_INFECTIONS]] += 1
        new -= 1


@njit(cache=True, inline="always")
def infect_staff(
    s: int, clock: Clock, m: Model, ops: np.ndarray, health: Health, plan: Plan, out: Metrics
) -> None:
    """Staff on custody and processing posts infected this hour, absent for the absence days."""
    d = clock.day
    n_crews = health.absent.shape[1]
    if health.infectious_general[s] > 0:
        back = min(clock.hour + _absence_hours(m.staff_absence_days), m.n_hours)
        for c in range(n_crews):
            lam = _staff_hazard(
                plan.posts_people[s, c],
                m.staff_infection_rate_per_day,
                health.infectious_general[s],
            )
            sick = min(
                float(poisson(ops, lam)),
                max(0.0, m.crew_headcount[d, s, c] - health.absent[s, c]),
            )
            health.absent[s, c] += sick
            health.staff_back[back, s, c] += sick
    for c in range(n_crews):
        out.daily[d, s, out.col[K_STAFF_DAYS_LOST]] += health.absent[s, c] / 24.0
