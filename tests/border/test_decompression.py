"""Lateral decompression (docs/model.md step 6) in both engines: off by default, moves within
the seats, the thresholds and the receivers' room, encounters kept where they happened, and the
two engines' plans identical for the same state at the start of an hour."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

from bordersim.engines import simulate
from bordersim.engines.event.border import decompression
from bordersim.engines.event.border.driver import pack_model
from bordersim.engines.event.border.state import Clock, new_custody, new_plan
from bordersim.engines.flow.step import _decompression_plan
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import Sector, Task
from bordersim.model.examples import tiny_model
from bordersim.model.routes import N_LINES
from bordersim.results.schema import RunResult

ENGINES = ("event", "flow")
SEATS_PER_DAY = 150.0
TCA, RGV = 0, 1  # the tiny model's sectors


def stressed(**changes: Any) -> CompiledModel:
    """The tiny model with Rio Grande Valley far over its capacity of 150 and Tucson with room,
    decompression on from the first day above 100 % of capacity, into sectors below 80 %."""
    model = tiny_model(agents=600.0, n_days=8, warmup_days=2)
    days = model.n_days
    values: dict[str, Any] = {
        "custody_capacity": np.tile([1500.0, 150.0], (days, 1)),
        "decompression_active": np.ones(days),
        "decompression_send_fraction": 1.0,
        "decompression_receive_fraction": 0.8,
        "decompression_seats_per_hour": SEATS_PER_DAY / 24,
    }
    values.update(changes)
    return model.replace(**values)


def run(model: CompiledModel, engine: str, replications: int = 3) -> RunResult:
    return simulate(model, engine=engine, replications=replications, seed=5)


@pytest.mark.parametrize("engine", ENGINES)
def test_nobody_moves_when_off_and_its_parameters_are_inert(engine: str) -> None:
    off = stressed(decompression_active=np.zeros(8))
    other = stressed(
        decompression_active=np.zeros(8),
        decompression_seats_per_hour=1000.0,
        decompression_hours_per_person=3.0,
        decompression_cost_per_person=1e5,
    )
    first, second = run(off, engine), run(other, engine)
    for name in ("moved_out", "moved_in", "cost_decompression_dollars"):
        assert not first.metric(name).any()
    assert np.array_equal(first.daily, second.daily)
    assert np.array_equal(first.custody_hist, second.custody_hist)


@pytest.mark.parametrize("engine", ENGINES)
def test_nobody_moves_below_the_sending_threshold(engine: str) -> None:
    result = run(stressed(decompression_send_fraction=50.0), engine)
    assert not result.metric("moved_out").any()
    assert not result.metric("moved_in").any()


@pytest.mark.parametrize("engine", ENGINES)
def test_moves_respect_the_seats_and_go_from_senders_to_receivers(engine: str) -> None:
    model = stressed()
    result = run(model, engine)
    out, into = result.metric("moved_out"), result.metric("moved_in")  # [R, days, S]
    assert out[..., RGV].sum() > 0.8 * SEATS_PER_DAY * len(result.dates) * out.shape[0]
    assert not out[..., TCA].any() and not into[..., RGV].any()
    # Every move leaves one sector and enters another the same day.
    np.testing.assert_allclose(out.sum(axis=2), into.sum(axis=2), rtol=1e-5)
    # Within the day's seats (the event engine may carry less than one move per sender).
    assert (out.sum(axis=2) <= SEATS_PER_DAY * (1 + 1e-5) + model.n_sectors).all()
    # The people moved are among the sender's encounters; the cost is charged to the sender.
    assert (out[..., RGV] <= result.metric("encounters")[..., RGV] + 1e-3).all()
    cost = result.metric("cost_decompression_dollars")
    np.testing.assert_allclose(cost, out * model.decompression_cost_per_person, rtol=1e-5)


@pytest.mark.parametrize("engine", ENGINES)
def test_encounters_stay_where_they_happened(engine: str) -> None:
    """The sender's encounters are about what they are without moves (the moved are about 40 %
    of them); its custody is what falls."""
    on, off = run(stressed(), engine), run(stressed(decompression_active=np.zeros(8)), engine)
    for sector in (TCA, RGV):
        e_on = on.metric("encounters")[..., sector].sum()
        e_off = off.metric("encounters")[..., sector].sum()
        assert abs(e_on - e_off) <= 0.03 * e_off
    occupancy_on = on.metric("occupancy_mean")[..., RGV].sum()
    assert occupancy_on < 0.8 * off.metric("occupancy_mean")[..., RGV].sum()


@pytest.mark.parametrize("engine", ENGINES)
def test_no_transport_staffed_no_moves(engine: str) -> None:
    """Escorts are transport work of the sending sector: where nobody can do transport work,
    nobody is moved."""
    model = stressed()
    productivity = model.productivity.copy()
    productivity[:, int(Task.TRANSPORT)] = 0.0
    result = run(model.replace(productivity=productivity), engine)
    assert not result.metric("moved_out").any()


def _event_plan(model: CompiledModel, occupancy: list[int], transport: list[float]) -> Any:
    m = pack_model(model)
    custody = new_custody(m, model.n_sectors)
    custody.occupancy[:] = occupancy
    plan = new_plan(model.n_sectors, model.n_crews, len(model.crew_tasks[0]), N_LINES)
    decompression.plan_hour(Clock(0, 0, 0, 1.0), m, custody, plan)
    planned = plan.move_planned.copy()
    plan.transport_cap[:] = transport
    decompression.open_hour(m, plan)
    return planned, plan


def _flow_plan(model: CompiledModel, occupancy: list[int]) -> Any:
    names = (
        "custody_capacity",
        "decompression_active",
        "decompression_send_fraction",
        "decompression_receive_fraction",
        "decompression_seats_per_hour",
    )
    p = {name: jnp.asarray(getattr(model, name), dtype=jnp.float32) for name in names}
    st = {
        "arrived": jnp.asarray(occupancy, dtype=jnp.float32)[:, None],
        "exited": jnp.zeros((len(occupancy), 1)),
    }
    return _decompression_plan(st, SimpleNamespace(p=p, day=0))  # type: ignore[arg-type]


def test_both_engines_plan_the_same_hour() -> None:
    """Seats shared by the senders' excess over the threshold, capped by the receivers' room,
    receivers in proportion to their room; the same numbers in both engines."""
    model = tiny_model(sectors=(Sector.TCA, Sector.EPT, Sector.RGV), n_days=2, warmup_days=0)
    model = model.replace(
        custody_capacity=np.full((2, 3), 600.0),
        decompression_active=np.ones(2),
        decompression_send_fraction=1.0,
        decompression_receive_fraction=0.8,
        decompression_seats_per_hour=12.0,
    )
    # TCA 300 over, EPT 600 over, RGV 80 of room below 480: the 12 seats go 4 and 8.
    occupancy = [900, 1200, 400]
    planned, plan = _event_plan(model, occupancy, transport=[1.0, 100.0, 0.0])
    flow = _flow_plan(model, occupancy)
    np.testing.assert_allclose(planned, [4.0, 8.0, 0.0])
    np.testing.assert_allclose(np.asarray(flow.planned), planned, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(flow.room_share), [0.0, 0.0, 1.0])
    # After dispatch: TCA's one transport hour escorts two people (0.5 hours each); RGV takes
    # all ten moves.
    np.testing.assert_allclose(plan.move_credit, [2.0, 8.0, 0.0])
    np.testing.assert_allclose(plan.move_room, [0.0, 0.0, 10.0])
    # Receivers' room caps the seats: RGV with 5 places of room takes 5 moves an hour.
    planned, _ = _event_plan(model, [900, 1200, 475], transport=[100.0, 100.0, 0.0])
    np.testing.assert_allclose(planned, [5 / 3, 10 / 3, 0.0])
    flow = _flow_plan(model, [900, 1200, 475])
    np.testing.assert_allclose(np.asarray(flow.planned), planned, rtol=1e-6)
    # Off on the day: nothing planned.
    idle = model.replace(decompression_active=np.zeros(2))
    planned, _ = _event_plan(idle, occupancy, transport=[100.0, 100.0, 0.0])
    assert not planned.any() and not np.asarray(_flow_plan(idle, occupancy).planned).any()


def test_the_run_report_says_who_was_moved() -> None:
    from bordersim.report.run_report import decompression_line

    line = decompression_line(run(stressed(), "event", replications=2))
    assert "Lateral decompression moved" in line and "out of RGV" in line and "into TCA" in line
    assert decompression_line(run(stressed(decompression_active=np.zeros(8)), "event")) == ""
