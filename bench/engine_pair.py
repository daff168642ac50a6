"""The event and flow engines side by side on one scenario: the figures of docs/flow-engine.md
("Measured").

    python -m bench.engine_pair scenarios/examples/small.toml --replications 4 --seed 3
    python -m bench.engine_pair scenarios/2023-title42-end.toml --replications 4 --seed 11

Each figure is summed over the reported days and sectors and averaged over replications (the
medians of time in custody are the KPI's, averaged likewise); the last column is flow / event - 1.
The agreement tests (`tests/flow/test_agreement.py`) hold the engines to their tolerances; this
prints the numbers a reader can check the documentation against.
"""

from __future__ import annotations

import numpy as np

from bench import bench_arguments, count, existing_file
from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.results.kpis import replication_kpis
from bordersim.results.schema import RunResult
from bordersim.scenario import load_scenario

#: (label, daily metric summed over days and sectors).
TOTALS = (
    ("encounters", "encounters"),
    ("got-aways", "gotaways"),
    ("custody hours of exits", "custody_hours_total"),
    ("agent field hours", "staff_hours:agent:field"),
    ("agent intake hours", "staff_hours:agent:intake"),
    ("Guard intake hours", "staff_hours:national_guard:intake"),
    ("intake work needed (staff-hours)", "staff_hours_needed:intake"),
)


def figures(run: RunResult) -> dict[str, float]:
    """Each figure's mean over replications."""
    values = {label: float(run.metric(metric).sum(axis=(1, 2)).mean()) for label, metric in TOTALS}
    # Occupancy: the daily mean summed over sectors, averaged over the days.
    values["occupancy (people, mean of days)"] = float(
        run.metric("occupancy_mean").sum(axis=2).mean()
    )
    values["time in custody, median (hours)"] = float(
        np.mean(replication_kpis(run)["custody_hours_median"])
    )
    return values


def main(argv: list[str] | None = None) -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("scenario", type=existing_file)
    parser.add_argument("--replications", type=count, default=4)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    model = compile_scenario(load_scenario(args.scenario))
    event = figures(simulate(model, engine="event", replications=args.replications, seed=args.seed))
    flow = figures(simulate(model, engine="flow", replications=args.replications, seed=args.seed))
    print(f"{args.scenario}: {args.replications} replications, seed {args.seed}")
    print(f"{'figure':<36} {'event':>14} {'flow':>14} {'flow/event-1':>13}")
    for label, value in event.items():
        ratio = flow[label] / value - 1 if value else float("nan")
        print(f"{label:<36} {value:>14,.1f} {flow[label]:>14,.1f} {100 * ratio:>+12.1f}%")


if __name__ == "__main__":
    main()
