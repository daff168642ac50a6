"""docs/scenarios.md names every key a scenario may set: its "Sections" table (and, for a
deployment, its "Deployments" example) holds each field of the scenario's schema, so a key added
to the schema without its line in the page fails here."""

from __future__ import annotations

import re
import typing

from pydantic import BaseModel

from bordersim.scenario.schema import (
    ByDemographic,
    ByPathway,
    BySector,
    ByTask,
    Pools,
    ScenarioSpec,
)
from doc_pages import page_text

PAGE = "docs/scenarios.md"
#: Tables of one value per sector, demographic, pathway or task: their keys are the vocabulary's
#: names, listed once under "Units are in the names", not a key of their own.
VOCABULARY = (BySector, ByDemographic, ByPathway, ByTask)


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def documented_names() -> set[str]:
    """Every name written in backticks in the page's "Sections" table and "Deployments"."""
    text = page_text(PAGE)
    parts = section(text, "Sections") + section(text, "Deployments")
    names: set[str] = set()
    for ticked in re.findall(r"`([^`]+)`", parts):
        names |= set(re.findall(r"[a-z][a-z_0-9]*", ticked))
    return names


def models_in(annotation: object) -> list[type[BaseModel]]:
    """The sections an annotation holds (`X | None`, `dict[str, X]`, `Annotated[...]`)."""
    found = [m for a in typing.get_args(annotation) for m in models_in(a)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    return found


def schema_keys(model: type[BaseModel] = ScenarioSpec, path: str = "") -> list[str]:
    """Every key path of the schema, a table keyed by name (deployments, shocks) once."""
    keys: list[str] = []
    for name, field in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        keys.append(key)
        for inner in models_in(field.annotation):
            if issubclass(inner, VOCABULARY):
                continue
            if inner is Pools:  # one table per pool, all alike
                pool = Pools.model_fields["agent"].annotation
                assert isinstance(pool, type) and issubclass(pool, BaseModel)
                keys += schema_keys(pool, f"{key}.POOL")
            else:
                keys += schema_keys(inner, key)
    return keys


def test_every_scenario_key_is_documented() -> None:
    names = documented_names()
    missing = [key for key in schema_keys() if key.rsplit(".", 1)[-1] not in names]
    assert missing == [], f"{PAGE} does not name these scenario keys: {missing}"


def test_the_walk_reaches_nested_and_named_tables() -> None:
    keys = schema_keys()
    for key in (
        "period.warmup_days",
        "demand.shocks.surge_multiplier",
        "demand.forecast.quantile",
        "custody.decompression.seats_per_day",
        "staff.pools.POOL.on_duty_fraction",
        "deployments.ramp_up_days",
        "departures.hhs_beds_added.beds",
    ):
        assert key in keys
    assert not any(key.startswith("custody.capacity_people.") for key in keys)
