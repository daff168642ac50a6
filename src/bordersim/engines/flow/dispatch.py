"""The hourly dispatch policy of docs/model.md step 2, for all sectors at once.

Staff on duty are continuous amounts (people x on-duty fraction). Crews are few and fixed by the
layout, so the fill is unrolled in Python; every step is a `minimum` over sectors. The rule is the
event engine's (`engines/event/border/dispatch.py`) step for step: each task is staffed by the
crews allowed to do it, crews that are not agents first (in crew order), then agents within one
budget for all the sector's agent crews together (agents off the field never exceed
`1 - min_field_fraction` of those on duty, agents on processing never `max_processing_fraction`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from bordersim.engines.flow.layout import FlowLayout, is_agent_crew
from bordersim.model.dimensions import CUSTODY_DAY_TASKS, N_TASKS, Task
from bordersim.model.dispatch_rules import watch_before_processing

Params = dict[str, jax.Array]

_BOUNDED = (Task.TRANSPORT, *CUSTODY_DAY_TASKS)
_DONE = 1e-9  # work below this is done (the event engine's EPS)


class Work(NamedTuple):
    """Work to staff this hour, per sector (agent-hours unless stated)."""

    watch_posts: jax.Array  # people
    intake: jax.Array  # waiting at the start of the hour
    determination: jax.Array  # waiting at the start of the hour
    transport: jax.Array
    custody_day: dict[Task, jax.Array]  # work of each custody-day task (warehouse, medical)
    # Work that arrived at intake and at determination during the previous hour: the expected
    # arrivals of this hour, staffed with the waiting work.
    expected_intake: jax.Array
    expected_determination: jax.Array


class _Fill:
    """People still free per crew and people given to each task, filled task by task."""

    def __init__(self, on_duty: jax.Array, p: Params, layout: FlowLayout) -> None:
        self.p = p
        self.agents = is_agent_crew(layout)
        self.free = [on_duty[:, c] for c in range(layout.n_crews)]
        zeros = jnp.zeros_like(on_duty[:, 0])
        self.assigned = [[zeros for _ in range(N_TASKS)] for _ in range(layout.n_crews)]
        non_agents = [c for c in range(layout.n_crews) if not self.agents[c]]
        self.order = non_agents + [c for c in range(layout.n_crews) if self.agents[c]]

    def task(
        self, task: int, work: jax.Array, budget: jax.Array, posts: bool = False
    ) -> tuple[jax.Array, jax.Array]:
        """Staff `work` on `task` (a number of people when `posts`): crews that are not agents
        first, then agents within `budget`. Returns the work left and the budget left."""
        can, productivity = self.p["crew_tasks"], self.p["crew_productivity"]
        for c in self.order:
            rate = jnp.ones(()) if posts else productivity[c, task]
            allowed = (can[c, task] > 0) & (rate > 0)
            left = jnp.where(work > _DONE, work, 0.0)
            people = jnp.minimum(self.free[c], left / jnp.maximum(rate, 1e-9))
            if self.agents[c]:
                people = jnp.minimum(people, budget)
            people = jnp.where(allowed, jnp.maximum(people, 0.0), 0.0)
            self.free[c] = self.free[c] - people
            self.assigned[c][task] = self.assigned[c][task] + people
            work = work - people * rate
            if self.agents[c]:
                budget = budget - people
        return jnp.maximum(work, 0.0), budget

    def rest_to(self, task: int, agents: bool) -> None:
        """Everyone still free in the crews of one kind (agents or not) who may do `task`."""
        for c in self.order:
            if bool(self.agents[c]) != agents:
                continue
            allowed = self.p["crew_tasks"][c, task] > 0 if not agents else True
            taken = jnp.where(allowed, self.free[c], 0.0)
            self.assigned[c][task] = self.assigned[c][task] + taken
            self.free[c] = self.free[c] - taken


def dispatch(on_duty: jax.Array, work: Work, p: Params, layout: FlowLayout) -> jax.Array:
    """People of each crew on each task this hour, [S, C, T]."""
    fill = _Fill(on_duty, p, layout)
    agents_on_duty = sum(
        (on_duty[:, c] for c in range(layout.n_crews) if fill.agents[c]),
        jnp.zeros_like(on_duty[:, 0]),
    )
    support = agents_on_duty * (1.0 - p["min_field_fraction"])
    watch_first = watch_before_processing(layout.task_fill_order)
    if watch_first:
        _, support = fill.task(Task.CUSTODY_WATCH, work.watch_posts, support, posts=True)
    processing = jnp.minimum(agents_on_duty * p["max_processing_fraction"], support)
    # Determination first: only agents can do it, while others can do intake.
    _, left = fill.task(
        Task.DETERMINATION, work.determination + work.expected_determination, processing
    )
    _, left = fill.task(Task.INTAKE, work.intake + work.expected_intake, left)
    support = support - (processing - left)
    bounded = {Task.TRANSPORT: work.transport, **work.custody_day}
    for task_index in layout.task_fill_order:
        if Task(task_index) in _BOUNDED:
            _, support = fill.task(task_index, bounded[Task(task_index)], support)
        elif task_index == Task.CUSTODY_WATCH and not watch_first:
            _, support = fill.task(Task.CUSTODY_WATCH, work.watch_posts, support, posts=True)
    # Detection has no bound on its work, so it comes last: every non-agent still free who may
    # detect; agents left over go to the field, where they detect and can also interdict.
    fill.rest_to(Task.DETECTION, agents=False)
    fill.rest_to(Task.FIELD, agents=True)
    return jnp.stack([jnp.stack(tasks, axis=-1) for tasks in fill.assigned], axis=1)


def transport_needed(
    in_line_before: jax.Array,
    in_line: jax.Array,
    exits: jax.Array,
    transport_hours: jax.Array,
    target_hours: jax.Array,
) -> jax.Array:
    """Transport work needed this hour per sector (docs/model.md step 2), as the event engine
    counts it: the work of the people who joined a departure line during the hour plus the work
    of those already in a line at its start spread over `target_hours`. People held to their
    minimum time in custody are in no line yet and need no transport. All but the hours are
    [S, K]; releases carry no transport hours."""
    joined = jnp.maximum(in_line + exits - in_line_before, 0.0)
    return (joined * transport_hours).sum(axis=1) + (in_line_before * transport_hours).sum(
        axis=1
    ) / jnp.maximum(target_hours, 1e-9)


def hospital_posts(encounters_yesterday: jax.Array, p: Params) -> jax.Array:
    """People on hospital watch and hospital transport this hour, per sector: the work of
    yesterday's apprehensions in the sector, spread evenly over today's hours (staffed as custody
    watch posts, docs/model.md step 2)."""
    per_person = (
        p["hospital_watch_hours_per_apprehension"] + p["hospital_transport_hours_per_apprehension"]
    )
    return encounters_yesterday * per_person / 24
