"""The run catalog: results round-trip, and only a run that finished is ever complete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bordersim.errors import BordersimError
from bordersim.results.schema import RunResult
from bordersim.store import open_store, results_dir
from bordersim.store.result_files import run_dir
from bordersim.store.runs import (
    COMPLETE,
    FAILED,
    RUNNING,
    complete_run,
    fail_run,
    get_run,
    list_runs,
    load_result,
    run_files,
)
from constructed_runs import start_constructed


def test_a_complete_run_reads_back_identical(
    make_run: Callable[..., RunResult], store_path: Path
) -> None:
    run = make_run(replications=3, days=9)
    with open_store(store_path) as connection:
        run_id = start_constructed(connection, run)
        assert get_run(connection, run_id).status == RUNNING
        complete_run(
            connection,
            run_id,
            run,
            kpis={"encounters": {"mean": 1.0}},
            timings={"run_s": 2.5},
            report_path="out/report.html",
        )
    with open_store(store_path) as connection:
        stored = get_run(connection, run_id)
        assert stored.status == COMPLETE and stored.finished_at is not None
        assert stored.timings == {"run_s": 2.5} and stored.report_path == "out/report.html"
        back = load_result(connection, run_id)
    assert back.dates == run.dates and back.sectors == run.sectors
    np.testing.assert_array_equal(back.daily, run.daily)
    np.testing.assert_array_equal(back.custody_hist, run.custody_hist)
    assert (back.engine, back.seed, back.scenario_hash) == (run.engine, run.seed, run.scenario_hash)


def test_a_failed_run_keeps_no_results_and_cannot_be_completed_later(
    make_run: Callable[..., RunResult], store_path: Path
) -> None:
    run = make_run(replications=2, days=5)
    with open_store(store_path) as connection:
        run_id = start_constructed(connection, run)
        fail_run(connection, run_id)
        assert get_run(connection, run_id).status == FAILED
        with pytest.raises(BordersimError, match="not running"):
            complete_run(connection, run_id, run, kpis={}, timings={}, report_path=None)
        assert get_run(connection, run_id).status == FAILED
        assert run_files(connection, run_id) == []
        assert not run_dir(results_dir(connection), run_id).exists()
        with pytest.raises(BordersimError, match="failed, not complete"):
            load_result(connection, run_id)
        assert [r.run_id for r in list_runs(connection)] == [run_id]


def test_an_unknown_run_id_is_one_clear_error(store_path: Path) -> None:
    with open_store(store_path) as connection, pytest.raises(BordersimError, match="no run"):
        get_run(connection, "nope")


def test_large_ensembles_move_in_blocks_of_replications(
    make_run: Callable[..., RunResult], store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    import bordersim.store.result_files as result_files
    import bordersim.store.runs as runs

    run = make_run(replications=5, days=4)
    per_replication = run.daily[0].size
    monkeypatch.setattr(runs, "ROWS_PER_BLOCK", 2 * per_replication)  # blocks of 2, 2 and 1
    monkeypatch.setattr(result_files, "ROWS_PER_CHUNK", 2 * per_replication)
    with open_store(store_path) as connection:
        run_id = start_constructed(connection, run)
        complete_run(connection, run_id, run, kpis={}, timings={}, report_path=None)
        (daily,) = [f for f in run_files(connection, run_id) if f.kind == "daily"]
        assert daily.rows == run.daily.size
        path = results_dir(connection) / daily.path
        assert pq.ParquetFile(path).metadata.num_row_groups == 3
        np.testing.assert_array_equal(load_result(connection, run_id).daily, run.daily)
