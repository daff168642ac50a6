"""A sweep in this process: one batch of 100 variants x 20 replications of `small.toml` (what
earlier versions ran without a cluster) against the same variants in blocks of 10 x 20 (what a
sweep without a cluster runs now), both programs compiled or loaded first, twice in turn.

    python -m bench.sweep_one_batch
"""

from __future__ import annotations

import time

from bench import bench_arguments
from bordersim.engines.flow import simulate_batch
from bordersim.scenario import load_scenario
from bordersim.services.blocks import BlockShape, simulate_in_blocks
from bordersim.services.sweep import Axis, build_variants


def main(argv: list[str] | None = None) -> None:
    bench_arguments(__doc__, __file__).parse_args(argv)
    base = load_scenario("scenarios/examples/small.toml")
    _, models = build_variants(
        base, [Axis("deployments.troops.headcount", tuple(range(0, 1000, 10)))]
    )
    simulate_batch(models, replications=20, seed=0)
    simulate_in_blocks(models[:10], 20, 0, BlockShape(10, 20))  # compile/load
    for _ in range(2):
        t = time.perf_counter()
        simulate_batch(models, replications=20, seed=0)
        a = time.perf_counter() - t
        t = time.perf_counter()
        simulate_in_blocks(models, 20, 0, BlockShape(10, 20))
        b = time.perf_counter() - t
        print(f"one batch {a:.1f} s, blocks {b:.1f} s", flush=True)


if __name__ == "__main__":
    main()
