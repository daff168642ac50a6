"""Race the event core against SimPy, Ciw and salabim on identical networks.

    python -m bench.peers            # full run (about two minutes on 2 cores)
    python -m bench.peers --quick    # a short run to check the harness

For each network (M/M/10 at utilisation 0.9; a three-station tandem with two non-preemptive
priority classes; an Erlang A queue) every tool simulates its number of arrivals with the same
parameters. The table gives customers per second (arrivals over wall time of the simulation,
model building included, compilation excluded), the ratio of the core's rate to each tool's,
and the mean wait with a batch-means confidence interval. The peers' means are compared with the
core's by a two-sample z test on batch means (Welch), Bonferroni-adjusted over all comparisons
so that "agrees" holds for all of them together with 95 % confidence. The core's compilation
time (cold cache, in a fresh process) and cache-load time are reported separately.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from bench import bench_arguments, count
from bench import networks as N
from bench import peer_models as P
from bordersim.engines.event.core import Network, Simulator, Summary
from bordersim.verify import formulas as F

BATCHES = 20
WARMUP_FRACTION = 0.05
RESULTS = Path(__file__).parent / "results"


@dataclass
class Estimate:
    mean: float
    se: float  # standard error from batch means

    def ci(self, level: float = 0.95) -> float:
        return float(stats.t.ppf(0.5 + level / 2, BATCHES - 1)) * self.se


@dataclass
class ToolResult:
    network: str
    tool: str
    customers: int
    seconds: float  # CPU time of the simulating thread
    wall: float  # wall-clock time of the same run
    measures: dict[str, Estimate]

    @property
    def rate(self) -> float:
        return self.customers / self.seconds


def _batch_estimate(values: np.ndarray) -> Estimate:
    batches = np.array_split(values, BATCHES)
    means = np.array([b.mean() for b in batches])
    return Estimate(float(means.mean()), float(means.std(ddof=1) / math.sqrt(BATCHES)))


def _peer_measures(network: str, run: P.PeerRun) -> dict[str, Estimate]:
    keep = slice(int(WARMUP_FRACTION * len(run.waits)), None)
    waits, abandoned, cls = run.waits[keep], run.abandoned[keep], run.customer_class[keep]
    if network == "tandem":
        # Per-class waits are batched separately: each class in arrival order.
        return {
            "mean wait, high": _batch_estimate(waits[cls == 0]),
            "mean wait, low": _batch_estimate(waits[cls == 1]),
        }
    out = {"mean wait": _batch_estimate(waits)}
    if network == "erlang-a":
        out["P(abandon)"] = _batch_estimate(abandoned.astype(float))
    return out


def _core_measures(network: str, batches: list[Summary]) -> dict[str, Estimate]:
    def est(read: Callable[[Summary], float]) -> Estimate:
        v = np.array([read(s) for s in batches])
        return Estimate(float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))))

    if network == "tandem":
        return {
            f"mean wait, {c}": est(
                lambda s, c=c: sum(s.mean_wait(st, c) for st in N.TANDEM_STATIONS)  # type: ignore[misc]
            )
            for c in ("high", "low")
        }
    if network == "erlang-a":
        return {
            "mean wait": est(lambda s: s.mean_wait_all("queue")),
            "P(abandon)": est(lambda s: s.abandonment_probability("queue")),
        }
    return {"mean wait": est(lambda s: s.mean_wait("queue"))}


CORE_NETWORKS: dict[str, tuple[Callable[[], Network], float]] = {
    "M/M/10": (N.core_mmc, N.MMC.arrival_rate),
    "tandem": (N.core_tandem, sum(N.TANDEM.arrival_rates)),
    "erlang-a": (N.core_erlang_a, N.ERLANG_A.arrival_rate),
}

PEERS: dict[str, dict[str, Callable[[int, int], P.PeerRun]]] = {
    "M/M/10": {"SimPy": P.simpy_mmc, "Ciw": P.ciw_mmc, "salabim": P.salabim_mmc},
    "tandem": {"SimPy": P.simpy_tandem, "Ciw": P.ciw_tandem, "salabim": P.salabim_tandem},
    "erlang-a": {"SimPy": P.simpy_erlang_a, "Ciw": P.ciw_erlang_a, "salabim": P.salabim_erlang_a},
}


def run_core(network: str, customers: int, seed: int, repeats: int) -> ToolResult:
    """Best wall time of `repeats` identical runs (short runs are the most exposed to noise)."""
    build, rate = CORE_NETWORKS[network]
    horizon = customers / rate
    warmup = WARMUP_FRACTION * horizon
    best = math.inf
    best_wall = math.inf
    summaries: list[Summary] = []
    sim = Simulator(build(), seed)
    for _ in range(repeats):
        started = time.thread_time()
        started_wall = time.perf_counter()
        sim = Simulator(build(), seed)
        sim.run_until(warmup)
        batch = []
        for b in range(BATCHES):
            sim.reset_statistics()
            sim.run_until(warmup + (b + 1) * (horizon - warmup) / BATCHES)
            batch.append(sim.summary())
        elapsed = time.thread_time() - started
        best = min(best, elapsed)
        best_wall = min(best_wall, time.perf_counter() - started_wall)
        summaries = batch
    return ToolResult(
        network,
        "bordersim core",
        sim.customers_created,
        best,
        best_wall,
        _core_measures(network, summaries),
    )


def run_peer(network: str, tool: str, customers: int, seed: int) -> ToolResult:
    fn = PEERS[network][tool]
    started = time.thread_time()
    started_wall = time.perf_counter()
    run = fn(customers, seed)
    elapsed = time.thread_time() - started
    wall = time.perf_counter() - started_wall
    return ToolResult(network, tool, run.arrivals, elapsed, wall, _peer_measures(network, run))


def compile_times() -> tuple[float, float]:
    """(compile from a cold cache, load from the warm cache), each in a fresh process, seconds."""
    code = (
        "import time; t=time.perf_counter();"
        "from bench.networks import core_mmc;"
        "from bordersim.engines.event.core import Simulator;"
        "s=Simulator(core_mmc(), 0); s.run_until(1.0);"
        "print(time.perf_counter()-t)"
    )
    root = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as cache:
        cold_env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold = float(subprocess.check_output([sys.executable, "-c", code], env=cold_env, cwd=root))
    warm = float(subprocess.check_output([sys.executable, "-c", code], cwd=root))
    return cold, warm


def theory(network: str) -> dict[str, float]:
    if network == "M/M/10":
        return {"mean wait": F.mmc(N.MMC.arrival_rate, N.MMC.service_rate, N.MMC.servers).mean_wait}
    if network == "erlang-a":
        m = F.birth_death(
            N.ERLANG_A.arrival_rate,
            N.ERLANG_A.service_rate,
            N.ERLANG_A.servers,
            patience_rate=N.ERLANG_A.patience_rate,
        )
        return {"mean wait": m.mean_wait, "P(abandon)": m.p_abandon}
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--quick", action="store_true", help="short run: 1e5 core, 1e4/2e3 peers")
    parser.add_argument("--core-customers", type=count, default=None, help="default 1e6")
    parser.add_argument("--peer-customers", type=count, default=None, help="SimPy/Ciw, default 1e5")
    parser.add_argument("--salabim-customers", type=count, default=None, help="default 1e4")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--networks", default="M/M/10,tandem,erlang-a")
    parser.add_argument("--tools", default="SimPy,Ciw,salabim")
    parser.add_argument("--no-compile-time", action="store_true", help="skip the cold compile")
    parser.add_argument("--output", type=Path, default=None, help="markdown file to write")
    args = parser.parse_args(argv)

    core_n = args.core_customers or (100_000 if args.quick else 1_000_000)
    peer_n = args.peer_customers or (10_000 if args.quick else 100_000)
    sal_n = args.salabim_customers or (2_000 if args.quick else 10_000)
    nets = [n.strip() for n in args.networks.split(",") if n.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for n in nets:
        if n not in CORE_NETWORKS:
            parser.error(f"unknown network {n!r}; choose from {', '.join(CORE_NETWORKS)}")
    for t in tools:
        if t not in PEERS["M/M/10"]:
            parser.error(f"unknown tool {t!r}; choose from SimPy, Ciw, salabim")
    output = args.output or RESULTS / ("peers-quick.md" if args.quick else "peers.md")

    # Warm the compiled kernel (from cache or by compiling) outside any timing.
    Simulator(N.core_tandem(), 0).run_until(10.0)
    Simulator(N.core_erlang_a(), 0).run_until(10.0)

    results: list[ToolResult] = []
    for net in nets:
        results.append(run_core(net, core_n, args.seed, repeats=3))
        print(f"{net}: core done", file=sys.stderr, flush=True)
        for tool in tools:
            n = sal_n if tool == "salabim" else peer_n
            results.append(run_peer(net, tool, n, args.seed))
            print(f"{net}: {tool} done", file=sys.stderr, flush=True)
    compile_s = None if args.no_compile_time or args.quick else compile_times()

    text, all_agree = render(results, compile_s, core_n, peer_n, sal_n, args.seed)
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text(text + "\n")
    tmp.replace(output)
    print(f"\nwritten to {output}", file=sys.stderr)
    return 0 if all_agree else 1


def render(
    results: list[ToolResult],
    compile_s: tuple[float, float] | None,
    core_n: int,
    peer_n: int,
    sal_n: int,
    seed: int,
) -> tuple[str, bool]:
    comparisons = sum(len(r.measures) for r in results if r.tool != "bordersim core")
    level = 1 - 0.05 / max(comparisons, 1)
    z_crit = float(stats.norm.ppf(0.5 + level / 2))
    lines = [
        "# Event core against SimPy, Ciw and salabim",
        "",
        f"Machine: {os.cpu_count()}-core {platform.machine()} CPU, {platform.system()}, "
        f"Python {platform.python_version()}. Seed {seed}. Arrivals per run: core {core_n:,} "
        f"(best of 3 runs), SimPy and Ciw {peer_n:,}, salabim {sal_n:,} "
        "(one run each; rates are per customer, so runs of different sizes compare). "
        "Rates use the CPU time of the simulating thread, which other jobs on a shared machine "
        "disturb far less than wall time; wall seconds are shown too. Model building is "
        "included, compilation is not.",
        "",
        "| network | tool | customers | CPU s | wall s | customers/s | core / tool | measure | "
        "mean ± 95 % CI | theory (z) | agrees with core |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    all_agree = True
    core_by_net = {r.network: r for r in results if r.tool == "bordersim core"}
    for r in results:
        core = core_by_net[r.network]
        ratio = "1" if r is core else f"{core.rate / r.rate:,.0f}x"
        th = theory(r.network)
        for i, (name, est) in enumerate(r.measures.items()):
            if r is core:
                verdict = "-"
            else:
                c = core.measures[name]
                z = (est.mean - c.mean) / math.sqrt(est.se**2 + c.se**2)
                ok = abs(z) <= z_crit
                all_agree &= ok
                verdict = f"{'yes' if ok else 'NO'} (z={z:+.2f})"
            head = (
                [
                    r.network,
                    r.tool,
                    f"{r.customers:,}",
                    f"{r.seconds:.2f}",
                    f"{r.wall:.2f}",
                    f"{r.rate:,.0f}",
                    ratio,
                ]
                if i == 0
                else [""] * 7
            )
            theory_txt = (
                f"{th[name]:.4f} ({(est.mean - th[name]) / est.se:+.1f})" if name in th else "-"
            )
            lines.append(
                "| "
                + " | ".join([*head, name, f"{est.mean:.4f} ± {est.ci():.4f}", theory_txt, verdict])
                + " |"
            )
    lines += [
        "",
        f"Agreement: two-sample z on batch means ({BATCHES} batches, first "
        f"{WARMUP_FRACTION:.0%} discarded), |z| <= {z_crit:.2f} (Bonferroni over {comparisons} "
        "comparisons, 95 % together).",
    ]
    if compile_s is not None:
        lines.append(
            f"Core compilation (not in the rates): {compile_s[0]:.1f} s from a cold cache, "
            f"{compile_s[1]:.1f} s to import and load from the cache (fresh processes)."
        )
    targets = []
    goals = (("M/M/10", "SimPy", 100), ("M/M/10", "Ciw", 200), ("tandem", "SimPy", 50))
    for net, tool, goal in goals:
        peer = next((r for r in results if r.network == net and r.tool == tool), None)
        if peer is not None:
            got = core_by_net[net].rate / peer.rate
            targets.append(
                f"{net} vs {tool}: {got:,.0f}x (target {goal}x) "
                f"{'met' if got >= goal else 'NOT met'}"
            )
    if targets:
        lines += ["", "Targets: " + "; ".join(targets) + "."]
    return "\n".join(lines), all_agree


if __name__ == "__main__":
    sys.exit(main())
