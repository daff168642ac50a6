"""Who is past a minimum time in custody in the flow engine: stays of a fraction of an hour are
mixed from the two whole-hour lags around them (docs/flow-engine.md), as continuous time gives
with apprehensions spread evenly within each hour."""

from __future__ import annotations

from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import pytest

from bordersim.engines.flow.minimum_stay import past_minimum_stay

RING = 4


def ring_at(hour: int, per_hour: np.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The ring of cumulative apprehensions after `hour` (one sector, one kind per column), with
    `per_hour[j]` apprehended during hour j; and the curve at `hour`."""
    cumulative = np.cumsum(per_hour, axis=0)
    ring = np.zeros((RING, 1, per_hour.shape[1]))
    for j in range(max(0, hour - RING + 1), hour + 1):
        ring[j % RING, 0] = cumulative[j]
    return jnp.asarray(ring), jnp.asarray(cumulative[hour][None])


@pytest.mark.parametrize(
    ("minimum", "expected"),
    [
        # Apprehended 10, 20, 30, 40 in hours 0-3; the state at the end of hour 3.
        (0.0, 100.0),  # everyone
        (0.5, 60.0 + 0.5 * 40.0),  # half of hour 3's, all earlier
        (1.0, 60.0),  # up to the end of hour 2
        (1.6, 30.0 + 0.4 * 30.0),  # 40 % of hour 2's (those in its first 0.4 h), all earlier
        (3.0, 10.0),
    ],
)
def test_fraction_of_an_hour_mixes_the_two_lags(minimum: float, expected: float) -> None:
    per_hour = np.array([[10.0], [20.0], [30.0], [40.0]])
    ring, now = ring_at(3, per_hour)
    layout = SimpleNamespace(recent_hours=RING)
    got = past_minimum_stay(ring, jnp.asarray(3), jnp.asarray([minimum]), layout, now)
    assert float(got[0, 0]) == pytest.approx(expected)


def test_nobody_before_the_run_started() -> None:
    per_hour = np.array([[10.0], [20.0], [0.0], [0.0]])
    ring, now = ring_at(1, per_hour)
    layout = SimpleNamespace(recent_hours=RING)
    got = past_minimum_stay(ring, jnp.asarray(1), jnp.asarray([1.5]), layout, now)
    assert float(got[0, 0]) == pytest.approx(0.5 * 10.0)
