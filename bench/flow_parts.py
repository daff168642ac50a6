"""Where the flow engine's GPU program spends its time: the hourly simulation and the custody
times, each compiled and timed alone on the default device, and the host's copy of the results.

    python -m bench.flow_parts [CHUNK] [SMALL_CHUNK]     (defaults 5000 and 1000)

Prints and writes `$OUT/parts.json` (or `bench/results/flow-parts-<host>.json`), rewritten
after each figure: the simulation for SMALL_CHUNK and CHUNK replications (two sizes give its
cost per chunk and per replication), the custody times of CHUNK replications in batches of 64
and 256 and with two alternatives the engine does not use, alone and together
(`jnp.searchsorted` by sorting; the daily sums by one sorted segment sum instead of three
scatters), each with its largest difference from the first, and the copy of the daily results
to the host and into fresh arrays. Times are of a second call, after compilation (timed apart).
`bench/results/flow-parts-h200.json` is one NVIDIA H200.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bench import bench_arguments, count
from bordersim.compiler import compile_scenario
from bordersim.engines.flow import custody_times as custody_module
from bordersim.engines.flow.layout import layout_of, stack_parameters
from bordersim.engines.flow.step import KindMasks, replicate
from bordersim.results.schema import CUSTODY_HIST_HOURS
from bordersim.scenario import load_scenario

SCENARIO = Path("scenarios/2023-title42-end.toml")


class Report:
    def __init__(self, out: Path) -> None:
        self.out, self.figures = out, dict[str, Any]()

    def __call__(self, name: str, value: Any) -> None:
        self.figures[name] = value
        print(name, value, flush=True)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(self.figures, indent=1) + "\n", encoding="utf-8")


def timed(record: Report, name: str, function: Callable[..., Any], *args: Any) -> Any:
    """Compile `function` for `args`, call it once, then time a second call."""
    started = time.perf_counter()
    compiled = jax.jit(function).lower(*args).compile()
    record(f"{name}_compile_s", round(time.perf_counter() - started, 2))
    jax.block_until_ready(compiled(*args))
    started = time.perf_counter()
    result = jax.block_until_ready(compiled(*args))
    record(f"{name}_s", round(time.perf_counter() - started, 4))
    return result


def merge_pair(search: str = "scan", one_segment_sum: bool = False) -> Callable[..., Any]:
    """`custody_times._one_curve_pair`, with the searches' method and the daily sums' form as
    options (the defaults are the engine's)."""

    def one(
        arrived: jax.Array,
        exited: jax.Array,
        first_hour: int,
        n_days: int,
        standard: jax.Array,
        uac_standard: jax.Array,
    ) -> tuple[jax.Array, ...]:
        n_hours = arrived.shape[0]
        hours = jnp.arange(n_hours)
        at_arrival = hours + jnp.searchsorted(exited, arrived, side="left", method=search)
        at_exit = hours + jnp.searchsorted(arrived, exited, side="right", method=search)
        values = jnp.zeros(2 * n_hours).at[at_arrival].set(arrived).at[at_exit].set(exited)
        is_arrival = jnp.zeros(2 * n_hours).at[at_arrival].set(1.0)
        arrival_hour = jnp.cumsum(is_arrival)[:-1].astype(jnp.int32)
        exit_hour = jnp.cumsum(1.0 - is_arrival)[:-1].astype(jnp.int32)
        weight = jnp.maximum(values[1:] - values[:-1], 0.0)
        weight = jnp.where((exit_hour >= first_hour) & (exit_hour < n_hours), weight, 0.0)
        age = jnp.maximum(exit_hour - arrival_hour, 0)
        earlier = jnp.where(age > 0, 0.5 * weight, 0.0)
        bins = CUSTODY_HIST_HOURS
        day = jnp.clip((exit_hour - first_hour) // 24, 0, n_days - 1)

        def share(limit: jax.Array) -> jax.Array:
            return (age > limit) + 0.5 * (age == limit)

        histogram = (
            jnp.zeros(bins + 1)
            .at[jnp.minimum(age, bins)]
            .add(weight - earlier)
            .at[jnp.minimum(jnp.maximum(age - 1, 0), bins)]
            .add(earlier)
        )
        if one_segment_sum:
            columns = jnp.stack([age.astype(weight.dtype), share(standard), share(uac_standard)])
            sums = jax.ops.segment_sum(weight[:, None] * columns.T, day, n_days, True)
            return histogram, sums[:, 0], sums[:, 1], sums[:, 2]
        hours_total = jnp.zeros(n_days).at[day].add(weight * age)
        over = jnp.zeros(n_days).at[day].add(weight * share(standard))
        over_uac = jnp.zeros(n_days).at[day].add(weight * share(uac_standard))
        return histogram, hours_total, over, over_uac

    return one


def main(argv: list[str] | None = None) -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("chunk", nargs="?", type=count, default=5000, metavar="CHUNK")
    parser.add_argument("small", nargs="?", type=count, default=1000, metavar="SMALL_CHUNK")
    args = parser.parse_args(argv)
    chunk, small = args.chunk, args.small
    default = Path("bench/results") / f"flow-parts-{socket.gethostname()}.json"
    record = Report(Path(os.environ["OUT"]) / "parts.json" if "OUT" in os.environ else default)
    model = compile_scenario(load_scenario(SCENARIO))
    layout = layout_of([model])
    parameters = jax.device_put(stack_parameters([model], layout))
    record("device", str(jax.devices()[0]))

    def one(p: Any, replication: jax.Array, seed: jax.Array) -> Any:
        key = jax.random.fold_in(jax.random.PRNGKey(seed), replication)
        daily, arrived, exited = replicate(p, key, layout)
        return daily[layout.warmup_days :], arrived, exited

    simulate = jax.vmap(jax.vmap(one, in_axes=(None, 0, None)), in_axes=(0, None, None))
    for n in (small, chunk):
        ids = jnp.arange(n, dtype=jnp.int32)
        outputs = timed(record, f"sim_{n}", simulate, parameters, ids, jnp.uint32(1))
    reported, arrived, exited = (x[0] for x in outputs)

    uac = jnp.asarray(KindMasks(layout).uac)
    standard = parameters["custody_standard_hours"][0]
    uac_standard = parameters["uac_standard_hours"][0]

    def custody_times(batch: int, pair: Callable[..., Any]) -> Callable[..., Any]:
        def program(arrived: jax.Array, exited: jax.Array) -> Any:
            def times(curves: tuple[jax.Array, jax.Array]) -> Any:
                return custody_module.custody_times(*curves, uac, standard, uac_standard, layout)

            engine_pair = custody_module._one_curve_pair
            custody_module._one_curve_pair = pair  # traced here, restored at once
            try:
                return jax.lax.map(times, (arrived, exited), batch_size=batch)
            finally:
                custody_module._one_curve_pair = engine_pair

        return program

    first: list[np.ndarray] | None = None
    for name, batch, pair in [
        ("ct_b64", 64, merge_pair()),
        ("ct_b256", 256, merge_pair()),
        ("ct_b64_sort", 64, merge_pair("sort")),
        ("ct_b64_fused", 64, merge_pair(one_segment_sum=True)),
        ("ct_b64_sort_fused", 64, merge_pair("sort", True)),
    ]:
        result = [
            np.asarray(x) for x in timed(record, name, custody_times(batch, pair), arrived, exited)
        ]
        first = first or result
        record(
            f"{name}_maxdiff",
            [float(np.max(np.abs(a - b))) for a, b in zip(first, result, strict=True)],
        )

    started = time.perf_counter()
    host = np.asarray(reported)
    record("to_host_s", round(time.perf_counter() - started, 3))
    record("daily_gb_f32", host.nbytes / 1e9)
    started = time.perf_counter()
    filled = np.empty(host.shape)
    filled[:] = host
    record("fill_f64_fresh_s", round(time.perf_counter() - started, 3))
    started = time.perf_counter()
    filled[:] = host
    record("fill_f64_reused_s", round(time.perf_counter() - started, 3))
    started = time.perf_counter()
    np.empty(host.shape, np.float32)[:] = host
    record("fill_f32_fresh_s", round(time.perf_counter() - started, 3))


if __name__ == "__main__":
    main()
