"""One replication of the border model (docs/model.md), compiled whole with Numba.

Continuous time, individual people. The hour is the control step of the model: `run_replication`
calls one function per step of docs/model.md, in its order, over named bundles of state
(`state`): dispatch (`dispatch`), the hour's crossings (`crossings`), detection, interdiction and
pickup (`field`), processing (`processing`), departures (`departures`), then health (`health`),
supplies (`supplies`) and the hour's metrics. Every person's crossing attempt is one row of
`state.Rows` (see `queues` for how rows wait in lines); a re-attempt is a new row of the same
person.

Random numbers come from the event core's xoshiro256** streams (`engines.event.core.rng`): `ops`
for operations and `demand` for first attempts, so a replication depends only on its seed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bordersim.engines.event.border import (
    decompression,
    departures,
    dispatch,
    field,
    health,
    processing,
)
from bordersim.engines.event.border.crossings import Arrivals, cross, draw_day, rows_needed
from bordersim.engines.event.border.layout import (
    F_INITIAL_CUSTODY,
    K_BACKLOG,
    K_CAPACITY,
    K_COST_CUSTODY,
    K_COST_DECOMPRESSION,
    K_COST_STAFF,
    K_COST_SUPPLIES,
    K_COST_TOTAL,
    K_OCC_MEAN,
    K_OCC_PEAK,
    K_STOCK,
    K_VALVE_HOURS,
    OK,
    OVERFLOW,
)
from bordersim.engines.event.border.queues import push_tail
from bordersim.engines.event.border.release import open_releases
from bordersim.engines.event.border.state import (
    DETERMINATION,
    HIST_LAST,
    INTAKE,
    TRANSPORT,
    Clock,
    Metrics,
    Model,
    Storage,
    World,
    new_custody,
    new_field,
    new_health,
    new_lines,
    new_plan,
    new_rows,
    new_supplies,
    unmanaged,
)
from bordersim.engines.event.border.supplies import supply_hour
from bordersim.engines.event.core.rng import exponential, uniform


@njit(cache=True)
def _result(status: int, w: World):
    """What the driver reads: status, rows used, daily metrics, histogram, per-row columns."""
    r = w.rows
    n = r.n_rows[0]
    return (
        status,
        n,
        w.out.daily,
        w.out.hist,
        r.person[:n],
        r.grp[:n],
        r.sec[:n],
        r.attempt[:n],
        r.t_arr[:n],
        r.t_app[:n],
        r.t_int[:n],
        r.t_det[:n],
        r.t_dep[:n],
        r.pathway[:n],
        r.flags[:n],
    )


@njit(cache=True)
def new_world(
    m: Model,
    storage: Storage,
    col: np.ndarray,
    staff_col: np.ndarray,
    need_col: np.ndarray,
    line_col: np.ndarray,
) -> World:
    n_days, n_sec, n_grp = m.first_attempts_per_day.shape
    n_crews, n_tasks = m.crew_tasks.shape
    out = Metrics(
        np.zeros((n_days, n_sec, storage.n_metrics)),
        np.zeros((n_sec, 2, HIST_LAST + 1)),
        col,
        staff_col,
        need_col,
        line_col,
    )
    n_lines = m.line_national.shape[0]
    return World(
        new_rows(storage.n_cap),
        new_lines(n_sec, m.n_classes, m.n_hours, n_lines),
        new_field(n_sec, n_grp, storage.heap_cap),
        new_custody(m, n_sec),
        new_health(m, storage, n_sec, n_crews),
        new_supplies(m, n_sec),
        new_plan(n_sec, n_crews, n_tasks, n_lines),
        out,
    )


@njit(cache=True)
def _initial_national_stays(m: Model, ops: np.ndarray, w: World) -> None:
    """The hours at which the national beds (ICE, HHS) occupied at the start free."""
    for line in range(m.line_national.shape[0]):
        if not m.line_national[line]:
            continue
        stay = m.line_length_of_stay_days[line]
        for _ in range(round(m.line_initial_occupancy[line])):
            hr = int(exponential(ops, stay * 24.0))
            if hr < m.n_hours:
                w.custody.national_freed_at[line, hr] += 1.0


@njit(cache=True)
def _place_initial_custody(m: Model, ops: np.ndarray, storage: Storage, w: World) -> bool:
    """People in custody at the start: apprehended at hour 0, waiting for intake. False when
    the run needs more room."""
    rows, lines = w.rows, w.lines
    n_sec, n_grp = m.initial_custody.shape
    for s in range(n_sec):
        for g in range(n_grp):
            for _ in range(round(m.initial_custody[s, g])):
                i = rows.n_rows[0]
                if i >= storage.n_cap:
                    return False
                rows.n_rows[0] += 1
                rows.person[i] = rows.n_persons[0]
                rows.n_persons[0] += 1
                rows.grp[i] = g
                rows.sec[i] = s
                rows.attempt[i] = 1
                rows.flags[i] = F_INITIAL_CUSTODY
                rows.t_arr[i] = 0.0
                rows.t_app[i] = 0.0
                p = field.draw_pathway(uniform(ops), m.pathway_cdf[0, g])
                rows.pathway[i] = p
                rows.work_left[i] = m.intake_hours[p]
                q = s * m.n_classes + m.priority_class[g]
                push_tail(lines.intake_head, lines.intake_tail, q, rows.nxt, i)
                lines.n_intake[s] += 1
                lines.intake_work[s] += m.intake_hours[p]
                w.custody.occupancy[s] += 1
                if m.health_enabled and not health.admit(
                    i, 0.0, 0, False, m, ops, rows, w.health, w.out
                ):
                    return False
    return True


@njit(cache=True, inline="always")
def _start_day(clock: Clock, m: Model, demand: np.ndarray, w: World) -> None:
    """The day's first attempts, daily limits renewed, the release policies (on yesterday's
    results, `release`), capacity and staff cost."""
    d = clock.day
    daily, col = w.out.daily, w.out.col
    custody = w.custody
    draw_day(d, m, demand, w.field)
    custody.shelter_used[:] = 0.0
    # Daily national limits: an hour may use the unused shares of earlier hours of the same
    # day, never those of yesterday.
    custody.national_allowance[:] = 0.0
    for line in range(m.line_national.shape[0]):
        custody.national_beds[line] = m.line_beds[line] + m.line_beds_added[d, line]
    n_sec = custody.occupancy.shape[0]
    if d > 0 and m.release_valve_enabled:
        open_releases(d, m, daily, col, custody.valve_open)
    for s in range(n_sec):
        daily[d, s, col[K_CAPACITY]] = m.custody_capacity[d, s]
        if custody.valve_open[s]:
            daily[d, s, col[K_VALVE_HOURS]] = 24.0
        for c in range(m.crew_pool.shape[0]):
            daily[d, s, col[K_COST_STAFF]] += (
                m.crew_headcount[d, s, c] * m.cost_per_person_day[m.crew_pool[c]]
            )


@njit(cache=True, inline="always")
def _start_hour(clock: Clock, m: Model, w: World) -> None:
    """Beds freed, staff back, infections over."""
    for line in range(m.line_national.shape[0]):
        w.custody.national_occupied[line] -= w.custody.national_freed_at[line, clock.hour]
    if m.health_enabled:
        health.start_hour(clock, w.health)


@njit(cache=True, inline="always")
def _field(arrivals: Arrivals, clock: Clock, m: Model, ops: np.ndarray, w: World) -> bool:
    """Steps 4-6 in each sector, on its share of the hour's arrivals (sorted by sector)."""
    k = 0
    n_groups = arrivals.order.shape[0]
    for s in range(w.custody.occupancy.shape[0]):
        first = k
        while k < n_groups and int(arrivals.key[arrivals.order[k]]) == s:
            k += 1
        if not field.field_hour(s, first, k, arrivals, clock, m, ops, w):
            return False
    return True


@njit(cache=True, inline="always")
def _close_hour(s: int, clock: Clock, m: Model, ops: np.ndarray, w: World) -> None:
    """Steps 9-11 for sector `s`: health, supplies, the hour's metrics and the day's close."""
    if m.health_enabled:
        health.transmit(s, clock, m, ops, w.rows, w.custody, w.health, w.out)
        health.infect_staff(s, clock, m, ops, w.health, w.plan, w.out)
    supply_hour(s, clock, m, w)
    d = clock.day
    daily, col, need_col = w.out.daily, w.out.col, w.out.need_col
    custody, plan, lines = w.custody, w.plan, w.lines
    daily[d, s, col[K_OCC_MEAN]] += custody.person_hours[s] / 24.0
    daily[d, s, col[K_OCC_PEAK]] = max(daily[d, s, col[K_OCC_PEAK]], float(custody.occupancy[s]))
    daily[d, s, need_col[INTAKE]] += plan.need_intake[s]
    daily[d, s, need_col[DETERMINATION]] += plan.need_det[s]
    daily[d, s, need_col[TRANSPORT]] += plan.need_transport[s]
    if clock.hour_of_day == 23:
        daily[d, s, col[K_BACKLOG]] = lines.n_intake[s] + lines.n_det[s] + lines.n_hold[s]
        for line in range(m.line_national.shape[0]):
            daily[d, s, w.out.line_col[line]] = lines.n_line[line, s]
        daily[d, s, col[K_STOCK]] = w.supplies.stock[s]
        daily[d, s, col[K_COST_CUSTODY]] += daily[d, s, col[K_OCC_MEAN]] * (
            m.cost_per_custody_person_day
        )
        daily[d, s, col[K_COST_TOTAL]] = (
            daily[d, s, col[K_COST_STAFF]]
            + daily[d, s, col[K_COST_CUSTODY]]
            + daily[d, s, col[K_COST_SUPPLIES]]
            + daily[d, s, col[K_COST_DECOMPRESSION]]
        )


@njit(cache=True, nogil=True)
def run_replication(
    ops: np.ndarray,
    demand: np.ndarray,
    m_arrays: Model,
    storage: Storage,
    col: np.ndarray,
    staff_col: np.ndarray,
    need_col: np.ndarray,
    line_col: np.ndarray,
):
    """One replication: `ops` and `demand` are its two random streams (xoshiro256** states)."""
    owner = new_world(m_arrays, storage, col, staff_col, need_col, line_col)
    # The steps work on views of the state and the model that are not reference-counted;
    # `owner` (and the caller's model) keep the memory alive until the result is taken.
    w = unmanaged(owner)
    m = unmanaged(m_arrays)
    n_sec = w.custody.occupancy.shape[0]
    _initial_national_stays(m, ops, w)
    if not _place_initial_custody(m, ops, storage, w):
        return _result(OVERFLOW, owner)
    for h in range(m.n_hours):
        clock = Clock(h, h // 24, h % 24, float(h + 1))
        if clock.hour_of_day == 0:
            _start_day(clock, m, demand, w)
        _start_hour(clock, m, w)
        departures.plan_departures(clock, m, w.rows, w.lines, w.custody, w.plan)
        decompression.plan_hour(clock, m, w.custody, w.plan)
        for s in range(n_sec):
            dispatch.dispatch(s, clock, m, w)
        decompression.open_hour(m, w.plan)
        n_new = rows_needed(clock, w.lines, w.field)
        if w.rows.n_rows[0] + n_new > storage.n_cap:
            return _result(OVERFLOW, owner)
        arrivals = cross(n_new, clock, m, demand, ops, w.rows, w.lines, w.field, w.out)
        if not _field(arrivals, clock, m, ops, w):
            return _result(OVERFLOW, owner)
        for s in range(n_sec):
            processing.intake(s, clock, m, ops, w.rows, w.lines, w.health, w.plan, w.out)
            processing.determination(
                s, clock, m, ops, w.rows, w.lines, w.custody, w.health, w.plan, w.out
            )
        departures.move_lines(clock, m, ops, w.rows, w.lines, w.custody, w.health, w.plan, w.out)
        for s in range(n_sec):
            _close_hour(s, clock, m, ops, w)
    return _result(OK, owner)
