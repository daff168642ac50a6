"""Checks of a function passed to be called back (a `progress=`), made before any work starts."""

from __future__ import annotations

import inspect


def takes_positional(function: object, count: int) -> bool:
    """Whether `function` can be called with `count` positional arguments. One whose signature
    cannot be read (some built-ins, C extensions) is taken, as it may well accept them."""
    try:
        signature = inspect.signature(function)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(*range(count))
    except TypeError:
        return False
    return True


def described(function: object) -> str:
    """The function as a message names it: its name and parameters, ``<lambda>(d)``."""
    name = getattr(function, "__name__", None) or type(function).__name__
    try:
        return f"{name}{inspect.signature(function)}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(name)
