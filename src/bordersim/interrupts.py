"""Ctrl-C (SIGINT) and SIGTERM end a command the same way: cleanly.

SIGTERM is what `timeout`, `docker stop`, systemd and batch schedulers send; without a handler it
ends Python at once, leaving a run 'running' and temporary files behind. `install` makes both
signals raise `Interrupted` in the main thread, so that every `except BaseException` / `finally`
on the way out runs: the run is marked failed, temporary files are removed, the store's
transaction is rolled back. Once the clean-up has started (`acknowledge`), a second signal does
not cut it short (SIGKILL still does; the next command repairs what it leaves, see `store.runs`).

Python runs a signal handler at the next bytecode, which may be inside a garbage-collection
callback or a `__del__`, where an exception is printed and dropped. So the signal is also
remembered, and `check` (called at each progress step) raises it again until the clean-up
acknowledges it.

Nor may the exception be raised while a compiled extension module initialises: its C++ code
calls Python (jaxlib's creates its enums), and an exception thrown back through it aborts the
process (`terminate called after throwing an instance of 'nanobind::python_error'`, or a
segmentation fault), with nothing cleaned up. So while an extension module loads, a signal is
only noted, and raised as soon as the load is done (`_held_during_extension_loads`).

`Interrupted` is a `BaseException` but not a `KeyboardInterrupt`, so that the command-line
framework does not swallow it into a bare "Aborted"; `is_interrupt` recognises both.

A terminal's Ctrl-C goes to every process of the command, the processes it started to work for
it too (a forecast's fitting processes, a local Dask cluster's workers). Those are started with
both signals blocked (`held_from_children`) and then ignore Ctrl-C and end on SIGTERM
(`as_child_process`): the command stops them as it stops itself, and none prints a traceback.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

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


_state: dict[str, int | bool] = {"signum": 0, "acknowledged": False}
#: How many extension-module loads the main thread is inside (nested: one's init imports another)
_loading = [0]
#: What an interrupt stopped and left, in the command's own words (`describe`); empty: a run's.
_stopped: list[str] = []


@contextlib.contextmanager
def held_from_children() -> Iterator[None]:
    """SIGINT and SIGTERM blocked in this thread while it starts the command's processes (or the
    threads that start them later, such as a cluster's event loop, which inherit the block): a
    process started meanwhile begins with them blocked, and sets its own handlers
    (`as_child_process`) before it takes them. One that came meanwhile reaches this process on
    the way out."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def as_child_process() -> None:
    """In a process that the command started to work for it: Ctrl-C ignored (the command stops
    it), SIGTERM ends it; then the signals let through."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _state["acknowledged"]:
        return  # already stopping: let the clean-up finish
    _state["signum"] = signum
    if _loading[0]:
        return  # compiled code is initialising: raised once its load is done
    raise Interrupted(signum)


def install() -> None:
    """Make SIGINT and SIGTERM raise `Interrupted` (main thread only, where signals arrive)."""
    _state.update(signum=0, acknowledged=False)
    _stopped.clear()
    for signum in HANDLED:
        signal.signal(signum, _handler)
    _held_during_extension_loads()
    if not getattr(sys.unraisablehook, "_bordersim", False):
        sys.unraisablehook = _quiet_dropped_interrupt(sys.unraisablehook)
    quiet_printed_interrupts()


def _held_during_extension_loads() -> None:
    """Make the loads of compiled extension modules (in the main thread, where the handler runs)
    note a signal instead of raising it inside them, and raise it once the outermost is done."""
    loader = importlib.machinery.ExtensionFileLoader
    if getattr(loader.exec_module, "_bordersim", False):
        return
    for name in ("create_module", "exec_module"):
        setattr(loader, name, _holding_interrupts(getattr(loader, name)))


def _holding_interrupts(load: Any) -> Any:
    def held(*args: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return load(*args)  # signals are handled in the main thread only
        _loading[0] += 1
        try:
            result = load(*args)
        finally:
            _loading[0] -= 1
        if not _loading[0]:
            check()  # a signal noted during the load ends the command now
        return result

    held._bordersim = True  # type: ignore[attr-defined]
    return held


def _quiet_dropped_interrupt(previous: Any) -> Any:
    """An interrupt dropped in a callback is raised again by `check`: do not print it."""

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            return
        previous(unraisable)

    hook._bordersim = True  # type: ignore[attr-defined]
    return hook


def quiet_printed_interrupts() -> None:
    """Compiled code that meets an interrupt may print it before raising an error of its own
    (an extension module's import prints it and raises ImportError; `PyErr_Print` calls
    `sys.excepthook`): do not print it, the command reports the interrupt itself. Called again
    once the command-line framework has set its own hook (it does at each call)."""
    previous = sys.excepthook
    if getattr(previous, "_bordersim", False):
        return

    def hook(kind: Any, value: BaseException, traceback: Any) -> None:
        if isinstance(value, Interrupted):
            return
        previous(kind, value, traceback)

    hook._bordersim = True  # type: ignore[attr-defined]
    sys.excepthook = hook


def describe(stopped: str) -> None:
    """What an interrupt would stop now, and what it leaves, for the command's last line: a
    command that records no run (a forecast) says so in its own words."""
    _stopped[:] = [stopped]


def stopped_text() -> str:
    """The words `describe` set last, or the empty text."""
    return _stopped[0] if _stopped else ""


def check() -> None:
    """Raise the signal received earlier if its exception was dropped on the way."""
    if _state["signum"] and not _state["acknowledged"]:
        raise Interrupted(int(_state["signum"]))


def acknowledge() -> None:
    """The clean-up has begun: further signals are noted, not raised."""
    if _state["signum"]:
        _state["acknowledged"] = True


def received() -> int:
    """The signal received (0 if none)."""
    return int(_state["signum"])


def is_interrupt(err: BaseException) -> bool:
    """True if `err` is, or was caused by, an interrupt, or a signal was received and its
    clean-up has not begun (`acknowledge`): compiled code may wrap the interrupt, or drop it
    and raise an error of its own (an extension module's import interrupted raises ImportError
    without a cause)."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt | Interrupted):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return bool(_state["signum"]) and not _state["acknowledged"]


def as_interrupt() -> BaseException:
    """The interrupt to raise for an error that `is_interrupt`: the signal received, else
    Ctrl-C."""
    signum = received()
    return Interrupted(signum) if signum else KeyboardInterrupt()
