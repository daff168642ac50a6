"""docs/scenarios.md, "Units are in the names", lists the names a scenario file uses for sectors,
demographic groups, pathways, pools and tasks; each list is the model's own (`model.dimensions`),
in its order, so a pool or task added as docs/extending.md shows fails here until the page names
it."""

from __future__ import annotations

import re
from enum import IntEnum

import pytest

from bordersim.model.dimensions import Demographic, Pathway, Pool, Sector, Task
from doc_pages import page_text

PAGE = "docs/scenarios.md"


def vocabulary() -> str:
    text = page_text(PAGE)
    start = text.index("\n## Units are in the names\n")
    return text[start : text.index("\n## ", start + 1)]


def listed(kind: str) -> list[str]:
    """The names in backticks of the parenthesis that follows `kind` in the section."""
    found = re.search(rf"{kind}:?\s+\(([^)]*)\)", vocabulary())
    assert found is not None, f"{PAGE} lists no {kind}"
    return re.findall(r"`([a-z_0-9]+)`", found.group(1))


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        ("Groups are given per demographic", Demographic),
        ("pathways by name", Pathway),
        ("pools", Pool),
        ("tasks", Task),
    ],
)
def test_the_page_lists_the_models_names(kind: str, names: type[IntEnum]) -> None:
    assert listed(kind) == [member.name.lower() for member in names]


def test_the_page_lists_the_sector_codes() -> None:
    codes = re.search(r"Sectors are CBP codes: `([A-Z ]+)`", vocabulary())
    assert codes is not None
    assert codes.group(1).split() == [sector.name for sector in Sector]
