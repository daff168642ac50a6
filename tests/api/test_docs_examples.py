"""The examples of docs/api.md run as written, from a folder that holds the shipped scenarios."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repo_paths import REPO

DOC = REPO / "docs" / "api.md"


def _blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5, "docs/api.md lost its examples"
    return blocks


@pytest.fixture
def in_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run where the examples' relative paths (scenarios/, runs.duckdb, out/) are harmless."""
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    return tmp_path


def _run(blocks: list[str]) -> dict[str, object]:
    namespace: dict[str, object] = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{DOC}:block{i + 1}", "exec"), namespace)
    return namespace


def test_the_quick_start_and_scenario_examples_run(
    in_a_fresh_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = _run(_blocks()[:2])
    out = capsys.readouterr().out
    assert "occupancy_mean" in out and "'replication', 'date', 'sector', 'metric', 'value'" in out
    assert "deployments.troops.duration_days = -5" in out
    assert "must be a datetime.date, not a str: datetime.date(2023, 6, 30)" in out
    fig = namespace["fig"]
    assert type(fig).__name__ == "Figure" and len(fig.data) == 2  # type: ignore[attr-defined]
    assert not (in_a_fresh_folder / "out").exists(), "a run not asked to record wrote files"


@pytest.mark.slow
def test_every_example_runs(in_a_fresh_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace = _run(_blocks())
    out = capsys.readouterr().out
    assert "unknown metric 'occupancy'" in out
    assert "complete" in out
    assert (in_a_fresh_folder / "runs.duckdb").is_file()
    assert (in_a_fresh_folder / "out" / "small" / "report.html").is_file()
    grid = namespace["grid"]
    assert sorted(set(grid["deployments.troops.headcount"])) == [0, 300]  # type: ignore[index]
