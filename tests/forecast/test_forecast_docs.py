"""docs/forecast.md's Python example runs as written and gives the shapes it says."""

from __future__ import annotations

import re

import pytest

from repo_paths import REPO

DOC = REPO / "docs" / "forecast.md"


@pytest.mark.slow
def test_the_quantiles_and_sample_paths_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    example = [b for b in blocks if "forecast_at(" in b]
    assert len(example) == 1, "docs/forecast.md lost its forecast_at example"
    namespace: dict[str, object] = {}
    exec(compile(example[0], f"{DOC}:forecast_at", "exec"), namespace)
    assert namespace["quantiles"].shape == (2, 12, 9, 3)  # type: ignore[attr-defined]
    assert namespace["paths"].shape == (1000, 12, 9, 3)  # type: ignore[attr-defined]
    assert namespace["totals"].shape == (12, 10)  # type: ignore[attr-defined]
