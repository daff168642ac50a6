"""Supplies, health, cost and targets."""

from __future__ import annotations

import datetime as dt

import numpy as np

from bordersim.compiler.frame import Fields, Frame


def supplies_fields(frame: Frame) -> Fields:
    supplies = frame.scenario.supplies
    return {
        "supply_units_per_person_day": float(supplies.units_per_person_day),
        "supply_initial_stock_days": float(supplies.initial_stock_days),
        "supply_reorder_lead_days": float(supplies.reorder_lead_days),
        "supply_reorder_point_days": float(supplies.reorder_point_days),
        "supply_order_days": float(supplies.order_days),
        "supply_cost_per_unit": float(supplies.cost_per_unit_dollars),
    }


def health_fields(frame: Frame) -> Fields:
    health, sectors = frame.scenario.health, frame.sectors
    if health.enabled:
        prevalence = _prevalence(
            health.arrival_prevalence_fraction, health.arrival_prevalence_by_date, frame.dates
        )
    else:
        prevalence = np.zeros(frame.n_days)
    return {
        "health_enabled": bool(health.enabled),
        "arrival_prevalence": prevalence,
        "symptomatic_fraction": float(health.symptomatic_fraction),
        "screening_sensitivity": float(health.screening_sensitivity_fraction),
        "isolation_capacity": np.array([health.isolation_capacity_people.of(s) for s in sectors]),
        "transmission_rate_per_day": float(health.transmission_rate_per_day),
        "crowding_exponent": float(health.crowding_exponent),
        "infectious_days": float(health.infectious_days),
        "staff_infection_rate_per_day": float(health.staff_infection_rate_per_day),
        "staff_absence_days": float(health.staff_absence_days),
    }


def cost_and_target_fields(frame: Frame) -> Fields:
    scenario = frame.scenario
    return {
        "cost_per_custody_person_day": float(scenario.cost.custody_per_person_day_dollars),
        "decompression_cost_per_person": float(scenario.cost.decompression_per_person_dollars),
        "target_custody_hours": float(scenario.targets.custody_hours),
    }


def _prevalence(constant: float, points: dict[dt.date, float], dates: list[dt.date]) -> np.ndarray:
    if not points:
        return np.full(len(dates), constant)
    known = sorted(points.items())
    x = np.array([(day - dates[0]).days for day, _ in known], dtype=float)
    y = np.array([value for _, value in known])
    return np.interp(np.arange(len(dates), dtype=float), x, y)
