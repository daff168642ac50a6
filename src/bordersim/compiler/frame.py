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
    included), the modelled sectors and their columns among the nine southwest sectors, the
    calibration's first attempts for all nine ([D, 9, G]: by-load shares are border-wide), and
    the standing load shares ([9], `standing_load_shares`)."""

    scenario: Scenario
    calibration: CalibrationSource
    dates: list[dt.date]
    sectors: tuple[Sector, ...]
    sector_cols: list[int]
    border_demand: np.ndarray
    standing_shares: np.ndarray

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
    standing = standing_load_shares(cal, first_day)
    return Frame(scenario, cal, dates, sectors, sector_cols, border_demand, standing)


#: Days of calibrated first attempts before the simulation that set the standing load shares.
STANDING_LOAD_DAYS = 365


def standing_load_shares(cal: CalibrationSource, first_day: dt.date) -> np.ndarray:
    """[9] each southwest sector's share of the calibrated first attempts of the year before the
    simulation starts.

    Standing staff (processing coordinators) are where the load has been, not where it will go: a
    split over the scenario's own period would make the state on a day depend on how far the run
    goes (with stations split that way too, a 2023 run cut at the end of May held 10,300 people on
    10 May, the same run to the end of August 17,500). Stations follow the load day by day
    (`trailing_load_shares`). Where the calibration starts less than a year before the
    simulation, the year after its first day stands in.
    """
    last = first_day - dt.timedelta(days=1)
    start = max(cal.first_date, first_day - dt.timedelta(days=STANDING_LOAD_DAYS))
    if last < start:
        start = cal.first_date
        last = min(cal.last_date, start + dt.timedelta(days=STANDING_LOAD_DAYS - 1))
    days = [start + dt.timedelta(days=d) for d in range((last - start).days + 1)]
    demand = np.asarray(cal.daily_first_attempts(days, list(ALL_SECTORS)), dtype=float)
    load = demand.sum(axis=(0, 2))
    total = load.sum()
    return load / total if total > 0 else np.full(len(ALL_SECTORS), 1.0 / len(ALL_SECTORS))


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


def trailing_load_shares(cal: CalibrationSource, dates: list[dt.date], days: int) -> np.ndarray:
    """[D, 9] each day's southwest sector shares of the calibrated first attempts of the `days`
    days before it (the past only: a day's shares never depend on the days after it). Before the
    calibration starts there is no past: the first day's own first attempts stand in."""
    start = max(cal.first_date, dates[0] - dt.timedelta(days=days))
    span = [start + dt.timedelta(days=d) for d in range((dates[-1] - start).days + 1)]
    demand = np.asarray(cal.daily_first_attempts(span, list(ALL_SECTORS)), dtype=float)
    load = demand.sum(axis=2)
    cumulative = np.vstack([np.zeros((1, load.shape[1])), np.cumsum(load, axis=0)])
    shares = np.empty((len(dates), load.shape[1]))
    for d, day in enumerate(dates):
        end = (day - start).days
        window = cumulative[end] - cumulative[max(0, end - days)] if end > 0 else load[0]
        total = window.sum()
        shares[d] = window / total if total > 0 else 1.0 / load.shape[1]
    return shares
