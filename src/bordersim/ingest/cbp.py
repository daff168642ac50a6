"""Reader of CBP's "Southwest Land Border Encounters" CSV, as published.

One row per fiscal year, month, component (U.S. Border Patrol or Office of Field Operations),
demographic, citizenship grouping, title of authority and encounter type, with an exact count.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from bordersim.errors import DataFileError
from bordersim.ingest import values
from bordersim.ingest.categories import OFO_COMPONENT, USBP_COMPONENT
from bordersim.ingest.fiscal import FISCAL_MONTH_ABBREVIATIONS, fiscal_month_start
from bordersim.ingest.parsed import CBP_KIND, ParsedFile, file_sha256
from bordersim.input_files import MIB, read_bounded

#: The whole published series (FY2020 onwards) is a few tens of megabytes.
MAX_CSV_BYTES = 1024 * MIB
PUBLISHED_COLUMNS: tuple[str, ...] = (
    "Fiscal Year",
    "Month Grouping",
    "Month (abbv)",
    "Component",
    "Demographic",
    "Citizenship Grouping",
    "Title of Authority",
    "Encounter Type",
    "Encounter Count",
)
# Categories the model maps onto its groups and pathways; anything else is a different file.
DEMOGRAPHICS = ("Single Adults", "FMUA", "UAC", "Accompanied Minors")
TITLES = ("Title 8", "Title 42")
COMPONENTS = (USBP_COMPONENT, OFO_COMPONENT)
TABLE_COLUMNS = (
    "source_row",
    "fiscal_year",
    "fiscal_month",
    "month_start",
    "month_grouping",
    "component",
    "demographic",
    "citizenship_group",
    "title_of_authority",
    "encounter_type",
    "encounter_count",
)
_MONTH_NUMBER = {abbv: number for number, abbv in enumerate(FISCAL_MONTH_ABBREVIATIONS, start=1)}
_KEY = [
    "fiscal_year",
    "fiscal_month",
    "component",
    "demographic",
    "citizenship_group",
    "title_of_authority",
    "encounter_type",
]


def read_cbp_csv(path: str | Path) -> ParsedFile:
    """Read and validate the CSV; raise `DataFileError` naming file, row, column, value, rule."""
    path = Path(path)
    where = str(path)
    raw = read_bounded(path, what="data file", error=DataFileError, limit=MAX_CSV_BYTES)
    text = _utf8_text(raw, where)
    if not text.strip():
        raise DataFileError(
            "file is empty; expected CBP's Southwest Land Border Encounters CSV with columns "
            + ", ".join(PUBLISHED_COLUMNS),
            where=where,
        )
    # The csv module reads the line breaks itself: a quoted field may hold one, which splitting
    # the text into lines first would remove (and split a field at a form feed).
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = tuple(values.normalise_header(cell) for cell in next(reader))
        # A spreadsheet program that saved the file may add empty columns at the right.
        while header and header[-1] == "":
            header = header[:-1]
    except csv.Error as err:
        raise DataFileError(f"row 1: not a readable CSV row ({err})", where=where) from None
    if not header:  # a blank line above the header: say so, not that the header is wrong
        raise DataFileError(
            f"row 1 is blank; expected the header in row 1: {', '.join(PUBLISHED_COLUMNS)}",
            where=where,
        )
    order = _column_order(header, where)
    records: list[tuple[Any, ...]] = []
    row_number = 1
    try:
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            records.append(_parse_row(row, row_number, where, order))
    except csv.Error as err:
        # e.g. a field longer than the csv module's limit (131,072 characters)
        raise DataFileError(
            f"row {row_number + 1}: not a readable CSV row ({err})", where=where
        ) from None
    if not records:
        raise DataFileError("has a header but no data rows", where=where)
    table = pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS))
    table["month_start"] = pd.to_datetime(table["month_start"])
    repeated = values.repeated_rows(table, _KEY)
    if not repeated.empty:
        rows = ", ".join(str(row) for row in repeated["source_row"].head(4))
        raise DataFileError(
            f"rows {rows}: the same fiscal year, month and categories appear more than once; "
            "each combination is published once",
            where=where,
        )
    return ParsedFile(kind=CBP_KIND, path=path, sha256=file_sha256(path), table=table)


def _utf8_text(raw: bytes, where: str) -> str:
    """The file's text; CBP publishes the CSV as UTF-8. Anything else is refused naming the row
    and column of the first byte that is not UTF-8, so that it can be found and the file saved
    again as UTF-8 (a spreadsheet program may save Latin-1 or UTF-16)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataFileError(
            f"is UTF-16 text, not UTF-8; save the CSV as UTF-8 ({_EXPECTED_CSV} as published)",
            where=where,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataFileError(
            f"{_place_of_byte(raw, err.start)}: byte 0x{raw[err.start]:02x} is not UTF-8 text; "
            f"save the CSV as UTF-8 ({_EXPECTED_CSV} as published)",
            where=where,
        ) from None


_EXPECTED_CSV = "CBP's Southwest Land Border Encounters CSV"


def _place_of_byte(raw: bytes, offset: int) -> str:
    """'row N column C' of the byte at `offset` (the row counted as lines, the column found by
    the header's name where the line's fields can be told apart)."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    row = raw.count(b"\n", 0, offset) + 1
    before = raw[line_start:offset].decode("utf-8", errors="replace")
    field = next(csv.reader([before + "\ufffd"]), [""])
    header_line = raw.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    header = [values.normalise_header(cell) for cell in next(csv.reader([header_line]), [])]
    index = len(field) - 1
    if row == 1 or index >= len(header):
        return f"row {row}"
    return f"row {row} column {header[index]!r}"


def _column_order(header: tuple[str, ...], where: str) -> tuple[int, ...]:
    """Where each published column is in the header: the columns are found by name, in any
    order (a file saved from a spreadsheet may move them); a missing or an extra column is
    refused, naming it, since an extra one (a region, an area of responsibility) would split
    the published rows and summing them could count another border."""
    missing = [column for column in PUBLISHED_COLUMNS if column not in header]
    extra = [column for column in header if column not in PUBLISHED_COLUMNS]
    if missing or extra or len(set(header)) != len(header):
        said = [f"missing {', '.join(missing[:2])}"] if missing else []
        said += [f"unknown {', '.join(map(repr, extra[:2]))}"] if extra else []
        folded = {column.casefold(): column for column in header}
        if missing and all(column.casefold() in folded for column in missing):
            # the same columns in other capitals, which the expected list alone does not show
            said = [
                f"its names differ in case only: {folded[missing[0].casefold()]!r} for "
                f"{missing[0]!r}"
            ]
        elif len(missing) == len(PUBLISHED_COLUMNS):
            said = []  # another file altogether: the expected columns say it
        elif not said:
            twice = next(column for column in header if header.count(column) > 1)
            said = [f"{twice!r} named twice"]
        raise DataFileError(
            "row 1: the header is not CBP's Southwest Land Border Encounters layout"
            + (f" ({'; '.join(said)})" if said else "")
            + f"; expected columns {', '.join(PUBLISHED_COLUMNS)}",
            where=where,
        )
    return tuple(header.index(column) for column in PUBLISHED_COLUMNS)


def _parse_row(
    row: list[str], row_number: int, where: str, order: tuple[int, ...]
) -> tuple[Any, ...]:
    place = f"row {row_number}"
    while len(row) > len(PUBLISHED_COLUMNS) and not row[-1].strip():
        row = row[:-1]  # the empty columns a spreadsheet program adds at the right
    if len(row) != len(PUBLISHED_COLUMNS):
        # a field holding a line break with the count wrong: a quote opened and never closed,
        # which ran the rows after it into that field
        unclosed = any("\n" in cell or "\r" in cell for cell in row)
        raise DataFileError(
            f"{place}: has {len(row)} fields, the header has {len(PUBLISHED_COLUMNS)}"
            + (
                "; a quote in it is not closed, so the rows after it run into one field"
                if unclosed
                else ""
            ),
            where=where,
        )
    cells = {column: row[index] for column, index in zip(PUBLISHED_COLUMNS, order, strict=True)}
    fiscal_year = values.fiscal_year(
        cells["Fiscal Year"], where=where, place=f"{place} column 'Fiscal Year'"
    )
    month_text = cells["Month (abbv)"].strip().upper()
    if month_text not in _MONTH_NUMBER:
        raise DataFileError(
            f"{place} column 'Month (abbv)': value {cells['Month (abbv)'][:20]!r} is not a month; "
            f"months are written {', '.join(FISCAL_MONTH_ABBREVIATIONS)}",
            where=where,
        )
    fiscal_month = _MONTH_NUMBER[month_text]
    checked = {
        column: values.label(cells[column], where=where, place=f"{place} column {column!r}")
        for column in PUBLISHED_COLUMNS[1:-1]
        if column != "Month (abbv)"
    }
    for column, allowed in (
        ("Component", COMPONENTS),
        ("Demographic", DEMOGRAPHICS),
        ("Title of Authority", TITLES),
    ):
        if checked[column] not in allowed:
            raise DataFileError(
                f"{place} column {column!r}: value {checked[column][:40]!r} is not one of "
                f"{', '.join(repr(option) for option in allowed)}",
                where=where,
            )
    encounter_count = values.count(
        cells["Encounter Count"], where=where, place=f"{place} column 'Encounter Count'"
    )
    return (
        row_number,
        fiscal_year,
        fiscal_month,
        values.past_month(
            fiscal_month_start(fiscal_year, fiscal_month),
            where=where,
            place=f"{place} columns 'Fiscal Year' and 'Month (abbv)'",
        ),
        checked["Month Grouping"],
        checked["Component"],
        checked["Demographic"],
        checked["Citizenship Grouping"],
        checked["Title of Authority"],
        checked["Encounter Type"],
        encounter_count,
    )
