"""The planner's files: `plan.toml` (a scenario variant), `certificate.json`."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bordersim.model.compiled import CompiledModel
from bordersim.planner.problem import Problem
from bordersim.planner.spec import PlanSpec, Targets
from bordersim.planner.targets import KINDS

if TYPE_CHECKING:
    from bordersim.planner.bound import ProbeBound
    from bordersim.planner.certify import Certificate
    from bordersim.planner.search import SearchOutcome


def planned_demand_scale(scenario_path: Path, stress: float) -> float:
    """The ``[demand] scale`` under which plan.toml runs at the demand planned for: the base
    scenario's own scale (1 without one) times the plan's stress, since plan.toml's key replaces
    the base's."""
    from bordersim.scenario import load_scenario

    own = load_scenario(scenario_path).demand.scale
    return (1.0 if own is None else float(own)) * stress


def plan_toml(
    problem: Problem, x: np.ndarray, scenario_path: Path, out_dir: Path, name: str, summary: str
) -> str:
    """A scenario variant of `scenario_path` that deploys `x`: one deployment per pool and tour
    span (tours of all sectors with the same first and last window share it)."""
    spec = problem.spec
    base = os.path.relpath(scenario_path.resolve(), out_dir.resolve())
    lines = [
        f"# Written by `bordersim plan` from {scenario_path.name} and "
        f"{spec.path.name if spec.path else 'a plan specification'}.",
        f"# {summary}",
        "# Each deployment is a set of tours: people who arrive (over the ramp-up days, before",
        "# their first window) and serve to the end of their last window.",
    ]
    if problem.paths is not None:
        lines.append(
            f"# Planned against {problem.paths.n_paths} sample paths of the demand forecast from "
            f"{problem.paths.origin:%Y-%m} (the plan file's [forecast]); run as a scenario, this "
            "file has the base scenario's own demand."
        )
    lines += [f'base = "{base}"']
    if spec.replace:
        removed = ", ".join(f'"deployments.{r}"' for r in spec.replace)
        lines.append(f"remove = [{removed}]")
    lines += [f'name = "{name}"', f'description = "{summary}"', ""]
    if spec.demand_scale != 1.0:  # the plan's stress test
        scale = planned_demand_scale(scenario_path, spec.demand_scale)
        lines += ["[demand]", f"scale = {scale!r}", ""]
    if spec.quantiles is not None:  # the demand it was planned for, so that the file runs it
        lines += [
            "[demand.forecast]",
            f'origin = "{spec.quantiles.origin:%Y-%m}"',
            f"quantile = {spec.quantiles.quantiles[0]!r}",
            "",
        ]
    groups: dict[tuple[int, int, int], dict[str, float]] = defaultdict(dict)
    for tour in problem.tours(x):
        code = problem.base.sectors[tour.sector].name
        key = (tour.pool_index, tour.first, tour.last)
        groups[key][code] = groups[key].get(code, 0.0) + tour.people
    for (k, first, last), by_sector in sorted(groups.items()):
        pool = spec.pools[k]
        start_day = problem.windows[first][0] - max(pool.ramp_up_days - 1, 0)
        end_day = problem.windows[last][1] - 1
        start = problem.base.start_date + dt.timedelta(days=start_day)
        end = problem.base.start_date + dt.timedelta(days=end_day)
        split = ", ".join(
            f"{code} = {round(v)}" for code, v in sorted(by_sector.items()) if round(v) > 0
        )
        if not split:
            continue
        tasks = ", ".join(f'"{t.name.lower()}"' for t in pool.tasks)
        windows = f"window {first + 1}" if first == last else f"windows {first + 1} to {last + 1}"
        lines += [
            f"[deployments.plan_{pool.pool.name.lower()}_{first + 1}_{last + 1}]",
            f"# {windows}: serving {problem.window_dates(first)[0]} to {end}",
            f'pool = "{pool.pool.name.lower()}"',
            f"headcount_by_sector = {{ {split} }}",
            f"tasks = [{tasks}]",
            f"start_date = {start.isoformat()}",
            f"end_date = {end.isoformat()}",
            f"ramp_up_days = {pool.ramp_up_days}",
            "",
        ]
    return "\n".join(lines)


def percent(share: float) -> str:
    """'95 %', '99.9 %', '97.5 %': a share as a percentage with the digits it has (a whole
    percent read 100 % for an alpha of 0.001 and 98 % for a target of 0.975), the sign after a
    space as everywhere in bordersim."""
    return f"{round(share * 100, 8):.10g} %"


def gap_percent(gap: float) -> str:
    """'12.5 %': the optimality gap, a share of the plan's cost, to a tenth of a percent."""
    return f"{100 * gap:.1f} %"


def millions(dollars: float) -> str:
    """Dollars in millions to the thousand, '$0.193M', as every figure of a plan is given (to a
    tenth, a plan of ten troops for two weeks read '$0.0M')."""
    return f"${dollars / 1e6:,.3f}M"


def cost_words(problem: Problem, x: np.ndarray) -> str:
    """What plan `x` costs, and the person-days it pays, in the reported period and before it:
    '$0.193M of planned staff: 1,050 person-days in the reported period, 2023-04-20 to
    2023-05-31 (and 120 before it, ramping up)'."""
    first, last = problem.window_dates(0)[0], problem.window_dates(len(problem.windows) - 1)[1]
    paid = float(problem.person_days_by_pool(x).sum())
    before = float(problem.headcount(x)[: problem.windows[0][0]].sum()) + float(
        problem.unsimulated_person_days(x).sum()
    )
    ramp = f" (and {before:,.0f} before it, ramping up)" if round(before) > 0 else ""
    return (
        f"{millions(problem.cost(x))} of planned staff: {paid - before:,.0f} person-days in the "
        f"reported period, {first:%Y-%m-%d} to {last:%Y-%m-%d}{ramp}"
    )


def deployment_lines(problem: Problem, x: np.ndarray) -> list[str]:
    """The plan in words, for the terminal: the windows' dates, then per pool the people serving
    in each window, its tasks and the sectors it serves in."""
    windows = ", ".join(
        f"{a:%Y-%m-%d} to {b:%Y-%m-%d}"
        for a, b in (problem.window_dates(w) for w in range(len(problem.windows)))
    )
    lines = [f"people serving in each window ({windows}):"]
    for k, pool in enumerate(problem.spec.pools):
        tasks = ", ".join(t.name.lower() for t in pool.tasks)
        sectors = "; ".join(
            f"{sector.name} " + ", ".join(f"{v:,.0f}" for v in x[k, s])
            for s, sector in enumerate(problem.base.sectors)
            if x[k, s].any()
        )
        where = f"; {sectors}" if sectors else ""
        lines.append(
            f"  {pool.pool.name.lower():>22}: "
            + ", ".join(f"{v:,.0f}" for v in x[k].sum(axis=0))
            + f"  (on {tasks}{where})"
        )
    return lines


#: Each target kind in words, as the report and bordersim plan name it.
TARGET_WORDS = {
    "within_72h": "share out of custody within 72 h",
    "children_within_72h": "children's share out of custody within 72 h",
    "gotaways": "got-aways' share of attempts",
}


def target_words(kind: str, level: float | None) -> str:
    """'share out of custody within 72 h, at least 0.95': the target in words, with its level."""
    if level is None:
        return TARGET_WORDS[kind]
    bound = "at most" if kind == "gotaways" else "at least"
    return f"{TARGET_WORDS[kind]}, {bound} {level:g}"


def objective_words(spec: PlanSpec) -> str:
    """What the plan is for, in one sentence: the cheapest deployment of its pools that meets
    every target in every sector and target week with the probability asked."""

    def listed(words: list[str]) -> str:
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    targets = [
        f"the {TARGET_WORDS[kind]} is {'at most' if kind == 'gotaways' else 'at least'} {level:g}"
        for kind, level in target_levels(spec.targets).items()
        if level is not None
    ]
    demand = [] if spec.demand_scale == 1.0 else [f"at demand x {spec.demand_scale:g}"]
    if spec.quantiles is not None:
        quantile = ", ".join(f"{q:g}" for q in spec.quantiles.quantiles)
        demand.append(
            f"for quantile {quantile} of the demand forecast from {spec.quantiles.origin:%Y-%m}"
        )
    if spec.forecast is not None:
        demand.append(
            f"over {spec.forecast.paths} sample paths of the demand forecast from "
            f"{spec.forecast.origin:%Y-%m}"
        )
    scale = f" ({', '.join(demand)})" if demand else ""
    return (
        f"the cheapest deployment of {listed([p.pool.name.lower() for p in spec.pools])} such "
        f"that, in every sector and target week, {listed(targets)}, each with a probability of "
        f"at least {percent(1 - spec.targets.alpha)}{scale}"
    )


def out_of_reach_lines(problem: Problem, outcome: SearchOutcome, engine: str) -> list[str]:
    """The targets out of reach, for the terminal: per sector and target, the weeks (numbers and
    dates) and, for those found on the search's sample, how far the plan at the caps fell short:
    its mean value each week over the sample. (The share of replications it held in does not say
    it: the search's rule also asks for a margin, so a target may hold in every replication of a
    small sample and still be out of reach.)"""
    m, spec = problem.base, problem.spec
    levels = target_levels(spec.targets)
    caps = outcome.caps_evaluation
    needed = percent(1 - spec.targets.alpha)
    lines: list[str] = []
    for label, found, measured in (
        ("at the caps", outcome.unattainable & ~outcome.unreachable_certifying, True),
        (f"at the caps on the {engine} engine", outcome.unreachable_certifying, False),
    ):
        for n, kind in enumerate(KINDS):
            for s, sector in enumerate(m.sectors):
                weeks = [j for j in range(len(problem.weeks)) if found[n, s, j]]
                if not weeks:
                    continue
                first = m.dates[m.warmup_days + problem.weeks[weeks[0]][0]]
                last = m.dates[m.warmup_days + problem.weeks[weeks[-1]][1] - 1]
                numbers = ", ".join(str(j + 1) for j in weeks)
                line = (
                    f"  {sector.name}, {target_words(kind, levels[kind])}: "
                    f"{'week' if len(weeks) == 1 else 'weeks'} {numbers} "
                    f"({first:%Y-%m-%d} to {last:%Y-%m-%d}), out of reach {label}"
                )
                if measured:
                    means = caps.values.mean(axis=0)[n, s, weeks]
                    mean = (
                        ", ".join(f"{v:.3f}" for v in means)
                        if len(weeks) <= 6
                        else f"{means.min():.3f} to {means.max():.3f}"
                    )
                    line += (
                        f": there its mean value was {mean} over {caps.n_replications} "
                        f"replications, short of the search's rule for a probability of {needed} "
                        "(the target met, with a margin, in nearly every replication)"
                    )
                lines.append(line)
    return lines


def over_budget(cost: float, budget: float, search_within: bool | None, search_cost: float) -> str:
    """The line that says a plan costs more than the plan file's budget_dollars, and why: the
    search found no plan within it that met every target on its sample (and so planned as
    without it), or its plan was within it and the certification's repairs added staff."""
    head = (
        f"over the budget: the plan costs {millions(cost)} against budget_dollars = "
        f"{millions(budget)}; "
    )
    if search_within:
        why = (
            f"the search's plan ({millions(search_cost)}) was within it and met every target "
            "on the search's sample, and the certification's repairs added staff where fresh "
            "replications missed targets"
        )
    else:
        why = (
            "no plan within it that the search simulated met every target on the search's "
            "sample, so the planner planned as without a budget"
        )
    return f"{head}{why} (docs/planner.md, 'The plan file')"


def _list(a: np.ndarray) -> Any:
    return np.round(a, 6).tolist()


UNPROVEN_WITH_MOVES = (
    "; not proven: the scenario moves people between sectors (lateral decompression), which "
    "the bounds do not model (docs/planner.md)"
)


def gap_proven(model: CompiledModel, cost: float) -> bool:
    """Whether the gap against the lower bound is proven. Neither bound models people moved
    between sectors (docs/planner.md, "Lateral decompression"): where the scenario moves them,
    only a plan that costs nothing is proven optimal."""
    return cost <= 0 or not bool(np.any(model.decompression_active))


def certificate_json(
    *,
    problem: Problem,
    spec: PlanSpec,
    x: np.ndarray,
    cost: float,
    lower_bound: float,
    lower_bound_valid: bool,
    certificate: Any,
    probe_bound: Any = None,
    values_mean: np.ndarray,
    unattainable: np.ndarray,
    search: dict[str, Any],
    unreachable_certifying: np.ndarray | None = None,
    timings: dict[str, float],
) -> dict[str, Any]:
    """certificate.json's contents: the plan, its cost against the lower bound, and each target's
    certified claim."""
    m = problem.base
    constraints = _constraints_json(
        problem, spec, certificate, values_mean, unattainable, unreachable_certifying
    )
    fluid_kind = _fluid_bound_kind(lower_bound_valid)
    bound_dollars, kind = _gap_bound(spec, lower_bound, fluid_kind, probe_bound)
    gap = _gap(cost, bound_dollars)
    proven = gap_proven(m, cost)
    if not proven:
        kind += UNPROVEN_WITH_MOVES
    return {
        "scenario": m.scenario_name,
        "plan": spec.name,
        "demand_scale": spec.demand_scale,
        "forecast": _forecast_json(problem),
        "targets": _targets_json(spec.targets),
        "certified": bool(certificate.all_certified),
        "cost_dollars": cost,
        "cost_by_pool_dollars": _cost_by_pool_json(problem, spec, x),
        "budget_dollars": spec.budget_dollars,
        "within_budget": None if spec.budget_dollars is None else cost <= spec.budget_dollars,
        "lower_bound_dollars": bound_dollars,
        "lower_bound_kind": kind,
        "fluid_lower_bound_dollars": lower_bound,
        "fluid_lower_bound_kind": fluid_kind,
        "probe_bound": None if probe_bound is None else _probe_json(problem, probe_bound),
        "gap": gap,
        "gap_proven": proven,
        "certification": _certification_json(certificate, spec.targets),
        "search": search,
        "timings_s": timings,
        "constraints": constraints,
        "decision": _decision_json(problem, spec, x),
    }


def target_levels(targets: Targets) -> dict[str, float | None]:
    """Each target kind's level (None: the plan file sets no such target)."""
    return {
        "within_72h": targets.within_72h,
        "children_within_72h": targets.children_within_72h,
        "gotaways": targets.gotaway_share_max,
    }


def _constraints_json(
    problem: Problem,
    spec: PlanSpec,
    certificate: Certificate,
    values_mean: np.ndarray,
    unattainable: np.ndarray,
    unreachable_certifying: np.ndarray | None,
) -> list[dict[str, Any]]:
    """One entry per target the plan file sets, sector and target week, in that order."""
    m = problem.base
    levels = target_levels(spec.targets)
    constraints = []
    for n, kind in enumerate(KINDS):
        if levels[kind] is None:
            continue
        for s, sector in enumerate(m.sectors):
            for j, (a, b) in enumerate(problem.weeks):
                constraints.append(
                    {
                        "kind": kind,
                        "sector": sector.name,
                        "week": j + 1,
                        **_week_dates_json(m, a, b),
                        "target": levels[kind],
                        "sense": "<=" if kind == "gotaways" else ">=",
                        **_claim_json(
                            (n, s, j),
                            certificate,
                            values_mean,
                            unattainable,
                            unreachable_certifying,
                        ),
                    }
                )
    return constraints


def _week_dates_json(m: CompiledModel, a: int, b: int) -> dict[str, str]:
    """The first and last dates of the target week of days [a, b) after the warm-up."""
    first = m.dates[m.warmup_days + a]
    last = m.dates[m.warmup_days + b - 1]
    return {"from": first.isoformat(), "to": last.isoformat()}


def _claim_json(
    at: tuple[int, int, int],
    certificate: Certificate,
    values_mean: np.ndarray,
    unattainable: np.ndarray,
    unreachable_certifying: np.ndarray | None,
) -> dict[str, Any]:
    """What the certificate claims of the target `at` (kind, sector, week)."""
    return {
        "required": bool(certificate.required[at]),
        "attainable_at_caps": not bool(unattainable[at]),
        # out of reach on the certifying engine though the search found it
        # within reach (docs/planner.md, "Reach on the certifying engine")
        "out_of_reach_when_certified": bool(
            unreachable_certifying is not None and unreachable_certifying[at]
        ),
        "mean_value": float(values_mean[at]),
        "successes": int(certificate.successes[at]),
        "probability": float(certificate.successes[at] / certificate.n),
        "interval": [
            float(certificate.interval_low[at]),
            float(certificate.interval_high[at]),
        ],
        "lower_bound": float(certificate.lower[at]),
        "certified": bool(certificate.certified[at]),
    }


def _fluid_bound_kind(lower_bound_valid: bool) -> str:
    """What the fluid program's lower bound is valid for."""
    return "fluid relaxation (HiGHS dual bound); valid for the fluid model only" + (
        "" if lower_bound_valid else "; some weeks unattainable even in the fluid model"
    )


def _gap_bound(
    spec: PlanSpec, lower_bound: float, fluid_kind: str, probe_bound: ProbeBound | None
) -> tuple[float, str]:
    """The lower bound the gap is measured against, in dollars, and what it is valid for: the
    probe bound where there is one, else the fluid program's."""
    if probe_bound is None:
        return lower_bound, fluid_kind
    kind = (
        f"probe bound: valid for the chance-constrained problem on the {search_engine(spec)} "
        f"engine at {percent(probe_bound.confidence)} confidence jointly, if the targets are "
        "monotone in headcount (docs/planner.md, 'The probe bound')"
    )
    return float(probe_bound.dollars), kind


def _gap(cost: float, bound_dollars: float) -> float:
    """How far above the lower bound the plan's cost is, as a share of the cost (0 when the plan
    costs nothing)."""
    return max(cost - bound_dollars, 0.0) / cost if cost > 0 else 0.0


def _targets_json(targets: Targets) -> dict[str, Any]:
    return {
        "within_72h": targets.within_72h,
        "children_within_72h": targets.children_within_72h,
        "gotaway_share_max": targets.gotaway_share_max,
        "alpha": targets.alpha,
        "confidence": targets.confidence,
    }


def _cost_by_pool_json(problem: Problem, spec: PlanSpec, x: np.ndarray) -> dict[str, float]:
    return {
        p.pool.name.lower(): float(c)
        for p, c in zip(spec.pools, problem.cost_by_pool(x), strict=True)
    }


def _certification_json(certificate: Certificate, targets: Targets) -> dict[str, Any]:
    """How the plan was certified: on which replications, and by what test."""
    return {
        "engine": certificate.engine,
        "seed": certificate.seed,
        "replications": certificate.n,
        "replication_ids": list(certificate.replications),
        "method": f"Clopper-Pearson one-sided lower bound at {percent(targets.confidence)} per "
        "constraint; certified when it is at least 1 - alpha",
    }


def _decision_json(problem: Problem, spec: PlanSpec, x: np.ndarray) -> dict[str, Any]:
    """The plan itself: people per pool, sector and window, with the axes' names and dates."""
    return {
        "pools": [p.pool.name.lower() for p in spec.pools],
        "sectors": [s.name for s in problem.base.sectors],
        "windows": [
            [problem.window_dates(w)[0].isoformat(), problem.window_dates(w)[1].isoformat()]
            for w in range(len(problem.windows))
        ],
        "headcount": _list(x),
    }


def search_engine(spec: PlanSpec) -> str:
    return spec.search.certify_engine


def _forecast_json(problem: Problem) -> dict[str, Any] | None:
    """What the replications' demand came from, with planning against forecast paths or for a
    forecast quantile (None: the base scenario's own demand)."""
    quantiles = problem.spec.quantiles
    if quantiles is not None:
        return {
            "origin": f"{quantiles.origin:%Y-%m}",
            "quantile": quantiles.quantiles[0],
            "source": "the base scenario with [demand.forecast] at this origin and quantile: "
            "every sector's monthly encounters after the origin at this quantile of the "
            "ensemble forecast (docs/forecast.md)",
        }
    paths = problem.paths
    if paths is None:
        return None
    return {
        "origin": f"{paths.origin:%Y-%m}",
        "paths": paths.n_paths,
        "seed": paths.seed,
        "source": paths.source,
        "replications_per_path": "spread as evenly as the replications allow; each path on "
        "replication streams of its own (seed + 1,000,003 x path)",
    }


def _probe_json(problem: Problem, found: Any) -> dict[str, Any]:
    pools = [p.pool.name.lower() for p in problem.spec.pools]
    return {
        "dollars": float(found.dollars),
        "confidence": found.confidence,
        "replications_run": found.replications,
        "families": found.families,
        "families_skipped_for_time": found.families_skipped,
        "cuts": [
            {
                "sector": problem.base.sectors[cut.sector].name,
                "pools": pools,
                "headcount_per_window": _list(cut.levels),
                "meaning": "a plan that meets the targets has, in this sector, some pool and "
                "window with at least one step more than this",
            }
            for cut in found.cuts
        ],
        "probes": found.probes,
    }


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1)
