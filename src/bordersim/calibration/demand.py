"""From monthly encounters to first attempts, and from monthly totals to daily rates.

Encounters are events and include repeats. With a repeat share s of encounters and an apprehension
probability a (the share of attempts that end in an encounter), a month's first attempts are

    first attempts = encounters x (1 - s) / a

per sector and group (the group mix is border-wide). Daily rates spread each month's total over
its days along a line through the neighbouring months' mean daily rates (so that a rising month
rises within itself), then are rescaled so that every month sums exactly to its total.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from bordersim.ingest.fiscal import days_in_month


def implied_first_attempts(
    sector_encounters: np.ndarray,
    group_mix: np.ndarray,
    repeat_share: np.ndarray,
    apprehension_probability: float,
) -> np.ndarray:
    """[M, S, G] first attempts implied by [M, S] encounters, [M, G] mix and [M, G] repeat share."""
    first_encounters = group_mix * (1.0 - repeat_share)  # [M, G]
    return (
        np.asarray(sector_encounters, dtype=np.float64)[:, :, None]
        * first_encounters[:, None, :]
        / apprehension_probability
    )


def month_lengths(months: tuple[date, ...] | list[date]) -> np.ndarray:
    return np.array([days_in_month(month) for month in months], dtype=np.int64)


def smooth_daily(monthly_totals: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """[D, ...] daily values from [M, ...] monthly totals of consecutive months, mass-preserving."""
    totals = np.asarray(monthly_totals, dtype=np.float64)
    flat = totals.reshape(totals.shape[0], -1)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    middles = starts + lengths / 2.0
    days = int(lengths.sum())
    centres = np.arange(days, dtype=np.float64) + 0.5
    month_of_day = np.repeat(np.arange(len(lengths)), lengths)
    rates = flat / lengths[:, None]
    daily = np.empty((days, flat.shape[1]))
    for column in range(flat.shape[1]):
        daily[:, column] = np.interp(centres, middles, rates[:, column])
    sums = np.zeros_like(flat)
    np.add.at(sums, month_of_day, daily)
    scale = np.divide(flat, sums, out=np.zeros_like(flat), where=sums > 0)
    daily *= scale[month_of_day]
    return daily.reshape((days, *totals.shape[1:]))
