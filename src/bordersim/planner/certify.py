"""Stage 4: certification on fresh, independent replications.

The final plan is run on replications that no earlier stage saw (another seed; by default on the
event engine, which follows every person, not the flow engine that guided the search). For each
sector-week constraint, the number of replications where it holds is binomial; Clopper-Pearson
gives a one-sided lower confidence bound on its probability, and the constraint is *certified* when
that bound is at least 1 - alpha. The claim is per constraint, each at the stated confidence (a
claim for all of them at once would need a Bonferroni or similar correction; docs/planner.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import beta

from bordersim.planner.targets import Evaluation


def minimum_replications(alpha: float, confidence: float) -> int:
    """The fewest replications that can certify a probability of 1 - alpha at `confidence` (all
    of them holding): (1 - alpha)^n <= 1 - confidence."""
    import math

    return math.ceil(math.log(1.0 - confidence) / math.log(1.0 - alpha))


def clopper_pearson_lower(successes: np.ndarray, n: int, confidence: float) -> np.ndarray:
    """One-sided lower bound on a binomial probability at `confidence`."""
    k = np.asarray(successes, dtype=float)
    low = beta.ppf(1.0 - confidence, k, n - k + 1.0)
    return np.where(k <= 0, 0.0, low)


def clopper_pearson_interval(
    successes: np.ndarray, n: int, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided interval at `confidence`."""
    k = np.asarray(successes, dtype=float)
    tail = (1.0 - confidence) / 2.0
    low = np.where(k <= 0, 0.0, beta.ppf(tail, k, n - k + 1.0))
    high = np.where(k >= n, 1.0, beta.ppf(1.0 - tail, k + 1.0, n - k))
    return low, high


@dataclass
class Certificate:
    successes: np.ndarray  # [N, S, W]
    n: int
    lower: np.ndarray  # one-sided lower bound
    interval_low: np.ndarray
    interval_high: np.ndarray
    certified: np.ndarray  # [N, S, W] bool (True where not required)
    required: np.ndarray
    engine: str
    seed: int
    replications: tuple[int, int]  # first and last replication index

    @property
    def all_certified(self) -> bool:
        return bool(self.certified.all())

    def __repr__(self) -> str:
        """One line, as a `PlanResult`'s: the dataclass's own repr printed every array (about
        2,000 characters for a small plan) in a notebook."""
        from bordersim.words import counted

        targets, sectors, weeks = self.successes.shape
        required = int(self.required.sum())
        if required:
            met = int((self.required & self.certified).sum())
            weakest = float(self.lower[self.required].min())
            claims = (
                f"{met} of {counted(required, 'required sector-week')} certified, weakest "
                f"lower bound {weakest:.3f}"
            )
        else:
            claims = "no sector-week is required"
        first, last = self.replications
        return (
            f"{type(self).__name__}({'certified' if self.all_certified else 'not certified'}: "
            f"{claims}; {counted(targets, 'target')}, {counted(sectors, 'sector')}, "
            f"{counted(weeks, 'week')}; {counted(self.n, 'replication')} ({first} to {last}) "
            f"on the {self.engine} engine, seed {self.seed})"
        )


def certify(
    ev: Evaluation,
    required: np.ndarray,
    *,
    alpha: float,
    confidence: float,
    engine: str,
    seed: int,
) -> Certificate:
    n = ev.n_replications
    successes = ev.successes()
    lower = clopper_pearson_lower(successes, n, confidence)
    low, high = clopper_pearson_interval(successes, n, confidence)
    certified = ~required | (lower >= 1.0 - alpha)
    return Certificate(
        successes, n, lower, low, high, certified, required, engine, seed, (0, n - 1)
    )
