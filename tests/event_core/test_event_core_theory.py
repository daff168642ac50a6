"""The core against queueing theory, with fixed seeds and batch-means intervals.

Same cases as `bordersim verify`, with fewer customers (the command runs 1e6 per case). All rows
are judged together at 95 % (Bonferroni); with a fixed seed the outcome is fixed, not flaky.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from bordersim.verify import cases as C
from bordersim.verify import formulas as F
from bordersim.verify.runner import judge_all, run_batches

FAST_CUSTOMERS = 200_000


def test_every_theory_case_agrees_at_moderate_length() -> None:
    values = []
    for case in C.default_cases():
        values.extend(run_batches(case, customers=FAST_CUSTOMERS, seed=11, batches=20))
    rows = judge_all(values, customers=FAST_CUSTOMERS)
    failed = [(r.case, r.measure, r.estimate, r.half_width) for r in rows if not r.passed]
    assert not failed
    assert not [(r.case, r.measure) for r in rows if r.too_rare]  # each row was judged
    # The intervals are informative: no row passes only because its interval is huge.
    for r in rows:
        scale = abs(r.analytic) if r.analytic else 1.0
        assert r.half_width < 0.25 * scale, (r.case, r.measure, r.half_width)


def test_a_wrong_theory_value_fails() -> None:
    case = C.mmc()
    wrong = C.Case(
        case.name,
        case.description,
        case.network,
        case.arrival_rate,
        (C.Measure("mean wait", 1.3 * case.measures[1].analytic, case.measures[1].read),),
    )
    batches = run_batches(wrong, customers=FAST_CUSTOMERS, seed=11, batches=20)
    rows = judge_all(batches, customers=FAST_CUSTOMERS)
    assert not rows[0].passed


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_theory_cases_agree_at_full_length(seed: int) -> None:
    values = []
    for case in C.default_cases():
        values.extend(run_batches(case, customers=1_000_000, seed=seed))
    assert all(r.passed and not r.too_rare for r in judge_all(values, customers=1_000_000))


#: The birth-death chain's measures as the chain summed them (p_wait, p_block, p_abandon,
#: mean_wait, mean_queue, mean_present), to the last digit: summing it faster changes none.
BIRTH_DEATH_VALUES = [
    (
        (9.0, 1.0, 10, None, 0.0),
        (0.6687315241076969, 0.0, 0.0, 0.6687315241076642, 6.018583716968978, 15.018583716968978),
    ),
    (
        (9.0, 1.0, 10, 15, 0.0),
        (
            0.4525580373169886,
            0.061258761825664025,
            0.0,
            0.12627663337653708,
            1.066869748515394,
            9.515540892084418,
        ),
    ),
    (
        (9.0, 1.0, 10, None, 0.5),
        (
            0.46894170444133676,
            0.0,
            0.06701171547344807,
            0.13402343094689614,
            1.2062108785220653,
            9.603105439261032,
        ),
    ),
    (
        (12.0, 1.0, 10, None, 0.01),
        (
            0.9999999993873302,
            0.0,
            0.16666666678537698,
            16.666666678537695,
            200.00000014245234,
            210.00000014102778,
        ),
    ),
    (
        (10.0, 1.0, 10, None, 1e-7),  # a chain of tens of thousands of states
        (
            0.9997080500688815,
            0.0,
            7.976304038952097e-05,
            797.6304038952096,
            7976.304038952097,
            7986.303241321692,
        ),
    ),
]


@pytest.mark.parametrize(("parameters", "expected"), BIRTH_DEATH_VALUES)
def test_the_birth_death_chain_gives_its_values_to_the_last_digit(
    parameters: tuple[float, float, int, int | None, float], expected: tuple[float, ...]
) -> None:
    arrival, service, servers, capacity, patience = parameters
    measures = F.birth_death(arrival, service, servers, capacity, patience)
    assert tuple(vars(measures).values()) == expected


def test_a_long_birth_death_chain_is_summed_in_linear_time() -> None:
    # about 10^5 states: a second summed once, minutes when the whole chain was summed each step
    code = (
        "from bordersim.verify import formulas as F; "
        "print(F.birth_death(10.0, 1.0, 10, patience_rate=1e-8).mean_wait)"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=60, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(2522.8783101896342)


def test_the_birth_death_chain_of_a_thousand_servers_does_not_overflow() -> None:
    # 900^n / n! passes the largest float: the chain gave NaN (with a capacity) or ran to its
    # ten million states and refused the case as "did not converge" (without)
    closed = F.mmc(900.0, 1.0, 1000)
    for chain in (F.birth_death(900.0, 1.0, 1000), F.birth_death(900.0, 1.0, 1000, capacity=1100)):
        assert chain.p_wait == pytest.approx(closed.p_wait, rel=1e-4)
        assert chain.mean_present == pytest.approx(closed.mean_present, rel=1e-8)
    # overloaded Erlang A: the arrivals beyond the servers' rate abandon, a sixth of them here
    overloaded = F.birth_death(1.2e5, 1.0, 100_000, patience_rate=1.0)
    assert overloaded.p_abandon == pytest.approx(1 / 6, rel=1e-9)
    assert overloaded.mean_queue == pytest.approx(20_000, rel=1e-9)


def test_formulas_agree_with_each_other() -> None:
    # Erlang C in closed form and from the birth-death chain.
    closed = F.mmc(9.0, 1.0, 10)
    chain = F.birth_death(9.0, 1.0, 10)
    assert closed.mean_wait == pytest.approx(chain.mean_wait, rel=1e-9)
    assert closed.p_wait == pytest.approx(chain.p_wait, rel=1e-9)
    # Pollaczek-Khinchine with exponential service is M/M/1.
    assert F.mg1_wait(0.7, 1.0, 2.0) == pytest.approx(F.mmc(0.7, 1.0, 1).mean_wait)
    # One priority class is plain M/G/1.
    assert F.priority_waits([0.7], [1.0], [2.0])[0] == pytest.approx(F.mg1_wait(0.7, 1.0, 2.0))
    # A huge capacity is no capacity; tiny patience changes little.
    assert F.birth_death(9.0, 1.0, 10, capacity=500).mean_wait == pytest.approx(closed.mean_wait)
    assert F.birth_death(9.0, 1.0, 10, patience_rate=1e-9).mean_wait == pytest.approx(
        closed.mean_wait, rel=1e-6
    )
    # M/M/1/1 (Erlang B with one server): blocking = rho / (1 + rho).
    assert F.birth_death(0.5, 1.0, 1, capacity=1).p_block == pytest.approx(0.5 / 1.5)
    # Tandem of M/M/1: sum of 1 / (mu - lambda).
    assert F.tandem_sojourn(1.0, [(2.0, 1), (3.0, 1)]) == pytest.approx(1.0 + 0.5)
    assert math.isclose(F.erlang_c(1, 0.5), 0.5)
