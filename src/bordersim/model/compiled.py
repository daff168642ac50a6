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
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class CompiledModel:
    # ----- identity and time ------------------------------------------------------------------
    scenario_name: str
    scenario_hash: str  # sha256 of the resolved scenario text
    start_date: dt.date  # first simulated day (warm-up included)
    warmup_days: int
    n_days: int  # D, warm-up included
    sectors: tuple[Sector, ...]  # S

    # ----- demand (DESIGN 2.2) ----------------------------------------------------------------
    first_attempts_per_day: np.ndarray  # [D, S, G] mean first attempts (people) per day
    demand_dispersion: float  # negative binomial size parameter; inf = Poisson
    diurnal_profile: np.ndarray  # [24] share of a day's attempts in each hour, sums to 1
    batch_size_mean: np.ndarray  # [G] mean people per crossing group (>= 1; 1 = singles)
    surrender_fraction: np.ndarray  # [G] share of crossing groups that surrender to agents
    title42_active: np.ndarray  # [D] bool: the Title 42 regime is in force that day
    repeat_probability: np.ndarray  # [2, G] P(re-attempt) after expulsion/return, by regime
    #                                  (index 0: Title 8 regime, 1: Title 42 regime)
    repeat_delay_mean_days: np.ndarray  # [G] mean delay to the re-attempt (exponential)
    initial_repeat_share: float  # share of warm-up-day arrivals treated as repeaters (reporting)

    # ----- detection and apprehension (DESIGN 2.3) --------------------------------------------
    detection_p_max: np.ndarray  # [S] maximum detection probability
    detection_effort_scale: np.ndarray  # [S] E0: effort (agent-equivalents on watch) at which
    #                                     detection reaches 1 - 1/e of p_max
    detection_weight: np.ndarray  # [K] effort contributed per person on the DETECTION task,
    #                               relative to one agent in the field
    technology_effort: np.ndarray  # [S] fixed effort from cameras, towers, sensors
    interdiction_patience_hours: np.ndarray  # [G] mean time a detected evader can be intercepted
    field_hours_per_interdiction: float  # agent-hours per interdicted crossing group, incl.
    #                                      transport to the processing facility
    field_hours_per_pickup: float  # agent-hours per surrendering group, incl. transport
    pickup_patience_hours: float  # mean wait of a surrendering group before it walks off
    #                               (counted as got-away); inf = waits forever

    # ----- pathways and processing (DESIGN 2.4) -----------------------------------------------
    pathway_share: np.ndarray  # [D, G, P] pathway assigned at encounter; sums to 1 over P
    intake_hours: np.ndarray  # [P] staff-hours of intake and data entry per person (at
    #                           productivity 1)
    determination_hours: np.ndarray  # [P] agent-hours of determination per person
    priority_class: np.ndarray  # [G] int, 0 served first (children, then families, then adults)
    min_custody_hours: np.ndarray  # [P] wall-clock hours from apprehension before a person can
    #                                depart: records checks, biometrics, medical screening and
    #                                scheduling that take time but no staff-hours of ours

    # ----- custody (DESIGN 2.5) ---------------------------------------------------------------
    custody_capacity: np.ndarray  # [D, S] holding capacity (people); occupancy is never capped
    persons_per_watch_staff: float  # custody watch posts = ceil(occupancy / this)
    custody_standard_hours: float  # 72 (CBP TEDS standard)
    uac_standard_hours: float  # 72 (TVPRA)
    release_valve_enabled: bool
    release_valve_threshold: float  # occupancy / capacity above which the valve opens
    release_valve_share: float  # share of EXPEDITED_REMOVAL assignments switched to RELEASE
    #                             while the valve is open
    initial_custody: np.ndarray  # [S, G] people in custody at the start (placed at age 0)

    # ----- departures (DESIGN 2.6) ------------------------------------------------------------
    port_capacity_per_day: np.ndarray  # [S] expulsions + voluntary returns handed over per day
    transport_hours_per_person: np.ndarray  # [P] staff-hours of transport to departure
    ice_beds: float  # national ICE bed capacity available to CBP transfers
    ice_initial_occupancy: float
    ice_length_of_stay_days: float  # mean (exponential) stay in an ICE bed
    ice_transfers_per_day: float  # national limit on CBP-to-ICE transfers a day (ICE's pickup and
    #                               book-in capacity), like `hhs_placement_per_day`
    shelter_intake_per_day: np.ndarray  # [S] releases a shelter can take per day; excess = street
    hhs_placement_per_day: float  # national HHS placements per day
    hhs_beds: float
    hhs_initial_occupancy: float
    hhs_length_of_stay_days: float

    # ----- staff (DESIGN 2.7) -----------------------------------------------------------------
    crew_names: tuple[str, ...]  # [C] e.g. "agents", "deployment: 1,500 active-duty troops"
    crew_pool: np.ndarray  # [C] int Pool
    crew_tasks: np.ndarray  # [C, T] bool: tasks this crew may be dispatched to (already the
    #                         intersection of the deployment's tasks, the pool's capability and
    #                         the law)
    crew_headcount: np.ndarray  # [D, S, C] people assigned (ramp-up and end dates applied)
    on_duty_fraction: np.ndarray  # [K] share of headcount on duty in an average hour
    productivity: np.ndarray  # [K, T] work done per on-duty hour relative to an agent (0 = cannot)
    cost_per_person_day: np.ndarray  # [K] dollars per person-day deployed (headcount, not duty)
    min_field_fraction: float  # share of on-duty agents that always stays in the field
    max_processing_fraction: float  # cap on the share of on-duty agents pulled to processing
    task_fill_order: np.ndarray  # [T] int Task: order in which non-mandatory tasks are filled
    warehouse_hours_per_person_day: float  # staff-hours of warehouse work per custody person-day
    medical_hours_per_person_day: float  # staff-hours of medical work per custody person-day

    # ----- supplies (DESIGN 2.8) --------------------------------------------------------------
    supply_units_per_person_day: float  # care kits (meals, water, hygiene, blankets, medical)
    supply_initial_stock_days: float  # initial stock, in days of capacity-level consumption
    supply_reorder_lead_days: float
    supply_reorder_point_days: float  # reorder when stock falls below this many days of use
    supply_order_days: float  # an order brings this many days of current use
    supply_cost_per_unit: float

    # ----- health (DESIGN 2.9) ----------------------------------------------------------------
    health_enabled: bool
    arrival_prevalence: np.ndarray  # [D] share of arrivals infectious
    symptomatic_fraction: float
    screening_sensitivity: float  # P(found at intake | symptomatic)
    isolation_capacity: np.ndarray  # [S] isolation places
    transmission_rate_per_day: float  # new infections per infectious person-day at capacity
    crowding_exponent: float  # transmission scales with (occupancy / capacity) ** this
    infectious_days: float
    staff_infection_rate_per_day: float  # P(infection) per staff-day on custody or processing
    #                                      posts, per infectious person per 1,000 in custody
    staff_absence_days: float

    # ----- cost -------------------------------------------------------------------------------
    cost_per_custody_person_day: float
    cost_per_ice_transfer: float

    # ----- targets for the capability gap (DESIGN 2.10) ---------------------------------------
    target_custody_hours: float  # gap = staff-hours needed to keep time in custody under this
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
        D, S, G, P, K, T, C = (
            self.n_days,
            self.n_sectors,
            N_GROUPS,
            N_PATHWAYS,
            N_POOLS,
            N_TASKS,
            self.n_crews,
        )
        shapes: dict[str, tuple[int, ...]] = {
            "first_attempts_per_day": (D, S, G),
            "diurnal_profile": (24,),
            "batch_size_mean": (G,),
            "surrender_fraction": (G,),
            "title42_active": (D,),
            "repeat_probability": (2, G),
            "repeat_delay_mean_days": (G,),
            "detection_p_max": (S,),
            "detection_effort_scale": (S,),
            "detection_weight": (K,),
            "technology_effort": (S,),
            "interdiction_patience_hours": (G,),
            "pathway_share": (D, G, P),
            "intake_hours": (P,),
            "determination_hours": (P,),
            "min_custody_hours": (P,),
            "priority_class": (G,),
            "custody_capacity": (D, S),
            "initial_custody": (S, G),
            "port_capacity_per_day": (S,),
            "transport_hours_per_person": (P,),
            "shelter_intake_per_day": (S,),
            "crew_pool": (C,),
            "crew_tasks": (C, T),
            "crew_headcount": (D, S, C),
            "on_duty_fraction": (K,),
            "productivity": (K, T),
            "cost_per_person_day": (K,),
            "task_fill_order": (T,),
            "arrival_prevalence": (D,),
            "isolation_capacity": (S,),
        }
        for name, shape in shapes.items():
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                got = getattr(value, "shape", type(value).__name__)
                raise ModelError(f"compiled model field {name} has shape {got}, expected {shape}")
            if value.dtype.kind == "f" and not np.all(np.isfinite(value) | np.isposinf(value)):
                raise ModelError(f"compiled model field {name} has NaN values")
            if value.dtype.kind in "fi" and np.any(value < 0):
                raise ModelError(f"compiled model field {name} has negative values")
        for name, axis in (("diurnal_profile", 0), ("pathway_share", 2)):
            total = getattr(self, name).sum(axis=axis)
            if not np.allclose(total, 1.0, atol=1e-9):
                raise ModelError(f"compiled model field {name} does not sum to 1 over axis {axis}")
        for name in ("surrender_fraction", "repeat_probability", "detection_p_max"):
            value = getattr(self, name)
            if np.any(value > 1):
                raise ModelError(f"compiled model field {name} has probabilities above 1")
        if np.any(self.batch_size_mean < 1):
            raise ModelError("compiled model field batch_size_mean must be >= 1")
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
