"""Health in custody for the flow engine (docs/model.md step 10), behind the interface of the
event engine's `engines/event/border/health.py`: the same functions, called at the same points
of the hour, with the same responsibilities.

| function | when in the hour (docs/model.md) | what |
| --- | --- | --- |
| `start_hour` | start of the hour, before step 1 | staff whose absence ends come back |
| `admit` | step 6, as the apprehended enter custody | infectious arrivals, some symptomatic |
| `screen` | step 7, at the end of intake | symptomatic cases found and isolated, if room |
| `leave` | step 8, as people leave custody | infectious departures, holding emptied |
| `transmit` | step 10, after departures | new infections in general holding; recovery |
| `infect_staff` | step 10, after `transmit` | staff on exposed posts fall sick and are absent |

The flow engine holds counts per sector (`Infection`) where the event engine holds people: an
infection ends at the exponential rate of the model's mean (`recovery_hourly`, applied at the end
of `transmit`) instead of after a fixed time, and people leave custody in proportion to the
infectious share of those in custody (docs/flow-engine.md). The formulas both engines share are
in `model/health_rules.py`. Every count is drawn from the hour's stream in the order of the
calls, so the order of the calls is part of the results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp

from bordersim.engines.flow.sampling import binomial
from bordersim.model.health_rules import (
    STAFF_EXPOSED_TASKS,
    staff_infection_hazard,
    transmission_pressure,
)

if TYPE_CHECKING:
    from bordersim.engines.flow.step import Hour, State

_TINY = 1e-9


class Infection(NamedTuple):
    """People in custody by health state, per sector."""

    infectious: jax.Array  # undetected, in general holding
    symptomatic_before_intake: jax.Array  # infectious and symptomatic, not yet screened
    isolated_now: jax.Array
    # infected in custody or before and no longer infectious: immune for the rest of their stay,
    # as in the event engine, where a person is infected at most once
    recovered: jax.Array


class Screened(NamedTuple):
    infection: Infection
    isolated: jax.Array  # [S] newly isolated this hour
    isolation_overflow: jax.Array  # [S] found, but no isolation place


class Left(NamedTuple):
    infection: Infection
    infectious_share: jax.Array  # [S] of those leaving this hour


class StaffAbsence(NamedTuple):
    absent: jax.Array  # [S, C] off sick now
    absence_returns: jax.Array  # [absence_hours, S, C] ring of returns by hour


def _draw(h: Hour, n: jax.Array, probability: jax.Array) -> jax.Array:
    """A health count; nothing is drawn when no variant of the batch has health on."""
    if not h.layout.health:
        return jnp.zeros(jnp.broadcast_shapes(jnp.shape(n), jnp.shape(probability)))
    return h.p["health_enabled"] * binomial(h.stream, n, probability)


def start_hour(st: State, h: Hour) -> StaffAbsence:
    """Staff whose absence ends this hour come back (their slot of the ring is emptied)."""
    slot = h.hour % h.layout.absence_hours
    absent = st["absent"] - st["absence_returns"][slot]
    return StaffAbsence(absent, st["absence_returns"].at[slot].set(0.0))


def admit(
    st: State, h: Hour, apprehended: jax.Array, moved_net: jax.Array
) -> tuple[jax.Array, Infection]:
    """The hour's apprehended ([S, G] people, where apprehended) with those moved in less those
    moved out by lateral decompression (`moved_net`, [S]) enter custody infectious with the
    day's prevalence, a share of them symptomatic. Returns the infectious arrivals and the state
    of infection. (The moves are added to the sector totals rather than summed by group, so that
    a run without moves adds exact zeros to the same sums.)"""
    arrivals = apprehended.sum(axis=1) + moved_net
    infectious_arrivals = _draw(h, arrivals, h.p["arrival_prevalence"][h.day])
    symptomatic_before_intake = st["symptomatic_before_intake"] + _draw(
        h, infectious_arrivals, h.p["symptomatic_fraction"]
    )
    infectious = st["infectious"] + infectious_arrivals
    return infectious_arrivals, Infection(
        infectious, symptomatic_before_intake, st["isolated_now"], st["recovered"]
    )


def screen(h: Hour, infection: Infection, screened_share: jax.Array) -> Screened:
    """The symptomatic waiting for intake are screened in the share of intake served this hour
    (`screened_share`, [S]); those found are isolated while there are places, the rest counted
    as overflow and left in general holding."""
    p = h.p
    screened = infection.symptomatic_before_intake * jnp.clip(screened_share, 0.0, 1.0)
    found = _draw(h, screened, p["screening_sensitivity"])
    isolated = jnp.minimum(
        found, jnp.maximum(p["isolation_capacity"] - infection.isolated_now, 0.0)
    )
    infection = Infection(
        infectious=infection.infectious - isolated,
        symptomatic_before_intake=infection.symptomatic_before_intake - screened,
        isolated_now=infection.isolated_now + isolated,
        recovered=infection.recovered,
    )
    return Screened(infection, isolated, found - isolated)


def leave(infection: Infection, exits: jax.Array, occupancy_before_exits: jax.Array) -> Left:
    """People leave custody (`exits`, [S] this hour) in proportion to each health state; the
    infectious share of those in custody before the exits counts the infectious departures."""
    infectious, isolated_now = infection.infectious, infection.isolated_now
    infectious_share = (infectious + isolated_now) / jnp.maximum(occupancy_before_exits, _TINY)
    leave_share = jnp.clip(exits / jnp.maximum(occupancy_before_exits, _TINY), 0.0, 1.0)
    infectious = infectious * (1 - leave_share)
    isolated_now = isolated_now * (1 - leave_share)
    recovered = infection.recovered * (1 - leave_share)
    symptomatic_before_intake = jnp.minimum(infection.symptomatic_before_intake, infectious)
    return Left(
        Infection(infectious, symptomatic_before_intake, isolated_now, recovered), infectious_share
    )


def transmit(h: Hour, infection: Infection, occupancy: jax.Array) -> tuple[Infection, jax.Array]:
    """The hour's new infections in general holding (`occupancy` [S] people in custody now),
    then the infections that end this hour, whose people stay immune while in custody. Returns
    the state and the new infections."""
    p = h.p
    infectious, isolated_now = infection.infectious, infection.isolated_now
    susceptible = jnp.maximum(occupancy - infectious - isolated_now - infection.recovered, 0.0)
    pressure = transmission_pressure(
        p["transmission_rate_per_day"],
        infectious,
        jnp.maximum(occupancy, 1.0),
        occupancy / jnp.maximum(p["custody_capacity"][h.day], _TINY),
        p["crowding_exponent"],
    )
    new_infections = _draw(h, susceptible, -jnp.expm1(-pressure))
    recover = 1 - p["recovery_hourly"]
    ended = (infectious + new_infections + isolated_now) * p["recovery_hourly"]
    return (
        Infection(
            (infectious + new_infections) * recover,
            infection.symptomatic_before_intake * recover,
            isolated_now * recover,
            infection.recovered + ended,
        ),
        new_infections,
    )


def infect_staff(
    h: Hour, infection: Infection, people: jax.Array, staff: StaffAbsence
) -> StaffAbsence:
    """Staff on exposed posts (`people` [S, C, T] on each task this hour) infected by the
    undetected infectious in general holding; absent from now for the absence hours."""
    p = h.p
    exposed = people[:, :, STAFF_EXPOSED_TASKS[0]]
    for task in STAFF_EXPOSED_TASKS[1:]:
        exposed = exposed + people[:, :, task]
    risk = staff_infection_hazard(1.0, p["staff_infection_rate_per_day"], infection.infectious)
    fell_sick = _draw(h, exposed, jnp.clip(risk, 0, 1)[:, None])
    return_slot = (h.hour + p["staff_absence_hours"].astype(jnp.int32)) % h.layout.absence_hours
    return StaffAbsence(
        staff.absent + fell_sick, staff.absence_returns.at[return_slot].add(fell_sick)
    )
