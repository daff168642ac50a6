"""The model's vocabulary: sectors, groups, pathways, staff pools and tasks, in array order.

Every array in a compiled model is indexed in the order given here. Names are the identifiers used
in scenario files, tables and reports.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Sector(IntEnum):
    """The nine southwest border Border Patrol sectors, west to east, with CBP's codes."""

    SDC = 0  # San Diego (CA)
    ELC = 1  # El Centro (CA)
    YUM = 2  # Yuma (AZ)
    TCA = 3  # Tucson (AZ)
    EPT = 4  # El Paso (TX, NM)
    BBT = 5  # Big Bend (TX)
    DRT = 6  # Del Rio (TX)
    LRT = 7  # Laredo (TX)
    RGV = 8  # Rio Grande Valley (TX)


SECTOR_NAMES: dict[Sector, str] = {
    Sector.SDC: "San Diego",
    Sector.ELC: "El Centro",
    Sector.YUM: "Yuma",
    Sector.TCA: "Tucson",
    Sector.EPT: "El Paso",
    Sector.BBT: "Big Bend",
    Sector.DRT: "Del Rio",
    Sector.LRT: "Laredo",
    Sector.RGV: "Rio Grande Valley",
}


class Demographic(IntEnum):
    """Demographic groups of the official data (accompanied minors travel with family units)."""

    SINGLE_ADULT = 0
    FAMILY_UNIT = 1
    UNACCOMPANIED_CHILD = 2


class Nationality(IntEnum):
    """Nationality groups of the official data; they decide which pathways apply."""

    MEXICO = 0
    NORTHERN_CENTRAL_AMERICA = 1  # Guatemala, Honduras, El Salvador
    OTHER = 2


N_DEMOGRAPHICS = len(Demographic)
N_NATIONALITIES = len(Nationality)
N_GROUPS = N_DEMOGRAPHICS * N_NATIONALITIES


def group_index(demographic: int, nationality: int) -> int:
    """Index of a group (demographic x nationality) in the G axis: demographic-major."""
    return int(demographic) * N_NATIONALITIES + int(nationality)


GROUP_NAMES: list[str] = [
    f"{d.name.lower()}/{n.name.lower()}" for d in Demographic for n in Nationality
]
GROUP_DEMOGRAPHIC = np.repeat(np.arange(N_DEMOGRAPHICS), N_NATIONALITIES).astype(np.int64)


class Pathway(IntEnum):
    """Legal pathway assigned at encounter (DESIGN 2.4), which decides processing and departure."""

    TITLE42_EXPULSION = 0  # to a port of entry; may re-attempt
    EXPEDITED_REMOVAL = 1  # Title 8, to an ICE bed
    RELEASE = 2  # Title 8 notice to appear or parole, to a shelter or the street
    VOLUNTARY_RETURN = 3  # Mexico; to a port of entry; may re-attempt
    UAC_TRANSFER = 4  # unaccompanied child to HHS


N_PATHWAYS = len(Pathway)
PATHWAYS_THAT_REATTEMPT = (Pathway.TITLE42_EXPULSION, Pathway.VOLUNTARY_RETURN)


class Pool(IntEnum):
    """Staff pools (DESIGN 2.7)."""

    AGENT = 0  # Border Patrol agents
    PROCESSING_COORDINATOR = 1  # Border Patrol processing coordinators (civilian)
    NATIONAL_GUARD = 2
    ACTIVE_DUTY = 3  # active-duty troops
    CONTRACTOR = 4


N_POOLS = len(Pool)


class Task(IntEnum):
    """Tasks staff are dispatched to every hour (DESIGN 2.7)."""

    FIELD = 0  # interdiction, pickup, transport to processing
    DETECTION = 1  # ground-based detection and monitoring
    INTAKE = 2  # intake and data entry
    DETERMINATION = 3  # agent determination of pathway
    CUSTODY_WATCH = 4
    TRANSPORT = 5  # transport to departure
    WAREHOUSE = 6
    MEDICAL = 7


N_TASKS = len(Task)

#: Tasks whose work is staff-hours per person in custody per day (docs/model.md step 2), each with
#: the scenario parameter of its rate. Both engines staff them in `task_fill_order`, after
#: processing and before detection; warehouse staff also decide the supplies delivered (step 9).
CUSTODY_DAY_TASKS: dict[Task, str] = {
    Task.WAREHOUSE: "staff.warehouse_hours_per_person_day",
    Task.MEDICAL: "staff.medical_hours_per_person_day",
    # New custody-day tasks go here (docs/extending.md, "Add a task").
}

# Posse Comitatus: troops and Guard do no law enforcement. This is a rule of law, not a default,
# so it is not configurable: a scenario that asks for it is rejected.
MILITARY_POOLS = (Pool.NATIONAL_GUARD, Pool.ACTIVE_DUTY)
MILITARY_FORBIDDEN_TASKS = (Task.FIELD, Task.DETERMINATION, Task.CUSTODY_WATCH)
# Determination is a legal decision by a Border Patrol agent.
AGENT_ONLY_TASKS = (Task.DETERMINATION,)


def legally_allowed() -> np.ndarray:
    """Pool x task boolean matrix of what the law allows (before scenario capability choices)."""
    allowed = np.ones((N_POOLS, N_TASKS), dtype=np.bool_)
    for pool in MILITARY_POOLS:
        for task in MILITARY_FORBIDDEN_TASKS:
            allowed[pool, task] = False
    for task in AGENT_ONLY_TASKS:
        allowed[:, task] = False
        allowed[Pool.AGENT, task] = True
    # Field work (interdiction) is law enforcement: agents only.
    allowed[:, Task.FIELD] = False
    allowed[Pool.AGENT, Task.FIELD] = True
    return allowed
