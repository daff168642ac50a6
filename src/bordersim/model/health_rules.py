"""Rules of health in custody (docs/model.md step 10) that both engines share exactly.

The event engine compiles the functions with Numba (scalars, one sector at a time); the flow
engine traces them with JAX (arrays over sectors and crews). Each is written so that both engines
compute what they computed before with their own copies, operation for operation (the goldens
pin that): the engines pass their own guards against empty holding in the arguments.
"""

from __future__ import annotations

from typing import Any

from bordersim.model.dimensions import Task

#: Staff on these posts are exposed to the infectious people in custody: custody watch and
#: processing (docs/model.md step 10). Plain ints, which Numba reads as constants; summed in this
#: order by both engines.
STAFF_EXPOSED_TASKS = (int(Task.CUSTODY_WATCH), int(Task.INTAKE), int(Task.DETERMINATION))

#: `staff_infection_rate_per_day` is per infectious person per this many people in custody.
STAFF_RATE_PER_PEOPLE = 1000.0


def transmission_pressure(
    rate_per_day: Any, infectious: Any, occupancy: Any, crowding: Any, exponent: Any
) -> Any:
    """The hour's force of infection on a susceptible person in general holding:
    `rate_per_day / 24 * I / N * crowding ** exponent`, with `crowding` the occupancy over the
    day's capacity (1 where the capacity is 0). The probability of infection in the hour is
    `1 - exp(-pressure)`."""
    return rate_per_day / 24 * infectious / occupancy * crowding**exponent


def staff_infection_hazard(people: Any, rate_per_day: Any, infectious: Any) -> Any:
    """The hour's expected infections among `people` staff on exposed posts, with `infectious`
    undetected infectious people in general holding (per person: `people = 1`)."""
    return people * rate_per_day / 24 * infectious / STAFF_RATE_PER_PEOPLE


def infectious_hours(infectious_days: Any) -> Any:
    """How long an infection lasts, in hours."""
    return infectious_days * 24.0


def staff_absence_hours(staff_absence_days: float) -> int:
    """How long an infected staff member is absent, in whole hours (rounded half to even)."""
    return round(staff_absence_days * 24.0)
