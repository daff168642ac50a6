"""What the planner reads: quantiles and sample paths per sector, group and month."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from forecast_data import shipped

from bordersim.errors import BordersimError
from bordersim.forecast import Forecast, forecast_at, group_shares_at, regimes
from bordersim.forecast.rolling import compute, origin_range


@pytest.fixture(scope="module")
def fast_forecast() -> Forecast:
    series = shipped()
    origin = series.index_of(date(2019, 3, 1), "origin")
    rolling = compute(
        series,
        origin_range(origin),
        4,
        methods=("naive", "theta", "calibration"),
        members=("naive", "theta", "calibration"),
    )

    return Forecast(series, date(2019, 3, 1), 4, rolling, group_shares_at(series, origin))


def test_quantiles_rise_with_the_probability_and_split_by_group(fast_forecast: Forecast) -> None:
    q = fast_forecast.quantiles([0.1, 0.5, 0.9])
    assert q.shape == (3, 4, 9, 3)
    assert (np.diff(q, axis=0) >= 0).all()
    np.testing.assert_allclose(q[1].sum(axis=2), fast_forecast.totals(0.5)[:, :9])
    np.testing.assert_allclose(fast_forecast.group_shares.sum(), 1.0)
    assert fast_forecast.months == (
        date(2019, 4, 1), date(2019, 5, 1), date(2019, 6, 1), date(2019, 7, 1)
    )  # fmt: skip
    with pytest.raises(BordersimError, match="strictly between 0 and 1"):
        fast_forecast.quantiles([1.0])


def test_sample_paths_are_reproducible_and_spread_like_the_intervals(
    fast_forecast: Forecast,
) -> None:
    paths = fast_forecast.sample_paths(4000, seed=3)
    assert paths.shape == (4000, 4, 9, 3)
    np.testing.assert_array_equal(paths, fast_forecast.sample_paths(4000, seed=3))
    assert (paths >= 0).all()
    # Each path is the forecast times one past origin's errors: it varies, is centred near the
    # forecast, and splits by group with the forecast's shares.
    sector_paths = paths.sum(axis=3)
    low, high = np.quantile(sector_paths, [0.1, 0.9], axis=0)
    point = fast_forecast.totals(0.5)[:, :9]
    assert (low < high).all()
    assert ((low <= point) & (point <= high)).mean() > 0.9
    np.testing.assert_allclose(
        paths / sector_paths[..., None], np.broadcast_to(fast_forecast.group_shares, paths.shape)
    )


def test_forecast_at_rejects_a_horizon_beyond_a_year() -> None:
    with pytest.raises(BordersimError, match=r"^horizon 13: must be between 1 and 12 months"):
        forecast_at(shipped(), date(2019, 3, 1), 13)


def test_regimes_are_known_only_once_announced() -> None:
    months = [date(2023, m, 1) for m in range(1, 8)]
    # In December 2022 the end of Title 42 was not announced: it stays in force.
    december = regimes.regressors(months, known_at=date(2022, 12, 1))
    title42 = [r.name for r in regimes.regimes()].index("title42")
    assert (december[:, title42] == 1.0).all()
    # By March 2023 the end (11 May) was public: May is 11/31 under Title 42, June none.
    march = regimes.regressors(months, known_at=date(2023, 3, 1))
    assert march[4, title42] == pytest.approx(11 / 31)
    assert march[5, title42] == 0.0
    for regime in regimes.regimes():
        assert regime.source and regime.start_announced <= regime.first_day
    assert regimes.segment_of(date(2019, 5, 1)) == "before Title 42"
    assert regimes.segment_of(date(2021, 5, 1)) == "Title 42"
    assert regimes.segment_of(date(2023, 6, 1)) == "after Title 42"


@pytest.mark.parametrize("horizon", [0, 13])
def test_forecast_at_names_its_own_argument_in_a_horizon_error(horizon: int) -> None:
    """`forecast_at(series, origin, horizon=13)` from Python was refused as "--horizon 13 must
    be between 1 and 12 months", naming a command-line option the caller had not used."""
    with pytest.raises(BordersimError) as refused:
        forecast_at(shipped(), date(2023, 3, 1), horizon=horizon)
    assert str(refused.value) == f"horizon {horizon}: must be between 1 and 12 months"


@pytest.mark.parametrize(
    ("paths", "seed", "said"),
    [
        (-1, 1, "paths -1 must be a whole number of at least 0"),
        (2.5, 1, "paths 2.5 must be a whole number of at least 0"),
        (3, -1, "seed -1 must be a whole number of at least 0"),
    ],
)
def test_sample_paths_refuse_a_bad_count_or_seed_in_words(
    fast_forecast: Forecast, paths: object, seed: object, said: str
) -> None:
    """`sample_paths(-1, seed=1)` stopped in numpy ("negative dimensions are not allowed"), a
    count of 2.5 or a seed of -1 likewise, in words that name neither argument."""
    with pytest.raises(BordersimError) as refused:
        fast_forecast.sample_paths(paths, seed)  # type: ignore[arg-type]
    assert str(refused.value) == said


def test_quantiles_of_no_probability_are_refused_in_words(fast_forecast: Forecast) -> None:
    """`quantiles([])` stopped in numpy ("need at least one array to stack")."""
    with pytest.raises(BordersimError) as refused:
        fast_forecast.quantiles([])
    assert str(refused.value) == "quantiles: give at least one probability, such as [0.5, 0.9]"
