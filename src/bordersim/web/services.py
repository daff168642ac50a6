"""The run services the workbench calls: load and compile, simulate, read a stored run back.

One place for them, so that the pages and the worker use exactly what `bordersim run` uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from bordersim.report.run_report import RunRecord
    from bordersim.results.schema import RunResult


def load_and_compile(path: Path) -> Any:
    from bordersim.commands.simulate import load_and_compile as load

    return load(path)


def code_version() -> str:
    from bordersim.commands.simulate import code_version as version

    return version()


def simulate_loaded(
    loaded: Any,
    *,
    engine: str,
    replications: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Simulate a compiled scenario, nothing recorded; timings as `bordersim run` keeps them."""
    from bordersim.commands.simulate import check_request
    from bordersim.engines import simulate

    check_request(engine, replications, False)
    started = time.perf_counter()
    result = simulate(
        loaded.model, engine=engine, replications=replications, seed=seed, progress=progress
    )
    run_s = time.perf_counter() - started
    result.timings["scenario_compile_s"] = loaded.compile_s
    result.timings["wall_s"] = run_s
    result.timings.setdefault("run_s", run_s)
    result.timings.setdefault("run_s_per_replication", result.timings["run_s"] / replications)
    return result


def stored_record(connection: duckdb.DuckDBPyConnection, run_id: str) -> RunRecord:
    from bordersim.commands.simulate import stored_record as stored

    return stored(connection, run_id)
