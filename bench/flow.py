"""Flow-engine benchmark: replications per second on the CPU and, where present, on a GPU.

    python -m bench.flow [SCENARIO] [--replications R] [--gpu-replications N] [--seed S]

Each backend compiles once (timed separately, "compile s"), then runs the scenario's R
replications (CPU) or N (GPU) twice; the second run is reported, so the figures are after
compilation and warm caches. The speed-up is GPU replications per second over CPU replications
per second. Results are printed and written to bench/results/flow-<host>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import time
from pathlib import Path
from typing import Any

DEFAULT_SCENARIO = Path("scenarios/2023-title42-end.toml")


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


def _time_backend(model: Any, device: Any, replications: int, seed: int) -> dict[str, Any]:
    from bordersim.engines.flow.runner import run_batch

    backend = device.platform
    started = time.perf_counter()
    first = run_batch([model], replications=replications, seed=seed, backend=backend)[0]
    first_wall = time.perf_counter() - started
    second = run_batch([model], replications=replications, seed=seed, backend=backend)[0]
    run_s = second.timings["run_s"]
    return {
        "device": str(getattr(device, "device_kind", device.platform)),
        "replications": replications,
        "compile_s": round(first.timings["compile_s"], 2),
        "first_call_s": round(first_wall, 2),
        "run_s": round(run_s, 2),
        "replications_per_s": round(replications / run_s, 2),
        "chunk_replications": int(second.timings["chunk_replications"]),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--replications", type=int, default=100, help="CPU replications")
    parser.add_argument("--gpu-replications", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
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
    }
    report["cpu"] = _time_backend(model, devices["cpu"], args.replications, args.seed)
    print(f"cpu: {report['cpu']}")
    if "gpu" in devices:
        report["gpu"] = _time_backend(model, devices["gpu"], args.gpu_replications, args.seed)
        print(f"gpu: {report['gpu']}")
        report["speedup"] = round(
            report["gpu"]["replications_per_s"] / report["cpu"]["replications_per_s"], 1
        )
        print(f"speed-up (replications/s, GPU over CPU): {report['speedup']}x")
    else:
        print("no GPU: CPU only")
    out = Path("bench/results") / f"flow-{report['host']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
