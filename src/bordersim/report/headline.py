"""What a report says first: what binds in a run, which differences matter in a comparison.

A limit *binds* on a day when, in the mean over replications, the sector hits it:
- custody capacity: peak occupancy above capacity, or the release valve open;
- processing: people still waiting for intake or determination at the day's end, more than a tenth
  of the day's encounters (a rule of thumb: a backlog smaller than that clears the next morning);
- ICE beds, HHS shelters, transport to ports: anyone waiting for them at the day's end.
Staff shortfalls are the capability gap (staff-hours needed minus supplied, per task).

A difference B - A is *practically zero* when its whole 95 % interval lies within 1 % of the
larger of the two means (or both runs give exactly the same value): the engines are exact enough
that such a difference can be statistically clear and still mean nothing to a planner. The 1 %
threshold is an assumption of this report, not a sourced figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bordersim.model.dimensions import SECTOR_NAMES, Task
from bordersim.report.page import HeadlineItem
from bordersim.results.capability import capability_gap
from bordersim.results.kpis import KPI_BY_NAME, Interval, format_difference, format_value
from bordersim.results.schema import RunResult
from bordersim.words import counted

#: Share of a day's encounters left in the processing backlog above which processing binds.
BACKLOG_SHARE_BINDS = 0.10
#: Relative size below which a difference is practically zero (assumption; see the module text).
PRACTICAL_SHARE = 0.01
#: The verdict on an indicator that neither run gives a value for in any pair of replications.
NOT_DEFINED = "n/a"
#: The verdict on a difference of one replication a side: no interval, so no finding either way.
NO_INTERVAL = "no interval"
#: The relative change of an indicator whose A is near zero (`is_near_zero_base`).
NEAR_ZERO_BASE = "n/a (base near zero)"

#: README, "Known limits", in short: what every run report and comparison says in its headline.
KNOWN_LIMITS = (
    "Custody is fitted to a few dated figures of the record (southwest totals in May 2023, two "
    "sectors) and lands in the wrong sectors and weeks elsewhere (late April 2023 far below the "
    "record): read differences between variants rather than absolute custody, time in custody or "
    "got-aways as a forecast.",
    "Processing stations, which bound how fast custody empties, are fitted per place of holding "
    "capacity, not counted: custody moves with their density.",
    "The group mix (single adults, families, children) is border-wide and applied to every sector.",
)


@dataclass(frozen=True)
class Binding:
    constraint: str
    sector: str
    days: float  # mean over replications of the days it binds
    of_days: int


def _binding_days(flags: np.ndarray) -> np.ndarray:
    """Mean over replications of the number of days flagged, per sector, from [R, D, S]."""
    return flags.sum(axis=1).mean(axis=0)


def binding_constraints(result: RunResult) -> list[Binding]:
    """Every limit that binds on at least half a day on average, most days first."""
    peak, capacity = result.metric("occupancy_peak"), result.metric("custody_capacity")
    valve = result.metric("valve_open_hours")
    backlog, encounters = result.metric("processing_backlog"), result.metric("encounters")
    flags = {
        "custody capacity": (peak > capacity) | (valve > 0),
        "processing": backlog > BACKLOG_SHARE_BINDS * np.maximum(encounters, 1.0),
        "ICE beds": result.metric("waiting_for_ice_bed") > 0,
        "HHS shelters": result.metric("waiting_for_hhs") > 0,
        "transport to ports": result.metric("waiting_for_port") > 0,
    }
    found: list[Binding] = []
    n_days = len(result.dates)
    for constraint, flagged in flags.items():
        for s, days in enumerate(_binding_days(flagged)):
            if days >= 0.5:
                sector = result.sectors[s]
                found.append(
                    Binding(
                        constraint, f"{sector.name} ({SECTOR_NAMES[sector]})", float(days), n_days
                    )
                )
    return sorted(found, key=lambda b: (-b.days, b.constraint, b.sector))


#: Staff-hours over the period below which a gap is not a shortfall: it would print as "0".
SHORTFALL_MIN_HOURS = 0.5
#: Share of the people detected or surrendering whom no field agent reached above which the
#: field is short of agents (assumption: a rounding share; well-staffed runs leave about 0.2 %).
UNSERVED_SHARE = 0.01


def unserved_in_field(result: RunResult, top: int = 3) -> list[tuple[str, float]]:
    """Sectors where people detected or surrendering were not apprehended (no field agent
    reached them before they walked off, or they still waited at the end): (sector, people over
    the period, mean over replications), most first, where more than `UNSERVED_SHARE` of them.

    The capability gap counts the field time of the apprehensions made, so a sector with too few
    agents, or none, shows no field gap however many walk off: this says what it cannot."""
    reached = result.metric("detected") + result.metric("surrendered")  # [R, D, S]
    wanted = reached.sum(axis=1).mean(axis=0)  # [S]
    missed = (reached - result.metric("encounters")).sum(axis=1).mean(axis=0)
    cells = [
        (result.sectors[s].name, float(missed[s]))
        for s in range(len(result.sectors))
        if missed[s] >= 0.5 and missed[s] > UNSERVED_SHARE * wanted[s]
    ]
    return sorted(cells, key=lambda c: -c[1])[:top]


def staff_shortfalls(result: RunResult, top: int = 3) -> list[tuple[str, str, float]]:
    """The largest capability gaps: (task, sector, staff-hours over the period), largest first.

    Gaps of less than half a staff-hour over the whole period (rounding in the engines) are not
    shortfalls: listed, they read "custody watch in RGV: 0"."""
    totals = capability_gap(result).gap.mean(axis=0).sum(axis=0)  # [S, T]
    cells = [
        (Task(t).name.lower().replace("_", " "), result.sectors[s].name, float(totals[s, t]))
        for s in range(totals.shape[0])
        for t in range(totals.shape[1])
        if totals[s, t] >= SHORTFALL_MIN_HOURS
    ]
    return sorted(cells, key=lambda c: -c[2])[:top]


def _mean_days(days: float) -> str:
    """A mean over replications of days: whole, or to a tenth ("0.5", where one replication of
    two binds on one day; rounded to whole days it read "binds ... on 0 of 21 days")."""
    tenths = round(days, 1)
    return f"{tenths:.0f}" if tenths == round(tenths) else f"{tenths:.1f}"


#: The limits named in the plural, which "bind" rather than "binds".
PLURAL_LIMITS = ("ICE beds", "HHS shelters")


def _limit_binds(constraint: str) -> str:
    """The start of a headline sentence: "Custody capacity binds", "ICE beds bind"."""
    verb = "bind" if constraint in PLURAL_LIMITS else "binds"
    return f"{constraint[0].upper()}{constraint[1:]} {verb}"


def run_headline(result: RunResult) -> list[HeadlineItem]:
    bindings = binding_constraints(result)
    items: list[HeadlineItem] = []
    if not bindings:
        items.append(
            HeadlineItem(
                "No custody capacity, processing, ICE bed, HHS shelter or transport limit binds in "
                "any sector (mean over replications).",
                ("zero", "nothing binds"),
            )
        )
    by_constraint: dict[str, list[Binding]] = {}
    for binding in bindings:
        by_constraint.setdefault(binding.constraint, []).append(binding)
    for constraint, where in by_constraint.items():
        places = ", ".join(
            f"{b.sector} on {_mean_days(b.days)} of {counted(b.of_days, 'day')}" for b in where[:4]
        )
        more = f" and {counted(len(where) - 4, 'more sector')}" if len(where) > 4 else ""
        items.append(
            HeadlineItem(f"{_limit_binds(constraint)} in {places}{more}.", ("up", "binds"))
        )
    unserved = unserved_in_field(result)
    if unserved:
        listed = "; ".join(f"{sector}: {people:,.0f}" for sector, people in unserved)
        items.append(
            HeadlineItem(
                "People detected or surrendering whom no field agent reached (they walked off, or "
                f"still waited at the end; not in the capability gap, which counts the field "
                f"time of the apprehensions made): {listed}.",
                ("up", "field"),
            )
        )
    shortfalls = staff_shortfalls(result)
    if shortfalls:
        # rounded as the capability gap table and the indicators round it: 3.43, not 3
        listed = "; ".join(
            f"{task} in {sector}: {format_value(hours, 'staff-hours')}"
            for task, sector, hours in shortfalls
        )
        items.append(
            HeadlineItem(
                f"Largest staff shortfalls (staff-hours needed but not supplied, whole period): "
                f"{listed}.",
                ("up", "staff"),
            )
        )
    elif not unserved:
        items.append(HeadlineItem("Every task is fully staffed in every sector and week.", None))
    return items


# ----- comparisons ------------------------------------------------------------------------------


def is_practically_zero(diff: Interval, mean_a: float, mean_b: float) -> bool:
    if math.isnan(diff.low) or math.isnan(diff.high):
        return False  # no interval (one replication in A or B), so no finding either way
    if diff.mean == 0 and diff.low == diff.high == 0:
        return True
    threshold = PRACTICAL_SHARE * max(abs(mean_a), abs(mean_b))
    return -threshold <= diff.low and diff.high <= threshold


def verdict(diff: Interval, mean_a: float, mean_b: float) -> str:
    """'practically zero', 'yes' (the interval excludes 0), 'no', 'no interval' with one
    replication a side, or 'n/a' when no pair of replications has the indicator (a share of
    nobody: no exits, no encounters)."""
    if diff.n == 0:
        return NOT_DEFINED
    if is_practically_zero(diff, mean_a, mean_b):
        return "practically zero"
    if diff.n < 2 or math.isnan(diff.low) or math.isnan(diff.high):
        return NO_INTERVAL
    return "yes" if diff.excludes_zero() else "no"


def effect_size(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's d: the difference of means over the pooled standard deviation of replications."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size < 2 or y.size < 2:
        return math.nan
    pooled = math.sqrt(
        ((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2)
    )
    diff = float(y.mean() - x.mean())
    if pooled == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / pooled


def relative_change(diff: float, mean_a: float, unit: str) -> str:
    """B - A as a share of A; 'n/a' where either is not a number (a share of nobody in B), and
    `NEAR_ZERO_BASE` where A is near zero (`is_near_zero_base`): a share of almost nothing is
    a huge or a -100 % change that means nothing (0.04 releases to 19 read '+47400.0 %')."""
    if not (math.isfinite(mean_a) and math.isfinite(diff)):
        return "n/a"
    if is_near_zero_base(mean_a, mean_a + diff, unit):
        return NEAR_ZERO_BASE
    change = f"{100 * diff / abs(mean_a):+,.1f}"
    # a change that rounds to zero has no sign, as `format_value` gives a value
    return f"{change[1:] if float(change.replace(',', '')) == 0 else change} %"


def is_near_zero_base(mean_a: float, mean_b: float, unit: str) -> bool:
    """Whether A is too near zero for B - A to be read as a share of it: zero, shown as zero in
    its unit (0.0 %), or under `PRACTICAL_SHARE` of B (the scale 'practically zero' reads)."""
    shown_as_zero = not any(digit in format_value(mean_a, unit) for digit in "123456789")
    return shown_as_zero or abs(mean_a) < PRACTICAL_SHARE * abs(mean_b)


def format_effect(d: float) -> str:
    if math.isnan(d):
        return "n/a"
    if math.isinf(d):
        return "no spread"
    return f"{d:+.2f}"


def comparison_headline(
    diffs: dict[str, Interval],
    summary_a: dict[str, Interval],
    summary_b: dict[str, Interval],
    per_replication_a: dict[str, np.ndarray],
    per_replication_b: dict[str, np.ndarray],
    no_interval_because: str = "one replication a side",
) -> list[HeadlineItem]:
    """Clear differences first (largest effect first), then how many are practically zero."""
    clear: list[tuple[float, HeadlineItem]] = []
    zero: list[str] = []
    unclear: list[str] = []
    undefined: list[str] = []
    single: list[str] = []
    for name, diff in diffs.items():
        kpi = KPI_BY_NAME[name]
        mean_a, mean_b = summary_a[name].mean, summary_b[name].mean
        said = verdict(diff, mean_a, mean_b)
        if said == NOT_DEFINED:
            undefined.append(kpi.label)
            continue
        if said == NO_INTERVAL:
            single.append(kpi.label)
            continue
        if said == "practically zero":
            zero.append(kpi.label)
            continue
        if said == "no":
            unclear.append(kpi.label)
            continue
        d = effect_size(per_replication_a[name], per_replication_b[name])
        direction = ("up", "higher") if diff.mean > 0 else ("down", "lower")
        change = relative_change(diff.mean, mean_a, kpi.unit)
        # "(n/a (base near zero), ...)" would nest its parentheses
        change = "base near zero: no relative change;" if change == NEAR_ZERO_BASE else change + ","
        text = (
            f"{kpi.label}: {format_value(mean_a, kpi.unit)} -> {format_value(mean_b, kpi.unit)}, "
            f"B - A {format_difference(diff, kpi.unit)} ({change} "
            f"effect size d = {format_effect(d)})"
        )
        clear.append((abs(d) if not math.isnan(d) else 0.0, HeadlineItem(text, direction)))
    items = [item for _, item in sorted(clear, key=lambda pair: -pair[0])]
    if single:
        items.append(
            HeadlineItem(
                f"{no_interval_because.capitalize()}: there is no interval, so no difference can "
                f"be told from chance (the table gives the differences): {', '.join(single)}.",
                ("zero", "unclear"),
            )
        )
    elif not items:
        items.append(HeadlineItem("No indicator differs clearly between A and B.", None))
    if zero:
        items.append(
            HeadlineItem(
                f"Practically zero (the whole interval within {100 * PRACTICAL_SHARE:.0f} % of "
                f"the value): {', '.join(zero)}.",
                ("zero", "practically zero"),
            )
        )
    if unclear:
        items.append(
            HeadlineItem(
                f"Not distinguishable from zero with these replications: {', '.join(unclear)}.",
                ("zero", "unclear"),
            )
        )
    if undefined:
        items.append(
            HeadlineItem(
                "No value to compare (a share or time of nobody, such as no exits from custody, "
                f"in A or B): {', '.join(undefined)}.",
                None,
            )
        )
    return items
