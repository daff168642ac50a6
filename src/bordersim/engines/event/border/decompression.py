"""Lateral decompression (docs/model.md step 6): people moved between sectors at apprehension.

The flow engine computes the same quotas from the same state (`engines/flow/step.py`,
`_decompression_plan`); here they are realised person by person without random draws. Each
sending sector holds a credit of moves: at the start of the hour it gets the hour's quota (its
share of the seats, within the transport staffed) on top of the fraction left from earlier hours,
and each eligible person it apprehends while the credit is at least one is moved. Unused whole
moves are dropped at the next hour's start, as the flow engine moves at most the hour's eligible
apprehensions; the fraction carries, so that a quota of 0.3 an hour moves one person in about
three hours as the flow engine moves 0.3 each hour. A moved person goes to the receiver with the
most of its hour's share still untaken, so receivers fill in proportion to their room.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bordersim.engines.event.border.layout import K_COST_DECOMPRESSION, K_MOVED_IN, K_MOVED_OUT
from bordersim.engines.event.border.state import Clock, Custody, Metrics, Model, Plan


@njit(cache=True, inline="always")
def plan_hour(clock: Clock, m: Model, custody: Custody, plan: Plan) -> None:
    """Before dispatch: each sender's share of the hour's seats, in proportion to its occupancy
    above `send_fraction` of capacity (at the start of the hour), the seats capped by the room
    of the receivers below `receive_fraction`; dispatch sizes the escorts' transport for it."""
    d = clock.day
    n_sec = custody.occupancy.shape[0]
    excess_total, room_total = 0.0, 0.0
    for s in range(n_sec):
        capacity = m.custody_capacity[d, s]
        occupancy = float(custody.occupancy[s])
        excess = max(0.0, occupancy - m.decompression_send_fraction * capacity)
        room = max(0.0, m.decompression_receive_fraction * capacity - occupancy)
        plan.move_planned[s] = excess
        plan.move_room[s] = room
        excess_total += excess
        room_total += room
    if m.decompression_active[d] == 0.0 or excess_total <= 0.0 or room_total <= 0.0:
        plan.move_planned[:] = 0.0
        plan.move_room[:] = 0.0
        return
    seats = min(m.decompression_seats_per_hour, room_total)
    for s in range(n_sec):
        plan.move_planned[s] = seats * plan.move_planned[s] / excess_total


@njit(cache=True, inline="always")
def open_hour(m: Model, plan: Plan) -> None:
    """After dispatch: each sender's moves within the transport it staffed (escorts take the
    sending sector's transport first), its credit, and the receivers' shares of the moves."""
    hours = m.decompression_hours_per_person
    moves, room_total = 0.0, 0.0
    for s in range(plan.move_planned.shape[0]):
        quota = plan.move_planned[s]
        if hours > 0.0:
            quota = min(quota, plan.transport_cap[s] / hours)
        credit = plan.move_credit[s]
        plan.move_credit[s] = credit - math.floor(credit) + quota
        moves += quota
        room_total += plan.move_room[s]
    for s in range(plan.move_room.shape[0]):
        plan.move_room[s] = moves * plan.move_room[s] / room_total if room_total > 0.0 else 0.0


@njit(cache=True, inline="always")
def destination(s: int, g: int, d: int, m: Model, plan: Plan, out: Metrics) -> int:
    """The sector that holds a person of group `g` apprehended in sector `s` on day `d`: `s`,
    or the receiver they are moved to (counted, costed and their escort taken from `s`'s
    transport)."""
    if plan.move_credit[s] < 1.0 or m.decompression_eligible[g] == 0.0:
        return s
    if m.decompression_active[d] == 0.0:
        return s
    to = int(np.argmax(plan.move_room))
    # The credit carried from earlier hours may exceed the hour's shares by less than one move.
    if plan.move_room[to] <= -1.0:
        return s
    plan.move_credit[s] -= 1.0
    plan.move_room[to] -= 1.0
    escort = m.decompression_hours_per_person
    plan.transport_cap[s] = max(0.0, plan.transport_cap[s] - escort)
    plan.need_transport[s] += escort
    daily, col = out.daily, out.col
    daily[d, s, col[K_MOVED_OUT]] += 1.0
    daily[d, to, col[K_MOVED_IN]] += 1.0
    daily[d, s, col[K_COST_DECOMPRESSION]] += m.decompression_cost_per_person
    return to
