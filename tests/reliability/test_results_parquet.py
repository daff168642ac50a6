"""Run results as Parquet files beside the catalog: written atomically with their checksums, read
in place by DuckDB, and stores of the previous schema (results in tables) migrated without loss."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from bordersim.errors import BordersimError
from bordersim.report.export import export_run
from bordersim.results.schema import DAILY_METRICS, RunResult
from bordersim.store import open_store, results_dir
from bordersim.store.migrations import MIGRATIONS
from bordersim.store.result_files import (
    HIST_POPULATIONS,
    sha256_of,
    verify_files,
    write_run_files,
)
from bordersim.store.runs import (
    COMPLETE,
    complete_run,
    get_run,
    load_result,
    process_start_time,
    run_files,
)
from constructed_runs import constructed_run, start_constructed

RESULT_TABLES = {
    "run_daily": "replication, date, sector, metric, value",
    "run_custody_hist": "replication, sector, population, hours, count",
}


# ----- a store of the previous schema ----------------------------------------------------------
def _old_tidy_rows(run_id: str, run: RunResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows the previous bordersim's `complete_run` inserted into its two result tables."""
    r, d, s, m = np.indices(run.daily.shape).reshape(4, -1)
    daily = pd.DataFrame(
        {
            "run_id": run_id,
            "replication": r.astype(np.int32),
            "date": np.array(run.dates, dtype="datetime64[D]")[d],
            "sector": np.array([sec.name for sec in run.sectors])[s],
            "metric": np.array(DAILY_METRICS)[m],
            "value": run.daily.reshape(-1),
        }
    )
    r, s, p, h = np.nonzero(run.custody_hist)
    hist = pd.DataFrame(
        {
            "run_id": run_id,
            "replication": r.astype(np.int32),
            "sector": np.array([sec.name for sec in run.sectors])[s],
            "population": np.array([HIST_POPULATIONS[i] for i in range(2)])[p],
            "hours": h.astype(np.int32),
            "count": run.custody_hist[r, s, p, h],
        }
    )
    return daily, hist


def make_previous_store(path: Path, runs: dict[str, RunResult]) -> None:
    """A store as the previous bordersim (schema version 3) left it: its shipped migrations, runs
    complete with their results in `run_daily` and `run_custody_hist`, one failed run without,
    and a row of imported official data."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR NOT "
            "NULL, applied_at TIMESTAMP NOT NULL)"
        )
        for migration in MIGRATIONS[:3]:
            assert migration.step is None  # shipped as SQL alone
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)",
                [migration.version, migration.description],
            )
        for run_id, run in runs.items():
            _start_as_before(connection, run, run_id)
            daily, hist = _old_tidy_rows(run_id, run)
            connection.register("old_daily", daily)
            connection.register("old_hist", hist)
            connection.execute("INSERT INTO run_daily SELECT * FROM old_daily")
            connection.execute("INSERT INTO run_custody_hist SELECT * FROM old_hist")
            connection.execute(
                "UPDATE runs SET status = 'complete', kpis_json = '{}', timings_json = '{}' "
                "WHERE run_id = ?",
                [run_id],
            )
        _start_as_before(connection, constructed_run(1, 2), "gave-up-20230101-000000-0000")
        connection.execute("UPDATE runs SET status = 'failed' WHERE run_id LIKE 'gave-up%'")
        connection.execute(
            "INSERT INTO data_imports VALUES ('ohss', 'f.xlsx', 'abc', 'x', 7, now()::TIMESTAMP)"
        )


def _start_as_before(connection: duckdb.DuckDBPyConnection, run: RunResult, run_id: str) -> None:
    """`run` recorded as started by a bordersim of schema version 3 (the columns it had)."""
    connection.execute(
        """INSERT INTO runs (run_id, created_at, status, scenario_name, scenario_hash,
        scenario_text, engine, seed, replications, code_version, host, pid, process_start)
        VALUES (?, now()::TIMESTAMP, 'running', ?, ?, 'name = 1', ?, ?, ?, 'old', ?, ?, ?)""",
        [
            run_id,
            run.scenario_name,
            run.scenario_hash,
            run.engine,
            run.seed,
            run.n_replications,
            socket.gethostname(),
            os.getpid(),
            process_start_time(os.getpid()),
        ],
    )


def _fingerprints(connection: duckdb.DuckDBPyConnection, sources: dict[str, str]) -> dict:
    return {
        table: connection.execute(
            f"SELECT count(*), bit_xor(hash(run_id, {RESULT_TABLES[table]})) FROM {source}"
        ).fetchone()
        for table, source in sources.items()
    }


@pytest.fixture
def previous_store(tmp_path: Path) -> tuple[Path, dict[str, RunResult]]:
    runs = {
        "constructed-20230501-120000-a1b2": constructed_run(3, 9, seed=4),
        "constructed-20230502-120000-c3d4": constructed_run(2, 5, seed=5, engine="flow"),
    }
    store = tmp_path / "old" / "bordersim.duckdb"
    store.parent.mkdir()
    make_previous_store(store, runs)
    return store, runs


def test_a_store_of_the_previous_schema_migrates_its_results_to_parquet_without_loss(
    previous_store: tuple[Path, dict[str, RunResult]],
) -> None:
    store, runs = previous_store
    with duckdb.connect(str(store), read_only=True) as connection:
        before = _fingerprints(connection, {t: t for t in RESULT_TABLES})
    assert before["run_daily"][0] == sum(run.daily.size for run in runs.values())

    with open_store(store) as connection:
        latest = (MIGRATIONS[-1].version,)
        assert connection.execute("SELECT max(version) FROM schema_version").fetchone() == latest
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
        assert not set(RESULT_TABLES) & tables
        folder = results_dir(connection)
        assert folder == store.with_name("bordersim.results")
        # every row, read in place from the hive-partitioned files, is the row that was stored
        glob = str(folder / "runs" / "*")
        after = _fingerprints(
            connection,
            {
                "run_daily": f"read_parquet('{glob}/daily.parquet', hive_partitioning = true)",
                "run_custody_hist": (
                    f"read_parquet('{glob}/custody_hist.parquet', hive_partitioning = true)"
                ),
            },
        )
        assert after == before
        for run_id, run in runs.items():
            assert get_run(connection, run_id).status == COMPLETE
            back = load_result(connection, run_id)
            np.testing.assert_array_equal(back.daily, run.daily)
            np.testing.assert_array_equal(back.custody_hist, run.custody_hist)
            assert back.dates == run.dates and back.sectors == run.sectors
        recorded = run_files(connection)
        assert {f.run_id for f in recorded} == set(runs)  # the failed run had no results
        assert verify_files(folder, recorded) == []
        assert connection.execute("SELECT count(*) FROM data_imports").fetchone() == (1,)
        assert len(connection.execute("SELECT * FROM runs").fetchall()) == 3
    assert not list(folder.rglob("*.partial"))


def test_a_migration_that_cannot_write_its_files_changes_nothing(
    previous_store: tuple[Path, dict[str, RunResult]],
) -> None:
    store, runs = previous_store
    blocker = store.with_name("bordersim.results")
    blocker.write_text("a file where the results folder goes\n")
    with pytest.raises(OSError):
        open_store(store)
    with duckdb.connect(str(store), read_only=True) as connection:
        assert connection.execute("SELECT max(version) FROM schema_version").fetchone() == (3,)
        count = connection.execute("SELECT count(*) FROM run_daily").fetchone()
        assert count == (sum(run.daily.size for run in runs.values()),)
    blocker.unlink()
    with open_store(store) as connection:
        run_id = next(iter(runs))
        np.testing.assert_array_equal(load_result(connection, run_id).daily, runs[run_id].daily)


def test_export_reads_a_migrated_run_in_place(
    previous_store: tuple[Path, dict[str, RunResult]], tmp_path: Path
) -> None:
    store, runs = previous_store
    run_id, run = next(iter(runs.items()))
    out = tmp_path / "export.csv"
    with open_store(store) as connection:
        rows = export_run(connection, run_id, out, file_format="csv", sectors=["RGV"])
    table = pd.read_csv(out)
    assert rows == len(table) == run.daily.size // len(run.sectors)
    first = table.iloc[0]
    assert (first["replication"], first["sector"]) == (0, "RGV")
    expected = run.daily[0, 0, run.sectors.index(run.sectors[1]), DAILY_METRICS.index(first.metric)]
    assert first["value"] == pytest.approx(expected, rel=1e-15)


# ----- new runs ---------------------------------------------------------------------------------
def test_a_completed_run_is_two_checksummed_files_and_nothing_else(tmp_path: Path) -> None:
    run = constructed_run(2, 6)
    with open_store(tmp_path / "s.duckdb") as connection:
        start_constructed(connection, run, "r-1")
        complete_run(connection, "r-1", run, kpis={}, timings={}, report_path=None)
        folder = results_dir(connection)
        recorded = run_files(connection, "r-1")
    assert sorted(p.name for p in (folder / "runs" / "run_id=r-1").iterdir()) == [
        "custody_hist.parquet",
        "daily.parquet",
    ]
    for item in recorded:
        assert sha256_of(folder / item.path) == item.sha256
        assert (folder / item.path).stat().st_size == item.bytes
    assert {f.kind: f.rows for f in recorded}["daily"] == run.daily.size


def test_a_result_file_changed_on_disk_is_one_clear_error(tmp_path: Path) -> None:
    run = constructed_run(2, 6)
    with open_store(tmp_path / "s.duckdb") as connection:
        start_constructed(connection, run, "r-1")
        complete_run(connection, "r-1", run, kpis={}, timings={}, report_path=None)
        folder = results_dir(connection)
    daily = folder / "runs" / "run_id=r-1" / "daily.parquet"
    data = bytearray(daily.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum sees it
    daily.write_bytes(bytes(data))
    with open_store(tmp_path / "s.duckdb") as connection:
        problems = verify_files(folder, run_files(connection))
        assert problems == [f"r-1 daily: changed on disk ({daily.relative_to(folder)})"]
        with pytest.raises(BordersimError, match=r"changed on disk .*another sha256"):
            load_result(connection, "r-1")  # not read as if it were the run's results
    daily.write_bytes(bytes(data[:-10]))
    with (
        open_store(tmp_path / "s.duckdb") as connection,
        pytest.raises(BordersimError, match="changed on disk"),
    ):
        load_result(connection, "r-1")
    shutil.rmtree(daily.parent)
    with (
        open_store(tmp_path / "s.duckdb") as connection,
        pytest.raises(BordersimError, match="are missing"),
    ):
        load_result(connection, "r-1")


def test_results_written_for_a_run_that_is_no_longer_running_are_removed(tmp_path: Path) -> None:
    run = constructed_run(2, 6)
    with open_store(tmp_path / "s.duckdb") as connection:
        start_constructed(connection, run, "r-1")
        folder = results_dir(connection)
        written = write_run_files(folder, "r-1", run)  # as a run does, before holding the store
        assert (folder / written[0].path).is_file()
        connection.execute("UPDATE runs SET status = 'failed' WHERE run_id = 'r-1'")
        with pytest.raises(BordersimError, match="not running"):
            complete_run(
                connection, "r-1", run, kpis={}, timings={}, report_path=None, written=written
            )
        assert run_files(connection, "r-1") == []
    assert not (folder / "runs" / "run_id=r-1").exists()
