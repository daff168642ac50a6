"""The two engines behind one call (DESIGN section 3).

`simulate` is what commands, the planner and tests call. Each engine module exposes a function of
the same signature:

    simulate(model, *, replications, seed, progress=None, records=False) -> RunResult

`progress`, when given, is called as ``progress(done, total)`` with replications done (the event
engine) or time steps done (the flow engine); `records=True` asks the event engine to keep
per-person records (the flow engine refuses it).

The registry names each engine's module by an explicit import, made on first use so that a run on
one engine never loads the other's compiler (Numba or JAX).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.results.schema import RunResult

Progress = Callable[[int, int], None]


def progress_words(engine: str, done: int, total: int) -> str:
    """`progress(done, total)` of `engine` in words: replications on the event engine, hours
    simulated on the flow engine (whose callbacks are not replications)."""
    if engine == "flow":
        return f"hour {done:,} of {total:,} simulated"
    return f"replication {done} of {total}"


class EngineSimulate(Protocol):
    def __call__(
        self,
        model: CompiledModel,
        *,
        replications: int,
        seed: int,
        progress: Progress | None = None,
        records: bool = False,
    ) -> RunResult: ...


def _event_engine() -> EngineSimulate:
    from bordersim.engines.event.border import simulate as event_simulate

    return event_simulate


def _flow_engine() -> EngineSimulate:
    from bordersim.engines.flow import simulate as flow_simulate

    return flow_simulate


#: Engine name -> the loader of its `simulate` (see `EngineSimulate`).
#: Seeds are 63-bit non-negative integers (the engines' streams take a signed 64-bit value):
#: what every command and the Python API accept, so that any recorded run can be run again.
MAX_SEED = 2**63 - 1
#: More replications than any study needs (a run's arrays grow with them): the most that every
#: command simulating a scenario (run, validate, fit) and the Python API accept.
MAX_REPLICATIONS = 1_000_000

ENGINES: dict[str, Callable[[], EngineSimulate]] = {
    "event": _event_engine,
    "flow": _flow_engine,
}


def simulate(
    model: CompiledModel,
    *,
    engine: str = "event",
    replications: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
    records: bool = False,
) -> RunResult:
    """Run `replications` of `model` on `engine` ("event" or "flow") from `seed`."""
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if replications < 1:
        raise ModelError(f"replications must be at least 1, got {replications}")
    model.check()
    run = ENGINES[engine]()
    return run(model, replications=replications, seed=seed, progress=progress, records=records)
