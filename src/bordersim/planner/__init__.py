"""The planner: the cheapest time-phased deployment that meets the 72-hour standard, certified.

```python
from bordersim.planner import plan
result = plan("scenarios/2023-title42-end.toml", "plans/2023-troops.toml", out="out/plan")
result.cost, result.gap, result.certificate.all_certified
```

Four stages (docs/planner.md): a fluid mixed-integer program (lower bound and warm start),
simulation-based correction on the flow engine, local search, and certification on fresh
event-engine replications.
"""

from bordersim.planner.run import PlanResult, plan, plan_model
from bordersim.planner.spec import PlanError, PlanSpec, load_plan, parse_plan

__all__ = ["PlanError", "PlanResult", "PlanSpec", "load_plan", "parse_plan", "plan", "plan_model"]
