"""Processing (docs/model.md step 7): intake then determination, in staff-hours.

Each hour a stage's capacity (productivity-hours dispatched) is spent on its line in priority
then FCFS order; a person whose work completes is done at `hour + used / capacity`, never before
they entered the stage; an unfinished person keeps the work left.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bordersim.engines.event.border import health as health_module
from bordersim.engines.event.border.departures import finish_processing, line_of
from bordersim.engines.event.border.queues import NIL, pop_head, push_tail
from bordersim.engines.event.border.state import (
    EPS,
    Clock,
    Custody,
    Health,
    Lines,
    Metrics,
    Model,
    Plan,
    Rows,
)


@njit(cache=True, inline="always")
def _next_done(
    q: int,
    s: int,
    capacity: float,
    used: float,
    head: np.ndarray,
    tail: np.ndarray,
    waiting_work: np.ndarray,
    rows: Rows,
) -> tuple[int, float]:
    """Spend capacity on the head of line `q`: (the row it finishes, capacity used), or NIL once
    the capacity is spent (the head keeps the work left; `used` then exceeds the capacity, so
    the lower classes get none)."""
    if head[q] == NIL or used >= capacity + EPS:
        return NIL, used
    i = head[q]
    work = rows.work_left[i]
    if used + work <= capacity + EPS:
        waiting_work[s] -= work
        pop_head(head, tail, q, rows.nxt)
        return i, used + work
    part = capacity - used
    rows.work_left[i] -= part
    waiting_work[s] -= part
    return NIL, capacity + 1.0


@njit(cache=True, inline="always")
def _done_at(clock: Clock, used: float, capacity: float, entered: float) -> float:
    done = clock.hour + (used / capacity if capacity > 0 else 0.0)
    return min(max(done, entered), clock.hour_end)


@njit(cache=True, inline="always")
def intake(
    s: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    health: Health,
    plan: Plan,
    out: Metrics,
) -> None:
    """Sector `s`'s intake; whoever finishes is screened and joins determination."""
    capacity = plan.intake_cap[s]
    used = 0.0
    for cls in range(m.n_classes):
        q = s * m.n_classes + cls
        while True:
            i, used = _next_done(
                q, s, capacity, used, lines.intake_head, lines.intake_tail, lines.intake_work, rows
            )
            if i == NIL:
                break
            lines.n_intake[s] -= 1
            rows.t_int[i] = _done_at(clock, used, capacity, rows.t_app[i])
            if m.health_enabled:
                health_module.screen(i, clock, m, ops, rows, health, out)
            work = m.determination_hours[rows.pathway[i]]
            rows.work_left[i] = work
            push_tail(lines.det_head, lines.det_tail, q, rows.nxt, i)
            lines.n_det[s] += 1
            lines.det_work[s] += work
            plan.need_det[s] += work
            plan.arrived_det[s] += work


@njit(cache=True, inline="always")
def determination(
    s: int,
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
    """Sector `s`'s determination (people whose intake ended this hour included)."""
    capacity = plan.det_cap[s]
    used = 0.0
    for cls in range(m.n_classes):
        q = s * m.n_classes + cls
        while True:
            i, used = _next_done(
                q, s, capacity, used, lines.det_head, lines.det_tail, lines.det_work, rows
            )
            if i == NIL:
                break
            lines.n_det[s] -= 1
            rows.t_det[i] = _done_at(clock, used, capacity, rows.t_int[i])
            finish_processing(i, clock, m, ops, rows, lines, custody, health, plan, out)


@njit(cache=True, inline="always")
def finishers_ahead(s: int, clock: Clock, m: Model, rows: Rows, lines: Lines, plan: Plan) -> None:
    """Add to `plan.ahead_*` the people of sector `s` the hour's processing staff will get to a
    departure line: a dry run of step 7 on the people waiting at the hour's start (determination
    with its capacity, then intake with its own and the determination capacity left). Those
    whose minimum time in custody ends within the hour may depart in it."""
    det_left = plan.det_cap[s]
    for stage in range(2):
        head = lines.det_head if stage == 0 else lines.intake_head
        stage_left = plan.det_cap[s] if stage == 0 else plan.intake_cap[s]
        for cls in range(m.n_classes):
            i = head[s * m.n_classes + cls]
            while i != NIL and stage_left > EPS:
                p = rows.pathway[i]
                if rows.work_left[i] > stage_left + EPS:
                    stage_left = 0.0
                    if stage == 0:
                        det_left = 0.0
                    break
                stage_left -= rows.work_left[i]
                if stage == 0:
                    det_left = stage_left
                else:
                    if m.determination_hours[p] > det_left + EPS:
                        stage_left = 0.0
                        break
                    det_left -= m.determination_hours[p]
                line = line_of(i, m, rows)
                if line >= 0 and rows.t_app[i] + m.min_custody_hours[p] <= clock.hour_end:
                    plan.ahead_n[s, line] += 1.0
                    plan.ahead_w[s, line] += m.transport_hours_per_person[p]
                i = rows.nxt[i]
