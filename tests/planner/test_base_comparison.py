"""The plan report's comparison with the base scenario says what each of its counts counts."""

from __future__ import annotations

import dataclasses
import re

import pytest
from planner_cases import one_sector_model, troops_spec

from bordersim.planner import plan_model
from bordersim.planner.report import plan_report

pytestmark = pytest.mark.slow


def test_each_count_of_the_base_comparison_names_its_replications_and_rule() -> None:
    spec = troops_spec(replications=8)
    search = dataclasses.replace(spec.search, trim_seconds=0)
    result = plan_model(
        one_sector_model(), dataclasses.replace(spec, search=search), frontier=False, bound=False
    )
    assert result.base is not None
    base, cert = result.base, result.certificate
    page = plan_report(result)
    section = page[page.index("<h2>Comparison with the base") :]
    section = section[: section.index("</p>")]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>.*?</t[dh]>", section)]
    uncertified = int((~cert.certified & cert.required).sum())
    in_any = int((~base.evaluation.holds.all(axis=0) & cert.required).sum())
    assert base.missed > 0 and in_any > 0  # the base leaves the one sector short
    assert cells == [
        "",
        "planned pools&#x27; cost ($)",
        "required sector-weeks missed",
        "counted as",
        "base scenario (no deployment replaced)",
        "0",
        str(base.missed),
        "not met by the search&#x27;s rule on its sample (8 flow-engine replications)",
        "this plan",
        f"{result.cost:,.0f}",
        str(uncertified),
        f"not certified on {cert.n} fresh flow-engine replications",
    ]
    assert "different replications and by different rules" in section
    assert (
        f"In the base, {in_any} required sector-weeks miss their target in at least one "
        "replication of the search's sample (8 flow-engine replications)." in section
    )
