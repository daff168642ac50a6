"""CLI command groups, one module per area. Heavy imports happen inside the commands.

Each module exposes `register(app)`; `register_all` calls those that exist, so that an area can be
added without touching the others.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from typer.models import ArgumentInfo, CommandInfo, OptionInfo

from bordersim.errors import BordersimError

AREAS = (
    "data",
    "calibrate",
    "fit",
    "scenario",
    "verify",
    "simulate",
    "runs",
    "sweep",
    "main_job",
    "validate",
    "forecast",
    "plan",
    "export",
    "serve",
)


def register_all(app: typer.Typer) -> None:
    for area in AREAS:
        try:
            module = importlib.import_module(f"bordersim.commands.{area}")
        except ModuleNotFoundError as err:
            if err.name == f"bordersim.commands.{area}":
                continue  # area not built yet
            raise
        module.register(app)
    for name, command in _named_commands(app):
        if command.help is None and command.callback is not None:
            command.help = reflowed_help(command.callback.__doc__ or "")
        _guard_store_option(command)
        _guard_engine_option(command)
        _guard_path_options(command)
        _guard_arguments(command, name)


EMPTY = inspect.Parameter.empty

#: What an argument read as text takes, for the message that refuses it empty (a `Path` one
#: takes a path).
_ARGUMENT_TAKES = {
    "RUN_ID": "a run id (see bordersim runs)",
    "A": "a scenario file or a run id",
    "B": "a scenario file or a run id",
    "SOURCE": "a store file or a postgresql:// URL",
    "DEST": "a store file or a postgresql:// URL",
}

#: The arguments that take a run id: taken without the spaces or line end that a copied id
#: brings (as `sweep --resume` takes its id), which made it another id that no run has.
_ID_ARGUMENTS = ("RUN_ID", "A", "B")


def _guard_arguments(command: CommandInfo, name: str) -> None:
    """Give each positional argument of a command the check that refuses an empty value (an
    unset variable, as in bordersim run "$SCENARIO"), naming the command and the argument:
    a `Path` made of "" is the current folder, which the command would then read or name as
    ".", and a run id or a store made of "" was looked up as one. An argument with a default
    of its own (`scenario params`' PREFIX, "" for every key) keeps it."""
    if command.callback is None:
        return
    hints = typing.get_type_hints(command.callback, include_extras=True)
    for parameter in inspect.signature(command.callback).parameters.values():
        annotation, argument = hints.get(parameter.name), parameter.default
        default = argument.default if isinstance(argument, ArgumentInfo) else argument
        if typing.get_origin(annotation) is typing.Annotated:  # typer.Argument in Annotated
            # kept as evaluated here: typer would evaluate the annotation's text again, to an
            # ArgumentInfo of its own without the check
            command.callback.__annotations__[parameter.name] = annotation
            annotation, *extras = typing.get_args(annotation)
            argument = next((e for e in extras if isinstance(e, ArgumentInfo)), None)
        if not isinstance(argument, ArgumentInfo) or default not in (..., None, EMPTY):
            continue
        shown = argument.metavar or parameter.name.upper()
        if _is_path(annotation):
            if argument.parser is None:
                argument.parser = given_path(shown, command=name)
        elif argument.callback is None:
            argument.callback = _refuse_empty_argument(
                shown, name, _ARGUMENT_TAKES.get(shown, "a path"), trim=shown in _ID_ARGUMENTS
            )


def _is_path(annotation: Any) -> bool:
    """Whether an argument's type is `Path`, `Path | None` or `list[Path]`."""
    if annotation is Path:
        return True
    return any(_is_path(inner) for inner in typing.get_args(annotation))


def _refuse_empty_argument(
    shown: str, command: str, takes: str, *, trim: bool = False
) -> Callable[[Any], Any]:
    def refuse_empty(value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise BordersimError(
                f"{shown} is empty (an unset variable?); give {takes}", where=command
            )
        if takes == "a path" and isinstance(value, str):  # a scenario file read as text
            return str(_home_expanded(value, command))
        return stripped(value) if trim else value

    return refuse_empty


def _guard_store_option(command: CommandInfo) -> None:
    """Give a command's `--store` option the check that refuses an empty value."""
    _give_option_check(command, "--store", refuse_empty_store)


def _give_option_check(command: CommandInfo, name: str, check: Callable[[Any], Any]) -> None:
    """Make `check` the callback of the command's option `name`, where it has none of its own."""
    if command.callback is None:
        return
    for parameter in inspect.signature(command.callback).parameters.values():
        option = parameter.default
        named = isinstance(option, OptionInfo) and name in (option.param_decls or ())
        if named and option.callback is None:
            option.callback = check


def _guard_path_options(command: CommandInfo) -> None:
    """Give each path option of a command (`Path` or `Path | None`) the check that refuses an
    empty value, naming the option: --out "$OUT" with the variable unset was the current folder,
    where `run`, `compare` and `main-job` then wrote their reports beside the user's files."""
    if command.callback is None:
        return
    hints = typing.get_type_hints(command.callback)
    for parameter in inspect.signature(command.callback).parameters.values():
        option = parameter.default
        if not isinstance(option, OptionInfo) or option.parser is not None:
            continue
        if not _is_path(hints.get(parameter.name)):
            continue
        long_names = [d for d in option.param_decls or () if d.startswith("--")]
        option.parser = given_path(long_names[0] if long_names else parameter.name)
        option.metavar = option.metavar or PATH


def _guard_engine_option(command: CommandInfo) -> None:
    """Give a command's `--engine` option `engine_named`, so that every command reads an
    engine's name alike."""
    _give_option_check(command, "--engine", engine_named)


def engine_named(value: object) -> object:
    """An engine's name whatever its case and without the spaces around it: --engine FLOW
    names one engine only, which was refused as unknown. A name of no engine is kept as typed,
    for the refusal to quote it."""
    from bordersim.engines import ENGINES

    if not isinstance(value, str):
        return value
    name = value.strip().lower()
    return name if name in ENGINES else value


def refuse_empty_store(value: object) -> object:
    """An empty `--store` (an unset variable, as in --store "$STORE") is refused: a command
    would otherwise read it as no option (the default store) or as the current folder. Spaces
    around a store are left out, as `stripped` says."""
    if value is not None and not str(value).strip():
        raise BordersimError(
            "is empty (an unset variable?); name the store, or leave --store out for the "
            "default ($BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb)",
            where="--store",
        )
    return stripped(value)


def stripped(value: object) -> object:
    """An option's value without the spaces around it: the callback of the options that take an
    address, a spec or an id (--store, --cluster, --host, sweep --resume, and a run id's
    argument), where a space from the shell's quoting or a copied line (--cluster " local:2")
    is no part of the value. With it, " postgresql://..." was taken for a file named so in the
    current folder, and " 127.0.0.1" for a host beyond loopback."""
    return value.strip() if isinstance(value, str) else value


def given_folder(value: str | None, name: str) -> Path | None:
    """A folder option read as text (None where it was not given), refused when empty: "$DIR"
    with the variable unset is otherwise the current folder, where a command would write. The
    refusal is `given_path`'s, so that every command words an empty option alike."""
    if value is None:
        return None
    return given_path(name)(value)


#: How the help shows a path option read by `given_path`: as every path option (see cli.py).
PATH = "PATH"


def given_path(name: str, *, command: str | None = None) -> Callable[[str], Path]:
    """The parser of a path option (`name`) that refuses an empty value: an unset variable, as in
    --out "$OUT", is otherwise the current folder, ".", where a command would write. Every
    command's path options get it where they are registered (`_guard_path_options`, which gives
    them the PATH metavar too). For a positional
    argument, `command` names the command, as ``run: SCENARIO is empty ...`` (every command's
    path arguments get this parser where they are registered, `_guard_arguments`)."""

    def path(value: str | Path) -> Path:
        if isinstance(value, Path):
            return value
        if not value.strip():
            if command is not None:
                raise BordersimError(
                    f"{name} is empty (an unset variable?); give a path", where=command
                )
            raise BordersimError("is empty (an unset variable?); give a path", where=name)
        return _home_expanded(value, command or name)

    return path


def _home_expanded(value: str, where: str) -> Path:
    """A path typed with a leading "~" read as the home folder: the shell leaves it as typed
    after an "=" (--out=~/reports), where it made a folder named "~" in the current folder."""
    try:
        return Path(value).expanduser()
    except RuntimeError:  # "~user" of no such user
        raise BordersimError(
            f"{value}: cannot find the home folder it names", where=where
        ) from None


def _named_commands(app: typer.Typer, prefix: str = "") -> Iterator[tuple[str, CommandInfo]]:
    """Each command with its name as typed (``scenario check``)."""
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        yield f"{prefix}{name.replace('_', '-')}", command
    for group in app.registered_groups:
        if group.typer_instance is not None:
            yield from _named_commands(group.typer_instance, f"{prefix}{group.name} ")


def reflowed_help(docstring: str) -> str:
    """A docstring as help text whose prose paragraphs are one line each.

    Rich help keeps the line breaks of every paragraph after the first, so a docstring wrapped at
    the source's width would print wrapped twice. Lists (lines starting with "- ") and indented
    examples keep their lines.
    """
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n\n".join(_joined(paragraph) for paragraph in paragraphs)


def _joined(paragraph: str) -> str:
    lines = paragraph.splitlines()
    if any(line.startswith(("- ", "* ", " ", "\b")) for line in lines):
        return paragraph
    return " ".join(line.strip() for line in lines)
