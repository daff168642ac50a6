"""The ICE-share trial (bench/ice_share_trial.py) moves exactly what it says on a compiled model."""

from __future__ import annotations

import numpy as np
from bench.ice_share_trial import with_adults_to_ice

from bordersim.model.dimensions import GROUP_DEMOGRAPHIC, Demographic, Pathway
from bordersim.model.examples import tiny_model


def test_a_share_of_single_adults_releases_moves_to_expedited_removal() -> None:
    model = tiny_model()
    before = np.asarray(model.pathway_share)
    after = np.asarray(with_adults_to_ice(model, 0.3).pathway_share)
    adults = np.equal(GROUP_DEMOGRAPHIC, int(Demographic.SINGLE_ADULT))
    release, removal = Pathway.RELEASE, Pathway.EXPEDITED_REMOVAL
    assert before[:, adults, release].sum() > 0  # the example has releases to move
    np.testing.assert_allclose(after[:, adults, release], 0.7 * before[:, adults, release])
    np.testing.assert_allclose(
        after[:, adults, removal],
        before[:, adults, removal] + 0.3 * before[:, adults, release],
    )
    np.testing.assert_array_equal(after[:, ~adults], before[:, ~adults])  # other groups alone
    np.testing.assert_allclose(after.sum(axis=2), before.sum(axis=2))
