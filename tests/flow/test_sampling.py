"""The flow engine's count distributions: right mean and variance on both branches."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bordersim.engines.flow.sampling import Stream, binomial, poisson

N = 200_000


@pytest.mark.parametrize(
    ("n", "p"), [(3.0, 0.2), (6.0, 0.3), (3.5, 0.9), (20.0, 0.1), (1000.0, 0.4), (0.0, 0.5)]
)
def test_binomial_mean_and_variance(n: float, p: float) -> None:
    draws = np.asarray(binomial(Stream(jax.random.PRNGKey(7), N), jnp.full(N, n), jnp.float32(p)))
    whole = np.floor(n)
    mean = whole * p + (n - whole) * p
    variance = whole * p * (1 - p)
    # 5 standard errors of the mean; the variance within 5 % (its standard error is below 1 %).
    assert abs(draws.mean() - mean) < 5 * np.sqrt(variance / N) + 1e-6
    assert draws.var() == pytest.approx(variance, rel=0.04, abs=1e-6)
    assert draws.min() >= 0 and draws.max() <= n


@pytest.mark.parametrize("lam", [0.0, 0.3, 2.5, 5.9, 6.0, 50.0])
def test_poisson_mean_and_variance(lam: float) -> None:
    draws = np.asarray(poisson(Stream(jax.random.PRNGKey(3), N), jnp.full(N, lam)))
    assert abs(draws.mean() - lam) < 5 * np.sqrt(lam / N) + 1e-6
    assert draws.var() == pytest.approx(lam, rel=0.05, abs=1e-6)


def test_small_binomial_is_exact() -> None:
    """Below the normal branch the inversion reproduces the binomial probabilities."""
    from scipy import stats

    draws = np.asarray(binomial(Stream(jax.random.PRNGKey(11), N), jnp.full(N, 4.0), 0.2))
    observed = np.bincount(draws.astype(int), minlength=5)[:5] / N
    expected = stats.binom.pmf(np.arange(5), 4, 0.2)
    assert np.allclose(observed, expected, atol=5 * np.sqrt(expected * (1 - expected) / N))


def test_stream_refuses_to_run_dry() -> None:
    stream = Stream(jax.random.PRNGKey(0), 10)
    stream.take((6,))
    with pytest.raises(ValueError, match="exhausted"):
        stream.take((6,))
