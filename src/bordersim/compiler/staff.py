"""Staff: pools, capabilities and crews (standing staff plus one crew per deployment)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from bordersim.compiler.frame import ALL_SECTORS, Fields, Frame
from bordersim.model.dimensions import (
    CUSTODY_DAY_TASKS,
    N_POOLS,
    N_TASKS,
    Pool,
    Sector,
    Task,
    legally_allowed,
)
from bordersim.scenario.schema import SOUTHWEST, Deployment


def staff_fields(frame: Frame) -> Fields:
    scenario, sectors, n_days = frame.scenario, frame.sectors, frame.n_days
    staff = scenario.staff
    pools = [staff.pools.of(p) for p in Pool]
    productivity = np.array([[pools[k].productivity.of(t) for t in Task] for k in range(N_POOLS)])
    capable = (productivity > 0) & legally_allowed()
    crew_names: list[str] = ["agents", "processing coordinators"]
    crew_pool: list[int] = [Pool.AGENT, Pool.PROCESSING_COORDINATOR]
    crew_tasks: list[np.ndarray] = [capable[Pool.AGENT], capable[Pool.PROCESSING_COORDINATOR]]
    headcount_columns: list[np.ndarray] = [
        np.broadcast_to([staff.agents_by_sector.of(s) for s in sectors], (n_days, len(sectors))),
        np.broadcast_to(
            staff.processing_coordinators * frame.standing_shares[frame.sector_cols],
            (n_days, len(sectors)),
        ),
    ]
    for name, deployment in scenario.deployments.items():
        pool = Pool[deployment.pool.upper()]
        tasks = np.zeros(N_TASKS, dtype=np.bool_)
        for task_name in deployment.tasks:
            tasks[Task[task_name.upper()]] = True
        crew_names.append(f"deployment {name}: {deployment.pool}")
        crew_pool.append(pool)
        crew_tasks.append(tasks & capable[pool])
        headcount_columns.append(
            _deployment_headcount(
                deployment, frame.dates, sectors, _deployment_load(frame, deployment)
            )
        )
    order = specialists_first(crew_pool, crew_tasks, crew_names)
    crew_names = [crew_names[c] for c in order]
    crew_pool = [crew_pool[c] for c in order]
    crew_tasks = [crew_tasks[c] for c in order]
    headcount_columns = [headcount_columns[c] for c in order]
    dispatch = staff.dispatch
    return {
        "detection_weight": np.array([pools[k].detection_weight for k in range(N_POOLS)]),
        "crew_names": tuple(crew_names),
        "crew_pool": np.array(crew_pool, dtype=np.int64),
        "crew_tasks": np.array(crew_tasks, dtype=np.bool_).reshape(len(crew_names), N_TASKS),
        "crew_headcount": np.stack([np.asarray(c, dtype=float) for c in headcount_columns], axis=2),
        "on_duty_fraction": np.array([pools[k].on_duty_fraction for k in range(N_POOLS)]),
        "productivity": productivity,
        "cost_per_person_day": np.array(
            [pools[k].cost_per_person_day_dollars for k in range(N_POOLS)]
        ),
        "min_field_fraction": float(dispatch.min_field_fraction),
        "max_processing_fraction": float(dispatch.max_processing_fraction),
        "task_fill_order": np.array(
            [Task[t.upper()] for t in dispatch.task_fill_order], dtype=np.int64
        ),
        "custody_day_hours": _custody_day_hours(frame),
        "hospital_watch_hours_per_apprehension": float(staff.hospital_watch_hours_per_apprehension),
        "hospital_transport_hours_per_apprehension": float(
            staff.hospital_transport_hours_per_apprehension
        ),
    }


# Tasks whose work is bounded (docs/model.md step 2): a crew that can do fewer of them has fewer
# other uses for its people.
_BOUNDED_TASKS = [
    Task.CUSTODY_WATCH,
    Task.INTAKE,
    Task.DETERMINATION,
    Task.TRANSPORT,
    *CUSTODY_DAY_TASKS,
]


def _custody_day_hours(frame: Frame) -> np.ndarray:
    """Each custody-day task's work per person-day, from the parameter its declaration names."""
    hours = np.zeros(N_TASKS)
    for task, path in CUSTODY_DAY_TASKS.items():
        value: Any = frame.scenario
        for part in path.split("."):
            value = getattr(value, part)
        hours[task] = float(value)
    return hours


def specialists_first(
    crew_pool: list[int], crew_tasks: list[np.ndarray], crew_names: list[str]
) -> list[int]:
    """Crew order for dispatch: agent crews first (as declared), then the other crews by how many
    bounded tasks they may do, fewest first; ties by pool (`Pool` order), then by name, so that the
    order of the deployment tables in a scenario file changes nothing. Dispatch takes non-agents
    in crew order, so a crew that can do only intake and warehouse work (troops) is used on it
    before processing coordinators, who can also watch and drive, and agents are left in the
    field."""
    agents = [c for c in range(len(crew_pool)) if crew_pool[c] == Pool.AGENT]
    others = [c for c in range(len(crew_pool)) if crew_pool[c] != Pool.AGENT]
    others.sort(
        key=lambda c: (int(crew_tasks[c][_BOUNDED_TASKS].sum()), int(crew_pool[c]), crew_names[c])
    )
    return agents + others


def _load_shares(demand: np.ndarray, columns: list[int], allocation: str) -> np.ndarray:
    """[9] share of each southwest sector among `columns` (zero elsewhere), by load or equal."""
    shares = np.zeros(len(ALL_SECTORS))
    if allocation == "equal":
        shares[columns] = 1.0 / len(columns)
        return shares
    load = demand[:, columns, :].sum(axis=(0, 2))
    total = load.sum()
    shares[columns] = load / total if total > 0 else 1.0 / len(columns)
    return shares


def _deployment_load(frame: Frame, deployment: Deployment) -> np.ndarray:
    """[D, 9, G] calibrated first attempts over the deployment's whole window (within the
    calibration's dates), whatever part of it the scenario simulates: a deployment spread by
    load is spread by the load of its own tour, so a shorter run does not move it."""
    cal = frame.calibration
    start = max(deployment.start_date, cal.first_date)
    last = min(deployment.last_date, cal.last_date)
    if last < start:
        return frame.border_demand
    days = [start + dt.timedelta(days=d) for d in range((last - start).days + 1)]
    return np.asarray(cal.daily_first_attempts(days, list(ALL_SECTORS)), dtype=float)


def _deployment_headcount(
    deployment: Deployment,
    dates: list[dt.date],
    sectors: tuple[Sector, ...],
    tour_load: np.ndarray,
) -> np.ndarray:
    """[D, S] people of one deployment in each modelled sector, ramp-up and end applied."""
    n_days = len(dates)
    start, last = deployment.start_date, deployment.last_date
    active = np.array([start <= day <= last for day in dates])
    ramp = np.zeros(n_days)
    for d, day in enumerate(dates):
        if active[d]:
            since = (day - start).days + 1
            ramp[d] = min(1.0, since / deployment.ramp_up_days) if deployment.ramp_up_days else 1.0
    sector_cols = [ALL_SECTORS.index(s) for s in sectors]
    if deployment.headcount_by_sector is not None:
        explicit = {str(k): float(v) for k, v in deployment.headcount_by_sector.items()}
        per_sector = np.array([explicit.get(s.name, 0.0) for s in sectors], dtype=np.float64)
    else:
        assert deployment.headcount is not None
        targets = (
            list(range(len(ALL_SECTORS)))
            if deployment.sectors == SOUTHWEST
            else [ALL_SECTORS.index(Sector[c]) for c in deployment.sectors]
        )
        shares = _load_shares(tour_load, targets, deployment.allocation)
        per_sector = deployment.headcount * shares[sector_cols]
    return ramp[:, None] * per_sector[None, :]
