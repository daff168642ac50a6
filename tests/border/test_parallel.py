"""Replications on several threads give exactly the serial result for the same seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bordersim.engines.event.border import simulate
from bordersim.engines.event.border.driver import default_workers
from bordersim.errors import ModelError
from bordersim.model.examples import tiny_model


def test_parallel_replications_match_the_serial_run() -> None:
    model = tiny_model(health=True, troops=50.0)
    serial = simulate(model, replications=5, seed=9, records=True, workers=1)
    parallel = simulate(model, replications=5, seed=9, records=True, workers=3)
    assert parallel.timings["workers"] == 3.0
    assert np.array_equal(serial.daily, parallel.daily)
    assert np.array_equal(serial.custody_hist, parallel.custody_hist)
    assert serial.people is not None and parallel.people is not None
    pd.testing.assert_frame_equal(serial.people, parallel.people)
    # and the replications differ from one another (the comparison is not vacuous)
    assert not np.array_equal(serial.daily[0], serial.daily[1])


def test_workers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BORDERSIM_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("BORDERSIM_WORKERS", "two")
    with pytest.raises(ModelError, match="BORDERSIM_WORKERS"):
        default_workers()
    monkeypatch.delenv("BORDERSIM_WORKERS")
    assert default_workers() >= 1


def test_the_signature_the_docs_give_is_the_functions() -> None:
    """docs/event-engine.md gave `simulate(model, *, replications, seed, progress=None,
    records=False)` and then called it with `workers=1`, a parameter its signature left out."""
    import inspect
    import re

    from repo_paths import REPO

    page = " ".join((REPO / "docs" / "event-engine.md").read_text(encoding="utf-8").split())
    shown = re.search(r"`bordersim\.engines\.event\.border\.simulate\((.*?)\)`", page)
    assert shown is not None, "the page no longer gives the signature"
    parameters = inspect.signature(simulate).parameters.values()
    written = ", ".join(
        f"{p.name}={p.default!r}" if p.default is not p.empty else p.name for p in parameters
    )
    assert shown.group(1) == written.replace("replications", "*, replications", 1)
