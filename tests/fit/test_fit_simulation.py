"""`bordersim fit` on the small scenario: the fit reduces the error, and its file round-trips
(compiling the scenario with the written file and simulating with the recorded seed and
replications gives exactly the simulated encounters the file records)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bordersim.calibration.fit_file import read_fit
from bordersim.cli import main
from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.errors import ScenarioError
from bordersim.fitting import FitSettings, fit_demand
from bordersim.scenario import load_scenario

MAY = dt.date(2023, 5, 1)


def test_fit_reduces_the_error_and_its_file_round_trips(
    small_with_fit: Path, calibration: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["fit", str(small_with_fit), "-r", "2", "-n", "3", "--seed", "5"])
    printed = capsys.readouterr().out
    assert "Demand fit of small" in printed
    assert "Wrote the demand fit to" in printed
    fit_path = small_with_fit.parent / "fits" / "small.json"
    document = json.loads(fit_path.read_text())
    scenario = load_scenario(small_with_fit)
    assert document["scenario_hash"] == scenario.fit_hash
    assert document["calibration_version"] == calibration.version
    assert (document["engine"], document["seed"], document["replications"]) == ("event", 5, 2)
    history = document["history"]
    first = history[0]["max_abs_sector_error_pct"]
    kept = history[document["chosen_iteration"] - 1]["max_abs_sector_error_pct"]
    assert first > 5.0  # the calibration alone misses May in these two sectors
    assert kept < first
    assert document["max_abs_error_pct"] == pytest.approx(kept, abs=1e-3)
    # the scenario now compiles with the fit, and reproduces the recorded simulation exactly
    model = compile_scenario(scenario, calibration)
    assert read_fit(fit_path).months == (MAY,)
    result = simulate(model, replications=2, seed=5)
    dates = np.array(result.dates, dtype="datetime64[D]")
    in_may = (dates >= np.datetime64("2023-05-01")) & (dates < np.datetime64("2023-06-01"))
    may = result.metric("encounters")[:, in_may, :].sum(axis=1).mean(axis=0)
    recorded = {row["sector"]: row for row in document["sector_errors"]}
    for s, sector in enumerate(model.sectors):
        row = recorded[sector.name]
        assert row["month"] == "2023-05"
        assert may[s] == pytest.approx(row["simulated"], abs=1e-3)
        assert 100 * (may[s] / row["official"] - 1) == pytest.approx(row["error_pct"], abs=1e-2)


def test_the_fit_table_is_returned_per_sector_and_month(calibration: Any) -> None:
    from repo_paths import SMALL

    outcome = fit_demand(
        load_scenario(SMALL), FitSettings(replications=2, iterations=1, seed=2, fit_groups=False)
    )
    table = outcome.sector_fit
    assert list(table["sector"]) == ["TCA", "RGV"]
    assert list(table["month"]) == [MAY, MAY]
    assert (table["ci_low"] <= table["simulated"]).all()
    assert (table["simulated"] <= table["ci_high"]).all()
    official = [calibration.monthly_encounters(s)[MAY] for s in outcome.sectors]
    np.testing.assert_allclose(table["official"], official)
    np.testing.assert_allclose(
        table["error_pct"], 100 * (table["simulated"] / table["official"] - 1)
    )
    assert outcome.group_fit.empty
    assert (table["factor"] == 1.0).all()  # one iteration: the calibration as it is


def test_a_variant_cannot_refit_the_demand_it_inherits(
    small_with_fit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = small_with_fit.parent / "variant.toml"
    variant.write_text('base = "small.toml"\nremove = ["deployments.troops"]\n')
    with pytest.raises(SystemExit) as done:
        main(["fit", str(variant), "-r", "2", "-n", "1"])
    assert done.value.code == 2
    assert "inherited from small.toml" in capsys.readouterr().err
    assert not (small_with_fit.parent / "fits").exists()


def test_a_period_without_a_whole_month_cannot_be_fitted(tmp_path: Path) -> None:
    path = tmp_path / "short.toml"
    path.write_text(
        'sectors = ["TCA"]\n[period]\nstart_date = 2023-05-03\nend_date = 2023-05-20\n'
        "warmup_days = 3\n"
    )
    with pytest.raises(ScenarioError, match="covers no whole calendar month"):
        fit_demand(load_scenario(path), FitSettings(replications=2, iterations=1))


def test_bad_settings_are_refused_before_simulating(small_with_fit: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["fit", str(small_with_fit), "-r", "1"])
    assert done.value.code == 2
    with pytest.raises(ScenarioError, match="tolerance"):
        FitSettings(tolerance=1.5).check()
    # The fit file records its seed for `bordersim run --seed`, which takes at most 2^63 - 1
    # (the event core keeps 64 bits: 2^64 was seed 0 under another name).
    for seed in (-1, 2**63, 2**64):
        with pytest.raises(ScenarioError, match="from 0 to 2"):
            FitSettings(seed=seed).check()
    with pytest.raises(ScenarioError, match="--no-groups"):
        FitSettings(engine="flow").check()


@pytest.mark.parametrize("replications", ["1000001", "100000000000"])
def test_more_replications_than_run_takes_are_refused_before_fitting(
    small_with_fit: Path, replications: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim fit -r 100000000000` had no ceiling: it simulated until stopped, where
    `bordersim run` and `validate` refuse more than 1,000,000. It is refused the same, one
    line naming the count and the limit, exit 2, before anything is simulated or made."""
    with pytest.raises(SystemExit) as done:
        main(["fit", str(small_with_fit), "-r", replications, "-n", "1"])
    assert done.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err == f"error: --replications {replications}: must be at most 1,000,000", err
    assert captured.out == ""
    assert not (small_with_fit.parent / "fits").exists()


@pytest.mark.parametrize("iterations", ["1001", "1000000"])
def test_more_iterations_than_a_fit_takes_are_refused_before_fitting(
    small_with_fit: Path, iterations: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim fit -n 1000000` (a typo for 10) had no ceiling: a fit that did not come within
    its tolerance simulated for days, where replications are capped. More than 1,000 iterations
    (the shipped fits take 8 to 20) is refused in one line naming the count and the limit, exit
    2, before anything is simulated or made; the cap itself is taken."""
    with pytest.raises(ScenarioError, match="must be at most 1,000 "):  # not a fit of days
        FitSettings(iterations=int(iterations)).check()
    with pytest.raises(SystemExit) as done:
        main(["fit", str(small_with_fit), "-r", "2", "-n", iterations])
    assert done.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: --iterations {iterations}: must be at most 1,000 "), err
    assert captured.out == ""
    assert not (small_with_fit.parent / "fits").exists()
    FitSettings(iterations=1000).check()


@pytest.mark.parametrize("tolerance", ["0", "1", "-0.5", "1.5", "-inf"])
def test_a_tolerance_outside_the_open_interval_says_so_before_fitting(
    small_with_fit: Path, tolerance: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--tolerance 0` was refused as not "between 0 and 1", which 0 is by the usual reading:
    the message says that both ends are refused."""
    with pytest.raises(SystemExit) as done:
        main(["fit", str(small_with_fit), "-r", "2", "-n", "1", "--tolerance", tolerance])
    assert done.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    # "--tolerance 0.0: must be > 0 and < 1" echoed 0 as read and the rule in symbols
    assert f"error: --tolerance {tolerance}: must be above 0 and below 1" in err
    assert "iteration" not in captured.out
    assert not (small_with_fit.parent / "fits").exists()  # not even its empty folder


@pytest.mark.parametrize("groups", ["--groups", "--no-groups"])
def test_an_unknown_engine_is_named_before_fitting(
    small_with_fit: Path, groups: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--engine bogus` was told that fitting the group mix needs the event engine (with the
    group step) or refused only by the first simulation (without it): it is one line naming the
    engine and the engines there are, before anything is simulated."""
    with pytest.raises(SystemExit) as done:
        main(["fit", str(small_with_fit), "-r", "2", "-n", "1", "--engine", "bogus", groups])
    assert done.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert "unknown engine 'bogus'; choose one of: event, flow" in err
    assert "group" not in err
    assert "iteration" not in captured.out
    assert not (small_with_fit.parent / "fits").exists()  # not even its empty folder


def test_an_out_that_cannot_be_a_file_is_refused_before_fitting(
    small_with_fit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming a folder ended, after every iteration, in an IsADirectoryError traceback;
    it is one line naming --out, exit status 2, before anything is simulated."""
    folder = small_with_fit.parent / "fits-folder"
    folder.mkdir()
    with pytest.raises(SystemExit) as done:
        main(["fit", str(small_with_fit), "-r", "2", "-n", "1", "--out", str(folder)])
    assert done.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and str(folder) in err and "--out names a folder" in err
    assert "iteration" not in captured.out
    assert list(folder.iterdir()) == []
    assert [p.name for p in small_with_fit.parent.iterdir() if p.name.startswith(".")] == []


def test_an_out_that_is_the_scenario_or_another_file_is_refused_not_replaced(
    small_with_fit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fit --out` naming the scenario being fitted (or a store, any file of the user's)
    replaced it with the fit, exit 0; an existing file that is not a demand fit file is now
    refused before anything is simulated: by its name where it is not a .json file, by its
    contents where it is."""
    mine = small_with_fit.parent / "store.duckdb"
    mine.write_bytes(b"DUCK" * 64)
    other_json = small_with_fit.parent / "settings.json"
    other_json.write_text('{"theme": "dark"}\n', encoding="utf-8")
    for out, said in (
        (small_with_fit, "--out names a .toml file, but a demand fit file is JSON"),
        (mine, "--out names a .duckdb file, but a demand fit file is JSON"),
        (other_json, "--out names a file that is not a demand fit file"),
    ):
        before = out.read_bytes()
        with pytest.raises(SystemExit) as done:
            main(["fit", str(small_with_fit), "-r", "2", "-n", "1", "--out", str(out)])
        assert done.value.code == 2
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert len(err.splitlines()) == 1, err
        assert said in err, err
        assert "iteration" not in captured.out
        assert out.read_bytes() == before


def test_a_scenario_without_a_fit_key_is_told_the_line_to_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hint is printed as text: Rich read "[demand]" as a style tag and dropped it, telling
    the user to add ` fit = "fits/small.json"` at the top level, which the scenario refuses."""
    from repo_paths import SMALL

    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    main(["fit", str(scenario), "-r", "2", "-n", "1", "--no-groups"])
    printed = " ".join(capsys.readouterr().out.split())  # the line may wrap
    assert 'add [demand] fit = "fits/small.json" to' in printed
    assert (tmp_path / "fits" / "small.json").is_file()


def _start_fit(scenario: Path) -> subprocess.Popen[str]:
    """`bordersim fit` of `scenario` (at most 2 iterations of 2 replications, the sector totals
    only), its output to pipes."""
    command = [str(Path(sys.executable).parent / "bordersim"), "fit", str(scenario)]
    return subprocess.Popen(
        [*command, "-r", "2", "-n", "2", "--no-groups"],
        cwd=scenario.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_fit_to_a_pipe_says_on_stderr_that_it_started_and_each_iteration(
    small_with_fit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim fit ... > fit.txt` ran for minutes without a word: its progress bar is for
    terminals only. A line on stderr now says the fit started, and one as each iteration ends."""
    process = _start_fit(small_with_fit)
    assert process.stderr is not None
    started = process.stderr.readline()
    process.terminate()
    process.communicate(timeout=120)
    assert started == (
        "fit small: simulating at most 2 iterations of 2 replications (event engine; the first "
        "may compile it for a few minutes)...\n"
    )
    from bordersim.commands.fit import _progress_lines

    progress = _progress_lines(load_scenario(small_with_fit), FitSettings(replications=2))
    assert capsys.readouterr().err == ""  # nothing until the fit starts
    progress(1, 0, 2)  # the scenario compiled: the fit starts
    progress(1, 1, 2)  # a replication of the first iteration: no line
    progress(1, 2, 2)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("fit small: simulating at most 8 iterations of 2 replications")
    assert len(err) == 2 and err[1].startswith("fit small: iteration 1 simulated ("), err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_fit_says_nothing_was_written(small_with_fit: Path, signum: int) -> None:
    """SIGTERM or Ctrl-C during a fit said "nothing was marked complete (a run that had started
    is recorded as failed)", the words of a simulation run; a fit records no run. It now speaks
    of the fit and its file, and neither the file nor its folder is made."""
    process = _start_fit(small_with_fit)
    assert process.stderr is not None
    assert process.stderr.readline().startswith("fit small: simulating")
    process.send_signal(signum)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signum, err
    target = small_with_fit.parent / "fits" / "small.json"
    name = signal.Signals(signum).name
    assert err.strip() == (
        f"interrupted ({name}): the fit stopped cleanly; nothing was written to {target}"
    )
    assert out == ""
    assert not target.parent.exists()


def test_the_closing_line_gives_the_tolerance_and_iterations_as_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fit's closing line rounded the tolerance to a whole percent, so that --tolerance 0.025
    read "(tolerance 2 %)" beside errors of 2.3 % in red, and said "not converged within 1
    iterations"; it now gives the tolerance as set, 2.5 %, and "within 1 iteration"."""
    from rich.console import Console

    from bordersim.commands.fit_tables import print_fit
    from repo_paths import SMALL

    settings = FitSettings(replications=2, iterations=1, seed=2, tolerance=0.025, fit_groups=False)
    outcome = fit_demand(load_scenario(SMALL), settings)
    assert not outcome.converged  # the calibration alone misses May by more than 2.5 %
    console = Console(width=400, no_color=True)
    print_fit(console, outcome)
    text = capsys.readouterr().out
    assert "Fit not converged within 1 iteration: largest sector error" in text, text
    assert "(tolerance 2.5 %)" in text


def test_a_scenario_refused_as_it_compiles_is_the_only_line_of_a_fit(
    small_with_fit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With its output to a pipe, `bordersim fit` of a period past the calibration said "fit
    small: simulating at most 8 iterations ..." and then refused the period: two lines, the
    first announcing work that never began. The refusal is now the only line."""
    text = small_with_fit.read_text(encoding="utf-8")
    small_with_fit.write_text(text.replace("2023-05-31", "2026-04-30"), encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["fit", str(small_with_fit), "-r", "2", "-n", "1"])
    assert done.value.code == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "period.end_date = 2026-04-30: after the" in err, err
    assert captured.out == ""
    assert not (small_with_fit.parent / "fits").exists()


def test_the_engine_option_says_what_the_flow_engine_needs() -> None:
    """fit --help said only "Engine to fit with.": that the flow engine fits the sector totals
    only, with --no-groups (docs/validation.md), was left to the refusal."""
    import typer

    from bordersim.cli import _register, app
    from bordersim.commands.simulate import ENGINE_HELP

    _register()
    fit = typer.main.get_command(app).commands["fit"]  # type: ignore[attr-defined]
    (engine,) = (param.help or "" for param in fit.params if param.name == "engine")
    assert engine.startswith(ENGINE_HELP[:-1]) and "--no-groups" in engine
