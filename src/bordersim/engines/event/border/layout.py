"""Index constants shared by the compiled kernel and its Python driver.

The kernel writes metrics through a table of column numbers (`K_*` slots) that the driver fills
from `DAILY_METRICS`, so a change of metric order in the results schema never leaves a stale
compiled kernel behind.
"""

from __future__ import annotations

from bordersim.model.dimensions import Pathway

# ----- metrics the kernel writes: slots of the `col` array (column numbers in DAILY_METRICS) --
KERNEL_METRICS: tuple[str, ...] = (
    "attempts",
    "first_attempts",
    "repeat_attempts",
    "surrendered",
    "detected",
    "encounters",
    "unique_encounters",
    "gotaways",
    "occupancy_mean",
    "occupancy_peak",
    "custody_capacity",
    "custody_exits",
    "custody_exits_over_72h",
    "uac_exits",
    "uac_exits_over_72h",
    "custody_hours_total",
    "processing_backlog",
    "releases_to_street",
    "valve_open_hours",
    "agents_field_hours",
    "agents_support_hours",
    "supply_stock_units",
    "supply_units_used",
    "unmet_care_person_days",
    "stock_out",
    "infections_in_custody",
    "infectious_arrivals",
    "isolated",
    "isolation_overflow",
    "infectious_released",
    "infectious_expelled",
    "infectious_removed",
    "staff_days_lost",
    "cost_staff_dollars",
    "cost_custody_dollars",
    "cost_supplies_dollars",
    "cost_total_dollars",
    "moved_out",
    "moved_in",
    "cost_decompression_dollars",
    *(f"departures:{p.name.lower()}" for p in Pathway),
)
(
    K_ATTEMPTS,
    K_FIRST,
    K_REPEAT,
    K_SURRENDERED,
    K_DETECTED,
    K_ENCOUNTERS,
    K_UNIQUE,
    K_GOTAWAYS,
    K_OCC_MEAN,
    K_OCC_PEAK,
    K_CAPACITY,
    K_EXITS,
    K_EXITS_72,
    K_UAC_EXITS,
    K_UAC_EXITS_72,
    K_CUSTODY_HOURS,
    K_BACKLOG,
    K_STREET,
    K_VALVE_HOURS,
    K_AGENTS_FIELD,
    K_AGENTS_SUPPORT,
    K_STOCK,
    K_SUPPLY_USED,
    K_UNMET,
    K_STOCK_OUT,
    K_INFECTIONS,
    K_INFECTIOUS_ARRIVALS,
    K_ISOLATED,
    K_ISOLATION_OVERFLOW,
    K_INFECTIOUS_RELEASED,
    K_INFECTIOUS_EXPELLED,
    K_INFECTIOUS_REMOVED,
    K_STAFF_DAYS_LOST,
    K_COST_STAFF,
    K_COST_CUSTODY,
    K_COST_SUPPLIES,
    K_COST_TOTAL,
    K_MOVED_OUT,
    K_MOVED_IN,
    K_COST_DECOMPRESSION,
    K_DEPARTURES,  # first of the N_PATHWAYS departure columns, in `Pathway` order
) = range(41)

# ----- per-attempt flags ------------------------------------------------------------------
F_GOTAWAY = 1
F_SURRENDERED = 2
F_INITIAL_CUSTODY = 4
F_KNOWN_BEFORE = 8  # counted as previously encountered (warm-up repeaters) for unique counts
F_SHELTER = 16  # a release that a shelter took
F_INFECTIOUS = 32  # infectious at some point in custody
F_SYMPTOMATIC = 64
F_ISOLATED = 128

# ----- kernel return codes ----------------------------------------------------------------
OK = 0
OVERFLOW = 1  # more attempts than the preallocated rows: the driver retries with more room
