"""The run dashboard's sector selector narrows the key indicators with the charts: the page and
the fragment the selector swaps in show them over the chosen sector, and say which."""

from __future__ import annotations

import contextlib
import html
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from workbench_server import start_workbench, stop_workbench

from bordersim.results.kpis import format_interval, mean_interval, replication_kpis
from bordersim.results.schema import METRIC_INDEX, RunResult
from bordersim.web.app import create_app
from bordersim.web.settings import WebSettings
from constructed_runs import constructed_run, start_constructed
from repo_paths import REPO


@contextlib.contextmanager
def _workbench_of(tmp_path: Path, run: RunResult) -> Iterator[tuple[TestClient, str, RunResult]]:
    """A workbench whose store holds `run`: client, run id, run."""
    from bordersim.store import open_catalog
    from bordersim.store.runs import complete_run

    scenarios = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios", scenarios, ignore=shutil.ignore_patterns("variants"))
    settings = WebSettings(
        scenarios_dir=scenarios, store=tmp_path / "store.duckdb", out_dir=tmp_path / "out"
    )
    with open_catalog(settings.store) as catalog:
        run_id = start_constructed(catalog, run)
        complete_run(catalog, run_id, run, kpis={}, timings={}, report_path=None)
    with TestClient(create_app(settings, start_worker=False)) as client:
        yield client, run_id, run


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[TestClient, str, RunResult]]:
    """A workbench whose store holds one constructed run (TCA and RGV): client, run id, run."""
    with _workbench_of(tmp_path, constructed_run(3, 14)) as bench:
        yield bench


def _kpi(page: str, label: str) -> str:
    """The value cell of the key indicator `label` in the page's #kpis table."""
    assert '<table id="kpis">' in page, "no key indicators"
    table = page.split('<table id="kpis">', 1)[1].split("</table>", 1)[0]
    found = re.search(rf"<td>{re.escape(label)}</td><td>([^<]*)</td>", table)
    assert found, f"no {label!r} in the key indicators"
    return found.group(1)


def _encounters(run: RunResult, sectors: list[int]) -> str:
    per_replication = run.metric("encounters")[:, :, sectors].sum(axis=(1, 2))
    return format_interval(mean_interval(per_replication), "events")


@pytest.mark.parametrize("swapped", [False, True], ids=["page", "fragment"])
def test_the_key_indicators_follow_the_sector_chosen(
    stored: tuple[TestClient, str, RunResult], swapped: bool
) -> None:
    """With RGV chosen, the key indicators were those of both sectors, under a heading that did
    not say so (and the selector's swap left them alone)."""
    client, run_id, run = stored
    headers = {"HX-Request": "true"} if swapped else {}
    border = client.get(f"/runs/{run_id}", headers=headers).text
    rgv = client.get(f"/runs/{run_id}?sector=RGV", headers=headers).text
    assert _kpi(border, "Encounters") == _encounters(run, [0, 1])
    assert _kpi(rgv, "Encounters") == _encounters(run, [1])
    assert _kpi(rgv, "Encounters") != _kpi(border, "Encounters")
    assert "Key indicators: all sectors" in border
    assert "Key indicators: RGV (Rio Grande Valley)" in rgv
    assert "Capability gap (all tasks and weeks)" in rgv


def test_kpis_over_some_sectors_are_those_of_the_run_of_those_sectors() -> None:
    run = constructed_run(3, 14)
    narrowed = replication_kpis(run, [1])
    alone = replication_kpis(run.of_sectors([1]))
    assert narrowed.keys() == replication_kpis(run).keys()
    for name, values in narrowed.items():
        np.testing.assert_array_equal(values, alone[name], err_msg=name)
    np.testing.assert_array_equal(
        narrowed["encounters"], run.metric("encounters")[:, :, 1].sum(axis=1)
    )


@pytest.mark.parametrize("swapped", [False, True], ids=["page", "fragment"])
def test_an_indicator_without_a_value_says_why_on_the_dashboard(
    tmp_path: Path, swapped: bool
) -> None:
    """A run in which no child left custody showed "Children in custody over 72 h, share n/a"
    on its dashboard with no reason, and crowding missing from one replication in RGV (people
    held with no capacity) a mean over fewer replications than the heading said; the lines of
    bordersim run and its report now follow the table, for the sector chosen."""
    run = constructed_run(3, 14)
    for metric in ("uac_exits", "uac_exits_over_72h"):
        run.daily[..., METRIC_INDEX[metric]] = 0.0
    run.daily[1, 0, 1, METRIC_INDEX["custody_capacity"]] = 0.0  # RGV holds people, no capacity
    nobody = "Children in custody over 72 h, share: n/a, as no child left custody"
    partial = (
        "Crowding, max occupancy / capacity: over the 2 of 3 replications that have it "
        "(in the others a sector held people with no custody capacity)"
    )
    headers = {"HX-Request": "true"} if swapped else {}
    with _workbench_of(tmp_path, run) as (client, run_id, _):
        border = client.get(f"/runs/{run_id}", headers=headers).text
        rgv = client.get(f"/runs/{run_id}?sector=RGV", headers=headers).text
        tca = client.get(f"/runs/{run_id}?sector=TCA", headers=headers).text
    assert _kpi(border, "Children in custody over 72 h, share") == "n/a"
    for page in (border, rgv):
        notes = _notes(page)
        assert notes == [partial, nobody], notes
    assert _notes(tca) == [nobody]  # TCA had its capacity every day


def _notes(page: str) -> list[str]:
    """The lines under the key indicators."""
    after = page.split('<table id="kpis">', 1)[1].split("</table>", 1)[1]
    return [html.unescape(n) for n in re.findall(r'<p class="note kpi-note">([^<]*)</p>', after)]


@pytest.mark.parametrize("replications", [1, 3])
def test_the_run_page_gives_the_period_and_how_to_read_its_numbers(
    tmp_path: Path, replications: int
) -> None:
    """The run page said "event engine, 1 replications from seed 1. Values are means with 95 %
    intervals over replications." of a run of one replication, which has neither, and named no
    period for its totals; it now gives the report's line: the run, its days, and how to read
    its values."""
    from bordersim.report.run_report import RunRecord, run_line

    run = constructed_run(replications, 14)
    with _workbench_of(tmp_path, run) as (client, run_id, _):
        page = html.unescape(client.get(f"/runs/{run_id}").text)
    line = re.search(r'<span id="run-line">([^<]*)</span>', page)
    assert line is not None and line.group(1) == run_line(RunRecord(run_id, run))
    assert "2023-05-01 to 2023-05-14" in line.group(1)
    if replications == 1:
        assert "one replication from seed 1" in line.group(1)
        assert "95 %" not in page.split('<table id="kpis">')[0].split("</h1>")[1]
    else:
        assert "3 replications from seed 1" in line.group(1) and "95 % t intervals" in line.group(1)


@pytest.mark.parametrize("replications", [1, 3])
def test_the_validation_table_says_what_it_compares_as_the_report_does(
    tmp_path: Path, replications: int
) -> None:
    """The dashboard's validation table had the columns "official", "simulated", "error" and a
    blank one reading "flagged", with no word of what was simulated (a mean, or one
    replication), its range, or what a flag means; it now has the report's columns and line."""
    from bordersim.report.run_report import validation_header

    run = constructed_run(replications, 31)  # all of May 2023
    with _workbench_of(tmp_path, run) as (client, run_id, _):
        border = html.unescape(client.get(f"/runs/{run_id}").text)
        rgv = html.unescape(client.get(f"/runs/{run_id}?sector=RGV").text)
    table = border.split('<table id="validation">', 1)[1].split("</table>", 1)[0]
    header = re.findall(r"<th>([^<]*)</th>", table.split("</thead>")[0])
    assert header == [*validation_header(run), "flag"]
    assert header[3] == ("simulated (one replication)" if replications == 1 else "simulated (mean)")
    assert "<th></th>" not in table
    assert "Rows beyond 5 % are flagged: 2 of 2." in border
    assert "Rows beyond 5 % are flagged: 1 of 1." in rgv
    spread = "none: one replication" if replications == 1 else " - "
    assert all(spread in row for row in table.split("</thead>")[1].split("<tr>")[1:])


def _download_links(page: str) -> dict[str, str]:
    """The dashboard's downloads: each link's text and address."""
    downloads = page.split('id="downloads"', 1)[1].split("</span>", 1)[0]
    return {
        text: href for href, text in re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', downloads)
    }


@pytest.mark.parametrize("swapped", [False, True], ids=["page", "fragment"])
def test_the_downloads_follow_the_sector_chosen(
    stored: tuple[TestClient, str, RunResult], swapped: bool
) -> None:
    """With RGV chosen, the dashboard's CSV and Parquet links still downloaded every sector of
    the run; they now download the sector chosen (the report is the whole run's), and the
    selector's swap changes them with the charts."""
    client, run_id, _ = stored
    headers = {"HX-Request": "true"} if swapped else {}
    border = _download_links(html.unescape(client.get(f"/runs/{run_id}", headers=headers).text))
    rgv_page = html.unescape(client.get(f"/runs/{run_id}?sector=rgv", headers=headers).text)
    rgv = _download_links(rgv_page)
    assert border["CSV"] == f"/runs/{run_id}/export.csv"
    assert rgv["CSV"] == f"/runs/{run_id}/export.csv?sector=RGV"
    assert rgv["Parquet"] == f"/runs/{run_id}/export.parquet?sector=RGV"
    assert rgv["HTML report"] == border["HTML report"] == f"/runs/{run_id}/report"
    if swapped:  # swapped in beside the charts, in place of the page's own
        assert 'id="downloads" hx-swap-oob="true"' in rgv_page
    narrowed = client.get(rgv["CSV"])
    assert narrowed.status_code == 200
    assert set(pd.read_csv(io.StringIO(narrowed.text))["sector"]) == {"RGV"}


@pytest.mark.slow  # a real workbench in a real browser: about half a minute here
def test_back_shows_the_sector_the_charts_are_drawn_for(page: Any, tmp_path: Path) -> None:
    """After choosing RGV, then TCA, the Back button showed RGV's charts and key indicators
    under a selector that read "all sectors"; it now reads the sector they are drawn for."""
    from bordersim.store import open_catalog
    from bordersim.store.runs import complete_run

    run = constructed_run(3, 14)
    with open_catalog(tmp_path / "store.duckdb") as catalog:
        run_id = start_constructed(catalog, run)
        complete_run(catalog, run_id, run, kpis={}, timings={}, report_path=None)
    bench = start_workbench(tmp_path)
    try:
        page.goto(f"{bench.url}/runs/{run_id}")
        for sector in ("RGV", "TCA"):
            page.select_option("#sector", sector)
            page.wait_for_selector(f"#kpis-scope:has-text('Key indicators: {sector} (')")
        page.go_back()
        page.wait_for_function("() => location.search.includes('sector=RGV')")
        page.wait_for_selector("#kpis-scope:has-text('Key indicators: RGV (')")
        assert page.eval_on_selector("#sector", "select => select.value") == "RGV"
    finally:
        stop_workbench(bench)
