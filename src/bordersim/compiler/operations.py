"""The field, processing and departures: detection, case work, ports, ICE, shelters and HHS."""

from __future__ import annotations

import numpy as np

from bordersim.compiler.frame import Fields, Frame, by_group
from bordersim.model.dimensions import GROUP_DEMOGRAPHIC, Demographic, Pathway


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
    departures, sectors = frame.scenario.departures, frame.sectors
    return {
        "port_capacity_per_day": np.array(
            [departures.port_capacity_per_day.of(s) for s in sectors]
        ),
        "ice_beds": float(departures.ice_beds),
        "ice_initial_occupancy": float(departures.ice_initial_occupancy_beds),
        "ice_length_of_stay_days": float(departures.ice_length_of_stay_days),
        "ice_transfers_per_day": float(departures.ice_transfers_per_day),
        "shelter_intake_per_day": np.array(
            [departures.shelter_intake_per_day.of(s) for s in sectors]
        ),
        "hhs_placement_per_day": float(departures.hhs_placement_per_day),
        "hhs_beds": float(departures.hhs_beds),
        "hhs_initial_occupancy": float(departures.hhs_initial_occupancy_beds),
        "hhs_length_of_stay_days": float(departures.hhs_length_of_stay_days),
        "hhs_beds_added": _hhs_beds_added(frame),
    }


def _hhs_beds_added(frame: Frame) -> np.ndarray:
    """HHS beds added on each day by the dated additions."""
    departures = frame.scenario.departures
    added = np.zeros(frame.n_days)
    for change in departures.hhs_beds_added.values():
        last = change.end_date or frame.dates[-1]
        for d, day in enumerate(frame.dates):
            if change.start_date <= day <= last:
                added[d] += change.beds
    return added
