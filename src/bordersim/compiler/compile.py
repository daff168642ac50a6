"""Compile a validated `Scenario` into the `CompiledModel` both engines read.

Demand comes from the calibration (daily first attempts per sector and group, pathway shares,
repeat parameters) times the scenario's shocks; the Title 42 regime from the policy dates; crews
from the standing staff (agents by sector, processing coordinators spread by load) plus one crew
per deployment. "By load" means in proportion to each sector's share of calibrated first attempts
over the period concerned, among the nine southwest sectors (or among a deployment's sectors), so
a scenario that models two sectors gets their share of a border-wide deployment, not all of it.

A scenario that names a demand fit (``demand.fit``, made by `bordersim fit` on the historical
scenario and inherited by its variants) has its first attempts multiplied by the fit's factor per
month, sector and group; the by-load shares above stay those of the calibration, so that fitting
demand never moves staff.

Nothing is cached: the calibration and the fit are read afresh on each call.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

from bordersim.compiler.care import cost_and_target_fields, health_fields, supplies_fields
from bordersim.compiler.custody import custody_fields
from bordersim.compiler.demand import demand_fields
from bordersim.compiler.frame import Fields, Frame, frame_for
from bordersim.compiler.inputs import (
    CalibrationSource,
    forecast_demand_for,
    load_calibration_for,
    load_fit_for,
)
from bordersim.compiler.operations import departures_fields, detection_fields, processing_fields
from bordersim.compiler.release import release_fields
from bordersim.compiler.staff import staff_fields
from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.scenario import Scenario
from bordersim.scenario.loader import key_path_text

#: The sections, each giving its own fields of the compiled model (demand is added apart: it
#: needs the demand fit).
SECTIONS = (
    detection_fields,
    processing_fields,
    custody_fields,
    release_fields,
    departures_fields,
    staff_fields,
    supplies_fields,
    health_fields,
    cost_and_target_fields,
)


class ScenarioWarning(UserWarning):
    """Something the scenario says that changes nothing in what is simulated (a deployment
    dated outside the simulated days, say a year mistyped): valid, but likely not meant."""


def compile_scenario(
    scenario: Scenario, calibration: CalibrationSource | None = None, *, apply_fit: bool = True
) -> CompiledModel:
    """The scenario as numeric arrays. `calibration` defaults to the one the scenario names;
    `apply_fit=False` ignores the scenario's demand fit (what `bordersim fit` starts from)."""
    cal = calibration if calibration is not None else load_calibration_for(scenario)
    if scenario.demand.forecast is not None:
        cal = forecast_demand_for(scenario, cal)
    frame = frame_for(scenario, cal)
    _warn_outside_the_days(scenario, frame.dates[0], frame.dates[-1])
    _warn_unused_values(scenario)
    fit = load_fit_for(scenario, cal) if apply_fit else None
    fields = _identity_fields(frame)
    for section in (lambda f: demand_fields(f, fit), *SECTIONS):
        _merge(fields, section(frame))
    sources = dict(scenario.sources)
    for key, text in cal.sources.items():
        sources[f"calibration.{key}"] = text
    if fit is not None:
        sources["demand.fit"] = (
            f"demand fit {fit.path.name}: first attempts x a factor per month, sector and group, "
            f"fitted by simulation on {fit.scenario_name!r} "
            f"({fit.document.get('engine', '?')} engine) to official monthly encounters"
        )
    model = CompiledModel(**fields, sources=sources)
    model.check()
    return model


def _dated_entries(scenario: Scenario) -> Iterator[tuple[str, dt.date, dt.date | None]]:
    """Each dated entry's key path with the first and last day it changes (None: to the end)."""
    for name, deployment in scenario.deployments.items():
        yield key_path_text(("deployments", name)), deployment.start_date, deployment.last_date
    for name, shock in scenario.demand.shocks.items():
        first = shock.date - dt.timedelta(days=shock.ramp_days)
        yield (
            key_path_text(("demand", "shocks", name)),
            first,
            shock.date + dt.timedelta(days=shock.surge_days - 1),
        )
    for name, policy in scenario.policy.release_policies.items():
        yield (
            key_path_text(("policy", "release_policies", name)),
            policy.start_date,
            policy.last_day,
        )
    for name, change in scenario.custody.capacity_changes.items():
        yield (
            key_path_text(("custody", "capacity_changes", name)),
            change.start_date,
            change.end_date,
        )
    for name, beds in scenario.departures.hhs_beds_added.items():
        yield key_path_text(("departures", "hhs_beds_added", name)), beds.start_date, beds.end_date


def _warn_outside_the_days(scenario: Scenario, first: dt.date, last: dt.date) -> None:
    """A `ScenarioWarning` for each dated entry with no day among the simulated ones."""
    for key, start, end in _dated_entries(scenario):
        if start > last or (end is not None and end < first):
            until = "on" if end is None else f"to {end}"
            warnings.warn(
                f"{scenario.location(key)}: {key} ({start} {until}) has no day in the "
                f"simulated {first} to {last}: it changes nothing",
                ScenarioWarning,
                stacklevel=3,
            )


def _warn_unused_values(scenario: Scenario) -> None:
    """A `ScenarioWarning` for values a scenario file sets that no day uses: a shock whose
    multipliers are all 1, and a constant arrival prevalence beside dated ones."""
    for name, shock in scenario.demand.shocks.items():
        if shock.ramp_peak_multiplier == 1.0 and shock.surge_multiplier == 1.0:
            key = key_path_text(("demand", "shocks", name))
            warnings.warn(
                f"{scenario.location(key)}: {key} has no multiplier other than 1 (give "
                "ramp_peak_multiplier or surge_multiplier with their days): it changes nothing",
                ScenarioWarning,
                stacklevel=3,
            )
    health = scenario.health
    constant = "health.arrival_prevalence_fraction"
    if health.enabled and health.arrival_prevalence_by_date and scenario.sets(constant):
        warnings.warn(
            f"{scenario.location(constant)}: {constant} {health.arrival_prevalence_fraction:g} "
            "is not used, since health.arrival_prevalence_by_date gives every day's prevalence "
            "(flat outside its dates): it changes nothing",
            ScenarioWarning,
            stacklevel=3,
        )


def _identity_fields(frame: Frame) -> Fields:
    scenario = frame.scenario
    return {
        "scenario_name": scenario.name,
        "scenario_hash": scenario.hash,
        "start_date": frame.dates[0],
        "warmup_days": scenario.period.warmup_days,
        "n_days": frame.n_days,
        "sectors": frame.sectors,
    }


def _merge(fields: Fields, section: Fields) -> None:
    """Add a section's fields; two sections setting one field is a bug, not a choice."""
    twice = sorted(set(fields) & set(section))
    if twice:
        raise ModelError(f"compiled-model fields set by two sections: {', '.join(twice)}")
    fields.update(section)
