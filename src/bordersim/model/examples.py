"""Small hand-written compiled models, for engine tests and documentation examples.

They are readable stand-ins for a compiled scenario: every value is stated here, none is a default
of the real model (those live with their sources in the scenario parameters).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import (
    CUSTODY_DAY_TASKS,
    N_GROUPS,
    N_PATHWAYS,
    N_POOLS,
    N_TASKS,
    Demographic,
    Pathway,
    Pool,
    Sector,
    Task,
    group_index,
    legally_allowed,
)
from bordersim.model.routes import LINE_NATIONAL, LINES


def _tiny_first_attempts(n_days: int, n_sectors: int, attempts_per_day: float) -> np.ndarray:
    """First attempts per day, sector and group: a fixed mix of `attempts_per_day`."""
    mix = np.zeros(N_GROUPS)
    mix[group_index(Demographic.SINGLE_ADULT, 0)] = 0.35
    mix[group_index(Demographic.SINGLE_ADULT, 1)] = 0.15
    mix[group_index(Demographic.SINGLE_ADULT, 2)] = 0.15
    mix[group_index(Demographic.FAMILY_UNIT, 1)] = 0.15
    mix[group_index(Demographic.FAMILY_UNIT, 2)] = 0.10
    mix[group_index(Demographic.UNACCOMPANIED_CHILD, 0)] = 0.03
    mix[group_index(Demographic.UNACCOMPANIED_CHILD, 1)] = 0.05
    mix[group_index(Demographic.UNACCOMPANIED_CHILD, 2)] = 0.02
    return np.broadcast_to(attempts_per_day * mix, (n_days, n_sectors, N_GROUPS)).copy()


def _tiny_pathway_shares(n_days: int, title42: bool) -> np.ndarray:
    """Pathway shares per day and group: children to HHS, adults by the Title 42 regime."""
    shares = np.zeros((n_days, N_GROUPS, N_PATHWAYS))
    for g in range(N_GROUPS):
        demographic = g // 3
        if demographic == Demographic.UNACCOMPANIED_CHILD:
            shares[:, g, Pathway.UAC_TRANSFER] = 1.0
        elif title42:
            shares[:, g, Pathway.TITLE42_EXPULSION] = 0.7
            shares[:, g, Pathway.RELEASE] = 0.2
            shares[:, g, Pathway.EXPEDITED_REMOVAL] = 0.1
        else:
            shares[:, g, Pathway.RELEASE] = 0.6
            shares[:, g, Pathway.EXPEDITED_REMOVAL] = 0.25
            shares[:, g, Pathway.VOLUNTARY_RETURN] = 0.15
    return shares


def _tiny_crews(n_days: int, n_sectors: int, agents: float, troops: float) -> dict[str, Any]:
    """Three crews (agents, processing coordinators, troops from mid-run) and the staff rules."""
    allowed = legally_allowed()
    crew_pool = np.array([Pool.AGENT, Pool.PROCESSING_COORDINATOR, Pool.ACTIVE_DUTY])
    crew_tasks = allowed[crew_pool].copy()
    crew_tasks[2] = False
    crew_tasks[2, [Task.DETECTION, Task.INTAKE, Task.WAREHOUSE]] = True
    headcount = np.zeros((n_days, n_sectors, 3))
    headcount[:, :, 0] = agents
    headcount[:, :, 1] = agents * 0.05
    headcount[n_days // 2 :, :, 2] = troops
    productivity = np.ones((N_POOLS, N_TASKS))
    productivity[Pool.ACTIVE_DUTY] = 0.7
    productivity[Pool.CONTRACTOR] = 0.8
    return dict(
        crew_names=("agents", "processing coordinators", "active-duty troops"),
        crew_pool=crew_pool.astype(np.int64),
        crew_tasks=crew_tasks,
        crew_headcount=headcount,
        on_duty_fraction=np.array([0.43, 0.2, 0.3, 0.3, 0.25]),
        productivity=productivity,
        cost_per_person_day=np.array([600.0, 400.0, 500.0, 500.0, 450.0]),
        min_field_fraction=0.4,
        max_processing_fraction=0.3,
        task_fill_order=np.array(
            [
                Task.CUSTODY_WATCH,
                Task.DETERMINATION,
                Task.INTAKE,
                Task.TRANSPORT,
                Task.MEDICAL,
                Task.WAREHOUSE,
                Task.DETECTION,
                Task.FIELD,
            ]
        ),
    )


def _tiny_field(n_sectors: int) -> dict[str, Any]:
    """Crossing groups, detection and the field stage."""
    groups = np.arange(N_GROUPS) // 3
    return dict(
        demand_dispersion=50.0,
        diurnal_profile=np.full(24, 1 / 24),
        batch_size_mean=np.where(groups == Demographic.FAMILY_UNIT, 3.0, 1.0),
        surrender_fraction=np.where(groups == Demographic.SINGLE_ADULT, 0.2, 0.8),
        repeat_probability=np.array([[0.1] * N_GROUPS, [0.4] * N_GROUPS]),
        repeat_delay_mean_days=np.full(N_GROUPS, 3.0),
        initial_repeat_share=0.1,
        detection_p_max=np.full(n_sectors, 0.9),
        detection_effort_scale=np.full(n_sectors, 60.0),
        detection_weight=np.array([1.0, 0.0, 0.6, 0.6, 0.0]),
        technology_effort=np.full(n_sectors, 20.0),
        interdiction_patience_hours=np.full(N_GROUPS, 2.0),
        field_hours_per_interdiction=3.0,
        field_hours_per_pickup=2.0,
        pickup_patience_hours=12.0,
    )


def _tiny_custody(n_days: int, n_sectors: int) -> dict[str, Any]:
    """Processing, custody and the release valve."""
    d, s = n_days, n_sectors
    return dict(
        intake_hours=np.array([0.5, 1.5, 1.5, 0.5, 1.0]),
        determination_hours=np.array([0.25, 1.0, 0.75, 0.25, 0.5]),
        priority_class=(2 - np.arange(N_GROUPS) // 3).astype(np.int64),
        min_custody_hours=np.array([6.0, 24.0, 12.0, 6.0, 12.0]),
        custody_capacity=np.full((d, s), 600.0),
        persons_per_watch_staff=25.0,
        custody_standard_hours=72.0,
        uac_standard_hours=72.0,
        release_valve_enabled=True,
        release_intake_hours=1.5,  # the release pathway's: no paperwork of its own
        initial_custody=np.zeros((s, N_GROUPS)),
        # holding and processing capacity as limits: none here (tests set them)
        processing_stations=np.full((d, s), np.inf),
        crowding_slowdown=0.0,
        # the release valve: half of removals released in a sector over 125 % of capacity
        release_share=np.full((d, s), 0.5),
        release_trigger_occupancy=np.full((d, s), 1.25),
        release_trigger_occupancy_growing=np.full((d, s), np.inf),
        release_trigger_stay_hours=np.full((d, s), np.inf),
        release_trigger_apprehensions=np.full((d, s), np.inf),
        # lateral decompression: off (its tests switch it on)
        decompression_active=np.zeros(d),
        decompression_send_fraction=1.25,
        decompression_receive_fraction=0.8,
        decompression_seats_per_hour=850.0 / 24,
        decompression_eligible=np.repeat([1.0, 1.0, 0.0], N_GROUPS // 3),
        decompression_hours_per_person=0.5,
    )


# National lines of the tiny model: transfers or placements per day, beds, occupied at the start,
# mean stay in days, cost per departure. A route added to the table and not listed here gets
# `_TINY_OTHER_NATIONAL` (or, for a sector line, the ports' capacity).
_TINY_NATIONAL = {
    "ice": (120.0, 800.0, 400.0, 10.0, 300.0),
    "hhs": (40.0, 1000.0, 500.0, 30.0, 0.0),
}
_TINY_OTHER_NATIONAL = (50.0, 500.0, 0.0, 10.0, 0.0)


def _tiny_departures(n_days: int, n_sectors: int) -> dict[str, Any]:
    """Ports (300 a day per sector), ICE, HHS and shelters, over the lines of `routes.LINES`."""
    n_lines = len(LINES)
    national = np.zeros((n_lines, 5))
    national[:, 3] = np.inf  # no stay on sector lines
    for index, route in enumerate(LINES):
        if route.national:
            national[index] = _TINY_NATIONAL.get(route.name, _TINY_OTHER_NATIONAL)
    sector_capacity = np.where(LINE_NATIONAL[:, None], 0.0, np.full((n_lines, n_sectors), 300.0))
    return dict(
        transport_hours_per_person=np.array([0.5, 0.5, 0.25, 0.5, 0.5]),
        line_sector_capacity_per_day=sector_capacity,
        line_national_capacity_per_day=national[:, 0],
        line_beds=national[:, 1],
        line_initial_occupancy=national[:, 2],
        line_length_of_stay_days=national[:, 3],
        line_beds_added=np.zeros((n_days, n_lines)),
        line_cost_per_person=national[:, 4],
        shelter_intake_per_day=np.full(n_sectors, 150.0),
    )


def _tiny_custody_day_hours() -> np.ndarray:
    """Warehouse 0.05 and medical 0.03 staff-hours per person-day; other custody-day tasks 0.02."""
    hours = np.zeros(len(Task))
    for task in CUSTODY_DAY_TASKS:
        hours[task] = {Task.WAREHOUSE: 0.05, Task.MEDICAL: 0.03}.get(task, 0.02)
    return hours


def _tiny_supplies_health_cost(n_days: int, n_sectors: int, health: bool) -> dict[str, Any]:
    return dict(
        custody_day_hours=_tiny_custody_day_hours(),
        hospital_watch_hours_per_apprehension=0.0,  # none here; the tests of hospital work set it
        hospital_transport_hours_per_apprehension=0.0,
        supply_units_per_person_day=1.0,
        supply_initial_stock_days=5.0,
        supply_reorder_lead_days=3.0,
        supply_reorder_point_days=4.0,
        supply_order_days=7.0,
        supply_cost_per_unit=25.0,
        health_enabled=health,
        arrival_prevalence=np.full(n_days, 0.02 if health else 0.0),
        symptomatic_fraction=0.5,
        screening_sensitivity=0.7,
        isolation_capacity=np.full(n_sectors, 30.0),
        transmission_rate_per_day=0.3,
        crowding_exponent=1.0,
        infectious_days=7.0,
        staff_infection_rate_per_day=0.002,
        staff_absence_days=10.0,
        cost_per_custody_person_day=100.0,
        decompression_cost_per_person=300.0,
        target_custody_hours=72.0,
    )


def tiny_model(
    *,
    n_days: int = 14,
    warmup_days: int = 4,
    sectors: tuple[Sector, ...] = (Sector.TCA, Sector.RGV),
    attempts_per_day: float = 400.0,
    agents: float = 300.0,
    troops: float = 0.0,
    health: bool = False,
    title42: bool = False,
) -> CompiledModel:
    """A two-sector fortnight with every module in play and volumes a laptop runs in a blink."""
    d, s = n_days, len(sectors)
    return CompiledModel(
        scenario_name="tiny",
        scenario_hash="0" * 64,
        start_date=dt.date(2023, 4, 1),
        warmup_days=warmup_days,
        n_days=d,
        sectors=sectors,
        first_attempts_per_day=_tiny_first_attempts(d, s, attempts_per_day),
        title42_active=np.full(d, title42),
        pathway_share=_tiny_pathway_shares(d, title42),
        **_tiny_field(s),
        **_tiny_custody(d, s),
        **_tiny_departures(d, s),
        **_tiny_crews(d, s, agents, troops),
        **_tiny_supplies_health_cost(d, s, health),
    )
