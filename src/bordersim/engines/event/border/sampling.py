"""Counting distributions the border model draws from, on the event core's xoshiro256** stream.

The core (`engines.event.core.rng`) provides uniforms, exponentials and gammas; the border model
also needs Poisson, negative binomial and binomial counts. They are compiled here so that one
replication draws every number from its own stream and results depend only on the seed.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.core.rng import standard_gamma, uniform, uniform_open


@njit(cache=True)
def poisson(state: np.ndarray, lam: float) -> int:
    """Poisson(lam): multiplication for small means, PTRS (Hörmann 1993) above 10."""
    if lam <= 0.0:
        return 0
    if lam < 10.0:
        limit = math.exp(-lam)
        k = 0
        prod = uniform_open(state)
        while prod > limit:
            k += 1
            prod *= uniform_open(state)
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(state) - 0.5
        v = uniform_open(state)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= (
            -lam + k * loglam - math.lgamma(k + 1.0)
        ):
            return int(k)


@njit(cache=True)
def negative_binomial(state: np.ndarray, mean: float, size: float) -> int:
    """Counts with `mean` and variance mean + mean**2 / size (gamma-Poisson); size inf: Poisson."""
    if mean <= 0.0:
        return 0
    if not math.isfinite(size):
        return poisson(state, mean)
    return poisson(state, standard_gamma(state, size) * mean / size)


@njit(cache=True)
def binomial(state: np.ndarray, n: int, p: float) -> int:
    """Binomial(n, p): exact for n <= 64, Poisson (p < 0.1) or normal approximations above.

    Used for hourly infection counts, where n is the susceptible population of one holding
    facility and p is small; the approximations are within sampling noise there.
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if n <= 64:
        k = 0
        for _ in range(n):
            if uniform(state) < p:
                k += 1
        return k
    if p < 0.1:
        return min(n, poisson(state, n * p))
    sd = math.sqrt(n * p * (1.0 - p))
    u1 = uniform_open(state)
    u2 = uniform(state)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return max(0, min(n, math.floor(n * p + sd * z + 0.5)))
