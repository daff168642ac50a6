"""Planner benchmark: bordersim's planner against black-box search and the uniform plan.

    python -m bench.plan [SCENARIO] [--plan PLAN] [--budget R] [--check-replications N]

Every method searches the same decision space (the plan file's pools x sectors x windows, in
steps) with the same simulation budget: R flow-engine replications in all (default: what the
planner's own search used), in candidates of the plan file's `search.replications` replications on
the same seeds (common random numbers). Methods:

- `bordersim`: the planner's four stages (fluid program, correction, local search, certification
  with repair), certifying on the flow engine; its certification replications count in the budget;
- `uniform`: every pool at the same fraction of its cap, spread by load; bisection on the fraction;
- `optuna-tpe`, `optuna-cmaes`: Optuna's TPE and CMA-ES samplers;
- `nevergrad`: Nevergrad's NGOpt;
- `square-root`, `mol`: square-root staffing of each sector-window's offered load (stationary:
  the window's mean; MOL: each day's, the window's largest day), beta from the Halfin-Whitt
  formula for P(wait) = 1 - q; then, as the iterative staffing algorithm would, beta is searched
  (bisection) on the sample for the smallest that meets every target (`planner/staffing.py`);
each black-box method minimises cost + a penalty per missed sector-week target (and per point of
share below the target). The best plan of each is then checked on N fresh flow replications
(another seed): "feasible" means every target within reach holds in at least 1 - alpha of them.
Needs the `bench` extra (Optuna, Nevergrad). Results: bench/results/plan-<host>.json and a table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import bench_arguments, count, existing_file
from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan, plan_model
from bordersim.planner.evaluate import Simulator
from bordersim.planner.problem import Problem, build_problem
from bordersim.planner.search import caps_by_load, feasible, round_down
from bordersim.planner.targets import Evaluation
from bordersim.scenario import load_scenario

DEFAULT_SCENARIO = Path("scenarios/examples/small-staff-bound.toml")
DEFAULT_PLAN = Path("plans/examples/small-stress.toml")
PENALTY_PER_MISS = 1e8  # dollars per missed sector-week target (far above any plan's cost)


class Budget(Exception):
    """The method has spent its simulation budget."""


def _objective(
    problem: Problem, sim: Simulator, required: np.ndarray, limit: int, best: dict[str, Any]
) -> Callable[[np.ndarray], float]:
    alpha = sim.targets.alpha

    def value(x: np.ndarray) -> float:
        if sim.replications_run + sim.replications > limit and x.tobytes() not in sim.cache:
            raise Budget
        ev = sim.evaluation(x)
        ok = feasible(ev, required, alpha)
        missed = int((~ok).sum())
        short = float(np.maximum(sim.targets.within_72h - ev.values[:, 0].mean(axis=0), 0).sum())
        cost = problem.cost(x)
        total = cost + PENALTY_PER_MISS * (missed + short)
        if missed == 0 and cost < best.get("cost", np.inf):
            best.update(cost=cost, x=x.copy())
        return total

    return value


def _decode(problem: Problem, unit: np.ndarray) -> np.ndarray:
    """[0, 1] per cell to headcount within caps (in steps), the border-wide cap applied."""
    caps = problem.upper_bounds()
    x = round_down(np.clip(unit.reshape(problem.shape), 0, 1) * caps, problem)
    for k, pool in enumerate(problem.spec.pools):
        total = x[k].sum(axis=0)
        scale = np.where(total > pool.max_headcount, pool.max_headcount / np.maximum(total, 1), 1)
        x[k] = round_down((x[k] * scale)[None], problem)[0]
    return x


def run_uniform(
    problem: Problem, sim: Simulator, required: np.ndarray, limit: int, best: dict[str, Any]
) -> None:
    value = _objective(problem, sim, required, limit, best)
    caps = caps_by_load(problem)
    low, high = 0.0, 1.0
    try:
        value(caps)
        while high - low > 0.01:
            mid = (low + high) / 2
            x = round_down(caps * mid, problem)
            value(x)
            ok = bool(feasible(sim.evaluation(x), required, sim.targets.alpha).all())
            low, high = (low, mid) if ok else (mid, high)
    except Budget:
        pass
    if "x" not in best and bool(feasible(sim.evaluation(caps), required, sim.targets.alpha).all()):
        best.update(cost=problem.cost(caps), x=caps)


def run_optuna(
    problem: Problem,
    sim: Simulator,
    required: np.ndarray,
    limit: int,
    best: dict[str, Any],
    sampler_name: str,
) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    value = _objective(problem, sim, required, limit, best)
    n = int(np.prod(problem.shape))
    sampler = (
        optuna.samplers.TPESampler(seed=1)
        if sampler_name == "tpe"
        else optuna.samplers.CmaEsSampler(seed=1)
    )
    study = optuna.create_study(sampler=sampler)

    def objective(trial: Any) -> float:
        unit = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(n)])
        return value(_decode(problem, unit))

    # start from the uniform plan's fraction 0.5, as a user of these tools would
    study.enqueue_trial({f"x{i}": 0.5 for i in range(n)})
    with contextlib.suppress(Budget):
        study.optimize(objective, n_trials=10_000, catch=())


def run_nevergrad(
    problem: Problem, sim: Simulator, required: np.ndarray, limit: int, best: dict[str, Any]
) -> None:
    import nevergrad as ng

    value = _objective(problem, sim, required, limit, best)
    n = int(np.prod(problem.shape))
    budget = max(1, limit // sim.replications)
    param = ng.p.Array(init=np.full(n, 0.5), lower=0.0, upper=1.0)
    optimizer = ng.optimizers.NGOpt(parametrization=param, budget=budget)
    optimizer.parametrization.random_state = np.random.RandomState(1)
    try:
        for _ in range(budget):
            candidate = optimizer.ask()
            optimizer.tell(candidate, value(_decode(problem, np.asarray(candidate.value))))
    except Budget:
        pass


def run_square_root(
    problem: Problem,
    sim: Simulator,
    required: np.ndarray,
    limit: int,
    best: dict[str, Any],
    time_varying: bool,
) -> dict[str, Any]:
    """Square-root (or MOL) staffing at the Halfin-Whitt beta, then the smallest beta that meets
    every target on the sample (bisection within the budget)."""
    from bordersim.planner.fluid import workload
    from bordersim.planner.staffing import halfin_whitt_beta, square_root_plan

    value = _objective(problem, sim, required, limit, best)
    _, caps_run = sim.run(caps_by_load(problem))
    work = workload(
        problem,
        caps_run.metric("encounters").mean(axis=0),
        caps_run.metric("occupancy_mean").mean(axis=0),
        caps_run.metric("processing_backlog").mean(axis=0),
    )
    beta = halfin_whitt_beta(1.0 - sim.targets.within_72h)
    formula = square_root_plan(problem, work, beta, time_varying=time_varying)
    alpha = sim.targets.alpha
    found: dict[str, Any] = {"formula_beta": beta, "formula_cost": problem.cost(formula)}
    try:
        value(formula)
        found["formula_feasible_in_sample"] = bool(
            feasible(sim.evaluation(formula), required, alpha).all()
        )
        low, high = -10.0, 16.0  # below zero: fewer than the offered load, a backlog
        while high - low > 0.05:
            mid = (low + high) / 2
            x = square_root_plan(problem, work, mid, time_varying=time_varying)
            value(x)
            ok = bool(feasible(sim.evaluation(x), required, alpha).all())
            low, high = (low, mid) if ok else (mid, high)
        found["tuned_beta"] = high
    except Budget:
        found["tuned_beta"] = None
    return found


def check(
    problem: Problem,
    x: np.ndarray | None,
    required: np.ndarray,
    replications: int,
    seed: int,
    sim: Simulator,
) -> dict[str, Any]:
    if x is None:
        return {"feasible": False, "missed": None}
    fresh = Simulator(problem, replications, seed, sim.targets)
    ev: Evaluation = fresh.evaluation(x)
    ok = ~required | (ev.probability >= 1.0 - sim.targets.alpha)  # counted on the fresh sample
    return {"feasible": bool(ok.all()), "missed": int((~ok).sum())}


def ratio_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of each method against bordersim's plan: cost and time as ratios (times
    depend on the machine and its load; their ratios much less)."""
    ours = next((r for r in rows if r["method"] == "bordersim"), None)
    lines = [
        "| method | cost / bordersim's | fresh check | time / bordersim's | replications |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        cost = (
            f"{row['cost'] / ours['cost']:.2f}"
            if ours and row["cost"] is not None and ours["cost"]
            else "none feasible"
            if row["cost"] is None
            else "-"
        )
        seconds = f"{row['seconds'] / ours['seconds']:.2f}" if ours and ours["seconds"] else "-"
        verdict = "feasible" if row["feasible"] else f"infeasible ({row['missed']} missed)"
        lines.append(
            f"| {row['method']} | {cost} | {verdict} | {seconds} | {row['replications']} |"
        )
    return "\n".join(lines)


#: The packages of the `bench` extra (not installed by `make setup`) that a method imports.
METHOD_PACKAGES = {
    "optuna-tpe": ("optuna",),
    "optuna-cmaes": ("optuna", "cmaes"),
    "nevergrad": ("nevergrad",),
}


def missing_packages(methods: list[str]) -> list[str]:
    """The packages that `methods` import and this environment lacks, in order, once each."""
    needed = [package for method in methods for package in METHOD_PACKAGES.get(method, ())]
    return [p for p in dict.fromkeys(needed) if importlib.util.find_spec(p) is None]


def main() -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("scenario", nargs="?", type=existing_file, default=DEFAULT_SCENARIO)
    parser.add_argument("--plan", type=existing_file, default=DEFAULT_PLAN)
    parser.add_argument("--budget", type=count, default=None, help="flow replications per method")
    parser.add_argument("--check-replications", type=count, default=64)
    parser.add_argument(
        "--out", type=Path, default=None, help="results file (default bench/results/plan-HOST.json)"
    )
    parser.add_argument(
        "--methods",
        default="bordersim,square-root,mol,uniform,optuna-tpe,optuna-cmaes,nevergrad",
    )
    args = parser.parse_args()
    missing = missing_packages(args.methods.split(","))
    if missing:
        # checked before the planner's minutes of work, which an ImportError would throw away
        parser.error(
            f"--methods needs {', '.join(missing)}, not installed: install the bench extra "
            "(.venv/bin/pip install -e '.[bench]') or leave those methods out of --methods"
        )
    spec = load_plan(args.plan)
    problem_model = compile_scenario(load_scenario(args.scenario))
    problem = build_problem(problem_model, spec)
    search = spec.search
    rows: list[dict[str, Any]] = []
    required: np.ndarray | None = None
    limit = args.budget
    check_seed = search.seed + 999_983
    for method in args.methods.split(","):
        sim = Simulator(problem, search.replications, search.seed, spec.targets)
        started = time.perf_counter()
        best: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if method == "bordersim":
            # the planner's four stages, certifying on the flow engine so that the budget counts
            # one kind of replication
            flow_spec = dataclasses.replace(
                spec, search=dataclasses.replace(search, certify_engine="flow")
            )
            # no probe bound: the benchmark compares plans, not bounds
            result = plan_model(
                problem_model, flow_spec, frontier=False, compare_base=False, bound=False
            )
            required = result.outcome.required
            used = int(
                result.certificate_json["search"]["flow_replications_run"]
                + result.certificate_json["search"]["certification_replications_run"]
            )
            sim.replications_run = used
            best.update(cost=result.cost, x=result.x)  # judged by the fresh check like the rest
            limit = limit or used
        else:
            if required is None:
                caps_ev = sim.evaluation(caps_by_load(problem))
                active = caps_ev.active[:, None, None] & np.ones(caps_ev.probability.shape, bool)
                required = active & feasible(caps_ev, active, spec.targets.alpha)
                limit = limit or 20 * search.replications
            assert limit is not None
            if method == "uniform":
                run_uniform(problem, sim, required, limit, best)
            elif method.startswith("optuna-"):
                run_optuna(problem, sim, required, limit, best, method.split("-")[1])
            elif method == "nevergrad":
                run_nevergrad(problem, sim, required, limit, best)
            elif method in ("square-root", "mol"):
                extra = run_square_root(
                    problem, sim, required, limit, best, time_varying=method == "mol"
                )
            else:
                raise SystemExit(f"unknown method {method!r}")
        seconds = time.perf_counter() - started
        verdict = check(problem, best.get("x"), required, args.check_replications, check_seed, sim)
        rows.append(
            {
                "method": method,
                "cost": best.get("cost"),
                "seconds": seconds,
                "replications": sim.replications_run,
                **verdict,
                **extra,
            }
        )
        cost = f"${best['cost'] / 1e6:,.2f}M" if "cost" in best else "none feasible"
        print(
            f"{method:>13}: {cost:>14}  fresh check: "
            f"{'feasible' if verdict['feasible'] else 'infeasible'} "
            f"(missed {verdict['missed']})  {seconds:6.1f} s  "
            f"{sim.replications_run} replications",
            flush=True,
        )
    print(ratio_table(rows))
    out = args.out or Path("bench/results") / f"plan-{socket.gethostname()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "scenario": str(args.scenario),
                "plan": str(args.plan),
                "budget_replications": limit,
                "rows": rows,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
