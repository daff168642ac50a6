"""The analyst's journeys through the workbench, in a real headless Chromium.

Each journey does what a user does (fill fields, click, wait for a job) and checks what the user
would see; screenshots of each page go to docs/img/ for docs/web.md.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import duckdb
import pytest
from workbench_server import Workbench, run_and_wait, screenshot

pytestmark = pytest.mark.usefixtures("browser_context")
JOB_DONE_MS = 240_000  # the first run in a fresh worker may compile the engine


def _wait_for_job(page: Any, state: str = "done") -> None:
    page.wait_for_function(
        "s => ['done', 'failed', 'cancelled'].includes("
        "document.querySelector('#job-state')?.textContent)",
        arg=state,
        timeout=JOB_DONE_MS,
    )
    shown = page.text_content("#job-state")
    assert shown == state, page.text_content("#job-message")


def _save_variant(page: Any, bench: Workbench, name: str, headcount: str) -> None:
    page.goto(f"{bench.url}/scenarios/examples.small")
    page.fill("input[name='variant_name']", name)
    page.fill("input[name='deployments.troops.headcount']", headcount)
    page.click("#save")
    page.wait_for_selector("#saved")


def test_edit_a_variant_and_run_it(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/scenarios")
    screenshot(page, "scenarios")
    page.click("a[href='/scenarios/examples.small']")
    page.fill("input[name='variant_name']", "small-more-troops")
    page.fill("input[name='deployments.troops.headcount']", "900")
    page.fill("input[name='deployments.troops.ramp_up_days']", "3")
    page.fill("input[name='demand.scale']", "1.3")  # what if crossings were 30 % higher?
    # a demand shock the base does not have: a June surge in Rio Grande Valley
    page.fill("input[name='new_shock.name']", "june_surge")
    page.fill("input[name='new_shock.date']", "2023-05-20")
    page.fill("input[name='new_shock.surge_days']", "10")
    page.fill("input[name='new_shock.surge_multiplier']", "1.4")
    page.fill("input[name='new_shock.sectors']", "RGV")
    page.locator("input[name='deployments.troops.ramp_up_days']").dispatch_event("change")
    page.wait_for_selector("#valid")
    screenshot(page, "editor")
    page.click("#save")
    page.wait_for_selector("#saved")
    saved = workbench.root / "scenarios" / "variants" / "small-more-troops.toml"
    data = tomllib.loads(saved.read_text())
    assert data["base"] == "../examples/small.toml"
    assert data["deployments"]["troops"] == {"headcount": 900, "ramp_up_days": 3}
    assert data["demand"] == {
        "scale": 1.3,
        "shocks": {
            "june_surge": {
                "date": dt.date(2023, 5, 20),
                "surge_days": 10,
                "surge_multiplier": 1.4,
                "sectors": ["RGV"],
            }
        },
    }
    # Run it with one replication from the variant's page.
    page.fill("input[name='replications']", "1")
    page.click("#run-this")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    screenshot(page, "job")
    _wait_for_job(page)
    page.click("#open-run")
    page.wait_for_selector("#headline")
    assert "small-more-troops" in page.text_content("h1")
    assert page.locator("#kpis tbody tr").count() > 20
    page.select_option("#sector", "RGV")
    page.wait_for_function("() => location.search.includes('sector=RGV')")
    page.select_option("#month", "2023-05")
    page.wait_for_selector("text=Top gaps in weeks starting in 2023-05")
    page.wait_for_selector("#custody-RGV-2023-05.js-plotly-plot")  # drawn for the choice
    page.wait_for_selector("#download-csv[href$='export.csv?sector=RGV']")  # swapped in too
    screenshot(page, "run")


def test_the_saved_variant_runs_unchanged_on_the_cli(workbench: Workbench, tmp_path: Path) -> None:
    from bordersim.services.loading import load_and_compile

    saved = workbench.root / "scenarios" / "variants" / "small-more-troops.toml"
    if not saved.exists():
        pytest.skip("the editing journey did not run")
    loaded = load_and_compile(saved)
    assert loaded.model.scenario_name == "small-more-troops"


def test_see_a_validation_error_inline(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/scenarios/examples.small")
    page.fill("input[name='deployments.troops.headcount']", "-300")
    page.locator("input[name='deployments.troops.headcount']").dispatch_event("change")
    error = page.wait_for_selector("[data-field='deployments.troops.headcount']")
    assert "must be at least 0" in error.text_content()
    # The error sits beside its field, inside the same field box, and marks that field only.
    box = page.locator("span.field", has=page.locator("input[name='deployments.troops.headcount']"))
    assert "must be at least 0" in box.locator(".error").text_content()
    assert page.locator(".error:not(:empty)[data-field]").count() == 1
    assert page.input_value("input[name='deployments.troops.headcount']") == "-300"  # kept
    screenshot(page, "editor-error")
    page.fill("input[name='period.end_date']", "2023-03-01")
    page.locator("input[name='period.end_date']").dispatch_event("change")
    error = page.wait_for_selector("[data-field='period.end_date']")
    assert "before start_date" in error.text_content()
    # Saving is refused: nothing written.
    page.click("#save")
    page.wait_for_selector("#invalid")
    assert not (workbench.root / "scenarios" / "variants" / "small-variant.toml").exists()


def test_a_new_shock_is_checked_beside_its_fields(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/scenarios/examples.small")
    page.fill("input[name='new_shock.name']", "late_surge")
    page.fill("input[name='new_shock.date']", "2023-05-20")
    page.fill("input[name='new_shock.surge_multiplier']", "-2")
    page.locator("input[name='new_shock.surge_multiplier']").dispatch_event("change")
    error = page.wait_for_selector("[data-field='new_shock.surge_multiplier']:not(:empty)")
    assert "surge_multiplier" in error.text_content()
    assert page.locator(".error:not(:empty)[data-field]").count() == 1
    page.fill("input[name='new_shock.surge_multiplier']", "1.5")
    page.fill("input[name='new_shock.sectors']", "XYZ")
    page.locator("input[name='new_shock.sectors']").dispatch_event("change")
    error = page.wait_for_selector("[data-field='new_shock.sectors']:not(:empty)")
    assert "XYZ" in error.text_content()


def test_compare_two_scenarios(page: Any, workbench: Workbench) -> None:
    _save_variant(page, workbench, "small-no-troops", "0")
    page.goto(f"{workbench.url}/scenarios")
    page.select_option("#compare-form select[name='scenario']", "examples.small")
    page.select_option("#compare-form select[name='b']", "variants.small-no-troops")
    page.fill("#compare-form input[name='replications']", "2")
    page.click("#compare-form button[type='submit']")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    _wait_for_job(page)
    page.click("#open-comparison")
    page.wait_for_selector("#differences")
    headline = page.text_content("#headline")
    assert "What differs" in headline
    verdicts = page.locator("#differences tbody tr td:last-child").all_text_contents()
    assert set(verdicts) <= {"yes", "no", "practically zero"} and "yes" in verdicts
    assert "common random numbers" in page.text_content("main")
    assert page.locator(".js-plotly-plot").count() >= 3  # B - A charts drawn
    screenshot(page, "compare")
    page.select_option("#sector", "RGV")  # every chart follows the sector
    page.wait_for_selector("#d-custody-RGV.js-plotly-plot")


def test_cancel_a_job(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/scenarios")
    row = page.locator("#library tr", has=page.locator("a[href='/scenarios/examples.small']"))
    row.locator("input[name='replications']").fill("200")
    row.locator("button[type='submit']").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_selector("[role='progressbar']", timeout=JOB_DONE_MS)  # it is simulating
    page.click("#cancel")
    _wait_for_job(page, "cancelled")
    job_id = page.url.rsplit("/", 1)[-1]
    with duckdb.connect(str(workbench.store), read_only=True) as connection:
        statuses = connection.execute("SELECT status FROM runs WHERE replications = 200").fetchall()
    assert statuses == [], statuses  # a run is recorded only once it is simulated
    page.goto(f"{workbench.url}/jobs")
    listed = page.locator(f"#jobs tr:has(a[href='/jobs/{job_id}'])").text_content()
    assert "cancelled; nothing of it was recorded" in listed


def test_download_csv_and_open_a_report(page: Any, workbench: Workbench, tmp_path: Path) -> None:
    run_and_wait(workbench)
    page.goto(f"{workbench.url}/runs")
    screenshot(page, "runs")
    link = page.locator("#runs a", has_text="CSV").first
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "run.csv"
    download.value.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0] == "replication,date,sector,metric,value,unit"
    assert len(lines) > 1000
    page.locator("#runs a", has_text="HTML report").first.click()
    page.wait_for_selector("#headline")
    assert page.title().startswith("bordersim run: ")
    assert page.locator("#sector-choice option").count() == 3  # all, TCA, RGV
    screenshot(page, "report")
