"""Fiscal months map to calendar dates: FY N runs from 1 October N-1 to 30 September N."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bordersim.ingest.fiscal import (
    OHSS_MONTH_LABELS,
    add_months,
    fiscal_month_of,
    fiscal_month_start,
    fiscal_year_end,
    fiscal_year_of,
    fiscal_year_start,
)


@pytest.mark.parametrize(
    ("fiscal_year", "fiscal_month", "expected"),
    [
        (2023, 1, date(2022, 10, 1)),
        (2023, 3, date(2022, 12, 1)),
        (2023, 4, date(2023, 1, 1)),
        (2023, 8, date(2023, 5, 1)),
        (2023, 12, date(2023, 9, 1)),
        (2000, 1, date(1999, 10, 1)),
        (2031, 6, date(2031, 3, 1)),
    ],
)
def test_fiscal_month_start(fiscal_year: int, fiscal_month: int, expected: date) -> None:
    assert fiscal_month_start(fiscal_year, fiscal_month) == expected


def test_every_day_maps_back_to_its_fiscal_month() -> None:
    day = date(1999, 9, 1)
    while day < date(2026, 1, 1):
        start = fiscal_month_start(fiscal_year_of(day), fiscal_month_of(day))
        assert start == day.replace(day=1)
        day += timedelta(days=1)


def test_fiscal_year_bounds_and_labels() -> None:
    assert fiscal_year_start(2021) == date(2020, 10, 1)
    assert fiscal_year_end(2021) == date(2021, 9, 30)
    assert fiscal_year_of(date(2020, 9, 30)) == 2020
    assert fiscal_year_of(date(2020, 10, 1)) == 2021
    assert OHSS_MONTH_LABELS[0] == "01 October"
    assert OHSS_MONTH_LABELS[-1] == "12 September"
    assert add_months(date(2023, 11, 1), 3) == date(2024, 2, 1)
    assert add_months(date(2023, 1, 1), -1) == date(2022, 12, 1)


def test_month_outside_the_year_is_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.\.12"):
        fiscal_month_start(2023, 13)
