"""The flow engine's replications in chunks (as many as the device's memory needs): the results
are those of one chunk, bit for bit, and the chunks are of equal size, so the last one computes
no more replications than it keeps."""

from __future__ import annotations

import numpy as np
import pytest

from bordersim.engines.flow import runner
from bordersim.engines.flow.layout import layout_of
from bordersim.errors import ModelError
from bordersim.model.examples import tiny_model

REPLICATIONS = 10


def test_chunks_are_as_few_as_memory_allows_and_equal(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_model(warmup_days=0, n_days=10)
    layout = layout_of([model])
    per_replication = runner._bytes_per_replication(layout)
    # room for 6 replications: 10 run as two chunks of 5
    monkeypatch.setattr(runner, "CPU_CHUNK_BYTES", 6 * per_replication)
    assert runner.chunk_size(layout, 1, REPLICATIONS, "cpu") == 5
    # room for 4: three chunks of 4 (12 computed for 10, the fewest chunks of 4 or fewer)
    monkeypatch.setattr(runner, "CPU_CHUNK_BYTES", 4 * per_replication)
    assert runner.chunk_size(layout, 1, REPLICATIONS, "cpu") == 4
    # two variants need twice the room per replication
    assert runner.chunk_size(layout, 2, REPLICATIONS, "cpu") == 2
    monkeypatch.setattr(runner, "CPU_CHUNK_BYTES", 100 * per_replication)
    assert runner.chunk_size(layout, 1, REPLICATIONS, "cpu") == REPLICATIONS


def test_results_in_chunks_are_those_of_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    models = [tiny_model(warmup_days=2, n_days=12, attempts_per_day=a) for a in (400.0, 600.0)]
    whole = runner.run_batch(models, replications=REPLICATIONS, seed=3, backend="cpu")
    assert whole[0].timings["chunk_replications"] == REPLICATIONS
    per_replication = runner._bytes_per_replication(layout_of(models))
    monkeypatch.setattr(runner, "CPU_CHUNK_BYTES", 2 * 4 * per_replication)
    chunked = runner.run_batch(models, replications=REPLICATIONS, seed=3, backend="cpu")
    assert chunked[0].timings["chunk_replications"] == 4  # three chunks, 2 of the last unkept
    for one, parts in zip(whole, chunked, strict=True):
        assert parts.daily.shape == one.daily.shape
        np.testing.assert_array_equal(parts.daily, one.daily)
        np.testing.assert_array_equal(parts.custody_hist, one.custody_hist)
    assert not np.array_equal(whole[0].daily, whole[1].daily)  # the variants differ


def test_chunks_started_ahead_and_written_by_threads_give_the_same_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A GPU starts the next chunk before the host writes this one's results, on several
    threads (`_run_chunks`, `_fill`); on the CPU here, with the GPU's settings, the results are
    those of one chunk written at once, bit for bit, and every chunk is reported once."""
    models = [tiny_model(warmup_days=2, n_days=12, attempts_per_day=a) for a in (400.0, 600.0)]
    whole = runner.run_batch(models, replications=REPLICATIONS, seed=5, backend="cpu")
    layout = layout_of(models)
    # a chunk started ahead keeps its outputs meanwhile: room for 3 replications with theirs
    per_replication = runner._bytes_per_replication(layout) + runner._output_bytes(layout)
    monkeypatch.setattr(runner, "CPU_CHUNK_BYTES", 2 * 3 * per_replication)
    monkeypatch.setattr(runner, "pipeline_depth", lambda backend: 1)
    monkeypatch.setattr(runner, "FILL_SLICE", 1)  # each replication on its own thread's turn
    reported: list[tuple[int, int]] = []
    ahead = runner.run_batch(
        models,
        replications=REPLICATIONS,
        seed=5,
        backend="cpu",
        progress=lambda done, total: reported.append((done, total)),
    )
    assert ahead[0].timings["chunk_replications"] == 3  # four chunks, 2 of the last unkept
    assert len(reported) == 4 and reported[-1][0] == reported[-1][1]
    assert [done for done, _ in reported] == sorted(done for done, _ in reported)
    for one, parts in zip(whole, ahead, strict=True):
        np.testing.assert_array_equal(parts.daily, one.daily)
        np.testing.assert_array_equal(parts.custody_hist, one.custody_hist)


def test_fill_in_slices_writes_every_replication(monkeypatch: pytest.MonkeyPatch) -> None:
    """7 replications in slices of 2 on threads (the last slice shorter), and as one copy."""
    source = np.arange(2 * 7 * 3, dtype=np.float32).reshape(2, 7, 3)
    for slice_size in (2, runner.FILL_SLICE):
        monkeypatch.setattr(runner, "FILL_SLICE", slice_size)
        destination = np.full(source.shape, np.nan)
        runner._fill(destination, source)
        np.testing.assert_array_equal(destination, source)


def test_the_gpu_memory_share_can_be_set_and_a_bad_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(runner.GPU_MEMORY_SHARE_VARIABLE, raising=False)
    assert runner.gpu_memory_share() == runner.GPU_MEMORY_SHARE
    monkeypatch.setenv(runner.GPU_MEMORY_SHARE_VARIABLE, "0.8")
    assert runner.gpu_memory_share() == 0.8
    for bad in ("1.5", "0", "lots"):
        monkeypatch.setenv(runner.GPU_MEMORY_SHARE_VARIABLE, bad)
        with pytest.raises(ModelError, match=f"BORDERSIM_GPU_MEMORY_SHARE='{bad}'"):
            runner.gpu_memory_share()
