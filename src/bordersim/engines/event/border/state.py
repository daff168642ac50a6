"""Named bundles of the border kernel's state, one per part of docs/model.md.

Numba compiles functions over NamedTuples of arrays, so each step of the hour takes the bundles it
reads and writes instead of dozens of loose arrays. A bundle is allocated once per replication;
its arrays are changed in place (scalars that change live in one-element arrays). Every array has
one meaning for the whole run.

Axes: S sectors, G groups, C crews, T tasks, H hours of the run (+1: a bucket for "after the
run"), N rows (one per crossing attempt and per person in custody at the start).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from bordersim.engines.event.border.queues import NIL
from bordersim.model.dimensions import N_NATIONALITIES, Demographic, Pathway, Pool, Task

# Codes of the model's IntEnums as plain ints: compiled code compares them with int8 arrays.
ER = int(Pathway.EXPEDITED_REMOVAL)
REL = int(Pathway.RELEASE)
UAC = int(Pathway.UAC_TRANSFER)
FIELD = int(Task.FIELD)
DETECTION = int(Task.DETECTION)
INTAKE = int(Task.INTAKE)
DETERMINATION = int(Task.DETERMINATION)
WATCH = int(Task.CUSTODY_WATCH)
TRANSPORT = int(Task.TRANSPORT)
WAREHOUSE = int(Task.WAREHOUSE)
MEDICAL = int(Task.MEDICAL)
AGENT = int(Pool.AGENT)
UAC_DEMOGRAPHIC = int(Demographic.UNACCOMPANIED_CHILD)
NATIONALITIES = N_NATIONALITIES

# Departure lines are those of `model.routes.LINES`, in table order (the L axis below); the
# model's `route_line` gives the line of each pathway and demographic (-1: leaves at once).
PICKUPS, INTERDICTIONS = 0, 1  # the two field lines of a sector: field_head[2 * s + line]

EPS = 1e-9
HIST_LAST = 720  # results.schema.CUSTODY_HIST_HOURS


class Model(NamedTuple):
    """The `CompiledModel` as the kernel reads it (packed by `driver.pack_model`).

    Fields keep the `CompiledModel` names; `diurnal_cdf` and `pathway_cdf` are the cumulative
    sums of `diurnal_profile` and `pathway_share`, `n_hours` and `n_classes` are derived sizes.
    """

    n_hours: int
    n_classes: int  # priority classes: priority_class.max() + 1
    warmup_days: int
    health_enabled: bool
    release_valve_enabled: bool
    demand_dispersion: float
    initial_repeat_share: float
    field_hours_per_interdiction: float
    field_hours_per_pickup: float
    pickup_patience_hours: float
    persons_per_watch_staff: float
    min_field_fraction: float
    max_processing_fraction: float
    hospital_watch_hours_per_apprehension: float
    hospital_transport_hours_per_apprehension: float
    release_intake_hours: float
    supply_units_per_person_day: float
    supply_initial_stock_days: float
    supply_reorder_lead_days: float
    supply_reorder_point_days: float
    supply_order_days: float
    supply_cost_per_unit: float
    symptomatic_fraction: float
    screening_sensitivity: float
    transmission_rate_per_day: float
    crowding_exponent: float
    infectious_days: float
    staff_infection_rate_per_day: float
    staff_absence_days: float
    cost_per_custody_person_day: float
    target_custody_hours: float
    custody_standard_hours: float
    uac_standard_hours: float
    first_attempts_per_day: np.ndarray  # [D, S, G]
    diurnal_cdf: np.ndarray  # [24]
    batch_size_mean: np.ndarray  # [G]
    surrender_fraction: np.ndarray  # [G]
    title42_active: np.ndarray  # [D] bool
    repeat_probability: np.ndarray  # [2, G]
    repeat_delay_mean_days: np.ndarray  # [G]
    detection_p_max: np.ndarray  # [S]
    detection_effort_scale: np.ndarray  # [S]
    detection_weight: np.ndarray  # [K]
    technology_effort: np.ndarray  # [S]
    interdiction_patience_hours: np.ndarray  # [G]
    pathway_cdf: np.ndarray  # [D, G, P]
    intake_hours: np.ndarray  # [P]
    determination_hours: np.ndarray  # [P]
    min_custody_hours: np.ndarray  # [P]
    priority_class: np.ndarray  # [G] int
    custody_capacity: np.ndarray  # [D, S]
    initial_custody: np.ndarray  # [S, G]
    transport_hours_per_person: np.ndarray  # [P]
    shelter_intake_per_day: np.ndarray  # [S]
    crew_pool: np.ndarray  # [C] int
    crew_tasks: np.ndarray  # [C, T] bool
    crew_headcount: np.ndarray  # [D, S, C]
    on_duty_fraction: np.ndarray  # [K]
    productivity: np.ndarray  # [K, T]
    cost_per_person_day: np.ndarray  # [K]
    task_fill_order: np.ndarray  # [T] int
    arrival_prevalence: np.ndarray  # [D]
    isolation_capacity: np.ndarray  # [S]
    # holding and processing capacity as limits (holding.py)
    crowding_slowdown: float
    processing_stations: np.ndarray  # [D, S]
    # release policies with dated triggers (release.py)
    release_share: np.ndarray  # [D, S]
    release_trigger_occupancy: np.ndarray  # [D, S]
    release_trigger_occupancy_growing: np.ndarray  # [D, S]
    release_trigger_stay_hours: np.ndarray  # [D, S]
    release_trigger_apprehensions: np.ndarray  # [D, S]
    custody_day_hours: np.ndarray  # [T] work per custody person-day (custody-day tasks)
    custody_day_task: np.ndarray  # [T] bool: the task's work is custody-day work
    # departure routes (model/routes.py): L lines in table order
    line_sector_capacity_per_day: np.ndarray  # [L, S]
    line_national_capacity_per_day: np.ndarray  # [L]
    line_beds: np.ndarray  # [L]
    line_initial_occupancy: np.ndarray  # [L]
    line_length_of_stay_days: np.ndarray  # [L]
    line_beds_added: np.ndarray  # [D, L]
    line_cost_per_person: np.ndarray  # [L]
    line_national: np.ndarray  # [L] bool: one line for the border (else one per sector)
    route_line: np.ndarray  # [P, demographics] int: the line people take, -1: they leave at once
    route_reattempt: np.ndarray  # [P, demographics] bool: leaving by that route may lead back
    line_transport_hours: np.ndarray  # [L] transport work per person on each line (the most
    #                                   of its pathways'), for sizing transport ahead
    # lateral decompression (decompression.py)
    decompression_send_fraction: float
    decompression_receive_fraction: float
    decompression_seats_per_hour: float
    decompression_hours_per_person: float
    decompression_cost_per_person: float
    decompression_active: np.ndarray  # [D]
    decompression_eligible: np.ndarray  # [G]


class Storage(NamedTuple):
    """Sizes the driver chooses: rows, each sector's health region of rows, field heap size."""

    n_cap: int
    region: np.ndarray  # [S + 1] first row slot of each sector's custody member list
    heap_cap: int
    n_metrics: int


class Metrics(NamedTuple):
    """What the kernel reports, and where each metric goes (column numbers of DAILY_METRICS)."""

    daily: np.ndarray  # [D, S, M]
    hist: np.ndarray  # [S, 2, HIST_LAST + 1] exits by whole hours in custody; [:, 1] children
    col: np.ndarray  # [len(KERNEL_METRICS)] column of each `layout.K_*` metric
    staff_col: np.ndarray  # [K, T] column of staff_hours:<pool>:<task>
    need_col: np.ndarray  # [T] column of staff_hours_needed:<task>
    line_col: np.ndarray  # [L] column of each line's waiting metric


class Rows(NamedTuple):
    """One row per crossing attempt (and per person in custody at the start)."""

    n_rows: np.ndarray  # [1] rows used
    n_persons: np.ndarray  # [1] people numbered
    person: np.ndarray  # [N]
    grp: np.ndarray  # [N] int8
    sec: np.ndarray  # [N] int8
    attempt: np.ndarray  # [N] 1 for a first attempt
    group_size: np.ndarray  # [N] people of the crossing group this row leads (1 otherwise)
    t_arr: np.ndarray  # [N] arrival, hours since the start
    t_app: np.ndarray  # [N] apprehension
    t_int: np.ndarray  # [N] end of intake
    t_det: np.ndarray  # [N] end of determination
    t_dep: np.ndarray  # [N] departure from custody
    pathway: np.ndarray  # [N] int8 Pathway, -1 before apprehension
    flags: np.ndarray  # [N] uint8 `layout.F_*` bits
    pathway_u: np.ndarray  # [N] the uniform that picks the pathway at apprehension
    work_left: np.ndarray  # [N] agent-hours left at the current processing stage
    give_up_at: np.ndarray  # [N] a waiting field group's patience deadline (on its leader)
    reattempt_at: np.ndarray  # [N] time of the re-attempt this departure leads to
    nxt: np.ndarray  # [N] next row in the line the row waits in (`queues`)


class Lines(NamedTuple):
    """Every line people wait in, as intrusive lists over `Rows.nxt`, with their counts."""

    field_head: np.ndarray  # [2 S] [2 s + PICKUPS], [2 s + INTERDICTIONS]
    field_tail: np.ndarray
    intake_head: np.ndarray  # [S * classes] by sector and priority class
    intake_tail: np.ndarray
    det_head: np.ndarray  # [S * classes]
    det_tail: np.ndarray
    sector_head: np.ndarray  # [L * S] sector lines: [line * S + s] (unused for national lines)
    sector_tail: np.ndarray
    national_head: np.ndarray  # [L] national lines, FCFS across sectors (unused for sector lines)
    national_tail: np.ndarray
    n_intake: np.ndarray  # [S] people waiting for intake
    n_det: np.ndarray  # [S] for determination
    n_hold: np.ndarray  # [S] held to their minimum time in custody
    n_line: np.ndarray  # [L, S] waiting in each departure line, by sector
    intake_work: np.ndarray  # [S] agent-hours of intake waiting
    det_work: np.ndarray  # [S] agent-hours of determination waiting
    transport_work: np.ndarray  # [S] transport hours of everyone in a departure line
    hold_head: np.ndarray  # [H + 1] people held to their minimum, by the hour it ends
    hold_tail: np.ndarray
    reattempt_head: np.ndarray  # [H + 1] departed people who come back, by re-attempt hour
    reattempt_count: np.ndarray  # [H + 1]


class Field(NamedTuple):
    """Field agents as servers of the pickup and interdiction lines, and detection."""

    busy: np.ndarray  # [S, heap] completion times of the services under way (min-heaps)
    n_busy: np.ndarray  # [S]
    n_servers: np.ndarray  # [S] agents in the field this hour, rounded
    p_detect: np.ndarray  # [S] this hour's detection probability
    first_by_hour: np.ndarray  # [24, S, G] today's first attempts by hour of arrival


class Custody(NamedTuple):
    """People in custody and the room on their departure routes."""

    occupancy: np.ndarray  # [S]
    person_hours: np.ndarray  # [S] person-hours in custody this hour (so far, then exact)
    shelter_used: np.ndarray  # [S] shelter places used today
    sector_allowance: np.ndarray  # [L, S] places open this hour on sector lines (ports)
    national_occupied: np.ndarray  # [L] beds occupied on national lines
    national_allowance: np.ndarray  # [L] transfers or placements open this hour
    national_freed_at: np.ndarray  # [L, H + 1] beds that free at each hour
    valve_open: np.ndarray  # [S] bool: the sector's release is open today
    national_beds: np.ndarray  # [L] beds today


class Health(NamedTuple):
    """Infection in custody and among staff (sized 1 when the health module is off)."""

    infectious_until: np.ndarray  # [N] hour an infection ends
    member_slot: np.ndarray  # [N] position of the row in its sector's member list, -1 if none
    members: np.ndarray  # [region[S]] rows in custody, per sector region
    n_members: np.ndarray  # [S]
    region: np.ndarray  # [S + 1]
    infectious_general: np.ndarray  # [S] infectious people in general holding
    susceptible: np.ndarray  # [S]
    isolated: np.ndarray  # [S] people in isolation
    recoveries: np.ndarray  # [H + 1, S] infections in general holding that end at each hour
    absent: np.ndarray  # [S, C] staff off sick
    staff_back: np.ndarray  # [H + 1, S, C] staff who return at each hour


class Supplies(NamedTuple):
    stock: np.ndarray  # [S] units
    order_units: np.ndarray  # [S] units of the outstanding order
    order_hour: np.ndarray  # [S] hour it arrives, -1 if none


class Plan(NamedTuple):
    """This hour's dispatch (docs/model.md step 2) and the work it was sized for, per sector."""

    assign: np.ndarray  # [C, T] people of each crew on each task (the sector being dispatched)
    free: np.ndarray  # [C] people of each crew not yet dispatched
    intake_cap: np.ndarray  # [S] agent-hours of intake staffed
    det_cap: np.ndarray  # [S]
    transport_cap: np.ndarray  # [S]
    transport_used: np.ndarray  # [S]
    warehouse_cap: np.ndarray  # [S]
    task_need: np.ndarray  # [S, T] agent-hours of custody-day work (warehouse, medical) this hour
    transport_sizing: np.ndarray  # [S] transport work dispatch staffs for
    sector_taken: np.ndarray  # [L, S] sector-line places of the hour taken by people waiting
    national_room: np.ndarray  # [L] national places left after the people already waiting
    ahead_n: np.ndarray  # [S, L] people who may join a departure line this hour (estimate)
    ahead_w: np.ndarray  # [S, L] their transport work
    line_work: np.ndarray  # [S, L] transport work that can leave on each line this hour
    line_budget: np.ndarray  # [S, L] each line's share of the sector's transport
    posts_people: np.ndarray  # [S, C] people on custody watch and processing posts
    blocked: np.ndarray  # [S] bool: a sector out of transport for a national line
    need_field: np.ndarray  # [S] staff-hours needed (capability gap), by task
    need_intake: np.ndarray  # [S]
    need_det: np.ndarray  # [S]
    need_transport: np.ndarray  # [S]
    # Work that arrived at intake (apprehensions) and at determination (intake done) during the
    # previous hour: dispatch staffs the hour's expected arrivals with it (docs/model.md step 2).
    arrived_intake: np.ndarray  # [S] agent-hours
    arrived_det: np.ndarray  # [S] agent-hours
    # Lateral decompression (docs/model.md step 6): the hour's moves planned at its start (sized
    # in dispatch), the moves a sender may still make (with the fraction carried from earlier
    # hours) and the moves each receiver may still take this hour.
    move_planned: np.ndarray  # [S] people
    move_credit: np.ndarray  # [S] people
    move_room: np.ndarray  # [S] people


class World(NamedTuple):
    """Every changing bundle of one replication, for the steps that touch most of them."""

    rows: Rows
    lines: Lines
    field: Field
    custody: Custody
    health: Health
    supplies: Supplies
    plan: Plan
    out: Metrics


class Clock(NamedTuple):
    hour: int
    day: int
    hour_of_day: int
    hour_end: float


@njit(cache=True)
def new_rows(n_cap: int) -> Rows:
    return Rows(
        np.zeros(1, np.int64),
        np.zeros(1, np.int64),
        np.empty(n_cap, np.int64),
        np.empty(n_cap, np.int8),
        np.empty(n_cap, np.int8),
        np.empty(n_cap, np.int32),
        np.ones(n_cap, np.int32),
        np.full(n_cap, np.nan),
        np.full(n_cap, np.nan),
        np.full(n_cap, np.nan),
        np.full(n_cap, np.nan),
        np.full(n_cap, np.nan),
        np.full(n_cap, -1, np.int8),
        np.zeros(n_cap, np.uint8),
        np.empty(n_cap),
        np.empty(n_cap),
        np.empty(n_cap),
        np.empty(n_cap),
        np.full(n_cap, NIL, np.int64),
    )


def _strip_references(builder: ir.IRBuilder, typ: Any, value: ir.Value) -> ir.Value:
    if isinstance(typ, types.Array):
        # An array is (meminfo, parent, nitems, itemsize, data, shape, strides): null the first
        # two, and Numba neither counts references to it nor reflects it back to Python.
        llty = value.type
        value = builder.insert_value(value, ir.Constant(llty.elements[0], None), 0)
        return builder.insert_value(value, ir.Constant(llty.elements[1], None), 1)
    if isinstance(typ, types.BaseTuple):
        members: tuple[Any, ...] = getattr(typ, "types", ())
        for k, member in enumerate(members):
            stripped = _strip_references(builder, member, builder.extract_value(value, k))
            value = builder.insert_value(value, stripped, k)
    return value


def _unmanaged(typingctx: Any, value: Any) -> tuple[Any, Any]:
    """The same bundle (or array), seen through arrays that Numba does not reference-count.

    Numba counts references to every array of a tuple each time the tuple is passed to a
    function or a member is read; over bundles of dozens of arrays that costs more than the
    model itself. The kernel keeps the owning bundles alive for the whole replication and hands
    the steps these views instead.
    """

    def codegen(context: Any, builder: ir.IRBuilder, sig: Any, args: Any) -> ir.Value:
        return _strip_references(builder, sig.args[0], args[0])

    return value(value), codegen


unmanaged: Any = intrinsic(_unmanaged)


@njit(cache=True)
def nil(n: int) -> np.ndarray:
    """An array of `n` empty line ends."""
    return np.full(n, NIL, np.int64)


@njit(cache=True)
def new_lines(n_sec: int, n_classes: int, n_hours: int, n_lines: int) -> Lines:
    return Lines(
        nil(2 * n_sec),
        nil(2 * n_sec),
        nil(n_classes * n_sec),
        nil(n_classes * n_sec),
        nil(n_classes * n_sec),
        nil(n_classes * n_sec),
        nil(n_lines * n_sec),
        nil(n_lines * n_sec),
        nil(n_lines),
        nil(n_lines),
        np.zeros(n_sec, np.int64),
        np.zeros(n_sec, np.int64),
        np.zeros(n_sec, np.int64),
        np.zeros((n_lines, n_sec), np.int64),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        nil(n_hours + 1),
        nil(n_hours + 1),
        nil(n_hours + 1),
        np.zeros(n_hours + 1, np.int64),
    )


@njit(cache=True)
def new_field(n_sec: int, n_grp: int, heap_cap: int) -> Field:
    return Field(
        np.empty((n_sec, heap_cap)),
        np.zeros(n_sec, np.int64),
        np.zeros(n_sec, np.int64),
        np.zeros(n_sec),
        np.zeros((24, n_sec, n_grp), np.int64),
    )


@njit(cache=True)
def new_custody(m: Model, n_sec: int) -> Custody:
    n_lines = m.line_beds.shape[0]
    return Custody(
        np.zeros(n_sec, np.int64),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros((n_lines, n_sec)),
        m.line_initial_occupancy.copy(),
        np.zeros(n_lines),
        np.zeros((n_lines, m.n_hours + 1)),
        np.zeros(n_sec, np.bool_),
        m.line_beds + m.line_beds_added[0],
    )


@njit(cache=True)
def new_health(m: Model, storage: Storage, n_sec: int, n_crews: int) -> Health:
    on = m.health_enabled
    n_rows = storage.n_cap if on else 1
    n_hours = m.n_hours + 1 if on else 1
    return Health(
        np.zeros(n_rows),
        np.full(n_rows, -1, np.int64),
        np.empty(storage.region[n_sec] if on else 1, np.int64),
        np.zeros(n_sec, np.int64),
        storage.region,
        np.zeros(n_sec, np.int64),
        np.zeros(n_sec, np.int64),
        np.zeros(n_sec, np.int64),
        np.zeros((n_hours, n_sec), np.int64),
        np.zeros((n_sec, n_crews)),
        np.zeros((n_hours, n_sec, n_crews)),
    )


@njit(cache=True)
def new_supplies(m: Model, n_sec: int) -> Supplies:
    stock = np.zeros(n_sec)
    for s in range(n_sec):
        stock[s] = (
            m.supply_initial_stock_days * m.custody_capacity[0, s] * (m.supply_units_per_person_day)
        )
    return Supplies(stock, np.zeros(n_sec), np.full(n_sec, -1, np.int64))


@njit(cache=True)
def new_plan(n_sec: int, n_crews: int, n_tasks: int, n_lines: int) -> Plan:
    return Plan(
        np.zeros((n_crews, n_tasks)),
        np.zeros(n_crews),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros((n_sec, n_tasks)),
        np.zeros(n_sec),
        np.zeros((n_lines, n_sec)),
        np.zeros(n_lines, np.int64),
        np.zeros((n_sec, n_lines)),
        np.zeros((n_sec, n_lines)),
        np.zeros((n_sec, n_lines)),
        np.zeros((n_sec, n_lines)),
        np.zeros((n_sec, n_crews)),
        np.zeros(n_sec, np.bool_),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
        np.zeros(n_sec),
    )
