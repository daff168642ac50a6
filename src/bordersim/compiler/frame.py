"""The frame every section compiles into: simulated days, modelled sectors, border-wide demand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from bordersim.compiler.inputs import CalibrationSource
from bordersim.errors import ScenarioError
from bordersim.model.dimensions import GROUP_DEMOGRAPHIC, N_GROUPS, Demographic, Sector
from bordersim.scenario import Scenario

ALL_SECTORS: tuple[Sector, ...] = tuple(Sector)
#: A section's compiled-model fields, by name.
Fields = dict[str, Any]


@dataclass(frozen=True)
class Frame:
    """What every section shares: the scenario, its calibration, the simulated days (warm-up
    included), the modelled sectors and their columns among the nine southwest sectors, and the
    calibration's first attempts for all nine ([D, 9, G]: by-load shares are border-wide)."""

    scenario: Scenario
    calibration: CalibrationSource
    dates: list[dt.date]
    sectors: tuple[Sector, ...]
    sector_cols: list[int]
    border_demand: np.ndarray

    @property
    def n_days(self) -> int:
        return len(self.dates)


def frame_for(scenario: Scenario, cal: CalibrationSource) -> Frame:
    """The frame of `scenario`, after checking the calibration covers its period."""
    period = scenario.period
    first_day = period.first_simulated_date
    n_days = (period.end_date - first_day).days + 1
    dates = [first_day + dt.timedelta(days=d) for d in range(n_days)]
    sectors = tuple(Sector[code] for code in scenario.sectors)
    sector_cols = [ALL_SECTORS.index(s) for s in sectors]
    _check_coverage(scenario, cal)
    border_demand = np.asarray(cal.daily_first_attempts(dates, list(ALL_SECTORS)), dtype=float)
    if border_demand.shape != (n_days, len(ALL_SECTORS), N_GROUPS):
        raise ScenarioError(
            f"calibration {cal.version!r} returned first attempts of shape "
            f"{border_demand.shape}, expected {(n_days, len(ALL_SECTORS), N_GROUPS)}",
            where=str(scenario.path),
        )
    return Frame(scenario, cal, dates, sectors, sector_cols, border_demand)


def by_group(values: object) -> np.ndarray:
    """[G] a per-demographic scenario value for each group."""
    demographics = [Demographic(int(d)) for d in GROUP_DEMOGRAPHIC]
    return np.array([values.of(d) for d in demographics])  # type: ignore[attr-defined]


def _check_coverage(scenario: Scenario, cal: CalibrationSource) -> None:
    period = scenario.period
    first = period.first_simulated_date
    if first < cal.first_date:
        key = "period.start_date"
        raise ScenarioError(
            f"{key} = {period.start_date} (simulation starts {first}, after a warm-up of "
            f"{period.warmup_days} days): before the calibration {cal.version!r} covers "
            f"({cal.first_date} to {cal.last_date})",
            where=scenario.location(key),
        )
    if period.end_date > cal.last_date:
        key = "period.end_date"
        raise ScenarioError(
            f"{key} = {period.end_date}: after the calibration {cal.version!r} covers "
            f"({cal.first_date} to {cal.last_date})",
            where=scenario.location(key),
        )
