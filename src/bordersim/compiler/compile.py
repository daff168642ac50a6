"""Compile a validated `Scenario` into the `CompiledModel` both engines read.

Demand comes from the calibration (daily first attempts per sector and group, pathway shares,
repeat parameters) times the scenario's shocks; the Title 42 regime from the policy dates; crews
from the standing staff (agents by sector, processing coordinators spread by load) plus one crew
per deployment. "By load" means in proportion to each sector's share of calibrated first attempts
over the period concerned, among the nine southwest sectors (or among a deployment's sectors), so
a scenario that models two sectors gets their share of a border-wide deployment, not all of it.

A scenario that names a demand fit (``demand.fit``, made by `bordersim fit` on the historical
scenario and inherited by its variants) has its first attempts multiplied by the fit's factor per
month, sector and group; the by-load shares above stay those of the calibration, so that fitting
demand never moves staff.

Nothing is cached: the calibration and the fit are read afresh on each call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from bordersim.compiler.inputs import Calibration, load_calibration_for, load_fit_for
from bordersim.errors import ScenarioError
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import (
    GROUP_DEMOGRAPHIC,
    N_GROUPS,
    N_POOLS,
    N_TASKS,
    Demographic,
    Pathway,
    Pool,
    Sector,
    Task,
    legally_allowed,
)
from bordersim.scenario import Scenario
from bordersim.scenario.schema import SOUTHWEST, Deployment

ALL_SECTORS: tuple[Sector, ...] = tuple(Sector)


def compile_scenario(
    scenario: Scenario, calibration: Calibration | None = None, *, apply_fit: bool = True
) -> CompiledModel:
    """The scenario as numeric arrays. `calibration` defaults to the one the scenario names;
    `apply_fit=False` ignores the scenario's demand fit (what `bordersim fit` starts from)."""
    cal = calibration if calibration is not None else load_calibration_for(scenario)
    period = scenario.period
    first_day = period.first_simulated_date
    n_days = (period.end_date - first_day).days + 1
    dates = [first_day + dt.timedelta(days=d) for d in range(n_days)]
    sectors = tuple(Sector[code] for code in scenario.sectors)
    sector_cols = [ALL_SECTORS.index(s) for s in sectors]
    _check_coverage(scenario, cal)

    # ----- demand ---------------------------------------------------------------------------
    border_demand = np.asarray(cal.daily_first_attempts(dates, list(ALL_SECTORS)), dtype=float)
    if border_demand.shape != (n_days, len(ALL_SECTORS), N_GROUPS):
        raise ScenarioError(
            f"calibration {cal.version!r} returned first attempts of shape "
            f"{border_demand.shape}, expected {(n_days, len(ALL_SECTORS), N_GROUPS)}",
            where=str(scenario.path),
        )
    first_attempts = (
        border_demand[:, sector_cols, :] * _shock_multiplier(scenario, dates)[:, :, None]
    )
    fit = load_fit_for(scenario, cal) if apply_fit else None
    if fit is not None:
        first_attempts = first_attempts * fit.daily_factors(dates, list(sectors))
    title42 = np.array(
        [
            scenario.policy.title42_start_date <= d <= scenario.policy.title42_end_date
            for d in dates
        ],
        dtype=np.bool_,
    )
    pathway_share = _override_title42_shares(
        np.array(cal.pathway_shares(dates, title42), dtype=float),
        title42,
        {str(k): v for k, v in scenario.policy.title42_expulsion_override_fraction.items()},
    )

    demographic_of_group = [Demographic(int(d)) for d in GROUP_DEMOGRAPHIC]
    demand = scenario.demand

    def by_group(values: object) -> np.ndarray:
        return np.array([values.of(d) for d in demographic_of_group])  # type: ignore[attr-defined]

    # ----- custody ----------------------------------------------------------------------------
    custody = scenario.custody
    capacity = np.array([[custody.capacity_people.of(s) for s in sectors]] * n_days, dtype=float)
    for change in custody.capacity_changes.values():
        s = sectors.index(Sector[change.sector])
        last = change.end_date or dates[-1]
        for d, day in enumerate(dates):
            if change.start_date <= day <= last:
                capacity[d, s] += change.change_people
    if np.any(capacity < 0):
        d, s = (int(i) for i in np.argwhere(capacity < 0)[0])
        raise ScenarioError(
            f"custody.capacity_changes: capacity of {sectors[s].name} falls to "
            f"{capacity[d, s]:g} on {dates[d]}; holding capacity cannot be negative",
            where=scenario.location("custody.capacity_changes"),
        )
    first_week = border_demand[: min(7, n_days), sector_cols, :].sum(axis=0)
    mix = first_week / np.maximum(first_week.sum(axis=1, keepdims=True), 1e-12)
    initial_custody = capacity[0][:, None] * custody.initial_occupancy_fraction * mix

    # ----- staff ------------------------------------------------------------------------------
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
            staff.processing_coordinators
            * _load_shares(border_demand, list(range(len(ALL_SECTORS))), "load")[sector_cols],
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
        headcount_columns.append(_deployment_headcount(deployment, dates, sectors, border_demand))

    crew_headcount = np.stack([np.asarray(c, dtype=float) for c in headcount_columns], axis=2)

    # ----- health -----------------------------------------------------------------------------
    health = scenario.health
    if health.enabled:
        prevalence = _prevalence(
            health.arrival_prevalence_fraction, health.arrival_prevalence_by_date, dates
        )
    else:
        prevalence = np.zeros(n_days)

    departures = scenario.departures
    detection = scenario.detection
    processing = scenario.processing
    dispatch = staff.dispatch
    order: list[str] = list(processing.priority_order)
    priority = [order.index(d.name.lower()) for d in demographic_of_group]

    sources = dict(scenario.sources)
    for key, text in cal.sources.items():
        sources[f"calibration.{key}"] = text
    if fit is not None:
        sources["demand.fit"] = (
            f"demand fit {fit.path.name}: first attempts x a factor per month, sector and group, "
            f"fitted by simulation on {fit.scenario_name!r} "
            f"({fit.document.get('engine', '?')} engine) to official monthly encounters"
        )

    model = CompiledModel(
        scenario_name=scenario.name,
        scenario_hash=scenario.hash,
        start_date=first_day,
        warmup_days=period.warmup_days,
        n_days=n_days,
        sectors=sectors,
        first_attempts_per_day=np.ascontiguousarray(first_attempts),
        demand_dispersion=float(demand.dispersion),
        diurnal_profile=np.array(demand.diurnal_profile_fraction, dtype=float)
        / float(np.sum(demand.diurnal_profile_fraction)),
        batch_size_mean=by_group(demand.batch_size_mean_people),
        surrender_fraction=by_group(demand.surrender_fraction),
        title42_active=title42,
        repeat_probability=np.array(cal.repeat_probability, dtype=float),
        repeat_delay_mean_days=np.array(cal.repeat_delay_mean_days, dtype=float),
        initial_repeat_share=float(demand.initial_repeat_share_fraction),
        detection_p_max=np.array([detection.p_max_fraction.of(s) for s in sectors]),
        detection_effort_scale=np.array([detection.effort_scale_agents.of(s) for s in sectors]),
        detection_weight=np.array([pools[k].detection_weight for k in range(N_POOLS)]),
        technology_effort=np.array([detection.technology_effort_agents.of(s) for s in sectors]),
        interdiction_patience_hours=by_group(detection.interdiction_patience_hours),
        field_hours_per_interdiction=float(detection.field_hours_per_interdiction),
        field_hours_per_pickup=float(detection.field_hours_per_pickup),
        pickup_patience_hours=float(detection.pickup_patience_hours),
        pathway_share=pathway_share,
        intake_hours=np.array([processing.intake_hours.of(p) for p in Pathway]),
        determination_hours=np.array([processing.determination_hours.of(p) for p in Pathway]),
        priority_class=np.array(priority, dtype=np.int64),
        min_custody_hours=np.array([processing.min_custody_hours.of(p) for p in Pathway]),
        custody_capacity=capacity,
        persons_per_watch_staff=float(custody.persons_per_watch_staff),
        custody_standard_hours=float(custody.standard_hours),
        uac_standard_hours=float(custody.uac_standard_hours),
        release_valve_enabled=bool(scenario.policy.release_valve.enabled),
        release_valve_threshold=float(scenario.policy.release_valve.threshold_occupancy_fraction),
        release_valve_share=float(scenario.policy.release_valve.share_fraction),
        initial_custody=initial_custody,
        port_capacity_per_day=np.array([departures.port_capacity_per_day.of(s) for s in sectors]),
        transport_hours_per_person=np.array(
            [processing.transport_hours_per_person.of(p) for p in Pathway]
        ),
        ice_beds=float(departures.ice_beds),
        ice_initial_occupancy=float(departures.ice_initial_occupancy_beds),
        ice_length_of_stay_days=float(departures.ice_length_of_stay_days),
        ice_transfers_per_day=float(departures.ice_transfers_per_day),
        shelter_intake_per_day=np.array([departures.shelter_intake_per_day.of(s) for s in sectors]),
        hhs_placement_per_day=float(departures.hhs_placement_per_day),
        hhs_beds=float(departures.hhs_beds),
        hhs_initial_occupancy=float(departures.hhs_initial_occupancy_beds),
        hhs_length_of_stay_days=float(departures.hhs_length_of_stay_days),
        crew_names=tuple(crew_names),
        crew_pool=np.array(crew_pool, dtype=np.int64),
        crew_tasks=np.array(crew_tasks, dtype=np.bool_).reshape(len(crew_names), N_TASKS),
        crew_headcount=crew_headcount,
        on_duty_fraction=np.array([pools[k].on_duty_fraction for k in range(N_POOLS)]),
        productivity=productivity,
        cost_per_person_day=np.array(
            [pools[k].cost_per_person_day_dollars for k in range(N_POOLS)]
        ),
        min_field_fraction=float(dispatch.min_field_fraction),
        max_processing_fraction=float(dispatch.max_processing_fraction),
        task_fill_order=np.array(
            [Task[t.upper()] for t in dispatch.task_fill_order], dtype=np.int64
        ),
        warehouse_hours_per_person_day=float(staff.warehouse_hours_per_person_day),
        medical_hours_per_person_day=float(staff.medical_hours_per_person_day),
        supply_units_per_person_day=float(scenario.supplies.units_per_person_day),
        supply_initial_stock_days=float(scenario.supplies.initial_stock_days),
        supply_reorder_lead_days=float(scenario.supplies.reorder_lead_days),
        supply_reorder_point_days=float(scenario.supplies.reorder_point_days),
        supply_order_days=float(scenario.supplies.order_days),
        supply_cost_per_unit=float(scenario.supplies.cost_per_unit_dollars),
        health_enabled=bool(health.enabled),
        arrival_prevalence=prevalence,
        symptomatic_fraction=float(health.symptomatic_fraction),
        screening_sensitivity=float(health.screening_sensitivity_fraction),
        isolation_capacity=np.array([health.isolation_capacity_people.of(s) for s in sectors]),
        transmission_rate_per_day=float(health.transmission_rate_per_day),
        crowding_exponent=float(health.crowding_exponent),
        infectious_days=float(health.infectious_days),
        staff_infection_rate_per_day=float(health.staff_infection_rate_per_day),
        staff_absence_days=float(health.staff_absence_days),
        cost_per_custody_person_day=float(scenario.cost.custody_per_person_day_dollars),
        cost_per_ice_transfer=float(scenario.cost.ice_transfer_dollars),
        target_custody_hours=float(scenario.targets.custody_hours),
        sources=sources,
    )
    model.check()
    return model


def _override_title42_shares(
    shares: np.ndarray, title42: np.ndarray, override: Mapping[str, float]
) -> np.ndarray:
    """Set the Title 42 expulsion share of some demographics on Title 42 days; the other
    pathways keep their proportions (or, if they had none, the remainder goes to the group's
    Title 8 default: HHS for children, release for the others)."""
    for demographic_name, fraction in override.items():
        demographic = Demographic[demographic_name.upper()]
        for g in np.flatnonzero(np.equal(GROUP_DEMOGRAPHIC, int(demographic))):
            block = shares[title42, g, :]
            others = block.copy()
            others[:, Pathway.TITLE42_EXPULSION] = 0.0
            total = others.sum(axis=1, keepdims=True)
            fallback = (
                Pathway.UAC_TRANSFER
                if demographic == Demographic.UNACCOMPANIED_CHILD
                else Pathway.RELEASE
            )
            empty = total[:, 0] <= 0
            others[empty, fallback] = 1.0
            total[empty] = 1.0
            block = others / total * (1.0 - fraction)
            block[:, Pathway.TITLE42_EXPULSION] = fraction
            shares[title42, g, :] = block
    return shares


def _check_coverage(scenario: Scenario, cal: Calibration) -> None:
    period = scenario.period
    first = period.first_simulated_date
    if first < cal.first_date:
        key = "period.start_date"
        raise ScenarioError(
            f"{key} = {period.start_date} (simulation starts {first}, after a warm-up of "
            f"{period.warmup_days} days): before the calibration {cal.version!r} covers "
            f"({cal.first_date} to {cal.last_date})",
            where=scenario.location(key),
        )
    if period.end_date > cal.last_date:
        key = "period.end_date"
        raise ScenarioError(
            f"{key} = {period.end_date}: after the calibration {cal.version!r} covers "
            f"({cal.first_date} to {cal.last_date})",
            where=scenario.location(key),
        )


def _shock_multiplier(scenario: Scenario, dates: list[dt.date]) -> np.ndarray:
    """[D, S] product of the scenario's demand shocks."""
    multiplier = np.ones((len(dates), len(scenario.sectors)))
    for shock in scenario.demand.shocks.values():
        curve = np.ones(len(dates))
        for d, day in enumerate(dates):
            offset = (day - shock.date).days
            if -shock.ramp_days <= offset < 0:
                # linear from 1 (ramp start) to the peak on the day before the date
                step = (offset + shock.ramp_days + 1) / shock.ramp_days
                curve[d] = 1.0 + (shock.ramp_peak_multiplier - 1.0) * step
            elif 0 <= offset < shock.surge_days:
                # from the surge multiplier on the date, linearly back towards 1
                remaining = 1.0 - offset / shock.surge_days
                curve[d] = 1.0 + (shock.surge_multiplier - 1.0) * remaining
        columns = (
            range(len(scenario.sectors))
            if shock.sectors == "all"
            else [scenario.sectors.index(code) for code in shock.sectors]
        )
        for s in columns:
            multiplier[:, s] *= curve
    return multiplier


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


def _deployment_headcount(
    deployment: Deployment,
    dates: list[dt.date],
    sectors: tuple[Sector, ...],
    border_demand: np.ndarray,
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
        window = border_demand[active] if active.any() else border_demand
        shares = _load_shares(window, targets, deployment.allocation)
        per_sector = deployment.headcount * shares[sector_cols]
    return ramp[:, None] * per_sector[None, :]


def _prevalence(constant: float, points: dict[dt.date, float], dates: list[dt.date]) -> np.ndarray:
    if not points:
        return np.full(len(dates), constant)
    known = sorted(points.items())
    x = np.array([(day - dates[0]).days for day, _ in known], dtype=float)
    y = np.array([value for _, value in known])
    return np.interp(np.arange(len(dates), dtype=float), x, y)
