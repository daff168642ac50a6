"""The flow engine agrees with the event engine (issue 5, item 3).

Both engines run the rules of docs/model.md from the same compiled model; the event engine in
continuous time with individual people, the flow engine in hourly steps with counts. For each
compared quantity we take its per-replication value (summed over the reported days and the
sectors), and require

    |mean_flow - mean_event| <= tolerance * |mean_event| + 3 * standard error of the difference,

the standard error from the two engines' independent replications. The tolerances are what the
hourly step can move (docs/flow-engine.md, "Agreement"):

- encounters 3 %: arrivals and detection are the same rules; the field queue serves continuous
  agent-hours at hour starts instead of whole agents through the hour;
- got-aways 10 %: patience runs out in hourly steps (a group that arrives when no agent is free
  waits to the next hour's start, an expected half hour, before it can be served);
- occupancy 6 % and staff-hours 6 % (determination 8 %, see below): each of up to three stages
  (intake, determination, departure) completes in hourly steps, which shifts time in custody by
  up to half an hour per stage on stays of a day or two; custody watch follows occupancy;
- share of exits over 72 hours: 0.02 absolute (whole-hour ages at the boundary);
- capability gap per task (docs/model.md step 2: work needed minus supplied, weekly, positive
  part): within 5 % of the task's work needed. The gap is a small difference of two large sums,
  so it is held to the scale of the work, not to its own size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bordersim.engines import simulate
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import Task
from bordersim.model.examples import tiny_model
from bordersim.results.capability import capability_gap
from bordersim.results.schema import RunResult

ROOT = Path(__file__).resolve().parents[2]

RELATIVE = {
    "encounters": 0.03,
    "gotaways": 0.10,
    "occupancy_mean": 0.06,
    "staff_hours:agent:field": 0.06,
    "staff_hours:agent:custody_watch": 0.06,
    "staff_hours:agent:intake": 0.06,
    # Determination is staffed for the hour's expected arrivals as well as the work waiting; in the
    # Title 42 scenarios of 2020 (0.1 agent-hour a person) the staff-hours exceed the work by a
    # third, and the two engines' excess differs by 6-7 % of the staff-hours, while the work
    # needed agrees within 0.5 % (pre-existing; measured on 2020-covid-support).
    "staff_hours:agent:determination": 0.08,
}
SHARE_OVER_72H = 0.02
GAP_OF_NEED = 0.05


def per_replication(run: RunResult, metric: str) -> np.ndarray:
    return run.metric(metric).sum(axis=(1, 2))


def share_over_72h(run: RunResult, uac: bool = False) -> np.ndarray:
    over = per_replication(run, "uac_exits_over_72h" if uac else "custody_exits_over_72h")
    exits = per_replication(run, "uac_exits" if uac else "custody_exits")
    return over / np.maximum(exits, 1e-9)


def disagreements(event: RunResult, flow: RunResult) -> list[str]:
    found = []

    def compare(name: str, e: np.ndarray, f: np.ndarray, allowed: float) -> None:
        se = np.sqrt(e.var(ddof=1) / len(e) + f.var(ddof=1) / len(f))
        gap = abs(f.mean() - e.mean())
        if gap > allowed + 3 * se:
            found.append(
                f"{name}: event {e.mean():.4g}, flow {f.mean():.4g}, gap {gap:.4g} > "
                f"{allowed:.4g} + 3 x {se:.3g}"
            )

    for metric, tolerance in RELATIVE.items():
        e, f = per_replication(event, metric), per_replication(flow, metric)
        compare(metric, e, f, tolerance * abs(e.mean()))
    compare("share over 72 h", share_over_72h(event), share_over_72h(flow), SHARE_OVER_72H)
    return found


def gap_disagreements(event: RunResult, flow: RunResult) -> list[str]:
    """Tasks whose capability gaps (staff-hours per replication) differ by more than
    `GAP_OF_NEED` of the task's work needed, plus three standard errors."""
    found = []
    e_gap, f_gap = capability_gap(event), capability_gap(flow)
    for task in Task:
        e = e_gap.gap[..., task].sum(axis=(1, 2))
        f = f_gap.gap[..., task].sum(axis=(1, 2))
        need = e_gap.needed[..., task].sum(axis=(1, 2)).mean()
        se = np.sqrt(e.var(ddof=1) / len(e) + f.var(ddof=1) / len(f))
        if abs(f.mean() - e.mean()) > GAP_OF_NEED * need + 3 * se:
            found.append(
                f"capability gap {task.name.lower()}: event {e.mean():.4g}, flow {f.mean():.4g} "
                f"staff-hours (needed {need:.4g})"
            )
    return found


def run_both(model: CompiledModel, replications: int) -> tuple[RunResult, RunResult]:
    event = simulate(model, engine="event", replications=replications, seed=11)
    flow = simulate(model, engine="flow", replications=replications, seed=11)
    return event, flow


def scenario_model(relative: str) -> CompiledModel:
    from bordersim.compiler import compile_scenario
    from bordersim.scenario import load_scenario

    return compile_scenario(load_scenario(ROOT / relative))


def test_tiny_model_agrees() -> None:
    event, flow = run_both(tiny_model(agents=600.0), replications=20)
    assert disagreements(event, flow) == []
    assert gap_disagreements(event, flow) == []


# 1 hour, two thirds of the release pathway's 1.5; at a third of it (0.5) the share over 72 hours
# differs by 0.04 (docs/flow-engine.md, "Paperwork far apart within a class").
@pytest.mark.parametrize("paperwork", [None, 1.0], ids=["release pathway's", "its own"])
def test_tiny_model_with_scarce_stations_and_a_release_policy_agrees(
    paperwork: float | None,
) -> None:
    """Processing stations that bind, crowding that slows them and a release policy that opens
    on the day's crowding (docs/model.md, "Processing stations", step 6), its releases with the
    release pathway's paperwork or with paperwork of their own (the flow engine's policy kinds)."""
    model = tiny_model(agents=600.0)
    shape = model.custody_capacity.shape
    limited = model.replace(
        processing_stations=np.full(shape, 14.0),
        crowding_slowdown=0.25,
        release_trigger_occupancy=np.full(shape, 1.0),
        release_trigger_stay_hours=np.full(shape, 48.0),
        release_intake_hours=model.release_intake_hours if paperwork is None else paperwork,
    )
    event, flow = run_both(limited, replications=20)
    assert per_replication(event, "valve_open_hours").mean() > 0
    assert disagreements(event, flow) == []


def test_small_scenario_agrees() -> None:
    event, flow = run_both(scenario_model("scenarios/examples/small.toml"), replications=10)
    assert disagreements(event, flow) == []
    assert gap_disagreements(event, flow) == []


def test_tiny_model_children_transfers_agree() -> None:
    """Children leave for HHS at the same pace: transport is shared among the departure lines in
    proportion to their work (docs/model.md step 8), so a long ICE line cannot starve them."""
    event, flow = run_both(tiny_model(agents=600.0), replications=20)
    e, f = per_replication(event, "uac_exits"), per_replication(flow, "uac_exits")
    se = np.sqrt(e.var(ddof=1) / len(e) + f.var(ddof=1) / len(f))
    assert abs(f.mean() - e.mean()) <= 0.03 * e.mean() + 3 * se


def per_sector(run: RunResult, metric: str) -> np.ndarray:
    """[replications, sectors] summed over the reported days."""
    return run.metric(metric).sum(axis=1)


def test_tiny_model_with_decompression_agrees() -> None:
    """Lateral decompression (docs/model.md step 6) on a stressed pair of sectors: Rio Grande
    Valley held to 150 places sends up to 150 people a day to Tucson (1,500 places). The moves,
    each sector's custody and its time in custody agree, as well as the usual quantities."""
    model = tiny_model(agents=600.0)
    days = model.n_days
    model = model.replace(
        custody_capacity=np.tile([1500.0, 150.0], (days, 1)),
        decompression_active=np.ones(days),
        decompression_send_fraction=1.0,
        decompression_receive_fraction=0.8,
        decompression_seats_per_hour=150.0 / 24,
    )
    event, flow = run_both(model, replications=20)
    assert disagreements(event, flow) == []
    found = []
    for metric, tolerance in (("moved_out", 0.03), ("moved_in", 0.03), ("occupancy_mean", 0.06)):
        e, f = per_sector(event, metric), per_sector(flow, metric)
        for s in range(model.n_sectors):
            se = np.sqrt(e[:, s].var(ddof=1) / len(e) + f[:, s].var(ddof=1) / len(f))
            if abs(f[:, s].mean() - e[:, s].mean()) > tolerance * e[:, s].mean() + 3 * se:
                found.append(f"{metric} sector {s}: event {e[:, s].mean()}, flow {f[:, s].mean()}")
    # Mean time in custody of each sector's exits (hours).
    e_stay = per_sector(event, "custody_hours_total") / per_sector(event, "custody_exits")
    f_stay = per_sector(flow, "custody_hours_total") / per_sector(flow, "custody_exits")
    for s in range(model.n_sectors):
        if abs(f_stay[:, s].mean() - e_stay[:, s].mean()) > 0.06 * e_stay[:, s].mean():
            found.append(f"time in custody sector {s}: event {e_stay[:, s]}, flow {f_stay[:, s]}")
    assert found == []
    assert per_sector(event, "moved_out")[:, 1].mean() > 1000


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario",
    [
        "scenarios/2023-title42-end.toml",
        "scenarios/2023-title42-end-no-troops.toml",
        "scenarios/2020-covid-support.toml",
        "scenarios/2020-covid-no-extra-troops.toml",
        "scenarios/2019-family-surge.toml",
        "scenarios/2021-uac-surge.toml",
        "scenarios/2022-title42-record-year.toml",
    ],
)
def test_shipped_scenarios_agree(scenario: str) -> None:
    event, flow = run_both(scenario_model(scenario), replications=4)
    assert disagreements(event, flow) + gap_disagreements(event, flow) == []
