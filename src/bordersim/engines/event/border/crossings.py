"""Crossings (docs/model.md step 3): the day's first attempts, the hour's groups and re-attempts.

Everything about first attempts is drawn from the crossings stream (`demand`), so two scenario
variants run with one seed see the same people arrive; re-attempts depend on departures and draw
from the operations stream (`ops`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from bordersim.engines.event.border.layout import (
    F_KNOWN_BEFORE,
    K_ATTEMPTS,
    K_FIRST,
    K_REPEAT,
)
from bordersim.engines.event.border.queues import NIL
from bordersim.engines.event.border.sampling import negative_binomial, poisson
from bordersim.engines.event.border.state import Clock, Field, Lines, Metrics, Model, Rows
from bordersim.engines.event.core.rng import uniform

SURRENDERS, DETECTED, UNSEEN = 0, 1, 2  # what a crossing group does


class Arrivals(NamedTuple):
    """The hour's crossing groups (first-attempt groups and single re-attempts)."""

    key: np.ndarray  # sector + 0.999 * (arrival - hour): sorts by sector, then time
    leader: np.ndarray  # the group's first row
    kind: np.ndarray  # SURRENDERS, DETECTED or UNSEEN
    order: np.ndarray  # indices of the groups in `key` order


@njit(cache=True, inline="always")
def crossing_kind(stream: np.ndarray, surrender: float, p_detect: float) -> int:
    """Whether a crossing group surrenders, evades and is detected, or evades unseen.

    Both uniforms are always drawn, so that scenario variants sharing a seed see the same
    crossings and a higher detection probability detects a superset of the groups.
    """
    u_surrender = uniform(stream)
    u_detect = uniform(stream)
    if u_surrender < surrender:
        return SURRENDERS
    return DETECTED if u_detect < p_detect else UNSEEN


@njit(cache=True, inline="always")
def draw_day(day: int, m: Model, demand: np.ndarray, field: Field) -> None:
    """The day's first attempts per sector and group, each person placed in an hour."""
    first_by_hour = field.first_by_hour
    first_by_hour[:] = 0
    _, n_sec, n_grp = first_by_hour.shape
    for s in range(n_sec):
        for g in range(n_grp):
            n = negative_binomial(demand, m.first_attempts_per_day[day, s, g], m.demand_dispersion)
            for _ in range(n):
                u = uniform(demand)
                k = 0
                while k < 23 and u >= m.diurnal_cdf[k]:
                    k += 1
                first_by_hour[k, s, g] += 1


@njit(cache=True, inline="always")
def rows_needed(clock: Clock, lines: Lines, field: Field) -> int:
    """Rows the hour's crossings will take."""
    return lines.reattempt_count[clock.hour] + field.first_by_hour[clock.hour_of_day].sum()


@njit(cache=True, inline="always")
def _first_attempt_row(
    g: int, s: int, t: float, clock: Clock, m: Model, demand: np.ndarray, rows: Rows
) -> int:
    """A new person's first attempt, arriving at `t`."""
    i = rows.n_rows[0]
    rows.n_rows[0] += 1
    rows.person[i] = rows.n_persons[0]
    rows.n_persons[0] += 1
    rows.grp[i] = g
    rows.sec[i] = s
    rows.attempt[i] = 1
    rows.t_arr[i] = t
    rows.pathway_u[i] = uniform(demand)
    # Warm-up arrivals may have been encountered before the run (reporting only).
    if uniform(demand) < m.initial_repeat_share and clock.day < m.warmup_days:
        rows.flags[i] = F_KNOWN_BEFORE
    return i


@njit(cache=True, inline="always")
def _first_attempts(
    clock: Clock,
    m: Model,
    demand: np.ndarray,
    rows: Rows,
    field: Field,
    arrivals: Arrivals,
    out: Metrics,
) -> int:
    """The hour's first attempts, in crossing groups of 1 + Poisson(mean - 1) (the last group
    of an hour takes what is left), each at a uniform time in the hour; the groups made."""
    h = clock.hour
    n_groups = 0
    _, n_sec, n_grp = field.first_by_hour.shape
    for s in range(n_sec):
        for g in range(n_grp):
            n = field.first_by_hour[clock.hour_of_day, s, g]
            if n == 0:
                continue
            out.daily[clock.day, s, out.col[K_ATTEMPTS]] += n
            out.daily[clock.day, s, out.col[K_FIRST]] += n
            while n > 0:
                size = 1
                if m.batch_size_mean[g] > 1.0:
                    size = 1 + poisson(demand, m.batch_size_mean[g] - 1.0)
                size = min(size, n)
                n -= size
                t = h + uniform(demand)
                leader = rows.n_rows[0]
                for _ in range(size):
                    _first_attempt_row(g, s, t, clock, m, demand, rows)
                rows.group_size[leader] = size
                arrivals.key[n_groups] = s + 0.999 * (t - h)
                arrivals.leader[n_groups] = leader
                arrivals.kind[n_groups] = crossing_kind(
                    demand, m.surrender_fraction[g], field.p_detect[s]
                )
                n_groups += 1
    return n_groups


@njit(cache=True, inline="always")
def _reattempts(
    n_groups: int,
    clock: Clock,
    m: Model,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    field: Field,
    arrivals: Arrivals,
    out: Metrics,
) -> int:
    """The hour's re-attempts: a new row of the same person each, arriving alone."""
    h = clock.hour
    old = lines.reattempt_head[h]
    while old != NIL:
        following = rows.nxt[old]
        i = rows.n_rows[0]
        rows.n_rows[0] += 1
        s = rows.sec[old]
        rows.person[i] = rows.person[old]
        rows.grp[i] = rows.grp[old]
        rows.sec[i] = s
        rows.attempt[i] = rows.attempt[old] + 1
        rows.t_arr[i] = rows.reattempt_at[old]
        out.daily[clock.day, s, out.col[K_ATTEMPTS]] += 1
        out.daily[clock.day, s, out.col[K_REPEAT]] += 1
        arrivals.key[n_groups] = s + 0.999 * (rows.t_arr[i] - h)
        arrivals.leader[n_groups] = i
        arrivals.kind[n_groups] = crossing_kind(
            ops, m.surrender_fraction[rows.grp[i]], field.p_detect[s]
        )
        rows.pathway_u[i] = uniform(ops)
        n_groups += 1
        old = following
    return n_groups


@njit(cache=True, inline="always")
def cross(
    n_new: int,
    clock: Clock,
    m: Model,
    demand: np.ndarray,
    ops: np.ndarray,
    rows: Rows,
    lines: Lines,
    field: Field,
    out: Metrics,
) -> Arrivals:
    """The hour's crossing groups as rows (room for `n_new` rows is checked by the caller),
    with what each group does, in arrival order per sector."""
    arrivals = Arrivals(
        np.empty(n_new), np.empty(n_new, np.int64), np.empty(n_new, np.int8), np.empty(0, np.int64)
    )
    n_groups = _first_attempts(clock, m, demand, rows, field, arrivals, out)
    n_groups = _reattempts(n_groups, clock, m, ops, rows, lines, field, arrivals, out)
    order = np.argsort(arrivals.key[:n_groups])
    return Arrivals(arrivals.key, arrivals.leader, arrivals.kind, order)
