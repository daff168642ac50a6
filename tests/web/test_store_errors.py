"""A store the workbench cannot read: "busy" only for a lock held too long, anything else said
plainly at once; neither names the server's folders."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from bordersim.web.app import create_app
from bordersim.web.settings import WebSettings
from bordersim.web.site import BUSY, read_only


def _settings(root: Path) -> WebSettings:
    (root / "scenarios").mkdir()
    return WebSettings(scenarios_dir=root / "scenarios", store=root / "x.duckdb", out_dir=root)


@pytest.fixture
def damaged(tmp_path: Path) -> WebSettings:
    settings = _settings(tmp_path)
    assert isinstance(settings.store, Path)
    settings.store.write_bytes(bytes(range(256)) * 64)  # a store overwritten with other bytes
    return settings


def test_a_damaged_store_is_a_plain_503_naming_no_folder(damaged: WebSettings) -> None:
    """It was '503 the store is busy; try again (IO Error: The file "/tmp/.../x.duckdb" exists,
    but it is not a valid DuckDB database file!)'."""
    with TestClient(create_app(damaged, start_worker=False)) as client:
        started = time.monotonic()
        response = client.get("/runs", headers={"accept": "application/json"})
    assert time.monotonic() - started < 30  # said at once: no lock to wait for
    assert response.status_code == 503
    message = response.json()["error"]
    assert message.startswith("the store cannot be read (") and "not a valid DuckDB" in message
    assert "busy" not in message and str(damaged.out_dir) not in message


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    """A store another process holds open for writing (as the worker does)."""
    store = tmp_path / "x.duckdb"
    duckdb.connect(str(store)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(store)!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        yield store
    finally:
        holder.communicate("")


def test_a_store_locked_too_long_is_busy_naming_no_folder(held: Path) -> None:
    with pytest.raises(HTTPException) as caught, read_only(held, wait_s=0.3):
        pass
    assert caught.value.status_code == 503 and caught.value.detail == BUSY
