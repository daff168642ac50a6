"""A general queueing-network simulator compiled with Numba: the core of the event engine.

Describe a network with the dataclasses of `network` and `distributions`, then run it with
`Simulator` (step by step, with decisions between steps) or `simulate` (in one go). See
`docs/event-core.md`.
"""

from bordersim.engines.event.core.compiled import CompiledNetwork, compile_network
from bordersim.engines.event.core.distributions import (
    BatchSize,
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
)
from bordersim.engines.event.core.network import (
    Arrivals,
    CustomerClass,
    Network,
    Pool,
    Station,
)
from bordersim.engines.event.core.results import OUTCOMES, Records, Summary
from bordersim.engines.event.core.simulator import Simulator, simulate

__all__ = [
    "OUTCOMES",
    "Arrivals",
    "BatchSize",
    "CompiledNetwork",
    "CustomerClass",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Network",
    "Pool",
    "Records",
    "Simulator",
    "Station",
    "Summary",
    "compile_network",
    "simulate",
]
