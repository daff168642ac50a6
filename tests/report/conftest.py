"""Runs built from constructed arrays, for rendering reports without running an engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bordersim.results.schema import RunResult
from constructed_runs import constructed_run


@pytest.fixture
def make_run() -> Callable[..., RunResult]:
    return constructed_run


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"
