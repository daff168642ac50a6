"""The disease of the health module comes from `defaults/diseases.toml`, by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scenario_texts import MINIMAL

from bordersim.errors import ScenarioError
from bordersim.scenario import load_scenario, loader
from bordersim.scenario.schema import DISEASE_PARAMETERS

Write = Callable[[str, str], Path]


def test_a_scenario_that_names_no_disease_gets_covid19(write: Write) -> None:
    unnamed = load_scenario(write("unnamed.toml", MINIMAL))
    named = load_scenario(write("named.toml", MINIMAL + '\n[health]\ndisease = "covid19"\n'))
    diseases, sources = loader.load_diseases()
    for key in DISEASE_PARAMETERS:
        assert getattr(unnamed.health, key) == diseases["covid19"][key]
        assert getattr(named.health, key) == diseases["covid19"][key]
        assert unnamed.sources[f"health.{key}"] == sources[f"covid19.{key}"]
    assert unnamed.health.disease is None and named.health.disease == "covid19"
    assert "disease" not in unnamed.resolved_text  # a scenario naming none keeps its hash


def test_an_unknown_disease_is_refused_where_it_is_named(write: Write) -> None:
    path = write("typo.toml", MINIMAL + '\n[health]\nenabled = true\ndisease = "covid-19"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    # file, line, key, value, rule, in that order, as every other error (it read
    # "typo.toml: health.disease, line 11: unknown disease 'covid-19': ...")
    assert str(err.value).startswith(
        f"{path}, line 11: health.disease = 'covid-19': unknown disease; the known diseases "
        "are covid19"
    )


def _diseases_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    diseases = tmp_path / "diseases.toml"
    diseases.write_text(loader.diseases_path().read_text() + text)
    monkeypatch.setattr(loader, "diseases_path", lambda: diseases)


FLU = """
[flu]
symptomatic_fraction = { value = 0.5, assumption = "a test disease" }
screening_sensitivity_fraction = { value = 0.6, assumption = "a test disease" }
transmission_rate_per_day = { value = 0.9, assumption = "a test disease" }
crowding_exponent = { value = 1.5, assumption = "a test disease" }
infectious_days = { value = 4.0, assumption = "a test disease" }
staff_infection_rate_per_day = { value = 0.003, assumption = "a test disease" }
staff_absence_days = { value = 5.0, assumption = "a test disease" }
"""


def test_a_named_disease_fills_what_the_scenario_does_not_set(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _diseases_file(tmp_path, monkeypatch, FLU)
    text = MINIMAL + '\n[health]\nenabled = true\ndisease = "flu"\ninfectious_days = 6.0\n'
    scenario = load_scenario(write("flu.toml", text))
    assert scenario.health.transmission_rate_per_day == 0.9
    assert scenario.health.crowding_exponent == 1.5
    assert scenario.sources["health.transmission_rate_per_day"] == "assumption: a test disease"
    assert scenario.health.infectious_days == 6.0  # the scenario's value wins
    assert scenario.sources["health.infectious_days"] == "scenario file flu.toml"


def test_a_disease_must_give_every_parameter(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incomplete = "\n".join(line for line in FLU.splitlines() if "crowding" not in line)
    _diseases_file(tmp_path, monkeypatch, incomplete)
    with pytest.raises(ScenarioError, match="crowding_exponent") as err:
        load_scenario(write("any.toml", MINIMAL))
    assert "diseases.toml: flu" in str(err.value)
