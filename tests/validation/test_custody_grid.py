"""The custody grid trial (bench/custody_grid.py) on a real run of the small example."""

from __future__ import annotations

import datetime as dt

import pytest
from bench.custody_grid import RELEASE, custody_at_point, main

from repo_paths import SMALL

DATES = [dt.date(2023, 5, 1), dt.date(2023, 5, 20)]


def test_a_longer_wait_holds_more_people_on_every_date_from_the_same_seed() -> None:
    shipped = custody_at_point(SMALL, {}, DATES, dt.date(2023, 5, 12), replications=2, seed=1)
    longer = custody_at_point(
        SMALL, {RELEASE: 120.0}, DATES, dt.date(2023, 5, 12), replications=2, seed=1
    )
    assert set(shipped) == {
        "2023-05-01",
        "2023-05-20",
        "stay 2023-05-12 (days)",
        "mean 2023-04",
        "mean 2023-05",
    }
    for key in shipped:
        assert longer[key] > shipped[key] > 0, key
    # Releases wait five days; the day's exits also count children and removals, which leave
    # sooner, so the average stay is at least half of it.
    assert longer["stay 2023-05-12 (days)"] >= 120.0 / 24.0 * 0.5


def test_the_command_prints_each_point(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "--scenario",
            str(SMALL),
            "--dates",
            "2023-05-01",
            "--stay-day",
            "2023-05-12",
            "--point",
            f"{RELEASE}=96",
            "--replications",
            "1",
        ]
    )
    printed = capsys.readouterr().out
    assert f"{RELEASE}=96" in printed and "2023-05-01: " in printed and "mean 2023-05" in printed
