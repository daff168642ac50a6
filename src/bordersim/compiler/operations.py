"""The field, processing and departures: detection, case work, ports, ICE, shelters and HHS."""

from __future__ import annotations

from typing import Any

import numpy as np

from bordersim.compiler.frame import Fields, Frame, by_group
from bordersim.model.dimensions import GROUP_DEMOGRAPHIC, Demographic, Pathway
from bordersim.model.routes import LINES, ROUTES
from bordersim.scenario.schema import BedsChange


def detection_fields(frame: Frame) -> Fields:
    detection, sectors = frame.scenario.detection, frame.sectors
    return {
        "detection_p_max": np.array([detection.p_max_fraction.of(s) for s in sectors]),
        "detection_effort_scale": np.array([detection.effort_scale_agents.of(s) for s in sectors]),
        "technology_effort": np.array([detection.technology_effort_agents.of(s) for s in sectors]),
        "interdiction_patience_hours": by_group(detection.interdiction_patience_hours),
        "field_hours_per_interdiction": float(detection.field_hours_per_interdiction),
        "field_hours_per_pickup": float(detection.field_hours_per_pickup),
        "pickup_patience_hours": float(detection.pickup_patience_hours),
    }


def processing_fields(frame: Frame) -> Fields:
    processing = frame.scenario.processing
    order: list[str] = list(processing.priority_order)
    priority = [order.index(Demographic(int(d)).name.lower()) for d in GROUP_DEMOGRAPHIC]
    return {
        "intake_hours": np.array([processing.intake_hours.of(p) for p in Pathway]),
        "determination_hours": np.array([processing.determination_hours.of(p) for p in Pathway]),
        "priority_class": np.array(priority, dtype=np.int64),
        "min_custody_hours": np.array([processing.min_custody_hours.of(p) for p in Pathway]),
        "transport_hours_per_person": np.array(
            [processing.transport_hours_per_person.of(p) for p in Pathway]
        ),
    }


def departures_fields(frame: Frame) -> Fields:
    """Each route's declared parameters (model/routes.py) as the compiled model's line arrays."""
    lines, n_sectors = LINES, len(frame.sectors)
    sector_capacity = np.zeros((len(lines), n_sectors))
    national = {
        key: np.zeros(len(lines))
        for key in ("capacity", "beds", "initial_occupancy", "cost_per_person")
    }
    length_of_stay = np.full(len(lines), np.inf)
    beds_added = np.zeros((frame.n_days, len(lines)))
    for index, route in enumerate(lines):
        if route.national:
            national["capacity"][index] = float(_parameter(frame, route.capacity))
            national["beds"][index] = float(_parameter(frame, route.beds))
            national["initial_occupancy"][index] = float(_parameter(frame, route.initial_occupancy))
            length_of_stay[index] = float(_parameter(frame, route.length_of_stay))
            if route.beds_added:
                beds_added[:, index] = _beds_added(frame, _parameter(frame, route.beds_added))
        else:
            sector_capacity[index] = _by_sector(frame, route.capacity)
        if route.cost_per_person:
            national["cost_per_person"][index] = float(_parameter(frame, route.cost_per_person))
    (at_once,) = (route for route in ROUTES if not route.has_line)
    return {
        "line_sector_capacity_per_day": sector_capacity,
        "line_national_capacity_per_day": national["capacity"],
        "line_beds": national["beds"],
        "line_initial_occupancy": national["initial_occupancy"],
        "line_length_of_stay_days": length_of_stay,
        "line_beds_added": beds_added,
        "line_cost_per_person": national["cost_per_person"],
        "shelter_intake_per_day": _by_sector(frame, at_once.capacity),
    }


def _parameter(frame: Frame, path: str) -> Any:
    """The scenario's value at a dotted parameter path such as ``departures.ice_beds``."""
    value: Any = frame.scenario
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _by_sector(frame: Frame, path: str) -> np.ndarray:
    values = _parameter(frame, path)
    return np.array([values.of(s) for s in frame.sectors])


def _beds_added(frame: Frame, changes: dict[str, BedsChange]) -> np.ndarray:
    """Beds added on each day by dated additions."""
    added = np.zeros(frame.n_days)
    for change in changes.values():
        last = change.end_date or frame.dates[-1]
        for d, day in enumerate(frame.dates):
            if change.start_date <= day <= last:
                added[d] += change.beds
    return added
