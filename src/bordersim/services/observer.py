"""How a service tells its caller what it is doing, without printing anything itself.

The services take an `Observer`; the base class tells nobody (what a library call wants). The CLI
passes one that prints with Rich (`bordersim.commands.console.ConsoleObserver`); a notebook may
pass its own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

Progress = Callable[[int, int], None]


def _ignore(done: int, total: int) -> None:
    """A progress callback that does nothing."""


class Observer:
    """Receives a service's warnings, notes, stages and progress; by default ignores them."""

    def warning(self, message: str) -> None:
        """Something the user should know about the inputs (for example a stale demand fit)."""

    def note(self, message: str) -> None:
        """A step done (a run stored, files imported)."""

    def stage(self, label: str) -> AbstractContextManager[object]:
        """A step under way with no measurable progress (writing a report)."""
        return nullcontext()

    def progress(self, label: str) -> AbstractContextManager[Progress]:
        """A step with progress: the context gives a ``progress(done, total)`` callback."""
        return nullcontext(_ignore)


QUIET = Observer()
