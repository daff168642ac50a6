"""Fiscal calendar of the official data: fiscal year N runs from 1 October N-1 to 30 September N.

Fiscal month 1 is October, 12 is September. The OHSS workbook writes months as `01 October` ...
`12 September`; the CBP file writes `OCT` ... `SEP`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date

FISCAL_MONTH_NAMES: tuple[str, ...] = (
    "October",
    "November",
    "December",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
)
FISCAL_MONTH_ABBREVIATIONS: tuple[str, ...] = tuple(name[:3].upper() for name in FISCAL_MONTH_NAMES)
OHSS_MONTH_LABELS: tuple[str, ...] = tuple(
    f"{number:02d} {name}" for number, name in enumerate(FISCAL_MONTH_NAMES, start=1)
)


def fiscal_month_start(fiscal_year: int, fiscal_month: int) -> date:
    """First calendar day of a fiscal month (fiscal month 1 = October of the previous year)."""
    if not 1 <= fiscal_month <= 12:
        raise ValueError(f"fiscal month must be 1..12, got {fiscal_month}")
    calendar_month = (fiscal_month + 8) % 12 + 1
    calendar_year = fiscal_year - 1 if calendar_month >= 10 else fiscal_year
    return date(calendar_year, calendar_month, 1)


def fiscal_year_of(day: date) -> int:
    """Fiscal year a calendar day belongs to."""
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_month_of(day: date) -> int:
    """Fiscal month (1 = October) a calendar day belongs to."""
    return (day.month + 2) % 12 + 1


def fiscal_year_start(fiscal_year: int) -> date:
    return date(fiscal_year - 1, 10, 1)


def fiscal_year_end(fiscal_year: int) -> date:
    return date(fiscal_year, 9, 30)


def days_in_month(month_start: date) -> int:
    return calendar.monthrange(month_start.year, month_start.month)[1]


def add_months(month_start: date, months: int) -> date:
    """The month start `months` calendar months after (or before, if negative) `month_start`."""
    index = month_start.year * 12 + month_start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year_label(fiscal_year: int, fiscal_months: Iterable[int]) -> str:
    """'FY2023', or for a year the data cover only in part 'FY2025 (partial: Oct-Nov, 2 months)'.

    A running year (CBP's "2025 (FYTD)") or a release cut mid-year holds fewer than 12 months;
    its total is not a year's total and is never shown as one.
    """
    present = sorted(set(fiscal_months))
    if len(present) == 12:
        return f"FY{fiscal_year}"
    count = f"{len(present)} month" + ("s" if len(present) != 1 else "")
    return f"FY{fiscal_year} (partial: {month_span_text(present)}, {count})"


def month_span_text(fiscal_months: list[int]) -> str:
    """Fiscal months as short runs: [1, 2, 3, 5] -> 'Oct-Dec, Feb'."""
    if not fiscal_months:
        return "no months"
    runs: list[tuple[int, int]] = []
    for month in sorted(set(fiscal_months)):
        if runs and month == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    names = [name.title() for name in FISCAL_MONTH_ABBREVIATIONS]
    return ", ".join(names[a - 1] if a == b else f"{names[a - 1]}-{names[b - 1]}" for a, b in runs)


def month_list_text(month_starts: Iterable[date], limit: int = 6) -> str:
    """Months as YYYY-MM, at most `limit` shown: '2024-12, 2025-01 (and 3 more)'."""
    months = sorted(set(month_starts))
    shown = ", ".join(f"{m:%Y-%m}" for m in months[:limit])
    return shown + (f" (and {len(months) - limit} more)" if len(months) > limit else "")
