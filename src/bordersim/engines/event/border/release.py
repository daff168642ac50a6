"""Release policies with dated triggers (docs/model.md step 6): at the start of each day, each
sector's release opens when a trigger of the policy in force held the day before."""

from __future__ import annotations

import numpy as np
from numba import njit

from bordersim.engines.event.border.layout import K_ENCOUNTERS, K_EXITS, K_OCC_MEAN
from bordersim.engines.event.border.state import Model


@njit(cache=True, inline="always")
def is_open(
    d: int, s: int, crowding: float, growing: bool, stay: float, apprehended: float, m: Model
) -> bool:
    """Whether sector `s`'s release opens on day `d`, from yesterday's crowding (occupancy over
    capacity), growth (apprehensions above exits), average stay (hours) and the scenario's
    apprehensions."""
    if m.release_share[d, s] <= 0.0:
        return False
    return (
        crowding > m.release_trigger_occupancy[d, s]
        or (growing and crowding > m.release_trigger_occupancy_growing[d, s])
        or stay > m.release_trigger_stay_hours[d, s]
        or apprehended > m.release_trigger_apprehensions[d, s]
    )


@njit(cache=True, inline="always")
def open_releases(
    d: int, m: Model, daily: np.ndarray, col: np.ndarray, valve_open: np.ndarray
) -> None:
    """Set each sector's release for day `d` (d > 0) from day `d - 1`'s results."""
    n_sec = valve_open.shape[0]
    apprehended = 0.0
    for s in range(n_sec):
        apprehended += daily[d - 1, s, col[K_ENCOUNTERS]]
    for s in range(n_sec):
        occupancy = daily[d - 1, s, col[K_OCC_MEAN]]
        capacity = m.custody_capacity[d - 1, s]
        crowding = occupancy / capacity if capacity > 0.0 else 0.0
        exits = daily[d - 1, s, col[K_EXITS]]
        stay = 24.0 * occupancy / exits if exits > 0.0 else (np.inf if occupancy > 0 else 0.0)
        growing = daily[d - 1, s, col[K_ENCOUNTERS]] > exits
        valve_open[s] = is_open(d, s, crowding, growing, stay, apprehended, m)
