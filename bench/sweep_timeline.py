"""CPU timeline of one `bordersim sweep` command: its own process and every process it starts.

    python -m bench.sweep_timeline [--workers 2] [--interval 0.5] [--show]

Runs the sweep of `bench.sweep` (100 variants x 20 replications of `small.toml`, `--cluster
local:K`, or in this process with `--workers 0`) after a one-block warm-up of the same block
shape, and samples each process's CPU time (user + system, from /proc: Linux only) every
`--interval` seconds. Prints the wall time and each process's CPU time in all; `--show` also
prints the CPU seconds each used in every interval, which shows when the workers compute at a
full core and what the command's own process does meanwhile (docs/scaling.md, "What is left").
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench import bench_arguments, count
from bench.sweep import DEFAULT_SCENARIO, run_arm, sweep_command

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (None once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def descendants(pid: int) -> list[int]:
    """The process's children, their children and so on."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


Timeline = list[tuple[float, dict[int, float]]]


def sample(
    command: list[str], environment: dict[str, str], interval: float
) -> tuple[float, int, dict[int, float], Timeline]:
    """Wall time, the command's process id, CPU time in all per process, and CPU time per
    interval per process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    totals: dict[int, float] = {}
    steps: Timeline = []
    while process.poll() is None:
        now = time.perf_counter() - started
        step: dict[int, float] = {}
        for pid in [process.pid, *descendants(process.pid)]:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                step[pid] = seconds - totals.get(pid, 0.0)
                totals[pid] = seconds
        steps.append((now, step))
        time.sleep(interval)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        error = process.stderr.read() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed:\n{error}")
    return wall, process.pid, totals, steps


def main(argv: list[str] | None = None) -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--workers", type=int, default=2, help="local workers; 0: no cluster")
    parser.add_argument("--variants", type=count, default=100)
    parser.add_argument("--replications", type=count, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--show", action="store_true", help="print every interval")
    args = parser.parse_args(argv)
    values = list(range(0, 10 * args.variants, 10))
    with tempfile.TemporaryDirectory(prefix="bordersim-bench-timeline-") as tmp:
        root = Path(tmp)
        environment = {**os.environ, "BORDERSIM_JAX_CACHE": str(root / "cache")}
        warm = list(range(5, 5 + 10 * min(10, args.variants), 10))
        folder = root / "warm"
        command = sweep_command(DEFAULT_SCENARIO, warm, args.replications, 0, folder)
        run_arm(
            [*command, "--cluster", "local:1", "--store", str(folder / "store.duckdb")], environment
        )
        folder = root / "timed"
        command = sweep_command(DEFAULT_SCENARIO, values, args.replications, 0, folder)
        if args.workers:
            command += [
                "--cluster",
                f"local:{args.workers}",
                "--store",
                str(folder / "store.duckdb"),
            ]
        wall, command_pid, totals, steps = sample(command, environment, args.interval)
    arm = f"local:{args.workers}" if args.workers else "no cluster"
    print(f"{arm}: {wall:.1f} s wall")
    pids = [command_pid, *sorted(set(totals) - {command_pid})]
    for pid in pids:
        role = "the command" if pid == command_pid else f"process {pid}"
        print(f"  {role}: {totals[pid]:.2f} s CPU")
    if args.show:
        print("  seconds  " + "  ".join(f"{pid:>7}" for pid in pids))
        for at, step in steps:
            print(f"  {at:7.2f}  " + "  ".join(f"{step.get(pid, 0.0):7.2f}" for pid in pids))


if __name__ == "__main__":
    main()
