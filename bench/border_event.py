"""Timing of the border model on the event engine (issue 4 targets), one core.

    python -m bench.border_event                      # the shipped 2023 scenario and a one-year,
                                                      # nine-sector scenario at 2023 volumes
    python -m bench.border_event --replications 3 --scenario scenarios/2023-title42-end.toml

Prints, per scenario: days simulated, sectors, crossing attempts per replication, scenario compile
time, kernel compile (or cache load) time, run time per replication, and the process's peak
resident memory. Targets: 3 s per replication for `2023-title42-end.toml`; 10 s and 2 GB for the
one-year scenario, without per-person records.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from pathlib import Path

import numpy as np

from bench import bench_arguments, count, existing_file
from bordersim.compiler import compile_scenario
from bordersim.engines.event.border.driver import compile_kernel, run_one
from bordersim.model.compiled import CompiledModel
from bordersim.results.schema import METRIC_INDEX
from bordersim.scenario import load_scenario, vary

REPO = Path(__file__).resolve().parents[1]
SCENARIO_2023 = REPO / "scenarios" / "2023-title42-end.toml"
# Fiscal year 2023 (1 October 2022 to 30 September 2023) with the 2023 scenario's staff and policy:
# the year of the 2023 volumes (about 2.5 million crossing attempts with repeats and got-aways).
YEAR_START, YEAR_END = dt.date(2022, 10, 1), dt.date(2023, 9, 30)


def one_year_model() -> CompiledModel:
    scenario = load_scenario(SCENARIO_2023)
    scenario = vary(scenario, "period.start_date", YEAR_START)
    scenario = vary(scenario, "period.end_date", YEAR_END)
    return compile_scenario(scenario)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def bench(label: str, build: object, replications: int) -> None:
    start = time.perf_counter()
    model = build() if callable(build) else build
    assert isinstance(model, CompiledModel)
    scenario_s = time.perf_counter() - start
    times, attempts = [], []
    for r in range(replications):
        start = time.perf_counter()
        rep = run_one(model, seed=1, replication=r)
        times.append(time.perf_counter() - start)
        attempts.append(rep.daily[..., METRIC_INDEX["attempts"]].sum())
    print(
        f"{label:<28} {model.n_days:>5} {model.n_sectors:>3} {np.mean(attempts):>12,.0f} "
        f"{scenario_s:>9.2f} {np.mean(times):>9.2f} {np.max(times):>8.2f} {peak_rss_mb():>9.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--replications", type=count, default=2)
    parser.add_argument("--scenario", type=existing_file, action="append", default=None)
    args = parser.parse_args(argv)
    compile_s = compile_kernel()
    print(f"kernel compile (or cache load): {compile_s:.1f} s")
    print(
        f"{'scenario':<28} {'days':>5} {'sec':>3} {'attempts':>12} {'compile':>9} "
        f"{'run mean':>9} {'run max':>8} {'peak MB':>9}"
    )
    if args.scenario:
        for path in args.scenario:
            bench(path.stem, lambda p=path: compile_scenario(load_scenario(p)), args.replications)
    else:
        bench(
            "2023-title42-end",
            lambda: compile_scenario(load_scenario(SCENARIO_2023)),
            args.replications,
        )
        bench("fy2023 one year, 9 sectors", one_year_model, args.replications)
    return 0


if __name__ == "__main__":
    sys.exit(main())
