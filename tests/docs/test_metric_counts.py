"""Where the README and docs/scaling.md count the daily metrics ("N daily metrics", "rows of N
metrics"), N is the number the results have (`DAILY_METRICS`), so a metric added to the results
fails here until the pages say so."""

from __future__ import annotations

import re

import pytest

from bordersim.results.schema import DAILY_METRICS
from doc_pages import page_text

COUNTED = re.compile(r"\b(\d+) (?:daily )?metrics\b")


@pytest.mark.parametrize("page", ["README.md", "docs/scaling.md"])
def test_the_pages_count_the_daily_metrics(page: str) -> None:
    counts = {int(n) for n in COUNTED.findall(page_text(page))}
    assert counts <= {len(DAILY_METRICS)}
