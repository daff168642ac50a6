"""The flow engine's crossings keep the hourly variance of people of docs/model.md step 3.

The day's people are drawn and spread over hours, then form groups; with Poisson demand the
people crossing in a day are Poisson, whatever the group size. Drawing whole groups instead
multiplies that variance by the mean group size, and with it the peaks of intake work that
agents top up.
"""

from __future__ import annotations

import numpy as np

from bordersim.engines import simulate
from bordersim.model.examples import tiny_model


def test_first_attempts_are_poisson_in_people_not_groups() -> None:
    base = tiny_model()
    model = base.replace(
        demand_dispersion=float("inf"),
        batch_size_mean=np.full_like(base.batch_size_mean, 3.0),
    )
    run = simulate(model, engine="flow", replications=20, seed=5)
    people = run.metric("first_attempts")  # [R, D, S]
    # Variance over replications of each day and sector over its mean, pooled: 1 for Poisson
    # people (3 for Poisson groups of 3). 200 cells of 19 degrees of freedom: standard error
    # about 0.025.
    dispersion = people.var(axis=0, ddof=1).sum() / people.mean(axis=0).sum()
    assert 0.85 < dispersion < 1.2, dispersion
