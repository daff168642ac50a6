"""Moving a store between kinds: embedded DuckDB -> PostgreSQL -> embedded DuckDB keeps every
table (checksums of their rows) and every result file, runs' and sweep blocks' (sha256), and
refuses to overwrite."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import postgres_server
from bordersim.cli import main
from bordersim.errors import BordersimError
from bordersim.ingest import shipped_files
from bordersim.store import open_catalog, open_store
from bordersim.store.copy import (
    OFFICIAL_TABLES,
    TABLES,
    _insert,
    columns_of,
    copy_store,
    table_checksums,
)
from bordersim.store.interface import results_dir_of
from bordersim.store.official import import_official_files
from bordersim.store.postgres import shown_url
from bordersim.store.result_files import sha256_of, verify_files
from bordersim.store.runs import complete_run, fail_run, load_result, run_files, start_run
from bordersim.store.sweeps import (
    SweepBlock,
    record_sweep,
    register_block,
    sweep_files,
    sweep_folder,
)
from constructed_runs import constructed_run


def _add_sweep(connection: duckdb.DuckDBPyConnection, sweep_id: str) -> None:
    """A sweep with one of its two blocks registered (a Parquet file of its own)."""
    results = results_dir_of(connection)
    block = sweep_folder(results, sweep_id) / "blocks" / "variants=00000" / "seeds=00000.parquet"
    block.parent.mkdir(parents=True)
    pq.write_table(pa.table({"variant": [0, 0], "occupancy": [1.5, 2.25]}), block)
    record_sweep(connection, sweep_id, scenario_name="constructed", scenario_hash="h",
                 plan_json='{"seed": 1}', blocks=2, code_version="test")  # fmt: skip
    register_block(
        connection,
        SweepBlock(sweep_id, "variants=00000/seeds=00000", block.relative_to(results).as_posix(),
                   block.stat().st_size, 2, sha256_of(block), ["constructed"], ["h"], 0.5, 1.25,
                   0.125),
    )  # fmt: skip


def _filled_store(path: Path) -> dict[str, np.ndarray]:
    """An embedded store with the shipped official data, two complete runs and a failed one,
    and a sweep with a registered block."""
    daily = {}
    with open_store(path) as connection:
        import_official_files(connection)
        _add_sweep(connection, "constructed-sweep")
        for number, run_id in enumerate(("a-1", "b-2", "c-3")):
            run = constructed_run(2, 6, seed=number)
            start_run(connection, run_id, scenario_name="constructed", scenario_hash="h",
                      scenario_text="name = 'x'\n", engine="event", seed=number,
                      replications=2, code_version="test")  # fmt: skip
            if run_id == "c-3":
                fail_run(connection, run_id, reason="stopped")
            else:
                complete_run(connection, run_id, run, kpis={"k": 1}, timings={}, report_path=None)
                daily[run_id] = run.daily
    return daily


def test_duckdb_to_postgresql_and_back_keeps_every_table_and_file(
    postgres: postgres_server.Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a" / "bordersim.duckdb"
    daily = _filled_store(source)
    shared = postgres.new_store_url(tmp_path / "shared-results")
    back = tmp_path / "b" / "bordersim.duckdb"

    main(["store", "copy", str(source), shared])
    assert "copied 3 runs, 1 sweep and 5 result files" in capsys.readouterr().out
    main(["store", "copy", shared, str(back)])

    with (
        open_catalog(source, create=False) as a,
        open_catalog(shared, create=False) as b,
        open_catalog(back, create=False) as c,
    ):
        sums = [table_checksums(store) for store in (a, b, c)]
        assert sums[0] == sums[1] == sums[2]
        rows = a.execute("SELECT count(*) FROM ohss_encounters").fetchone()
        assert rows is not None and rows[0] > 1000  # the official data came along
        for store in (b, c):
            recorded = run_files(store) + sweep_files(store)
            assert verify_files(results_dir_of(store), recorded) == []
            assert sweep_files(store) == sweep_files(a)
            shas = {(f.run_id, f.kind): f.sha256 for f in run_files(store)}
            assert shas == {(f.run_id, f.kind): f.sha256 for f in run_files(a)}
            for run_id, expected in daily.items():
                np.testing.assert_array_equal(load_result(store, run_id).daily, expected)
    assert set(sums[0]) == set(TABLES)


def test_a_copy_never_overwrites_runs_or_other_official_data(
    postgres: postgres_server.Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a" / "bordersim.duckdb"
    _filled_store(source)
    shared = postgres.new_store_url(tmp_path / "shared-results")
    with open_catalog(source, create=False) as a, open_catalog(shared) as b:
        copy_store(a, b)
        before = table_checksums(b)
        with pytest.raises(BordersimError, match="already holds run 'a-1'"):
            copy_store(a, b)
        assert table_checksums(b) == before
    with pytest.raises(SystemExit) as done:
        main(["store", "copy", str(source), shared])
    assert done.value.code == 2
    # one line naming the destination, as the user gave it (its end, where the URL is long)
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert err.endswith(
        f"{shown_url(shared)[-40:]}: the destination already holds run 'a-1' (3 of the "
        "source's runs in all); nothing was copied\n"
    )


def test_a_store_is_not_copied_into_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a" / "bordersim.duckdb"
    _filled_store(source)
    with open_catalog(source, create=False) as a:
        before = table_checksums(a)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    for dest in ("a/bordersim.duckdb", "link/bordersim.duckdb"):  # one file by any path
        with pytest.raises(SystemExit) as done:
            main(["store", "copy", str(source), dest])
        assert done.value.code == 2
        assert "are the same store" in capsys.readouterr().err
    with open_catalog(source, create=False) as a:
        assert table_checksums(a) == before


def test_a_source_that_is_not_there_is_named_as_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing, dest = tmp_path / "typo.duckdb", tmp_path / "new" / "bordersim.duckdb"
    with pytest.raises(SystemExit) as done:
        main(["store", "copy", str(missing), str(dest)])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {missing}: SOURCE: no store here (mistyped?); nothing was copied"
    assert not missing.exists() and not (tmp_path / "new").exists()
    empty = tmp_path / "touched.duckdb"
    empty.touch()  # an empty file is a store only to a command that records
    with pytest.raises(SystemExit) as done:
        main(["store", "copy", str(empty), str(dest)])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {empty}: SOURCE: an empty file, not a store; nothing was copied"
    assert empty.stat().st_size == 0 and not (tmp_path / "new").exists()


def test_a_failed_copy_leaves_the_destination_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A result file changed in the source (here the last one copied, a sweep's block) is found
    before any file is copied: a new destination store is not left behind, and an existing one
    keeps its tables and gains no files (before, the files copied ahead of it stayed, recorded
    nowhere, and an empty store was left where none had been; then the folder made for it)."""
    source = tmp_path / "a" / "bordersim.duckdb"
    _filled_store(source)
    with open_catalog(source, create=False) as a:
        block = results_dir_of(a) / sweep_files(a)[-1].path
    block.write_bytes(block.read_bytes()[:-1] + b"\x00")
    existing = tmp_path / "c" / "bordersim.duckdb"
    with open_store(existing) as c:  # a store of the user's, with a run of its own
        start_run(c, "z-9", scenario_name="constructed", scenario_hash="h",
                  scenario_text="name = 'x'\n", engine="event", seed=9, replications=2,
                  code_version="test")  # fmt: skip
        complete_run(c, "z-9", constructed_run(2, 6, seed=9), kpis={}, timings={},
                     report_path=None)  # fmt: skip
        before = table_checksums(c)
    files_before = sorted(existing.parent.rglob("*"))
    for dest in (tmp_path / "b" / "bordersim.duckdb", existing):
        with pytest.raises(SystemExit) as done:
            main(["store", "copy", str(source), str(dest)])
        assert done.value.code == 2
        err = capsys.readouterr().err
        assert "is missing or changed in the source; nothing was copied" in err
    assert not (tmp_path / "b").exists()  # nor the folder made for it
    assert sorted(existing.parent.rglob("*")) == files_before
    with open_catalog(existing, create=False) as c:
        assert table_checksums(c) == before


def test_a_row_the_destination_refuses_is_reported_as_itself(tmp_path: Path) -> None:
    """A catalog row that an embedded destination refuses (here a run without its status) ended
    in DuckDB's "Current transaction is aborted", raised by dropping the rows' view inside the
    failed transaction, which hid the refusal itself."""
    with open_store(tmp_path / "bordersim.duckdb") as dest:
        columns = columns_of(dest, "runs")
        dest.execute("BEGIN TRANSACTION")
        with pytest.raises(duckdb.ConstraintException, match="NOT NULL constraint failed"):
            _insert(dest, "runs", columns, [tuple(None for _ in columns)])
        dest.execute("ROLLBACK")
        assert dest.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_a_copy_into_a_folder_that_is_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`store copy SOURCE notes.txt/copy.duckdb` (a file where the destination's folder should
    be) ended in a NotADirectoryError traceback: removing the store it had not made failed on
    the way out, after the refusal itself. It is one line naming that file, exit 2, and the file
    is left as it was."""
    source = tmp_path / "a.duckdb"
    open_store(source).close()
    notes = tmp_path / "notes.txt"
    notes.write_text("the user's", encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["store", "copy", str(source), str(notes / "copy.duckdb")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"cannot create the store's folder ({notes} is a file, not a folder)" in err
    assert notes.read_text(encoding="utf-8") == "the user's"


@pytest.mark.parametrize(
    ("arguments", "named"),
    [(["", "b.duckdb"], "SOURCE"), (["a.duckdb", ""], "DEST")],
    ids=["empty-source", "empty-dest"],
)
def test_an_empty_store_argument_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    named: str,
) -> None:
    """`store copy a.duckdb "$BORDERSIM_STORE"` with the variable unset copied into the default
    store, ./.bordersim/bordersim.duckdb, and said it had (an empty SOURCE copied from it). An
    empty argument is refused, naming it, exit 2, and no store is made or changed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    with open_store(tmp_path / "a.duckdb") as a:
        import_official_files(a, [shipped_files()[1]])  # the CSV: a store that is not empty
    default = tmp_path / ".bordersim" / "bordersim.duckdb"
    open_store(default).close()
    with open_catalog(default, create=False) as held:
        before = table_checksums(held)
    with pytest.raises(SystemExit) as done:
        main(["store", "copy", *arguments])
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"error: store copy: {named} is empty (an unset variable?)" in err, err
    assert not (tmp_path / "b.duckdb").exists()
    with open_catalog(default, create=False) as held:
        assert table_checksums(held) == before


def test_a_second_copy_says_the_official_data_was_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same store copied twice: the second copy's line listed the rows of the tables it
    copied, and the official tables the destination already held with the same rows were missing
    from it without a word, as if the data had not been copied at all. They are named."""
    source, dest = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with open_store(source) as a:
        import_official_files(a, [shipped_files()[1]])  # the CSV only
    assert main(["store", "copy", str(source), str(dest)]) is None
    first = " ".join(capsys.readouterr().out.split())
    assert "cbp_swb_encounters 1,201" in first and "already held" not in first
    with open_catalog(dest, create=False) as b:
        before = table_checksums(b)
    assert main(["store", "copy", str(source), str(dest)]) is None
    second = " ".join(capsys.readouterr().out.split())
    assert (
        "; the destination already held the same official data in data_imports, "
        "cbp_swb_encounters (left as it was)"
    ) in second, second
    with open_catalog(dest, create=False) as b:
        assert table_checksums(b) == before


def test_runs_alone_copy_into_a_store_that_holds_official_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store of runs without official data was refused by a destination holding some ('other
    official data in data_imports'), though there was no data to copy; its runs are copied and
    the destination's data is left as it was, the line saying why."""
    source, dest = tmp_path / "runs.duckdb", tmp_path / "data.duckdb"
    with open_store(source) as a:
        start_run(a, "a-1", scenario_name="constructed", scenario_hash="h",
                  scenario_text="name = 'x'\n", engine="event", seed=1, replications=2,
                  code_version="test")  # fmt: skip
        complete_run(a, "a-1", constructed_run(2, 6, seed=1), kpis={"k": 1}, timings={},
                     report_path=None)  # fmt: skip
    with open_store(dest) as b:
        import_official_files(b, [shipped_files()[1]])  # the CSV only
        official = {t: table_checksums(b)[t] for t in OFFICIAL_TABLES}
    assert main(["store", "copy", str(source), str(dest)]) is None
    line = " ".join(capsys.readouterr().out.split())
    assert line.startswith("copied 1 run, 0 sweeps and 2 result files ("), line
    assert (
        "; the source holds no official data in data_imports, cbp_swb_encounters "
        "(the destination's left as it was)"
    ) in line, line
    with open_catalog(dest, create=False) as b:
        assert {t: table_checksums(b)[t] for t in OFFICIAL_TABLES} == official
        assert [row[0] for row in b.execute("SELECT run_id FROM runs").fetchall()] == ["a-1"]
        assert verify_files(results_dir_of(b), run_files(b)) == []


def test_a_copy_of_a_sweep_under_way_is_to_resume_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sweep under way in the source (its process alive) was copied with that process, so
    that `bordersim runs` of the copy said "running (process N)" of a sweep that no process
    drives there. The copy holds the blocks registered so far, to be finished by `--resume`."""
    source, dest = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with open_store(source) as connection:
        _add_sweep(connection, "constructed-sweep")  # recorded as driven by this process
    main(["runs", "--store", str(source)])
    assert "running (process" in capsys.readouterr().out
    main(["store", "copy", str(source), str(dest)])
    assert "copied 0 runs, 1 sweep and 1 result file" in capsys.readouterr().out
    main(["runs", "--store", str(dest)])
    listed = " ".join(capsys.readouterr().out.split())
    assert "1 of 2 │ unfinished: --resume it" in listed, listed
    main(["runs", "--store", str(source)])  # the source's sweep is still its process's
    assert "running (process" in capsys.readouterr().out


def test_a_copy_says_what_it_copied_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The line saying what `store copy` copied was folded at the page's width, in the middle
    of its table counts ("rows: runs 0, / run_files 0, ..."): it is one line, as the other
    commands' summaries are, to be read or grepped whole."""
    source = tmp_path / "a.duckdb"
    with open_store(source) as connection:
        _add_sweep(connection, "constructed-sweep")
    main(["store", "copy", str(source), str(tmp_path / "b.duckdb")])
    said = capsys.readouterr().out
    assert said.count("\n") == 1, said
    assert said.startswith("copied 0 runs, 1 sweep and 1 result file ("), said
    assert "rows: runs 0, run_files 0, sweeps 1, sweep_blocks 1, data_imports 0," in said, said


def test_a_run_under_way_is_not_copied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run still under way in the source (its process alive) was copied as 'running' with
    that process, where it never finished: the source's process completes it in the source
    only, and the copy later called it failed, "its process ended without finishing". The copy
    is refused, naming the run, until it has finished."""
    source, dest = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with open_store(source) as connection:  # the run is recorded as this process's
        start_run(
            connection,
            "a-1",
            scenario_name="constructed",
            scenario_hash="h",
            scenario_text="name = 'x'\n",
            engine="event",
            seed=1,
            replications=2,
            code_version="test",
        )
    with pytest.raises(SystemExit) as done:
        main(["store", "copy", str(source), str(dest)])
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        f"error: run 'a-1' is still running (process {os.getpid()}); nothing was copied "
        "(copy the store once it has finished)"
    ), err
    assert not dest.exists()


def test_store_verify_run_as_python_m_bordersim_exits_1_on_a_damaged_file(
    tmp_path: Path,
) -> None:
    """`python -m bordersim store verify` named a changed result file and exited 0, as if every
    file were intact (the `bordersim` script exited 1); it exits 1 either way."""
    import subprocess
    import sys

    import bordersim

    store = tmp_path / "bordersim.duckdb"
    with open_store(store) as connection:
        _add_sweep(connection, "constructed-sweep")
        results = results_dir_of(connection)
    (block,) = results.rglob("*.parquet")
    with block.open("ab") as file:
        file.write(b"x")
    done = subprocess.run(
        [sys.executable, "-m", "bordersim", "store", "verify", "--store", str(store)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(bordersim.__file__).parents[1])},
        timeout=300,
    )
    assert "constructed-sweep variants=00000/seeds=00000: changed on disk" in done.stdout, done
    assert "0 of 1 result files intact" in done.stdout, done
    assert done.returncode == 1, done
