"""The fit of the wait before release (`bordersim.fitting.release_wait`) in spring 2019 and in the
record year 2022: its named targets, its scoring on the real engine, and the shipped scenarios'
values."""

from __future__ import annotations

import datetime as dt
import tomllib

import numpy as np
import pytest

from bordersim.fitting.release_wait import CASES, fitted_targets, grid, main
from repo_paths import REPO, SCENARIOS


@pytest.mark.parametrize(
    ("scenario", "figures"),
    [
        (
            "2019-family-surge",
            {(dt.date(2019, 3, 27), 13400.0, "lower"), (dt.date(2019, 5, 17), 16000.0, "lower")},
        ),
        (
            "2022-title42-record-year",
            {(dt.date(2021, 12, 8), 15000.0, "lower"), (dt.date(2023, 3, 1), 9000.0, "value")},
        ),
    ],
)
def test_the_two_southwest_custody_figures_of_each_case_are_its_named_targets(
    scenario: str, figures: set[tuple[dt.date, float, str]]
) -> None:
    named = fitted_targets(REPO, scenario)
    assert {(t.start, t.value, t.bound) for t in named} == figures
    assert {(t.metric, t.scope) for t in named} == {("custody_population", "SWB")}


def test_a_longer_wait_before_release_holds_more_people_at_every_fitted_date() -> None:
    table = grid(REPO, replications=2, seed=5, waits=(30.0, 144.0))
    held = table.pivot(index="target", columns="release_wait_hours", values="simulated")
    # Little's law: about 2,000-3,000 releases a day held five more days each
    assert (held[144.0] > held[30.0] + 5000.0).all()
    assert np.allclose(table["loss"], np.log1p(table["error"]) ** 2)


def test_the_command_fits_the_case_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--scenario", "2021-uac-surge"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted(CASES))
def test_the_shipped_wait_is_the_least_loss_point_of_the_grid(scenario: str) -> None:
    table = grid(REPO, replications=4, seed=1, scenario=scenario)
    least = table.groupby("release_wait_hours")["loss"].mean().idxmin()
    with (SCENARIOS / f"{scenario}.toml").open("rb") as handle:
        shipped = tomllib.load(handle)["processing"]["min_custody_hours"]["release"]
    assert shipped == least
