"""Targets beside simulated values: the error and a score for every target of a run's period.

The simulated value is the mean over replications with its 95 % t interval
(`results.kpis.mean_interval`; a share's cut to 0 - 1, as the indicators' are). The error is
relative to the target: to its value, or to the nearest end of a range or bound the mean falls
outside (zero inside). Scores:

- ``in range``: inside a published range, or on the right side of a published bound (a count
  for part of a sector, such as one facility, is a lower bound of the sector's);
- ``within 30 %``: the error is at most 30 % (the historical-case tolerance of issue 9);
- ``miss``: anything else.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bordersim.results.kpis import Interval, format_relative_error, mean_interval
from bordersim.validation.fit_targets import is_fit_target
from bordersim.validation.measures import (
    MEASURES,
    NOT_YET,
    Measure,
    NotComparable,
    RunView,
    Scope,
    parse_scope,
)
from bordersim.validation.targets import Target

TOLERANCE = 0.30
#: The words of a unit that give a count for one facility of the sector the scope names.
ONE_FACILITY = "one facility"
#: A part of a sector that includes ports of entry, whose people are not Border Patrol's.
PORTS_OF_ENTRY = re.compile(r"\bpoes?\b|\bports? of entry\b", re.IGNORECASE)
IN_RANGE, WITHIN, MISS, NOT_COMPARED = "in range", "within 30 %", "miss", "not compared"


@dataclass(frozen=True)
class Comparison:
    target: Target
    label: str
    unit: str
    simulated: Interval | None  # None when not compared
    error: float  # relative error, NaN when not compared
    score: str
    note: str  # how the model's definition or scope differs, or why it is not compared
    evidence: str = ""  # out of sample, fitted, input or parameter source (measures.Measure),
    #                     or fitted by the operational fit (`fit_targets`)


#: Evidence of a target the operational parameters were fitted to (in sample).
OPERATIONS_FITTED = "fitted (operations)"


def applies_to(target: Target, view: RunView) -> bool:
    """Whether the target's period overlaps the run's simulated days (warm-up included)."""
    return target.end >= view.simulation_start and target.start <= view.run.dates[-1]


def relative_error(target: Target, mean: float) -> float:
    """Zero inside a range or on the right side of a bound, else relative to the nearest end."""
    if not math.isfinite(mean):
        return math.nan
    low = target.value
    high = target.high if target.bound == "range" and target.high is not None else low
    if (
        target.bound in ("range", "lower")
        and mean >= low
        and (target.bound == "lower" or mean <= high)
    ):
        return 0.0
    if target.bound == "upper" and mean <= low:
        return 0.0
    reference = high if target.bound == "range" and mean > high else low
    if reference == 0:  # infinitely far, on the side the mean lies
        return math.copysign(math.inf, mean) if mean != 0 else 0.0
    return (mean - reference) / abs(reference)


def score_of(target: Target, error: float) -> str:
    if not math.isfinite(error):
        return MISS
    if error == 0.0 and target.bound != "value":
        return IN_RANGE
    return WITHIN if abs(error) <= TOLERANCE else MISS


def _unknown_metric(metric: str) -> str:
    """Why a target of a metric bordersim does not know is not compared, with the metric meant
    where the name is a misspelling of one (a user's targets file: 'custody_populaton')."""
    import difflib

    close = difflib.get_close_matches(metric, [*MEASURES, *NOT_YET], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"bordersim measures no metric {metric!r}{hint}"


def compare(target: Target, view: RunView) -> Comparison:
    measure = MEASURES.get(target.metric)
    if measure is None:
        reason = NOT_YET.get(target.metric) or _unknown_metric(target.metric)
        return _not_compared(target, target.metric, "", reason)
    try:
        scope = parse_scope(target.scope)
        target = _bound_of_the_sector(target, measure, scope)
        values = measure.compute(view, target, scope)
    except NotComparable as why:
        return _not_compared(target, measure.label, measure.unit, str(why))
    simulated = _share_within_bounds(mean_interval(np.asarray(values, dtype=np.float64)), measure)
    if simulated.n == 0:
        return _not_compared(
            target,
            measure.label,
            measure.unit,
            "undefined in every replication (no one of the kind left or was held in the period)",
        )
    error = relative_error(target, simulated.mean)
    notes = [scope.note(), _warmup_note(target, view), measure.definition]
    return Comparison(
        target,
        measure.label,
        measure.unit,
        simulated,
        error,
        score_of(target, error),
        "; ".join(n for n in notes if n),
        OPERATIONS_FITTED if is_fit_target(target) else measure.evidence,
    )


def _share_within_bounds(interval: Interval, measure: Measure) -> Interval:
    """A share's interval cut to 0 - 1, the values it can take: with two replications the t
    interval of a share of 33 % read [-391 %, 457 %]. The mean lies within, so the cut interval
    covers it whenever the t interval does. Other units are left alone (a net flow of children
    into custody may be negative)."""
    if measure.unit != "share":
        return interval
    low = interval.low if math.isnan(interval.low) else min(max(interval.low, 0.0), 1.0)
    high = interval.high if math.isnan(interval.high) else min(max(interval.high, 0.0), 1.0)
    return dataclasses.replace(interval, low=low, high=high)


def _bound_of_the_sector(target: Target, measure: Measure, scope: Scope) -> Target:
    """A count for part of a sector (a facility the scope names in brackets, or one the unit
    names: "one facility") as a lower bound of the sector's count: a sector holds, and has places
    for, at least what one of its facilities does (a facility's design capacity of 715 is not the
    sector's capacity). `NotComparable` where the part says nothing of the sector: a count that
    mixes in ports of entry (not Border Patrol's custody), or an upper bound."""
    part = scope.detail or (ONE_FACILITY if ONE_FACILITY in target.unit.lower() else "")
    if not measure.counts or not part:
        return target
    if PORTS_OF_ENTRY.search(f"{scope.detail} {target.unit}"):
        raise NotComparable(
            f"a count for {part}, ports of entry included: the model holds Border Patrol's "
            "custody only"
        )
    if target.bound == "upper":
        raise NotComparable(f"at most a number for {part}: it says nothing of the whole sector")
    return dataclasses.replace(target, bound="lower", high=None)


def _warmup_note(target: Target, view: RunView) -> str:
    if target.start < view.run.dates[0]:
        return "in the warm-up days (simulated, not reported)"
    return ""


def _not_compared(target: Target, label: str, unit: str, reason: str) -> Comparison:
    return Comparison(target, label, unit, None, math.nan, NOT_COMPARED, reason)


def validate(targets: Iterable[Target], view: RunView) -> list[Comparison]:
    """Every target whose period overlaps the run, compared or with the reason it is not."""
    chosen = [t for t in targets if applies_to(t, view)]
    chosen.sort(key=lambda t: (t.metric, t.start, t.end, t.scope, t.row))
    return [compare(t, view) for t in chosen]


def as_frame(comparisons: list[Comparison]) -> pd.DataFrame:
    """One row per target: the target, the simulated mean and interval, error, score and notes."""
    rows = []
    for c in comparisons:
        t, sim = c.target, c.simulated
        rows.append(
            {
                "metric": t.metric,
                "label": c.label,
                "period_start": t.start,
                "period_end": t.end,
                "scope": t.scope,
                "target": t.value,
                "target_high": t.high if t.high is not None else math.nan,
                "bound": t.bound,
                "unit": c.unit,
                "simulated_mean": sim.mean if sim else math.nan,
                "simulated_low": sim.low if sim else math.nan,
                "simulated_high": sim.high if sim else math.nan,
                "replications": sim.n if sim else 0,
                # a fraction (0.12 where the table prints "+12 %"), as the header says
                "error_fraction": c.error,
                "score": c.score,
                "evidence": c.evidence,
                "confidence": t.confidence,
                "source": t.source_title,
                "source_url": t.source_url,
                "note": c.note,
                "target_note": t.note,  # the targets file's own (a caveat of the figure)
                "targets_row": t.row,
            }
        )
    return pd.DataFrame(rows)


def counts_by_score(comparisons: list[Comparison]) -> dict[str, int]:
    order = (IN_RANGE, WITHIN, MISS, NOT_COMPARED)
    return {score: sum(c.score == score for c in comparisons) for score in order}


#: The unit a time is printed with: two measures read "average time in custody", one in days
#: and one in hours, and a bare "3.00" left the reader to guess which.
TIME_UNITS = {"days": "days", "hours": "h", "minutes": "min"}


def format_simulated(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit in ("ratio", "days"):
        text = f"{value:.2f}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.1f}"
    return f"{text} {TIME_UNITS[unit]}" if unit in TIME_UNITS else text


def format_target(comparison: Comparison) -> str:
    t = comparison.target
    unit = comparison.unit

    def one(v: float) -> str:
        return format_simulated(v, unit) if unit else f"{v:g}"

    if t.bound == "range" and t.high is not None:
        return f"{one(t.value)} to {one(t.high)}"
    prefix = {"lower": "at least ", "upper": "at most "}.get(t.bound, "")
    return prefix + one(t.value)


def format_interval(comparison: Comparison) -> str:
    sim = comparison.simulated
    if sim is None:
        return ""
    text = format_simulated(sim.mean, comparison.unit)
    if math.isfinite(sim.low) and math.isfinite(sim.high):
        low = format_simulated(sim.low, comparison.unit)
        high = format_simulated(sim.high, comparison.unit)
        text += f" [{low}, {high}]"
    return text


def format_error(error: float) -> str:
    """The error in percent, signed ("+12 %"; "+inf %" or "-inf %" against a target of 0), or
    nothing where the target was not compared."""
    if math.isnan(error):
        return ""
    return format_relative_error(error, TOLERANCE)


def comparison_cells(comparison: Comparison, score: str | None = None) -> list[str]:
    """A compared target's row as `bordersim validate` and the run report show it: measure,
    period, scope, target, simulated, error, score, evidence, confidence and source; `score`
    stands in for the plain score (the console colours it)."""
    c = comparison
    return [
        c.label,
        c.target.period_text(),
        c.target.scope,
        format_target(c),
        format_interval(c),
        format_error(c.error),
        c.score if score is None else score,
        c.evidence,
        c.target.confidence,
        c.target.source_title,
    ]
