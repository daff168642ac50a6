"""Every script of bench/ is run as ``python -m bench.NAME`` (bench/README.md): ``--help``
prints its usage and exits 0 without running anything, and an option it does not take is one
line, ``error: ...``, and exit status 2."""

from __future__ import annotations

import runpy
import sys

import pytest

from repo_paths import REPO

SCRIPTS = sorted(p.stem for p in (REPO / "bench").glob("*.py") if p.stem != "__init__")


def run_as_main(name: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """The exit status of ``python -m bench.NAME ARGV``, run in this process."""
    monkeypatch.setattr(sys, "argv", [f"bench/{name}.py", *argv])
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
