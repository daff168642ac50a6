"""Capability gap per task, sector and week (DESIGN 2.10, docs/model.md "Dispatch").

The gap is the staff-hours needed to meet the targets minus the staff-hours supplied, summed over
each week (seven reported days from the first reported date; a last, shorter week is kept), then its
positive part. Supplied hours are the hours of every pool on the task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from bordersim.model.dimensions import Pool, Task
from bordersim.results.schema import RunResult


@dataclass(frozen=True)
class CapabilityGap:
    week_starts: list[dt.date]  # W
    needed: np.ndarray  # [R, W, S, T] staff-hours
    supplied: np.ndarray  # [R, W, S, T] staff-hours
    gap: np.ndarray  # [R, W, S, T] positive part of needed - supplied


#: Mean staff-hours a sector-week-task must lack to count as a gap: reports show whole
#: staff-hours, and float noise in the needed-minus-supplied sums (8e-5) is not a gap.
MIN_GAP_HOURS = 0.5


def weeks_with_a_gap(gap: CapabilityGap) -> int:
    """Weeks in which some task in some sector lacks at least MIN_GAP_HOURS, mean over
    replications."""
    mean_gap = gap.gap.mean(axis=0)  # [W, S, T]
    return int(np.any(mean_gap >= MIN_GAP_HOURS, axis=(1, 2)).sum())


def weekly_sum(daily: np.ndarray) -> np.ndarray:
    """Sum a [R, D, ...] array over consecutive blocks of seven days: [R, W, ...]."""
    n_days = daily.shape[1]
    starts = np.arange(0, n_days, 7)
    return np.add.reduceat(daily, starts, axis=1) if n_days else daily


def capability_gap(run: RunResult) -> CapabilityGap:
    needed = np.stack(
        [run.metric(f"staff_hours_needed:{t.name.lower()}") for t in Task], axis=-1
    )  # [R, D, S, T]
    supplied = np.stack(
        [
            sum(run.metric(f"staff_hours:{p.name.lower()}:{t.name.lower()}") for p in Pool)
            for t in Task
        ],
        axis=-1,
    )
    weekly_needed, weekly_supplied = weekly_sum(needed), weekly_sum(supplied)
    return CapabilityGap(
        week_starts=run.dates[::7],
        needed=weekly_needed,
        supplied=weekly_supplied,
        gap=np.maximum(weekly_needed - weekly_supplied, 0.0),
    )
