"""XLA's options for the flow engine's program on a CPU (`runner.CPU_COMPILER_OPTIONS`): the
engine's program is compiled with them, and a jaxlib that refuses an option still compiles the
program, without the options, to the same numbers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bordersim.engines import simulate
from bordersim.engines.flow import runner
from bordersim.engines.flow.layout import layout_of, stack_parameters
from bordersim.model.examples import tiny_model


@pytest.fixture
def fresh_programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty program table and disk cache, so that what a test compiles or loads is its own
    (an earlier test in the same worker may have loaded programs from the disk)."""
    monkeypatch.setenv("BORDERSIM_JAX_CACHE", str(tmp_path))
    saved, saved_from_disk = dict(runner._compiled), set(runner._from_disk)
    runner._compiled.clear()
    runner._from_disk.clear()
    yield
    runner._compiled.clear()
    runner._compiled.update(saved)
    runner._from_disk.clear()
    runner._from_disk.update(saved_from_disk)


def _reduction() -> jax.stages.Lowered:
    return jax.jit(lambda x: (x * x).sum(axis=1)).lower(jnp.ones((64, 9, 11)))


def test_the_engines_program_on_a_cpu_is_compiled_with_the_options(
    fresh_programs: None,
) -> None:
    model = tiny_model(warmup_days=0, n_days=4)
    layout = layout_of([model])
    parameters = stack_parameters([model], layout)
    program, _ = runner._compile(layout, parameters, 4, "cpu")
    options = runner.compiler_options("cpu")
    assert options == runner.CPU_COMPILER_OPTIONS
    assert options["xla_cpu_experimental_ynn_fusion_type"] == ""
    # the option empties the list of YNNPACK fusion types: none is left in the program
    assert "__ynn_fusion" not in program.as_text()
    assert runner.compiler_options("gpu") == {}


def test_an_option_this_jaxlib_lacks_compiles_without_the_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "CPU_COMPILER_OPTIONS", {"xla_bordersim_no_such_option": "x"})
    with pytest.raises(jax.errors.JaxRuntimeError, match="xla_bordersim_no_such_option"):
        _reduction().compile(compiler_options={"xla_bordersim_no_such_option": "x"})
    compiled = runner.compile_lowered(_reduction(), "cpu")
    assert np.array_equal(np.asarray(compiled(jnp.ones((64, 9, 11)))), np.full((64, 11), 9.0))


def test_a_run_without_the_options_gives_the_same_kind_of_results(
    fresh_programs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The options change how XLA sums, not the model: runs with and without them agree on
    every daily metric's mean within 1e-4 of its scale (the same random numbers: sums in
    another order move a count's last bits, rarely a draw)."""
    model = tiny_model(warmup_days=0, n_days=8)
    with_options = simulate(model, engine="flow", replications=8, seed=3)
    monkeypatch.setattr(runner, "CPU_COMPILER_OPTIONS", {})
    without = simulate(model, engine="flow", replications=8, seed=3)
    # two programs, each compiled: neither taken from the other's entry in the process's table
    # or its file on disk
    assert len(runner._compiled) == 2 and not runner._from_disk
    assert len(list(Path(os.environ["BORDERSIM_JAX_CACHE"]).rglob("*.bin"))) == 2
    a, b = with_options.daily.mean(axis=0), without.daily.mean(axis=0)
    scale = np.maximum(np.abs(b).max(axis=(0, 1)), 1.0)
    assert np.all(np.abs(a - b).max(axis=(0, 1)) <= 1e-4 * scale)
