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
