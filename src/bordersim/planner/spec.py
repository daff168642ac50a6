"""The plan file: what the planner may decide, under which rules, for which targets.

A plan file is a small TOML file beside a base scenario (docs/planner.md, "The plan file"). It
names the staff pools the planner may deploy (with their tasks, caps, lead times and ramp-up), the
deployment windows (at least the minimum tour), the targets as chance constraints, an optional
budget, the base scenario's deployments that the plan replaces, and the simulation budget.
Every problem is a `PlanError` naming the file, the key and the rule.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bordersim.errors import BordersimError
from bordersim.model.dimensions import (
    MILITARY_FORBIDDEN_TASKS,
    MILITARY_POOLS,
    Pool,
    Task,
    legally_allowed,
)
from bordersim.scenario.loader import line_in_text
from bordersim.scenario.schema import PEOPLE


class PlanError(BordersimError):
    """A plan file, or a planning request, that the planner refuses."""


#: Pools the planner may deploy. Agents are not planned: they take a year or more to hire and
#: train (an assumption stated in docs/planner.md), so they are part of the base scenario.
PLANNABLE_POOLS = (
    Pool.ACTIVE_DUTY,
    Pool.NATIONAL_GUARD,
    Pool.CONTRACTOR,
    Pool.PROCESSING_COORDINATOR,
)


@dataclass(frozen=True)
class PoolPlan:
    """One pool the planner may deploy, and its rules."""

    pool: Pool
    tasks: tuple[Task, ...]
    # border-wide cap on the people serving in each window; people ramping up for a later window
    # come on top of it (docs/planner.md, "The plan file")
    max_headcount: float
    max_per_sector: float | None = None  # the same cap in any one sector
    available_from: dt.date | None = None  # contracts or hires only from this date
    lead_time_days: int = 0  # days from the period's start before the first person can arrive
    ramp_up_days: int = 7  # arrivals spread over this many days before a tour starts
    step: int = 10  # headcount granularity per sector and window


@dataclass(frozen=True)
class Targets:
    """Chance constraints per sector and week (docs/planner.md, "Targets")."""

    within_72h: float = 0.95  # share of people out of custody within 72 h (held-or-left share)
    children_within_72h: float = 0.95  # the same for unaccompanied children (TVPRA)
    gotaway_share_max: float | None = None  # optional cap on got-aways / attempts
    alpha: float = 0.05  # each constraint holds with probability at least 1 - alpha
    confidence: float = 0.95  # confidence of each certified claim (Clopper-Pearson, one-sided)


@dataclass(frozen=True)
class Search:
    """The simulation budget of each stage."""

    replications: int = 24  # flow-engine replications per candidate (common random numbers)
    certify_replications: int = 200  # fresh event-engine replications for the certificate
    certify_engine: str = "event"
    seed: int = 20230511
    max_corrections: int = 8
    max_local_rounds: int = 12
    frontier: tuple[float, ...] = (0.90, 0.95, 0.99)
    # wall-clock seconds the probe bound may start new probe families in (the bound stays valid,
    # only weaker, when it stops early: docs/planner.md, "The probe bound"); an assumption sized
    # so that a 2023 plan fits in 10 minutes on 2 cores
    bound_seconds: int = 180
    # wall-clock seconds the trim may start new screens and confirmations in (cheaper variants
    # of the certified plan, docs/planner.md, "The trim"); 0 turns the trim off
    trim_seconds: int = 180


@dataclass(frozen=True)
class ForecastPaths:
    """Plan against joint sample paths of the demand forecast (docs/planner.md, "Against a
    forecast"): after `origin`, each replication's first attempts follow one of `paths` sample
    paths, so the chance constraints cover the forecast's uncertainty as well as the
    simulation's."""

    origin: dt.date  # the last month of data the forecast uses (its first day)
    paths: int = 20
    seed: int = 1  # of the draw of past origins behind the paths


@dataclass(frozen=True)
class ForecastQuantiles:
    """Plan for quantiles of the demand forecast (docs/planner.md, "Against a forecast"): one
    plan per quantile, each for the base scenario with its first attempts after `origin` from
    that quantile of every sector's monthly encounters (as ``[demand.forecast]`` gives them), so
    that the plans side by side show what each level of protection costs."""

    origin: dt.date  # the last month of data the forecast uses (its first day)
    quantiles: tuple[float, ...]  # ascending


@dataclass(frozen=True)
class PlanSpec:
    name: str
    pools: tuple[PoolPlan, ...]
    targets: Targets = field(default_factory=Targets)
    search: Search = field(default_factory=Search)
    window_days: int = 30
    min_tour_days: int = 30
    replace: tuple[str, ...] = ()  # deployments of the base scenario that the plan replaces
    demand_scale: float = 1.0  # stress test: first attempts times this (docs/planner.md)
    budget_dollars: float | None = None
    forecast: ForecastPaths | None = None  # plan against forecast sample paths
    quantiles: ForecastQuantiles | None = None  # or one plan per forecast quantile
    scenario: str | None = None  # the base scenario it was written for, relative to the file
    path: Path | None = None
    text: str = ""
    where: str = ""  # how errors name the plan file: its path as given, the workbench's plan

    def location(self, key: str) -> str:
        """'FILE, line N': the plan file and the line of its text that sets `key`."""
        where = self.where or str(self.path or "plan")
        return f"{where}{line_in_text(self.text, tuple(key.split('.')))}"


_TOP_KEYS = {
    "name",
    "scenario",
    "description",
    "replace",
    "demand_scale",
    "budget_dollars",
    "windows",
    "pools",
    "targets",
    "search",
    "forecast",
}
_FORECAST_KEYS = {"origin", "paths", "seed", "quantiles"}
_POOL_KEYS = {
    "tasks",
    "max_headcount",
    "max_per_sector",
    "available_from",
    "lead_time_days",
    "ramp_up_days",
    "step",
}
_TARGET_KEYS = {"within_72h", "children_within_72h", "gotaway_share_max", "alpha", "confidence"}
_SEARCH_KEYS = {
    "replications",
    "certify_replications",
    "certify_engine",
    "seed",
    "max_corrections",
    "max_local_rounds",
    "frontier",
    "bound_seconds",
    "trim_seconds",
}
_WINDOW_KEYS = {"days", "min_tour_days"}


class _Reader:
    """Reads a plan file's tables; `fail` names the file, the line that sets the key (from the
    text read, which in the workbench may be an unsaved edit), the key and the rule."""

    def __init__(self, where: str, text: str = "") -> None:
        self.where = where
        self.text = text

    def location(self, key: str) -> str:
        """'FILE, line N': the file and the line of the text read that sets `key`."""
        line = line_in_text(self.text, tuple(key.split("."))) if key else ""
        return f"{self.where}{line}"

    def fail(self, key: str, value: object, rule: str) -> PlanError:
        return PlanError(f"{key} = {value!r}: {rule}", where=self.location(key))

    def table(self, raw: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(key, raw, "must be a table")
        for name in raw:
            if name not in allowed:
                raise self.fail(
                    f"{key}.{name}" if key else name,
                    raw[name],
                    f"unknown key (allowed: {', '.join(sorted(allowed))})",
                )
        return raw

    def number(
        self,
        raw: dict[str, Any],
        key: str,
        path: str,
        default: float,
        *,
        low: float = 0.0,
        high: float = float("inf"),
        open_low: bool = False,
    ) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, value, "must be a number")
        if not math.isfinite(value):  # TOML's nan and inf: no cap, scale or target is either
            raise self.fail(path, value, "must be a finite number")
        if value < low or value > high or (open_low and value == low):
            bound = f"above {low:g}" if open_low else f"at least {low:g}"
            upper = f" and at most {high:g}" if high < float("inf") else ""
            raise self.fail(path, value, f"must be {bound}{upper}")
        return float(value)

    def headcount(self, raw: dict[str, Any], key: str, path: str) -> float:
        """A cap on people: a number of at least 0, and whole (people come whole; 300.0 is
        300), as a scenario's headcounts are."""
        value = self.number(raw, key, path, 0.0)
        if value > MAX_HEADCOUNT:  # 1e300 was taken, a cap no scenario could deploy
            raise self.fail(path, raw[key], f"must be at most {MAX_HEADCOUNT:,.0f}: {PEOPLE}")
        if not value.is_integer():
            low, high = math.floor(value), math.ceil(value)
            raise self.fail(
                path, raw[key], f"must be a whole number of people, such as {low} or {high}"
            )
        return value

    def integer(
        self,
        raw: dict[str, Any],
        key: str,
        path: str,
        default: int,
        *,
        low: int = 0,
        high: int | None = None,
    ) -> int:
        value = raw.get(key, default)
        # thousands separated, as the command line's options say the same limits
        upper = "" if high is None else f" and at most {high:,}"
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not whole or value < low or (high is not None and value > high):
            raise self.fail(path, value, f"must be a whole number of at least {low}{upper}")
        return int(value)


def _pool(reader: _Reader, name: str, raw: Any) -> PoolPlan:
    path = f"pools.{name}"
    pool = {p.name.lower(): p for p in Pool}.get(name)
    if pool is None:
        raise reader.fail(
            path,
            name,
            "unknown pool (plannable: " + ", ".join(p.name.lower() for p in PLANNABLE_POOLS) + ")",
        )
    if pool not in PLANNABLE_POOLS:
        raise reader.fail(
            path,
            name,
            "agents are not planned (hiring and training take longer "
            "than a surge); plan active_duty, national_guard, contractor or "
            "processing_coordinator",
        )
    raw = reader.table(raw, path, _POOL_KEYS)
    tasks_raw = raw.get("tasks")
    if not isinstance(tasks_raw, list) or not tasks_raw:
        raise reader.fail(f"{path}.tasks", tasks_raw, "must be a non-empty list of tasks")
    tasks: list[Task] = []
    allowed = legally_allowed()
    for task_name in tasks_raw:
        try:
            task = Task[str(task_name).upper()]
        except KeyError:
            raise reader.fail(
                f"{path}.tasks",
                task_name,
                "unknown task (tasks: " + ", ".join(t.name.lower() for t in Task) + ")",
            ) from None
        if not allowed[pool, task]:
            if pool in MILITARY_POOLS and task in MILITARY_FORBIDDEN_TASKS:
                rule = (
                    f"the law forbids {name} to do {task.name.lower()} (troops and Guard do "
                    "no law enforcement: Posse Comitatus)"
                )
            else:
                rule = f"only agents may do {task.name.lower()}"
            raise reader.fail(f"{path}.tasks", task_name, rule)
        tasks.append(task)
    # as replace and search.frontier: a task listed twice read "(on intake, intake)" everywhere
    twice = sorted({str(name) for name in tasks_raw if tasks_raw.count(name) > 1})
    if twice:
        raise reader.fail(f"{path}.tasks", tasks_raw, f"lists {twice[0]!r} twice; name it once")
    available = _date(reader, raw.get("available_from"), f"{path}.available_from")
    if "max_headcount" not in raw:
        raise reader.fail(
            f"{path}.max_headcount",
            None,
            "is required (the pool's cap on people serving in each window, border-wide)",
        )
    per_sector = raw.get("max_per_sector")
    plan = PoolPlan(
        pool=pool,
        tasks=tuple(tasks),
        max_headcount=reader.headcount(raw, "max_headcount", f"{path}.max_headcount"),
        max_per_sector=None
        if per_sector is None
        else reader.headcount(raw, "max_per_sector", f"{path}.max_per_sector"),
        available_from=available,
        lead_time_days=reader.integer(raw, "lead_time_days", f"{path}.lead_time_days", 0),
        ramp_up_days=reader.integer(
            raw, "ramp_up_days", f"{path}.ramp_up_days", 7, high=MAX_RAMP_UP_DAYS
        ),
        step=reader.integer(raw, "step", f"{path}.step", 10, low=1),
    )
    for key, cap in (
        ("max_headcount", plan.max_headcount),
        ("max_per_sector", plan.max_per_sector),
    ):
        # headcounts are whole steps: a cap under one step would silently forbid the pool
        if cap is not None and 0 < cap < plan.step:
            raise reader.fail(
                f"{path}.{key}",
                raw[key],
                f"is below the pool's step ({plan.step}): headcounts come in whole steps, so the "
                "pool could never be deployed; give a cap of at least one step, a smaller step, "
                "or 0 to plan without the pool",
            )
    if plan.max_per_sector is not None and plan.max_per_sector > plan.max_headcount:
        # no sector can have more than the whole border: the cap was taken and capped nothing
        raise reader.fail(
            f"{path}.max_per_sector",
            raw["max_per_sector"],
            f"is above the pool's max_headcount ({plan.max_headcount:,.0f}), its cap on the whole "
            "border, so it caps no sector; give at most max_headcount, or leave the key out",
        )
    return plan


def _date(reader: _Reader, value: Any, key: str) -> dt.date | None:
    """An optional TOML date. A TOML date-time is a `dt.date` too, but is refused: the planner
    compares whole days, and a date-time cannot be compared with a date (it crashed later)."""
    if value is None:
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise reader.fail(key, value, "must be a TOML date, such as 2023-06-01 (no time of day)")
    return value


def _forecast(reader: _Reader, raw: Any) -> tuple[ForecastPaths | None, ForecastQuantiles | None]:
    """The [forecast] table: sample paths (`paths`, `seed`) or quantiles (`quantiles`)."""
    if raw is None:
        return None, None
    raw = reader.table(raw, "forecast", _FORECAST_KEYS)
    origin = _origin(reader, raw.get("origin"))
    if "quantiles" in raw:
        both = sorted({"paths", "seed"} & raw.keys())
        if both:
            raise reader.fail(
                f"forecast.{both[0]}", raw[both[0]], "sample paths or quantiles, not both"
            )
        return None, ForecastQuantiles(origin, _quantiles(reader, raw["quantiles"]))
    paths = reader.integer(raw, "paths", "forecast.paths", ForecastPaths.paths, low=2)
    if paths > MAX_FORECAST_PATHS:
        raise reader.fail("forecast.paths", paths, f"must be at most {MAX_FORECAST_PATHS}")
    seed = reader.integer(raw, "seed", "forecast.seed", ForecastPaths.seed)
    return ForecastPaths(origin=origin, paths=paths, seed=seed), None


def _origin(reader: _Reader, origin: Any) -> dt.date:
    if isinstance(origin, str):
        try:
            return dt.date.fromisoformat(f"{origin}-01")
        except ValueError:
            raise reader.fail("forecast.origin", origin, "must be a month, YYYY-MM") from None
    if isinstance(origin, dt.date) and not isinstance(origin, dt.datetime):
        if origin.day != 1:
            # as a scenario's demand.forecast.origin and `bordersim forecast --origin` refuse
            # it: the whole month would be used; the date as the file writes it, not its repr
            raise PlanError(
                f"forecast.origin = {origin.isoformat()}: is a day, not a month: give the "
                f'month, "{origin:%Y-%m}" (or its first day, {origin:%Y-%m}-01)',
                where=reader.location("forecast.origin"),
            )
        return origin
    rule = "is required" if origin is None else "must be"
    raise reader.fail("forecast.origin", origin, f"{rule} a month, YYYY-MM")


def _quantiles(reader: _Reader, raw: Any) -> tuple[float, ...]:
    rule = (
        f"must be a list of 1 to {MAX_FORECAST_QUANTILES} different quantiles, each above 0 "
        "and below 1"
    )
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_FORECAST_QUANTILES:
        raise reader.fail("forecast.quantiles", raw, rule)
    numbers = [q for q in raw if isinstance(q, int | float) and not isinstance(q, bool)]
    if len(numbers) != len(raw) or len(set(numbers)) != len(numbers):
        raise reader.fail("forecast.quantiles", raw, rule)
    if not all(0 < q < 1 for q in numbers):
        raise reader.fail("forecast.quantiles", raw, rule)
    return tuple(sorted(float(q) for q in numbers))


def check_certify_replications(
    search: Search, targets: Targets, where: Callable[[str], str]
) -> None:
    """Refuse a certification with too few replications to certify the targets' alpha at their
    confidence (even if every replication met a target); `where(key)` names the file and line."""
    from bordersim.planner.certify import minimum_replications

    least = minimum_replications(targets.alpha, targets.confidence)
    if least > MAX_REPLICATIONS:  # no count a plan may run could certify: the targets' fault
        raise PlanError(
            f"targets.alpha = {targets.alpha:g}: certifying {certify_words(targets)} needs "
            f"{least:,} replications, more than a plan may run ({MAX_REPLICATIONS:,}); raise "
            "targets.alpha or lower targets.confidence",
            where=where("targets.alpha"),
        )
    if search.certify_replications < least:
        key = "search.certify_replications"
        raise PlanError(
            f"{key} = {search.certify_replications}: at least {least:,} are needed to certify "
            f"{certify_words(targets)}",
            where=where(key),
        )


def certify_words(targets: Targets) -> str:
    """'a probability of 95 % at 95 % confidence', with as many digits as the levels have (a
    whole percent read 100 % for an alpha of 1e-7)."""
    return (
        f"a probability of {(1 - targets.alpha) * 100:.10g} % at "
        f"{targets.confidence * 100:.10g} % confidence"
    )


def replications_per_path_rule(paths: int) -> str:
    """Why a replication count under the number of forecast paths is refused."""
    return f"at least one replication per forecast path is needed (forecast.paths = {paths})"


def check_replications_per_path(search: Search, paths: int, where: Callable[[str], str]) -> None:
    """Every forecast path needs a replication of every candidate and of the certification;
    `where(key)` names the file and line that set the key."""
    for key, n in (
        ("search.replications", search.replications),
        ("search.certify_replications", search.certify_replications),
    ):
        if n < paths:
            raise PlanError(f"{key} = {n}: {replications_per_path_rule(paths)}", where=where(key))


#: The most replications a plan may ask for, as `bordersim run`'s (services.record); a count of
#: billions ended the search in "first replication out of range: 0".
MAX_REPLICATIONS = 1_000_000

#: The largest search.seed: the stages' seeds are offsets from it (of millions), which must stay
#: within an engine's seeds (at most 2^63 - 1); 2^62 leaves room for any offset.
MAX_PLAN_SEED = 2**62

#: The longest ramp-up a plan file may give a pool: arrivals spread over a year are no surge's
#: (an assumption); a ramp-up of billions of days ran the arrival dates out of the calendar.
MAX_RAMP_UP_DAYS = 365

#: The largest cap on a pool's headcount, as a scenario's headcounts (plan.toml deploys them).
MAX_HEADCOUNT = 1_000_000

#: The largest demand stress, as a scenario's ``[demand] scale`` (which plan.toml carries it as):
#: a thousand times normal demand is beyond any surge; 1e308 overflowed the first attempts to inf.
MAX_DEMAND_SCALE = 1000.0
DEMAND_SCALE_REASON = "a thousand times normal demand is beyond any surge"

#: Every path is a variant of the model simulated for every candidate.
MAX_FORECAST_PATHS = 200
#: Every quantile is a plan of its own.
MAX_FORECAST_QUANTILES = 9


def parse_plan(text: str, where: str, path: Path | None = None) -> PlanSpec:
    """A `PlanSpec` from the text of a plan file; `where` names it in errors."""
    reader = _Reader(where, text)
    raw = _read_toml(text, where)
    _refuse_a_scenario_file(raw, where)
    reader.table(raw, "", _TOP_KEYS)
    pools = _pools(reader, raw.get("pools", {}))
    targets = _targets(reader, raw.get("targets", {}))
    search = _search(reader, raw.get("search", {}))
    check_certify_replications(search, targets, reader.location)  # before hours of search
    window_days, min_tour = _windows(reader, raw.get("windows", {}))
    replace = _replace(reader, raw.get("replace", []))
    scenario = _scenario(reader, raw.get("scenario"))
    _check_words(reader, raw)
    forecast, quantiles = _forecast(reader, raw.get("forecast"))
    if forecast is not None:  # before the paths are drawn, which takes a while the first time
        check_replications_per_path(search, forecast.paths, reader.location)
    return PlanSpec(
        name=str(raw.get("name", path.stem if path else "plan")),
        pools=pools,
        targets=targets,
        search=search,
        window_days=window_days,
        min_tour_days=min_tour,
        replace=replace,
        demand_scale=_demand_scale(reader, raw),
        budget_dollars=_budget(reader, raw),
        forecast=forecast,
        quantiles=quantiles,
        scenario=scenario,
        path=path,
        text=text,
        where=where,
    )


#: Top-level keys of a scenario file that no plan file has: a file with one of them and no
#: [pools] is a scenario given as the plan (the arguments swapped).
SCENARIO_ONLY_KEYS = ("base", "period", "sectors", "deployments")


def looks_like_a_plan_file(raw: dict[str, Any]) -> bool:
    """A plan file's tables (pools, none of a scenario's own keys): given as the base scenario,
    the arguments were swapped."""
    return "pools" in raw and not set(SCENARIO_ONLY_KEYS) & raw.keys()


def _refuse_a_scenario_file(raw: dict[str, Any], where: str) -> None:
    """A scenario file given as the plan was refused for its first key ("sectors = [...]:
    unknown key"), which did not say that the file was of the wrong kind."""
    found = [key for key in raw if key in SCENARIO_ONLY_KEYS]  # in the file's order
    if found and "pools" not in raw:
        raise PlanError(
            f"is a scenario file (it sets {found[0]}), not a plan file, which sets the [pools] "
            "the planner may deploy (docs/planner.md, 'The plan file'); give the scenario as the "
            "base",
            where=where,
        )


def _read_toml(text: str, where: str) -> dict[str, Any]:
    """The plan file's tables, or a `PlanError` naming the file where the text is not TOML,
    worded as a scenario file's syntax errors are."""
    from bordersim.scenario.loader import toml_tables

    return toml_tables(text, where, PlanError)


def _pools(reader: _Reader, raw: Any) -> tuple[PoolPlan, ...]:
    """The [pools.*] tables: at least one pool, each checked by `_pool` (which names the pools
    that may be planned, for a name that is not one of them)."""
    if not isinstance(raw, dict):
        raise reader.fail("pools", raw, "must be a table")
    if not raw:
        raise reader.fail("pools", {}, "name at least one pool the planner may deploy")
    pools = tuple(_pool(reader, name, value) for name, value in raw.items())
    _refuse_nothing_to_choose(reader, pools)
    return pools


def _refuse_nothing_to_choose(reader: _Reader, pools: tuple[PoolPlan, ...]) -> None:
    """Every pool capped at 0 (border-wide or per sector) leaves one plan, no staff: it was
    searched, certified, bounded and compared in full. Named at the first pool's zero cap."""
    zero_caps = [_zero_cap(pool) for pool in pools]
    if all(zero_caps):
        key = f"pools.{pools[0].pool.name.lower()}.{zero_caps[0]}"
        raise reader.fail(
            key,
            0,
            "every pool's cap is 0, so there is no deployment to choose; give a pool a cap above 0",
        )


def _zero_cap(pool: PoolPlan) -> str:
    """The key of the pool's cap that is 0 (max_headcount first), or the empty text."""
    if pool.max_headcount == 0:
        return "max_headcount"
    return "max_per_sector" if pool.max_per_sector == 0 else ""


def _targets(reader: _Reader, raw: Any) -> Targets:
    """The [targets] table, with the defaults of `Targets` for the keys left out."""
    t = reader.table(raw, "targets", _TARGET_KEYS)
    gotaway = t.get("gotaway_share_max")
    return Targets(
        within_72h=_share_target(reader, t, "within_72h"),
        children_within_72h=_share_target(reader, t, "children_within_72h"),
        gotaway_share_max=None if gotaway is None else _gotaway_cap(reader, t),
        alpha=reader.number(t, "alpha", "targets.alpha", 0.05, high=0.5, open_low=True),
        confidence=reader.number(t, "confidence", "targets.confidence", 0.95, low=0.5, high=0.999),
    )


def _share_target(reader: _Reader, targets: dict[str, Any], key: str) -> float:
    """A share out of custody within 72 h: above 0 and at most 1. A share of 0 is met by every
    plan, so it was planned, certified and bounded in full for a target that binds nothing."""
    path = f"targets.{key}"
    if targets.get(key) == 0 and not isinstance(targets[key], bool):
        raise reader.fail(
            path, targets[key], "must be above 0 and at most 1: a share of 0 is met by every plan"
        )
    return reader.number(targets, key, path, 0.95, high=1.0, open_low=True)


def _gotaway_cap(reader: _Reader, targets: dict[str, Any]) -> float:
    """The optional cap on got-aways / attempts: at least 0 and below 1. A cap of 1 is met by
    every plan, so it was a target in every sector-week that binds nothing."""
    path = "targets.gotaway_share_max"
    cap = reader.number(targets, "gotaway_share_max", path, 1.0, high=1.0)
    if cap == 1:
        raise reader.fail(
            path,
            targets["gotaway_share_max"],
            "must be at least 0 and below 1: a cap of 1 is met by every plan; leave the key out "
            "for no cap",
        )
    return cap


def _search(reader: _Reader, raw: Any) -> Search:
    """The [search] table, with the defaults of `Search` for the keys left out."""
    s = reader.table(raw, "search", _SEARCH_KEYS)
    engine = _certify_engine(reader, s)
    frontier = _frontier(reader, s)
    return Search(
        replications=reader.integer(
            s, "replications", "search.replications", 24, low=2, high=MAX_REPLICATIONS
        ),
        certify_replications=reader.integer(
            s,
            "certify_replications",
            "search.certify_replications",
            200,
            low=10,
            high=MAX_REPLICATIONS,
        ),
        certify_engine=engine,
        seed=_seed(reader, s),
        max_corrections=reader.integer(s, "max_corrections", "search.max_corrections", 8),
        max_local_rounds=reader.integer(s, "max_local_rounds", "search.max_local_rounds", 12),
        frontier=frontier,
        bound_seconds=reader.integer(s, "bound_seconds", "search.bound_seconds", 180),
        trim_seconds=reader.integer(s, "trim_seconds", "search.trim_seconds", 180, low=0),
    )


def _seed(reader: _Reader, search: dict[str, Any]) -> int:
    """search.seed: every stage seeds its replications at an offset from it, and an engine's
    seed is at most 2^63 - 1, so a seed above MAX_PLAN_SEED stopped the plan after the search
    had started, in words that named no file or key."""
    seed = search.get("seed", Search.seed)
    whole = isinstance(seed, int) and not isinstance(seed, bool)
    if not whole or not 0 <= seed <= MAX_PLAN_SEED:
        raise reader.fail(
            "search.seed",
            seed,
            "must be a whole number from 0 to 2^62 (each stage of the plan seeds its replications "
            "at an offset from it, and a seed is at most 2^63 - 1)",
        )
    return int(seed)


def _certify_engine(reader: _Reader, search: dict[str, Any]) -> str:
    """The engine that certifies: "event" (the default) or "flow"."""
    engine = search.get("certify_engine", "event")
    if engine not in ("event", "flow"):
        raise reader.fail("search.certify_engine", engine, "must be 'event' or 'flow'")
    return engine


def _frontier(reader: _Reader, search: dict[str, Any]) -> tuple[float, ...]:
    """The targets of the cost-versus-target frontier, as shares."""
    frontier = search.get("frontier", [0.90, 0.95, 0.99])
    if not isinstance(frontier, list) or not all(
        # a TOML boolean is an int in Python: true would be read as the share 1
        isinstance(q, float | int) and not isinstance(q, bool) and 0 < q <= 1
        for q in frontier
    ):
        raise reader.fail("search.frontier", frontier, "must be a list of shares in (0, 1]")
    # each share is a search of its own: one listed twice planned the same share twice
    twice = sorted({float(q) for q in frontier if frontier.count(q) > 1})
    if twice:
        raise reader.fail("search.frontier", frontier, f"lists {twice[0]:g} twice; give it once")
    _refuse_shares_that_read_the_same(reader, frontier)
    return tuple(float(q) for q in frontier)


def _refuse_shares_that_read_the_same(reader: _Reader, frontier: list[Any]) -> None:
    """Two shares the report gives as one percentage (0.9 and 0.9000000000001, both "90 %") were
    two searches and two rows of the frontier that could not be told apart."""
    from bordersim.planner.output import percent

    seen: dict[str, Any] = {}
    for share in frontier:
        words = percent(float(share))
        if words in seen:
            raise reader.fail(
                "search.frontier",
                frontier,
                f"lists {seen[words]!r} and {share!r}, which read the same ({words}); give the "
                "share once",
            )
        seen[words] = share


def _windows(reader: _Reader, raw: Any) -> tuple[int, int]:
    """The [windows] table: (days of a deployment window, days of the minimum tour)."""
    w = reader.table(raw, "windows", _WINDOW_KEYS)
    min_tour = reader.integer(w, "min_tour_days", "windows.min_tour_days", 30, low=1)
    window_days = reader.integer(w, "days", "windows.days", max(min_tour, 7), low=1)
    if window_days < min_tour:
        raise reader.fail(
            "windows.days",
            window_days,
            f"a deployment window must last at least the minimum tour "
            f"({min_tour} days), so that every tour does",
        )
    return window_days, min_tour


def _replace(reader: _Reader, replace: Any) -> tuple[str, ...]:
    """The names of the base scenario's deployments that the plan replaces."""
    if not isinstance(replace, list) or not all(isinstance(r, str) for r in replace):
        raise reader.fail("replace", replace, "must be a list of deployment names")
    # plan.toml removes each once: a name listed twice failed there, after the search
    twice = sorted({name for name in replace if replace.count(name) > 1})
    if twice:
        raise reader.fail("replace", replace, f"lists {twice[0]!r} twice; name it once")
    return tuple(replace)


def _check_words(reader: _Reader, raw: dict[str, Any]) -> None:
    """`name` and `description` are text: name = 3 named the plan "3" in its certificate and the
    workbench, and a description that is a list was shown as one."""
    for key in ("name", "description"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise reader.fail(key, raw[key], "must be a non-empty text in quotes")


def _scenario(reader: _Reader, scenario: Any) -> str | None:
    """The base scenario the plan was written for, when it names one."""
    if scenario is not None and not isinstance(scenario, str):
        raise reader.fail("scenario", scenario, "must be a path to a scenario file")
    return scenario


def _demand_scale(reader: _Reader, raw: dict[str, Any]) -> float:
    """The stress: above 0 and at most `MAX_DEMAND_SCALE`, as a scenario's [demand] scale."""
    scale = reader.number(raw, "demand_scale", "demand_scale", 1.0, open_low=True)
    if scale > MAX_DEMAND_SCALE:
        raise reader.fail(
            "demand_scale",
            raw["demand_scale"],
            f"must be at most {MAX_DEMAND_SCALE:,.0f}: {DEMAND_SCALE_REASON}",
        )
    return scale


def _budget(reader: _Reader, raw: dict[str, Any]) -> float | None:
    """The optional budget_dollars, above 0 when given."""
    if raw.get("budget_dollars") is None:
        return None
    return reader.number(raw, "budget_dollars", "budget_dollars", 0.0, open_low=True)


def load_plan(path: str | Path) -> PlanSpec:
    """Read and validate a plan file."""
    file = Path(path)
    if file.is_dir():
        raise PlanError("is a folder, not a plan file; give the plan file in it", where=str(file))
    if not file.exists() and not file.is_symlink():
        raise PlanError("no such plan file", where=str(file))
    # a pipe or a device is named as such when read (`_plan_text`), not "no such plan file"
    return parse_plan(_plan_text(file), str(file), file.resolve())


def _plan_text(file: Path) -> str:
    """The text of a plan file, read as a scenario file is (`scenario.loader.read_toml`): at
    most as large, and a byte-order mark (Notepad writes one) dropped, since it is not TOML."""
    from bordersim.input_files import read_bounded
    from bordersim.scenario.loader import MAX_FILE_BYTES

    raw = read_bounded(file, what="plan file", error=PlanError, limit=MAX_FILE_BYTES)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PlanError(
            f"not UTF-8 text (byte {err.start}); a plan file is a TOML text file", where=str(file)
        ) from None
