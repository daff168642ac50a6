"""Exponential variates by Marsaglia and Tsang's ziggurat, on the core's xoshiro256** stream.

Inversion (`rng.exponential`) costs a logarithm per variate, the single largest cost of an M/M/c
event. The ziggurat ("The ziggurat method for generating random variables", J. Stat. Software 5(8),
2000) covers the density with 256 strips of equal area: about 98.9 % of draws take one 64-bit word,
one table look-up and one multiplication; the rest fall back to an exact rejection step or, for
the base strip's tail beyond R, to R + Exp(1) by inversion. The variates are exactly exponential
(up to floating point), but not the same numbers inversion would give for the same stream.

One 64-bit word gives the strip (its low 8 bits) and a 53-bit position within the strip (its high
53 bits), so strip and position are independent.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.core import rng

_STRIPS = 256
_TAIL_START = 7.697117470131487  # R: where the base strip's tail begins (Marsaglia & Tsang)
_STRIP_AREA = 3.949659822581572e-3  # v: the common area of the 256 strips


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k, w, f): acceptance bounds on the 53-bit position, position scales, density at edges."""
    scale = 2.0**53
    k = np.zeros(_STRIPS, dtype=np.uint64)
    w = np.zeros(_STRIPS)
    f = np.zeros(_STRIPS)
    de = _TAIL_START
    te = de
    q = _STRIP_AREA / math.exp(-de)
    k[0] = np.uint64(int((de / q) * scale))
    k[1] = np.uint64(0)
    w[0] = q / scale
    w[_STRIPS - 1] = de / scale
    f[0] = 1.0
    f[_STRIPS - 1] = math.exp(-de)
    for i in range(_STRIPS - 2, 0, -1):
        de = -math.log(_STRIP_AREA / de + math.exp(-de))
        k[i + 1] = np.uint64(int((de / te) * scale))
        te = de
        f[i] = math.exp(-de)
        w[i] = de / scale
    return k, w, f


_K, _W, _F = _tables()


@njit(cache=True, error_model="numpy")
def standard_exponential(state: np.ndarray) -> float:
    """An exponential variate of mean one."""
    while True:
        word = rng.next_uint64(state)
        strip = word & np.uint64(_STRIPS - 1)
        position = word >> np.uint64(11)
        if position < _K[strip]:
            return float(position) * _W[strip]
        return _slow_path(state, strip, position)


@njit(cache=True, error_model="numpy")
def _slow_path(state: np.ndarray, strip: np.uint64, position: np.uint64) -> float:
    # Kept out of line so the fast path stays small where it is inlined.
    while True:
        if strip == 0:
            return _TAIL_START - math.log(rng.uniform_open(state))
        x = float(position) * _W[strip]
        if _F[strip] + rng.uniform(state) * (_F[strip - 1] - _F[strip]) < math.exp(-x):
            return x
        word = rng.next_uint64(state)
        strip = word & np.uint64(_STRIPS - 1)
        position = word >> np.uint64(11)
        if position < _K[strip]:
            return float(position) * _W[strip]


@njit(cache=True, error_model="numpy")
def exponential(state: np.ndarray, mean: float) -> float:
    return standard_exponential(state) * mean
