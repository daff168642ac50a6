"""`CompiledModel`: a validated scenario as plain numeric arrays (DESIGN section 3).

Both engines read only this object; nothing in it refers back to TOML or pydantic. Units are in
the names. Axes, in this order where they appear:

- ``D``  days simulated, warm-up included (day 0 is ``start_date``; reporting starts at
  ``warmup_days``); hours are ``24 * D``
- ``S``  sectors of the scenario (a subset of `Sector`, in `sectors` order)
- ``G``  groups, demographic-major (`dimensions.group_index`)
- ``P``  pathways (`Pathway`)
- ``K``  staff pools (`Pool`)
- ``T``  tasks (`Task`)
- ``L``  departure lines: the routes of `routes.ROUTES` that have a line, in table order
- ``C``  crews: a staff pool deployed with a set of allowed tasks (each deployment is a crew; the
  standing staff of each pool is a crew too)

Conventions the engines rely on:
- ``first_attempts_per_day`` is the mean of a negative binomial with dispersion
  ``demand_dispersion`` (variance = mean + mean^2 / dispersion); ``inf`` means Poisson.
- Rates and capacities that are "per day" are spread evenly over the 24 hours unless a profile says
  otherwise (arrivals follow ``diurnal_profile``).
- Shares along an axis sum to 1 (checked by `CompiledModel.check`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import field

import numpy as np

from bordersim.errors import ModelError
from bordersim.model.dimensions import (
    N_GROUPS,
    N_PATHWAYS,
    N_POOLS,
    N_TASKS,
    Pool,
    Sector,
    Task,
    legally_allowed,
)
from bordersim.model.fields import array, check_arrays, model_dataclass, scalar
from bordersim.model.routes import N_LINES, line_index


@model_dataclass
class CompiledModel:
    # ----- identity and time ------------------------------------------------------------------
    scenario_name: str
    scenario_hash: str  # sha256 of the resolved scenario text
    start_date: dt.date  # first simulated day (warm-up included)
    warmup_days: int
    n_days: int  # D, warm-up included
    sectors: tuple[Sector, ...]  # S

    # ----- demand (DESIGN 2.2) ----------------------------------------------------------------
    first_attempts_per_day: np.ndarray = array(
        "DSG",
        "people/day",
        "mean first attempts (negative binomial)",
        "calibration artifact demand, the simulation fit's daily factors, demand.*",
    )
    demand_dispersion: float = scalar(
        "",
        "negative binomial size of daily first attempts; inf = Poisson",
        "demand.dispersion",
        flow_as_is=False,
    )
    diurnal_profile: np.ndarray = array(
        "H",
        "share",
        "share of a day's attempts in each hour",
        "demand.diurnal_profile_fraction (normalised)",
        sums_to_one_axis=0,
    )
    batch_size_mean: np.ndarray = array(
        "G",
        "people",
        "mean people per crossing group (1 = singles)",
        "demand.batch_size_mean_people",
        at_least_one=True,
    )
    surrender_fraction: np.ndarray = array(
        "G",
        "share",
        "share of crossing groups that surrender to agents",
        "demand.surrender_fraction",
        probability=True,
    )
    title42_active: np.ndarray = array(
        "D",
        "bool",
        "the Title 42 regime is in force that day",
        "period.title42_*_date",
        dtype="bool",
        flow_as_is=False,
    )
    repeat_probability: np.ndarray = array(
        "RG",
        "probability",
        "re-attempt after expulsion or return, by regime",
        "calibration repeat_probability",
        probability=True,
    )
    repeat_delay_mean_days: np.ndarray = array(
        "G",
        "days",
        "mean delay to the re-attempt (exponential)",
        "calibration repeat_delay_mean_days",
        flow_as_is=False,
    )
    initial_repeat_share: float = scalar(
        "share",
        "share of warm-up-day arrivals treated as repeaters (reporting)",
        "demand.initial_repeat_share_fraction",
    )

    # ----- detection and apprehension (DESIGN 2.3) --------------------------------------------
    detection_p_max: np.ndarray = array(
        "S",
        "probability",
        "maximum detection probability",
        "detection.p_max_fraction",
        probability=True,
    )
    detection_effort_scale: np.ndarray = array(
        "S",
        "agent-equivalents",
        "effort at which detection reaches 1 - 1/e of p_max",
        "detection.effort_scale_agents",
    )
    detection_weight: np.ndarray = array(
        "K",
        "agent-equivalents/person",
        "effort per person on the DETECTION task, relative to one agent in the field",
        "staff.pools.*.detection_weight",
        flow_as_is=False,
    )
    technology_effort: np.ndarray = array(
        "S",
        "agent-equivalents",
        "fixed effort from cameras, towers, sensors",
        "detection.technology_effort_agents",
    )
    interdiction_patience_hours: np.ndarray = array(
        "G",
        "hours",
        "mean time a detected evader can be intercepted",
        "detection.interdiction_patience_hours",
    )
    field_hours_per_interdiction: float = scalar(
        "agent-hours",
        "per interdicted crossing group, incl. transport to the facility",
        "detection.field_hours_per_interdiction",
    )
    field_hours_per_pickup: float = scalar(
        "agent-hours", "per surrendering group, incl. transport", "detection.field_hours_per_pickup"
    )
    pickup_patience_hours: float = scalar(
        "hours",
        "mean wait of a surrendering group before it walks off; inf = forever",
        "detection.pickup_patience_hours",
        flow_as_is=False,
    )

    # ----- pathways and processing (DESIGN 2.4) -----------------------------------------------
    pathway_share: np.ndarray = array(
        "DGP",
        "share",
        "pathway assigned at encounter",
        "calibration pathway shares, policy.title42_expulsion_share_override",
        sums_to_one_axis=2,
        flow_as_is=False,
    )
    intake_hours: np.ndarray = array(
        "P",
        "staff-hours/person",
        "intake and data entry at productivity 1",
        "processing.intake_hours",
        flow_as_is=False,
    )
    determination_hours: np.ndarray = array(
        "P",
        "agent-hours/person",
        "determination",
        "processing.determination_hours",
        flow_as_is=False,
    )
    priority_class: np.ndarray = array(
        "G",
        "class",
        "0 served first (children, then families, then adults)",
        "processing.priority_order",
        dtype="int",
        flow_as_is=False,
    )
    min_custody_hours: np.ndarray = array(
        "P",
        "hours",
        "wall-clock time from apprehension before a person can depart (checks, "
        "biometrics, screening, scheduling)",
        "processing.min_custody_hours",
        flow_as_is=False,
    )

    # ----- custody (DESIGN 2.5) ---------------------------------------------------------------
    custody_capacity: np.ndarray = array(
        "DS", "people", "holding capacity; occupancy is never capped", "custody.capacity_people"
    )
    persons_per_watch_staff: float = scalar(
        "people/post",
        "custody watch posts = ceil(occupancy / this)",
        "custody.persons_per_watch_staff",
    )
    custody_standard_hours: float = scalar("hours", "CBP TEDS standard", "custody.standard_hours")
    uac_standard_hours: float = scalar("hours", "TVPRA standard", "custody.uac_standard_hours")
    release_valve_enabled: bool = scalar(
        "bool",
        "a release may open on some day (the valve or a dated release policy)",
        "policy.release_valve.enabled, policy.release_policies",
        dtype="bool",
        flow_as_is=False,
    )
    initial_custody: np.ndarray = array(
        "SG",
        "people",
        "in custody at the start (placed at age 0)",
        "custody.initial_occupancy_fraction x capacity x group mix",
    )

    # ----- lateral decompression (docs/model.md step 6) --------------------------------------
    decompression_active: np.ndarray = array(
        "D",
        "bool",
        "1 on days people may be moved between sectors at apprehension; all 0 when off",
        "custody.decompression.enabled, start_date, end_date",
    )
    decompression_send_fraction: float = scalar(
        "occupancy/capacity",
        "a sector sends while its occupancy at the start of the hour is above this x capacity",
        "custody.decompression.send_above_fraction",
    )
    decompression_receive_fraction: float = scalar(
        "occupancy/capacity",
        "a sector receives while its occupancy at the start of the hour is below this x capacity",
        "custody.decompression.receive_below_fraction",
    )
    decompression_seats_per_hour: float = scalar(
        "people/hour",
        "moves along the whole border per hour (seats per day / 24)",
        "custody.decompression.seats_per_day / 24",
    )
    decompression_eligible: np.ndarray = array(
        "G",
        "bool",
        "1 for the groups that may be moved (their demographic is listed)",
        "custody.decompression.demographics",
        probability=True,
    )
    decompression_hours_per_person: float = scalar(
        "staff-hours/person",
        "escort work per person moved: transport work in the sending sector",
        "custody.decompression.agent_hours_per_person",
    )

    # ----- holding and processing capacity as limits (docs/model.md, "Processing stations") ---
    processing_stations: np.ndarray = array(
        "DS",
        "agent-hours/hour",
        "processing work the sector's stations can take in an hour at or under capacity; "
        "inf = no limit",
        "processing.stations_per_holding_place x custody capacity of the day",
    )
    crowding_slowdown: float = scalar(
        "",
        "station throughput x 1 / (1 + this x max(0, occupancy / capacity - 1))",
        "processing.crowding_slowdown_ratio",
    )

    # ----- release policies with dated triggers (docs/model.md step 6) -----------------------
    release_share: np.ndarray = array(
        "DS",
        "share",
        "of expedited-removal assignments made releases while the sector's release is open "
        "(0: no policy in force)",
        "policy.release_policies.*.share_fraction, policy.release_valve.share_fraction",
        probability=True,
    )
    release_intake_hours: float = scalar(
        "staff-hours/person",
        "intake of every release made while the sector's release is open (parole, notice to "
        "report), instead of the release pathway's",
        "policy.release_intake_hours, else processing.intake_hours.release",
        flow_as_is=False,
    )
    release_trigger_occupancy: np.ndarray = array(
        "DS",
        "occupancy/capacity",
        "opens when yesterday's mean occupancy over capacity was above this; inf = no trigger",
        "policy.release_policies.*.occupancy_fraction, "
        "policy.release_valve.threshold_occupancy_fraction",
    )
    release_trigger_occupancy_growing: np.ndarray = array(
        "DS",
        "occupancy/capacity",
        "opens when above this with more apprehensions than exits yesterday; inf = no trigger",
        "policy.release_policies.*.occupancy_with_growth_fraction",
    )
    release_trigger_stay_hours: np.ndarray = array(
        "DS",
        "hours",
        "opens when yesterday's mean occupancy over exits (Little's law) was above this hours",
        "policy.release_policies.*.mean_custody_hours",
    )
    release_trigger_apprehensions: np.ndarray = array(
        "DS",
        "people/day",
        "opens when yesterday's apprehensions in all the scenario's sectors were above this",
        "policy.release_policies.*.apprehensions_per_day",
    )

    # ----- departures (DESIGN 2.6; the routes of model/routes.py) ---------------------------
    transport_hours_per_person: np.ndarray = array(
        "P",
        "staff-hours/person",
        "transport to departure",
        "processing.transport_hours_per_person",
        flow_as_is=False,
    )
    line_sector_capacity_per_day: np.ndarray = array(
        "LS",
        "people/day",
        "handed over per sector (sector lines, e.g. ports); 0 on national lines",
        "the route's capacity (routes.ROUTES), e.g. departures.port_capacity_per_day",
    )
    line_national_capacity_per_day: np.ndarray = array(
        "L",
        "people/day",
        "national transfers or placements (national lines); 0 on sector lines",
        "the route's capacity, e.g. departures.ice_transfers_per_day",
    )
    line_beds: np.ndarray = array(
        "L",
        "beds",
        "national beds of the route (national lines); 0 on sector lines",
        "the route's beds, e.g. departures.ice_beds",
    )
    line_initial_occupancy: np.ndarray = array(
        "L",
        "beds",
        "occupied at the start (national lines)",
        "the route's initial_occupancy, e.g. departures.ice_initial_occupancy_beds",
    )
    line_length_of_stay_days: np.ndarray = array(
        "L",
        "days",
        "mean (exponential) stay in a bed of the route; inf on sector lines",
        "the route's length_of_stay, e.g. departures.ice_length_of_stay_days",
        flow_as_is=False,
    )
    line_beds_added: np.ndarray = array(
        "DL",
        "beds",
        "national beds added to line_beds on the day (e.g. emergency intake sites)",
        "the route's beds_added, e.g. departures.hhs_beds_added",
    )
    line_cost_per_person: np.ndarray = array(
        "L",
        "dollars/person",
        "cost of a departure by the line (e.g. a CBP-to-ICE transfer)",
        "the route's cost_per_person, e.g. cost.ice_transfer_dollars",
    )
    shelter_intake_per_day: np.ndarray = array(
        "S",
        "people/day",
        "releases a shelter can take; the rest go to the street",
        "the release route's capacity: departures.shelter_intake_per_day",
    )

    # ----- staff (DESIGN 2.7) -----------------------------------------------------------------
    crew_names: tuple[str, ...]  # [C] e.g. "agents", "deployment: 1,500 active-duty troops"
    crew_pool: np.ndarray = array(
        "C",
        "Pool",
        "staff pool of each crew",
        "staff.pools, deployments.*.pool",
        dtype="int",
        flow_as_is=False,
    )
    crew_tasks: np.ndarray = array(
        "CT",
        "bool",
        "tasks a crew may be dispatched to (deployment tasks, pool capability and the law)",
        "staff.pools.*.tasks, deployments.*.tasks",
        dtype="bool",
        flow_as_is=False,
    )
    crew_headcount: np.ndarray = array(
        "DSC",
        "people",
        "assigned (ramp-up and end dates applied)",
        "staff.pools.*.headcount, deployments.*",
    )
    on_duty_fraction: np.ndarray = array(
        "K",
        "share",
        "of headcount on duty in an average hour",
        "staff.pools.*.on_duty_fraction",
        flow_as_is=False,
    )
    productivity: np.ndarray = array(
        "KT",
        "agent-hours/hour",
        "work per on-duty hour relative to an agent (0 = cannot)",
        "staff.pools.*.productivity",
        flow_as_is=False,
    )
    cost_per_person_day: np.ndarray = array(
        "K",
        "dollars/person-day",
        "per person deployed (headcount, not duty)",
        "staff.pools.*.cost_per_person_day_dollars",
        flow_as_is=False,
    )
    min_field_fraction: float = scalar(
        "share",
        "of on-duty agents that always stays in the field",
        "staff.dispatch.min_field_fraction",
    )
    max_processing_fraction: float = scalar(
        "share",
        "cap on on-duty agents pulled to processing",
        "staff.dispatch.max_processing_fraction",
    )
    task_fill_order: np.ndarray = array(
        "T",
        "Task",
        "order in which non-mandatory tasks are filled",
        "staff.dispatch.task_fill_order",
        dtype="int",
        flow_as_is=False,
    )
    custody_day_hours: np.ndarray = array(
        "T",
        "staff-hours/person-day",
        "work per custody person-day on the custody-day tasks (warehouse, medical); 0 on others",
        "dimensions.CUSTODY_DAY_TASKS: staff.warehouse_hours_per_person_day, "
        "staff.medical_hours_per_person_day",
    )
    # Hospital watch and hospital transport (docs/model.md step 2): custodial escort work, staffed
    # as custody watch posts the day after the apprehensions that cause it.
    hospital_watch_hours_per_apprehension: float = scalar(
        "staff-hours/apprehension",
        "guarding people in hospital, per person apprehended",
        "staff.hospital_watch_hours_per_apprehension",
    )
    hospital_transport_hours_per_apprehension: float = scalar(
        "staff-hours/apprehension",
        "driving people to and from hospital, per person apprehended",
        "staff.hospital_transport_hours_per_apprehension",
    )

    # ----- supplies (DESIGN 2.8) --------------------------------------------------------------
    supply_units_per_person_day: float = scalar(
        "units/person-day",
        "care kits (meals, water, hygiene, blankets, medical)",
        "supplies.units_per_person_day",
    )
    supply_initial_stock_days: float = scalar(
        "days", "initial stock, in days of use at capacity", "supplies.initial_stock_days"
    )
    supply_reorder_lead_days: float = scalar(
        "days", "order lead time", "supplies.reorder_lead_days", flow_as_is=False
    )
    supply_reorder_point_days: float = scalar(
        "days", "reorder below this many days of use", "supplies.reorder_point_days"
    )
    supply_order_days: float = scalar(
        "days", "an order brings this many days of current use", "supplies.order_days"
    )
    supply_cost_per_unit: float = scalar(
        "dollars/unit", "cost of a unit", "supplies.cost_per_unit_dollars"
    )

    # ----- health (DESIGN 2.9) ----------------------------------------------------------------
    health_enabled: bool = scalar(
        "bool", "the health module is on", "health.enabled", dtype="bool", flow_as_is=False
    )
    arrival_prevalence: np.ndarray = array(
        "D",
        "share",
        "share of arrivals infectious",
        "health.arrival_prevalence_fraction (and its profile)",
        probability=True,
    )
    symptomatic_fraction: float = scalar(
        "share", "of infections that are symptomatic", "health.symptomatic_fraction"
    )
    screening_sensitivity: float = scalar(
        "probability",
        "a symptomatic case is found at intake",
        "health.screening_sensitivity_fraction",
    )
    isolation_capacity: np.ndarray = array(
        "S", "people", "isolation places", "health.isolation_capacity_people"
    )
    transmission_rate_per_day: float = scalar(
        "infections/infectious person-day", "at capacity", "health.transmission_rate_per_day"
    )
    crowding_exponent: float = scalar(
        "", "transmission scales with (occupancy / capacity) ** this", "health.crowding_exponent"
    )
    infectious_days: float = scalar(
        "days", "length of an infection", "health.infectious_days", flow_as_is=False
    )
    staff_infection_rate_per_day: float = scalar(
        "probability/staff-day",
        "on custody or processing posts, per infectious person per 1,000 in custody",
        "health.staff_infection_rate_per_day",
    )
    staff_absence_days: float = scalar(
        "days",
        "absence of an infected staff member",
        "health.staff_absence_days",
        flow_as_is=False,
    )

    # ----- cost -------------------------------------------------------------------------------
    cost_per_custody_person_day: float = scalar(
        "dollars/person-day", "custody", "cost.custody_per_person_day_dollars"
    )
    decompression_cost_per_person: float = scalar(
        "dollars/person",
        "a person moved between sectors (custody cost of the sending sector)",
        "cost.decompression_per_person_dollars",
    )

    # ----- targets for the capability gap (DESIGN 2.10) ---------------------------------------
    target_custody_hours: float = scalar(
        "hours",
        "gap = staff-hours needed to keep time in custody under this",
        "targets.custody_hours",
    )
    sources: dict[str, str] = field(default_factory=dict)  # parameter path -> source or
    #                                                        "assumption: ..."

    # ------------------------------------------------------------------------------------------
    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    @property
    def n_hours(self) -> int:
        return 24 * self.n_days

    @property
    def n_crews(self) -> int:
        return len(self.crew_names)

    @property
    def dates(self) -> list[dt.date]:
        return [self.start_date + dt.timedelta(days=d) for d in range(self.n_days)]

    def replace(self, **changes: object) -> CompiledModel:
        """A copy with some fields changed (used by sweeps and tests), re-checked."""
        model = dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        model.check()
        return model

    def with_line(self, name: str, **values: object) -> CompiledModel:
        """A copy with departure line `name`'s values changed, for tests and sweeps: each key is
        a `line_*` field without its prefix (``beds=1e5`` sets `line_beds` of the line;
        ``sector_capacity_per_day`` sets every sector's, or takes one value per sector)."""
        index = line_index(name)
        changes: dict[str, object] = {}
        for key, value in values.items():
            array_ = np.array(getattr(self, f"line_{key}"), dtype=float)
            if key == "beds_added":
                array_[:, index] = value
            else:
                array_[index] = value
            changes[f"line_{key}"] = array_
        return self.replace(**changes)

    def fingerprint(self) -> str:
        """A hash of every array and scalar, for caching and for determinism tests."""
        digest = hashlib.sha256()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                digest.update(np.ascontiguousarray(value).tobytes())
            else:
                digest.update(repr(value).encode())
        return digest.hexdigest()

    def check(self) -> None:
        """Raise `ModelError` naming the first array with the wrong shape or an impossible value."""
        D, S, G, P, K, T, C, L = (
            self.n_days,
            self.n_sectors,
            N_GROUPS,
            N_PATHWAYS,
            N_POOLS,
            N_TASKS,
            self.n_crews,
            N_LINES,
        )
        check_arrays(self, {"D": D, "S": S, "G": G, "P": P, "K": K, "T": T, "C": C, "L": L})
        allowed = legally_allowed()
        for c in range(C):
            forbidden = self.crew_tasks[c] & ~allowed[self.crew_pool[c]]
            if forbidden.any():
                tasks = ", ".join(Task(int(t)).name.lower() for t in np.flatnonzero(forbidden))
                pool = Pool(int(self.crew_pool[c])).name.lower()
                raise ModelError(
                    f"crew {self.crew_names[c]!r} ({pool}) may not do: {tasks} (the law forbids it)"
                )
        if not 0 <= self.warmup_days < self.n_days:
            raise ModelError("warmup_days must be >= 0 and shorter than the simulated period")
