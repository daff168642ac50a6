"""`bordersim run`: bad input stops before anything is recorded; interrupted runs fail."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bordersim
from bordersim.cli import main
from bordersim.model.examples import tiny_model
from bordersim.store import open_store, results_dir
from bordersim.store.runs import COMPLETE, FAILED, list_runs
from constructed_runs import constructed_run, start_constructed

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "scenarios" / "examples" / "small.toml"


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _has_event_engine() -> bool:
    if not _has("bordersim.engines.event.border"):
        return False
    return hasattr(importlib.import_module("bordersim.engines.event.border"), "simulate")


needs_event_engine = pytest.mark.skipif(
    not _has_event_engine(), reason="the event engine is not built yet"
)
needs_scenarios = pytest.mark.skipif(
    not (_has("bordersim.scenario") and _has("bordersim.compiler") and SMALL.is_file()),
    reason="the scenario loader, compiler or example scenario is not built yet",
)


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return int(stopped.value.code or 0)


def _statuses(store: Path) -> list[str]:
    with open_store(store) as connection:
        return [run.status for run in list_runs(connection)]


def test_a_missing_scenario_is_one_line_exit_2_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    argv = ["run", str(tmp_path / "nope.toml"), "--store", str(store), "--out", str(out)]
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.toml" in err and "no such scenario" in err
    assert not out.exists()
    assert not store.exists() or _statuses(store) == []


@needs_scenarios
def test_an_invalid_scenario_is_one_line_exit_2_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.read_text() + "\n[nonsense_table]\nvalue_per_day = -3\n")
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    argv = ["run", str(bad), "--store", str(store), "--out", str(out), "--replications", "1"]
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.toml" in err
    assert not out.exists()
    assert not store.exists() or _statuses(store) == []


@needs_scenarios
def test_a_set_key_path_with_a_name_in_quotes_reaches_that_deployment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--set deployments."phase.1".headcount=...` was split at every dot and refused as no
    deployment "'"phase'"; the name in quotes is now one name (the value here is refused by the
    deployment's own rule, which shows it reached it), and a malformed key path is one line,
    exit 2, with nothing stored or written."""
    dotted = tmp_path / "dotted.toml"
    dotted.write_text(SMALL.read_text().replace("[deployments.troops]", '[deployments."phase.1"]'))
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    for setting, said in (
        (
            'deployments."phase.1".headcount=-5',
            'deployments."phase.1".headcount = -5: must be at least 0',
        ),
        ('deployments."phase.1.headcount=5', "the quote at character 13 is not closed"),
        ("deployments..headcount=5", "an empty name: two dots together at characters 12 and 13"),
    ):
        argv = ["run", str(dotted), "--set", setting, "--store", str(store), "--out", str(out)]
        assert _exit_code(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and said in err and "Traceback" not in err
        assert f"--set {setting}" in err or f"--set {setting!r}" in err
        assert not out.exists()
        assert not store.exists() or _statuses(store) == []


@needs_scenarios
def test_a_set_replaces_a_bad_value_of_the_file_before_it_is_checked(tmp_path: Path) -> None:
    """`run FILE --set period.warmup_days=2`, where FILE's own warmup_days = -3, was refused for
    the -3 that the --set replaces; the --set's value is what runs. A bad value of the file that
    no --set touches is still named as the file names it, without the --set."""
    from bordersim.errors import ScenarioError
    from bordersim.services.loading import load_and_compile

    bad = tmp_path / "bad.toml"
    bad.write_text(f'base = "{SMALL}"\nname = "bad"\n[period]\nwarmup_days = -3\n')
    loaded = load_and_compile(bad, {"period.warmup_days": 2})
    assert loaded.model.warmup_days == 2
    with pytest.raises(ScenarioError) as refused:
        load_and_compile(bad, {"demand.scale": 1.5})
    assert str(refused.value) == f"{bad}, line 4: period.warmup_days = -3: must be at least 0"
    with pytest.raises(ScenarioError) as refused:
        load_and_compile(bad, {"period.warmup_days": -1})
    assert str(refused.value) == (
        f"--set period.warmup_days=-1: {bad}: period.warmup_days = -1: must be at least 0"
    )


@needs_scenarios
def test_a_whole_number_in_exponent_form_is_set_as_that_number() -> None:
    """`--set period.warmup_days=1e3` was refused, echoed as `=1000.0`, "must be a whole number,
    written without a decimal point", though it was written without one: 1e3 is now 1000, and
    said so in a refusal."""
    from bordersim.errors import ScenarioError
    from bordersim.services.loading import load_and_compile, parse_settings

    assert (
        load_and_compile(SMALL, parse_settings(["period.warmup_days=1e1"])).model.warmup_days == 10
    )
    with pytest.raises(ScenarioError) as refused:
        load_and_compile(SMALL, parse_settings(["period.warmup_days=-1E3"]))
    assert str(refused.value) == (
        f"--set period.warmup_days=-1000: {SMALL}: period.warmup_days = -1000: must be at least 0"
    )


@needs_scenarios
@pytest.mark.parametrize("typed", ["1e300", "1E16", "-2.0e20"])
def test_a_huge_number_where_a_count_is_read_is_refused_in_a_short_line(typed: str) -> None:
    """`--set period.warmup_days=1e300` was refused with the "whole number" it should be
    written as: three hundred digits, cut off at the end of the message and by the terminal.
    Beyond the counts any key takes, the rule now says so in a few words."""
    from bordersim.errors import ScenarioError
    from bordersim.services.loading import load_and_compile, parse_settings

    value = float(typed)
    with pytest.raises(ScenarioError) as refused:
        load_and_compile(SMALL, parse_settings([f"period.warmup_days={typed}"]))
    assert str(refused.value) == (
        f"--set period.warmup_days={value}: {SMALL}: period.warmup_days = {value}: must be a "
        "whole number, written without a decimal point or exponent, and far smaller: no count "
        "in a scenario comes near it"
    )


@needs_scenarios
def test_a_set_date_that_is_no_day_of_the_calendar_is_told_so() -> None:
    """`--set period.start_date=2023-02-30` was told "must be a TOML date, written without
    quotes", though it was written without any: the day is what does not exist."""
    from bordersim.errors import ScenarioError
    from bordersim.services.loading import load_and_compile, parse_settings

    with pytest.raises(ScenarioError) as refused:
        load_and_compile(SMALL, parse_settings(["period.start_date=2023-02-30"]))
    assert str(refused.value).endswith(
        "period.start_date = '2023-02-30': no such day in the calendar (2023-02 has 28 days)"
    )


@needs_scenarios
def test_a_set_bare_word_is_named_as_it_was_typed() -> None:
    """`--set health.enabled=yes` was named `--set health.enabled='yes'`, quotes the user never
    typed, beside a rule that says to write the value without quotes."""
    from bordersim.errors import ScenarioError
    from bordersim.services.loading import load_and_compile, parse_settings

    with pytest.raises(ScenarioError) as refused:
        load_and_compile(SMALL, parse_settings(["health.enabled=yes"]))
    assert str(refused.value).startswith(f"--set health.enabled=yes: {SMALL}: ")


@needs_event_engine
def test_a_run_interrupted_midway_is_failed_with_no_results_and_no_report(tmp_path: Path) -> None:
    from bordersim.services.loading import LoadedScenario
    from bordersim.services.record import simulate_and_record

    loaded = LoadedScenario(tmp_path / "tiny.toml", "# tiny\n", tiny_model(), 0.0)
    out = tmp_path / "out"

    def interrupt(done: int, total: int) -> None:
        if done >= 1:
            raise KeyboardInterrupt  # Ctrl-C after the first replication

    with open_store(tmp_path / "store.duckdb") as connection:
        with pytest.raises(KeyboardInterrupt):
            simulate_and_record(
                loaded,
                connection,
                engine="event",
                replications=3,
                seed=5,
                out_dir=out,
                records=False,
                on_progress=interrupt,
            )
        runs = list_runs(connection)
        assert [r.status for r in runs] == [FAILED]
        rows = connection.execute("SELECT count(*) FROM run_files").fetchone()
        assert rows == (0,)
        assert not list(results_dir(connection).glob("runs/*"))
    assert not out.exists() or list(out.iterdir()) == []


@needs_event_engine
def test_a_report_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path) -> None:
    from bordersim.errors import BordersimError
    from bordersim.services.loading import LoadedScenario
    from bordersim.services.record import simulate_and_record

    loaded = LoadedScenario(tmp_path / "tiny.toml", "# tiny\n", tiny_model(), 0.0)
    blocker = tmp_path / "out"
    blocker.write_text("a file where the report folder should be")
    with open_store(tmp_path / "store.duckdb") as connection:
        with pytest.raises(BordersimError, match="names a file, not a folder"):
            simulate_and_record(
                loaded,
                connection,
                engine="event",
                replications=1,
                seed=5,
                out_dir=blocker,
                records=False,
            )
        assert list_runs(connection) == []  # checked before anything is recorded


@needs_event_engine
@needs_scenarios
def test_run_small_example_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    argv = [
        "run",
        str(SMALL),
        "--replications",
        "2",
        "--seed",
        "3",
        "--store",
        str(store),
        "--out",
        str(out),
    ]
    main(argv)
    printed = capsys.readouterr().out
    assert "Encounters" in printed and "Time in custody, median" in printed
    report = (out / "report.html").read_text()
    assert 'src="http' not in report and "src='http" not in report
    assert "Validation" in report and "72 h standard" in report
    with open_store(store) as connection:
        (run,) = list_runs(connection)
        assert run.status == COMPLETE and run.replications == 2 and run.seed == 3
        assert run.kpis["encounters"]["mean"] > 0
        assert {"scenario_compile_s", "compile_s", "run_s", "run_s_per_replication"} <= set(
            run.timings
        )
    assert list(out.iterdir()) == [out / "report.html"]
    capsys.readouterr()
    main(["runs", "--store", str(store)])
    listed = capsys.readouterr().out
    assert run.run_id in listed and "complete" in listed
    # The report can be written again from the store alone.
    again = tmp_path / "again"
    main(["report", run.run_id, "--store", str(store), "--out", str(again)])
    assert (again / "report.html").stat().st_size > 100_000


@needs_event_engine
@needs_scenarios
def test_compare_a_stored_run_with_a_file_reuses_its_seed_and_pairs_replications(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    main(["run", str(SMALL), "-r", "2", "--seed", "11", "--store", str(store), "--out", str(out)])
    with open_store(store) as connection:
        (first,) = list_runs(connection)
    capsys.readouterr()
    main(["compare", first.run_id, str(SMALL), "--store", str(store), "--out", str(out / "cmp")])
    printed = capsys.readouterr().out
    assert "paired, common random numbers" in printed
    # the run it simulates is announced in `bordersim run`'s words
    assert f"stored; report: {out / 'cmp'}" in " ".join(printed.split())
    with open_store(store) as connection:
        runs = list_runs(connection)
    assert [(r.seed, r.replications, r.status) for r in runs] == [(11, 2, COMPLETE)] * 2
    # Same scenario, same seed: the engine is deterministic, so every difference is exactly 0.
    from bordersim.report.compare_report import KpiComparison
    from bordersim.services.record import stored_record

    with open_store(store) as connection:
        a, b = (stored_record(connection, r.run_id) for r in runs)
    comparison = KpiComparison.of(a.result, b.result)
    assert comparison.paired and all(d.mean == 0 for d in comparison.diffs.values() if d.n)
    report = (out / "cmp" / "compare.html").read_text()
    assert "Differences B - A" in report and 'src="http' not in report


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "quantum"], "unknown engine"),
        (
            ["--engine", "flow", "--records"],
            "--records keeps per-person records, which only the event engine has",
        ),
    ],
)
def test_a_request_no_engine_runs_is_refused_before_anything_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    argv = ["run", str(SMALL), "--store", str(store), "--out", str(out), *extra]
    assert _exit_code(argv) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert not out.exists()
    assert not store.exists() or _statuses(store) == []


@pytest.mark.slow
@needs_event_engine
@needs_scenarios
def test_main_job_writes_both_reports_and_the_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, out = tmp_path / "store.duckdb", tmp_path / "main"
    main(["main-job", "--replications", "2", "--store", str(store), "--out", str(out)])
    printed = capsys.readouterr().out
    assert "imported" in printed  # a fresh store gets the official data first
    assert str(out / "compare.html") in printed.replace("\n", "")
    for name in (
        "compare.html",
        "2023-title42-end/report.html",
        "2023-title42-end-no-troops/report.html",
    ):
        text = (out / name).read_text()
        assert 'src="http' not in text, name
        assert text.count("plotly.js (cartesian - minified) v") == 1, name
    with open_store(store) as connection:
        runs = list_runs(connection)
    assert sorted(r.scenario_name for r in runs) == [
        "2023-title42-end",
        "2023-title42-end-no-troops",
    ]
    assert {(r.status, r.seed, r.replications) for r in runs} == {(COMPLETE, runs[0].seed, 2)}


def test_help_text_wraps_its_paragraphs_to_the_terminal_not_to_the_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The fit command's docstring wraps its second paragraph after "multiplies each factor" in the
    # source; at 200 columns the whole paragraph fits on one line of help.
    monkeypatch.setenv("COLUMNS", "200")
    main(["fit", "--help"])
    out = capsys.readouterr().out
    assert "multiplies each factor by the damped ratio of official to simulated encounters" in out
    main(["--help"])
    listing = capsys.readouterr().out
    assert "write KPIs against the values." in listing
    assert not any(line.strip("│ ").endswith(",") for line in listing.splitlines())


def test_help_shows_no_value_beside_a_flag_and_path_beside_a_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before, every flag read "--help <bool>", "--version <bool>", as if it took a value, and
    # bordersim plan's paths (read as text) "<str>", where bordersim run's said "<path>"; every
    # other value read as the framework's type ("--seed <int>", "--set <list[str]>") and a
    # required argument in braces ("Usage: bordersim run [OPTIONS] {SCENARIO}").
    monkeypatch.setenv("COLUMNS", "200")
    commands = [
        [], ["run"], ["compare"], ["plan"], ["export"], ["sweep"], ["forecast"], ["serve"],
        ["runs"], ["data", "import"], ["scenario", "check"], ["store", "copy"], ["fit"],
        ["validate"], ["calibrate"], ["verify"], ["report"], ["main-job"], ["data"],
        ["data", "show"], ["scenario"], ["scenario", "params"], ["store"], ["store", "verify"],
    ]  # fmt: skip
    framework_type = re.compile(r"<(bool|int|float|str|text|path|file|dir|list\[\w+\]|\w+ range)>")
    rows: dict[str, str] = {}
    for command in commands:
        main([*command, "--help"])
        out = capsys.readouterr().out
        assert not framework_type.search(out), (command, framework_type.search(out))
        assert "{" not in out and "}" not in out, command
        for line in out.splitlines():  # a parameter's row: "│ *  --plan  PATH  Plan file"
            cells = line.strip("│ *").split()
            if line.startswith("│") and cells:
                rows.setdefault(" ".join([*command, cells[0]]), cells[:3])

    def shown(row: str) -> list[str]:
        return rows[row]

    assert shown("--version")[:2] == ["--version", "Print"]
    assert shown("plan --help")[:3] == ["--help", "-h", "Show"]  # no value beside the flag
    assert shown("plan --frontier")[:3] == ["--frontier", "--no-frontier", "Also"]
    assert shown("run --records")[:2] == ["--records", "Keep"]
    assert shown("plan --plan")[:2] == ["--plan", "PATH"]
    assert shown("plan --out")[:2] == ["--out", "PATH"]
    assert shown("plan SCENARIO")[:2] == ["SCENARIO", "PATH"]
    assert shown("run --out")[:2] == ["--out", "PATH"]
    assert shown("run --store")[:2] == ["--store", "PATH|URL"]
    assert shown("scenario check --calibration")[:2] == ["--calibration", "PATH"]
    assert shown("validate --out")[:2] == ["--out", "PATH"]  # the options that refuse ""
    assert shown("validate --targets")[:2] == ["--targets", "PATH"]
    assert shown("fit --out")[:3] == ["--out", "-o", "PATH"]
    assert shown("calibrate --out,--output")[:3] == ["--out,--output", "-o", "PATH"]
    assert shown("run --seed")[:2] == ["--seed", "INTEGER"]  # the rest: a word for its value
    assert shown("run --replications") == ["--replications", "-r", "INTEGER"]
    assert shown("fit --damping")[:2] == ["--damping", "NUMBER"]
    assert shown("run --set")[:2] == ["--set", "KEY=VALUE"]
    assert shown("sweep --vary")[:2] == ["--vary", "KEY=V1,V2,..."]
    assert shown("export --sector")[:2] == ["--sector", "SECTOR"]
    assert shown("forecast --origin")[:2] == ["--origin", "YYYY-MM"]
    assert shown("compare A")[:2] == ["A", "TEXT"]
    main(["run", "--help"])
    usage = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert usage[1].endswith(" run [OPTIONS] SCENARIO")
    main(["data", "import", "--help"])
    usage = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert usage[1].endswith(" data import [OPTIONS] [FILE]...")


def test_help_shows_brackets_in_its_text_as_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rich took "[forecast]" for a style and dropped it: "optionally  paths or quantiles"
    monkeypatch.setenv("COLUMNS", "200")
    main(["plan", "--help"])
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "optionally [forecast] paths or quantiles" in out
    assert "with [forecast] quantiles, one plan per quantile" in out
    main(["sweep", "--help"])
    assert "local[:N] starts N local workers" in capsys.readouterr().out


def test_python_dash_m_bordersim_is_the_bordersim_command(tmp_path: Path) -> None:
    """`python -m bordersim` (an environment without the script on PATH) runs the same command:
    its help lists the commands, and bad input is one line and exit 2 as with `bordersim`."""
    env = {"COLUMNS": "200", "PATH": "", "PYTHONPATH": str(Path(bordersim.__file__).parents[1])}

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bordersim", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
            timeout=120,
        )

    helped = command("--help")
    assert helped.returncode == 0, helped.stderr
    assert "Usage: python -m bordersim" in helped.stdout
    assert all(name in helped.stdout for name in ("run", "sweep", "plan", "forecast"))
    failed = command("run", str(tmp_path / "nope.toml"), "--store", str(tmp_path / "s.duckdb"))
    assert failed.returncode == 2
    assert len(failed.stderr.strip().splitlines()) == 1 and "nope.toml" in failed.stderr


def test_a_folder_given_again_keeps_its_earlier_records_and_says_whose_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run into the same --out folder: the first run's per-person records stay (they
    are the user's), the run says they are not its own, and the catalog no longer names the
    folder's report as the first run's."""
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    common = ["--replications", "1", "--store", str(store), "--out", str(out)]
    main(["run", str(SMALL), "--records", *common])
    records = (out / "people.parquet").read_bytes()
    capsys.readouterr()
    main(["run", str(SMALL), "--seed", "9", *common])
    printed = capsys.readouterr()
    said = " ".join((printed.out + printed.err).split())
    assert f"{out / 'people.parquet'} is an earlier run's per-person records" in said
    assert "this run kept none (--records keeps them)" in said
    assert (out / "people.parquet").read_bytes() == records
    with open_store(store) as connection:
        first, second = list_runs(connection)
    assert (first.seed, second.seed) == (1, 9)
    assert first.report_path is None
    assert second.report_path == str((out / "report.html").absolute())


@needs_event_engine
@needs_scenarios
def test_the_report_path_is_printed_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Printed as Rich markup, a report folder such as out[bold] was shown as out/."""
    out = tmp_path / "out[bold]"
    main(["run", str(SMALL), "-r", "1", "--store", str(tmp_path / "s.duckdb"), "--out", str(out)])
    printed = " ".join(capsys.readouterr().out.split())  # a long line may wrap
    assert f"stored; report: {out / 'report.html'}" in printed
    assert (out / "report.html").is_file()


@needs_event_engine
@needs_scenarios
def test_run_and_compare_print_a_long_report_path_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report path longer than the page was broken across lines, so that it could not be
    copied or piped whole; it is now printed on one line, however long."""
    out = tmp_path / ("a-folder-with-a-long-name-" * 6) / "out"
    store = str(tmp_path / "s.duckdb")
    main(["run", str(SMALL), "-r", "1", "--store", store, "--out", str(out / "run")])
    lines = capsys.readouterr().out.splitlines()
    assert any(line.endswith(f"stored; report: {out / 'run' / 'report.html'}") for line in lines)
    with open_store(Path(store)) as connection:
        (first,) = list_runs(connection)
    main(["compare", first.run_id, str(SMALL), "--store", store, "--out", str(out / "cmp")])
    lines = capsys.readouterr().out.splitlines()
    assert f"comparison report: {out / 'cmp' / 'compare.html'}" in lines


@needs_event_engine
@needs_scenarios
def test_an_out_under_the_home_folder_given_with_equals_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out=~/reports`, which the shell leaves as typed, made a folder named "~" in the
    current folder; "~" is now the home folder, as a scenario's base and calibration read it."""
    home, here = tmp_path / "home", tmp_path / "here"
    home.mkdir()
    here.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(here)
    main(["run", str(SMALL), "-r", "1", "--store", str(tmp_path / "s.duckdb"), "--out=~/reports"])
    assert (home / "reports" / "report.html").is_file()
    assert list(here.iterdir()) == []
    assert f"report: {home / 'reports' / 'report.html'}" in capsys.readouterr().out


def test_compare_of_two_runs_refuses_options_that_would_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two run ids are compared as they are: -r, --seed, --engine and --set were dropped without
    a word, and an --out naming a file ended in a FileExistsError traceback after the work."""
    store, out = tmp_path / "store.duckdb", tmp_path / "out"
    run = ["run", str(SMALL), "--engine", "flow", "-r", "2", "--store", str(store)]
    for name in ("a", "b"):
        main([*run, "--out", str(out / name)])
    with open_store(store) as connection:
        ids = [r.run_id for r in list_runs(connection)]
    capsys.readouterr()
    compare = ["compare", *ids, "--store", str(store)]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    for options, expected in [
        (["--seed", "9"], "nothing is simulated and --seed would change nothing; leave it out"),
        (["-r", "50", "--set", "demand.scale=3"], "--replications, --set would change nothing"),
        (["--engine", "event"], "--engine would change nothing"),
        (["--out", str(a_file)], "--out names a file, not a folder"),
    ]:
        with pytest.raises(SystemExit) as stopped:
            main([*compare, *options])
        assert stopped.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err
    assert a_file.read_text(encoding="utf-8") == "mine"
    main([*compare, "--out", str(out / "cmp")])
    assert (out / "cmp" / "compare.html").is_file()
    with open_store(store) as connection:
        assert len(list_runs(connection)) == 2


def test_compare_refuses_a_side_compared_with_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bordersim compare A A (one scenario file, or one run id, twice) ran and stored a run the
    user did not need and wrote a report of differences that are all exactly zero, which the
    workbench refuses. It is refused in one line naming B, exit 2, with nothing run or written."""
    store, out = tmp_path / "store.duckdb", tmp_path / "cmp"
    with open_store(store) as connection:
        run = start_constructed(connection, constructed_run(replications=1, days=3))
    monkeypatch.chdir(SMALL.parent)  # the same file by two names
    for a, b, expected in [
        (str(SMALL), "small.toml", "B: small.toml is A too; a scenario compared with itself"),
        (run, run, f"B: {run} is A too; a run compared with itself differs by nothing"),
    ]:
        compare = ["compare", a, b, "--engine", "flow", "-r", "1", "--store", str(store)]
        assert _exit_code([*compare, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith(f"error: {expected}"), err
    assert not out.exists()
    with open_store(store) as connection:
        assert [stored.run_id for stored in list_runs(connection)] == [run]


def test_compare_of_an_unknown_run_with_itself_says_it_is_not_in_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bordersim compare X X, with X a run id the store lacks, said "B: X is A too", as if X
    were a run to compare: that A is in neither the files nor the store is what is wrong."""
    monkeypatch.chdir(tmp_path)
    store, run = tmp_path / "store" / "bordersim.duckdb", "small-20260511-093000-1a2b"
    assert _exit_code(["compare", run, run, "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: A: {run!r} is neither a scenario file nor a run id in the store", err
    assert not (tmp_path / "out").exists()


def test_compare_of_an_unknown_side_names_it_and_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bordersim compare SMALL nope left an empty out/compare/ behind, and its message did not
    say which side was unknown."""
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store" / "bordersim.duckdb"
    assert _exit_code(["compare", str(SMALL), "nope", "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: B: 'nope' is neither a scenario file nor a run id in the store", err
    assert not (tmp_path / "out").exists()


def test_compare_refuses_a_bad_engine_or_seed_before_looking_for_its_sides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bordersim compare x y --engine nope said that A was unknown, as `run` does not: the
    option is refused first, so that fixing A does not lead to another refusal."""
    monkeypatch.chdir(tmp_path)
    for option, expected in [
        (["--engine", "nope"], "unknown engine 'nope'; choose one of: event, flow"),
        (["--seed", "-1"], "--seed -1: must be a whole number from 0 to 2^63 - 1"),
    ]:
        assert _exit_code(["compare", "x", "y", *option]) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"error: {expected}", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["run", str(SMALL), "--engine", "FLOW", "--records"], "--records keeps per-person"),
        (["run", str(SMALL), "--engine", " Flow ", "--records"], "--records keeps per-person"),
        (["fit", str(SMALL), "--engine", "Flow", "-o", "f.json"], "--engine 'flow': fitting"),
        (["compare", "x", "y", "--engine", "FLOW"], "A: 'x' is neither a scenario file"),
        (["run", str(SMALL), "--engine", "Nope"], "unknown engine 'Nope'; choose one of"),
    ],
)
def test_an_engine_named_in_capitals_is_that_engine_in_every_command(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--engine FLOW was refused as an unknown engine, though only one engine has that name:
    the name is now read whatever its case (and without spaces around it) by every command,
    which goes on to its next check, here one that only the flow engine fails."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "s.duckdb"))
    assert _exit_code(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert said in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_key_set_twice_on_the_command_line_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--set demand.scale=1 --set demand.scale=2 ran with the last value without a word, where
    bs.run refuses a key set twice in one call."""
    monkeypatch.chdir(tmp_path)
    twice = ["--set", "demand.scale=1", "--set", "'demand'.scale = 2"]
    for argv in (["compare", "x", "y", *twice], ["run", "nope.toml", *twice]):
        assert _exit_code(argv) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert err == (
            "error: --set demand.scale is given twice ('demand'.scale = 2 after demand.scale=1); "
            "give it once"
        ), err
    assert list(tmp_path.iterdir()) == []


def test_compare_of_unknown_runs_makes_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bordersim compare x y --store new/store.duckdb was refused, as neither side exists, yet
    left a new, empty store (and its folder) behind to look for the runs in."""
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "new" / "store.duckdb"
    assert _exit_code(["compare", "x", "y", "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: A: 'x' is neither a scenario file nor a run id in the store", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["runs"],
        ["store", "verify"],
        ["report", "small-20260511-093000-1a2b"],
        ["export", "small-20260511-093000-1a2b", "--format", "csv", "--out", "daily.csv"],
        ["run", str(SMALL)],
        ["compare", str(SMALL), str(SMALL)],
        ["sweep", str(SMALL), "--vary", "demand.scale=1,2"],
        ["data", "show"],
        ["data", "import"],
        ["calibrate"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_an_empty_store_option_is_refused_by_every_command(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    # --store "$STORE" with the variable unset: not the default store, nor the current folder
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    assert _exit_code([*argv, "--store", ""]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "--store: is empty" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_spaces_around_a_store_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --store " $URL" (a space from the shell's quoting) was a file named " postgresql:/..." in
    # the current folder: "no store here", and data show read it as a file, not a shared store
    monkeypatch.chdir(tmp_path)
    url = "postgresql://someone@127.0.0.1:1/bordersim?results=/r"
    assert _exit_code(["runs", "--store", f" {url} "]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {url}: cannot connect to PostgreSQL"), err
    assert _exit_code(["data", "show", "--store", f" {url}"]) == 2
    assert "--store: this command needs an embedded store file" in capsys.readouterr().err
    store = tmp_path / "store.duckdb"
    open_store(store).close()
    main(["runs", "--store", f"  {store}\t"])
    assert "no runs" in capsys.readouterr().out.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.duckdb"]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["fit", ""], "fit: SCENARIO is empty (an unset variable?); give a path"),
        (["run", ""], "run: SCENARIO is empty (an unset variable?); give a path"),
        (["run", " "], "run: SCENARIO is empty"),
        (["validate", ""], "validate: SCENARIO is empty (an unset variable?); give a path"),
        (["sweep", "", "--vary", "demand.scale=1,2"], "sweep: SCENARIO is empty"),
        (["scenario", "check", ""], "scenario check: FILE is empty (an unset variable?)"),
        (["plan", "", "--plan", "p.toml"], "plan: SCENARIO is empty"),
        (["data", "import", ""], "data import: FILE is empty (an unset variable?); give a path"),
        (["compare", str(SMALL), ""], "compare: B is empty (an unset variable?); give a scenario"),
        (["compare", "", str(SMALL)], "compare: A is empty"),
        (["report", ""], "report: RUN_ID is empty (an unset variable?); give a run id"),
        (["export", "", "--format", "csv", "--out", "x.csv"], "export: RUN_ID is empty"),
        (["store", "copy", "", "b.duckdb"], "store copy: SOURCE is empty"),
        (["store", "copy", "a.duckdb", ""], "store copy: DEST is empty"),
    ],
)
def test_an_empty_argument_is_refused_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    """An empty argument ("$SCENARIO" with the variable unset) was the current folder: bordersim
    fit "" said ".: no such scenario file", run and validate ".: scenario file is a folder",
    report and export looked up a run id "" in the default store, and compare A "" left an empty
    out/compare behind. Every command's positional argument now refuses it in one line naming
    the command and the argument, exit 2, before anything is read or made."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert said in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["run", str(SMALL), "--engine", "flow", "-r", "1", "--out", ""], "--out"),
        (["compare", str(SMALL), str(SMALL), "--engine", "flow", "-r", "1", "--out", ""], "--out"),
        (["report", "small-1", "--out", ""], "--out"),
        (["export", "small-1", "--format", "csv", "--out", ""], "--out"),
        (["forecast", "--horizon", "1", "--out", ""], "--out"),
        (["main-job", "-r", "1", "--out", ""], "--out"),
        (["main-job", "-r", "1", "--scenarios", ""], "--scenarios"),
        # sweep and serve read their folders as text: they said "--out is empty ...; give a
        # folder", in words of their own
        (["sweep", str(SMALL), "--vary", "demand.scale=1,2", "--out", ""], "--out"),
        (["serve", "--out", ""], "--out"),
        (["serve", "--scenarios", ""], "--scenarios"),
        (["serve", "--plans", ""], "--plans"),
    ],
)
def test_an_empty_path_option_is_refused_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    option: str,
) -> None:
    """--out "$OUT" with the variable unset was the current folder: run, compare and main-job
    wrote their reports (and compare and main-job their runs' folders) among the user's files,
    and forecast named the folder, not the option. Every path option of every command refuses
    it in one line naming the option, exit 2, before anything is read or made."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"error: {option}: is empty (an unset variable?); give a path"), err
    assert list(tmp_path.iterdir()) == []


def test_an_argument_whose_default_is_empty_still_takes_an_empty_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # bordersim scenario params "" is every parameter, as its PREFIX left out is
    try:
        main(["scenario", "params", ""])
    except SystemExit as ended:
        assert not ended.code
    assert "period.warmup_days" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["run", str(SMALL)],
        ["compare", str(SMALL), str(SMALL.with_name("small-staff-bound.toml"))],
        ["main-job"],
    ],
)
@pytest.mark.parametrize("count", ["0", "-3"])
def test_too_few_replications_are_one_line_as_too_many_are(
    argv: list[str],
    count: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """run -r 0 printed the framework's four-line usage error, where run -r 2000000 printed
    bordersim's one line; main-job imported the official data into the store before it
    refused the count. Both ends of the range now get one line, before anything is made, in
    the words of sweep, fit and plan (`--replications 0: must be at least 1`)."""
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "s.duckdb"
    assert _exit_code([*argv, "-r", count, "--store", str(store), "--out", "o"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --replications {count}: must be at least 1", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "compare"])
def test_too_many_replications_are_refused_naming_the_option(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run -r 1000000000 said "replications must be at most 1,000,000", as the Python API
    names its parameter; the command names its option, as sweep, fit and plan do."""
    staff_bound = SMALL.with_name("small-staff-bound.toml")
    sides = [str(SMALL)] if command == "run" else [str(SMALL), str(staff_bound)]
    store = tmp_path / "s.duckdb"
    assert _exit_code([command, *sides, "-r", "1000000000", "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --replications 1000000000: must be at most 1,000,000", err
