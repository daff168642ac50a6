"""The runnable example of docs/event-core.md runs and says what it claims."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "event-core.md"


def test_documented_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert code, "docs/event-core.md lost its example"
    exec(compile(code[0], str(DOC), "exec"), {})
    out = capsys.readouterr().out
    assert "adults abandoned" in out and "utilisation" in out
