"""Printing for the commands: a Rich console and the `Observer` that prints a service's news."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bordersim.services.observer import Observer, Progress

if TYPE_CHECKING:
    from rich.console import Console


def wide_console() -> Console:
    """Rich console; piped output gets a wide page so tables keep whole run ids and labels."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=140)


#: Shown until the engine's first progress report (Numba or JAX compile on a first run: the event
#: engine's takes about three minutes on a 2-core machine, the flow engine's about 20 s;
#: docs/event-engine.md).
COMPILING = "compiling (first run only: up to a few minutes), then simulating"


class ConsoleObserver(Observer):
    """Prints warnings and notes, shows stages as a status line and progress as a bar."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def warning(self, message: str) -> None:
        from rich.markup import escape

        # one line however long (soft_wrap): a path in it stays whole, to copy
        self.console.print(
            f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True
        )

    def note(self, message: str) -> None:
        self.console.print(message, soft_wrap=True)

    @contextmanager
    def stage(self, label: str) -> Iterator[object]:
        with self.console.status(label):
            yield None

    @contextmanager
    def progress(self, label: str) -> Iterator[Progress]:
        """A status line until the engine reports its first step (it may be compiling), then a
        bar of replications (or hours) done, instead of a bar stuck at 0/?."""
        from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        bar = Bar(
            f"[bold]{label}[/]",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        task = bar.add_task("simulate", total=None)
        waiting = self.console.status(f"[bold]{label}[/]: {COMPILING}")
        waiting.start()
        started = False

        def update(done: int, total: int) -> None:
            nonlocal started
            if not started:
                waiting.stop()
                bar.start()
                started = True
            bar.update(task, completed=done, total=total)

        try:
            yield update
        finally:
            waiting.stop()
            if started:
                bar.stop()
