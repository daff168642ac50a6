"""The copy of one chunk's daily results from the device to the host, as the flow engine makes it
(`copy_to_host_async`, then `np.asarray`), three times, and the engine's threaded writes of them
into fresh float64 and float32 arrays (`runner._fill`); then a copy through JAX's host memory
space. Run it twice to see what the C library's allocator does to the copy:

    python -m bench.flow_copies
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 python -m bench.flow_copies

(glibc 2.35 or later; with transparent huge pages in `madvise` mode the tunable makes large
allocations ask for huge pages, so the host arrays the copies land in take far fewer page
faults). The chunk is 5,000 replications of `2023-title42-end`'s daily results (2.6 GB as
float32). It prints its figures; docs/flow-engine.md quotes one NVIDIA H200's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from bench import bench_arguments
from bordersim.engines.flow.runner import _fill

SHAPE = (1, 5000, 153, 9, 96)


def on_device(value: float) -> jax.Array:
    return jax.block_until_ready(jnp.full(SHAPE, value, jnp.float32))


def seconds_since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def main(argv: list[str] | None = None) -> None:
    bench_arguments(__doc__, __file__).parse_args(argv)
    modes = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    huge_pages = modes.read_text().strip() if modes.exists() else "unknown"
    print("THP", huge_pages, "tunables", os.environ.get("GLIBC_TUNABLES"))
    for i in range(3):
        x = on_device(float(i))
        started = time.perf_counter()
        x.copy_to_host_async()
        host = np.asarray(x)
        print("async+asarray", seconds_since(started), flush=True)
    for name, dtype in (("fill f64 threads", np.float64), ("fill f32 threads", np.float32)):
        started = time.perf_counter()
        _fill(np.empty(SHAPE, dtype), host)
        print(name, seconds_since(started), flush=True)
    x = on_device(7.0)
    started = time.perf_counter()
    in_host_space = jax.block_until_ready(jax.device_put(x, jax.memory.Space.Host))
    put_s = seconds_since(started)
    started = time.perf_counter()
    np.asarray(in_host_space)
    print("host-space put", put_s, "then asarray", seconds_since(started), flush=True)


if __name__ == "__main__":
    main()
