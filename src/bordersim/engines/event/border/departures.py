"""Departures from custody (docs/model.md step 8): lines, transport sharing, leaving.

A person who finished determination and is past their minimum time in custody either leaves at
once (a release) or joins the departure line of their pathway's route (model/routes.py): a
sector line (their sector's port, for expulsions and returns) or a national line (ICE for
removals, HHS for children). Each hour, every line moves, in table order, as far as its room
(a sector line's allowance; free beds within the day's transfers or placements on a national
line) and its sector's transport allow.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.border import health as health_module
from bordersim.engines.event.border.layout import (
    F_SHELTER,
    K_COST_CUSTODY,
    K_CUSTODY_HOURS,
    K_DEPARTURES,
    K_EXITS,
    K_EXITS_72,
    K_STREET,
    K_UAC_EXITS,
    K_UAC_EXITS_72,
)
from bordersim.engines.event.border.queues import NIL, pop_head, push_tail, unlink_after
from bordersim.engines.event.border.state import (
    EPS,
    HIST_LAST,
    NATIONALITIES,
    UAC_DEMOGRAPHIC,
    Clock,
    Custody,
    Health,
    Lines,
    Metrics,
    Model,
    Plan,
    Rows,
)
from bordersim.engines.event.core.rng import exponential, uniform


@njit(cache=True, inline="always")
def line_of(i: int, m: Model, rows: Rows) -> int:
    """The departure line of row `i` (by its pathway and demographic); -1 when it leaves at once
    (releases)."""
    return m.route_line[rows.pathway[i], rows.grp[i] // NATIONALITIES]


@njit(cache=True, inline="always")
def earliest_departure(i: int, m: Model, rows: Rows) -> float:
    """The end of row `i`'s minimum time in custody."""
    return rows.t_app[i] + m.min_custody_hours[rows.pathway[i]]


@njit(cache=True, inline="always")
def national_places(custody: Custody, line: int) -> int:
    """Free beds of a national line within this hour's transfers or placements."""
    beds = custody.national_beds[line]
    return min(
        math.floor(beds - custody.national_occupied[line] + EPS),
        math.floor(custody.national_allowance[line] + EPS),
    )


@njit(cache=True, inline="always")
def _record_exit(
    i: int, t: float, clock: Clock, m: Model, rows: Rows, custody: Custody, out: Metrics
) -> None:
    """Row `i` leaves custody at `t`: occupancy, time in custody and exits by pathway."""
    s = rows.sec[i]
    p = rows.pathway[i]
    d = clock.day
    rows.t_dep[i] = t
    custody.occupancy[s] -= 1
    custody.person_hours[s] -= clock.hour_end - t
    stay = t - rows.t_app[i]
    is_uac = rows.grp[i] // NATIONALITIES == UAC_DEMOGRAPHIC
    daily, col = out.daily, out.col
    daily[d, s, col[K_EXITS]] += 1
    daily[d, s, col[K_CUSTODY_HOURS]] += stay
    daily[d, s, col[K_DEPARTURES + p]] += 1
    if stay > m.custody_standard_hours:
        daily[d, s, col[K_EXITS_72]] += 1
    if is_uac:
        daily[d, s, col[K_UAC_EXITS]] += 1
        if stay > m.uac_standard_hours:
            daily[d, s, col[K_UAC_EXITS_72]] += 1
    if d >= m.warmup_days:
        b = min(int(stay), HIST_LAST)
        out.hist[s, 0, b] += 1
        if is_uac:
            out.hist[s, 1, b] += 1


@njit(cache=True, inline="always")
def _schedule_reattempt(
    i: int, t: float, clock: Clock, m: Model, ops: np.ndarray, rows: Rows, lines: Lines
) -> None:
    """An expelled or returned person comes back, with the regime's probability, later."""
    g = rows.grp[i]
    regime = 1 if m.title42_active[clock.day] else 0
    if uniform(ops) < m.repeat_probability[regime, g]:
        tr = t + exponential(ops, m.repeat_delay_mean_days[g] * 24.0)
        tr = max(tr, clock.hour_end)
        hr = int(tr)
        if hr < m.n_hours:
            rows.reattempt_at[i] = tr
            rows.nxt[i] = lines.reattempt_head[hr]
            lines.reattempt_head[hr] = i
            lines.reattempt_count[hr] += 1


@njit(cache=True, inline="always")
def depart(
    i: int,
    t: float,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    custody: Custody,
    health: Health,
    out: Metrics,
) -> None:
    """Person `i` leaves CBP custody at time `t` (within the clock's hour)."""
    s = rows.sec[i]
    p = rows.pathway[i]
    _record_exit(i, t, clock, m, rows, custody, out)
    if line_of(i, m, rows) < 0:
        if custody.shelter_used[s] + 1.0 <= m.shelter_intake_per_day[s] + EPS:
            custody.shelter_used[s] += 1.0
            rows.flags[i] |= F_SHELTER
        else:
            out.daily[clock.day, s, out.col[K_STREET]] += 1
    if m.route_reattempt[p, rows.grp[i] // NATIONALITIES]:
        _schedule_reattempt(i, t, clock, m, ops, rows, lines)
    if m.health_enabled:
        health_module.leave(i, clock, m, rows, health, out)


@njit(cache=True, inline="always")
def join_line(i: int, m: Model, rows: Rows, lines: Lines, plan: Plan) -> None:
    """Person `i` joins their departure line, adding its transport work."""
    s = rows.sec[i]
    p = rows.pathway[i]
    work = m.transport_hours_per_person[p]
    lines.transport_work[s] += work
    plan.need_transport[s] += work
    line = line_of(i, m, rows)
    if m.line_national[line]:
        push_tail(lines.national_head, lines.national_tail, line, rows.nxt, i)
    else:
        n_sec = lines.n_line.shape[1]
        push_tail(lines.sector_head, lines.sector_tail, line * n_sec + s, rows.nxt, i)
    lines.n_line[line, s] += 1


@njit(cache=True, inline="always")
def finish_processing(
    i: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    custody: Custody,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> None:
    """Row `i` finished determination: held to its minimum, released, or into its line."""
    earliest = earliest_departure(i, m, rows)
    if earliest > rows.t_det[i]:
        hr = min(int(earliest), m.n_hours)
        push_tail(lines.hold_head, lines.hold_tail, hr, rows.nxt, i)
        lines.n_hold[rows.sec[i]] += 1
    elif line_of(i, m, rows) < 0:
        depart(i, rows.t_det[i], clock, m, ops, rows, lines, custody, health, out)
    else:
        join_line(i, m, rows, lines, plan)


@njit(cache=True, inline="always")
def _open_sector_line(
    line: int, s: int, m: Model, rows: Rows, lines: Lines, custody: Custody, plan: Plan
) -> None:
    """Sector `s`'s places on a sector line this hour (what is left of the last hour, at most one
    place, plus the hour's share of the day's capacity), and the work of those waiting who fit."""
    custody.sector_allowance[line, s] = (
        min(custody.sector_allowance[line, s], 1.0) + m.line_sector_capacity_per_day[line, s] / 24.0
    )
    i = lines.sector_head[line * custody.occupancy.shape[0] + s]
    k = 0
    while i != NIL and k + 1 <= custody.sector_allowance[line, s] + EPS:
        plan.transport_sizing[s] += m.transport_hours_per_person[rows.pathway[i]]
        k += 1
        i = rows.nxt[i]
    plan.sector_taken[line, s] = k


@njit(cache=True, inline="always")
def _open_national_line(
    line: int, m: Model, rows: Rows, lines: Lines, custody: Custody, plan: Plan
) -> None:
    """A national line's places this hour, and the work of those waiting who fit, by sector."""
    left = national_places(custody, line)
    i = lines.national_head[line]
    while i != NIL and left > 0:
        plan.transport_sizing[rows.sec[i]] += m.transport_hours_per_person[rows.pathway[i]]
        left -= 1
        i = rows.nxt[i]
    plan.national_room[line] = left


@njit(cache=True, inline="always")
def plan_departures(
    clock: Clock, m: Model, rows: Rows, lines: Lines, custody: Custody, plan: Plan
) -> None:
    """Open the hour's room on every line and estimate the departures transport is sized for.

    Known at the hour's start: people already in a line (within the hour's allowance on sector
    lines, free beds within the transfers or placements on national lines) and people whose
    minimum time in custody ends this hour. Those who will finish determination during the hour
    are estimated per sector at dispatch, once its processing staff are known.
    """
    n_sec = custody.occupancy.shape[0]
    n_lines = m.line_national.shape[0]
    plan.transport_sizing[:] = 0.0
    plan.ahead_n[:] = 0.0
    plan.ahead_w[:] = 0.0
    for line in range(n_lines):
        if not m.line_national[line]:
            for s in range(n_sec):
                _open_sector_line(line, s, m, rows, lines, custody, plan)
    for line in range(n_lines):
        if m.line_national[line]:
            custody.national_allowance[line] += m.line_national_capacity_per_day[line] / 24.0
    for line in range(n_lines):
        if m.line_national[line]:
            _open_national_line(line, m, rows, lines, custody, plan)
    i = lines.hold_head[clock.hour]
    while i != NIL:
        p = rows.pathway[i]
        line = line_of(i, m, rows)
        if line >= 0:
            plan.ahead_n[rows.sec[i], line] += 1.0
            plan.ahead_w[rows.sec[i], line] += m.transport_hours_per_person[p]
        i = rows.nxt[i]


@njit(cache=True, inline="always")
def release_held(
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    custody: Custody,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> None:
    """People whose minimum time in custody ends this hour: releases leave at that time, the
    others join their line then."""
    h = clock.hour
    i = lines.hold_head[h]
    while i != NIL:
        following = rows.nxt[i]
        lines.n_hold[rows.sec[i]] -= 1
        if line_of(i, m, rows) < 0:
            depart(
                i, earliest_departure(i, m, rows), clock, m, ops, rows, lines, custody, health, out
            )
        else:
            join_line(i, m, rows, lines, plan)
        i = following
    lines.hold_head[h] = NIL
    lines.hold_tail[h] = NIL


@njit(cache=True, inline="always")
def share_transport(m: Model, rows: Rows, lines: Lines, custody: Custody, plan: Plan) -> None:
    """Split each sector's transport among its lines in proportion to the transport work that
    could leave on each within the hour's limits, so no line starves the others."""
    n_sec = custody.occupancy.shape[0]
    n_lines = m.line_national.shape[0]
    plan.line_work[:] = 0.0
    for line in range(n_lines):
        if m.line_national[line]:
            continue
        for s in range(n_sec):
            i = lines.sector_head[line * n_sec + s]
            k = 0
            while i != NIL and k + 1 <= custody.sector_allowance[line, s] + EPS:
                plan.line_work[s, line] += m.transport_hours_per_person[rows.pathway[i]]
                k += 1
                i = rows.nxt[i]
    for line in range(n_lines):
        if not m.line_national[line]:
            continue
        left = national_places(custody, line)
        i = lines.national_head[line]
        while i != NIL and left > 0:
            plan.line_work[rows.sec[i], line] += m.transport_hours_per_person[rows.pathway[i]]
            left -= 1
            i = rows.nxt[i]
    for s in range(n_sec):
        total = 0.0
        for line in range(n_lines):
            total += plan.line_work[s, line]
        for line in range(n_lines):
            plan.line_budget[s, line] = (
                plan.transport_cap[s] * plan.line_work[s, line] / total if total > 0.0 else 0.0
            )


@njit(cache=True, inline="always")
def _transport_short(s: int, line: int, need: float, sharing: int, plan: Plan) -> bool:
    """Whether sector `s` lacks transport for `need` on `line`: first within the line's share,
    then (second round) within whatever the sector has left."""
    if sharing == 0:
        return need > plan.line_budget[s, line] + EPS
    return plan.transport_used[s] + need > plan.transport_cap[s] + EPS


@njit(cache=True, inline="always")
def _transport_done(
    i: int, s: int, line: int, need: float, clock: Clock, m: Model, rows: Rows, plan: Plan
) -> float:
    """Spend `need` of sector `s`'s transport on row `i`; the time it leaves: the point of the
    hour that transport reaches, not before its determination or minimum time in custody."""
    plan.line_budget[s, line] -= need
    plan.transport_used[s] += need
    cap = plan.transport_cap[s]
    frac = plan.transport_used[s] / cap if cap > 0 else 0.0
    return min(
        max(clock.hour + frac, rows.t_det[i], earliest_departure(i, m, rows)), clock.hour_end
    )


@njit(cache=True, inline="always")
def depart_sector_line(
    line: int,
    s: int,
    sharing: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    custody: Custody,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> None:
    """Sector `s`'s line (a port) moves while its allowance and the transport last."""
    q = line * custody.occupancy.shape[0] + s
    while lines.sector_head[q] != NIL and custody.sector_allowance[line, s] >= 1.0 - EPS:
        i = lines.sector_head[q]
        need = m.transport_hours_per_person[rows.pathway[i]]
        if _transport_short(s, line, need, sharing, plan):
            break
        custody.sector_allowance[line, s] -= 1.0
        pop_head(lines.sector_head, lines.sector_tail, q, rows.nxt)
        lines.n_line[line, s] -= 1
        lines.transport_work[s] -= need
        t = _transport_done(i, s, line, need, clock, m, rows, plan)
        if m.line_cost_per_person[line] > 0.0:
            out.daily[clock.day, s, out.col[K_COST_CUSTODY]] += m.line_cost_per_person[line]
        depart(i, t, clock, m, ops, rows, lines, custody, health, out)


@njit(cache=True, inline="always")
def _place_national(
    t: float,
    line: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    lines: Lines,
    custody: Custody,
    out: Metrics,
    s: int,
) -> None:
    """A person of sector `s` takes a bed of national line `line` at `t`; the stay's end frees
    it."""
    hr = int(t + exponential(ops, m.line_length_of_stay_days[line] * 24.0))
    lines.n_line[line, s] -= 1
    custody.national_occupied[line] += 1.0
    custody.national_allowance[line] -= 1.0
    if hr < m.n_hours:
        custody.national_freed_at[line, hr] += 1.0
    if m.line_cost_per_person[line] > 0.0:
        out.daily[clock.day, s, out.col[K_COST_CUSTODY]] += m.line_cost_per_person[line]


@njit(cache=True, inline="always")
def depart_national(
    line: int,
    sharing: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    custody: Custody,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> None:
    """A national line moves FCFS across sectors while beds and transfers last; a sector out of
    transport is skipped (its people keep their place), and the walk stops once every sector
    with someone waiting is out."""
    n_sec = custody.occupancy.shape[0]
    free = national_places(custody, line)
    n_open = 0
    for s in range(n_sec):
        plan.blocked[s] = lines.n_line[line, s] == 0
        if not plan.blocked[s]:
            n_open += 1
    n_blocked = 0
    prev = NIL
    i = lines.national_head[line]
    while i != NIL and free > 0 and n_blocked < n_open:
        following = rows.nxt[i]
        s = rows.sec[i]
        need = m.transport_hours_per_person[rows.pathway[i]]
        if plan.blocked[s] or _transport_short(s, line, need, sharing, plan):
            if not plan.blocked[s]:
                plan.blocked[s] = True
                n_blocked += 1
            prev = i
            i = following
            continue
        t = _transport_done(i, s, line, need, clock, m, rows, plan)
        lines.transport_work[s] -= need
        unlink_after(lines.national_head, lines.national_tail, line, rows.nxt, prev, i)
        free -= 1
        _place_national(t, line, clock, m, ops, lines, custody, out, s)
        depart(i, t, clock, m, ops, rows, lines, custody, health, out)
        i = following


@njit(cache=True, inline="always")
def move_lines(
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    custody: Custody,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> None:
    """Step 8 for the hour: the held who may go, transport shared, then every line moves; what
    a line could not use (less than one person's work) is open to all lines in a second round."""
    release_held(clock, m, ops, rows, lines, custody, health, plan, out)
    share_transport(m, rows, lines, custody, plan)
    n_sec = custody.occupancy.shape[0]
    n_lines = m.line_national.shape[0]
    for sharing in range(2):
        for line in range(n_lines):
            if not m.line_national[line]:
                for s in range(n_sec):
                    depart_sector_line(
                        line, s, sharing, clock, m, ops, rows, lines, custody, health, plan, out
                    )
        for line in range(n_lines):
            if m.line_national[line]:
                depart_national(
                    line, sharing, clock, m, ops, rows, lines, custody, health, plan, out
                )
