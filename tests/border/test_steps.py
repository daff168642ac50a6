"""Single steps of the event kernel on hand-built states: dispatch, detection, departures.

Each step is a compiled function over the kernel's named bundles (`border/state.py`), so a test
builds a fresh state for the tiny model, puts people where it wants them, runs one step and
checks the rule of docs/model.md that step implements.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from bordersim.engines.event.border import departures, dispatch
from bordersim.engines.event.border.crossings import (
    DETECTED,
    SURRENDERS,
    UNSEEN,
    crossing_kind,
)
from bordersim.engines.event.border.driver import (
    drop_stale_kernel_cache,
    metric_columns,
    pack_model,
    storage_for,
)
from bordersim.engines.event.border.kernel import new_world
from bordersim.engines.event.border.state import (
    DETECTION,
    DETERMINATION,
    ER,
    FIELD,
    INTAKE,
    MEDICAL,
    REL,
    WAREHOUSE,
    WATCH,
    Clock,
    Model,
    Storage,
    World,
)
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import Pathway, Pool
from bordersim.model.examples import tiny_model
from bordersim.model.routes import line_index
from bordersim.results.schema import DAILY_METRICS, METRIC_INDEX

T42 = int(Pathway.TITLE42_EXPULSION)
PORT_LINE, ICE = line_index("port"), line_index("ice")

DAY = 10  # the tiny model's troops are deployed from day 7 of 14


def build(model: CompiledModel) -> tuple[Model, World]:
    drop_stale_kernel_cache()  # the steps are compiled with their callees in other modules
    m = pack_model(model)
    n_cap, region, heap_cap = storage_for(model, 1.0)
    storage = Storage(n_cap, region, heap_cap, len(DAILY_METRICS))
    return m, new_world(m, storage, *metric_columns())


def clock_at(hour: int) -> Clock:
    return Clock(hour, hour // 24, hour % 24, float(hour + 1))


def stream(seed: int) -> np.ndarray:
    return np.array([seed, 0x9E3779B97F4A7C15, 12345, 67890], dtype=np.uint64)


def in_custody(w: World, s: int, pathway: int, t_app: float, t_det: float) -> int:
    """A person of sector `s` who finished determination at `t_det`; their row."""
    rows = w.rows
    i = int(rows.n_rows[0])
    rows.n_rows[0] += 1
    rows.person[i] = i
    rows.grp[i] = 0
    rows.sec[i] = s
    rows.attempt[i] = 1
    rows.t_app[i] = t_app
    rows.t_int[i] = t_det
    rows.t_det[i] = t_det
    rows.pathway[i] = pathway
    w.custody.occupancy[s] += 1
    return i


def metric(w: World, name: str, day: int, s: int) -> float:
    return float(w.out.daily[day, s, METRIC_INDEX[name]])


# ----- dispatch ------------------------------------------------------------------------------
def test_dispatch_follows_the_policy_order_and_caps() -> None:
    model = tiny_model(agents=100.0, troops=40.0)
    m, w = build(model)
    w.custody.occupancy[0] = 60
    w.lines.det_work[0] = 2.0
    w.lines.intake_work[0] = 5.0
    dispatch.dispatch(0, clock_at(24 * DAY), m, w)
    assign = w.plan.assign  # crews: agents, processing coordinators, active-duty troops
    on_duty = np.array([100.0 * 0.43, 5.0 * 0.2, 40.0 * 0.3])
    # Every person on duty is dispatched once, and no more.
    assert assign.sum(axis=1) == pytest.approx(on_duty)
    # Watch: ceil(60 / 25) = 3 posts, the coordinator first (not an agent), then agents.
    assert assign[1, WATCH] == pytest.approx(1.0)
    assert assign[0, WATCH] == pytest.approx(2.0)
    # Determination is agents only; intake goes to the troops (productivity 0.7) before agents.
    assert assign[0, DETERMINATION] == pytest.approx(2.0)
    assert assign[2, INTAKE] == pytest.approx(5.0 / 0.7)
    assert assign[0, INTAKE] == 0.0
    # Warehouse work goes to the troops (their deployment names it) before detection; medical
    # work, which they may not do, to agents.
    warehouse = 60 * 0.05 / 24
    assert assign[2, WAREHOUSE] == pytest.approx(warehouse / 0.7)
    assert assign[0, WAREHOUSE] == 0.0
    assert assign[0, MEDICAL] == pytest.approx(60 * 0.03 / 24)
    # Agents never go to detection; the troops left over do (all of them: no cap).
    assert assign[0, DETECTION] == 0.0
    troops_left = on_duty[2] - 5.0 / 0.7 - warehouse / 0.7
    assert assign[2, DETECTION] == pytest.approx(troops_left)
    field = on_duty[0] - 2.0 - 2.0 - 60 * 0.03 / 24
    assert assign[0, FIELD] == pytest.approx(field)
    assert w.field.n_servers[0] == math.floor(field + 0.5)
    # Capacities handed to processing.
    assert w.plan.intake_cap[0] == pytest.approx(5.0)
    assert w.plan.det_cap[0] == pytest.approx(2.0)
    # Step 4: detection effort = technology + free field agents + weighted detection crews.
    effort = 20.0 + field + troops_left * model.detection_weight[Pool.ACTIVE_DUTY]
    assert w.field.p_detect[0] == pytest.approx(0.9 * (1.0 - math.exp(-effort / 60.0)))


def test_dispatch_keeps_the_minimum_field_presence() -> None:
    model = tiny_model(agents=100.0)
    m, w = build(model)
    w.custody.occupancy[0] = 5000  # 200 watch posts: far more than the agents' support budget
    w.lines.det_work[0] = 500.0
    dispatch.dispatch(0, clock_at(24 * DAY), m, w)
    agents_on_duty = 100.0 * 0.43
    off_field = w.plan.assign[0].sum() - w.plan.assign[0, FIELD]
    assert off_field == pytest.approx(agents_on_duty * (1.0 - model.min_field_fraction))
    assert w.plan.assign[0, FIELD] == pytest.approx(agents_on_duty * model.min_field_fraction)


def test_busy_field_agents_do_not_count_in_detection() -> None:
    model = tiny_model(agents=100.0)
    m, w = build(model)
    dispatch.dispatch(0, clock_at(24 * DAY), m, w)
    idle = float(w.field.p_detect[0])
    w.field.n_busy[0] = 10
    dispatch.dispatch(0, clock_at(24 * DAY), m, w)
    assert w.field.p_detect[0] < idle


# ----- detection -----------------------------------------------------------------------------
def kinds(seed: int, n: int, surrender: float, p_detect: float) -> np.ndarray:
    state = stream(seed)
    return np.array([crossing_kind(state, surrender, p_detect) for _ in range(n)])


def test_crossing_kinds_have_the_model_probabilities() -> None:
    n = 20_000
    got = kinds(3, n, surrender=0.2, p_detect=0.5)
    for kind, p in ((SURRENDERS, 0.2), (DETECTED, 0.8 * 0.5), (UNSEEN, 0.8 * 0.5)):
        share = float(np.mean(got == kind))
        assert abs(share - p) < 4.0 * math.sqrt(p * (1 - p) / n), (kind, share)


def test_more_detection_detects_a_superset_of_groups() -> None:
    low = kinds(5, 5_000, surrender=0.3, p_detect=0.3)
    high = kinds(5, 5_000, surrender=0.3, p_detect=0.6)
    assert np.array_equal(low == SURRENDERS, high == SURRENDERS)
    assert np.all(high[low == DETECTED] == DETECTED)
    assert (high == DETECTED).sum() > (low == DETECTED).sum()


# ----- departures ----------------------------------------------------------------------------
def move(fn: Any, *args: Any, m: Model, w: World, hour: int, seed: int = 1) -> None:
    fn(*args, clock_at(hour), m, stream(seed), w.rows, w.lines, w.custody, w.health, w.plan, w.out)


def test_port_line_leaves_within_allowance_and_transport() -> None:
    model = tiny_model()
    m, w = build(model)
    h = 24 * DAY + 5
    people = [in_custody(w, 0, T42, t_app=h - 10.0, t_det=h - 1.0) for _ in range(3)]
    for i in people:
        departures.join_line(i, m, w.rows, w.lines, w.plan)
    w.custody.sector_allowance[PORT_LINE, 0] = 2.0
    w.plan.transport_cap[0] = 10.0
    departures.share_transport(m, w.rows, w.lines, w.custody, w.plan)
    assert w.plan.line_budget[0, PORT_LINE] == pytest.approx(10.0)  # the port's only line
    move(departures.depart_sector_line, PORT_LINE, 0, 0, m=m, w=w, hour=h)
    t_dep = w.rows.t_dep[people]
    # FCFS, two places: each leaves at the point of the hour its transport work reaches.
    assert t_dep[0] == pytest.approx(h + 0.5 / 10.0)
    assert t_dep[1] == pytest.approx(h + 1.0 / 10.0)
    assert np.isnan(t_dep[2])
    assert w.lines.n_line[PORT_LINE, 0] == 1
    assert w.lines.sector_head[PORT_LINE * model.n_sectors + 0] == people[2]
    assert w.custody.occupancy[0] == 1
    assert metric(w, "departures:title42_expulsion", DAY, 0) == 2.0
    assert w.lines.transport_work[0] == pytest.approx(0.5)


def test_national_line_skips_a_sector_out_of_transport_keeping_places() -> None:
    model = tiny_model()
    m, w = build(model)
    h = 24 * DAY + 5
    a = in_custody(w, 0, ER, t_app=h - 30.0, t_det=h - 2.0)
    b = in_custody(w, 1, ER, t_app=h - 30.0, t_det=h - 2.0)
    c = in_custody(w, 0, ER, t_app=h - 30.0, t_det=h - 2.0)
    for i in (a, b, c):
        departures.join_line(i, m, w.rows, w.lines, w.plan)
    w.custody.national_allowance[ICE] = 5.0
    occupied = float(w.custody.national_occupied[ICE])
    w.plan.transport_cap[:] = [0.0, 10.0]
    departures.share_transport(m, w.rows, w.lines, w.custody, w.plan)
    move(departures.depart_national, ICE, 0, m=m, w=w, hour=h)
    assert np.isnan(w.rows.t_dep[a]) and np.isnan(w.rows.t_dep[c])
    assert w.rows.t_dep[b] == pytest.approx(h + 0.5 / 10.0)
    assert w.lines.national_head[ICE] == a and w.rows.nxt[a] == c  # places kept, in order
    assert list(w.lines.n_line[ICE]) == [2, 0]
    assert w.custody.national_occupied[ICE] == occupied + 1.0
    assert w.custody.national_allowance[ICE] == 4.0
    assert metric(w, "cost_custody_dollars", DAY, 1) == model.line_cost_per_person[ICE]


def test_minimum_time_in_custody_holds_then_releases_at_its_end() -> None:
    model = tiny_model()
    m, w = build(model)
    h = 24 * DAY
    i = in_custody(w, 0, REL, t_app=h + 0.25, t_det=h + 0.75)
    move(departures.finish_processing, i, m=m, w=w, hour=h)
    end = h + 0.25 + model.min_custody_hours[REL]  # 12 h later
    assert w.lines.n_hold[0] == 1 and np.isnan(w.rows.t_dep[i])
    held_until = int(end)
    assert w.lines.hold_head[held_until] == i
    move(departures.release_held, m=m, w=w, hour=held_until)
    assert w.rows.t_dep[i] == end
    assert w.lines.n_hold[0] == 0 and w.custody.occupancy[0] == 0
    assert metric(w, "departures:release", held_until // 24, 0) == 1.0
