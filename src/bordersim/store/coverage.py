"""What official data the store holds: coverage and totals, for `bordersim data show`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from bordersim.ingest.categories import SECTOR_BY_OHSS_NAME, SOUTHWEST_REGION, USBP_COMPONENT

SECTOR_SHEET = "Monthly Rgn and Sector"


@dataclass(frozen=True)
class SourceCoverage:
    kind: str
    file_name: str
    file_sha256: str
    rows: int
    fiscal_years: tuple[int, ...]
    first_month: date | None
    last_month: date | None
    months: int


@dataclass(frozen=True)
class Coverage:
    sources: tuple[SourceCoverage, ...]
    southwest_sectors: tuple[str, ...]  # OHSS names, as published
    family_statuses: tuple[str, ...]
    citizenships: int  # distinct OHSS citizenships on the southwest border
    cbp_demographics: tuple[str, ...]
    cbp_citizenship_groups: tuple[str, ...]
    cbp_titles: tuple[str, ...]


def _column(connection: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list:
    return [row[0] for row in connection.execute(sql, params).fetchall()]


def coverage(connection: duckdb.DuckDBPyConnection) -> Coverage:
    sources = []
    for kind, file_name, sha, rows in connection.execute(
        "SELECT kind, file_name, file_sha256, row_count FROM data_imports ORDER BY kind DESC"
    ).fetchall():
        table = "ohss_encounters" if kind == "ohss_usbp" else "cbp_swb_encounters"
        years = _column(connection, f"SELECT DISTINCT fiscal_year FROM {table} ORDER BY 1", [])
        first, last, months = connection.execute(
            f"SELECT min(month_start), max(month_start), count(DISTINCT month_start) FROM {table}"
        ).fetchone() or (None, None, 0)
        sources.append(
            SourceCoverage(kind, file_name, sha, int(rows), tuple(years), first, last, int(months))
        )
    ohss_values = (
        "SELECT DISTINCT {column} FROM ohss_encounters WHERE region = ? AND {column} IS NOT NULL "
        "ORDER BY 1"
    )
    cbp_values = "SELECT DISTINCT {column} FROM cbp_swb_encounters ORDER BY 1"
    citizenships = connection.execute(
        "SELECT count(DISTINCT citizenship) FROM ohss_encounters WHERE region = ?",
        [SOUTHWEST_REGION],
    ).fetchone()
    return Coverage(
        sources=tuple(sources),
        southwest_sectors=tuple(
            _column(connection, ohss_values.format(column="sector"), [SOUTHWEST_REGION])
        ),
        family_statuses=tuple(
            _column(connection, ohss_values.format(column="family_status"), [SOUTHWEST_REGION])
        ),
        citizenships=int(citizenships[0]) if citizenships else 0,
        cbp_demographics=tuple(_column(connection, cbp_values.format(column="demographic"), [])),
        cbp_citizenship_groups=tuple(
            _column(connection, cbp_values.format(column="citizenship_group"), [])
        ),
        cbp_titles=tuple(_column(connection, cbp_values.format(column="title_of_authority"), [])),
    )


def southwest_totals_by_sector(
    connection: duckdb.DuckDBPyConnection,
) -> dict[int, dict[str, int]]:
    """Fiscal year -> OHSS sector name -> encounters, from the "Monthly Rgn and Sector" sheet."""
    totals: dict[int, dict[str, int]] = {}
    for year, sector, quantity in connection.execute(
        "SELECT fiscal_year, sector, sum(quantity) FROM ohss_encounters "
        "WHERE sheet = ? AND region = ? GROUP BY 1, 2 ORDER BY 1, 2",
        [SECTOR_SHEET, SOUTHWEST_REGION],
    ).fetchall():
        totals.setdefault(int(year), {})[sector] = int(quantity)
    return totals


def model_sector_names() -> list[str]:
    """The OHSS names of the model's sectors, west to east."""
    return list(SECTOR_BY_OHSS_NAME)


def cbp_totals_by_year(connection: duckdb.DuckDBPyConnection) -> dict[int, dict[str, int]]:
    """Fiscal year -> {"usbp": .., "usbp_title42": .., "ofo": ..} from the CBP CSV."""
    totals: dict[int, dict[str, int]] = {}
    for year, usbp, usbp_t42, ofo in connection.execute(
        "SELECT fiscal_year, "
        "sum(encounter_count) FILTER (WHERE component = ?), "
        "sum(encounter_count) FILTER (WHERE component = ? AND title_of_authority = 'Title 42'), "
        "sum(encounter_count) FILTER (WHERE component <> ?) "
        "FROM cbp_swb_encounters GROUP BY 1 ORDER BY 1",
        [USBP_COMPONENT, USBP_COMPONENT, USBP_COMPONENT],
    ).fetchall():
        totals[int(year)] = {
            "usbp": int(usbp or 0),
            "usbp_title42": int(usbp_t42 or 0),
            "ofo": int(ofo or 0),
        }
    return totals
