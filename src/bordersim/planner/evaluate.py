"""Candidate plans on the engines, with common random numbers, and what the budget has spent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bordersim.model.compiled import CompiledModel
from bordersim.planner.demand_paths import DemandPaths, run_over_paths, split
from bordersim.planner.problem import Problem
from bordersim.planner.spec import Targets
from bordersim.planner.targets import Evaluation, evaluate
from bordersim.results.schema import RunResult

Progress = Callable[[str], None]


@dataclass
class Simulator:
    """Runs candidates of one problem on the flow engine, every candidate on the same
    replications (seed `seed`, replications 0..n-1), and counts what it ran."""

    problem: Problem
    replications: int
    seed: int
    targets: Targets
    replications_run: int = 0
    seconds: float = 0.0
    cache: dict[bytes, tuple[Evaluation, RunResult]] = field(default_factory=dict)

    def run(self, x: np.ndarray) -> tuple[Evaluation, RunResult]:
        key = np.ascontiguousarray(x, dtype=np.float64).tobytes()
        if key in self.cache:
            return self.cache[key]
        model = self.problem.model_for(x)
        result = run_over_paths(run_flow, model, self.problem.paths, self.replications, self.seed)
        self.replications_run += self.replications
        self.seconds += result.timings.get("run_s", 0.0) + result.timings.get("compile_s", 0.0)
        outcome = (evaluate(result, self.problem.weeks, self.targets), result)
        self.cache[key] = outcome
        return outcome

    def evaluation(self, x: np.ndarray) -> Evaluation:
        return self.run(x)[0]


def run_flow(
    model: CompiledModel,
    replications: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    from bordersim.engines.flow import simulate_batch

    return simulate_batch([model], replications=replications, seed=seed, progress=progress)[0]


def run_event(
    model: CompiledModel,
    replications: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    from bordersim.engines.event.border import simulate

    return simulate(model, replications=replications, seed=seed, progress=progress)


def run_on_engine(
    engine: str,
    model: CompiledModel,
    paths: DemandPaths | None,
    replications: int,
    seed: int,
    tick: Callable[[int, int], None] | None = None,
) -> RunResult:
    """`replications` of `model` on `engine` ("event" or "flow"), spread over the forecast
    `paths` (if any). `tick(done, total)` as the engine goes, counted over all the paths: after
    each replication on the event engine, with the hours simulated on the flow engine (which
    runs a path's replications together; `bordersim.engines.progress_words` says either)."""
    path_runs = 1 if paths is None else sum(n > 0 for n in split(replications, paths.n_paths))
    finished = 0  # replications (event) or path runs (flow) done before the current one

    def run(path_model: CompiledModel, count: int, path_seed: int) -> RunResult:
        nonlocal finished
        offset = finished

        def each_replication(done: int, _total: int) -> None:
            if tick is not None:
                tick(offset + done, replications)

        def each_hours(done: int, hours: int) -> None:
            if tick is not None:
                tick(offset * hours + done, path_runs * hours)

        if engine == "event":
            result = run_event(path_model, count, path_seed, each_replication)
            finished += count
        else:
            result = run_flow(path_model, count, path_seed, each_hours)
            finished += 1
        return result

    return run_over_paths(run, model, paths, replications, seed)
