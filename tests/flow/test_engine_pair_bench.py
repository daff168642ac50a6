"""bench.engine_pair, which prints the figures of docs/flow-engine.md ("Measured"), runs both
engines on a shipped scenario and reports each figure of each."""

from __future__ import annotations

import pytest
from bench.engine_pair import TOTALS, main

from repo_paths import SCENARIOS


def test_it_prints_every_figure_for_both_engines(capsys: pytest.CaptureFixture[str]) -> None:
    main([str(SCENARIOS / "examples" / "small.toml"), "--replications", "1", "--seed", "3"])
    lines = capsys.readouterr().out.splitlines()
    labels = [label for label, _ in TOTALS]
    assert all(any(line.startswith(label) for line in lines) for label in labels)
    encounters = next(line for line in lines if line.startswith("encounters")).split()
    event, flow = (float(v.replace(",", "")) for v in encounters[1:3])
    assert event > 1000 and abs(flow / event - 1) < 0.05  # the engines agree on encounters
