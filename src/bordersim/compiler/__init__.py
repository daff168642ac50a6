"""The compiler: a validated `Scenario`, its calibration and its demand fit -> `CompiledModel`.

It sits above `scenario/` and `calibration/` (which it reads) and below the engines, `fitting/`
and the services (which call it); `model/` below it imports nothing of ours but errors.

- `inputs`: the calibration and demand fit a scenario names, loaded and checked;
- `compile`: the scenario's sections (demand, custody, staff, health, ...) as arrays.
"""

from bordersim.compiler.compile import compile_scenario
from bordersim.compiler.inputs import (
    Calibration,
    FitWarning,
    load_calibration_for,
    load_fit_for,
)

__all__ = [
    "Calibration",
    "FitWarning",
    "compile_scenario",
    "load_calibration_for",
    "load_fit_for",
]
