"""The run dashboard's top gaps list only gaps that show: float noise in a sector-week's
needed-minus-supplied staff-hours is no gap."""

from __future__ import annotations

from bordersim.model.dimensions import Pool, Task
from bordersim.results.schema import METRIC_INDEX, RunResult
from bordersim.web.dashboards import run_dashboard
from constructed_runs import constructed_run


def _met_except(run: RunResult, short: dict[tuple[int, str, Task], float]) -> RunResult:
    """`run` with every task's need supplied by agents, less `short[(day, sector, task)]`
    staff-hours on those days."""
    sectors = [s.name for s in run.sectors]
    for task in Task:
        needed = run.daily[..., METRIC_INDEX[f"staff_hours_needed:{task.name.lower()}"]]
        for pool in Pool:
            supplied = METRIC_INDEX[f"staff_hours:{pool.name.lower()}:{task.name.lower()}"]
            run.daily[..., supplied] = needed if pool == Pool.AGENT else 0.0
    for (day, sector, task), hours in short.items():
        column = METRIC_INDEX[f"staff_hours:agent:{task.name.lower()}"]
        run.daily[:, day, sectors.index(sector), column] -= hours
    return run


def test_top_gaps_leave_out_what_would_show_as_zero() -> None:
    """A gap of 8e-5 staff-hours was listed as 'custody watch RGV 2023-05-01 0 0.0'."""
    run = _met_except(
        constructed_run(2, 14),
        {(0, "RGV", Task.CUSTODY_WATCH): 8e-5, (8, "TCA", Task.INTAKE): 40.0},
    )
    view = run_dashboard(run, sector="all", month="all")
    assert view.top_gaps == [["intake", "TCA", "2023-05-08", "40", "0.7"]]
