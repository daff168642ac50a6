"""Group mix (demographic x nationality) of Border Patrol encounters, per month, border-wide.

Where the CBP file covers a month, its Border Patrol rows give the joint mix exactly. Elsewhere
the OHSS workbook gives the two margins separately (family status; citizenship), and the joint mix
is fitted to both margins by iterative proportional fitting, starting from the association seen in
the CBP file (pooled over its months): for example, that family units are mostly not Mexican.
The same border-wide mix is applied to every sector: the official files do not split sectors by
group.
"""

from __future__ import annotations

import numpy as np

from bordersim.calibration.inputs import OfficialMonthly
from bordersim.model.dimensions import N_DEMOGRAPHICS, N_GROUPS, N_NATIONALITIES

IPF_ITERATIONS = 200
IPF_TOLERANCE = 1e-12


def monthly_group_mix(data: OfficialMonthly) -> tuple[np.ndarray, np.ndarray]:
    """Group mix [M, G] summing to 1, and a [M] flag: True where the CBP file gave it exactly."""
    months = len(data.months)
    mix = np.zeros((months, N_GROUPS), dtype=np.float64)
    exact = np.zeros(months, dtype=np.bool_)
    seed = association_seed(data)
    cbp_index = {month: position for position, month in enumerate(data.cbp_months)}
    for position, month in enumerate(data.months):
        if month in cbp_index and data.cbp_encounters[cbp_index[month]].sum() > 0:
            counts = data.cbp_encounters[cbp_index[month]].astype(np.float64)
            mix[position] = counts / counts.sum()
            exact[position] = True
            continue
        demographic = data.demographic_counts[position] / data.demographic_counts[position].sum()
        nationality = data.nationality_counts[position] / data.nationality_counts[position].sum()
        mix[position] = fit_to_margins(seed, demographic, nationality).reshape(N_GROUPS)
    return mix, exact


def association_seed(data: OfficialMonthly) -> np.ndarray:
    """[3, 3] starting table: the CBP file's pooled joint counts, or independence without it."""
    if len(data.cbp_months) == 0:
        return np.ones((N_DEMOGRAPHICS, N_NATIONALITIES))
    pooled = (
        data.cbp_encounters.sum(axis=0).astype(np.float64).reshape(N_DEMOGRAPHICS, N_NATIONALITIES)
    )
    # A zero cell would stay zero for ever; a small floor keeps every group possible.
    return np.maximum(pooled / pooled.sum(), 1e-6)


def fit_to_margins(seed: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting of `seed` [R, C] to row and column margins (sums of 1)."""
    table = seed / seed.sum()
    for _ in range(IPF_ITERATIONS):
        row_sums = table.sum(axis=1)
        table = (
            table * np.divide(rows, row_sums, out=np.zeros_like(rows), where=row_sums > 0)[:, None]
        )
        column_sums = table.sum(axis=0)
        table = (
            table
            * np.divide(columns, column_sums, out=np.zeros_like(columns), where=column_sums > 0)[
                None, :
            ]
        )
        if np.abs(table.sum(axis=1) - rows).max() < IPF_TOLERANCE:
            break
    return table / table.sum()
