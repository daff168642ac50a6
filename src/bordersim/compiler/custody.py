"""Custody: holding capacity and its changes, processing stations, initial occupancy, standards."""

from __future__ import annotations

import numpy as np

from bordersim.compiler.frame import ALL_SECTORS, Fields, Frame, trailing_load_shares
from bordersim.errors import ScenarioError
from bordersim.model.dimensions import N_DEMOGRAPHICS, N_NATIONALITIES, Demographic, Sector
from bordersim.scenario.loader import key_path_text


def custody_fields(frame: Frame) -> Fields:
    scenario, sectors, dates = frame.scenario, frame.sectors, frame.dates
    custody = scenario.custody
    capacity = np.array(
        [[custody.capacity_people.of(s) for s in sectors]] * frame.n_days, dtype=float
    )
    for change in custody.capacity_changes.values():
        s = sectors.index(Sector[change.sector])
        last = change.end_date or dates[-1]
        for d, day in enumerate(dates):
            if change.start_date <= day <= last:
                capacity[d, s] += change.change_people
    if np.any(capacity < 0):
        d, s = (int(i) for i in np.argwhere(capacity < 0)[0])
        # name a removal in force there that day, so that the message has its file and line
        name = next(
            name
            for name, change in custody.capacity_changes.items()
            if change.sector == sectors[s].name
            and change.change_people < 0
            and change.start_date <= dates[d] <= (change.end_date or dates[-1])
        )
        key = key_path_text(("custody", "capacity_changes", name, "change_people"))
        raise ScenarioError(
            f"{key} = {custody.capacity_changes[name].change_people:g}: capacity of "
            f"{sectors[s].name} falls to {capacity[d, s]:g} on {dates[d]}; holding capacity "
            "cannot be negative",
            where=scenario.location(key),
        )
    first_week = frame.border_demand[: min(7, frame.n_days), frame.sector_cols, :].sum(axis=0)
    mix = first_week / np.maximum(first_week.sum(axis=1, keepdims=True), 1e-12)
    return {
        **_station_fields(frame, capacity),
        "custody_capacity": capacity,
        "persons_per_watch_staff": float(custody.persons_per_watch_staff),
        "custody_standard_hours": float(custody.standard_hours),
        "uac_standard_hours": float(custody.uac_standard_hours),
        "initial_custody": capacity[0][:, None] * custody.initial_occupancy_fraction * mix,
        **_decompression_fields(frame),
    }


def _decompression_fields(frame: Frame) -> Fields:
    """Lateral decompression (docs/model.md step 6): the days it runs, its thresholds, seats,
    the groups it may move and the escort work per person."""
    rule = frame.scenario.custody.decompression
    listed = {Demographic[name.upper()] for name in rule.demographics}
    eligible = np.array(
        [
            float(Demographic(d) in listed)
            for d in range(N_DEMOGRAPHICS)
            for _ in range(N_NATIONALITIES)
        ]
    )
    return {
        "decompression_active": np.array([float(rule.in_force(day)) for day in frame.dates]),
        "decompression_send_fraction": float(rule.send_above_fraction),
        "decompression_receive_fraction": float(rule.receive_below_fraction),
        "decompression_seats_per_hour": float(rule.seats_per_day) / 24.0,
        "decompression_eligible": eligible,
        "decompression_hours_per_person": float(rule.agent_hours_per_person),
    }


def _station_fields(frame: Frame, capacity: np.ndarray) -> Fields:
    """Processing stations: the southwest border's standing holding capacity times the stations
    per place, split each day over sectors by load (each sector's share of the calibrated first
    attempts of the `station_load_days` before that day); a capacity change (a soft-sided
    facility opened on a date) brings its own stations with its beds. Where the scenario gives
    `processing.station_places` (the facilities' places where the capacity in force is
    pandemic-adjusted), the border's stations are counted from those places instead."""
    processing, custody = frame.scenario.processing, frame.scenario.custody
    per_place = float(processing.stations_per_holding_place)
    if np.isinf(per_place):
        stations = np.full_like(capacity, np.inf)
    else:
        standing = np.array([custody.capacity_people.of(s) for s in frame.sectors], dtype=float)
        border_total = sum(float(custody.capacity_people.of(s)) for s in ALL_SECTORS)
        if processing.station_places is not None:
            border_total = float(processing.station_places)
        _check_some_stations(frame, per_place, border_total)
        shares = trailing_load_shares(frame.calibration, frame.dates, processing.station_load_days)
        by_load = border_total * shares[:, frame.sector_cols]
        stations = np.maximum(per_place * (by_load + capacity - standing[None, :]), 0.0)
    return {
        "processing_stations": stations,
        "crowding_slowdown": float(processing.crowding_slowdown_ratio),
    }


def _check_some_stations(frame: Frame, per_place: float, border_total: float) -> None:
    """No processing station on the whole border would keep everyone apprehended in custody for
    good (nobody processed, nobody leaving): refused, naming the value that makes it so."""
    if per_place * border_total > 0.0:
        return
    scenario = frame.scenario
    if per_place == 0.0:
        key, value = "processing.stations_per_holding_place", f"{per_place:g}"
    elif scenario.processing.station_places is not None:
        key, value = "processing.station_places", f"{border_total:g}"
    else:
        key, value = "custody.capacity_people", "0 in every sector"
    raise ScenarioError(
        f"{key} = {value}: the border would have no processing station, so nobody apprehended "
        "could be processed or leave custody; give a positive value (stations_per_holding_place "
        "= inf for no station limit)",
        where=scenario.location(key),
    )
