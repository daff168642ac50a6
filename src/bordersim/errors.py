"""The one error type users see.

Every bad input (scenario, data file, parameter) is reported as a `BordersimError` whose message
names what is wrong and where: the file, the key path or sheet and row, the value and the rule.
The CLI prints it once, without a traceback, and exits with status 2.
"""

from __future__ import annotations


class BordersimError(Exception):
    """An input or request that bordersim refuses, with a message meant for the user."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ScenarioError(BordersimError):
    """A scenario file that cannot be loaded, validated or compiled."""


class DataFileError(BordersimError):
    """An official data file that does not have the published layout or content."""


class ModelError(BordersimError):
    """A request an engine cannot run (unstable queue, impossible parameter, ...)."""
