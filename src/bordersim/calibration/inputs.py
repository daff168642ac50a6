"""The official monthly series the calibration reads from the store, as arrays in model order.

- Encounters per month and sector: OHSS "Monthly Rgn and Sector", southwest land border.
- Demographic shares per month: OHSS "Monthly Rgn and Fam Status", southwest land border.
- Nationality shares per month: OHSS "Monthly Rgn and Citp", southwest land border.
- Border Patrol encounters per month, group and title (Title 8 / Title 42): the CBP CSV.
All are border-wide except the sector totals. Months run from the first to the last month of the
sector sheet, whatever years the imported release holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np

from bordersim.errors import BordersimError, DataFileError
from bordersim.ingest.categories import (
    DEMOGRAPHIC_BY_CBP_NAME,
    DEMOGRAPHIC_BY_OHSS_FAMILY_STATUS,
    SECTOR_BY_OHSS_NAME,
    SOUTHWEST_REGION,
    USBP_COMPONENT,
    nationality_of,
)
from bordersim.ingest.fiscal import (
    OHSS_MONTH_LABELS,
    add_months,
    fiscal_month_of,
    fiscal_year_label,
    fiscal_year_of,
)
from bordersim.ingest.parsed import CBP_KIND, OHSS_KIND
from bordersim.model.dimensions import N_DEMOGRAPHICS, N_GROUPS, N_NATIONALITIES, group_index

SECTOR_SHEET = "Monthly Rgn and Sector"
FAMILY_STATUS_SHEET = "Monthly Rgn and Fam Status"
CITIZENSHIP_SHEET = "Monthly Rgn and Citp"


@dataclass(frozen=True)
class OfficialMonthly:
    """Monthly official series in model order (sectors and groups of `model.dimensions`)."""

    months: tuple[date, ...]  # consecutive month starts
    sector_encounters: np.ndarray  # [M, S] Border Patrol encounters (events)
    demographic_counts: np.ndarray  # [M, 3] border-wide, by demographic
    nationality_counts: np.ndarray  # [M, 3] border-wide, by nationality group
    cbp_months: tuple[date, ...]  # months the CBP file covers (may be empty)
    cbp_encounters: np.ndarray  # [Mc, G] Border Patrol encounters by group
    cbp_title42: np.ndarray  # [Mc, G] of which Title 42 expulsions
    source_files: dict[str, str]  # kind -> "file name (sha256 prefix)"
    vintage: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> file and months

    def mixed_vintage(self) -> str | None:
        """Why the two files look like different releases (they end on different months), or
        None. Months one file has beyond the other are not used for what that file gives."""
        ohss, cbp = self.vintage.get(OHSS_KIND), self.vintage.get(CBP_KIND)
        if not ohss or not cbp or ohss["last_month"] == cbp["last_month"]:
            return None
        return (
            f"the OHSS workbook {ohss['file']} ends {ohss['last_month'][:7]} and the CBP CSV "
            f"{cbp['file']} ends {cbp['last_month'][:7]}: files of different releases"
        )

    def fingerprint(self) -> str:
        """A hash of the numbers the calibration uses (not of file bytes or import times)."""
        digest = hashlib.sha256()
        digest.update(",".join(month.isoformat() for month in self.months).encode())
        digest.update(",".join(month.isoformat() for month in self.cbp_months).encode())
        for array in (
            self.sector_encounters,
            self.demographic_counts,
            self.nationality_counts,
            self.cbp_encounters,
            self.cbp_title42,
        ):
            digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
        return digest.hexdigest()


def read_official_monthly(connection: duckdb.DuckDBPyConnection) -> OfficialMonthly:
    """Read and check the series; a gap or an unknown southwest sector is a `DataFileError`."""
    where = _ohss_file(connection)
    months, sectors = _sector_series(connection, where)
    month_index = {month: index for index, month in enumerate(months)}
    demographic = _demographic_counts(connection, month_index, where)
    nationality = _nationality_counts(connection, month_index)
    for sheet, counts in ((FAMILY_STATUS_SHEET, demographic), (CITIZENSHIP_SHEET, nationality)):
        empty = np.flatnonzero(counts.sum(axis=1) == 0)
        if empty.size:
            raise DataFileError(
                f"sheet {sheet!r}: no southwest border rows for month "
                f"{_workbook_month(months[int(empty[0])])}; the group mix needs every month",
                where=where,
            )
    cbp_months, cbp_encounters, cbp_title42 = _read_cbp(connection)
    return OfficialMonthly(
        months=tuple(months),
        sector_encounters=sectors,
        demographic_counts=demographic,
        nationality_counts=nationality,
        cbp_months=cbp_months,
        cbp_encounters=cbp_encounters,
        cbp_title42=cbp_title42,
        source_files=_source_files(connection),
        vintage=_vintage(connection),
    )


def check_official_series(connection: duckdb.DuckDBPyConnection) -> None:
    """Refuse what `read_official_monthly` would refuse (a month missing from a sheet, a sector
    not modelled), so that an import can be undone before it replaces good data; a store with
    no OHSS sector data yet passes (a CBP file may be imported first)."""
    if _southwest_monthly(connection, SECTOR_SHEET, "sector"):
        read_official_monthly(connection)


def _southwest_monthly(
    connection: duckdb.DuckDBPyConnection, sheet: str, column: str
) -> list[tuple[Any, ...]]:
    """(month, `column`'s value, encounters) of an OHSS sheet's southwest border rows, by month
    then value; `column` is one of the table's own column names."""
    return connection.execute(
        f"SELECT month_start, {column}, sum(quantity) FROM ohss_encounters "
        "WHERE sheet = ? AND region = ? AND month_start IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
        [sheet, SOUTHWEST_REGION],
    ).fetchall()


def _sector_series(
    connection: duckdb.DuckDBPyConnection, where: str
) -> tuple[list[date], np.ndarray]:
    """The months from the first to the last, and encounters [month, sector]; no gaps."""
    sector_rows = _southwest_monthly(connection, SECTOR_SHEET, "sector")
    if not sector_rows:
        raise BordersimError(
            "the store holds no OHSS sector data (sheet 'Monthly Rgn and Sector'); "
            "run `bordersim data import` first"
        )
    months = _consecutive_months(sector_rows[0][0], sector_rows[-1][0])
    present = {row[0] for row in sector_rows}
    gaps = [month for month in months if month not in present]
    if gaps:
        raise DataFileError(
            f"sheet {SECTOR_SHEET!r}: no southwest border rows for month "
            f"{_workbook_month(gaps[0])}; "
            "the monthly series must have no gaps",
            where=where,
        )
    month_index = {month: index for index, month in enumerate(months)}
    sectors = np.zeros((len(months), len(SECTOR_BY_OHSS_NAME)), dtype=np.int64)
    for month, name, quantity in sector_rows:
        if name not in SECTOR_BY_OHSS_NAME:
            raise DataFileError(
                f"{_first_place(connection, SECTOR_SHEET, 'sector', name)}: southwest border "
                f"sector {name!r} is not one of the nine modelled sectors "
                f"({_nearest_or_all(name, SECTOR_BY_OHSS_NAME)})",
                where=where,
            )
        sectors[month_index[month], SECTOR_BY_OHSS_NAME[name]] = int(quantity)
    return months, sectors


#: The workbook's header of each table column a southwest name is checked in.
_COLUMN_HEADERS = {"sector": "Sector", "family_status": "Family Status"}


def _workbook_month(month: date) -> str:
    """A month as bordersim writes it and as the workbook labels it: "2022-12 (FY2023 '03
    December')", so that the gap can be found in the sheet."""
    label = OHSS_MONTH_LABELS[fiscal_month_of(month) - 1]
    return f"{month:%Y-%m} (FY{fiscal_year_of(month)} {label!r})"


def _first_place(connection: duckdb.DuckDBPyConnection, sheet: str, column: str, value: str) -> str:
    """Where `value` first stands in `sheet`'s southwest rows: "sheet 'S' row N column 'C'",
    so that a name the model does not know can be found and corrected in the workbook."""
    row = connection.execute(
        f"SELECT min(source_row) FROM ohss_encounters WHERE sheet = ? AND region = ? "
        f"AND {column} = ?",
        [sheet, SOUTHWEST_REGION, value],
    ).fetchone()
    place = f" row {row[0]}" if row and row[0] is not None else ""
    return f"sheet {sheet!r}{place} column {_COLUMN_HEADERS[column]!r}"


def _quoted(names: Iterable[str]) -> str:
    """Names quoted, since each published sector name holds a comma ('Tucson, AZ')."""
    return ", ".join(repr(name) for name in names)


def _nearest_or_all(name: str, names: Iterable[str]) -> str:
    """The known name nearest a misspelt one, or the first and last of them, quoted: the whole
    list of sectors would crowd the end of a one-line error out."""
    import difflib

    # compared with case folded, so that 'TUCSON, AZ' finds 'Tucson, AZ'
    known = {known_name.casefold(): known_name for known_name in names}
    nearest = difflib.get_close_matches(name.casefold(), list(known), n=1, cutoff=0.6)
    if nearest:
        return f"did you mean {known[nearest[0]]!r}?"
    listed = list(known.values())
    # the first and the last only: all of them would cut the message's end off
    return f"{listed[0]!r} ... {listed[-1]!r}" if len(listed) > 3 else _quoted(listed)


def _demographic_counts(
    connection: duckdb.DuckDBPyConnection, month_index: dict[date, int], where: str
) -> np.ndarray:
    """Encounters [month, demographic] from the family-status sheet, in the sector months."""
    demographic = np.zeros((len(month_index), N_DEMOGRAPHICS), dtype=np.int64)
    for month, status, quantity in _southwest_monthly(
        connection, FAMILY_STATUS_SHEET, "family_status"
    ):
        if status not in DEMOGRAPHIC_BY_OHSS_FAMILY_STATUS:
            raise DataFileError(
                f"{_first_place(connection, FAMILY_STATUS_SHEET, 'family_status', status)}: "
                f"family status {status!r} is not one of "
                f"{_quoted(DEMOGRAPHIC_BY_OHSS_FAMILY_STATUS)}",
                where=where,
            )
        if month in month_index:
            demographic[month_index[month], DEMOGRAPHIC_BY_OHSS_FAMILY_STATUS[status]] += quantity
    return demographic


def _nationality_counts(
    connection: duckdb.DuckDBPyConnection, month_index: dict[date, int]
) -> np.ndarray:
    """Encounters [month, nationality] from the citizenship sheet, in the sector months."""
    nationality = np.zeros((len(month_index), N_NATIONALITIES), dtype=np.int64)
    for month, citizenship, quantity in _southwest_monthly(
        connection, CITIZENSHIP_SHEET, "citizenship"
    ):
        if month in month_index:
            nationality[month_index[month], nationality_of(citizenship)] += quantity
    return nationality


def _source_files(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each imported file, by kind, as 'name (sha256 <first 12 digits>)'."""
    return {
        kind: f"{name} (sha256 {sha[:12]})"
        for kind, name, sha in connection.execute(
            "SELECT kind, file_name, file_sha256 FROM data_imports ORDER BY kind"
        ).fetchall()
    }


def _vintage(connection: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per imported file: name, sha256, the months it holds and its partial fiscal years."""
    tables = {OHSS_KIND: "ohss_encounters", CBP_KIND: "cbp_swb_encounters"}
    vintage: dict[str, dict[str, Any]] = {}
    for kind, name, sha in connection.execute(
        "SELECT kind, file_name, file_sha256 FROM data_imports ORDER BY kind"
    ).fetchall():
        table = tables[kind]
        first, last = connection.execute(
            f"SELECT min(month_start), max(month_start) FROM {table}"
        ).fetchone() or (None, None)
        months: dict[int, set[int]] = {}
        for year, month in connection.execute(
            f"SELECT DISTINCT fiscal_year, fiscal_month FROM {table} WHERE fiscal_month IS NOT NULL"
        ).fetchall():
            months.setdefault(int(year), set()).add(int(month))
        vintage[kind] = {
            "file": name,
            "sha256": sha,
            "first_month": first.isoformat() if first else None,
            "last_month": last.isoformat() if last else None,
            "partial_years": [
                fiscal_year_label(year, held)
                for year, held in sorted(months.items())
                if len(held) < 12
            ],
        }
    return vintage


def _ohss_file(connection: duckdb.DuckDBPyConnection) -> str:
    row = connection.execute(
        "SELECT file_name FROM data_imports WHERE kind = 'ohss_usbp'"
    ).fetchone()
    return str(row[0]) if row else "OHSS workbook"


def _consecutive_months(first: date, last: date) -> list[date]:
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    return months


def _read_cbp(
    connection: duckdb.DuckDBPyConnection,
) -> tuple[tuple[date, ...], np.ndarray, np.ndarray]:
    rows = connection.execute(
        "SELECT month_start, demographic, citizenship_group, title_of_authority, "
        "sum(encounter_count) FROM cbp_swb_encounters WHERE component = ? GROUP BY 1, 2, 3, 4 "
        "ORDER BY 1",
        [USBP_COMPONENT],
    ).fetchall()
    months = tuple(sorted({row[0] for row in rows}))
    index = {month: position for position, month in enumerate(months)}
    encounters = np.zeros((len(months), N_GROUPS), dtype=np.int64)
    title42 = np.zeros((len(months), N_GROUPS), dtype=np.int64)
    for month, demographic, citizenship, title, quantity in rows:
        group = group_index(DEMOGRAPHIC_BY_CBP_NAME[demographic], nationality_of(citizenship))
        encounters[index[month], group] += quantity
        if title == "Title 42":
            title42[index[month], group] += quantity
    return months, encounters, title42
