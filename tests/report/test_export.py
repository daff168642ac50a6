"""`bordersim export`: a stored run's daily rows as CSV or Parquet, whole or chosen."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bordersim.cli import main
from bordersim.results.schema import DAILY_METRICS, RunResult
from bordersim.store import open_store
from bordersim.store.runs import complete_run
from constructed_runs import start_constructed


def _stored(store: Path, run: RunResult) -> str:
    with open_store(store) as connection:
        run_id = start_constructed(connection, run)
        complete_run(connection, run_id, run, kpis={}, timings={}, report_path=None)
    return run_id


def test_csv_and_parquet_hold_every_daily_value(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    run = make_run(replications=2, days=5)
    run_id = _stored(store_path, run)
    for file_format in ("csv", "parquet"):
        out = tmp_path / f"all.{file_format}"
        main(
            [
                "export",
                run_id,
                "--format",
                file_format,
                "--out",
                str(out),
                "--store",
                str(store_path),
            ]
        )
        table = pd.read_csv(out) if file_format == "csv" else pd.read_parquet(out)
        assert list(table.columns) == ["replication", "date", "sector", "metric", "value", "unit"]
        assert len(table) == run.daily.size
        assert set(table["metric"]) == set(DAILY_METRICS)
        # each value's unit beside it (before, a reader could not tell people from hours or
        # dollars): one unit per metric, on every row
        units = table.groupby("metric")["unit"].unique().map(list).to_dict()
        assert units["occupancy_mean"] == ["people"]
        assert units["encounters"] == ["events"]
        assert units["staff_hours:national_guard:intake"] == ["staff-hours"]
        assert units["staff_hours_needed:custody_watch"] == ["staff-hours"]
        assert units["cost_total_dollars"] == ["dollars"]
        assert units["custody_hours_total"] == ["person-hours"]
        assert units["supply_stock_units"] == ["supply units"]
        assert units["staff_days_lost"] == ["staff-days"]  # as the KPI table says
        assert table["unit"].notna().all()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporaries


def test_a_chosen_metric_and_sector_are_the_stored_values(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    run = make_run(replications=3, days=4)
    run_id = _stored(store_path, run)
    out = tmp_path / "rgv.csv"
    main(
        ["export", run_id, "--format", "csv", "--out", str(out), "--metric", "encounters",
         "--sector", "RGV", "--store", str(store_path)]
    )  # fmt: skip
    table = pd.read_csv(out)
    assert set(table["metric"]) == {"encounters"} and set(table["sector"]) == {"RGV"}
    rgv = [s.name for s in run.sectors].index("RGV")
    expected = run.metric("encounters")[:, :, rgv]  # [R, D]
    got = table.pivot(index="replication", columns="date", values="value").to_numpy()
    np.testing.assert_allclose(got, expected)


def test_a_sector_metric_or_format_in_another_case_is_the_one_meant(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    # "rgv" was refused as an unknown sector with no hint, and "CSV" as an unknown format,
    # while a scenario file takes its sectors in any case
    run = make_run(replications=1, days=3)
    run_id = _stored(store_path, run)
    out = tmp_path / "rgv.csv"
    main(
        ["export", run_id, "--format", "CSV", "--out", str(out), "--metric", "Encounters",
         "--sector", "rgv", "--store", str(store_path)]
    )  # fmt: skip
    table = pd.read_csv(out)
    assert set(table["metric"]) == {"encounters"} and set(table["sector"]) == {"RGV"}
    assert len(table) == 3


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--metric", "encounter"], "unknown metric 'encounter' (did you mean 'encounters'"),
        (["--sector", "XYZ"], "unknown sector 'XYZ'"),
        (["--sector", "RVG"], "unknown sector 'RVG' (did you mean 'RGV'?)"),
        # a sector of the border that this run does not simulate is not "unknown"
        (["--sector", "ept"], "sector 'ept' is not one of this run's (RGV, TCA)"),
        (["--format", "xlsx"], "unknown format 'xlsx'"),
    ],
)
def test_a_bad_choice_is_one_line_exit_2_and_no_file(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: list[str],
    says: str,
) -> None:
    run_id = _stored(store_path, make_run(replications=1, days=2))
    out = tmp_path / "x.csv"
    args = ["export", run_id, "--out", str(out), "--store", str(store_path)]
    if "--format" not in option:
        args += ["--format", "csv"]
    with pytest.raises(SystemExit) as exit_info:
        main(args + option)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("file_format", "name"), [("parquet", "x.csv"), ("csv", "x.parquet"), ("csv", "X.PARQUET")]
)
def test_a_format_the_out_file_name_contradicts_is_one_line_exit_2_and_no_file(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    file_format: str,
    name: str,
) -> None:
    """`--format parquet --out run.csv` wrote Parquet under a .csv name and said it was done: a
    spreadsheet then opened it as garbage."""
    run_id = _stored(store_path, make_run(replications=1, days=2))
    out = tmp_path / name
    with pytest.raises(SystemExit) as exit_info:
        main(["export", run_id, "--format", file_format, "--out", str(out), "--store",
              str(store_path)])  # fmt: skip
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{out}: --out names a {out.suffix} file, but --format is {file_format}" in err
    assert not out.exists()


def test_an_unknown_run_is_one_line(store_path: Path, tmp_path: Path) -> None:
    open_store(store_path).close()
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "nope", "--format", "csv", "--out", str(tmp_path / "x.csv"),
              "--store", str(store_path)])  # fmt: skip
    assert exit_info.value.code == 2


def test_a_run_whose_results_file_was_deleted_is_one_line_exit_2_and_no_file(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_id = _stored(store_path, make_run(replications=1, days=2))
    (daily,) = store_path.parent.rglob("daily.parquet")
    daily.unlink()  # deleted on disk; the catalog still records it
    out = tmp_path / "out" / "x.csv"
    out.parent.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["export", run_id, "--format", "csv", "--out", str(out),
              "--store", str(store_path)])  # fmt: skip
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"the daily results of run {run_id} are missing from the store" in err
    assert str(store_path.parent) in err  # where, for the store's owner (the workbench hides it)
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("where", ["folder", "under a file"])
def test_an_out_that_cannot_be_a_file_is_one_line_and_leaves_the_folder_alone(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    """--out naming an existing folder, or a path under a file, is refused with one line naming
    it (not a Python traceback), and no temporary file is left beside it."""
    run_id = _stored(store_path, make_run(replications=1, days=2))
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "mine.txt").write_text("the user's", encoding="utf-8")
    out = folder if where == "folder" else folder / "mine.txt" / "x.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(["export", run_id, "--format", "csv", "--out", str(out), "--store", str(store_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert str(out) in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["mine.txt"]
    assert (folder / "mine.txt").read_text(encoding="utf-8") == "the user's"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("place", ["store", "store by a link", "write-ahead log", "results"])
def test_an_out_that_is_the_store_is_refused_and_the_store_kept(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    place: str,
) -> None:
    """`--out` naming the store file (or a link to it, its write-ahead log, or a file in its
    results folder) used to be replaced by the export: the user's whole store, or a run's
    results, was gone. It is one line, exit 2, and the store is as it was."""
    run_id = _stored(store_path, make_run(replications=1, days=2))
    (daily,) = store_path.parent.rglob("daily.parquet")
    link = tmp_path / "link.duckdb"
    link.symlink_to(store_path)
    out = {
        "store": store_path,
        "store by a link": link,
        "write-ahead log": Path(f"{store_path}.wal"),
        "results": daily,
    }[place]
    before = {p: p.read_bytes() for p in store_path.parent.rglob("*") if p.is_file()}
    with pytest.raises(SystemExit) as exit_info:
        main(["export", run_id, "--format", "csv", "--out", str(out), "--store", str(store_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "write the export elsewhere" in err
    # the log was called "the store file", which the user had not named
    says = {
        "store": "--out is the store file;",
        "store by a link": "--out is the store file;",
        "write-ahead log": "--out is the store's write-ahead log;",
        "results": "--out is inside the store's results folder",
    }[place]
    assert says in err
    after = {p: p.read_bytes() for p in store_path.parent.rglob("*") if p.is_file()}
    assert after == before
    out_csv = tmp_path / "after.csv"
    main(["export", run_id, "--format", "csv", "--out", str(out_csv), "--store", str(store_path)])
    assert len(pd.read_csv(out_csv)) == make_run(replications=1, days=2).daily.size


def test_the_written_file_is_named_as_given(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A path with brackets was read as markup: `[bold]x.csv` was shown as `x.csv`, by `export`
    and by `report`."""
    run_id = _stored(store_path, make_run(replications=1, days=2))
    out = tmp_path / "[bold]x.csv"
    main(["export", run_id, "--format", "csv", "--out", str(out), "--store", str(store_path)])
    shown = capsys.readouterr().out.replace("\n", "")  # long lines are wrapped
    assert "[bold]x.csv" in shown and out.is_file()
    folder = tmp_path / "[bold]again"
    main(["report", run_id, "--out", str(folder), "--store", str(store_path)])
    shown = capsys.readouterr().out.replace("\n", "")
    assert "[bold]again/report.html" in shown and (folder / "report.html").is_file()


def test_the_written_path_is_printed_on_one_line_however_long(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Into a pipe (80 columns), `export` and `report` broke a long path across lines
    ('.../another_level_of_folders_h' then 'ere/report.html'): a script reading the path, or a
    user copying it, got two pieces. Each now prints its line whole."""
    run_id = _stored(store_path, make_run(replications=1, days=2))
    folder = tmp_path / "a_rather_long_folder_name_for_exports" / "another_level_of_folders_here"
    out = folder / "encounters_by_sector_and_day.csv"
    main(["export", run_id, "--format", "csv", "--out", str(out), "--store", str(store_path)])
    assert capsys.readouterr().out == f"384 rows of run {run_id} written to {out}\n"
    main(["report", run_id, "--out", str(folder), "--store", str(store_path)])
    assert capsys.readouterr().out == f"report of run {run_id}: {folder / 'report.html'}\n"


def test_a_run_id_pasted_with_spaces_and_a_line_end_is_the_run(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A run id copied from `bordersim runs` with a space or line end around it was looked up
    with them, and said to be no run ' small-...\\n'; report, export and compare take the id
    without them, as `sweep --resume` does."""
    run_id = _stored(store_path, make_run(replications=2, days=5))
    pasted = f" {run_id}\n"
    out = tmp_path / "all.csv"
    main(["export", pasted, "--format", "csv", "--out", str(out), "--store", str(store_path)])
    assert f"rows of run {run_id} written" in capsys.readouterr().out
    assert out.is_file()
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", pasted, " nope ", "--store", str(store_path)])
    assert exit_info.value.code == 2
    # A, the pasted id, was found; B is named without its spaces
    assert "B: 'nope' is neither" in capsys.readouterr().err


def test_one_exported_row_is_one_row(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A choice that keeps a single value said "1 rows of run ... written"."""
    run_id = _stored(store_path, make_run(replications=1, days=1))
    out = tmp_path / "one.csv"
    main(
        ["export", run_id, "--format", "csv", "--out", str(out), "--metric", "encounters",
         "--sector", "RGV", "--store", str(store_path)]
    )  # fmt: skip
    assert capsys.readouterr().out == f"1 row of run {run_id} written to {out}\n"
    assert len(pd.read_csv(out)) == 1


def test_sectors_and_metrics_joined_by_commas_are_each_kept(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    """`--sector RGV,TCA` was "unknown sector 'RGV,TCA'; known: RGV, TCA", though the
    workbench's export takes `sector=RGV,TCA`: a list joined by commas is each of its names."""
    run_id = _stored(store_path, make_run(replications=1, days=2))
    out = tmp_path / "two.csv"
    main(
        ["export", run_id, "--format", "csv", "--out", str(out), "--metric",
         "encounters, occupancy_mean", "--sector", "RGV,tca", "--store", str(store_path)]
    )  # fmt: skip
    table = pd.read_csv(out)
    assert set(table["metric"]) == {"encounters", "occupancy_mean"}
    assert set(table["sector"]) == {"RGV", "TCA"} and len(table) == 8


def test_a_metric_pattern_keeps_every_metric_it_matches(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    """The documentation names the staff metrics `staff_hours:*`, but `--metric 'staff_hours:*'`
    was an unknown metric; a pattern now keeps every metric it matches, and one matching none is
    refused."""
    run_id = _stored(store_path, make_run(replications=1, days=1))
    out = tmp_path / "agents.csv"
    args = ["export", run_id, "--format", "csv", "--out", str(out), "--store", str(store_path)]
    main([*args, "--metric", "staff_hours:agent:*", "--sector", "RGV"])
    expected = [m for m in DAILY_METRICS if m.startswith("staff_hours:agent:")]
    assert sorted(pd.read_csv(out)["metric"]) == sorted(expected) and len(expected) > 1
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--metric", "staff_hourz:*"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("given", [" csv", "parquet ", "\tCSV\n"])
def test_a_format_with_spaces_around_it_is_the_format(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path, given: str
) -> None:
    # --format ' csv' (a space from the shell's quoting) was refused as "unknown format ' csv'"
    run_id = _stored(store_path, make_run(replications=1, days=2))
    out = tmp_path / f"x.{given.strip().lower()}"
    main(["export", run_id, "--format", given, "--out", str(out), "--store", str(store_path)])
    read = pd.read_csv if out.suffix == ".csv" else pd.read_parquet
    assert len(read(out)) == 2 * 2 * len(DAILY_METRICS)


def test_export_names_the_written_file_by_its_absolute_path_as_report_does(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `export --out x.csv` said "written to x.csv" where `report --out again` said
    # ".../again/report.html" from the root: a script taking either line got two kinds of path
    run_id = _stored(store_path, make_run(replications=1, days=2))
    monkeypatch.chdir(tmp_path)
    main(["export", run_id, "--format", "csv", "--out", "x.csv", "--store", str(store_path)])
    assert capsys.readouterr().out == f"384 rows of run {run_id} written to {tmp_path / 'x.csv'}\n"
    main(["report", run_id, "--out", "again", "--store", str(store_path)])
    assert capsys.readouterr().out.endswith(f": {tmp_path / 'again' / 'report.html'}\n")


def _metrics_listed_in_the_docs() -> list[str]:
    from doc_pages import page_text

    section = page_text("docs/running.md").split("The daily metrics, all ")[1]
    return section.split("```text\n")[1].split("```")[0].split()


def test_the_docs_list_every_daily_metric_that_an_unknown_one_points_to() -> None:
    assert _metrics_listed_in_the_docs() == list(DAILY_METRICS)


@pytest.mark.parametrize(
    ("metric", "says"),
    [
        # a metric family named without its pattern was offered one member of 40
        ("staff_hours", "(did you mean the pattern 'staff_hours:*', 40 metrics?)"),
        ("departures", "(did you mean the pattern 'departures:*', 5 metrics?)"),
        ("occupancy", "(did you mean 'occupancy_peak' or 'occupancy_mean'?)"),
        ("foo", "unknown metric 'foo'; "),
    ],
)
def test_an_unknown_metric_is_told_its_close_names_and_where_all_are_listed(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    metric: str,
    says: str,
) -> None:
    # "96 known, such as attempts, first_attempts, ..." named six of them and nowhere to find
    # the others
    run_id = _stored(store_path, make_run(replications=1, days=2))
    with pytest.raises(SystemExit) as exit_info:
        main(["export", run_id, "--format", "csv", "--out", str(tmp_path / "x.csv"),
              "--metric", metric, "--store", str(store_path)])  # fmt: skip
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err
    assert err.endswith("96 known, all listed in docs/running.md (The daily metrics)"), err


def test_compare_names_its_report_by_its_absolute_path_as_report_does(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `compare --out cmp` said "comparison report: cmp/compare.html", as typed, where `report`
    # and `run` name their reports from the root
    a = _stored(store_path, make_run(replications=2, days=3, seed=1))
    b = _stored(store_path, make_run(replications=2, days=3, seed=1))
    monkeypatch.chdir(tmp_path)
    main(["compare", a, b, "--out", "cmp", "--store", str(store_path)])
    out = capsys.readouterr().out
    assert out.endswith(f"comparison report: {tmp_path / 'cmp' / 'compare.html'}\n"), out[-300:]


def test_the_help_of_metric_says_where_every_metric_is_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --help named one pattern and none of the 96 metrics, nor where to find them
    from bordersim.report.export import METRICS_LISTED_IN

    with contextlib.suppress(SystemExit):  # help exits 0, or returns
        main(["export", "--help"])
    assert METRICS_LISTED_IN.split()[0] in capsys.readouterr().out


def _values_as_written(out: Path) -> list[str]:
    return list(pd.read_csv(out, dtype={"value": str})["value"])


def test_a_flow_run_is_written_in_the_shortest_digits_of_its_32_bit_values(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    """The flow engine counts in 32-bit floats, stored widened to 64 bits: its CSV said
    1276.6690673828125 where the engine's value is 1276.6691, digits of the widening alone."""
    flow = make_run(replications=2, days=3, engine="flow")
    flow.daily[...] = flow.daily.astype(np.float32)  # as the flow engine hands them over
    flow.daily[0, 0, 0, 0] = np.float32(1276.6690673828125)
    event = make_run(replications=2, days=3, seed=2)
    for run, name in ((flow, "flow"), (event, "event")):
        run_id = _stored(store_path, run)
        for file_format in ("csv", "parquet"):
            main(
                ["export", run_id, "--format", file_format, "--out",
                 str(tmp_path / f"{name}.{file_format}"), "--store", str(store_path)]
            )  # fmt: skip
    stored = pd.read_parquet(tmp_path / "flow.parquet")["value"]
    assert stored.dtype == np.float64  # Parquet keeps the store's type
    written = _values_as_written(tmp_path / "flow.csv")
    assert "1276.6691" in written
    assert "1276.6690673828125" not in (tmp_path / "flow.csv").read_text()
    # each value in the digits of numpy's shortest 32-bit repr, which gives the value back
    shortest = [float(repr(np.float32(value)).removeprefix("np.float32(")[:-1]) for value in stored]
    assert [float(text) for text in written] == shortest
    assert [np.float32(text) for text in written] == list(stored.astype(np.float32))
    # an event run's 64-bit values keep every digit: each reads back as the stored value
    event_stored = pd.read_parquet(tmp_path / "event.parquet")["value"]
    assert [float(text) for text in _values_as_written(tmp_path / "event.csv")] == list(
        event_stored
    )


def test_rows_written_to_a_pipe_reach_it_and_the_pipe_is_kept(
    make_run: Callable[..., RunResult],
    store_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--out /dev/stdout` (or a named pipe) had a temporary file renamed over it: the link
    /dev/stdout became a regular file holding the rows, and the pipe got nothing."""
    run_id = _stored(store_path, make_run(replications=1, days=1))
    pipe = tmp_path / "rows"
    os.mkfifo(pipe)
    reading = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # open before the export writes
    try:
        main(
            ["export", run_id, "--format", "csv", "--out", str(pipe), "--metric", "encounters",
             "--store", str(store_path)]
        )  # fmt: skip
        received = os.read(reading, 1 << 16).decode()  # a few rows: well within a pipe's buffer
    finally:
        os.close(reading)
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert received.splitlines()[0] == "replication,date,sector,metric,value,unit"
    assert len(received.splitlines()) == 1 + 2  # a row per sector
    said = capsys.readouterr()
    assert said.out == ""  # /dev/stdout gets the rows alone: the count goes to stderr
    assert said.err == f"2 rows of run {run_id} written to {pipe}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows", "store.duckdb", "store.results"]


def test_out_dash_writes_the_rows_to_standard_output(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    """`--out -` wrote a file named '-' where standard output was meant."""
    run_id = _stored(store_path, make_run(replications=1, days=1))
    done = subprocess.run(
        [sys.executable, "-m", "bordersim", "export", run_id, "--format", "csv", "--out", "-",
         "--metric", "encounters", "--store", str(store_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "replication,date,sector,metric,value,unit"
    assert len(done.stdout.splitlines()) == 1 + 2  # a row per sector, and no line of ours
    assert done.stderr == f"2 rows of run {run_id} written to /dev/stdout\n"
    assert not (tmp_path / "-").exists()


def test_rows_to_standard_output_end_quietly_when_its_reader_goes(
    make_run: Callable[..., RunResult], store_path: Path, tmp_path: Path
) -> None:
    """`bordersim export RUN --format csv --out - | head -2` ended in DuckDB's traceback
    ("Could not write file "/dev/stdout": Broken pipe")."""
    from bordersim.cli import CLOSED_PIPE_EXIT

    run_id = _stored(store_path, make_run(replications=3, days=10))  # far more than a pipe holds
    export = subprocess.Popen(
        [sys.executable, "-m", "bordersim", "export", run_id, "--format", "csv", "--out", "-",
         "--store", str(store_path)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert export.stdout is not None and export.stderr is not None
    assert export.stdout.readline() == "replication,date,sector,metric,value,unit\n"
    export.stdout.close()  # as head does once it has its lines
    said = export.stderr.read()
    assert export.wait(timeout=300) == CLOSED_PIPE_EXIT
    assert said == ""
