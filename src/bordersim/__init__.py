"""bordersim: simulate and plan U.S. southwest border operations during surges.

The public Python API (`bordersim.api`, docs/api.md) and the planner's `plan` are re-exported here;
they are imported on first use, so that `import bordersim` and the CLI stay quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from bordersim.api import (
        Run,
        StoredRunView,
        compare,
        load_scenario,
        open_run,
        run,
        sweep,
    )
    from bordersim.errors import BordersimError
    from bordersim.planner import plan
    from bordersim.scenario import Scenario

__all__ = [
    "BordersimError",
    "Run",
    "Scenario",
    "StoredRunView",
    "__version__",
    "compare",
    "load_scenario",
    "open_run",
    "plan",
    "run",
    "sweep",
]

_FROM = {
    "BordersimError": "bordersim.errors",
    "Scenario": "bordersim.scenario",
    "plan": "bordersim.planner",  # the planner (docs/planner.md), imported only when used
    **{
        name: "bordersim.api"
        for name in ("Run", "StoredRunView", "compare", "load_scenario", "open_run", "run", "sweep")
    },
}


def __dir__() -> list[str]:
    """The module's names and the API's, imported on first use: so that `dir(bordersim)`, a
    notebook's completion and `help(bordersim)` list `run`, `load_scenario` and the rest."""
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    if name in _FROM:
        import importlib

        return getattr(importlib.import_module(_FROM[name]), name)
    raise AttributeError(f"module 'bordersim' has no attribute {name!r}")
