"""Scenario files: TOML with inheritance, validated against the schema, every default sourced.

`load_scenario(path)` gives a `Scenario`; `vary(scenario, "key.path", value)` a re-validated copy
for sweeps, `with_changes(scenario, {"key.path": value, ...})` one with several values changed and
validated together; `bordersim.compiler.compile_scenario` turns it into a `CompiledModel`.
"""

from bordersim.scenario.resolved import Scenario, load_scenario, vary, with_changes

__all__ = ["Scenario", "load_scenario", "vary", "with_changes"]
