"""Every run report carries the operational validation section."""

from __future__ import annotations

from pathlib import Path

from bordersim.report.run_report import RunRecord, write_run_report
from bordersim.results.schema import METRIC_INDEX
from constructed_runs import constructed_run


def test_the_run_report_has_the_operational_validation(tmp_path: Path) -> None:
    run = constructed_run(replications=3, days=21)  # Tucson and RGV, 1-21 May 2023
    run.daily[..., METRIC_INDEX["occupancy_mean"]] = 100.0  # RGV: far below the 5,000 of 13 May
    text = write_run_report(
        tmp_path / "report.html", RunRecord(run_id="r", result=run), official=None
    ).read_text()
    assert "Validation: operational targets" in text
    section = text[text.index("Validation: operational targets") :]
    assert "2023-05-13" in section and "Rio Grande Valley" in section
    assert '<tr class="flag">' in section  # the miss is flagged
    assert "Not compared" in section and "per-person records" in section
    # named as the compared figures are, not by the targets file's metric names
    not_compared = section[section.index("Not compared") :]
    assert "people in custody" in not_compared and "custody_population" not in not_compared
    # the course of custody over the whole run: level at 100 a sector, so no warning
    assert "Custody over the run (each day" in section
    assert "mean number held, all simulated sectors" in section
    assert "highest 200 on 2023-05-01" in section
    assert "still growing" not in section


def test_a_period_with_nothing_compared_shows_no_empty_table(tmp_path: Path) -> None:
    """Five days of May 2023: the period's targets all need more days than the run reports. The
    section said "0 compared" and then drew the compared table's header over no rows."""
    run = constructed_run(replications=2, days=5)
    text = write_run_report(
        tmp_path / "report.html", RunRecord(run_id="r", result=run), official=None
    ).read_text()
    section = text[text.index("Validation: operational targets</h2>") :]
    assert "0 compared: 0 in range, 0 within 30 %, 0 missed" in section
    assert "<th>measure</th>" not in section
    assert "Not compared (2):" in section and "<th>figure</th>" in section


def test_the_section_shows_no_markdown_backticks(tmp_path: Path) -> None:
    """The section's paragraph read "`bordersim validate SCENARIO` also measures ...", the
    backticks of a text file shown as they are in the HTML page."""
    import re

    run = constructed_run(replications=2, days=5)
    text = write_run_report(
        tmp_path / "report.html", RunRecord(run_id="r", result=run), official=None
    ).read_text()
    paragraphs = re.findall(r"<p[^>]*>([^<]*)</p>", text)
    assert [p for p in paragraphs if "`" in p] == []
    assert any("bordersim validate, run on the scenario, also measures" in p for p in paragraphs)


def test_a_run_of_one_replication_is_not_said_to_have_intervals(tmp_path: Path) -> None:
    # the section of a one-replication run's report put the targets "beside the simulated mean
    # and its 95 % interval", and its table showed none
    run = constructed_run(replications=1, days=21)
    text = write_run_report(
        tmp_path / "report.html", RunRecord(run_id="r", result=run), official=None
    ).read_text()
    section = text[text.index("Validation: operational targets</h2>") :]
    assert "95 % interval" not in section
    assert "beside the simulated value of the one replication (no interval)" in section
    many = constructed_run(replications=2, days=21)
    text = write_run_report(
        tmp_path / "report.html", RunRecord(run_id="r", result=many), official=None
    ).read_text()
    assert "beside the simulated mean and its 95 % interval" in text
