"""Staff-hours by pool and task, agents' share off the field and the capability gap per task.

    python -m bench.staff_hours scenarios/2023-title42-end.toml [--engine event|flow|both]
        [--replications 1] [--seed 1]

Sums over the reported days and sectors, mean over replications; the table the dispatch rules of
docs/model.md step 2 are judged by (who does which work, and what is left undone).
"""

from __future__ import annotations

import numpy as np

from bench import bench_arguments, count, existing_file
from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.model.dimensions import Pool, Task
from bordersim.results.capability import capability_gap
from bordersim.results.schema import RunResult
from bordersim.scenario import load_scenario


def staff_table(run: RunResult) -> dict[str, dict[str, float]]:
    """Mean staff-hours per replication, {pool: {task: hours}}."""
    return {
        p.name.lower(): {
            t.name.lower(): float(
                run.metric(f"staff_hours:{p.name.lower()}:{t.name.lower()}").sum(axis=(1, 2)).mean()
            )
            for t in Task
        }
        for p in Pool
    }


def gap_by_task(run: RunResult) -> dict[str, float]:
    gap = capability_gap(run).gap.sum(axis=(1, 2)).mean(axis=0)  # [T]
    return {t.name.lower(): float(gap[t]) for t in Task}


def report(run: RunResult, engine: str) -> None:
    table = staff_table(run)
    tasks = [t.name.lower() for t in Task]
    print(f"engine {engine}: staff-hours per replication (reported days, all sectors)")
    print(f"{'pool':<24}" + "".join(f"{t[:13]:>14}" for t in tasks))
    for pool, row in table.items():
        if sum(row.values()) > 0:
            print(f"{pool:<24}" + "".join(f"{row[t]:>14,.0f}" for t in tasks))
    agent = table["agent"]
    total = sum(agent.values())
    print(f"agents' share of hours off the field: {1 - agent['field'] / max(total, 1e-9):.1%}")
    gaps = gap_by_task(run)
    print(f"{'capability gap':<24}" + "".join(f"{gaps[t]:>14,.0f}" for t in tasks))


def main() -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("scenario", type=existing_file)
    parser.add_argument("--engine", default="event", choices=["event", "flow", "both"])
    parser.add_argument("--replications", type=count, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    model = compile_scenario(load_scenario(args.scenario))
    engines = ["event", "flow"] if args.engine == "both" else [args.engine]
    for engine in engines:
        run = simulate(model, engine=engine, replications=args.replications, seed=args.seed)
        report(run, engine)
        np.set_printoptions(suppress=True)


if __name__ == "__main__":
    main()
