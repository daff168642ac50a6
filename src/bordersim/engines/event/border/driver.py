"""Python side of the event engine's border model: pack a `CompiledModel`, run replications.

All simulation happens in `kernel.run_replication` (one call per replication, compiled); this
module only turns the model into the kernel's arrays, sizes its per-attempt storage, derives one
independent random stream per replication, and assembles the `RunResult`.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bordersim.engines.event.border import layout
from bordersim.engines.event.border.kernel import run_replication
from bordersim.engines.event.border.state import Model, Storage
from bordersim.engines.event.core import rng as core_rng
from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import (
    CUSTODY_DAY_TASKS,
    GROUP_DEMOGRAPHIC,
    GROUP_NAMES,
    Pathway,
    Pool,
    Task,
)
from bordersim.model.fields import numpy_dtype, specs
from bordersim.model.routes import LINE_NATIONAL, LINES, ROUTE_LINE, ROUTE_REATTEMPT
from bordersim.results.schema import CUSTODY_HIST_HOURS, DAILY_METRICS, METRIC_INDEX, RunResult

ENGINE_NAME = "event"
_MAX_ATTEMPTS_AT_RETRY = 8
_BORDER_DIR = Path(__file__).resolve().parent


def drop_stale_kernel_cache() -> bool:
    """Delete the kernel's Numba cache if any of its sources changed since it was written.

    Numba keys a cached function on its own file only, but the kernel is compiled together with
    the step functions of the sibling modules and the core's random number generator: without
    this, a change to one of them would keep running the old compiled kernel. Returns whether
    the cache was dropped.
    """
    sources = [
        *sorted(_BORDER_DIR.glob("*.py")),
        *sorted(Path(core_rng.__file__).parent.glob("*.py")),
    ]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    cache = _BORDER_DIR / "__pycache__"
    stamp = cache / "kernel-sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return False
        for stale in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            stale.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:
        return False  # a read-only install: Numba then caches elsewhere or compiles each time
    return True


def pack_model(model: CompiledModel) -> Model:
    """The kernel's view of `model`: each `Model` field is the `CompiledModel` field of the same
    name in the dtype its declaration gives (model/compiled.py), plus derived cumulative shares
    and sizes."""
    pathway_cdf = np.cumsum(model.pathway_share, axis=2)
    pathway_cdf[..., -1] = 1.0
    diurnal_cdf = np.cumsum(model.diurnal_profile)
    diurnal_cdf[-1] = 1.0
    values: dict[str, Any] = {
        "n_hours": model.n_hours,
        "n_classes": int(model.priority_class.max()) + 1,
        "warmup_days": model.warmup_days,
        "diurnal_cdf": diurnal_cdf,
        "pathway_cdf": pathway_cdf,
        "custody_day_task": np.isin(np.arange(len(Task)), list(CUSTODY_DAY_TASKS)),
        "line_national": LINE_NATIONAL,
        "route_line": ROUTE_LINE,
        "route_reattempt": ROUTE_REATTEMPT,
        "line_transport_hours": _line_transport_hours(model),
    }
    declared = specs(CompiledModel)
    for name in Model._fields:
        if name in values:
            continue
        spec, value = declared[name], getattr(model, name)
        if spec.axes:
            values[name] = np.ascontiguousarray(value, dtype=numpy_dtype(spec))
        else:
            values[name] = {"float": float, "int": int, "bool": bool}[spec.dtype](value)
    return Model(**values)


def _line_transport_hours(model: CompiledModel) -> np.ndarray:
    """Transport work per person on each line: the most of the line's pathways'."""
    hours = np.zeros(len(LINES))
    for p in Pathway:
        for line in ROUTE_LINE[p]:
            if line >= 0:
                hours[line] = max(hours[line], model.transport_hours_per_person[p])
    return hours


def metric_columns() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    col = np.array([METRIC_INDEX[name] for name in layout.KERNEL_METRICS], dtype=np.int64)
    staff_col = np.array(
        [
            [METRIC_INDEX[f"staff_hours:{p.name.lower()}:{t.name.lower()}"] for t in Task]
            for p in Pool
        ],
        dtype=np.int64,
    )
    need_col = np.array(
        [METRIC_INDEX[f"staff_hours_needed:{t.name.lower()}"] for t in Task], dtype=np.int64
    )
    line_col = np.array([METRIC_INDEX[route.waiting_metric] for route in LINES], dtype=np.int64)
    return col, staff_col, need_col, line_col


def storage_for(model: CompiledModel, room: float) -> tuple[int, np.ndarray, int]:
    """Rows for every attempt (with `room` times the expected number), health regions, heap size.

    Attempts: first attempts (negative binomial, mean and variance known) times the expected
    number of attempts per person, 1 / (1 - q), where q is the group's largest chance of coming
    back (the share expelled or returned, times the re-attempt probability), plus a margin of many
    standard deviations; a replication that still runs out is re-run with twice the room.
    """
    mean = model.first_attempts_per_day
    dispersion = model.demand_dispersion
    variance = mean + (mean**2 / dispersion if math.isfinite(dispersion) else 0.0)
    regime = model.title42_active.astype(np.int64)
    returned = (model.pathway_share * ROUTE_REATTEMPT.T[GROUP_DEMOGRAPHIC][None]).sum(axis=2)
    comeback = (returned * model.repeat_probability[regime, :]).max(axis=0, initial=0.0)
    repeats = 1.0 / (1.0 - np.minimum(comeback, 0.95))  # [G]
    per_sector = (mean.sum(axis=0) * repeats).sum(axis=1)
    sd_sector = np.sqrt((variance.sum(axis=0) * repeats**2).sum(axis=1))
    initial = np.round(model.initial_custody).sum(axis=1)
    rows_sector = np.ceil(room * (1.05 * per_sector + 8.0 * sd_sector + 1024.0) + initial)
    region = np.zeros(model.n_sectors + 1, dtype=np.int64)
    region[1:] = np.cumsum(rows_sector.astype(np.int64))
    agent_crews = model.crew_pool == Pool.AGENT
    agents = (model.crew_headcount[:, :, agent_crews] * model.on_duty_fraction[Pool.AGENT]).sum(
        axis=2
    )
    heap_cap = int(np.ceil(agents.max(initial=0.0))) + 2
    return int(region[-1]), region, heap_cap


def replication_states(seed: int, replication: int) -> tuple[np.ndarray, np.ndarray]:
    """Two xoshiro256** states for one replication, from NumPy's SeedSequence.

    The first drives operations; the second only the crossings (daily counts, hours, groups,
    surrender, detection and pathway draws), so that two scenario variants run with the same seed
    see the same people arrive: common random numbers for comparisons.
    """
    if seed < 0:
        raise ModelError(f"seed must be a non-negative integer, got {seed}")
    words = np.random.SeedSequence([seed, replication]).generate_state(8, dtype=np.uint64)
    states = words[:4].copy(), words[4:].copy()
    for state in states:
        if not state.any():  # xoshiro's one forbidden state
            state[0] = 1
    return states


@dataclass
class Replication:
    daily: np.ndarray  # [D, S, M] every simulated day
    hist: np.ndarray  # [S, 2, CUSTODY_HIST_HOURS + 1]
    rows: dict[str, np.ndarray]  # per-attempt columns


ROW_COLUMNS = (
    "person",
    "group",
    "sector",
    "attempt",
    "arrival_h",
    "apprehension_h",
    "intake_h",
    "determination_h",
    "departure_h",
    "pathway",
    "flags",
)


def run_one(
    model: CompiledModel, seed: int, replication: int, packed: Model | None = None
) -> Replication:
    """One replication; grows the per-attempt storage if the run needs more rows. `packed` is
    `pack_model(model)`, when the caller has it already."""
    room = 1.0
    packed = pack_model(model) if packed is None else packed
    columns = metric_columns()
    for _ in range(_MAX_ATTEMPTS_AT_RETRY):
        n_cap, region, heap_cap = storage_for(model, room)
        storage = Storage(n_cap, region, heap_cap, len(DAILY_METRICS))
        out = run_replication(*replication_states(seed, replication), packed, storage, *columns)
        if out[0] == layout.OK:
            rows = dict(zip(ROW_COLUMNS, out[4:], strict=True))
            return Replication(daily=out[2], hist=out[3], rows=rows)
        room *= 2.0
    raise ModelError(
        f"scenario {model.scenario_name!r}: more crossing attempts than {room:.0f} times the "
        "expected number; check first_attempts_per_day and repeat_probability"
    )


def people_frame(
    model: CompiledModel, replication: int, rows: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Per-attempt records: who, where, and the hours (since the start) of each step."""
    flags = rows["flags"]
    pathway = rows["pathway"].astype(np.int64)
    sector_codes = np.array([s.name for s in model.sectors])
    return pd.DataFrame(
        {
            "replication": np.full(len(flags), replication, dtype=np.int32),
            "person": rows["person"],
            "group": pd.Categorical.from_codes(
                rows["group"].astype(np.int64), pd.Index(GROUP_NAMES)
            ),
            "sector": pd.Categorical.from_codes(
                rows["sector"].astype(np.int64), pd.Index(sector_codes)
            ),
            "attempt": rows["attempt"],
            "arrival_h": rows["arrival_h"],
            "apprehension_h": rows["apprehension_h"],
            "intake_h": rows["intake_h"],
            "determination_h": rows["determination_h"],
            "departure_h": rows["departure_h"],
            "pathway": pd.Categorical.from_codes(
                pathway, pd.Index([p.name.lower() for p in Pathway])
            ),
            "got_away": (flags & layout.F_GOTAWAY) != 0,
            "surrendered": (flags & layout.F_SURRENDERED) != 0,
            "initial_custody": (flags & layout.F_INITIAL_CUSTODY) != 0,
            "to_shelter": (flags & layout.F_SHELTER) != 0,
            "infectious": (flags & layout.F_INFECTIOUS) != 0,
            "isolated": (flags & layout.F_ISOLATED) != 0,
        }
    )


def compile_kernel() -> float:
    """Compile (or load from the cache) the kernel on a one-day model; seconds it took."""
    from bordersim.model.examples import tiny_model

    start = time.perf_counter()
    drop_stale_kernel_cache()
    run_one(tiny_model(n_days=2, warmup_days=1, attempts_per_day=20.0, health=True), 0, 0)
    return time.perf_counter() - start


def default_workers() -> int:
    """Threads that run replications: `$BORDERSIM_WORKERS`, else the cores this process may use."""
    text = os.environ.get("BORDERSIM_WORKERS", "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ModelError(f"BORDERSIM_WORKERS must be a positive whole number, got {text!r}")
        return int(text)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def simulate(
    model: CompiledModel,
    *,
    replications: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    records: bool = False,
    workers: int | None = None,
) -> RunResult:
    """Run `replications` independent replications of `model` from `seed` (see module doc).

    Replications run on `workers` threads (default `default_workers()`): the compiled kernel
    releases the GIL, and each replication depends only on the seed and its number, so the
    result is the same whatever the number of workers.
    """
    if replications < 1:
        raise ModelError(f"replications must be at least 1, got {replications}")
    if workers is not None and workers < 1:
        raise ModelError(f"workers must be at least 1, got {workers}")
    model.check()
    compile_s = compile_kernel()
    n_workers = min(replications, workers or default_workers())
    packed = pack_model(model)
    warm = model.warmup_days
    n_reported = model.n_days - warm
    daily = np.empty((replications, n_reported, model.n_sectors, len(DAILY_METRICS)))
    hist = np.empty((replications, model.n_sectors, 2, CUSTODY_HIST_HOURS + 1))
    frames: list[pd.DataFrame] = []
    run_times: list[float] = []

    def timed(r: int) -> tuple[Replication, float]:
        start = time.perf_counter()
        rep = run_one(model, seed, r, packed)
        return rep, time.perf_counter() - start

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for r, (rep, run_s) in enumerate(pool.map(timed, range(replications))):
            run_times.append(run_s)
            daily[r] = rep.daily[warm:]
            hist[r] = rep.hist
            if records:
                frames.append(people_frame(model, r, rep.rows))
            if progress is not None:
                progress(r + 1, replications)
    return RunResult(
        engine=ENGINE_NAME,
        scenario_name=model.scenario_name,
        scenario_hash=model.scenario_hash,
        seed=seed,
        dates=model.dates[warm:],
        sectors=model.sectors,
        daily=daily,
        custody_hist=hist,
        timings={
            "compile_s": compile_s,
            "run_s": float(sum(run_times)),
            "run_s_per_replication": float(np.mean(run_times)),
            "wall_s": time.perf_counter() - started,
            "workers": float(n_workers),
        },
        people=pd.concat(frames, ignore_index=True) if records else None,
    )
