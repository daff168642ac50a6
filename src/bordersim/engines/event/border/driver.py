"""Python side of the event engine's border model: pack a `CompiledModel`, run replications.

All simulation happens in `kernel.run_replication` (one call per replication, compiled); this
module only turns the model into the kernel's arrays, sizes its per-attempt storage, derives one
independent random stream per replication, and assembles the `RunResult`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bordersim.engines.event.border import layout
from bordersim.engines.event.border.kernel import run_replication
from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import GROUP_NAMES, Pathway, Pool, Task
from bordersim.results.schema import CUSTODY_HIST_HOURS, DAILY_METRICS, METRIC_INDEX, RunResult

ENGINE_NAME = "event"
_MAX_ATTEMPTS_AT_RETRY = 8


@dataclass(frozen=True)
class KernelInputs:
    """The arguments of `run_replication` that do not change between replications."""

    n_cap: int
    region: np.ndarray
    heap_cap: int
    arrays: tuple[np.ndarray, ...]


def _par(model: CompiledModel) -> np.ndarray:
    par = np.zeros(layout.N_PAR)
    values = {
        layout.P_DISPERSION: model.demand_dispersion,
        layout.P_INITIAL_REPEAT_SHARE: model.initial_repeat_share,
        layout.P_FIELD_HOURS_INTERDICTION: model.field_hours_per_interdiction,
        layout.P_FIELD_HOURS_PICKUP: model.field_hours_per_pickup,
        layout.P_PICKUP_PATIENCE: model.pickup_patience_hours,
        layout.P_PERSONS_PER_WATCH: model.persons_per_watch_staff,
        layout.P_VALVE_ENABLED: float(model.release_valve_enabled),
        layout.P_VALVE_THRESHOLD: model.release_valve_threshold,
        layout.P_VALVE_SHARE: model.release_valve_share,
        layout.P_ICE_BEDS: model.ice_beds,
        layout.P_ICE_INITIAL: model.ice_initial_occupancy,
        layout.P_ICE_STAY_DAYS: model.ice_length_of_stay_days,
        layout.P_ICE_TRANSFERS: model.ice_transfers_per_day,
        layout.P_HHS_PLACEMENT: model.hhs_placement_per_day,
        layout.P_HHS_BEDS: model.hhs_beds,
        layout.P_HHS_INITIAL: model.hhs_initial_occupancy,
        layout.P_HHS_STAY_DAYS: model.hhs_length_of_stay_days,
        layout.P_MIN_FIELD: model.min_field_fraction,
        layout.P_MAX_PROCESSING: model.max_processing_fraction,
        layout.P_WAREHOUSE_HPD: model.warehouse_hours_per_person_day,
        layout.P_MEDICAL_HPD: model.medical_hours_per_person_day,
        layout.P_SUPPLY_UNITS: model.supply_units_per_person_day,
        layout.P_SUPPLY_INITIAL_DAYS: model.supply_initial_stock_days,
        layout.P_SUPPLY_LEAD_DAYS: model.supply_reorder_lead_days,
        layout.P_SUPPLY_REORDER_DAYS: model.supply_reorder_point_days,
        layout.P_SUPPLY_ORDER_DAYS: model.supply_order_days,
        layout.P_SUPPLY_COST: model.supply_cost_per_unit,
        layout.P_HEALTH: float(model.health_enabled),
        layout.P_SYMPTOMATIC: model.symptomatic_fraction,
        layout.P_SENSITIVITY: model.screening_sensitivity,
        layout.P_TRANSMISSION: model.transmission_rate_per_day,
        layout.P_CROWDING_EXPONENT: model.crowding_exponent,
        layout.P_INFECTIOUS_DAYS: model.infectious_days,
        layout.P_STAFF_INFECTION: model.staff_infection_rate_per_day,
        layout.P_STAFF_ABSENCE_DAYS: model.staff_absence_days,
        layout.P_COST_CUSTODY: model.cost_per_custody_person_day,
        layout.P_COST_ICE: model.cost_per_ice_transfer,
        layout.P_TARGET_HOURS: model.target_custody_hours,
        layout.P_WARMUP_DAYS: float(model.warmup_days),
        layout.P_CUSTODY_STANDARD: model.custody_standard_hours,
        layout.P_UAC_STANDARD: model.uac_standard_hours,
    }
    for slot, value in values.items():
        par[slot] = float(value)
    return par


def _columns() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    return col, staff_col, need_col


def _storage(model: CompiledModel, room: float) -> tuple[int, np.ndarray, int]:
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
    returned = (
        model.pathway_share[:, :, Pathway.TITLE42_EXPULSION]
        + model.pathway_share[:, :, Pathway.VOLUNTARY_RETURN]
    )
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


def kernel_inputs(model: CompiledModel, room: float = 1.0) -> KernelInputs:
    """Everything the kernel needs from `model`, as contiguous arrays of the kernel's types."""
    n_cap, region, heap_cap = _storage(model, room)
    col, staff_col, need_col = _columns()
    pathway_cdf = np.cumsum(model.pathway_share, axis=2)
    pathway_cdf[..., -1] = 1.0
    diurnal_cdf = np.cumsum(model.diurnal_profile)
    diurnal_cdf[-1] = 1.0

    def f64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.float64)

    def i64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.int64)

    arrays = (
        _par(model),
        col,
        staff_col,
        need_col,
        f64(model.first_attempts_per_day),
        f64(diurnal_cdf),
        f64(model.batch_size_mean),
        f64(model.surrender_fraction),
        np.ascontiguousarray(model.title42_active, dtype=np.bool_),
        f64(model.repeat_probability),
        f64(model.repeat_delay_mean_days),
        f64(model.detection_p_max),
        f64(model.detection_effort_scale),
        f64(model.detection_weight),
        f64(model.technology_effort),
        f64(model.interdiction_patience_hours),
        f64(pathway_cdf),
        f64(model.intake_hours),
        f64(model.determination_hours),
        f64(model.min_custody_hours),
        i64(model.priority_class),
        f64(model.custody_capacity),
        f64(model.initial_custody),
        f64(model.port_capacity_per_day),
        f64(model.transport_hours_per_person),
        f64(model.shelter_intake_per_day),
        i64(model.crew_pool),
        np.ascontiguousarray(model.crew_tasks, dtype=np.bool_),
        f64(model.crew_headcount),
        f64(model.on_duty_fraction),
        f64(model.productivity),
        f64(model.cost_per_person_day),
        i64(model.task_fill_order),
        f64(model.arrival_prevalence),
        f64(model.isolation_capacity),
    )
    return KernelInputs(n_cap=n_cap, region=region, heap_cap=heap_cap, arrays=arrays)


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


def run_one(model: CompiledModel, seed: int, replication: int) -> Replication:
    """One replication; grows the per-attempt storage if the run needs more rows."""
    room = 1.0
    for _ in range(_MAX_ATTEMPTS_AT_RETRY):
        inputs = kernel_inputs(model, room)
        out = run_replication(
            *replication_states(seed, replication),
            inputs.n_cap,
            inputs.region,
            inputs.heap_cap,
            len(DAILY_METRICS),
            *inputs.arrays,
        )
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
    run_one(tiny_model(n_days=2, warmup_days=1, attempts_per_day=20.0, health=True), 0, 0)
    return time.perf_counter() - start


def simulate(
    model: CompiledModel,
    *,
    replications: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    records: bool = False,
) -> RunResult:
    """Run `replications` independent replications of `model` from `seed` (see module doc)."""
    if replications < 1:
        raise ModelError(f"replications must be at least 1, got {replications}")
    model.check()
    compile_s = compile_kernel()
    warm = model.warmup_days
    n_reported = model.n_days - warm
    daily = np.empty((replications, n_reported, model.n_sectors, len(DAILY_METRICS)))
    hist = np.empty((replications, model.n_sectors, 2, CUSTODY_HIST_HOURS + 1))
    frames: list[pd.DataFrame] = []
    run_times: list[float] = []
    for r in range(replications):
        start = time.perf_counter()
        rep = run_one(model, seed, r)
        run_times.append(time.perf_counter() - start)
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
        },
        people=pd.concat(frames, ignore_index=True) if records else None,
    )
