"""Holding and processing capacity as limits (docs/model.md, "Processing stations"), in both
engines: the stations' throughput, what crowding does to it, and custody building up when
intake outpaces the stations."""

from __future__ import annotations

import numpy as np
import pytest

from bordersim.compiler import compile_scenario, load_calibration_for
from bordersim.compiler.frame import trailing_load_shares
from bordersim.engines import simulate
from bordersim.engines.event.border.driver import pack_model
from bordersim.engines.event.border.holding import station_hours as event_station_hours
from bordersim.engines.flow.holding import station_hours as flow_station_hours
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import Pool, Sector, Task
from bordersim.model.examples import tiny_model
from bordersim.model.routes import line_index
from bordersim.results.schema import HIST_ALL, RunResult
from bordersim.scenario import load_scenario
from repo_paths import SCENARIOS

DAYS = 10


def limited(stations: float, slowdown: float = 0.0) -> CompiledModel:
    model = tiny_model(warmup_days=0, n_days=DAYS)
    return model.replace(
        processing_stations=np.full_like(model.custody_capacity, stations),
        crowding_slowdown=slowdown,
    )


def test_stations_take_their_throughput_and_crowding_slows_them_in_both_engines() -> None:
    model = limited(50.0, slowdown=0.5)  # capacity 600 a sector
    m = pack_model(model)
    p = {
        name: np.asarray(getattr(model, name))
        for name in ("custody_capacity", "processing_stations")
    }
    p["crowding_slowdown"] = np.asarray(model.crowding_slowdown)
    for occupancy, expected in ((300.0, 50.0), (600.0, 50.0), (1200.0, 50.0 / 1.5), (2400.0, 20.0)):
        assert event_station_hours(0, 0, occupancy, m) == pytest.approx(expected)
        flow = flow_station_hours(np.array([occupancy, occupancy]), 0, p)
        assert np.allclose(np.asarray(flow), expected, rtol=1e-6)


def _mean_stay_hours(run: RunResult) -> float:
    hist = run.custody_hist[:, :, HIST_ALL].sum(axis=(0, 1))
    return float((hist * np.arange(hist.size)).sum() / hist.sum())


def _processing_work_per_day(run: RunResult, model: CompiledModel) -> np.ndarray:
    """[R, D, S] agent-hours of intake and determination done (staff-hours x productivity)."""
    total = np.zeros(run.metric("encounters").shape)
    for pool in Pool:
        for task in (Task.INTAKE, Task.DETERMINATION):
            hours = run.metric(f"staff_hours:{pool.name.lower()}:{task.name.lower()}")
            total += hours * model.productivity[pool, task]
    return total


@pytest.mark.parametrize("engine", ["event", "flow"])
def test_scarce_stations_build_custody_and_lengthen_stays(engine: str) -> None:
    free = tiny_model(warmup_days=0, n_days=DAYS)
    scarce = limited(8.0)
    runs = {
        name: simulate(model, engine=engine, replications=2, seed=3)
        for name, model in (("free", free), ("scarce", scarce))
    }
    occupancy = {
        name: run.metric("occupancy_mean")[:, -1].sum(axis=1).mean() for name, run in runs.items()
    }
    backlog = {
        name: run.metric("processing_backlog")[:, -1].sum(axis=1).mean()
        for name, run in runs.items()
    }
    assert occupancy["scarce"] > 2.0 * occupancy["free"]
    assert backlog["scarce"] > 3.0 * backlog["free"]
    assert _mean_stay_hours(runs["scarce"]) > 1.3 * _mean_stay_hours(runs["free"])
    # The stations bound the work done: 8 agent-hours an hour, 192 a day, in each sector.
    work = _processing_work_per_day(runs["scarce"], scarce)
    assert work.max() <= 24 * 8.0 * (1 + 1e-6)
    assert work.max() > 0.9 * 24 * 8.0  # and they are kept busy while the line is long


@pytest.mark.parametrize("engine", ["event", "flow"])
def test_crowding_slows_processing(engine: str) -> None:
    calm = simulate(limited(12.0, slowdown=0.0), engine=engine, replications=2, seed=5)
    crowded = simulate(limited(12.0, slowdown=1.0), engine=engine, replications=2, seed=5)

    def last_day(run: RunResult) -> float:
        return float(run.metric("occupancy_mean")[:, -1].sum(axis=1).mean())

    assert last_day(calm) > 2 * 600  # over capacity, so crowding matters
    assert last_day(crowded) > 1.1 * last_day(calm)


def test_stations_follow_capacity_split_by_load_with_dated_facilities() -> None:
    scenario = load_scenario(SCENARIOS / "2023-title42-end.toml")
    model = compile_scenario(scenario)
    per_place = float(scenario.processing.stations_per_holding_place)
    standing = sum(float(scenario.custody.capacity_people.of(s)) for s in Sector)
    assert model.processing_stations[0].sum() == pytest.approx(per_place * standing)
    # A capacity change brings its stations: Rio Grande Valley's added places from 13 May 2023.
    rgv = model.sectors.index(Sector.RGV)
    change = np.diff(model.custody_capacity[:, rgv])
    day = int(np.flatnonzero(change)[0])
    # the rest is the border's standing stations split each day by the load of the days before
    shares = trailing_load_shares(
        load_calibration_for(scenario), model.dates, scenario.processing.station_load_days
    )
    standing_by_sector = np.array([scenario.custody.capacity_people.of(s) for s in model.sectors])
    added = model.custody_capacity - standing_by_sector[None, :]
    np.testing.assert_allclose(
        model.processing_stations, per_place * (standing * shares + added), rtol=1e-12
    )
    assert added[day + 1, rgv] - added[day, rgv] == change[day] > 0
    unlimited = compile_scenario(
        scenario.model_copy(
            update={
                "processing": scenario.processing.model_copy(
                    update={"stations_per_holding_place": float("inf")}
                )
            }
        )
    )
    assert np.isinf(unlimited.processing_stations).all()


def test_stations_counted_from_the_facilities_places_under_a_pandemic_adjusted_capacity() -> None:
    """`processing.station_places` replaces the standing capacity in the stations' count only:
    the capacity in force (what crowding and the release triggers read) stays as it was."""
    scenario = load_scenario(SCENARIOS / "2021-uac-surge.toml")
    assert scenario.processing.station_places == 9000
    model = compile_scenario(scenario)
    per_place = float(scenario.processing.stations_per_holding_place)
    standing = sum(float(scenario.custody.capacity_people.of(s)) for s in Sector)
    assert standing < 9000  # 5,935 places, pandemic-adjusted
    assert model.processing_stations[0].sum() == pytest.approx(per_place * 9000)
    counted_from_capacity = compile_scenario(
        scenario.model_copy(
            update={"processing": scenario.processing.model_copy(update={"station_places": None})}
        )
    )
    np.testing.assert_allclose(
        model.processing_stations, counted_from_capacity.processing_stations * 9000 / standing
    )
    np.testing.assert_array_equal(model.custody_capacity, counted_from_capacity.custody_capacity)


@pytest.mark.parametrize("engine", ["event", "flow"])
def test_hhs_beds_added_on_a_date_take_more_children(engine: str) -> None:
    """Emergency intake sites (departures.hhs_beds_added) open beds from their date on."""
    full = tiny_model(warmup_days=0, n_days=DAYS).with_line("hhs", beds=500.0)  # 500 occupied
    added = np.zeros(DAYS)
    added[5:] = 400.0
    opened = full.with_line("hhs", beds_added=added)
    runs = [simulate(m, engine=engine, replications=2, seed=7) for m in (full, opened)]
    before, after = (run.metric("uac_exits").sum(axis=2).mean(axis=0) for run in runs)
    assert np.allclose(before[:5], after[:5])  # the same until the sites open
    assert after[5:].sum() > before[5:].sum() + 100


def test_the_2021_scenario_adds_its_emergency_sites_on_their_dates() -> None:
    scenario = load_scenario(SCENARIOS / "2021-uac-surge.toml")
    model = compile_scenario(scenario)
    hhs = line_index("hhs")
    beds = model.line_beds[hhs] + model.line_beds_added[:, hhs]
    for site in scenario.departures.hhs_beds_added.values():
        day = model.dates.index(site.start_date)
        assert beds[day] - beds[day - 1] == pytest.approx(site.beds)
    assert beds[0] == scenario.departures.hhs_beds
