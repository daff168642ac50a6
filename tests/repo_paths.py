"""Paths of the repository that tests read (shipped scenarios, the small example)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
SMALL = SCENARIOS / "examples" / "small.toml"
