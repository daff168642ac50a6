"""Where the engines part: a small sector near its processing stations' capacity.

The flow engine moves processing work as a fluid; the event engine queues people one by one.
This prints, for one sector and some target weeks of the 2023 plan's base (demand x 1.5, the
replaced deployments removed, no planned staff), the share of people out of custody within 72
hours (mean and 5th percentile over replications) and the people held at the week's end, on both
engines (docs/flow-engine.md, "Queueing near saturation, in small sectors").

    python -m bench.sector_queueing         # Big Bend, weeks of 15 and 22 April and 1 July
    python -m bench.sector_queueing --sector RGV --weeks 3,4 --event-replications 20
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench import bench_arguments, count
from bordersim.compiler import compile_scenario
from bordersim.planner.evaluate import run_event, run_flow
from bordersim.planner.problem import build_problem
from bordersim.planner.spec import load_plan
from bordersim.planner.targets import evaluate
from bordersim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--sector", default="BBT")
    parser.add_argument("--weeks", default="3,4,14", help="target weeks, 1 = the first")
    parser.add_argument("--event-replications", type=count, default=40)
    parser.add_argument("--flow-replications", type=count, default=16)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args(argv)
    spec = load_plan(REPO / "plans/2023-troops.toml")
    model = compile_scenario(load_scenario(REPO / "scenarios/2023-title42-end.toml"))
    problem = build_problem(model, spec)
    base = problem.model_for(np.zeros(problem.shape))
    names = [s.name for s in base.sectors]
    if args.sector not in names:
        parser.error(f"--sector {args.sector}: must be one of {', '.join(names)}")
    s = names.index(args.sector)
    weeks = [int(w) - 1 for w in args.weeks.split(",")]
    if any(not 0 <= w < len(problem.weeks) for w in weeks):
        parser.error(f"--weeks {args.weeks}: each must be from 1 to {len(problem.weeks)}")
    runs = {
        "event": run_event(base, args.event_replications, args.seed),
        "flow": run_flow(base, args.flow_replications, args.seed),
    }
    print(f"{args.sector}, 2023 x {spec.demand_scale:g}, no planned staff, seed {args.seed}")
    for engine, result in runs.items():
        share = evaluate(result, problem.weeks, spec.targets).values[:, 0, s, :]
        held = result.metric("occupancy_mean")[:, :, s]
        for w in weeks:
            first, end = problem.weeks[w]
            day = base.dates[base.warmup_days + first]
            print(
                f"  {engine:5s} week of {day}: within 72 h mean {share[:, w].mean():.2f}, "
                f"5th percentile {np.quantile(share[:, w], 0.05):.2f}; held at the week's end "
                f"{held[:, end - 1].mean():.0f} ({result.n_replications} replications)"
            )


if __name__ == "__main__":
    main()
