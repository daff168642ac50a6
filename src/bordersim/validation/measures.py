"""What a run says about each kind of operational target: one value per replication.

A `Measure` turns a run's daily results (`results/schema.py`), and where it needs them the event
engine's per-person records, into the quantity a target reports, over the target's period and
scope. When the run cannot say it (the period is outside the simulated days, the figure is for one
facility, the measure needs records the run did not keep), it raises `NotComparable` with the
reason, which `bordersim validate` prints.

Definitions that differ from the published figure are stated in the measure's `definition`; the
comparison table carries them as notes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bordersim.model.dimensions import SECTOR_NAMES, Pathway, Sector
from bordersim.results.schema import RunResult
from bordersim.validation.targets import Target

HOURS_72 = 72.0
SNAPSHOT_HOUR = 12  # a stock "on a date" is counted at noon
UAC_PREFIX = "unaccompanied_child"
OUT_OF_SAMPLE, FITTED, INPUT, PARAMETER_SOURCE = (
    "out of sample",
    "fitted",
    "input",
    "parameter source",
)


class NotComparable(Exception):
    """The run cannot give this target's quantity; the message says why."""


@dataclass(frozen=True)
class RunView:
    """A run's results, its per-person records when kept, and the first simulated day."""

    run: RunResult
    people: pd.DataFrame | None = None
    first_day: dt.date | None = None  # hour 0 of the records (warm-up included)

    @property
    def simulation_start(self) -> dt.date:
        return self.first_day or self.run.dates[0]


@dataclass(frozen=True)
class Scope:
    sectors: tuple[Sector, ...]
    detail: str  # a facility or sub-population in brackets, or "" for whole sectors
    wider: bool  # the figure covers more than the southwest sectors (nationwide, all borders)

    def note(self) -> str:
        if self.wider:
            return "a nationwide figure against the model's nine southwest sectors"
        if self.detail:
            return f"a figure for {self.detail}, against the whole sector"
        return ""


#: A sector by its name ("Rio Grande Valley") or CBP's code ("RGV"), in lower case.
_BY_NAME = {
    **{name.lower(): sector for sector, name in SECTOR_NAMES.items()},
    **{sector.name.lower(): sector for sector in Sector},
}
_WIDER = ("national", "all borders")


def parse_scope(text: str) -> Scope:
    """The sectors a target's `sector` text covers; `NotComparable` for one the model lacks."""
    match = re.fullmatch(r"\s*([^()]*?)\s*(?:\((.*)\))?\s*", text)
    base, detail = (match.group(1), match.group(2) or "") if match else (text, "")
    lowered = base.lower()
    if lowered == "swb" or any(lowered.startswith(w) for w in _WIDER):
        wider = lowered != "swb"
        # "all borders (USBP)" names the agency, not a facility
        detail = "" if wider else detail
        return Scope(tuple(Sector), detail, wider)
    sectors = []
    for part in lowered.split("+"):
        sector = _BY_NAME.get(part.strip())
        if sector is None:
            raise NotComparable(f"scope {text!r} is not a southwest border sector ({_hint(part)})")
        sectors.append(sector)
    return Scope(tuple(sectors), detail, False)


def _hint(part: str) -> str:
    """The sector's name closest to a misspelt one ("Rio Grand Valley"), else how to name one."""
    names = {name.lower(): name for name in SECTOR_NAMES.values()}
    close = difflib.get_close_matches(part.strip(), list(names), n=1, cutoff=0.8)
    if close:
        return f"did you mean {names[close[0]]!r}?"
    return "give a sector's name, such as 'Rio Grande Valley', or its code, RGV"


# ----- windows and sector indices ------------------------------------------------------------


def _day_mask(view: RunView, target: Target) -> np.ndarray:
    """Reported days of the target's period; every day must be reported."""
    dates = view.run.dates
    if target.start < dates[0] or target.end > dates[-1]:
        raise NotComparable(
            f"period {target.period_text()} is not inside the reported days "
            f"{dates[0]} to {dates[-1]}"
        )
    days = np.array(dates, dtype="datetime64[D]")
    return (days >= np.datetime64(target.start)) & (days <= np.datetime64(target.end))


def _sector_index(view: RunView, scope: Scope) -> list[int]:
    present = {sector: i for i, sector in enumerate(view.run.sectors)}
    missing = [s.name for s in scope.sectors if s not in present]
    if missing:
        raise NotComparable(f"the scenario does not simulate {', '.join(missing)}")
    return [present[s] for s in scope.sectors]


def _window_sum(view: RunView, target: Target, scope: Scope, metric: str) -> np.ndarray:
    """[R, d] the metric summed over the scope's sectors, on each day of the window."""
    days = _day_mask(view, target)
    values = view.run.metric(metric)[:, days, :]
    return np.asarray(values[:, :, _sector_index(view, scope)].sum(axis=2), dtype=np.float64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


# ----- record windows -----------------------------------------------------------------------


def _records(view: RunView, target: Target, scope: Scope) -> tuple[pd.DataFrame, float, float]:
    """The people of the scope's sectors, and the window's first and last hour (exclusive)."""
    if view.people is None:
        raise NotComparable(
            "needs per-person records (event engine; `bordersim validate` keeps them)"
        )
    first = view.simulation_start
    last = view.run.dates[-1]
    if target.start < first or target.end > last:
        raise NotComparable(
            f"period {target.period_text()} is not inside the simulated days {first} to {last}"
        )
    start_h = 24.0 * (target.start - first).days
    end_h = 24.0 * ((target.end - first).days + 1)
    names = [s.name for s in scope.sectors]
    people = view.people
    return people[people["sector"].isin(names)], start_h, end_h


def _per_replication(view: RunView, frame: pd.DataFrame, values: str) -> np.ndarray:
    """[R] one value per replication from a frame with columns replication and `values`."""
    out = np.full(view.run.n_replications, np.nan)
    for replication, value in frame.groupby("replication", observed=True)[values].first().items():
        out[int(str(replication))] = float(value)
    return out


def _snapshot_hours(start_h: float, end_h: float) -> np.ndarray:
    return np.arange(start_h + SNAPSHOT_HOUR, end_h, 24.0)


def _held_at(people: pd.DataFrame, hour: float) -> pd.Series:
    apprehended = people["apprehension_h"].to_numpy()
    departed = people["departure_h"].to_numpy()
    with np.errstate(invalid="ignore"):
        held = (apprehended <= hour) & ~(departed <= hour)
    return pd.Series(held, index=people.index)


def _snapshot_mean(
    view: RunView,
    people: pd.DataFrame,
    hours: np.ndarray,
    count: Callable[[pd.DataFrame, float], pd.Series],
) -> np.ndarray:
    """[R] mean over the snapshot hours of a per-replication count."""
    totals = np.zeros(view.run.n_replications)
    for hour in hours:
        per_rep = count(people, hour).groupby(people["replication"], observed=True).sum()
        for replication, value in per_rep.items():
            totals[int(str(replication))] += float(value)
    return totals / max(len(hours), 1)


def _uac(people: pd.DataFrame) -> pd.DataFrame:
    groups = people["group"]
    names = groups.cat.categories if hasattr(groups, "cat") else pd.Index(groups.unique())
    return people[groups.isin([g for g in names if str(g).startswith(UAC_PREFIX)])]


# ----- the measures ---------------------------------------------------------------------------


MeasureFn = Callable[[RunView, Target, Scope], np.ndarray]


@dataclass(frozen=True)
class Measure:
    label: str
    unit: str  # "people", "share", "hours", "minutes", "days", "ratio", "sectors"
    compute: MeasureFn
    definition: str  # what the model counts, where it differs from the published figure
    counts: bool = True  # a count of people: not comparable for one facility's figure
    needs_records: bool = False
    # How the model relates to the figure: "out of sample" (nothing was set from it), "fitted"
    # (the demand fit matches it, docs/validation.md), "input" (a scenario value echoed) or
    # "parameter source" (a default parameter was set from it).
    evidence: str = OUT_OF_SAMPLE


def _stock(metric: str) -> MeasureFn:
    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        return _window_sum(view, target, scope, metric).mean(axis=1)

    return compute


def _total(metric: str, per_day: bool = False) -> MeasureFn:
    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        values = _window_sum(view, target, scope, metric)
        return values.mean(axis=1) if per_day else values.sum(axis=1)

    return compute


def _occupancy_share(view: RunView, target: Target, scope: Scope) -> np.ndarray:
    occupancy = _window_sum(view, target, scope, "occupancy_mean")
    capacity = _window_sum(view, target, scope, "custody_capacity")
    return np.nanmean(_ratio(occupancy, capacity), axis=1)


def _sectors_over_125(view: RunView, target: Target, scope: Scope) -> np.ndarray:
    days = _day_mask(view, target)
    index = _sector_index(view, scope)
    occupancy = view.run.metric("occupancy_mean")[:, days][:, :, index].mean(axis=1)
    capacity = view.run.metric("custody_capacity")[:, days][:, :, index].mean(axis=1)
    return np.asarray((_ratio(occupancy, capacity) > 1.25).sum(axis=1), dtype=np.float64)


def _off_field_share(view: RunView, target: Target, scope: Scope) -> np.ndarray:
    field = _window_sum(view, target, scope, "agents_field_hours").sum(axis=1)
    support = _window_sum(view, target, scope, "agents_support_hours").sum(axis=1)
    return np.asarray(_ratio(support, field + support), dtype=np.float64)


def _gotaway_ratio(view: RunView, target: Target, scope: Scope) -> np.ndarray:
    gotaways = _window_sum(view, target, scope, "gotaways").sum(axis=1)
    encounters = _window_sum(view, target, scope, "encounters").sum(axis=1)
    return np.asarray(_ratio(gotaways, gotaways + encounters), dtype=np.float64)


def _mean_custody_hours(scale: float) -> MeasureFn:
    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        hours = _window_sum(view, target, scope, "custody_hours_total").sum(axis=1)
        exits = _window_sum(view, target, scope, "custody_exits").sum(axis=1)
        return np.asarray(_ratio(hours, exits), dtype=np.float64) / scale

    return compute


DEPARTURES = [f"departures:{p.name.lower()}" for p in Pathway]


def _title42_share(view: RunView, target: Target, scope: Scope) -> np.ndarray:
    title42 = _window_sum(view, target, scope, "departures:title42_expulsion").sum(axis=1)
    every = sum(_window_sum(view, target, scope, d).sum(axis=1) for d in DEPARTURES)
    return np.asarray(_ratio(title42, np.asarray(every)), dtype=np.float64)


def _title8(view: RunView, target: Target, scope: Scope) -> np.ndarray:
    others = [d for d in DEPARTURES if d != "departures:title42_expulsion"]
    return np.asarray(sum(_window_sum(view, target, scope, d).sum(axis=1) for d in others))


def _over72_share(children_only: bool) -> MeasureFn:
    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        people, start_h, end_h = _records(view, target, scope)
        if children_only:
            people = _uac(people)
        people = people[people["apprehension_h"].notna()]
        hours = _snapshot_hours(start_h, end_h)

        def held(frame: pd.DataFrame, hour: float) -> pd.Series:
            return _held_at(frame, hour)

        def long(frame: pd.DataFrame, hour: float) -> pd.Series:
            return _held_at(frame, hour) & (hour - frame["apprehension_h"] > HOURS_72)

        return _ratio(
            _snapshot_mean(view, people, hours, long), _snapshot_mean(view, people, hours, held)
        )

    return compute


def _uac_held(over_72h: bool) -> MeasureFn:
    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        people, start_h, end_h = _records(view, target, scope)
        children = _uac(people)
        children = children[children["apprehension_h"].notna()]

        def count(frame: pd.DataFrame, hour: float) -> pd.Series:
            held = _held_at(frame, hour)
            return held & (hour - frame["apprehension_h"] > HOURS_72) if over_72h else held

        return _snapshot_mean(view, children, _snapshot_hours(start_h, end_h), count)

    return compute


def _stay_of_exits(
    select: Callable[[pd.DataFrame], pd.DataFrame], reduce: Callable[[pd.Series], float]
) -> MeasureFn:
    """A statistic of the stays (hours) of the people who left custody in the window."""

    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        people, start_h, end_h = _records(view, target, scope)
        people = select(people)
        left = people[(people["departure_h"] >= start_h) & (people["departure_h"] < end_h)]
        stays = (left["departure_h"] - left["apprehension_h"]).rename("stay")
        frame = pd.DataFrame({"replication": left["replication"], "stay": stays})
        summary = frame.groupby("replication", observed=True)["stay"].agg(reduce)
        return _per_replication(view, summary.rename("value").reset_index(), "value")

    return compute


def _uac_encounters(per_day: bool) -> MeasureFn:
    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        people, start_h, end_h = _records(view, target, scope)
        children = _uac(people)
        inside = children[
            (children["apprehension_h"] >= start_h) & (children["apprehension_h"] < end_h)
        ]
        counts = np.zeros(view.run.n_replications)
        for replication, value in inside.groupby("replication", observed=True).size().items():
            counts[int(str(replication))] = float(value)
        return counts / ((end_h - start_h) / 24.0) if per_day else counts

    return compute


def _uac_net_flow(into_custody: bool, include_mexican: bool = True) -> MeasureFn:
    """Children apprehended minus children transferred to HHS per day (`into_custody`), or the
    reverse: the net flow into or out of Border Patrol's custody of unaccompanied children.
    With `include_mexican=False` both sides count children of other nationalities only."""

    def compute(view: RunView, target: Target, scope: Scope) -> np.ndarray:
        people, start_h, end_h = _records(view, target, scope)
        children = _uac(people)
        if not include_mexican:
            children = children[children["group"] != f"{UAC_PREFIX}/mexico"]
        caught = children["apprehension_h"].between(start_h, end_h, inclusive="left")
        placed = (children["pathway"] == "uac_transfer") & children["departure_h"].between(
            start_h, end_h, inclusive="left"
        )
        net = np.zeros(view.run.n_replications)
        for sign, chosen in ((1.0, caught), (-1.0, placed)):
            counts = children[chosen].groupby("replication", observed=True).size()
            for replication, value in counts.items():
                net[int(str(replication))] += sign * float(value)
        days = (end_h - start_h) / 24.0
        return (net if into_custody else -net) / days

    return compute


def _is_title42(people: pd.DataFrame) -> pd.DataFrame:
    return people[people["pathway"] == "title42_expulsion"]


def _mean_minutes(stays: pd.Series) -> float:
    return float(stays.mean() * 60.0)


def _share_within_2h(stays: pd.Series) -> float:
    return float((stays <= 2.0).mean())


def _mean_hours(stays: pd.Series) -> float:
    return float(stays.mean())


_OCCUPANCY = "people in Border Patrol custody, mean over the day's hours"
_FROM_DEPARTURES = "counted when they leave custody (the model's departures by pathway)"

MEASURES: dict[str, Measure] = {
    "custody_population": Measure(
        "people in custody", "people", _stock("occupancy_mean"), _OCCUPANCY
    ),
    "custody_population_weekly_avg": Measure(
        "people in custody, period average", "people", _stock("occupancy_mean"), _OCCUPANCY
    ),
    "custody_capacity": Measure(
        "holding capacity",
        "people",
        _stock("custody_capacity"),
        "the scenario's capacity",
        evidence=INPUT,
    ),
    "custody_occupancy_share": Measure(
        "occupancy / capacity",
        "ratio",
        _occupancy_share,
        "mean occupancy over capacity",
        counts=False,
    ),
    "sectors_over_125pct_capacity": Measure(
        "sectors over 125 % of capacity",
        "sectors",
        _sectors_over_125,
        "sectors whose mean occupancy that day exceeds 1.25 times capacity",
    ),
    "custody_over72h_share": Measure(
        "share of people held over 72 h",
        "share",
        _over72_share(False),
        "people in custody at noon who were apprehended more than 72 hours earlier, over all "
        "people in custody then",
        counts=False,
        needs_records=True,
    ),
    "custody_over72h_share_minors": Measure(
        "share of minors held over 72 h",
        "share",
        _over72_share(True),
        "unaccompanied children only (the figure includes children in families)",
        counts=False,
        needs_records=True,
    ),
    "custody_population_uac": Measure(
        "children (UAC) in custody",
        "people",
        _uac_held(False),
        "unaccompanied children in custody at noon",
        needs_records=True,
    ),
    "custody_population_uac_30d_avg": Measure(
        "children (UAC) in custody, average",
        "people",
        _uac_held(False),
        "unaccompanied children in custody at noon, mean over the days",
        needs_records=True,
    ),
    "custody_population_uac_daily_avg": Measure(
        "children (UAC) in custody, average",
        "people",
        _uac_held(False),
        "unaccompanied children in custody at noon, mean over the days",
        needs_records=True,
    ),
    "custody_population_uac_over72h": Measure(
        "children (UAC) held over 72 h",
        "people",
        _uac_held(True),
        "unaccompanied children in custody at noon apprehended more than 72 hours earlier",
        needs_records=True,
    ),
    "time_in_custody_uac_mean_hours": Measure(
        "children's (UAC) average time in custody",
        "hours",
        _stay_of_exits(_uac, _mean_hours),
        "mean stay of the unaccompanied children who left custody in the period (published "
        "figures are sometimes the time so far of those still held)",
        counts=False,
        needs_records=True,
    ),
    "time_in_custody_mean_hours": Measure(
        "average time in custody",
        "hours",
        _mean_custody_hours(1.0),
        "mean stay of the people who left custody in the period",
        counts=False,
    ),
    "time_in_custody_mean_days": Measure(
        "average time in custody",
        "days",
        _mean_custody_hours(24.0),
        "mean stay of the people who left custody in the period",
        counts=False,
    ),
    "time_in_custody_title42_mean_minutes": Measure(
        "Title 42: apprehension to expulsion",
        "minutes",
        _stay_of_exits(_is_title42, _mean_minutes),
        "mean stay of the people expelled under Title 42 who left custody in the period",
        counts=False,
        evidence=PARAMETER_SOURCE,
        needs_records=True,
    ),
    "title42_expelled_within_2h_share": Measure(
        "Title 42: share expelled within 2 h",
        "share",
        _stay_of_exits(_is_title42, _share_within_2h),
        "share of the Title 42 expulsions of the period that left within 2 hours of apprehension",
        counts=False,
        evidence=PARAMETER_SOURCE,
        needs_records=True,
    ),
    "agents_diverted_share": Measure(
        "agents' share of hours off the field",
        "share",
        _off_field_share,
        "agent-hours on every task but the field over all on-duty agent-hours (the figures "
        "count agents, not hours)",
        counts=False,
    ),
    "agents_time_share_care": Measure(
        "agents' share of hours off the field",
        "share",
        _off_field_share,
        "agent-hours on every task but the field (the figure is care alone)",
        counts=False,
    ),
    "agents_time_share_custody_admin": Measure(
        "agents' share of hours off the field",
        "share",
        _off_field_share,
        "agent-hours on every task but the field",
        counts=False,
    ),
    "agents_time_share_processing_care": Measure(
        "agents' share of hours off the field",
        "share",
        _off_field_share,
        "agent-hours on every task but the field",
        counts=False,
    ),
    "gotaways": Measure(
        "got-aways",
        "people",
        _total("gotaways"),
        "undetected and uninterdicted crossers, and surrendering groups that walked off (known "
        "got-aways are those Border Patrol detected: the model's count includes the unseen)",
    ),
    "gotaway_ratio_estimate": Measure(
        "got-aways / (got-aways + encounters)",
        "share",
        _gotaway_ratio,
        "share of the day's crossers not apprehended",
        counts=False,
    ),
    "usbp_apprehensions_daily": Measure(
        "encounters per day",
        "people",
        _total("encounters", per_day=True),
        "encounters per day, mean over the period",
    ),
    "usbp_encounters": Measure(
        "encounters",
        "people",
        _total("encounters"),
        "encounters (the demand fit matches full calendar months per sector)",
        evidence=FITTED,
    ),
    "uac_apprehensions": Measure(
        "encounters of children (UAC)",
        "people",
        _uac_encounters(False),
        "unaccompanied children apprehended (the demand fit matches each month's groups)",
        needs_records=True,
        evidence=FITTED,
    ),
    "uac_encounters": Measure(
        "encounters of children (UAC)",
        "people",
        _uac_encounters(False),
        "unaccompanied children apprehended (the demand fit matches each month's groups)",
        needs_records=True,
        evidence=FITTED,
    ),
    "uac_apprehensions_daily": Measure(
        "encounters of children (UAC) per day",
        "people",
        _uac_encounters(True),
        "unaccompanied children apprehended per day",
        needs_records=True,
    ),
    "uac_apprehensions_daily_30d_avg": Measure(
        "encounters of children (UAC) per day",
        "people",
        _uac_encounters(True),
        "unaccompanied children apprehended per day",
        needs_records=True,
    ),
    "usbp_transfer_hhs": Measure(
        "transfers of children to HHS",
        "people",
        _total("departures:uac_transfer"),
        _FROM_DEPARTURES,
    ),
    "usbp_transfer_hhs_daily": Measure(
        "transfers of children to HHS per day",
        "people",
        _total("departures:uac_transfer", per_day=True),
        _FROM_DEPARTURES,
    ),
    "usbp_transfer_hhs_daily_30d_avg": Measure(
        "transfers of children to HHS per day",
        "people",
        _total("departures:uac_transfer", per_day=True),
        _FROM_DEPARTURES,
    ),
    "uac_arrivals_minus_transfers_daily": Measure(
        "children (UAC) apprehended minus transferred to HHS, per day",
        "people",
        _uac_net_flow(into_custody=True, include_mexican=False),
        "unaccompanied children other than Mexican apprehended minus those transferred to HHS, "
        "per day",
        needs_records=True,
    ),
    "uac_transfers_minus_arrivals_daily": Measure(
        "children (UAC) transferred to HHS minus apprehended, per day",
        "people",
        _uac_net_flow(into_custody=False),
        "unaccompanied children transferred to HHS minus those apprehended, per day",
        needs_records=True,
    ),
    "hhs_orr_referrals": Measure(
        "transfers of children to HHS",
        "people",
        _total("departures:uac_transfer"),
        _FROM_DEPARTURES,
    ),
    "usbp_releases_daily": Measure(
        "releases per day",
        "people",
        _total("departures:release", per_day=True),
        "releases with a notice or parole, " + _FROM_DEPARTURES,
    ),
    "usbp_releases_total": Measure(
        "releases",
        "people",
        _total("departures:release"),
        "releases with a notice or parole, " + _FROM_DEPARTURES,
    ),
    "usbp_disposition_title42_expulsion": Measure(
        "Title 42 expulsions", "people", _total("departures:title42_expulsion"), _FROM_DEPARTURES
    ),
    "usbp_disposition_title42_share": Measure(
        "Title 42 share of departures", "share", _title42_share, _FROM_DEPARTURES, counts=False
    ),
    "usbp_title8_apprehensions": Measure(
        "Title 8 cases", "people", _title8, "departures on every Title 8 pathway"
    ),
    "ice_bookins_from_cbp": Measure(
        "transfers to ICE detention",
        "people",
        _total("departures:expedited_removal"),
        "expedited-removal departures to ICE beds (the figure is national and includes ports "
        "of entry)",
    ),
}


#: Public figures in the targets file that the model's results cannot express yet, and why.
NOT_YET: dict[str, str] = {
    "custody_over72h_count": "counts at inspected facilities; the model holds people per sector",
    "children_held_monthly": "children in families are not split from their adults in the results",
    "child_bookins_daily_peak": "children in families are not split from their adults",
    "hospital_watch_agent_hours": "no hospital watch or hospital transport task in the model",
    "hospital_transports_agent_hours": "no hospital watch or hospital transport task in the model",
    "hhs_orr_uac_in_care": "HHS occupancy is not a daily result",
    "ice_detained_population": "ICE occupancy is not a daily result",
    "cbp_unique_encounters": "the model counts people new to the run, not unique in the month",
    "cbp_repeat_encounter_share": "needs a 12-month look-back longer than the runs",
    "processing_time_per_nta_hours": "an input (processing effort), used in parameters.toml",
    "processing_time_per_family_hours": "an input (processing effort), used in parameters.toml",
}
