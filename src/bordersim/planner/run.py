"""`plan(...)`: the four stages end to end, and the planner's files."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bordersim.callbacks import described, takes_positional
from bordersim.engines import progress_words
from bordersim.model.compiled import CompiledModel
from bordersim.planner.bound import PROBE_SEED_OFFSET, ProbeBound, probe_bound
from bordersim.planner.certify import Certificate, certify
from bordersim.planner.demand_paths import DemandPaths, demand_paths, run_over_paths
from bordersim.planner.evaluate import Simulator, run_flow, run_on_engine
from bordersim.planner.output import gap_percent, millions, percent
from bordersim.planner.problem import Problem, build_problem
from bordersim.planner.search import SearchOutcome, caps_by_load, feasible, optimise
from bordersim.planner.spec import PlanError, PlanSpec, check_certify_replications, load_plan
from bordersim.planner.targets import Evaluation, evaluate
from bordersim.planner.trim import CONFIRM_FACTOR, TrimOutcome, trim
from bordersim.results.schema import RunResult
from bordersim.scenario import Scenario
from bordersim.words import counted

#: Offsets that keep the certification's replications apart from the search's (another seed).
CERTIFY_SEED_OFFSET = 7919
#: Called with (replications done, replications in all) during an event-engine certification.
Tick = Callable[[int, int], None]
#: Certification rounds after the first: each adds staff where replications missed a target and
#: certifies again on new replications.
MAX_REPAIRS = 2
#: Seed offset of the trim's screen sample (docs/planner.md, "The trim"); its confirmations use
#: the certification's offsets after the repairs'.
TRIM_SEED_OFFSET = 49979687
#: Seed offset of the reach check on the certifying engine (the plan at the caps, then the plan
#: with no planned staff), apart from the search's, the certifications' and the probes'.
REACH_SEED_OFFSET = 104729


@dataclass
class FrontierPoint:
    q: float
    cost: float
    feasible: bool  # meets every attainable target in the search sample
    certified: bool | None  # only the main target is certified
    # the sector-week targets within reach at this share, which its plan must meet: a looser
    # share may reach more of them, and so cost more
    required: int | None = None


@dataclass
class BaseComparison:
    cost: float  # the replaced deployments' staff cost
    headcount: np.ndarray  # [D, S, K] planned pools' people in the base scenario
    evaluation: Evaluation
    missed: int  # required sector-week targets missed in the sample

    def __repr__(self) -> str:
        """One line, as a `PlanResult`'s: the dataclass's own repr printed the headcount of
        every day, sector and pool and every replication's value of every target."""
        days, sectors, pools = self.headcount.shape
        return (
            f"{type(self).__name__}(the replaced deployments cost {millions(self.cost)}, "
            f"{counted(self.missed, 'required sector-week')} missed on "
            f"{counted(self.evaluation.n_replications, 'replication')}; headcount "
            f"[{counted(days, 'day')}, {counted(sectors, 'sector')}, {counted(pools, 'pool')}])"
        )


@dataclass
class PlanResult:
    problem: Problem
    outcome: SearchOutcome
    x: np.ndarray
    cost: float
    certificate: Certificate
    certificate_json: dict[str, Any]
    frontier: list[FrontierPoint]
    base: BaseComparison | None
    timings: dict[str, float]
    files: dict[str, Path] = field(default_factory=dict)
    plan_text: str = ""

    @property
    def gap(self) -> float:
        return float(self.certificate_json["gap"])

    def __repr__(self) -> str:
        """One line, as a `Run`'s: the dataclass's own repr printed every array of the problem,
        the search and the certificate (90,000 characters for a tiny plan) in a notebook."""
        certified = "certified" if self.certificate.all_certified else "not certified"
        pools, sectors, windows = self.x.shape
        shape = (
            f"{counted(pools, 'pool')}, {counted(sectors, 'sector')}, {counted(windows, 'window')}"
        )
        written = f", written to {self.files['plan.toml'].parent}" if self.files else ""
        # the gap as `bordersim plan` prints it ("gap 12.5 %")
        return (
            f"PlanResult({self.problem.spec.name!r} on {self.certificate_json['scenario']!r}, "
            f"{certified}, cost {millions(self.cost)}, gap {gap_percent(self.gap)}, deployment "
            f"[{shape}], {counted(len(self.frontier), 'frontier point')}{written})"
        )


def _quiet(_: str) -> None:
    return None


def _certify_model(
    problem: Problem,
    x: np.ndarray,
    plan_text: str | None,
    scenario_path: Path | None,
    out_dir: Path | None,
) -> CompiledModel:
    """The model that certification runs: the written plan.toml compiled (it carries the plan's
    demand scale), else the decision on the problem's model."""
    if plan_text is None or scenario_path is None or out_dir is None:
        return problem.model_for(x)
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario

    return compile_scenario(load_scenario(out_dir / "plan.toml"))


def _base_comparison(
    model: CompiledModel, problem: Problem, sim: Simulator, required: np.ndarray
) -> BaseComparison:
    scaled = model.replace(
        first_attempts_per_day=model.first_attempts_per_day * problem.spec.demand_scale
    )
    run = run_over_paths(run_flow, scaled, problem.paths, sim.replications, sim.seed)
    sim.replications_run += sim.replications
    ev = evaluate(run, problem.weeks, sim.targets)
    pools = [int(p.pool) for p in problem.spec.pools]
    replaced = [
        c
        for c, name in enumerate(model.crew_names)
        if any(name.startswith(f"deployment {r}:") for r in problem.spec.replace)
    ]
    headcount = np.zeros((model.n_days, model.n_sectors, len(pools)))
    cost = 0.0
    for c in replaced:
        pool = int(model.crew_pool[c])
        days = model.crew_headcount[:, :, c]
        cost += float(days.sum() * model.cost_per_person_day[pool])
        if pool in pools:
            headcount[:, :, pools.index(pool)] += days
    missed = int((~feasible(ev, required, sim.targets.alpha)).sum())
    return BaseComparison(cost=cost, headcount=headcount, evaluation=ev, missed=missed)


def plan_model(
    model: CompiledModel,
    spec: PlanSpec,
    *,
    progress: Callable[[str], None] = _quiet,
    tick: Tick | None = None,
    scenario_path: Path | None = None,
    out_dir: Path | None = None,
    frontier: bool = True,
    compare_base: bool = True,
    bound: bool = True,
    paths: DemandPaths | None = None,
) -> PlanResult:
    """Plan on a compiled model. With `scenario_path` and `out_dir`, write plan.toml,
    certificate.json and report.html there (certifying the compiled plan.toml). `tick(done,
    total)` is called after each event-engine certification replication. With `bound`, the
    probe bound (`planner/bound.py`) gives the gap, else the fluid program's. A plan file with
    ``[forecast]`` needs its `paths`, and one with a forecast quantile its model compiled for it:
    `planning_model` gives both."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    _check_certify_replications(spec)
    problem = build_problem(model, spec, paths)
    sim = Simulator(problem, spec.search.replications, spec.search.seed, spec.targets)
    outcome = _search(problem, sim, progress)
    _lap(timings, "search_s", started)
    files = _PlanFile(problem, model.scenario_name, scenario_path, out_dir)
    outcome, x, certificate, evaluation, runs = _certify_and_repair(
        problem, outcome, files, progress, tick
    )
    _lap(timings, "certify_s", started)
    trimmed = _trim(problem, outcome, x, certificate, files, progress, tick, timings, runs)
    plan = _after_trim(_CertifiedPlan(x, certificate, evaluation, runs), trimmed)
    _lap(timings, "trim_s", started)
    cost = problem.cost(plan.x)
    probed = _probe_bound(problem, plan.x, outcome, progress, tick) if bound else None
    _lap(timings, "bound_s", started)
    points = _frontier(problem, sim, outcome, progress) if frontier else []
    _lap(timings, "frontier_s", started)
    base = _compare_with_base(model, problem, sim, outcome, progress) if compare_base else None
    timings["total_s"] = time.perf_counter() - started
    data = _certificate_data(problem, outcome, plan, cost, probed, sim, trimmed, timings)
    result = PlanResult(
        problem,
        outcome,
        plan.x,
        cost,
        plan.certificate,
        data,
        points,
        base,
        timings,
        plan_text=files.text or "",
    )
    if out_dir is not None and scenario_path is not None:
        result.files = _write_certificate_and_report(result, out_dir, progress)
    return result


def _check_certify_replications(spec: PlanSpec) -> None:
    """Refuse a plan whose certification has too few replications to certify its alpha at its
    confidence, before any time is spent searching (a plan file is checked as it is read; a
    `PlanSpec` made in Python, or changed after, is checked here)."""
    check_certify_replications(spec.search, spec.targets, spec.location)


def _search(problem: Problem, sim: Simulator, progress: Callable[[str], None]) -> SearchOutcome:
    """Stages 1-2: the cheapest plan that meets the targets on the search's sample."""
    progress(
        f"{counted(problem.shape[0], 'pool')} x {counted(problem.shape[1], 'sector')} x "
        f"{counted(problem.shape[2], 'window')}; {counted(len(problem.weeks), 'target week')}"
    )
    return optimise(problem, sim, q=problem.spec.targets.within_72h, progress=progress)


def _lap(timings: dict[str, float], stage: str, started: float) -> None:
    """Record the seconds `stage` took: those since `started` less the stages recorded before it."""
    elapsed = time.perf_counter() - started
    for earlier in timings.values():
        elapsed -= earlier
    timings[stage] = elapsed


@dataclass(frozen=True)
class _CertifiedPlan:
    """The plan certified so far, its certificate and the evaluation behind it, and the
    certification replications run in all (those of plans certified before it included)."""

    x: np.ndarray
    certificate: Certificate
    evaluation: Evaluation
    runs: int


def _after_trim(plan: _CertifiedPlan, trimmed: TrimOutcome | None) -> _CertifiedPlan:
    """The trim's cheaper plan where it certified one, else `plan`; the trim's replications
    count either way."""
    if trimmed is None:
        return plan
    runs = plan.runs + trimmed.replications
    if trimmed.certificate is not None and trimmed.evaluation is not None:
        return _CertifiedPlan(trimmed.x, trimmed.certificate, trimmed.evaluation, runs)
    return dataclasses.replace(plan, runs=runs)


def _compare_with_base(
    model: CompiledModel,
    problem: Problem,
    sim: Simulator,
    outcome: SearchOutcome,
    progress: Callable[[str], None],
) -> BaseComparison:
    progress("comparing with the base scenario's deployment")
    return _base_comparison(model, problem, sim, outcome.required)


def _certificate_data(
    problem: Problem,
    outcome: SearchOutcome,
    plan: _CertifiedPlan,
    cost: float,
    probed: ProbeBound | None,
    sim: Simulator,
    trimmed: TrimOutcome | None,
    timings: dict[str, float],
) -> dict[str, Any]:
    """certificate.json's contents for the certified plan."""
    from bordersim.planner.output import certificate_json

    return certificate_json(
        problem=problem,
        spec=problem.spec,
        x=plan.x,
        cost=cost,
        lower_bound=outcome.lower_bound,
        lower_bound_valid=outcome.lower_bound_valid,
        probe_bound=probed,
        certificate=plan.certificate,
        values_mean=plan.evaluation.values.mean(axis=0),
        unattainable=outcome.unattainable,
        unreachable_certifying=outcome.unreachable_certifying,
        search=_search_json(problem, outcome, sim, plan.runs, trimmed),
        timings=timings,
    )


def _search_json(
    problem: Problem,
    outcome: SearchOutcome,
    sim: Simulator,
    certify_runs: int,
    trimmed: TrimOutcome | None,
) -> dict[str, Any]:
    """certificate.json's "search": the search's budget and history, and the trim's."""
    search = problem.spec.search
    return {
        "engine": "flow",
        "seed": search.seed,
        "replications": search.replications,
        "flow_replications_run": sim.replications_run,
        "certification_replications_run": certify_runs,
        "history": outcome.history,
        "trim": [] if trimmed is None else trimmed.history,
        "unattainable_at_caps": int(outcome.unattainable.sum()),
        "out_of_reach_on_certifying_engine": int(outcome.unreachable_certifying.sum()),
        "fluid_cost_dollars": outcome.fluid.cost,
        "plan_cost_dollars": problem.cost(outcome.x),
        # whether the search's plan met every target on its sample within the plan file's
        # budget (null without one); false: it planned as without the budget
        "within_budget": outcome.within_budget,
    }


def _write_certificate_and_report(
    result: PlanResult, out_dir: Path, progress: Callable[[str], None]
) -> dict[str, Path]:
    """Write certificate.json and report.html beside plan.toml; returns the three files."""
    from bordersim.planner.output import dump_json, write_atomic
    from bordersim.planner.report import plan_report

    progress("writing the certificate and the report")
    write_atomic(out_dir / "certificate.json", dump_json(result.certificate_json))
    write_atomic(out_dir / "report.html", plan_report(result))
    return {name: out_dir / name for name in ("plan.toml", "certificate.json", "report.html")}


@dataclass
class _PlanFile:
    """plan.toml, written (and rewritten after each repair) when there is a folder for it."""

    problem: Problem
    scenario_name: str
    scenario_path: Path | None
    out_dir: Path | None
    text: str | None = None

    def write(self, x: np.ndarray) -> None:
        if self.scenario_path is None or self.out_dir is None:
            return
        from bordersim.planner.output import plan_toml, write_atomic

        spec = self.problem.spec
        summary = (
            f"cheapest plan found for {percent(spec.targets.within_72h)} within 72 h with "
            f"probability {percent(1 - spec.targets.alpha)}: "
            f"{millions(self.problem.cost(x))} of planned staff"
        )
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.text = plan_toml(
            self.problem,
            x,
            self.scenario_path,
            self.out_dir,
            f"{self.scenario_name}-plan",
            summary,
        )
        write_atomic(self.out_dir / "plan.toml", self.text)


def _certify_and_repair(
    problem: Problem,
    outcome: SearchOutcome,
    files: _PlanFile,
    progress: Callable[[str], None],
    tick: Tick | None,
) -> tuple[SearchOutcome, np.ndarray, Certificate, Evaluation, int]:
    """Certify the search's plan; drop the missed targets that are out of reach on the
    certifying engine (`_reach_on_certifying_engine`); where a replication missed a target
    still required, repair and certify again on yet another set of fresh replications (at most
    MAX_REPAIRS times). Returns the outcome (its required targets updated), the plan, its last
    certificate and evaluation, and the certification replications run in all."""
    x = outcome.x
    files.write(x)

    def certified(attempt: int) -> tuple[Certificate, Evaluation]:
        return _certify(
            problem,
            x,
            outcome,
            files.text,
            files.scenario_path,
            files.out_dir,
            progress,
            attempt,
            tick,
        )

    certificate, evaluation = certified(0)
    runs = certificate.n
    outcome, certificate, checked = _reach_on_certifying_engine(
        problem, outcome, x, certificate, evaluation, progress, tick
    )
    runs += checked
    for attempt in range(1, MAX_REPAIRS + 1):
        # repair only where a replication missed the target (a target held in every replication
        # is uncertified only when there are too few replications)
        failed = np.asarray(
            ((~certificate.certified) & (certificate.successes < certificate.n)).any(axis=0)
        )
        if not failed.any():
            break
        progress(f"certification missed {counted(int(failed.sum()), 'sector-week')}: repairing")
        repaired = repair(problem, x, failed)
        if np.array_equal(repaired, x):
            break  # at the caps
        x = repaired
        files.write(x)
        certificate, evaluation = certified(attempt)
        runs += certificate.n
    return outcome, x, certificate, evaluation, runs


def _trim(
    problem: Problem,
    outcome: SearchOutcome,
    x: np.ndarray,
    certificate: Certificate,
    files: _PlanFile,
    progress: Callable[[str], None],
    tick: Tick | None,
    timings: dict[str, float],
    certify_runs: int,
) -> TrimOutcome | None:
    """Cheaper variants of the certified plan `x`, certified on fresh replications
    (`planner/trim.py`; docs/planner.md, "The trim"). Only when `x` is certified and deploys
    anyone. Within `search.trim_seconds`: screens stop early enough to leave time for two
    confirmations, each taking about CONFIRM_FACTOR times as long as one certification did."""
    search = problem.spec.search
    if not (certificate.all_certified and x.any() and search.trim_seconds > 0):
        return None
    started = time.perf_counter()
    per_run = timings["certify_s"] * certificate.n / max(certify_runs, 1)
    n, engine = search.certify_replications, search.certify_engine
    screen_seed = search.seed + TRIM_SEED_OFFSET
    progress(
        f"trim: cheaper variants of the plan, screened on {n} {engine}-engine replications "
        f"(seed {screen_seed})"
    )

    def screen(plan: np.ndarray) -> Evaluation:
        run = _run_certifying(problem, problem.model_for(plan), n, screen_seed, engine, tick)
        return evaluate(run, problem.weeks, problem.spec.targets)

    def confirm(plan: np.ndarray, i: int) -> tuple[Certificate, Evaluation]:
        files.write(plan)
        return _certify(
            problem,
            plan,
            outcome,
            files.text,
            files.scenario_path,
            files.out_dir,
            progress,
            MAX_REPAIRS + 1 + i,
            tick,
            replications=CONFIRM_FACTOR * n,
        )

    found = trim(
        problem,
        x,
        certificate.required,
        screen,
        confirm,
        screen_until=started + search.trim_seconds - (2 * CONFIRM_FACTOR + 1) * per_run,
        confirm_until=started + search.trim_seconds - CONFIRM_FACTOR * per_run,
        progress=progress,
    )
    files.write(found.x)
    if found.certificate is not None:
        progress(f"trim: kept {millions(problem.cost(found.x))}, certified")
    else:
        progress("trim: no cheaper plan certified; the plan stays")
    return found


def _reach_on_certifying_engine(
    problem: Problem,
    outcome: SearchOutcome,
    x: np.ndarray,
    certificate: Certificate,
    evaluation: Evaluation,
    progress: Callable[[str], None],
    tick: Tick | None,
) -> tuple[SearchOutcome, Certificate, int]:
    """The search's test of reach, repeated on the certifying engine for the targets its first
    certification missed: a target that neither the plan with every pool at its cap (spread by
    load) nor the plan with no planned staff certifies, on fresh replications of that engine, is
    out of reach there and no longer required (it is listed, with its value, as out of reach).

    Why: the search judges reach on the flow engine, whose hourly fluid approximation has no
    queueing delay below saturation; in a small sector whose processing stations run near
    capacity the event engine holds people past 72 hours that the flow engine moves on, and no
    planned pool adds stations. Repairing such a target adds staff that cannot help. Returns the
    updated outcome, the certificate of `x` against the updated targets, and the replications
    run."""
    missed = certificate.required & ~certificate.certified
    if not missed.any():
        return outcome, certificate, 0
    spec = problem.spec
    n, engine = spec.search.certify_replications, spec.search.certify_engine
    reachable = np.zeros_like(missed)
    runs = 0
    plans = (("every pool at its cap", caps_by_load(problem)), ("no planned staff", None))
    for offset, (label, plan) in enumerate(plans):
        pending = missed & ~reachable
        if not pending.any():
            break
        if plan is None and not x.any():
            break  # the plan certified is the one with no planned staff: it missed them all
        seed = spec.search.seed + REACH_SEED_OFFSET + offset
        progress(
            f"{counted(int(pending.sum()), 'missed target')}: "
            f"{'are they' if pending.sum() > 1 else 'is it'} within reach on the {engine} engine "
            f"with {label}? ({counted(n, 'replication')}, seed {seed})"
        )
        trial = np.zeros(problem.shape) if plan is None else plan
        check = _run_certifying(
            problem, problem.model_for(trial), n, seed, engine, _reporting(progress, tick, engine)
        )
        runs += n
        held = _judge(problem, evaluate(check, problem.weeks, spec.targets), pending, engine, seed)
        reachable |= pending & held.certified
    out_of_reach = missed & ~reachable
    if out_of_reach.any():
        found = counted(int(out_of_reach.sum()), "target")
        progress(f"{found} out of reach on the {engine} engine: dropped")
    outcome = dataclasses.replace(
        outcome,
        required=outcome.required & ~out_of_reach,
        unattainable=outcome.unattainable | out_of_reach,
        unreachable_certifying=outcome.unreachable_certifying | out_of_reach,
    )
    recertified = _judge(
        problem, evaluation, outcome.required, certificate.engine, certificate.seed
    )
    return outcome, recertified, runs


def _run_certifying(
    problem: Problem, model: CompiledModel, n: int, seed: int, engine: str, tick: Tick | None
) -> RunResult:
    """`n` replications on the certifying engine, spread over the problem's forecast paths
    (`tick` as `run_on_engine` calls it)."""
    return run_on_engine(engine, model, problem.paths, n, seed, tick)


def _reporting(progress: Callable[[str], None], tick: Tick | None, engine: str) -> Tick:
    """A tick that reports each tenth of a certifying run on `engine` done (replications on the
    event engine, hours on the flow engine), then calls the caller's `tick`."""
    reported = 0

    def each(done: int, total: int) -> None:
        nonlocal reported
        tenth = 10 * done // max(1, total)
        if tenth > reported:
            reported = tenth
            progress(f"  certification: {progress_words(engine, done, total)}")
        if tick is not None:  # last: a caller may stop between ticks from here on
            tick(done, total)

    return each


def _judge(
    problem: Problem, ev: Evaluation, required: np.ndarray, engine: str, seed: int
) -> Certificate:
    """Certify the `required` targets of an evaluation at the plan file's alpha and confidence."""
    targets = problem.spec.targets
    return certify(
        ev, required, alpha=targets.alpha, confidence=targets.confidence, engine=engine, seed=seed
    )


def _probe_bound(
    problem: Problem,
    x: np.ndarray,
    outcome: SearchOutcome,
    progress: Callable[[str], None],
    tick: Tick | None,
) -> ProbeBound:
    """The probe bound below the certified plan, on the certification's engine and number of
    replications, with its own seed (docs/planner.md, "The probe bound")."""
    search = problem.spec.search
    progress(
        f"probe bound: {search.certify_engine}-engine probes of "
        f"{counted(search.certify_replications, 'replication')} each"
    )
    found = probe_bound(
        problem,
        x,
        outcome.required,
        engine=search.certify_engine,
        replications=search.certify_replications,
        seed=search.seed + PROBE_SEED_OFFSET,
        tick=tick,
        seconds=search.bound_seconds,
    )
    shown = sum(bool(p["shown_infeasible"]) for p in found.probes)
    skipped = (
        f"; {found.families_skipped} of {counted(found.families, 'probe family', 'probe families')}"
        " not started within "
        f"search.bound_seconds = {search.bound_seconds}"
        if found.families_skipped
        else ""
    )
    progress(
        f"probe bound {millions(found.dollars)} ({counted(len(found.probes), 'probe')}, "
        f"{shown} shown to miss a target{skipped})"
    )
    return found


def _frontier(
    problem: Problem, sim: Simulator, outcome: SearchOutcome, progress: Callable[[str], None]
) -> list[FrontierPoint]:
    """The cheapest plan the search (stages 1-3) finds on its sample for each of the frontier's
    shares, the plan's own share included (`outcome`: before certification, whose margin the
    report states beside it), so that every point stands on the same sample. The strictest share
    comes first, and a plan found for a stricter share stands for a looser one where it is
    cheaper and meets every target of the looser share on the sample: a looser target never
    costs more. Their replications count in `sim`'s."""
    spec = problem.spec
    points: dict[float, FrontierPoint] = {}
    stricter: list[np.ndarray] = []
    for q in sorted(spec.search.frontier, reverse=True):
        targets = dataclasses.replace(spec.targets, within_72h=q)
        if abs(q - spec.targets.within_72h) < 1e-9:
            other, point = sim, outcome
        else:
            other = Simulator(problem, spec.search.replications, spec.search.seed, targets)
            point = optimise(problem, other, q=q, progress=progress)
            sim.replications_run += other.replications_run
        best = point.x
        ok = bool(feasible(point.evaluation, point.required, targets.alpha).all())
        for plan in stricter:
            if ok and problem.cost(plan) >= problem.cost(best):
                continue
            done = other.replications_run
            if bool(feasible(other.evaluation(plan), point.required, targets.alpha).all()):
                best, ok = plan, True
            if other is not sim:
                sim.replications_run += other.replications_run - done
        stricter.append(best)
        points[q] = FrontierPoint(q, problem.cost(best), ok, None, int(point.required.sum()))
        progress(f"frontier {percent(q)}: {millions(problem.cost(best))}")
    return [points[q] for q in spec.search.frontier]


def repair(problem: Problem, x: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """`x` with a quarter more (at least one step) of every pool deployed in the windows of the
    failed sector-weeks, or one step of the cheapest pool where none is; within the caps."""
    from bordersim.planner.search import _week_windows

    caps = problem.upper_bounds()
    steps = np.array([p.step for p in problem.spec.pools], dtype=float)
    rates = np.array([problem.base.cost_per_person_day[p.pool] for p in problem.spec.pools])
    out = x.copy()
    week_window = _week_windows(problem)
    # once per sector-window, however many of its weeks failed (not a quarter per failed week)
    sectors, weeks = np.nonzero(failed)
    cells_failed = sorted(
        {(int(s), int(week_window[j])) for s, j in zip(sectors, weeks, strict=True)}
    )
    for s, w in cells_failed:
        cells = out[:, s, w] > 0
        if not cells.any():
            open_pools = np.flatnonzero(caps[:, s, w] > 0)
            if not len(open_pools):
                continue
            cells = np.zeros(len(steps), dtype=np.bool_)
            cells[open_pools[np.argmin(rates[open_pools])]] = True
        more = np.maximum(np.ceil(out[:, s, w] * 0.25 / steps) * steps, steps)
        out[cells, s, w] = np.minimum(out[cells, s, w] + more[cells], caps[cells, s, w])
    for k, pool in enumerate(problem.spec.pools):  # the border-wide cap
        total = out[k].sum(axis=0)
        over = total > pool.max_headcount
        if over.any():
            out[k][:, over] = x[k][:, over]
    return out


def _certify(
    problem: Problem,
    x: np.ndarray,
    outcome: SearchOutcome,
    plan_text: str | None,
    scenario_path: Path | None,
    out_dir: Path | None,
    progress: Callable[[str], None],
    attempt: int,
    tick: Tick | None = None,
    *,
    replications: int | None = None,
) -> tuple[Certificate, Evaluation]:
    spec = problem.spec
    search = spec.search
    seed = search.seed + CERTIFY_SEED_OFFSET * (attempt + 1)
    model = _certify_model(problem, x, plan_text, scenario_path, out_dir)
    n = search.certify_replications if replications is None else replications
    progress(f"certifying on {n} fresh {search.certify_engine}-engine replications (seed {seed})")
    run = _run_certifying(
        problem,
        model,
        n,
        seed,
        search.certify_engine,
        _reporting(progress, tick, search.certify_engine),
    )
    ev = evaluate(run, problem.weeks, spec.targets)
    cert = _judge(problem, ev, outcome.required, search.certify_engine, seed)
    progress(
        f"certified {int((cert.certified & cert.required).sum())} of "
        f"{int(cert.required.sum())} required sector-week targets"
    )
    return cert, ev


def forecast_paths(
    scenario: Scenario,
    model: CompiledModel,
    spec: PlanSpec,
    progress: Callable[[str], None] = _quiet,
) -> DemandPaths | None:
    """The forecast sample paths a plan file's ``[forecast]`` asks for (None without it), as
    factors of `model`'s demand (`model` is `scenario` compiled)."""
    if spec.forecast is None:
        return None
    forecast = spec.forecast
    progress(
        f"forecast: {forecast.paths} sample paths from {forecast.origin:%Y-%m} (the first time, "
        "every method at every origin: tens of seconds)"
    )
    return demand_paths(scenario, model, forecast.origin, forecast.paths, forecast.seed)


def planning_model(
    scenario: Path, spec: PlanSpec, progress: Callable[[str], None] = _quiet
) -> tuple[CompiledModel, DemandPaths | None]:
    """The base scenario file compiled for the plan (with its forecast quantile's demand, if the
    plan names one) and the forecast paths it plans against (None without them): what `plan`
    and the workbench's plan jobs give `plan_model`."""
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario

    base = load_scenario(scenario)
    check_against_base(base, spec)  # before the scenario is compiled and the paths are drawn
    scenario_read = quantile_scenario(base, spec)
    model = compile_scenario(scenario_read)
    return model, forecast_paths(scenario_read, model, spec, progress)


def check_against_base(
    scenario: Scenario, spec: PlanSpec, *, stress_option: str | None = None
) -> None:
    """What the plan file asks of the base scenario, checked quickly before any planning: its
    stress on the base's own demand scale within a scenario's (plan.toml carries their product
    as its [demand] scale, which a scenario refuses above MAX_DEMAND_SCALE), and its forecast.
    `stress_option` names the command-line option that set the stress, if one did: the error
    then names it, not the plan file's line (which holds another value, or none)."""
    from bordersim.planner.spec import DEMAND_SCALE_REASON, MAX_DEMAND_SCALE

    own = scenario.demand.scale
    planned = (1.0 if own is None else float(own)) * spec.demand_scale
    if planned > MAX_DEMAND_SCALE:
        on = "" if own is None else f" on the base scenario's own demand.scale = {own:g}"
        rule = (
            f"{on} plans for {planned:g} times the calibrated demand, above "
            f"{MAX_DEMAND_SCALE:,.0f}: {DEMAND_SCALE_REASON}"
        )
        if stress_option is not None:
            raise PlanError(f"{stress_option} {spec.demand_scale:g}{rule}")
        raise PlanError(
            f"demand_scale = {spec.demand_scale:g}{rule}", where=spec.location("demand_scale")
        )
    check_forecast(scenario, spec)


def check_forecast(scenario: Scenario, spec: PlanSpec) -> None:
    """The plan file's ``[forecast]`` (sample paths or quantiles) against the base scenario,
    quickly, before any planning: its origin within the calibration's months (an error names the
    plan file's line), and a base scenario without a forecast of its own."""
    from bordersim.planner.demand_paths import check_forecast_origin

    forecast = spec.forecast or spec.quantiles
    if forecast is not None:
        check_forecast_origin(scenario, forecast.origin, spec.location("forecast.origin"))


def quantile_scenario(scenario: Scenario, spec: PlanSpec) -> Scenario:
    """The base scenario with its first attempts after the plan's origin from its one forecast
    quantile (``[demand.forecast]``), or as it is for a plan without quantiles."""
    if spec.quantiles is None:
        return scenario
    forecast = spec.quantiles
    if len(forecast.quantiles) != 1:
        raise PlanError(
            f"forecast.quantiles: {len(forecast.quantiles)} quantiles are {len(forecast.quantiles)}"
            " plans; `bordersim plan` or `bordersim.planner.run.plan_quantiles` makes them",
            where=spec.location("forecast.quantiles"),
        )
    from bordersim.scenario import with_changes

    check_forecast(scenario, spec)
    table = {"origin": f"{forecast.origin:%Y-%m}", "quantile": forecast.quantiles[0]}
    return with_changes(scenario, {"demand.forecast": table})


#: The plans for a plan file's forecast quantiles side by side, one row per quantile and pool.
QUANTILES_TABLE = "quantiles.csv"


def quantile_folder(quantile: float) -> str:
    """Where `plan_quantiles` writes the plan for one quantile, inside its folder."""
    return f"quantile-{quantile!r}"  # the shortest text that reads back as the same number


def plan_quantiles(
    scenario: str | Path,
    plan_file: str | Path | PlanSpec,
    *,
    out: str | Path | None = None,
    progress: Callable[[str], None] = _quiet,
    frontier: bool = True,
    compare_base: bool = True,
) -> list[PlanResult]:
    """One plan per quantile of the plan file's ``[forecast] quantiles`` (ascending): what each
    level of protection against the forecast's uncertainty costs. With `out`, each plan is written
    to `out`/quantile-Q/ (`quantile_folder`) and the plans side by side to `out`/quantiles.csv."""
    spec = plan_file if isinstance(plan_file, PlanSpec) else load_plan(plan_file)
    if spec.quantiles is None:
        raise PlanError(
            "plan_quantiles needs [forecast] quantiles", where=spec.location("forecast")
        )
    results = []
    for q in spec.quantiles.quantiles:
        progress(f"quantile {q:g} of the forecast from {spec.quantiles.origin:%Y-%m}")
        one = dataclasses.replace(
            spec, quantiles=dataclasses.replace(spec.quantiles, quantiles=(q,))
        )
        where = Path(out) / quantile_folder(q) if out is not None else None
        results.append(
            plan(
                scenario,
                one,
                out=where,
                progress=progress,
                frontier=frontier,
                compare_base=compare_base,
            )
        )
    if out is not None:
        write_quantiles_table(Path(out) / QUANTILES_TABLE, results)
    return results


def write_quantiles_table(path: Path, results: list[PlanResult]) -> None:
    """One row per quantile and pool: the plan's cost, bound, targets certified, required and
    out of reach, the pool's people per window, and the windows' dates (first..last day, in the
    order of the people)."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "quantile",
                "cost_dollars",
                "lower_bound_dollars",
                "certified",
                "required",
                "out_of_reach",
                "pool",
                "people_per_window",
                "windows",
            ]
        )
        for result in results:
            quantiles, cert = result.problem.spec.quantiles, result.certificate
            assert quantiles is not None
            totals = result.x.sum(axis=1)
            problem = result.problem
            windows = " ".join(
                f"{a:%Y-%m-%d}..{b:%Y-%m-%d}"
                for a, b in (problem.window_dates(w) for w in range(len(problem.windows)))
            )
            for pool, people in zip(result.problem.spec.pools, totals, strict=True):
                writer.writerow(
                    [
                        quantiles.quantiles[0],
                        round(result.cost, 2),
                        round(result.certificate_json["lower_bound_dollars"], 2),
                        int((cert.certified & cert.required).sum()),
                        int(cert.required.sum()),
                        int(result.outcome.unattainable.sum()),
                        pool.pool.name.lower(),
                        " ".join(f"{v:.0f}" for v in people),
                        windows,
                    ]
                )


def _check_plan_arguments(
    scenario: object,
    plan_file: object,
    out: object,
    progress: object,
    frontier: object,
    compare_base: object,
) -> None:
    """Refuse, before any work, arguments `plan` cannot use, naming them as Python does (a
    Scenario object is refused: plan.toml inherits the base scenario by its file)."""

    def kind(value: object) -> str:
        return type(value).__name__

    if not isinstance(scenario, str | Path):
        raise PlanError(
            f"scenario must be a scenario file path (plan.toml inherits the base scenario from "
            f"its file), got {kind(scenario)}"
        )
    if not isinstance(plan_file, str | Path | PlanSpec):
        raise PlanError(f"plan_file must be a plan file path or a PlanSpec, got {kind(plan_file)}")
    if out is not None and not isinstance(out, str | Path):
        raise PlanError(f"out must be a folder path or None, got {kind(out)}")
    for name, given in (("scenario", scenario), ("plan_file", plan_file), ("out", out)):
        # an empty str is the current folder as a Path: out="" wrote the plan's files there; worded
        # as bs.run and the command line word an empty path
        if isinstance(given, str) and not given.strip():
            raise PlanError(f"{name} is empty (an unset variable?); give a path")
    if out is not None:
        # a file there (or above) would be a FileExistsError once the plan had been made
        folder = Path(out).absolute()
        if folder.is_symlink():
            # as `bordersim plan --out LINK` refuses it (`output_folders.check_output_folder`)
            pointed = os.path.realpath(folder)  # no error for a loop or a missing target
            instead = (
                "a new folder"
                if Path(pointed).is_symlink()
                else f"that folder ({pointed}) or a new one"
            )
            raise PlanError(
                "out is a symbolic link (plan.toml would name its base scenario from the link's "
                f"folder, not from the folder it points to); give {instead}",
                where=str(folder),
            )
        there = next(path for path in (folder, *folder.parents) if path.exists())
        if not there.is_dir():
            raise PlanError(
                "out names a file, not a folder; give a folder"
                if there == folder
                else f"out cannot be made: {there} is a file, not a folder",
                where=str(folder),
            )
    if not callable(progress):
        raise PlanError(f"progress must be a callable taking one message, got {kind(progress)}")
    if not takes_positional(progress, 1):
        # it would be a bare TypeError at the first stage, mid-plan
        raise PlanError(
            "progress is called as progress(message), with each stage's message; the function "
            f"given, {described(progress)}, cannot take it"
        )
    for name, value in (("frontier", frontier), ("compare_base", compare_base)):
        # a NumPy boolean (an array's .any()) is the switch it holds, as bs.run takes it
        if not isinstance(value, bool | np.bool_):
            raise PlanError(f"{name} must be True or False, got {value!r}")


def plan(
    scenario: str | Path,
    plan_file: str | Path | PlanSpec,
    *,
    out: str | Path | None = None,
    progress: Callable[[str], None] = _quiet,
    frontier: bool = True,
    compare_base: bool = True,
) -> PlanResult:
    """The cheapest time-phased deployment meeting the plan's targets, certified.

    `scenario` is a scenario file, `plan_file` a plan file (or a `PlanSpec`); with `out`, the
    planner writes plan.toml, certificate.json and report.html there. Also `bordersim.plan`.
    Arguments of the wrong kind are one-line `PlanError`s naming the argument. A path may
    start with ``~``, the home folder, as on the command line."""
    from bordersim.input_files import user_path

    scenario, plan_file, out = user_path(scenario), user_path(plan_file), user_path(out)
    _check_plan_arguments(scenario, plan_file, out, progress, frontier, compare_base)
    frontier, compare_base = bool(frontier), bool(compare_base)
    spec = plan_file if isinstance(plan_file, PlanSpec) else load_plan(plan_file)
    path = Path(scenario)
    if path.is_dir():
        raise PlanError("is a folder, not a scenario file", where=str(path))
    if not path.exists() and not path.is_symlink():
        raise PlanError("no such scenario file", where=str(path))
    from bordersim.input_files import MIB, check_regular_file

    # a pipe or a device named as such (as bs.load_scenario names it), before it is opened
    check_regular_file(path, what="scenario file", error=PlanError, limit=MIB)
    model, paths = planning_model(path, spec, progress)
    out_dir = Path(out) if out is not None else None

    def make(folder: Path | None) -> PlanResult:
        return plan_model(
            model,
            spec,
            paths=paths,
            progress=progress,
            scenario_path=path if folder is not None else None,
            out_dir=folder,
            frontier=frontier,
            compare_base=compare_base,
        )

    if out_dir is not None and out_dir.is_dir():
        if any(out_dir.iterdir()):
            # an earlier plan's folder: the new files are written beside it and put in place
            # only when the plan is made, so that a plan that fails leaves the earlier one whole
            return _plan_into_folder(out_dir, make)
        # an empty folder (`bordersim plan`'s work folder): written in place, emptied again if
        # the plan fails; a second work folder beside it would outlive a plan killed outright
        return _plan_into_empty_folder(out_dir, make)
    if out_dir is None or out_dir.exists():
        return make(out_dir)
    import shutil

    from bordersim.output_folders import parents_made_for

    # a new folder (and its new parents) goes again if the plan fails or is interrupted: it held
    # plan.toml alone, written before certification, which looked like a plan
    with parents_made_for(out_dir):
        try:
            return make(out_dir)
        except BaseException:
            shutil.rmtree(out_dir, ignore_errors=True)
            raise


def _plan_into_empty_folder(out_dir: Path, make: Callable[[Path], PlanResult]) -> PlanResult:
    """`make`'s plan, written into the empty folder `out_dir`, which is emptied again if `make`
    fails or is interrupted (plan.toml, written before certification, looked like a plan)."""
    import shutil

    try:
        return make(out_dir)
    except BaseException:
        for written in out_dir.iterdir():
            if written.is_dir() and not written.is_symlink():
                shutil.rmtree(written, ignore_errors=True)
            else:
                written.unlink(missing_ok=True)
        raise


def _plan_into_folder(out_dir: Path, make: Callable[[Path], PlanResult]) -> PlanResult:
    """`make`'s plan, written to a hidden folder beside the existing folder `out_dir` (at its
    depth, so that plan.toml's relative `base` holds) and its files then moved into `out_dir`
    one by one, each replacing the earlier plan's file of that name; the other files there are
    left as they are. If `make` fails or is interrupted, the hidden folder goes and `out_dir`
    is as it was: never a mix of the earlier plan's files and the new one's."""
    import os
    import shutil

    from bordersim.output_folders import make_work_folder

    work = make_work_folder(out_dir, prefix=f".{out_dir.name}-plan-")
    try:
        result = make(work)
        names = sorted(p.name for p in work.iterdir())
        for name in names:  # checked before any is moved: a folder in the way is no mix either
            if (out_dir / name).is_dir() and not (out_dir / name).is_symlink():
                raise PlanError(f"{name} in the out folder is a folder", where=str(out_dir))
        for name in names:
            os.replace(work / name, out_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.files = {name: out_dir / name for name in result.files}
    return result
