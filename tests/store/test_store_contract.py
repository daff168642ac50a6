"""One contract, two stores: every test here runs against the embedded DuckDB store and against a
PostgreSQL catalog on a real server (`store_url` in conftest.py)."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import postgres_server
from bordersim.errors import BordersimError
from bordersim.report.export import export_run
from bordersim.results.schema import DAILY_METRICS
from bordersim.store import open_catalog, results_dir, using_store
from bordersim.store.interface import results_dir_of
from bordersim.store.migrations import recorded_version
from bordersim.store.postgres import shown_url
from bordersim.store.read_only import read_only_store
from bordersim.store.result_files import verify_files
from bordersim.store.runs import (
    COMPLETE,
    FAILED,
    RUNNING,
    complete_run,
    fail_run,
    get_run,
    has_run,
    list_failures,
    list_runs,
    load_result,
    repair_dead_runs,
    run_context,
    run_files,
    save_run_context,
    set_report_path,
)
from bordersim.store.sweeps import record_sweep
from constructed_runs import constructed_run, start_constructed

REPO = Path(__file__).resolve().parents[2]


def test_a_complete_run_reads_back_identical(store_url: str) -> None:
    run = constructed_run(3, 8)
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)
    with open_catalog(store_url) as catalog:
        start_constructed(catalog, run, "r-1")
        assert get_run(catalog, "r-1").status == RUNNING and has_run(catalog, "r-1")
        save_run_context(
            catalog,
            "r-1",
            sources={"a.b": "a source"},
            warnings=("w1",),
            calibration="/c.json",
            calibration_sha256="ab12",
        )
        complete_run(
            catalog, "r-1", run, kpis={"k": {"mean": 1.5}}, timings={"run_s": 2.0}, report_path="x"
        )
    with open_catalog(store_url, create=False) as catalog:
        stored = get_run(catalog, "r-1")
        assert stored.status == COMPLETE and stored.kpis == {"k": {"mean": 1.5}}
        assert stored.created_at is not None and before <= stored.created_at
        assert stored.finished_at is not None and stored.finished_at >= stored.created_at
        kept = run_context(catalog, "r-1")
        assert kept == ({"a.b": "a source"}, ("w1",), "/c.json", "ab12")
        back = load_result(catalog, "r-1")
        assert {f.kind for f in run_files(catalog, "r-1")} == {"daily", "custody_hist"}
        assert verify_files(results_dir_of(catalog), run_files(catalog)) == []
    np.testing.assert_array_equal(back.daily, run.daily)
    np.testing.assert_array_equal(back.custody_hist, run.custody_hist)
    assert (back.dates, back.sectors, back.engine) == (run.dates, run.sectors, run.engine)


def test_a_failed_run_keeps_no_results_and_says_why(store_url: str) -> None:
    run = constructed_run(2, 4)
    with open_catalog(store_url) as catalog:
        start_constructed(catalog, run, "r-2")
        fail_run(catalog, "r-2", reason="it broke")
        assert get_run(catalog, "r-2").status == FAILED
        with pytest.raises(BordersimError, match="not running"):
            complete_run(catalog, "r-2", run, kpis={}, timings={}, report_path=None)
        assert run_files(catalog, "r-2") == []
        assert list_failures(catalog) == {"r-2": "it broke"}
        with pytest.raises(BordersimError, match="failed, not complete"):
            load_result(catalog, "r-2")
        with pytest.raises(BordersimError, match="no run 'nope'"):
            get_run(catalog, "nope")
        assert not any((results_dir_of(catalog) / "runs").glob("*"))


def _record_a_blocked_sweep(catalog: Any) -> None:
    """A blocked sweep of four blocks, id small-0123456789ab, as `bordersim sweep` records one."""
    record_sweep(
        catalog,
        "small-0123456789ab",
        scenario_name="small",
        scenario_hash="f" * 64,
        plan_json="{}",
        blocks=4,
        code_version="test",
    )


def test_an_id_the_runs_lack_is_refused_naming_the_store_or_the_sweep_it_is(
    store_url: str,
) -> None:
    """`bordersim report` or `export` of an id the runs lack said "no run 'X' in the store"
    without naming the store asked; given the id of a blocked sweep, which `bordersim runs`
    lists, it said the same, as if the id were mistyped. The store is named (a URL without its
    password) and a sweep's id is said to be one, with the command that writes its KPIs."""
    with open_catalog(store_url) as catalog:
        _record_a_blocked_sweep(catalog)
        with pytest.raises(BordersimError) as missing:
            get_run(catalog, "nope")
        with pytest.raises(BordersimError) as sweep:
            get_run(catalog, "small-0123456789ab")
    shown = shown_url(store_url) if store_url.startswith("postgresql:") else store_url
    said = str(missing.value)
    # the command that lists this store's runs, not the default store's `bordersim runs`
    assert said.endswith(
        f"{shown[-40:]}: no run 'nope' in this store; it holds 0 runs: `bordersim runs "
        f"--store {shlex.quote(shown)}` lists them"
    ), said
    # the store is not the default one: the command names it, so that it works as printed
    assert str(sweep.value) == (
        "'small-0123456789ab' is a blocked sweep, not a run: `bordersim sweep "
        f"--resume small-0123456789ab --store {shlex.quote(shown)}` writes its KPI table and "
        "report again"
    ), sweep.value


def test_a_sweep_id_in_the_default_store_is_told_its_command_without_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the default store the sweep's command needs no --store, and is given none."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    with open_catalog() as catalog:
        _record_a_blocked_sweep(catalog)
        with pytest.raises(BordersimError) as sweep:
            get_run(catalog, "small-0123456789ab")
    assert str(sweep.value) == (
        f"{(tmp_path / '.bordersim' / 'bordersim.duckdb').absolute()}: 'small-0123456789ab' is "
        "a blocked sweep, not a run: `bordersim sweep --resume small-0123456789ab` writes its "
        "KPI table and report again"
    )


def test_runs_are_listed_in_order_with_their_report(store_url: str) -> None:
    run = constructed_run(1, 3)
    with open_catalog(store_url) as catalog:
        for run_id in ("a-1", "b-2", "c-3"):
            start_constructed(catalog, run, run_id)
        set_report_path(catalog, "b-2", "/tmp/report.html")
        listed = list_runs(catalog)
    assert [r.run_id for r in listed] == ["a-1", "b-2", "c-3"]
    assert [r.report_path for r in listed] == [None, "/tmp/report.html", None]


def test_times_are_recorded_in_utc_whatever_the_local_time_zone(store_url: str) -> None:
    """`bordersim runs` heads its column "created (UTC)", but the embedded store recorded the
    machine's local time (DuckDB's now() cast in the local time zone): a run made at 15:00 UTC
    on a machine at UTC+14 was listed as created at 05:00 the next day. Both stores record UTC."""
    code = textwrap.dedent(
        f"""
        from bordersim.store import open_catalog
        from bordersim.store.sweeps import record_sweep
        from constructed_runs import constructed_run, start_constructed
        with open_catalog({store_url!r}) as catalog:
            start_constructed(catalog, constructed_run(1, 3), "far-east")
            record_sweep(catalog, "small-0123456789ab", scenario_name="small",
                         scenario_hash="f" * 64, plan_json="{{}}", blocks=4, code_version="t")
        """
    )
    env = {**os.environ, "TZ": "Pacific/Kiritimati"}  # UTC+14 all year
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests"), env.get("PYTHONPATH", "")])
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with open_catalog(store_url, create=False) as catalog:
        (run,) = list_runs(catalog)
        created = catalog.execute("SELECT created_at FROM sweeps").fetchone()[0]
    slack = dt.timedelta(seconds=5)
    assert run.created_at is not None and before - slack <= run.created_at <= after + slack
    assert before - slack <= created <= after + slack


def test_a_report_file_belongs_to_the_last_run_written_to_it(store_url: str) -> None:
    """Two runs written to one folder (`--out` given again), then a rewrite into it: the catalog
    never names a file as one run's report once another run's report is there."""
    run = constructed_run(1, 3)
    with open_catalog(store_url) as catalog:
        for run_id in ("a-1", "b-2", "c-3"):
            start_constructed(catalog, run, run_id)
        complete_run(catalog, "a-1", run, kpis={}, timings={}, report_path="/o/report.html")
        complete_run(catalog, "b-2", run, kpis={}, timings={}, report_path="/o/report.html")
        complete_run(catalog, "c-3", run, kpis={}, timings={}, report_path="/p/report.html")
        assert [r.report_path for r in list_runs(catalog)] == [
            None,
            "/o/report.html",
            "/p/report.html",
        ]
        set_report_path(catalog, "a-1", "/p/report.html")
        assert [r.report_path for r in list_runs(catalog)] == [
            "/p/report.html",
            "/o/report.html",
            None,
        ]


def test_a_run_whose_process_died_is_repaired(store_url: str) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with open_catalog(store_url) as catalog:
        start_constructed(catalog, constructed_run(1, 2), "r-3")
        catalog.execute("UPDATE runs SET pid = ? WHERE run_id = ?", [int(dead.stdout), "r-3"])
        assert [r.run_id for r in repair_dead_runs(catalog)] == ["r-3"]
        assert get_run(catalog, "r-3").status == FAILED


def test_export_and_read_only_opens(store_url: str, tmp_path: Path) -> None:
    run = constructed_run(2, 3)
    with using_store(store_url) as catalog:
        start_constructed(catalog, run, "r-4")
        complete_run(catalog, "r-4", run, kpis={}, timings={}, report_path=None)
    with read_only_store(store_url) as catalog:
        rows = export_run(
            catalog, "r-4", tmp_path / "e.csv", file_format="csv", metrics=["encounters"]
        )
        np.testing.assert_array_equal(load_result(catalog, "r-4").daily, run.daily)
    table = pd.read_csv(tmp_path / "e.csv")
    assert rows == len(table) == 2 * 3 * 2
    cost = run.daily[..., DAILY_METRICS.index("encounters")]
    assert sorted(table["value"]) == pytest.approx(sorted(cost.reshape(-1)), rel=1e-15)


def test_the_results_folder_is_where_the_store_says(store_url: str) -> None:
    with open_catalog(store_url) as catalog:
        folder = results_dir_of(catalog)
    assert results_dir(store_url) == folder
    if store_url.startswith("postgresql://"):
        assert folder.name == "shared-results"
    else:
        assert folder == Path(store_url).with_name("bordersim.results")


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from constructed_runs import constructed_run, start_constructed
    from bordersim.store import using_store
    from bordersim.store.result_files import write_run_files
    from bordersim.store import results_dir
    from bordersim.store.runs import complete_run, start_run

    url, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    run = constructed_run(2, 5, seed=worker)
    for i in range(count):
        run_id = f"w{{worker}}-{{i}}"
        with using_store(url) as catalog:
            start_run(catalog, run_id, scenario_name="constructed", scenario_hash="h",
                      scenario_text="", engine="flow", seed=worker, replications=2,
                      code_version="test")
        written = write_run_files(results_dir(url), run_id, run)  # the store is not held
        with using_store(url) as catalog:
            complete_run(catalog, run_id, run, kpis={{}}, timings={{}}, report_path=None,
                         written=written)
    """
)


def test_eight_writer_processes_lose_and_duplicate_nothing(store_url: str, tmp_path: Path) -> None:
    writers, each = 8, 4
    open_catalog(store_url).close()  # created once, as `bordersim serve` or a first run does
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(tests=str(REPO / "tests")))
    environment = {**os.environ, "BORDERSIM_STORE_WAIT": "300"}
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), store_url, str(w), str(each)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for w in range(writers)
    ]
    outcomes = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in processes]
    failures = [err for code, err in outcomes if code != 0]
    assert failures == []
    with open_catalog(store_url, create=False) as catalog:
        runs = list_runs(catalog)
        ids = [r.run_id for r in runs]
        assert len(ids) == len(set(ids)) == writers * each
        assert {r.status for r in runs} == {COMPLETE}
        assert verify_files(results_dir_of(catalog), run_files(catalog)) == []
        back = load_result(catalog, "w5-3")
    np.testing.assert_array_equal(back.daily, constructed_run(2, 5, seed=5).daily)


@pytest.mark.parametrize(
    "command",
    [["data", "show"], ["data", "import"], ["calibrate"], ["forecast"], ["main-job"]],
)
def test_commands_of_official_data_refuse_a_postgresql_store_in_one_line(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """And their help does not offer one (main-job's said 'or a postgresql:// URL'). The line
    names the command among those that need a store file (main-job's did not: it imports the
    official data as they do)."""
    from bordersim.cli import main

    with pytest.raises(SystemExit) as done:
        main([*command, "--store", "postgresql://someone@db.example.org/bordersim?results=/r"])
    assert done.value.code == 2
    error = capsys.readouterr().err.strip()
    assert "needs an embedded store file" in error and "\n" not in error
    assert " ".join(command) in error, error
    main([*command, "--help"])  # help ends the command without an exit here (not standalone)
    assert "postgresql" not in capsys.readouterr().out.lower()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://someone:s3cret@127.0.0.1:1/bordersim?results=/r",
        "postgresql://someone@127.0.0.1:1/bordersim?password=s3cret&results=/r",
        "postgresql://someone@127.0.0.1:1/bordersim?results=/r&password=s3cret",
    ],
)
def test_a_store_that_cannot_be_reached_is_named_without_its_password(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """libpq takes the password in the URL's user part or as `?password=`: neither is shown."""
    from bordersim.cli import main

    with pytest.raises(SystemExit) as done:
        main(["runs", "--store", url])
    assert done.value.code != 0
    error = capsys.readouterr().err
    assert "cannot connect to PostgreSQL" in error
    assert "s3cret" not in error and "***" in error


def test_both_stores_have_the_same_tables_and_columns(store_url: str, tmp_path: Path) -> None:
    """The PostgreSQL migrations build, from the same statements, the embedded store's schema."""
    from bordersim.store.copy import TABLES, columns_of

    with open_catalog(tmp_path / "embedded" / "bordersim.duckdb") as embedded:
        expected = {table: columns_of(embedded, table) for table in TABLES}
    with open_catalog(store_url) as catalog:
        assert {table: columns_of(catalog, table) for table in TABLES} == expected
    assert "sweep_blocks" in expected and "registered_at" in expected["sweep_blocks"]


@pytest.mark.parametrize("results", ["notes.txt", "notes.txt/results"])
def test_a_results_folder_that_cannot_be_made_is_one_line_and_changes_no_catalog(
    results: str, postgres: postgres_server.Server, tmp_path: Path
) -> None:
    """A PostgreSQL store URL whose `results` folder is a file, or lies under one, ended every
    command (run, sweep, serve) in a FileExistsError or NotADirectoryError traceback, after the
    catalog's tables had been made in the database."""
    (tmp_path / "notes.txt").write_text("mine")
    url = postgres.new_store_url(tmp_path / results)
    with pytest.raises(BordersimError) as refused:
        open_catalog(url)
    said = str(refused.value)
    assert "\n" not in said and said.endswith(
        f": cannot make its results folder ({tmp_path / 'notes.txt'} is a file, not a folder)"
    ), said
    assert refused.value.where is not None and shown_url(url).endswith(refused.value.where[3:])
    assert (tmp_path / "notes.txt").read_text() == "mine"
    import psycopg

    with psycopg.connect(url.split("&results=")[0]) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


@pytest.mark.parametrize("given", ["url", "variable"])
def test_a_relative_results_folder_is_refused(
    given: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`?results=shared/r` (or `$BORDERSIM_RESULTS` so) was taken from the working folder: each
    user, and each folder a command ran from, had results of its own, and runs recorded in
    the shared catalog were missing for the others."""
    from bordersim.cli import main

    monkeypatch.chdir(tmp_path)
    url = "postgresql://someone:s3cret@127.0.0.1:1/bordersim"
    if given == "url":
        url += "?results=shared/r"
    else:
        monkeypatch.setenv("BORDERSIM_RESULTS", "shared/r")
    with pytest.raises(SystemExit) as done:
        main(["runs", "--store", url])
    assert done.value.code == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "s3cret" not in error, error
    shown = "results=" if given == "url" else "$BORDERSIM_RESULTS "
    assert f"{shown}shared/r: the results folder must be an absolute path" in error, error
    assert list(tmp_path.iterdir()) == []


def test_a_store_of_the_previous_schema_keeps_its_runs_and_names_new_runs_scenario_file(
    store_url: str,
) -> None:
    """A run now keeps the scenario file it came from (absolute, as given), which its details
    did not name. A store of the schema before (DuckDB 8, PostgreSQL 4) is brought up to date by
    the next open that writes: its runs keep every field, and have no scenario file recorded."""
    import duckdb

    from bordersim.store.migrations import MIGRATIONS, PG_MIGRATIONS, apply_migrations
    from bordersim.store.postgres import PostgresStore

    migrations = PG_MIGRATIONS if store_url.startswith("postgresql") else MIGRATIONS
    # the versions before the scenario file was kept (later migrations come after it)
    before = migrations[: 4 if store_url.startswith("postgresql") else 8]
    if store_url.startswith("postgresql"):
        old: Any = PostgresStore(store_url)
        old.results_dir.mkdir(parents=True, exist_ok=True)
    else:
        Path(store_url).parent.mkdir(parents=True)
        old = duckdb.connect(store_url)
    with old:
        assert apply_migrations(old, before) == before[-1].version
        old.execute(
            """INSERT INTO runs (run_id, created_at, finished_at, status, scenario_name,
            scenario_hash, scenario_text, engine, seed, replications, code_version, kpis_json,
            report_path) VALUES ('old-1', now()::TIMESTAMP, now()::TIMESTAMP, 'complete',
            'small', 'ab', 'name = 1', 'flow', 7, 3, 'v0', '{"k": {"mean": 1.5}}', '/r.html')"""
        )
    run = constructed_run(1, 3)
    with open_catalog(store_url) as catalog:
        assert recorded_version(catalog) == migrations[-1].version
        kept = get_run(catalog, "old-1")
        assert (kept.status, kept.scenario_name, kept.scenario_hash, kept.scenario_text) == (
            COMPLETE,
            "small",
            "ab",
            "name = 1",
        )
        assert (kept.engine, kept.seed, kept.replications, kept.code_version) == (
            "flow",
            7,
            3,
            "v0",
        )
        assert kept.kpis == {"k": {"mean": 1.5}} and kept.report_path == "/r.html"
        assert kept.scenario_path is None
        start_constructed(catalog, run, "new-1", scenario_path="/home/me/scenarios/a b.toml")
        start_constructed(catalog, run, "new-2")
    with read_only_store(store_url) as reader:
        paths = {r.run_id: r.scenario_path for r in list_runs(reader)}
    assert paths == {"old-1": None, "new-1": "/home/me/scenarios/a b.toml", "new-2": None}


def test_bordersim_runs_names_each_runs_scenario_file(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` listed runs without the scenario file each came from; it names it now,
    or says "not recorded" of a run stored without it."""
    from bordersim.cli import main

    run = constructed_run(1, 3)
    with open_catalog(store_url) as catalog:
        start_constructed(catalog, run, "with-file", scenario_path="/home/me/a.toml")
        start_constructed(catalog, run, "without-file")
    capsys.readouterr()
    main(["runs", "--store", store_url])
    rows = {
        line.split()[1]: line for line in capsys.readouterr().out.splitlines() if "-file" in line
    }
    assert "/home/me/a.toml" in rows["with-file"]
    assert "not recorded" in rows["without-file"]


def test_store_verify_names_the_folder_its_paths_are_in(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim store verify` named a missing file by its path under the store's results
    folder ("missing (runs/run_id=r-1/daily.parquet)") and never said which folder that was:
    its closing line names it."""
    from bordersim.cli import main

    with open_catalog(store_url) as catalog:
        start_constructed(catalog, constructed_run(1, 2), "r-1")
        complete_run(catalog, "r-1", constructed_run(1, 2), kpis={}, timings={}, report_path=None)
        folder = results_dir_of(catalog)
        (daily,) = [f for f in run_files(catalog, "r-1") if f.kind == "daily"]
    (folder / daily.path).unlink()
    assert main(["store", "verify", "--store", store_url]) == 1  # the exit status
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"1 of 2 result files intact (their paths are under {folder})", lines
