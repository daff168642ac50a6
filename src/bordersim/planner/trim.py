"""The trim: cheaper variants of a certified plan, certified on fresh replications.

A certificate needs each target to hold in nearly every replication (99 of 100 at the defaults),
and the repair adds a quarter of a sector-window's staff at a time, so a certified plan may sit
well above the cheapest plan that would also certify (docs/planner.md, "The trim"). The trim
looks for one in two steps, on the certifying engine:

1. *Screen* (exploration, one sample of `n` replications with its own seed, common random
   numbers across candidates): bisection on a factor in [0.5, 1) applied to the whole plan (the
   plan's shape scaled down), then, from the best plan so far, bisection on such a factor for
   each staffed cell in turn (the largest spend first). A candidate passes the screen when every
   required target would certify on the screen sample.
2. *Confirm* (the test): the screen's best scaled plan, then its best plan overall (when
   cheaper), each certified on CONFIRM_FACTOR times `n` fresh replications of its own (another
   seed), in that order, stopping at the first that does not certify. The cheapest certified
   plan is kept; if none certifies the plan stays as it was. More replications need less margin:
   on 100 a target must hold in 99 of them (a plan needs a probability of about 99 % to pass
   three times in four), on 400 in 389 (about 98 %).

Why the certificate stays valid: the plan certified before the trim and the confirmed candidates
form a fixed sequence of tests, each on replications that nothing before it saw; a claim on the
plan reported is false only if the first plan of the sequence for which the claim is false was
certified anyway, which happens with probability at most 1 - confidence (fixed-sequence testing:
no Bonferroni correction is needed because the sequence stops at its first failure). The screen
chooses the candidates but its replications never enter a certificate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bordersim.planner.certify import Certificate, clopper_pearson_lower
from bordersim.planner.output import millions
from bordersim.planner.problem import Problem
from bordersim.planner.search import round_down
from bordersim.planner.targets import Evaluation

#: Bisection screens on the whole plan's factor, and on each cell.
SCALE_SCREENS = 3
CELL_SCREENS = 3
#: The screen's factor range: the plan (or a cell) times a factor in [SMALLEST_SCALE, 1).
SMALLEST_SCALE = 0.5
#: A confirmation runs this many times the certification's replications.
CONFIRM_FACTOR = 4


@dataclass
class TrimOutcome:
    x: np.ndarray
    certificate: Certificate | None  # of the plan kept, when a candidate was confirmed
    evaluation: Evaluation | None
    replications: int  # screen and confirmation replications run
    history: list[dict[str, object]] = field(default_factory=list)


def passes_screen(ev: Evaluation, required: np.ndarray, alpha: float, confidence: float) -> bool:
    """Every required target would certify on the screen sample."""
    held = ev.successes()[required]
    return bool((clopper_pearson_lower(held, ev.n_replications, confidence) >= 1 - alpha).all())


def trim(
    problem: Problem,
    x: np.ndarray,
    required: np.ndarray,
    screen: Callable[[np.ndarray], Evaluation],
    confirm: Callable[[np.ndarray, int], tuple[Certificate, Evaluation]],
    *,
    screen_until: float,
    confirm_until: float,
    progress: Callable[[str], None],
) -> TrimOutcome:
    """Trim certified plan `x`. `screen(plan)` evaluates a plan on the screen sample;
    `confirm(plan, i)` certifies it on the i-th fresh sample (of CONFIRM_FACTOR times the
    screen's replications). No screen starts after
    `screen_until` and no confirmation after `confirm_until` (`time.perf_counter()`)."""
    log = _TrimLog()
    screener = _Screener(problem, required, screen, screen_until, progress, log)
    scaled = _screen_scaled(problem, x, screener)
    best = _screen_cells(problem, scaled if scaled is not None else x, screener)
    chain = _confirmation_chain(x, scaled, best)
    kept, certificate, evaluation = _confirm_in_sequence(
        problem, x, chain, confirm, confirm_until, log
    )
    return TrimOutcome(kept, certificate, evaluation, log.runs, log.history)


@dataclass
class _TrimLog:
    """The screens and confirmations the trim ran, in order, and their replications."""

    history: list[dict[str, object]] = field(default_factory=list)
    runs: int = 0


@dataclass
class _Screener:
    """Screens candidates until `until`, logging each screen and reporting it to `progress`."""

    problem: Problem
    required: np.ndarray
    screen: Callable[[np.ndarray], Evaluation]
    until: float
    progress: Callable[[str], None]
    log: _TrimLog

    def passes(self, plan: np.ndarray, step: str) -> bool | None:
        """Whether `plan` passes the screen; None when no screen may start any more."""
        if time.perf_counter() > self.until:
            return None
        problem, required = self.problem, self.required
        targets = problem.spec.targets
        ev = self.screen(plan)
        self.log.runs += ev.n_replications
        ok = passes_screen(ev, required, targets.alpha, targets.confidence)
        self.log.history.append(_screen_record(problem, plan, step, ev, required, ok))
        self.progress(
            f"trim screen ({step}): {millions(problem.cost(plan))} {'passes' if ok else 'fails'}"
        )
        return ok


def _screen_scaled(problem: Problem, x: np.ndarray, screener: _Screener) -> np.ndarray | None:
    """Plan `x` times the smallest factor in [SMALLEST_SCALE, 1) found to pass the screen (the
    plan's shape scaled down), or None."""
    return _bisect(
        lambda f: round_down(x * f, problem),
        SMALLEST_SCALE,
        1.0,
        SCALE_SCREENS,
        lambda plan: screener.passes(plan, "scale"),
    )


def _screen_cells(problem: Problem, start: np.ndarray, screener: _Screener) -> np.ndarray:
    """From plan `start`, each staffed cell in turn (the largest spend first) cut down to the
    smallest factor found to pass the screen with the cells before it as they ended up."""
    best = start
    for cell in _cells_by_spend(problem, start):
        found = _screen_cell(problem, best, cell, screener)
        if found is not None:
            best = found
    return best


def _cells_by_spend(problem: Problem, x: np.ndarray) -> list[tuple[int, int, int]]:
    """The staffed cells (k, s, w) of plan `x`, the largest spend first."""
    cells = [(int(k), int(s), int(w)) for k, s, w in np.argwhere(x > 0)]
    cells.sort(key=lambda c: -_cell_spend(problem, x, c))
    return cells


def _screen_cell(
    problem: Problem, now: np.ndarray, cell: tuple[int, int, int], screener: _Screener
) -> np.ndarray | None:
    """Plan `now` with `cell` times the smallest factor found to pass the screen, or None."""

    def at(f: float) -> np.ndarray:
        plan = now.copy()
        plan[cell] = round_down(np.full(problem.shape, now[cell] * f), problem)[cell]
        return plan

    return _bisect(
        at, SMALLEST_SCALE, 1.0, CELL_SCREENS, lambda plan: screener.passes(plan, "cell")
    )


def _confirmation_chain(
    x: np.ndarray, scaled: np.ndarray | None, best: np.ndarray
) -> list[np.ndarray]:
    """The plans to confirm, in order: the screen's best scaled plan, then its best overall,
    each only where the screen found it and it is not `x` or the plan before it."""
    chain = [p for p in (scaled, best) if p is not None and not np.array_equal(p, x)]
    if len(chain) == 2 and np.array_equal(chain[0], chain[1]):
        chain.pop()
    return chain


def _confirm_in_sequence(
    problem: Problem,
    x: np.ndarray,
    chain: list[np.ndarray],
    confirm: Callable[[np.ndarray, int], tuple[Certificate, Evaluation]],
    until: float,
    log: _TrimLog,
) -> tuple[np.ndarray, Certificate | None, Evaluation | None]:
    """The last plan of `chain` confirmed before the first that is not (or `x` where none is),
    with its certificate and evaluation; no confirmation starts after `until`."""
    kept: np.ndarray = x
    certificate: Certificate | None = None
    evaluation: Evaluation | None = None
    for i, plan in enumerate(chain):
        if time.perf_counter() > until:
            break
        cert, ev = confirm(plan, i)
        log.runs += cert.n
        ok = cert.all_certified
        log.history.append(_confirmation_record(problem, plan, cert, ok))
        if not ok:
            break  # fixed-sequence testing stops at the first plan that does not certify
        kept, certificate, evaluation = plan, cert, ev
    return kept, certificate, evaluation


def _screen_record(
    problem: Problem, plan: np.ndarray, step: str, ev: Evaluation, required: np.ndarray, ok: bool
) -> dict[str, object]:
    """The history entry of one screen."""
    return {
        "step": step,
        "cost_dollars": problem.cost(plan),
        "headcount": plan.tolist(),
        "fewest_successes": int(ev.successes()[required].min()) if required.any() else 0,
        "replications": ev.n_replications,
        "passed_screen": ok,
    }


def _confirmation_record(
    problem: Problem, plan: np.ndarray, cert: Certificate, ok: bool
) -> dict[str, object]:
    """The history entry of one confirmation."""
    return {
        "step": "confirm",
        "cost_dollars": problem.cost(plan),
        "headcount": plan.tolist(),
        "seed": cert.seed,
        "replications": cert.n,
        "certified": ok,
    }


def _cell_spend(problem: Problem, x: np.ndarray, cell: tuple[int, ...]) -> float:
    only = np.zeros(problem.shape)
    only[cell] = x[cell]
    return problem.cost(only)


def _bisect(
    plan_at: Callable[[float], np.ndarray],
    low: float,
    high: float,
    screens: int,
    passes: Callable[[np.ndarray], bool | None],
) -> np.ndarray | None:
    """The plan at the smallest factor in (low, high) found to pass in `screens` bisection
    steps (`high` is taken to pass, `low` is not tried), or None when none passed. Factors
    whose plan repeats one already tried are skipped; `passes` returning None (out of time)
    stops."""
    found: np.ndarray | None = None
    tried: list[np.ndarray] = [plan_at(high)]
    for _ in range(screens):
        f = (low + high) / 2.0
        plan = plan_at(f)
        if any(np.array_equal(plan, t) for t in tried):
            break
        tried.append(plan)
        ok = passes(plan)
        if ok is None:
            break
        if ok:
            high, found = f, plan
        else:
            low = f
    return found
