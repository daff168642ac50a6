"""CLI command groups, one module per area. Heavy imports happen inside the commands.

Each module exposes `register(app)`; `register_all` calls those that exist, so that an area can be
added without touching the others.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from typer.models import CommandInfo, OptionInfo

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
    for command in _commands(app):
        if command.help is None and command.callback is not None:
            command.help = reflowed_help(command.callback.__doc__ or "")
        _guard_store_option(command)


def _guard_store_option(command: CommandInfo) -> None:
    """Give a command's `--store` option the check that refuses an empty value."""
    if command.callback is None:
        return
    for parameter in inspect.signature(command.callback).parameters.values():
        option = parameter.default
        store_option = isinstance(option, OptionInfo) and "--store" in (option.param_decls or ())
        if store_option and option.callback is None:
            option.callback = refuse_empty_store


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
    address or a spec (--store, --cluster, --host), where a space from the shell's quoting
    (--cluster " local:2") is no part of the value. With it, " postgresql://..." was taken for
    a file named so in the current folder, and " 127.0.0.1" for a host beyond loopback."""
    return value.strip() if isinstance(value, str) else value


def given_folder(value: str | None, name: str) -> Path | None:
    """A folder option read as text (None where it was not given), refused when empty: "$DIR"
    with the variable unset is otherwise the current folder, where a command would write."""
    if value is None:
        return None
    if not value.strip():
        raise BordersimError(f"{name} is empty (an unset variable?); give a folder")
    return Path(value)


#: How the help shows a path option read by `given_path`: as every path option (see cli.py).
PATH = "PATH"


def given_path(name: str) -> Callable[[str], Path]:
    """The parser of a path option (`name`) that refuses an empty value: an unset variable, as in
    --out "$OUT", is otherwise the current folder, ".", where a command would write. Give the
    option ``metavar=PATH`` so that its help reads as any path option's."""

    def path(value: str | Path) -> Path:
        if isinstance(value, Path):
            return value
        if not value.strip():
            raise BordersimError("is empty (an unset variable?); give a path", where=name)
        return Path(value)

    return path


def _commands(app: typer.Typer) -> Iterator[CommandInfo]:
    yield from app.registered_commands
    for group in app.registered_groups:
        if group.typer_instance is not None:
            yield from _commands(group.typer_instance)


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
