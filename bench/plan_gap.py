"""Where a planner's gap comes from: variants of a certified plan on fresh replications.

    python -m bench.plan_gap OUT_DIR [--replications N] [--seed S] [--variant NAME=SPEC ...]

OUT_DIR is a `bordersim plan` output folder (its certificate.json names the scenario's plan and
holds the decision and the required targets; the scenario and plan file are given with
--scenario and --plan, default the small example). Each variant is run on N fresh replications of
the certifying engine (seed S, common random numbers across the variants) and printed with its
cost, the fewest replications in which a required target held, whether that certifies (one-sided
Clopper-Pearson lower bound at the plan's confidence >= 1 - alpha) and whether it is shown to miss
(upper bound below 1 - alpha, at the plan's confidence and at a Bonferroni confidence for the
given number of probes).

Variants (SPEC): `scale:F` (the certified plan times F, rounded down to steps), `cells:S:K:a,b,c`
(sector S, pool index K, headcount per window; several `cells` joined by `+`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench import bench_arguments, count, existing_file, existing_folder
from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan
from bordersim.planner.bound import clopper_pearson_upper
from bordersim.planner.certify import clopper_pearson_lower
from bordersim.planner.evaluate import run_event, run_flow
from bordersim.planner.problem import Problem, build_problem
from bordersim.planner.search import round_down
from bordersim.planner.targets import evaluate
from bordersim.scenario import load_scenario

DEFAULT_SCENARIO = Path("scenarios/examples/small-staff-bound.toml")
DEFAULT_PLAN = Path("plans/examples/small-stress.toml")


def required_from(data: dict, problem: Problem) -> np.ndarray:
    K, S, W = 3, problem.shape[1], len(problem.weeks)
    required = np.zeros((K, S, W), dtype=np.bool_)
    kinds = ("within_72h", "children_within_72h", "gotaways")
    names = [s.name for s in problem.base.sectors]
    for c in data["constraints"]:
        required[kinds.index(c["kind"]), names.index(c["sector"]), c["week"] - 1] = c["required"]
    return required


def variant(spec: str, problem: Problem, x: np.ndarray) -> np.ndarray:
    if spec.startswith("scale:"):
        return round_down(x * float(spec.split(":", 1)[1]), problem)
    out = np.zeros(problem.shape)
    for part in spec.split("+"):
        _, s, k, levels = part.split(":")
        out[int(k), int(s), :] = [float(v) for v in levels.split(",")]
    return out


def plan_output(text: str) -> Path:
    """OUT_DIR: a `bordersim plan` output folder, with its certificate.json."""
    folder = existing_folder(text)
    if not (folder / "certificate.json").is_file():
        raise argparse.ArgumentTypeError(f"no certificate.json in {text}: not a plan's output")
    return folder


def main() -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("out_dir", type=plan_output, metavar="OUT_DIR")
    parser.add_argument("--scenario", type=existing_file, default=DEFAULT_SCENARIO)
    parser.add_argument("--plan", type=existing_file, default=DEFAULT_PLAN)
    parser.add_argument("--replications", type=count, default=200)
    parser.add_argument("--seed", type=int, default=777001)
    parser.add_argument("--probes", type=count, default=13, help="Bonferroni count for probes")
    parser.add_argument("--variant", action="append", default=[])
    args = parser.parse_args()
    data = json.loads((args.out_dir / "certificate.json").read_text())
    spec = load_plan(args.plan)
    problem = build_problem(compile_scenario(load_scenario(args.scenario)), spec)
    x = np.array(data["decision"]["headcount"], dtype=float)
    required = required_from(data, problem)
    targets = spec.targets
    engine = spec.search.certify_engine
    n = args.replications
    c = targets.confidence
    c_probe = 1.0 - (1.0 - c) / args.probes
    print(f"certified plan ${problem.cost(x) / 1e6:.3f}M; {engine} engine, {n} replications")
    print("variant | cost $M | fewest held | certifies | miss at c | miss Bonferroni | worst")
    for name_spec in args.variant or ["scale:1.0"]:
        name, _, vspec = name_spec.partition("=")
        plan = variant(vspec or name, problem, x)
        model = problem.model_for(plan)
        run = run_event(model, n, args.seed) if engine == "event" else run_flow(model, n, args.seed)
        ev = evaluate(run, problem.weeks, targets)
        held = ev.successes()
        fewest = int(held[required].min())
        where = np.argwhere(required & (held == fewest))[0]
        certifies = bool((clopper_pearson_lower(held[required], n, c) >= 1 - targets.alpha).all())
        miss = bool((clopper_pearson_upper(held[required], n, c) < 1 - targets.alpha).any())
        miss_b = bool((clopper_pearson_upper(held[required], n, c_probe) < 1 - targets.alpha).any())
        print(
            f"{name} {plan.tolist()} | {problem.cost(plan) / 1e6:.3f} | {fewest}/{n} | "
            f"{certifies} | {miss} | {miss_b} | kind {where[0]} sector {where[1]} "
            f"week {where[2] + 1}",
            flush=True,
        )


if __name__ == "__main__":
    main()
