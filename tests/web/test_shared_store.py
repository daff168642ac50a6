"""The workbench on a shared store: `bordersim serve --store postgresql://...` runs a job into the
PostgreSQL catalog (its files in the URL's results folder) and shows, exports and reports it,
against a real server (tests/conftest.py)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx2
import pandas as pd
from workbench_server import run_and_wait, start_workbench, stop_workbench

import postgres_server
from bordersim.store import open_catalog
from bordersim.store.interface import results_dir_of
from bordersim.store.result_files import verify_files
from bordersim.store.runs import COMPLETE, get_run, list_runs, run_files


def test_the_workbench_records_and_shows_runs_in_a_postgresql_store(
    postgres: postgres_server.Server, tmp_path: Path
) -> None:
    results = tmp_path / "shared-results"
    url = postgres.new_store_url(results)
    bench = start_workbench(tmp_path / "workbench", "--store", url)
    try:
        run_id = run_and_wait(bench, replications=2)
        with httpx2.Client(base_url=bench.url, timeout=60) as client:
            assert run_id in client.get("/runs").text
            assert client.get(f"/runs/{run_id}").status_code == 200
            assert client.get(f"/runs/{run_id}/report").status_code == 200
            exported = client.get(f"/runs/{run_id}/export.csv", params={"metric": "encounters"})
            assert exported.status_code == 200
            assert client.get("/runs/no-such-run").status_code == 404
    finally:
        stop_workbench(bench)
    table = pd.read_csv(io.StringIO(exported.text))
    assert set(table["replication"]) == {0, 1} and set(table["metric"]) == {"encounters"}
    with open_catalog(url, create=False) as catalog:
        assert [run.run_id for run in list_runs(catalog)] == [run_id]
        assert get_run(catalog, run_id).status == COMPLETE
        assert results_dir_of(catalog) == results
        assert verify_files(results, run_files(catalog, run_id)) == []
    assert not (bench.root / "store.duckdb").exists()  # nothing went to an embedded store
