"""The store is checked when opened, waits for another process instead of failing, and repairs
runs whose process died (issue 10)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from bordersim.cli import main
from bordersim.errors import ModelError
from bordersim.store import StoreError, open_store, results_dir
from bordersim.store.connection import HEADER_BYTES, connect_current, read_head
from bordersim.store.runs import (
    COMPLETE,
    FAILED,
    RUNNING,
    complete_run,
    get_run,
    new_run_id,
    repair_dead_runs,
    start_run,
)
from constructed_runs import constructed_run


def _start(connection: duckdb.DuckDBPyConnection, out_dir: Path | None = None) -> str:
    run_id = new_run_id("constructed")
    start_run(
        connection,
        run_id,
        scenario_name="constructed",
        scenario_hash="f" * 64,
        scenario_text="",
        engine="event",
        seed=1,
        replications=2,
        code_version="test",
        out_dir=out_dir,
    )
    return run_id


def _one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    return lines[0]


@pytest.mark.parametrize("command", [["data", "show"], ["runs"]])
def test_a_mistyped_store_is_not_created_by_a_reading_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    typo = tmp_path / "stroe.duckdb"
    line = _one_error_line(capsys, [*command, "--store", str(typo)])
    assert "no store here" in line and "mistyped" in line
    assert not typo.exists() and list(tmp_path.iterdir()) == []


def test_read_only_open_of_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here"):
        open_store(tmp_path / "sub" / "none.duckdb", read_only=True)
    assert not (tmp_path / "sub").exists()


def test_a_foreign_duckdb_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "analysis.duckdb"
    with duckdb.connect(str(foreign)) as connection:
        connection.execute("CREATE TABLE measurements (x INTEGER)")
    before = foreign.read_bytes()
    with pytest.raises(StoreError, match=r"not a bordersim store .*measurements"):
        open_store(foreign)
    assert foreign.read_bytes() == before


def test_a_file_that_is_not_duckdb_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.duckdb"
    text.write_text("my notes\n" * 10, encoding="utf-8")
    with pytest.raises(StoreError, match="not a DuckDB database"):
        open_store(text)
    assert text.read_text(encoding="utf-8") == "my notes\n" * 10


def test_an_empty_file_becomes_the_store_and_a_reading_command_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store file made empty (`touch store.duckdb`) was meant to be made into the store, but
    DuckDB refuses such a file: `data import` and `run` said "cannot open the store (IO Error: The
    file ... exists, but it is not a valid DuckDB database file!)". A command that may create
    the store now makes it there; a reading one says the file is empty, not a store yet."""
    from data.official_samples import small_csv_rows, write_csv  # tests/data's samples

    store = tmp_path / "store.duckdb"
    store.touch()
    for command in (["data", "show"], ["store", "verify"], ["runs"]):
        line = _one_error_line(capsys, [*command, "--store", str(store)])
        assert f"{store}: is an empty file, not a store yet" in line, line
        assert store.stat().st_size == 0
    csv_path = write_csv(tmp_path / "cbp.csv", small_csv_rows())
    assert main(["data", "import", str(csv_path), "--store", str(store)]) is None
    with open_store(store, read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM cbp_swb_encounters").fetchone() == (3,)
    # through a symbolic link to an empty file: the store is made where it points, the link kept
    target, link = tmp_path / "elsewhere.duckdb", tmp_path / "link.duckdb"
    target.touch()
    link.symlink_to(target)
    assert main(["data", "import", str(csv_path), "--store", str(link)]) is None
    assert link.is_symlink() and target.stat().st_size > 0


@pytest.mark.parametrize("fraction", [0.99, 0.7, 0.3])
def test_a_truncated_store_is_refused_on_open(tmp_path: Path, fraction: float) -> None:
    store = tmp_path / "store.duckdb"
    with open_store(store) as connection:
        run_id = _start(connection)
        complete_run(
            connection, run_id, constructed_run(40, 60), kpis={}, timings={}, report_path=None
        )
    data = store.read_bytes()
    store.write_bytes(data[: int(len(data) * fraction)])
    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"damaged|cannot open"):
            open_store(store, read_only=read_only)


def test_read_only_open_writes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    before = store.read_bytes()
    with open_store(store, read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        with pytest.raises(duckdb.Error):
            connection.execute("DELETE FROM runs")
    assert store.read_bytes() == before


def _hold_store(store: Path, seconds: float, *, read_only: bool = False) -> subprocess.Popen[str]:
    """Another process (not bordersim: DuckDB alone, as in a notebook) that holds the store
    for `seconds`, for writing or, `read_only`, for reading."""
    code = textwrap.dedent(
        f"""
        import time, duckdb
        c = duckdb.connect({str(store)!r}, read_only={read_only})
        print("holding", flush=True)
        time.sleep({seconds})
        c.close()
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_an_open_waits_for_another_process_and_says_so(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    holder = _hold_store(store, 2.0)
    started = time.monotonic()
    with open_store(store, wait_s=30) as connection:
        waited = time.monotonic() - started
        assert connection.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    holder.wait(timeout=30)
    assert 0.5 < waited < 30
    assert "waiting for the store" in capfd.readouterr().err


@pytest.mark.parametrize("read_only", [False, True])
def test_an_open_gives_up_with_one_message(tmp_path: Path, read_only: bool) -> None:
    """The line said "another bordersim process is writing to it" of any process holding the
    store, a notebook only reading it included; it says what it knows, as the waiting line
    does: another process is using it, and which."""
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    holder = _hold_store(store, 10.0, read_only=read_only)
    try:
        with pytest.raises(StoreError, match=r"another process is using it \(PID") as refused:
            open_store(store, wait_s=0.3)
        assert f"PID {holder.pid})" in str(refused.value)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-1"])
def test_a_wait_that_is_not_a_finite_number_of_seconds_is_refused(
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """BORDERSIM_STORE_WAIT=abc was the default 120 s and nan was 0 s, silently: now one line
    naming the variable and its value, exit 2."""
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    monkeypatch.setenv("BORDERSIM_STORE_WAIT", value)
    with pytest.raises(SystemExit) as stopped:
        main(["runs", "--store", str(store)])
    assert stopped.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        f"error: BORDERSIM_STORE_WAIT={value!r}: the seconds to wait for a store another "
        "process is using must be a finite number of at least 0"
    )
    monkeypatch.setenv("BORDERSIM_STORE_WAIT", "0.5")  # a number is taken as it is
    open_store(store).close()


def _another_process_can_write(store: Path) -> bool:
    code = textwrap.dedent(
        f"""
        import duckdb
        try:
            duckdb.connect({str(store)!r}).close()
            print("in")
        except duckdb.IOException as err:
            print("locked" if "lock" in str(err).lower() else err)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip() == "in"


def test_an_open_store_stays_locked_while_the_same_process_reads_or_opens_it_again(
    tmp_path: Path,
) -> None:
    """DuckDB's lock is a POSIX record lock, which the kernel drops for the whole process when
    the process closes any descriptor of the file: reading the file's head (as every open does)
    beside an open connection must not close one."""
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    with open_store(store) as holding:
        assert read_head(store, HEADER_BYTES)[8:12] == b"DUCK"
        with open_store(store) as again:  # checks the file's head, then shares the database
            assert again.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        assert holding.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        assert not _another_process_can_write(store)
    assert _another_process_can_write(store)


def test_threads_reading_the_head_while_others_close_their_connections(tmp_path: Path) -> None:
    """The web workbench's threads open and close read-only connections at once: a descriptor
    found open may be closed, and its number given to another file, before it is read."""
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    other = tmp_path / "other"
    other.mkdir()
    heads: list[bytes] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(150):
                connection = connect_current(store, read_only=True)
                heads.append(read_head(store, 12))
                connection.close()
                os.close(os.open(other, os.O_RDONLY))  # reuses descriptor numbers
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(heads) == 600 and {head[8:12] for head in heads} == {b"DUCK"}


@pytest.mark.slow
def test_processes_opening_the_store_in_turn_lose_no_committed_write() -> None:
    """Eight processes each open the file, insert, close, open, check and update, close, 30
    times (`bench.store_opens`). With plain `duckdb.connect` this loses rows in each of three
    trials (DuckDB reads the headers before taking its lock); `connect_current` loses none."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.store_opens", "--trials", "1"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "240 writes, 240 rows kept, 240 done, 0 processes stopped" in done.stdout


def _killed_while_running(store: Path, out: Path) -> None:
    """A process records run "victim" in `store`, leaves a temporary report in `out` and is
    killed (SIGKILL)."""
    open_store(store).close()
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from bordersim.store import open_store
        from bordersim.store.runs import start_run, temporary_name
        out = Path({str(out)!r}); out.mkdir()
        with open_store({str(store)!r}) as c:
            start_run(c, "victim", scenario_name="x", scenario_hash="h", scenario_text="",
                      engine="event", seed=1, replications=1, code_version="t", out_dir=out)
        temporary_name(out / "report.html").write_text("partial")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert done.returncode == -9


def test_a_run_whose_process_died_is_failed_and_its_temporary_files_removed(
    tmp_path: Path,
) -> None:
    """A process records a run, leaves a temporary report and is killed (SIGKILL); the next
    open for writing marks the run failed and removes the file."""
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    _killed_while_running(store, out)
    assert len(list(out.glob(".report.html.*.tmp"))) == 1
    with open_store(store, read_only=True) as connection:
        assert get_run(connection, "victim").status == RUNNING
    with open_store(store) as connection:
        assert get_run(connection, "victim").status == FAILED
        failure = connection.execute("SELECT failure FROM runs WHERE run_id = 'victim'").fetchone()
    assert failure is not None and "ended without finishing" in failure[0]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", [["runs"], ["runs", "--repair"]])
def test_runs_says_which_dead_run_it_repaired_and_the_files_it_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """`runs` and `runs --repair` repaired a run whose process was killed without a word (the
    store's open had done it), so "removed N temporary file(s)" could never print; both now say
    which run they failed and what they removed."""
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    _killed_while_running(store, out)
    main([*command, "--store", str(store)])
    said = " ".join(capsys.readouterr().out.split())
    assert "repaired victim: failed, its process" in said, said
    assert "ended without finishing (killed or crashed); removed 1 temporary file" in said, said
    assert "nothing to repair" not in said
    assert list(out.iterdir()) == []
    main(["runs", "--repair", "--store", str(store)])
    assert "nothing to repair" in capsys.readouterr().out


def test_a_live_run_is_not_repaired(tmp_path: Path) -> None:
    with open_store(tmp_path / "store.duckdb") as connection:
        run_id = _start(connection)
        assert repair_dead_runs(connection, include_unknown=True) == []
        assert get_run(connection, run_id).status == RUNNING


def test_a_run_recorded_without_a_process_is_repaired_on_request(tmp_path: Path) -> None:
    with open_store(tmp_path / "store.duckdb") as connection:
        run_id = _start(connection)
        connection.execute("UPDATE runs SET host = NULL, pid = NULL WHERE run_id = ?", [run_id])
        assert repair_dead_runs(connection) == []
        assert [r.run_id for r in repair_dead_runs(connection, include_unknown=True)] == [run_id]
        assert get_run(connection, run_id).status == FAILED


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_results_are_never_complete(tmp_path: Path, bad: float) -> None:
    run = constructed_run(2, 5)
    run.daily[1, 3, 0, 2] = bad
    with open_store(tmp_path / "store.duckdb") as connection:
        run_id = _start(connection)
        with pytest.raises(ModelError, match=r"non-finite values .*replication 1"):
            complete_run(connection, run_id, run, kpis={}, timings={}, report_path=None)
        assert get_run(connection, run_id).status == RUNNING
        assert connection.execute("SELECT count(*) FROM run_files").fetchone() == (0,)
        assert not (results_dir(connection) / "runs").exists()
        assert COMPLETE not in {
            row[0] for row in connection.execute("SELECT status FROM runs").fetchall()
        }


def test_an_older_store_is_migrated_with_its_runs(tmp_path: Path) -> None:
    from bordersim.store.migrations import MIGRATIONS

    store = tmp_path / "old.duckdb"
    with duckdb.connect(str(store)) as connection:
        connection.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR NOT "
            "NULL, applied_at TIMESTAMP NOT NULL)"
        )
        for statement in MIGRATIONS[0].statements:
            connection.execute(statement)
        connection.execute("INSERT INTO schema_version VALUES (1, 'v1', now()::TIMESTAMP)")
        connection.execute(
            "INSERT INTO runs (run_id, status, created_at) VALUES ('old', 'complete', now())"
        )
    shutil.copy(store, tmp_path / "copy.duckdb")
    with open_store(store) as connection:
        assert get_run(connection, "old").status == COMPLETE
        latest = MIGRATIONS[-1].version
        assert connection.execute("SELECT max(version) FROM schema_version").fetchone() == (latest,)
    assert os.path.getsize(tmp_path / "copy.duckdb") > 0


@pytest.mark.parametrize("command", [["runs"], ["store", "verify"]])
def test_a_store_from_a_newer_bordersim_is_refused_naming_it_and_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """`runs` (which opens to write) said the version was newer without naming the store, and
    `store verify` (which only reads) named it without saying what to do: both name the file
    and say to upgrade bordersim or use another store."""
    store = tmp_path / "newer.duckdb"
    open_store(store).close()
    with duckdb.connect(str(store)) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, 'future', now()::TIMESTAMP)")
    line = _one_error_line(capsys, [*command, "--store", str(store)])
    assert line.startswith(f"error: {store}: store schema version 99 is newer"), line
    assert line.endswith("upgrade bordersim or use another store"), line


MYSQL = "mysql://analyst@db.example.org/bordersim"


@pytest.mark.parametrize(
    ("argv", "named", "location"),
    [
        (["runs", "--store", MYSQL], "--store", MYSQL),
        (
            ["store", "verify", "--store", "postgresql+psycopg://db/b"],
            "--store",
            "postgresql+psycopg://db/b",
        ),
        (
            ["sweep", "--resume", "small-0", "--store", "sqlite:///b.db"],
            "--store",
            "sqlite:///b.db",
        ),
        (["store", "copy", MYSQL, "copy.duckdb"], "SOURCE", MYSQL),
        (["store", "copy", "copy.duckdb", MYSQL], "DEST", MYSQL),
    ],
)
def test_a_store_url_of_another_database_is_refused_as_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    named: str,
    location: str,
) -> None:
    """A URL of another database was taken for a file path with a slash dropped: "error:
    /home/me/mysql:/analyst@db...: no store here (is --store ... mistyped?)". It is refused as
    the URL it is, naming the two kinds of store bordersim has, and nothing is made."""
    monkeypatch.chdir(tmp_path)
    line = _one_error_line(capsys, argv)
    assert line == (
        f"error: {named}: {location!r} is not a store bordersim can open: give a DuckDB store "
        "file or a postgresql:// URL"
    )
    assert list(tmp_path.iterdir()) == []
