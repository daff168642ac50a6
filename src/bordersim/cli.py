"""The `bordersim` command.

Each area registers its commands from its own module in `bordersim.commands`; this file only
assembles them and turns a `BordersimError` into one clear message and exit status 2.
"""

from __future__ import annotations

import re
import sys
from typing import Any, NoReturn

from bordersim import interrupts

# Before the heavier imports below, when this is the `bordersim` command (not a library import):
# a signal that arrives while they load ends the command cleanly too (nothing has started yet).
if sys.argv and sys.argv[0].rsplit("/", 1)[-1] == "bordersim":
    interrupts.install()

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from bordersim import __version__
from bordersim.errors import BordersimError

stderr = Console(stderr=True)

#: Parameters that take a path though they are read as text (so that an empty one can be named
#: and refused, where a `Path` would have made it the current folder), by their Python name.
PATH_PARAMETERS = frozenset(
    {"out", "out_given", "plan_given", "scenario_given", "store", "calibration", "source", "dest"}
)


#: What `--help` shows beside an option whose value has a form of its own, by its long name.
VALUE_WORDS = {
    "--set": "KEY=VALUE",
    "--vary": "KEY=V1,V2,...",
    "--engine": "ENGINE",
    "--case": "CASE",
    "--cluster": "SPEC",
    "--resume": "SWEEP_ID",
    "--origin": "YYYY-MM",
    "--from": "YYYY-MM",
    "--to": "YYYY-MM",
    "--horizon": "MONTHS",
    "--horizons": "MONTHS",
    "--format": "FORMAT",
    "--metric": "METRIC",
    "--sector": "SECTOR",
    "--host": "HOST",
    "--port": "PORT",
    "--token": "TOKEN",
}

#: The word for the rest, by the framework's name of their type ("<int>", "<float range>").
TYPE_WORDS = {"int": "INTEGER", "float": "NUMBER", "str": "TEXT"}


def _shown_type(param: Any, ctx: Any) -> str | None:
    """What `--help` shows beside a parameter, a plain word in capitals: nothing beside a flag
    (`--records`, `--help`, `--frontier/--no-frontier` take no value), PATH for a path
    (PATH|URL where a postgresql:// URL is taken too), the word of `VALUE_WORDS` for an option
    named there, and INTEGER, NUMBER or TEXT by type for the rest (where the framework showed
    `<int>`, `<float>`, `<str>`, `<list[str]>`)."""
    if getattr(param, "is_flag", False):
        return ""
    many = "..." if param.nargs != 1 else ""
    framework = str(param.display_type(ctx)).strip("<>")
    if param.name in PATH_PARAMETERS or framework in ("path", "file", "dir", "list[Path]"):
        shown = "PATH|URL" if "postgresql://" in (getattr(param, "help", None) or "") else "PATH"
        return shown + many
    for name in param.opts:
        if name in VALUE_WORDS:
            return VALUE_WORDS[name] + many
    bare = framework.removeprefix("list[").removesuffix("]").removesuffix(" range")
    return TYPE_WORDS.get(bare, "VALUE") + many


def _usage_piece(param: Any) -> str:
    """An argument as the usage line shows it: NAME if required, [NAME] if not (the framework
    wrote a required one {NAME}), then ... where it takes several."""
    name = param.metavar or param.name.upper()
    return (name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else "")


# -h is help, as most command-line tools take it; every command's context inherits the names
HELP_OPTION_NAMES = ["-h", "--help"]


def _tidy_help(command: Any) -> None:
    """Give every parameter of `command` and of its subcommands the type column of
    `_shown_type`: options through their metavar, arguments (whose name column the metavar
    would change) through what they show as their type; and the usage line `_usage_piece`.
    Help texts are text, not Rich markup: a plan file's "[forecast]" is shown as written, not
    taken for a style and dropped."""
    # the help option is made (and kept by the command) here: with the names the app gives it
    ctx = command.context_class(command, help_option_names=HELP_OPTION_NAMES)
    if command.help:
        command.help = escape(command.help)
    params = [*command.params, command.get_help_option(ctx)]
    for param in params:
        if param is None:
            continue
        if getattr(param, "help", None):
            param.help = escape(param.help)
        is_option = param.param_type_name == "option"
        if not is_option:
            piece = _usage_piece(param)
            setattr(param, "get_usage_pieces", lambda ctx, piece=piece: [piece])  # noqa: B010
        shown = _shown_type(param, ctx)
        if shown is None or (is_option and param.metavar is not None):  # one the command set
            continue
        if is_option:
            param.metavar = shown
        else:
            setattr(param, "display_type_rich", lambda ctx, shown=shown: shown)  # noqa: B010
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


class _Group(TyperGroup):
    """The `bordersim` group, built once its commands are: see `_tidy_help`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tidy_help(self)


app = typer.Typer(
    name="bordersim",
    help="Simulate and plan U.S. southwest border operations during surges.",
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bordersim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Simulate and plan U.S. southwest border operations during surges."""
    interrupts.quiet_printed_interrupts()  # over the hook the framework set for this call


def _register() -> None:
    # Imported here so that a broken area names itself instead of breaking `--help` silently.
    from bordersim.commands import register_all

    register_all(app)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the Typer app, reporting `BordersimError` as one line and exit 2."""
    _register()
    interrupts.install()
    # every console of every command, not only this file's: rich ended at a closed pipe with 1
    Console.on_broken_pipe = lambda _console: _end_at_closed_pipe()  # type: ignore[method-assign,assignment]
    try:
        return _run(argv)
    except SystemExit as done:
        if argv is None and isinstance(done.code, int):  # the `bordersim` command itself
            # ended as a finished one is: after an interrupted import of a compiled module
            # (JAX's), the interpreter's teardown could crash on its half-made state, and the
            # command ended by a segmentation fault, not the exit status it printed
            _end_now(done.code)
        raise


def _run(argv: list[str] | None) -> Any:
    try:
        result = app(args=argv, standalone_mode=False)
        interrupts.check()  # a signal whose exception was dropped still ends the command
        sys.stdout.flush()  # what is buffered meets a closed pipe here, where it is handled
        if argv is None and result is None:  # the `bordersim` command itself, finished
            _end_now()
        return result
    except BordersimError as err:
        if interrupts.is_interrupt(err):  # DuckDB turns an interrupt into an error of its own
            _exit_interrupted()
        # the message is text, not markup: a path or value with [brackets] is shown as it is
        stderr.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except BrokenPipeError:  # a plain print to a closed pipe
        _end_at_closed_pipe()
    except SystemExit:
        # the framework's end at a closed pipe (exit 1), known by the wrapper it puts on stdout
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            _end_at_closed_pipe()
        raise
    except interrupts.Interrupted as stop:
        _say_interrupted(stop.name)
        sys.exit(stop.exit_code)
    except KeyboardInterrupt:
        _say_interrupted("SIGINT")
        sys.exit(130)
    except Exception as err:  # click usage errors arrive here in non-standalone mode
        # Recognised by shape: recent typer releases vendor click, so `import click` may fail.
        show, exit_code = getattr(err, "show", None), getattr(err, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            # one line, as every refusal of bordersim's: the framework's four (usage, a pointer
            # to --help, a blank line, "Error: Invalid value for '--port': ...") read unlike
            # the rest, and a script's log had to be read back to see what was refused
            stderr.print(
                f"[bold red]error:[/] {escape(_usage_line(err))}", highlight=False, soft_wrap=True
            )
            sys.exit(exit_code)
        if type(err).__name__ == "Abort":
            _say_interrupted("SIGINT")
            sys.exit(130)
        if interrupts.is_interrupt(err):  # an interrupt that compiled code turned into an error
            _exit_interrupted()
        raise


#: pydantic's words for an option's bad value, which typer passes on, and bordersim's (as the
#: scenario loader says them): a pattern of the message, and its replacement
_OUR_WORDS = (
    (re.compile(r"Input should be greater than or equal to (\S+)$"), r"must be at least \1"),
    (re.compile(r"Input should be greater than (\S+)$"), r"must be more than \1"),
    (re.compile(r"Input should be less than or equal to (\S+)$"), r"must be at most \1"),
    (re.compile(r"Input should be less than (\S+)$"), r"must be less than \1"),
    (re.compile(r"Input should be a valid integer\b.*"), "must be a whole number"),
    (re.compile(r"Input should be a valid number\b.*"), "must be a number"),
)


#: The framework's words for an option given last, without its value
_NEEDS_A_VALUE = re.compile(r"Option '.*' requires (an argument|\d+ arguments)\.")


#: The exit status of a command whose output's reader went away (`bordersim runs | head`):
#: 128 + SIGPIPE, as a tool that the signal stopped ends (Python ignores the signal).
CLOSED_PIPE_EXIT = 141


def _end_at_closed_pipe() -> NoReturn:
    """End the command quietly once the reader of its output has gone (head has its lines):
    nothing more can be shown, so the rest is written to nowhere, and the exit status says the
    output was cut off, not that the command failed (rich said 1)."""
    import os

    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, sys.stdout.fileno())  # what is still buffered is flushed there at the end
    sys.exit(CLOSED_PIPE_EXIT)


def _usage_line(err: Exception) -> str:
    """A usage error of the framework as bordersim's one line. An option's or argument's bad
    value is named as a scenario key's is, with the value given and the rule in bordersim's
    words (`--port 0: must be at least 1`, `--replications ten: must be a whole number`); the
    rest (an unknown option, an extra argument) names the command and where its help is."""
    message = str(getattr(err, "message", "") or "")
    for pattern, words in _OUR_WORDS:
        if pattern.fullmatch(message):
            message = pattern.sub(words, message)
            break
    param, ctx = getattr(err, "param", None), getattr(err, "ctx", None)
    if param is not None and type(err).__name__ == "BadParameter":
        name = _param_name(param, ctx)
        given = _given_value(err)
        return f"{name} {given}: {message}" if given is not None else f"{name}: {message}"
    option_name = getattr(err, "option_name", None)
    if isinstance(option_name, str) and _NEEDS_A_VALUE.fullmatch(message):
        return f"{option_name}: needs a value"  # `serve --port` with nothing after it
    command = _command_words(ctx)
    if isinstance(option_name, str) and type(err).__name__ == "NoSuchOption":
        _keep_close_suggestions(err, option_name)
    if param is not None and type(err).__name__ == "MissingParameter":
        text = f"{_param_name(param, ctx)} is missing"
    else:
        text = str(err.format_message()).rstrip(".")  # type: ignore[attr-defined]
        text = text[:1].lower() + text[1:]
    if ctx is None:  # the framework's parser said it before it knew the command
        return text
    where = f"{command}: " if command else ""
    return f"{where}{text} (see bordersim {command + ' ' if command else ''}--help)"


def _keep_close_suggestions(err: Any, option_name: str) -> None:
    """The framework suggests an option whose name, `--` and all, is 60 % alike: `calibrate
    --seed` was offered `--store`. Only a name 60 % alike without its dashes is kept
    (`--replication`: `--replications`); with none, the line names the unknown option alone."""
    from difflib import SequenceMatcher

    typed = option_name.lstrip("-")
    close = [
        name
        for name in getattr(err, "possibilities", None) or ()
        if SequenceMatcher(None, typed, name.lstrip("-")).ratio() >= 0.6
    ]
    err.possibilities = close or None


def _param_name(param: Any, ctx: Any) -> str:
    """An option by its long name (`--replications`, not `-r`), an argument by the name its
    usage line shows (`SCENARIO`)."""
    if param.param_type_name == "option":
        long_names = [name for name in param.opts if name.startswith("--")]
        return (long_names or param.opts)[0]
    return str(param.metavar or param.human_readable_name)


def _given_value(err: Exception) -> str | None:
    """The value a refused option was given, as typed, where the type check that refused it
    says it (quoted where it is empty or has spaces around it, which the line would hide)."""
    errors = getattr(err.__cause__, "errors", None)
    if not callable(errors):
        return None
    found = errors()
    if not found or "input" not in found[0]:
        return None
    value = found[0]["input"]
    if isinstance(value, str) and (not value or value.strip() != value):
        return repr(value)
    return str(value)


def _command_words(ctx: Any) -> str:
    """The command a usage error is about as typed after `bordersim` (`scenario check`), empty
    for `bordersim` itself."""
    words = []
    while ctx is not None and ctx.parent is not None:
        words.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(reversed(words))


def _exit_interrupted() -> NoReturn:
    """End the command as interrupted by the signal received (Ctrl-C if none was noted)."""
    stopped = interrupts.as_interrupt()
    if isinstance(stopped, interrupts.Interrupted):
        _say_interrupted(stopped.name)
        sys.exit(stopped.exit_code)
    _say_interrupted("SIGINT")
    sys.exit(130)


def _end_now(exit_code: int = 0) -> None:
    """End the `bordersim` command with `exit_code`, without the interpreter's teardown of every
    module and object, which takes 0.4-0.6 s once JAX, pandas, Plotly, PyArrow and Dask are
    loaded (time in which the command has nothing left to do). The exit handlers run and the
    output is flushed first, as at a normal exit. While a thread other than a daemon one still runs,
    this returns and the normal exit (which waits for it) is kept."""
    import atexit
    import contextlib
    import os
    import threading

    if any(
        thread is not threading.main_thread() and not thread.daemon and thread.is_alive()
        for thread in threading.enumerate()
    ):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(exit_code)


def _say_interrupted(name: str) -> None:
    stopped = interrupts.stopped_text() or (
        "stopped cleanly; nothing was marked complete (a run that had started is recorded as "
        "failed)"
    )
    stderr.print(
        f"[bold red]interrupted[/] ({name}): {escape(stopped)}",
        highlight=False,
        soft_wrap=True,
    )
