"""Cell checks shared by the readers; each failure names the place, the value and the rule."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

import pandas as pd

from bordersim.errors import DataFileError

# A fiscal year outside this range is a typo or a shifted column, not a newer release.
EARLIEST_FISCAL_YEAR = 1950
LATEST_FISCAL_YEAR = 2200


def whole_number(value: Any, *, where: str, place: str, rule: str) -> int:
    """An integer from a cell that holds a whole number (an int, a whole float, or digits)."""
    number: float | int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        # str.isdigit would accept '²' and other digits; a comma separates thousands only
        # ('1,234'), not a decimal part ('12,5' is not 125)
        if _ASCII_WHOLE.fullmatch(text) or _THOUSANDS.fullmatch(text):
            number = int(text.replace(",", ""))
        elif _LONG_WHOLE.fullmatch(text):
            number = int(text.replace(",", ""))  # refused below as too large, not as text
    if number is None:
        raise DataFileError(
            f"{place}: {_what_is(value, 'is not a whole number')}; {rule}", where=where
        )
    if abs(number) >= 10**_MAX_DIGITS:  # the store counts in 64 bits: up to 19 digits
        raise DataFileError(
            f"{place}: value {_shown(value)} is a whole number too large to count (more than "
            f"{_MAX_DIGITS} digits); {rule}",
            where=where,
        )
    return int(number)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _what_is(value: Any, fault: str) -> str:
    """What is wrong with a value: an empty cell (None from the workbook, '' or blanks from the
    CSV) is said to be empty, not shown as a Python value."""
    return "the cell is empty" if _is_empty(value) else f"value {_shown(value)} {fault}"


_MAX_DIGITS = 18
_ASCII_WHOLE = re.compile(r"-?[0-9]{1,18}")
_THOUSANDS = re.compile(r"-?[0-9]{1,3}(,[0-9]{3}){1,5}")
#: Digits (thousands separated or not) beyond `_MAX_DIGITS`: a whole number, too large to count.
_LONG_WHOLE = re.compile(r"-?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)")
#: A running fiscal year, as CBP labels it ("2025 (FYTD)": fiscal year to date).
_YEAR_TO_DATE = re.compile(r"([0-9]{4})\s*\(\s*FYTD\s*\)", re.IGNORECASE)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def count(value: Any, *, where: str, place: str) -> int:
    number = whole_number(
        value, where=where, place=place, rule="counts must be non-negative whole numbers"
    )
    if number < 0:
        raise DataFileError(
            f"{place}: value {_shown(value)} is negative; counts must be non-negative whole "
            "numbers",
            where=where,
        )
    return number


def fiscal_year(value: Any, *, where: str, place: str) -> int:
    """A fiscal year: a whole number, or a running year labelled like '2025 (FYTD)'."""
    rule = (
        f"a fiscal year is a whole number from {EARLIEST_FISCAL_YEAR} to {LATEST_FISCAL_YEAR} "
        "(a running year may read '2025 (FYTD)')"
    )
    if isinstance(value, str) and (running := _YEAR_TO_DATE.fullmatch(value.strip())):
        value = running.group(1)
    year = whole_number(value, where=where, place=place, rule=rule)
    if not EARLIEST_FISCAL_YEAR <= year <= LATEST_FISCAL_YEAR:
        raise DataFileError(f"{place}: value {_shown(value)} is out of range; {rule}", where=where)
    return year


def past_month(month_start: date, *, where: str, place: str, today: date | None = None) -> date:
    """A month that has begun: a release counts encounters that happened, so a later month is a
    mistyped year, and it would move the forecast's origin into the future."""
    this_month = (today or date.today()).replace(day=1)
    if month_start > this_month:
        raise DataFileError(
            f"{place}: {month_start:%B %Y} is after this month ({this_month:%B %Y}); a release "
            "counts months that have begun",
            where=where,
        )
    return month_start


def label(value: Any, *, where: str, place: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DataFileError(
            f"{place}: {_what_is(value, 'is not a label')}; this column holds non-empty text",
            where=where,
        )
    return value.strip()


def normalise_header(value: Any) -> str:
    """Header text with line breaks and repeated spaces folded, for comparison only."""
    return " ".join(str(value).split()) if value is not None else ""


def folded_key(table: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The `key` columns with text case-folded: a label repeated in other capitals ('Mexico',
    'MEXICO') is the same category, and calibration would add the two rows together."""
    return table[key].apply(
        lambda column: column.str.casefold() if column.dtype == object else column
    )


def repeated_rows(table: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The rows whose `key` appears more than once, compared as `folded_key` does."""
    return table[folded_key(table, key).duplicated(keep=False)]
