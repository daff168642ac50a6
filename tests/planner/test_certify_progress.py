"""A certifying run reports its progress on either engine: after each replication on the event
engine, with the hours simulated on the flow engine, counted over the forecast paths. On the flow
engine it reported nothing, so a plan certified there showed no progress and the workbench could
not stop it between ticks."""

from __future__ import annotations

import datetime as dt

import numpy as np

from bordersim.compiler import compile_scenario
from bordersim.planner.demand_paths import DemandPaths
from bordersim.planner.evaluate import run_on_engine
from bordersim.planner.run import _reporting
from bordersim.scenario import load_scenario
from repo_paths import SMALL


def test_the_flow_engine_ticks_with_hours_over_all_the_paths() -> None:
    model = compile_scenario(load_scenario(SMALL))
    shape = (3, *model.first_attempts_per_day.shape)
    paths = DemandPaths(np.ones(shape), dt.date(2023, 5, 1), 0, "constant")
    ticks: list[tuple[int, int]] = []
    result = run_on_engine(
        "flow", model, paths, 2, 1, lambda done, total: ticks.append((done, total))
    )
    assert result.daily.shape[0] == 2
    # 2 replications over 3 paths: two paths run, one replication each, each over the period
    # simulated (the reported days and the warm-up before them)
    (total,) = {total for _, total in ticks}
    hours = total // 2
    assert total == 2 * hours and hours >= 24 * len(result.dates)
    done = [d for d, _ in ticks]
    assert done == sorted(done) and done[-1] == total and hours in done


def test_a_certification_reports_each_tenth_in_the_engines_words() -> None:
    lines: list[str] = []
    ticks: list[tuple[int, int]] = []
    tick = _reporting(lines.append, lambda d, t: ticks.append((d, t)), "flow")
    for done in range(0, 8761, 730):
        tick(done, 8760)
    assert len(ticks) == 13
    assert lines[0] == "  certification: hour 1,460 of 8,760 simulated"
    assert lines[-1] == "  certification: hour 8,760 of 8,760 simulated"
    assert len(lines) == 10
    event: list[str] = []
    tick = _reporting(event.append, None, "event")
    for done in range(1, 41):
        tick(done, 40)
    assert event == [f"  certification: replication {4 * k} of 40" for k in range(1, 11)]
