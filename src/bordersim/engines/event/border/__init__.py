"""The border operations model on the event engine (docs/event-engine.md).

from bordersim.engines.event.border import simulate
result = simulate(model, replications=20, seed=1)
"""

from bordersim.engines.event.border.driver import simulate

__all__ = ["simulate"]
