"""The plan form's [forecast] fields: shown from the plan file, written into the text the planner
reads, cleared to plan for the scenario's own demand, and checked before a job starts (an origin
outside the calibration's months, a base scenario that takes its demand from a forecast already).
The workbench's own library of shipped plan files and scenarios; no browser (test_plan_page.py
runs a plan against forecast paths in one)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from bordersim.planner import parse_plan
from bordersim.web.plans import PlanFile, check_plan, plan_form, plan_library, plan_text
from bordersim.web.scenarios import GENERAL, Entry, FieldError, library
from repo_paths import REPO

SCENARIOS = library(REPO / "scenarios")
PLANS = plan_library(REPO / "plans")


def _plan(plan_id: str) -> PlanFile:
    return PLANS[plan_id]


def _text(plan: PlanFile, changes: dict[str, str]) -> str:
    """The text the planner reads: the plan file with the form's `changes`."""
    form = plan_form(plan, SCENARIOS)
    form.values.update(changes)
    return plan_text(form, plan)


FIELDS = ("forecast.origin", "forecast.paths", "forecast.seed")


def test_the_form_shows_the_plan_files_forecast_or_nothing() -> None:
    paths = plan_form(_plan("examples.small-forecast-paths"), SCENARIOS)
    assert [paths.value(key) for key in FIELDS] == ["2023-04", "8", "1"]
    plain = plan_form(_plan("examples.small-stress"), SCENARIOS)
    assert [plain.value(key) for key in FIELDS] == ["", "", ""]
    # a date where the month goes shows its month (a month field holds no day); the defaults
    stress = _plan("examples.small-stress")
    forecast = {"forecast": {"origin": dt.date(2023, 4, 17)}}
    dated = PlanFile(stress.id, stress.path, "dated", "", {**stress.data, **forecast})
    assert [plan_form(dated, SCENARIOS).value(key) for key in FIELDS] == ["2023-04", "20", "1"]


def test_the_forecast_fields_reach_the_planner() -> None:
    text = _text(
        _plan("examples.small-stress"), {"forecast.origin": "2023-03", "forecast.paths": "4"}
    )
    assert tomllib.loads(text)["forecast"] == {"origin": "2023-03", "paths": 4}
    forecast = parse_plan(text, "t").forecast
    assert forecast is not None
    assert (forecast.origin.isoformat(), forecast.paths, forecast.seed) == ("2023-03-01", 4, 1)
    # emptied origin and paths: no [forecast] at all, whatever the seed says
    text = _text(
        _plan("examples.small-forecast-paths"), {"forecast.origin": "", "forecast.paths": ""}
    )
    assert "forecast" not in tomllib.loads(text)
    assert parse_plan(text, "t").forecast is None


def test_a_month_that_is_not_one_is_refused_beside_its_field() -> None:
    with pytest.raises(FieldError, match=r"'2023-13': expected a month \(YYYY-MM\)") as raised:
        _text(_plan("examples.small-stress"), {"forecast.origin": "2023-13"})
    assert raised.value.field_name == "forecast.origin"


def _checked(plan: PlanFile, changes: dict[str, str], scenario: Entry) -> dict[str, str]:
    form = plan_form(plan, SCENARIOS)
    form.values.update(changes)
    assert check_plan(form, plan, scenario) is None
    return form.errors


def test_the_forecast_is_checked_against_the_base_scenario_before_a_job(tmp_path: Path) -> None:
    plan = _plan("examples.small-forecast-paths")
    base = SCENARIOS["examples.small-staff-bound"]
    request = check_plan(plan_form(plan, SCENARIOS), plan, base)
    assert request is not None and "[forecast]" in request.request["plan_text"]
    errors = _checked(plan, {"forecast.origin": "2031-01"}, base)
    assert list(errors) == ["forecast.origin"]
    assert (
        "forecast.origin = 2031-01: outside the calibration's months" in errors["forecast.origin"]
    )
    # more paths than replications per candidate: the planner's reader names the key
    errors = _checked(plan, {"forecast.paths": "40"}, base)
    assert "search.replications" in next(iter(errors.values()))
    # a base scenario whose demand after its origin is a forecast quantile already
    quantile = tmp_path / "quantile.toml"
    quantile.write_text(
        f'base = "{base.path.resolve().as_posix()}"\nname = "quantile"\n\n'
        '[demand.forecast]\norigin = "2023-03"\nquantile = 0.9\n',
        encoding="utf-8",
    )
    entry = Entry("quantile", quantile, "quantile", "", "")
    errors = _checked(plan, {}, entry)
    assert list(errors) == [GENERAL]
    assert "[demand.forecast] both set the demand after an origin" in errors[GENERAL]


def test_a_plan_file_with_quantiles_is_one_plan_at_a_time_in_the_workbench() -> None:
    quantiles = _plan("examples.small-forecast-quantiles")
    base = SCENARIOS["examples.small-staff-bound"]
    form = plan_form(quantiles, SCENARIOS)
    assert [form.value(key) for key in FIELDS] == ["2023-04", "", ""]  # no paths by default
    errors = _checked(quantiles, {}, base)
    assert list(errors) == [GENERAL]
    assert "2 quantiles are 2 plans; `bordersim plan`" in errors[GENERAL]
    one = {**quantiles.data, "forecast": {"origin": "2023-04", "quantiles": [0.9]}}
    single = PlanFile(quantiles.id, quantiles.path, "one", "", one)
    request = check_plan(plan_form(single, SCENARIOS), single, base)
    assert request is not None
    assert tomllib.loads(request.request["plan_text"])["forecast"] == one["forecast"]
    # sample paths beside quantiles: refused beside the paths field
    errors = _checked(single, {"forecast.paths": "4"}, base)
    assert "forecast.paths = 4: sample paths or quantiles, not both" in errors["forecast.paths"]


def test_a_refused_plan_value_names_no_line_of_a_file_the_user_never_sees() -> None:
    """A value refused by the planner was shown as 'plan 2023-troops, line 6: demand_scale =
    -1.0: ...': line 6 of the text the workbench writes for the planner (shown only once the plan
    passes), while plans/2023-troops.toml has demand_scale on line 15. The message beside the
    field names the key, not a line."""
    plan = _plan("2023-troops")
    base = SCENARIOS["2023-title42-end"]
    errors = _checked(plan, {"demand_scale": "-1"}, base)
    assert errors == {"demand_scale": "demand_scale = -1.0: must be above 0"}
    errors = _checked(plan, {"pools.active_duty.step": "0"}, base)
    assert errors["pools.active_duty.step"] == (
        "pools.active_duty.step = 0: must be a whole number of at least 1"
    )


def test_every_number_of_the_plan_form_names_its_unit() -> None:
    """The plan form's "step" (a headcount granularity, in people), "cap per sector (optional)"
    and the 72-hour targets (shares from 0 to 1: 0.95, not 95) named no unit beside the field;
    each label now says what its number counts."""
    from bordersim.web.plans import GENERAL_FIELDS, POOL_FIELDS

    units = ("people", "days", "$", "at most 1", "replications", "seconds", "x ", "alpha", "date")
    for key, label, kind in GENERAL_FIELDS + POOL_FIELDS:
        assert kind == "date" or any(unit in label for unit in units), (key, label)
    labels = {key: label for key, label, _ in GENERAL_FIELDS + POOL_FIELDS}
    assert "people" in labels["step"] and "people" in labels["max_per_sector"]
    assert "(above 0, at most 1)" in labels["targets.within_72h"]
    assert "(above 0, at most 1)" in labels["targets.children_within_72h"]


def test_the_target_fields_say_the_range_the_planner_takes() -> None:
    """The 72-hour targets were labelled "(0 to 1)", and a 0 typed there, as the label offered,
    was refused beside the field ("must be above 0 and at most 1"); the label now gives the
    range the planner takes."""
    from bordersim.web.plans import GENERAL_FIELDS

    labels = {key: label for key, label, _ in GENERAL_FIELDS}
    plan = _plan("examples.small-stress")
    base = SCENARIOS["examples.small-staff-bound"]
    for key in ("targets.within_72h", "targets.children_within_72h"):
        assert labels[key].endswith("(above 0, at most 1)"), labels[key]
        assert "must be above 0 and at most 1" in _checked(plan, {key: "0"}, base)[key]
        form = plan_form(plan, SCENARIOS)
        form.values[key] = "1"
        assert check_plan(form, plan, base) is not None, form.errors


def test_sample_paths_without_a_month_are_refused_in_words() -> None:
    """Paths given and the month left empty were refused beside the month as "forecast.origin =
    None: is required a month, YYYY-MM": a Python word for nothing, and no sentence. The
    month is asked for, with the way back to the base scenario's own demand."""
    with pytest.raises(FieldError) as raised:
        _text(_plan("examples.small-forecast-paths"), {"forecast.origin": ""})
    assert raised.value.field_name == "forecast.origin"
    said = str(raised.value)
    assert said.startswith("forecast.origin = '': give the last month of data (YYYY-MM)")
    assert "None" not in said and "clear the sample paths" in said
