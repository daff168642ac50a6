"""One replication of the border model of docs/model.md, in hourly steps (`lax.scan`).

The state is a dict of arrays per replication; `replicate` runs the whole horizon as a scan over
days with a scan over the day's 24 hours inside, and returns the daily metrics together with the
cumulative curves of custody (apprehended and exited by hour) from which `custody_times` derives
the time-in-custody results. Replications and variants are added by `jax.vmap` in `runner`.

Step order within an hour follows docs/model.md: staff on duty, dispatch, crossings, detection,
interdiction and pickup, lateral decompression and pathway, intake, determination, departure,
health, supplies, cost.
Health is a module (`health.py`) with the event engine's interface, called at its points of the
hour: `start_hour`, `admit`, `screen`, `leave`, `transmit`, `infect_staff`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bordersim.engines.flow import health
from bordersim.engines.flow.dispatch import Work, dispatch, hospital_posts, transport_needed
from bordersim.engines.flow.health import Infection, StaffAbsence
from bordersim.engines.flow.holding import processing_requests
from bordersim.engines.flow.layout import (
    FlowLayout,
    crew_pool_matrix,
    is_agent_crew,
)
from bordersim.engines.flow.metrics import IS_LAST, IS_MAX
from bordersim.engines.flow.minimum_stay import past_minimum_stay
from bordersim.engines.flow.queues import serve_by_priority, serve_in_proportion
from bordersim.engines.flow.release import open_releases, pathway_shares
from bordersim.engines.flow.sampling import Stream, binomial, poisson
from bordersim.model.dimensions import (
    CUSTODY_DAY_TASKS,
    N_PATHWAYS,
    N_POOLS,
    Demographic,
    Pathway,
    Pool,
    Task,
)
from bordersim.model.dispatch_rules import WATCH_POST_TOLERANCE
from bordersim.model.routes import LINES, ROUTE_LINE, ROUTE_REATTEMPT
from bordersim.results.schema import DAILY_METRICS

Params = dict[str, jax.Array]
State = dict[str, jax.Array]
#: the custody curves of an hour, or of every hour of a day: apprehended and exited ([S, K])
Curves = tuple[jax.Array, jax.Array]

_TINY = 1e-9


_ENCOUNTERS = DAILY_METRICS.index("encounters")
#: The national lines (index among `LINES`, route), whose beds and allowances are state.
_NATIONAL = tuple((index, route) for index, route in enumerate(LINES) if route.national)
_STAFF_METRICS = [f"staff_hours:{p.name.lower()}:{t.name.lower()}" for p in Pool for t in Task]


class KindMasks:
    """Float masks over custody kinds, fixed by the layout."""

    def __init__(self, layout: FlowLayout) -> None:
        pathway = np.array(layout.kind_pathway)
        demographic = np.array(layout.kind_demographic)
        # The kinds in each departure line (model/routes.py), and those leaving at once.
        line = ROUTE_LINE[pathway, demographic]
        self.line = tuple((line == index).astype(np.float32) for index in range(len(LINES)))
        self.release = (line < 0).astype(np.float32)
        self.reattempt = ROUTE_REATTEMPT[pathway, demographic].astype(np.float32)
        # Health metrics count people leaving by legal pathway, as the event engine does.
        self.expelled = np.isin(
            pathway, [int(Pathway.TITLE42_EXPULSION), int(Pathway.VOLUNTARY_RETURN)]
        ).astype(np.float32)
        self.removal = (pathway == Pathway.EXPEDITED_REMOVAL).astype(np.float32)
        self.uac_transfer = (pathway == Pathway.UAC_TRANSFER).astype(np.float32)
        self.uac = (demographic == Demographic.UNACCOMPANIED_CHILD).astype(np.float32)
        self.pathway_onehot = np.eye(N_PATHWAYS, dtype=np.float32)[pathway]  # [K, P]
        # Release valve: an expedited-removal kind hands its share to the release kind of its
        # demographic (the policy's, where the policy has its own paperwork), and while open the
        # ordinary release kinds hand theirs to the policy's.
        k = layout.n_kinds
        policy = np.array(layout.kind_policy)
        switched_kind = int(policy.any())  # the kind a switched removal joins: 1 = the policy's
        self.removal_to_release = np.zeros((k, k), dtype=np.float32)
        self.release_to_policy = np.zeros((k, k), dtype=np.float32)
        for i in range(k):
            for j in range(k):
                if pathway[j] != Pathway.RELEASE or demographic[j] != demographic[i]:
                    continue
                if pathway[i] == Pathway.EXPEDITED_REMOVAL and policy[j] == switched_kind:
                    self.removal_to_release[i, j] = 1.0
                if pathway[i] == Pathway.RELEASE and policy[i] == 0 and policy[j] == 1:
                    self.release_to_policy[i, j] = 1.0


def initial_state(p: Params, layout: FlowLayout) -> State:
    s, k, c = layout.n_sectors, layout.n_kinds, layout.n_crews
    share0 = p["share_to_kind"][0]  # [G, K]
    composition = p["initial_custody"][:, :, None] * share0[None]
    zeros_s = jnp.zeros(s)
    zeros_sg2 = jnp.zeros((s, share0.shape[0], 2))
    return {
        "arrived": composition.sum(axis=1),
        "intake_done": jnp.zeros((s, k)),
        "determination_done": jnp.zeros((s, k)),
        "exited": jnp.zeros((s, k)),
        "composition": composition,
        "pickup_groups": zeros_sg2,
        "pickup_people": zeros_sg2,
        "interdiction_groups": zeros_sg2,
        "interdiction_people": zeros_sg2,
        "busy_pickup": zeros_s,
        "busy_interdiction": zeros_s,
        "reattempt_pool": jnp.zeros((s, share0.shape[0])),
        # National lines: beds occupied and the day's transfers or placements still allowed.
        **{f"occupancy:{r.name}": p["line_initial_occupancy"][i] for i, r in _NATIONAL},
        **{f"allowance:{r.name}": jnp.zeros(()) for _, r in _NATIONAL},
        "shelter_left": zeros_s,
        "recent_arrived": jnp.zeros((layout.recent_hours, s, k)),
        "stock": p["supply_initial_stock_days"]
        * p["custody_capacity"][0]
        * p["supply_units_per_person_day"],
        "order_quantity": zeros_s,
        "order_due_hour": jnp.full((s,), -1.0),
        "occupancy_day_sum": zeros_s,
        "valve_open": zeros_s,
        "infectious": zeros_s,
        "symptomatic_before_intake": zeros_s,
        "isolated_now": zeros_s,
        "recovered": zeros_s,  # no longer infectious, immune while in custody
        "absent": jnp.zeros((s, c)),
        "absence_returns": jnp.zeros((layout.absence_hours, s, c)),
        "demand_multiplier": jnp.ones((s, share0.shape[0])),
        "accumulated": jnp.zeros((s, len(DAILY_METRICS))),
        "arrived_work": jnp.zeros((2, s)),  # intake, determination work that came last hour
        "in_line": jnp.zeros((s, k)),  # people in a departure line at the end of the hour
        "encounters_yesterday": zeros_s,
    }


def _serve_share(capacity: jax.Array, groups: jax.Array, people: jax.Array) -> tuple[Any, ...]:
    """Serve up to `capacity` groups of a queue ([S, G, 2]) in proportion; FCFS is by queue."""
    total = groups.sum(axis=(1, 2))
    served = jnp.minimum(capacity, total)
    share = jnp.where(total > 0, served / jnp.maximum(total, _TINY), 0.0)[:, None, None]
    return capacity - served, groups * share, people * share


def _departure_lines(
    ready: jax.Array,
    occupancy: tuple[jax.Array, ...],
    allowances: tuple[jax.Array, ...],
    day: jax.Array,
    p: Params,
    masks: KindMasks,
) -> tuple[jax.Array, ...]:
    """Who can leave this hour by each line ([S, K] each, in `LINES` order), from the people
    `ready` to depart: a sector line's hourly allowance per sector (ports); on a national line,
    free beds within the national allowance of transfers or placements, shared in proportion to
    the people waiting. `occupancy` and `allowances` hold the national lines', in order."""
    flows = []
    national = 0
    for index, route in enumerate(LINES):
        waiting = ready * masks.line[index]
        if not route.national:
            capacity = p["line_sector_capacity_per_day"][index] / 24
            flows.append(serve_in_proportion(waiting, capacity))
            continue
        beds = p["line_beds"][index]
        if route.beds_added:
            beds = beds + p["line_beds_added"][day, index]
        places = jnp.minimum(allowances[national], jnp.maximum(beds - occupancy[national], 0.0))
        flows.append(serve_in_proportion(waiting, places, national=True))
        national += 1
    return tuple(flows)


class Hour(NamedTuple):
    """What every step of one hour reads: parameters, layout, the clock and the hour's randoms."""

    p: Params
    layout: FlowLayout
    masks: KindMasks
    agents: jax.Array  # [C] 1.0 for agent crews
    day: jax.Array
    hour_of_day: jax.Array
    hour: jax.Array
    stream: Stream


class Staffing(NamedTuple):
    headcount: jax.Array  # [S, C]
    on_duty: jax.Array  # [S, C]
    absence: StaffAbsence  # off sick now, and when they come back


class Dispatched(NamedTuple):
    people: jax.Array  # [S, C, T] people on each task this hour
    work: Work
    occupancy: jax.Array  # [S] in custody at the start of the hour
    intake_waiting: jax.Array  # [S] intake work waiting at the start of the hour
    determination_waiting: jax.Array  # [S]
    allowances: tuple[jax.Array, ...]  # national lines' transfers or placements still allowed
    #                                    today, with this hour's


class Crossings(NamedTuple):
    first_people: jax.Array  # [S, G]
    repeat_people: jax.Array  # [S, G]
    reattempt_pool: jax.Array  # [S, G] after this hour's repeat attempts
    group_size: jax.Array  # [1, G, origin]
    surrender_groups: jax.Array  # [S, G, origin]
    detected: jax.Array  # [S, G, origin] groups
    undetected_people: jax.Array  # [S, G, origin]


class FieldQueues(NamedTuple):
    busy_pickup: jax.Array  # [S] agents on a pickup at the end of the hour
    busy_interdiction: jax.Array
    served_pickups: jax.Array  # [S] groups
    served_interdictions: jax.Array
    encountered: jax.Array  # [S, G, origin] people
    pickup_groups: jax.Array  # [S, G, origin] still waiting at the end of the hour
    pickup_people: jax.Array
    interdiction_groups: jax.Array
    interdiction_people: jax.Array
    walked_off: jax.Array  # [S, G, origin] people who gave up waiting


class Custody(NamedTuple):
    """The cumulative custody curves ([S, K] people) and the mix of groups in custody."""

    arrived: jax.Array
    intake_done: jax.Array
    determination_done: jax.Array
    exited: jax.Array
    composition: jax.Array  # [S, G, K]


class Apprehended(NamedTuple):
    custody: Custody
    apprehended: jax.Array  # [S, G] people this hour, where they were apprehended (encounters)
    held: jax.Array  # [S, G] the same people by the sector that holds them (after moves)
    new_by_kind: jax.Array  # [S, K] by the sector that holds them
    moved_out: jax.Array  # [S] moved to other sectors by lateral decompression
    moved_in: jax.Array  # [S]


class Moves(NamedTuple):
    """Lateral decompression's hour (docs/model.md step 6), decided on the state at its start."""

    planned: jax.Array  # [S] each sender's share of the hour's seats (dispatch sizes escorts)
    quota: jax.Array  # [S] the same within the transport staffed (after dispatch)
    room_share: jax.Array  # [S] each receiver's share of the moves (0 when nobody moves)


class Processed(NamedTuple):
    custody: Custody
    served_intake: jax.Array  # [S, K]
    intake_share: jax.Array  # [S] share of the intake queue served this hour


class Departed(NamedTuple):
    custody: Custody
    recent_arrived: jax.Array
    exits: jax.Array  # [S, K]
    to_line: tuple[jax.Array, ...]  # [S, K] leaving by each line, in `LINES` order
    in_line: jax.Array  # [S, K] could leave but wait in a departure line
    occupancy_before_exits: jax.Array  # [S]
    occupancy_now: jax.Array  # [S] at the end of the hour
    reattempt_pool: jax.Array
    occupancy: tuple[jax.Array, ...]  # national lines' beds occupied
    allowances: tuple[jax.Array, ...]
    releases: jax.Array  # [S]
    to_shelter: jax.Array  # [S]
    shelter_left: jax.Array


class Supplies(NamedTuple):
    stock: jax.Array
    used: jax.Array
    stock_out: jax.Array
    unmet: jax.Array
    order_quantity: jax.Array
    order_due_hour: jax.Array
    cost: jax.Array


class HourHealth(NamedTuple):
    """What the health module did this hour (docs/model.md step 10), for metrics and state."""

    infectious_arrivals: jax.Array  # [S]
    isolated: jax.Array  # [S] newly isolated
    isolation_overflow: jax.Array  # [S]
    infectious_share: jax.Array  # [S] of those leaving this hour
    new_infections: jax.Array  # [S]
    infection: Infection  # at the end of the hour
    absence: StaffAbsence  # at the end of the hour


def _supplied(h: Hour, people: jax.Array, task: Task) -> jax.Array:
    """Work hours supplied on `task` per sector by the people dispatched to it."""
    return (people[:, :, task] * h.p["crew_productivity"][:, task]).sum(axis=1)


def _staff_on_duty(st: State, h: Hour) -> Staffing:
    """Step 1: staff on duty, less those off sick (the health module brings back those whose
    absence ends)."""
    absence = health.start_hour(st, h)
    headcount = h.p["crew_headcount"][h.day]  # [S, C]
    on_duty = jnp.maximum(headcount - absence.absent, 0.0) * h.p["crew_on_duty_fraction"][None, :]
    return Staffing(headcount, on_duty, absence)


def _decompression_plan(st: State, h: Hour) -> Moves:
    """Lateral decompression at the start of the hour (as `event/border/decompression.py`):
    the hour's seats, capped by the receivers' room below `receive_fraction` of capacity, are
    shared among the senders in proportion to their occupancy above `send_fraction` of it."""
    p = h.p
    occupancy = (st["arrived"] - st["exited"]).sum(axis=1)
    capacity = p["custody_capacity"][h.day]
    excess = jnp.maximum(occupancy - p["decompression_send_fraction"] * capacity, 0.0)
    room = jnp.maximum(p["decompression_receive_fraction"] * capacity - occupancy, 0.0)
    excess_total, room_total = excess.sum(), room.sum()
    moving = (p["decompression_active"][h.day] > 0) & (excess_total > 0) & (room_total > 0)
    seats = jnp.minimum(p["decompression_seats_per_hour"], room_total)
    planned = jnp.where(moving, seats * excess / jnp.maximum(excess_total, _TINY), 0.0)
    room_share = jnp.where(moving, room / jnp.maximum(room_total, _TINY), 0.0)
    return Moves(planned, planned, room_share)


def _decompression_quota(h: Hour, people: jax.Array, moves: Moves) -> Moves:
    """After dispatch: escorts take the sending sector's transport first, so a sector moves no
    more than its transport staffed can escort."""
    hours = h.p["decompression_hours_per_person"]
    escortable = _supplied(h, people, Task.TRANSPORT) / jnp.maximum(hours, _TINY)
    quota = jnp.where(hours > 0, jnp.minimum(moves.planned, escortable), moves.planned)
    return moves._replace(quota=quota)


def _determined_by_hour_end(
    h: Hour,
    arrived: jax.Array,
    x1: jax.Array,
    x2: jax.Array,
    determination_capacity: jax.Array,
    intake_capacity: jax.Array,
) -> jax.Array:
    """Cumulative determinations [S, K] if the hour's processing, staffed as requested, serves the
    people waiting at its start: determination first, then intake, then the determinations of
    those taken in with the determination capacity left (the event engine's dry run)."""
    p, kind_class = h.p, h.layout.kind_class
    waiting_work = ((x1 - x2) * p["determination_hours"]).sum(axis=1)
    first = serve_by_priority(x1 - x2, p["determination_hours"], kind_class, determination_capacity)
    taken_in = serve_by_priority(arrived - x1, p["intake_hours"], kind_class, intake_capacity)
    left = jnp.maximum(determination_capacity - waiting_work, 0.0)
    second = serve_by_priority(taken_in, p["determination_hours"], kind_class, left)
    return jnp.minimum(x2 + first + second, arrived)


def _dispatch_hour(st: State, h: Hour, on_duty: jax.Array, moves: Moves) -> Dispatched:
    """Step 2: dispatch on the work waiting at the start of the hour."""
    p = h.p
    arrived, x1, x2, x3 = st["arrived"], st["intake_done"], st["determination_done"], st["exited"]
    occupancy = (arrived - x3).sum(axis=1)
    intake_waiting = ((arrived - x1) * p["intake_hours"]).sum(axis=1)
    determination_waiting = ((x1 - x2) * p["determination_hours"]).sum(axis=1)
    # The hour's expected arrivals (last hour's inflow) join the waiting work, within the stations.
    determination_work, intake_work = processing_requests(
        occupancy,
        h.day,
        determination_waiting + st["arrived_work"][1],
        intake_waiting + st["arrived_work"][0],
        p,
    )
    # Departures possible during the hour, for sizing transport, as the event engine sizes it:
    # people past their minimum time in custody by the hour's end whose determination is done, or
    # will be by a dry run of the hour's processing on the people waiting at its start; within
    # the hour's allowance on every line.
    recent = st["recent_arrived"]
    min_stay = p["min_custody_hours"]  # [K]
    allowances = tuple(
        st[f"allowance:{r.name}"] + p["line_national_capacity_per_day"][i] / 24
        for i, r in _NATIONAL
    )
    plan_lines = _departure_lines(
        jnp.maximum(
            jnp.minimum(
                _determined_by_hour_end(h, arrived, x1, x2, determination_work, intake_work),
                past_minimum_stay(recent, h.hour, min_stay, h.layout, arrived),
            )
            - x3,
            0,
        ),
        tuple(st[f"occupancy:{r.name}"] for _, r in _NATIONAL),
        allowances,
        h.day,
        p,
        h.masks,
    )
    transport_plan = jnp.stack(
        [(line * p["transport_hours"]).sum(axis=1) for line in plan_lines]
    )  # [L, S]
    work = Work(
        watch_posts=jnp.ceil(occupancy / p["persons_per_watch_staff"] - WATCH_POST_TOLERANCE)
        + hospital_posts(st["encounters_yesterday"], p),
        intake=intake_work,
        determination=determination_work,
        # Departures possible this hour, and the escorts of the people planned to be moved out.
        transport=transport_plan.sum(axis=0) + moves.planned * p["decompression_hours_per_person"],
        custody_day={
            task: occupancy * p["custody_day_hours"][int(task)] / 24 for task in CUSTODY_DAY_TASKS
        },
        expected_intake=jnp.zeros_like(intake_work),  # already in `intake`, within the stations
        expected_determination=jnp.zeros_like(intake_work),
    )
    people = dispatch(on_duty, work, p, h.layout)  # [S, C, T]
    return Dispatched(
        people,
        work,
        occupancy,
        intake_waiting,
        determination_waiting,
        allowances,
    )


def _field_work_finished(
    st: State, h: Hour, people: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Step 5a: field agents finishing an interdiction or pickup (exponential service).
    Returns the agents still busy on pickups and on interdictions, and the free field agents."""
    p = h.p
    field_agents = (people[:, :, Task.FIELD] * h.agents).sum(axis=1)
    done_pickup = binomial(
        h.stream, st["busy_pickup"], -jnp.expm1(-1.0 / p["field_hours_per_pickup"])
    )
    done_interdiction = binomial(
        h.stream, st["busy_interdiction"], -jnp.expm1(-1.0 / p["field_hours_per_interdiction"])
    )
    busy_pickup = st["busy_pickup"] - done_pickup
    busy_interdiction = st["busy_interdiction"] - done_interdiction
    free_agents = jnp.maximum(field_agents - busy_pickup - busy_interdiction, 0.0)
    return busy_pickup, busy_interdiction, free_agents


def _crossings_and_detection(
    st: State, h: Hour, people: jax.Array, free_agents: jax.Array
) -> Crossings:
    """Steps 3 and 4: crossings, surrender, and detection with the effort of this hour.

    First attempts come in groups, repeat attempts one by one. The hour's people are drawn, then
    formed into groups (docs/model.md step 3): drawing whole groups instead would multiply the
    hourly variance of people by the group size, and the peaks of intake work (which agents top
    up) with it."""
    p, day = h.p, h.day
    size = p["batch_size_mean"]  # [G]
    people_rate = p["first_attempts_per_day"][day] * st["demand_multiplier"]
    first_people = poisson(h.stream, people_rate * p["diurnal_profile"][h.hour_of_day])
    first_groups = first_people / size
    repeat_people = binomial(h.stream, st["reattempt_pool"], p["reattempt_hourly"][None, :])
    reattempt_pool = st["reattempt_pool"] - repeat_people
    groups = jnp.stack([first_groups, repeat_people], axis=-1)  # [S, G, origin]
    group_size = jnp.stack([size, jnp.ones_like(size)], axis=-1)[None]  # [1, G, origin]
    surrender_groups = binomial(h.stream, groups, p["surrender_fraction"][None, :, None])
    evade_groups = groups - surrender_groups

    effort = (
        free_agents
        + (people[:, :, Task.DETECTION] * p["crew_detection_weight"][None, :]).sum(axis=1)
        + p["technology_effort"]
    )
    p_detect = p["detection_p_max"] * -jnp.expm1(-effort / p["detection_effort_scale"])
    detected = binomial(h.stream, evade_groups, p_detect[:, None, None])
    undetected_people = (evade_groups - detected) * group_size
    return Crossings(
        first_people,
        repeat_people,
        reattempt_pool,
        group_size,
        surrender_groups,
        detected,
        undetected_people,
    )


def _stay(theta: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Patience: a group waiting since an earlier hour stays another hour with exp(-1/theta); one
    that arrived during this hour (uniformly) stays to its end with theta * (1 - exp(-1/theta))."""
    return jnp.exp(-1.0 / theta), -jnp.expm1(-1.0 / theta) * theta


def _serve_field(
    st: State,
    h: Hour,
    crossing: Crossings,
    busy: tuple[jax.Array, jax.Array, jax.Array],
) -> FieldQueues:
    """Step 5b: pickups first, then interdictions, those waiting longest first; the rest wait
    with their patience or walk off."""
    p, size = h.p, crossing.group_size
    surrender, detected = crossing.surrender_groups, crossing.detected
    busy_pickup, busy_interdiction, capacity = busy
    capacity, pick_old_g, pick_old_p = _serve_share(
        capacity, st["pickup_groups"], st["pickup_people"]
    )
    capacity, pick_new_g, pick_new_p = _serve_share(capacity, surrender, surrender * size)
    capacity, int_old_g, int_old_p = _serve_share(
        capacity, st["interdiction_groups"], st["interdiction_people"]
    )
    capacity, int_new_g, int_new_p = _serve_share(capacity, detected, detected * size)
    served_pickups = (pick_old_g + pick_new_g).sum(axis=(1, 2))
    served_interdictions = (int_old_g + int_new_g).sum(axis=(1, 2))
    encountered = pick_old_p + pick_new_p + int_old_p + int_new_p  # [S, G, origin] people

    stay_pick_old, stay_pick_new = _stay(p["pickup_patience_hours"])
    stay_int_old, stay_int_new = _stay(p["interdiction_patience_hours"][None, :, None])
    left_pick_old_g = st["pickup_groups"] - pick_old_g
    left_pick_old_p = st["pickup_people"] - pick_old_p
    left_pick_new_g = surrender - pick_new_g
    left_pick_new_p = surrender * size - pick_new_p
    left_int_old_g = st["interdiction_groups"] - int_old_g
    left_int_old_p = st["interdiction_people"] - int_old_p
    left_int_new_g = detected - int_new_g
    left_int_new_p = detected * size - int_new_p
    walked_off = (
        left_pick_old_p * (1 - stay_pick_old)
        + left_pick_new_p * (1 - stay_pick_new)
        + left_int_old_p * (1 - stay_int_old)
        + left_int_new_p * (1 - stay_int_new)
    )
    return FieldQueues(
        busy_pickup=busy_pickup + served_pickups,
        busy_interdiction=busy_interdiction + served_interdictions,
        served_pickups=served_pickups,
        served_interdictions=served_interdictions,
        encountered=encountered,
        pickup_groups=left_pick_old_g * stay_pick_old + left_pick_new_g * stay_pick_new,
        pickup_people=left_pick_old_p * stay_pick_old + left_pick_new_p * stay_pick_new,
        interdiction_groups=left_int_old_g * stay_int_old + left_int_new_g * stay_int_new,
        interdiction_people=left_int_old_p * stay_int_old + left_int_new_p * stay_int_new,
        walked_off=walked_off,
    )


def _move(h: Hour, apprehended: jax.Array, moves: Moves) -> tuple[jax.Array, ...]:
    """Lateral decompression: each sender moves its quota, at most its eligible apprehensions of
    the hour, in proportion to its groups; receivers take them in proportion to their room.
    Returns the people by the sector that holds them, moved out and moved in ([S])."""
    eligible = apprehended * h.p["decompression_eligible"][None, :]  # [S, G]
    eligible_total = eligible.sum(axis=1)
    moved = jnp.minimum(moves.quota, eligible_total)
    out = eligible * (moved / jnp.maximum(eligible_total, _TINY))[:, None]
    into = out.sum(axis=0)[None, :] * moves.room_share[:, None]
    return apprehended - out + into, out.sum(axis=1), into.sum(axis=1)


def _pathway(st: State, h: Hour, encountered: jax.Array, moves: Moves) -> Apprehended:
    """Step 6: people moved between sectors at apprehension (lateral decompression), then
    pathway at encounter in the sector that holds them, with its release valve; the apprehended
    enter custody there, at the hour of their apprehension."""
    share = pathway_shares(
        h.p["share_to_kind"][h.day],
        st["valve_open"],
        h.p["release_share"][h.day],
        h.masks.removal_to_release,
        h.masks.removal,
        h.masks.release_to_policy,
    )  # [S, G, K]
    apprehended = encountered.sum(axis=2)  # [S, G]
    held, moved_out, moved_in = _move(h, apprehended, moves)
    new_by_kind = jnp.einsum("sg,sgk->sk", held, share)  # [S, K]
    custody = Custody(
        arrived=st["arrived"] + new_by_kind,
        intake_done=st["intake_done"],
        determination_done=st["determination_done"],
        exited=st["exited"],
        composition=st["composition"] + held[:, :, None] * share,
    )
    return Apprehended(custody, apprehended, held, new_by_kind, moved_out, moved_in)


def _process(h: Hour, people: jax.Array, custody: Custody) -> Processed:
    """Step 7: intake then determination, priority class then oldest first. Health screening
    (`health.screen`) covers the share of the intake queue served."""
    p, kind_class = h.p, h.layout.kind_class
    arrived, x1, x2 = custody.arrived, custody.intake_done, custody.determination_done
    waiting_intake = arrived - x1
    served_intake = serve_by_priority(
        waiting_intake, p["intake_hours"], kind_class, _supplied(h, people, Task.INTAKE)
    )
    x1 = jnp.minimum(x1 + served_intake, arrived)
    intake_share = served_intake.sum(axis=1) / jnp.maximum(waiting_intake.sum(axis=1), _TINY)

    served_determination = serve_by_priority(
        x1 - x2, p["determination_hours"], kind_class, _supplied(h, people, Task.DETERMINATION)
    )
    x2 = jnp.minimum(x2 + served_determination, x1)
    custody = custody._replace(intake_done=x1, determination_done=x2)
    return Processed(custody, served_intake, intake_share)


def _depart(
    st: State,
    h: Hour,
    people: jax.Array,
    custody: Custody,
    allowances: tuple[jax.Array, ...],
    reattempt_pool: jax.Array,
    escort: jax.Array,
) -> Departed:
    """Step 8: departures of people past their minimum time in custody; transport shared among
    the lines (ports, ICE, HHS) in proportion to the work each could move this hour, after the
    escorts of the people moved out (`escort`, [S] staff-hours) took theirs."""
    p, masks, hour = h.p, h.masks, h.hour
    arrived, x2, x3 = custody.arrived, custody.determination_done, custody.exited
    recent = jax.lax.dynamic_update_index_in_dim(
        st["recent_arrived"], arrived, hour % h.layout.recent_hours, axis=0
    )
    eligible = jnp.minimum(
        x2, past_minimum_stay(recent, hour, p["min_custody_hours"], h.layout, arrived)
    )
    waiting_departure = jnp.maximum(eligible - x3, 0.0)
    occupancy = tuple(
        st[f"occupancy:{r.name}"]
        - binomial(h.stream, st[f"occupancy:{r.name}"], p["line_leave_hourly"][i])
        for i, r in _NATIONAL
    )
    lines = _departure_lines(waiting_departure, occupancy, allowances, h.day, p, masks)
    line_work = jnp.stack([(line * p["transport_hours"]).sum(axis=1) for line in lines])
    total_work = line_work.sum(axis=0)
    transport_share = jnp.where(
        total_work > _TINY,
        jnp.clip(
            jnp.maximum(_supplied(h, people, Task.TRANSPORT) - escort, 0.0)
            / jnp.maximum(total_work, _TINY),
            0.0,
            1.0,
        ),
        1.0,
    )
    to_line = tuple(line * transport_share[:, None] for line in lines)
    released = waiting_departure * masks.release
    exits = to_line[0]
    for flow in to_line[1:]:
        exits = exits + flow
    exits = exits + released  # [S, K]
    occupancy_before_exits = (arrived - x3).sum(axis=1)
    x3 = jnp.minimum(x3 + exits, x2)

    composition, reattempt_pool = _leave_custody(h, custody.composition, exits, reattempt_pool)
    releases = (exits * masks.release).sum(axis=1)
    to_shelter = jnp.minimum(releases, st["shelter_left"])
    occupancy_now = (arrived - x3).sum(axis=1)
    return Departed(
        custody=custody._replace(exited=x3, composition=composition),
        recent_arrived=recent,
        exits=exits,
        to_line=to_line,
        # People still within their minimum time in custody after determination count as
        # backlog (not yet able to leave), as in the event engine; the lines hold those who
        # could leave.
        in_line=jnp.maximum(jnp.minimum(x2, eligible) - x3, 0.0),
        occupancy_before_exits=occupancy_before_exits,
        occupancy_now=occupancy_now,
        reattempt_pool=reattempt_pool,
        occupancy=tuple(occupancy[n] + to_line[i].sum() for n, (i, _) in enumerate(_NATIONAL)),
        allowances=tuple(
            jnp.maximum(allowances[n] - to_line[i].sum(), 0.0) for n, (i, _) in enumerate(_NATIONAL)
        ),
        releases=releases,
        to_shelter=to_shelter,
        shelter_left=st["shelter_left"] - to_shelter,
    )


def _leave_custody(
    h: Hour, composition: jax.Array, exits: jax.Array, reattempt_pool: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The groups leaving custody, in proportion to each kind's mix; those whose route leads to
    re-attempts (returned by the port) join the re-attempt pool with the repeat probability of
    the day's regime."""
    p = h.p
    in_kind = composition.sum(axis=1, keepdims=True)  # [S, 1, K]
    exits_by_group = exits[:, None, :] * composition / jnp.maximum(in_kind, _TINY)
    composition = jnp.maximum(composition - exits_by_group, 0.0)
    title42 = p["title42_active"][h.day]
    repeat_probability = (1 - title42) * p["repeat_probability"][0] + title42 * p[
        "repeat_probability"
    ][1]
    reattempt_pool = (
        reattempt_pool + (exits_by_group * h.masks.reattempt).sum(axis=2) * repeat_probability
    )
    return composition, reattempt_pool


def _supplies(
    st: State, h: Hour, dispatched: Dispatched, person_hours: jax.Array, occupancy_now: jax.Array
) -> Supplies:
    """Step 9: a delivery due this hour arrives first, then the hour's use, then a reorder."""
    p, hour = h.p, h.hour
    units = p["supply_units_per_person_day"]
    delivered = st["order_due_hour"] == hour
    stock = st["stock"] + jnp.where(delivered, st["order_quantity"], 0.0)
    order_due = jnp.where(delivered, -1.0, st["order_due_hour"])
    needed_units = person_hours * units / 24
    warehouse_needed = dispatched.work.custody_day[Task.WAREHOUSE]
    warehouse_share = jnp.where(
        warehouse_needed > 0,
        jnp.minimum(
            1.0,
            _supplied(h, dispatched.people, Task.WAREHOUSE) / jnp.maximum(warehouse_needed, _TINY),
        ),
        1.0,
    )
    deliverable = needed_units * warehouse_share
    used = jnp.minimum(stock, deliverable)
    stock_out = (deliverable > used + 1e-6).astype(jnp.float32)
    unmet = jnp.where(units > 0, (needed_units - used) / jnp.maximum(units, _TINY), 0.0)
    stock = stock - used
    use_per_day = occupancy_now * units
    reorder = (order_due < 0) & (stock < p["supply_reorder_point_days"] * use_per_day)
    quantity = p["supply_order_days"] * use_per_day
    order_quantity = jnp.where(reorder, quantity, st["order_quantity"])
    order_due = jnp.where(
        reorder, hour + jnp.maximum(1.0, p["supply_reorder_lead_hours"]), order_due
    )
    supply_cost = jnp.where(reorder, quantity * p["supply_cost_per_unit"], 0.0)
    return Supplies(stock, used, stock_out, unmet, order_quantity, order_due, supply_cost)


def _cost(
    h: Hour, headcount: jax.Array, person_hours: jax.Array, to_line: tuple[jax.Array, ...]
) -> tuple[jax.Array, jax.Array]:
    """Step 11: the hour's staff cost and custody cost per sector. Departures by a route with a
    cost (ICE transfers) are part of leaving custody, so their cost is custody cost (as in the
    event engine); the total is staff + custody + supplies."""
    p = h.p
    staff_cost = (headcount * p["crew_cost_per_person_day"][None, :]).sum(axis=1) / 24
    custody_cost = person_hours * p["cost_per_custody_person_day"] / 24
    for index, route in enumerate(LINES):
        if route.cost_per_person:
            custody_cost = custody_cost + (
                to_line[index].sum(axis=1) * p["line_cost_per_person"][index]
            )
    return staff_cost, custody_cost


class Hourly(NamedTuple):
    """Everything one hour produced, for its metrics and the next hour's state."""

    staffing: Staffing
    dispatched: Dispatched
    crossing: Crossings
    field: FieldQueues
    entered: Apprehended
    processed: Processed
    departed: Departed
    person_hours: jax.Array
    supplies: Supplies
    health: HourHealth
    staff_cost: jax.Array
    custody_cost: jax.Array


Columns = dict[str, jax.Array]


def _crossing_custody_metrics(st: State, h: Hour, r: Hourly, put: Any) -> None:
    """Metrics of crossings, encounters, custody and departures."""
    masks, c, d = h.masks, r.crossing, r.departed
    warmup = (h.day < h.layout.warmup_days).astype(jnp.float32)
    put("first_attempts", c.first_people.sum(axis=1))
    put("repeat_attempts", c.repeat_people.sum(axis=1))
    put("attempts", c.first_people.sum(axis=1) + c.repeat_people.sum(axis=1))
    put("surrendered", (c.surrender_groups * c.group_size).sum(axis=(1, 2)))
    put("detected", (c.detected * c.group_size).sum(axis=(1, 2)))
    put("encounters", r.entered.apprehended.sum(axis=1))
    put(
        "unique_encounters",
        r.field.encountered[:, :, 0].sum(axis=1) * (1 - warmup * h.p["initial_repeat_share"]),
    )
    put("gotaways", c.undetected_people.sum(axis=(1, 2)) + r.field.walked_off.sum(axis=(1, 2)))
    put("occupancy_mean", r.person_hours / 24)
    put("occupancy_peak", d.occupancy_now)
    put("custody_capacity", h.p["custody_capacity"][h.day])
    put("custody_exits", d.exits.sum(axis=1))
    put("uac_exits", (d.exits * masks.uac).sum(axis=1))
    custody = d.custody
    put("processing_backlog", (custody.arrived - custody.exited - d.in_line).sum(axis=1))
    departures = d.exits @ masks.pathway_onehot
    for pathway in Pathway:
        put(f"departures:{pathway.name.lower()}", departures[:, pathway])
    put("releases_to_street", d.releases - d.to_shelter)
    for index, route in enumerate(LINES):
        put(route.waiting_metric, (d.in_line * masks.line[index]).sum(axis=1))
    put("valve_open_hours", st["valve_open"])
    put("moved_out", r.entered.moved_out)
    put("moved_in", r.entered.moved_in)


def _staff_metrics(st: State, h: Hour, r: Hourly, put: Any) -> None:
    """Staff hours supplied by pool and task, and needed by task."""
    p, s = h.p, h.layout.n_sectors
    people, work = r.dispatched.people, r.dispatched.work
    pool_matrix = jnp.asarray(crew_pool_matrix(h.layout, N_POOLS))  # [C, K]
    staff_hours = jnp.einsum("sct,ck->skt", people, pool_matrix).reshape(s, -1)
    for i, name in enumerate(_STAFF_METRICS):
        put(name, staff_hours[:, i])
    agent_hours = (people * h.agents[None, :, None]).sum(axis=1)  # [S, T]
    put("agents_field_hours", agent_hours[:, Task.FIELD])
    put("agents_support_hours", agent_hours.sum(axis=1) - agent_hours[:, Task.FIELD])
    target = p["target_custody_hours"]
    put(
        "staff_hours_needed:field",
        r.field.served_pickups * p["field_hours_per_pickup"]
        + r.field.served_interdictions * p["field_hours_per_interdiction"],
    )
    put(
        "staff_hours_needed:intake",
        (r.entered.new_by_kind * p["intake_hours"]).sum(axis=1)
        + r.dispatched.intake_waiting / target,
    )
    put(
        "staff_hours_needed:determination",
        (r.processed.served_intake * p["determination_hours"]).sum(axis=1)
        + r.dispatched.determination_waiting / target,
    )
    d = r.departed
    put(
        "staff_hours_needed:transport",
        transport_needed(st["in_line"], d.in_line, d.exits, p["transport_hours"], target)
        + r.entered.moved_out * p["decompression_hours_per_person"],
    )
    put("staff_hours_needed:custody_watch", work.watch_posts)
    for task, needed in work.custody_day.items():
        put(f"staff_hours_needed:{task.name.lower()}", needed)
    # Detection has no target: its need is what was supplied (no gap), as in the event engine.
    put("staff_hours_needed:detection", people[:, :, Task.DETECTION].sum(axis=1))


def _supply_health_cost_metrics(h: Hour, r: Hourly, put: Any) -> None:
    masks, d, sup, ill = h.masks, r.departed, r.supplies, r.health
    put("supply_stock_units", sup.stock)
    put("supply_units_used", sup.used)
    put("unmet_care_person_days", sup.unmet)
    put("stock_out", sup.stock_out)
    put("infections_in_custody", ill.new_infections)
    put("infectious_arrivals", ill.infectious_arrivals)
    put("isolated", ill.isolated)
    put("isolation_overflow", ill.isolation_overflow)
    share = ill.infectious_share
    put("infectious_released", (d.releases + (d.exits * masks.uac_transfer).sum(axis=1)) * share)
    put("infectious_expelled", (d.exits * masks.expelled).sum(axis=1) * share)
    put("infectious_removed", (d.exits * masks.removal).sum(axis=1) * share)
    put("staff_days_lost", ill.absence.absent.sum(axis=1) / 24)
    put("cost_staff_dollars", r.staff_cost)
    put("cost_custody_dollars", r.custody_cost)
    put("cost_supplies_dollars", sup.cost)
    moves_cost = r.entered.moved_out * h.p["decompression_cost_per_person"]
    put("cost_decompression_dollars", moves_cost)
    put("cost_total_dollars", r.staff_cost + r.custody_cost + sup.cost + moves_cost)


def _accumulate(st: State, h: Hour, r: Hourly) -> jax.Array:
    """The hour's metrics ([S, M]) folded into the day's: last value, maximum or sum."""
    s = h.layout.n_sectors
    columns: Columns = {}

    def put(name: str, value: jax.Array) -> None:
        columns[name] = jnp.broadcast_to(value, (s,))

    _crossing_custody_metrics(st, h, r, put)
    _staff_metrics(st, h, r, put)
    _supply_health_cost_metrics(h, r, put)
    zeros = jnp.zeros(s)
    values = jnp.stack([columns.get(name, zeros) for name in DAILY_METRICS], axis=1)
    accumulated = st["accumulated"]
    return jnp.where(
        IS_LAST, values, jnp.where(IS_MAX, jnp.maximum(accumulated, values), accumulated + values)
    )


def _next_state(st: State, h: Hour, r: Hourly) -> State:
    """The state at the end of the hour."""
    p, d, custody = h.p, r.departed, r.departed.custody
    field, sup, infection = r.field, r.supplies, r.health.infection
    return {
        **st,
        "arrived": custody.arrived,
        "intake_done": custody.intake_done,
        "determination_done": custody.determination_done,
        "exited": custody.exited,
        "composition": custody.composition,
        "pickup_groups": field.pickup_groups,
        "pickup_people": field.pickup_people,
        "interdiction_groups": field.interdiction_groups,
        "interdiction_people": field.interdiction_people,
        "busy_pickup": field.busy_pickup,
        "busy_interdiction": field.busy_interdiction,
        "reattempt_pool": d.reattempt_pool,
        **{f"occupancy:{r.name}": d.occupancy[n] for n, (_, r) in enumerate(_NATIONAL)},
        **{f"allowance:{r.name}": d.allowances[n] for n, (_, r) in enumerate(_NATIONAL)},
        "shelter_left": d.shelter_left,
        "recent_arrived": d.recent_arrived,
        "stock": sup.stock,
        "order_quantity": sup.order_quantity,
        "order_due_hour": sup.order_due_hour,
        "occupancy_day_sum": st["occupancy_day_sum"] + d.occupancy_now,
        "infectious": infection.infectious,
        "symptomatic_before_intake": infection.symptomatic_before_intake,
        "isolated_now": infection.isolated_now,
        "recovered": infection.recovered,
        "absent": r.health.absence.absent,
        "absence_returns": r.health.absence.absence_returns,
        "accumulated": _accumulate(st, h, r),
        "in_line": d.in_line,
        "arrived_work": jnp.stack(
            [
                (r.entered.new_by_kind * p["intake_hours"]).sum(axis=1),
                (r.processed.served_intake * p["determination_hours"]).sum(axis=1),
            ]
        ),
    }


def hour_step(
    state: State,
    hour_of_day: jax.Array,
    *,
    day: jax.Array,
    p: Params,
    layout: FlowLayout,
    key: jax.Array,
) -> tuple[State, Curves]:
    """One hour, step by step in the order of docs/model.md (the field work finished during the
    hour frees agents before the hour's crossings are met). Random draws are taken from the
    hour's stream in this order, so the steps' order is part of the results."""
    hour = day * 24 + hour_of_day
    draws = hour_draws(layout, p["batch_size_mean"].shape[0])
    h = Hour(
        p=p,
        layout=layout,
        masks=KindMasks(layout),
        agents=jnp.asarray(is_agent_crew(layout), dtype=jnp.float32),
        day=day,
        hour_of_day=hour_of_day,
        hour=hour,
        stream=Stream(jax.random.fold_in(key, hour), draws.total),
    )
    st = state
    staffing = _staff_on_duty(st, h)
    moves = _decompression_plan(st, h)
    dispatched = _dispatch_hour(st, h, staffing.on_duty, moves)
    people = dispatched.people
    moves = _decompression_quota(h, people, moves)
    busy = _field_work_finished(st, h, people)
    crossing = _crossings_and_detection(st, h, people, free_agents=busy[2])
    field = _serve_field(st, h, crossing, busy)
    entered = _pathway(st, h, field.encountered, moves)
    infectious_arrivals, infection = health.admit(
        st, h, entered.apprehended, entered.moved_in - entered.moved_out
    )
    processed = _process(h, people, entered.custody)
    screened = health.screen(h, infection, processed.intake_share)
    departed = _depart(
        st,
        h,
        people,
        processed.custody,
        dispatched.allowances,
        crossing.reattempt_pool,
        entered.moved_out * p["decompression_hours_per_person"],
    )
    person_hours = (dispatched.occupancy + departed.occupancy_now) / 2
    supplies = _supplies(st, h, dispatched, person_hours, departed.occupancy_now)
    left = health.leave(
        screened.infection, departed.exits.sum(axis=1), departed.occupancy_before_exits
    )
    infection, new_infections = health.transmit(h, left.infection, departed.occupancy_now)
    absence = health.infect_staff(h, infection, people, staffing.absence)
    health_hour = HourHealth(
        infectious_arrivals,
        screened.isolated,
        screened.isolation_overflow,
        left.infectious_share,
        new_infections,
        infection,
        absence,
    )
    staff_cost, custody_cost = _cost(h, staffing.headcount, person_hours, departed.to_line)
    result = Hourly(
        staffing,
        dispatched,
        crossing,
        field,
        entered,
        processed,
        departed,
        person_hours,
        supplies,
        health_hour,
        staff_cost,
        custody_cost,
    )
    _check_draws_taken(h, draws)
    custody = departed.custody
    # two outputs, not one stacked array: the scan writes each into its final place
    return _next_state(st, h, result), (custody.arrived, custody.exited)


class Draws(NamedTuple):
    total: int  # the hour's stream: every draw below, the health module on or off
    health: int  # of which the health module's (not taken when no variant has it on)


def hour_draws(layout: FlowLayout, n_groups: int) -> Draws:
    """The random numbers one hour takes from its stream. The stream's size sets every number
    drawn from it (a longer stream is not a shorter one extended), so it is counted exactly from
    the steps that draw, and `hour_step` checks the count against what the hour took: a new
    national departure line (docs/extending.md) adds one, a new crew one per sector."""
    s, c = layout.n_sectors, layout.n_crews
    field_work = 2 * s  # pickups and interdictions finished
    crossings = s * n_groups * 6  # first attempts, repeats; surrender, detection by origin
    national_lines = len(_NATIONAL)  # people leaving each national line
    # infectious arrivals, their symptoms, screening, transmission; staff infected by crew
    health = 4 * s + s * c
    return Draws(field_work + crossings + national_lines + health, health)


def _check_draws_taken(h: Hour, draws: Draws) -> None:
    """At trace time: the hour took exactly the draws `hour_draws` counts."""
    expected = draws.total - (0 if h.layout.health else draws.health)
    if h.stream.used != expected:
        raise RuntimeError(
            f"the flow engine's hour took {h.stream.used} random numbers where hour_draws "
            f"counts {expected}: count the new draws in hour_draws"
        )


def day_step(
    state: State, day: jax.Array, *, p: Params, layout: FlowLayout, key: jax.Array
) -> tuple[State, tuple[jax.Array, Curves]]:
    """Start-of-day decisions (demand level, release policies, shelter places), then 24 hours."""
    st = dict(state)
    day_key = jax.random.fold_in(key, layout.n_hours + day)
    shape = p["gamma_shape"]
    gamma = jax.random.gamma(day_key, shape, st["demand_multiplier"].shape) / shape
    st["demand_multiplier"] = jnp.where(p["poisson_demand"] > 0, 1.0, gamma)
    st["valve_open"] = open_releases(st["accumulated"], day, p)
    st["occupancy_day_sum"] = jnp.zeros_like(st["occupancy_day_sum"])
    st["shelter_left"] = p["shelter_intake_per_day"]
    for _, route in _NATIONAL:
        st[f"allowance:{route.name}"] = jnp.zeros_like(st[f"allowance:{route.name}"])
    st["encounters_yesterday"] = jnp.where(day > 0, st["accumulated"][:, _ENCOUNTERS], 0.0)
    st["accumulated"] = jnp.zeros_like(st["accumulated"])

    def one_hour(carry: State, hour_of_day: jax.Array) -> tuple[State, Curves]:
        return hour_step(carry, hour_of_day, day=day, p=p, layout=layout, key=key)

    st, curves = jax.lax.scan(one_hour, st, jnp.arange(24))
    return st, (st["accumulated"], curves)


def replicate(
    p: Params, key: jax.Array, layout: FlowLayout
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One replication: daily metrics [D, S, M], apprehended and exited by hour [H, S, K]."""
    state = initial_state(p, layout)

    def one_day(carry: State, day: jax.Array) -> tuple[State, tuple[jax.Array, Curves]]:
        return day_step(carry, day, p=p, layout=layout, key=key)

    state, (daily, (arrived, exited)) = jax.lax.scan(one_day, state, jnp.arange(layout.n_days))
    shape = (layout.n_hours, layout.n_sectors, layout.n_kinds)
    return daily, arrived.reshape(shape), exited.reshape(shape)
