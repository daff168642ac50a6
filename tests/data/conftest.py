"""Fixtures for the official data tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bordersim.ingest import ParsedFile, read_official_file, shipped_files
from bordersim.store import import_parsed, open_store


@pytest.fixture(scope="session")
def shipped_store(
    tmp_path_factory: pytest.TempPathFactory, shipped_parsed: list[ParsedFile]
) -> Path:
    """A store holding the default import (shared, read-only for tests)."""
    path = tmp_path_factory.mktemp("shipped") / "store.duckdb"
    with open_store(path) as connection:
        import_parsed(connection, shipped_parsed)
    return path


@pytest.fixture(scope="session")
def shipped_parsed() -> list[ParsedFile]:
    """The shipped files, read and validated once (reading the workbook takes seconds)."""
    return [read_official_file(path) for path in shipped_files()]


@pytest.fixture
def store_copy(shipped_store: Path, tmp_path: Path) -> Path:
    """A private copy of the shipped store, for tests that write."""
    copy = tmp_path / "store.duckdb"
    shutil.copyfile(shipped_store, copy)
    return copy
