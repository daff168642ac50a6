"""The run report's operational validation: public targets of the run's period beside the run.

The same comparison as `bordersim validate` (`bordersim.validation.compare`), from the run's
daily results, with the course of custody over the whole run (`bordersim.validation.course`).
A stored run keeps no per-person records, so the targets that need them (children
in custody, Title 42 times, the share held over 72 hours) are listed as not compared, with the
command that measures them.
"""

from __future__ import annotations

from bordersim.report.page import Page
from bordersim.results.schema import RunResult
from bordersim.validation.compare import (
    MISS,
    NOT_COMPARED,
    Comparison,
    comparison_cells,
    counts_by_score,
    validate,
)
from bordersim.validation.course import custody_course, describe
from bordersim.validation.measures import RunView
from bordersim.validation.targets import Target, load_targets


def add_operational_validation(
    page: Page, result: RunResult, targets: list[Target] | None = None
) -> None:
    """Append the section: a table of compared targets (misses flagged) and what was not."""
    page.heading("Validation: operational targets")
    comparisons = validate(targets if targets is not None else load_targets(), RunView(result))
    if not comparisons:
        page.paragraph("No public operational target falls in this run's period.", "note")
        return
    compared = [c for c in comparisons if c.score != NOT_COMPARED]
    counts = counts_by_score(comparisons)
    # one replication has no interval: its table shows the value alone
    simulated = (
        "simulated value of the one replication (no interval)"
        if result.n_replications == 1
        else "simulated mean and its 95 % interval"
    )
    page.paragraph(
        f"Public figures on the operational state of the border (custody, capacity, time in "
        f"custody, got-aways, agents off the field, transfers) for this run's period, beside the "
        f"{simulated}. {len(compared)} compared: {counts['in range']} "
        f"in range, {counts['within 30 %']} within 30 %, {counts[MISS]} missed (flagged). "
        # plain words: the page is HTML, where a text file's `backticks` show as they are
        "bordersim validate, run on the scenario, also measures the targets that need per-person "
        "records."
    )
    if compared:  # with none, the table would be a header over no rows
        _add_compared_table(page, compared)
    course, *warning = describe(custody_course(result))
    page.paragraph(course)
    for line in warning:
        page.paragraph(line, "note")
    skipped = [c for c in comparisons if c.score == NOT_COMPARED]
    if skipped:
        page.paragraph(f"Not compared ({len(skipped)}):")
        page.table(
            ["figure", "period", "scope", "why"],
            [[c.label, c.target.period_text(), c.target.scope, c.note] for c in skipped],
        )


def _add_compared_table(page: Page, compared: list[Comparison]) -> None:
    """The compared targets, one row each, the misses flagged."""
    page.table(
        [
            "measure",
            "period",
            "scope",
            "target",
            "simulated",
            "error",
            "score",
            "evidence",
            "confidence",
            "source",
            "model",
        ],
        [[*comparison_cells(c), c.note] for c in compared],
        flagged=[c.score == MISS for c in compared],
    )
