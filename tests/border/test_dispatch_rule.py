"""The dispatch rule of docs/model.md step 2, written twice (event kernel, flow engine): both
give the same people to the same tasks on random states, and the rule's promises hold.

The promises checked on every state: nobody is dispatched twice; the minimum field presence is
one budget for all the sector's agent crews together; detection takes only who is left (no
non-agent on detection while an agent does work that non-agent may do); the work that arrived
during the previous hour is staffed with the waiting work.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bordersim.engines import simulate
from bordersim.engines.event.border import dispatch as event_dispatch
from bordersim.engines.event.border.driver import (
    drop_stale_kernel_cache,
    metric_columns,
    pack_model,
    storage_for,
)
from bordersim.engines.event.border.kernel import new_world
from bordersim.engines.event.border.state import Clock, Storage
from bordersim.engines.flow.dispatch import Work
from bordersim.engines.flow.dispatch import dispatch as flow_dispatch
from bordersim.engines.flow.layout import layout_of, stack_parameters
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import CUSTODY_DAY_TASKS, Pool, Task
from bordersim.model.examples import tiny_model
from bordersim.results.schema import DAILY_METRICS, METRIC_INDEX

DAY = 10  # the tiny model's troops are deployed from day 7 of 14
BOUNDED = (Task.CUSTODY_WATCH, Task.DETERMINATION, Task.INTAKE, Task.TRANSPORT, Task.MEDICAL)
BOUNDED += (Task.WAREHOUSE,)


# The tiny model's order (custody watch first, as mandatory posts) and the shipped default (the
# work that lets people leave custody first, then the watch posts; parameters.toml).
WATCH_FIRST = np.array([Task.CUSTODY_WATCH, Task.DETERMINATION, Task.INTAKE, Task.TRANSPORT])
EXIT_WORK_FIRST = np.array([Task.DETERMINATION, Task.INTAKE, Task.TRANSPORT, Task.CUSTODY_WATCH])
REST = [Task.MEDICAL, Task.WAREHOUSE, Task.DETECTION, Task.FIELD]
ORDERS = {
    "watch first": np.concatenate([WATCH_FIRST, REST]),
    "exit work first": np.concatenate([EXIT_WORK_FIRST, REST]),
}


def two_agent_crews(
    agents: float, detail: float, troops: float, order: np.ndarray = ORDERS["watch first"]
) -> CompiledModel:
    """The tiny model with a second agent crew (a detail of agents sent to the sector)."""
    model = tiny_model(agents=agents, troops=troops).replace(
        hospital_watch_hours_per_apprehension=0.39,
        hospital_transport_hours_per_apprehension=0.33,
        task_fill_order=order.astype(np.int64),
    )
    headcount = np.concatenate(
        [model.crew_headcount, np.full((*model.crew_headcount.shape[:2], 1), detail)], axis=2
    )
    return dataclasses.replace(
        model,
        crew_names=(*model.crew_names, "agent detail"),
        crew_pool=np.append(model.crew_pool, Pool.AGENT),
        crew_tasks=np.vstack([model.crew_tasks, model.crew_tasks[0]]),
        crew_headcount=headcount,
    )


class Both:
    """One model, ready for both engines' dispatch."""

    def __init__(self, model: CompiledModel) -> None:
        drop_stale_kernel_cache()
        self.model = model
        self.m = pack_model(model)
        n_cap, region, heap_cap = storage_for(model, 1.0)
        self.storage = Storage(n_cap, region, heap_cap, len(DAILY_METRICS))
        layout = layout_of([model])
        self.layout = layout
        self.p = {k: jnp.asarray(v[0]) for k, v in stack_parameters([model], layout).items()}
        self.yesterdays_encounters = 0.0

    def event(self, state: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """People of each crew on each task [C, T] and still free [C], sector 0."""
        w = new_world(self.m, self.storage, *metric_columns())
        w.custody.occupancy[0] = int(state["occupancy"])
        w.lines.det_work[0] = state["determination"]
        w.lines.intake_work[0] = state["intake"]
        w.plan.arrived_intake[0] = state["arrived_intake"]
        w.plan.arrived_det[0] = state["arrived_det"]
        w.out.daily[DAY - 1, 0, METRIC_INDEX["encounters"]] = self.yesterdays_encounters
        hour = 24 * DAY
        event_dispatch.dispatch(0, Clock(hour, DAY, 0, float(hour + 1)), self.m, w)
        return w.plan.assign.copy(), w.plan.free.copy()

    def flow(self, state: dict[str, float]) -> np.ndarray:
        model = self.model
        on_duty = model.crew_headcount[DAY, :1] * model.on_duty_fraction[model.crew_pool][None]
        occupancy = float(int(state["occupancy"]))

        def one(value: float) -> jnp.ndarray:
            return jnp.asarray([value], dtype=jnp.float32)

        work = Work(
            watch_posts=jnp.ceil(one(occupancy) / model.persons_per_watch_staff - 1e-6),
            intake=one(state["intake"]),
            determination=one(state["determination"]),
            transport=one(0.0),
            custody_day={
                task: one(occupancy * model.custody_day_hours[task] / 24)
                for task in CUSTODY_DAY_TASKS
            },
            expected_intake=one(state["arrived_intake"]),
            expected_determination=one(state["arrived_det"]),
        )
        people = flow_dispatch(jnp.asarray(on_duty, jnp.float32), work, self.p, self.layout)
        return np.asarray(people[0], dtype=float)


STATES = st.fixed_dictionaries(
    {
        "occupancy": st.integers(0, 4000),
        "determination": st.floats(0.0, 80.0),
        "intake": st.floats(0.0, 80.0),
        "arrived_intake": st.floats(0.0, 40.0),
        "arrived_det": st.floats(0.0, 40.0),
    }
)


@pytest.fixture(scope="module", params=list(ORDERS))
def both(request: pytest.FixtureRequest) -> Both:
    return Both(
        two_agent_crews(agents=100.0, detail=30.0, troops=40.0, order=ORDERS[request.param])
    )


def check_promises(model: CompiledModel, assign: np.ndarray, free: np.ndarray) -> None:
    pools = model.crew_pool
    agents = pools == Pool.AGENT
    on_duty = model.crew_headcount[DAY, 0] * model.on_duty_fraction[pools]
    # Everybody on duty is dispatched once, or left free (non-agents with no task to do).
    np.testing.assert_allclose(assign.sum(axis=1) + free, on_duty, rtol=1e-9, atol=1e-9)
    assert np.all(free[agents] <= 1e-9)
    # One field budget for the agent crews together.
    field = assign[agents, Task.FIELD].sum()
    assert field >= model.min_field_fraction * on_duty[agents].sum() - 1e-9
    # Agents never on detection; no agent on a task a non-agent could take from detection.
    assert np.all(assign[agents, Task.DETECTION] == 0.0)
    for task in BOUNDED:
        if assign[agents, task].sum() <= 1e-9:
            continue
        for c in np.flatnonzero(~agents):
            may = model.crew_tasks[c, task] and model.productivity[pools[c], task] > 0
            if may:
                assert free[c] <= 1e-9 and assign[c, Task.DETECTION] <= 1e-9, (task, c)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=STATES)
def test_event_and_flow_dispatch_agree(both: Both, state: dict[str, float]) -> None:
    assign, free = both.event(state)
    check_promises(both.model, assign, free)
    np.testing.assert_allclose(both.flow(state), assign, rtol=2e-4, atol=2e-3)


def test_troops_do_warehouse_and_intake_before_detection(both: Both) -> None:
    state = {"occupancy": 2000, "determination": 5.0, "intake": 3.0}
    state |= {"arrived_intake": 1.0, "arrived_det": 0.0}
    assign, _ = both.event(state)
    troops = 2
    # All the intake work is staffed (troops at 0.7 of an agent's pace), by troops and by the
    # coordinators left free by the watch posts (none when the posts come first).
    rates = both.model.productivity[both.model.crew_pool, Task.INTAKE]
    assert (assign[:, Task.INTAKE] * rates).sum() == pytest.approx(4.0)
    assert assign[troops, Task.INTAKE] >= 3.0 / 0.7 - 1e-9
    warehouse = 2000 * both.model.custody_day_hours[Task.WAREHOUSE] / 24
    rate = both.model.productivity[Pool.ACTIVE_DUTY, Task.WAREHOUSE]
    assert assign[troops, Task.WAREHOUSE] == pytest.approx(warehouse / rate)
    assert assign[0, Task.WAREHOUSE] == 0.0 and assign[3, Task.WAREHOUSE] == 0.0


def test_last_hours_arrivals_are_staffed_with_the_waiting_work(both: Both) -> None:
    state = {"occupancy": 100, "determination": 0.0, "intake": 2.0}
    without, _ = both.event(state | {"arrived_intake": 0.0, "arrived_det": 0.0})
    with_arrivals, _ = both.event(state | {"arrived_intake": 3.0, "arrived_det": 1.5})
    intake_work = (with_arrivals[:, Task.INTAKE] * [1.0, 1.0, 0.7, 1.0]).sum()
    assert intake_work == pytest.approx(5.0)
    assert with_arrivals[:, Task.DETERMINATION].sum() == pytest.approx(1.5)
    assert without[:, Task.DETERMINATION].sum() == 0.0


def test_the_minimum_field_presence_is_pooled_over_agent_crews(both: Both) -> None:
    # Far more watch and processing work than the support budget: the first agent crew may be
    # pulled below the minimum share as long as the agents together keep it.
    state = {"occupancy": 4000, "determination": 500.0, "intake": 500.0}
    assign, _ = both.event(state | {"arrived_intake": 0.0, "arrived_det": 0.0})
    model = both.model
    on_duty = model.crew_headcount[DAY, 0] * model.on_duty_fraction[model.crew_pool]
    agents_on_duty = on_duty[0] + on_duty[3]
    field = assign[0, Task.FIELD] + assign[3, Task.FIELD]
    assert field == pytest.approx(model.min_field_fraction * agents_on_duty)
    assert assign[0, Task.FIELD] < model.min_field_fraction * on_duty[0]


def test_under_overload_the_order_says_whether_watch_or_processing_goes_short() -> None:
    # 20 watch posts (500 people) and more processing than the agents' support budget can take.
    state = {"occupancy": 500, "determination": 500.0, "intake": 500.0}
    state |= {"arrived_intake": 0.0, "arrived_det": 0.0}
    watch, processing = {}, {}
    for name, order in ORDERS.items():
        model = two_agent_crews(agents=100.0, detail=30.0, troops=40.0, order=order)
        assign, _ = Both(model).event(state)
        watch[name] = assign[:, Task.CUSTODY_WATCH].sum()
        processing[name] = assign[:, Task.DETERMINATION].sum() + assign[:, Task.INTAKE].sum()
    posts = 500 / two_agent_crews(100.0, 30.0, 40.0).persons_per_watch_staff
    assert watch["watch first"] == pytest.approx(posts)  # every post staffed ...
    assert watch["exit work first"] < posts  # ... or the watch goes short,
    assert processing["exit work first"] > processing["watch first"]  # processing does not


def test_hospital_escorts_are_watch_posts_from_yesterdays_encounters(both: Both) -> None:
    state = {"occupancy": 0, "determination": 0.0, "intake": 0.0}
    state |= {"arrived_intake": 0.0, "arrived_det": 0.0}
    quiet, _ = both.event(state)
    assert quiet[:, Task.CUSTODY_WATCH].sum() == 0.0
    both.yesterdays_encounters = 480.0
    assign, _ = both.event(state)
    both.yesterdays_encounters = 0.0
    per_person = 0.39 + 0.33  # the hospital watch and transport hours of `two_agent_crews`
    assert assign[:, Task.CUSTODY_WATCH].sum() == pytest.approx(480.0 * per_person / 24)
    assert assign[1, Task.CUSTODY_WATCH] > 0.0  # the coordinators first


@pytest.mark.parametrize("engine", ["event", "flow"])
def test_hospital_work_follows_yesterdays_encounters_in_a_run(engine: str) -> None:
    # No custody posts (one per 10^12 people held): the watch work needed is the hospital work,
    # yesterday's encounters times the hours per apprehension, on every reported day.
    model = tiny_model(agents=600.0).replace(
        persons_per_watch_staff=1e12,
        hospital_watch_hours_per_apprehension=0.39,
        hospital_transport_hours_per_apprehension=0.33,
    )
    run = simulate(model, engine=engine, replications=1, seed=4)
    need = run.metric("staff_hours_needed:custody_watch")[0]  # [D, S]
    encounters = run.metric("encounters")[0]
    per_person = model.hospital_watch_hours_per_apprehension
    per_person += model.hospital_transport_hours_per_apprehension
    assert encounters[:-1].sum() > 1000
    np.testing.assert_allclose(need[1:], encounters[:-1] * per_person, rtol=1e-4)
