"""Custody between the targets: the course of the people held over the whole run.

The record's figures are dated, and a scenario's period can hold weeks that no target covers. A
model whose custody runs away in those weeks would still score well on the dated figures (the
2021 case held about 128,000 people at the end of May before its stations were counted from the
facilities' places; docs/validation.md), so `bordersim validate` also prints the course of
custody: its peak, the last day, the most crowded sector, and whether custody is still growing
when the run ends.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from bordersim.results.schema import RunResult

#: Custody still growing at the end: the last day holds more than the capacity, and this much
#: more than the same day a week before (a tenth: more than the noise of a weekly pattern).
WEEKLY_GROWTH = 1.1
WEEK_DAYS = 7


@dataclass(frozen=True)
class CustodyCourse:
    """Mean over the replications of the people in custody (daily means), all simulated sectors
    together unless a sector is named."""

    peak_date: dt.date
    peak_people: float
    peak_capacity: float
    end_date: dt.date
    end_people: float
    end_capacity: float
    week_before_people: float
    crowded_sector: str
    crowded_date: dt.date
    crowded_ratio: float  # people over capacity in the most crowded sector-day (inf: no capacity)

    @property
    def still_growing(self) -> bool:
        return (
            self.end_people > self.end_capacity
            and self.end_people > WEEKLY_GROWTH * self.week_before_people
        )


def custody_course(result: RunResult) -> CustodyCourse:
    held = result.metric("occupancy_mean").mean(axis=0)  # [D, S]
    capacity = result.metric("custody_capacity").mean(axis=0)
    total, total_capacity = held.sum(axis=1), capacity.sum(axis=1)
    peak = int(np.argmax(total))
    # a sector that holds people with no capacity is the most crowded (inf), not at 0 x
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(capacity > 0, held / np.where(capacity > 0, capacity, 1.0), np.inf)
    ratio = np.where(held > 0, ratio, 0.0)
    day, sector = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    week_before = max(0, len(total) - 1 - WEEK_DAYS)
    return CustodyCourse(
        peak_date=result.dates[peak],
        peak_people=float(total[peak]),
        peak_capacity=float(total_capacity[peak]),
        end_date=result.dates[-1],
        end_people=float(total[-1]),
        end_capacity=float(total_capacity[-1]),
        week_before_people=float(total[week_before]),
        crowded_sector=result.sectors[int(sector)].name,
        crowded_date=result.dates[int(day)],
        crowded_ratio=float(ratio[day, sector]),
    )


def describe(course: CustodyCourse) -> list[str]:
    """The course in words: one line, and a warning line when custody is still growing."""

    def times(people: float, capacity: float) -> str:
        return f"{people / capacity:.1f} x capacity" if capacity > 0 else "no capacity"

    if course.crowded_ratio == 0:
        crowded = "nobody held in any sector"
    elif math.isinf(course.crowded_ratio):
        crowded = (
            f"{course.crowded_sector}, holding people with no capacity, on {course.crowded_date}"
        )
    else:
        crowded = (
            f"{course.crowded_sector} at {course.crowded_ratio:.1f} x its capacity on "
            f"{course.crowded_date}"
        )
    lines = [
        f"Custody over the run (each day's mean number held, all simulated sectors, mean of "
        f"the replications; the hourly peak is the indicators'): highest "
        f"{course.peak_people:,.0f} on {course.peak_date} "
        f"({times(course.peak_people, course.peak_capacity)}), {course.end_people:,.0f} on the "
        f"last day, {course.end_date} ({times(course.end_people, course.end_capacity)}); most "
        f"crowded: {crowded}."
    ]
    if course.still_growing:
        lines.append(
            f"Custody is still growing when the run ends ({course.week_before_people:,.0f} a "
            f"week before the last day, {course.end_people:,.0f} on it): the dated targets may "
            "not cover these weeks, so read them as the model's, not the record's."
        )
    return lines
