"""A lower bound on the cost of every plan that meets the targets, from simulated plans that
provably miss them (docs/planner.md, "The probe bound").

Assumption (M), monotonicity in headcount: for every required target of sector s, the probability
that it holds does not fall when planned staff are added in sector s, and does not rise when
planned staff are added in other sectors (they only compete with s for the national ICE and HHS
lines). `tests/planner/test_bound.py` checks (M) on the small example.

For a sector-window G = (s, w) with planned staff, a *probe* puts every planned cell of sector s
at its cap except those of G, no planned staff in the other sectors, and in G each pool at the
largest headcount whose cost over the window is at most t dollars. Under (M) the probe is the most
favourable plan for sector s among all plans whose pools in G stay at or below the probe's. If a
required target of s then holds with probability below 1 - alpha, which the probe's replications
show by a Clopper-Pearson upper bound, every such plan misses it: a plan that meets the targets
has some pool in G above the probe's headcount, so it spends more in G than the cheapest such
step. Bisection on t finds the largest probe shown to fail. The groups' windows are disjoint, so
their lower bounds add up, and the ramp-up each increase must pay comes on top (a small MIP).

The claim holds at the stated confidence jointly over all probes (Bonferroni: each probe is
judged at confidence 1 - (1 - c) / (probes allowed)), for the chance-constrained problem on the
engine that runs the probes (the flow engine, as in the search).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.stats import beta

from bordersim.planner.evaluate import run_event, run_flow
from bordersim.planner.problem import Problem
from bordersim.planner.targets import Evaluation, evaluate

#: Bisection probes allowed per family (the Bonferroni correction counts them all).
PROBES_PER_FAMILY = 6
#: Seed offset of the probes' replications (apart from the search's and the certification's).
PROBE_SEED_OFFSET = 15485863


@dataclass
class Cut:
    """A plan that meets the targets has, in `sector`, some cell (pool k, window w) with at least
    `levels[k, w]` + one step of people; cells at their cap give no way out."""

    sector: int
    levels: np.ndarray  # [K, W] headcount of the probe shown to miss a target


@dataclass
class ProbeBound:
    dollars: float  # lower bound on the cost of any plan that meets every required target
    cuts: list[Cut] = field(default_factory=list)
    probes: list[dict[str, object]] = field(default_factory=list)
    confidence: float = 0.95  # joint confidence of every probe's claim
    replications: int = 0  # flow replications run for the probes (the references included)
    families: int = 0  # probe families the plan calls for
    families_skipped: int = 0  # of those, not started within the time allowed


def window_unit_cost(problem: Problem) -> np.ndarray:
    """[K, W] dollars one person of pool k costs over window w (ramp-up not counted)."""
    rates = np.array([problem.base.cost_per_person_day[p.pool] for p in problem.spec.pools])
    days = np.array([end - first for first, end in problem.windows], dtype=float)
    return rates[:, None] * days[None, :]


def ramp_unit_cost(problem: Problem) -> np.ndarray:
    """[K, W] dollars one person of pool k costs while arriving for a tour that starts in window
    w (people arrive linearly over the ramp-up days before the window and are paid meanwhile,
    as `Problem.headcount` counts them)."""
    K, _, W = problem.shape
    out = np.zeros((K, W))
    for k, pool in enumerate(problem.spec.pools):
        rate = problem.base.cost_per_person_day[pool.pool]
        ramp = pool.ramp_up_days
        for w, (first, _) in enumerate(problem.windows):
            start = first - max(ramp - 1, 0)
            days = np.arange(max(start, 0), first)
            out[k, w] = rate * float(np.sum((days - start + 1) / ramp)) if ramp else 0.0
    return out


def cheapest_plan_beyond(problem: Problem, cuts: list[Cut]) -> float:
    """The least cost (window days plus the ramp-up of every increase, as `Problem.cost`) of a
    plan within the caps that gets past every cut: a mixed-integer program (HiGHS), its dual
    bound returned. Every plan that meets the targets gets past them, so this bounds its cost."""
    K, S, W = problem.shape
    unit = window_unit_cost(problem)
    ramp = ramp_unit_cost(problem)
    caps = problem.upper_bounds()
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)
    n = K * S * W
    y = np.arange(n).reshape(K, S, W)  # headcount / step
    up = y + n  # people arriving for window w
    exits = [
        [
            (k, w)
            for k in range(K)
            for w in range(W)
            if cut.levels[k, w] + steps[k] <= caps[k, cut.sector, w] + 1e-9
        ]
        for cut in cuts
    ]
    n_z = sum(len(e) for e in exits)
    n_all = 2 * n + n_z
    cost = np.concatenate(
        [
            (unit[:, None, :] * steps[:, None, None] * np.ones((K, S, W))).ravel(),
            (ramp[:, None, :] * np.ones((K, S, W))).ravel(),
            np.zeros(n_z),
        ]
    )
    rows: list[np.ndarray] = []
    low: list[float] = []
    high: list[float] = []

    def row() -> np.ndarray:
        r = np.zeros(n_all)
        rows.append(r)
        return r

    for k in range(K):
        for s in range(S):
            for w in range(W):  # up >= step * (y_w - y_{w-1})
                r = row()
                r[up[k, s, w]], r[y[k, s, w]] = 1.0, -steps[k]
                if w:
                    r[y[k, s, w - 1]] = steps[k]
                low.append(0.0)
                high.append(np.inf)
        for w in range(W):  # the border-wide cap
            row()[y[k, :, w]] = steps[k]
            low.append(-np.inf)
            high.append(problem.spec.pools[k].max_headcount)
    z = 2 * n
    for cut, ways in zip(cuts, exits, strict=True):
        one_of = row()
        low.append(1.0)
        high.append(np.inf)
        for k, w in ways:  # z = 1 only if y >= levels + step there
            one_of[z] = 1.0
            r = row()
            r[y[k, cut.sector, w]] = steps[k]
            r[z] = -(cut.levels[k, w] + steps[k])
            low.append(0.0)
            high.append(np.inf)
            z += 1
    result = milp(
        c=cost,
        constraints=LinearConstraint(np.array(rows), np.array(low), np.array(high)),
        integrality=np.concatenate([np.ones(n), np.zeros(n), np.ones(n_z)]),
        bounds=Bounds(
            np.zeros(n_all),
            np.concatenate(
                [
                    np.floor(caps / steps[:, None, None] + 1e-9).ravel(),
                    np.full(n, np.inf),
                    np.ones(n_z),
                ]
            ),
        ),
        options={"time_limit": 30.0, "mip_rel_gap": 1e-6, "disp": False},
    )
    dual = getattr(result, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        return 0.0  # no bound proven in the time allowed
    return max(float(dual), 0.0)


def clopper_pearson_upper(successes: np.ndarray, n: int, confidence: float) -> np.ndarray:
    """One-sided upper bound on a binomial probability at `confidence`."""
    k = np.asarray(successes, dtype=float)
    return np.where(k >= n, 1.0, beta.ppf(confidence, k + 1.0, n - k))


class _Prober:
    """Runs probes of one problem and judges them (docs/planner.md, "The probe bound")."""

    def __init__(
        self,
        problem: Problem,
        run: Callable[[np.ndarray], Evaluation],
        required: np.ndarray,
        tests: int,
        ceiling: np.ndarray,
    ):
        self.problem = problem
        self.run = run
        self.ceiling = ceiling  # [K, S, W] headcount of the cells not lowered by a probe
        self.required = required
        self.caps = problem.upper_bounds()
        self.unit = window_unit_cost(problem)
        self.steps = np.array([p.step for p in problem.spec.pools], dtype=float)
        targets = problem.spec.targets
        self.alpha = targets.alpha
        self.confidence = 1.0 - (1.0 - targets.confidence) / max(tests, 1)
        self.usable: dict[int, np.ndarray] = {}
        self.log: list[dict[str, object]] = []
        self.deadline = float("inf")  # time.perf_counter() after which no probe starts

    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def probe(self, s: int, last: int, t: float) -> np.ndarray:
        """[K, W] sector s's cells: windows up to `last` at the largest headcount whose window
        cost is at most t, later windows at the ceiling."""
        fit = np.floor(t / (self.unit * self.steps[:, None]) + 1e-9) * self.steps[:, None]
        levels = self.ceiling[:, s, :].copy()
        levels[:, : last + 1] = np.minimum(levels[:, : last + 1], fit[:, : last + 1])
        return levels

    def held(self, s: int, levels: np.ndarray) -> tuple[np.ndarray, int]:
        """[N, weeks] replications in which each target of sector s holds on the probe, and
        the number of replications."""
        x = np.zeros(self.problem.shape)
        x[:, s, :] = levels
        ev = self.run(x)
        return ev.successes()[:, s, :], ev.n_replications

    def fails(self, s: int, levels: np.ndarray) -> np.ndarray:
        """[N, weeks] required targets of sector s shown to hold with probability below
        1 - alpha on the probe (Clopper-Pearson upper bound at the probes' confidence)."""
        successes, n = self.held(s, levels)
        upper = clopper_pearson_upper(successes, n, self.confidence)
        return np.asarray(self.required[:, s, :] & (upper < 1.0 - self.alpha))

    def usable_targets(self, s: int) -> np.ndarray:
        """Targets of s that the most favourable plan for s under (M) (every cell of s at its
        cap, none elsewhere) is not shown to miss: a target it misses contradicts (M) or is out
        of reach, and judges no probe."""
        if s not in self.usable:
            self.usable[s] = ~self.fails(s, self.caps[:, s, :])
        return self.usable[s]

    def shown_infeasible(self, s: int, levels: np.ndarray) -> bool:
        usable = self.usable_targets(s) & self.required[:, s, :]
        failed = bool((self.fails(s, levels) & usable).any())
        successes, n = self.held(s, levels)
        self.log.append(
            {
                "sector": self.problem.base.sectors[s].name,
                "headcount": levels.tolist(),
                "shown_infeasible": failed,
                # the target that came closest to failing, of those that judge the probe
                "fewest_successes": int(successes[usable].min()) if usable.any() else n,
                "replications": n,
                "confidence": self.confidence,
            }
        )
        return failed

    def family(self, s: int, last: int, high: float) -> Cut | None:
        """Bisection on t in [0, high] (`high`: the probe then covers the plan): the largest
        probe shown to miss a target, as a cut."""
        found: np.ndarray | None = None
        low_t = -1.0
        smallest = float(np.min(self.unit * self.steps[:, None]))
        tried: dict[bytes, bool] = {}
        for _ in range(4 * PROBES_PER_FAMILY):  # at most PROBES_PER_FAMILY simulated
            if len(tried) >= PROBES_PER_FAMILY or high - max(low_t, 0.0) <= smallest:
                break
            if self.out_of_time():
                break  # the largest probe shown to miss so far is still a valid cut
            t = 0.0 if low_t < 0 else (low_t + high) / 2.0
            levels = self.probe(s, last, t)
            key = levels.tobytes()
            if key not in tried:
                tried[key] = self.shown_infeasible(s, levels)
            if tried[key]:
                low_t, found = t, levels
            elif t == 0.0:
                break  # nothing is needed up to `last` when later windows are at their caps
            else:
                high = t
        return None if found is None else Cut(s, found)


def ceiling(problem: Problem, x: np.ndarray) -> np.ndarray:
    """[K, S, W] the headcount probes give the cells they do not lower: the cap, or less where
    one step more already costs at least what plan `x` costs in all (a plan that gets past a cut
    there costs more than `x`, so the cut loses nothing that could matter to the bound)."""
    unit = window_unit_cost(problem)
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)[:, None]
    total = problem.cost(x)
    dear = (np.ceil(total / (unit * steps)) - 1.0).clip(min=0.0) * steps  # [K, W]
    return np.minimum(problem.upper_bounds(), dear[:, None, :])


def probe_bound(
    problem: Problem,
    x: np.ndarray,
    required: np.ndarray,
    *,
    engine: str,
    replications: int,
    seed: int,
    tick: Callable[[int, int], None] | None = None,
    seconds: float | None = None,
) -> ProbeBound:
    """The probe bound below plan `x` (docs/planner.md, "The probe bound"): in each sector where
    `x` deploys anyone, one family of probes for each window w with planned staff and for the
    last window (windows up to w lowered together, later ones at the ceiling), on
    `replications` replications of `engine` ("flow" or "event"); then the cheapest plan past
    every cut found. With `seconds`, no probe starts after that many seconds: the families left
    out give no cut and a family cut short gives the largest probe shown to miss so far, so the
    bound is weaker but still valid (the Bonferroni count is fixed before any probe runs)."""
    started = time.perf_counter()
    spec = problem.spec
    cache: dict[bytes, Evaluation] = {}
    runs = 0

    def run(plan: np.ndarray) -> Evaluation:
        nonlocal runs
        key = plan.tobytes()
        if key not in cache:
            model = problem.model_for(plan)
            result = (
                run_event(model, replications, seed, tick)
                if engine == "event"
                else run_flow(model, replications, seed)
            )
            runs += replications
            cache[key] = evaluate(result, problem.weeks, spec.targets)
        return cache[key]

    unit = window_unit_cost(problem)
    spend = np.einsum("ksw,kw->ksw", x, unit)  # [K, S, W]
    _, _, W = problem.shape
    staffed = spend.sum(axis=0) > 0  # [S, W]
    families = [
        (int(s), int(w))
        for s in np.flatnonzero(staffed.any(axis=1))
        for w in np.flatnonzero(staffed[s] | (np.arange(W) == W - 1))
    ]
    tests = PROBES_PER_FAMILY * len(families) + len({s for s, _ in families})
    prober = _Prober(problem, run, required, tests, ceiling(problem, x))
    if seconds is not None:
        prober.deadline = started + seconds
    cuts = []
    skipped = 0
    for s, last in families:
        if prober.out_of_time():
            skipped += 1
            continue
        cut = prober.family(s, last, float(spend[:, s, : last + 1].max()))
        if cut is not None:
            cuts.append(cut)
    dollars = cheapest_plan_beyond(problem, cuts) if cuts else 0.0
    return ProbeBound(
        dollars=min(dollars, problem.cost(x)),
        cuts=cuts,
        probes=prober.log,
        confidence=spec.targets.confidence,
        replications=runs,
        families=len(families),
        families_skipped=skipped,
    )
