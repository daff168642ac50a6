"""Demand: first attempts (calibration x shocks x what-if scales x fit), Title 42, pathways."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from bordersim.compiler.frame import Fields, Frame, by_group
from bordersim.model.dimensions import GROUP_DEMOGRAPHIC, Demographic, Pathway
from bordersim.scenario import Scenario

if TYPE_CHECKING:
    from bordersim.calibration.fit_file import DemandFit


def demand_fields(frame: Frame, fit: DemandFit | None) -> Fields:
    scenario, cal, dates = frame.scenario, frame.calibration, frame.dates
    first_attempts = (
        frame.border_demand[:, frame.sector_cols, :]
        * _shock_multiplier(scenario, dates)[:, :, None]
        * _demand_scale(scenario)[None, :, None]
    )
    if fit is not None:
        first_attempts = first_attempts * fit.daily_factors(dates, list(frame.sectors))
    title42 = np.array(
        [
            scenario.policy.title42_start_date <= d <= scenario.policy.title42_end_date
            for d in dates
        ],
        dtype=np.bool_,
    )
    pathway_share = _override_title42_shares(
        np.array(cal.pathway_shares(dates, title42), dtype=float),
        title42,
        {str(k): v for k, v in scenario.policy.title42_expulsion_override_fraction.items()},
    )
    demand = scenario.demand
    return {
        "first_attempts_per_day": np.ascontiguousarray(first_attempts),
        "demand_dispersion": float(demand.dispersion),
        "diurnal_profile": np.array(demand.diurnal_profile_fraction, dtype=float)
        / float(np.sum(demand.diurnal_profile_fraction)),
        "batch_size_mean": by_group(demand.batch_size_mean_people),
        "surrender_fraction": by_group(demand.surrender_fraction),
        "title42_active": title42,
        "repeat_probability": np.array(cal.repeat_probability, dtype=float),
        "repeat_delay_mean_days": np.array(cal.repeat_delay_mean_days, dtype=float),
        "initial_repeat_share": float(demand.initial_repeat_share_fraction),
        "pathway_share": pathway_share,
    }


def _override_title42_shares(
    shares: np.ndarray, title42: np.ndarray, override: Mapping[str, float]
) -> np.ndarray:
    """Set the Title 42 expulsion share of some demographics on Title 42 days; the other
    pathways keep their proportions (or, if they had none, the remainder goes to the group's
    Title 8 default: HHS for children, release for the others)."""
    for demographic_name, fraction in override.items():
        demographic = Demographic[demographic_name.upper()]
        for g in np.flatnonzero(np.equal(GROUP_DEMOGRAPHIC, int(demographic))):
            block = shares[title42, g, :]
            others = block.copy()
            others[:, Pathway.TITLE42_EXPULSION] = 0.0
            total = others.sum(axis=1, keepdims=True)
            fallback = (
                Pathway.UAC_TRANSFER
                if demographic == Demographic.UNACCOMPANIED_CHILD
                else Pathway.RELEASE
            )
            empty = total[:, 0] <= 0
            others[empty, fallback] = 1.0
            total[empty] = 1.0
            block = others / total * (1.0 - fraction)
            block[:, Pathway.TITLE42_EXPULSION] = fraction
            shares[title42, g, :] = block
    return shares


def _demand_scale(scenario: Scenario) -> np.ndarray:
    """[S] what-if scale of first attempts: demand.scale times demand.scale_by_sector."""
    from bordersim.errors import ScenarioError

    overall = 1.0 if scenario.demand.scale is None else scenario.demand.scale
    by_sector = scenario.demand.scale_by_sector or {}
    for code in by_sector:
        if code not in scenario.sectors:
            key = f"demand.scale_by_sector.{code}"
            raise ScenarioError(
                f"{key} = {by_sector[code]}: {code} is not one of the scenario's sectors "
                f"({', '.join(scenario.sectors)})",
                where=scenario.location(key),
            )
    return np.array([overall * by_sector.get(code, 1.0) for code in scenario.sectors])


def _shock_multiplier(scenario: Scenario, dates: list[dt.date]) -> np.ndarray:
    """[D, S] product of the scenario's demand shocks."""
    multiplier = np.ones((len(dates), len(scenario.sectors)))
    for shock in scenario.demand.shocks.values():
        curve = np.ones(len(dates))
        for d, day in enumerate(dates):
            offset = (day - shock.date).days
            if -shock.ramp_days <= offset < 0:
                # linear from 1 (ramp start) to the peak on the day before the date
                step = (offset + shock.ramp_days + 1) / shock.ramp_days
                curve[d] = 1.0 + (shock.ramp_peak_multiplier - 1.0) * step
            elif 0 <= offset < shock.surge_days:
                # from the surge multiplier on the date, linearly back towards 1
                remaining = 1.0 - offset / shock.surge_days
                curve[d] = 1.0 + (shock.surge_multiplier - 1.0) * remaining
        columns = (
            range(len(scenario.sectors))
            if shock.sectors == "all"
            else [scenario.sectors.index(code) for code in shock.sectors]
        )
        for s in columns:
            multiplier[:, s] *= curve
    return multiplier
