"""Departure routes as data (docs/model.md step 8): one declaration per route, read by the
compiler and by both engines.

A route says who takes it (the pathways assigned at encounter, optionally only some demographic
groups of them), how its room is counted, where its parameters live in a scenario, and what
follows a departure by it. A route that names demographics takes their people of its pathways
from the route that takes those pathways for everyone. The compiler turns the
declared parameters into the compiled model's per-line arrays (`CompiledModel.line_*`); the event
engine walks the lines in table order, the flow engine builds one flow per line in the same order.

Scopes:
- ``SECTOR``: a line per sector, moving while the sector's daily allowance (``capacity``, by
  sector, spread over the hours) lasts: ports of entry.
- ``NATIONAL``: one line for the whole border, first come first served across sectors, moving
  while national beds are free (``beds``, plus any dated ``beds_added``) within a national daily
  allowance (``capacity``); a bed is held for an exponential stay (``length_of_stay``): ICE, HHS.
- ``AT_ONCE``: no line; people leave when their minimum time in custody ends, to a shelter while
  the sector's daily shelter places (``capacity``, by sector) last, else to the street: releases.
  The table has exactly one such route.

Every route needs transport work per person (``processing.transport_hours_per_person`` of its
pathways) except ``AT_ONCE`` ones. ``reattempt``: people who left by the route may cross again
(with the regime's repeat probability and delay).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from bordersim.model.dimensions import N_DEMOGRAPHICS, N_PATHWAYS, Demographic, Pathway


class Scope(Enum):
    SECTOR = "sector"
    NATIONAL = "national"
    AT_ONCE = "at_once"


@dataclass(frozen=True)
class Route:
    """One departure route. Parameter fields name scenario parameters as dotted paths
    (``departures.ice_beds``); "" when the route has none."""

    name: str
    doc: str
    pathways: tuple[Pathway, ...]  # who takes it
    scope: Scope
    capacity: str  # people/day: by sector (SECTOR, AT_ONCE) or national (NATIONAL)
    waiting_metric: str = ""  # results metric: people in its line at the end of the day
    beds: str = ""  # NATIONAL: beds
    initial_occupancy: str = ""  # NATIONAL: beds occupied at the start
    length_of_stay: str = ""  # NATIONAL: mean days in a bed (exponential)
    beds_added: str = ""  # NATIONAL: dated bed additions (a table of `BedsChange`)
    cost_per_person: str = ""  # dollars per departure by the route
    reattempt: bool = False  # who leaves by it may cross again
    demographics: tuple[Demographic, ...] = ()  # only these groups of its pathways; () = all

    @property
    def has_line(self) -> bool:
        return self.scope is not Scope.AT_ONCE

    @property
    def national(self) -> bool:
        return self.scope is Scope.NATIONAL


ROUTES: tuple[Route, ...] = (
    Route(
        "port",
        "handed over to Mexico at the sector's ports of entry",
        (Pathway.TITLE42_EXPULSION, Pathway.VOLUNTARY_RETURN),
        Scope.SECTOR,
        capacity="departures.port_capacity_per_day",
        waiting_metric="waiting_for_port",
        reattempt=True,
    ),
    Route(
        "ice",
        "transferred to an ICE detention bed",
        (Pathway.EXPEDITED_REMOVAL,),
        Scope.NATIONAL,
        capacity="departures.ice_transfers_per_day",
        waiting_metric="waiting_for_ice_bed",
        beds="departures.ice_beds",
        initial_occupancy="departures.ice_initial_occupancy_beds",
        length_of_stay="departures.ice_length_of_stay_days",
        cost_per_person="cost.ice_transfer_dollars",
    ),
    Route(
        "hhs",
        "unaccompanied children placed in HHS care",
        (Pathway.UAC_TRANSFER,),
        Scope.NATIONAL,
        capacity="departures.hhs_placement_per_day",
        waiting_metric="waiting_for_hhs",
        beds="departures.hhs_beds",
        initial_occupancy="departures.hhs_initial_occupancy_beds",
        length_of_stay="departures.hhs_length_of_stay_days",
        beds_added="departures.hhs_beds_added",
    ),
    Route(
        "release",
        "released with a notice to appear or parole, to a shelter or the street",
        (Pathway.RELEASE,),
        Scope.AT_ONCE,
        capacity="departures.shelter_intake_per_day",
    ),
    # New routes go here (docs/extending.md, "Add a departure route").
)

#: Routes with a line, in table order: the L axis of the compiled model's `line_*` arrays.
LINES: tuple[Route, ...] = tuple(r for r in ROUTES if r.has_line)
N_LINES = len(LINES)
LINE_NAMES: tuple[str, ...] = tuple(r.name for r in LINES)


def line_index(name: str) -> int:
    """Position of the route called `name` among the lines."""
    return LINE_NAMES.index(name)


def route_of(pathway: Pathway, demographic: Demographic) -> Route:
    """The route people of `demographic` on `pathway` take: one that names the demographic, else
    the one that takes the pathway for everyone."""
    takers = _takers(pathway, demographic)
    if len(takers) != 1:
        names = [r.name for r in takers]
        raise LookupError(
            f"{demographic.name.lower()} on pathway {pathway.name.lower()} take {len(takers)} "
            f"departure routes, not one: {names}"
        )
    return takers[0]


def _takers(pathway: Pathway, demographic: Demographic) -> list[Route]:
    named = [r for r in ROUTES if pathway in r.pathways and demographic in r.demographics]
    return named or [r for r in ROUTES if pathway in r.pathways and not r.demographics]


def _check_table() -> None:
    """Every pathway and demographic takes exactly one route; one route leaves at once; every
    line has its own waiting metric; national routes have beds."""
    for p in Pathway:
        for d in Demographic:
            route_of(p, d)
    at_once = [r.name for r in ROUTES if not r.has_line]
    if len(at_once) != 1:
        raise ValueError(f"the route table needs exactly one route that leaves at once: {at_once}")
    metrics = [r.waiting_metric for r in LINES]
    if "" in metrics or len(set(metrics)) != len(metrics):
        raise ValueError(f"every line needs its own waiting metric: {metrics}")
    for r in LINES:
        if r.national and not (r.beds and r.initial_occupancy and r.length_of_stay):
            raise ValueError(f"national route {r.name} needs beds, initial occupancy and stay")


_check_table()

#: Line of each pathway and demographic ([P, D]; -1: leaves at once), and whether leaving by its
#: route leads to a re-attempt; the engines read these.
ROUTE_LINE = np.array(
    [
        [line_index(route_of(p, d).name) if route_of(p, d).has_line else -1 for d in Demographic]
        for p in Pathway
    ],
    dtype=np.int64,
)
ROUTE_REATTEMPT = np.array(
    [[route_of(p, d).reattempt for d in Demographic] for p in Pathway], dtype=np.bool_
)
LINE_NATIONAL = np.array([r.national for r in LINES], dtype=np.bool_)
assert ROUTE_LINE.shape == (N_PATHWAYS, N_DEMOGRAPHICS)
