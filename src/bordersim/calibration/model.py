"""`Calibration`: the calibrated demand inputs that scenarios reference (DESIGN 2.2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np

from bordersim.calibration.demand import implied_first_attempts, month_lengths, smooth_daily
from bordersim.calibration.pathways import combine
from bordersim.errors import ScenarioError
from bordersim.ingest.fiscal import fiscal_year_of
from bordersim.model.dimensions import N_GROUPS, Sector


class Calibration:
    """Calibrated demand: daily first attempts, pathway shares, repeat parameters, with sources."""

    def __init__(self, artifact: dict[str, Any]) -> None:
        self.artifact = artifact
        self.version: str = artifact["version"]
        self.first_date: date = date.fromisoformat(artifact["first_date"])
        self.last_date: date = date.fromisoformat(artifact["last_date"])
        self.months: tuple[date, ...] = tuple(date.fromisoformat(m) for m in artifact["months"])
        self.sector_encounters = np.asarray(artifact["sector_encounters"], dtype=np.float64)
        self.group_mix = np.asarray(artifact["group_mix"], dtype=np.float64)
        self.repeat_share = np.asarray(artifact["repeat_share"], dtype=np.float64)
        self.apprehension_probability: float = float(artifact["apprehension_probability"])
        self.repeat_probability = np.asarray(artifact["repeat_probability"], dtype=np.float64)
        self.repeat_delay_mean_days = np.asarray(
            artifact["repeat_delay_mean_days"], dtype=np.float64
        )
        self.title8_split = np.asarray(artifact["title8_split"], dtype=np.float64)
        self.title42_share_pooled = np.asarray(artifact["title42_share_pooled"], dtype=np.float64)
        self._title42_monthly = {
            date.fromisoformat(month): np.asarray(row, dtype=np.float64)
            for month, row in zip(
                artifact["title42_share_months"], artifact["title42_share_monthly"], strict=True
            )
        }
        self.seasonal_indices = np.asarray(artifact["seasonal_indices"], dtype=np.float64)
        self.trend_per_year = np.asarray(artifact["trend_per_year"], dtype=np.float64)
        self.sources: dict[str, str] = dict(artifact["sources"])
        self._month_index = {month: index for index, month in enumerate(self.months)}

    @cached_property
    def monthly_first_attempts(self) -> np.ndarray:
        """[M, S, G] first attempts per calendar month (people)."""
        return implied_first_attempts(
            self.sector_encounters, self.group_mix, self.repeat_share, self.apprehension_probability
        )

    @cached_property
    def daily_table(self) -> np.ndarray:
        """[days of coverage, S, G] first attempts per day, from `first_date`."""
        return smooth_daily(self.monthly_first_attempts, month_lengths(self.months))

    def coverage_text(self) -> str:
        return (
            f"FY{fiscal_year_of(self.first_date)}-FY{fiscal_year_of(self.last_date)}: "
            f"{self.first_date.isoformat()} .. {self.last_date.isoformat()}"
        )

    def _day_indices(self, dates: Sequence[date]) -> np.ndarray:
        indices = np.empty(len(dates), dtype=np.int64)
        for position, day in enumerate(dates):
            if not self.first_date <= day <= self.last_date:
                raise ScenarioError(
                    f"date {day.isoformat()} is outside the calibration ({self.coverage_text()}, "
                    f"calibration {self.version})"
                )
            indices[position] = (day - self.first_date).days
        return indices

    def daily_first_attempts(self, dates: Sequence[date], sectors: Sequence[Sector]) -> np.ndarray:
        """[D, S, G] expected first attempts (people) per day; months sum to their totals."""
        rows = self._day_indices(dates)
        columns = np.array([int(sector) for sector in sectors], dtype=np.int64)
        return self.daily_table[rows][:, columns, :]

    def pathway_shares(self, dates: Sequence[date], title42_active: np.ndarray) -> np.ndarray:
        """[D, G, P] pathway shares (summing to 1 over P) under each day's regime."""
        active = np.asarray(title42_active, dtype=np.bool_)
        if active.shape != (len(dates),):
            raise ValueError(f"title42_active must have shape ({len(dates)},), got {active.shape}")
        share42 = np.zeros((len(dates), N_GROUPS))
        for position, day in enumerate(dates):
            if active[position]:
                month = day.replace(day=1)
                share42[position] = self._title42_monthly.get(month, self.title42_share_pooled)
        return combine(share42, self.title8_split)

    def monthly_encounters(self, sector: Sector) -> dict[date, float]:
        """Official Border Patrol encounters of a sector per month (month start)."""
        column = self.sector_encounters[:, int(sector)]
        return {month: float(value) for month, value in zip(self.months, column, strict=True)}

    def monthly_encounters_by_group(self) -> dict[date, np.ndarray]:
        """Border-wide encounters per month by group [G].

        Exact where the CBP file covers the month, fitted to the OHSS margins elsewhere
        (`group_mix_exact` in the artifact says which).
        """
        totals = self.sector_encounters.sum(axis=1)
        return {
            month: totals[index] * self.group_mix[index] for index, month in enumerate(self.months)
        }
