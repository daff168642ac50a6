"""The flow engine: the border model as hourly stochastic counts in JAX (DESIGN section 3).

Counts of people move between states hour by hour (`step`), custody is held as cumulative curves
by apprehension hour so that first-come-first-served time in custody is exact (`queues`,
`custody_times`), and the whole horizon is one `lax.scan`, vectorised over replications and over
scenario variants with `vmap` (`runner`). It runs on CPU and, unchanged, on a GPU. See
docs/flow-engine.md for what it approximates.
"""

from __future__ import annotations

from collections.abc import Callable

from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.results.schema import RunResult

Progress = Callable[[int, int], None]


def simulate(
    model: CompiledModel,
    *,
    replications: int,
    seed: int,
    progress: Progress | None = None,
    records: bool = False,
) -> RunResult:
    """Run `replications` of `model` from `seed`; `progress(hours_done, hours)` per chunk."""
    if records:
        raise ModelError(
            "the flow engine keeps counts, not people: per-person records need --engine event"
        )
    return simulate_batch([model], replications=replications, seed=seed, progress=progress)[0]


def simulate_batch(
    models: list[CompiledModel],
    *,
    replications: int,
    seed: int,
    progress: Progress | None = None,
    first_replication: int = 0,
) -> list[RunResult]:
    """Run scenario variants of one layout as one batch; replication r of every variant shares
    its random numbers (common random numbers). Replications are numbered from
    `first_replication` (a seed block of a distributed sweep)."""
    from bordersim.engines.flow.runner import run_batch

    return run_batch(
        models,
        replications=replications,
        seed=seed,
        progress=progress,
        first_replication=first_replication,
    )


__all__ = ["simulate", "simulate_batch"]
