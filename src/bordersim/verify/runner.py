"""Running a theory case with batch means and judging it against the theory.

One long run per case: a warm-up (5 % of the run) is discarded, the rest is cut into equal
batches in time, and each measure is computed per batch. The batch values are close to
independent and normal when batches are long against the queue's relaxation time (here
thousands of customers per batch), so the mean of the batch values has a Student-t confidence
interval. Little's law is checked on each case as the paired difference L - lambda W per batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from bordersim.engines.event.core import Simulator, Summary
from bordersim.errors import ModelError
from bordersim.verify.cases import Case

WARMUP_FRACTION = 0.05
DEFAULT_BATCHES = 40
LITTLE = "Little L = lambda W"


@dataclass(frozen=True)
class BatchValues:
    """A measure's values per batch, plus the theory (or for Little's law, lambda W per batch)."""

    case: str
    measure: str
    analytic: float
    values: np.ndarray
    reference: np.ndarray | None = None  # per-batch reference for paired measures
    #: the chance per customer of the event the measure is made of (`cases.Measure.chance`)
    chance: float | None = None


@dataclass(frozen=True)
class Row:
    case: str
    measure: str
    analytic: float
    estimate: float
    half_width: float
    confidence: float
    passed: bool
    #: the measure was 0 in every batch, and the theory expects its event (a wait, a block, an
    #: abandonment) less than once among the customers of the run:
    #: an interval of 0 ± 0 can neither confirm nor refute the theory (counted as no failure)
    too_rare: bool = False


def run_batches(
    case: Case, *, customers: int, seed: int, batches: int = DEFAULT_BATCHES
) -> list[BatchValues]:
    """Simulate `case` for about `customers` arrivals after warm-up, and measure per batch."""
    if customers < 100 * batches:
        raise ModelError(
            f"--customers {customers}: must be at least {100 * batches:,} for --batches {batches}"
        )
    sim = Simulator(case.network, seed)
    length = customers / case.arrival_rate
    warmup = WARMUP_FRACTION * length
    batch = length / batches
    sim.run_until(warmup)
    summaries: list[Summary] = []
    for b in range(batches):
        sim.reset_statistics()
        sim.run_until(warmup + (b + 1) * batch)
        summaries.append(sim.summary())
    out = [
        BatchValues(
            case.name,
            m.name,
            m.analytic,
            np.array([m.read(s) for s in summaries]),
            chance=m.chance,
        )
        for m in case.measures
    ]
    out.append(
        BatchValues(
            case.name,
            LITTLE,
            math.nan,
            np.array([s.mean_number_in_network() for s in summaries]),
            reference=np.array([s.visit_time_rate() for s in summaries]),
        )
    )
    return out


def judge(values: BatchValues, confidence: float, customers: int) -> Row:
    """Mean and t confidence interval of the batch values; pass if the theory lies inside.

    For Little's law the interval is that of the paired difference L - lambda W, and the row
    passes when it contains 0; `analytic` then shows the mean of lambda W. A measure that is 0
    in every batch while the chance per customer of its event is under one in `customers` is
    too rare to judge: a chance, not the analytic value, which for a wait is in units of time
    and would call the same queue rare or not by the unit its rates are given in.
    """
    x = values.values
    if values.reference is not None:
        diff = x - values.reference
        analytic = float(values.reference.mean())
        target_gap = 0.0
    else:
        diff = x
        analytic = values.analytic
        target_gap = analytic
    n = len(diff)
    if n < 2 or not np.all(np.isfinite(diff)):
        return Row(
            values.case, values.measure, analytic, float(x.mean()), math.nan, confidence, False
        )
    t = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))
    half = t * float(diff.std(ddof=1)) / math.sqrt(n)
    passed = abs(float(diff.mean()) - target_gap) <= half
    # never seen in the run (0 in every batch) where theory expects it less than once
    never_seen = values.reference is None and not np.any(x)
    rare = values.chance is not None and values.chance * customers < 1.0
    too_rare = not passed and never_seen and rare
    return Row(
        values.case,
        values.measure,
        analytic,
        float(x.mean()),
        half,
        confidence,
        passed or too_rare,
        too_rare,
    )


def judge_all(
    batch_values: list[BatchValues], *, customers: int, family_confidence: float = 0.95
) -> list[Row]:
    """Judge every row with Bonferroni-adjusted intervals: all hold together with 95 %.
    `customers` is the number simulated per case, by which a measure is too rare to judge."""
    per_row = 1.0 - (1.0 - family_confidence) / max(len(batch_values), 1)
    return [judge(v, per_row, customers) for v in batch_values]
