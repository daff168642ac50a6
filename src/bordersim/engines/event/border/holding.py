"""Holding and processing capacity as limits (docs/model.md, "Processing stations").

A sector processes people at its stations: each takes one agent-hour of intake or determination
work an hour, and crowding above holding capacity slows every station. The dispatch asks staff
only for the work the stations can take, so when intake outpaces the stations the lines grow,
custody builds and time in custody lengthens, whatever the staff on duty.
"""

from __future__ import annotations

from numba import njit

from bordersim.engines.event.border.state import Model


@njit(cache=True, inline="always")
def station_hours(s: int, day: int, occupancy: float, m: Model) -> float:
    """Processing work (agent-hours) sector `s`'s stations can take this hour at `occupancy`."""
    capacity = m.custody_capacity[day, s]
    over = occupancy / capacity - 1.0 if capacity > 0.0 else 0.0
    return m.processing_stations[day, s] / (1.0 + m.crowding_slowdown * max(over, 0.0))


@njit(cache=True, inline="always")
def processing_requests(
    s: int, day: int, occupancy: float, det_work: float, intake_work: float, m: Model
) -> tuple[float, float]:
    """The determination and intake work the hour's dispatch may staff: what waits, within the
    stations (determination first, as the dispatch staffs it first)."""
    limit = station_hours(s, day, occupancy, m)
    det = min(det_work, limit)
    return det, min(intake_work, max(limit - det, 0.0))
