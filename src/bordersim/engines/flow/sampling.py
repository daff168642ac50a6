"""Random counts for the flow engine, cheap enough to draw every hour for every replication.

`jax.random.poisson` and `jax.random.binomial` run rejection loops that cost about 200 ns a draw
on a CPU, and the engine draws hundreds of counts per replication-hour. Here every draw is
straight-line code with two branches, computed for every element and selected per element:

- small counts: exact inversion of the distribution function, unrolled over a fixed number of
  terms with the pmf's multiplicative recurrence (no logarithm or exponential per term). A
  binomial is inverted on its rarer outcome when that outcome's mean is below
  `BINOMIAL_NORMAL_MEAN` (the mass beyond `BINOMIAL_TERMS` is then below 1e-5); a Poisson when its
  mean is below `POISSON_NORMAL_MEAN` (mass beyond `POISSON_TERMS` below 1e-5);
- larger counts: the normal approximation with continuity correction, rounded and clipped to the
  support. From those means up, the clipped tail moves the mean by less than 0.005 and the
  variance by less than 3 %; skewness is ignored (tests/flow/test_sampling.py). The terms are few
  because every term is paid for every element and every hour.

Counts in the flow engine may be fractional (queues are split in proportion), so a binomial of
``n`` trials draws on ``floor(n)`` and adds the fractional trial's expected part.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

BINOMIAL_NORMAL_MEAN = 4.0
BINOMIAL_TERMS = 14
POISSON_NORMAL_MEAN = 6.0
POISSON_TERMS = 18


class Stream:
    """The hour's uniforms and normals, drawn in one call each and handed out in slices.

    Drawing once per hour keeps the compiled program small: each `jax.random` call expands into
    its own copy of the counter-based generator.
    """

    def __init__(self, key: jax.Array, size: int) -> None:
        k_uniform, k_normal = jax.random.split(key)
        self.uniforms = jax.random.uniform(k_uniform, (size,))
        self.normals = jax.random.normal(k_normal, (size,))
        self.size = size
        self.used = 0

    def take(self, shape: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
        n = math.prod(shape)
        if self.used + n > self.size:
            raise ValueError(f"random stream of {self.size} numbers exhausted")
        part = slice(self.used, self.used + n)
        self.used += n
        return self.uniforms[part].reshape(shape), self.normals[part].reshape(shape)


def poisson(stream: Stream, lam: jax.Array) -> jax.Array:
    """Poisson counts with mean `lam` (any shape, lam >= 0)."""
    lam = jnp.maximum(lam, 0.0)
    u, z = stream.take(lam.shape)
    small_lam = jnp.minimum(lam, POISSON_NORMAL_MEAN)
    pmf = jnp.exp(-small_lam)
    cdf = pmf
    count = jnp.zeros_like(u)
    for k in range(POISSON_TERMS):
        count = count + (u > cdf)
        pmf = pmf * (small_lam / (k + 1.0))
        cdf = cdf + pmf
    large = jnp.maximum(jnp.floor(lam + jnp.sqrt(lam) * z + 0.5), 0.0)
    return jnp.where(lam >= POISSON_NORMAL_MEAN, large, count)


def binomial(stream: Stream, n: jax.Array, p: jax.Array) -> jax.Array:
    """Binomial counts of `n` trials (may be fractional) with success probability `p`."""
    shape = jnp.broadcast_shapes(jnp.shape(n), jnp.shape(p))
    n = jnp.broadcast_to(jnp.maximum(n, 0.0), shape)
    p = jnp.broadcast_to(jnp.clip(p, 0.0, 1.0), shape)
    u, z = stream.take(shape)
    whole = jnp.floor(n)
    fraction = n - whole
    variance = whole * p * (1.0 - p)
    rare_mean = whole * jnp.minimum(p, 1.0 - p)
    use_normal = rare_mean >= BINOMIAL_NORMAL_MEAN
    rare = jnp.where(use_normal, 0.0, jnp.minimum(p, 1.0 - p))
    odds = rare / (1.0 - rare)
    pmf = jnp.exp(whole * jnp.log1p(-rare))
    cdf = pmf
    count = jnp.zeros_like(u)
    for k in range(BINOMIAL_TERMS):
        count = count + (u > cdf)
        pmf = pmf * (jnp.maximum(whole - k, 0.0) * (odds / (k + 1.0)))
        cdf = cdf + pmf
    count = jnp.minimum(count, whole)
    small = jnp.where(p <= 0.5, count, whole - count)
    large = jnp.clip(jnp.floor(whole * p + jnp.sqrt(variance) * z + 0.5), 0.0, whole)
    return jnp.where(use_normal, large, small) + fraction * p
