"""The comparison of two runs: what differs (headline), KPI differences B - A with 95 % intervals,
and B - A per day with the interval of the mean difference as a band."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from bordersim.model.dimensions import Task
from bordersim.report import figures
from bordersim.report.headline import (
    KNOWN_LIMITS,
    comparison_headline,
    effect_size,
    format_effect,
    relative_change,
    verdict,
)
from bordersim.report.page import HeadlineItem, Page
from bordersim.report.run_report import RunRecord, add_metadata
from bordersim.results.capability import MIN_GAP_HOURS, capability_gap, weeks_with_a_gap
from bordersim.results.kpis import (
    KPI_BY_NAME,
    UNDEFINED_BECAUSE,
    Interval,
    differences,
    format_difference,
    format_value,
    replication_kpis,
    summarize,
    undefined_notes,
)
from bordersim.results.schema import RunResult
from bordersim.words import counted

DIFFERENCE_HEADER = (
    "indicator",
    "unit",
    "A (mean)",
    "B (mean)",
    "B - A [95 % interval]",
    "change",
    "effect size d",
    "interval excludes 0",
)


def has_intervals(a: RunResult, b: RunResult) -> bool:
    """Whether B - A can have an interval: two replications a side at least (paired or not)."""
    return min(a.n_replications, b.n_replications) >= 2


def single_replication_side(a: RunResult, b: RunResult) -> str:
    """Which side has one replication, the reason B - A has no interval: 'one replication a
    side' only where both have one (A of one against B of two is not one a side)."""
    if a.n_replications < 2 and b.n_replications < 2:
        return "one replication a side"
    return "A has one replication" if a.n_replications < 2 else "B has one replication"


def difference_header(a: RunResult, b: RunResult) -> tuple[str, ...]:
    """`DIFFERENCE_HEADER`, whose B - A column says so, and why, where it has no interval."""
    if has_intervals(a, b):
        return DIFFERENCE_HEADER
    no_interval = f"B - A ({single_replication_side(a, b)}: no interval)"
    return tuple(no_interval if h == "B - A [95 % interval]" else h for h in DIFFERENCE_HEADER)


@dataclass(frozen=True)
class KpiComparison:
    """The KPIs of A's and B's replications, their summaries and the differences B - A, paired
    by replication when the runs share a seed (common random numbers), computed once for the
    table, the headline and the console."""

    per_a: dict[str, np.ndarray]
    per_b: dict[str, np.ndarray]
    summary_a: dict[str, Interval]
    summary_b: dict[str, Interval]
    diffs: dict[str, Interval]
    paired: bool

    @classmethod
    def of(cls, a: RunResult, b: RunResult) -> KpiComparison:
        per_a, per_b = replication_kpis(a), replication_kpis(b)
        paired = common_random_numbers(a, b)
        if paired:
            # Only replications run by both are pairs; A, B, B - A, the change and d all describe
            # those, so that each row's columns agree (B - A is B's column minus A's).
            n = paired_replications(a, b)
            per_a = {name: values[:n] for name, values in per_a.items()}
            per_b = {name: values[:n] for name, values in per_b.items()}
            per_a, per_b = _complete_pairs(per_a, per_b)
        return cls(
            per_a,
            per_b,
            summarize(per_a),
            summarize(per_b),
            differences(per_a, per_b, paired=paired),
            paired,
        )

    def rows(self) -> list[list[str]]:
        """One row per KPI (`DIFFERENCE_HEADER`); 'practically zero' instead of 'yes' where the
        difference means nothing."""
        rows: list[list[str]] = []
        for name, diff in self.diffs.items():
            unit = KPI_BY_NAME[name].unit
            mean_a, mean_b = self.summary_a[name].mean, self.summary_b[name].mean
            rows.append(
                [
                    KPI_BY_NAME[name].label,
                    unit,
                    format_value(mean_a, unit),
                    format_value(mean_b, unit),
                    format_difference(diff, unit),
                    relative_change(diff.mean, mean_a, unit),
                    format_effect(effect_size(self.per_a[name], self.per_b[name])),
                    verdict(diff, mean_a, mean_b),
                ]
            )
        return rows

    def notes(self, a: RunResult, b: RunResult) -> list[str]:
        """Why an indicator reads n/a in A's or B's column, or over how many replications its
        values are, as a run's report says it under its table (`undefined_notes`): of each
        side's replications compared, and, paired, of the pairs that B - A and both columns
        are over where some pairs lack it."""
        if not self.paired:
            return [f"A: {note}" for note in undefined_notes(self.summary_a, a.n_replications)] + [
                f"B: {note}" for note in undefined_notes(self.summary_b, b.n_replications)
            ]
        pairs = paired_replications(a, b)
        notes: list[str] = []
        for name, diff in self.diffs.items():
            if diff.n >= pairs:
                continue
            if diff.n > 0:
                why = UNDEFINED_BECAUSE.get(name, "it has no value there")
                notes.append(
                    f"{KPI_BY_NAME[name].label}: A, B and B - A are over the {diff.n} of {pairs} "
                    f"pairs of replications in which both runs have it (in the others, in A or B, "
                    f"{why})"
                )
                continue
            for side, summary in (("A", self.summary_a), ("B", self.summary_b)):
                notes += [f"{side}: {n}" for n in undefined_notes({name: summary[name]}, pairs)]
        return notes

    def headline(self, a: RunResult, b: RunResult) -> list[HeadlineItem]:
        return comparison_headline(
            self.diffs,
            self.summary_a,
            self.summary_b,
            self.per_a,
            self.per_b,
            single_replication_side(a, b),
        )


def _complete_pairs(
    per_a: dict[str, np.ndarray], per_b: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each indicator over the pairs where both runs have a value. A share of nobody (no exits
    in one replication of A) drops out of B - A; left in A's or B's column, that column's mean
    was over other replications than B - A's, and B - A was not B minus A. An indicator with no
    such pair keeps each side's values (B - A has none: n/a)."""
    out_a, out_b = dict(per_a), dict(per_b)
    for name in per_a.keys() & per_b.keys():
        both = np.isfinite(per_a[name]) & np.isfinite(per_b[name])
        if both.any() and not both.all():
            out_a[name] = np.where(both, per_a[name], np.nan)
            out_b[name] = np.where(both, per_b[name], np.nan)
    return out_a, out_b


def common_random_numbers(a: RunResult, b: RunResult) -> bool:
    """Whether replication r of A and of B drew the same random streams, so that their
    differences pair: one seed, and one engine (the event and flow engines draw differently)."""
    return a.seed == b.seed and a.engine == b.engine


def paired_replications(a: RunResult, b: RunResult) -> int:
    """How many replications a paired comparison uses: those both runs have."""
    return min(a.n_replications, b.n_replications)


def pairing_note(a: RunResult, b: RunResult) -> str:
    """Which replications a paired comparison uses when the runs have unequal numbers ("" when
    they have as many, or are not paired)."""
    if not common_random_numbers(a, b) or a.n_replications == b.n_replications:
        return ""
    n = paired_replications(a, b)
    return (
        f"A has {counted(a.n_replications, 'replication')} and B {b.n_replications}: the "
        f"first {n} of each, the pairs, are compared"
    )


def _days(result: RunResult) -> str:
    """ "2023-04-20 to 2023-05-31, 42 days": a run's reported days."""
    return f"{result.dates[0]} to {result.dates[-1]}, {counted(len(result.dates), 'day')}"


def _sectors(result: RunResult) -> str:
    return ", ".join(s.name for s in result.sectors)


def coverage_line(a: RunResult, b: RunResult) -> str:
    """What the comparison covers: the reported days and sectors of both runs, or, where they
    differ, a warning that A's and B's values are over different periods or sectors, so that
    B - A mixes the scenarios' difference with the difference in what they cover."""
    same_days, same_sectors = a.dates == b.dates, a.sectors == b.sectors
    if same_days and same_sectors:
        return f"Both runs cover {_days(a)}; sectors {_sectors(a)}."
    differs, what = [], []
    if not same_days:
        differs.append(f"reported days (A: {_days(a)}; B: {_days(b)})")
        what.append("periods")
    if not same_sectors:
        differs.append(f"sectors (A: {_sectors(a)}; B: {_sectors(b)})")
        what.append("sectors")
    return (
        f"Not like for like: A and B cover different {' and '.join(differs)}. Their values are "
        f"totals and means over different {' and '.join(what)}, so B - A is partly that "
        "difference, not the scenarios' alone."
    )


def reading_line(a: RunResult, b: RunResult) -> str:
    """How to read the differences: with or without intervals, paired or not, what d is, and
    which replications pair (the report's and the workbench's words)."""
    pairing = (
        f"paired by replication (common random numbers, seed {a.seed})"
        if common_random_numbers(a, b)
        else "unpaired (different seeds or engines): Welch intervals"
    )
    return (
        (
            f"Differences are B - A with 95 % t intervals, {pairing}."
            if has_intervals(a, b)
            else f"Differences are B - A, {pairing}; {single_replication_side(a, b)}, so there "
            "is no interval, and nothing tells a difference from chance."
        )
        + " Effect size d is the difference over the pooled standard deviation of replications."
        + (f" {note}." if (note := pairing_note(a, b)) else "")
    )


def _labels(a: RunRecord, b: RunRecord) -> tuple[str, str]:
    if a.label == b.label:
        return f"A: {a.run_id}", f"B: {b.run_id}"
    return f"A: {a.label}", f"B: {b.label}"


def comparable_days(a: RunRecord, b: RunRecord) -> bool:
    """Daily B - A needs the same reported days and sectors on both sides."""
    return a.result.dates == b.result.dates and a.result.sectors == b.result.sectors


def write_compare_report(path: Path, a: RunRecord, b: RunRecord) -> Path:
    return compare_report_page(a, b).write(path)


def compare_report_page(a: RunRecord, b: RunRecord) -> Page:
    label_a, label_b = _labels(a, b)
    runs = [(label_a, a.result), (label_b, b.result)]
    page = Page(f"bordersim comparison: {b.label} against {a.label}")
    comparison = KpiComparison.of(a.result, b.result)
    paired = comparison.paired
    page.paragraph(
        f"A = run {a.run_id} ({a.label}), B = run {b.run_id} ({b.label}); {a.result.engine} / "
        f"{b.result.engine} engine, {a.result.n_replications} / {b.result.n_replications} "
        f"replications. {reading_line(a.result, b.result)}",
        "muted",
    )
    coverage = coverage_line(a.result, b.result)
    page.paragraph(coverage, "muted" if comparable_days(a, b) else "note")
    page.headline("What differs", comparison.headline(a.result, b.result), KNOWN_LIMITS)
    page.heading("Differences B - A")
    page.table(list(difference_header(a.result, b.result)), comparison.rows())
    for note in comparison.notes(a.result, b.result):
        page.paragraph(note, "note")
    if comparable_days(a, b):
        _daily_differences(page, a, b, paired)
    else:
        page.paragraph(
            "A and B cover different days or sectors, so daily differences are not drawn; the "
            "charts overlay the two runs instead.",
            "note",
        )
        _overlays(page, runs)
    _gap_section(page, a, b, label_a, label_b)
    page.begin_appendix("Appendix: run details")
    for side, record in (("A", a), ("B", b)):
        add_metadata(page, record, f"Run {side}: {record.run_id}")
    return page


def _daily_differences(page: Page, a: RunRecord, b: RunRecord, paired: bool) -> None:
    choices = figures.sector_choices(a.result)
    page.sector_choice([name for name, _ in choices])
    single = min(a.result.n_replications, b.result.n_replications) < 2  # no interval, no band
    page.paragraph(
        "Each chart shows B - A per day: the line is the mean difference, the band its 95 % "
        "interval"
        + (" (paired by replication)." if paired else " (Welch, unpaired).")
        + " Above zero, B has more."
        + (
            f" {single_replication_side(a.result, b.result).capitalize()}: no interval, so no band."
            if single
            else ""
        ),
        "muted",
    )

    def chart(build: Callable[[list[int]], go.Figure]) -> None:
        page.figure(*figures.per_choice(build, choices))

    def diff(
        metrics: list[tuple[str, str]],
        title: str,
        unit: str,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        chart(
            lambda s: figures.difference(
                a.result, b.result, metrics, title, unit, paired, s, transform
            )
        )

    page.heading("Encounters and got-aways")
    diff(
        [("encounters", "encounters"), ("gotaways", "got-aways")],
        "Encounters and got-aways per day: B - A",
        "people per day",
    )
    page.heading("Custody")
    diff(
        [("occupancy_mean", "mean occupancy"), ("occupancy_peak", "peak occupancy")],
        "Custody occupancy: B - A",
        "people",
    )
    label_a, label_b = _labels(a, b)
    runs = [(label_a, a.result), (label_b, b.result)]
    chart(lambda s: figures.custody_time(runs, s))
    page.heading("Staff")
    diff(
        [
            ("agents_field_hours", "agents in the field"),
            ("agents_support_hours", "agents on support work"),
        ],
        "Agent-hours per day: B - A",
        "agent-hours per day",
    )
    pools = figures.pools_with_hours(runs)
    chart(lambda s: figures.staff_hours_by_pool_and_task(runs, s, pools))
    page.heading("Departures, releases, care")
    diff(
        [("releases_to_street", "releases to the street")],
        "Releases to the street per day: B - A",
        "people per day",
    )
    diff([("unmet_care_person_days", "unmet care")], "Unmet care per day: B - A", "person-days")
    page.heading("Cost")
    diff(
        [("cost_total_dollars", "cumulative cost")],
        "Cumulative cost: B - A",
        "$ million",
        transform=lambda v: np.cumsum(v, axis=1) / 1e6,
    )


def _overlays(page: Page, runs: figures.Labelled) -> None:
    page.heading("Encounters and got-aways")
    page.figure(
        figures.series(runs, [("encounters", "encounters")], "Encounters per day", "people per day")
    )
    page.heading("Custody")
    page.figure(figures.custody_time(runs))
    page.heading("Staff")
    page.figure(figures.staff_hours_by_pool_and_task(runs))
    page.heading("Cost")
    page.figure(figures.cost(runs))


def _gap_section(page: Page, a: RunRecord, b: RunRecord, label_a: str, label_b: str) -> None:
    page.heading("Capability gaps")
    gap_a, gap_b = capability_gap(a.result), capability_gap(b.result)
    if comparable_days(a, b):
        names = [s.name for s in a.result.sectors]
        page.figure(
            *figures.per_choice(
                lambda s: figures.capability_gap_difference(gap_a, gap_b, names, s),
                figures.sector_choices(a.result),
            )
        )
    else:
        # Separate heatmaps on one shared scale, so equal colours mean equal gaps.
        zmax = float(max(gap_a.gap.mean(axis=0).max(), gap_b.gap.mean(axis=0).max())) or None
        for label, gap, result in ((label_a, gap_a, a.result), (label_b, gap_b, b.result)):
            page.figure(
                figures.capability_gap_heatmap(
                    gap, [s.name for s in result.sectors], f"Capability gap: {label}", zmax=zmax
                )
            )
    total_a = gap_a.gap.mean(axis=0).sum(axis=(0, 1))  # [T]
    total_b = gap_b.gap.mean(axis=0).sum(axis=(0, 1))
    page.table(
        ["task", "A: staff-hours", "B: staff-hours", "B - A"],
        [
            [t.name.lower(), float(total_a[t]), float(total_b[t]), float(total_b[t] - total_a[t])]
            for t in Task
        ],
    )
    page.paragraph(
        f"Weeks with a gap of at least {MIN_GAP_HOURS:g} staff-hours (any task, any sector, "
        f"mean over replications): A {weeks_with_a_gap(gap_a)} of {len(gap_a.week_starts)}, "
        f"B {weeks_with_a_gap(gap_b)} of {len(gap_b.week_starts)}."
    )
