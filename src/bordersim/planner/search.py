"""Stages 2 and 3: simulation-based correction of the fluid plan, then local search.

Stage 2 (correction, in the spirit of the iterative staffing algorithm of Feldman, Mandelbaum,
Massey and Whitt, 2008): simulate the fluid plan on the flow engine with fixed random numbers (a
sample-average approximation); where a sector-week misses its target, raise the fluid program's
intake requirement there and in the week before (work carried over), re-solve, repeat. The fluid
program keeps the plan cheap and within caps and lead times; the simulation supplies what the
fluid model misses (variability, priorities, custody watch that grows with crowding).

Stage 3 (local search): shrink the plan where the sample shows slack. Constraints in one sector
depend on the other sectors only through the national ICE and HHS lines, so one simulation tests a
reduction in every sector at once: alternate windows are cut by a fraction, a sector's cut is kept
when its weeks in that window and the next still meet every target, the kept cuts are verified
together, and the fraction halves when nothing is kept.

The plan file's budget limits the fluid program. Where no plan within it that the search simulated
meets every target on the sample, stages 2 and 3 run again from the fluid plan without the budget,
as for a plan file without one, and the outcome says so (`SearchOutcome.within_budget`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bordersim.planner.evaluate import Progress, Simulator
from bordersim.planner.fluid import FluidSolution, Workload, solve, workload
from bordersim.planner.output import millions
from bordersim.planner.problem import Problem
from bordersim.planner.targets import Evaluation
from bordersim.words import counted


def saa_alpha(alpha: float) -> float:
    """Risk allowed in the sample: a quarter of the target's, so that a plan accepted on a few
    dozen replications still passes certification on hundreds (docs/planner.md)."""
    return alpha / 4.0


def feasible(ev: Evaluation, required: np.ndarray, alpha: float) -> np.ndarray:
    """[N, S, W] bool: the constraint is not required, or it holds in the sample with probability
    at least 1 - saa_alpha(alpha) *and* the normal quantile of its value at that probability
    (mean -/+ z sd over replications) meets the target. A few dozen replications cannot show a
    probability of 99 % by counting alone; the quantile margin keeps plans whose value sits just
    at the target in every replication of the sample from passing (docs/planner.md)."""
    from scipy.stats import norm

    risk = saa_alpha(alpha)
    counted = ev.probability >= 1.0 - risk - 1e-12
    z = float(norm.ppf(1.0 - risk))
    mean = ev.values.mean(axis=0)
    spread = ev.values.std(axis=0, ddof=1) if ev.n_replications > 1 else np.zeros_like(mean)
    level = ev.level[:, None, None]
    at_most = ev.at_most[:, None, None]
    quantile = np.where(
        at_most, mean + z * spread <= level + 1e-12, mean - z * spread >= level - 1e-12
    )
    return np.asarray(~required | (counted & quantile))


def caps_by_load(problem: Problem) -> np.ndarray:
    """Every pool at its cap in every window it may serve, spread over sectors by load."""
    m = problem.mean_demand_model
    load = m.first_attempts_per_day[m.warmup_days :].sum(axis=(0, 2))
    share = load / max(load.sum(), 1e-12)
    caps = problem.upper_bounds()
    x = np.zeros(problem.shape)
    for k, pool in enumerate(problem.spec.pools):
        step = pool.step
        spread = np.floor(pool.max_headcount * share / step) * step
        x[k] = np.minimum(spread[:, None], caps[k])
    return x


def within_border_caps(problem: Problem, x: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """`x`, with each pool and window whose people in all sectors exceed the pool's border-wide
    cap (`max_headcount`) taken from `fallback` (a plan within the caps) instead."""
    out = x.copy()
    for k, pool in enumerate(problem.spec.pools):
        over = out[k].sum(axis=0) > pool.max_headcount + 1e-9
        out[k][:, over] = fallback[k][:, over]
    return out


def round_down(x: np.ndarray, problem: Problem) -> np.ndarray:
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)[:, None, None]
    return np.floor(x / steps + 1e-9) * steps


def shrink(x: np.ndarray, fraction: float, problem: Problem) -> np.ndarray:
    """`x` less `fraction` of itself, rounded to the pools' steps, and at least one step less
    wherever it is above zero (so the search ends at a local optimum at step granularity)."""
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)[:, None, None]
    cut = np.maximum(round_down(x * fraction, problem), np.where(x > 0, steps, 0.0))
    return np.maximum(x - cut, 0.0)


@dataclass
class SearchOutcome:
    x: np.ndarray
    evaluation: Evaluation
    required: np.ndarray  # [N, S, W] constraints the plan must meet (attainable ones)
    unattainable: np.ndarray  # [N, S, W] required targets missed even at the caps
    caps_evaluation: Evaluation
    fluid: FluidSolution
    lower_bound: float
    lower_bound_valid: bool
    correction: np.ndarray
    work: Workload
    history: list[dict[str, object]] = field(default_factory=list)
    # the plan file's budget: whether the search's plan is within it (None: no budget); a plan
    # over it met every target on the sample only without the budget (or met none at all)
    within_budget: bool | None = None
    # [N, S, W] targets the search found within reach that are out of reach on the certifying
    # engine (set by the certification stage, `planner/run.py`); empty until then
    unreachable_certifying: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))

    def __post_init__(self) -> None:
        if self.unreachable_certifying.shape != self.required.shape:
            self.unreachable_certifying = np.zeros_like(self.required, dtype=np.bool_)

    @property
    def feasible(self) -> bool:
        return bool(np.all(~self.required | (self.evaluation.probability >= 0)))


def _week_windows(problem: Problem) -> np.ndarray:
    """[weeks] window index of each target week's last day."""
    m = problem.base
    out = np.zeros(len(problem.weeks), dtype=np.int64)
    for j, (_, end) in enumerate(problem.weeks):
        day = m.warmup_days + end - 1
        out[j] = next(w for w, (a, b) in enumerate(problem.windows) if a <= day < b)
    return out


def correct(
    problem: Problem,
    sim: Simulator,
    work: Workload,
    required: np.ndarray,
    q: float,
    correction: np.ndarray,
    x: np.ndarray,
    history: list[dict[str, object]],
    progress: Progress,
    max_rounds: int,
    within_budget: bool = True,
) -> tuple[np.ndarray, Evaluation, np.ndarray]:
    alpha = sim.targets.alpha
    ev = sim.evaluation(x)
    for round_ in range(max_rounds):
        ok = np.asarray(feasible(ev, required, alpha))
        missing = np.asarray(~ok.all(axis=0))  # [S, W]
        history.append(
            {
                "stage": "correction",
                "round": round_,
                "cost": problem.cost(x),
                "missed": int((~ok).sum()),
            }
        )
        progress(
            f"correction {round_}: cost {millions(problem.cost(x))}, "
            f"{counted(int((~ok).sum()), 'sector-week')} missed"
        )
        if not missing.any():
            break
        # the shortfall in share sets the step: 1 point short raises the requirement by 5 %
        short = np.where(~ok, np.maximum(q - ev.values.mean(axis=0), 0.0), 0.0).max(axis=0)
        bump = 1.0 + np.clip(0.05 + 5.0 * short, 0.05, 0.5)
        raise_ = np.where(missing, bump, 1.0)
        raise_[:, :-1] = np.maximum(raise_[:, :-1], np.where(missing[:, 1:], bump[:, 1:], 1.0))
        candidate = x
        for _ in range(12):  # raise until the program adds staff (it may have slack at first)
            correction = correction * raise_
            solved = solve(problem, work, q=q, correction=correction, within_budget=within_budget).x
            candidate = within_border_caps(problem, np.maximum(solved, x), solved)
            if not np.array_equal(candidate, x) or correction.max() > 50:
                break
        if np.array_equal(candidate, x):
            break  # at the caps: nothing more the pools can do for the missed weeks
        x = candidate
        ev = sim.evaluation(x)
    return x, ev, correction


def local_search(
    problem: Problem,
    sim: Simulator,
    required: np.ndarray,
    x: np.ndarray,
    history: list[dict[str, object]],
    progress: Progress,
    max_rounds: int,
) -> tuple[np.ndarray, Evaluation]:
    alpha = sim.targets.alpha
    week_window = _week_windows(problem)
    ev = sim.evaluation(x)
    if not feasible(ev, required, alpha).all():
        return x, ev
    fraction = 0.2
    rounds = 0
    _K, S, W = problem.shape
    while rounds < max_rounds and fraction >= 0.01:
        kept = np.zeros((S, W), dtype=np.bool_)
        for parity in (0, 1):
            cut = np.arange(W) % 2 == parity
            if not (x[:, :, cut] > 0).any():
                continue
            trial = x.copy()
            trial[:, :, cut] = shrink(x, fraction, problem)[:, :, cut]
            trial_ev = sim.evaluation(trial)
            ok = np.asarray(feasible(trial_ev, required, alpha).all(axis=0))  # [S, weeks]
            for w in np.flatnonzero(cut):
                weeks = (week_window == w) | (week_window == w + 1)
                kept[:, w] |= ok[:, weeks].all(axis=1) & (x[:, :, w] > trial[:, :, w]).any(axis=0)
            rounds += 1
        if not kept.any():
            fraction /= 2
            continue
        trial = x.copy()
        cells = np.broadcast_to(kept[None], x.shape)
        trial[cells] = shrink(x, fraction, problem)[cells]
        trial_ev = sim.evaluation(trial)
        ok = np.asarray(feasible(trial_ev, required, alpha).all(axis=(0, 2)))  # [S]
        if not ok.all():
            trial[:, ~ok, :] = x[:, ~ok, :]  # undo the cuts of sectors that broke together
            # every cut undone: nothing is kept (the same sample would undo it again next round)
            if np.array_equal(trial, x):
                fraction /= 2
                continue
            trial_ev = sim.evaluation(trial)
            if not feasible(trial_ev, required, alpha).all():
                fraction /= 2
                continue
        x, ev = trial, trial_ev
        history.append(
            {
                "stage": "local search",
                "round": rounds,
                "cost": problem.cost(x),
                "fraction": fraction,
            }
        )
        progress(f"local search: cost {millions(problem.cost(x))} (cut {100 * fraction:.0f} %)")
    return x, ev


def optimise(
    problem: Problem,
    sim: Simulator,
    *,
    q: float,
    progress: Progress,
    local: bool = True,
) -> SearchOutcome:
    """Stages 1-3 for the 72-hour share `q` (other targets as in the problem's spec)."""
    alpha = sim.targets.alpha
    history: list[dict[str, object]] = []
    caps = caps_by_load(problem)
    caps_ev, caps_run = sim.run(caps)
    active = caps_ev.active[:, None, None] & np.ones(caps_ev.probability.shape, dtype=np.bool_)
    # within reach: met with every pool at its cap, or with none (more staff can make a target
    # harder: faster processing sends people sooner to the national ICE and HHS lines)
    attainable = feasible(caps_ev, active, alpha) | feasible(
        sim.evaluation(np.zeros(problem.shape)), active, alpha
    )
    required = active & attainable
    unattainable = active & ~attainable
    progress(f"at the caps: {counted(int(unattainable.sum()), 'sector-week target')} out of reach")
    encounters = caps_run.metric("encounters").mean(axis=0)
    work = workload(
        problem,
        encounters,
        caps_run.metric("occupancy_mean").mean(axis=0),
        caps_run.metric("processing_backlog").mean(axis=0),
    )
    # the bound relaxes only the attainable targets: unattainable weeks need nothing
    reachable = (~unattainable[:2].any(axis=0)).astype(float)
    fluid = solve(problem, work, q=q, correction=reachable)
    # the bound: the same program with only what every plan must do (custody watch for the
    # shortest stays, no people added by its backlog), a relaxation of the fluid model
    zero = np.zeros_like(encounters)
    relaxed = solve(
        problem,
        workload(problem, encounters, zero, zero),
        q=q,
        correction=reachable,
        backlog_watch=False,
        within_budget=False,  # a budget never lowers what meeting the targets costs
    )
    progress(
        f"fluid program: cost {millions(fluid.cost)}; relaxed lower bound "
        f"{millions(relaxed.lower_bound)}"
    )
    stages = _Stages(problem, sim, work, required, q, history, progress, local)
    x, ev, correction = stages.from_fluid(fluid.x, within_budget=True)
    within = _within_budget(problem, sim, required, x, ev)
    if within is False:
        # the budget held the correction back (the budget-limited program adds no staff), and
        # the local search cuts only a plan that meets the targets: plan as without the budget
        history.append({"stage": "budget", "cost": problem.cost(x)})
        progress(
            "no plan within the budget met every target on the sample: planning without the "
            "budget, as if the plan file had none"
        )
        fluid = solve(problem, work, q=q, correction=reachable, within_budget=False)
        x, ev, correction = stages.from_fluid(fluid.x, within_budget=False)
        within = _within_budget(problem, sim, required, x, ev)  # its cuts may reach the budget
    return SearchOutcome(
        x=x,
        evaluation=ev,
        required=required,
        unattainable=unattainable,
        caps_evaluation=caps_ev,
        fluid=fluid,
        lower_bound=relaxed.lower_bound,
        lower_bound_valid=bool(relaxed.shortfall.sum() < 1e-6),
        correction=correction,
        work=work,
        history=history,
        within_budget=within,
    )


@dataclass
class _Stages:
    """Stages 2 and 3 and the incumbent, from a fluid plan, for one search."""

    problem: Problem
    sim: Simulator
    work: Workload
    required: np.ndarray
    q: float
    history: list[dict[str, object]]
    progress: Progress
    local: bool

    def from_fluid(
        self, start: np.ndarray, *, within_budget: bool
    ) -> tuple[np.ndarray, Evaluation, np.ndarray]:
        """The cheapest plan simulated that meets every required target (else the corrected
        plan), its evaluation, and the correction of the fluid program's requirement."""
        problem, sim = self.problem, self.sim
        S, n_weeks = problem.base.n_sectors, len(problem.weeks)
        correction = np.ones((S, n_weeks))  # unattainable weeks still get the fluid's effort
        x, ev, correction = correct(
            problem,
            sim,
            self.work,
            self.required,
            self.q,
            correction,
            start.copy(),
            self.history,
            self.progress,
            sim_rounds(sim),
            within_budget=within_budget,
        )
        if self.local:
            x, ev = local_search(
                problem,
                sim,
                self.required,
                x,
                self.history,
                self.progress,
                problem.spec.search.max_local_rounds,
            )
        x, ev = incumbent(problem, sim, self.required, x, ev, self.history, self.progress)
        return x, ev, correction


def _within_budget(
    problem: Problem, sim: Simulator, required: np.ndarray, x: np.ndarray, ev: Evaluation
) -> bool | None:
    """Whether `x` (the incumbent: the cheapest plan simulated that meets every target, where
    one does) meets every target on the sample within the plan file's budget; None without one."""
    budget = problem.spec.budget_dollars
    if budget is None:
        return None
    met = bool(feasible(ev, required, sim.targets.alpha).all())
    return met and problem.cost(x) <= budget + 1e-6


def incumbent(
    problem: Problem,
    sim: Simulator,
    required: np.ndarray,
    x: np.ndarray,
    ev: Evaluation,
    history: list[dict[str, object]],
    progress: Progress,
) -> tuple[np.ndarray, Evaluation]:
    """The cheapest plan the search simulated that meets every required target on the sample:
    every candidate counts, the plan with no staff and partial cuts of the local search included
    (the correction and the local search move only up, then only down, from the fluid plan)."""
    alpha = sim.targets.alpha
    best, best_ev = x, ev
    best_ok = bool(feasible(ev, required, alpha).all())
    for key, (candidate_ev, _) in sim.cache.items():
        if not feasible(candidate_ev, required, alpha).all():
            continue
        candidate = np.frombuffer(key, dtype=np.float64).reshape(problem.shape)
        if not best_ok or problem.cost(candidate) < problem.cost(best) - 1e-6:
            best, best_ev, best_ok = candidate.copy(), candidate_ev, True
    if best is not x:
        history.append({"stage": "incumbent", "cost": problem.cost(best)})
        progress(f"cheapest plan simulated that meets every target: {millions(problem.cost(best))}")
    return best, best_ev


def sim_rounds(sim: Simulator) -> int:
    return sim.problem.spec.search.max_corrections
