"""The flow engine's hourly simulation, operation by operation, and under its XLA options.

    python -m bench.flow_profile profile [DAYS] [REPLICATIONS,...]   (defaults 7 and 1000,5000)
    python -m bench.flow_profile time [REPLICATIONS,...] [ROUNDS]    (defaults 64 and 2)
    python -m bench.flow_profile engine [REPLICATIONS] [ROUNDS]      (defaults 100 and 2)

`profile` runs the first DAYS days of `2023-title42-end` (the hours are alike, so a day or a
week shows every operation of the hourly step), compiled as the engine compiles it, for each
number of replications, once to compile and warm up and once under `jax.profiler.trace`, and
writes `$OUT/profile-<n>.json` (or `bench/results/flow-profile-<n>-<host>.json`): each
operation of the compiled program, its launches and its time per simulated hour less the
operations nested in it (a loop's body in the loop), slowest first. On a GPU the operations are
its kernels; on a CPU the program's thunks, traced with ``--xla_cpu_enable_xprof_traceme=true``
in `XLA_FLAGS`. Two sizes separate an operation's cost per launch from its cost per
replication. With ``--xla_dump_to=DIR --xla_dump_hlo_as_text`` in `XLA_FLAGS` as well, each
operation is named with the engine's source lines it came from (the optimized program's stack
frames), for example:

    XLA_FLAGS="--xla_cpu_enable_xprof_traceme=true --xla_dump_to=/tmp/hlo \\
      --xla_dump_hlo_as_text" python -m bench.flow_profile profile 1 64

`time` compiles the whole horizon's simulation with the engine's XLA options for the default
backend (`runner.compiler_options`) and without them, runs the two in turn ROUNDS times in one
process, and writes each time, whether the outputs are the same as the first arm's, and the
ratio of the medians (`$OUT/time.json`, or `bench/results/flow-time-<host>.json`). `XLA_FLAGS`
and `FLOW_PROFILE_UNROLL` (the scan over a day's hours unrolled that many times) are recorded
with the figures. `engine` does the same for the whole engine, as `bordersim run --engine flow`
runs it (`simulate`: the program and the host's pass over the custody curves), each arm's
program compiled before the clock starts (`$OUT/engine.json`, or
`bench/results/flow-engine-<host>.json`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import socket
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bench import bench_arguments, count
from bordersim.compiler import compile_scenario
from bordersim.engines import simulate
from bordersim.engines.flow import runner
from bordersim.engines.flow.layout import FlowLayout, layout_of, stack_parameters
from bordersim.engines.flow.runner import compile_lowered, compiler_options
from bordersim.engines.flow.step import day_step, initial_state, replicate
from bordersim.results.schema import METRIC_INDEX
from bordersim.scenario import load_scenario

SCENARIO = Path("scenarios/2023-title42-end.toml")
#: set to unroll the scan over a day's hours (`_unroll_hours`), recorded with the figures
UNROLL_VARIABLE = "FLOW_PROFILE_UNROLL"


def _out(name: str) -> Path:
    if "OUT" in os.environ:
        return Path(os.environ["OUT"]) / f"{name}.json"
    return Path("bench/results") / f"flow-{name}-{socket.gethostname()}.json"


def _unroll_hours(unroll: int) -> None:
    """Unroll the scan over a day's 24 hours `unroll` times (this process only): the hourly
    step then appears `unroll` times in the loop's body, for XLA to fuse across hours."""
    scan = jax.lax.scan

    def unrolled(f: Any, init: Any, xs: Any = None, length: Any = None, **options: Any) -> Any:
        if xs is not None and getattr(xs, "shape", None) == (24,):
            options["unroll"] = unroll
        return scan(f, init, xs, length, **options)

    jax.lax.scan = unrolled  # type: ignore[assignment]


def _setup() -> tuple[FlowLayout, Any]:
    model = compile_scenario(load_scenario(SCENARIO))
    layout = layout_of([model])
    return layout, jax.device_put(stack_parameters([model], layout))


def _simulation(layout: FlowLayout, n_days: int | None) -> Any:
    """The batch's hourly simulation (variants x replications), over the first `n_days` days
    or, with None, the whole horizon as the engine runs it."""

    def one(p: Any, replication: jax.Array, seed: jax.Array) -> Any:
        key = jax.random.fold_in(jax.random.PRNGKey(seed), replication)
        if n_days is None:
            return replicate(p, key, layout)
        state = initial_state(p, layout)

        def one_day(carry: Any, day: jax.Array) -> Any:
            return day_step(carry, day, p=p, layout=layout, key=key)

        return jax.lax.scan(one_day, state, jnp.arange(n_days))[1]

    return jax.vmap(jax.vmap(one, in_axes=(None, 0, None)), in_axes=(0, None, None))


def _compiled(layout: FlowLayout, parameters: Any, n: int, n_days: int | None) -> Any:
    ids = jnp.arange(n, dtype=jnp.int32)
    args = (parameters, ids, jnp.uint32(1))
    started = time.perf_counter()
    lowered = jax.jit(_simulation(layout, n_days)).lower(*args)
    compiled = compile_lowered(lowered, jax.default_backend())
    compile_s = time.perf_counter() - started
    jax.block_until_ready(compiled(*args))
    return compiled, args, compile_s


def _kernel_times(trace_dir: Path) -> dict[str, list[float]]:
    """HLO operation -> [launches, exclusive microseconds]: the GPU's kernels, or on a CPU the
    compiled program's thunks (with ``--xla_cpu_enable_xprof_traceme=true`` in `XLA_FLAGS`),
    less the time of the operations nested in them (a loop's body in the loop)."""
    path = next(trace_dir.rglob("perfetto_trace.json.gz"))
    events = json.loads(gzip.decompress(path.read_bytes()))["traceEvents"]
    gpu_pids = {
        e["pid"]
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "process_name"
        and "GPU" in str(e.get("args", {}).get("name", ""))
    }
    spans = sorted(
        (
            (e["pid"], e.get("tid"), float(e["ts"]), float(e.get("dur", 0.0)), _operation(e))
            for e in events
            if e.get("ph") == "X"
            and (e.get("pid") in gpu_pids or "hlo_op" in e.get("args", {}))
            and not str(e.get("name", "")).startswith("end: ")
        ),
        key=lambda span: (span[0], span[1], span[2], -span[3]),
    )
    kernels: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    open_spans: list[tuple[Any, Any, float, str]] = []  # (pid, tid, end, operation)
    for pid, tid, start, duration, operation in spans:
        while open_spans and (open_spans[-1][:2] != (pid, tid) or open_spans[-1][2] <= start):
            open_spans.pop()
        if open_spans:
            kernels[open_spans[-1][3]][1] -= duration
        kernels[operation][0] += 1
        kernels[operation][1] += duration
        open_spans.append((pid, tid, start + duration, operation))
    return kernels


def _operation(event: dict[str, Any]) -> str:
    return str(event.get("args", {}).get("hlo_op") or event["name"])


def _frame_table(text: str) -> dict[str, str]:
    """Stack frame id -> "file:line<caller file:line" of its two innermost frames in bordersim's
    sources, from the optimized HLO's tables (JAX writes frame ids, not lines, in `metadata`)."""
    section, files, locations, parents = "", {}, {}, {}
    for line in text.splitlines():
        if line in ("FileNames", "FunctionNames", "FileLocations", "StackFrames"):
            section = line
            continue
        entry = re.match(r"^(\d+) (.*)$", line)
        if not entry or not section:
            continue
        key, value = entry.groups()
        if section == "FileNames":
            files[key] = Path(value.strip('"')).name if "bordersim" in value else ""
        elif section == "FileLocations":
            found = re.search(r"file_name_id=(\d+) .*?line=(\d+)", value)
            if found:
                locations[key] = (found.group(1), found.group(2))
        elif section == "StackFrames":
            found = re.search(r"file_location_id=(\d+) parent_frame_id=(\d+)", value)
            if found:
                parents[key] = found.groups()
    frames: dict[str, str] = {}
    for frame in parents:
        inner: list[str] = []
        seen, current = set(), frame
        while current in parents and current not in seen and len(inner) < 2:
            seen.add(current)
            location, current = parents[current]
            file_id, line_number = locations.get(location, ("", ""))
            if files.get(file_id):
                inner.append(f"{files[file_id]}:{line_number}")
        frames[frame] = "<".join(inner)
    return frames


def _source_lines(dump: Path, module: str) -> dict[str, list[str]]:
    """Each instruction of the optimized program -> the engine's source lines it came from
    (for a fusion, the lines of the operations fused into it, most frequent first)."""
    texts = sorted(dump.glob(f"*{module}*after_optimizations.txt"), key=lambda p: p.stat().st_mtime)
    if not texts:
        return {}
    text = texts[-1].read_text(encoding="utf-8")
    frames = _frame_table(text)
    computations: dict[str, list[str]] = defaultdict(list)
    calls: dict[str, str] = {}
    own: dict[str, str] = {}
    current = ""
    instruction = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = ")
    for line in text.splitlines():
        if line.endswith("{") and "=" not in line.split("(")[0]:
            current = line.split()[0].lstrip("%") if not line.startswith("ENTRY") else "ENTRY"
            continue
        match = instruction.match(line)
        if not match:
            continue
        frame = re.search(r"stack_frame_id=(\d+)", line)
        source = re.search(r'source_file="([^"]+)" source_line=(\d+)', line)
        where = frames.get(frame.group(1), "") if frame else ""
        if source and not where:
            where = f"{Path(source.group(1)).name}:{source.group(2)}"
        if where:
            computations[current].append(where)
            own[match.group(1)] = where
        called = re.search(r"calls=%?([\w.\-]+)", line)
        if called:
            calls[match.group(1)] = called.group(1)
    lines: dict[str, list[str]] = {}
    for name in set(own) | set(calls):
        counted = Counter(computations.get(calls.get(name, ""), []))
        if not counted and name in own:
            counted[own[name]] += 1
        lines[name] = [where for where, _ in counted.most_common(4)]
    return lines


def profile(n_days: int, sizes: list[int]) -> None:
    layout, parameters = _setup()
    dump_flag = re.search(r"--xla_dump_to=(\S+)", os.environ.get("XLA_FLAGS", ""))
    dump = Path(dump_flag.group(1)) if dump_flag else None
    for n in sizes:
        compiled, args, compile_s = _compiled(layout, parameters, n, n_days)
        started = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        run_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            with jax.profiler.trace(folder, create_perfetto_trace=True):
                jax.block_until_ready(compiled(*args))
            kernels = _kernel_times(Path(folder))
        hours = 24 * n_days
        sources = _source_lines(dump, "jit_one") if dump else {}
        ranked = sorted(kernels.items(), key=lambda item: -item[1][1])
        report = {
            "device": str(jax.devices()[0]),
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "days": n_days,
            "replications": n,
            "compile_s": round(compile_s, 2),
            "run_s": round(run_s, 4),
            "ms_per_hour": round(1000 * run_s / hours, 4),
            "kernel_launches_per_hour": sum(c for c, _ in kernels.values()) / hours,
            "kernel_ms_per_hour": sum(t for _, t in kernels.values()) / hours / 1000,
            "kernels": [
                {
                    "name": name,
                    "launches": int(c),
                    "us_per_hour": round(t / hours, 3),
                    "source": sources.get(name, []),
                }
                for name, (c, t) in ranked
            ],
        }
        out = _out(f"profile-{n}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(n, "replications:", {k: v for k, v in report.items() if k != "kernels"}, flush=True)
        for row in report["kernels"][:15]:
            print("  ", row, flush=True)


def time_whole_horizon(sizes: list[int], rounds: int) -> None:
    """The whole horizon's simulation compiled with the engine's XLA options for this backend
    (`runner.compiler_options`) and without them, run in turn `rounds` times in this process."""
    layout, parameters = _setup()
    backend = jax.default_backend()
    arms: dict[str, dict[str, str | bool]] = {
        "without options": {},
        "engine's options": compiler_options(backend),
    }
    runs: list[dict[str, Any]] = []
    out = _out("time")
    for n in sizes:
        args = (parameters, jnp.arange(n, dtype=jnp.int32), jnp.uint32(1))
        lowered = jax.jit(_simulation(layout, None)).lower(*args)
        programs = {
            name: lowered.compile(compiler_options=options) for name, options in arms.items()
        }
        first: list[np.ndarray] | None = None
        for round_number in range(rounds):
            for name, program in programs.items():
                started = time.perf_counter()
                outputs = [np.asarray(x) for x in jax.block_until_ready(program(*args))]
                seconds = time.perf_counter() - started
                first = first or outputs
                runs.append(
                    {
                        "replications": n,
                        "round": round_number,
                        "arm": name,
                        "options": arms[name],
                        "xla_flags": os.environ.get("XLA_FLAGS", ""),
                        "unroll_hours": os.environ.get(UNROLL_VARIABLE, "1"),
                        "run_s": round(seconds, 4),
                        "same_as_first_arm": all(
                            np.array_equal(a, b) for a, b in zip(first, outputs, strict=True)
                        ),
                    }
                )
                print(runs[-1], flush=True)
        times = {
            name: sorted(r["run_s"] for r in runs if r["arm"] == name and r["replications"] == n)
            for name in arms
        }
        ratio = float(np.median(times["without options"]) / np.median(times["engine's options"]))
        runs.append({"replications": n, "speedup_median": round(ratio, 3), "device": backend})
        print(runs[-1], flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")


def time_engine(replications: int, rounds: int) -> None:
    """The whole engine (`simulate(..., engine="flow")`: the program and the host's custody
    times) with the engine's XLA options and without them, `rounds` times in turn, each arm
    compiled once (into a temporary folder), on the default backend."""
    model = compile_scenario(load_scenario(SCENARIO))
    arms: dict[str, dict[str, str | bool]] = {
        "without options": {},
        "engine's options": dict(runner.CPU_COMPILER_OPTIONS),
    }
    runs: list[dict[str, Any]] = []
    out = _out("engine")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BORDERSIM_JAX_CACHE"] = folder
        for round_number in range(-1, rounds):  # round -1 compiles each arm
            for name, options in arms.items():
                runner.CPU_COMPILER_OPTIONS = options  # each arm's program is kept apart
                result = simulate(model, engine="flow", replications=replications, seed=1)
                if round_number < 0:
                    continue
                last_day_custody = result.daily[:, -1, :, METRIC_INDEX["occupancy_mean"]].sum(-1)
                runs.append(
                    {
                        "replications": replications,
                        "round": round_number,
                        "arm": name,
                        "options": options,
                        "run_s": round(result.timings["run_s"], 3),
                        "last_day_custody_mean": round(float(last_day_custody.mean())),
                    }
                )
                print(runs[-1], flush=True)
    medians = {
        name: float(np.median([r["run_s"] for r in runs if r["arm"] == name])) for name in arms
    }
    runs.append(
        {
            "speedup_median": round(medians["without options"] / medians["engine's options"], 3),
            "device": jax.default_backend(),
        }
    )
    print(runs[-1], flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")


def _sizes(text: str) -> list[int]:
    """REPLICATIONS,...: numbers of replications, each a whole number above 0."""
    try:
        sizes = [int(n) for n in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers above 0, such as 1000,5000: {text!r}"
        )
    return sizes


def main(argv: list[str] | None = None) -> None:
    parser = bench_arguments(__doc__, __file__)
    modes = parser.add_subparsers(dest="mode", metavar="profile|time|engine")
    profiled = modes.add_parser("profile", help="each operation of the hourly step, timed")
    profiled.add_argument("days", nargs="?", type=count, default=7, metavar="DAYS")
    profiled.add_argument(
        "sizes", nargs="?", type=_sizes, default=[1000, 5000], metavar="REPLICATIONS,..."
    )
    timed = modes.add_parser("time", help="the whole horizon with the XLA options and without")
    timed.add_argument("sizes", nargs="?", type=_sizes, default=[64], metavar="REPLICATIONS,...")
    timed.add_argument("rounds", nargs="?", type=count, default=2, metavar="ROUNDS")
    engine = modes.add_parser("engine", help="the whole engine with the XLA options and without")
    engine.add_argument("replications", nargs="?", type=count, default=100, metavar="REPLICATIONS")
    engine.add_argument("rounds", nargs="?", type=count, default=2, metavar="ROUNDS")
    args = parser.parse_args(argv)
    if args.mode is None:
        args = parser.parse_args(["profile"])
    if UNROLL_VARIABLE in os.environ:
        _unroll_hours(int(os.environ[UNROLL_VARIABLE]))
    if args.mode == "profile":
        profile(args.days, args.sizes)
    elif args.mode == "time":
        time_whole_horizon(args.sizes, args.rounds)
    else:
        time_engine(args.replications, args.rounds)


if __name__ == "__main__":
    main()
