"""The monthly series a forecast reads: encounters per sector, and border-wide per demographic.

They come from whatever release the store holds (`from_official`), or from a calibration artifact
(`from_calibration`, which holds the same series as imported when it was built). Months are
consecutive month starts; nothing assumes a complete last fiscal year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from bordersim.errors import BordersimError
from bordersim.ingest.fiscal import add_months, fiscal_month_of
from bordersim.ingest.parsed import OHSS_KIND
from bordersim.model.dimensions import (
    GROUP_DEMOGRAPHIC,
    N_DEMOGRAPHICS,
    SECTOR_NAMES,
    Demographic,
    Sector,
)

SECTOR_CODES: tuple[str, ...] = tuple(sector.name for sector in Sector)
TOTAL = "SWB"  # the southwest border total, as in the back-test table
DEMOGRAPHIC_CODES: tuple[str, ...] = tuple(d.name.lower() for d in Demographic)


@dataclass(frozen=True)
class MonthlySeries:
    months: tuple[date, ...]  # consecutive month starts
    sectors: np.ndarray  # [M, S] Border Patrol encounters per sector
    demographics: np.ndarray  # [M, 3] border-wide encounters per demographic group
    source: str  # where the numbers come from, for reports

    def __post_init__(self) -> None:
        if len(self.months) != self.sectors.shape[0] or self.sectors.shape[1] != len(Sector):
            raise ValueError("sectors must be [months, 9]")
        if self.demographics.shape != (len(self.months), N_DEMOGRAPHICS):
            raise ValueError("demographics must be [months, 3]")

    @property
    def fiscal_months(self) -> np.ndarray:
        return np.array([fiscal_month_of(month) for month in self.months], dtype=np.int64)

    def index_of(self, month: date, what: str) -> int:
        """Position of a month start; a month outside the data is a `BordersimError`."""
        first, last = self.months[0], self.months[-1]
        if not first <= month <= last:
            raise BordersimError(
                f"{what} {month:%Y-%m} is outside the data ({first:%Y-%m} .. {last:%Y-%m}, "
                f"{self.source})"
            )
        return (month.year - first.year) * 12 + month.month - first.month

    def month_at(self, position: int) -> date:
        return add_months(self.months[0], position)

    def group_shares(self) -> np.ndarray:
        """[M, 3] share of each demographic group in the month's border-wide encounters."""
        totals = self.demographics.sum(axis=1, keepdims=True)
        return np.divide(
            self.demographics,
            totals,
            out=np.full(self.demographics.shape, 1.0 / N_DEMOGRAPHICS),
            where=totals > 0,
        )


def from_official(connection: object) -> MonthlySeries:
    """The series of the release in the store (`calibration.inputs.read_official_monthly`)."""
    from bordersim.calibration.inputs import read_official_monthly

    data = read_official_monthly(connection)  # type: ignore[arg-type]
    # the series come from the workbook alone: the CBP CSV, if imported, is not read here
    workbook = data.source_files.get(OHSS_KIND)
    source = f"OHSS workbook {workbook}" if workbook else ""
    return MonthlySeries(
        months=data.months,
        sectors=data.sector_encounters.astype(np.float64),
        demographics=data.demographic_counts.astype(np.float64),
        source=source or "the store",
    )


def from_calibration(calibration: object) -> MonthlySeries:
    """The series a calibration artifact was built from (group mix gives the demographic split)."""
    months = tuple(calibration.months)  # type: ignore[attr-defined]
    sectors = np.asarray(calibration.sector_encounters, dtype=np.float64)  # type: ignore[attr-defined]
    mix = np.asarray(calibration.group_mix, dtype=np.float64)  # type: ignore[attr-defined]
    demographic_mix = np.zeros((len(months), N_DEMOGRAPHICS))
    for group, demographic in enumerate(GROUP_DEMOGRAPHIC):
        demographic_mix[:, int(demographic)] += mix[:, group]
    return MonthlySeries(
        months=months,
        sectors=sectors,
        demographics=sectors.sum(axis=1, keepdims=True) * demographic_mix,
        source=f"calibration {calibration.version}",  # type: ignore[attr-defined]
    )


def parse_month(text: str, what: str) -> date:
    """`YYYY-MM` (or its first day, `YYYY-MM-01`) -> the month start; anything else is a
    `BordersimError`. A later day is refused rather than taken as its month: `2023-04-15` would
    otherwise read as data up to the 15th while the whole of April is used."""
    value = text.strip()
    shown = text if text and value == text else repr(text)  # as typed, quoted if blank-edged
    try:
        if len(value) == 7:
            year, month = value.split("-")
            return date(int(year), int(month), 1)
        day = date.fromisoformat(value)
    except ValueError:
        raise BordersimError(f"{what} {shown}: is not a month (YYYY-MM)") from None
    if day.day != 1:
        raise BordersimError(
            f"{what} {shown}: is a day, not a month: give the month, {day:%Y-%m} (YYYY-MM)"
        )
    return day


def sector_label(code: str) -> str:
    if code == TOTAL:
        return "southwest border"
    return SECTOR_NAMES[Sector[code]]
