"""The compiler: a validated `Scenario`, its calibration and its demand fit -> `CompiledModel`.

It sits above `scenario/` and `calibration/` (which it reads) and below the engines, `fitting/`
and the services (which call it); `model/` below it imports nothing of ours but errors.

- `inputs`: the calibration and demand fit a scenario names, loaded and checked;
- `frame`: the simulated days, the modelled sectors and the border-wide calibrated demand;
- one module per section, each giving its own fields of the compiled model: `demand`,
  `operations` (detection, processing, departures), `custody`, `staff`, `care` (supplies,
  health, cost and targets);
- `compile`: `compile_scenario`, which gathers the sections into a checked `CompiledModel`.
"""

from bordersim.compiler.compile import ScenarioWarning, compile_scenario
from bordersim.compiler.inputs import (
    CalibrationSource,
    FitWarning,
    load_calibration_for,
    load_fit_for,
)

__all__ = [
    "CalibrationSource",
    "FitWarning",
    "ScenarioWarning",
    "compile_scenario",
    "load_calibration_for",
    "load_fit_for",
]
