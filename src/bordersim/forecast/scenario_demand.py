"""A scenario's demand from a forecast quantile (`demand.forecast` in a scenario file), or from
one of the forecast's joint sample paths (the planner's `[forecast]`, `planner/demand_paths.py`).

`ForecastDemand` wraps a calibration: up to the origin month it gives the calibration's own
first attempts; after it, the first attempts implied by the ensemble's `quantile` of each sector's
monthly encounters (or by one sample path's), for up to `MAX_HORIZON` months. The group mix and
repeat shares after the origin are those of the last `GROUP_SHARE_MONTHS` months up to it (an
assumption: the mix of crossers changes slowly). The forecast is computed from the series the
calibration was built from, and its quantile or sample paths cached on disk by the series,
origin, level (or number of paths and seed) and method version, because it runs every method at
every origin (tens of seconds on two cores).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bordersim.calibration.demand import implied_first_attempts, month_lengths, smooth_daily
from bordersim.errors import ScenarioError
from bordersim.forecast import GROUP_SHARE_MONTHS, MAX_HORIZON, forecast_at
from bordersim.forecast.data import from_calibration
from bordersim.forecast.methods import default_jobs
from bordersim.forecast.rolling import check_origin as check_history
from bordersim.ingest.fiscal import add_months
from bordersim.model.dimensions import Sector

FORECAST_VERSION = "forecast-2026.1"  # change when methods, ensemble or intervals change
CACHE_ENV_VAR = "BORDERSIM_CACHE"


def cache_folder() -> Path:
    """$BORDERSIM_CACHE, else $XDG_CACHE_HOME/bordersim/forecast, else ~/.cache/..."""
    explicit = os.environ.get(CACHE_ENV_VAR)
    if explicit:
        return Path(explicit)
    root = os.environ.get("XDG_CACHE_HOME")
    return (Path(root) if root else Path.home() / ".cache") / "bordersim" / "forecast"


def _series_digest(calibration: Any, key: str) -> tuple[Any, str]:
    """The calibration's series and a digest of it with `key` (origin, level, method version)."""
    series = from_calibration(calibration)
    digest = hashlib.sha256(
        np.ascontiguousarray(series.sectors).tobytes()
        + np.ascontiguousarray(series.demographics).tobytes()
        + f"{series.months[0]}|{key}|{FORECAST_VERSION}".encode()
    ).hexdigest()[:24]
    return series, digest


def _cached(
    path: Path, compute: Callable[[], np.ndarray], what: str, shape: tuple[int, ...]
) -> np.ndarray:
    """The array cached at `path`, else `compute()` written there (atomically: a reader never
    sees half a file; a cache that cannot be written only costs time, and is said so). A cache
    file that is not a finite array of `shape` (truncated, edited, or of another shape) is
    stale: computed again and replaced. A computation (tens of seconds, with nothing else on
    the screen: a simulation's compile) is announced on stderr as `what`."""
    from bordersim.output_files import write_atomically

    try:
        cached = np.asarray(json.loads(path.read_text(encoding="utf-8")), dtype=np.float64)
    except (OSError, ValueError, TypeError, RecursionError):
        cached = None
    if cached is not None and cached.shape == shape and np.isfinite(cached).all():
        return cached
    print(
        f"{what}: fitting the forecast (tens of seconds, once; then cached in {path.parent})",
        file=sys.stderr,
        flush=True,
    )
    array = np.asarray(compute(), dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{what}: the forecast gave shape {array.shape}, expected {shape}")
    try:
        write_atomically(path, json.dumps(array.tolist()))
    except OSError as err:  # the forecast stands; only the next compile's time is lost
        print(
            f"{what}: not cached: {path.parent} cannot be written ({err.strerror or err}); the "
            "forecast is fitted again at the next compile",
            file=sys.stderr,
            flush=True,
        )
    return array


def forecast_quantile_totals(calibration: Any, origin: date, quantile: float) -> np.ndarray:
    """[MAX_HORIZON, 9] encounters per month and sector at `quantile`, from `origin`."""
    series, digest = _series_digest(calibration, f"{origin}|{quantile!r}")

    def compute() -> np.ndarray:
        forecast = forecast_at(
            series, origin, MAX_HORIZON, jobs=default_jobs(), origin_from="demand.forecast.origin"
        )
        totals = forecast.totals(quantile)[:, :9]
        if not np.isfinite(totals).all():
            raise ScenarioError(
                f"demand.forecast: quantile {quantile} has no finite bound from {origin:%Y-%m} "
                "(too few past errors for so extreme a level)"
            )
        return totals

    what = f"demand.forecast: quantile {quantile:g} from {origin:%Y-%m}"
    return _cached(cache_folder() / f"{digest}.json", compute, what, (MAX_HORIZON, 9))


def forecast_path_totals(calibration: Any, origin: date, paths: int, seed: int) -> np.ndarray:
    """[paths, MAX_HORIZON, 9] encounters per month and sector on `paths` joint sample paths of
    the ensemble forecast from `origin` (`Forecast.sample_paths`, drawn with `seed`)."""
    series, digest = _series_digest(calibration, f"{origin}|paths={paths}|seed={seed}")

    def compute() -> np.ndarray:
        forecast = forecast_at(
            series, origin, MAX_HORIZON, jobs=default_jobs(), origin_from="forecast.origin"
        )
        return forecast.sample_paths(paths, seed).sum(axis=3)

    what = f"forecast: {paths} sample paths from {origin:%Y-%m}"
    return _cached(cache_folder() / f"paths-{digest}.json", compute, what, (paths, MAX_HORIZON, 9))


def check_origin(calibration: Any, origin: date, key: str, where: str | None = None) -> None:
    """`origin` is a month of the calibration (`key` names the input in the error, `where` the
    file and line that set it)."""
    months = tuple(calibration.months)
    if not months[0] <= origin <= months[-1]:
        raise ScenarioError(
            f"{key} = {origin:%Y-%m}: outside the calibration's months "
            f"({months[0]:%Y-%m} .. {months[-1]:%Y-%m})",
            where=where,
        )


def check_forecast_origin(
    calibration: Any, origin: date, key: str = "demand.forecast.origin", where: str | None = None
) -> None:
    """`origin` (a scenario's ``demand.forecast.origin``, or the input `key` names, set at
    `where`) is a month of the calibration with the history a forecast needs: the checks
    `forecast_at` makes, without fitting anything."""
    check_origin(calibration, origin, key, where)
    series = from_calibration(calibration)
    check_history(series, series.index_of(origin, key), key, where)


def forecast_last_date(origin: date) -> date:
    """The last day the forecast from `origin` gives demand for: the end of its last month."""
    return add_months(origin, MAX_HORIZON + 1) - timedelta(days=1)


class ForecastDemand:
    """A calibration whose first attempts after `origin` come from forecast encounters: a
    quantile (`quantile`), or one sample path's monthly totals per sector (`totals`)."""

    def __init__(
        self,
        base: Any,
        origin: date,
        quantile: float | None = None,
        *,
        totals: np.ndarray | None = None,
    ) -> None:
        if (quantile is None) == (totals is None):
            raise ValueError("ForecastDemand takes a quantile or the totals, not both")
        check_origin(base, origin, "demand.forecast.origin")
        months = tuple(base.months)
        self.base = base
        self.origin = origin
        self.quantile = quantile
        self.version: str = base.version
        self.first_date: date = base.first_date
        position = months.index(origin)
        ahead = tuple(add_months(origin, h) for h in range(1, MAX_HORIZON + 1))
        self.months = months[: position + 1] + ahead
        self.last_date = forecast_last_date(origin)
        if totals is None:
            assert quantile is not None
            totals = forecast_quantile_totals(base, origin, quantile)
            level = f"the {quantile:g} quantile"
        else:
            totals = np.asarray(totals, dtype=np.float64)
            if totals.shape != (MAX_HORIZON, 9):
                raise ValueError(f"totals must be [{MAX_HORIZON}, 9], got {totals.shape}")
            level = "one sample path"
        recent = slice(max(0, position + 1 - GROUP_SHARE_MONTHS), position + 1)

        def extend(history: np.ndarray, future: np.ndarray) -> np.ndarray:
            return np.concatenate([history[: position + 1], future], axis=0)

        def held(array: np.ndarray) -> np.ndarray:
            return np.repeat(np.asarray(array)[recent].mean(axis=0, keepdims=True), MAX_HORIZON, 0)

        mix = held(base.group_mix)
        mix /= mix.sum(axis=1, keepdims=True)
        monthly = implied_first_attempts(
            extend(np.asarray(base.sector_encounters, dtype=np.float64), totals),
            extend(np.asarray(base.group_mix), mix),
            extend(np.asarray(base.repeat_share), held(base.repeat_share)),
            base.apprehension_probability,
        )
        self.monthly_first_attempts = monthly
        self.daily_table = smooth_daily(monthly, month_lengths(self.months))
        self.sources = {
            **base.sources,
            "demand.forecast": (
                f"first attempts after {origin:%Y-%m} from {level} of the "
                f"ensemble forecast of monthly encounters per sector ({FORECAST_VERSION}; "
                "docs/forecast.md); group mix and repeat shares of "
                f"{months[recent.start]:%Y-%m} .. {origin:%Y-%m}, the origin included"
            ),
        }

    def daily_first_attempts(self, dates: Sequence[date], sectors: Sequence[Sector]) -> np.ndarray:
        rows = np.array([(day - self.first_date).days for day in dates], dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self.daily_table.shape[0]):
            raise ScenarioError(
                f"dates {dates[0]} .. {dates[-1]} are outside the forecast demand "
                f"({self.first_date} .. {self.last_date})"
            )
        columns = np.array([int(sector) for sector in sectors], dtype=np.int64)
        return self.daily_table[rows][:, columns, :]

    def pathway_shares(self, dates: Sequence[date], title42_active: np.ndarray) -> np.ndarray:
        return self.base.pathway_shares(dates, title42_active)

    @property
    def repeat_probability(self) -> np.ndarray:
        return np.asarray(self.base.repeat_probability)

    @property
    def repeat_delay_mean_days(self) -> np.ndarray:
        return np.asarray(self.base.repeat_delay_mean_days)

    def __getattr__(self, name: str) -> Any:
        # Anything else a caller reads (months of coverage, encounters) is the calibration's.
        return getattr(self.base, name)
