"""Sweep scaling: the same sweep run by `bordersim sweep` on 1 and on N local Dask workers.

    python -m bench.sweep [SCENARIO] [--variants 100] [--replications 20] [--workers 2]
                          [--rounds 1]

The sweep varies the scenario's troop headcount over `--variants` values, `--replications`
each, with bordersim's default blocks (10 variants x up to 100 replications). Each arm is the
whole command a user types, timed from outside (`bordersim sweep ... --cluster local:K`, a new
process: starting Python, the cluster and its workers, the blocks, reading them back, the KPI
table and report written), one after the other in this run: `local:1`, `local:N`, then the same
sweep without `--cluster` (in this process); `--rounds` repeats the three in turn and the
speed-up printed last is the median of the rounds'. Each arm has a store and output folder of
its own; all share one compilation cache, warmed before the clock starts by a one-block sweep of the
same block shape on one worker and in this process (so every arm loads the compiled program
instead of compiling it: what every sweep after the first one of a block shape does). The arms'
KPI tables must be identical. The machine's load average (``os.getloadavg``) is recorded
before and after each arm: on a shared machine the ratio means little. Also measured, for
docs/scaling.md: the blocks' mean run time in each arm (from the catalog), the block files'
Parquet write rate, and Dask's overhead per task. Results go to bench/results/sweep-<host>.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import bench_arguments, count, existing_file

DEFAULT_SCENARIO = Path("scenarios/examples/small.toml")
RESULTS = Path(__file__).parent / "results"
HEADCOUNT_KEY = "deployments.troops.headcount"


def _noop(i: int) -> int:
    return i


def scheduler_overhead(workers: int, tasks: int) -> float:
    """Seconds per empty task on a local cluster, submitted and gathered as one batch."""
    from bordersim.services.cluster import open_client

    with open_client(f"local:{workers}") as client:
        # a local cluster sets Dask's loggers to WARNING as it starts; its chatter on closing
        # (the finished no-op tasks "lost" with their workers) is of no interest here
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        started = time.perf_counter()
        futures = client.map(_noop, range(tasks), pure=False)
        client.gather(futures)
        elapsed = time.perf_counter() - started
        client.cancel(futures)
        return elapsed / tasks


def bordersim_command() -> list[str]:
    """The `bordersim` command installed beside this Python (as a user runs it)."""
    script = Path(sys.executable).parent / "bordersim"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from bordersim.cli import main; main()"]


def sweep_command(
    scenario: Path, values: list[int], replications: int, seed: int, folder: Path
) -> list[str]:
    return [
        *bordersim_command(),
        "sweep",
        str(scenario),
        "--vary",
        f"{HEADCOUNT_KEY}={','.join(str(v) for v in values)}",
        "-r",
        str(replications),
        "--seed",
        str(seed),
        "--out",
        str(folder / "out"),
    ]


def run_arm(command: list[str], environment: dict[str, str]) -> dict[str, Any]:
    """The command's wall time as its user sees it, with the load average around it."""
    load_before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(command, env=environment, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return {"wall_s": wall, "load_before": load_before[0], "load_after": os.getloadavg()[0]}


def block_figures(store: Path) -> dict[str, float]:
    """Mean block run time and the Parquet write rate, from the arm's catalog."""
    from bordersim.store import open_catalog
    from bordersim.store.sweeps import registered_blocks

    with open_catalog(store, create=False) as catalog:
        (sweep_id,) = [row[0] for row in catalog.execute("SELECT sweep_id FROM sweeps").fetchall()]
        blocks = list(registered_blocks(catalog, sweep_id).values())
    write_s = sum(b.write_s for b in blocks)
    return {
        "blocks": len(blocks),
        "block_run_s_mean": float(np.mean([b.run_s for b in blocks])),
        # the blocks' own time (run and write) in all, summed over the workers
        "blocks_s_total": float(sum(b.run_s + b.write_s for b in blocks)),
        "parquet_mb_per_s": sum(b.bytes for b in blocks) / 1e6 / write_s,
        "parquet_rows_per_s": sum(b.rows for b in blocks) / write_s,
        "parquet_bytes_per_block": float(np.mean([b.bytes for b in blocks])),
    }


def same_kpis(a: Path, b: Path) -> bool:
    import pandas as pd

    left = pd.read_parquet(a / "out" / "kpis.parquet")
    right = pd.read_parquet(b / "out" / "kpis.parquet")
    return bool(left.equals(right))


def run_round(
    args: argparse.Namespace, values: list[int], root: Path, environment: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """`local:1`, `local:N` and no cluster, one after the other, each in a folder of its own."""
    arms: dict[str, dict[str, Any]] = {}
    for name, extra in (
        ("local:1", ["--cluster", "local:1"]),
        (f"local:{args.workers}", ["--cluster", f"local:{args.workers}"]),
        ("no cluster", []),
    ):
        folder = root / name.replace(":", "-").replace(" ", "-")
        command = sweep_command(args.scenario, values, args.replications, args.seed, folder)
        if extra:
            command += [*extra, "--store", str(folder / "store.duckdb")]
        shown = " ".join(["bordersim", *command[len(bordersim_command()) :]])
        arms[name] = {"command": shown, **run_arm(command, environment), "folder": folder}
        if extra:
            arms[name].update(block_figures(folder / "store.duckdb"))
        print(
            f"  {name}: {arms[name]['wall_s']:.1f} s (load average "
            f"{arms[name]['load_before']:.1f} before, {arms[name]['load_after']:.1f} after)",
            flush=True,
        )
    return arms


def sweep_arguments(doc: str | None, file: str) -> argparse.ArgumentParser:
    """The options of the sweep the benches run: scenario, variants, replications, workers."""
    parser = bench_arguments(doc, file)
    parser.add_argument("scenario", nargs="?", type=existing_file, default=DEFAULT_SCENARIO)
    parser.add_argument("--variants", type=count, default=100)
    parser.add_argument("--replications", type=count, default=20)
    parser.add_argument("--workers", type=count, default=2)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = sweep_arguments(__doc__, __file__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rounds", type=count, default=1, help="the three arms this many times, in turn"
    )
    args = parser.parse_args(argv)

    values = list(range(0, 10 * args.variants, 10))
    rounds: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="bordersim-bench-sweep-") as tmp:
        root = Path(tmp)
        environment = {**os.environ, "BORDERSIM_JAX_CACHE": str(root / "cache")}
        warm = list(range(5, 5 + 10 * min(10, args.variants), 10))
        for name, extra in (("warm-worker", ["--cluster", "local:1"]), ("warm-here", [])):
            folder = root / name
            command = sweep_command(args.scenario, warm, args.replications, args.seed, folder)
            run_arm([*command, *extra, "--store", str(folder / "store.duckdb")], environment)
        load_before = os.getloadavg()
        identical = True
        for number in range(args.rounds):
            arms = run_round(args, values, root / f"round-{number}", environment)
            rounds.append(arms)
            one, many, serial = arms.values()
            identical &= all(same_kpis(one["folder"], arm["folder"]) for arm in (many, serial))
            for arm in arms.values():
                del arm["folder"]
        load_after = os.getloadavg()
    overhead = scheduler_overhead(args.workers, 2000)
    ratios = [
        arms["local:1"]["wall_s"] / arms[f"local:{args.workers}"]["wall_s"] for arms in rounds
    ]
    ratio = float(np.median(ratios))
    one, many, serial = rounds[0].values()
    print(
        f"{args.variants} variants x {args.replications} replications of {args.scenario}, "
        f"{one['blocks']} blocks, {os.cpu_count()} cores, {args.rounds} round(s); load average "
        f"{load_before[0]:.1f} before the arms, {load_after[0]:.1f} after"
    )
    print(
        f"  blocks (first round): {one['block_run_s_mean']:.2f} s each on 1 worker, "
        f"{many['block_run_s_mean']:.2f} s each on {args.workers} workers at once"
    )
    # what does not run in parallel: the command's time beyond its blocks' (on one worker the
    # blocks run one after the other; on N, their total over N if perfectly balanced)
    print(
        f"  the command beyond its blocks (first round): local:1 "
        f"{one['wall_s'] - one['blocks_s_total']:.1f} s, local:{args.workers} "
        f"{many['wall_s'] - many['blocks_s_total'] / args.workers:.1f} s"
    )
    print(
        f"  Dask overhead {1000 * overhead:.2f} ms/task; Parquet {many['parquet_mb_per_s']:.1f} "
        f"MB/s ({many['parquet_rows_per_s']:,.0f} rows/s, "
        f"{many['parquet_bytes_per_block'] / 1e6:.2f} MB/block)"
    )
    print(f"  KPI tables identical in every arm: {identical}")
    for number, arms in enumerate(rounds):
        walls = ", ".join(f"{name} {arm['wall_s']:.1f} s" for name, arm in arms.items())
        print(f"  round {number + 1}: {walls}: {ratios[number]:.2f}x")
    print(
        f"SPEED-UP of the whole `bordersim sweep` command, local:{args.workers} over local:1: "
        f"{ratio:.2f}x (median of {len(ratios)} round(s); target 1.7x)"
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
                "speedups": ratios,
                "identical": identical,
                "rounds": rounds,
                "scheduler_overhead_ms_per_task": 1000 * overhead,
            },
            indent=2,
        )
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
