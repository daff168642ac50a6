"""The workbench's recording of a finished simulation: all or nothing, even when its worker dies
or the report cannot be written, as for `bordersim run`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bordersim.services.loading import load_and_compile
from bordersim.services.record import simulate_loaded
from bordersim.store import open_store
from bordersim.store.runs import FAILED, list_failures, list_runs, repair_dead_runs
from bordersim.web.recording import record_simulated
from repo_paths import SMALL

#: A worker that simulates, then dies (as if killed for memory) just after writing the report's
#: temporary file and before the store marks the run complete.
_DYING_WORKER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import bordersim.services.record as record
    from bordersim.services.loading import load_and_compile
    from bordersim.services.record import simulate_loaded
    from bordersim.store import open_store
    from bordersim.web.recording import record_simulated

    store, out_root, scenario = (Path(arg) for arg in sys.argv[1:4])
    loaded = load_and_compile(scenario)
    result = simulate_loaded(loaded, engine="event", replications=1, seed=1)
    record.complete_recorded = lambda *args, **kwargs: os._exit(9)
    with open_store(store) as connection:
        record_simulated(connection, loaded, result, out_root=out_root)
    """
)


def test_a_worker_that_dies_while_recording_leaves_nothing_after_the_repair(
    tmp_path: Path,
) -> None:
    store, out_root = tmp_path / "store.duckdb", tmp_path / "out"
    died = subprocess.run(
        [sys.executable, "-c", _DYING_WORKER, str(store), str(out_root), str(SMALL)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert died.returncode == 9, died.stderr
    left = [p for p in out_root.rglob("*") if p.is_file()]
    assert left and all(p.name.endswith(".tmp") for p in left)  # died before the rename
    with open_store(store) as connection:  # opening the store repairs what dead processes left
        [run] = list_runs(connection)
        assert run.status == FAILED
        assert repair_dead_runs(connection) == []
    assert [p for p in out_root.rglob("*") if p.is_file()] == []


def test_a_report_that_cannot_be_written_fails_the_run_with_its_reason(tmp_path: Path) -> None:
    loaded = load_and_compile(SMALL)
    result = simulate_loaded(loaded, engine="event", replications=1, seed=1)
    out_root = tmp_path / "out"
    out_root.write_text("a file where the reports' folder should be", encoding="utf-8")
    store = tmp_path / "store.duckdb"
    with open_store(store) as connection, pytest.raises(OSError):
        record_simulated(connection, loaded, result, out_root=out_root)
    with open_store(store) as connection:
        [run] = list_runs(connection)
        assert run.status == FAILED
        reason = list_failures(connection)[run.run_id]
    assert reason.startswith(("FileExistsError", "NotADirectoryError")), reason
    assert out_root.read_text(encoding="utf-8").startswith("a file")
