"""Demand fit test helpers: the shipped calibration and a fittable copy of the small scenario."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from repo_paths import SMALL


@pytest.fixture
def calibration() -> object:
    from bordersim.calibration import SHIPPED_ARTIFACT, load_calibration

    if not SHIPPED_ARTIFACT.is_file():
        pytest.skip(f"the shipped calibration artifact {SHIPPED_ARTIFACT} is not built yet")
    return load_calibration()


@pytest.fixture
def small_with_fit(tmp_path: Path) -> Path:
    """The small example scenario, copied into a temporary folder and naming fits/small.json."""
    path = tmp_path / "small.toml"
    shutil.copy(SMALL, path)
    with path.open("a", encoding="utf-8") as stream:
        stream.write('\n[demand]\nfit = "fits/small.json"\n')
    return path
