"""Stage 1: the fluid mixed-integer program (HiGHS, through `scipy.optimize.milp`).

Hour-by-hour queues are replaced by their mean work, day by day and sector by sector
(docs/planner.md, "Stage 1"). With E[d, s] the expected encounters of reported day d:

- intake work I = E x mean intake hours, determination work J = E x mean determination hours
  (pathway shares and the group mix of the day's first attempts);
- custody watch posts: one per `persons_per_watch_staff` people held, the people held being the
  mean occupancy of the reference plan (every pool at its cap), and at least E x mean minimum
  custody hours / 24 (Little's law with the shortest possible stays).

Staff-hours of each crew are split between watch and intake (variables), agents also between
determination and the field, under the dispatch rules' caps (`max_processing_fraction`,
`min_field_fraction`). The 72-hour target becomes a cumulative FCFS condition per sector and target
day: by the day's end, the intake (and determination) done since the period's start covers a
share q of the work that arrived up to 72 hours before it, and never runs ahead of the work that
has arrived (capacity cannot be banked). The planned headcount of a pool is
constant over a window; its cost is person-days times the pool's rate (ramp-up days not counted,
so that the bound stays below the true cost). Every simplification relaxes the real problem (work
carried in from before the period, transport, warehouse and medical needs, integer posts and
priorities are ignored; the shortest stays and the FCFS order are the most favourable), so the
optimum of this program is a lower bound on the cost of any plan that meets the targets *in the
fluid model*. `correction[s, week]` multiplies the intake work of the week's days: the later
stages raise it where simulation finds the target missed (the bound is taken with all corrections
at 1, and at 0 for weeks out of reach even at the caps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from bordersim.model.dimensions import Pool, Task
from bordersim.planner.problem import Problem

#: Days between the arrival of work and the 72-hour standard.
STANDARD_DAYS = 3
#: Penalty per agent-hour of unmet fluid requirement (so that unattainable weeks do not make the
#: program infeasible; their shortfall is reported instead). Far above any staff cost per hour.
SHORTFALL_PENALTY = 1e6


@dataclass
class FluidSolution:
    x: np.ndarray  # [K, S, W] headcount
    cost: float  # objective without shortfall penalties
    lower_bound: float  # HiGHS dual bound of the cost (valid when `shortfall` is all zero)
    shortfall: np.ndarray  # [R, S] unmet requirement (agent-hours) at the optimum
    status: str


@dataclass
class Workload:
    """Expected work per reported day and sector (the fluid model's inputs)."""

    intake: np.ndarray  # [R, S] agent-hours
    determination: np.ndarray  # [R, S] agent-hours
    watch_posts: np.ndarray  # [R, S] staff-hours of custody watch, people waiting for processing
    #                          not counted (the program adds its own backlog)
    intake_per_person: np.ndarray  # [R, S] agent-hours of intake per person


def workload(
    problem: Problem, encounters: np.ndarray, occupancy: np.ndarray, backlog: np.ndarray
) -> Workload:
    """Fluid workload from mean daily encounters, occupancy and processing backlog [R, S] of the
    reference plan (every pool at its cap). People held other than those waiting for processing
    are taken from that plan, and at least the shortest stays allow: no plan within the caps holds
    fewer people than the plan with the most staff (in this model more staff never delays a
    departure; an assumption, docs/planner.md). The program adds the people its own backlog
    holds."""
    m = problem.mean_demand_model
    days = slice(m.warmup_days, m.n_days)
    first = m.first_attempts_per_day[days]  # [R, S, G]
    mix = first / np.maximum(first.sum(axis=2, keepdims=True), 1e-12)
    shares = m.pathway_share[days]  # [R, G, P]
    per_group_intake = shares @ m.intake_hours  # [R, G]
    per_group_det = shares @ m.determination_hours
    per_group_stay = shares @ m.min_custody_hours
    intake = encounters * np.einsum("rsg,rg->rs", mix, per_group_intake)
    determination = encounters * np.einsum("rsg,rg->rs", mix, per_group_det)
    shortest = encounters * np.einsum("rsg,rg->rs", mix, per_group_stay) / 24.0
    held = np.maximum(occupancy - backlog, 0.0)
    watch = np.maximum(held, shortest) / m.persons_per_watch_staff * 24.0
    per_person = np.einsum("rsg,rg->rs", mix, per_group_intake)
    return Workload(
        intake=intake,
        determination=determination,
        watch_posts=watch,
        intake_per_person=np.maximum(per_person, 1e-6),
    )


class _Variables:
    def __init__(self) -> None:
        self.n = 0
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.cost: list[float] = []
        self.integer: list[int] = []

    def add(
        self,
        count: int,
        *,
        upper: float | np.ndarray = np.inf,
        cost: float | np.ndarray = 0.0,
        integer: bool = False,
    ) -> np.ndarray:
        index = np.arange(self.n, self.n + count)
        self.n += count
        self.lower.extend([0.0] * count)
        self.upper.extend(np.broadcast_to(np.asarray(upper, dtype=float), (count,)).tolist())
        self.cost.extend(np.broadcast_to(np.asarray(cost, dtype=float), (count,)).tolist())
        self.integer.extend([int(integer)] * count)
        return index


class _Rows:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(
        self, cols: list[int] | np.ndarray, vals: list[float] | np.ndarray, low: float, high: float
    ) -> None:
        r = len(self.lower)
        cols = np.asarray(cols).tolist()
        vals = np.broadcast_to(np.asarray(vals, dtype=float), (len(cols),)).tolist()
        self.rows.extend([r] * len(cols))
        self.cols.extend(cols)
        self.vals.extend(vals)
        self.lower.append(low)
        self.upper.append(high)


Cells = list[list[list[tuple[int, float]]]]
WatchRows = list[list[tuple[list[int], list[float]]]]


def _staff_hours(
    problem: Problem,
    var: _Variables,
    rows: _Rows,
    y: np.ndarray,
    steps: np.ndarray,
    day_window: np.ndarray,
) -> tuple[Cells, WatchRows, np.ndarray]:
    """Staff-hour variables per day and sector: agents' watch, intake and determination hours
    under the dispatch rules' caps; other crews' watch and intake hours within their headcount
    (planned crews: the decision's). Returns the intake columns (with productivity), the watch
    columns, and the determination variables, per day and sector."""
    m = problem.mean_demand_model
    R, S = m.n_days - m.warmup_days, m.n_sectors
    on_duty = m.on_duty_fraction
    prod = m.productivity
    agent_crews = [c for c in range(m.n_crews) if m.crew_pool[c] == Pool.AGENT]
    other_crews = [c for c in range(m.n_crews) if m.crew_pool[c] != Pool.AGENT]
    planned = {c: k for k, c in enumerate(problem.planned_crews)}
    days = slice(m.warmup_days, m.n_days)
    agents = sum(m.crew_headcount[days, :, c] for c in agent_crews) * on_duty[Pool.AGENT] * 24.0

    det_vars = np.zeros((R, S), dtype=np.int64)
    intake_cols = [[[] for _ in range(S)] for _ in range(R)]  # type: list[list[list[tuple[int, float]]]]
    watch_rows: list[list[tuple[list[int], list[float]]]] = [[([], [])] * S for _ in range(R)]
    for r in range(R):
        for s in range(S):
            aw, ai, ad = var.add(3)
            det_vars[r, s] = ad
            a = float(agents[r, s])
            rows.add([ai, ad], [1.0, 1.0], -np.inf, m.max_processing_fraction * a)
            rows.add([aw, ai, ad], [1.0, 1.0, 1.0], -np.inf, (1.0 - m.min_field_fraction) * a)
            watch_cols, watch_vals = [aw], [1.0]
            intake_cols[r][s].append((int(ai), 1.0))
            for c in other_crews:
                pool = int(m.crew_pool[c])
                can_watch = bool(m.crew_tasks[c, Task.CUSTODY_WATCH])
                can_intake = bool(m.crew_tasks[c, Task.INTAKE])
                if not (can_watch or can_intake):
                    continue
                hours = []
                if can_watch:
                    hw = int(var.add(1)[0])
                    watch_cols.append(hw)
                    watch_vals.append(1.0)
                    hours.append(hw)
                if can_intake:
                    hi = int(var.add(1)[0])
                    intake_cols[r][s].append((hi, float(prod[pool, Task.INTAKE])))
                    hours.append(hi)
                per_person = on_duty[pool] * 24.0
                if c in planned:
                    k = planned[c]
                    rows.add(
                        [*hours, int(y[k, s, day_window[r]])],
                        [1.0] * len(hours) + [-per_person * steps[k]],
                        -np.inf,
                        0.0,
                    )
                else:
                    available = float(m.crew_headcount[m.warmup_days + r, s, c]) * per_person
                    rows.add(hours, [1.0] * len(hours), -np.inf, available)
            watch_rows[r][s] = (watch_cols, watch_vals)

    return intake_cols, watch_rows, det_vars


def _cumulative_rows(
    problem: Problem,
    work: Workload,
    var: _Variables,
    rows: _Rows,
    q: float,
    correction: np.ndarray,
    intake_cols: Cells,
    watch_rows: WatchRows,
    det_vars: np.ndarray,
    backlog_watch: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The FCFS fluid queue per sector and day, custody watch for the people held, and the
    72-hour requirement; returns the shortfall variables (intake, determination, watch)."""
    m = problem.mean_demand_model
    R, S = m.n_days - m.warmup_days, m.n_sectors
    weeks = problem.weeks
    # Cumulative work done since the period's start, per sector: it cannot run ahead of the work
    # that has arrived (capacity cannot be banked), and by each day it covers a share q of the work
    # that arrived 72 hours earlier (FCFS fluid queue; weekly corrections scale the requirement).
    week_of_day = np.zeros(R, dtype=np.int64)
    for j, (a, b) in enumerate(weeks):
        week_of_day[a:b] = j
    cum_intake = np.cumsum(work.intake * correction[:, week_of_day].T, axis=0)
    cum_det = np.cumsum(work.determination, axis=0)
    shortfall = var.add(S * R, cost=SHORTFALL_PENALTY).reshape(R, S)
    det_short = var.add(S * R, cost=SHORTFALL_PENALTY).reshape(R, S)
    # custody watch the staff cannot give (a budget or the caps keep the backlog, and so the
    # watch it needs, above what the crews that may watch can cover): penalised, not infeasible
    watch_short = var.add(S * R, cost=SHORTFALL_PENALTY).reshape(R, S)
    done = var.add(S * R).reshape(R, S)
    done_det = var.add(S * R).reshape(R, S)
    for s in range(S):
        for r in range(R):
            cols = [col for col, _ in intake_cols[r][s]]
            vals = [val for _, val in intake_cols[r][s]]
            previous = [int(done[r - 1, s])] if r else []
            rows.add(
                [int(done[r, s]), *previous, *cols],
                [1.0] + [-1.0] * len(previous) + [-v for v in vals],
                -np.inf,
                0.0,
            )
            rows.add([int(done[r, s])], [1.0], -np.inf, float(cum_intake[r, s]))
            previous_det = [int(done_det[r - 1, s])] if r else []
            rows.add(
                [int(done_det[r, s]), *previous_det, int(det_vars[r, s])],
                [1.0] + [-1.0] * len(previous_det) + [-1.0],
                -np.inf,
                0.0,
            )
            rows.add([int(done_det[r, s])], [1.0], -np.inf, float(cum_det[r, s]))
            # custody watch for the people held, those waiting for intake included:
            # posts x 24 >= held elsewhere + (work arrived - work done) / work per person
            watch_cols, watch_vals = watch_rows[r][s]
            backlog_hours = (
                24.0 / m.persons_per_watch_staff / float(work.intake_per_person[r, s])
                if backlog_watch
                else 0.0
            )
            rows.add(
                [*watch_cols, int(done[r, s]), int(watch_short[r, s])],
                [*watch_vals, backlog_hours, 1.0],
                float(work.watch_posts[r, s]) + backlog_hours * float(cum_intake[r, s]),
                np.inf,
            )
            due = r - STANDARD_DAYS
            if due < 0:
                continue
            need = q * float(cum_intake[due, s])
            rows.add([int(done[r, s]), int(shortfall[r, s])], [1.0, 1.0], need, np.inf)
            rows.add(
                [int(done_det[r, s]), int(det_short[r, s])],
                [1.0, 1.0],
                q * float(cum_det[due, s]),
                np.inf,
            )
    return shortfall, det_short, watch_short


def solve(
    problem: Problem,
    work: Workload,
    *,
    q: float,
    correction: np.ndarray | None = None,
    time_limit_s: float = 30.0,
    backlog_watch: bool = True,
    within_budget: bool = True,
) -> FluidSolution:
    """The program's cheapest plan for the share `q`, its requirement raised by `correction`
    [S, weeks]. `within_budget` False leaves the plan file's budget out: for the bound (a budget
    never lowers what meeting the targets costs) and for the search once no plan within the
    budget met every target (docs/planner.md, "The plan file")."""
    m = problem.mean_demand_model
    K, S, W = problem.shape
    R = m.n_days - m.warmup_days
    weeks = problem.weeks
    correction = np.ones((S, len(weeks))) if correction is None else correction
    day_window = np.zeros(R, dtype=np.int64)
    for w, (first, end) in enumerate(problem.windows):
        day_window[first - m.warmup_days : end - m.warmup_days] = w
    window_days = np.array([end - first for first, end in problem.windows], dtype=float)

    var = _Variables()
    rows = _Rows()
    caps = problem.upper_bounds()
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)
    rates = np.array([m.cost_per_person_day[p.pool] for p in problem.spec.pools])
    # y[k, s, w]: headcount / step, integer
    y = var.add(
        K * S * W,
        upper=np.floor(caps / steps[:, None, None]).reshape(-1),
        cost=(
            rates[:, None, None]
            * steps[:, None, None]
            * window_days[None, None, :]
            * np.ones((K, S, W))
        ).reshape(-1),
        integer=True,
    ).reshape(K, S, W)

    intake_cols, watch_rows, det_vars = _staff_hours(problem, var, rows, y, steps, day_window)

    shortfall, det_short, watch_short = _cumulative_rows(
        problem, work, var, rows, q, correction, intake_cols, watch_rows, det_vars, backlog_watch
    )
    for k, pool_plan in enumerate(problem.spec.pools):
        for w in range(W):
            rows.add(y[k, :, w], steps[k], -np.inf, pool_plan.max_headcount)
    if within_budget and problem.spec.budget_dollars is not None:
        rows.add(
            y.reshape(-1), np.asarray(var.cost)[y.reshape(-1)], -np.inf, problem.spec.budget_dollars
        )

    matrix = sparse.csr_array((rows.vals, (rows.rows, rows.cols)), shape=(len(rows.lower), var.n))
    result = milp(
        c=np.array(var.cost),
        constraints=LinearConstraint(matrix, np.array(rows.lower), np.array(rows.upper)),
        integrality=np.array(var.integer),
        bounds=Bounds(np.array(var.lower), np.array(var.upper)),
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-4, "disp": False},
    )
    if result.x is None:
        raise RuntimeError(f"the fluid program found no solution: {result.message}")
    solution = np.asarray(result.x)
    x = np.round(solution[y]) * steps[:, None, None]
    short = solution[shortfall] + solution[det_short] + solution[watch_short]
    penalty = SHORTFALL_PENALTY * float(short.sum())
    cost = float(np.asarray(var.cost)[y.reshape(-1)] @ solution[y.reshape(-1)])
    dual = getattr(result, "mip_dual_bound", None)
    bound = float(dual) - penalty if dual is not None and np.isfinite(dual) else cost
    return FluidSolution(
        x=x, cost=cost, lower_bound=min(bound, cost), shortfall=short, status=str(result.message)
    )
