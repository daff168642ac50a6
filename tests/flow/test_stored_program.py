"""The flow engine's compiled program kept on disk: reused by a new process (here: after the
process's own table of programs is emptied), giving the same numbers bit for bit, and ignored
when its file is damaged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bordersim.engines import simulate
from bordersim.engines.flow import runner
from bordersim.engines.flow.layout import layout_of, stack_parameters
from bordersim.model.examples import tiny_model
from repo_paths import REPO

REPLICATIONS = 6


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BORDERSIM_JAX_CACHE", str(tmp_path))
    saved = dict(runner._compiled)
    saved_from_disk = set(runner._from_disk)
    runner._compiled.clear()
    # An earlier test in this worker may have loaded another model's program from disk.
    runner._from_disk.clear()
    yield tmp_path
    runner._compiled.clear()
    runner._compiled.update(saved)
    runner._from_disk.clear()
    runner._from_disk.update(saved_from_disk)


def _program_key_parts(model):  # type: ignore[no-untyped-def]
    layout = layout_of([model])
    parameters = stack_parameters([model], layout)
    chunk = runner.chunk_size(layout, 1, REPLICATIONS, "cpu")
    return layout, parameters, chunk, "cpu"


def _program_file(model) -> Path:  # type: ignore[no-untyped-def]
    return runner.stored_program(*_program_key_parts(model))


def test_a_stored_program_is_reused_with_the_same_numbers(cache: Path) -> None:
    model = tiny_model(warmup_days=0, n_days=10)
    first = simulate(model, engine="flow", replications=REPLICATIONS, seed=5)
    stored = _program_file(model)
    assert stored.is_file() and stored.is_relative_to(cache)
    runner._compiled.clear()  # as in a new process
    again = simulate(model, engine="flow", replications=REPLICATIONS, seed=5)
    assert runner.loaded_from_disk(*_program_key_parts(model))  # loaded, not compiled
    np.testing.assert_array_equal(again.daily, first.daily)
    np.testing.assert_array_equal(again.custody_hist, first.custody_hist)


def test_a_damaged_program_file_is_compiled_again(cache: Path) -> None:
    model = tiny_model(warmup_days=0, n_days=10)
    first = simulate(model, engine="flow", replications=REPLICATIONS, seed=5)
    stored = _program_file(model)
    stored.write_bytes(b"not a program")
    runner._compiled.clear()
    again = simulate(model, engine="flow", replications=REPLICATIONS, seed=5)
    assert not runner.loaded_from_disk(*_program_key_parts(model))
    np.testing.assert_array_equal(again.daily, first.daily)
    assert stored.stat().st_size > len(b"not a program")  # replaced by the new compile


def test_another_layout_or_chunk_is_another_file() -> None:
    model = tiny_model(warmup_days=0, n_days=10)
    longer = tiny_model(warmup_days=0, n_days=11)
    layout, parameters = layout_of([model]), stack_parameters([model], layout_of([model]))
    names = {
        runner.stored_program(layout, parameters, 6, "cpu"),
        runner.stored_program(layout, parameters, 7, "cpu"),
        runner.stored_program(
            layout_of([longer]), stack_parameters([longer], layout_of([longer])), 6, "cpu"
        ),
    }
    assert len(names) == 3


def test_the_programs_folder_is_where_the_docs_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$BORDERSIM_JAX_CACHE, else $XDG_CACHE_HOME/bordersim/jax, else ~/.cache/bordersim/jax
    (docs/flow-engine.md and docs/scaling.md said ~/.cache/... whatever $XDG_CACHE_HOME was)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BORDERSIM_JAX_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert runner.cache_directory() == tmp_path / "home" / ".cache" / "bordersim" / "jax"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert runner.cache_directory() == tmp_path / "xdg" / "bordersim" / "jax"
    monkeypatch.setenv("BORDERSIM_JAX_CACHE", str(tmp_path / "mine"))
    assert runner.cache_directory() == tmp_path / "mine"
    for page in ("docs/flow-engine.md", "docs/scaling.md"):
        text = " ".join((REPO / page).read_text(encoding="utf-8").split())
        assert "`$BORDERSIM_JAX_CACHE`, else `$XDG_CACHE_HOME/bordersim/jax`, else" in text, page
