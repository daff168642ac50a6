"""Operational targets: public figures on the state of the border that a run can be compared with.

`record.csv` (shipped beside this module) is the project's operational-targets file whole: 488
sourced public figures for periods ending before 15 May 2023. The scenarios and defaults cite it
for the figures their parameters are set from. `targets.csv` holds the rows of it whose metric
bordersim can express, unchanged: custody populations and capacities by date and sector,
inspection snapshots (share held over 72 hours), time in custody, got-aways, agents off the field,
transfers, releases and book-ins. One public figure a row, with its source, confidence and note:

    metric, period_start, period_end, sector, value, unit, source_title, source_url,
    confidence, note

A stock on a date has ``period_start == period_end``. Ranges appear as two rows,
``METRIC_range_low`` and ``METRIC_range_high``; `load_targets` joins them into one `Target` with
both bounds. The ``unit`` text says whether a value is a lower bound ("more than", "at least") or
an upper bound ("fewer than", "up to"); `bound_of` reads it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bordersim.errors import DataFileError
from bordersim.input_files import MIB, read_bounded

#: The largest targets file read: the shipped record of 488 figures is 160 KiB.
MAX_TARGETS_BYTES = 16 * MIB

COLUMNS = (
    "metric",
    "period_start",
    "period_end",
    "sector",
    "value",
    "unit",
    "source_title",
    "source_url",
    "confidence",
    "note",
)
CONFIDENCES = ("high", "medium", "low")
#: The targets describe periods ending before this day (figures after it are for out-of-sample
#: checks and must not be used to tune the model).
LAST_ALLOWED_DAY = dt.date(2023, 5, 14)

LOWER_BOUND_WORDS = ("more than", "at least", "lower bound", 'over"', "(over", "surpassed", "over,")
UPPER_BOUND_WORDS = ("fewer than", "less than", "up to", "below", "upper bound")

RANGE_LOW, RANGE_HIGH = "_range_low", "_range_high"


@dataclass(frozen=True)
class Target:
    """One public figure, or a range of two, for one metric, period and scope."""

    metric: str  # without the _range_low / _range_high suffix
    start: dt.date
    end: dt.date
    scope: str  # the file's `sector` text: SWB, national, a sector, or a facility in brackets
    value: float  # the figure; for a range, its low end
    high: float | None  # a range's high end, else None
    bound: str  # "value", "lower" (at least), "upper" (at most) or "range"
    unit: str
    source_title: str
    source_url: str
    confidence: str
    note: str
    row: int  # line in the file (the low row for a range)

    @property
    def is_stock(self) -> bool:
        """A figure on one day (a stock) rather than over a period."""
        return self.start == self.end

    def describe_value(self) -> str:
        text = _number(self.value)
        if self.bound == "range" and self.high is not None:
            return f"{text} to {_number(self.high)}"
        if self.bound == "lower":
            return f"at least {text}"
        if self.bound == "upper":
            return f"at most {text}"
        return text

    def period_text(self) -> str:
        return f"{self.start}" if self.is_stock else f"{self.start} to {self.end}"


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:g}"


def bound_of(unit: str) -> str:
    """'lower', 'upper' or 'value' from a row's unit text ("more than" is a lower bound)."""
    text = unit.lower()
    if any(word in text for word in UPPER_BOUND_WORDS):
        return "upper"
    if any(word in text for word in LOWER_BOUND_WORDS):
        return "lower"
    return "value"


def default_targets_path() -> Path:
    return Path(str(resources.files("bordersim.validation").joinpath("targets.csv")))


def record_path() -> Path:
    """The whole record the targets are drawn from (`record.csv`)."""
    return Path(str(resources.files("bordersim.validation").joinpath("record.csv")))


def load_targets(path: Path | None = None) -> list[Target]:
    """Read and check a targets file (the shipped one by default); one `DataFileError` per fault.

    Checks: the header, ISO dates with start <= end and end before 15 May 2023, a finite value,
    a confidence among high/medium/low, non-empty metric, scope and source, and that every range
    has both its low and high row with low <= high.
    """
    path = path or default_targets_path()
    text = _read_text(path)
    if not text.strip():
        raise DataFileError(
            f"the file is empty; expected the header {', '.join(COLUMNS)}", where=str(path)
        )
    # newline="": a cell in quotes over two lines keeps its line break (splitlines lost it)
    # skipinitialspace: a file written by hand as "metric, period_start, ..." reads as written
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise DataFileError(
            f"{_header_text(reader.fieldnames)}; expected the header {', '.join(COLUMNS)}",
            where=f"{path}:1",
        )
    singles: list[Target] = []
    halves: dict[tuple[str, dt.date, dt.date, str], dict[str, Target]] = {}
    for row in reader:
        line = reader.line_num  # the file's line: the reader skips blank ones, so no count would do
        _check_column_count(row, f"{path}:{line}")
        target = _parse_row(_on_one_line(row), f"{path}:{line}", line)
        if target.metric.endswith((RANGE_LOW, RANGE_HIGH)):
            side = RANGE_LOW if target.metric.endswith(RANGE_LOW) else RANGE_HIGH
            base = target.metric[: -len(side)]
            key = (base, target.start, target.end, target.scope)
            if side in halves.setdefault(key, {}):
                first = halves[key][side]
                raise DataFileError(
                    f"{target.metric} for {target.scope}, {target.period_text()} appears twice "
                    f"(first on line {first.row})",
                    where=f"{path}:{line}",
                )
            halves[key][side] = target
        else:
            singles.append(target)
    return singles + [_join_range(key, sides, path) for key, sides in halves.items()]


def _header_text(columns: Sequence[str] | None) -> str:
    """The header found, each column quoted (a stray space shows), not as a Python list."""
    if not columns:
        return "line 1 is blank, not the header"
    return f"the header is {', '.join(map(repr, columns))}"


def _read_text(path: Path) -> str:
    """The file's text; one `DataFileError` naming it where it cannot be read or is not UTF-8
    (a spreadsheet saved as UTF-16, or a workbook given for the CSV)."""
    # a folder, a FIFO or a missing file is worded as every other command words it
    raw = read_bounded(path, what="targets file", error=DataFileError, limit=MAX_TARGETS_BYTES)
    try:
        # utf-8-sig: the byte-order mark a spreadsheet's "CSV UTF-8" starts with is not a header
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataFileError(
            f"not UTF-8 text (byte {err.start}); a targets file is a CSV text file with the "
            f"columns {', '.join(COLUMNS)}",
            where=str(path),
        ) from None


def _on_one_line(row: dict[str, str]) -> dict[str, str]:
    """Each cell's line breaks (a spreadsheet cell of two lines) read as spaces: "more" and
    "than" on two lines are "more than", a lower bound."""
    return {
        column: " ".join(cell.splitlines()) if isinstance(cell, str) else cell
        for column, cell in row.items()
    }


def _check_column_count(row: dict[str | None, Any], where: str) -> None:
    """Refuse a row with more or fewer cells than the header: `csv.DictReader` files cells past
    the note under the key None (they were dropped unseen) and fills a short row with None."""
    cells = sum(value is not None for key, value in row.items() if key is not None)
    cells += len(row.get(None) or ())
    if cells != len(COLUMNS):
        raise DataFileError(
            f"row has {cells} columns, expected {len(COLUMNS)} ({', '.join(COLUMNS)}); a cell "
            "holding a comma is written in double quotes",
            where=where,
        )


def _parse_row(row: dict[str, str], where: str, line: int) -> Target:
    for column in ("metric", "sector", "source_title", "confidence", "value"):
        if not (row.get(column) or "").strip():
            raise DataFileError(f"column {column!r} is empty", where=where)
    start = _date(row["period_start"], "period_start", where)
    end = _date(row["period_end"], "period_end", where)
    if end < start:
        raise DataFileError(f"period_end {end} is before period_start {start}", where=where)
    if end > LAST_ALLOWED_DAY:
        raise DataFileError(
            f"period_end {end} is after {LAST_ALLOWED_DAY}: targets stop before 15 May 2023",
            where=where,
        )
    try:
        value = float(row["value"])
    except ValueError:
        raise DataFileError(
            f"value {row['value']!r} is not a number{_what_to_type(row['value'])}", where=where
        ) from None
    if not math.isfinite(value):
        raise DataFileError(f"value {row['value']!r} is not finite", where=where)
    if value < 0:  # every metric is a count, a share, a ratio or a time
        raise DataFileError(
            f"value {row['value']!r} is negative; a target is a count, share or time", where=where
        )
    confidence = row["confidence"].strip()
    if confidence.lower() in CONFIDENCES:
        confidence = confidence.lower()  # a spreadsheet's "High" is high
    if confidence not in CONFIDENCES:
        raise DataFileError(
            f"confidence {confidence!r} is not one of {', '.join(CONFIDENCES)}", where=where
        )
    unit = row["unit"] or ""
    return Target(
        metric=row["metric"].strip(),
        start=start,
        end=end,
        scope=row["sector"].strip(),
        value=value,
        high=None,
        bound=bound_of(unit),
        unit=unit,
        source_title=row["source_title"].strip(),
        source_url=(row["source_url"] or "").strip(),
        confidence=confidence,
        note=(row["note"] or "").strip(),
        row=line,
    )


#: A number as a spreadsheet shows it, with thousands separators: 28,000 or 28 000.
GROUPED = re.compile(r"\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?")


def _what_to_type(text: str) -> str:
    """The value a cell that is not a number most likely meant, as the file takes it: a
    spreadsheet's "28,000" is 28000 and its "45%" the share 0.45; "" where none is clear."""
    text = text.strip()
    if text.endswith("%"):
        try:
            share = float(text[:-1]) / 100
        except ValueError:
            return ""
        return f"; a share is written as a fraction: {share:g}"
    if GROUPED.fullmatch(text):
        return f"; write it without separators: {text.replace(',', '').replace(' ', '')}"
    return ""


def _date(text: str, column: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DataFileError(f"{column} {text!r} is not a date (YYYY-MM-DD)", where=where) from None


def _join_range(
    key: tuple[str, dt.date, dt.date, str], sides: dict[str, Target], path: Path
) -> Target:
    base = key[0]
    if set(sides) != {RANGE_LOW, RANGE_HIGH}:
        (only,) = sides.values()
        missing = RANGE_HIGH if RANGE_LOW in sides else RANGE_LOW
        raise DataFileError(
            f"{only.metric} has no matching {base}{missing} row for the same period and sector",
            where=f"{path}:{only.row}",
        )
    low, high = sides[RANGE_LOW], sides[RANGE_HIGH]
    if high.value < low.value:
        raise DataFileError(
            f"{base}: range low {_number(low.value)} is above range high {_number(high.value)}",
            where=f"{path}:{high.row}",
        )
    confidence = max((low.confidence, high.confidence), key=CONFIDENCES.index)  # the weaker
    return Target(
        metric=base,
        start=low.start,
        end=low.end,
        scope=low.scope,
        value=low.value,
        high=high.value,
        bound="range",
        unit=low.unit,
        source_title=low.source_title,
        source_url=low.source_url,
        confidence=confidence,
        note="; ".join(n for n in (low.note, high.note) if n),
        row=low.row,
    )
