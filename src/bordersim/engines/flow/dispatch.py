"""The hourly dispatch policy of docs/model.md, for all sectors at once.

Staff on duty are continuous amounts (people x on-duty fraction). Crews are few and fixed by the
layout, so the fill order is unrolled in Python; every step is a `minimum` over sectors.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from bordersim.engines.flow.layout import FlowLayout, is_agent_crew
from bordersim.model.dimensions import N_TASKS, Task

Params = dict[str, jax.Array]

_MANDATORY = (Task.CUSTODY_WATCH, Task.INTAKE, Task.DETERMINATION, Task.FIELD)


class Work(NamedTuple):
    """Work waiting at the start of the hour, per sector (agent-hours unless stated)."""

    watch_posts: jax.Array  # people
    intake: jax.Array
    determination: jax.Array
    transport: jax.Array
    medical: jax.Array
    warehouse: jax.Array


def dispatch(on_duty: jax.Array, work: Work, p: Params, layout: FlowLayout) -> jax.Array:
    """People of each crew on each task this hour, [S, C, T]."""
    agents = is_agent_crew(layout)
    can = p["crew_tasks"]  # [C, T]
    productivity = p["crew_productivity"]  # [C, T]
    n_crews = layout.n_crews
    reserve = [
        on_duty[:, c] * p["min_field_fraction"] if agents[c] else 0.0 for c in range(n_crews)
    ]
    free = [on_duty[:, c] - reserve[c] for c in range(n_crews)]
    assigned = [[jnp.zeros_like(on_duty[:, 0]) for _ in range(N_TASKS)] for _ in range(n_crews)]

    def give(c: int, task: int, wanted: jax.Array) -> jax.Array:
        """Give up to `wanted` people of crew c to task; return how many it gave."""
        taken = jnp.clip(wanted, 0.0, jnp.maximum(free[c], 0.0)) * can[c, task]
        free[c] = jnp.maximum(free[c] - taken, 0.0)
        assigned[c][task] = assigned[c][task] + taken
        return taken

    def people_for(remaining_work: jax.Array, c: int, task: int) -> jax.Array:
        rate = productivity[c, task]
        return jnp.where(rate > 0, remaining_work / jnp.maximum(rate, 1e-9), 0.0)

    non_agents = [c for c in range(n_crews) if not agents[c]]
    agent_crews = [c for c in range(n_crews) if agents[c]]

    posts = work.watch_posts
    for c in non_agents + agent_crews:
        posts = posts - give(c, Task.CUSTODY_WATCH, posts)

    pulled_cap = p["max_processing_fraction"] * sum(
        (on_duty[:, c] for c in agent_crews), jnp.zeros_like(work.intake)
    )
    remaining = {Task.INTAKE: work.intake, Task.DETERMINATION: work.determination}
    for c in non_agents:
        taken = give(c, Task.INTAKE, people_for(remaining[Task.INTAKE], c, Task.INTAKE))
        remaining[Task.INTAKE] = remaining[Task.INTAKE] - taken * productivity[c, Task.INTAKE]
    # Determination first: only agents can do it, while others can do intake.
    for task in (Task.DETERMINATION, Task.INTAKE):
        for c in agent_crews:
            wanted = jnp.minimum(people_for(remaining[task], c, task), pulled_cap)
            taken = give(c, task, wanted)
            pulled_cap = pulled_cap - taken
            remaining[task] = remaining[task] - taken * productivity[c, task]

    rest = {
        Task.TRANSPORT: work.transport,
        Task.MEDICAL: work.medical,
        Task.WAREHOUSE: work.warehouse,
    }
    for task_index in layout.task_fill_order:
        task = Task(task_index)
        if task in _MANDATORY:
            continue
        for c in non_agents + agent_crews:
            if task == Task.DETECTION:
                # Agents left over go to the field, where they detect and can also interdict.
                if not agents[c]:
                    give(c, task, free[c])
            else:
                taken = give(c, task, people_for(rest[Task(task)], c, task))
                rest[Task(task)] = rest[Task(task)] - taken * productivity[c, task]
    for c in agent_crews:
        assigned[c][Task.FIELD] = assigned[c][Task.FIELD] + reserve[c] + free[c]
    return jnp.stack([jnp.stack(tasks, axis=-1) for tasks in assigned], axis=1)
