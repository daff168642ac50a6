"""docs/scenarios.md's table of the shipped scenarios lists every scenario file that ships, and
only those, so a new one (or a renamed one) fails here until the page describes it. The
workbench's saved variants (`scenarios/variants/`) and the demand fits do not ship as scenarios.
"""

from __future__ import annotations

import re

from doc_pages import page_text
from repo_paths import SCENARIOS

PAGE = "docs/scenarios.md"


def listed() -> set[str]:
    text = page_text(PAGE)
    table = text[text.index("\n## The shipped scenarios\n") :]
    return set(re.findall(r"^\| `([\w/.-]+\.toml)` \|", table, re.M))


def test_the_table_lists_every_shipped_scenario() -> None:
    shipped = {
        path.relative_to(SCENARIOS).as_posix()
        for path in SCENARIOS.rglob("*.toml")
        if not {"fits", "variants"} & set(path.relative_to(SCENARIOS).parts)
    }
    assert listed() == shipped
