"""Scenario test helpers: write scenario files into a temporary folder, run the CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write(name, text) -> path of a scenario file in a temporary folder."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def calibration() -> object:
    """The real shipped calibration; tests that compile need it."""
    from bordersim.calibration import SHIPPED_ARTIFACT, load_calibration

    if not SHIPPED_ARTIFACT.is_file():
        pytest.skip(f"the shipped calibration artifact {SHIPPED_ARTIFACT} is not built yet")
    return load_calibration()
