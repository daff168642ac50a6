"""Repeat crossing: the share of encounters that are repeats, and the re-attempt parameters.

The official files count events, not people. Sourced figures (shared reference facts):
- 7 % of crossings were by people stopped in the previous 12 months in FY2019, and 27 % in FY2021
  (Associated Press, 22 Oct 2021, from CBP data). FY2019 was a Title 8 year; FY2021 a Title 42
  year. bordersim uses 7 % for Title 8 days and 27 % for Title 42 days.
- Under Title 42 (20 March 2020 - 4 February 2021) about 85 % of recidivists were single adults
  (Cato Institute, 2021, citing CBP). Its 38 % recidivism rate is measured on another window and
  counts people, not encounters, so it is not used as the level; its 85 % split is used to give
  single adults and the other groups different repeat shares under Title 42.
"""

from __future__ import annotations

import numpy as np

from bordersim.model.dimensions import (
    GROUP_DEMOGRAPHIC,
    N_DEMOGRAPHICS,
    N_GROUPS,
    Demographic,
)

REPEAT_SHARE_TITLE8 = 0.07
REPEAT_SHARE_TITLE8_SOURCE = "Associated Press, 22 Oct 2021, from CBP data: 7 % in FY2019"
REPEAT_SHARE_TITLE42 = 0.27
REPEAT_SHARE_TITLE42_SOURCE = "Associated Press, 22 Oct 2021, from CBP data: 27 % in FY2021"
SINGLE_ADULT_SHARE_OF_REPEATERS = 0.85
SINGLE_ADULT_SHARE_OF_REPEATERS_SOURCE = (
    "Cato Institute, 2021, citing CBP: about 85 % of recidivists under Title 42 are single adults"
)
TITLE42_REFERENCE_FISCAL_YEAR = 2021  # the year the 27 % was measured: its group mix splits it
TITLE8_REFERENCE_FISCAL_YEAR = 2019  # the year the 7 % was measured

APPREHENSION_PROBABILITY = 0.8
APPREHENSION_PROBABILITY_SOURCE = (
    "assumption: share of attempts that end in an encounter (the rest are got-aways); used only "
    "to invert encounters into first attempts; the event engine may refine it by simulation"
)

# Mean days between an expulsion or return and the next attempt, by demographic.
REPEAT_DELAY_MEAN_DAYS_BY_DEMOGRAPHIC = {
    Demographic.SINGLE_ADULT: 7.0,
    Demographic.FAMILY_UNIT: 21.0,
    Demographic.UNACCOMPANIED_CHILD: 30.0,
}
REPEAT_DELAY_SOURCE = (
    "assumption: single adults expelled under Title 42 were reported to re-cross within days; "
    "families and children wait longer (7 / 21 / 30 days)"
)
MAX_REPEAT_PROBABILITY = 0.95  # a cap, so that no group re-attempts with certainty


def title42_demographic_targets(single_adult_share: float) -> np.ndarray:
    """[3] repeat share of encounters by demographic under Title 42.

    With the FY2021 single-adult share w of encounters, repeats are 27 % of encounters and 85 % of
    them single adults: single adults' repeat share is 0.85 * 0.27 / w, the others' 0.15 * 0.27 /
    (1 - w). Their encounter-weighted mean is 27 %.
    """
    single = SINGLE_ADULT_SHARE_OF_REPEATERS * REPEAT_SHARE_TITLE42 / single_adult_share
    others = (1 - SINGLE_ADULT_SHARE_OF_REPEATERS) * REPEAT_SHARE_TITLE42 / (1 - single_adult_share)
    targets = np.full(N_DEMOGRAPHICS, others)
    targets[Demographic.SINGLE_ADULT] = single
    return targets


def _solve(repeats: float, leaving: float) -> float:
    """r from repeats = a * r * leaving (shares of encounters), capped."""
    if leaving <= 0:
        return 0.0
    return min(repeats / (APPREHENSION_PROBABILITY * leaving), MAX_REPEAT_PROBABILITY)


def repeat_probability(
    reattempt_share: np.ndarray, reference_mix: np.ndarray, demographic_targets: np.ndarray
) -> np.ndarray:
    """[G] re-attempt probability per demographic for one regime.

    Repeats are a * r * q of encounters: encounters leave by a pathway after which people may try
    again with share q (expulsion, voluntary return), try again with probability r, and are
    encountered again with probability a. r is solved per demographic so that, with the group
    mix of the year the repeat share was measured, repeats are the target share of encounters;
    it is capped where the pathways cannot produce that many repeats (the fit report says so).
    """
    probability = np.zeros(N_GROUPS, dtype=np.float64)
    for demographic in range(N_DEMOGRAPHICS):
        members = demographic == GROUP_DEMOGRAPHIC
        weight = reference_mix[members]
        if weight.sum() <= 0:
            continue
        leaving = float((reattempt_share[members] * weight).sum() / weight.sum())
        probability[members] = _solve(float(demographic_targets[demographic]), leaving)
    return probability


def implied_repeat_share(probability: np.ndarray, reattempt_share: np.ndarray) -> np.ndarray:
    """[G] share of encounters that re-attempts produce in steady state: a * r * q."""
    return APPREHENSION_PROBABILITY * probability * reattempt_share


def by_group(demographic_targets: np.ndarray) -> np.ndarray:
    """[G] from [3]: every nationality of a demographic gets its demographic's value."""
    return np.asarray(demographic_targets, dtype=np.float64)[GROUP_DEMOGRAPHIC]


def monthly_repeat_share(title42_fraction: np.ndarray, by_regime: np.ndarray) -> np.ndarray:
    """[M, G] repeat share: days-weighted between the Title 8 and Title 42 values ([2, G])."""
    fraction = title42_fraction[:, None]
    return (1 - fraction) * by_regime[0][None, :] + fraction * by_regime[1][None, :]


def repeat_delay_mean_days() -> np.ndarray:
    return np.array(
        [REPEAT_DELAY_MEAN_DAYS_BY_DEMOGRAPHIC[Demographic(int(d))] for d in GROUP_DEMOGRAPHIC],
        dtype=np.float64,
    )
