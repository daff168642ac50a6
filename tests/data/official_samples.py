"""Small official files in the published layouts, and a summary of a store, for tests."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from bordersim.ingest import shipped_files
from bordersim.ingest.cbp import PUBLISHED_COLUMNS
from bordersim.ingest.fiscal import OHSS_MONTH_LABELS
from bordersim.store import open_store

SHIPPED_WORKBOOK, SHIPPED_CSV = shipped_files()


def write_workbook(path: Path, sheets: dict[str, list[tuple[object, ...]]]) -> Path:
    """A workbook in the published layout: sheet name -> rows (the first row is the header)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def small_sheets(years: Iterable[int] = (2023, 2024)) -> dict[str, list[tuple[object, ...]]]:
    """The three sheets the model needs, in published form, for consecutive fiscal years: every
    month of each year but the last, and October-November of the last (a release cut mid-year).
    The months run without a gap, as a release's do and as calibrate needs."""
    years = list(years)
    if years != list(range(years[0], years[0] + len(years))):
        raise ValueError(f"fiscal years must follow one another, got {years}")
    year_header = "Fiscal\nYear"
    sector: list[tuple[object, ...]] = [(year_header, "Month", "Region", "Sector", "Quantity")]
    family: list[tuple[object, ...]] = [
        (year_header, "Month", "Region", "Family Status", "Quantity")
    ]
    citizenship: list[tuple[object, ...]] = [
        (year_header, "Month", "Region", "Citizenship", "Quantity")
    ]
    for year in years:
        months = OHSS_MONTH_LABELS[:2] if year == years[-1] else OHSS_MONTH_LABELS
        for month in months:
            sector.append((year, month, "Southwest Land Border", "Tucson, AZ", 1000 + year))
            sector.append((year, month, "Southwest Land Border", "Yuma, AZ", 500))
            sector.append((year, month, "Northern Land Border", "Blaine, WA", 30))
            family.append((year, month, "Southwest Land Border", "Single Adults", 1200 + year))
            family.append((year, month, "Southwest Land Border", "Unaccompanied Children", 300))
            citizenship.append((year, month, "Southwest Land Border", "Mexico", 1000 + year))
            citizenship.append((year, month, "Southwest Land Border", "Honduras", 500))
    return {
        "Monthly Rgn and Sector": sector,
        "Monthly Rgn and Fam Status": family,
        "Monthly Rgn and Citp": citizenship,
    }


def write_csv(
    path: Path, rows: list[list[object]], header: Iterable[str] = PUBLISHED_COLUMNS
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(header))
        writer.writerows(rows)
    return path


def small_csv_rows() -> list[list[object]]:
    return [
        [
            2024,
            "FYTD",
            "OCT",
            "U.S. Border Patrol",
            "Single Adults",
            "Mexico",
            "Title 8",
            "Apprehensions",
            120,
        ],
        [
            2024,
            "FYTD",
            "OCT",
            "U.S. Border Patrol",
            "FMUA",
            "Guatemala",
            "Title 8",
            "Apprehensions",
            40,
        ],
        [
            2024,
            "FYTD",
            "NOV",
            "Office of Field Operations",
            "UAC",
            "Other",
            "Title 8",
            "Inadmissibles",
            7,
        ],
    ]


def store_snapshot(path: Path) -> dict[str, object]:
    """Everything an import may change, summarised: row counts, sums and import records."""
    with open_store(path) as connection:
        return {
            "ohss": connection.execute(
                "SELECT count(*), sum(quantity), min(fiscal_year), max(fiscal_year) "
                "FROM ohss_encounters"
            ).fetchone(),
            "cbp": connection.execute(
                "SELECT count(*), sum(encounter_count) FROM cbp_swb_encounters"
            ).fetchone(),
            "imports": connection.execute(
                "SELECT kind, file_name, file_sha256, row_count, imported_at FROM data_imports "
                "ORDER BY kind"
            ).fetchall(),
        }
