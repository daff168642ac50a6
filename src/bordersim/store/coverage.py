"""What official data the store holds: coverage and totals, for `bordersim data show`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from bordersim.ingest.categories import OFO_COMPONENT, SOUTHWEST_REGION, USBP_COMPONENT
from bordersim.ingest.fiscal import add_months, fiscal_year_label, month_list_text
from bordersim.ingest.parsed import CBP_KIND

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
    fiscal_months: dict[int, tuple[int, ...]] = field(default_factory=dict)  # year -> months held

    def year_label(self, year: int) -> str:
        return fiscal_year_label(year, self.fiscal_months.get(year, tuple(range(1, 13))))

    @property
    def partial_years(self) -> tuple[int, ...]:
        return tuple(year for year, months in self.fiscal_months.items() if len(months) < 12)


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
            SourceCoverage(
                kind,
                file_name,
                sha,
                int(rows),
                tuple(years),
                first,
                last,
                int(months),
                _fiscal_months(connection, table),
            )
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


def _fiscal_months(connection: duckdb.DuckDBPyConnection, table: str) -> dict[int, tuple[int, ...]]:
    """Fiscal year -> the fiscal months a table holds (monthly rows only)."""
    held: dict[int, list[int]] = {}
    for year, month in connection.execute(
        f"SELECT DISTINCT fiscal_year, fiscal_month FROM {table} "
        "WHERE fiscal_month IS NOT NULL ORDER BY 1, 2"
    ).fetchall():
        held.setdefault(int(year), []).append(int(month))
    return {year: tuple(months) for year, months in held.items()}


def sector_months(connection: duckdb.DuckDBPyConnection) -> set[date]:
    rows = connection.execute(
        "SELECT DISTINCT month_start FROM ohss_encounters WHERE sheet = ? AND region = ? "
        "AND month_start IS NOT NULL",
        [SECTOR_SHEET, SOUTHWEST_REGION],
    ).fetchall()
    return {row[0] for row in rows}


def cbp_months(connection: duckdb.DuckDBPyConnection) -> set[date]:
    rows = connection.execute("SELECT DISTINCT month_start FROM cbp_swb_encounters").fetchall()
    return {row[0] for row in rows}


def cbp_months_missing(connection: duckdb.DuckDBPyConnection) -> set[date]:
    """The months between the CBP CSV's first and last that it has no row for at all (the
    published file has every month of its span)."""
    held = cbp_months(connection)
    if not held:
        return set()
    missing: set[date] = set()
    month = min(held)
    while month < max(held):
        if month not in held:
            missing.add(month)
        month = add_months(month, 1)
    return missing


def cbp_months_without(connection: duckdb.DuckDBPyConnection) -> dict[str, set[date]]:
    """Component -> the months the CBP CSV holds that have none of that component's rows (the
    published file has both components every month); components with no such month left out."""
    missing: dict[str, set[date]] = {}
    held = cbp_months(connection)
    for component in (USBP_COMPONENT, OFO_COMPONENT):
        present = {
            row[0]
            for row in connection.execute(
                "SELECT DISTINCT month_start FROM cbp_swb_encounters WHERE component = ?",
                [component],
            ).fetchall()
        }
        if held - present:
            missing[component] = held - present
    return missing


#: What a CBP month without a component's rows means to a user, after the month is named.
_COMPONENT_GAP_MEANING = {
    USBP_COMPONENT: "the file's Border Patrol totals leave them out, and the calibration reads "
    "no group mix for them",
    OFO_COMPONENT: "the file's Field Operations totals leave them out",
}


def release_notes(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """What a user must know about the releases the store holds: years held only in part,
    months within the CBP CSV's span that it lacks, or that lack one component's rows, and months
    that one file has and the other lacks (the calibration reads each file only where the months
    it needs are there)."""
    notes: list[str] = []
    held = coverage(connection)
    for source in held.sources:
        for year in source.partial_years:
            notes.append(f"{source.file_name}: {source.year_label(year)}, not a full year")
    cbp_file = next((source.file_name for source in held.sources if source.kind == CBP_KIND), "")
    ohss, cbp = sector_months(connection), cbp_months(connection)
    absent = cbp_months_missing(connection)
    if absent:
        notes.append(
            f"{cbp_file}: months with no rows at all, within the file's span ({min(cbp):%Y-%m} "
            f"to {max(cbp):%Y-%m}): {month_list_text(absent)}; the file's totals leave them out, "
            "and the calibration reads no group mix for them"
        )
    for component, months in cbp_months_without(connection).items():
        notes.append(
            f"{cbp_file}: months with no {component} rows, though the file has other rows for "
            f"them: {month_list_text(months)}; {_COMPONENT_GAP_MEANING[component]}"
        )
    if ohss and cbp:
        beyond = {m for m in cbp if m > max(ohss) or m < min(ohss)}
        if beyond:
            notes.append(
                f"months only in the CBP CSV (outside the OHSS workbook, {min(ohss):%Y-%m} to "
                f"{max(ohss):%Y-%m}): {month_list_text(beyond)}; the calibration does not use them"
            )
        ohss_after = {m for m in ohss if m > max(cbp)}
        if ohss_after:
            notes.append(
                f"months only in the OHSS workbook (after the CBP CSV ends, {max(cbp):%Y-%m}): "
                f"{month_list_text(ohss_after)}; their group mix is fitted, not read"
            )
    return notes
