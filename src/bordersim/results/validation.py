"""Validation against the official data: simulated monthly encounters per sector (DESIGN 4).

Only calendar months that the reported period covers entirely are compared, since the official
counts are monthly totals, and only those the official counts have (a scenario on a forecast runs
up to 12 months past the data). The error is (simulated mean - official) / official; the
tolerance of the border model issue is 5 % per sector and month.

The official counts are handed in (`OfficialMonthly`): this module computes, it does not load.
`bordersim.validation.reference.load_official_monthly` reads them from the calibration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from bordersim.model.dimensions import Sector
from bordersim.results.kpis import format_relative_error
from bordersim.results.schema import RunResult

TOLERANCE = 0.05

OfficialMonthly = Callable[[Sector], Any]  # sector -> monthly official encounters


def _month_start(value: Any) -> dt.date:
    if isinstance(value, pd.Period):
        return dt.date(value.year, value.month, 1)
    stamp = pd.Timestamp(value)
    return dt.date(stamp.year, stamp.month, 1)


def as_monthly_counts(official: Any) -> dict[dt.date, float]:
    """Month start -> count, from a Series indexed by month, a two-column frame or a mapping."""
    if isinstance(official, pd.DataFrame):
        date_column = next(
            (c for c in official.columns if "month" in str(c).lower() or "date" in str(c).lower()),
            official.columns[0],
        )
        value_column = next(c for c in official.columns if c != date_column)
        official = pd.Series(official[value_column].to_numpy(), index=official[date_column])
    items = official.items() if hasattr(official, "items") else dict(official).items()
    return {_month_start(month): float(count) for month, count in items}


def full_months(dates: list[dt.date]) -> list[dt.date]:
    """Month starts of the calendar months entirely inside `dates` (consecutive days)."""
    if not dates:
        return []
    first, last = dates[0], dates[-1]
    months = []
    month = dt.date(first.year, first.month, 1)
    while month <= last:
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if month >= first and following - dt.timedelta(days=1) <= last:
            months.append(month)
        month = following
    return months


def monthly_validation(run: RunResult, official: OfficialMonthly) -> pd.DataFrame:
    """One row per sector and full month the official counts have: simulated mean and its 5th
    and 95th percentiles over replications, official, error %."""
    dates = np.array(run.dates, dtype="datetime64[D]")
    encounters = run.metric("encounters")  # [R, D, S]
    rows = []
    for s, sector in enumerate(run.sectors):
        counts = as_monthly_counts(official(sector))
        for month in full_months(run.dates):
            following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
            in_month = (dates >= np.datetime64(month)) & (dates < np.datetime64(following))
            observed = counts.get(month)
            if observed is None:
                continue  # past the official data: nothing to compare, nothing to flag
            simulated = encounters[:, in_month, s].sum(axis=1)
            error = (simulated.mean() - observed) / observed if observed else float("nan")
            rows.append(
                {
                    "sector": sector.name,
                    "month": month,
                    "simulated": float(simulated.mean()),
                    "simulated_p05": float(np.percentile(simulated, 5)),
                    "simulated_p95": float(np.percentile(simulated, 95)),
                    "official": observed,
                    "error_pct": 100 * error,
                    "flagged": bool(not np.isfinite(error) or abs(error) > TOLERANCE),
                }
            )
    return pd.DataFrame(rows)


def error_texts(table: pd.DataFrame) -> list[str]:
    """Each row's error as printed (`+4.9 %`), never on the other side of the 5 % its flag is
    set by (an error of 5.04 % prints `+5.04 %` beside its flag, not `+5.0 %`)."""
    return [
        format_relative_error(error / 100, TOLERANCE, 1, over=flagged)
        for error, flagged in zip(
            table["error_pct"].tolist(), table["flagged"].tolist(), strict=True
        )
    ]
