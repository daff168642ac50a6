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


class ConsoleObserver(Observer):
    """Prints warnings and notes, shows stages as a status line and progress as a bar."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def warning(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {message}", highlight=False)

    def note(self, message: str) -> None:
        self.console.print(message)

    @contextmanager
    def stage(self, label: str) -> Iterator[object]:
        with self.console.status(label):
            yield None

    @contextmanager
    def progress(self, label: str) -> Iterator[Progress]:
        from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        with Bar(
            f"[bold]{label}[/]",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        ) as bar:
            task = bar.add_task("simulate", total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update
