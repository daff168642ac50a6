"""One replication of the border model (docs/model.md), compiled whole with Numba.

Continuous time, individual people. The hour is the control step of the model: at each hour the
kernel dispatches staff (docs/model.md step 2), then lets the hour's events happen in time order
per sector (crossings, detection, field service with abandonment), then spends the hour's
processing and transport capacity, then updates health, supplies and the day's metrics. Every
person's crossing attempt is one row of the per-attempt arrays (see `queues` for how rows wait in
lines); a re-attempt is a new row of the same person.

Random numbers come from the event core's xoshiro256** stream (`engines.event.core.rng`), one
stream per replication, so a replication depends only on its seed.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.border.layout import (
    F_GOTAWAY,
    F_INFECTIOUS,
    F_INITIAL_CUSTODY,
    F_ISOLATED,
    F_KNOWN_BEFORE,
    F_SHELTER,
    F_SURRENDERED,
    F_SYMPTOMATIC,
    K_AGENTS_FIELD,
    K_AGENTS_SUPPORT,
    K_ATTEMPTS,
    K_BACKLOG,
    K_CAPACITY,
    K_COST_CUSTODY,
    K_COST_STAFF,
    K_COST_SUPPLIES,
    K_COST_TOTAL,
    K_CUSTODY_HOURS,
    K_DEPARTURES,
    K_DETECTED,
    K_ENCOUNTERS,
    K_EXITS,
    K_EXITS_72,
    K_FIRST,
    K_GOTAWAYS,
    K_INFECTIONS,
    K_INFECTIOUS_ARRIVALS,
    K_INFECTIOUS_EXPELLED,
    K_INFECTIOUS_RELEASED,
    K_INFECTIOUS_REMOVED,
    K_ISOLATED,
    K_ISOLATION_OVERFLOW,
    K_OCC_MEAN,
    K_OCC_PEAK,
    K_REPEAT,
    K_STAFF_DAYS_LOST,
    K_STOCK,
    K_STOCK_OUT,
    K_STREET,
    K_SUPPLY_USED,
    K_SURRENDERED,
    K_UAC_EXITS,
    K_UAC_EXITS_72,
    K_UNIQUE,
    K_UNMET,
    K_VALVE_HOURS,
    K_WAIT_HHS,
    K_WAIT_ICE,
    K_WAIT_PORT,
    OK,
    OVERFLOW,
    P_COST_CUSTODY,
    P_COST_ICE,
    P_CROWDING_EXPONENT,
    P_CUSTODY_STANDARD,
    P_DISPERSION,
    P_FIELD_HOURS_INTERDICTION,
    P_FIELD_HOURS_PICKUP,
    P_HEALTH,
    P_HHS_BEDS,
    P_HHS_INITIAL,
    P_HHS_PLACEMENT,
    P_HHS_STAY_DAYS,
    P_ICE_BEDS,
    P_ICE_INITIAL,
    P_ICE_STAY_DAYS,
    P_ICE_TRANSFERS,
    P_INFECTIOUS_DAYS,
    P_INITIAL_REPEAT_SHARE,
    P_MAX_PROCESSING,
    P_MEDICAL_HPD,
    P_MIN_FIELD,
    P_PERSONS_PER_WATCH,
    P_PICKUP_PATIENCE,
    P_SENSITIVITY,
    P_STAFF_ABSENCE_DAYS,
    P_STAFF_INFECTION,
    P_SUPPLY_COST,
    P_SUPPLY_INITIAL_DAYS,
    P_SUPPLY_LEAD_DAYS,
    P_SUPPLY_ORDER_DAYS,
    P_SUPPLY_REORDER_DAYS,
    P_SUPPLY_UNITS,
    P_SYMPTOMATIC,
    P_TARGET_HOURS,
    P_TRANSMISSION,
    P_UAC_STANDARD,
    P_VALVE_ENABLED,
    P_VALVE_SHARE,
    P_VALVE_THRESHOLD,
    P_WAREHOUSE_HPD,
    P_WARMUP_DAYS,
)
from bordersim.engines.event.border.queues import (
    NIL,
    heap_pop,
    heap_push,
    pop_head,
    push_tail,
    unlink_after,
)
from bordersim.engines.event.border.sampling import binomial, negative_binomial, poisson
from bordersim.engines.event.core.rng import exponential, uniform

# Codes of `dimensions.Pathway`, `Task` and `Pool` (the kernel cannot import IntEnums).
T42, ER, REL, VR, UAC = 0, 1, 2, 3, 4
FIELD, DETECTION, INTAKE, DETERMINATION, WATCH, TRANSPORT, WAREHOUSE, MEDICAL = range(8)
AGENT = 0
UAC_DEMOGRAPHIC = 2
N_NATIONALITIES = 3
HIST_LAST = 720  # results.schema.CUSTODY_HIST_HOURS
EPS = 1e-9
SURRENDERS, DETECTED, UNSEEN = 0, 1, 2  # what a crossing group does


@njit(cache=True)
def _pack(
    status: int,
    n: int,
    daily: np.ndarray,
    hist: np.ndarray,
    person: np.ndarray,
    grp: np.ndarray,
    sec: np.ndarray,
    attempt: np.ndarray,
    t_arr: np.ndarray,
    t_app: np.ndarray,
    t_int: np.ndarray,
    t_det: np.ndarray,
    t_dep: np.ndarray,
    pathway: np.ndarray,
    flags: np.ndarray,
):
    return (
        status,
        n,
        daily,
        hist,
        person[:n],
        grp[:n],
        sec[:n],
        attempt[:n],
        t_arr[:n],
        t_app[:n],
        t_int[:n],
        t_det[:n],
        t_dep[:n],
        pathway[:n],
        flags[:n],
    )


@njit(cache=True)
def _patience(state: np.ndarray, mean: float) -> float:
    """An exponential patience; an infinite mean means waiting forever."""
    if not math.isfinite(mean):
        return np.inf
    return exponential(state, mean)


@njit(cache=True)
def _crossing_kind(stream: np.ndarray, surrender: float, p_detect: float) -> int:
    """Whether a crossing group surrenders, evades and is detected, or evades unseen.

    Both uniforms are always drawn, so that scenario variants sharing a seed see the same
    crossings and a higher detection probability detects a superset of the groups.
    """
    u_surrender = uniform(stream)
    u_detect = uniform(stream)
    if u_surrender < surrender:
        return SURRENDERS
    return DETECTED if u_detect < p_detect else UNSEEN


@njit(cache=True)
def _fill_task(
    task: int,
    work: float,
    posts: bool,
    rem: np.ndarray,
    assign: np.ndarray,
    crew_pool: np.ndarray,
    crew_tasks: np.ndarray,
    productivity: np.ndarray,
    agent_budget: float,
    use_agents: bool,
) -> tuple[float, float]:
    """Staff `work` on `task`: crews that are not agents first, then agents within their budget.

    `work` is agent-hours of work (or a number of posts when `posts`). Returns the work left
    unstaffed and the agent budget left.
    """
    for agents_pass in range(2):
        if agents_pass == 1 and not use_agents:
            break
        for c in range(crew_pool.shape[0]):
            is_agent = crew_pool[c] == AGENT
            if is_agent != (agents_pass == 1):
                continue
            if not crew_tasks[c, task] or rem[c] <= 0.0:
                continue
            rate = 1.0 if posts else productivity[crew_pool[c], task]
            if rate <= 0.0:
                continue
            people = min(rem[c], work / rate)
            if is_agent:
                people = min(people, agent_budget)
            if people <= 0.0:
                continue
            rem[c] -= people
            assign[c, task] += people
            work -= people * rate
            if is_agent:
                agent_budget -= people
            if work <= EPS:
                return 0.0, agent_budget
    return max(work, 0.0), agent_budget


@njit(cache=True)
def _staffed(
    assign: np.ndarray, crew_pool: np.ndarray, productivity: np.ndarray, task: int
) -> float:
    """Work capacity (agent-hours) of the people dispatched to `task` this hour."""
    total = 0.0
    for c in range(crew_pool.shape[0]):
        total += assign[c, task] * productivity[crew_pool[c], task]
    return total


@njit(cache=True)
def _finishers_ahead(
    s: int,
    hour_end: float,
    n_cls: int,
    intake_cap: float,
    det_cap: float,
    intake_head: np.ndarray,
    det_head: np.ndarray,
    nxt: np.ndarray,
    work: np.ndarray,
    pathway: np.ndarray,
    t_app: np.ndarray,
    determination_h: np.ndarray,
    min_custody: np.ndarray,
    transport_h: np.ndarray,
    ahead_n: np.ndarray,
    ahead_w: np.ndarray,
) -> None:
    """Add to `ahead_*` the people of sector `s` the hour's processing staff will get to a line.

    A dry run of step 7 on the people waiting at the hour's start: determination with `det_cap`,
    then intake with `intake_cap` and the determination capacity left. Those whose minimum time in
    custody ends within the hour may depart in it.
    """
    left = det_cap
    for stage in range(2):
        head = det_head if stage == 0 else intake_head
        stage_left = det_cap if stage == 0 else intake_cap
        for cls in range(n_cls):
            i = head[s * n_cls + cls]
            while i != NIL and stage_left > EPS:
                p = pathway[i]
                if work[i] > stage_left + EPS:
                    stage_left = 0.0
                    if stage == 0:
                        left = 0.0
                    break
                stage_left -= work[i]
                if stage == 0:
                    left = stage_left
                else:
                    if determination_h[p] > left + EPS:
                        stage_left = 0.0
                        break
                    left -= determination_h[p]
                if p != REL and t_app[i] + min_custody[p] <= hour_end:
                    line = 1 if p == ER else (2 if p == UAC else 0)
                    ahead_n[s, line] += 1.0
                    ahead_w[s, line] += transport_h[p]
                i = nxt[i]


@njit(cache=True)
def _join_line(
    i: int,
    p: int,
    s: int,
    transport_h: np.ndarray,
    transport_work: np.ndarray,
    need_transport: np.ndarray,
    port_head: np.ndarray,
    port_tail: np.ndarray,
    ice_head: np.ndarray,
    ice_tail: np.ndarray,
    hhs_head: np.ndarray,
    hhs_tail: np.ndarray,
    n_port: np.ndarray,
    n_ice: np.ndarray,
    n_hhs: np.ndarray,
    nxt: np.ndarray,
) -> None:
    """Person `i` (pathway `p`, sector `s`) joins their departure line and its transport work."""
    transport_work[s] += transport_h[p]
    need_transport[s] += transport_h[p]
    if p == ER:
        push_tail(ice_head, ice_tail, 0, nxt, i)
        n_ice[s] += 1
    elif p == UAC:
        push_tail(hhs_head, hhs_tail, 0, nxt, i)
        n_hhs[s] += 1
    else:
        push_tail(port_head, port_tail, s, nxt, i)
        n_port[s] += 1


@njit(cache=True)
def _draw_pathway(u: float, cdf: np.ndarray) -> int:
    for p in range(cdf.shape[0] - 1):
        if u < cdf[p]:
            return p
    return cdf.shape[0] - 1


@njit(cache=True)
def _member_add(
    members: np.ndarray, mcount: np.ndarray, region: np.ndarray, mpos: np.ndarray, s: int, row: int
) -> bool:
    slot = region[s] + mcount[s]
    if slot >= region[s + 1]:
        return False
    members[slot] = row
    mpos[row] = mcount[s]
    mcount[s] += 1
    return True


@njit(cache=True)
def _member_remove(
    members: np.ndarray, mcount: np.ndarray, region: np.ndarray, mpos: np.ndarray, s: int, row: int
) -> None:
    k = mpos[row]
    mcount[s] -= 1
    last = members[region[s] + mcount[s]]
    members[region[s] + k] = last
    mpos[last] = k
    mpos[row] = -1


@njit(cache=True)
def _depart(
    i: int,
    t: float,
    h: int,
    d: int,
    n_hours: int,
    warm: int,
    state: np.ndarray,
    par: np.ndarray,
    col: np.ndarray,
    daily: np.ndarray,
    hist: np.ndarray,
    occ: np.ndarray,
    person_hours: np.ndarray,
    shelter_used: np.ndarray,
    shelter: np.ndarray,
    title42: np.ndarray,
    repeat_p: np.ndarray,
    repeat_delay: np.ndarray,
    rep_head: np.ndarray,
    rep_count: np.ndarray,
    grp: np.ndarray,
    sec: np.ndarray,
    pathway: np.ndarray,
    flags: np.ndarray,
    t_app: np.ndarray,
    t_dep: np.ndarray,
    wait_until: np.ndarray,
    nxt: np.ndarray,
    health: bool,
    inf_end: np.ndarray,
    infectious_general: np.ndarray,
    susceptible: np.ndarray,
    recoveries: np.ndarray,
    isolation_occ: np.ndarray,
    members: np.ndarray,
    mcount: np.ndarray,
    region: np.ndarray,
    mpos: np.ndarray,
) -> None:
    """Person `i` leaves CBP custody at time `t` (within hour `h`)."""
    s = sec[i]
    g = grp[i]
    p = pathway[i]
    t_dep[i] = t
    occ[s] -= 1
    person_hours[s] -= h + 1 - t
    stay = t - t_app[i]
    is_uac = g // N_NATIONALITIES == UAC_DEMOGRAPHIC
    daily[d, s, col[K_EXITS]] += 1
    daily[d, s, col[K_CUSTODY_HOURS]] += stay
    daily[d, s, col[K_DEPARTURES + p]] += 1
    if stay > par[P_CUSTODY_STANDARD]:
        daily[d, s, col[K_EXITS_72]] += 1
    if is_uac:
        daily[d, s, col[K_UAC_EXITS]] += 1
        if stay > par[P_UAC_STANDARD]:
            daily[d, s, col[K_UAC_EXITS_72]] += 1
    if d >= warm:
        b = min(int(stay), HIST_LAST)
        hist[s, 0, b] += 1
        if is_uac:
            hist[s, 1, b] += 1
    if p == REL:
        if shelter_used[s] + 1.0 <= shelter[s] + EPS:
            shelter_used[s] += 1.0
            flags[i] |= F_SHELTER
        else:
            daily[d, s, col[K_STREET]] += 1
    if p == T42 or p == VR:  # noqa: SIM109 (compiled code: plain comparisons)
        regime = 1 if title42[d] else 0
        if uniform(state) < repeat_p[regime, g]:
            tr = t + exponential(state, repeat_delay[g] * 24.0)
            tr = max(tr, float(h + 1))
            hr = int(tr)
            if hr < n_hours:
                wait_until[i] = tr
                nxt[i] = rep_head[hr]
                rep_head[hr] = i
                rep_count[hr] += 1
    if health:
        if flags[i] & F_INFECTIOUS:
            end_hour = int(inf_end[i])
            if end_hour > h:
                if p == REL or p == UAC:  # noqa: SIM109
                    daily[d, s, col[K_INFECTIOUS_RELEASED]] += 1
                elif p == ER:
                    daily[d, s, col[K_INFECTIOUS_REMOVED]] += 1
                else:
                    daily[d, s, col[K_INFECTIOUS_EXPELLED]] += 1
                if not flags[i] & F_ISOLATED:
                    infectious_general[s] -= 1
                    if end_hour < n_hours:
                        recoveries[end_hour, s] -= 1
        else:
            susceptible[s] -= 1
        if flags[i] & F_ISOLATED:
            isolation_occ[s] -= 1
        _member_remove(members, mcount, region, mpos, s, i)


@njit(cache=True)
def run_replication(
    state: np.ndarray,
    demand: np.ndarray,
    n_cap: int,
    region: np.ndarray,
    heap_cap: int,
    n_metrics: int,
    par: np.ndarray,
    col: np.ndarray,
    staff_col: np.ndarray,
    need_col: np.ndarray,
    first: np.ndarray,
    diurnal_cdf: np.ndarray,
    batch_mean: np.ndarray,
    surrender: np.ndarray,
    title42: np.ndarray,
    repeat_p: np.ndarray,
    repeat_delay: np.ndarray,
    p_max: np.ndarray,
    effort_scale: np.ndarray,
    detection_weight: np.ndarray,
    technology: np.ndarray,
    interdiction_patience: np.ndarray,
    pathway_cdf: np.ndarray,
    intake_h: np.ndarray,
    determination_h: np.ndarray,
    min_custody: np.ndarray,
    priority: np.ndarray,
    capacity: np.ndarray,
    initial_custody: np.ndarray,
    port_capacity: np.ndarray,
    transport_h: np.ndarray,
    shelter: np.ndarray,
    crew_pool: np.ndarray,
    crew_tasks: np.ndarray,
    headcount: np.ndarray,
    on_duty: np.ndarray,
    productivity: np.ndarray,
    cost_per_day: np.ndarray,
    fill_order: np.ndarray,
    prevalence: np.ndarray,
    isolation_capacity: np.ndarray,
):
    n_days, n_sec, n_grp = first.shape
    n_crews = crew_pool.shape[0]
    n_tasks = crew_tasks.shape[1]
    n_hours = 24 * n_days
    n_cls = int(priority.max()) + 1
    warm = int(par[P_WARMUP_DAYS])
    health = par[P_HEALTH] > 0.5
    target = max(par[P_TARGET_HOURS], EPS)

    daily = np.zeros((n_days, n_sec, n_metrics))
    hist = np.zeros((n_sec, 2, HIST_LAST + 1))

    # ----- one row per crossing attempt (and per person in custody at the start) -------------
    person = np.empty(n_cap, np.int64)
    grp = np.empty(n_cap, np.int8)
    sec = np.empty(n_cap, np.int8)
    attempt = np.empty(n_cap, np.int32)
    group_size = np.ones(n_cap, np.int32)
    t_arr = np.full(n_cap, np.nan)
    t_app = np.full(n_cap, np.nan)
    t_int = np.full(n_cap, np.nan)
    t_det = np.full(n_cap, np.nan)
    t_dep = np.full(n_cap, np.nan)
    pathway = np.full(n_cap, -1, np.int8)
    flags = np.zeros(n_cap, np.uint8)
    work = np.zeros(n_cap)  # work left at the current processing stage
    wait_until = np.zeros(n_cap)  # field patience deadline, then the re-attempt time
    nxt = np.full(n_cap, NIL, np.int64)
    n_health = n_cap if health else 1
    inf_end = np.zeros(n_health)
    mpos = np.full(n_health, -1, np.int64)
    members = np.empty(region[n_sec] if health else 1, np.int64)
    mcount = np.zeros(n_sec, np.int64)
    n_rows = 0
    n_persons = 0

    # ----- lines ----------------------------------------------------------------------------
    field_head = np.full(2 * n_sec, NIL, np.int64)  # [s, 0] pickups, [s, 1] interdictions
    field_tail = np.full(2 * n_sec, NIL, np.int64)
    intake_head = np.full(n_cls * n_sec, NIL, np.int64)
    intake_tail = np.full(n_cls * n_sec, NIL, np.int64)
    det_head = np.full(n_cls * n_sec, NIL, np.int64)
    det_tail = np.full(n_cls * n_sec, NIL, np.int64)
    port_head = np.full(n_sec, NIL, np.int64)
    port_tail = np.full(n_sec, NIL, np.int64)
    ice_head = np.full(1, NIL, np.int64)
    ice_tail = np.full(1, NIL, np.int64)
    hhs_head = np.full(1, NIL, np.int64)
    hhs_tail = np.full(1, NIL, np.int64)
    n_intake = np.zeros(n_sec, np.int64)
    n_det = np.zeros(n_sec, np.int64)
    n_port = np.zeros(n_sec, np.int64)
    n_ice = np.zeros(n_sec, np.int64)
    n_hhs = np.zeros(n_sec, np.int64)
    intake_work = np.zeros(n_sec)
    det_work = np.zeros(n_sec)
    transport_work = np.zeros(n_sec)
    busy = np.empty((n_sec, heap_cap))  # completion times of field agents in service
    n_busy = np.zeros(n_sec, np.int64)
    n_servers = np.zeros(n_sec, np.int64)
    rep_head = np.full(n_hours + 1, NIL, np.int64)
    rep_count = np.zeros(n_hours + 1, np.int64)
    # People held to their minimum time in custody, by the hour it ends (the last bucket: after
    # the run); `wait_until` holds each one's earliest departure time meanwhile.
    hold_head = np.full(n_hours + 1, NIL, np.int64)
    hold_tail = np.full(n_hours + 1, NIL, np.int64)
    n_hold = np.zeros(n_sec, np.int64)

    # ----- custody, departures, staff, supplies, health ---------------------------------------
    occ = np.zeros(n_sec, np.int64)
    person_hours = np.zeros(n_sec)
    shelter_used = np.zeros(n_sec)
    port_allow = np.zeros(n_sec)
    hhs_allow = 0.0
    ice_allow = 0.0
    ice_occ = par[P_ICE_INITIAL]
    hhs_occ = par[P_HHS_INITIAL]
    ice_free_at = np.zeros(n_hours + 1)
    hhs_free_at = np.zeros(n_hours + 1)
    for _ in range(round(ice_occ)):
        hr = int(exponential(state, par[P_ICE_STAY_DAYS] * 24.0))
        if hr < n_hours:
            ice_free_at[hr] += 1.0
    for _ in range(round(hhs_occ)):
        hr = int(exponential(state, par[P_HHS_STAY_DAYS] * 24.0))
        if hr < n_hours:
            hhs_free_at[hr] += 1.0
    absent = np.zeros((n_sec, n_crews))
    staff_back = np.zeros((n_hours + 1 if health else 1, n_sec, n_crews))
    infectious_general = np.zeros(n_sec, np.int64)
    susceptible = np.zeros(n_sec, np.int64)
    isolation_occ = np.zeros(n_sec, np.int64)
    recoveries = np.zeros((n_hours + 1 if health else 1, n_sec), np.int64)
    units = par[P_SUPPLY_UNITS]
    stock = np.zeros(n_sec)
    for s in range(n_sec):
        stock[s] = par[P_SUPPLY_INITIAL_DAYS] * capacity[0, s] * units
    order_units = np.zeros(n_sec)
    order_hour = np.full(n_sec, -1, np.int64)

    assign = np.zeros((n_crews, n_tasks))
    rem = np.zeros(n_crews)
    p_detect = np.zeros(n_sec)
    intake_cap = np.zeros(n_sec)
    det_cap = np.zeros(n_sec)
    transport_cap = np.zeros(n_sec)
    transport_used = np.zeros(n_sec)
    warehouse_need = np.zeros(n_sec)
    warehouse_cap = np.zeros(n_sec)
    transport_need = np.zeros(n_sec)
    # Departure lines of a sector: 0 its port, 1 the national ICE line, 2 the national HHS line.
    ahead_n = np.zeros((n_sec, 3))  # people who may join a line this hour (dispatch estimate)
    ahead_w = np.zeros((n_sec, 3))  # their transport work
    line_work = np.zeros((n_sec, 3))  # transport work departing within the hour's limits
    line_budget = np.zeros((n_sec, 3))
    posts_people = np.zeros((n_sec, n_crews))  # people on custody watch and processing posts
    need_field = np.zeros(n_sec)
    need_intake = np.zeros(n_sec)
    need_det = np.zeros(n_sec)
    need_transport = np.zeros(n_sec)
    day_counts = np.zeros((24, n_sec, n_grp), np.int64)
    blocked = np.zeros(n_sec, np.bool_)
    valve_open = False

    # ----- people in custody at the start: placed at age 0, waiting for intake ----------------
    for s in range(n_sec):
        for g in range(n_grp):
            for _ in range(round(initial_custody[s, g])):
                if n_rows >= n_cap:
                    return _pack(
                        OVERFLOW,
                        n_rows,
                        daily,
                        hist,
                        person,
                        grp,
                        sec,
                        attempt,
                        t_arr,
                        t_app,
                        t_int,
                        t_det,
                        t_dep,
                        pathway,
                        flags,
                    )
                i = n_rows
                n_rows += 1
                person[i] = n_persons
                n_persons += 1
                grp[i] = g
                sec[i] = s
                attempt[i] = 1
                flags[i] = F_INITIAL_CUSTODY
                t_arr[i] = 0.0
                t_app[i] = 0.0
                p = _draw_pathway(uniform(state), pathway_cdf[0, g])
                pathway[i] = p
                work[i] = intake_h[p]
                push_tail(intake_head, intake_tail, s * n_cls + priority[g], nxt, i)
                n_intake[s] += 1
                intake_work[s] += intake_h[p]
                occ[s] += 1
                if health:
                    if not _member_add(members, mcount, region, mpos, s, i):
                        return _pack(
                            OVERFLOW,
                            n_rows,
                            daily,
                            hist,
                            person,
                            grp,
                            sec,
                            attempt,
                            t_arr,
                            t_app,
                            t_int,
                            t_det,
                            t_dep,
                            pathway,
                            flags,
                        )
                    if uniform(state) < prevalence[0]:
                        flags[i] |= F_INFECTIOUS
                        if uniform(state) < par[P_SYMPTOMATIC]:
                            flags[i] |= F_SYMPTOMATIC
                        inf_end[i] = par[P_INFECTIOUS_DAYS] * 24.0
                        infectious_general[s] += 1
                        if int(inf_end[i]) < n_hours:
                            recoveries[int(inf_end[i]), s] += 1
                    else:
                        susceptible[s] += 1

    for h in range(n_hours):
        d = h // 24
        hh = h % 24
        hour_end = float(h + 1)

        # ----- the day's crossings and the release valve ----------------------------------------
        if hh == 0:
            day_counts[:] = 0
            for s in range(n_sec):
                for g in range(n_grp):
                    n = negative_binomial(demand, first[d, s, g], par[P_DISPERSION])
                    for _ in range(n):
                        u = uniform(demand)
                        k = 0
                        while k < 23 and u >= diurnal_cdf[k]:
                            k += 1
                        day_counts[k, s, g] += 1
            shelter_used[:] = 0.0
            # Daily national limits: an hour may use the unused shares of earlier hours of the
            # same day, never those of yesterday.
            ice_allow = 0.0
            hhs_allow = 0.0
            if d > 0 and par[P_VALVE_ENABLED] > 0.5:
                occupied = 0.0
                cap_total = 0.0
                for s in range(n_sec):
                    occupied += daily[d - 1, s, col[K_OCC_MEAN]]
                    cap_total += capacity[d - 1, s]
                valve_open = cap_total > 0 and occupied / cap_total > par[P_VALVE_THRESHOLD]
            for s in range(n_sec):
                daily[d, s, col[K_CAPACITY]] = capacity[d, s]
                if valve_open:
                    daily[d, s, col[K_VALVE_HOURS]] = 24.0
                for c in range(n_crews):
                    daily[d, s, col[K_COST_STAFF]] += (
                        headcount[d, s, c] * cost_per_day[crew_pool[c]]
                    )

        # ----- beds freed, staff back, infections over -------------------------------------------
        ice_occ -= ice_free_at[h]
        hhs_occ -= hhs_free_at[h]
        if health:
            for s in range(n_sec):
                infectious_general[s] -= recoveries[h, s]
                for c in range(n_crews):
                    absent[s, c] = max(0.0, absent[s, c] - staff_back[h, s, c])

        # ----- departures possible this hour: the transport work they need ------------------------
        # Known at the hour's start: people already in a line (within the hour's port allowance,
        # free ICE beds and transfers, free HHS beds and placements) and people whose minimum time
        # in custody ends this hour. Those who will finish determination during the hour are
        # estimated per sector at dispatch, once its processing staff are known.
        transport_need[:] = 0.0
        ahead_n[:] = 0.0
        ahead_w[:] = 0.0
        for s in range(n_sec):
            port_allow[s] = min(port_allow[s], 1.0) + port_capacity[s] / 24.0
            i = port_head[s]
            k = 0
            while i != NIL and k + 1 <= port_allow[s] + EPS:
                transport_need[s] += transport_h[pathway[i]]
                k += 1
                i = nxt[i]
            line_work[s, 0] = k  # places of the port allowance already taken
        ice_allow += par[P_ICE_TRANSFERS] / 24.0
        hhs_allow += par[P_HHS_PLACEMENT] / 24.0
        ice_left = min(math.floor(par[P_ICE_BEDS] - ice_occ + EPS), math.floor(ice_allow + EPS))
        i = ice_head[0]
        while i != NIL and ice_left > 0:
            transport_need[sec[i]] += transport_h[ER]
            ice_left -= 1
            i = nxt[i]
        hhs_left = min(math.floor(par[P_HHS_BEDS] - hhs_occ + EPS), math.floor(hhs_allow + EPS))
        i = hhs_head[0]
        while i != NIL and hhs_left > 0:
            transport_need[sec[i]] += transport_h[UAC]
            hhs_left -= 1
            i = nxt[i]
        i = hold_head[h]
        while i != NIL:
            p = pathway[i]
            if p != REL:
                line = 1 if p == ER else (2 if p == UAC else 0)
                ahead_n[sec[i], line] += 1.0
                ahead_w[sec[i], line] += transport_h[p]
            i = nxt[i]

        # ----- dispatch (docs/model.md step 2) ----------------------------------------------------
        for s in range(n_sec):
            assign[:] = 0.0
            agents_on_duty = 0.0
            for c in range(n_crews):
                rem[c] = max(0.0, headcount[d, s, c] - absent[s, c]) * on_duty[crew_pool[c]]
                if crew_pool[c] == AGENT:
                    agents_on_duty += rem[c]
            support_budget = agents_on_duty * (1.0 - par[P_MIN_FIELD])
            posts = math.ceil(occ[s] / par[P_PERSONS_PER_WATCH] - EPS) if occ[s] > 0 else 0
            _, support_budget = _fill_task(
                WATCH,
                float(posts),
                True,
                rem,
                assign,
                crew_pool,
                crew_tasks,
                productivity,
                support_budget,
                True,
            )
            processing_budget = min(agents_on_duty * par[P_MAX_PROCESSING], support_budget)
            _, processing_budget_left = _fill_task(
                DETERMINATION,
                det_work[s],
                False,
                rem,
                assign,
                crew_pool,
                crew_tasks,
                productivity,
                processing_budget,
                True,
            )
            _, processing_budget_left = _fill_task(
                INTAKE,
                intake_work[s],
                False,
                rem,
                assign,
                crew_pool,
                crew_tasks,
                productivity,
                processing_budget_left,
                True,
            )
            support_budget -= processing_budget - processing_budget_left
            _finishers_ahead(
                s,
                hour_end,
                n_cls,
                _staffed(assign, crew_pool, productivity, INTAKE),
                _staffed(assign, crew_pool, productivity, DETERMINATION),
                intake_head,
                det_head,
                nxt,
                work,
                pathway,
                t_app,
                determination_h,
                min_custody,
                transport_h,
                ahead_n,
                ahead_w,
            )
            # Transport for everyone who may depart during the hour, within the hour's limits
            # (the national lines' room is shared by the sectors, so each may be staffed for it).
            port_room = math.floor(port_allow[s] + EPS) - line_work[s, 0]
            if ahead_n[s, 0] > 0.0 and port_room > 0:
                transport_need[s] += min(port_room, ahead_n[s, 0]) * ahead_w[s, 0] / ahead_n[s, 0]
            transport_need[s] += min(float(ice_left), ahead_n[s, 1]) * transport_h[ER]
            transport_need[s] += min(float(hhs_left), ahead_n[s, 2]) * transport_h[UAC]
            medical_work = occ[s] * par[P_MEDICAL_HPD] / 24.0
            warehouse_need[s] = occ[s] * par[P_WAREHOUSE_HPD] / 24.0
            detection_effort = technology[s]
            for k in range(fill_order.shape[0]):
                task = fill_order[k]
                if task == TRANSPORT:
                    _, support_budget = _fill_task(
                        TRANSPORT,
                        transport_need[s],
                        False,
                        rem,
                        assign,
                        crew_pool,
                        crew_tasks,
                        productivity,
                        support_budget,
                        True,
                    )
                elif task == MEDICAL:
                    _, support_budget = _fill_task(
                        MEDICAL,
                        medical_work,
                        False,
                        rem,
                        assign,
                        crew_pool,
                        crew_tasks,
                        productivity,
                        support_budget,
                        True,
                    )
                elif task == WAREHOUSE:
                    _, support_budget = _fill_task(
                        WAREHOUSE,
                        warehouse_need[s],
                        False,
                        rem,
                        assign,
                        crew_pool,
                        crew_tasks,
                        productivity,
                        support_budget,
                        True,
                    )
                elif task == DETECTION:
                    # Agents watch the line from the field; the others give every remaining hour.
                    for c in range(n_crews):
                        if crew_pool[c] != AGENT and crew_tasks[c, DETECTION] and rem[c] > 0:
                            assign[c, DETECTION] += rem[c]
                            detection_effort += rem[c] * detection_weight[crew_pool[c]]
                            rem[c] = 0.0
            field_agents = 0.0
            for c in range(n_crews):
                if crew_pool[c] == AGENT:
                    assign[c, FIELD] += rem[c]
                    field_agents += rem[c]
                    rem[c] = 0.0
            n_servers[s] = math.floor(field_agents + 0.5)
            detection_effort += max(0.0, field_agents - n_busy[s])
            p_detect[s] = p_max[s] * (1.0 - math.exp(-detection_effort / effort_scale[s]))

            intake_cap[s] = 0.0
            det_cap[s] = 0.0
            transport_cap[s] = 0.0
            warehouse_cap[s] = 0.0
            detection_hours = 0.0
            for c in range(n_crews):
                pool = crew_pool[c]
                intake_cap[s] += assign[c, INTAKE] * productivity[pool, INTAKE]
                det_cap[s] += assign[c, DETERMINATION] * productivity[pool, DETERMINATION]
                transport_cap[s] += assign[c, TRANSPORT] * productivity[pool, TRANSPORT]
                warehouse_cap[s] += assign[c, WAREHOUSE] * productivity[pool, WAREHOUSE]
                detection_hours += assign[c, DETECTION]
                posts_people[s, c] = assign[c, WATCH] + assign[c, INTAKE] + assign[c, DETERMINATION]
                for task in range(n_tasks):
                    if assign[c, task] > 0.0:
                        daily[d, s, staff_col[pool, task]] += assign[c, task]
                        if pool == AGENT:
                            if task == FIELD:
                                daily[d, s, col[K_AGENTS_FIELD]] += assign[c, task]
                            else:
                                daily[d, s, col[K_AGENTS_SUPPORT]] += assign[c, task]
            daily[d, s, need_col[WATCH]] += posts
            daily[d, s, need_col[MEDICAL]] += medical_work
            daily[d, s, need_col[WAREHOUSE]] += warehouse_need[s]
            daily[d, s, need_col[DETECTION]] += detection_hours
            need_intake[s] = intake_work[s] / target
            need_det[s] = det_work[s] / target
            need_transport[s] = transport_work[s] / target
            need_field[s] = 0.0
            transport_used[s] = 0.0
            person_hours[s] = float(occ[s])
            peak_col = col[K_OCC_PEAK]
            daily[d, s, peak_col] = max(daily[d, s, peak_col], float(occ[s]))

        # ----- the hour's crossings: first attempts in groups, then re-attempts -----------------
        n_new = rep_count[h]
        for s in range(n_sec):
            for g in range(n_grp):
                n_new += day_counts[hh, s, g]
        if n_rows + n_new > n_cap:
            return _pack(
                OVERFLOW,
                n_rows,
                daily,
                hist,
                person,
                grp,
                sec,
                attempt,
                t_arr,
                t_app,
                t_int,
                t_det,
                t_dep,
                pathway,
                flags,
            )
        a_key = np.empty(n_new)
        a_row = np.empty(n_new, np.int64)
        a_kind = np.empty(n_new, np.int8)
        n_groups = 0
        for s in range(n_sec):
            for g in range(n_grp):
                n = day_counts[hh, s, g]
                if n == 0:
                    continue
                daily[d, s, col[K_ATTEMPTS]] += n
                daily[d, s, col[K_FIRST]] += n
                while n > 0:
                    size = 1
                    if batch_mean[g] > 1.0:
                        size = 1 + poisson(demand, batch_mean[g] - 1.0)
                    size = min(size, n)
                    n -= size
                    t = h + uniform(demand)
                    leader = n_rows
                    for _ in range(size):
                        i = n_rows
                        n_rows += 1
                        person[i] = n_persons
                        n_persons += 1
                        grp[i] = g
                        sec[i] = s
                        attempt[i] = 1
                        t_arr[i] = t
                        work[i] = uniform(demand)  # the person's pathway draw
                        if uniform(demand) < par[P_INITIAL_REPEAT_SHARE] and d < warm:
                            flags[i] = F_KNOWN_BEFORE
                    group_size[leader] = size
                    a_key[n_groups] = s + 0.999 * (t - h)
                    a_row[n_groups] = leader
                    a_kind[n_groups] = _crossing_kind(demand, surrender[g], p_detect[s])
                    n_groups += 1
        old = rep_head[h]
        while old != NIL:
            following = nxt[old]
            i = n_rows
            n_rows += 1
            s = sec[old]
            person[i] = person[old]
            grp[i] = grp[old]
            sec[i] = s
            attempt[i] = attempt[old] + 1
            t_arr[i] = wait_until[old]
            daily[d, s, col[K_ATTEMPTS]] += 1
            daily[d, s, col[K_REPEAT]] += 1
            a_key[n_groups] = s + 0.999 * (t_arr[i] - h)
            a_row[n_groups] = i
            a_kind[n_groups] = _crossing_kind(state, surrender[grp[i]], p_detect[s])
            work[i] = uniform(state)
            n_groups += 1
            old = following
        order = np.argsort(a_key[:n_groups])

        # ----- field: detection, interdiction, pickup, abandonment (steps 4-6) -------------------
        k = 0
        for s in range(n_sec):
            first_k = k
            while k < n_groups and int(a_key[order[k]]) == s:
                k += 1
            last_k = k
            nxt_arrival = first_k
            t = float(h)
            while True:
                # Start services while agents are free (pickups first, FCFS, patience checked).
                while n_busy[s] < n_servers[s]:
                    q = 2 * s
                    if field_head[q] == NIL:
                        q = 2 * s + 1
                        if field_head[q] == NIL:
                            break
                    leader = pop_head(field_head, field_tail, q, nxt)
                    size = group_size[leader]
                    if wait_until[leader] < t:
                        for i in range(leader, leader + size):
                            flags[i] |= F_GOTAWAY
                        daily[d, s, col[K_GOTAWAYS]] += size
                        continue
                    if q == 2 * s:
                        service = exponential(state, par[P_FIELD_HOURS_PICKUP])
                    else:
                        service = exponential(state, par[P_FIELD_HOURS_INTERDICTION])
                    need_field[s] += service
                    heap_push(busy, n_busy, s, t + service)
                    # Apprehension: the group's people are encounters and enter custody now.
                    for i in range(leader, leader + size):
                        g = grp[i]
                        t_app[i] = t
                        occ[s] += 1
                        person_hours[s] += hour_end - t
                        p = _draw_pathway(work[i], pathway_cdf[d, g])
                        if p == ER and valve_open and uniform(state) < par[P_VALVE_SHARE]:
                            p = REL
                        pathway[i] = p
                        daily[d, s, col[K_ENCOUNTERS]] += 1
                        if attempt[i] == 1 and not flags[i] & F_KNOWN_BEFORE:
                            daily[d, s, col[K_UNIQUE]] += 1
                        work[i] = intake_h[p]
                        push_tail(intake_head, intake_tail, s * n_cls + priority[g], nxt, i)
                        n_intake[s] += 1
                        intake_work[s] += intake_h[p]
                        need_intake[s] += intake_h[p]
                        if health:
                            if not _member_add(members, mcount, region, mpos, s, i):
                                return _pack(
                                    OVERFLOW,
                                    n_rows,
                                    daily,
                                    hist,
                                    person,
                                    grp,
                                    sec,
                                    attempt,
                                    t_arr,
                                    t_app,
                                    t_int,
                                    t_det,
                                    t_dep,
                                    pathway,
                                    flags,
                                )
                            if uniform(state) < prevalence[d]:
                                flags[i] |= F_INFECTIOUS
                                if uniform(state) < par[P_SYMPTOMATIC]:
                                    flags[i] |= F_SYMPTOMATIC
                                inf_end[i] = t + par[P_INFECTIOUS_DAYS] * 24.0
                                infectious_general[s] += 1
                                if int(inf_end[i]) < n_hours:
                                    recoveries[int(inf_end[i]), s] += 1
                                daily[d, s, col[K_INFECTIOUS_ARRIVALS]] += 1
                            else:
                                susceptible[s] += 1
                # Next event: an agent finishing, or an arrival.
                t_done = busy[s, 0] if n_busy[s] > 0 else np.inf
                t_next = t_arr[a_row[order[nxt_arrival]]] if nxt_arrival < last_k else np.inf
                if t_done <= t_next and t_done <= hour_end:
                    t = heap_pop(busy, n_busy, s)
                    continue
                if nxt_arrival >= last_k:
                    break
                leader = a_row[order[nxt_arrival]]
                kind = a_kind[order[nxt_arrival]]
                nxt_arrival += 1
                t = t_arr[leader]
                g = grp[leader]
                size = group_size[leader]
                if kind == SURRENDERS:
                    for i in range(leader, leader + size):
                        flags[i] |= F_SURRENDERED
                    daily[d, s, col[K_SURRENDERED]] += size
                    wait_until[leader] = t + _patience(state, par[P_PICKUP_PATIENCE])
                    push_tail(field_head, field_tail, 2 * s, nxt, leader)
                elif kind == DETECTED:
                    daily[d, s, col[K_DETECTED]] += size
                    wait_until[leader] = t + _patience(state, interdiction_patience[g])
                    push_tail(field_head, field_tail, 2 * s + 1, nxt, leader)
                else:
                    for i in range(leader, leader + size):
                        flags[i] |= F_GOTAWAY
                    daily[d, s, col[K_GOTAWAYS]] += size
            # Groups whose patience ran out during the hour walked off.
            for q in range(2 * s, 2 * s + 2):
                prev = NIL
                i = field_head[q]
                while i != NIL:
                    following = nxt[i]
                    if wait_until[i] <= hour_end:
                        unlink_after(field_head, field_tail, q, nxt, prev, i)
                        for m in range(i, i + group_size[i]):
                            flags[m] |= F_GOTAWAY
                        daily[d, s, col[K_GOTAWAYS]] += group_size[i]
                    else:
                        prev = i
                    i = following
            daily[d, s, need_col[FIELD]] += need_field[s]

        # ----- processing: intake then determination, in staff-hours (step 7) -------------------
        for s in range(n_sec):
            capacity_h = intake_cap[s]
            used = 0.0
            for cls in range(n_cls):
                q = s * n_cls + cls
                while intake_head[q] != NIL and used < capacity_h + EPS:
                    i = intake_head[q]
                    if used + work[i] <= capacity_h + EPS:
                        used += work[i]
                        intake_work[s] -= work[i]
                        pop_head(intake_head, intake_tail, q, nxt)
                        n_intake[s] -= 1
                        done = h + (used / capacity_h if capacity_h > 0 else 0.0)
                        t_int[i] = min(max(done, t_app[i]), hour_end)
                        p = pathway[i]
                        if (
                            health
                            and flags[i] & F_INFECTIOUS
                            and flags[i] & F_SYMPTOMATIC
                            and int(inf_end[i]) > h
                            and uniform(state) < par[P_SENSITIVITY]
                        ):
                            if isolation_occ[s] + 1 <= isolation_capacity[s] + EPS:
                                flags[i] |= F_ISOLATED
                                isolation_occ[s] += 1
                                infectious_general[s] -= 1
                                if int(inf_end[i]) < n_hours:
                                    recoveries[int(inf_end[i]), s] -= 1
                                daily[d, s, col[K_ISOLATED]] += 1
                            else:
                                daily[d, s, col[K_ISOLATION_OVERFLOW]] += 1
                        work[i] = determination_h[p]
                        push_tail(det_head, det_tail, q, nxt, i)
                        n_det[s] += 1
                        det_work[s] += determination_h[p]
                        need_det[s] += determination_h[p]
                    else:
                        part = capacity_h - used
                        work[i] -= part
                        intake_work[s] -= part
                        used = capacity_h + 1.0
            capacity_h = det_cap[s]
            used = 0.0
            for cls in range(n_cls):
                q = s * n_cls + cls
                while det_head[q] != NIL and used < capacity_h + EPS:
                    i = det_head[q]
                    if used + work[i] <= capacity_h + EPS:
                        used += work[i]
                        det_work[s] -= work[i]
                        pop_head(det_head, det_tail, q, nxt)
                        n_det[s] -= 1
                        done = h + (used / capacity_h if capacity_h > 0 else 0.0)
                        t_det[i] = min(max(done, t_int[i]), hour_end)
                        p = pathway[i]
                        wait_until[i] = t_app[i] + min_custody[p]
                        if wait_until[i] > t_det[i]:
                            hr = min(int(wait_until[i]), n_hours)
                            push_tail(hold_head, hold_tail, hr, nxt, i)
                            n_hold[s] += 1
                        elif p == REL:
                            _depart(
                                i,
                                t_det[i],
                                h,
                                d,
                                n_hours,
                                warm,
                                state,
                                par,
                                col,
                                daily,
                                hist,
                                occ,
                                person_hours,
                                shelter_used,
                                shelter,
                                title42,
                                repeat_p,
                                repeat_delay,
                                rep_head,
                                rep_count,
                                grp,
                                sec,
                                pathway,
                                flags,
                                t_app,
                                t_dep,
                                wait_until,
                                nxt,
                                health,
                                inf_end,
                                infectious_general,
                                susceptible,
                                recoveries,
                                isolation_occ,
                                members,
                                mcount,
                                region,
                                mpos,
                            )
                        else:
                            _join_line(
                                i,
                                p,
                                s,
                                transport_h,
                                transport_work,
                                need_transport,
                                port_head,
                                port_tail,
                                ice_head,
                                ice_tail,
                                hhs_head,
                                hhs_tail,
                                n_port,
                                n_ice,
                                n_hhs,
                                nxt,
                            )
                    else:
                        part = capacity_h - used
                        work[i] -= part
                        det_work[s] -= part
                        used = capacity_h + 1.0

        # ----- departures: ports, ICE beds, HHS placements (step 8) ------------------------------
        # People whose minimum time in custody ends this hour: releases leave, the others join
        # their line at that time.
        i = hold_head[h]
        while i != NIL:
            following = nxt[i]
            s = sec[i]
            p = pathway[i]
            n_hold[s] -= 1
            if p == REL:
                _depart(
                    i,
                    wait_until[i],
                    h,
                    d,
                    n_hours,
                    warm,
                    state,
                    par,
                    col,
                    daily,
                    hist,
                    occ,
                    person_hours,
                    shelter_used,
                    shelter,
                    title42,
                    repeat_p,
                    repeat_delay,
                    rep_head,
                    rep_count,
                    grp,
                    sec,
                    pathway,
                    flags,
                    t_app,
                    t_dep,
                    wait_until,
                    nxt,
                    health,
                    inf_end,
                    infectious_general,
                    susceptible,
                    recoveries,
                    isolation_occ,
                    members,
                    mcount,
                    region,
                    mpos,
                )
            else:
                _join_line(
                    i,
                    p,
                    s,
                    transport_h,
                    transport_work,
                    need_transport,
                    port_head,
                    port_tail,
                    ice_head,
                    ice_tail,
                    hhs_head,
                    hhs_tail,
                    n_port,
                    n_ice,
                    n_hhs,
                    nxt,
                )
            i = following
        hold_head[h] = NIL
        hold_tail[h] = NIL

        # Each sector's transport is shared among its lines in proportion to the transport work
        # that could leave on each within the hour's limits, so no line starves the others; what
        # a line cannot use (whole people) is then open to all, in a second round.
        line_work[:] = 0.0
        for s in range(n_sec):
            i = port_head[s]
            k = 0
            while i != NIL and k + 1 <= port_allow[s] + EPS:
                line_work[s, 0] += transport_h[pathway[i]]
                k += 1
                i = nxt[i]
        ice_left = min(math.floor(par[P_ICE_BEDS] - ice_occ + EPS), math.floor(ice_allow + EPS))
        i = ice_head[0]
        while i != NIL and ice_left > 0:
            line_work[sec[i], 1] += transport_h[ER]
            ice_left -= 1
            i = nxt[i]
        hhs_left = min(math.floor(par[P_HHS_BEDS] - hhs_occ + EPS), math.floor(hhs_allow + EPS))
        i = hhs_head[0]
        while i != NIL and hhs_left > 0:
            line_work[sec[i], 2] += transport_h[UAC]
            hhs_left -= 1
            i = nxt[i]
        for s in range(n_sec):
            total = line_work[s, 0] + line_work[s, 1] + line_work[s, 2]
            for line in range(3):
                line_budget[s, line] = (
                    transport_cap[s] * line_work[s, line] / total if total > 0.0 else 0.0
                )

        for sharing in range(2):
            for s in range(n_sec):
                while port_head[s] != NIL and port_allow[s] >= 1.0 - EPS:
                    i = port_head[s]
                    need = transport_h[pathway[i]]
                    if sharing == 0:
                        if need > line_budget[s, 0] + EPS:
                            break
                    elif transport_used[s] + need > transport_cap[s] + EPS:
                        break
                    line_budget[s, 0] -= need
                    transport_used[s] += need
                    port_allow[s] -= 1.0
                    pop_head(port_head, port_tail, s, nxt)
                    n_port[s] -= 1
                    transport_work[s] -= need
                    frac = transport_used[s] / transport_cap[s] if transport_cap[s] > 0 else 0.0
                    _depart(
                        i,
                        min(max(h + frac, t_det[i], wait_until[i]), hour_end),
                        h,
                        d,
                        n_hours,
                        warm,
                        state,
                        par,
                        col,
                        daily,
                        hist,
                        occ,
                        person_hours,
                        shelter_used,
                        shelter,
                        title42,
                        repeat_p,
                        repeat_delay,
                        rep_head,
                        rep_count,
                        grp,
                        sec,
                        pathway,
                        flags,
                        t_app,
                        t_dep,
                        wait_until,
                        nxt,
                        health,
                        inf_end,
                        infectious_general,
                        susceptible,
                        recoveries,
                        isolation_occ,
                        members,
                        mcount,
                        region,
                        mpos,
                    )
            for national in range(1, 3):
                if national == 1:
                    head, tail, stay_days = ice_head, ice_tail, par[P_ICE_STAY_DAYS]
                    free = min(
                        math.floor(par[P_ICE_BEDS] - ice_occ + EPS),
                        math.floor(ice_allow + EPS),
                    )
                    waiting = n_ice
                else:
                    head, tail, stay_days = hhs_head, hhs_tail, par[P_HHS_STAY_DAYS]
                    free = min(
                        math.floor(par[P_HHS_BEDS] - hhs_occ + EPS),
                        math.floor(hhs_allow + EPS),
                    )
                    waiting = n_hhs
                # FCFS across sectors; a sector out of transport is skipped, and the walk stops
                # once every sector with someone waiting is out.
                n_open = 0
                for s in range(n_sec):
                    blocked[s] = waiting[s] == 0
                    if not blocked[s]:
                        n_open += 1
                n_blocked = 0
                prev = NIL
                i = head[0]
                while i != NIL and free > 0 and n_blocked < n_open:
                    following = nxt[i]
                    s = sec[i]
                    need = transport_h[pathway[i]]
                    if sharing == 0:
                        short = need > line_budget[s, national] + EPS
                    else:
                        short = transport_used[s] + need > transport_cap[s] + EPS
                    if blocked[s] or short:
                        if not blocked[s]:
                            blocked[s] = True
                            n_blocked += 1
                        prev = i
                        i = following
                        continue
                    line_budget[s, national] -= need
                    transport_used[s] += need
                    transport_work[s] -= need
                    unlink_after(head, tail, 0, nxt, prev, i)
                    free -= 1
                    frac = transport_used[s] / transport_cap[s] if transport_cap[s] > 0 else 0.0
                    t = min(max(h + frac, t_det[i], wait_until[i]), hour_end)
                    hr = int(t + exponential(state, stay_days * 24.0))
                    if national == 1:
                        n_ice[s] -= 1
                        ice_occ += 1.0
                        ice_allow -= 1.0
                        if hr < n_hours:
                            ice_free_at[hr] += 1.0
                        daily[d, s, col[K_COST_CUSTODY]] += par[P_COST_ICE]
                    else:
                        n_hhs[s] -= 1
                        hhs_occ += 1.0
                        hhs_allow -= 1.0
                        if hr < n_hours:
                            hhs_free_at[hr] += 1.0
                    _depart(
                        i,
                        t,
                        h,
                        d,
                        n_hours,
                        warm,
                        state,
                        par,
                        col,
                        daily,
                        hist,
                        occ,
                        person_hours,
                        shelter_used,
                        shelter,
                        title42,
                        repeat_p,
                        repeat_delay,
                        rep_head,
                        rep_count,
                        grp,
                        sec,
                        pathway,
                        flags,
                        t_app,
                        t_dep,
                        wait_until,
                        nxt,
                        health,
                        inf_end,
                        infectious_general,
                        susceptible,
                        recoveries,
                        isolation_occ,
                        members,
                        mcount,
                        region,
                        mpos,
                    )
                    i = following

        # ----- health, supplies, the hour's metrics (steps 9-10) ----------------------------------
        for s in range(n_sec):
            if health:
                n_occ = occ[s]
                if n_occ > 0 and infectious_general[s] > 0 and susceptible[s] > 0:
                    crowd = 1.0
                    if capacity[d, s] > 0:
                        crowd = (n_occ / capacity[d, s]) ** par[P_CROWDING_EXPONENT]
                    rate = par[P_TRANSMISSION] / 24.0 * infectious_general[s] / n_occ * crowd
                    new = binomial(state, int(susceptible[s]), 1.0 - math.exp(-rate))
                    tries = 0
                    while new > 0 and tries < 100 * n_occ:
                        tries += 1
                        pick = members[region[s] + int(uniform(state) * mcount[s])]
                        if flags[pick] & F_INFECTIOUS:
                            continue
                        flags[pick] |= F_INFECTIOUS
                        if uniform(state) < par[P_SYMPTOMATIC]:
                            flags[pick] |= F_SYMPTOMATIC
                        inf_end[pick] = h + uniform(state) + par[P_INFECTIOUS_DAYS] * 24.0
                        infectious_general[s] += 1
                        susceptible[s] -= 1
                        if int(inf_end[pick]) < n_hours:
                            recoveries[int(inf_end[pick]), s] += 1
                        daily[d, s, col[K_INFECTIONS]] += 1
                        new -= 1
                if infectious_general[s] > 0:
                    back = min(h + round(par[P_STAFF_ABSENCE_DAYS] * 24.0), n_hours)
                    for c in range(n_crews):
                        lam = (
                            posts_people[s, c]
                            * par[P_STAFF_INFECTION]
                            / 24.0
                            * infectious_general[s]
                            / 1000.0
                        )
                        sick = min(
                            float(poisson(state, lam)),
                            max(0.0, headcount[d, s, c] - absent[s, c]),
                        )
                        absent[s, c] += sick
                        staff_back[back, s, c] += sick
                for c in range(n_crews):
                    daily[d, s, col[K_STAFF_DAYS_LOST]] += absent[s, c] / 24.0

            if units > 0.0:
                if order_hour[s] == h:
                    stock[s] += order_units[s]
                    order_hour[s] = -1
                use = person_hours[s] * units / 24.0
                share = 1.0
                if warehouse_need[s] > 0.0:
                    share = min(1.0, warehouse_cap[s] / warehouse_need[s])
                delivered = use * share
                used_units = min(stock[s], delivered)
                stock[s] -= used_units
                daily[d, s, col[K_SUPPLY_USED]] += used_units
                daily[d, s, col[K_UNMET]] += (use - used_units) / units
                if delivered > used_units + EPS:
                    daily[d, s, col[K_STOCK_OUT]] = 1.0
                per_day = occ[s] * units
                if order_hour[s] < 0 and stock[s] < par[P_SUPPLY_REORDER_DAYS] * per_day:
                    order_units[s] = par[P_SUPPLY_ORDER_DAYS] * per_day
                    order_hour[s] = h + max(1, round(par[P_SUPPLY_LEAD_DAYS] * 24.0))
                    daily[d, s, col[K_COST_SUPPLIES]] += order_units[s] * par[P_SUPPLY_COST]

            daily[d, s, col[K_OCC_MEAN]] += person_hours[s] / 24.0
            peak_col = col[K_OCC_PEAK]
            daily[d, s, peak_col] = max(daily[d, s, peak_col], float(occ[s]))
            daily[d, s, need_col[INTAKE]] += need_intake[s]
            daily[d, s, need_col[DETERMINATION]] += need_det[s]
            daily[d, s, need_col[TRANSPORT]] += need_transport[s]

            if hh == 23:
                daily[d, s, col[K_BACKLOG]] = n_intake[s] + n_det[s] + n_hold[s]
                daily[d, s, col[K_WAIT_ICE]] = n_ice[s]
                daily[d, s, col[K_WAIT_HHS]] = n_hhs[s]
                daily[d, s, col[K_WAIT_PORT]] = n_port[s]
                daily[d, s, col[K_STOCK]] = stock[s]
                daily[d, s, col[K_COST_CUSTODY]] += (
                    daily[d, s, col[K_OCC_MEAN]] * par[P_COST_CUSTODY]
                )
                daily[d, s, col[K_COST_TOTAL]] = (
                    daily[d, s, col[K_COST_STAFF]]
                    + daily[d, s, col[K_COST_CUSTODY]]
                    + daily[d, s, col[K_COST_SUPPLIES]]
                )

    return _pack(
        OK,
        n_rows,
        daily,
        hist,
        person,
        grp,
        sec,
        attempt,
        t_arr,
        t_app,
        t_int,
        t_det,
        t_dep,
        pathway,
        flags,
    )
