"""Every script of bench/ is run as ``python -m bench.NAME`` (bench/README.md): ``--help``
prints its usage and exits 0 without running anything, and an option it does not take is one
line, ``error: ...``, and exit status 2."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from repo_paths import REPO

SCRIPTS = sorted(p.stem for p in (REPO / "bench").glob("*.py") if p.stem != "__init__")


def run_as_main(name: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """The exit status of ``python -m bench.NAME ARGV``, run in this process."""
    monkeypatch.setattr(sys, "argv", [f"bench/{name}.py", *argv])
    # as a fresh process runs it: not the module another script imported
    monkeypatch.delitem(sys.modules, f"bench.{name}", raising=False)
    with pytest.raises(SystemExit) as exited:
        runpy.run_module(f"bench.{name}", run_name="__main__", alter_sys=True)
    code = exited.value.code
    return 0 if code is None else code if isinstance(code, int) else 1


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_prints_usage_and_a_bad_option_is_one_line(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_as_main(name, ["--help"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m bench.{name}")
    assert out.count("\n") > 3  # the script's docstring: what it measures, its options
    assert run_as_main(name, ["--no-such-option"], monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err


#: Each script that reads a scenario or a plan file, with the arguments that name one
FILE_ARGUMENTS = [
    ("border_event", ["--scenario", "no-such-scenario.toml"]),
    ("custody_grid", ["--scenario", "no-such-scenario.toml"]),
    ("engine_pair", ["no-such-scenario.toml"]),
    ("flow", ["no-such-scenario.toml"]),
    ("ice_share_trial", ["--scenario", "no-such-scenario.toml"]),
    ("plan", ["no-such-scenario.toml"]),
    ("plan", ["--plan", "no-such-plan.toml"]),
    ("plan_gap", ["out", "--scenario", "no-such-scenario.toml"]),
    ("plan_gap", ["out", "--plan", "no-such-plan.toml"]),
    ("staff_hours", ["no-such-scenario.toml"]),
    ("sweep", ["no-such-scenario.toml"]),
    ("sweep_blocks_only", ["no-such-scenario.toml"]),
]


@pytest.mark.parametrize(("name", "argv"), FILE_ARGUMENTS)
def test_a_missing_scenario_or_plan_file_is_refused_before_the_run(
    name: str,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()  # plan_gap's OUT_DIR, a plan's output folder
    (tmp_path / "out" / "certificate.json").write_text("{}\n")
    assert run_as_main(name, argv, monkeypatch) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing compiled or run first
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert "no such file: no-such-" in captured.err


#: Each script with its counts (replications, variants, workers, rounds, chunks), a few of each
COUNT_ARGUMENTS = [
    ("border_event", ["--replications", "0"]),
    ("flow_parts", ["0"]),  # CHUNK
    ("flow_parts", ["5000", "-5"]),  # SMALL_CHUNK
    ("sweep", ["--variants", "0"]),
    ("sweep", ["--replications", "2.5"]),
    ("sweep", ["--workers", "-1"]),
    ("sweep", ["--rounds", "0"]),
    ("sweep_blocks_only", ["--rounds", "0"]),
    ("store", ["--replications", "0"]),
    ("store", ["--writers", "0"]),
    ("store_opens", ["--processes", "0"]),
    ("plan_gap", ["out", "--replications", "0"]),
    ("side_by_side", ["--base", ".", "--rounds", "0"]),
]


@pytest.mark.parametrize(("name", "argv"), COUNT_ARGUMENTS)
def test_a_count_below_one_is_refused_before_the_run(
    name: str,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()  # plan_gap's OUT_DIR, a plan's output folder
    (tmp_path / "out" / "certificate.json").write_text("{}\n")
    assert run_as_main(name, argv, monkeypatch) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing compiled or run first
    assert captured.err.count("\n") == 1, captured.err
    shown = {1: "CHUNK", 2: "SMALL_CHUNK"}[len(argv)] if name == "flow_parts" else argv[-2]
    assert captured.err.startswith(
        f"error: {shown} {argv[-1]}: must be a whole number of at least 1"
    ), captured.err


#: Each script that reads a folder, with the arguments that name one and what it is told
FOLDER_ARGUMENTS = [
    ("side_by_side", ["--base", "../no-such-checkout"], "no such folder: ../no-such-checkout"),
    ("side_by_side", ["--base", "a-file"], "a file, not a folder: a-file"),
    ("plan_gap", ["no-such-out"], "no such folder: no-such-out"),
    ("plan_gap", ["a-file"], "a file, not a folder: a-file"),
    ("plan_gap", ["."], "no certificate.json in .: not a plan's output"),
]


@pytest.mark.parametrize(("name", "argv", "told"), FOLDER_ARGUMENTS)
def test_a_missing_folder_or_a_file_for_a_folder_is_refused_before_the_run(
    name: str,
    argv: list[str],
    told: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder\n")
    assert run_as_main(name, argv, monkeypatch) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing compiled or run first
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert told in captured.err
