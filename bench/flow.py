"""Flow-engine benchmark: replications per second on the CPU and, where present, on a GPU.

    python -m bench.flow [SCENARIO] [--replications R] [--gpu-replications N[,N...]]
                         [--block B] [--sweep VxR] [--seed S] [--out PATH]

Every arm is measured in this one run, one after the other:

- ``cpu``: the scenario's R replications on the CPU;
- ``gpu-N``: N replications on the GPU, in blocks of at most B replications (each block one
  batch, numbered on from the last, as a sweep's seed blocks are), so the host holds one
  block's daily results at a time (about 1 MB per replication of the main scenario);
- ``gpu-sweep``: V variants (the active-duty troops' headcount from 0 to 3,000) x R
  replications as one batch on the GPU, where a GPU is present, else on the CPU.

Each arm's program is compiled first (timed apart, "compile_s"; loaded from the disk if an
earlier run stored it) and then run; an arm whose first run took less than `--repeat-under`
seconds runs again and reports the second ("warm"), otherwise the first. "run_s" is the whole
`run_batch` call after compilation: the device's work, the copies to the host and the results
assembled. For the GPU, "device_chunk_s" is one chunk's program alone, with its outputs left on
the device, and "device_chunk_gb" the device memory it needs (XLA's memory analysis); the share
of GPU memory a chunk may use is `$BORDERSIM_GPU_MEMORY_SHARE` (default 0.4). The speed-up of
each GPU arm is its replications per second over the CPU arm's.
The report is printed, and written (after every arm, so a run stopped early keeps what it
measured) to `--out`, by default bench/results/flow-<host>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

from bench import bench_arguments, count, existing_file

DEFAULT_SCENARIO = Path("scenarios/2023-title42-end.toml")
SWEEP_KEY = "deployments.title42_active_duty.headcount"


#: environment variables recorded with the results: the allocator's huge pages, JAX's and
#: bordersim's shares of GPU memory
MEASURED_SETTINGS = (
    "GLIBC_TUNABLES",
    "XLA_PYTHON_CLIENT_MEM_FRACTION",
    "XLA_PYTHON_CLIENT_PREALLOCATE",
    "BORDERSIM_GPU_MEMORY_SHARE",
)


def _devices() -> dict[str, Any]:
    import jax

    found: dict[str, Any] = {}
    for backend in ("cpu", "gpu"):
        try:
            devices = jax.devices(backend)
        except RuntimeError:
            continue
        if devices:
            found[backend] = devices[0]
    return found


def _time_blocks(
    models: list[Any], backend: str, replications: int, block: int, seed: int
) -> dict[str, Any]:
    """One pass over `replications` in blocks of at most `block`: seconds and a check value
    (the mean over replications of the first variant's custody on the last day)."""
    import numpy as np

    from bordersim.engines.flow.runner import run_batch
    from bordersim.results.schema import METRIC_INDEX

    started = time.perf_counter()
    run_s, compile_s, custody_sum, chunk = 0.0, 0.0, 0.0, 0
    for first in range(0, replications, block):
        size = min(block, replications - first)
        results = run_batch(
            models, replications=size, seed=seed, backend=backend, first_replication=first
        )
        run_s += results[0].timings["run_s"]
        compile_s += results[0].timings["compile_s"]  # a smaller last block: another program
        chunk = int(results[0].timings["chunk_replications"])
        custody = results[0].daily[:, -1, :, METRIC_INDEX["occupancy_mean"]]
        custody_sum += float(np.sum(custody.sum(axis=-1)))
        del results
    return {
        "run_s": run_s,
        "compile_s": compile_s,
        "wall_s": time.perf_counter() - started,
        "chunk_replications": chunk,
        "last_day_custody_mean": round(custody_sum / replications),
    }


def _device_chunk_seconds(models: list[Any], backend: str, replications: int) -> tuple[float, int]:
    """One chunk's compiled program alone, outputs kept on the device (after a first call):
    seconds, and the device memory it needs (XLA's memory analysis: temporaries and outputs)."""
    import jax
    import numpy as np

    from bordersim.engines.flow import runner
    from bordersim.engines.flow.layout import layout_of, stack_parameters

    layout = layout_of(models)
    parameters = stack_parameters(models, layout)
    chunk = runner.chunk_size(layout, len(models), replications, backend)
    with jax.default_device(jax.devices(backend)[0]):
        program, _ = runner._compile(layout, parameters, chunk, backend)
        on_device = jax.device_put(parameters)
        ids = np.arange(chunk, dtype=np.int32)
        jax.block_until_ready(program(on_device, ids, runner.seed_key(1)))
        started = time.perf_counter()
        jax.block_until_ready(program(on_device, ids, runner.seed_key(2)))
        seconds = time.perf_counter() - started
    analysis = program.memory_analysis()
    return seconds, analysis.temp_size_in_bytes + analysis.output_size_in_bytes


def time_arm(
    models: list[Any],
    device: Any,
    replications: int,
    *,
    block: int,
    seed: int,
    repeat_under: float,
) -> dict[str, Any]:
    from bordersim.engines.flow.runner import prepare_batch

    backend = device.platform
    compile_s = prepare_batch(models, replications=min(block, replications), backend=backend)
    first = _time_blocks(models, backend, replications, block, seed)
    measured, warm = first, False
    if first["wall_s"] < repeat_under:
        measured, warm = _time_blocks(models, backend, replications, block, seed), True
    total = len(models) * replications
    arm = {
        "device": str(getattr(device, "device_kind", device.platform)),
        "variants": len(models),
        "replications": replications,
        "block_replications": min(block, replications),
        "compile_s": round(compile_s + first["compile_s"], 2),
        "first_run_s": round(first["run_s"], 2),
        "warm": warm,
        "run_s": round(measured["run_s"], 2),
        "wall_s": round(measured["wall_s"], 2),
        "replications_per_s": round(total / measured["run_s"], 1),
        "chunk_replications": measured["chunk_replications"],
        "last_day_custody_mean": measured["last_day_custody_mean"],
    }
    if backend != "cpu":
        chunk_s, memory = _device_chunk_seconds(models, backend, min(block, replications))
        arm["device_chunk_s"] = round(chunk_s, 3)
        arm["device_chunk_gb"] = round(memory / 1e9, 1)
    return arm


def sweep_models(scenario: Path, variants: int) -> list[Any]:
    """The scenario with the active-duty troops' headcount at `variants` values, 0 to 3,000."""
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario, vary

    base = load_scenario(scenario)
    headcounts = [round(3000 * i / max(variants - 1, 1)) for i in range(variants)]
    return [compile_scenario(vary(base, SWEEP_KEY, h)) for h in headcounts]


def _parse_sweep(text: str) -> tuple[int, int]:
    try:
        variants, replications = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sweep takes VxR, e.g. 100x100, got {text!r}") from None
    return variants, replications


def _write(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    partial.replace(out)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("scenario", nargs="?", type=existing_file, default=DEFAULT_SCENARIO)
    parser.add_argument("--replications", type=count, default=100, help="CPU replications")
    parser.add_argument(
        "--gpu-replications",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10_000],
        help="GPU arms, comma-separated replication counts (default 10000)",
    )
    parser.add_argument("--block", type=count, default=10_000, help="replications per batch")
    parser.add_argument("--sweep", type=_parse_sweep, default=None, help="e.g. 100x100")
    parser.add_argument("--repeat-under", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario

    model = compile_scenario(load_scenario(args.scenario))
    devices = _devices()
    report: dict[str, Any] = {
        "scenario": str(args.scenario),
        "days": model.n_days,
        "sectors": model.n_sectors,
        "host": socket.gethostname(),
        "machine": platform.processor() or platform.machine(),
        # settings that move the GPU figures (docs/flow-engine.md), where they were set
        "environment": {name: os.environ[name] for name in MEASURED_SETTINGS if name in os.environ},
    }
    if "gpu" in devices:
        from bordersim.engines.flow.runner import gpu_memory_share

        report["gpu_memory_share"] = gpu_memory_share()
    out = args.out or Path("bench/results") / f"flow-{report['host']}.json"
    timing = {"block": args.block, "seed": args.seed, "repeat_under": args.repeat_under}

    def record(name: str, arm: dict[str, Any]) -> None:
        if name != "cpu" and "cpu" in report:
            arm["speedup"] = round(
                arm["replications_per_s"] / report["cpu"]["replications_per_s"], 1
            )
        report[name] = arm
        print(f"{name}: {arm}", flush=True)
        _write(report, out)

    record("cpu", time_arm([model], devices["cpu"], args.replications, **timing))
    gpu_counts = args.gpu_replications if "gpu" in devices else []
    if not gpu_counts:
        print("no GPU: CPU only", flush=True)
    # the first GPU arm, then the sweep, then the larger arms (the longest last)
    for n in gpu_counts[:1]:
        record(f"gpu-{n}", time_arm([model], devices["gpu"], n, **timing))
    if args.sweep is not None:
        variants, replications = args.sweep
        device = devices.get("gpu", devices["cpu"])
        models = sweep_models(args.scenario, variants)
        name = "gpu-sweep" if "gpu" in devices else "cpu-sweep"
        record(name, time_arm(models, device, replications, **timing))
    for n in gpu_counts[1:]:
        record(f"gpu-{n}", time_arm([model], devices["gpu"], n, **timing))
    return report


if __name__ == "__main__":
    main()
