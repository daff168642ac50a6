"""Every TOML example of the README and docs/ is accepted as what it shows: a scenario file or a
part of one loads as a variant of the main scenario, the plan file parses as a plan, and an
example that names a shipped file is that file. docs/extending.md's examples (edits of the source
and scenarios that need them) are applied and run by `test_extending.py`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bordersim.planner.spec import parse_plan
from bordersim.scenario import load_scenario
from doc_pages import PAGES, blocks
from repo_paths import REPO, SCENARIOS

SCENARIO_PAGES = ("README.md", "docs/scenarios.md", "docs/forecast.md")
PLAN_PAGE = "docs/planner.md"
EDITS_PAGE = "docs/extending.md"
MAIN = "2023-title42-end.toml"
NAMES_A_FILE = re.compile(r"\A# (scenarios/\S+\.toml)\n")  # an example that is a shipped file


def examples(page: str) -> list[str]:
    return blocks(page, "toml")


def scenario_examples() -> list[tuple[str, int, str]]:
    return [(page, i, block) for page in SCENARIO_PAGES for i, block in enumerate(examples(page))]


def test_every_toml_example_is_checked() -> None:
    with_examples = {page for page in PAGES if examples(page)}
    assert with_examples == {*SCENARIO_PAGES, PLAN_PAGE, EDITS_PAGE}
    assert len(scenario_examples()) >= 6


@pytest.mark.parametrize(("page", "index", "block"), scenario_examples(), ids=lambda v: str(v)[:20])
def test_a_scenario_example_loads(tmp_path: Path, page: str, index: int, block: str) -> None:
    """A file with its own base loads as written, a part of a file on the main scenario: both
    beside the shipped scenarios, so that relative paths (bases, fits) resolve as in the docs."""
    for shipped in SCENARIOS.iterdir():
        (tmp_path / shipped.name).symlink_to(shipped)
    has_base = re.search(r"^base\s*=", block, re.M) is not None
    file = tmp_path / "example.toml"
    file.write_text(block if has_base else f'base = "{MAIN}"\n{block}', encoding="utf-8")
    scenario = load_scenario(file)
    written = tomllib.loads(block)
    if "name" in written:
        assert scenario.name == written["name"]
    named = NAMES_A_FILE.match(block)
    if named:  # "# scenarios/X.toml" alone on the first line: that shipped file, to the value
        assert written == tomllib.loads((REPO / named.group(1)).read_text(encoding="utf-8"))


def test_the_plan_file_example_parses_as_a_plan() -> None:
    (block,) = examples(PLAN_PAGE)
    spec = parse_plan(block, PLAN_PAGE)
    written = tomllib.loads(block)
    assert spec.name == written["name"]
    assert {pool.pool.name.lower() for pool in spec.pools} == set(written["pools"])
    assert spec.forecast is not None and spec.forecast.paths == written["forecast"]["paths"]


def test_the_edit_examples_are_all_edits_or_scenario_parts() -> None:
    for block in examples(EDITS_PAGE):
        if not block.startswith("# edit "):
            tomllib.loads(block)  # a scenario part, run by test_extending.py
