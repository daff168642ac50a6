"""This tree's engine benchmarks against another checkout's, in one run, alternating.

    git worktree add ../base-40c0295 40c0295
    python -m bench.side_by_side --base ../base-40c0295 [--rounds 3] [--engines event flow]

Each round runs `python -m bench.border_event` and/or `python -m bench.flow` (their default
arguments) once in the base checkout and once in this one, in alternating order, each in its own
process with that checkout's `src` first on the path (both use this interpreter and its
packages). Alternating rounds put both trees under the same machine load, which matters on a
shared machine. Prints, per figure, the median over rounds of each tree and the ratio this / base
(run time: below 1 is faster), and writes them to bench/results/side-by-side.json. Both
checkouts' compiled caches must be warm (the first round is a warm-up and not counted when
`--rounds` is above 1).
"""

from __future__ import annotations

import ast
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench import bench_arguments, count, existing_folder

HERE = Path(__file__).resolve().parents[1]


def _run(tree: Path, module: str) -> str:
    env = dict(os.environ, PYTHONPATH=f"{tree / 'src'}{os.pathsep}{tree}")
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=tree, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{module} failed in {tree}:\n{done.stderr[-2000:]}")
    return done.stdout


def _event_figures(text: str) -> dict[str, float]:
    """Seconds per replication ("run mean") of each scenario row of bench.border_event."""
    figures = {}
    for line in text.splitlines():
        match = re.match(
            r"^(.+?)\s+(\d+)\s+(\d+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line
        )
        if match:
            figures[f"event {match.group(1).strip()} s/replication"] = float(match.group(6))
    return figures


def _flow_figures(text: str) -> dict[str, float]:
    for line in text.splitlines():
        if line.startswith("cpu: "):
            report = ast.literal_eval(line[len("cpu: ") :])
            return {f"flow cpu run s ({report['replications']} replications)": report["run_s"]}
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = bench_arguments(__doc__, __file__)
    parser.add_argument("--base", type=existing_folder, required=True)
    parser.add_argument("--rounds", type=count, default=3)
    parser.add_argument("--engines", nargs="+", default=["event", "flow"])
    args = parser.parse_args(argv)
    base = args.base.resolve()
    benches = {
        "event": ("bench.border_event", _event_figures),
        "flow": ("bench.flow", _flow_figures),
    }
    samples: dict[str, dict[str, list[float]]] = {"base": {}, "this": {}}
    for r in range(args.rounds):
        trees = [("base", base), ("this", HERE)] if r % 2 == 0 else [("this", HERE), ("base", base)]
        for engine in args.engines:
            module, parse = benches[engine]
            for label, tree in trees:
                figures = parse(_run(tree, module))
                print(f"round {r} {label:<4} {figures}", flush=True)
                if args.rounds > 1 and r == 0:
                    continue
                for name, value in figures.items():
                    samples[label].setdefault(name, []).append(value)
    rows = {}
    for name, values in samples["this"].items():
        this, was = statistics.median(values), statistics.median(samples["base"][name])
        rows[name] = {"base": was, "this": this, "ratio": round(this / was, 3)}
        print(f"{name:<60} base {was:8.3f}  this {this:8.3f}  ratio {this / was:6.3f}")
    out = HERE / "bench" / "results" / "side-by-side.json"
    out.write_text(json.dumps({"base": str(base), "rounds": args.rounds, **rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
