"""The policy regime by date: Title 42 expulsions or ordinary Title 8 processing."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from bordersim.ingest.fiscal import days_in_month

# Source: bordersim/official/README.md and the CBP CSV (the switch shows in May 2023); the CDC
# order took effect on 21 March 2020 and expired at the end of 11 May 2023.
TITLE42_FIRST_DAY = date(2020, 3, 21)
TITLE42_LAST_DAY = date(2023, 5, 11)

TITLE8 = 0
TITLE42 = 1


def title42_in_force(day: date) -> bool:
    return TITLE42_FIRST_DAY <= day <= TITLE42_LAST_DAY


def title42_fraction(month_start: date) -> float:
    """Share of the month's days on which Title 42 was in force."""
    days = days_in_month(month_start)
    active = sum(title42_in_force(month_start + timedelta(days=offset)) for offset in range(days))
    return active / days


def title42_fractions(months: tuple[date, ...] | list[date]) -> np.ndarray:
    return np.array([title42_fraction(month) for month in months], dtype=np.float64)
