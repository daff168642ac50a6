"""The decision space: planned headcount per pool, sector and deployment window.

`Problem` holds the base model (the base scenario without the deployments the plan replaces, with
one empty crew per planned pool, and the plan's demand scale applied) and turns a decision
``x[k, s, w]`` (people of planned pool k in sector s during window w) into the model the engines
run, and into its cost. Headcount changes happen at window boundaries, so every tour lasts at least
one window, and so at least the minimum tour. Arrivals ramp up over the pool's ramp-up days
*before* the window in which they serve (they are paid while they arrive), exactly as a scenario
deployment whose start date is that many days earlier (`tours` and `plan_toml` write them so).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import N_TASKS, Task, legally_allowed
from bordersim.planner.demand_paths import DemandPaths
from bordersim.planner.spec import PlanError, PlanSpec, PoolPlan, check_replications_per_path


@dataclass(frozen=True)
class Tour:
    """People of one pool who arrive for window `first` and leave after window `last`."""

    pool_index: int  # index into spec.pools
    sector: int
    first: int
    last: int
    people: float


@dataclass
class Problem:
    spec: PlanSpec
    base: CompiledModel  # planned crews present, with zero headcount
    planned_crews: tuple[int, ...]  # crew index of each planned pool (spec.pools order)
    windows: tuple[tuple[int, int], ...]  # [first, end) simulated-day index of each window
    weeks: tuple[tuple[int, int], ...]  # [first, end) reported-day index of each target week
    available: np.ndarray  # [K, W] bool: the pool may serve in the window (lead time)
    paths: DemandPaths | None = None  # forecast sample paths the replications spread over

    @cached_property
    def mean_demand_model(self) -> CompiledModel:
        """The base model at the mean demand of the forecast paths (the base without paths):
        what the fluid program, which knows no replications, plans for."""
        return self.base if self.paths is None else self.paths.mean_model(self.base)

    @property
    def n_pools(self) -> int:
        return len(self.spec.pools)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.n_pools, self.base.n_sectors, len(self.windows))

    def window_dates(self, w: int) -> tuple[dt.date, dt.date]:
        first, end = self.windows[w]
        return (
            self.base.start_date + dt.timedelta(days=first),
            self.base.start_date + dt.timedelta(days=end - 1),
        )

    def upper_bounds(self) -> np.ndarray:
        """[K, S, W] largest headcount allowed in each cell (caps, lead times), in whole steps:
        a cap that is not a multiple of the pool's step is rounded down to one, so that every
        stage (the repair included) keeps headcounts on the step grid."""
        caps = np.zeros(self.shape)
        for k, pool in enumerate(self.spec.pools):
            per_sector = (
                pool.max_per_sector if pool.max_per_sector is not None else pool.max_headcount
            )
            cap = min(per_sector, pool.max_headcount)
            caps[k] = np.floor(cap / pool.step + 1e-9) * pool.step
            caps[k][:, ~self.available[k]] = 0.0
        return caps

    # ----- decisions to tours, headcount, models and cost ----------------------------------------
    def tours(self, x: np.ndarray) -> list[Tour]:
        """The decision as tours: for each pool and sector, increases start new tours and decreases
        end the most recent ones (last in, first out), so every tour covers whole windows."""
        result: list[Tour] = []
        K, S, W = self.shape
        for k in range(K):
            for s in range(S):
                open_tours: list[list[float]] = []  # [first window, people]
                level = 0.0
                for w in range(W + 1):
                    target = float(x[k, s, w]) if w < W else 0.0
                    if target > level:
                        open_tours.append([w, target - level])
                    while target < level - 1e-9:
                        first, people = open_tours[-1]
                        leaving = min(people, level - target)
                        result.append(Tour(k, s, int(first), w - 1, leaving))
                        level -= leaving
                        if people - leaving <= 1e-9:
                            open_tours.pop()
                        else:
                            open_tours[-1][1] = people - leaving
                    level = max(level, target)
        return result

    def tour_start_day(self, tour: Tour) -> int:
        """Simulated-day index of the first arrival of a tour (ramp-up before the window)."""
        ramp = self.spec.pools[tour.pool_index].ramp_up_days
        return self.windows[tour.first][0] - max(ramp - 1, 0)

    def headcount(self, x: np.ndarray) -> np.ndarray:
        """[D, S, K] planned people each day, ramp-up included (as the compiler computes it)."""
        D = self.base.n_days
        out = np.zeros((D, self.base.n_sectors, self.n_pools))
        for tour in self.tours(x):
            ramp = self.spec.pools[tour.pool_index].ramp_up_days
            start = self.tour_start_day(tour)
            end = self.windows[tour.last][1]
            days = np.arange(max(start, 0), end)
            since = days - start + 1
            level = np.minimum(1.0, since / ramp) if ramp else np.ones(len(days))
            out[days, tour.sector, tour.pool_index] += tour.people * level
        return out

    def unsimulated_person_days(self, x: np.ndarray) -> np.ndarray:
        """[K] planned person-days before the simulated start: arrivals of a ramp-up longer than
        the warm-up plus one day. They are not simulated (nobody is there to work yet, or they
        would be in the warm-up), but they are paid, as every other ramp-up day."""
        out = np.zeros(self.n_pools)
        for tour in self.tours(x):
            start = self.tour_start_day(tour)
            if start >= 0:
                continue
            ramp = self.spec.pools[tour.pool_index].ramp_up_days
            since = np.arange(start, 0) - start + 1
            out[tour.pool_index] += tour.people * float(np.minimum(1.0, since / ramp).sum())
        return out

    def model_for(self, x: np.ndarray) -> CompiledModel:
        crew_headcount = self.base.crew_headcount.copy()
        crew_headcount[:, :, list(self.planned_crews)] = self.headcount(x)
        return self.base.replace(crew_headcount=crew_headcount)

    def person_days_by_pool(self, x: np.ndarray) -> np.ndarray:
        """[K] planned person-days paid: those simulated and the ramp-up days before the
        simulated start (`unsimulated_person_days`), from each tour's first arrival."""
        return self.headcount(x).sum(axis=(0, 1)) + self.unsimulated_person_days(x)

    def cost_by_pool(self, x: np.ndarray) -> np.ndarray:
        """[K] dollars of planned person-days over the reported period and the ramp-up before it
        (from the first arrival, before the simulated start too), at the pools' cost per
        person-day (the engines' staff cost)."""
        rates = np.array([self.base.cost_per_person_day[p.pool] for p in self.spec.pools])
        return self.person_days_by_pool(x) * rates

    def cost(self, x: np.ndarray) -> float:
        return float(self.cost_by_pool(x).sum())


def _windows(model: CompiledModel, window_days: int, min_tour: int) -> list[tuple[int, int]]:
    start, end = model.warmup_days, model.n_days
    bounds = [*list(range(start, end, window_days)), end]
    windows = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    if len(windows) > 1 and windows[-1][1] - windows[-1][0] < min_tour:
        windows[-2] = (windows[-2][0], windows[-1][1])  # a short last window joins the previous
        windows.pop()
    return windows


def _weeks(model: CompiledModel) -> list[tuple[int, int]]:
    reported = model.n_days - model.warmup_days
    return [(w, min(w + 7, reported)) for w in range(0, reported, 7)]


def _check_replaced(spec: PlanSpec, model: CompiledModel, found: set[str]) -> None:
    """Every name in ``replace`` is a deployment of the base scenario; an error names the plan
    file's line, the deployments there are, and the close name."""
    import difflib

    missing = [r for r in spec.replace if r not in found]
    if not missing:
        return
    named = (n for n in model.crew_names if n.startswith("deployment "))  # "deployment NAME: pool"
    deployments = list(dict.fromkeys(n.removeprefix("deployment ").split(":", 1)[0] for n in named))
    close = difflib.get_close_matches(missing[0], deployments, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise PlanError(
        f"replace: {missing[0]!r} is not a deployment of the base scenario{hint}; its "
        f"deployments: {', '.join(deployments) or 'none'}",
        where=spec.location("replace"),
    )


def build_problem(
    model: CompiledModel, spec: PlanSpec, paths: DemandPaths | None = None
) -> Problem:
    """The problem on `model`: deployments named in `spec.replace` removed (crews named
    ``deployment NAME: pool``), demand times `spec.demand_scale`, one empty crew per planned
    pool; with `paths`, every candidate's replications spread over the forecast's paths."""
    _check_paths(spec, paths)
    keep = []
    found = set()
    for c, name in enumerate(model.crew_names):
        replaced = [r for r in spec.replace if name.startswith(f"deployment {r}:")]
        found.update(replaced)
        if not replaced:
            keep.append(c)
    _check_replaced(spec, model, found)
    names = [model.crew_names[c] for c in keep]
    pools = list(model.crew_pool[keep])
    tasks = [model.crew_tasks[c] for c in keep]
    headcount = [model.crew_headcount[:, :, c] for c in keep]
    planned = []
    for plan in spec.pools:
        mask = np.zeros(N_TASKS, dtype=np.bool_)
        for task in plan.tasks:
            _check_task(spec, model, plan, task)
            mask[task] = True
        planned.append(len(names))
        names.append(f"plan: {plan.pool.name.lower()}")
        pools.append(int(plan.pool))
        tasks.append(mask)
        headcount.append(np.zeros((model.n_days, model.n_sectors)))
    base = model.replace(
        crew_names=tuple(names),
        crew_pool=np.array(pools, dtype=np.int64),
        crew_tasks=np.array(tasks, dtype=np.bool_),
        crew_headcount=np.stack(headcount, axis=2),
        first_attempts_per_day=model.first_attempts_per_day * spec.demand_scale,
    )
    _check_period(spec, base)
    _check_lead_times(spec, base)
    windows = _windows(base, spec.window_days, spec.min_tour_days)
    available = np.ones((len(spec.pools), len(windows)), dtype=np.bool_)
    for k, plan in enumerate(spec.pools):
        for w, (first, _) in enumerate(windows):
            arrival = first - max(plan.ramp_up_days - 1, 0)
            arrival_date = base.start_date + dt.timedelta(days=arrival)
            # a lead time counts from the reported period's start to the first arrival (without
            # one, arrivals may ramp up before the period, as for the first window)
            if plan.lead_time_days and arrival < base.warmup_days + plan.lead_time_days:
                available[k, w] = False
            if plan.available_from is not None and arrival_date < plan.available_from:
                available[k, w] = False
    _check_some_window_open(spec, base, windows, available)
    return Problem(
        spec, base, tuple(planned), tuple(windows), tuple(_weeks(base)), available, paths
    )


def _check_task(spec: PlanSpec, model: CompiledModel, plan: PoolPlan, task: Task) -> None:
    """The pool may do the task by law and the base scenario gives it a productivity there; an
    error names the plan file's line that lists the task."""
    key = f"pools.{plan.pool.name.lower()}.tasks"
    if not legally_allowed()[plan.pool, task]:
        rule = "forbidden by law"
    elif not model.productivity[plan.pool, task] > 0:
        rule = "its productivity in the base scenario is 0"
    else:
        return
    raise PlanError(
        f"{key} = {task.name.lower()!r}: the pool cannot do {task.name.lower()} ({rule})",
        where=spec.location(key),
    )


def _check_period(spec: PlanSpec, model: CompiledModel) -> None:
    """The reported period is at least the minimum tour: a shorter one would make one window
    shorter than the minimum, and tours shorter than the plan file allows."""
    reported = model.n_days - model.warmup_days
    if reported >= spec.min_tour_days:
        return
    first = model.start_date + dt.timedelta(days=model.warmup_days)
    last = model.start_date + dt.timedelta(days=model.n_days - 1)
    raise PlanError(
        f"windows.min_tour_days = {spec.min_tour_days}: longer than the base scenario's "
        f"reported period ({reported} days, {first} to {last}), so no tour could last it; "
        "shorten the minimum tour (and windows.days) or lengthen the scenario's period "
        "(period.start_date to period.end_date)",
        where=spec.location("windows.min_tour_days"),
    )


def _check_lead_times(spec: PlanSpec, model: CompiledModel) -> None:
    """A lead time longer than the reported period would close every window to the pool, which
    the plan would then leave out without a word."""
    reported = model.n_days - model.warmup_days
    for plan in spec.pools:
        if plan.lead_time_days < reported:
            continue
        key = f"pools.{plan.pool.name.lower()}.lead_time_days"
        first = model.start_date + dt.timedelta(days=model.warmup_days)
        last = model.start_date + dt.timedelta(days=model.n_days - 1)
        raise PlanError(
            f"{key} = {plan.lead_time_days}: not shorter than the base scenario's reported "
            f"period ({reported} days, {first} to {last}), so nobody of the pool could arrive "
            "in it; shorten the lead time, or leave the pool out of the plan",
            where=spec.location(key),
        )


def _check_some_window_open(
    spec: PlanSpec,
    model: CompiledModel,
    windows: list[tuple[int, int]],
    available: np.ndarray,
) -> None:
    """A pool that its contract date or lead time closes every window to would be left out of
    the plan without a word, after the whole search; the error names the key that closed the
    last window (whose people arrive latest, so it is the last one open to any pool)."""
    for k, plan in enumerate(spec.pools):
        if available[k].any():
            continue
        arrival = windows[-1][0] - max(plan.ramp_up_days - 1, 0)
        arrival_date = model.start_date + dt.timedelta(days=arrival)
        name = f"pools.{plan.pool.name.lower()}"
        last = f"the last window's first arrival ({arrival_date}, ramp-up included)"
        if plan.available_from is not None and arrival_date < plan.available_from:
            key = f"{name}.available_from"
            rule = f"{plan.available_from}: after {last}"
            remedy = "give an earlier date"
        else:
            key = f"{name}.lead_time_days"
            ends = model.start_date + dt.timedelta(days=model.warmup_days + plan.lead_time_days)
            rule = f"{plan.lead_time_days}: ends on {ends}, after {last}"
            remedy = "shorten the lead time"
        raise PlanError(
            f"{key} = {rule}, so no window is open to the pool; {remedy}, or leave the pool "
            "out of the plan",
            where=spec.location(key),
        )


def _check_paths(spec: PlanSpec, paths: DemandPaths | None) -> None:
    where = spec.location("forecast")
    if spec.forecast is None:
        if paths is not None:
            raise PlanError("forecast paths given for a plan file without [forecast]", where=where)
        return
    if paths is None:
        raise PlanError(
            "[forecast]: the paths come from the base scenario's calibration; plan with "
            "`bordersim plan` or `bordersim.planner.plan`, which read it",
            where=where,
        )
    check_replications_per_path(spec.search, paths.n_paths, spec.location)
