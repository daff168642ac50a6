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


def compile_scenario(
    scenario: Scenario, calibration: CalibrationSource | None = None, *, apply_fit: bool = True
) -> CompiledModel:
    """The scenario as numeric arrays. `calibration` defaults to the one the scenario names;
    `apply_fit=False` ignores the scenario's demand fit (what `bordersim fit` starts from)."""
    cal = calibration if calibration is not None else load_calibration_for(scenario)
    if scenario.demand.forecast is not None:
        cal = forecast_demand_for(scenario, cal)
    frame = frame_for(scenario, cal)
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
