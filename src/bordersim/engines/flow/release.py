"""Release policies with dated triggers (docs/model.md step 6), for all sectors at once: each
sector's release opens at the start of a day when a trigger of the policy in force held the day
before, and while open a share of expedited-removal assignments become releases and every release
takes the policy's paperwork."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from bordersim.results.schema import METRIC_INDEX

Params = dict[str, jax.Array]


def open_releases(yesterday_metrics: jax.Array, day: jax.Array, p: Params) -> jax.Array:
    """[S] 1.0 where the sector's release is open on `day`, from day - 1's metrics [S, M]."""
    yesterday = jnp.maximum(day - 1, 0)
    occupancy = yesterday_metrics[:, METRIC_INDEX["occupancy_mean"]]
    exits = yesterday_metrics[:, METRIC_INDEX["custody_exits"]]
    apprehended = yesterday_metrics[:, METRIC_INDEX["encounters"]]
    capacity = p["custody_capacity"][yesterday]
    crowding = jnp.where(capacity > 0, occupancy / jnp.maximum(capacity, 1e-9), 0.0)
    stay = jnp.where(
        exits > 0,
        24.0 * occupancy / jnp.maximum(exits, 1e-9),
        jnp.where(occupancy > 0, jnp.inf, 0.0),
    )
    opens = (
        (crowding > p["release_trigger_occupancy"][day])
        | ((apprehended > exits) & (crowding > p["release_trigger_occupancy_growing"][day]))
        | (stay > p["release_trigger_stay_hours"][day])
        | (apprehended.sum() > p["release_trigger_apprehensions"][day])
    )
    in_force = (day > 0) & (p["release_valve_enabled"] > 0) & (p["release_share"][day] > 0)
    return (opens & in_force).astype(jnp.float32)


def pathway_shares(
    share: jax.Array,
    valve_open: jax.Array,
    release_share: jax.Array,
    removal_to_release: np.ndarray,
    removal: np.ndarray,
    release_to_policy: np.ndarray,
) -> jax.Array:
    """[S, G, K] pathway shares of each sector's apprehensions: `share` [G, K] with, where the
    release is open, `release_share` [S] of the expedited-removal kinds moved to release, and
    the release kinds moved to the policy's release kinds (`release_to_policy` [K, K]; zero when
    the policy's paperwork is the release pathway's)."""
    moved = (valve_open * release_share)[:, None, None] * share[None] * removal[None, None, :]
    ordinary = release_to_policy.sum(axis=1)  # [K] release kinds with a policy twin
    relabelled = valve_open[:, None, None] * share[None] * ordinary[None, None, :]
    return (
        share[None]
        - moved
        + moved @ removal_to_release
        - relabelled
        + relabelled @ release_to_policy
    )
