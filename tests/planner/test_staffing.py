"""The classic staffing rules the planner is compared with: Halfin-Whitt's beta, and square-root
and modified-offered-load staffing in the planner's decision space."""

from __future__ import annotations

import numpy as np
import pytest
from planner_cases import one_sector_model, troops_spec

from bordersim.planner.fluid import workload
from bordersim.planner.problem import build_problem
from bordersim.planner.staffing import halfin_whitt_beta, square_root_plan


def test_halfin_whitt_beta_matches_the_formula_and_the_literature() -> None:
    from scipy.stats import norm

    # P(wait) = 1/2 at beta of about 0.506 (Halfin & Whitt, 1981)
    assert halfin_whitt_beta(0.5) == pytest.approx(0.506, abs=1e-3)
    for p in (0.01, 0.05, 0.2, 0.8):
        b = halfin_whitt_beta(p)
        assert 1.0 / (1.0 + b * norm.cdf(b) / norm.pdf(b)) == pytest.approx(p, rel=1e-6)
    assert halfin_whitt_beta(0.01) > halfin_whitt_beta(0.05) > halfin_whitt_beta(0.2)
    with pytest.raises(ValueError, match="delay probability"):
        halfin_whitt_beta(1.0)


def _problem_and_work(scale: float = 1.0) -> tuple[object, object]:
    model = one_sector_model()
    model = model.replace(first_attempts_per_day=model.first_attempts_per_day * scale)
    spec = troops_spec()
    problem = build_problem(model, spec)
    days = slice(model.warmup_days, model.n_days)
    encounters = model.first_attempts_per_day[days].sum(axis=2)  # every attempt encountered
    zero = np.zeros_like(encounters)
    return problem, workload(problem, encounters, zero, zero)


def test_square_root_staffing_grows_with_beta_and_load_within_caps_and_steps() -> None:
    problem, work = _problem_and_work()
    plans = [square_root_plan(problem, work, b, time_varying=False) for b in (0.0, 1.0, 3.0)]
    assert plans[0].item() <= plans[1].item() <= plans[2].item()
    assert plans[2].item() > plans[0].item()  # beta adds staff beyond the mean load
    heavier_problem, heavier = _problem_and_work(1.3)
    assert (
        square_root_plan(heavier_problem, heavier, 1.0, time_varying=False).item() > plans[1].item()
    )
    caps = problem.upper_bounds()  # type: ignore[attr-defined]
    for x in plans:
        assert (x <= caps).all() and (x % 5 == 0).all()  # the troops' step is 5


def test_mol_staffs_the_peak_day_of_each_window() -> None:
    problem, work = _problem_and_work()
    # a one-day spike: the stationary rule averages it away, MOL staffs for it
    work.intake[5] *= 3.0  # type: ignore[attr-defined]
    stationary = square_root_plan(problem, work, 1.0, time_varying=False)
    mol = square_root_plan(problem, work, 1.0, time_varying=True)
    assert mol.item() > stationary.item()


def test_no_load_needs_no_staff() -> None:
    problem, work = _problem_and_work(0.0)
    assert square_root_plan(problem, work, 2.0, time_varying=True).item() == 0.0
