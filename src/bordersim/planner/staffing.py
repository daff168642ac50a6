"""Classic staffing rules as planners, to compare with the four stages (docs/planner.md).

- **Square-root staffing** (stationary): in each sector and window, the offered load R (people
  busy on intake and determination on average, from the window's mean work) gets N = R + beta
  sqrt(R) people on those tasks;
- **Modified offered load** (MOL) with square-root staffing: the same rule applied to each day's
  offered load, the window's headcount being the largest day's (a headcount is constant over a
  window). Intake takes hours and a day is the model's step, so the MOL's lag (the offered load at
  time t is the arrival rate over the preceding service time) is below a day and MOL reduces to
  the day's load (Feldman, Mandelbaum, Massey & Whitt, 2008, where service is short against the
  arrival rate's changes).

`beta` comes from the Halfin-Whitt formula for the probability of waiting, P(wait) = 1 / (1 +
beta Phi(beta) / phi(beta)), set to 1 - q. The planned staff is what the rule asks for beyond the
base scenario's own processing capacity (agents up to `max_processing_fraction` of their hours,
other crews that may take intake), given in the cheapest planned pool that may do intake in that
window; watch posts for the people held are a fixed need, met first by the base crews' other
hours. beta may be negative (staffing below the offered load, the backlog waiting up to 72
hours). The rules know nothing of the 72-hour standard, custody, transport or the national lines;
they are what a staffing table would say.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from bordersim.model.dimensions import Pool, Task
from bordersim.planner.fluid import Workload
from bordersim.planner.problem import Problem
from bordersim.planner.search import round_down


def halfin_whitt_beta(delay_probability: float) -> float:
    """The beta of square-root staffing whose Halfin-Whitt probability of waiting is the given
    one (0 < p < 1)."""
    if not 0.0 < delay_probability < 1.0:
        raise ValueError(f"delay probability {delay_probability} must be in (0, 1)")

    def excess(beta: float) -> float:
        return 1.0 / (1.0 + beta * norm.cdf(beta) / norm.pdf(beta)) - delay_probability

    return float(brentq(excess, 1e-9, 10.0))


def _base_capacity(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """[R, S] hours a day that the base scenario's crews can give to processing (agents up to the
    dispatch rule's processing share; other crews that may do intake, at their productivity) and
    to custody watch (agents' hours beyond processing and the field's minimum; other crews that
    may watch but not take intake)."""
    m = problem.base
    days = slice(m.warmup_days, m.n_days)
    shape = (m.n_days - m.warmup_days, m.n_sectors)
    processing, watch = np.zeros(shape), np.zeros(shape)
    planned = set(problem.planned_crews)
    for c in range(m.n_crews):
        if c in planned:
            continue
        pool = int(m.crew_pool[c])
        hours = m.crew_headcount[days, :, c] * m.on_duty_fraction[pool] * 24.0
        if pool == Pool.AGENT:
            processing += hours * m.max_processing_fraction
            watch += hours * max(1.0 - m.min_field_fraction - m.max_processing_fraction, 0.0)
        elif m.crew_tasks[c, Task.INTAKE]:
            processing += hours * m.productivity[pool, Task.INTAKE]
        elif m.crew_tasks[c, Task.CUSTODY_WATCH]:
            watch += hours
    return processing, watch


def _cheapest_intake_pool(problem: Problem, window: int) -> int | None:
    """The planned pool that may do intake in the window and costs least per intake-hour."""
    m = problem.base
    best, best_price = None, np.inf
    for k, plan in enumerate(problem.spec.pools):
        if Task.INTAKE not in plan.tasks or not problem.available[k, window]:
            continue
        pool = int(plan.pool)
        hours = m.on_duty_fraction[pool] * 24.0 * m.productivity[pool, Task.INTAKE]
        price = m.cost_per_person_day[pool] / max(hours, 1e-9)
        if price < best_price:
            best, best_price = k, price
    return best


def square_root_plan(
    problem: Problem, work: Workload, beta: float, *, time_varying: bool
) -> np.ndarray:
    """[K, S, W] headcount by square-root staffing (stationary per window, or MOL per day with
    the window's largest day), within the caps and steps."""
    m = problem.base
    offered = (work.intake + work.determination) / 24.0  # [R, S] people busy on average
    processing, watch = _base_capacity(problem)
    # watch posts are a fixed need: what the base crews cannot watch comes out of processing
    extra_watch = np.maximum(work.watch_posts - watch, 0.0)
    needed = 24.0 * np.maximum(offered + beta * np.sqrt(offered), 0.0) + extra_watch
    short = np.maximum(needed - processing, 0.0)
    caps = problem.upper_bounds()
    x = np.zeros(problem.shape)
    for w, (first, end) in enumerate(problem.windows):
        k = _cheapest_intake_pool(problem, w)
        if k is None:
            continue
        days = slice(first - m.warmup_days, end - m.warmup_days)
        window_short = short[days].max(axis=0) if time_varying else short[days].mean(axis=0)
        pool = int(problem.spec.pools[k].pool)
        per_person = m.on_duty_fraction[pool] * 24.0 * m.productivity[pool, Task.INTAKE]
        x[k, :, w] = np.minimum(np.ceil(window_short / per_person), caps[k, :, w])
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)[:, None, None]
    x = np.minimum(np.ceil(x / steps) * steps, caps)
    for k, plan in enumerate(problem.spec.pools):  # the border-wide cap, pro rata
        total = x[k].sum(axis=0)
        scale = np.where(total > plan.max_headcount, plan.max_headcount / np.maximum(total, 1), 1)
        x[k] = round_down((x[k] * scale)[None], problem)[0]
    return x
