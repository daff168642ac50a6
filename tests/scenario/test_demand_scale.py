"""demand.scale and demand.scale_by_sector: what-if multipliers of the calibrated first attempts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bordersim.compiler import compile_scenario
from bordersim.errors import ScenarioError
from bordersim.scenario import load_scenario, vary
from repo_paths import SCENARIOS

SMALL = SCENARIOS / "examples" / "small.toml"


def _first_attempts(scenario: object) -> np.ndarray:
    return compile_scenario(scenario).first_attempts_per_day  # type: ignore[arg-type]


def test_unset_scales_change_nothing_not_even_the_hash() -> None:
    scenario = load_scenario(SMALL)
    assert scenario.demand.scale is None and scenario.demand.scale_by_sector is None
    assert not re.search(r"^scale(_by_sector)? =", scenario.resolved_text, re.MULTILINE)
    assert "[demand.scale_by_sector]" not in scenario.resolved_text


def test_the_overall_scale_multiplies_every_sector_and_day() -> None:
    base = load_scenario(SMALL)
    scaled = vary(base, "demand.scale", 1.3)
    np.testing.assert_allclose(_first_attempts(scaled), 1.3 * _first_attempts(base))
    assert scaled.hash != base.hash


def test_a_sector_scale_multiplies_that_sector_only_and_with_the_overall_one() -> None:
    base = load_scenario(SMALL)
    rgv = base.sectors.index("RGV")
    scaled = vary(vary(base, "demand.scale_by_sector", {"RGV": 2.0}), "demand.scale", 0.5)
    expected = 0.5 * _first_attempts(base)
    expected[:, rgv] *= 2.0
    np.testing.assert_allclose(_first_attempts(scaled), expected)


def test_a_sector_outside_the_scenario_is_refused_naming_the_key() -> None:
    scenario = vary(load_scenario(SMALL), "demand.scale_by_sector", {"ELC": 1.2})
    with pytest.raises(ScenarioError, match=r"demand\.scale_by_sector\.ELC = 1\.2: ELC is not one"):
        compile_scenario(scenario)


@pytest.mark.parametrize(("key", "value"), [("demand.scale", -1.0), ("demand.scale", "lots")])
def test_a_bad_scale_is_refused(key: str, value: object) -> None:
    with pytest.raises(ScenarioError, match=r"demand\.scale"):
        vary(load_scenario(SMALL), key, value)
