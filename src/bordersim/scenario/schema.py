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
import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bordersim.model.dimensions import (
    CUSTODY_DAY_TASKS,
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

# ----- bounded values -------------------------------------------------------------------------
# Every number has a range. Lower bounds are the physics (no negative people); upper bounds are far
# beyond any real border operation, so that a typo (1e300, 2**70) is refused with its reason here
# instead of exhausting memory or overflowing in the engines. Validation is strict: a boolean is
# not a number and a number is not a date (TOML gives each its own type).


def _upper(limit: float, reason: str, *, infinite: bool = False) -> AfterValidator:
    def check(value: float) -> float:
        if value > limit and not (infinite and math.isinf(value)):
            raise ValueError(f"must be at most {limit:,.10g}: {reason}")
        return value

    return AfterValidator(check)


PEOPLE = "a million people is beyond any border operation"
PER_DAY = "a million people a day is beyond any border flow"
HOURS_OF_WORK = "a thousand hours of work for one person is beyond any task"
YEAR_HOURS = "a year of hours (8,760)"
TEN_YEARS = "ten years of days; the engines simulate day by day"
DOLLARS = "a million dollars per person-day or unit"
RATIO = "a hundred times the reference is beyond any scenario"

Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
People = Annotated[float, Field(ge=0.0, allow_inf_nan=False), _upper(1e6, PEOPLE)]
PeoplePerDay = Annotated[float, Field(ge=0.0, allow_inf_nan=False), _upper(1e6, PER_DAY)]
NonNegative = People  # a sector table of people or agents (capacity, staff, effort)


def _whole_people(value: float) -> float:
    if value != int(value):
        low = math.floor(value)
        raise ValueError(
            f"must be a whole number of people (people come whole), such as {low} or {low + 1}"
        )
    return value


# A headcount, a deployment's or standing staff's: whole (a float, as 300 and 300.0 are the
# same headcount).
Headcount = Annotated[People, AfterValidator(_whole_people)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False), _upper(1e6, PEOPLE)]
WorkHours = Annotated[float, Field(ge=0.0, allow_inf_nan=False), _upper(1e3, HOURS_OF_WORK)]
PositiveWorkHours = Annotated[float, Field(gt=0.0, allow_inf_nan=False), _upper(1e3, HOURS_OF_WORK)]
Hours = Annotated[float, Field(gt=0.0, allow_inf_nan=False), _upper(8760.0, YEAR_HOURS)]
HoursOrInfinite = Annotated[
    float,
    Field(gt=0.0, allow_inf_nan=True),
    _upper(8760.0, YEAR_HOURS + " (or inf: never)", infinite=True),
]
NonNegativeHours = Annotated[float, Field(ge=0.0, allow_inf_nan=False), _upper(8760.0, YEAR_HOURS)]
Days = Annotated[float, Field(ge=0.0, allow_inf_nan=False), _upper(3650.0, TEN_YEARS)]
PositiveDays = Annotated[float, Field(gt=0.0, allow_inf_nan=False), _upper(3650.0, TEN_YEARS)]
Dollars = Annotated[float, Field(ge=0.0, allow_inf_nan=False), _upper(1e6, DOLLARS)]
Ratio = Annotated[float, Field(ge=0.0, allow_inf_nan=False), _upper(100.0, RATIO)]
PositiveRatio = Annotated[float, Field(gt=0.0, allow_inf_nan=False), _upper(100.0, RATIO)]
Multiplier = Annotated[
    float,
    Field(ge=0.0, allow_inf_nan=False),
    _upper(1000.0, "a thousand times normal demand is beyond any surge"),
]
RatioOrInfinite = Annotated[
    float,
    Field(ge=0.0, allow_inf_nan=True),
    _upper(100.0, RATIO + " (or inf: no limit)", infinite=True),
]
RatePerDay = Annotated[
    float,
    Field(ge=0.0, allow_inf_nan=False),
    _upper(100.0, "a rate of 100 per day is beyond any epidemic"),
]
Exponent = Annotated[
    float,
    Field(ge=0.0, allow_inf_nan=False),
    _upper(10.0, "an exponent above 10 makes any crowding explode"),
]
GroupSize = Annotated[
    float,
    Field(ge=1.0, allow_inf_nan=False),
    _upper(100.0, "groups of more than 100 people do not cross together"),
]
SupplyUnits = Annotated[
    float,
    Field(ge=0.0, allow_inf_nan=False),
    _upper(1000.0, "a thousand supply units per person a day"),
]
MAX_ENTRIES = 500  # deployments, shocks or capacity changes in one scenario
Dispersion = Annotated[
    float,
    Field(gt=0.0, allow_inf_nan=True),
    _upper(1e9, "above 1e9 use inf (Poisson)", infinite=True),
]
WholeDays = Annotated[int, Field(ge=0), _upper(3650, TEN_YEARS)]
PositiveWholeDays = Annotated[int, Field(gt=0), _upper(3650, TEN_YEARS)]
NonNegativeInt = WholeDays
Text = Annotated[str, Field(max_length=2000)]
PathText = Annotated[str, Field(min_length=1, max_length=4096)]

EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def _date_in_range(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"must be from {EARLIEST_DATE} to {LATEST_DATE}: bordersim models the border of "
            "the official data (FY2000 onwards) and its near future"
        )
    return value


Date = Annotated[dt.date, AfterValidator(_date_in_range)]


def _iso_date_key(value: object) -> object:
    """TOML table keys are text: a date key is written 2023-05-01 and read as an ISO date."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"key {value[:40]!r} is not a date written YYYY-MM-DD") from None
    return value


DateKey = Annotated[dt.date, BeforeValidator(_iso_date_key), AfterValidator(_date_in_range)]

SCENARIO_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._ -]{0,98}[A-Za-z0-9._-])?")


def _safe_name(value: str) -> str:
    if not SCENARIO_NAME.fullmatch(value) or ".." in value:
        raise ValueError(
            "a scenario name is 1 to 100 letters, digits, spaces, '-', '_' or '.', starting "
            "with a letter or digit (it names the output folder and the run id)"
        )
    return value


ScenarioName = Annotated[str, AfterValidator(_safe_name)]


def safe_name_from(text: str) -> str:
    """A valid scenario name made from a file name (unsafe characters become '-')."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", text).replace("..", "-").lstrip("._-")[:100]
    return cleaned or "scenario"


def _once_each(codes: list[str]) -> list[str]:
    """A list of sectors names each sector once: a deployment spreads its headcount over its
    entries and a shock multiplies each entry's demand, so a repeated code would deploy part of
    the headcount nowhere or apply the shock twice."""
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValueError(f"sectors are listed more than once: {', '.join(repeated)}")
    return codes


SectorList = Annotated[list[SectorCode], Field(min_length=1), AfterValidator(_once_each)]
"""Some of the scenario's sectors, each once (a deployment's, a shock's, a release policy's)."""

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


class OneOfError(ValueError):
    """Two keys of which exactly one is given (headcount or headcount_by_sector), given both or
    neither."""

    def __init__(self, keys: tuple[str, str]) -> None:
        self.keys = keys
        super().__init__(f"give exactly one of {keys[0]} and {keys[1]}")


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse setting a value in one line, where pydantic's frozen model raised its
        multi-line ValidationError ('Instance is frozen'); private attributes are set as ever."""
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        from bordersim.errors import ScenarioError

        raise ScenarioError(
            f"cannot set {name} of a {type(self).__name__}: a scenario is immutable once "
            "validated; scenario.with_changes({key path: value}) gives a validated copy"
        )

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            super().__delattr__(name)
            return
        self.__setattr__(name, None)


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


class HeadcountBySector(BySector):
    """A sector table of standing staff: whole people in each sector."""

    SDC: Headcount
    ELC: Headcount
    YUM: Headcount
    TCA: Headcount
    EPT: Headcount
    BBT: Headcount
    DRT: Headcount
    LRT: Headcount
    RGV: Headcount


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
    single_adult: GroupSize
    family_unit: GroupSize
    unaccompanied_child: GroupSize


class HoursByDemographic(ByDemographic):
    single_adult: NonNegativeHours
    family_unit: NonNegativeHours
    unaccompanied_child: NonNegativeHours


class ByPathway(Section):
    """Hours per person on each pathway."""

    title42_expulsion: WorkHours
    expedited_removal: WorkHours
    release: WorkHours
    voluntary_return: WorkHours
    uac_transfer: WorkHours

    def of(self, pathway: Pathway) -> float:
        return float(getattr(self, pathway.name.lower()))


class ByTask(Section):
    """Productivity per task, relative to an agent."""

    field: Ratio
    detection: Ratio
    intake: Ratio
    determination: Ratio
    custody_watch: Ratio
    transport: Ratio
    warehouse: Ratio
    medical: Ratio

    def of(self, task: Task) -> float:
        return float(getattr(self, task.name.lower()))


# ----- sections ------------------------------------------------------------------------------
class Period(Section):
    """Reported period; the warm-up is simulated before `start_date` and not reported."""

    start_date: Date
    end_date: Date  # last reported day, inclusive
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
    threshold_occupancy_fraction: PositiveRatio  # occupancy / capacity; may exceed 1
    share_fraction: Fraction


class ReleasePolicy(Section):
    """A release policy in force on dates, with its triggers (docs/model.md step 6). On a day it
    is in force, it opens in a sector when any set trigger held the day before: the sector's
    mean occupancy over capacity above `occupancy_fraction`; above
    `occupancy_with_growth_fraction` with more apprehensions than exits; its average time in
    custody (mean occupancy over exits, Little's law) above `mean_custody_hours`; or the
    scenario's apprehensions above `apprehensions_per_day`. While open, a share `share_fraction`
    of expedited-removal assignments become releases. A court may block it from `blocked_date`."""

    start_date: Date
    end_date: Date | None = None  # last day, inclusive; None = to the end
    blocked_date: Date | None = None  # a court blocked it from this day on
    share_fraction: Fraction
    sectors: Literal["all"] | SectorList = "all"
    occupancy_fraction: PositiveRatio | None = None
    occupancy_with_growth_fraction: PositiveRatio | None = None
    mean_custody_hours: Hours | None = None
    apprehensions_per_day: PeoplePerDay | None = None
    note: Text = ""

    @model_validator(mode="after")
    def _dates_and_triggers(self) -> ReleasePolicy:
        if self.end_date is not None and self.end_date < self.start_date:
            raise CrossSectionError(
                ("end_date",),
                self.end_date,
                f"end_date {self.end_date} is before start_date {self.start_date}",
            )
        if self.blocked_date is not None and self.blocked_date <= self.start_date:
            raise CrossSectionError(
                ("blocked_date",),
                self.blocked_date,
                f"blocked_date {self.blocked_date} is not after start_date {self.start_date}: "
                "blocked from that day, the policy would never be in force",
            )
        triggers = (
            self.occupancy_fraction,
            self.occupancy_with_growth_fraction,
            self.mean_custody_hours,
            self.apprehensions_per_day,
        )
        if all(t is None for t in triggers):
            raise CrossSectionError(
                ("share_fraction",),
                self.share_fraction,
                "a release policy needs a trigger: occupancy_fraction, "
                "occupancy_with_growth_fraction, mean_custody_hours or apprehensions_per_day",
            )
        return self

    @property
    def last_day(self) -> dt.date | None:
        """The last day the policy is in force (its end, or the day before it was blocked)."""
        blocked = None if self.blocked_date is None else self.blocked_date - dt.timedelta(days=1)
        ends = [d for d in (self.end_date, blocked) if d is not None]
        return min(ends) if ends else None


class Policy(Section):
    title42_start_date: Date
    title42_end_date: Date  # last day the Title 42 regime is in force, inclusive
    release_valve: ReleaseValve
    # Dated release policies (docs/model.md step 6); on days none is in force, the release valve
    # above applies when enabled.
    release_policies: Annotated[dict[str, ReleasePolicy], Field(max_length=MAX_ENTRIES)] = Field(
        default_factory=dict
    )
    # Agent-hours of intake paperwork for a case released while the sector's release is open
    # (a dated policy or the valve): parole, or a notice to report, "designed to shorten
    # processing" against the 2-2.5 hours of a notice to appear (GAO-22-104734, as reported).
    # Unset: the release pathway's `processing.intake_hours.release`, as for any release.
    release_intake_hours: PositiveWorkHours | None = None
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

    date: Date
    ramp_days: NonNegativeInt = 0
    ramp_peak_multiplier: Multiplier = 1.0
    surge_days: NonNegativeInt = 0
    surge_multiplier: Multiplier = 1.0
    sectors: Literal["all"] | SectorList = "all"
    note: Text = ""

    @model_validator(mode="after")
    def _multipliers_have_days(self) -> Shock:
        # A multiplier over zero days changes no day's demand: refused, not silently ignored.
        spans = (
            ("ramp_days", "ramp_peak_multiplier", "the days before date over which it rises"),
            ("surge_days", "surge_multiplier", "the days from date, date included, back to 1"),
        )
        for days, multiplier, meaning in spans:
            value = getattr(self, multiplier)
            if getattr(self, days) == 0 and value != 1.0:
                raise CrossSectionError(
                    (multiplier,),
                    value,
                    f"{multiplier} {value:g} applies to no day while {days} is 0 (the default): "
                    f"give {days}, {meaning}",
                )
        return self


class DemandForecast(Section):
    """Demand after `origin` from a forecast quantile (`bordersim forecast`, docs/forecast.md).

    `origin` is the last month of data used, "YYYY-MM" (or its first day); `quantile` is the
    probability level of each sector and month's encounters, for example 0.9 to plan for a high
    month.
    """

    origin: Date
    quantile: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]

    @field_validator("origin", mode="before")
    @classmethod
    def _month(cls, value: object) -> object:
        # Only a month is written in quotes, only a date without them; anything else (text that
        # is not a month, a year as a number, a date with a time) is refused naming both forms.
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            if value.day != 1:
                # as `bordersim forecast --origin` refuses it: the whole month would be used
                raise ValueError(
                    f'is a day, not a month: give the month, "{value:%Y-%m}" (or its first '
                    f"day, {value:%Y-%m}-01)"
                )
            return value
        if isinstance(value, str):
            try:
                if len(value.strip()) != 7:
                    raise ValueError(value)
                year, month = value.strip().split("-")
                return dt.date(int(year), int(month), 1)
            except ValueError:
                pass
        raise ValueError(
            'must be a month written "YYYY-MM" in quotes, such as "2023-04", or a TOML date '
            "written without quotes, such as 2023-04-01"
        )


class Demand(Section):
    calibration: (
        PathText  # "default" (the shipped artifact) or a path, relative to the defining file
    )
    dispersion: Dispersion  # negative binomial size; inf = Poisson
    diurnal_profile_fraction: list[Fraction]
    batch_size_mean_people: GroupSizeByDemographic
    surrender_fraction: FractionByDemographic
    initial_repeat_share_fraction: Fraction
    shocks: Annotated[dict[str, Shock], Field(max_length=MAX_ENTRIES)] = Field(default_factory=dict)
    # A demand fit file (`bordersim fit`), relative to the defining file; variants inherit it.
    # None: the calibrated first attempts as they are.
    fit: PathText | None = None
    # First attempts after an origin from a forecast quantile; None: the calibrated months.
    forecast: DemandForecast | None = None
    # What-if scales of the calibrated first attempts ("what if crossings were 30 % higher?"):
    # one for the whole border and one per sector, multiplied together. None means 1 (no
    # change) and is left out of the resolved text, so a scenario that sets neither keeps its hash.
    scale: Multiplier | None = None
    scale_by_sector: dict[SectorCode, Multiplier] | None = None

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
    interdiction_patience_hours: HoursByDemographic
    field_hours_per_interdiction: PositiveWorkHours
    field_hours_per_pickup: PositiveWorkHours
    pickup_patience_hours: HoursOrInfinite


class Processing(Section):
    intake_hours: ByPathway
    determination_hours: ByPathway
    transport_hours_per_person: ByPathway
    min_custody_hours: ByPathway
    priority_order: list[DemographicName]  # served first to last
    # Holding and processing capacity as limits (docs/model.md step 2, "Processing stations"):
    # stations per place of holding capacity (inf: no station limit), and how crowding slows
    # each station (throughput / (1 + slowdown x the share over capacity)); the stations follow
    # each sector's share of the calibrated first attempts of the `station_load_days` before.
    stations_per_holding_place: RatioOrInfinite
    crowding_slowdown_ratio: Ratio
    station_load_days: PositiveWholeDays
    # The southwest border's holding places that the stations are counted from, where they differ
    # from `custody.capacity_people` (a pandemic-adjusted capacity spaces people apart in the same
    # facilities, without removing a desk); None = the standing capacity.
    station_places: People | None = None

    @field_validator("priority_order")
    @classmethod
    def _permutation(cls, order: list[str]) -> list[str]:
        expected = {d.name.lower() for d in Demographic}
        if sorted(order) != sorted(expected):
            raise ValueError(
                f"must list each of {', '.join(sorted(expected))} exactly once, got {order}"
            )
        return order


def _check_change_dates(start_date: dt.date, end_date: dt.date | None) -> None:
    """A dated change (capacity, beds) must end on or after its start."""
    if end_date is not None and end_date < start_date:
        raise CrossSectionError(
            ("end_date",),
            end_date,
            f"end_date {end_date} is before start_date {start_date}: "
            "a change must end on or after its start",
        )


class CapacityChange(Section):
    """Holding capacity added (or removed, if negative) in one sector from a date, e.g. a
    soft-sided facility."""

    sector: SectorCode
    start_date: Date
    end_date: Date | None = None  # last day of the change, inclusive; None = to the end
    change_people: Annotated[float, Field(ge=-1e6, allow_inf_nan=False), _upper(1e6, PEOPLE)]
    note: Text = ""

    @model_validator(mode="after")
    def _order(self) -> CapacityChange:
        _check_change_dates(self.start_date, self.end_date)
        return self


class Decompression(Section):
    """Lateral decompression (docs/model.md step 6): people apprehended in a sector over
    `send_above_fraction` of its capacity are moved at apprehension, by bus or plane, to sectors
    under `receive_below_fraction` of theirs, within `seats_per_day` along the border and the
    sending sector's transport staff (`agent_hours_per_person` of escort each). Off unless
    `enabled`; `start_date` and `end_date` (inclusive) bound the days it runs."""

    enabled: bool
    start_date: Date | None = None  # None = from the first simulated day
    end_date: Date | None = None  # last day, inclusive; None = to the end
    send_above_fraction: PositiveRatio  # occupancy / capacity at the start of the hour
    receive_below_fraction: PositiveRatio
    seats_per_day: PeoplePerDay  # moves per day along the whole border
    demographics: Annotated[list[DemographicName], Field(min_length=1)]
    agent_hours_per_person: Annotated[
        float, Field(ge=0.0, allow_inf_nan=False), _upper(8760.0, YEAR_HOURS)
    ]

    @model_validator(mode="after")
    def _dates_and_thresholds(self) -> Decompression:
        _check_change_dates(self.start_date or EARLIEST_DATE, self.end_date)
        if self.receive_below_fraction > self.send_above_fraction:
            raise CrossSectionError(
                ("receive_below_fraction",),
                self.receive_below_fraction,
                f"receive_below_fraction {self.receive_below_fraction} is above "
                f"send_above_fraction {self.send_above_fraction}: a sector would send and "
                "receive at once",
            )
        repeated = sorted({d for d in self.demographics if self.demographics.count(d) > 1})
        if repeated:  # named, as a repeated sector is: the list itself is shown before
            raise CrossSectionError(
                ("demographics",),
                self.demographics,
                f"demographics are listed more than once: {', '.join(repeated)}",
            )
        return self

    def in_force(self, day: dt.date) -> bool:
        """Whether people may be moved on `day`."""
        if not self.enabled:
            return False
        if self.start_date is not None and day < self.start_date:
            return False
        return self.end_date is None or day <= self.end_date


class Custody(Section):
    capacity_people: BySector
    capacity_changes: Annotated[dict[str, CapacityChange], Field(max_length=MAX_ENTRIES)] = Field(
        default_factory=dict
    )
    persons_per_watch_staff: Positive
    standard_hours: Hours
    uac_standard_hours: Hours
    initial_occupancy_fraction: Ratio  # of capacity, at the first simulated day
    decompression: Decompression


class BedsChange(Section):
    """National HHS beds added from a date, e.g. emergency intake sites opened in a surge of
    children."""

    start_date: Date
    end_date: Date | None = None  # last day of the change, inclusive; None = to the end
    beds: People
    note: Text = ""

    @model_validator(mode="after")
    def _order(self) -> BedsChange:
        _check_change_dates(self.start_date, self.end_date)
        return self


class Departures(Section):
    port_capacity_per_day: BySector
    shelter_intake_per_day: BySector
    ice_beds: People
    ice_initial_occupancy_beds: People
    ice_length_of_stay_days: PositiveDays
    ice_transfers_per_day: PeoplePerDay
    hhs_placement_per_day: PeoplePerDay
    hhs_beds: People
    hhs_initial_occupancy_beds: People
    hhs_length_of_stay_days: PositiveDays
    hhs_beds_added: Annotated[dict[str, BedsChange], Field(max_length=MAX_ENTRIES)] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _occupancy_within_beds(self) -> Departures:
        for system in ("ice", "hhs"):
            beds = getattr(self, f"{system}_beds")
            occupied = getattr(self, f"{system}_initial_occupancy_beds")
            if occupied > beds:
                raise CrossSectionError(
                    (f"{system}_initial_occupancy_beds",),
                    occupied,
                    f"more than the {beds:,.0f} {system.upper()} beds "
                    f"(departures.{system}_beds): initial occupancy must fit in the beds",
                )
        return self


class PoolParameters(Section):
    on_duty_fraction: Fraction
    cost_per_person_day_dollars: Dollars
    detection_weight: Ratio  # effort per person on detection, relative to a field agent
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
        # Detection has no bound on its work: it takes whoever is left (docs/model.md step 2).
        late = [
            t
            for t in ("transport", *(task.name.lower() for task in CUSTODY_DAY_TASKS))
            if order.index(t) > order.index("detection")
        ]
        if late:
            raise ValueError(
                f"detection takes whoever is left, so it must come after {', '.join(late)}; "
                f"got {order}"
            )
        return order


class Staff(Section):
    pools: Pools
    agents_by_sector: HeadcountBySector  # standing Border Patrol agents assigned to each sector
    processing_coordinators: Headcount  # southwest total, spread over sectors by load
    dispatch: Dispatch
    warehouse_hours_per_person_day: WorkHours
    medical_hours_per_person_day: WorkHours
    hospital_watch_hours_per_apprehension: WorkHours
    hospital_transport_hours_per_apprehension: WorkHours


class Deployment(Section):
    """A pool sent to some sectors for a period, on a set of tasks (DESIGN 2.7)."""

    pool: PoolName
    headcount: Headcount | None = None  # total, spread over `sectors` by `allocation`
    headcount_by_sector: dict[SectorCode, Headcount] | None = None  # explicit split instead
    sectors: Literal["southwest"] | SectorList = SOUTHWEST
    allocation: Literal["load", "equal"] = "load"
    tasks: list[TaskName]
    start_date: Date
    end_date: Date | None = None  # last day deployed, inclusive
    duration_days: PositiveWholeDays | None = None  # instead of end_date
    ramp_up_days: NonNegativeInt = 0  # headcount grows linearly to full over these days
    note: Text = ""

    @model_validator(mode="after")
    def _consistent(self) -> Deployment:
        if (self.headcount is None) == (self.headcount_by_sector is None):
            raise OneOfError(("headcount", "headcount_by_sector"))
        if self.headcount_by_sector is not None:
            # sectors and allocation spread a headcount; an explicit split would ignore them
            for key in ("sectors", "allocation"):
                if getattr(self, key) != type(self).model_fields[key].default:
                    # the default is allowed: a resolved scenario writes every key
                    raise CrossSectionError(
                        (key,),
                        getattr(self, key),
                        f"{key} spreads a headcount, but headcount_by_sector gives each "
                        f"sector's own and would ignore it: drop {key}, or give headcount",
                    )
        if (self.end_date is None) == (self.duration_days is None):
            raise OneOfError(("end_date", "duration_days"))
        if self.end_date is not None and self.end_date < self.start_date:
            raise CrossSectionError(
                ("end_date",),
                self.end_date,
                f"end_date {self.end_date} is before start_date {self.start_date}: "
                "a deployment must end on or after its start",
            )
        if not self.tasks:
            # named by its key, so the message stands beside the tasks (the workbench's boxes)
            raise CrossSectionError(
                ("tasks",),
                self.tasks,
                "a deployment must name at least one task (to have none, remove the deployment)",
            )
        repeated = sorted({task for task in self.tasks if self.tasks.count(task) > 1})
        if repeated:  # named, as a repeated sector is: a task is done or not, never twice
            raise CrossSectionError(
                ("tasks",),
                self.tasks,
                f"tasks are listed more than once: {', '.join(repeated)}",
            )
        return self

    @property
    def last_date(self) -> dt.date:
        if self.end_date is not None:
            return self.end_date
        assert self.duration_days is not None
        return self.start_date + dt.timedelta(days=self.duration_days - 1)


class Supplies(Section):
    units_per_person_day: SupplyUnits
    initial_stock_days: Days
    reorder_lead_days: Days
    reorder_point_days: Days
    order_days: PositiveDays
    cost_per_unit_dollars: Dollars


class Health(Section):
    enabled: bool
    arrival_prevalence_fraction: Fraction  # constant, unless points are given by date
    arrival_prevalence_by_date: Annotated[
        dict[DateKey, Fraction], Field(max_length=10_000, strict=False)
    ] = Field(default_factory=dict)
    symptomatic_fraction: Fraction
    screening_sensitivity_fraction: Fraction
    isolation_capacity_people: BySector
    transmission_rate_per_day: RatePerDay
    crowding_exponent: Exponent
    infectious_days: PositiveDays
    staff_infection_rate_per_day: RatePerDay
    staff_absence_days: Days
    # The disease of `defaults/diseases.toml` whose parameters (DISEASE_PARAMETERS) fill those the
    # scenario files do not set; the loader applies it (None: `covid19`).
    disease: str | None = None


#: The parameters of `Health` that describe the disease, not the place: each disease of
#: `defaults/diseases.toml` gives all of them.
DISEASE_PARAMETERS = (
    "symptomatic_fraction",
    "screening_sensitivity_fraction",
    "transmission_rate_per_day",
    "crowding_exponent",
    "infectious_days",
    "staff_infection_rate_per_day",
    "staff_absence_days",
)


class Cost(Section):
    custody_per_person_day_dollars: Dollars
    ice_transfer_dollars: Dollars
    decompression_per_person_dollars: Dollars  # a person moved between sectors


class Targets(Section):
    custody_hours: Hours


class ScenarioSpec(Section):
    """A whole scenario, defaults merged in. `Scenario` (in `bordersim.scenario`) adds where it
    came from and its resolved text."""

    name: ScenarioName
    description: Text = ""
    sectors: list[SectorCode]
    period: Period
    policy: Policy
    demand: Demand
    detection: Detection
    processing: Processing
    custody: Custody
    departures: Departures
    staff: Staff
    deployments: Annotated[dict[str, Deployment], Field(max_length=MAX_ENTRIES)] = Field(
        default_factory=dict
    )
    supplies: Supplies
    health: Health
    cost: Cost
    targets: Targets

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, sectors: list[str]) -> list[str]:
        if not sectors:
            raise ValueError("a scenario needs at least one sector")
        return _once_each(sectors)  # the repeated codes named, as a deployment's are

    @model_validator(mode="after")
    def _cross_section_rules(self) -> ScenarioSpec:
        check_deployments(self)
        for name, change in self.custody.capacity_changes.items():
            where = ("custody", "capacity_changes", name, "sector")
            check_modelled_sectors(self, where, [change.sector])
        check_release_policies(self)
        for name, shock in self.demand.shocks.items():
            if shock.sectors != "all":
                check_modelled_sectors(self, ("demand", "shocks", name, "sectors"), shock.sectors)
        return self


def check_modelled_sectors(
    spec: ScenarioSpec, where: tuple[str, ...], codes: Iterable[str], *, by_code: bool = False
) -> None:
    """Every sector code in `codes` is one of the scenario's sectors; else one error at `where`
    (followed by the code itself when `by_code`, as for a table keyed by sector)."""
    for code in codes:
        if code not in spec.sectors:
            raise CrossSectionError(
                (*where, code) if by_code else where,
                code,
                f"sector {code} is not one of the scenario's sectors ({', '.join(spec.sectors)})",
            )


def check_deployments(spec: ScenarioSpec) -> None:
    """Deployments go to modelled sectors and only to tasks the law and the pool allow."""
    allowed = legally_allowed()
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
            check_modelled_sectors(spec, ("deployments", name, "sectors"), deployment.sectors)
        if deployment.headcount_by_sector is not None:
            where = ("deployments", name, "headcount_by_sector")
            check_modelled_sectors(spec, where, deployment.headcount_by_sector, by_code=True)


def check_release_policies(spec: ScenarioSpec) -> None:
    """Release policies name modelled sectors, and two are never in force in one sector on one
    day (which would apply is not a choice bordersim makes for the user)."""
    policies = spec.policy.release_policies
    for name, policy in policies.items():
        if policy.sectors != "all":
            where = ("policy", "release_policies", name, "sectors")
            check_modelled_sectors(spec, where, policy.sectors)
    names = list(policies)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = policies[first], policies[second]
            a_end, b_end = a.last_day or LATEST_DATE, b.last_day or LATEST_DATE
            shared = set(spec.sectors if a.sectors == "all" else a.sectors) & set(
                spec.sectors if b.sectors == "all" else b.sectors
            )
            if shared and a.start_date <= b_end and b.start_date <= a_end:
                raise CrossSectionError(
                    ("policy", "release_policies", second, "start_date"),
                    b.start_date,
                    f"release policies {first!r} and {second!r} are both in force in "
                    f"{', '.join(sorted(shared))} on overlapping days; give them separate dates",
                )
