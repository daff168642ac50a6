"""A command line the framework refuses (a value out of range or of the wrong type, a missing
argument, an unknown option) is refused in bordersim's one line, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from bordersim.cli import main

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "scenarios" / "examples" / "small.toml"


def _refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["calibrate", "--backtest-months", "0"], "error: --backtest-months 0: must be at least 1"),
        (
            ["calibrate", "--backtest-months", "121"],
            "error: --backtest-months 121: must be at most 120",
        ),
        (["serve", "--port", "0"], "error: --port 0: must be at least 1"),
        (["serve", "--port", "70000"], "error: --port 70000: must be at most 65535"),
        (["run", str(SMALL), "-r", "ten"], "error: --replications ten: must be a whole number"),
        (["serve", "--port", ""], "error: --port '': must be a whole number"),
        (
            ["verify", "--case", "mm1", "--arrival-rate", "fast"],
            "error: --arrival-rate fast: must be a number",
        ),
    ],
)
def test_an_option_out_of_its_range_is_refused_in_one_line(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`calibrate --backtest-months 0` and `serve --port 0` printed the framework's four lines
    (usage, a pointer to --help, a blank line, "Error: Invalid value for '--port': ..."), where
    `run -r 0` says one line; they say one too, naming the option and the value given."""
    assert _refusal(argv, capsys) == said + "\n"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["fit"], "error: fit: SCENARIO is missing (see bordersim fit --help)"),
        (
            ["scenario", "check"],
            "error: scenario check: FILE is missing (see bordersim scenario check --help)",
        ),
        (
            ["run", str(SMALL), "extra"],
            "error: run: got unexpected extra argument(s) (extra) (see bordersim run --help)",
        ),
        (["nosuch"], "error: no such command 'nosuch' (see bordersim --help)"),
        (
            ["scenario", "nope"],
            "error: scenario: no such command 'nope' (see bordersim scenario --help)",
        ),
    ],
)
def test_a_missing_argument_or_an_unknown_word_is_refused_in_one_line(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim fit` without its scenario said "Missing argument 'SCENARIO'" under the
    framework's usage line and a pointer to --help, unlike bordersim's `error: ...` lines (an
    empty one says `fit: SCENARIO is empty ...`); it is one line too, naming the command and
    where its help is."""
    assert _refusal(argv, capsys) == said + "\n"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["serve", "--port"], "error: --port: needs a value"),
        (["run", str(SMALL), "--set"], "error: --set: needs a value"),
        (["run", str(SMALL), "-r"], "error: -r: needs a value"),
    ],
)
def test_an_option_without_its_value_is_refused_in_bordersim_words(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve --port` said "option '--port' requires an argument", the framework's words, where
    bordersim names an option first and then what is wrong with it."""
    assert _refusal(argv, capsys) == said + "\n"


def test_an_unknown_option_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    said = _refusal(["run", str(SMALL), "--replication", "2"], capsys)
    assert said.startswith("error: run: no such option: --replication"), said
    assert said.endswith("(see bordersim run --help)\n") and said.count("\n") == 1, said
    # a close name is still offered
    assert "(Possible options: --replications)" in said, said


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["calibrate", "--seed", "1"], "error: calibrate: no such option: --seed (see bordersim"),
        (["forecast", "--seed", "1"], "error: forecast: no such option: --seed (see bordersim"),
        # "(Possible options: --case, --seed)"
        (
            ["verify", "--sed", "1"],
            "error: verify: no such option: --sed (Possible options: --seed)",
        ),
        (
            ["sweep", "--out-dir", "x"],
            "error: sweep: no such option: --out-dir (Possible options: --out)",
        ),
    ],
)
def test_an_unknown_option_is_offered_no_option_unlike_it(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`calibrate --seed 1` ended "(Possible options: --store)", an option with nothing in
    common but its dashes and an s: only a name alike is offered."""
    assert _refusal(argv, capsys).startswith(said)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["run", str(SMALL)], "--replications 0: must be at least 1"),
        (["compare", str(SMALL), str(SMALL)], "--replications 0: must be at least 1"),
        (["main-job"], "--replications 0: must be at least 1"),
        (["validate", str(SMALL)], "--replications 0: must be at least 1"),
        (["sweep", str(SMALL)], "--replications 0: must be at least 1"),
        (["fit", str(SMALL)], "--replications 0: a fit needs at least 2 replications"),
        (
            ["plan", str(SMALL), "--plan", str(REPO / "plans" / "2023-troops.toml")],
            "--replications 0: must be at least 2",
        ),
    ],
)
def test_a_count_out_of_range_is_worded_alike_by_every_command(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """run -r 0 said "--replications must be at least 1 and at most 1,000,000 (a whole
    number), got 0" where sweep, fit and plan said "--replications 0: must be at least 1": every
    command names the option with its value, then the rule, as a scenario key is named."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "s.duckdb"))
    refused = _refusal([*argv, "--replications", "0"], capsys)
    assert refused.startswith(f"error: {said}") and refused.count("\n") == 1, refused
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["run", str(SMALL)],
        ["compare", str(SMALL), str(SMALL)],
        ["main-job"],
        ["validate", str(SMALL)],
        ["sweep", str(SMALL)],
        ["fit", str(SMALL)],
        ["verify", "--case", "mm1"],
    ],
)
def test_a_seed_out_of_range_is_worded_alike_by_every_command(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """fit --seed -1 said "--seed -1: must be a whole number from 0 to 2^63 - 1" and run --seed -1
    "--seed must be a whole number from 0 to 2^63 - 1, got -1": one rule in two wordings. Every
    command says the first, as it says a count."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "s.duckdb"))
    refused = _refusal([*argv, "--seed", "-1"], capsys)
    assert refused == "error: --seed -1: must be a whole number from 0 to 2^63 - 1\n", refused
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("setting", "key"), [("base=other.toml", "base"), ('remove=["demand.scale"]', "remove")]
)
def test_a_file_only_key_set_on_the_command_line_is_refused_as_such(
    setting: str,
    key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--set base=other.toml said "base = 'other.toml': unknown key (did you mean 'base'?)",
    offering the very key refused: base and remove are a file's own keys, which a variant file
    sets, and the refusal says so."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "s.duckdb"))
    refused = _refusal(["run", str(SMALL), "--set", setting], capsys)
    assert refused == (
        f"error: --set {setting!r}: {key} is a key of a scenario file itself, not a value to "
        'set; write a variant file with base = "FILE" (docs/scenarios.md)\n'
    ), refused
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [[], ["run"], ["store", "copy"], ["data", "import"]])
def test_dash_h_is_help_as_dash_dash_help_is(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim run -h` was refused as "no such option: -h", where most command-line tools take
    -h for --help: it prints the same help, exit status 0."""
    printed = []
    for flag in ("--help", "-h"):
        try:
            main([*argv, flag])
        except SystemExit as stopped:
            assert stopped.code in (0, None), flag
        captured = capsys.readouterr()
        assert captured.err == "", flag
        printed.append(captured.out)
    assert "Usage:" in printed[0]
    assert printed[1] == printed[0]


@pytest.mark.parametrize("command", ["run", "fit", "sweep", "plan"])
def test_replications_is_r_for_every_command_that_simulates_candidates(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan ... -r 5` was "no such option: -r", where `run`, `fit` and `sweep` take `-r` for
    their --replications; plan's flow replications per candidate take it too."""
    plan = ["--plan", str(REPO / "plans" / "examples" / "small-stress.toml")]
    given = {"plan": plan, "sweep": ["--vary", "demand.scale=1"]}.get(command, [])
    argv = [command, str(SMALL), *given, "-r", "0", "--out", str(tmp_path / "out")]
    said = _refusal(argv, capsys)
    assert said.startswith("error: --replications 0: "), said
    assert not (tmp_path / "out").exists()
