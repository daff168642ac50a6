"""`demand.forecast` in a scenario: validated, and compiled into first attempts after the origin."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bordersim.calibration import load_calibration
from bordersim.compiler import compile_scenario
from bordersim.errors import ScenarioError
from bordersim.forecast.scenario_demand import CACHE_ENV_VAR, forecast_quantile_totals
from bordersim.scenario import load_scenario
from repo_paths import SMALL

MINIMAL = """
name = "forecast demand"
sectors = ["TCA", "RGV"]

[period]
start_date = 2023-04-20
end_date = 2023-05-31
warmup_days = 7

[demand.forecast]
"""

MONTH = 'must be a month written "YYYY-MM" in quotes, such as "2023-04", or a TOML date'


def write(folder: Path, forecast: str) -> Path:
    path = folder / "scenario.toml"
    path.write_text(textwrap.dedent(MINIMAL).lstrip() + forecast, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("forecast", "fragments"),
    [
        ('origin = "2023-03"\nquantile = 1.5\n', ["demand.forecast.quantile = 1.5", "less than 1"]),
        ('origin = "2023-13"\nquantile = 0.9\n', ["demand.forecast.origin", "YYYY-MM"]),
        ("quantile = 0.9\n", ["demand.forecast.origin", "required"]),
        # a mistyped month was told only "must be a TOML date, written without quotes"
        ('origin = "2023-4"\nquantile = 0.9\n', ["origin = '2023-4': " + MONTH]),
        (
            'origin = "2023-04-31"\nquantile = 0.9\n',
            ['must be a month written "YYYY-MM" in quotes'],
        ),
        # a year as a number, or a date with a time, was told "must be a TOML date, written
        # without quotes, such as 2023-05-11", which hid the month form
        (
            "origin = 2023\nquantile = 0.9\n",
            ["scenario.toml, line 10: demand.forecast.origin = 2023: ", MONTH],
        ),
        ("origin = 2023-04-01T00:00:00\nquantile = 0.9\n", ["demand.forecast.origin", MONTH]),
        ("origin = 2023.04\nquantile = 0.9\n", ["demand.forecast.origin = 2023.04", MONTH]),
        # a day in mid-month was taken as its month without a word, where forecast --origin
        # refuses a day
        (
            "origin = 2023-04-15\nquantile = 0.9\n",
            [
                "line 10: demand.forecast.origin = 2023-04-15: is a day, not a month: give the "
                'month, "2023-04" (or its first day, 2023-04-01)'
            ],
        ),
    ],
)
def test_a_bad_forecast_entry_is_one_scenario_error(
    tmp_path: Path, forecast: str, fragments: list[str]
) -> None:
    with pytest.raises(ScenarioError) as raised:
        load_scenario(write(tmp_path, forecast))
    message = str(raised.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("origin", ["2023-04-15", '"2023-04-15"'])
def test_a_day_after_the_first_is_refused_naming_its_month(tmp_path: Path, origin: str) -> None:
    """`origin = 2023-04-15` was taken silently as April, whose data are all used, where
    `bordersim forecast --origin 2023-04-15` is refused naming the month; it is refused too."""
    with pytest.raises(ScenarioError) as raised:
        load_scenario(write(tmp_path, f"origin = {origin}\nquantile = 0.9\n"))
    message = str(raised.value)
    assert "demand.forecast.origin" in message and "\n" not in message
    if origin.startswith('"'):  # a day in quotes is neither form
        assert MONTH in message
    else:
        assert 'is a day, not a month: give the month, "2023-04"' in message, message


def test_forecast_at_refuses_a_day_after_the_first() -> None:
    """`forecast_at(series, date(2023, 4, 15), ...)` forecast from April, the whole month, as if
    the day were the month; it is refused, naming the month, before anything is fitted."""
    from bordersim.errors import BordersimError
    from bordersim.forecast import forecast_at
    from bordersim.forecast.data import from_calibration

    series = from_calibration(load_calibration())
    refused = r"origin 2023-04-15 is a day, not a month: give the month's first day, 2023-04-01"
    with pytest.raises(BordersimError, match=refused):
        forecast_at(series, dt.date(2023, 4, 15), horizon=3)


def test_an_origin_outside_the_calibration_is_a_scenario_error(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, 'origin = "2024-03"\nquantile = 0.9\n'))
    with pytest.raises(ScenarioError, match=r"demand.forecast.origin = 2024-03: outside"):
        compile_scenario(scenario, load_calibration())


def test_a_period_after_the_forecast_is_named_by_the_origin_before_fitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A period past the forecast's 12 months was blamed, after a minute of fitting, on the
    calibration's coverage, given as the forecast's end."""
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    path = write(tmp_path, 'origin = "2022-04"\nquantile = 0.5\n')
    with pytest.raises(ScenarioError) as refused:
        compile_scenario(load_scenario(path), load_calibration())
    assert str(refused.value) == (
        f"{path}, line 6: period.end_date = 2023-05-31: after the forecast demand: "
        "demand.forecast.origin 2022-04 gives demand for 12 months, to 2023-04-30"
    )
    assert not (tmp_path / "cache").exists()  # refused before the forecast was fitted


@pytest.mark.parametrize(
    ("origin", "fragment"),
    [
        ("2023-10", "demand.forecast.origin = 2023-10: outside the calibration's months"),
        ("1999-11", "demand.forecast.origin 1999-11 has 1 month of history before it"),
    ],
)
def test_an_origin_set_on_the_command_line_is_named_by_its_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, origin: str, fragment: str
) -> None:
    """`--set demand.forecast.origin=...` over a file without [demand.forecast]: the error
    named the file (and a `--origin` option that `run` does not have)."""
    from bordersim.services.loading import apply_settings, parse_setting

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    options = (f"demand.forecast.origin={origin}", "demand.forecast.quantile=0.9")
    scenario = apply_settings(load_scenario(SMALL), dict(parse_setting(o) for o in options))
    with pytest.raises(ScenarioError) as refused:
        compile_scenario(scenario, load_calibration())
    assert str(refused.value).startswith(
        f"--set demand.forecast.origin={origin} --set demand.forecast.quantile=0.9: {fragment}"
    )


@pytest.mark.slow
def test_first_attempts_after_the_origin_come_from_the_forecast_quantile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    calibration = load_calibration()
    scenario = load_scenario(write(tmp_path, "origin = 2023-03-01\nquantile = 0.9\n"))
    model = compile_scenario(scenario, calibration)
    totals = forecast_quantile_totals(calibration, dt.date(2023, 3, 1), 0.9)  # cached now
    assert list((tmp_path / "cache").glob("*.json"))
    may = [i for i, day in enumerate(model.dates) if day.month == 5]
    # May is two months after the origin: its first attempts are the 0.9 quantile of May's
    # encounters times the calibration's first-attempt ratio of the last three months.
    position = calibration.months.index(dt.date(2023, 3, 1))
    recent = slice(position - 2, position + 1)
    mix = calibration.group_mix[recent].mean(axis=0)
    mix /= mix.sum()
    ratio = float((mix * (1 - calibration.repeat_share[recent].mean(axis=0))).sum())
    ratio /= calibration.apprehension_probability
    for column, sector in enumerate((3, 8)):  # TCA, RGV
        expected = totals[1, sector] * ratio
        got = model.first_attempts_per_day[may, column, :].sum()
        assert got == pytest.approx(expected, rel=1e-6)
        assert totals[1, sector] > calibration.sector_encounters[position, sector] * 0.5
    assert "demand.forecast" in model.sources


@pytest.fixture
def flat_forecast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forecast of 100 a month everywhere in place of the fit (which takes tens of seconds),
    cached under tmp_path: for the tests of what is said and cached around the fit."""
    from bordersim.forecast import scenario_demand

    class Fitted:
        def totals(self, quantile: float) -> np.ndarray:
            return np.full((12, 10), 100.0)

    monkeypatch.setattr(scenario_demand, "forecast_at", lambda *args, **kwargs: Fitted())
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))


@pytest.mark.usefixtures("flat_forecast")
def test_fitting_a_scenario_forecast_is_announced_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario's first compile with [demand.forecast] fitted for tens of seconds without a
    word (`bordersim simulate` shows nothing until the run); the fit is now announced, and a
    cached one is not."""
    calibration = load_calibration()
    forecast_quantile_totals(calibration, dt.date(2023, 4, 1), 0.9)
    assert capsys.readouterr().err == (
        "demand.forecast: quantile 0.9 from 2023-04: fitting the forecast (tens of seconds, "
        f"once; then cached in {tmp_path / 'cache'})\n"
    )
    forecast_quantile_totals(calibration, dt.date(2023, 4, 1), 0.9)
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("flat_forecast")
def test_a_cache_that_cannot_be_written_is_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a cache folder that cannot be made (under a file, or read-only), the fit said "once;
    then cached in ..." and was then fitted again at every compile without a word; it now says
    that the forecast was not cached, and why."""
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    cache = tmp_path / "a-file" / "cache"
    monkeypatch.setenv(CACHE_ENV_VAR, str(cache))
    totals = forecast_quantile_totals(load_calibration(), dt.date(2023, 4, 1), 0.9)
    assert totals.shape == (12, 9)
    said = capsys.readouterr().err.splitlines()
    assert said[-1] == (
        f"demand.forecast: quantile 0.9 from 2023-04: not cached: {cache} cannot be written "
        "(Not a directory); the forecast is fitted again at the next compile"
    ), said


@pytest.mark.parametrize(
    "stale",
    [
        "[[1.0, 2.0], [3.0, 4.0]]",  # another shape: first attempts stopped with numpy's error
        '{"month": [1, 2]}',  # another layout: a TypeError
        "[[100.0, 100.0, 100.0",  # truncated
        "",  # empty
    ],
)
@pytest.mark.usefixtures("flat_forecast")
def test_a_cache_file_of_another_shape_is_fitted_again_and_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stale: str
) -> None:
    """A forecast cache file of the wrong shape (edited, truncated, or of another layout) made
    the scenario's compile stop with a traceback; it is stale: fitted again and replaced whole."""
    calibration = load_calibration()
    forecast_quantile_totals(calibration, dt.date(2023, 4, 1), 0.9)
    [cached] = (tmp_path / "cache").iterdir()
    cached.write_text(stale, encoding="utf-8")
    capsys.readouterr()
    totals = forecast_quantile_totals(calibration, dt.date(2023, 4, 1), 0.9)
    assert totals.shape == (12, 9) and (totals == 100.0).all()
    assert "fitting the forecast" in capsys.readouterr().err  # fitted again
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [cached.name]  # no temporary
    assert np.asarray(json.loads(cached.read_text(encoding="utf-8"))).shape == (12, 9)
    compile_scenario(load_scenario(write(tmp_path, 'origin = "2023-04"\nquantile = 0.9\n')))


def test_the_group_mix_months_are_named_with_the_origin_among_them() -> None:
    """The scenario's sources and docs/forecast.md said the group mix came from "the last 3
    months before" the origin, while it is the mean of the 3 months up to it, the origin's month
    included, as the printed forecast names them (`shares of 2023-02 .. 2023-04`)."""
    from bordersim.forecast.scenario_demand import ForecastDemand
    from repo_paths import REPO

    calibration = load_calibration()
    demand = ForecastDemand(calibration, dt.date(2023, 4, 1), totals=np.full((12, 9), 1000.0))
    said = demand.sources["demand.forecast"]
    assert said.endswith("group mix and repeat shares of 2023-02 .. 2023-04, the origin included")
    docs = " ".join((REPO / "docs" / "forecast.md").read_text(encoding="utf-8").split())
    assert "months before the origin" not in docs
