"""Time in custody from cumulative curves: a hand-worked case, the device (JAX) pass equal to
the host (Numba) pass that a CPU uses, and the GPU's whole program equal to the CPU's."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bordersim.engines.flow import runner
from bordersim.engines.flow.custody_times import custody_times
from bordersim.engines.flow.custody_times_host import custody_times_host
from bordersim.engines.flow.layout import layout_of, stack_parameters
from bordersim.model.examples import tiny_model
from bordersim.results.schema import HIST_ALL, HIST_UAC


def test_hand_worked_ages() -> None:
    """Two people apprehended in hour 0, one more in hour 2; exits in hours 3, 5 and 80:
    ages 3, 5 (first come first served) and 78, the last one over 72 hours."""
    hours = 100
    arrived = np.zeros((1, hours, 1, 1), dtype=np.float32)
    arrived[0, 0:, 0, 0] = 2
    arrived[0, 2:, 0, 0] = 3
    exited = np.zeros_like(arrived)
    exited[0, 3:, 0, 0] = 1
    exited[0, 5:, 0, 0] = 2
    exited[0, 80:, 0, 0] = 3
    histogram, hours_total, over, over_uac = custody_times_host(
        arrived, exited, np.array([1.0]), 72.0, 72.0, 0, hours // 24 + 1
    )
    # each whole-hour age is split half and half with the hour below
    expected = np.zeros(histogram.shape[-1])
    for age in (3, 5, 78):
        expected[age] += 0.5
        expected[age - 1] += 0.5
    np.testing.assert_allclose(histogram[0, 0, HIST_ALL], expected)
    np.testing.assert_allclose(histogram[0, 0, HIST_UAC], expected)
    assert hours_total[0, :, 0].tolist()[:4] == [8.0, 0.0, 0.0, 78.0]
    assert over[0, :, 0].sum() == 1.0 and over_uac[0, :, 0].sum() == 1.0


def test_device_pass_equals_host_pass() -> None:
    model = tiny_model()
    layout = layout_of([model])
    rng = np.random.default_rng(3)
    shape = (layout.n_hours, layout.n_sectors, layout.n_kinds)
    arrived = np.cumsum(rng.poisson(3.0, shape), axis=0).astype(np.float32)
    # exits: a delayed and thinned copy of the arrival curve, never ahead of it
    delay = rng.integers(0, 90, size=shape[1:])
    exited = np.zeros_like(arrived)
    for s in range(shape[1]):
        for k in range(shape[2]):
            exited[delay[s, k] :, s, k] = arrived[: shape[0] - delay[s, k], s, k] * 0.9
    uac = np.array([1.0 if d == 2 else 0.0 for d in layout.kind_demographic])
    host = custody_times_host(
        arrived[None],
        exited[None],
        uac,
        72.0,
        72.0,
        24 * layout.warmup_days,
        layout.n_days - layout.warmup_days,
    )
    device = custody_times(
        jnp.asarray(arrived), jnp.asarray(exited), jnp.asarray(uac), 72.0, 72.0, layout
    )
    for h, d in zip(host, device, strict=True):
        np.testing.assert_allclose(h[0], np.asarray(d), rtol=1e-4, atol=1e-2)


def test_the_gpu_program_run_here_gives_the_cpu_program_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole program a GPU runs (custody times on the device, a batch of replications at a
    time) gives what the CPU's program and host pass give: CI has no GPU, so it runs here."""
    # 2 variants x 5 replications in batches of 3: three whole batches and a remainder
    monkeypatch.setattr(runner, "CUSTODY_TIMES_BATCH", 3)
    models = [tiny_model(warmup_days=2, n_days=12, attempts_per_day=a) for a in (400.0, 900.0)]
    layout = layout_of(models)
    program = jax.jit(runner._program(layout, on_host=False))
    ids = jnp.arange(5, dtype=jnp.int32)
    daily, histogram = program(stack_parameters(models, layout), ids, runner.seed_key(7))
    on_cpu = runner.run_batch(models, replications=5, seed=7, backend="cpu")
    for v, result in enumerate(on_cpu):
        assert result.custody_hist.sum() > 0
        np.testing.assert_allclose(np.asarray(daily[v]), result.daily, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(
            np.asarray(histogram[v]), result.custody_hist, rtol=1e-5, atol=1e-3
        )
    assert not np.allclose(np.asarray(histogram[0]), np.asarray(histogram[1]))
