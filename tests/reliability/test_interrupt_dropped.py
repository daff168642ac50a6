"""A signal that compiled code turns into an error of its own is still an interrupt.

An extension module whose import is interrupted (numba's `_dispatcher` importing
`_devicearray`, seen in CI when SIGTERM reached a flow run while it imported the engine) prints
the interrupt through `sys.excepthook` and raises `ImportError("... failed to import")` with no
cause. The command must still end as interrupted: exit 128 + the signal, one line, no traceback.
The script below does what that import does, inside a command run by the real command line.

DuckDB does the same while it runs Python code inside a query (scanning a registered frame, a
function): the interrupt comes back as a `duckdb.Error` whose message holds it as text, which the
store turns into the one-line error of a bad file (seen in CI when SIGINT reached `data import`
as it stored the workbook). That too must end as interrupted (the store rolled back: see
`test_signals_and_sharing.py::test_a_signal_during_an_import_leaves_all_or_nothing`).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from bordersim import interrupts

SCRIPT = textwrap.dedent(
    """
    import signal, sys
    from bordersim import cli, interrupts

    @cli.app.command("interrupted-import")
    def interrupted_import() -> None:
        try:
            signal.raise_signal(signal.SIGNUM)
        except interrupts.Interrupted:
            sys.excepthook(*sys.exc_info())  # what PyErr_Print does in the extension module
            raise ImportError("numba._devicearray failed to import") from None

    cli.main(["interrupted-import"])
    """
)


DUCKDB_SCRIPT = textwrap.dedent(
    """
    import signal, duckdb
    from bordersim import cli
    from bordersim.errors import DataFileError

    @cli.app.command("interrupted-query")
    def interrupted_query() -> None:
        connection = duckdb.connect()
        def value(x: int) -> int:
            signal.raise_signal(signal.SIGNUM)
            return x
        connection.create_function("value", value)
        try:
            connection.execute("SELECT value(1)").fetchall()
        except duckdb.Error as err:  # what the store's import does with DuckDB's errors
            raise DataFileError(f"could not be stored ({err})", where="a file") from err

    cli.main(["interrupted-query"])
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize(
    ("script", "own_error"),
    [(SCRIPT, "failed to import"), (DUCKDB_SCRIPT, "could not be stored")],
    ids=["extension-import", "duckdb-query"],
)
def test_an_interrupt_turned_into_another_error_ends_the_command_as_interrupted(
    script: str, own_error: str, signum: int
) -> None:
    name = signal.Signals(signum).name
    done = subprocess.run(
        [sys.executable, "-c", script.replace("SIGNUM", name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 128 + signum, done.stderr
    assert f"interrupted ({name})" in done.stderr
    assert "Traceback" not in done.stderr
    assert own_error not in done.stderr


def test_an_interrupt_wrapped_by_compiled_code_is_still_an_interrupt() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise SystemError("returned a result with an exception set") from interrupt
    except SystemError as wrapped:
        assert interrupts.is_interrupt(wrapped)
    assert not interrupts.is_interrupt(ValueError("a plain failure"))


def test_an_error_after_a_signal_is_an_interrupt_until_its_clean_up_begins() -> None:
    previous = {s: signal.getsignal(s) for s in interrupts.HANDLED}
    hooks = (sys.excepthook, sys.unraisablehook)
    try:
        interrupts.install()
        plain = ImportError("numba._devicearray failed to import")
        assert not interrupts.is_interrupt(plain)
        with pytest.raises(interrupts.Interrupted):
            signal.raise_signal(signal.SIGTERM)
        assert interrupts.is_interrupt(plain)
        stopped = interrupts.as_interrupt()
        assert isinstance(stopped, interrupts.Interrupted) and stopped.exit_code == 143
        # once the clean-up has begun, a later error is its own
        interrupts.acknowledge()
        assert not interrupts.is_interrupt(ValueError("a plain failure"))
        assert interrupts.is_interrupt(KeyboardInterrupt())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.excepthook, sys.unraisablehook = hooks
        interrupts._state.update(signum=0, acknowledged=False)
