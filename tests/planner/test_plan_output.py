"""The certificate says when its gap is not proven: neither lower bound models people moved
between sectors (lateral decompression)."""

from __future__ import annotations

import numpy as np
from planner_cases import one_sector_model

from bordersim.planner.output import gap_proven


def test_the_gap_is_proven_without_moves_between_sectors() -> None:
    model = one_sector_model()
    assert not model.decompression_active.any()
    assert gap_proven(model, cost=1.0e6)


def test_with_moves_only_a_plan_that_costs_nothing_has_a_proven_gap() -> None:
    base = one_sector_model()
    moving = base.replace(decompression_active=np.ones_like(base.decompression_active))
    assert not gap_proven(moving, cost=1.0e6)
    assert gap_proven(moving, cost=0.0)
