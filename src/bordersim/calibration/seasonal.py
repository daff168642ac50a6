"""Multiplicative seasonality and trend of a monthly series, and the forecast built on them.

Seasonal index per fiscal month: the median, over the years of history, of each month's ratio to
the centred 12-month moving average (the classical ratio-to-moving-average method), normalised to
average 1. Trend: the slope of log deseasonalised counts over the last `TREND_WINDOW_MONTHS`.
Forecast h months ahead: the mean deseasonalised level of the last `LEVEL_MONTHS` months, carried
forward with a damped trend, times the target month's seasonal index.
"""

from __future__ import annotations

import numpy as np

MONTHS_PER_YEAR = 12
TREND_WINDOW_MONTHS = 24
SEASONAL_YEARS = 8  # the profile follows recent years: the mix of crossers has changed
LEVEL_MONTHS = 3
TREND_DAMPING = 0.5  # per month; a surge's slope rarely persists for a quarter


def centred_moving_average(series: np.ndarray) -> np.ndarray:
    """2x12 centred moving average; NaN where the window does not fit."""
    values = np.asarray(series, dtype=np.float64)
    result = np.full(values.shape, np.nan)
    for t in range(6, len(values) - 6):
        window = values[t - 6 : t + 7]
        result[t] = (0.5 * window[0] + window[1:-1].sum() + 0.5 * window[-1]) / MONTHS_PER_YEAR
    return result


def seasonal_indices(series: np.ndarray, fiscal_months: np.ndarray) -> np.ndarray:
    """[12] multiplicative seasonal index by fiscal month (index 0 = October), mean 1."""
    values = np.asarray(series, dtype=np.float64)
    start = max(0, len(values) - SEASONAL_YEARS * MONTHS_PER_YEAR)
    values, months = values[start:], np.asarray(fiscal_months)[start:]
    average = centred_moving_average(values)
    indices = np.ones(MONTHS_PER_YEAR)
    usable = np.isfinite(average) & (average > 0)
    for month in range(1, MONTHS_PER_YEAR + 1):
        ratios = values[usable & (months == month)] / average[usable & (months == month)]
        if ratios.size:
            indices[month - 1] = float(np.median(ratios))
    return indices / indices.mean()


def deseasonalised(
    series: np.ndarray, fiscal_months: np.ndarray, indices: np.ndarray
) -> np.ndarray:
    return np.asarray(series, dtype=np.float64) / indices[np.asarray(fiscal_months) - 1]


def trend_per_month(series: np.ndarray, fiscal_months: np.ndarray, indices: np.ndarray) -> float:
    """Log-linear slope per month of the deseasonalised series over the recent window."""
    adjusted = deseasonalised(series, fiscal_months, indices)[-TREND_WINDOW_MONTHS:]
    positive = adjusted > 0
    if positive.sum() < 3:
        return 0.0
    time = np.arange(adjusted.size, dtype=np.float64)[positive]
    slope, _ = np.polyfit(time, np.log(adjusted[positive]), 1)
    return float(slope)


def forecast(history: np.ndarray, fiscal_months: np.ndarray, horizon: int) -> np.ndarray:
    """[horizon] forecasts of the next months after `history` (fiscal months 1..12 given)."""
    indices = seasonal_indices(history, fiscal_months)
    adjusted = deseasonalised(history, fiscal_months, indices)
    level = float(adjusted[-LEVEL_MONTHS:].mean())
    recent = adjusted[-2 * LEVEL_MONTHS :]
    slope = 0.0
    if recent.size == 2 * LEVEL_MONTHS and recent.min() > 0:
        # Growth between the two latest quarters, per month, from the quarter's centre.
        slope = float(np.log(recent[LEVEL_MONTHS:].mean() / recent[:LEVEL_MONTHS].mean()))
        slope /= LEVEL_MONTHS
    last_month = int(fiscal_months[-1])
    result = np.empty(horizon)
    for step in range(1, horizon + 1):
        # The level is centred (LEVEL_MONTHS - 1) / 2 months back; damp the slope per month.
        distance = step + (LEVEL_MONTHS - 1) / 2
        damped = sum(TREND_DAMPING**k for k in range(1, round(distance) + 1))
        target_month = (last_month + step - 1) % MONTHS_PER_YEAR
        result[step - 1] = level * np.exp(slope * damped) * indices[target_month]
    return result


def seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """[horizon] forecasts: the same month one year earlier."""
    values = np.asarray(history, dtype=np.float64)
    steps = range(1, horizon + 1)
    return np.array([values[len(values) - MONTHS_PER_YEAR + (step - 1) % 12] for step in steps])


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """[horizon] forecasts: the last month observed."""
    return np.full(horizon, float(np.asarray(history, dtype=np.float64)[-1]))
