"""The forecasting methods, each run at many origins of one monthly series.

Every method sees only the months up to its origin (positions `0..origin`) and returns level
forecasts for the next `horizon` months. Methods:
- `naive`: the last month observed;
- `seasonal_naive`: the same month a year earlier;
- `ets`: exponential smoothing with additive damped trend and additive seasonality on log counts
  (statsforecast `AutoETS(model="AAA", damped=True)`);
- `arima`: the airline model, seasonal ARIMA(0,1,1)(0,1,1)12 on log counts (statsforecast
  `ARIMA`); its two coefficients are re-estimated at the end of each fiscal year (September) on
  the data up to then, and the model is run forward on the data up to each origin in between;
- `theta`: the Theta method with additive seasonal decomposition on log counts (statsforecast
  `Theta`);
- `calibration`: the calibration's own seasonal-trend extrapolation (`calibration.seasonal`);
- `arima_regime` (optional, `--regimes`): the airline model with the dated regimes of
  `regimes.csv` as regressors (share of each month's days in force), the future as announced by
  the origin. A regime constant over the fitting window is left out until the next re-estimate.
The statsforecast models see the last `FIT_MONTHS` months only: the border's crossers and policies
change, and older years mostly add cost.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from multiprocessing import current_process, get_context
from multiprocessing.pool import Pool
from typing import Any

import numpy as np

from bordersim.calibration import seasonal
from bordersim.ingest.fiscal import add_months
from bordersim.interrupts import as_child_process, held_from_children

MONTHS_PER_YEAR = 12
FIT_MONTHS = 120  # ten years of history for the fitted models (an assumption, see module doc)
MIN_HISTORY_MONTHS = 36  # three years: the seasonal models and the calibration's profile
REFIT_FISCAL_MONTH = 12  # the airline model's coefficients are re-estimated each September

STATSFORECAST_METHODS = ("ets", "arima", "theta", "arima_regime")
OPTIONAL_METHODS = ("arima_regime",)
METHODS: tuple[str, ...] = ("naive", "seasonal_naive", "ets", "arima", "theta", "calibration")
METHOD_LABELS: dict[str, str] = {
    "naive": "last month (naive)",
    "seasonal_naive": "same month last year",
    "ets": "ETS (damped trend, additive seasonality, log)",
    "arima": "seasonal ARIMA (airline, log)",
    "theta": "Theta (log)",
    "calibration": "bordersim calibration (seasonal-trend)",
    "arima_regime": "seasonal ARIMA with regime regressors",
    "ensemble": "ensemble",
}


def to_log(values: np.ndarray) -> np.ndarray:
    # log(1 + y): months with zero encounters stay finite (small sectors in quiet years).
    return np.log1p(np.maximum(np.asarray(values, dtype=np.float64), 0.0))


def from_log(values: np.ndarray) -> np.ndarray:
    return np.maximum(np.expm1(values), 0.0)


def _naive(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(values[origins][:, None], horizon, axis=1)


def _seasonal_naive(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    steps = np.arange(1, horizon + 1)
    back = MONTHS_PER_YEAR * np.ceil(steps / MONTHS_PER_YEAR).astype(np.int64)
    return values[origins[:, None] + steps[None, :] - back[None, :]]


def _calibration(
    values: np.ndarray, fiscal_months: np.ndarray, origins: np.ndarray, horizon: int
) -> np.ndarray:
    out = np.empty((origins.size, horizon))
    for row, origin in enumerate(origins):
        out[row] = seasonal.forecast(values[: origin + 1], fiscal_months[: origin + 1], horizon)
    return np.maximum(out, 0.0)


def _window(origin: int) -> slice:
    return slice(max(0, origin + 1 - FIT_MONTHS), origin + 1)


def _statsforecast_model(method: str) -> Any:
    from statsforecast.models import ARIMA, AutoETS, Theta

    if method == "ets":
        return AutoETS(season_length=MONTHS_PER_YEAR, model="AAA", damped=True)
    if method in ("arima", "arima_regime"):
        return ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), season_length=MONTHS_PER_YEAR)
    if method == "theta":
        return Theta(season_length=MONTHS_PER_YEAR, decomposition_type="additive")
    raise ValueError(f"unknown statsforecast method {method!r}")


def _refit_origin(origin: int, fiscal_months: np.ndarray) -> int:
    """The latest September at or before `origin` (or the origin itself without one)."""
    position = origin
    while position > 0 and fiscal_months[position] != REFIT_FISCAL_MONTH:
        position -= 1
    return position if position >= MIN_HISTORY_MONTHS - 1 else origin


@dataclass(frozen=True)
class Regressors:
    """Regime regressors: [M, R] for the data's months, and [origins, H, R] as known at each."""

    past: np.ndarray
    future: np.ndarray


def regime_regressors(months: Sequence[date], origins: np.ndarray, horizon: int) -> Regressors:
    from bordersim.forecast import regimes

    past = regimes.regressors(list(months))
    future = np.stack(
        [
            regimes.regressors(
                [add_months(months[int(o)], h) for h in range(1, horizon + 1)],
                known_at=months[int(o)],
            )
            for o in origins
        ]
    )
    return Regressors(past=past, future=future)


def _fit(method: str, logs: np.ndarray, window: slice, exog: Regressors | None) -> Any:
    """A fitted model and the regressor columns it uses (those that vary in its window)."""
    if exog is None:
        return _statsforecast_model(method).fit(logs[window]), np.zeros(0, dtype=np.int64)
    columns = np.flatnonzero(exog.past[window].std(axis=0) > 0)
    if columns.size == 0:
        return _statsforecast_model(method).fit(logs[window]), columns
    return _statsforecast_model(method).fit(logs[window], X=exog.past[window][:, columns]), columns


def _statsforecast(
    method: str,
    values: np.ndarray,
    fiscal_months: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    exog: Regressors | None = None,
) -> np.ndarray:
    logs = to_log(values)
    out = np.empty((origins.size, horizon))
    fitted: dict[int, tuple[Any, np.ndarray]] = {}
    with warnings.catch_warnings():
        # The airline fit warns on slow optimiser convergence; its forecasts are still used.
        warnings.simplefilter("ignore")
        for row, origin in enumerate(origins):
            window = _window(int(origin))
            history = logs[window]
            if method in ("arima", "arima_regime"):
                refit = _refit_origin(int(origin), fiscal_months)
                if refit not in fitted:
                    fitted[refit] = _fit(method, logs, _window(refit), exog)
                model, columns = fitted[refit]
                if exog is not None and columns.size:
                    mean = model.forward(
                        y=history,
                        h=horizon,
                        X=exog.past[window][:, columns],
                        X_future=exog.future[row][:, columns],
                    )["mean"]
                else:
                    mean = model.forward(y=history, h=horizon)["mean"]
            else:
                mean = _statsforecast_model(method).forecast(y=history, h=horizon)["mean"]
            out[row] = mean
    return from_log(out)


def run_method(
    method: str,
    values: np.ndarray,
    fiscal_months: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    exog: Regressors | None = None,
) -> np.ndarray:
    """[origins, horizon] level forecasts of one series by one method."""
    values = np.asarray(values, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    if origins.size and int(origins.min()) < MIN_HISTORY_MONTHS - 1:
        raise ValueError(f"every origin needs {MIN_HISTORY_MONTHS} months of history")
    if origins.size and int(origins.max()) >= values.size:
        raise ValueError("an origin lies beyond the data")
    if method == "naive":
        return _naive(values, origins, horizon)
    if method == "seasonal_naive":
        return _seasonal_naive(values, origins, horizon)
    if method == "calibration":
        return _calibration(values, fiscal_months, origins, horizon)
    if method == "arima_regime" and exog is None:
        raise ValueError("arima_regime needs the regime regressors")
    if method in STATSFORECAST_METHODS:
        return _statsforecast(
            method,
            values,
            fiscal_months,
            origins,
            horizon,
            exog if method in OPTIONAL_METHODS else None,
        )
    raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")


def _task(
    arguments: tuple[str, np.ndarray, np.ndarray, np.ndarray, int, Regressors | None],
) -> np.ndarray:
    return run_method(*arguments)


def _context() -> Any:
    # Forking is fastest (statsforecast is loaded once), but not safe once JAX has started its
    # threads in this process (an engine ran first): then the workers start afresh.
    import sys

    return get_context("spawn" if "jax" in sys.modules else "fork")


@contextlib.contextmanager
def _fitting_pool(jobs: int) -> Iterator[Pool]:
    """`jobs` processes for the statsforecast fits that end at once if the block is left by an
    error or an interrupt, instead of the fits still queued being waited for (for tens of
    seconds, a second Ctrl-C then leaving them running after the command said it stopped).

    A terminal's Ctrl-C reaches every process of its group: the fitting processes ignore it
    (`interrupts.as_child_process`) and this process, interrupted, ends them.
    (A `multiprocessing` pool, whose `terminate` is made for this: Python 3.11's
    `ProcessPoolExecutor`, its processes ended under it, could print a traceback from its own
    thread after 'interrupted'.)"""
    with held_from_children():  # the processes start here
        pool = _context().Pool(jobs, initializer=as_child_process)
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def base_forecasts(
    series: np.ndarray,
    fiscal_months: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    methods: Sequence[str] = METHODS,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    months: Sequence[date] | None = None,
) -> dict[str, np.ndarray]:
    """method -> [origins, series, horizon] level forecasts of every column of [M, K] `series`.

    With `jobs` > 1 the statsforecast fits run in that many forked processes; the numbers do not
    depend on `jobs`. `months` (the data's month starts) is needed by `arima_regime` only.
    """
    values = np.asarray(series, dtype=np.float64)
    columns = values.shape[1]
    exog = None
    if any(m in OPTIONAL_METHODS for m in methods):
        if months is None:
            raise ValueError("regime methods need the months")
        exog = regime_regressors(months, origins, horizon)
    tasks = [
        (m, values[:, k], fiscal_months, origins, horizon, exog)
        for m in methods
        for k in range(columns)
    ]
    heavy = [i for i, task in enumerate(tasks) if task[0] in STATSFORECAST_METHODS]
    results: list[np.ndarray | None] = [None] * len(tasks)
    done = 0
    for i, task in enumerate(tasks):
        if i not in heavy:
            results[i] = _task(task)
    if jobs > 1 and len(heavy) > 1 and not current_process().daemon:
        # (a daemonic process, such as the workbench's job worker, may not start processes:
        # it fits them one after the other, to the same numbers)
        import statsforecast.models  # noqa: F401  (loaded once before forking)

        # no more processes than fits: a --jobs of hundreds forked them all, to sit idle
        with _fitting_pool(min(jobs, len(heavy))) as pool:
            fits = pool.imap(_task, [tasks[i] for i in heavy])
            for i, result in zip(heavy, fits, strict=True):
                results[i] = result
                done += 1
                if progress is not None:
                    progress(done, len(heavy))
    else:
        for i in heavy:
            results[i] = _task(tasks[i])
            done += 1
            if progress is not None:
                progress(done, len(heavy))
    out: dict[str, np.ndarray] = {}
    for index, method in enumerate(methods):
        block = results[index * columns : (index + 1) * columns]
        out[method] = np.stack([b for b in block if b is not None], axis=1)
    return out
