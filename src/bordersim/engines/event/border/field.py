"""The field (docs/model.md steps 4-6): detection, interdiction and pickup, apprehension.

Exact continuous-time queueing per sector: an M/M/c+M system with two priority lines (pickups
before interdictions, FCFS within), exponential service and patience, the number of servers `c`
set every hour by dispatch without interrupting services. Apprehension is at service start.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.border import decompression
from bordersim.engines.event.border import health as health_module
from bordersim.engines.event.border.crossings import DETECTED, SURRENDERS, Arrivals
from bordersim.engines.event.border.layout import (
    F_GOTAWAY,
    F_KNOWN_BEFORE,
    F_SURRENDERED,
    K_DETECTED,
    K_ENCOUNTERS,
    K_GOTAWAYS,
    K_SURRENDERED,
    K_UNIQUE,
)
from bordersim.engines.event.border.queues import (
    NIL,
    heap_pop,
    heap_push,
    pop_head,
    push_tail,
    unlink_after,
)
from bordersim.engines.event.border.state import (
    ER,
    FIELD,
    INTERDICTIONS,
    PICKUPS,
    REL,
    Clock,
    Custody,
    Field,
    Health,
    Lines,
    Metrics,
    Model,
    Plan,
    Rows,
    World,
)
from bordersim.engines.event.core.rng import exponential, uniform


@njit(cache=True, inline="always")
def draw_pathway(u: float, cdf: np.ndarray) -> int:
    """The pathway whose cumulative share first exceeds the uniform `u`."""
    for p in range(cdf.shape[0] - 1):
        if u < cdf[p]:
            return p
    return cdf.shape[0] - 1


@njit(cache=True, inline="always")
def _patience(ops: np.ndarray, mean: float) -> float:
    """An exponential patience; an infinite mean means waiting forever."""
    if not math.isfinite(mean):
        return np.inf
    return exponential(ops, mean)


@njit(cache=True, inline="always")
def _got_away(leader: int, s: int, clock: Clock, rows: Rows, out: Metrics) -> None:
    size = rows.group_size[leader]
    for i in range(leader, leader + size):
        rows.flags[i] |= F_GOTAWAY
    out.daily[clock.day, s, out.col[K_GOTAWAYS]] += size


@njit(cache=True, inline="always")
def apprehend(
    i: int,
    t: float,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    custody: Custody,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> bool:
    """Row `i` is apprehended at `t`: an encounter with its pathway, in custody (of its sector
    or, moved by lateral decompression, of another) waiting for intake. False when the health
    module's member list is full (the run needs more room)."""
    origin = rows.sec[i]
    g = rows.grp[i]
    d = clock.day
    rows.t_app[i] = t
    # Encounters count where they happen; custody, processing and departure belong to the
    # sector that holds the person (the receiver, when lateral decompression moves them).
    out.daily[d, origin, out.col[K_ENCOUNTERS]] += 1
    if rows.attempt[i] == 1 and not rows.flags[i] & F_KNOWN_BEFORE:
        out.daily[d, origin, out.col[K_UNIQUE]] += 1
    s = decompression.destination(origin, g, d, m, plan, out)
    rows.sec[i] = s
    custody.occupancy[s] += 1
    custody.person_hours[s] += clock.hour_end - t
    p = draw_pathway(rows.pathway_u[i], m.pathway_cdf[d, g])
    # Step 6: while the sector's release is open, a removal may become a release, and every
    # release takes the policy's paperwork (parole, a notice to report).
    if p == ER and custody.valve_open[s] and uniform(ops) < m.release_share[d, s]:
        p = REL
    rows.pathway[i] = p
    work = m.intake_hours[p]
    if p == REL and custody.valve_open[s]:
        work = m.release_intake_hours
    rows.work_left[i] = work
    push_tail(
        lines.intake_head, lines.intake_tail, s * m.n_classes + m.priority_class[g], rows.nxt, i
    )
    lines.n_intake[s] += 1
    lines.intake_work[s] += work
    plan.need_intake[s] += work
    plan.arrived_intake[s] += work
    if m.health_enabled:
        return health_module.admit(i, t, d, True, m, ops, rows, health, out)
    return True


@njit(cache=True, inline="always")
def _start_services(
    s: int,
    t: float,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    field: Field,
    custody: Custody,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> bool:
    """Free agents take waiting groups at `t` (pickups first, FCFS); a group whose patience
    ended is a got-away. False when the run needs more room."""
    while field.n_busy[s] < field.n_servers[s]:
        q = 2 * s + PICKUPS
        if lines.field_head[q] == NIL:
            q = 2 * s + INTERDICTIONS
            if lines.field_head[q] == NIL:
                break
        leader = pop_head(lines.field_head, lines.field_tail, q, rows.nxt)
        if rows.give_up_at[leader] < t:
            _got_away(leader, s, clock, rows, out)
            continue
        if q == 2 * s + PICKUPS:
            service = exponential(ops, m.field_hours_per_pickup)
        else:
            service = exponential(ops, m.field_hours_per_interdiction)
        plan.need_field[s] += service
        heap_push(field.busy, field.n_busy, s, t + service)
        for i in range(leader, leader + rows.group_size[leader]):
            if not apprehend(i, t, clock, m, ops, rows, lines, custody, health, plan, out):
                return False
    return True


@njit(cache=True, inline="always")
def _arrive(
    leader: int,
    kind: int,
    s: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    out: Metrics,
) -> None:
    """A crossing group arrives: it waits for pickup or interdiction, or got away unseen."""
    t = rows.t_arr[leader]
    g = rows.grp[leader]
    size = rows.group_size[leader]
    d = clock.day
    if kind == SURRENDERS:
        for i in range(leader, leader + size):
            rows.flags[i] |= F_SURRENDERED
        out.daily[d, s, out.col[K_SURRENDERED]] += size
        rows.give_up_at[leader] = t + _patience(ops, m.pickup_patience_hours)
        push_tail(lines.field_head, lines.field_tail, 2 * s + PICKUPS, rows.nxt, leader)
    elif kind == DETECTED:
        out.daily[d, s, out.col[K_DETECTED]] += size
        rows.give_up_at[leader] = t + _patience(ops, m.interdiction_patience_hours[g])
        push_tail(lines.field_head, lines.field_tail, 2 * s + INTERDICTIONS, rows.nxt, leader)
    else:
        _got_away(leader, s, clock, rows, out)


@njit(cache=True, inline="always")
def _walk_offs(s: int, clock: Clock, rows: Rows, lines: Lines, out: Metrics) -> None:
    """Groups whose patience ran out during the hour walked off."""
    for q in range(2 * s, 2 * s + 2):
        prev = NIL
        i = lines.field_head[q]
        while i != NIL:
            following = rows.nxt[i]
            if rows.give_up_at[i] <= clock.hour_end:
                unlink_after(lines.field_head, lines.field_tail, q, rows.nxt, prev, i)
                _got_away(i, s, clock, rows, out)
            else:
                prev = i
            i = following


@njit(cache=True, inline="always")
def field_hour(
    s: int,
    first: int,
    last: int,
    arrivals: Arrivals,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    w: World,
) -> bool:
    """Sector `s`'s field events of the hour in time order: arrivals `first` to `last` (in
    `arrivals.order`) and agents finishing. False when the run needs more room."""
    rows, lines, field, custody, health, plan, out = (
        w.rows,
        w.lines,
        w.field,
        w.custody,
        w.health,
        w.plan,
        w.out,
    )
    arrival = first
    t = float(clock.hour)
    while True:
        if not _start_services(s, t, clock, m, ops, rows, lines, field, custody, health, plan, out):
            return False
        # Next event: an agent finishing, or an arrival.
        t_done = field.busy[s, 0] if field.n_busy[s] > 0 else np.inf
        t_next = np.inf
        if arrival < last:
            t_next = rows.t_arr[arrivals.leader[arrivals.order[arrival]]]
        if t_done <= t_next and t_done <= clock.hour_end:
            t = heap_pop(field.busy, field.n_busy, s)
            continue
        if arrival >= last:
            break
        k = arrivals.order[arrival]
        arrival += 1
        t = rows.t_arr[arrivals.leader[k]]
        _arrive(arrivals.leader[k], arrivals.kind[k], s, clock, m, ops, rows, lines, out)
    _walk_offs(s, clock, rows, lines, out)
    out.daily[clock.day, s, out.need_col[FIELD]] += plan.need_field[s]
    return True
