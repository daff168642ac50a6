"""Ctrl-C while a run's results are committed: a run the store records as complete keeps its
result files (a real SIGINT, sent while DuckDB executes the COMMIT)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bordersim.store import open_store
from bordersim.store.interface import results_dir_of
from bordersim.store.runs import COMPLETE, list_runs, run_files

TRIES = 40

# The child records TRIES runs; for each it sends itself SIGINT from a second thread, which can
# take the interpreter lock only while the main thread is inside DuckDB's COMMIT (the switch
# interval is long, and DuckDB releases the lock while it executes), so the signal lands during
# the COMMIT or as it returns; it lands after the commit in about one try of eight. Each try waits
# for its signal before the next starts: one that DuckDB did not let in during the COMMIT would
# otherwise land in the next try's setup, outside the `try`, and end the child.
CHILD = """
import linecache, os, signal, sys, threading
from pathlib import Path

import pytest
sys.path.insert(0, sys.argv[2])
from bordersim import interrupts
from bordersim.store import open_store
from bordersim.store.runs import complete_run
from constructed_runs import constructed_run, start_constructed

interrupts.install()
sys.setswitchinterval(100)
connection = open_store(Path(sys.argv[1]))
for attempt in range({tries}):
    run = constructed_run(replications=1, days=3)
    run_id = start_constructed(connection, run, f"run-{{attempt}}")
    go = threading.Event()

    def kill():
        go.wait()
        os.kill(os.getpid(), signal.SIGINT)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()

    def tracer(frame, event, arg):
        if frame.f_code.co_name != "complete_run":
            return None

        def local(frame, event, arg):
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
            if event == "line" and 'execute("COMMIT")' in line:
                go.set()
            return local

        return local

    sys.settrace(tracer)
    try:
        try:
            complete_run(connection, run_id, run, kpis={{}}, timings={{}}, report_path=None)
        finally:
            sys.settrace(None)
            if go.is_set():  # the signal is sent, and handled, before the next try starts
                killer.join()
    except BaseException as err:
        print(run_id, type(err).__name__, str(err).splitlines()[0][:100])
    interrupts.install()
connection.close()
"""


def test_a_run_committed_as_ctrl_c_arrives_keeps_its_results(tmp_path: Path) -> None:
    """DuckDB reports a Ctrl-C during a COMMIT that completes as "Query interrupted"; the run
    then rolled back nothing ("no transaction is active", which hid the interrupt) and removed
    the result files of a run the store records as complete: `export` and `report` of it
    failed for good. Now a complete run has every file it records, and a run not complete has
    none."""
    store = tmp_path / "store.duckdb"
    tests = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(tries=TRIES), str(store), str(tests)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "TransactionException" not in done.stdout, done.stdout
    with open_store(store, read_only=True) as connection:
        results = results_dir_of(connection)
        runs = list_runs(connection)
        assert len(runs) == TRIES
        for run in runs:
            files = run_files(connection, run.run_id)
            on_disk = sorted(p.name for p in (results / "runs").glob(f"*{run.run_id}/*.parquet"))
            if run.status == COMPLETE:
                assert len(files) == 2
                for item in files:
                    path = results / item.path
                    assert path.is_file(), f"{run.run_id}: complete, but {item.path} is gone"
                    assert path.stat().st_size == item.bytes
            else:
                assert files == [] and on_disk == [], run.run_id


# The child runs small.toml once and sends itself SIGINT as the run, committed complete, is about
# to put its report in place: the handler raises before the rename.
AFTER_COMMIT = """
import os, signal, sys
from pathlib import Path

import pytest
from bordersim import interrupts
from bordersim.services import record
from bordersim.services.loading import load_and_compile

interrupts.install()
put_in_place = record._put_in_place
interrupt = [True]

def interrupted_once(*args, **kwargs):
    if interrupt.pop() if interrupt else False:
        os.kill(os.getpid(), signal.SIGINT)
    return put_in_place(*args, **kwargs)

record._put_in_place = interrupted_once
loaded = load_and_compile(Path(sys.argv[1]))
try:
    record.simulate_and_record(
        loaded, Path(sys.argv[2]), engine="event", replications=1, seed=1,
        out_dir=Path(sys.argv[3]), records=False,
    )
except BaseException as err:
    print("raised", type(err).__name__)
"""


@pytest.mark.slow
def test_a_run_interrupted_once_committed_keeps_its_report(tmp_path: Path) -> None:
    """Ctrl-C after the store committed the run complete, before its report was renamed into
    place: the temporary report was deleted, so the complete run's catalog entry named a
    report that was never written. Now the report is put in place, and the interrupt is still
    reported."""
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    small = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "small.toml"
    done = subprocess.run(
        [sys.executable, "-c", AFTER_COMMIT, str(small), str(store), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "raised Interrupted" in done.stdout, done.stdout + done.stderr[-2000:]
    with open_store(store, read_only=True) as connection:
        (run,) = list_runs(connection)
    assert run.status == COMPLETE
    assert run.report_path is not None and Path(run.report_path) == out / "report.html"
    assert (out / "report.html").is_file()
    assert not [p.name for p in out.iterdir() if p.name != "report.html"]  # no temporary left
