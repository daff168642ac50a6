"""The plan page in a real headless Chromium: define a plan from a shipped plan file and the form,
see a bad value refused beside its field, run it as a job with progress, open the deployment, the
certificate and the bound; cancel a job that cannot tick (compiling, planning) at once.

The cancel tests come first: they need this module's fresh worker, which has compiled nothing.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from typing import Any

import duckdb
import pytest
from workbench_server import Workbench, api_client, screenshot

from bordersim.planner.output import millions

pytestmark = pytest.mark.usefixtures("browser_context")
JOB_DONE_MS = 300_000  # a plan in a fresh worker compiles both engines
CANCEL_S = 20.0  # the worker is stopped at once; a fresh one starts (seconds under load)
SMALL_PLAN = {
    "search.replications": "8",  # small budgets: this checks the page, not the planner
    "search.certify_replications": "60",  # the fewest that certify 95 % at 95 % confidence
    "search.trim_seconds": "10",  # the plan file allows minutes for the trim and the bound
    "search.bound_seconds": "20",
}


def _job_state(client: Any, job: int) -> dict[str, Any]:
    return dict(client.get(f"/api/jobs/{job}").json())


def _wait_until(client: Any, job: int, done: Any, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = _job_state(client, job)
        if done(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job}: {_job_state(client, job)}")


def _open_the_finished_plan(page: Any) -> str:
    """On a plan job's page: wait until the job is done, open its plan; the plan's id."""
    page.wait_for_function(
        "() => ['done', 'failed', 'cancelled'].includes("
        "document.querySelector('#job-state')?.textContent)",
        timeout=JOB_DONE_MS,
    )
    assert page.text_content("#job-state") == "done", page.text_content("#job-message")
    page.click("#open-plan")
    page.wait_for_selector("#headline")
    return str(page.url.rsplit("/", 1)[-1])


def test_cancel_interrupts_the_first_compile(workbench: Workbench) -> None:
    client = api_client(workbench)
    try:
        job = client.post(
            "/api/jobs", json={"kind": "run", "scenario": "examples.small", "replications": 3}
        ).json()["job"]
        _wait_until(client, job, lambda s: s["state"] == "running", 120)
        asked = time.monotonic()
        reply = client.post(f"/api/jobs/{job}/cancel", json={}).json()
        assert reply["message"].startswith("cancelling"), reply
        state = _wait_until(client, job, lambda s: s["state"] != "running", CANCEL_S)
        assert state["state"] == "cancelled", state
        assert time.monotonic() - asked < CANCEL_S
        assert state["done"] == 0  # it had not simulated a replication: it was compiling
    finally:
        client.close()
    if workbench.store.exists():
        with duckdb.connect(str(workbench.store), read_only=True) as connection:
            statuses = connection.execute("SELECT status FROM runs").fetchall()
        assert ("complete",) not in statuses


def test_cancel_a_plan_while_it_plans(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/plans?file=examples.small-stress")
    for name, value in SMALL_PLAN.items():
        page.fill(f"input[name='{name}']", value)
    page.click("#plan-run")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_selector("#job-log")  # it has started: loading, compiling, searching
    asked = time.monotonic()
    page.click("#cancel")
    page.wait_for_function(
        "() => document.querySelector('#job-state')?.textContent === 'cancelled'",
        timeout=CANCEL_S * 1000,
    )
    assert time.monotonic() - asked < CANCEL_S
    plans = workbench.root / "out" / "plans"
    assert not plans.exists() or not any(plans.iterdir())  # no plan, no half-written folder


def test_define_run_and_open_a_plan(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/plans")
    page.select_option("#plan-file", "examples.small-stress")
    page.wait_for_url(re.compile(r"file=examples.small-stress"))
    # the base scenario the plan file names is chosen for the user
    assert page.input_value("#plan-scenario") == "examples.small-staff-bound"
    assert page.input_value("input[name='demand_scale']") == "2.5"
    # a bad value is refused beside its field
    page.fill("input[name='targets.alpha']", "0")
    page.locator("input[name='targets.alpha']").dispatch_event("change")
    error = page.wait_for_selector("[data-field='targets.alpha']:not(:empty)")
    assert "targets.alpha = 0" in error.text_content()
    assert page.locator(".error:not(:empty)[data-field]").count() == 1
    page.fill("input[name='targets.alpha']", "0.05")
    for name, value in SMALL_PLAN.items():
        page.fill(f"input[name='{name}']", value)
    page.fill("input[name='pools.active_duty.max_headcount']", "2000")
    page.locator("input[name='pools.active_duty.max_headcount']").dispatch_event("change")
    page.wait_for_selector("#plan-valid")
    assert "max_headcount = 2000" in page.text_content("#plan-preview")
    screenshot(page, "plans")
    page.click("#plan-run")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_selector("[role='progressbar']", timeout=JOB_DONE_MS)  # certifying
    screenshot(page, "plan-job")
    plan_id = _open_the_finished_plan(page)
    folder = workbench.root / "out" / "plans" / plan_id
    certificate = json.loads((folder / "certificate.json").read_text())
    # the page shows what the certificate says: the cost, the bound and its gap, the claims
    assert f"{100 * certificate['gap']:.1f} %" in page.text_content("#plan-gap")
    assert millions(certificate["cost_dollars"]) in page.text_content("#plan-cost")  # "$0.193M"
    required = [c for c in certificate["constraints"] if c["required"]]
    certified = sum(c["certified"] for c in required)
    assert f"{certified} of {len(required)}" in page.text_content("#plan-certified")
    assert page.locator("#certificate tbody tr").count() == min(30, len(required))
    # the deployment table: the certificate's headcount, per sector and window, and its totals
    headcount = certificate["decision"]["headcount"][0]  # active duty
    rows = page.locator("#deployment-active_duty tbody tr")
    assert rows.count() == 3  # TCA, RGV, all
    shown = [int(c.replace(",", "")) for c in rows.nth(1).locator("td").all_text_contents()[1:]]
    assert shown == [round(v) for v in headcount[1]]
    assert max(max(r) for r in headcount) <= 2000  # the cap set in the form held
    screenshot(page, "plan")
    # the plan's downloads, by the plan's id
    plan_text = page.request.get(f"{workbench.url}/plans/{plan_id}/plan.toml").text()
    assert tomllib.loads(plan_text)["remove"] == ["deployments.troops"]
    page.goto(f"{workbench.url}/plans")
    assert page.locator(f"#plans a[href='/plans/{plan_id}']").count() == 1


def test_the_plan_runs_unchanged_on_the_cli(workbench: Workbench) -> None:
    from bordersim.services.loading import load_and_compile

    plans = workbench.root / "out" / "plans"
    written = sorted(plans.glob("*/plan.toml")) if plans.exists() else []
    if not written:
        pytest.skip("the plan journey did not run")
    loaded = load_and_compile(written[0])
    assert any(name.startswith("deployment plan_") for name in loaded.model.crew_names)


def test_plan_against_forecast_paths(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/plans?file=examples.small-forecast-paths")
    origin = "input[name='forecast.origin']"
    assert page.input_value(origin) == "2023-04"
    assert page.input_value("input[name='forecast.paths']") == "8"
    # an origin the base scenario's calibration does not reach is refused beside its field,
    # before any job is queued
    page.fill(origin, "2031-01")
    page.locator(origin).dispatch_event("change")
    error = page.wait_for_selector("[data-field='forecast.origin']:not(:empty)")
    assert "forecast.origin = 2031-01: outside the calibration's months" in error.text_content()
    page.fill(origin, "2023-04")
    quick = {**SMALL_PLAN, "search.trim_seconds": "0", "search.bound_seconds": "0"}
    for name, value in {**quick, "forecast.paths": "2"}.items():
        page.fill(f"input[name='{name}']", value)
    page.locator("input[name='forecast.paths']").dispatch_event("change")
    page.wait_for_selector("#plan-valid")
    assert "paths = 2" in page.text_content("#plan-preview")
    page.click("#plan-run")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    plan_id = _open_the_finished_plan(page)
    certificate = json.loads(
        (workbench.root / "out" / "plans" / plan_id / "certificate.json").read_text()
    )
    assert certificate["forecast"]["origin"] == "2023-04"
    assert certificate["forecast"]["paths"] == 2
    shown = page.text_content("#plan-forecast")
    assert "planned against 2 joint sample paths of the demand forecast from 2023-04" in shown
