"""The custody-time pass of `custody_times` on the host, compiled with Numba.

On a CPU, walking the two cumulative curves of each sector and kind side by side (a merge, O(hours))
is far cheaper than the vectorised searches and scatters that suit a GPU; both give the same
numbers (tests/flow/test_custody_times.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from bordersim.results.schema import CUSTODY_HIST_HOURS, HIST_ALL, HIST_UAC


@njit(cache=True)
def _walk(
    arrived: np.ndarray,
    exited: np.ndarray,
    first_hour: int,
    standard: float,
    uac_standard: float,
    is_uac: bool,
    histogram: np.ndarray,
    hours_total: np.ndarray,
    over: np.ndarray,
    over_uac: np.ndarray,
) -> None:
    n_hours = arrived.shape[0]
    n_days = hours_total.shape[0]
    i = 0  # apprehension hour of the people at the current position
    j = 0  # exit hour
    x = 0.0  # people counted so far
    while j < n_hours and i < n_hours:
        upper = min(arrived[i], exited[j])
        weight = upper - x
        if weight > 0.0:
            x = upper
            if j >= first_hour:
                age = j - i
                earlier = 0.5 * weight if age > 0 else 0.0
                histogram[HIST_ALL, min(age, CUSTODY_HIST_HOURS)] += weight - earlier
                histogram[HIST_ALL, min(max(age - 1, 0), CUSTODY_HIST_HOURS)] += earlier
                if is_uac:
                    histogram[HIST_UAC, min(age, CUSTODY_HIST_HOURS)] += weight - earlier
                    histogram[HIST_UAC, min(max(age - 1, 0), CUSTODY_HIST_HOURS)] += earlier
                day = min((j - first_hour) // 24, n_days - 1)
                hours_total[day] += weight * age
                if age > standard:
                    over[day] += weight
                elif age == standard:
                    over[day] += 0.5 * weight
                if is_uac:
                    if age > uac_standard:
                        over_uac[day] += weight
                    elif age == uac_standard:
                        over_uac[day] += 0.5 * weight
        if arrived[i] <= exited[j]:
            i += 1
        else:
            j += 1


@njit(cache=True, parallel=True)
def custody_times_host(
    arrived: np.ndarray,
    exited: np.ndarray,
    uac_kind: np.ndarray,
    standard: float,
    uac_standard: float,
    first_hour: int,
    n_days: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For curves [R, H, S, K]: histogram [R, S, 2, bins]; hours in custody, exits over the
    standard, children's exits over theirs [R, days, S]."""
    n_rep, _, n_sec, n_kind = arrived.shape
    histogram = np.zeros((n_rep, n_sec, 2, CUSTODY_HIST_HOURS + 1))
    hours_total = np.zeros((n_rep, n_sec, n_days))
    over = np.zeros((n_rep, n_sec, n_days))
    over_uac = np.zeros((n_rep, n_sec, n_days))
    for r in prange(n_rep):
        for s in range(n_sec):
            for k in range(n_kind):
                _walk(
                    arrived[r, :, s, k].astype(np.float64),
                    exited[r, :, s, k].astype(np.float64),
                    first_hour,
                    standard,
                    uac_standard,
                    uac_kind[k] > 0,
                    histogram[r, s],
                    hours_total[r, s],
                    over[r, s],
                    over_uac[r, s],
                )
    return (
        histogram,
        hours_total.transpose(0, 2, 1).copy(),
        over.transpose(0, 2, 1).copy(),
        over_uac.transpose(0, 2, 1).copy(),
    )
