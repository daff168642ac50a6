"""Serving queues held as cumulative counts (Newell's cumulative curves).

Custody is held per sector and custody kind (demographic x pathway, see `layout`) as cumulative
counts: apprehended so far, and finished at each stage (intake, determination, departure). Within
a kind people move through every stage in apprehension order, so whatever share of a kind's queue
a stage serves, the people served are the oldest, and the hour each was apprehended is read off
the apprehension curve after the run (`custody_times`): time in custody is exact for
first-come-first-served within a kind without holding individual people or shifting cohorts.

Across kinds, a stage's capacity goes to priority classes in order and, within a class (or across
the kinds and sectors of a national line), in proportion to what each kind has waiting. Kinds of
a class are apprehended together in fixed proportions (the pathway split), so their queues have
nearly the same ages and serving them in proportion is close to oldest first; docs/flow-engine.md
discusses where it departs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

_TINY = 1e-9


def serve_by_priority(
    waiting: jax.Array,
    work_per_person: jax.Array,
    kind_class: tuple[int, ...],
    capacity: jax.Array,
) -> jax.Array:
    """People served per sector and kind ([S, K]) with `capacity` [S] work units this hour:
    class 0 first, then 1, ...; within a class each kind gets the same share of its queue."""
    waiting = jnp.maximum(waiting, 0.0)
    served = jnp.zeros_like(waiting)
    left = capacity
    for c in sorted(set(kind_class)):
        in_class = jnp.asarray([1.0 if k == c else 0.0 for k in kind_class])
        queue = waiting * in_class
        work = (queue * work_per_person).sum(axis=-1)
        share = jnp.where(work > left, left / jnp.maximum(work, _TINY), 1.0)
        served = served + queue * share[..., None]
        left = jnp.maximum(left - work, 0.0)
    return served


def serve_in_proportion(
    waiting: jax.Array, capacity: jax.Array, national: bool = False
) -> jax.Array:
    """Up to `capacity` people ([S] per sector, or a scalar for a national line) from the queues
    in `waiting` ([S, K]), each queue giving the same share."""
    waiting = jnp.maximum(waiting, 0.0)
    total = waiting.sum() if national else waiting.sum(axis=-1)
    share = jnp.where(total > capacity, capacity / jnp.maximum(total, _TINY), 1.0)
    return waiting * (share if national else share[..., None])
