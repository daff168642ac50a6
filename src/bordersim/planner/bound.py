"""A lower bound on the cost of every plan that meets the targets, from simulated plans that
provably miss them (docs/planner.md, "The probe bound").

Assumption (M), monotonicity in headcount: for every required target of sector s, the probability
that it holds does not fall when planned staff are added in sector s, and does not rise when
planned staff are added in other sectors (they only compete with s for the national ICE and HHS
lines). `tests/planner/test_bound.py` checks (M) on the small example.

A *probe* for sector s puts some cells of s at given levels, the others at a ceiling, and no
planned staff in the other sectors. Under (M) it is the most favourable plan for s among all plans
whose cells of s stay at or below the probe's. If a required target of s then holds with
probability below 1 - alpha, which the probe's replications show by a Clopper-Pearson upper bound,
every such plan misses it: a plan that meets the targets has some cell of s above the probe (a
cut). Families of probes (`families`: a staircase over the last staffed window, then prefixes of
windows) bisect on the spend t of their lowered cells; the largest probe shown to miss gives the
family's cut, and the least cost of a plan past every cut (a small MIP, ramp-up included) is the
bound.

The claim holds at the stated confidence jointly over all probes (Bonferroni: each look at a
probe, a second look for undecided ones included, is judged at confidence 1 - (1 - c) / (looks
allowed)), for the chance-constrained problem on the engine that runs the probes (the
certification's).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.stats import beta

from bordersim.planner.evaluate import run_on_engine
from bordersim.planner.problem import Problem
from bordersim.planner.targets import Evaluation, evaluate

#: Bisection probes allowed per family (the Bonferroni correction counts them all).
PROBES_PER_FAMILY = 6
#: Seed offset of the probes' replications (apart from the search's and the certification's).
PROBE_SEED_OFFSET = 15485863
#: An undecided probe runs on this many times its replications more (0: no second look): at
#: 100 and a Bonferroni count of 26 looks, a probe is shown to miss when its worst target held
#: in at most 87 % of them; on 200, 89.5 %; on 400, 91.3 % (three times the simulation).
EXTEND_FACTOR = 1
#: Seed offset of a probe's second look (independent of its first).
EXTEND_SEED_OFFSET = 32452843


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
            days = np.arange(start, first)  # before the simulated start too: paid
            out[k, w] = rate * float(np.sum((days - start + 1) / ramp)) if ramp else 0.0
    return out


def cheapest_plan_beyond(problem: Problem, cuts: list[Cut]) -> float:
    """The least cost (window days plus the ramp-up of every increase, as `Problem.cost`) of a
    plan within the caps that gets past every cut: a mixed-integer program (HiGHS), its dual
    bound returned. Every plan that meets the targets gets past them, so this bounds its cost."""
    K, S, W = problem.shape
    caps = problem.upper_bounds()
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)
    n = K * S * W
    y = np.arange(n).reshape(K, S, W)  # headcount / step
    up = y + n  # people arriving for window w
    exits = [_ways_past(cut, caps, steps) for cut in cuts]
    n_z = sum(len(e) for e in exits)  # one binary per way past a cut, after y and up
    cost = _objective(problem, steps, n_z)
    rows = _Rows(2 * n + n_z)
    _add_pool_rows(rows, problem, y, up, steps)
    _add_cut_rows(rows, cuts, exits, y, steps)
    result = milp(
        c=cost,
        constraints=rows.constraint(),
        integrality=np.concatenate([np.ones(n), np.zeros(n), np.ones(n_z)]),
        bounds=_column_bounds(caps, steps, n_z),
        options={"time_limit": 30.0, "mip_rel_gap": 1e-6, "disp": False},
    )
    return _proven_bound(result)


class _Rows:
    """The constraint rows of a linear program, each with its bounds, in the order added."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.rows: list[np.ndarray] = []
        self.low: list[float] = []
        self.high: list[float] = []

    def add(self, low: float, high: float) -> np.ndarray:
        """A new row of zeros, kept between `low` and `high`, for the caller to fill in."""
        r = np.zeros(self.columns)
        self.rows.append(r)
        self.low.append(low)
        self.high.append(high)
        return r

    def constraint(self) -> LinearConstraint:
        return LinearConstraint(np.array(self.rows), np.array(self.low), np.array(self.high))


def _ways_past(cut: Cut, caps: np.ndarray, steps: np.ndarray) -> list[tuple[int, int]]:
    """The cells (pool k, window w) of the cut's sector with room for one step above its
    levels: a plan gets past the cut in one of them."""
    K, _, W = caps.shape
    return [
        (k, w)
        for k in range(K)
        for w in range(W)
        if cut.levels[k, w] + steps[k] <= caps[k, cut.sector, w] + 1e-9
    ]


def _objective(problem: Problem, steps: np.ndarray, n_z: int) -> np.ndarray:
    """The program's cost per column: window days per headcount step, the ramp-up per person
    arriving, nothing for the binaries of the cuts."""
    K, S, W = problem.shape
    unit = window_unit_cost(problem)
    ramp = ramp_unit_cost(problem)
    return np.concatenate(
        [
            (unit[:, None, :] * steps[:, None, None] * np.ones((K, S, W))).ravel(),
            (ramp[:, None, :] * np.ones((K, S, W))).ravel(),
            np.zeros(n_z),
        ]
    )


def _add_pool_rows(
    rows: _Rows, problem: Problem, y: np.ndarray, up: np.ndarray, steps: np.ndarray
) -> None:
    """Pool by pool: the rows of its arrivals, then those of its border-wide cap."""
    for k, pool in enumerate(problem.spec.pools):
        _add_arrival_rows(rows, y[k], up[k], steps[k])
        _add_cap_rows(rows, y[k], steps[k], pool.max_headcount)


def _add_arrival_rows(rows: _Rows, y: np.ndarray, up: np.ndarray, step: float) -> None:
    """One pool's people arriving for each window of each sector ([S, W] columns `y`, `up`)."""
    S, W = y.shape
    for s in range(S):
        for w in range(W):  # up >= step * (y_w - y_{w-1})
            r = rows.add(0.0, np.inf)
            r[up[s, w]], r[y[s, w]] = 1.0, -step
            if w:
                r[y[s, w - 1]] = step


def _add_cap_rows(rows: _Rows, y: np.ndarray, step: float, max_headcount: float) -> None:
    """One pool's border-wide cap in each window ([S, W] columns `y`)."""
    for w in range(y.shape[1]):
        rows.add(-np.inf, max_headcount)[y[:, w]] = step


def _add_cut_rows(
    rows: _Rows,
    cuts: list[Cut],
    exits: list[list[tuple[int, int]]],
    y: np.ndarray,
    steps: np.ndarray,
) -> None:
    """Cut by cut: a row asking that one of its ways past be taken (one binary z per way), then
    per way a row that lets its z be 1 only where the plan gets past the cut's level there."""
    z = 2 * y.size  # the first binary, after the headcounts and the arrivals
    for cut, ways in zip(cuts, exits, strict=True):
        one_of = rows.add(1.0, np.inf)
        for k, w in ways:  # z = 1 only if y >= levels + step there
            one_of[z] = 1.0
            r = rows.add(0.0, np.inf)
            r[y[k, cut.sector, w]] = steps[k]
            r[z] = -(cut.levels[k, w] + steps[k])
            z += 1


def _column_bounds(caps: np.ndarray, steps: np.ndarray, n_z: int) -> Bounds:
    """Headcount steps up to the caps, arrivals unbounded above, binaries in [0, 1]."""
    n = caps.size
    return Bounds(
        np.zeros(2 * n + n_z),
        np.concatenate(
            [
                np.floor(caps / steps[:, None, None] + 1e-9).ravel(),
                np.full(n, np.inf),
                np.ones(n_z),
            ]
        ),
    )


def _proven_bound(result: object) -> float:
    """The program's dual bound, at least 0; 0 where none was proven."""
    dual = getattr(result, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        return 0.0  # no bound proven in the time allowed
    return max(float(dual), 0.0)


def clopper_pearson_upper(successes: np.ndarray, n: int, confidence: float) -> np.ndarray:
    """One-sided upper bound on a binomial probability at `confidence`."""
    k = np.asarray(successes, dtype=float)
    return np.where(k >= n, 1.0, beta.ppf(confidence, k + 1.0, n - k))


@dataclass(frozen=True)
class Family:
    """Probes of one sector along one ray: cells in `lowered` at `levels(t)`, every other cell of
    the sector at `fixed` (the ceiling unless given), no planned staff elsewhere. Each lowered
    cell is at the largest headcount whose window cost is at most t dollars, t in [0, high]."""

    sector: int
    lowered: np.ndarray  # [K, W] bool
    high: float  # the probe at `high` covers the plan's lowered cells
    kind: str  # "staircase", "prefix", for the certificate
    fixed: np.ndarray | None = None  # [K, W] headcount of the cells not lowered
    first: float = 0.0  # the first t probed


class _Prober:
    """Runs probes of one problem and judges them (docs/planner.md, "The probe bound").

    Sequential replications: a probe is first run on `replications`; where no target is shown to
    miss but one held in at most a share 1 - alpha of them (undecided), it runs on `extend` times
    as many more, and is judged again on all of them. Each look is a test in the
    Bonferroni count (`tests` counts looks)."""

    def __init__(
        self,
        problem: Problem,
        run: Callable[[np.ndarray, int, int], Evaluation],
        required: np.ndarray,
        tests: int,
        ceiling: np.ndarray,
        replications: int,
        extend: int = 0,
    ):
        self.problem = problem
        self.run = run  # (plan, replications, look) -> evaluation on that look's replications
        self.ceiling = ceiling  # [K, S, W] headcount of the cells not lowered by a probe
        self.required = required
        self.caps = problem.upper_bounds()
        self.unit = window_unit_cost(problem)
        self.steps = np.array([p.step for p in problem.spec.pools], dtype=float)
        targets = problem.spec.targets
        self.alpha = targets.alpha
        self.confidence = 1.0 - (1.0 - targets.confidence) / max(tests, 1)
        self.replications = replications  # of a probe's first look
        self.extend = extend
        self.usable: dict[int, np.ndarray] = {}
        self.judged: dict[tuple[int, bytes], tuple[np.ndarray, np.ndarray, int]] = {}
        self.log: list[dict[str, object]] = []
        self.deadline = float("inf")  # time.perf_counter() after which no probe starts

    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def levels(self, family: Family, t: float) -> np.ndarray:
        """[K, W] the family's probe at t: lowered cells as the family says, the others of the
        sector at the ceiling."""
        s = family.sector
        out = self.ceiling[:, s, :].copy()
        if family.fixed is not None:
            out = np.minimum(out, family.fixed)
        fit = np.floor(t / (self.unit * self.steps[:, None]) + 1e-9) * self.steps[:, None]
        lowered = np.minimum(self.ceiling[:, s, :], fit)
        out[family.lowered] = lowered[family.lowered]
        return out

    def _look(self, s: int, levels: np.ndarray, n: int, look: int) -> np.ndarray:
        x = np.zeros(self.problem.shape)
        x[:, s, :] = levels
        return np.asarray(self.run(x, n, look).successes()[:, s, :])

    def judge(self, s: int, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Sector s's probe judged: ([N, weeks] required targets shown to hold with probability
        below 1 - alpha (Clopper-Pearson upper bound at the probes' confidence), [N, weeks]
        replications in which each held, replications). Sequential: see the class."""
        key = (s, levels.tobytes())
        if key in self.judged:
            return self.judged[key]
        first = self.replications
        successes, n = self._look(s, levels, first, 0), first
        failed = self._failed(s, successes, n)
        required = self.required[:, s, :]
        undecided = required & (successes <= (1.0 - self.alpha) * n)
        if self.extend and undecided.any() and not failed.any():
            more = self.extend * first
            successes = successes + self._look(s, levels, more, 1)
            n += more
            failed = failed | self._failed(s, successes, n)
        self.judged[key] = (failed, successes, n)
        return self.judged[key]

    def _failed(self, s: int, successes: np.ndarray, n: int) -> np.ndarray:
        upper = clopper_pearson_upper(successes, n, self.confidence)
        return np.asarray(self.required[:, s, :] & (upper < 1.0 - self.alpha))

    def fails(self, s: int, levels: np.ndarray) -> np.ndarray:
        """[N, weeks] required targets of sector s shown to hold with probability below
        1 - alpha on the probe."""
        return self.judge(s, levels)[0]

    def usable_targets(self, s: int) -> np.ndarray:
        """Targets of s that the most favourable plan for s under (M) (every cell of s at its
        cap, none elsewhere) is not shown to miss: a target it misses contradicts (M) or is out
        of reach, and judges no probe."""
        if s not in self.usable:
            self.usable[s] = ~self.fails(s, self.caps[:, s, :])
        return self.usable[s]

    def shown_infeasible(self, s: int, levels: np.ndarray, kind: str = "prefix") -> bool:
        usable = self.usable_targets(s) & self.required[:, s, :]
        failed_targets, successes, n = self.judge(s, levels)
        failed = bool((failed_targets & usable).any())
        self.log.append(
            {
                "sector": self.problem.base.sectors[s].name,
                "family": kind,
                "headcount": levels.tolist(),
                "shown_infeasible": failed,
                # the target that came closest to failing, of those that judge the probe
                "fewest_successes": int(successes[usable].min()) if usable.any() else n,
                "replications": n,
                "confidence": self.confidence,
            }
        )
        return failed

    def walk(self, family: Family) -> Cut | None:
        """Bisection on t in [0, family.high] from family.first: the largest probe shown to miss
        a target, as a cut. At most PROBES_PER_FAMILY probes; it stops when no probe lies
        strictly between the largest shown to miss and the smallest not shown to."""
        s = family.sector
        found: np.ndarray | None = None
        low_t, high = -1.0, family.high
        high_levels = self.levels(family, high)
        tried = 0
        t = family.first
        while tried < PROBES_PER_FAMILY and not self.out_of_time():
            levels = self.levels(family, t)
            tried += 1
            if self.shown_infeasible(s, levels, family.kind):
                low_t, found = t, levels
            elif t <= 0.0:
                break  # nothing is needed in the lowered cells
            else:
                high, high_levels = t, levels
            t = (max(low_t, 0.0) + high) / 2.0
            between = self.levels(family, t)
            if np.array_equal(between, high_levels) or (
                found is not None and np.array_equal(between, found)
            ):
                break
            if low_t < 0 and np.array_equal(between, self.levels(family, 0.0)):
                t = 0.0
        return None if found is None else Cut(s, found)


#: Levels of the earlier staffed windows, as shares of the plan's, in the staircase families, in
#: the order they run (inf: at the ceiling).
STAIRCASE = (np.inf, 1.0, 2.0 / 3.0, 1.0 / 3.0, 0.0)


def families(problem: Problem, x: np.ndarray) -> list[Family]:
    """The probe families below plan `x`, in the order they run (docs/planner.md, "The probe
    bound"). In each sector where `x` deploys anyone:

    - *staircase* families: the last window with planned staff lowered (every pool at equal
      spend t), the earlier cells with planned staff fixed at the ceiling or at a share theta of
      the plan's (STAIRCASE), every other cell at the ceiling. Their cuts say "more than theta
      times the plan earlier, or more than the probe in the last window": together, a staircase
      that rules out plans which skimp on both (staff in one window substitutes for staff in
      another, so that cuts along one ray let a plan put everything in one cell);
    - *prefix* families: for each window with planned staff and for the last window, the
      windows up to it lowered together at equal spend, later ones at the ceiling.

    A family that repeats an earlier one (same cells lowered, same fixed levels) is left out."""
    unit = window_unit_cost(problem)
    spend = np.einsum("ksw,kw->ksw", x, unit)  # [K, S, W]
    K, _, W = problem.shape
    staffed = spend.sum(axis=0) > 0  # [S, W]
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)[:, None]
    out: list[Family] = []

    def add(family: Family) -> None:
        for other in out:
            same_fixed = (family.fixed is None and other.fixed is None) or (
                family.fixed is not None
                and other.fixed is not None
                and np.array_equal(family.fixed, other.fixed)
            )
            if (
                other.sector == family.sector
                and np.array_equal(other.lowered, family.lowered)
                and same_fixed
            ):
                return
        out.append(family)

    for sector in np.flatnonzero(staffed.any(axis=1)):
        s = int(sector)
        windows = np.flatnonzero(staffed[s])
        last = int(windows[-1])
        lowered = np.zeros((K, W), dtype=np.bool_)
        lowered[:, last] = True
        earlier = (x[:, s, :] > 0) & (np.arange(W) < last)[None, :]
        high = float(spend[:, s, last].max())
        for theta in STAIRCASE if earlier.any() else (1.0,):
            fixed = np.full((K, W), np.inf)
            if np.isfinite(theta):
                fixed[earlier] = (np.floor(theta * x[:, s, :] / steps + 1e-9) * steps)[earlier]
            kind = f"staircase {theta:.2f}" if np.isfinite(theta) else "staircase ceiling"
            add(Family(s, lowered, high, kind, fixed if earlier.any() else None, high / 2.0))
        for w in np.flatnonzero(staffed[s] | (np.arange(W) == W - 1)):
            prefix = np.zeros((K, W), dtype=np.bool_)
            prefix[:, : w + 1] = True
            add(Family(s, prefix, float(spend[:, s, : w + 1].max()), "prefix"))
    return out


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
    extend: int = EXTEND_FACTOR,
) -> ProbeBound:
    """The probe bound below plan `x` (docs/planner.md, "The probe bound"): the probe families
    of `families(problem, x)`, each probe on `replications` replications of `engine` ("flow"
    or "event") and, where undecided, on `extend` times as many more; then the cheapest plan
    past every cut found. With `seconds`, no probe starts after that many seconds: the families
    left out give no cut and a family cut short gives the largest probe shown to miss so far, so
    the bound is weaker but still valid (the Bonferroni count is fixed before any probe runs)."""
    started = time.perf_counter()
    spec = problem.spec
    cache: dict[tuple[bytes, int, int], Evaluation] = {}
    runs = 0

    def run(plan: np.ndarray, n: int, look: int) -> Evaluation:
        nonlocal runs
        key = (plan.tobytes(), n, look)
        if key not in cache:
            model = problem.model_for(plan)
            look_seed = seed + look * EXTEND_SEED_OFFSET
            result = run_on_engine(engine, model, problem.paths, n, look_seed, tick)
            runs += n
            cache[key] = evaluate(result, problem.weeks, spec.targets)
        return cache[key]

    found_families = families(problem, x)
    looks = 2 if extend else 1
    tests = looks * (
        PROBES_PER_FAMILY * len(found_families) + len({f.sector for f in found_families})
    )
    prober = _Prober(
        problem, run, required, tests, ceiling(problem, x), replications, extend=extend
    )
    if seconds is not None:
        prober.deadline = started + seconds
    cuts = []
    skipped = 0
    for family in found_families:
        if prober.out_of_time():
            skipped += 1
            continue
        cut = prober.walk(family)
        if cut is not None:
            cuts.append(cut)
    dollars = cheapest_plan_beyond(problem, cuts) if cuts else 0.0
    return ProbeBound(
        dollars=min(dollars, problem.cost(x)),
        cuts=cuts,
        probes=prober.log,
        confidence=spec.targets.confidence,
        replications=runs,
        families=len(found_families),
        families_skipped=skipped,
    )
