"""The scenario file format: pydantic models of every section, units in the key names.

A scenario is validated against `ScenarioSpec` after the defaults (`defaults/parameters.toml`), its
base chain and the file itself have been merged (`loader.py`). Every model parameter is required
here and has its value in the defaults file, with its source: the schema states the rules (types,
ranges, sums), never a default value of the model. The only Python defaults are optional scenario
structure (a deployment's allocation rule, an empty set of shocks, ...).

Rules that cross sections (a deployment to a sector the scenario does not model, troops sent to a
task the law forbids) are checked here too, so that nothing is compiled or simulated from an
invalid scenario.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bordersim.model.dimensions import (
    Demographic,
    Pathway,
    Pool,
    Sector,
    Task,
    legally_allowed,
)

SectorCode = Literal["SDC", "ELC", "YUM", "TCA", "EPT", "BBT", "DRT", "LRT", "RGV"]
PoolName = Literal["agent", "processing_coordinator", "national_guard", "active_duty", "contractor"]
TaskName = Literal[
    "field",
    "detection",
    "intake",
    "determination",
    "custody_watch",
    "transport",
    "warehouse",
    "medical",
]
DemographicName = Literal["single_adult", "family_unit", "unaccompanied_child"]

Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
PositiveOrInfinite = Annotated[float, Field(gt=0.0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
ProbabilityOrRatio = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

SOUTHWEST: Literal["southwest"] = "southwest"
"""Deployment sectors meaning: spread over all nine southwest sectors (only the scenario's are
modelled; the share of the others is deployed but outside the scenario)."""


class CrossSectionError(ValueError):
    """A rule across sections, raised with the key path it belongs to (pydantic would otherwise
    attach it to the root)."""

    def __init__(self, loc: tuple[str, ...], value: object, rule: str) -> None:
        self.loc = loc
        self.value = value
        self.rule = rule
        super().__init__(rule)


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ----- per-axis tables -----------------------------------------------------------------------
class BySector(Section):
    """One value per southwest sector (CBP codes); a scenario uses those of its sectors."""

    SDC: NonNegative
    ELC: NonNegative
    YUM: NonNegative
    TCA: NonNegative
    EPT: NonNegative
    BBT: NonNegative
    DRT: NonNegative
    LRT: NonNegative
    RGV: NonNegative

    def of(self, sector: Sector) -> float:
        return float(getattr(self, sector.name))


class FractionBySector(BySector):
    SDC: Fraction
    ELC: Fraction
    YUM: Fraction
    TCA: Fraction
    EPT: Fraction
    BBT: Fraction
    DRT: Fraction
    LRT: Fraction
    RGV: Fraction


class PositiveBySector(BySector):
    SDC: Positive
    ELC: Positive
    YUM: Positive
    TCA: Positive
    EPT: Positive
    BBT: Positive
    DRT: Positive
    LRT: Positive
    RGV: Positive


class ByDemographic(Section):
    single_adult: NonNegative
    family_unit: NonNegative
    unaccompanied_child: NonNegative

    def of(self, demographic: Demographic) -> float:
        return float(getattr(self, demographic.name.lower()))


class FractionByDemographic(ByDemographic):
    single_adult: Fraction
    family_unit: Fraction
    unaccompanied_child: Fraction


class GroupSizeByDemographic(ByDemographic):
    single_adult: Annotated[float, Field(ge=1.0, allow_inf_nan=False)]
    family_unit: Annotated[float, Field(ge=1.0, allow_inf_nan=False)]
    unaccompanied_child: Annotated[float, Field(ge=1.0, allow_inf_nan=False)]


class ByPathway(Section):
    title42_expulsion: NonNegative
    expedited_removal: NonNegative
    release: NonNegative
    voluntary_return: NonNegative
    uac_transfer: NonNegative

    def of(self, pathway: Pathway) -> float:
        return float(getattr(self, pathway.name.lower()))


class ByTask(Section):
    field: NonNegative
    detection: NonNegative
    intake: NonNegative
    determination: NonNegative
    custody_watch: NonNegative
    transport: NonNegative
    warehouse: NonNegative
    medical: NonNegative

    def of(self, task: Task) -> float:
        return float(getattr(self, task.name.lower()))


# ----- sections ------------------------------------------------------------------------------
class Period(Section):
    """Reported period; the warm-up is simulated before `start_date` and not reported."""

    start_date: dt.date
    end_date: dt.date  # last reported day, inclusive
    warmup_days: NonNegativeInt

    @model_validator(mode="after")
    def _end_after_start(self) -> Period:
        if self.end_date < self.start_date:
            raise CrossSectionError(
                ("end_date",),
                self.end_date,
                f"end_date {self.end_date} is before start_date {self.start_date}: "
                "the period must end on or after its start",
            )
        return self

    @property
    def first_simulated_date(self) -> dt.date:
        return self.start_date - dt.timedelta(days=self.warmup_days)


class ReleaseValve(Section):
    enabled: bool
    threshold_occupancy_fraction: ProbabilityOrRatio  # occupancy / capacity; may exceed 1
    share_fraction: Fraction


class Policy(Section):
    title42_start_date: dt.date
    title42_end_date: dt.date  # last day the Title 42 regime is in force, inclusive
    release_valve: ReleaseValve
    # Share of a demographic expelled under Title 42 while it is in force, replacing the
    # calibrated share (the other pathways keep their proportions). Empty: the calibration's.
    title42_expulsion_override_fraction: dict[DemographicName, Fraction] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _title42_order(self) -> Policy:
        if self.title42_end_date < self.title42_start_date:
            raise CrossSectionError(
                ("title42_end_date",),
                self.title42_end_date,
                f"title42_end_date {self.title42_end_date} is before title42_start_date "
                f"{self.title42_start_date}: the regime must end on or after its start",
            )
        return self


class Shock(Section):
    """A demand shock around a policy date: a linear ramp before it, a decaying surge after it.

    The multiplier is 1 until `ramp_days` before `date`, rises linearly to `ramp_peak_multiplier`
    on the day before `date`, jumps to `surge_multiplier` on `date` and falls linearly back to 1
    over `surge_days`. Several shocks multiply.
    """

    date: dt.date
    ramp_days: NonNegativeInt = 0
    ramp_peak_multiplier: NonNegative = 1.0
    surge_days: NonNegativeInt = 0
    surge_multiplier: NonNegative = 1.0
    sectors: Literal["all"] | Annotated[list[SectorCode], Field(min_length=1)] = "all"
    note: str = ""


class DemandForecast(Section):
    """Demand after `origin` from a forecast quantile (`bordersim forecast`, docs/forecast.md).

    `origin` is the last month of data used, "YYYY-MM" (or a date in it); `quantile` is the
    probability level of each sector and month's encounters, for example 0.9 to plan for a high
    month.
    """

    origin: dt.date
    quantile: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]

    @field_validator("origin", mode="before")
    @classmethod
    def _month(cls, value: object) -> object:
        if isinstance(value, str) and len(value.strip()) == 7:
            try:
                year, month = value.strip().split("-")
                return dt.date(int(year), int(month), 1)
            except ValueError:
                raise ValueError("must be a month YYYY-MM or a date") from None
        return value

    @field_validator("origin")
    @classmethod
    def _first_of_month(cls, value: dt.date) -> dt.date:
        return value.replace(day=1)


class Demand(Section):
    calibration: str  # "default" (the shipped artifact) or a path, relative to the defining file
    dispersion: PositiveOrInfinite  # negative binomial size; inf = Poisson
    diurnal_profile_fraction: list[Fraction]
    batch_size_mean_people: GroupSizeByDemographic
    surrender_fraction: FractionByDemographic
    initial_repeat_share_fraction: Fraction
    shocks: dict[str, Shock] = Field(default_factory=dict)
    # A demand fit file (`bordersim fit`), relative to the defining file; variants inherit it.
    # None: the calibrated first attempts as they are.
    fit: Annotated[str, Field(min_length=1)] | None = None
    # First attempts after an origin from a forecast quantile; None: the calibrated months.
    forecast: DemandForecast | None = None
    # What-if scales of the calibrated first attempts ("what if crossings were 30 % higher?"):
    # one for the whole border and one per sector, multiplied together. None means 1 (no
    # change) and is left out of the resolved text, so a scenario that sets neither keeps its hash.
    scale: NonNegative | None = None
    scale_by_sector: dict[SectorCode, NonNegative] | None = None

    @field_validator("diurnal_profile_fraction")
    @classmethod
    def _profile(cls, profile: list[float]) -> list[float]:
        if len(profile) != 24:
            raise ValueError(f"needs 24 hourly shares, got {len(profile)}")
        total = math.fsum(profile)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"hourly shares must sum to 1, they sum to {total:.6g}")
        return profile


class Detection(Section):
    p_max_fraction: FractionBySector
    effort_scale_agents: PositiveBySector
    technology_effort_agents: BySector
    interdiction_patience_hours: ByDemographic
    field_hours_per_interdiction: Positive
    field_hours_per_pickup: Positive
    pickup_patience_hours: PositiveOrInfinite


class Processing(Section):
    intake_hours: ByPathway
    determination_hours: ByPathway
    transport_hours_per_person: ByPathway
    min_custody_hours: ByPathway
    priority_order: list[DemographicName]  # served first to last

    @field_validator("priority_order")
    @classmethod
    def _permutation(cls, order: list[str]) -> list[str]:
        expected = {d.name.lower() for d in Demographic}
        if sorted(order) != sorted(expected):
            raise ValueError(
                f"must list each of {', '.join(sorted(expected))} exactly once, got {order}"
            )
        return order


class CapacityChange(Section):
    """Holding capacity added (or removed, if negative) in one sector from a date, e.g. a
    soft-sided facility."""

    sector: SectorCode
    start_date: dt.date
    end_date: dt.date | None = None  # last day of the change, inclusive; None = to the end
    change_people: float
    note: str = ""

    @model_validator(mode="after")
    def _order(self) -> CapacityChange:
        if self.end_date is not None and self.end_date < self.start_date:
            raise CrossSectionError(
                ("end_date",),
                self.end_date,
                f"end_date {self.end_date} is before start_date {self.start_date}: "
                "a change must end on or after its start",
            )
        return self


class Custody(Section):
    capacity_people: BySector
    capacity_changes: dict[str, CapacityChange] = Field(default_factory=dict)
    persons_per_watch_staff: Positive
    standard_hours: Positive
    uac_standard_hours: Positive
    initial_occupancy_fraction: NonNegative  # of capacity, at the first simulated day


class Departures(Section):
    port_capacity_per_day: BySector
    shelter_intake_per_day: BySector
    ice_beds: NonNegative
    ice_initial_occupancy_beds: NonNegative
    ice_length_of_stay_days: Positive
    ice_transfers_per_day: NonNegative
    hhs_placement_per_day: NonNegative
    hhs_beds: NonNegative
    hhs_initial_occupancy_beds: NonNegative
    hhs_length_of_stay_days: Positive


class PoolParameters(Section):
    on_duty_fraction: Fraction
    cost_per_person_day_dollars: NonNegative
    detection_weight: NonNegative  # effort per person on detection, relative to a field agent
    productivity: ByTask  # work per on-duty hour relative to an agent; 0 = cannot do the task


class Pools(Section):
    agent: PoolParameters
    processing_coordinator: PoolParameters
    national_guard: PoolParameters
    active_duty: PoolParameters
    contractor: PoolParameters

    def of(self, pool: Pool) -> PoolParameters:
        parameters: PoolParameters = getattr(self, pool.name.lower())
        return parameters


class Dispatch(Section):
    min_field_fraction: Fraction
    max_processing_fraction: Fraction
    task_fill_order: list[TaskName]

    @field_validator("task_fill_order")
    @classmethod
    def _permutation(cls, order: list[str]) -> list[str]:
        expected = {t.name.lower() for t in Task}
        if sorted(order) != sorted(expected):
            raise ValueError(
                f"must list each of {', '.join(sorted(expected))} exactly once, got {order}"
            )
        return order


class Staff(Section):
    pools: Pools
    agents_by_sector: BySector  # standing Border Patrol agents assigned to each sector
    processing_coordinators: NonNegative  # southwest total, spread over sectors by load
    dispatch: Dispatch
    warehouse_hours_per_person_day: NonNegative
    medical_hours_per_person_day: NonNegative


class Deployment(Section):
    """A pool sent to some sectors for a period, on a set of tasks (DESIGN 2.7)."""

    pool: PoolName
    headcount: NonNegative | None = None  # total, spread over `sectors` by `allocation`
    headcount_by_sector: dict[SectorCode, NonNegative] | None = None  # explicit split instead
    sectors: Literal["southwest"] | Annotated[list[SectorCode], Field(min_length=1)] = SOUTHWEST
    allocation: Literal["load", "equal"] = "load"
    tasks: list[TaskName]
    start_date: dt.date
    end_date: dt.date | None = None  # last day deployed, inclusive
    duration_days: Annotated[int, Field(gt=0)] | None = None  # instead of end_date
    ramp_up_days: NonNegativeInt = 0  # headcount grows linearly to full over these days
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Deployment:
        if (self.headcount is None) == (self.headcount_by_sector is None):
            raise ValueError("give exactly one of headcount and headcount_by_sector")
        if (self.end_date is None) == (self.duration_days is None):
            raise ValueError("give exactly one of end_date and duration_days")
        if self.end_date is not None and self.end_date < self.start_date:
            raise CrossSectionError(
                ("end_date",),
                self.end_date,
                f"end_date {self.end_date} is before start_date {self.start_date}: "
                "a deployment must end on or after its start",
            )
        if not self.tasks:
            raise ValueError("tasks must name at least one task")
        return self

    @property
    def last_date(self) -> dt.date:
        if self.end_date is not None:
            return self.end_date
        assert self.duration_days is not None
        return self.start_date + dt.timedelta(days=self.duration_days - 1)


class Supplies(Section):
    units_per_person_day: NonNegative
    initial_stock_days: NonNegative
    reorder_lead_days: NonNegative
    reorder_point_days: NonNegative
    order_days: Positive
    cost_per_unit_dollars: NonNegative


class Health(Section):
    enabled: bool
    arrival_prevalence_fraction: Fraction  # constant, unless points are given by date
    arrival_prevalence_by_date: dict[dt.date, Fraction] = Field(default_factory=dict)
    symptomatic_fraction: Fraction
    screening_sensitivity_fraction: Fraction
    isolation_capacity_people: BySector
    transmission_rate_per_day: NonNegative
    crowding_exponent: NonNegative
    infectious_days: Positive
    staff_infection_rate_per_day: NonNegative
    staff_absence_days: NonNegative


class Cost(Section):
    custody_per_person_day_dollars: NonNegative
    ice_transfer_dollars: NonNegative


class Targets(Section):
    custody_hours: Positive


class ScenarioSpec(Section):
    """A whole scenario, defaults merged in. `Scenario` (in `bordersim.scenario`) adds where it
    came from and its resolved text."""

    name: str
    description: str = ""
    sectors: list[SectorCode]
    period: Period
    policy: Policy
    demand: Demand
    detection: Detection
    processing: Processing
    custody: Custody
    departures: Departures
    staff: Staff
    deployments: dict[str, Deployment] = Field(default_factory=dict)
    supplies: Supplies
    health: Health
    cost: Cost
    targets: Targets

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, sectors: list[str]) -> list[str]:
        if not sectors:
            raise ValueError("a scenario needs at least one sector")
        if len(set(sectors)) != len(sectors):
            raise ValueError(f"sectors are listed more than once: {sectors}")
        return sectors

    @model_validator(mode="after")
    def _cross_section_rules(self) -> ScenarioSpec:
        check_deployments(self)
        modelled = set(self.sectors)
        for name, change in self.custody.capacity_changes.items():
            if change.sector not in modelled:
                raise CrossSectionError(
                    ("custody", "capacity_changes", name, "sector"),
                    change.sector,
                    f"sector {change.sector} is not one of the scenario's sectors "
                    f"({', '.join(self.sectors)})",
                )
        for name, shock in self.demand.shocks.items():
            if shock.sectors != "all":
                for code in shock.sectors:
                    if code not in modelled:
                        raise CrossSectionError(
                            ("demand", "shocks", name, "sectors"),
                            code,
                            f"sector {code} is not one of the scenario's sectors "
                            f"({', '.join(self.sectors)})",
                        )
        return self


def check_deployments(spec: ScenarioSpec) -> None:
    """Deployments go to modelled sectors and only to tasks the law and the pool allow."""
    allowed = legally_allowed()
    modelled = set(spec.sectors)
    for name, deployment in spec.deployments.items():
        pool = Pool[deployment.pool.upper()]
        for task_name in deployment.tasks:
            task = Task[task_name.upper()]
            if not allowed[pool, task]:
                raise CrossSectionError(
                    ("deployments", name, "tasks"),
                    task_name,
                    f"the law forbids {deployment.pool} to do {task_name} "
                    "(troops and Guard do no law enforcement: no field, determination or "
                    "custody watch; field and determination are agents' work)",
                )
            if spec.staff.pools.of(pool).productivity.of(task) <= 0:
                raise CrossSectionError(
                    ("deployments", name, "tasks"),
                    task_name,
                    f"pool {deployment.pool} has productivity 0 on {task_name} "
                    f"(staff.pools.{deployment.pool}.productivity.{task_name})",
                )
        if deployment.sectors != SOUTHWEST:
            for code in deployment.sectors:
                if code not in modelled:
                    raise CrossSectionError(
                        ("deployments", name, "sectors"),
                        code,
                        f"sector {code} is not one of the scenario's sectors "
                        f"({', '.join(spec.sectors)})",
                    )
        if deployment.headcount_by_sector is not None:
            for code in deployment.headcount_by_sector:
                if code not in modelled:
                    raise CrossSectionError(
                        ("deployments", name, "headcount_by_sector", code),
                        code,
                        f"sector {code} is not one of the scenario's sectors "
                        f"({', '.join(spec.sectors)})",
                    )
