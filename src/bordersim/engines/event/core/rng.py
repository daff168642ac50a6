"""Random numbers inside compiled code: xoshiro256** with its state in a NumPy array.

Each `Simulator` owns its own 4-word state, so two simulators never share a stream (numba's
`np.random` keeps one global state per thread, which would make results depend on interleaving).
Seeding goes through SplitMix64, as recommended by the generator's authors (Blackman & Vigna,
"Scrambled linear pseudorandom number generators", 2018).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_MASK53 = np.float64(1.0 / 9007199254740992.0)  # 2**-53

# The draws are compiled as functions, not `inline="always"` like the border model's steps: they
# take one small array, so a call costs nothing that LLVM's own inlining does not remove, and
# Numba's inlining re-typed them at each of their many call sites, which made the border kernel's
# first compile about 11 % longer (docs/event-engine.md). The results are the same bit for bit.


def seed_state(seed: int) -> np.ndarray:
    """The 4-word xoshiro256** state for `seed` (any non-negative Python int), via SplitMix64."""
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    mask = (1 << 64) - 1
    x = seed & mask
    words = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & mask
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        words.append(z ^ (z >> 31))
    return np.array(words, dtype=np.uint64)


@njit(cache=True, error_model="numpy")
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, error_model="numpy")
def next_uint64(state: np.ndarray) -> np.uint64:
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return result


@njit(cache=True, error_model="numpy")
def uniform(state: np.ndarray) -> float:
    """A double in [0, 1) with 53 random bits."""
    return float(next_uint64(state) >> np.uint64(11)) * _MASK53


@njit(cache=True, error_model="numpy")
def uniform_open(state: np.ndarray) -> float:
    """A double in (0, 1], safe for logarithms."""
    return 1.0 - uniform(state)


@njit(cache=True, error_model="numpy")
def exponential(state: np.ndarray, mean: float) -> float:
    return -math.log(uniform_open(state)) * mean


@njit(cache=True, error_model="numpy")
def standard_normal(state: np.ndarray) -> float:
    # Marsaglia's polar method; the second variate is dropped to keep the state a plain array.
    while True:
        u = 2.0 * uniform(state) - 1.0
        v = 2.0 * uniform(state) - 1.0
        s = u * u + v * v
        if 0.0 < s < 1.0:
            return u * math.sqrt(-2.0 * math.log(s) / s)


@njit(cache=True, error_model="numpy")
def standard_gamma(state: np.ndarray, shape: float) -> float:
    # Marsaglia & Tsang (2000); shapes below one use the boost X * U**(1/shape).
    if shape < 1.0:
        return standard_gamma(state, shape + 1.0) * uniform_open(state) ** (1.0 / shape)
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = standard_normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform_open(state)
        if u < 1.0 - 0.0331 * x * x * x * x:
            return d * v
        if math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v
