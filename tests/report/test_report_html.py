"""Reports are single self-contained files, written whole or not at all."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import bordersim as bs
from bordersim.model.dimensions import Pathway, Pool, Sector, Task
from bordersim.output_files import write_atomically
from bordersim.report.compare_report import write_compare_report
from bordersim.report.page import Page
from bordersim.report.run_report import RunRecord, run_report_page, write_run_report
from bordersim.results.schema import METRIC_INDEX, RunResult
from repo_paths import SMALL


def _external_resources(text: str) -> list[str]:
    return re.findall(r"""<(?:script|link|img)[^>]+(?:src|href)\s*=\s*["']?https?://""", text)


def _official(sector: Sector) -> pd.Series:
    # The constructed run has 21 days of May 2023, so no month is complete; see the next test.
    return pd.Series({dt.date(2023, 5, 1): 1000.0})


def test_run_report_is_self_contained_with_every_section(
    make_run: Callable[..., RunResult], tmp_path: Path
) -> None:
    record = RunRecord(
        run_id="r1",
        result=make_run(replications=3),
        scenario_text='name = "constructed"\n',
        sources={"demand.surge": "CBP monthly encounters", "staff.on_duty": "assumption: shifts"},
        code_version="0.1.0",
    )
    path = write_run_report(tmp_path / "out" / "report.html", record, official=_official)
    text = path.read_text()
    assert _external_resources(text) == []
    # plotly's cartesian partial bundle is inline, once for all figures
    assert text.count("plotly.js (cartesian - minified) v") == 1
    for section in (
        "Key performance indicators",
        "Custody",
        "Staff",
        "Departures",
        "Supplies and care",
        "Health",
        "Cost",
        "Capability gap",
        "Validation",
        "CBP monthly encounters",
        "assumption: shifts",
        "72 h standard",
    ):
        assert section in text, section
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temporary left


def test_validation_flags_months_beyond_five_percent(
    make_run: Callable[..., RunResult], tmp_path: Path
) -> None:
    run = make_run(replications=2, days=61)  # 1 May to 30 June 2023: two full months
    may = run.metric("encounters")[:, :31].sum(axis=1).mean(axis=0)  # [S]

    def official(sector: Sector) -> pd.Series:
        s = list(run.sectors).index(sector)
        # TCA: May simulated exactly; RGV: official 10 % above the simulation.
        factor = 1.0 if sector == Sector.TCA else 1.1
        return pd.Series(
            {pd.Period("2023-05", "M"): may[s] * factor, pd.Period("2023-06", "M"): 1.0}
        )

    from bordersim.results.validation import monthly_validation

    table = monthly_validation(run, official)
    assert list(table["month"].unique()) == [dt.date(2023, 5, 1), dt.date(2023, 6, 1)]
    may_rows = table[table["month"] == dt.date(2023, 5, 1)].set_index("sector")
    assert may_rows.loc["TCA", "error_pct"] == pytest.approx(0.0, abs=1e-9)
    assert may_rows.loc["RGV", "error_pct"] == pytest.approx(100 * (1 / 1.1 - 1))
    assert list(may_rows["flagged"]) == [False, True]
    assert table[table["month"] == dt.date(2023, 6, 1)]["flagged"].all()


def test_months_past_the_official_data_are_not_compared_nor_flagged(
    make_run: Callable[..., RunResult],
) -> None:
    """A scenario on a forecast runs past the data. June 2023 had no official count here, and
    its rows read official "nan", error "+nan %" and flagged, as if the simulation were beyond
    5 % of a figure there is none of: "Rows beyond 5 % are flagged: 2 of 4"."""
    run = make_run(replications=2, days=61)  # 1 May to 30 June 2023: two full months
    may = run.metric("encounters")[:, :31].sum(axis=1).mean(axis=0)  # [S]

    def official(sector: Sector) -> pd.Series:
        return pd.Series({pd.Period("2023-05", "M"): may[list(run.sectors).index(sector)]})

    from bordersim.results.validation import monthly_validation

    table = monthly_validation(run, official)
    assert list(table["month"]) == [dt.date(2023, 5, 1)] * 2
    assert not table["flagged"].any()
    text = run_report_page(RunRecord(run_id="r", result=run), official=official).render()
    assert "Rows beyond 5 % are flagged: 0 of 2." in text
    assert "nan" not in re.sub(r"<script.*?</script>", "", text, flags=re.S).lower()

    def before(sector: Sector) -> pd.Series:
        return pd.Series({pd.Period("2023-04", "M"): 1.0})

    assert monthly_validation(run, before).empty
    text = run_report_page(RunRecord(run_id="r", result=run), official=before).render()
    assert "no full calendar month that the official monthly counts have" in text


def test_compare_report_names_both_runs(make_run: Callable[..., RunResult], tmp_path: Path) -> None:
    a = RunRecord(run_id="a", result=make_run(replications=3, seed=1))
    b_result = make_run(replications=3, seed=1)
    b_result.scenario_name = "variant"
    b = RunRecord(run_id="b", result=b_result)
    text = write_compare_report(tmp_path / "compare.html", a, b).read_text()
    assert _external_resources(text) == []
    assert "Differences B - A" in text and "common random numbers" in text
    assert "A: constructed" in text and "B: variant" in text


def _needs_exactly_what_is_supplied(run: RunResult, noise: float) -> None:
    """Every task's needed staff-hours equal the hours supplied, plus `noise` in the first
    sector-day of the last task, as float sums leave."""
    for t in Task:
        supplied = sum(
            run.daily[..., METRIC_INDEX[f"staff_hours:{p.name.lower()}:{t.name.lower()}"]]
            for p in Pool
        )
        run.daily[..., METRIC_INDEX[f"staff_hours_needed:{t.name.lower()}"]] = supplied
    run.daily[:, 0, 0, METRIC_INDEX[f"staff_hours_needed:{Task(len(Task) - 1).name.lower()}"]] += (
        noise
    )


def test_compare_report_counts_no_gap_for_float_noise(
    make_run: Callable[..., RunResult], tmp_path: Path
) -> None:
    a_result, b_result = make_run(replications=2), make_run(replications=2)
    _needs_exactly_what_is_supplied(a_result, noise=8e-5)
    _needs_exactly_what_is_supplied(b_result, noise=3.0)
    a, b = RunRecord(run_id="a", result=a_result), RunRecord(run_id="b", result=b_result)
    text = write_compare_report(tmp_path / "compare.html", a, b).read_text()
    assert "A 0 of 3, B 1 of 3." in text


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    with pytest.raises(TypeError):
        write_atomically(target, 123)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    page = Page("t")
    page.paragraph("ok")
    assert page.write(target).read_text().startswith("<!DOCTYPE html>")


def test_run_report_gives_each_timing_its_unit(tmp_path: Path) -> None:
    # The flow engine's rate and chunk size are not seconds ("2.83 s", "2.00 s" before)
    out = tmp_path / "out"
    bs.run(SMALL, replications=2, seed=1, engine="flow", store=tmp_path / "s.duckdb", out=out)
    cells = dict(
        re.findall(
            r"<td>timing: (\w+)</td><td[^>]*>([^<]*)</td>", (out / "report.html").read_text()
        )
    )
    assert cells["chunk_replications"] == "2"
    assert re.fullmatch(r"[\d,.]+ per second", cells["replications_per_s"]), cells
    assert re.fullmatch(r"\d+\.\d\d s", cells["run_s"]) and cells["run_s_per_replication"].endswith(
        " s"
    )


def test_a_run_of_one_replication_says_it_has_no_intervals(
    make_run: Callable[..., RunResult],
) -> None:
    # A run of one replication read "1 replications ... Values are means over replications with
    # 95 % t intervals", and showed none.
    record = RunRecord(
        run_id="r1",
        result=make_run(replications=1),
        scenario_text='name = "constructed"\n',
        sources={},
        code_version="0.1.0",
    )
    text = run_report_page(record, official=_official).render()
    assert "one replication from seed 1" in text and "1 replications" not in text
    assert "no interval" in text and "with 95 % t intervals" not in text


def test_the_indicator_table_of_one_replication_is_headed_as_its_values(
    make_run: Callable[..., RunResult],
) -> None:
    """The report of a run of one replication said above its table that it gave no interval, but
    the table's column read "mean [95 % interval]" and the sector table "means over
    replications", over one replication's values (so did the workbench's run dashboard). They
    now say those are the replication's values; a run of several says over how many
    replications its intervals are."""

    def page_of(replications: int) -> str:
        record = RunRecord(run_id="r1", result=make_run(replications=replications))
        return run_report_page(record, official=_official).render()

    one, three = page_of(1), page_of(3)
    header = "<th>indicator</th><th>value (one replication: no interval)</th><th>unit</th>"
    assert header in one and "mean [95 % interval]" not in one
    assert "means over replications, whole reported period" not in one
    assert "By sector (values of the one replication, whole reported period):" in one
    assert "<th>mean [95 % interval] over 3 replications</th>" in three
    assert "By sector (means over replications, whole reported period):" in three
    # the workbench's run dashboard heads its table the same way
    from bordersim.web.dashboards import run_dashboard

    view = run_dashboard(make_run(replications=1), sector="all", month="all")
    assert view.header == ("indicator", "value (one replication: no interval)", "unit")


def test_the_staff_table_says_its_unit_and_period(make_run: Callable[..., RunResult]) -> None:
    """The report's staff table of pools by task ("agent | 609,186 | 0 | 66,964 ...") had no unit,
    period or scope: hours, people or shifts, a day or the run, one sector or all? A line above it
    now says staff-hours over the whole reported period in all sectors, and over what
    replications."""
    for replications, over in ((3, "mean over replications"), (1, "the one replication")):
        record = RunRecord(run_id="r1", result=make_run(replications=replications))
        text = run_report_page(record, official=_official).render()
        staff = text.split(">Staff</h2>", 1)[1]
        caption = (
            f"Staff-hours by pool and task, whole reported period, all sectors ({over}):</p>\n"
            "<table><thead><tr><th>pool</th>"
        )
        assert caption in staff, staff[:3000]


def test_the_run_details_name_the_calibration_and_the_official_data_files(
    make_run: Callable[..., RunResult], tmp_path: Path
) -> None:
    """The report's run details gave the seed, engine, code version and scenario hash, but not
    the calibration the run's demand came from nor the official data files behind it: a reader
    could not tell which vintage of the data a run stood on. They now name the calibration (the
    shipped one, or its file and sha256), its version and the data files with their sha256; a
    calibration file changed since the run is said to be, not read as if it were the run's."""
    import shutil

    from bordersim.calibration.artifact import SHIPPED_ARTIFACT
    from bordersim.store.result_files import sha256_of

    def details(record: RunRecord) -> dict[str, str]:
        text = run_report_page(record, official=_official).render()
        return dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", text))

    shipped = details(RunRecord(run_id="r1", result=make_run(replications=2)))
    assert shipped["calibration"].startswith("the one shipped with bordersim, version ")
    data = shipped["official data"]
    assert re.search(r"ohss-usbp-encounters-\S+\.xlsx \(sha256 [0-9a-f]{12}\)", data), data
    own = tmp_path / "calibration.json"
    shutil.copyfile(SHIPPED_ARTIFACT, own)
    record = RunRecord(
        run_id="r2",
        result=make_run(replications=2),
        calibration=str(own),
        calibration_sha256=sha256_of(own),
    )
    rows = details(record)
    assert rows["calibration"].startswith(f"{own} (sha256 {sha256_of(own)}), version ")
    assert rows["official data"] == data
    own.write_text(own.read_text() + "\n")
    rows = details(record)
    assert rows["official data"].startswith("not read: the calibration file the run used")
    assert "has changed since the run" in rows["official data"]


def test_a_number_reads_the_same_in_every_table_of_the_report(
    make_run: Callable[..., RunResult],
) -> None:
    """The indicator table rounds a value from 10 to 100 to one decimal, as bordersim run prints
    it, but the report's other tables gave two: a one-sector run's 38.72 encounters read 38.7 in
    the indicator table and 38.72 in the sector table beside it. Every table now rounds as the
    indicator table does."""
    run = make_run(replications=2).of_sectors([1])
    run.daily[..., METRIC_INDEX["encounters"]] = 38.72 / len(run.dates)
    text = run_report_page(RunRecord(run_id="r1", result=run), official=_official).render()
    kpi = re.search(r"<td>Encounters</td><td>([^<]*)</td>", text)
    assert kpi is not None and kpi.group(1) == "38.7 [38.7, 38.7]"
    sector = re.search(r"<td>RGV \(Rio Grande Valley\)</td><td class=\"num\">([^<]*)</td>", text)
    assert sector is not None and sector.group(1) == "38.7"


def test_the_validation_of_one_replication_gives_no_zero_width_range(
    make_run: Callable[..., RunResult],
) -> None:
    """A run of one replication's validation table read "5-95 % over replications: 29,762 -
    29,762", a range of width zero where there is no range at all, and its chart drew the bars
    with zero-length whiskers under "simulated (mean, 5-95 % over replications)". They now say
    that one replication gives no range; a run of several keeps its range."""

    def page_of(replications: int) -> str:
        run = make_run(replications=replications, days=31)  # the whole of May 2023

        def official(sector: Sector) -> pd.Series:
            return pd.Series({pd.Period("2023-05", "M"): 1000.0})

        record = RunRecord(run_id="r1", result=run)
        return run_report_page(record, official=official).render()

    def section_of(page: str) -> str:
        heading = ">Validation: monthly encounters against the official data</h2>"
        return page.split(heading, 1)[1].split("<h2", 1)[0]

    one, two = page_of(1), page_of(2)
    section = section_of(one)
    rows = re.findall(r"<tr[^>]*><td>(TCA|RGV)</td>(.*?)</tr>", section)
    assert len(rows) == 2 and all("<td>none: one replication</td>" in r for _, r in rows), rows
    assert not re.search(r"([\d,]+) - \1</td>", section)  # no range from a value to itself
    assert "simulated (one replication)" in section and "5-95 % over replications)" not in section
    assert '"error_y"' not in section
    several = section_of(two)
    assert re.search(r"<td>[\d,]+ - [\d,]+</td>", several)
    assert "simulated (mean, 5-95 % over replications)" in several and '"error_y"' in several


def test_sectors_out_of_stock_have_an_axis_of_their_own(
    make_run: Callable[..., RunResult],
) -> None:
    """The chart "Unmet care per day" drew the number of sectors out of stock (0 to 2) on the
    person-days axis, titled "person-days / sectors", a line along zero beside hundreds of
    person-days, and neither axis said which line it measured. Sectors out of stock now have
    a right axis of their own, named in the legend."""
    import json

    record = RunRecord(run_id="r1", result=make_run(replications=2))
    text = run_report_page(record, official=_official).render()
    plots = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"display', text)
    charts = [(json.loads(d), json.loads(lay)) for d, lay in plots]
    (data, layout), *_ = [c for c in charts if c[1]["title"]["text"] == "Unmet care per day"]
    assert layout["yaxis"]["title"]["text"] == "person-days per day"
    assert layout["yaxis2"]["title"]["text"] == "sectors out of stock"
    stock = [t for t in data if t.get("name") == "sectors out of stock (right axis)"]
    assert stock and all(t["yaxis"] == "y2" for t in stock)
    assert all(t.get("yaxis", "y") == "y" for t in data if t not in stock)
    assert "person-days / sectors" not in text


def test_departure_pathways_are_named_in_words(make_run: Callable[..., RunResult]) -> None:
    """The indicator table read "Departures: title42 expulsion" and "Departures: uac transfer",
    and the departures chart's legend "title42_expulsion": the code's names, not the words the
    rest of the report uses (Title 42, UAC)."""
    from bordersim.report.figures import departures
    from bordersim.results.kpis import KPI_BY_NAME

    labels = [KPI_BY_NAME[f"departures:{p.name.lower()}"].label for p in Pathway]
    assert labels == [
        "Departures: Title 42 expulsion",
        "Departures: expedited removal",
        "Departures: release",
        "Departures: voluntary return",
        "Departures: UAC transfer",
    ]
    run = make_run(replications=2, days=5)
    legend = [trace.name for trace in departures(run, range(len(run.sectors))).data]
    assert legend[: len(Pathway)] == [label.removeprefix("Departures: ") for label in labels]


def test_a_run_of_one_day_says_one_day(make_run: Callable[..., RunResult]) -> None:
    """A run of one reported day said "2023-05-01 to 2023-05-01 (1 days)" in its details and
    that a limit binds "on 1 of 1 days" in its headline."""
    text = run_report_page(
        RunRecord(run_id="r1", result=make_run(replications=2, days=1)), official=_official
    ).render()
    details = dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", text))
    assert details["reported days"] == "2023-05-01 to 2023-05-01 (1 day)"
    assert "of 1 days" not in text and "(1 days)" not in text
    assert re.search(r"on 1 of 1 day\b", text)


def test_one_parameter_and_one_assumption_are_said_in_the_singular(
    make_run: Callable[..., RunResult],
) -> None:
    """The parameters' section read "1 parameters; 1 are flagged as assumptions"."""
    record = RunRecord(
        run_id="r1", result=make_run(replications=2), sources={"staff.on_duty": "assumption: x"}
    )
    text = run_report_page(record, official=_official).render()
    assert "<p>1 parameter; 1 is flagged as an assumption.</p>" in text
    record.sources = {"staff.on_duty": "assumption: x", "demand.surge": "CBP", "a.b": "CBP"}
    text = run_report_page(record, official=_official).render()
    assert "<p>3 parameters; 1 is flagged as an assumption.</p>" in text


def test_the_monthly_validation_table_names_its_error_column_as_the_targets_table_does(
    make_run: Callable[..., RunResult],
) -> None:
    # its header read "error %" over cells that carry their own sign ("-1.7 %"), where the
    # operational targets' table reads "error"
    from bordersim.report.run_report import validation_header

    run = make_run(replications=2, days=61)
    assert validation_header(run)[-1] == "error"
    may = run.metric("encounters")[:, :31].sum(axis=1).mean(axis=0)

    def official(sector: Sector) -> pd.Series:
        return pd.Series({pd.Period("2023-05", "M"): 1.1 * may[list(run.sectors).index(sector)]})

    text = run_report_page(RunRecord(run_id="r", result=run), official=official).render()
    assert "<th>error %</th>" not in text and "<th>error</th>" in text
    assert "-9.1 %" in text


def test_the_crowding_scale_says_its_top_colour_holds_everything_above(
    make_run: Callable[..., RunResult],
) -> None:
    # a sector at 334 % of capacity was coloured as the scale's top, labelled "150 %", as if
    # it were at 150 %
    from bordersim.report.figures import crowding_heatmap

    run = make_run(replications=2, days=5)
    colorbar = crowding_heatmap(run, range(len(run.sectors))).data[0].colorbar
    assert list(colorbar.ticktext) == ["0 %", "50 %", "100 %", "150 % or more"]
    assert list(colorbar.tickvals) == [0, 50, 100, 150]
