"""The sweep of `bench.sweep` without the command around it: its blocks alone on local Dask
clusters of 1 and N workers, side by side in one run.

    python -m bench.sweep_blocks_only [--workers 2] [--rounds 2]

Each arm opens the local cluster as `bordersim sweep --cluster local:K` does (`open_client`),
submits the sweep's blocks (`run_block`: compile the variants, simulate, write the block's
Parquet file) and only waits for them: no catalog, no KPIs, no report. The time is from the
first submission to the last block in; the cluster's start is apart, and one block run on a
worker before the arms compiles the block program, so that no arm pays for it. Set beside the
whole command's ratio (`python -m bench.sweep`), it says how much of what two workers do not
gain is the blocks' own (the engine and Dask) and how much the command's work around them
(docs/scaling.md, "The blocks alone scale").
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import count
from bench.sweep import HEADCOUNT_KEY, sweep_arguments
from bordersim.scenario import load_scenario
from bordersim.services.blocks import (
    BlockTask,
    SweepFolder,
    SweepPlan,
    _task,
    default_shape,
    run_block,
)
from bordersim.services.cluster import open_client
from bordersim.services.sweep import Axis, grid_points


def sweep_tasks(scenario: Path, variants: int, replications: int, folder: Path) -> list[BlockTask]:
    """The blocks of the bench's sweep, writing into `folder`."""
    base = load_scenario(scenario)
    axes = [Axis(HEADCOUNT_KEY, tuple(range(0, 10 * variants, 10)))]
    shape = default_shape(variants, replications)
    plan = SweepPlan("bench", str(base.path), base.hash, axes, replications, 0, shape)
    sweep_folder = SweepFolder(folder, "bench")
    points = grid_points(axes)
    return [_task(plan, base, sweep_folder, points, block) for block in plan.blocks()]


def run_blocks(workers: int, tasks: list[BlockTask]) -> dict[str, Any]:
    """The blocks on a fresh local cluster of `workers`: wall time and each block's run time
    (a worker's first block includes loading the block program)."""
    from distributed import as_completed

    opened = time.perf_counter()
    with open_client(f"local:{workers}") as client:
        started = time.perf_counter()
        futures = [client.submit(run_block, task, pure=False) for task in tasks]
        run_s = []
        for future in as_completed(futures):
            run_s.append(future.result().run_s)
            future.release()
        wall = time.perf_counter() - started
    return {
        "workers": workers,
        "cluster_start_s": started - opened,
        "blocks_wall_s": wall,
        "block_run_s": run_s,
        "block_run_s_median": statistics.median(run_s),
    }


def main(argv: list[str] | None = None) -> None:
    parser = sweep_arguments(__doc__, __file__)
    parser.add_argument("--rounds", type=count, default=2)
    args = parser.parse_args(argv)
    print(
        f"{args.variants} variants x {args.replications} replications of {args.scenario}, "
        f"blocks only; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bordersim-bench-blocks-") as tmp:
        # one block first, on a worker as the arms run it, so that no arm pays for compiling the
        # block program (it is kept on disk and loaded by every worker after)
        warm = sweep_tasks(args.scenario, args.variants, args.replications, Path(tmp) / "warm")
        run_blocks(1, warm[:1])
        for round_ in range(args.rounds):
            arms = {}
            for workers in (1, args.workers):
                folder = Path(tmp) / f"round-{round_}" / f"local-{workers}"
                tasks = sweep_tasks(args.scenario, args.variants, args.replications, folder)
                arms[workers] = arm = run_blocks(workers, tasks)
                print(
                    f"  local:{workers}: {len(tasks)} blocks in {arm['blocks_wall_s']:.2f} s "
                    f"(median block {arm['block_run_s_median']:.2f} s; cluster started in "
                    f"{arm['cluster_start_s']:.1f} s)",
                    flush=True,
                )
            ratio = arms[1]["blocks_wall_s"] / arms[args.workers]["blocks_wall_s"]
            ratios.append(ratio)
            print(f"  round {round_ + 1}: {ratio:.2f}x", flush=True)
    print(
        f"BLOCKS ONLY, local:{args.workers} over local:1: {statistics.median(ratios):.2f}x "
        f"(median of {len(ratios)} round(s))"
    )


if __name__ == "__main__":
    main()
