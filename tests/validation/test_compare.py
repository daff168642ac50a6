"""Errors, scores and measures of the operational validation, on constructed runs and records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from bordersim.model.dimensions import Sector
from bordersim.results.kpis import mean_interval
from bordersim.results.schema import RunResult
from bordersim.results.validation import error_texts
from bordersim.validation.compare import (
    IN_RANGE,
    MISS,
    NOT_COMPARED,
    WITHIN,
    Comparison,
    compare,
    comparison_cells,
    format_error,
    relative_error,
    score_of,
    validate,
)
from bordersim.validation.measures import NotComparable, RunView, parse_scope
from bordersim.validation.targets import Target
from constructed_runs import constructed_run

DAY = dt.date(2023, 5, 10)


def target(
    metric: str,
    value: float,
    *,
    bound: str = "value",
    high: float | None = None,
    scope: str = "SWB",
    start: dt.date = DAY,
    end: dt.date = DAY,
) -> Target:
    return Target(metric, start, end, scope, value, high, bound, "", "source", "", "high", "", 2)


@pytest.mark.parametrize(
    ("bound", "value", "high", "mean", "error", "score"),
    [
        ("value", 100.0, None, 120.0, 0.2, WITHIN),
        ("value", 100.0, None, 60.0, -0.4, MISS),
        ("lower", 100.0, None, 150.0, 0.0, IN_RANGE),
        ("lower", 100.0, None, 50.0, -0.5, MISS),
        ("upper", 100.0, None, 80.0, 0.0, IN_RANGE),
        ("upper", 100.0, None, 110.0, 0.1, WITHIN),
        ("range", 0.25, 0.40, 0.30, 0.0, IN_RANGE),
        ("range", 0.25, 0.40, 0.05, -0.8, MISS),
        ("range", 0.25, 0.40, 0.48, 0.2, WITHIN),
    ],
)
def test_error_and_score(
    bound: str, value: float, high: float | None, mean: float, error: float, score: str
) -> None:
    t = target("m", value, bound=bound, high=high)
    assert relative_error(t, mean) == pytest.approx(error)
    assert score_of(t, relative_error(t, mean)) == score


@pytest.mark.parametrize(
    ("mean", "printed", "score"),
    [
        (130.4, "+30.4 %", MISS),  # not "+30 %" beside a miss of "within 30 %"
        (69.6, "-30.4 %", MISS),
        (130.04, "+30.04 %", MISS),
        (130.0000001, "+30.001 %", MISS),  # over by less than shown: rounded away from 30
        (130.0, "+30 %", WITHIN),  # on the boundary is within
        (129.6, "+30 %", WITHIN),
        (70.3, "-30 %", WITHIN),
        (112.4, "+12 %", WITHIN),
        (160.0, "+60 %", MISS),
    ],
)
def test_the_printed_error_never_contradicts_the_score(
    mean: float, printed: str, score: str
) -> None:
    t = target("m", 100.0)
    error = relative_error(t, mean)
    c = Comparison(t, "m", "people", mean_interval(np.array([mean])), error, score_of(t, error), "")
    cells = comparison_cells(c)  # the row of `bordersim validate` and of the run report
    assert (cells[5], cells[6]) == (printed, score)
    assert format_error(error) == printed


def test_a_monthly_error_is_printed_on_the_side_of_its_flag() -> None:
    table = pd.DataFrame(
        {"error_pct": [5.04, 5.0, -5.04, -12.34, 4.96], "flagged": [True, False, True, True, False]}
    )
    assert error_texts(table) == ["+5.04 %", "+5.0 %", "-5.04 %", "-12.3 %", "+5.0 %"]


def test_scopes() -> None:
    assert parse_scope("SWB").sectors == tuple(Sector)
    pair = parse_scope("El Centro + San Diego (2 USBP stations + 2 POEs)")
    assert pair.sectors == (Sector.ELC, Sector.SDC) and pair.detail.startswith("2 USBP")
    assert parse_scope("all borders (USBP)").wider
    # CBP's codes name sectors too (the code was "not a southwest border sector")
    assert parse_scope("RGV").sectors == (Sector.RGV,)
    assert parse_scope("elc + San Diego").sectors == (Sector.ELC, Sector.SDC)
    with pytest.raises(NotComparable, match="give a sector's name, such as 'Rio Grande Valley'"):
        parse_scope("Miami")


def test_a_misspelt_scope_names_the_sector_meant() -> None:
    """A targets file's "Rio Grand Valley" was not compared, with no hint of the sector meant."""
    with pytest.raises(NotComparable, match=r"\(did you mean 'Rio Grande Valley'\?\)"):
        parse_scope("Rio Grand Valley")
    with pytest.raises(NotComparable, match=r"'El Paso \+ Tuscon' .*did you mean 'Tucson'"):
        parse_scope("El Paso + Tuscon")


def _run_with(metric_values: dict[str, float], days: int = 21) -> RunResult:
    run = constructed_run(replications=4, days=days)
    from bordersim.results.schema import METRIC_INDEX

    for name, value in metric_values.items():
        run.daily[..., METRIC_INDEX[name]] = value
    return run


def test_custody_on_a_day_sums_the_sectors() -> None:
    run = _run_with({"occupancy_mean": 1000.0})  # two sectors: TCA and RGV
    got = compare(target("custody_population", 2500.0, scope="SWB"), RunView(run))
    assert got.score == NOT_COMPARED and "does not simulate" in got.note
    tucson = compare(target("custody_population", 2500.0, scope="Tucson"), RunView(run))
    assert tucson.simulated is not None and tucson.simulated.mean == pytest.approx(1000.0)
    assert tucson.score == MISS and tucson.error == pytest.approx(-0.6)
    both = compare(
        target("custody_population", 2500.0, scope="Tucson + Rio Grande Valley"), RunView(run)
    )
    assert both.simulated is not None and both.simulated.mean == pytest.approx(2000.0)
    assert both.score == WITHIN


def test_a_facility_count_bounds_its_sector_from_below() -> None:
    run = _run_with(
        {"occupancy_mean": 1000.0, "agents_field_hours": 60.0, "agents_support_hours": 40.0}
    )
    station = "Tucson (one station)"
    below = compare(target("custody_population", 800.0, scope=station), RunView(run))
    assert below.target.bound == "lower" and below.score == IN_RANGE and "one station" in below.note
    above = compare(target("custody_population", 2000.0, scope=station), RunView(run))
    assert above.score == MISS and above.error == pytest.approx(-0.5)
    # a part that says nothing of the sector's Border Patrol custody is not compared
    ports = target("custody_population", 10.0, scope="Tucson (2 USBP stations + 2 POEs)")
    assert "ports of entry" in compare(ports, RunView(run)).note
    at_most = target("custody_population", 5000.0, bound="upper", scope=station)
    assert compare(at_most, RunView(run)).score == NOT_COMPARED
    # a share of one station is not a count: compared as it is, against the whole sector
    share = compare(target("agents_diverted_share", 0.4, scope=station), RunView(run))
    assert share.target.bound == "value" and "against the whole sector" in share.note
    assert share.simulated is not None and share.simulated.mean == pytest.approx(0.4)


def test_a_facility_count_in_the_unit_bounds_its_sector() -> None:
    run = _run_with({"custody_capacity": 3000.0})
    facility = dataclasses.replace(
        target("custody_capacity", 715.0, scope="Rio Grande Valley"),
        unit="persons (design capacity, one facility)",
    )
    got = compare(facility, RunView(run))
    assert got.target.bound == "lower" and got.score == IN_RANGE and got.error == 0.0
    larger = compare(dataclasses.replace(facility, value=4000.0), RunView(run))
    assert larger.score == WITHIN and larger.error == pytest.approx(-0.25)
    # the same figure for the whole sector is a value, and 3,000 is far from 715
    sector = compare(dataclasses.replace(facility, unit="persons"), RunView(run))
    assert sector.target.bound == "value" and sector.score == MISS
    assert sector.error == pytest.approx(3000.0 / 715.0 - 1.0)


def test_outside_the_reported_days_is_not_compared() -> None:
    run = _run_with({"gotaways": 10.0})
    month = target(
        "gotaways", 300.0, scope="Tucson", start=dt.date(2023, 4, 1), end=dt.date(2023, 4, 30)
    )
    assert compare(month, RunView(run)).score == NOT_COMPARED
    inside = dataclasses.replace(month, start=dt.date(2023, 5, 1), end=dt.date(2023, 5, 10))
    got = compare(inside, RunView(run))
    assert got.simulated is not None and got.simulated.mean == pytest.approx(100.0)
    later = dataclasses.replace(month, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2))
    assert validate([later, inside], RunView(run)) == [got]  # only targets of the period


def _people(rows: list[tuple[int, str, str, float, float, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["replication", "group", "sector", "apprehension_h", "departure_h", "pathway"]
    )
    for column in ("group", "sector", "pathway"):
        frame[column] = frame[column].astype("category")
    return frame


def test_record_measures_count_the_people_held_at_noon() -> None:
    run = constructed_run(replications=2, days=21)  # reported from 1 May 2023
    first = dt.date(2023, 4, 20)  # eleven warm-up days: 10 May noon is hour 20 * 24 + 12 = 492
    uac, adult = "unaccompanied_child/other", "single_adult/mexico"
    people = _people(
        [
            (0, uac, "RGV", 400.0, 500.0, "uac_transfer"),  # held at 492, for 92 h
            (0, uac, "RGV", 480.0, float("nan"), "uac_transfer"),  # still held, 12 h
            (0, adult, "RGV", 300.0, 495.0, "release"),  # held at 492, for 192 h
            (0, adult, "TCA", 491.0, 491.5, "title42_expulsion"),  # gone before noon
            (1, uac, "RGV", 490.0, 520.0, "uac_transfer"),
        ]
    )
    view = RunView(run, people, first)
    children = compare(target("custody_population_uac", 1.0, scope="Rio Grande Valley"), view)
    assert children.simulated is not None
    assert children.simulated.mean == pytest.approx(1.5)  # 2 and 1
    over72 = compare(target("custody_over72h_share", 0.5, scope="Rio Grande Valley"), view)
    assert over72.simulated is not None and over72.simulated.n == 2
    assert over72.simulated.mean == pytest.approx((2 / 3 + 0.0) / 2)
    # Two replications, 2/3 and 0: the t interval, [-391 %, 457 %], is cut to what a share takes.
    assert (over72.simulated.low, over72.simulated.high) == (0.0, 1.0)
    title42 = target(
        "time_in_custody_title42_mean_minutes",
        96.0,
        start=dt.date(2023, 4, 30),
        end=dt.date(2023, 5, 10),
        scope="Tucson",
    )
    minutes = compare(title42, view)
    assert minutes.simulated is not None and minutes.simulated.mean == pytest.approx(30.0)
    assert "warm-up" in minutes.note
    without = compare(
        target("custody_population_uac", 1.0, scope="Rio Grande Valley"), RunView(run)
    )
    assert without.score == NOT_COMPARED and "records" in without.note
    assert math.isnan(without.error)
    assert np.isfinite(children.simulated.low)


def test_net_flow_of_children_counts_arrivals_against_transfers_to_hhs() -> None:
    run = constructed_run(replications=2, days=21)  # reported from 1 May 2023
    first = dt.date(2023, 4, 20)  # 10 May is hours 480 to 504
    mexican, other = "unaccompanied_child/mexico", "unaccompanied_child/other"
    people = _people(
        [
            (0, other, "RGV", 481.0, 510.0, "uac_transfer"),  # in; out the next day
            (0, other, "RGV", 482.0, float("nan"), "uac_transfer"),  # in, still held
            (0, other, "TCA", 400.0, 490.0, "uac_transfer"),  # out only
            (0, mexican, "TCA", 485.0, 499.0, "voluntary_return"),  # in; returned, not to HHS
            (0, "single_adult/mexico", "TCA", 481.0, 490.0, "release"),  # not a child
            (1, mexican, "RGV", 300.0, 490.0, "uac_transfer"),  # out only
            (1, other, "RGV", 495.0, float("nan"), "uac_transfer"),  # in
        ]
    )
    view = RunView(run, people, first)

    def net(metric: str, scope: str) -> float:
        got = compare(target(metric, 1.0, scope=scope), view)
        assert got.simulated is not None
        return got.simulated.mean

    # Children other than Mexican, in minus out: replication 0 has 2 in and 1 out, 1 has 1 in.
    assert net("uac_arrivals_minus_transfers_daily", "SWB") == pytest.approx((1 + 1) / 2)
    assert net("uac_arrivals_minus_transfers_daily", "Rio Grande Valley") == pytest.approx(1.5)
    # Every child, out minus in: replication 0 has 3 in and 1 out, 1 has 1 in and 1 out.
    assert net("uac_transfers_minus_arrivals_daily", "SWB") == pytest.approx((-2 + 0) / 2)


@pytest.mark.parametrize(
    ("metric", "value", "mean", "target_text", "simulated_text"),
    [
        ("time_in_custody_mean_days", 3.0, 4.03, "3.00 days", "4.03 days [4.03 days, 4.03 days]"),
        ("time_in_custody_mean_hours", 72.0, 80.14, "72.0 h", "80.1 h [80.1 h, 80.1 h]"),
        ("time_in_custody_uac_mean_hours", 133.0, 151.2, "133 h", "151 h [151 h, 151 h]"),
        (
            "time_in_custody_title42_mean_minutes",
            96.0,
            80.1,
            "96.0 min",
            "80.1 min [80.1 min, 80.1 min]",
        ),
    ],
)
def test_a_time_is_printed_with_its_unit(
    metric: str, value: float, mean: float, target_text: str, simulated_text: str
) -> None:
    """Two measures read "average time in custody", one in days and one in hours, and the row
    of `bordersim validate` and of the run report gave the bare number ("target 3.00, simulated
    4.03"): the reader could not tell a stay of 3 days from one of 3 hours."""
    from bordersim.validation.measures import MEASURES

    t = target(metric, value)
    unit = MEASURES[metric].unit
    c = Comparison(
        t, MEASURES[metric].label, unit, mean_interval(np.array([mean] * 3)), 0.1, WITHIN, ""
    )
    assert comparison_cells(c)[3:5] == [target_text, simulated_text]


def test_the_csv_keeps_the_targets_file_note_beside_the_models() -> None:
    """The note of a targets file's row (its caveat: "preliminary", "one facility") appeared
    nowhere in `bordersim validate`'s CSV, whose `note` is the model's: the CSV now has it as
    `target_note`."""
    from bordersim.validation.compare import as_frame

    t = dataclasses.replace(target("custody_population", 100.0), note="preliminary count")
    c = Comparison(t, "people in custody", "people", mean_interval(np.array([90.0] * 3)),
                   -0.1, WITHIN, "summed over sectors")  # fmt: skip
    row = as_frame([c]).iloc[0]
    assert (row["note"], row["target_note"]) == ("summed over sectors", "preliminary count")


@pytest.mark.parametrize(("mean", "printed"), [(5.0, "+inf %"), (-5.0, "-inf %")])
def test_an_error_against_a_target_of_zero_keeps_its_sign_and_unit(
    mean: float, printed: str
) -> None:
    # any value against a target of 0 printed "inf", below it as above, with no % unlike every
    # other error of the column
    t = target("m", 0.0)
    error = relative_error(t, mean)
    c = Comparison(t, "m", "people", mean_interval(np.array([mean])), error, score_of(t, error), "")
    assert comparison_cells(c)[5:7] == [printed, "miss"]
    assert format_error(-math.inf) == "-inf %"


def test_a_misspelt_metric_of_a_targets_file_names_the_metric_meant() -> None:
    # "custody_populaton" was not compared as "the model has no measure for this figure yet", as
    # if bordersim did not measure custody at all
    got = compare(target("custody_populaton", 2500.0, scope="Tucson"), RunView(_run_with({})))
    assert got.score == NOT_COMPARED
    assert got.note == (
        "bordersim measures no metric 'custody_populaton' (did you mean 'custody_population'?)"
    )
    # a metric the model does not measure yet keeps its own reason
    unmeasured = compare(target("no_such_figure", 1.0, scope="Tucson"), RunView(_run_with({})))
    assert unmeasured.note == "bordersim measures no metric 'no_such_figure'"


@pytest.mark.parametrize(("mean", "printed"), [(100.0, "0 %"), (99.7, "0 %"), (100.3, "0 %")])
def test_an_error_that_rounds_to_zero_has_no_sign(mean: float, printed: str) -> None:
    # a capacity equal to its figure read "+0 %", and one a hair under it "-0 %", where every
    # other value of bordersim that rounds to zero has no sign
    t = target("m", 100.0)
    error = relative_error(t, mean)
    c = Comparison(t, "m", "people", mean_interval(np.array([mean])), error, score_of(t, error), "")
    assert comparison_cells(c)[5] == printed


def test_a_monthly_error_that_rounds_to_zero_has_no_sign() -> None:
    table = pd.DataFrame({"error_pct": [-0.04, 0.0, 0.04], "flagged": [False, False, False]})
    assert error_texts(table) == ["0.0 %", "0.0 %", "0.0 %"]
