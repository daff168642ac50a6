"""Supplies (docs/model.md step 9), hourly on the hour's exact person-hours in custody."""

from __future__ import annotations

from numba import njit

from bordersim.engines.event.border.layout import (
    K_COST_SUPPLIES,
    K_STOCK_OUT,
    K_SUPPLY_USED,
    K_UNMET,
)
from bordersim.engines.event.border.state import EPS, WAREHOUSE, Clock, Model, World


@njit(cache=True, inline="always")
def supply_hour(s: int, clock: Clock, m: Model, w: World) -> None:
    """Sector `s` uses the hour's supplies as far as stock and warehouse staff allow (the rest is
    unmet care), receives a due order, and reorders below the reorder point."""
    units = m.supply_units_per_person_day
    if units <= 0.0:
        return
    sup, plan, out, d = w.supplies, w.plan, w.out, clock.day
    if sup.order_hour[s] == clock.hour:
        sup.stock[s] += sup.order_units[s]
        sup.order_hour[s] = -1
    use = w.custody.person_hours[s] * units / 24.0
    share = 1.0
    if plan.task_need[s, WAREHOUSE] > 0.0:
        share = min(1.0, plan.warehouse_cap[s] / plan.task_need[s, WAREHOUSE])
    delivered = use * share
    used_units = min(sup.stock[s], delivered)
    sup.stock[s] -= used_units
    out.daily[d, s, out.col[K_SUPPLY_USED]] += used_units
    out.daily[d, s, out.col[K_UNMET]] += (use - used_units) / units
    if delivered > used_units + EPS:
        out.daily[d, s, out.col[K_STOCK_OUT]] = 1.0
    per_day = w.custody.occupancy[s] * units
    if sup.order_hour[s] < 0 and sup.stock[s] < m.supply_reorder_point_days * per_day:
        sup.order_units[s] = m.supply_order_days * per_day
        sup.order_hour[s] = clock.hour + max(1, round(m.supply_reorder_lead_days * 24.0))
        out.daily[d, s, out.col[K_COST_SUPPLIES]] += sup.order_units[s] * m.supply_cost_per_unit
