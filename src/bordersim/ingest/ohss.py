"""Reader of the OHSS "CBP Encounters - USBP" workbook (KHSM series), as published.

Every sheet has the same shape: a header row whose first cell is `Fiscal\\nYear` and whose last is
`Quantity`, with the sheet's dimensions in between (`Month`, `Region`, `Sector`, `Citizenship`,
`Family Status`), then one row per combination. The reader checks each sheet's header against the
published layout and each cell against its rule, and returns all sheets as one tidy table (one row
per published row, unused dimensions empty). The years present are whatever the file holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from bordersim.errors import DataFileError
from bordersim.ingest import values
from bordersim.ingest.categories import SOUTHWEST_REGION
from bordersim.ingest.fiscal import OHSS_MONTH_LABELS, fiscal_month_start
from bordersim.ingest.parsed import OHSS_KIND, ParsedFile, file_sha256
from bordersim.input_files import MIB, check_regular_file

FISCAL_YEAR_HEADER = "Fiscal Year"  # published as "Fiscal\nYear"; compared with spaces folded
QUANTITY_HEADER = "Quantity"
#: The published workbook (FY2000 onwards, 16 sheets) is a few megabytes.
MAX_WORKBOOK_BYTES = 512 * MIB

# Sheet name -> the published dimension columns between `Fiscal Year` and `Quantity`.
SHEET_LAYOUTS: dict[str, tuple[str, ...]] = {
    "Annual Count": (),
    "Monthly Count": ("Month",),
    "Annual Citizenship": ("Citizenship",),
    "Monthly Citizenship": ("Month", "Citizenship"),
    "Annual Region": ("Region",),
    "Monthly Region": ("Month", "Region"),
    "Annual Family Status": ("Family Status",),
    "Monthly Family Status": ("Month", "Family Status"),
    "Annual Sector": ("Sector",),
    "Monthly Sector": ("Month", "Sector"),
    "Annual Rgn and Citp": ("Region", "Citizenship"),
    "Monthly Rgn and Citp": ("Month", "Region", "Citizenship"),
    "Annual Rgn and Fam Status": ("Region", "Family Status"),
    "Monthly Rgn and Fam Status": ("Month", "Region", "Family Status"),
    "Annual Rgn and Sector": ("Region", "Sector"),
    "Monthly Rgn and Sector": ("Month", "Region", "Sector"),
}

# The sheets the calibration reads: sector totals, and the demographic and nationality mix of the
# southwest border. The others are imported when present, for `data show` and cross-checks.
REQUIRED_SHEETS: tuple[str, ...] = (
    "Monthly Rgn and Sector",
    "Monthly Rgn and Fam Status",
    "Monthly Rgn and Citp",
)

DIMENSION_COLUMNS = {
    "Region": "region",
    "Sector": "sector",
    "Citizenship": "citizenship",
    "Family Status": "family_status",
}
TABLE_COLUMNS = (
    "sheet",
    "source_row",
    "fiscal_year",
    "fiscal_month",
    "month_start",
    "region",
    "sector",
    "citizenship",
    "family_status",
    "quantity",
)
_MONTH_NUMBER = {label: number for number, label in enumerate(OHSS_MONTH_LABELS, start=1)}


def read_ohss_workbook(path: str | Path) -> ParsedFile:
    """Read and validate the workbook; a `DataFileError` names file, sheet, row, value, rule."""
    import openpyxl

    path = Path(path)
    where = str(path)
    _check_file(path)
    try:
        # A file object, not the path: openpyxl refuses paths without an .xlsx suffix, and the
        # published workbook may be saved without one.
        with path.open("rb") as handle:
            records, sheets_read = _read_workbook(openpyxl, handle, where)
    except DataFileError:
        raise
    except OSError as err:
        raise DataFileError(f"cannot be read ({err.strerror})", where=where) from None
    except Exception as err:
        # openpyxl and the XML and zip readers under it raise many types on a damaged file
        # (BadZipFile, KeyError, ParseError, ValueError, TypeError, ...): all mean the same.
        raise DataFileError(
            f"not a readable .xlsx workbook (truncated or corrupt: {type(err).__name__}: "
            f"{str(err)[:80]}); expected the OHSS 'CBP Encounters - USBP' workbook as published",
            where=where,
        ) from None
    table = pd.DataFrame.from_records(records, columns=list(TABLE_COLUMNS))
    table["fiscal_month"] = table["fiscal_month"].astype("Int64")
    table["month_start"] = pd.to_datetime(table["month_start"])
    _check_unique_rows(table, where)
    _check_southwest_rows(table, where)
    return ParsedFile(
        kind=OHSS_KIND,
        path=path,
        sha256=file_sha256(path),
        table=table,
        sheets=tuple(sheets_read),
    )


def _read_workbook(
    openpyxl: Any, handle: BinaryIO, where: str
) -> tuple[list[tuple[Any, ...]], list[str]]:
    workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    try:
        present = list(workbook.sheetnames)
        missing = [name for name in REQUIRED_SHEETS if name not in present]
        if missing:
            raise DataFileError(
                f"sheet {missing[0]!r} is missing; the workbook must hold the sheets "
                f"{', '.join(repr(name) for name in REQUIRED_SHEETS)} (found: "
                f"{', '.join(repr(name[:31]) for name in present[:6]) or 'none'})",
                where=where,
            )
        records: list[tuple[Any, ...]] = []
        sheets_read: list[str] = []
        for name in present:
            if name not in SHEET_LAYOUTS:
                continue  # a sheet a newer release adds is not the model's business
            records.extend(_read_sheet(workbook[name], name, where))
            sheets_read.append(name)
    finally:
        workbook.close()
    return records, sheets_read


def _check_unique_rows(table: pd.DataFrame, where: str) -> None:
    """A combination published twice in one sheet would be counted twice: refuse it."""
    key = [
        "sheet",
        "fiscal_year",
        "fiscal_month",
        "region",
        "sector",
        "citizenship",
        "family_status",
    ]
    folded = values.folded_key(table, key)
    repeated = folded[folded.duplicated(keep=False)]
    if repeated.empty:
        return
    # the rows that repeat the first repeated combination (NaN, a blank sector, equals NaN)
    same_key = folded.apply(lambda row: row.equals(repeated.iloc[0]), axis=1)
    same = table[same_key]
    first = same.iloc[0]
    rows = ", ".join(str(row) for row in same["source_row"])
    raise DataFileError(
        f"sheet {first['sheet']!r} rows {rows}: the same fiscal year, month and category appear "
        "more than once; each combination is published once",
        where=where,
    )


def _check_southwest_rows(table: pd.DataFrame, where: str) -> None:
    """The model reads the southwest border's rows of the sheets it needs: a release that names
    the region otherwise would import and leave every later command without data."""
    for sheet in REQUIRED_SHEETS:
        regions = table.loc[table["sheet"] == sheet, "region"]
        if (regions == SOUTHWEST_REGION).any():
            continue
        found = sorted({str(region) for region in regions.dropna()})
        raise DataFileError(
            f"sheet {sheet!r} column 'Region': no {SOUTHWEST_REGION!r} rows (regions found: "
            f"{', '.join(repr(name[:30]) for name in found[:6]) or 'none'}); the model reads "
            "the southwest land border's rows",
            where=where,
        )


def _check_file(path: Path) -> None:
    size = check_regular_file(path, what="data file", error=DataFileError, limit=MAX_WORKBOOK_BYTES)
    if size == 0:
        raise DataFileError(
            "file is empty; expected the OHSS 'CBP Encounters - USBP' .xlsx workbook",
            where=str(path),
        )


def _read_sheet(sheet: Any, name: str, where: str) -> list[tuple[Any, ...]]:
    layout = SHEET_LAYOUTS[name]
    expected = (FISCAL_YEAR_HEADER, *layout, QUANTITY_HEADER)
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    found = tuple(values.normalise_header(cell) for cell in (header or ()))
    while found and found[-1] == "":
        found = found[:-1]
    if not found:  # nothing to compare: say what is there, and the header expected
        said = "is empty" if header is None else "row 1 is blank"
        raise DataFileError(
            f"sheet {name!r} {said}; expected the header {expected!r} in row 1 (the first cell "
            "is 'Fiscal\\nYear'), then one row per combination",
            where=where,
        )
    if found != expected:
        raise DataFileError(
            f"sheet {name!r} row 1: header {tuple(str(c)[:30] for c in found[:8])!r} is not the "
            f"published layout {expected!r} (the first cell is 'Fiscal\\nYear')",
            where=where,
        )
    width = len(expected)
    records: list[tuple[Any, ...]] = []
    for row_number, raw in enumerate(rows, start=2):
        cells = tuple(raw[:width]) + (None,) * max(0, width - len(raw))
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        place = f"sheet {name!r} row {row_number}"
        record: dict[str, Any] = dict.fromkeys(TABLE_COLUMNS)
        record["sheet"] = name
        record["source_row"] = row_number
        record["fiscal_year"] = values.fiscal_year(
            cells[0], where=where, place=f"{place} column 'Fiscal Year'"
        )
        for column, cell in zip(layout, cells[1:-1], strict=True):
            if column == "Month":
                text = values.normalise_header(cell)
                if text not in _MONTH_NUMBER:
                    raise DataFileError(
                        f"{place} column 'Month': value {str(cell)[:30]!r} is not a fiscal month; "
                        "months are "
                        "written '01 October' ... '12 September'",
                        where=where,
                    )
                record["fiscal_month"] = _MONTH_NUMBER[text]
                record["month_start"] = values.past_month(
                    fiscal_month_start(record["fiscal_year"], record["fiscal_month"]),
                    where=where,
                    place=f"{place} columns 'Fiscal Year' and 'Month'",
                )
            else:
                record[DIMENSION_COLUMNS[column]] = values.label(
                    cell, where=where, place=f"{place} column {column!r}"
                )
        record["quantity"] = values.count(
            cells[-1], where=where, place=f"{place} column 'Quantity'"
        )
        records.append(tuple(record[column] for column in TABLE_COLUMNS))
    if not records:
        raise DataFileError(f"sheet {name!r}: has a header but no data rows", where=where)
    return records
