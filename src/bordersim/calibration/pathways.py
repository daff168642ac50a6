"""Pathway shares per group: Title 42 expulsion against Title 8, and the Title 8 split.

- Title 42 share per group: the CBP file's Border Patrol rows, per month for the months wholly under
  Title 42, and pooled over those months for Title 42 days the file does not cover (2020-2021,
  or a scenario that keeps Title 42 in force). On Title 8 days the share is zero. The OHSS workbook
  does not split by title, so no better evidence exists before FY2022 in the shipped files.
- Title 8 split (expedited removal, release, voluntary return, unaccompanied-child transfer): the
  official files do not publish outcomes, so these are assumptions, flagged as such.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from bordersim.calibration.inputs import OfficialMonthly
from bordersim.calibration.regime import title42_fraction
from bordersim.model.dimensions import (
    N_GROUPS,
    N_PATHWAYS,
    PATHWAYS_THAT_REATTEMPT,
    Demographic,
    Nationality,
    Pathway,
    group_index,
)

TITLE42_SOURCE = (
    "CBP Southwest Land Border Encounters CSV, Border Patrol rows: Title 42 share of encounters "
    "per group, per month wholly under Title 42; pooled over those months otherwise"
)
TITLE8_SPLIT_SOURCE = (
    "assumption: split of Title 8 encounters among expedited removal (transfer to an ICE bed), "
    "release (notice to appear or parole), voluntary return (Mexicans, through a port) and "
    "transfer to HHS (unaccompanied children); the official files publish no outcomes. Anchored "
    "on one sourced total: CBP booked 22,672 people into ICE detention in May 2023 (TRAC, 28 June "
    "2023), about 730 a day, some 15 % of Border Patrol's Title 8 apprehensions that month "
    "(derived from the official monthly encounters less Title 42 expulsions); the rest were "
    "mostly released by Border Patrol (25,463 released with a notice to appear on their own "
    "recognizance in March 2023 alone: CBP Custody and Transfer Statistics FY2023, via the Center "
    "for Immigration Studies, 25 April 2023) or, for Mexicans, returned through a port"
)

_SA, _FU, _UC = Demographic.SINGLE_ADULT, Demographic.FAMILY_UNIT, Demographic.UNACCOMPANIED_CHILD
_MX, _NCA, _OT = Nationality.MEXICO, Nationality.NORTHERN_CENTRAL_AMERICA, Nationality.OTHER
# (expedited removal, release, voluntary return, unaccompanied-child transfer), given Title 8.
# Transfers to ICE are held to about 15 % of Title 8 cases overall (the May 2023 book-ins above):
# single adults from Central America most, families seldom (ICE held no families from
# December 2021: Axios, 16 Dec 2021); Mexicans mostly go back through a port, as a voluntary
# return does.
TITLE8_SPLIT: dict[tuple[Demographic, Nationality], tuple[float, float, float, float]] = {
    (_SA, _MX): (0.15, 0.05, 0.80, 0.0),
    (_SA, _NCA): (0.35, 0.65, 0.0, 0.0),
    (_SA, _OT): (0.15, 0.85, 0.0, 0.0),
    (_FU, _MX): (0.05, 0.75, 0.20, 0.0),
    (_FU, _NCA): (0.03, 0.97, 0.0, 0.0),
    (_FU, _OT): (0.02, 0.98, 0.0, 0.0),
    # TVPRA lets Mexican children be returned after screening; others go to HHS.
    (_UC, _MX): (0.0, 0.0, 0.60, 0.40),
    (_UC, _NCA): (0.0, 0.0, 0.0, 1.0),
    (_UC, _OT): (0.0, 0.0, 0.0, 1.0),
}
_TITLE8_PATHWAYS = (
    Pathway.EXPEDITED_REMOVAL,
    Pathway.RELEASE,
    Pathway.VOLUNTARY_RETURN,
    Pathway.UAC_TRANSFER,
)


def title8_split() -> np.ndarray:
    """[G, P] pathway shares given Title 8 (zero on Title 42 expulsion)."""
    split = np.zeros((N_GROUPS, N_PATHWAYS), dtype=np.float64)
    for (demographic, nationality), shares in TITLE8_SPLIT.items():
        group = group_index(demographic, nationality)
        for pathway, share in zip(_TITLE8_PATHWAYS, shares, strict=True):
            split[group, pathway] = share
    return split


def title42_months(data: OfficialMonthly) -> tuple[tuple[date, ...], np.ndarray, np.ndarray]:
    """Months of the CBP file wholly under Title 42, their [M42, G] Title 42 shares, and the
    pooled [G] share over those months."""
    months: list[date] = []
    shares: list[np.ndarray] = []
    expelled = np.zeros(N_GROUPS)
    encountered = np.zeros(N_GROUPS)
    for position, month in enumerate(data.cbp_months):
        if title42_fraction(month) < 1.0:
            continue
        counts = data.cbp_encounters[position].astype(np.float64)
        title42 = data.cbp_title42[position].astype(np.float64)
        months.append(month)
        shares.append(np.divide(title42, counts, out=np.zeros(N_GROUPS), where=counts > 0))
        expelled += title42
        encountered += counts
    pooled = np.divide(expelled, encountered, out=np.zeros(N_GROUPS), where=encountered > 0)
    monthly = np.array(shares) if shares else np.zeros((0, N_GROUPS))
    return tuple(months), monthly, pooled


def combine(title42_share: np.ndarray, split: np.ndarray) -> np.ndarray:
    """[..., G, P] pathway shares from a [..., G] Title 42 share and the [G, P] Title 8 split."""
    shares = (1.0 - title42_share)[..., None] * split
    shares[..., Pathway.TITLE42_EXPULSION] = title42_share
    return shares


def reattempt_share(shares: np.ndarray) -> np.ndarray:
    """[..., G] share leaving by a pathway after which people may try again."""
    return sum(shares[..., pathway] for pathway in PATHWAYS_THAT_REATTEMPT)  # type: ignore[return-value]
