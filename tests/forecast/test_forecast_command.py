"""`bordersim forecast`: bad input gets one line and exit 2; a run prints and writes its files."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bordersim.cli import main
from bordersim.forecast.backtest import CSV_COLUMNS, read_csv
from repo_paths import REPO


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("forecast-store") / "store.duckdb"
    main(["data", "import", "--store", str(path)])
    return path


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # "--origin '2023-13' is not a month": the value is given as typed, then a colon
        (["--origin", "2023-13"], "error: --origin 2023-13: is not a month (YYYY-MM)"),
        (["--origin", " "], "error: --origin ' ': is not a month (YYYY-MM)"),
        (["--origin", "2031-01"], "--origin 2031-01 is outside the data (1999-10 .. 2023-09"),
        (
            ["--origin", "2001-06"],
            "has 20 months of history before it; forecasts need at least 35 before it",
        ),
        # "has 1 months of history", and then "1 month ... before it", the origin counted
        (["--origin", "1999-10"], "--origin 1999-10 has 0 months of history before it; forecasts"),
        (["--horizon", "13"], "error: --horizon 13: must be between 1 and 12 months"),
        (["--horizon", "0"], "error: --horizon 0: must be between 1 and 12 months"),
        (["--from", "2020-01"], "--from and --to need --backtest"),
        (["--backtest", "--origin", "2023-04"], "--origin is for forecasts"),
        (["--backtest", "--from", "2023-09", "--to", "2023-01"], "--to 2023-01 is before --from"),
        (["--backtest", "--from", "2001-01"], "forecasts need at least 36"),
        (["--backtest", "--to", "2024-03"], "--to 2024-03 is outside the data"),
        (
            ["--backtest", "--horizons", "0,3"],
            "error: --horizons 0,3: each must be between 1 and 12",
        ),
        (["--backtest", "--horizons", "one"], "error: --horizons one: give months ahead as 1,3,6"),
        (
            ["--backtest", "--horizons", "1,,3"],
            "error: --horizons 1,,3: give months ahead as 1,3,6",
        ),
        # an option of the other mode was ignored without a word
        (["--horizons", "1,2", "--horizon", "2"], "--horizons is for the back-test"),
        (["--backtest", "--horizon", "99"], "--horizon is for forecasts"),
        (["--jobs", "-1"], "error: --jobs -1: must be 0 (automatic) or more"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    lines = _refused(store, tmp_path, capsys, arguments)
    assert len(lines) == 1, lines
    assert message in lines[0]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--origin", "2023-13"],
        ["--horizon", "13"],
        ["--from", "2020-01"],
        ["--backtest", "--origin", "2023-04"],
        ["--backtest", "--from", "2023-09", "--to", "2023-01"],
        ["--backtest", "--horizons", "one"],
    ],
)
def test_bad_arguments_are_refused_before_a_store_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]
) -> None:
    """A mistyped argument does not first create a store and import the shipped data into it."""
    store = tmp_path / "new" / "store.duckdb"
    with pytest.raises(SystemExit) as exited:
        main(["forecast", "--store", str(store), "--out", str(tmp_path / "out"), *arguments])
    assert exited.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("empty_file", [False, True])
@pytest.mark.parametrize("backtest", [[], ["--backtest"]])
def test_a_missing_store_is_refused_as_data_show_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], empty_file: bool, backtest: list[str]
) -> None:
    """A mistyped --store made a new store filled with the shipped data (an empty file became
    one), and the forecast read that release; `data show` and `runs` refuse it."""
    store = tmp_path / "mistyped.duckdb"
    if empty_file:
        store.touch()
    with pytest.raises(SystemExit) as exited:
        main(["data", "show", "--store", str(store)])
    assert exited.value.code == 2
    shown = capsys.readouterr().err.strip()
    lines = _refused(store, tmp_path, capsys, backtest)
    assert lines == [shown]
    assert store.exists() == empty_file and sorted(p.name for p in tmp_path.iterdir()) == (
        ["mistyped.duckdb"] if empty_file else []
    )
    assert not empty_file or store.stat().st_size == 0


@pytest.mark.parametrize("backtest", [[], ["--backtest", "--from", "2023-01"]])
def test_a_folder_forecast_did_not_write_is_refused_untouched(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], backtest: list[str]
) -> None:
    """A sweep's folder (its report.html among its files) is not a forecast's to overwrite."""
    out = tmp_path / "sweep-out"
    out.mkdir()
    for name in (".bordersim-sweep", "kpis.csv", "report.html"):
        (out / name).write_text(f"the sweep's {name}")
    with pytest.raises(SystemExit) as exited:
        main(["forecast", "--store", str(store), "--out", str(out), *backtest])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out exists and is not a forecast folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep-out"]
    for name in (".bordersim-sweep", "kpis.csv", "report.html"):
        assert (out / name).read_text() == f"the sweep's {name}"


@pytest.mark.slow
def test_forecast_prints_intervals_and_writes_the_report(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()  # a forecast's folder from before forecasts marked theirs: replaced whole
    (out / "forecast.csv").write_text("old")
    (out / "report.html").write_text("old")
    main(
        [
            "forecast",
            "--store",
            str(store),
            "--origin",
            "2023-04",
            "--horizon",
            "6",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert "Encounters forecast for 2023-05 .. 2023-10 (ensemble), from the data up to 2023-04" in (
        " ".join(printed.split())
    )
    assert "95 % interval" in printed and "SWB southwest border" in printed
    assert "2023-10" in printed and "2023-11" not in printed
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Fan charts" in report and "Ensemble weights and why" in report
    assert report.count('<div class="figure"') == 10  # a fan chart per sector and the total
    forecast_rows = read_csv(out / "forecast.csv")
    assert len(forecast_rows) == 6 * (9 * 4 + 1)  # sectors x (all + 3 groups), then SWB
    backtest_rows = read_csv(out / "backtest.csv")
    assert tuple(backtest_rows[0]) == CSV_COLUMNS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left
    assert (out / ".bordersim-forecast").is_file()


@pytest.mark.slow
def test_backtest_prints_the_table_and_writes_csv(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bt"
    main(
        ["forecast", "--store", str(store), "--backtest", "--from", "2022-10", "--to", "2023-03",
         "--horizons", "1,3", "--out", str(out)]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert "target months 2022-10 .. 2023-03 (6 per horizon)" in printed
    assert "Paired differences" in printed
    rows = read_csv(out / "backtest.csv")
    assert len(rows) == 7 * 2 * 10
    assert (out / "report.html").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # blamed "--to 2023-09", a month the user had not given, for a --from after the data
        (["--backtest", "--from", "2040-01"], "error: --from 2040-01 is outside the data"),
        # blamed "--from 2015-10" as if it had been given
        (
            ["--backtest", "--to", "2010-01"],
            "error: --to 2010-01 is before the default --from 2015-10 (FY2016's first month): "
            "give --from too",
        ),
    ],
)
def test_a_backtest_window_error_names_only_the_months_given(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    lines = _refused(store, tmp_path, capsys, arguments)
    assert len(lines) == 1 and lines[0].startswith(message), lines


def test_the_data_named_are_the_workbook_the_forecast_reads(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The forecast reads the OHSS workbook's sector and family-status sheets only: it named the
    CBP CSV among its data too, as if that file's months counted."""
    (line,) = _refused(store, tmp_path, capsys, ["--origin", "2031-01"])
    assert line == (
        "error: --origin 2031-01 is outside the data (1999-10 .. 2023-09, OHSS workbook "
        "ohss-usbp-encounters-fy2000-fy2023.xlsx (sha256 29460148431c))"
    )


def _store_of(tmp_path_factory: pytest.TempPathFactory, years: range) -> Path:
    """A store holding a small release of these fiscal years, its last cut after November (the
    workbook alone: a forecast imports no CSV beside it, and the shipped one, ending later,
    would be warned of as another release's)."""
    from data.official_samples import small_sheets, write_workbook  # tests/data's samples

    folder = tmp_path_factory.mktemp("small-store")
    workbook = write_workbook(folder / "small.xlsx", small_sheets(years))
    path = folder / "store.duckdb"
    main(["data", "import", str(workbook), "--store", str(path)])
    return path


@pytest.fixture(scope="module")
def short_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose release holds 26 months (2020-10 .. 2022-11): too few for a forecast."""
    return _store_of(tmp_path_factory, range(2021, 2024))


@pytest.fixture(scope="module")
def later_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release from 2014-10 to 2018-11: its first target month with 36 months of history
    before a 6-month horizon is 2018-03, after FY2016's first month."""
    return _store_of(tmp_path_factory, range(2015, 2020))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # was "--from 2020-10 is too early ...", an option not given, naming a first target
        # month after the data
        (
            ["--backtest"],
            "error: the data (2020-10 .. 2022-11, 26 months) are too short for a back-test with "
            "a 6-month horizon: forecasts need at least 36 months of history, so the first "
            "target month would be 2024-03",
        ),
        (
            ["--backtest", "--from", "2021-06", "--horizons", "1"],
            "error: the data (2020-10 .. 2022-11, 26 months) are too short for a back-test with "
            "a 1-month horizon: forecasts need at least 36 months of history, so the first "
            "target month would be 2023-10",
        ),
    ],
)
def test_a_backtest_on_data_too_short_says_so(
    short_store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    assert _refused(short_store, tmp_path, capsys, arguments) == [message]


def test_the_default_from_is_the_first_target_month_the_data_allow(
    later_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A release starting after 2012 refused a plain `--backtest` with "--from 2015-10 is too
    early": the default --from, FY2016's first month, is now never before the first target month
    the data allow for the horizons."""
    assert _refused(later_store, tmp_path, capsys, ["--backtest", "--to", "2018-01"]) == [
        "error: --to 2018-01 is before the default --from 2018-03 (the first target month the "
        "data allow for a 6-month horizon)"
    ]


def test_a_default_origin_without_the_history_is_not_blamed_on_the_option(
    short_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --origin, the store's last month is the origin: it was refused as "--origin
    2022-11 has 26 months of history", an option the user had not given."""
    assert _refused(short_store, tmp_path, capsys, []) == [
        "error: the default --origin (the store's last month) 2022-11 has 25 months of "
        "history before it; forecasts need at least 35 before it (36 months of history, the "
        "origin's month included; the data start 2020-10)"
    ]


def _refused(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]
) -> list[str]:
    """The lines on stderr of a forecast refused with exit status 2, having printed and written
    nothing else."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exited:
        main(["forecast", "--store", str(store), "--out", str(out), *arguments])
    assert exited.value.code == 2
    assert not out.exists()
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.strip().splitlines()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # was "--from minus the longest horizon 1999-01 has -8 months of history before it"
        (
            ["--backtest", "--from", "2000-01", "--to", "2000-02", "--horizons", "12"],
            "error: --from 2000-01 is too early for a 12-month horizon: forecasts need at least "
            "36 months of history (the data start 1999-10), so the first target month is 2003-09",
        ),
        (
            ["--backtest", "--from", "2002-09", "--horizons", "1"],
            "error: --from 2002-09 is too early for a 1-month horizon: forecasts need at least "
            "36 months of history (the data start 1999-10), so the first target month is 2002-10",
        ),
    ],
)
def test_a_from_too_early_for_the_horizons_names_the_first_target_month(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    assert _refused(store, tmp_path, capsys, arguments) == [message]


def test_an_early_forecasts_backtest_gives_the_months_it_scored(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four months after the first origin the data allow, the forecast's own back-test said
    "4 target months, 2001-02 .. 2003-01": 24 months, of which the first 20 have no forecast."""
    out = tmp_path / "out"
    options = ["--origin", "2003-01", "--horizon", "1"]
    main(["forecast", "--store", str(store), "--out", str(out), *options])
    printed = " ".join(capsys.readouterr().out.split())
    assert "Back-test of the ensemble up to the origin (4 target months, 2002-10 .. 2003-01," in (
        printed
    )


def test_a_forecast_from_the_first_origin_allowed_writes_an_empty_backtest(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The earliest origin the data allow (36 months in) has no past forecast to score: the
    forecast's own back-test stopped it with numpy's "need at least one array to stack" after
    the fits, and nothing was written."""
    out = tmp_path / "out"
    options = ["--origin", "2002-09", "--horizon", "1"]
    main(["forecast", "--store", str(store), "--out", str(out), *options])
    assert "Wrote" in capsys.readouterr().out
    rows = read_csv(out / "backtest.csv")
    assert rows and all(row["mase"] == "" for row in rows)  # no target month to score
    assert (out / "forecast.csv").read_text(encoding="utf-8").startswith("month,sector,group,")


def test_a_one_month_forecast_says_1_month_in_its_report(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report of a forecast one month ahead said "1 months ahead"."""
    out = tmp_path / "out"
    main(
        [
            "forecast",
            "--store",
            str(store),
            "--out",
            str(out),
            "--origin",
            "2002-09",
            "--horizon",
            "1",
        ]
    )
    capsys.readouterr()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "1 month ahead" in report
    assert "1 months" not in report and "month(s)" not in report


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("forecast", ["--origin", "2002-09", "--horizon", "1"]),
        ("back-test", ["--backtest", "--from", "2002-10", "--to", "2002-10", "--horizons", "1"]),
    ],
)
def test_fitting_to_a_file_or_a_pipe_says_so_on_stderr(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    options: list[str],
) -> None:
    """With the output not a terminal, the fits (tens of seconds) ran without a sign of life."""
    main(["forecast", "--store", str(store), "--out", str(tmp_path / "out"), *options])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{mode}: fitting every method at every origin (tens of seconds)..."
    assert re.fullmatch(rf"{mode}: fitted in \d+ s", lines[-1])


def test_an_early_backtest_does_not_claim_a_ten_year_mase_scale(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Target months of 2002 have three years of data before them, yet the table and the
    report said the MASE scale was the mean one-month change "over the ten years before"."""
    out = tmp_path / "out"
    options = ["--backtest", "--from", "2002-10", "--to", "2002-10", "--horizons", "1"]
    main(["forecast", "--store", str(store), "--out", str(out), *options])
    note = "over the ten years up to the origin (fewer where the data start later)"
    assert note in " ".join(capsys.readouterr().out.split())
    assert note in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_forecast_says_nothing_was_written(
    store: Path, tmp_path: Path, signum: int
) -> None:
    """SIGTERM or Ctrl-C during the fits said "nothing was marked complete (a run that had
    started is recorded as failed)", the words of a simulation run; a forecast records no run.
    It now speaks of the forecast, and --out holds nothing."""
    out = tmp_path / "out"
    command = [str(Path(sys.executable).parent / "bordersim"), "forecast", "--store", str(store)]
    process = subprocess.Popen(
        [*command, "--origin", "2023-04", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    started = process.stderr.readline()  # the fits have started
    assert started.startswith("forecast: fitting every method"), started
    time.sleep(0.5)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, err
    name = signal.Signals(signum).name
    assert err.strip() == (
        f"interrupted ({name}): the forecast stopped cleanly; nothing was written to {out}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no --out, no partial folder


def test_forecast_csv_holds_the_columns_and_rows_the_docs_describe(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/forecast.md did not say what forecast.csv holds (its columns, and that the southwest
    total has no rows per group); it does now, and this holds it to the file written."""
    out = tmp_path / "out"
    options = ["--origin", "2002-09", "--horizon", "1"]
    main(["forecast", "--store", str(store), "--out", str(out), *options])
    capsys.readouterr()
    docs = " ".join((REPO / "docs" / "forecast.md").read_text(encoding="utf-8").split())
    documented = re.search(r"`forecast.csv` holds.*? the columns `([^`]+)`", docs)
    assert documented is not None
    rows = read_csv(out / "forecast.csv")
    assert tuple(rows[0]) == tuple(documented.group(1).split(", "))
    per_month = re.search(r"Per month there are (\d+) rows", docs)
    assert per_month is not None and len(rows) == int(per_month.group(1))
    groups = {row["group"] for row in rows if row["sector"] != "SWB"}
    assert groups == {"all", "single_adult", "family_unit", "unaccompanied_child"}
    assert [row["group"] for row in rows if row["sector"] == "SWB"] == ["all"]
    for group in groups:
        assert f"`{group}`" in docs


def test_a_forecast_with_group_shares_before_fy2012_says_they_have_no_single_adult_split(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before FY2012 the official data count family unit members (before FY2008 children too)
    as single adults; a forecast from then split its sectors into groups by those shares
    (single adults 100 %, family units 0) without a word. The printed forecast and the report
    now say so."""
    out = tmp_path / "out"
    options = ["--origin", "2002-09", "--horizon", "1"]
    main(["forecast", "--store", str(store), "--out", str(out), *options])
    printed = " ".join(capsys.readouterr().out.split())
    note = (
        "The group shares come from months before FY2012 (2002-07 .. 2002-09), where the "
        "official data have no single-adult split: family unit members and unaccompanied "
        "children are counted as single adults"
    )
    assert note in printed
    assert note in " ".join((out / "report.html").read_text(encoding="utf-8").split())


@cache
def _printed_fast_forecast() -> tuple[Any, Any, int]:
    """A forecast from 2023-04, three months ahead, with the fast methods, printed with the
    back-test of the 24 months before it at 1 and 3 months: (console, forecast, origin)."""
    from forecast_data import FAST_MEMBERS, FAST_METHODS, shipped
    from rich.console import Console

    from bordersim.forecast import Forecast, group_shares_at
    from bordersim.forecast import backtest as harness
    from bordersim.forecast.printing import print_forecast
    from bordersim.forecast.rolling import compute, origin_range

    series = shipped()
    origin = date(2023, 4, 1)
    position = series.index_of(origin, "origin")
    rolling = compute(series, origin_range(position), 3, methods=FAST_METHODS, members=FAST_MEMBERS)
    forecast = Forecast(series, origin, 3, rolling, group_shares_at(series, position))
    console = Console(record=True, width=300)
    print_forecast(console, forecast, harness.evaluate(rolling, position - 23, position, (1, 3)))
    return console, forecast, position


def test_the_printed_forecast_says_what_data_it_used_and_how_it_did_before() -> None:
    """The forecast from 2023-04 was titled "(ensemble; data 1999-10 .. 2023-09)", as if it had
    used the months after its origin, the group shares "of the last 3 months" without naming
    them, and the terminal said nothing of how the forecast had done in its back-test; the title
    now gives the months forecast and the data up to the origin, the shares their months, and a
    sentence the ensemble's interval coverage and error before the origin."""
    from bordersim.forecast import backtest as harness

    console, forecast, position = _printed_fast_forecast()
    rolling = forecast.rolling
    printed = " ".join(console.export_text(clear=False).split())
    assert (
        "Encounters forecast for 2023-05 .. 2023-07 (ensemble), from the data up to 2023-04 "
        f"(the origin; data: {forecast.series.source}, 1999-10 .. 2023-09)"
    ) in printed
    assert "Southwest border by demographic group (shares of 2023-02 .. 2023-04)" in printed
    said = re.search(
        r"Back-test of the ensemble up to the origin \(24 target months, 2021-05 \.\. "
        r"2023-04, each forecast from the data up to its own origin; the mean over the nine "
        r"sectors\): 1 month ahead, the 80 % interval held (\d+) % of the months and the 95 % "
        r"interval (\d+) %, and the forecast was off by ([\d.]+) % on average; 3 months ahead",
        printed,
    )
    assert said is not None, printed[-800:]
    ensemble = harness.evaluate(rolling, position - 23, position, (1,))
    assert int(said.group(1)) == round(100 * ensemble.sector_mean("ensemble", 1, "coverage80"))
    assert int(said.group(2)) == round(100 * ensemble.sector_mean("ensemble", 1, "coverage95"))
    assert float(said.group(3)) == round(ensemble.sector_mean("ensemble", 1, "mape"), 1)


def test_the_printed_groups_are_named_in_words_beside_their_codes() -> None:
    """The terminal's table of groups named them by forecast.csv's codes alone ("single_adult",
    "unaccompanied_child"); each is now in words, with its code beside it."""
    console, _, _ = _printed_fast_forecast()
    printed = console.export_text(clear=False)
    for words in (
        "single adults (single_adult)",
        "family unit members (family_unit)",
        "unaccompanied children (unaccompanied_child)",
    ):
        assert words in printed


def test_the_pre_fy2012_group_note_is_given_only_when_the_shares_reach_back_there(
    store: Path,
) -> None:
    from bordersim.forecast import group_split_note
    from bordersim.forecast.data import from_official
    from bordersim.store import open_store

    with open_store(store, read_only=True) as connection:
        series = from_official(connection)

    def note(month: str) -> str | None:
        year, number = month.split("-")
        return group_split_note(series, series.index_of(date(int(year), int(number), 1), "t"))

    assert note("2023-04") is None and note("2011-12") is None  # 2011-10 .. 2011-12
    later = note("2011-11")
    assert later is not None and "(2011-09 .. 2011-11)" in later
    assert "family unit members are counted as single adults" in later
    earlier = note("2007-11")
    assert earlier is not None and "and unaccompanied children are counted" in earlier


def test_sectors_without_data_are_named_not_forecast_as_zero(
    later_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A release with Tucson and Yuma only: the seven other sectors were forecast as 0 with
    n/a intervals, and nothing said that the release had no data for them."""
    main(
        ["forecast", "--store", str(later_store), "--out", str(tmp_path / "out"), "--horizon", "1"]
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "SDC San Diego │ 2018-12 │ no data │" in out
    assert "TCA Tucson │ 2018-12 │ 3,019 │" in out
    assert (
        "No data for 7 sectors up to the origin 2018-11: San Diego (SDC), El Centro (ELC), "
        "El Paso (EPT), Big Bend (BBT), Del Rio (DRT), Laredo (LRT), Rio Grande Valley (RGV); "
        "they are not forecast, and the southwest border total holds the other sectors only."
    ) in out
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "No data for 7 sectors up to the origin 2018-11" in report


def test_forecast_csv_leaves_the_quantiles_of_sectors_without_data_empty(tmp_path: Path) -> None:
    """forecast.csv gave a sector the release has no data for 0.0 at every quantile (and its
    groups 0.0), a forecast of no encounters, where the terminal and report.html say `no data`."""
    from forecast_data import lognormal_noise

    from bordersim.forecast import Forecast, group_shares_at
    from bordersim.forecast.printing import write_forecast_csv
    from bordersim.forecast.rolling import compute, origin_range

    noise = lognormal_noise(60, 0.2, seed=7)
    series = replace(noise, sectors=noise.sectors * (np.arange(9) >= 7))  # LRT and RGV only
    origin = 59
    methods = ("naive", "seasonal_naive")
    rolling = compute(series, origin_range(origin), 1, methods=methods, members=methods)
    forecast = Forecast(
        series, series.month_at(origin), 1, rolling, group_shares_at(series, origin)
    )
    rows = read_csv(write_forecast_csv(tmp_path / "forecast.csv", forecast))
    quantiles = [column for column in rows[0] if column.startswith("q")]
    assert len(rows) == 37  # the rows the docs give per month, a sector without data's too
    empty = {row["sector"] for row in rows if all(row[q] == "" for q in quantiles)}
    assert empty == {"SDC", "ELC", "YUM", "TCA", "EPT", "BBT", "DRT"}
    held = [row for row in rows if row["group"] == "all" and row["sector"] not in empty]
    medians = {row["sector"]: float(row["q0.5"]) for row in held}
    assert medians["LRT"] > 0 and medians["RGV"] > 0
    assert medians["SWB"] == pytest.approx(medians["LRT"] + medians["RGV"], abs=0.2)


def test_a_store_without_official_data_is_given_the_shipped_files_saying_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A forecast from a store that held no official data imported the shipped files into it
    without a word, where calibrate says so; it now says which files went into which store."""
    from bordersim.commands.forecast import read_series
    from bordersim.store import open_store

    store = tmp_path / "store.duckdb"
    open_store(store).close()
    series = read_series(str(store), create=False)
    said = " ".join(capsys.readouterr().out.split())
    assert said == (
        f"The store {store} lacks official data: importing the shipped files "
        "ohss-usbp-encounters-fy2000-fy2023.xlsx, cbp-swb-encounters-fy2022-fy2023.csv"
    )
    assert series.months[-1] == date(2023, 9, 1)
    read_series(str(store), create=False)  # a store that holds them: nothing to say
    assert capsys.readouterr().out == ""


def test_a_folder_without_a_store_gets_the_default_one_a_named_path_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/forecast.md runs `bordersim forecast` in a folder without a store: the default store
    is made there with the shipped files. A path the user named is refused if it holds no store
    (a mistyped path). The origin, outside the data, stops each before the models are fitted."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    arguments = ["forecast", "--origin", "2031-01", "--out", "out"]
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    captured = capsys.readouterr()
    assert exited.value.code == 2 and "lacks official data: importing" in captured.out
    assert "--origin 2031-01 is outside the data (1999-10 .. 2023-09" in captured.err
    assert (tmp_path / ".bordersim" / "bordersim.duckdb").is_file()
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "mistyped.duckdb"))
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2 and "no store here" in capsys.readouterr().err
    assert not (tmp_path / "mistyped.duckdb").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--origin", "2023-04-15"],
            "error: --origin 2023-04-15: is a day, not a month: give the month, 2023-04 (YYYY-MM)",
        ),
        (
            ["--backtest", "--from", "2022-01-31"],
            "error: --from 2022-01-31: is a day, not a month: give the month, 2022-01 (YYYY-MM)",
        ),
        (
            ["--backtest", "--to", "2023-02-28"],
            "error: --to 2023-02-28: is a day, not a month: give the month, 2023-02 (YYYY-MM)",
        ),
    ],
)
def test_a_day_is_refused_as_a_month_not_taken_as_its_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    """`--origin 2023-04-15` forecast from 2023-04 without a word, as if the data up to the
    15th had been asked for; a day other than a month's first is now refused, naming its
    month, before a store is made."""
    store = tmp_path / "new" / "store.duckdb"
    with pytest.raises(SystemExit) as exited:
        main(["forecast", "--store", str(store), "--out", str(tmp_path / "out"), *arguments])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [message]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_months_first_day_is_taken_as_its_month() -> None:
    from bordersim.forecast.data import parse_month

    assert parse_month("2023-04-01", "--origin") == date(2023, 4, 1)
    assert parse_month("2023-04", "--origin") == date(2023, 4, 1)


def test_a_bound_without_an_interval_is_empty_in_forecast_csv_as_in_backtest_csv(
    tmp_path: Path,
) -> None:
    """forecast.csv wrote `nan` for a bound without an interval where backtest.csv leaves a
    missing value empty; both now leave it empty, and the median stays."""
    from forecast_data import lognormal_noise

    from bordersim.forecast import Forecast, group_shares_at
    from bordersim.forecast.printing import write_forecast_csv
    from bordersim.forecast.rolling import compute, origin_range

    series = lognormal_noise(45, 0.2, seed=7)  # too few past errors for any interval
    methods = ("naive", "seasonal_naive")
    rolling = compute(series, origin_range(44), 1, methods=methods, members=methods)
    forecast = Forecast(series, series.month_at(44), 1, rolling, group_shares_at(series, 44))
    path = write_forecast_csv(tmp_path / "forecast.csv", forecast)
    assert "nan" not in path.read_text(encoding="utf-8")
    rows = read_csv(path)
    bounds = ("q0.025", "q0.1", "q0.9", "q0.975")
    assert all(row[q] == "" for row in rows for q in bounds)
    assert all(float(row["q0.5"]) > 0 for row in rows)


def test_backtest_csv_holds_the_columns_and_units_the_docs_describe(tmp_path: Path) -> None:
    """docs/forecast.md named backtest.csv's columns but not their units: its coverage is a
    share from 0 to 1 where the tables print per cent, its MAPE and bias are in per cent."""
    from forecast_data import lognormal_noise

    from bordersim.forecast import backtest, rolling

    series = lognormal_noise(120, 0.2, seed=7)
    methods = ("naive", "seasonal_naive")
    run = rolling.compute(series, rolling.origin_range(118), 1, methods=methods, members=methods)
    rows = read_csv(backtest.evaluate(run, 100, 119, (1,)).write_csv(tmp_path / "backtest.csv"))
    docs = " ".join((REPO / "docs" / "forecast.md").read_text(encoding="utf-8").split())
    columns = re.search(r"`backtest.csv` holds.*? the columns `([^`]+)`", docs)
    assert columns is not None and tuple(rows[0]) == tuple(columns.group(1).split(", "))
    assert "`mape` and `bias`: in per cent (`12.5` is 12.5 %)" in docs
    assert "`coverage80`, `coverage95`: a share from 0 to 1" in docs
    coverage = [float(row[c]) for row in rows for c in ("coverage80", "coverage95")]
    assert min(coverage) >= 0 and max(coverage) <= 1 and max(coverage) > 0.5
    mape = [float(row["mape"]) for row in rows]
    assert max(mape) > 1  # per cent: lognormal months with sigma 0.2 are off by about 20


def test_a_store_with_a_workbook_is_not_given_a_csv_the_forecast_does_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store holding a workbook alone was given the shipped CBP CSV by the forecast, which
    reads the workbook only: wasted work, and a store whose CSV may be of another release than
    its workbook. Now nothing is imported where the workbook the forecast reads is held."""
    from bordersim.commands.forecast import read_series
    from bordersim.ingest import shipped_files
    from bordersim.store import open_store
    from bordersim.store.official import imported_kinds

    store = tmp_path / "store.duckdb"
    main(["data", "import", str(shipped_files()[0]), "--store", str(store)])
    capsys.readouterr()
    series = read_series(str(store), create=False)
    assert capsys.readouterr().out == ""
    assert series.months[-1] == date(2023, 9, 1)
    with open_store(store, read_only=True) as connection:
        assert sorted(imported_kinds(connection)) == ["ohss_usbp"]


def test_the_out_help_says_which_files_a_back_test_writes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out`'s help said a back-test writes "backtest.csv, forecast.csv and report.html ...
    only with --out", but a back-test writes no forecast.csv."""
    monkeypatch.setenv("COLUMNS", "300")
    main(["forecast", "--help"])
    said = " ".join(re.sub(r"[│╭╮╰╯─]", " ", capsys.readouterr().out).split())
    assert (
        "--out PATH Folder for the files: a forecast's forecast.csv, backtest.csv and report.html "
        "(default: out/forecast); a back-test's backtest.csv and report.html, only with --out."
    ) in said


def test_the_horizons_help_says_what_it_takes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--horizons`' help read "Back-test horizons (default: 1,3,6)": not that they are months
    ahead, separated by commas, each 1 to 12, as `--horizon`'s help says of its one value."""
    monkeypatch.setenv("COLUMNS", "300")
    main(["forecast", "--help"])
    said = " ".join(re.sub(r"[│╭╮╰╯─]", " ", capsys.readouterr().out).split())
    assert (
        "--horizons MONTHS Back-test: months ahead, 1-12, separated by commas (default: 1,3,6)."
    ) in said


def test_a_store_holding_a_csv_alone_is_said_to_lack_the_workbook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store holding a CBP CSV was said to "lack official data" as the forecast imported the
    shipped workbook into it; it lacks the workbook only, and the line now says so."""
    from bordersim.commands.forecast import read_series
    from bordersim.ingest import shipped_files

    store = tmp_path / "store.duckdb"
    main(["data", "import", str(shipped_files()[1]), "--store", str(store)])
    capsys.readouterr()
    read_series(str(store), create=False)
    said = " ".join(capsys.readouterr().out.split())
    assert said == (
        f"The store {store} holds no OHSS workbook: importing the shipped file "
        "ohss-usbp-encounters-fy2000-fy2023.xlsx"
    )


def test_a_csv_of_a_later_release_than_the_workbook_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store holding a newer CBP CSV (to 2023-11) beside the shipped workbook (to 2023-09) was
    forecast from the workbook's last month without a word, where calibrate warns of mixed
    vintages: the months the user imported last were silently not the forecast's. The forecast
    now warns, naming both files, their last months and what it reads."""
    from bordersim.commands.forecast import read_series
    from bordersim.ingest import shipped_files
    from data.official_samples import small_csv_rows, write_csv  # tests/data's samples

    store = tmp_path / "store.duckdb"
    newer = write_csv(tmp_path / "cbp-newer.csv", small_csv_rows())
    main(["data", "import", str(shipped_files()[0]), str(newer), "--store", str(store)])
    capsys.readouterr()
    series = read_series(str(store), create=False)
    said = " ".join(capsys.readouterr().out.split())
    assert said == (
        "warning: mixed data vintages: the CBP CSV cbp-newer.csv ends 2023-11, after the OHSS "
        "workbook ohss-usbp-encounters-fy2000-fy2023.xlsx, which ends 2023-09: the forecast "
        "reads the workbook alone, so its data end 2023-09; import the workbook of the CSV's "
        "release to forecast from its months"
    )
    assert series.months[-1] == date(2023, 9, 1)


def test_the_forecast_title_names_the_workbook_it_read_not_the_store(tmp_path: Path) -> None:
    """With a newer CBP CSV (to 2023-11) beside the shipped workbook (to 2023-09), the
    forecast's title said "the store holds 1999-10 .. 2023-09": the store held two more months.
    The title now names the workbook the forecast read and its months, as report.html does."""
    from forecast_data import FAST_MEMBERS, FAST_METHODS

    from bordersim.commands.forecast import read_series
    from bordersim.forecast import Forecast, group_shares_at
    from bordersim.forecast.printing import forecast_title
    from bordersim.forecast.rolling import compute, origin_range
    from bordersim.ingest import shipped_files
    from data.official_samples import small_csv_rows, write_csv  # tests/data's samples

    store = tmp_path / "store.duckdb"
    newer = write_csv(tmp_path / "cbp-newer.csv", small_csv_rows())
    main(["data", "import", str(shipped_files()[0]), str(newer), "--store", str(store)])
    series = read_series(str(store), create=False)
    origin = date(2023, 9, 1)
    position = series.index_of(origin, "origin")
    rolling = compute(series, origin_range(position), 1, methods=FAST_METHODS, members=FAST_MEMBERS)
    forecast = Forecast(series, origin, 1, rolling, group_shares_at(series, position))
    assert re.fullmatch(
        r"Encounters forecast for 2023-10 \(ensemble\), from the data up to 2023-09 \(the "
        r"origin; data: OHSS workbook ohss-usbp-encounters-fy2000-fy2023\.xlsx "
        r"\(sha256 [0-9a-f]{12}\), 1999-10 \.\. 2023-09\)",
        forecast_title(forecast),
    ), forecast_title(forecast)


@pytest.mark.parametrize("mode", [["--origin", "2002-09", "--horizon", "1"], ["--backtest"]])
def test_a_forecast_piped_to_a_reader_that_left_still_writes_its_files(
    store: Path, tmp_path: Path, mode: list[str]
) -> None:
    """`bordersim forecast | head -1` ended at the closed pipe as it printed its table, before it
    wrote --out: the fits were lost and report.html never written. The files are now written
    before the tables are printed; the command still ends quietly with status 141 at the pipe."""
    out = tmp_path / "out"
    if mode == ["--backtest"]:
        mode = ["--backtest", "--from", "2003-01", "--to", "2003-01", "--horizons", "1"]
    command = [str(Path(sys.executable).parent / "bordersim"), "forecast", "--store", str(store)]
    process = subprocess.Popen(
        [*command, *mode, "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader has gone before anything is printed
    _, err = process.communicate(timeout=600)
    assert process.returncode == 141, err
    assert "error" not in err, err
    written = {p.name for p in out.iterdir()}
    assert {"backtest.csv", "report.html"} <= written, written
    assert ("forecast.csv" in written) == (mode[0] != "--backtest")
