"""The calibration contract that scenarios and engines code against (shipped artifact)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pytest

from bordersim.calibration import Calibration, load_calibration
from bordersim.calibration.regime import title42_fraction
from bordersim.errors import ScenarioError
from bordersim.model.dimensions import (
    GROUP_DEMOGRAPHIC,
    N_GROUPS,
    N_PATHWAYS,
    Demographic,
    Nationality,
    Pathway,
    Sector,
    group_index,
)

ALL_SECTORS = list(Sector)


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    return load_calibration()


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=offset) for offset in range(count)]


def coverage_days(calibration: Calibration) -> list[date]:
    return days(calibration.first_date, (calibration.last_date - calibration.first_date).days + 1)


def test_version_and_coverage(calibration: Calibration) -> None:
    assert re.fullmatch(r"2024\.1-[0-9a-f]{12}", calibration.version)
    assert calibration.first_date == date(1999, 10, 1)
    assert calibration.last_date == date(2023, 9, 30)
    assert load_calibration("default").version == calibration.version


def test_daily_first_attempts_shape_and_sector_selection(calibration: Calibration) -> None:
    april = days(date(2023, 4, 1), 30)
    full = calibration.daily_first_attempts(april, ALL_SECTORS)
    assert full.shape == (30, 9, N_GROUPS)
    some = calibration.daily_first_attempts(april, [Sector.RGV, Sector.SDC])
    np.testing.assert_array_equal(some[:, 0], full[:, Sector.RGV])
    np.testing.assert_array_equal(some[:, 1], full[:, Sector.SDC])
    assert np.isfinite(full).all() and (full >= 0).all()


def test_every_month_of_daily_rates_sums_to_its_implied_first_attempts(
    calibration: Calibration,
) -> None:
    every_day = coverage_days(calibration)
    daily = calibration.daily_first_attempts(every_day, ALL_SECTORS)
    month_of_day = np.array(
        [calibration.months.index(day.replace(day=1)) for day in every_day[::1]]
    )
    sums = np.zeros_like(calibration.monthly_first_attempts)
    np.add.at(sums, month_of_day, daily)
    np.testing.assert_allclose(sums, calibration.monthly_first_attempts, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("month", "title42"),
    [(date(2019, 5, 1), False), (date(2021, 4, 1), True), (date(2023, 8, 1), False)],
)
def test_first_attempts_invert_official_encounters(
    calibration: Calibration, month: date, title42: bool
) -> None:
    """encounters = first attempts x a / (1 - s), per sector, for a month wholly in one regime."""
    assert title42_fraction(month) == (1.0 if title42 else 0.0)
    position = calibration.months.index(month)
    first = calibration.monthly_first_attempts[position]  # [S, G]
    share = calibration.repeat_share[position]  # [G]
    if title42:
        single = GROUP_DEMOGRAPHIC == Demographic.SINGLE_ADULT
        assert share[single].min() > 0.27 > share[~single].max()
    else:
        np.testing.assert_allclose(share, 0.07)
    encounters = (first * calibration.apprehension_probability / (1 - share)).sum(axis=1)
    official = [calibration.monthly_encounters(sector)[month] for sector in Sector]
    np.testing.assert_allclose(encounters, official, rtol=1e-9)


def test_monthly_encounters_are_the_official_targets(calibration: Calibration) -> None:
    rgv = calibration.monthly_encounters(Sector.RGV)
    fy2021 = sum(
        value for month, value in rgv.items() if date(2020, 10, 1) <= month < date(2021, 10, 1)
    )
    assert fy2021 == 549_090  # OHSS 'Monthly Rgn and Sector', Rio Grande Valley, FY2021
    assert min(rgv) == date(1999, 10, 1) and max(rgv) == date(2023, 9, 1)
    by_group = calibration.monthly_encounters_by_group()
    for month in (date(2005, 1, 1), date(2022, 6, 1)):
        border = sum(calibration.monthly_encounters(sector)[month] for sector in Sector)
        assert by_group[month].shape == (N_GROUPS,)
        assert by_group[month].sum() == pytest.approx(border, rel=1e-9)


def test_pathway_shares_follow_the_regime(calibration: Calibration) -> None:
    dates = [date(2020, 6, 1), date(2023, 4, 15), date(2023, 4, 15), date(2023, 7, 1)]
    active = np.array([True, True, False, False])
    shares = calibration.pathway_shares(dates, active)
    assert shares.shape == (4, N_GROUPS, N_PATHWAYS)
    np.testing.assert_allclose(shares.sum(axis=2), 1.0, atol=1e-12)
    assert (shares >= 0).all()
    title42 = shares[:, :, Pathway.TITLE42_EXPULSION]
    assert (title42[~active] == 0).all()
    single_mexican = group_index(Demographic.SINGLE_ADULT, Nationality.MEXICO)
    assert title42[0, single_mexican] > 0.8  # Title 42 expelled most single Mexican adults
    np.testing.assert_allclose(title42[0], calibration.title42_share_pooled)
    # April 2023 is a month of the CBP file wholly under Title 42: its own shares.
    assert not np.allclose(title42[1], calibration.title42_share_pooled)
    children = GROUP_DEMOGRAPHIC == Demographic.UNACCOMPANIED_CHILD
    assert title42[1, children].max() < 0.01
    assert shares[3, children][:, Pathway.UAC_TRANSFER].min() > 0


def test_dates_outside_the_calibration_are_a_scenario_error(calibration: Calibration) -> None:
    with pytest.raises(ScenarioError, match=r"date 2031-01-01 is outside the calibration"):
        calibration.daily_first_attempts([date(2023, 9, 30), date(2031, 1, 1)], ALL_SECTORS)
    with pytest.raises(ScenarioError, match=r"1999-10-01 \.\. 2023-09-30"):
        calibration.daily_first_attempts([date(1999, 9, 30)], [Sector.SDC])


def test_repeat_parameters_and_sources(calibration: Calibration) -> None:
    assert calibration.repeat_probability.shape == (2, N_GROUPS)
    assert ((calibration.repeat_probability >= 0) & (calibration.repeat_probability <= 0.95)).all()
    assert calibration.repeat_delay_mean_days.shape == (N_GROUPS,)
    assert (calibration.repeat_delay_mean_days > 0).all()
    assert 0 < calibration.apprehension_probability < 1
    assert calibration.sources["apprehension_probability"].startswith("assumption")
    assert "Associated Press" in calibration.sources["repeat_share_title42"]
    assert calibration.sources["pathway_title8_split"].startswith("assumption")


def test_regime_fraction_of_the_switch_months() -> None:
    assert title42_fraction(date(2020, 3, 1)) == pytest.approx(11 / 31)
    assert title42_fraction(date(2023, 5, 1)) == pytest.approx(11 / 31)
    assert title42_fraction(date(2020, 2, 1)) == 0.0


def test_title8_transfers_to_ice_match_the_may_2023_book_ins(calibration: Calibration) -> None:
    """CBP booked 22,672 people into ICE detention in May 2023 (TRAC), about 15 % of Border
    Patrol's Title 8 apprehensions; the Title 8 split, weighted by the official group mix of
    May 2023, must send a share of that order to ICE beds."""
    may = calibration.monthly_encounters_by_group()[date(2023, 5, 1)]
    mix = may / may.sum()
    to_ice = float(mix @ calibration.title8_split[:, Pathway.EXPEDITED_REMOVAL])
    released = float(mix @ calibration.title8_split[:, Pathway.RELEASE])
    assert 0.10 < to_ice < 0.20
    assert released > 0.5  # most Title 8 cases were released by Border Patrol in 2023
    np.testing.assert_allclose(calibration.title8_split.sum(axis=1), 1.0)
    assert (calibration.title8_split[:, Pathway.TITLE42_EXPULSION] == 0).all()
