"""The ziggurat exponential sampler gives exactly exponential variates, reproducibly."""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import stats

from bordersim.engines.event.core import ziggurat
from bordersim.engines.event.core.rng import seed_state

DRAWS = 400_000


@njit(cache=True)
def _draw(state: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        out[i] = ziggurat.standard_exponential(state)
    return out


def test_draws_follow_the_unit_exponential() -> None:
    x = _draw(seed_state(11), DRAWS)
    assert x.min() > 0.0
    # Mean and variance one: 4-sigma bands (fixed seed, so the outcome is fixed too).
    assert abs(x.mean() - 1.0) < 4.0 / math.sqrt(DRAWS)
    assert abs(x.var() - 1.0) < 4.0 * math.sqrt(8.0 / DRAWS)
    assert stats.kstest(x, "expon").pvalue > 0.001


def test_tail_beyond_the_base_strip_has_the_right_mass() -> None:
    # Draws beyond R come from the tail branch; their share must be exp(-R) and their excess
    # over R exponential again.
    x = _draw(seed_state(5), 4 * DRAWS)
    r = ziggurat._TAIL_START
    beyond = x[x > r]
    expected = len(x) * math.exp(-r)
    assert abs(len(beyond) - expected) < 4.0 * math.sqrt(expected)
    assert stats.kstest(beyond - r, "expon").pvalue > 0.001


def test_same_seed_same_draws_and_the_state_advances() -> None:
    state = seed_state(3)
    first = _draw(state, 1000)
    again = _draw(seed_state(3), 1000)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, _draw(state, 1000))
