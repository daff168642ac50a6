"""Holding and processing capacity as limits (docs/model.md, "Processing stations"), for all
sectors at once: the processing work the hour's dispatch may staff is what waits, within the
stations' hourly throughput, which crowding above holding capacity slows."""

from __future__ import annotations

import jax
import jax.numpy as jnp

Params = dict[str, jax.Array]


def station_hours(occupancy: jax.Array, day: jax.Array, p: Params) -> jax.Array:
    """Processing work (agent-hours) each sector's stations can take this hour, [S]."""
    capacity = p["custody_capacity"][day]
    over = jnp.where(capacity > 0, occupancy / jnp.maximum(capacity, 1e-9) - 1.0, 0.0)
    return p["processing_stations"][day] / (1.0 + p["crowding_slowdown"] * jnp.maximum(over, 0.0))


def processing_requests(
    occupancy: jax.Array, day: jax.Array, determination: jax.Array, intake: jax.Array, p: Params
) -> tuple[jax.Array, jax.Array]:
    """Determination and intake work to staff, [S] each: determination first within the limit,
    as in the event engine."""
    limit = station_hours(occupancy, day, p)
    det = jnp.minimum(determination, limit)
    return det, jnp.minimum(intake, jnp.maximum(limit - det, 0.0))
