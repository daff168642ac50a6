"""The comparison of two runs: KPI differences B - A with 95 % intervals, overlaid outcomes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bordersim.model.dimensions import Task
from bordersim.report import figures
from bordersim.report.page import Page
from bordersim.report.run_report import RunRecord, add_metadata
from bordersim.results.capability import capability_gap
from bordersim.results.kpis import (
    KPI_BY_NAME,
    Interval,
    differences,
    format_interval,
    format_value,
    replication_kpis,
    summarize,
)


def compare_kpis(a: RunRecord, b: RunRecord) -> tuple[dict[str, Interval], bool]:
    """Differences B - A, and whether they are paired (same seed: common random numbers)."""
    paired = a.result.seed == b.result.seed
    return differences(
        replication_kpis(a.result), replication_kpis(b.result), paired=paired
    ), paired


def difference_rows(a: RunRecord, b: RunRecord) -> tuple[list[list[object]], bool]:
    diffs, paired = compare_kpis(a, b)
    summary_a = summarize(replication_kpis(a.result))
    summary_b = summarize(replication_kpis(b.result))
    rows: list[list[object]] = []
    for name, diff in diffs.items():
        unit = KPI_BY_NAME[name].unit
        rows.append(
            [
                KPI_BY_NAME[name].label,
                format_value(summary_a[name].mean, unit),
                format_value(summary_b[name].mean, unit),
                format_interval(diff, unit),
                "yes" if diff.excludes_zero() else "no",
            ]
        )
    return rows, paired


def write_compare_report(path: Path, a: RunRecord, b: RunRecord) -> Path:
    label_a, label_b = f"A: {a.label}", f"B: {b.label}"
    if a.label == b.label:
        label_a, label_b = f"A: {a.run_id}", f"B: {b.run_id}"
    runs = [(label_a, a.result), (label_b, b.result)]
    page = Page(f"bordersim comparison: {b.label} against {a.label}")
    rows, paired = difference_rows(a, b)
    pairing = (
        f"paired by replication (common random numbers, seed {a.result.seed})"
        if paired
        else "unpaired (different seeds): Welch intervals"
    )
    page.paragraph(
        f"A = run {a.run_id} ({a.label}), B = run {b.run_id} ({b.label}); {a.result.engine} / "
        f"{b.result.engine} engine, {a.result.n_replications} / {b.result.n_replications} "
        f"replications. Differences are B - A with 95 % t intervals, {pairing}.",
        "muted",
    )
    page.heading("Differences B - A")
    page.table(
        ["indicator", "A (mean)", "B (mean)", "B - A [95 % interval]", "interval excludes 0"], rows
    )

    page.heading("Encounters and got-aways")
    page.figure(
        figures.series(
            runs,
            [("encounters", "encounters")],
            "Encounters per day (all sectors)",
            "people per day",
        )
    )
    page.figure(
        figures.series(
            runs, [("gotaways", "got-aways")], "Got-aways per day (all sectors)", "people per day"
        )
    )
    page.heading("Custody")
    page.figure(figures.occupancy(runs))
    page.figure(figures.custody_time(runs))
    page.heading("Staff")
    page.figure(
        figures.series(
            runs,
            [("agents_field_hours", "agents in the field")],
            "Agent-hours in the field per day",
            "agent-hours per day",
        )
    )
    page.figure(
        figures.series(
            runs,
            [("agents_support_hours", "agents on support work")],
            "Agent-hours on support work per day",
            "agent-hours per day",
        )
    )
    page.figure(figures.staff_hours_by_pool_and_task(runs))
    page.heading("Departures, releases, care")
    page.figure(
        figures.series(
            runs,
            [("releases_to_street", "releases to the street")],
            "Releases to the street per day",
            "people per day",
        )
    )
    page.figure(
        figures.series(
            runs, [("unmet_care_person_days", "unmet care")], "Unmet care per day", "person-days"
        )
    )
    page.heading("Cost")
    page.figure(figures.cost(runs))

    page.heading("Capability gaps side by side")
    gap_a, gap_b = capability_gap(a.result), capability_gap(b.result)
    sectors_a = [s.name for s in a.result.sectors]
    sectors_b = [s.name for s in b.result.sectors]
    page.figure(figures.capability_gap_heatmap(gap_a, sectors_a, f"Capability gap: {label_a}"))
    page.figure(figures.capability_gap_heatmap(gap_b, sectors_b, f"Capability gap: {label_b}"))
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
        "Weeks with a gap (any task, any sector, mean over replications): "
        f"A {int(np.any(gap_a.gap.mean(axis=0) > 0, axis=(1, 2)).sum())} of "
        f"{len(gap_a.week_starts)}, B {int(np.any(gap_b.gap.mean(axis=0) > 0, axis=(1, 2)).sum())}"
        f" of {len(gap_b.week_starts)}."
    )
    for record in (a, b):
        add_metadata(page, record)
    return page.write(path)
