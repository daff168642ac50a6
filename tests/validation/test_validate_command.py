"""`bordersim validate`: the table and CSV on a real run; bad input is one line and exit 2."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bordersim.cli import main
from repo_paths import SMALL


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return int(stopped.value.code or 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.toml"], "no such scenario file"),
        ([str(SMALL), "--replications", "0"], "--replications 0: must be at least 1"),
        ([str(SMALL), "--engine", "warp"], "unknown engine"),
        ([str(SMALL), "--seed", "-1"], "--seed -1: must be a whole number from 0 to 2^63 - 1"),
        ([str(SMALL), "--targets", "missing.csv"], "missing.csv: no such targets file"),
        # a folder was "cannot read the targets file (Is a directory)", where a scenario
        # folder is "scenario file is a folder, not a file"
        ([str(SMALL), "--targets", "."], ".: targets file is a folder, not a file"),
        ([str(SMALL), "--set", "processing.min_custody_hours.release"], "expected KEY=VALUE"),
        ([str(SMALL), "--set", "processing.no_such_key=1"], "no_such_key"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _exit_code(["validate", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


def test_an_out_that_is_a_file_is_refused_before_the_simulation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming a file was a FileExistsError traceback after the whole simulation; it is
    one line naming --out, exit status 2, before anything is simulated, the file untouched."""
    mine = tmp_path / "notes.txt"
    mine.write_text("the user's", encoding="utf-8")
    assert _exit_code(["validate", str(SMALL), "-r", "1", "--out", str(mine)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and str(mine) in err and "not a folder" in err
    assert "targets compared" not in captured.out
    assert mine.read_text(encoding="utf-8") == "the user's"


def test_validate_prints_and_writes_every_target_of_the_period(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out[bold]"  # a folder name is shown as it is, not read as markup
    main(["validate", str(SMALL), "--replications", "2", "--out", str(out)])
    text = capsys.readouterr().out
    assert "out[bold]" in "".join(text.split())
    assert "targets compared" in text and "Not compared" in text
    # the figures not compared are named as the table names its measures, in words: not by the
    # targets file's metric names ("- custody_population, SWB, ..."), which only the CSV gives
    not_compared = text[text.index("Not compared:") :].splitlines()[1:]
    assert any(line.startswith("- people in custody, SWB, ") for line in not_compared), text
    assert not any("_" in line.split(",")[0] for line in not_compared if line.startswith("- "))
    assert "Custody over the run" in text and "most crowded" in text
    table = pd.read_csv(out / "validation-small.csv")
    # small.toml simulates Tucson and Rio Grande Valley, 20 April to 31 May 2023
    rgv = table[(table["metric"] == "custody_population") & (table["scope"] == "Rio Grande Valley")]
    assert len(rgv) >= 3 and (rgv["replications"] == 2).all()
    assert rgv["simulated_mean"].gt(0).all() and rgv["score"].ne("not compared").all()
    border = table[table["scope"] == "SWB"]
    assert border["score"].eq("not compared").all()  # seven sectors are not simulated
    assert set(table["score"]) <= {"in range", "within 30 %", "miss", "not compared"}
    # the column was "error", 0.12 where the table printed "+12 %": fraction or percent was
    # left to guess; its header now says it is a fraction
    assert "error" not in table.columns
    points = table[(table["score"] != "not compared") & (table["bound"] == "value")]
    relative = (points["simulated_mean"] - points["target"]) / points["target"]
    assert len(points) > 0 and points["error_fraction"].to_numpy() == pytest.approx(relative)


def test_every_source_is_printed_whole_in_a_pipe_and_in_an_80_column_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table's last column cut each source to one line ("CBS News: Spike in illegal
    border…"), so a reader could not tell which report a target came from; in an 80-column
    terminal the table's columns were squeezed to nothing. Sources are numbered notes below the
    table, whole, and a terminal too narrow for the table gets one line per target."""
    import io

    from rich.console import Console

    from bordersim.commands import console as consoles

    out = tmp_path / "out"
    main(["validate", str(SMALL), "-r", "1", "--out", str(out)])
    piped = capsys.readouterr().out
    table = pd.read_csv(out / "validation-small.csv", keep_default_na=False)
    compared = table[table["score"] != "not compared"]
    sources = list(dict.fromkeys(compared["source"]))
    assert len(compared) >= 3 and any(len(source) > 60 for source in sources), sources
    lines = piped.splitlines()
    for number, source in enumerate(sources, start=1):
        assert f"[{number}] {source}" in lines, (source, piped)
    assert "…" not in piped and "┃ measure" in piped  # the table, its cells whole

    terminal = io.StringIO()
    monkeypatch.setattr(
        consoles,
        "wide_console",
        lambda: Console(file=terminal, width=80, force_terminal=True, color_system=None),
    )
    main(["validate", str(SMALL), "-r", "1"])
    text = terminal.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and "┃" not in text  # no squeezed table: a line per target
    said = " ".join(text.split())
    for number, source in enumerate(sources, start=1):
        assert f"[{number}] {' '.join(source.split())}" in said, (source, text)
    for row in compared.itertuples():
        assert f"- {row.label}, {row.scope}, " in said, (row, text)


def test_a_setting_is_scored_beside_the_scenario_without_overwriting_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    base = ["validate", str(SMALL), "--replications", "2", "--out", str(out)]
    main(base)
    main([*base, "--set", "processing.min_custody_hours.release=120"])
    printed = capsys.readouterr().out
    assert "set processing.min_custody_hours.release=120" in printed
    own = pd.read_csv(out / "validation-small.csv", keep_default_na=False)
    (variant_path,) = out.glob("validation-small-set-*.csv")
    variant = pd.read_csv(variant_path, keep_default_na=False)
    assert own["settings"].eq("").all()
    assert variant["settings"].eq("processing.min_custody_hours.release=120").all()

    def rgv_custody(table: pd.DataFrame) -> pd.Series:
        rows = (table["metric"] == "custody_population") & (table["scope"] == "Rio Grande Valley")
        return table.loc[rows].set_index("targets_row")["simulated_mean"].astype(float)

    # Four days before release instead of the default 30 hours hold more people in the valley
    # on every compared day (the same seed, so the same arrivals).
    assert (rgv_custody(variant) > 1.5 * rgv_custody(own)).all()


def test_an_interrupted_validation_says_nothing_was_written(tmp_path: Path) -> None:
    """SIGTERM during `bordersim validate` said "nothing was marked complete (a run that had
    started is recorded as failed)", the words of a simulation run; validation records no run.
    It now speaks of the validation. And the --out folder made before the simulation, with its
    parents, was left behind empty; they are removed again."""
    out = tmp_path / "new" / "out"
    command = [str(Path(sys.executable).parent / "bordersim"), "validate", str(SMALL)]
    process = subprocess.Popen(
        [*command, "-r", "1", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert process.stderr.readline().startswith("validate: simulating small")
    assert out.is_dir()  # made before the simulation
    process.send_signal(signal.SIGTERM)
    stdout, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert (
        err.strip() == "interrupted (SIGTERM): the validation stopped cleanly; nothing was written"
    )
    assert "targets compared" not in stdout
    assert list(tmp_path.iterdir()) == []  # neither out nor the folder made for it


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["validate", str(SMALL), "-r", "1", "--out", ""], "--out"),
        (["validate", str(SMALL), "-r", "1", "--targets", " "], "--targets"),
        (["fit", str(SMALL), "-r", "2", "--out", ""], "--out"),
        (["calibrate", "--out", ""], "--out"),  # as every other command names it
        (["calibrate", "--output", ""], "--out"),  # its earlier name, still read
        (["scenario", "check", str(SMALL), "--calibration", ""], "--calibration"),
    ],
    ids=lambda value: " ".join(value[:1]) if isinstance(value, list) else value,
)
def test_an_empty_path_option_is_refused_before_any_work(
    argv: list[str],
    option: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An empty path ("$OUT" with the variable unset) was the current folder: validate --out ""
    simulated and wrote its CSV there, --targets "" said ".: cannot read the targets file (Is a
    directory)", fit --out "" and calibrate --output "" named the current folder as the one
    given, and scenario check --calibration "" blamed the folder. Each is now one line naming
    the option, exit 2, before anything is read, simulated or made."""
    monkeypatch.chdir(tmp_path)
    assert _exit_code(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith(f"error: {option}: is empty (an unset variable?); give "), err
    assert len(err.splitlines()) == 1 and captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_a_validation_to_a_pipe_says_on_stderr_that_it_simulates(tmp_path: Path) -> None:
    """`bordersim validate ... > table.txt` simulated for minutes without a word (its status
    line is for terminals only); a line on stderr now says what it simulates."""
    command = [str(Path(sys.executable).parent / "bordersim"), "validate", str(SMALL)]
    process = subprocess.Popen(
        [*command, "-r", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    started = process.stderr.readline()
    process.terminate()
    process.communicate(timeout=300)
    assert started == (
        "validate: simulating small (event, 1 replication); the first run may compile the "
        "engine for a few minutes...\n"
    )


def test_a_period_without_targets_is_refused_before_the_simulation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario of 2010, before the first target, was simulated and then reported "0 targets
    compared: 0 in range, 0 within 30 %, 0 missed; 0 of the period not compared.", exit 0, as if
    it had been validated. It is refused before the simulation, naming the simulated days and
    those the targets cover, exit 2, and --out is not made."""
    text = SMALL.read_text(encoding="utf-8")
    for year_2023, year_2010 in (("2023-04-20", "2010-03-20"), ("2023-05-31", "2010-04-30")):
        text = text.replace(year_2023, year_2010)
    scenario = tmp_path / "small-2010.toml"
    scenario.write_text(text.replace("2023-05-10", "2010-04-10"), encoding="utf-8")
    out = tmp_path / "out"
    assert _exit_code(["validate", str(scenario), "-r", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(
        "error: the shipped targets file: no target falls in the scenario's simulated days, "
        "2010-03-13 to 2010-04-30 (they cover "
    ), err
    assert err.endswith("): nothing to validate; give a scenario of a period with targets"), err
    assert "targets compared" not in captured.out
    assert not out.exists()


def test_each_line_of_a_validation_into_a_file_is_whole(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Into a file or a pipe (`bordersim validate ... > table.txt`), a line longer than the 180
    columns of the table was broken where it passed them: a miss read "... Model: people in
    Border Patrol custody, me" then "an over the day's hours.", and the course of custody came in
    two pieces, so that grep found half a line. Every line is now whole; the table keeps its
    width."""
    import datetime as dt

    import numpy as np

    from bordersim.commands.validate import (
        print_custody_course,
        print_validation,
        validation_console,
    )
    from bordersim.results.kpis import mean_interval
    from bordersim.validation.compare import MISS, NOT_COMPARED, Comparison
    from bordersim.validation.targets import Target
    from constructed_runs import constructed_run

    console = validation_console()  # stdout, captured: a file, not a terminal
    day = dt.date(2023, 5, 13)
    target = Target("custody_population", day, day, "Rio Grande Valley", 5000.0, None, "value",
                    "", "CBS News: Spike in illegal border entries", "", "high", "", 2)  # fmt: skip
    long_note = "people in Border Patrol custody, mean over the day's hours; " * 3
    simulated = mean_interval(np.array([1388.0, 1400.0]))
    missed = Comparison(target, "people in custody", "people", simulated, -0.72, MISS, long_note)
    why = "the scenario does not simulate " + "SDC, ELC, " * 20
    skipped = Comparison(target, "people in custody", "people", None, 0.0, NOT_COMPARED, why)
    print_validation(console, [missed, skipped])
    print_custody_course(console, constructed_run(replications=2, days=5))
    lines = capsys.readouterr().out.splitlines()
    assert f"Model: {long_note}." in lines[lines.index("Where the model misses:") + 1]
    assert lines[lines.index("Not compared:") + 1].endswith("SDC, ELC, ")
    (course,) = [line for line in lines if line.startswith("Custody over the run")]
    assert "most crowded:" in course and course.endswith(".")
    assert max(len(line) for line in lines if line.startswith(("┃", "│", "┏"))) <= 180


def test_a_scope_or_note_in_brackets_is_printed_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A scope such as "El Paso [sic]" or a note holding "[/b]" was read as Rich markup in the
    misses and the not-compared lists: "[sic]" vanished from the line, and "[/b]" stopped the
    command with a markup error."""
    import datetime as dt

    import numpy as np

    from bordersim.commands.validate import print_validation, validation_console
    from bordersim.results.kpis import mean_interval
    from bordersim.validation.compare import MISS, NOT_COMPARED, Comparison
    from bordersim.validation.targets import Target

    day = dt.date(2023, 5, 13)
    target = Target("custody_population", day, day, "El Paso [sic]", 5000.0, None, "value",
                    "", "A report", "", "high", "", 2)  # fmt: skip
    simulated = mean_interval(np.array([1388.0, 1400.0]))
    missed = Comparison(target, "people in custody", "people", simulated, -0.72, MISS, "a [b] c")
    skipped = Comparison(target, "people in custody", "people", None, 0.0, NOT_COMPARED, "x [/b]")
    print_validation(validation_console(), [missed, skipped])
    lines = capsys.readouterr().out.splitlines()
    miss = lines[lines.index("Where the model misses:") + 1]
    assert miss.startswith("- people in custody, El Paso [sic], 2023-05-13: simulated")
    assert miss.endswith("Model: a [b] c.")
    skip = lines[lines.index("Not compared:") + 1]
    assert skip == "- people in custody, El Paso [sic], 2023-05-13: x [/b]"


def test_one_target_compared_is_said_in_the_singular(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A targets file of one figure in the period (`--targets` with a file of one's own) said
    "1 targets compared"."""
    import datetime as dt

    import numpy as np

    from bordersim.commands.validate import print_validation, validation_console
    from bordersim.results.kpis import mean_interval
    from bordersim.validation.compare import MISS, Comparison
    from bordersim.validation.targets import Target

    day = dt.date(2023, 5, 13)
    target = Target("custody_population", day, day, "SWB", 5000.0, None, "value",
                    "", "A report", "", "high", "", 2)  # fmt: skip
    simulated = mean_interval(np.array([1388.0, 1400.0]))
    missed = Comparison(target, "people in custody", "people", simulated, -0.72, MISS, "a note")
    print_validation(validation_console(), [missed])
    out = capsys.readouterr().out
    assert "1 target compared: 0 in range, 0 within 30 %, 1 missed; 0 of the period not " in out


def test_a_validation_of_one_replication_does_not_promise_intervals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `validate -r 1` titled its table "(mean [95 % interval])" over values with no interval,
    # as `bordersim run -r 1` once did
    main(["validate", str(SMALL), "--replications", "1"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(mean [95 % interval])" not in text
    assert "Operational targets against the simulation (one replication: its values, no " in text


def test_the_engine_option_is_described_as_run_describes_it() -> None:
    """validate --help said only "Engine: 'event' or 'flow'." where run's says what each engine
    is, and not that the flow engine, which keeps no per-person records, compares fewer targets
    (docs/validation.md lists those as not compared on it)."""
    import typer

    from bordersim.cli import _register, app
    from bordersim.commands.simulate import ENGINE_HELP

    _register()
    validate = typer.main.get_command(app).commands["validate"]  # type: ignore[attr-defined]
    (engine,) = (param.help or "" for param in validate.params if param.name == "engine")
    assert engine.startswith(ENGINE_HELP[:-1]) and "per-person records" in engine


def test_the_out_option_names_the_file_a_setting_writes() -> None:
    """validate --help said --out is the folder "for validation-<scenario>.csv", while with
    --set the table goes to validation-<scenario>-set-<digest>.csv: a user looking for the
    named file did not find it. The help names both."""
    import typer

    from bordersim.cli import _register, app
    from bordersim.commands.validate import csv_name

    _register()
    validate = typer.main.get_command(app).commands["validate"]  # type: ignore[attr-defined]
    (out,) = (param.help or "" for param in validate.params if param.name == "out")
    assert "validation-<scenario>.csv" in out and "validation-<scenario>-set-<digest>.csv" in out
    assert csv_name("small", {"demand.scale": 1.3}).startswith("validation-small-set-")
