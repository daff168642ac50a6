"""Ctrl-C (SIGINT) and SIGTERM end a command the same way: cleanly.

SIGTERM is what `timeout`, `docker stop`, systemd and batch schedulers send; without a handler it
ends Python at once, leaving a run 'running' and temporary files behind. `install` makes both
signals raise `Interrupted` in the main thread, so that every `except BaseException` / `finally`
on the way out runs: the run is marked failed, temporary files are removed, the store's
transaction is rolled back. A second signal during that clean-up is noted but does not cut it
short (SIGKILL still does; the next command repairs what it leaves, see `store.runs`).

`Interrupted` is a `BaseException` but not a `KeyboardInterrupt`, so that the command-line
framework does not swallow it into a bare "Aborted"; `is_interrupt` recognises both.
"""

from __future__ import annotations

import signal
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A command stopped by a signal; `exit_code` is 128 + the signal number, as shells report."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_state = {"interrupted": False}


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _state["interrupted"]:
        return  # already stopping: let the clean-up finish
    _state["interrupted"] = True
    raise Interrupted(signum)


def install() -> None:
    """Make SIGINT and SIGTERM raise `Interrupted` (main thread only, where signals arrive)."""
    _state["interrupted"] = False
    for signum in HANDLED:
        signal.signal(signum, _handler)


def is_interrupt(err: BaseException) -> bool:
    """True if `err` is, or was caused by, an interrupt (compiled code may wrap it)."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt | Interrupted):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
