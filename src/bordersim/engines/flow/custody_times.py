"""Time in custody from the cumulative curves of one replication (after the hourly scan).

Within a custody kind people leave in the order they were apprehended (`queues`), so the x-th
person of a kind was apprehended in the hour where the apprehension curve reaches x and left in
the hour where the exit curve reaches x. Merging the two curves' breakpoints cuts the people into
segments of constant (apprehension hour, exit hour); each segment adds its size to the histogram
bin of its age and to the daily counts of its exit day. The cost is O(hours log hours) per sector
and kind, once per run.

Ages are whole hours (exit hour minus apprehension hour): a person apprehended and processed in
the same hour has age 0. docs/flow-engine.md compares this with continuous time.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from bordersim.engines.flow.layout import FlowLayout
from bordersim.results.schema import CUSTODY_HIST_HOURS, HIST_ALL, HIST_UAC


def _one_curve_pair(
    arrived: jax.Array,
    exited: jax.Array,
    first_hour: int,
    n_days: int,
    standard_hours: jax.Array,
    uac_standard_hours: jax.Array,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Histogram [bins]; daily hours in custody, exits over the standard and over the children's
    standard [days]."""
    n_hours = arrived.shape[0]
    hours = jnp.arange(n_hours)
    at_arrival = hours + jnp.searchsorted(exited, arrived, side="left")
    at_exit = hours + jnp.searchsorted(arrived, exited, side="right")
    values = jnp.zeros(2 * n_hours).at[at_arrival].set(arrived).at[at_exit].set(exited)
    is_arrival = jnp.zeros(2 * n_hours).at[at_arrival].set(1.0)
    arrival_hour = jnp.cumsum(is_arrival)[:-1].astype(jnp.int32)
    exit_hour = jnp.cumsum(1.0 - is_arrival)[:-1].astype(jnp.int32)
    weight = jnp.maximum(values[1:] - values[:-1], 0.0)
    counted = (exit_hour >= first_hour) & (exit_hour < n_hours)
    weight = jnp.where(counted, weight, 0.0)
    age = jnp.maximum(exit_hour - arrival_hour, 0)
    # Apprehension and exit at independent uniform times within their hours: the time in custody
    # is age + (u2 - u1), whose whole hours are age - 1 or age with probability 1/2 each.
    earlier = jnp.where(age > 0, 0.5 * weight, 0.0)
    bins = CUSTODY_HIST_HOURS
    histogram = (
        jnp.zeros(bins + 1)
        .at[jnp.minimum(age, bins)]
        .add(weight - earlier)
        .at[jnp.minimum(jnp.maximum(age - 1, 0), bins)]
        .add(earlier)
    )
    day = jnp.clip((exit_hour - first_hour) // 24, 0, n_days - 1)
    hours_total = jnp.zeros(n_days).at[day].add(weight * age)

    def beyond(standard: jax.Array) -> jax.Array:
        share = (age > standard) + 0.5 * (age == standard)
        return jnp.zeros(n_days).at[day].add(weight * share)

    over, over_uac = beyond(standard_hours), beyond(uac_standard_hours)
    return histogram, hours_total, over, over_uac


def custody_times(
    arrived_by_hour: jax.Array,
    exited_by_hour: jax.Array,
    uac_kind: jax.Array,
    custody_standard_hours: jax.Array,
    uac_standard_hours: jax.Array,
    layout: FlowLayout,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Histogram [S, 2, bins]; custody hours, exits over standard, UAC exits over standard [D, S].

    D counts reported days only.
    """
    first_hour = 24 * layout.warmup_days
    n_days = layout.n_days - layout.warmup_days

    def per_kind(arrived: jax.Array, exited: jax.Array) -> tuple[Any, ...]:
        return _one_curve_pair(
            arrived, exited, first_hour, n_days, custody_standard_hours, uac_standard_hours
        )

    # [H, S, K] -> [S, K, H]
    arrived = jnp.moveaxis(arrived_by_hour, 0, -1)
    exited = jnp.moveaxis(exited_by_hour, 0, -1)
    histogram, hours_total, over_all, over_uac = jax.vmap(jax.vmap(per_kind))(arrived, exited)
    uac = uac_kind[None, :, None]
    by_population = jnp.zeros((histogram.shape[0], 2, histogram.shape[-1]))
    by_population = by_population.at[:, HIST_ALL].set(histogram.sum(axis=1))
    by_population = by_population.at[:, HIST_UAC].set((histogram * uac).sum(axis=1))
    return (
        by_population,
        hours_total.sum(axis=1).T,
        over_all.sum(axis=1).T,
        (over_uac * uac).sum(axis=1).T,
    )
