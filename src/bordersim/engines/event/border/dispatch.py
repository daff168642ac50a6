"""Staff on duty and dispatch (docs/model.md steps 1-2), one sector at a time.

Each task is staffed by the crews allowed to do it, crews that are not agents first (in crew
order), then agents within a budget: agents off the field never exceed `1 - min_field_fraction`
of those on duty, and agents on processing never exceed `max_processing_fraction`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.border.holding import processing_requests
from bordersim.engines.event.border.layout import (
    K_AGENTS_FIELD,
    K_AGENTS_SUPPORT,
    K_ENCOUNTERS,
    K_OCC_PEAK,
)
from bordersim.engines.event.border.processing import finishers_ahead
from bordersim.engines.event.border.state import (
    AGENT,
    DETECTION,
    DETERMINATION,
    EPS,
    FIELD,
    INTAKE,
    TRANSPORT,
    WAREHOUSE,
    WATCH,
    Clock,
    Custody,
    Metrics,
    Model,
    Plan,
    World,
)
from bordersim.model.dispatch_rules import WATCH_POST_TOLERANCE, watch_before_processing
from bordersim.model.health_rules import STAFF_EXPOSED_TASKS

# The rule shared with the flow engine, compiled.
watch_first = njit(cache=True, inline="always")(watch_before_processing)


@njit(cache=True, inline="always")
def _exposed(assign: np.ndarray) -> float:
    """People of a crew on the posts exposed to infection in custody (`STAFF_EXPOSED_TASKS`)."""
    people = assign[STAFF_EXPOSED_TASKS[0]]
    for k in range(1, len(STAFF_EXPOSED_TASKS)):
        people += assign[STAFF_EXPOSED_TASKS[k]]
    return people


@njit(cache=True, inline="always")
def fill_task(
    task: int, work: float, posts: bool, m: Model, plan: Plan, agent_budget: float
) -> tuple[float, float]:
    """Staff `work` on `task` from the people still free: crews that are not agents first, then
    agents within `agent_budget`.

    `work` is agent-hours of work (or a number of posts when `posts`). Returns the work left
    unstaffed and the agent budget left.
    """
    for agents_pass in range(2):
        for c in range(m.crew_pool.shape[0]):
            is_agent = m.crew_pool[c] == AGENT
            if is_agent != (agents_pass == 1):
                continue
            if not m.crew_tasks[c, task] or plan.free[c] <= 0.0:
                continue
            rate = 1.0 if posts else m.productivity[m.crew_pool[c], task]
            if rate <= 0.0:
                continue
            people = min(plan.free[c], work / rate)
            if is_agent:
                people = min(people, agent_budget)
            if people <= 0.0:
                continue
            plan.free[c] -= people
            plan.assign[c, task] += people
            work -= people * rate
            if is_agent:
                agent_budget -= people
            if work <= EPS:
                return 0.0, agent_budget
    return max(work, 0.0), agent_budget


@njit(cache=True, inline="always")
def staffed(task: int, m: Model, plan: Plan) -> float:
    """Work capacity (agent-hours) of the people dispatched to `task` this hour."""
    total = 0.0
    for c in range(m.crew_pool.shape[0]):
        total += plan.assign[c, task] * m.productivity[m.crew_pool[c], task]
    return total


@njit(cache=True, inline="always")
def on_duty(s: int, day: int, m: Model, absent: np.ndarray, plan: Plan) -> float:
    """Step 1: each crew's people on duty (less those off sick) become free to dispatch;
    returns the agents on duty."""
    plan.assign[:] = 0.0
    agents = 0.0
    for c in range(m.crew_pool.shape[0]):
        plan.free[c] = (
            max(0.0, m.crew_headcount[day, s, c] - absent[s, c])
            * (m.on_duty_fraction[m.crew_pool[c]])
        )
        if m.crew_pool[c] == AGENT:
            agents += plan.free[c]
    return agents


@njit(cache=True, inline="always")
def hospital_posts(s: int, day: int, m: Model, out: Metrics) -> float:
    """People on hospital watch and hospital transport this hour: the work of yesterday's
    apprehensions in the sector, spread evenly over today's hours."""
    if day == 0:
        return 0.0
    per_person = (
        m.hospital_watch_hours_per_apprehension + m.hospital_transport_hours_per_apprehension
    )
    return out.daily[day - 1, s, out.col[K_ENCOUNTERS]] * per_person / 24.0


@njit(cache=True, inline="always")
def watch_posts(s: int, day: int, m: Model, w: World) -> float:
    """People on custody watch this hour (one per `persons_per_watch_staff` in holding) and on
    hospital watch and transport."""
    occupancy = w.custody.occupancy[s]
    in_custody = max(math.ceil(occupancy / m.persons_per_watch_staff - WATCH_POST_TOLERANCE), 0)
    return float(in_custody) + hospital_posts(s, day, m, w.out)


@njit(cache=True, inline="always")
def _processing(s: int, day: int, agents_on_duty: float, posts: float, m: Model, w: World) -> float:
    """Processing (with the watch posts before it when the order says so): the work waiting at
    the hour's start plus the work that arrived at each stage during the previous hour, the
    expected arrivals of this hour, within the processing stations (determination first: only
    agents do it). Returns the support budget left."""
    occupancy = w.custody.occupancy[s]
    plan = w.plan
    # The minimum field presence is one budget for all the sector's agent crews together.
    support_budget = agents_on_duty * (1.0 - m.min_field_fraction)
    if watch_first(m.task_fill_order):
        _, support_budget = fill_task(WATCH, posts, True, m, plan, support_budget)
    processing_budget = min(agents_on_duty * m.max_processing_fraction, support_budget)
    det_work, intake_work = processing_requests(
        s,
        day,
        float(occupancy),
        w.lines.det_work[s] + plan.arrived_det[s],
        w.lines.intake_work[s] + plan.arrived_intake[s],
        m,
    )
    plan.arrived_det[s] = 0.0
    plan.arrived_intake[s] = 0.0
    _, left = fill_task(DETERMINATION, det_work, False, m, plan, processing_budget)
    _, left = fill_task(INTAKE, intake_work, False, m, plan, left)
    support_budget -= processing_budget - left
    plan.intake_cap[s] = staffed(INTAKE, m, plan)
    plan.det_cap[s] = staffed(DETERMINATION, m, plan)
    return support_budget


@njit(cache=True, inline="always")
def _size_transport(s: int, m: Model, custody: Custody, plan: Plan) -> None:
    """Transport for everyone who may depart during the hour, within the hour's limits (the
    national lines' room is shared by the sectors, so each may be staffed for it)."""
    ahead_n, ahead_w = plan.ahead_n, plan.ahead_w
    for line in range(m.line_national.shape[0]):
        if m.line_national[line]:
            plan.transport_sizing[s] += (
                min(float(plan.national_room[line]), ahead_n[s, line])
                * m.line_transport_hours[line]
            )
            continue
        room = math.floor(custody.sector_allowance[line, s] + EPS) - plan.sector_taken[line, s]
        if ahead_n[s, line] > 0.0 and room > 0:
            plan.transport_sizing[s] += (
                min(room, ahead_n[s, line]) * ahead_w[s, line] / ahead_n[s, line]
            )


@njit(cache=True, inline="always")
def _fill_the_rest(s: int, support_budget: float, posts: float, m: Model, plan: Plan) -> float:
    """Transport, the custody-day tasks (medical, warehouse) and (unless staffed before
    processing) the watch posts in `task_fill_order`, then detection with whoever is left;
    returns the sector's detection effort so far: technology plus the people on the detection
    task (agents watch from the field instead, and are added with the field)."""
    late_watch = not watch_first(m.task_fill_order)
    for k in range(m.task_fill_order.shape[0]):
        task = m.task_fill_order[k]
        if task == WATCH and late_watch:
            _, support_budget = fill_task(WATCH, posts, True, m, plan, support_budget)
            continue
        if task == TRANSPORT:
            work = plan.transport_sizing[s]
        elif m.custody_day_task[task]:
            work = plan.task_need[s, task]
        else:
            continue
        _, support_budget = fill_task(task, work, False, m, plan, support_budget)
    # Detection has no bound on its work, so it comes last whatever the order says: it takes
    # every non-agent still free who may detect, never a person some waiting work could use.
    effort = m.technology_effort[s]
    for c in range(m.crew_pool.shape[0]):
        if m.crew_pool[c] != AGENT and m.crew_tasks[c, DETECTION] and plan.free[c] > 0:
            plan.assign[c, DETECTION] += plan.free[c]
            effort += plan.free[c] * m.detection_weight[m.crew_pool[c]]
            plan.free[c] = 0.0
    return effort


@njit(cache=True, inline="always")
def _record(s: int, clock: Clock, posts: float, m: Model, w: World) -> None:
    """The dispatch's capacities, staff-hours and work needed for the hour's metrics."""
    plan, out, lines, d = w.plan, w.out, w.lines, clock.day
    daily, col = out.daily, out.col
    plan.transport_cap[s] = 0.0
    plan.warehouse_cap[s] = 0.0
    detection_hours = 0.0
    for c in range(m.crew_pool.shape[0]):
        pool = m.crew_pool[c]
        assign = plan.assign[c]
        plan.transport_cap[s] += assign[TRANSPORT] * m.productivity[pool, TRANSPORT]
        plan.warehouse_cap[s] += assign[WAREHOUSE] * m.productivity[pool, WAREHOUSE]
        detection_hours += assign[DETECTION]
        plan.posts_people[s, c] = _exposed(assign)
        for task in range(assign.shape[0]):
            if assign[task] > 0.0:
                daily[d, s, out.staff_col[pool, task]] += assign[task]
                if pool == AGENT:
                    metric = K_AGENTS_FIELD if task == FIELD else K_AGENTS_SUPPORT
                    daily[d, s, col[metric]] += assign[task]
    daily[d, s, out.need_col[WATCH]] += posts
    for task in range(m.custody_day_task.shape[0]):
        if m.custody_day_task[task]:
            daily[d, s, out.need_col[task]] += plan.task_need[s, task]
    daily[d, s, out.need_col[DETECTION]] += detection_hours
    target = max(m.target_custody_hours, EPS)
    plan.need_intake[s] = lines.intake_work[s] / target
    plan.need_det[s] = lines.det_work[s] / target
    plan.need_transport[s] = lines.transport_work[s] / target
    plan.need_field[s] = 0.0
    plan.transport_used[s] = 0.0
    occupancy = w.custody.occupancy[s]
    w.custody.person_hours[s] = float(occupancy)
    daily[d, s, col[K_OCC_PEAK]] = max(daily[d, s, col[K_OCC_PEAK]], float(occupancy))


@njit(cache=True, inline="always")
def dispatch(s: int, clock: Clock, m: Model, w: World) -> None:
    """Steps 1-2 for sector `s`: staff on duty, then every task in the policy's order, the
    remaining agents to the field; sets the hour's field servers and detection probability."""
    plan, custody = w.plan, w.custody
    agents_on_duty = on_duty(s, clock.day, m, w.health.absent, plan)
    posts = watch_posts(s, clock.day, m, w)
    support_budget = _processing(s, clock.day, agents_on_duty, posts, m, w)
    finishers_ahead(s, clock, m, w.rows, w.lines, plan)
    _size_transport(s, m, custody, plan)
    # Escorts of the people lateral decompression plans to move out (decompression.plan_hour).
    plan.transport_sizing[s] += plan.move_planned[s] * m.decompression_hours_per_person
    for task in range(m.custody_day_task.shape[0]):
        if m.custody_day_task[task]:
            plan.task_need[s, task] = custody.occupancy[s] * m.custody_day_hours[task] / 24.0
    effort = _fill_the_rest(s, support_budget, posts, m, plan)
    field_agents = 0.0
    for c in range(m.crew_pool.shape[0]):
        if m.crew_pool[c] == AGENT:
            plan.assign[c, FIELD] += plan.free[c]
            field_agents += plan.free[c]
            plan.free[c] = 0.0
    w.field.n_servers[s] = math.floor(field_agents + 0.5)
    # Step 4: agents in the field and not busy with a group count fully in detection effort.
    effort += max(0.0, field_agents - w.field.n_busy[s])
    w.field.p_detect[s] = m.detection_p_max[s] * (
        1.0 - math.exp(-effort / m.detection_effort_scale[s])
    )
    _record(s, clock, posts, m, w)
