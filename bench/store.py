"""Store costs, measured side by side in one run.

    python -m bench.store [--replications 20] [--writers 8] [--runs 6]

1. Results of one run of the `2023-title42-end` shape (R replications x 174 days x 9 sectors x
   every daily metric; constructed values): stored the previous release's way (rows inserted into
   a DuckDB table, the store held throughout) and as Parquet files (written without the store,
   then recorded in a short transaction), then read back with `load_result`. Ratios: time to
   store, time the store is held, bytes on disk, time to read back.
2. Catalog registration: writer processes each record `--runs` runs (start, then complete with
   files already written, opening the store for each step as `bordersim run` does), into the
   embedded store and into PostgreSQL (a server started from Debian's binaries as the tests do),
   with 1 writer and with `--writers` at once. Runs recorded per second.

The machine's load average is printed with the figures: on a shared machine they are upper
bounds on the costs, and only the ratios of figures taken in the same run mean much. Results go
to bench/results/store-<host>.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import bench_arguments, count

RESULTS = Path(__file__).parent / "results"
TESTS = Path(__file__).resolve().parents[1] / "tests"


def title42_shaped_run(replications: int) -> Any:
    from bordersim.model.dimensions import Sector
    from bordersim.results.schema import CUSTODY_HIST_HOURS, DAILY_METRICS, RunResult

    rng = np.random.default_rng(7)
    sectors = tuple(Sector)[:9]
    days = 174
    daily = rng.gamma(2.0, 50.0, size=(replications, days, len(sectors), len(DAILY_METRICS)))
    hist = rng.poisson(3.0, size=(replications, len(sectors), 2, CUSTODY_HIST_HOURS + 1))
    return RunResult(
        engine="flow",
        scenario_name="bench",
        scenario_hash="0" * 64,
        seed=1,
        dates=[dt.date(2023, 4, 1) + dt.timedelta(days=d) for d in range(days)],
        sectors=sectors,
        daily=daily,
        custody_hist=hist.astype(np.float64),
        timings={},
    )


def _start(connection: Any, run_id: str, run: Any) -> None:
    from bordersim.store.runs import start_run

    replications = run.n_replications
    start_run(connection, run_id, scenario_name="bench", scenario_hash="h", scenario_text="",
              engine="flow", seed=1, replications=replications, code_version="bench")  # fmt: skip


def results_side_by_side(replications: int, root: Path) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa

    from bordersim.store import open_store
    from bordersim.store.migrations import MIGRATIONS
    from bordersim.store.result_files import daily_chunks, write_run_files
    from bordersim.store.runs import complete_run, load_result

    run = title42_shaped_run(replications)
    rows = int(run.daily.size)

    # The previous release: the rows inserted into the store's table, in one transaction.
    old_path = root / "old.duckdb"
    with duckdb.connect(str(old_path)) as connection:
        connection.execute(MIGRATIONS[0].statements[1])  # CREATE TABLE run_daily
        size_before = old_path.stat().st_size
        started = time.perf_counter()
        connection.execute("BEGIN TRANSACTION")
        for chunk in daily_chunks(run):
            ids = pa.DictionaryArray.from_arrays(
                np.zeros(chunk.num_rows, dtype=np.int32), pa.array(["r"])
            )
            connection.register("incoming", chunk.add_column(0, "run_id", ids))
            connection.execute(
                "INSERT INTO run_daily SELECT run_id, replication, date, sector, metric, value "
                "FROM incoming"
            )
            connection.unregister("incoming")
        connection.execute("COMMIT")
        connection.execute("CHECKPOINT")
        old_store_s = time.perf_counter() - started
        started = time.perf_counter()
        back = connection.execute(
            "SELECT replication, date, sector, metric, value FROM run_daily WHERE run_id = 'r'"
        ).fetchnumpy()
        old_read_s = time.perf_counter() - started
        assert len(back["value"]) == rows
    old_bytes = old_path.stat().st_size - size_before

    # Now: files written without the store, then recorded.
    new_path = root / "new" / "bordersim.duckdb"
    with open_store(new_path) as connection:
        _start(connection, "r", run)
        folder = new_path.with_name("bordersim.results")
        started = time.perf_counter()
        written = write_run_files(folder, "r", run)
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        complete_run(connection, "r", run, kpis={}, timings={}, report_path=None, written=written)
        record_s = time.perf_counter() - started
        started = time.perf_counter()
        loaded = load_result(connection, "r")
        new_read_s = time.perf_counter() - started
    np.testing.assert_array_equal(loaded.daily, run.daily)
    new_bytes = sum(item.bytes for item in written)
    return {
        "rows": rows,
        "table_store_s": old_store_s,
        "table_bytes": old_bytes,
        "table_read_rows_s": old_read_s,
        "parquet_write_s": write_s,
        "parquet_record_s": record_s,
        "parquet_bytes": new_bytes,
        "parquet_load_result_s": new_read_s,
        "store_time_ratio_table_over_parquet": old_store_s / (write_s + record_s),
        "store_held_ratio_table_over_parquet": old_store_s / record_s,
        "bytes_ratio_table_over_parquet": old_bytes / new_bytes,
        "parquet_rows_per_s": rows / write_s,
    }


WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from constructed_runs import constructed_run
    from bordersim.store import results_dir, using_store
    from bordersim.store.result_files import write_run_files
    from bordersim.store.runs import complete_run, start_run

    url, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    run = constructed_run(1, 3, seed=worker)
    files = [write_run_files(results_dir(url), f"w{{worker}}-{{i}}", run) for i in range(count)]
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        run_id = f"w{{worker}}-{{i}}"
        with using_store(url) as catalog:
            start_run(catalog, run_id, scenario_name="bench", scenario_hash="h", scenario_text="",
                      engine="flow", seed=1, replications=1, code_version="bench")
        with using_store(url) as catalog:
            complete_run(catalog, run_id, run, kpis={{}}, timings={{}}, report_path=None,
                         written=files[i])
    """
)


def registration_rate(url: str, writers: int, runs: int, script: Path) -> dict[str, Any]:
    """Runs recorded per second by `writers` processes at once (their imports and files ready
    before the clock starts)."""
    from bordersim.store import open_catalog
    from bordersim.store.runs import COMPLETE, list_runs

    environment = {**os.environ, "BORDERSIM_STORE_WAIT": "600"}
    processes = [
        subprocess.Popen([sys.executable, str(script), url, str(w), str(runs)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment)
        for w in range(writers)
    ]  # fmt: skip
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    codes = [process.wait(timeout=900) for process in processes]
    elapsed = time.perf_counter() - started
    with open_catalog(url, create=False) as catalog:
        stored = list_runs(catalog)
    complete = sum(1 for r in stored if r.status == COMPLETE)
    return {
        "writers": writers,
        "runs": writers * runs,
        "failed_writers": sum(1 for c in codes if c != 0),
        "complete_in_catalog": complete,
        "seconds": elapsed,
        "runs_per_s": writers * runs / elapsed,
    }


def registration_side_by_side(writers: int, runs: int, root: Path) -> dict[str, Any]:
    sys.path.insert(0, str(TESTS))
    import postgres_server
    from bordersim.store import open_catalog

    script = root / "writer.py"
    script.write_text(WRITER.format(tests=str(TESTS)))
    server = postgres_server.start()
    try:
        figures: dict[str, Any] = {}
        for count in (1, writers):
            stores = {
                "duckdb": str(root / f"reg-{count}" / "bordersim.duckdb"),
                "postgresql": server.new_store_url(root / f"pg-results-{count}"),
            }
            for kind, url in stores.items():
                open_catalog(url).close()
                figures[f"{kind}_{count}_writers"] = registration_rate(url, count, runs, script)
        return figures
    finally:
        server.stop()


def main() -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--replications", type=count, default=20)
    parser.add_argument("--writers", type=count, default=8)
    parser.add_argument("--runs", type=count, default=6)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bordersim-bench-store-") as scratch:
        root = Path(scratch)
        results = results_side_by_side(args.replications, root)
        print(json.dumps(results, indent=2))
        registration = registration_side_by_side(args.writers, args.runs, root)
        print(json.dumps(registration, indent=2))
    report = {
        "host": socket.gethostname(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "replications": args.replications,
        "results": results,
        "registration": registration,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"store-{socket.gethostname()}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after; {out}")


if __name__ == "__main__":
    main()
