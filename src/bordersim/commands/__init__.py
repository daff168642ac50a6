"""CLI command groups, one module per area. Heavy imports happen inside the commands.

Each module exposes `register(app)`; `register_all` calls those that exist, so that an area can be
added without touching the others.
"""

from __future__ import annotations

import importlib

import typer

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
