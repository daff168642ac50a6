"""Who is past their minimum time in custody (docs/model.md step 8), from hourly counts.

The flow engine keeps cumulative apprehensions per hour in a ring (`recent_arrived`). A minimum
stay of `m` hours lets a person apprehended at time `t` leave from `t + m`. With apprehensions
spread evenly within an hour, the people past their minimum by the end of hour `h` are those
apprehended by the end of hour `h - floor(m)`, less the share `m - floor(m)` of the apprehensions
of that last hour: a linear mix of two whole-hour lags. A stay of a fraction of an hour (the Title
42 expulsions' hour or so) is therefore not rounded up to whole hours, and agrees with the event
engine's continuous time.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from bordersim.engines.flow.layout import FlowLayout


def apprehended_by(
    recent: jax.Array, hour: jax.Array, lag: jax.Array, layout: FlowLayout, now: jax.Array
) -> jax.Array:
    """Cumulative apprehensions up to `lag` whole hours before `hour`, per sector and kind
    ([S, K]); `recent` holds the last `layout.recent_hours` hours' curves in a ring by hour,
    `now` the curve of this hour."""
    past = hour - lag  # [K]
    index = jnp.mod(past, layout.recent_hours)
    earlier = jnp.take_along_axis(recent, jnp.broadcast_to(index, now.shape)[None], axis=0)[0]
    return jnp.where(lag <= 0, now, jnp.where(past < 0, 0.0, earlier))


def past_minimum_stay(
    recent: jax.Array,
    hour: jax.Array,
    min_hours: jax.Array,
    layout: FlowLayout,
    now: jax.Array,
) -> jax.Array:
    """Cumulative apprehensions of people past their minimum stay (`min_hours` per kind) by the
    end of `hour`, per sector and kind ([S, K])."""
    whole = jnp.floor(min_hours)
    part = min_hours - whole
    lag = whole.astype(jnp.int32)
    by_whole = apprehended_by(recent, hour, lag, layout, now)
    by_next = apprehended_by(recent, hour, lag + 1, layout, now)
    return jnp.where(part > 0, (1.0 - part) * by_whole + part * by_next, by_whole)
