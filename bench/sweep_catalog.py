"""The cost of registering a sweep's blocks in the catalog, embedded DuckDB and PostgreSQL side by
side in one run.

    python -m bench.sweep_catalog [--blocks 200]

As the sweep driver does (`services.blocks`): the store is opened for each block, one row is
inserted into `sweep_blocks`, and it is closed again (so that an embedded store is free for other
processes between blocks). The block file's sha256, which the driver also computes, is timed
apart on a file of the size of a `small.toml` block of 10 variants x 20 replications (3.1 MB).
PostgreSQL is a server started from Debian's binaries as the tests do (a Unix socket on this
machine: a networked server adds its round trips). The load average is printed beside the
figures. Results go to bench/results/sweep-catalog-<host>.json.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import bench_arguments, count

RESULTS = Path(__file__).parent / "results"
TESTS = Path(__file__).resolve().parents[1] / "tests"
BLOCK_BYTES = 3_100_000


def register_blocks(location: str, blocks: int) -> float:
    """Seconds per block: open the store, insert the block's row, close."""
    from bordersim.store import open_catalog, using_store
    from bordersim.store.sweeps import SweepBlock, record_sweep, register_block

    with open_catalog(location) as catalog:
        record_sweep(catalog, "bench", scenario_name="bench", scenario_hash="h",
                     plan_json="{}", blocks=blocks, code_version="bench")  # fmt: skip
    started = time.perf_counter()
    for i in range(blocks):
        name = f"variants={i:05d}/seeds=00000"
        block = SweepBlock("bench", name, f"sweeps/bench/blocks/{name}.parquet", BLOCK_BYTES,
                           14_000, "0" * 64, ["bench"] * 10, ["h"] * 10, 0.0, 4.8, 0.1)  # fmt: skip
        with using_store(location) as catalog:
            register_block(catalog, block)
    return (time.perf_counter() - started) / blocks


def sha256_seconds(root: Path) -> float:
    from bordersim.store.result_files import sha256_of

    path = root / "block.bin"
    path.write_bytes(os.urandom(BLOCK_BYTES))
    started = time.perf_counter()
    for _ in range(20):
        sha256_of(path)
    return (time.perf_counter() - started) / 20


def main(argv: list[str] | None = None) -> None:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--blocks", type=count, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(TESTS))
    import postgres_server

    load_before = os.getloadavg()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bordersim-bench-sweep-catalog-") as scratch:
        root = Path(scratch)
        server = postgres_server.start()
        try:
            stores = {
                "duckdb": str(root / "embedded" / "bordersim.duckdb"),
                "postgresql": server.new_store_url(root / "shared-results"),
            }
            for kind, location in stores.items():
                figures[f"{kind}_ms_per_block"] = 1000 * register_blocks(location, args.blocks)
        finally:
            server.stop()
        figures["sha256_ms_per_block"] = 1000 * sha256_seconds(root)
    load_after = os.getloadavg()
    print(
        f"{args.blocks} blocks registered, store opened for each: embedded DuckDB "
        f"{figures['duckdb_ms_per_block']:.1f} ms/block, PostgreSQL "
        f"{figures['postgresql_ms_per_block']:.1f} ms/block; sha256 of a "
        f"{BLOCK_BYTES / 1e6:.1f} MB block {figures['sha256_ms_per_block']:.1f} ms; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} cores"
    )
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"sweep-catalog-{socket.gethostname()}.json"
    report = {"blocks": args.blocks, "load_before": load_before, "load_after": load_after}
    target.write_text(json.dumps({**report, **figures}, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
