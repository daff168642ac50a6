"""The fitting processes: never more than there are fits to run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from bordersim.forecast import methods


def test_no_more_fitting_processes_than_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    """`bordersim forecast --jobs 300` forked 300 processes for its few dozen fits (and a
    larger --jobs as many as the system would give)."""
    asked: list[int] = []

    class InProcess:
        def imap(self, function: Any, tasks: Any) -> Iterator[Any]:
            return map(function, tasks)

    @contextlib.contextmanager
    def pool(jobs: int) -> Iterator[InProcess]:
        asked.append(jobs)
        yield InProcess()

    monkeypatch.setattr(methods, "_fitting_pool", pool)
    months = 60
    rng = np.random.default_rng(1)
    series = 1000.0 + rng.normal(0.0, 50.0, size=(months, 2))
    fiscal = (np.arange(months) % 12) + 1
    out = methods.base_forecasts(
        series, fiscal, np.array([47, 48]), 1, methods=("theta",), jobs=10_000
    )
    assert asked == [2]  # two series, one fitted method: two fits
    assert out["theta"].shape == (2, 2, 1)
