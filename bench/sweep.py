"""Sweep scaling: the same blocked sweep on a 1-worker and an N-worker local Dask cluster.

    python -m bench.sweep [SCENARIO] [--variants 100] [--replications 20] [--workers 2]

The sweep varies the small scenario's troop headcount over `--variants` values, `--replications`
each, in blocks of 10 variants x all replications (bordersim's default block shape). Both
clusters run the same blocks (so the same numbers, checked) side by side in one run; each
cluster's workers compile the block program before the clock starts, so the figure is the
blocks' wall time. Also measured, for docs/scaling.md: Dask's overhead per task (empty tasks on
the N-worker cluster), the Parquet write rate of the blocks, and the cost per block of
registering it in the catalog (an embedded store per cluster, opened for each block).
The machine's load average (``os.getloadavg``) is printed beside the figures: on a shared
machine the ratio means little. A local worker computes on one thread (services.cluster), so
the same blocks are also run in this process without Dask, where JAX and Numba use every core's
thread, for comparison. Results go to bench/results/sweep-<host>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SCENARIO = Path("scenarios/examples/small.toml")
RESULTS = Path(__file__).parent / "results"
HEADCOUNT_KEY = "deployments.troops.headcount"


def _noop(i: int) -> int:
    return i


def scheduler_overhead(client: Any, tasks: int) -> float:
    """Seconds per empty task, submitted and gathered as one batch."""
    started = time.perf_counter()
    client.gather(client.map(_noop, range(tasks), pure=False))
    return (time.perf_counter() - started) / tasks


def run_on(
    workers: int, scenario: Path, variants: int, replications: int, seed: int, store: Path
) -> dict[str, Any]:
    from bordersim.scenario import load_scenario
    from bordersim.services.blocks import BlockShape, run_blocked_sweep
    from bordersim.services.cluster import open_client
    from bordersim.services.sweep import Axis
    from bordersim.store import open_catalog
    from bordersim.store.sweeps import registered_blocks

    base = load_scenario(scenario)
    axes = [Axis(HEADCOUNT_KEY, tuple(range(0, 10 * variants, 10)))]
    shape = BlockShape(min(10, variants), replications)
    with open_client(f"local:{workers}") as client:
        started = time.perf_counter()
        done = run_blocked_sweep(
            base,
            axes,
            replications=replications,
            seed=seed,
            shape=shape,
            client=client,
            store=store,
        )
        wall = time.perf_counter() - started
        overhead = scheduler_overhead(client, 2000) if workers > 1 else None
    with open_catalog(store, create=False) as catalog:
        blocks = list(registered_blocks(catalog, done.sweep_id).values())
    write_s = sum(b.write_s for b in blocks)
    return {
        "workers": workers,
        "blocks": done.blocks_run,
        "wall_s": wall,
        **done.timings,
        "replications_per_s": variants * replications / done.timings["blocks_s"],
        "block_run_s_mean": float(np.mean([b.run_s for b in blocks])),
        "parquet_mb_per_s": sum(b.bytes for b in blocks) / 1e6 / write_s,
        "parquet_rows_per_s": sum(b.rows for b in blocks) / write_s,
        "parquet_bytes_per_block": float(np.mean([b.bytes for b in blocks])),
        "register_ms_per_block": 1000 * done.timings["register_s"] / max(1, done.blocks_run),
        "scheduler_overhead_ms_per_task": None if overhead is None else 1000 * overhead,
        "daily": [r.daily for r in done.sweep.runs],
    }


def run_in_process(
    scenario: Path, variants: int, replications: int, seed: int, store: Path
) -> dict[str, Any]:
    """The same blocks in this process (no Dask), after a one-block sweep of the same shape has
    compiled the block program."""
    from bordersim.scenario import load_scenario
    from bordersim.services.blocks import BlockShape, run_blocked_sweep
    from bordersim.services.sweep import Axis

    base = load_scenario(scenario)
    shape = BlockShape(min(10, variants), replications)
    warm = [Axis(HEADCOUNT_KEY, tuple(range(1, 10 * shape.variants, 10)))]
    run_blocked_sweep(base, warm, replications=replications, seed=seed, shape=shape, store=store)
    axes = [Axis(HEADCOUNT_KEY, tuple(range(0, 10 * variants, 10)))]
    done = run_blocked_sweep(
        base, axes, replications=replications, seed=seed, shape=shape, store=store
    )
    return {
        "blocks_s": done.timings["blocks_s"],
        "replications_per_s": variants * replications / done.timings["blocks_s"],
        "daily": [r.daily for r in done.sweep.runs],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="bordersim-bench-sweep-") as tmp:
        for workers in (1, args.workers):
            results.append(
                run_on(
                    workers,
                    args.scenario,
                    args.variants,
                    args.replications,
                    args.seed,
                    Path(tmp) / f"w{workers}" / "bordersim.duckdb",
                )
            )
        in_process = run_in_process(
            args.scenario,
            args.variants,
            args.replications,
            args.seed,
            Path(tmp) / "in-process" / "bordersim.duckdb",
        )
    load_after = os.getloadavg()
    in_process_daily = in_process.pop("daily")
    identical = all(
        np.array_equal(a, b, equal_nan=True) and np.array_equal(a, c, equal_nan=True)
        for a, b, c in zip(
            results[0].pop("daily"), results[1].pop("daily"), in_process_daily, strict=True
        )
    )
    one, many = results
    ratio = one["blocks_s"] / many["blocks_s"]
    print(
        f"{args.variants} variants x {args.replications} replications of {args.scenario}, "
        f"{one['blocks']} blocks; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after, {os.cpu_count()} cores"
    )
    for row in results:
        print(
            f"  {row['workers']} worker(s): blocks {row['blocks_s']:.1f} s "
            f"({row['replications_per_s']:.1f} variant-replications/s), prepare "
            f"{row['prepare_s']:.1f} s, assemble {row['assemble_s']:.1f} s"
        )
    print(
        f"  this process, no Dask (all cores' threads): blocks {in_process['blocks_s']:.1f} s "
        f"({in_process['replications_per_s']:.1f} variant-replications/s)"
    )
    print(f"  speed-up {args.workers} workers over 1: {ratio:.2f}x; results identical: {identical}")
    print(
        f"  Dask overhead {many['scheduler_overhead_ms_per_task']:.2f} ms/task; Parquet "
        f"{many['parquet_mb_per_s']:.1f} MB/s ({many['parquet_rows_per_s']:,.0f} rows/s, "
        f"{many['parquet_bytes_per_block'] / 1e6:.2f} MB/block); catalog registration "
        f"{many['register_ms_per_block']:.1f} ms/block"
    )
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"sweep-{socket.gethostname()}.json"
    target.write_text(
        json.dumps(
            {
                "scenario": str(args.scenario),
                "variants": args.variants,
                "replications": args.replications,
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "speedup": ratio,
                "identical": identical,
                "runs": results,
                "in_process": in_process,
            },
            indent=2,
        )
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
