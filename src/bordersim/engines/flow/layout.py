"""The flow engine's view of compiled models: static layout plus stacked parameter arrays.

`FlowLayout` holds what fixes the shape and the order of the computation (days, sectors, crews
and their pools, the task fill order, the custody kinds); it is hashable, so one compiled program
serves every batch with the same layout. `stack_parameters` turns one or several compiled models
of the same layout (scenario variants) into float32 arrays with a leading variant axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bordersim.errors import ModelError
from bordersim.model.compiled import CompiledModel
from bordersim.model.dimensions import (
    GROUP_DEMOGRAPHIC,
    N_DEMOGRAPHICS,
    N_GROUPS,
    N_PATHWAYS,
    Demographic,
    Pathway,
    Pool,
)
from bordersim.model.fields import specs
from bordersim.model.health_rules import infectious_hours, staff_absence_hours
from bordersim.model.routes import ROUTE_LINE


@dataclass(frozen=True)
class FlowLayout:
    n_days: int
    warmup_days: int
    n_sectors: int
    crew_pool: tuple[int, ...]
    task_fill_order: tuple[int, ...]
    kind_demographic: tuple[int, ...]  # custody kinds: demographic x pathway that can occur
    kind_pathway: tuple[int, ...]
    # 1 for the release kinds of people released while their sector's release was open: they
    # take the policy's paperwork (`release_intake_hours`) and otherwise leave as releases.
    kind_policy: tuple[int, ...]
    absence_hours: int  # length of the staff-absence ring buffer
    kind_class: tuple[int, ...]  # priority class of each custody kind
    health: bool  # some variant has the health module on
    recent_hours: int  # ring of recent apprehension curves, for the minimum time in custody

    @property
    def n_hours(self) -> int:
        return 24 * self.n_days

    @property
    def n_crews(self) -> int:
        return len(self.crew_pool)

    @property
    def n_kinds(self) -> int:
        return len(self.kind_pathway)

    def kinds_in_lines(self) -> np.ndarray:
        """Kinds whose departure needs transport work: those whose route has a line
        (model/routes.py); releases leave at determination ("leaves at once"), as in the event
        engine."""
        return ROUTE_LINE[np.array(self.kind_pathway), np.array(self.kind_demographic)] >= 0


def _demographic_priority(model: CompiledModel) -> np.ndarray:
    """Priority class per demographic; the flow engine needs it constant within a demographic."""
    classes = np.zeros(N_DEMOGRAPHICS, dtype=np.int64)
    for d in range(N_DEMOGRAPHICS):
        values = np.unique(model.priority_class[d == GROUP_DEMOGRAPHIC])
        if len(values) != 1:
            raise ModelError(
                f"priority_class differs within demographic {Demographic(d).name.lower()} "
                f"({values.tolist()}); the flow engine needs one class per demographic"
            )
        classes[d] = values[0]
    return classes


def layout_difference(first: CompiledModel, other: CompiledModel) -> str | None:
    """The first field of the batch layout in which `other` differs from `first` (the
    number of days, the warm-up, the sectors, the crews, ...), or None: models of one flow
    batch must share it."""
    for name in ("n_days", "warmup_days", "sectors", "crew_names"):
        if getattr(other, name) != getattr(first, name):
            return name
    for name in ("crew_pool", "task_fill_order", "priority_class"):
        if not np.array_equal(getattr(other, name), getattr(first, name)):
            return name
    return None


#: Expected first attempts per sector over a run above which the flow engine refuses it: its
#: float32 cumulative counts are exact below 2^24 people per sector and kind, and re-attempts
#: add to the first attempts, so half of that range is kept for them (docs/flow-engine.md).
MAX_FIRST_ATTEMPTS_PER_SECTOR = 2**23


def check_counts_fit(model: CompiledModel) -> None:
    """A `ModelError` when a sector's expected first attempts over the run could take the
    flow engine's float32 counts past the range in which they are exact."""
    per_sector = model.first_attempts_per_day.sum(axis=(0, 2))
    worst = int(np.argmax(per_sector))
    if per_sector[worst] > MAX_FIRST_ATTEMPTS_PER_SECTOR:
        raise ModelError(
            f"sector {model.sectors[worst].name}: about {per_sector[worst]:,.0f} first attempts "
            f"over the run; the flow engine counts in float32, exact below 2^24 (16.8 million) "
            f"people per sector, and re-attempts add to them: lower the demand, shorten the "
            f"period, or use the event engine"
        )


def layout_of(models: list[CompiledModel]) -> FlowLayout:
    """The common layout of `models`, or a `ModelError` naming the first difference (or a
    model whose counts the flow engine cannot hold exactly, `check_counts_fit`)."""
    if not models:
        raise ModelError("no model to simulate")
    for model in models:
        check_counts_fit(model)
    first = models[0]
    for i, model in enumerate(models[1:], start=1):
        differs = layout_difference(first, model)
        if differs is not None:
            raise ModelError(
                f"variant {i} differs from variant 0 in {differs}; a flow batch needs one layout"
            )
    possible = np.zeros((N_DEMOGRAPHICS, N_PATHWAYS), dtype=bool)
    for model in models:
        used = model.pathway_share.max(axis=0) > 0  # [G, P]
        for g in range(N_GROUPS):
            possible[GROUP_DEMOGRAPHIC[g]] |= used[g]
        if _release_may_open(model):
            possible[:, Pathway.RELEASE] |= possible[:, Pathway.EXPEDITED_REMOVAL]
    kinds = np.argwhere(possible)
    policy_demographics = _policy_release_demographics(models, possible)
    policy_kinds = np.array([[d, int(Pathway.RELEASE)] for d in policy_demographics], dtype=int)
    kind_policy = [0] * len(kinds) + [1] * len(policy_kinds)
    kinds = np.concatenate([kinds, policy_kinds.reshape(-1, 2)])
    classes = _demographic_priority(first)
    absence_days = max(m.staff_absence_days for m in models)
    return FlowLayout(
        n_days=first.n_days,
        warmup_days=first.warmup_days,
        n_sectors=first.n_sectors,
        crew_pool=tuple(int(p) for p in first.crew_pool),
        task_fill_order=tuple(int(t) for t in first.task_fill_order),
        kind_demographic=tuple(int(d) for d in kinds[:, 0]),
        kind_pathway=tuple(int(p) for p in kinds[:, 1]),
        kind_policy=tuple(kind_policy),
        absence_hours=int(np.ceil(24 * absence_days)) + 1,
        kind_class=tuple(int(classes[d]) for d in kinds[:, 0]),
        health=any(m.health_enabled for m in models),
        recent_hours=int(max(np.ceil(m.min_custody_hours).max() for m in models)) + 1,
    )


def _release_may_open(model: CompiledModel) -> bool:
    """Whether a release policy or the valve can open on some day of the model."""
    return bool(model.release_valve_enabled and model.release_share.max() > 0)


def _policy_release_demographics(models: list[CompiledModel], possible: np.ndarray) -> list[int]:
    """Demographics that need release kinds of their own for the policy's paperwork: those that
    can be released while a release is open, where some variant's policy paperwork differs from
    its release pathway's (otherwise the ordinary release kinds serve, as before)."""
    differs = any(
        _release_may_open(m) and m.release_intake_hours != m.intake_hours[Pathway.RELEASE]
        for m in models
    )
    if not differs:
        return []
    return [int(d) for d in np.flatnonzero(possible[:, Pathway.RELEASE])]


def _kind_intake_hours(model: CompiledModel, layout: FlowLayout) -> np.ndarray:
    """[K] intake hours per kind: the pathway's, or the policy's paperwork for policy kinds."""
    hours = model.intake_hours[np.array(layout.kind_pathway, dtype=np.int64)].astype(float)
    return np.where(np.array(layout.kind_policy) == 1, model.release_intake_hours, hours)


def _parameters(model: CompiledModel, layout: FlowLayout) -> dict[str, np.ndarray]:
    """One model's arrays, in the shapes the hourly step reads."""
    kd = np.array(layout.kind_demographic, dtype=np.int64)
    kp = np.array(layout.kind_pathway, dtype=np.int64)
    _demographic_priority(model)
    group_in_kind = (GROUP_DEMOGRAPHIC[:, None] == kd[None, :]).astype(float)  # [G, K]
    ordinary = 1.0 - np.array(layout.kind_policy, dtype=float)[None, :]  # [1, K]
    pool = np.array(layout.crew_pool)
    infinite_patience = not np.isfinite(model.pickup_patience_hours)
    dispersion = model.demand_dispersion
    # Fields declared `flow_as_is` (model/compiled.py) are read unchanged under their own names;
    # the rest are derived here in the shapes and units the hourly step reads.
    values: dict[str, object] = {
        name: getattr(model, name) for name, spec in specs(CompiledModel).items() if spec.flow_as_is
    }
    values |= {
        "gamma_shape": 1e6 if not np.isfinite(dispersion) else dispersion,
        "poisson_demand": float(not np.isfinite(dispersion)),
        "title42_active": model.title42_active.astype(float),
        "reattempt_hourly": 1 - np.exp(-1 / (24 * model.repeat_delay_mean_days)),
        "crew_detection_weight": model.detection_weight[pool],
        "pickup_patience_hours": 1e30 if infinite_patience else model.pickup_patience_hours,
        # Policy kinds are filled only from the release kinds while the release is open.
        "share_to_kind": model.pathway_share[:, :, kp] * (group_in_kind * ordinary)[None],
        "group_in_kind": group_in_kind,
        "intake_hours": _kind_intake_hours(model, layout),
        "determination_hours": model.determination_hours[kp],
        "transport_hours": model.transport_hours_per_person[kp] * layout.kinds_in_lines(),
        "release_valve_enabled": float(model.release_valve_enabled),
        "line_leave_hourly": 1 - np.exp(-1 / (24 * model.line_length_of_stay_days)),
        "min_custody_hours": model.min_custody_hours[kp],
        "crew_tasks": model.crew_tasks.astype(float),
        "crew_on_duty_fraction": model.on_duty_fraction[pool],
        "crew_productivity": model.productivity[pool],
        "crew_cost_per_person_day": model.cost_per_person_day[pool],
        "supply_reorder_lead_hours": np.round(24 * model.supply_reorder_lead_days),
        "health_enabled": float(model.health_enabled),
        "recovery_hourly": 1 - np.exp(-1 / infectious_hours(model.infectious_days)),
        "staff_absence_hours": staff_absence_hours(model.staff_absence_days),
    }
    return {name: np.asarray(value, dtype=np.float32) for name, value in values.items()}


def stack_parameters(models: list[CompiledModel], layout: FlowLayout) -> dict[str, np.ndarray]:
    """Every model's arrays stacked on a leading variant axis."""
    per_model = [_parameters(m, layout) for m in models]
    return {name: np.stack([p[name] for p in per_model]) for name in per_model[0]}


def is_agent_crew(layout: FlowLayout) -> np.ndarray:
    return np.array(layout.crew_pool) == Pool.AGENT


def crew_pool_matrix(layout: FlowLayout, n_pools: int) -> np.ndarray:
    """[C, K] one-hot pool of each crew, to sum crew staff-hours by pool."""
    matrix = np.zeros((layout.n_crews, n_pools), dtype=np.float32)
    matrix[np.arange(layout.n_crews), np.array(layout.crew_pool)] = 1.0
    return matrix
