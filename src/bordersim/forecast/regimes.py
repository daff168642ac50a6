"""Dated policy regimes (Title 42 and others), from a small table with sources (`regimes.csv`).

A regime is in force from `first_day` to `last_day` (open if empty). As an optional regressor, a
regime enters each month as the share of its days in force. A forecaster at an origin knows the
past, and the future only as announced by then: a start announced after the origin's last day is
unknown (the regime is off), an end announced after it is unknown (the regime stays on). This keeps
the back-test free of hindsight about policy (the end of Title 42 was announced on 30 January
2023, so a forecast from March 2023 knows it; one from December 2022 does not).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np

from bordersim.ingest.fiscal import add_months, days_in_month

REGIMES_FILE = Path(__file__).with_name("regimes.csv")


@dataclass(frozen=True)
class Regime:
    name: str
    first_day: date
    last_day: date | None
    start_announced: date
    end_announced: date | None
    description: str
    source: str

    def in_force(self, day: date) -> bool:
        return self.first_day <= day and (self.last_day is None or day <= self.last_day)

    def as_known_on(self, day: date) -> Regime | None:
        """The regime as public on `day`: None if its start was not yet announced, open-ended
        if its end was not."""
        if day < self.start_announced:
            return None
        end_known = self.end_announced is not None and self.end_announced <= day
        return replace(self, last_day=self.last_day if end_known else None)


@cache
def regimes() -> tuple[Regime, ...]:
    with REGIMES_FILE.open(newline="", encoding="utf-8") as handle:
        return tuple(
            Regime(
                name=row["name"],
                first_day=date.fromisoformat(row["first_day"]),
                last_day=date.fromisoformat(row["last_day"]) if row["last_day"] else None,
                start_announced=date.fromisoformat(row["start_announced"]),
                end_announced=(
                    date.fromisoformat(row["end_announced"]) if row["end_announced"] else None
                ),
                description=row["description"],
                source=row["source"],
            )
            for row in csv.DictReader(handle)
        )


def month_fraction(regime: Regime, month: date) -> float:
    days = days_in_month(month)
    return sum(regime.in_force(month + timedelta(days=d)) for d in range(days)) / days


def regressors(months: tuple[date, ...] | list[date], known_at: date | None = None) -> np.ndarray:
    """[M, R] share of each month's days under each regime, as known at the end of month
    `known_at` (None: with hindsight)."""
    table = regimes()
    cutoff = None if known_at is None else add_months(known_at, 1) - timedelta(days=1)
    out = np.zeros((len(months), len(table)))
    for column, regime in enumerate(table):
        known = regime if cutoff is None else regime.as_known_on(cutoff)
        if known is None:
            continue
        for row, month in enumerate(months):
            out[row, column] = month_fraction(known, month)
    return out


def segment_of(month: date) -> str:
    """Title 42 segment of a target month: before, during or after (for coverage by regime)."""
    title42 = next(regime for regime in regimes() if regime.name == "title42")
    if month < title42.first_day.replace(day=1):
        return "before Title 42"
    if title42.last_day is not None and month > title42.last_day.replace(day=1):
        return "after Title 42"
    return "Title 42"
