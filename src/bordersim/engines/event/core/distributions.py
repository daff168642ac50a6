"""Time distributions a network may use for service and patience, and batch sizes for arrivals.

Each distribution is a small frozen dataclass a user writes by hand, with its `mean` and
`second_moment` (used by the verification formulas). Compilation turns them into rows of a numeric
table that the compiled kernel samples from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bordersim.errors import ModelError

# Codes of the compiled distribution table; the kernel dispatches on them.
EXPONENTIAL = 0
DETERMINISTIC = 1
LOGNORMAL = 2
GAMMA = 3
EMPIRICAL = 4


def _positive(value: float, what: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ModelError(f"{what} must be a positive finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Exponential:
    """Exponential times with `rate` events per time unit (mean 1/rate)."""

    rate: float

    def __post_init__(self) -> None:
        _positive(self.rate, "Exponential.rate")

    @property
    def mean(self) -> float:
        return 1.0 / self.rate

    @property
    def second_moment(self) -> float:
        return 2.0 / self.rate**2


@dataclass(frozen=True)
class Deterministic:
    """Always exactly `value` time units."""

    value: float

    def __post_init__(self) -> None:
        _positive(self.value, "Deterministic.value")

    @property
    def mean(self) -> float:
        return self.value

    @property
    def second_moment(self) -> float:
        return self.value**2


@dataclass(frozen=True)
class Lognormal:
    """Lognormal times given by their `mean` and coefficient of variation `cv` (sd / mean)."""

    mean: float
    cv: float

    def __post_init__(self) -> None:
        _positive(self.mean, "Lognormal.mean")
        _positive(self.cv, "Lognormal.cv")

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def mu(self) -> float:
        return math.log(self.mean) - 0.5 * self.sigma**2

    @property
    def second_moment(self) -> float:
        return self.mean**2 * (1.0 + self.cv**2)


@dataclass(frozen=True)
class Gamma:
    """Gamma times given by their `mean` and coefficient of variation `cv` (shape = 1/cv**2)."""

    mean: float
    cv: float

    def __post_init__(self) -> None:
        _positive(self.mean, "Gamma.mean")
        _positive(self.cv, "Gamma.cv")

    @property
    def shape(self) -> float:
        return 1.0 / self.cv**2

    @property
    def scale(self) -> float:
        return self.mean / self.shape

    @property
    def second_moment(self) -> float:
        return self.mean**2 * (1.0 + self.cv**2)


@dataclass(frozen=True)
class Empirical:
    """Times drawn uniformly from observed `values` (resampling), all non-negative."""

    values: tuple[float, ...]

    def __init__(self, values: Sequence[float]) -> None:
        vals = tuple(float(v) for v in values)
        if not vals:
            raise ModelError("Empirical.values must hold at least one value")
        if any(not math.isfinite(v) or v < 0 for v in vals):
            raise ModelError(f"Empirical.values must be finite and non-negative, got {vals[:5]}...")
        object.__setattr__(self, "values", vals)

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def second_moment(self) -> float:
        return sum(v * v for v in self.values) / len(self.values)


Distribution = Exponential | Deterministic | Lognormal | Gamma | Empirical


@dataclass(frozen=True)
class BatchSize:
    """How many customers arrive together: `sizes[i]` with probability `probabilities[i]`."""

    sizes: tuple[int, ...]
    probabilities: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.sizes or any(int(s) != s or s < 1 for s in self.sizes):
            raise ModelError(f"BatchSize.sizes must be whole numbers >= 1, got {self.sizes}")
        probs = self.probabilities or tuple(1.0 / len(self.sizes) for _ in self.sizes)
        if len(probs) != len(self.sizes):
            raise ModelError(
                f"BatchSize has {len(self.sizes)} sizes but {len(probs)} probabilities"
            )
        if any(p < 0 for p in probs) or abs(sum(probs) - 1.0) > 1e-9:
            raise ModelError(f"BatchSize.probabilities must be >= 0 and sum to 1, got {probs}")
        object.__setattr__(self, "probabilities", tuple(float(p) for p in probs))

    @property
    def mean(self) -> float:
        return sum(s * p for s, p in zip(self.sizes, self.probabilities, strict=True))


def distribution_row(dist: Distribution) -> tuple[int, float, float, tuple[float, ...]]:
    """(code, parameter 1, parameter 2, empirical values) as the compiled table stores them."""
    if isinstance(dist, Exponential):
        return EXPONENTIAL, dist.mean, 0.0, ()
    if isinstance(dist, Deterministic):
        return DETERMINISTIC, dist.value, 0.0, ()
    if isinstance(dist, Lognormal):
        return LOGNORMAL, dist.mu, dist.sigma, ()
    if isinstance(dist, Gamma):
        return GAMMA, dist.shape, dist.scale, ()
    if isinstance(dist, Empirical):
        return EMPIRICAL, 0.0, 0.0, dist.values
    raise ModelError(
        f"unknown distribution {dist!r}; use Exponential, Deterministic, "
        "Lognormal, Gamma or Empirical"
    )
