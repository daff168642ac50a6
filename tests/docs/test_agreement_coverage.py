"""The README and docs/flow-engine.md say the engines agree on every shipped scenario
(`tests/flow/test_agreement.py`): the scenarios that test runs are the shipped ones, so a new
scenario left out of it fails here instead of making the claim false."""

from __future__ import annotations

import re

from doc_pages import page_text
from repo_paths import REPO, SCENARIOS

AGREEMENT = REPO / "tests" / "flow" / "test_agreement.py"


def test_the_agreement_test_runs_every_shipped_scenario() -> None:
    tested = set(re.findall(r'"(scenarios/[\w/.-]+\.toml)"', AGREEMENT.read_text(encoding="utf-8")))
    shipped = {
        f"scenarios/{path.relative_to(SCENARIOS).as_posix()}"
        for path in [*SCENARIOS.glob("*.toml"), SCENARIOS / "examples" / "small.toml"]
    }
    assert shipped - tested == set()


def test_the_pages_make_the_claim_this_test_holds() -> None:
    assert "agrees with the event engine on every shipped scenario" in page_text("README.md")
    assert "every shipped scenario (4 replications each)" in page_text("docs/flow-engine.md")
