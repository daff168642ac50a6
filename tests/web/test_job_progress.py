"""What a job's progress says, by engine: the flow engine reports simulated hours, not
replications, and a plan's ticks name the engine that certifies it."""

from __future__ import annotations

import queue
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from bordersim.web.jobs import Worker
from bordersim.web.settings import WebSettings
from repo_paths import REPO


def _example_library(tmp_path: Path) -> WebSettings:
    """A workbench's settings over a copy of the example scenarios (settings.scenarios_dir),
    with its own store and output folder under tmp_path."""
    scenarios = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios" / "examples", scenarios / "examples")
    return WebSettings(scenarios, tmp_path / "store.duckdb", tmp_path / "out")


def _progress_events(tmp_path: Path, engine: str, replications: int) -> list[tuple[Any, ...]]:
    """The progress events of one run, simulated and recorded by a worker in this process."""
    settings = _example_library(tmp_path)
    scenarios = settings.scenarios_dir
    events: queue.Queue[tuple[Any, ...]] = queue.Queue()
    worker = Worker(1, events, [0, 0], [1, 0], threading.Lock(), settings)
    request = {
        "scenario_path": str(scenarios / "examples" / "small.toml"),
        "engine": engine,
        "replications": replications,
        "seed": 1,
    }
    worker.run(request, last=True)
    drained = [events.get_nowait() for _ in range(events.qsize())]
    return [event for event in drained if event[0] == "progress"]


def test_a_flow_run_reports_hours_not_replications(tmp_path: Path) -> None:
    """The flow engine calls back with hours simulated: a 2-replication run used to show
    'replication 1176 of 1176'."""
    ticks = _progress_events(tmp_path, "flow", 2)
    assert ticks
    for _, job_id, done, total, message in ticks:
        assert job_id == 1 and total > 2  # hours of the period, not the 2 replications
        assert message == f"hour {done:,} of {total:,} simulated (flow engine)"
        assert "replication" not in message


def test_the_event_engine_counts_replications() -> None:
    from bordersim.web.jobs import progress_message

    assert progress_message("event", 3, 40) == "replication 3 of 40"


def test_a_plan_names_its_certifying_engine_and_counts_as_it_does() -> None:
    """The worker's plan ticks said 'event-engine replication' whatever the plan's
    search.certify_engine; the flow engine ticks with hours simulated."""
    from bordersim.web.jobs import plan_tick_message

    assert plan_tick_message("flow", 300, 4000) == "flow engine: hour 300 of 4,000 simulated"
    assert plan_tick_message("event", 3, 40) == "event engine: replication 3 of 40"


def test_a_run_sent_twice_is_queued_once(tmp_path: Path) -> None:
    """A double-click on "run" (or a form sent again) queued the same run twice: the worker
    simulated it twice and the catalog kept two runs with the same results. A request for the
    work of a queued or running job now answers with that job; another seed is new work."""
    from fastapi.testclient import TestClient

    from bordersim.web.app import create_app

    settings = _example_library(tmp_path)
    with TestClient(create_app(settings)) as client:
        client.get("/scenarios")
        token = str(client.cookies["bordersim_csrf"])
        form = {"csrf_token": token, "kind": "run", "scenario": "examples.small"}
        form |= {"engine": "event", "replications": "1", "seed": "1"}
        first = client.post("/jobs", data=form, follow_redirects=False)
        again = client.post("/jobs", data=form, follow_redirects=False)
        other = client.post("/jobs", data={**form, "seed": "2"}, follow_redirects=False)
        assert first.status_code == again.status_code == other.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        assert other.headers["location"] != first.headers["location"]
        jobs = client.get("/jobs").text
        assert jobs.count('href="/jobs/') == 2, jobs
        for sent in (first, other):  # leave no simulation running
            client.post(sent.headers["location"] + "/cancel", data={"csrf_token": token})


def test_a_job_page_left_open_across_a_restart_says_the_job_is_gone(tmp_path: Path) -> None:
    """A job page refreshes its status every second through HTMX, which swaps no 4xx reply:
    after the workbench was restarted (its jobs are kept in memory) the page asked for a job the
    server no longer knew, got a 404 each second, and went on showing 'running' for ever. The
    refresh now says the job is not known, and stops."""
    from fastapi.testclient import TestClient

    from bordersim.web.app import create_app

    settings = WebSettings(tmp_path / "scenarios", tmp_path / "store.duckdb", tmp_path / "out")
    with TestClient(create_app(settings)) as client:
        refreshed = client.get("/jobs/7/status", headers={"HX-Request": "true"})
        assert refreshed.status_code == 200
        assert "job 7 is not known to this workbench" in refreshed.text
        assert "hx-trigger" not in refreshed.text  # no more refreshing
        assert client.get("/jobs/7/status").status_code == 404  # asked for directly
        assert client.get("/jobs/7").status_code == 404


def test_a_comparison_with_a_b_that_does_not_load_fails_before_simulating_a(
    tmp_path: Path,
) -> None:
    """A comparison whose B no longer loads simulated A first (an engine's first compile, then
    every replication: minutes), recorded A as a run of its own, and only then failed on B.
    Both sides are now loaded first: the job fails at once, naming B's file, and the store holds
    no run."""
    import time

    from fastapi.testclient import TestClient

    from bordersim.web.app import create_app

    settings = _example_library(tmp_path)
    scenarios = settings.scenarios_dir
    small = (scenarios / "examples" / "small.toml").read_text(encoding="utf-8")
    broken = small.replace("warmup_days = 7", "warmup_days = -3")
    (scenarios / "examples" / "broken.toml").write_text(broken, encoding="utf-8")
    request = {"kind": "compare", "scenario": "examples.small", "b": "examples.broken"}
    with TestClient(create_app(settings)) as client:
        client.get("/scenarios")
        headers = {"X-CSRF-Token": str(client.cookies["bordersim_csrf"])}
        job = client.post("/api/jobs", json=request | {"replications": 1}, headers=headers)
        deadline = time.monotonic() + 60
        url = f"/api/jobs/{job.json()['job']}"
        while (state := client.get(url).json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"A is simulated before B is loaded: {state}"
            time.sleep(0.2)
        runs = client.get("/runs").text
    assert state["state"] == "failed" and state["run_ids"] == [], state
    assert state["message"].startswith("B: examples/broken.toml, line "), state
    assert "No runs in the store yet" in runs


def test_the_jobs_page_tells_runs_of_one_scenario_apart(tmp_path: Path) -> None:
    """Two runs of one scenario, one on the event engine and one on the flow engine with more
    replications, were both listed as "run small", and their pages titled "Job 1: run small":
    nothing told them apart. A job's label now says its engine, replications and seed, as the
    run's page does."""
    import html

    from fastapi.testclient import TestClient

    from bordersim.web.app import create_app

    settings = _example_library(tmp_path)
    with TestClient(create_app(settings)) as client:
        client.get("/scenarios")
        token = str(client.cookies["bordersim_csrf"])
        form = {"csrf_token": token, "scenario": "examples.small", "seed": "3"}
        sent = [
            client.post("/jobs", data=form | asked, follow_redirects=False)
            for asked in (
                {"kind": "run", "engine": "flow", "replications": "2"},
                {"kind": "compare", "b": "examples.small-staff-bound", "replications": "1"},
            )
        ]
        jobs = html.unescape(client.get("/jobs").text)
        page = html.unescape(client.get(sent[0].headers["location"]).text)
        for job in sent:  # leave no simulation running
            client.post(job.headers["location"] + "/cancel", data={"csrf_token": token})
    assert "run small, flow engine, 2 replications from seed 3" in jobs
    assert (
        "compare small (A) with small-staff-bound (B), event engine, 1 replication from seed 3"
        in (jobs)
    )
    assert "Job 1: run small, flow engine, 2 replications from seed 3" in page


class _CancelOnLoadingA:
    """A worker's event queue that cancels job 1 as it starts loading side A (the user's click)."""

    def __init__(self, cancelled: list[int]) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._cancelled = cancelled

    def put(self, event: tuple[Any, ...]) -> None:
        self.events.append(event)
        if event[0] == "state" and str(event[3]).startswith("A: loading"):
            self._cancelled[1] = 1


def test_a_comparison_cancelled_before_a_run_was_recorded_says_none_was(tmp_path: Path) -> None:
    """A comparison cancelled before either side was recorded said "a run it had finished stays
    in the catalog": the user looked for a run that was never made. It says nothing of it was
    recorded (a worker in this process, cancelled while it loads)."""
    from bordersim.web.jobs import _take_jobs

    settings = _example_library(tmp_path)
    scenarios = settings.scenarios_dir
    request = {
        "a_path": str(scenarios / "examples" / "small.toml"),
        "b_path": str(scenarios / "examples" / "small-staff-bound.toml"),
        "engine": "event",
        "replications": 1,
        "seed": 1,
    }
    requests: queue.Queue[Any] = queue.Queue()
    requests.put((1, "compare", request))
    requests.put(None)
    cancelled = [0, 0]
    events = _CancelOnLoadingA(cancelled)
    _take_jobs(requests, events, cancelled, [0, 0], threading.Lock(), settings)
    last = events.events[-1]
    assert last[:3] == ("state", 1, "cancelled"), events.events
    assert last[3] == "cancelled; nothing of it was recorded"
    assert not any(event[0] == "run" for event in events.events)


@pytest.mark.slow  # the flow engine's first run in a process: about a minute here
def test_every_step_of_a_comparison_names_its_side(tmp_path: Path) -> None:
    """A comparison's job said "A: loading small.toml", then "compiling the engine ..." or
    "starting the simulation" with no side, so that B's start read as A's. Every step of a side
    now names it, as its loading and its progress do."""
    settings = _example_library(tmp_path)
    examples = settings.scenarios_dir / "examples"
    small = (examples / "small.toml").read_text(encoding="utf-8")
    short = small.replace("end_date = 2023-05-31", "end_date = 2023-04-23")  # a few days: fast
    (examples / "short.toml").write_text(short, encoding="utf-8")
    (examples / "shorter.toml").write_text(short, encoding="utf-8")
    events: queue.Queue[tuple[Any, ...]] = queue.Queue()
    worker = Worker(1, events, [0, 0], [1, 0], threading.Lock(), settings)
    request = {"engine": "flow", "replications": 1, "seed": 1}
    worker.compare(
        request | {"a_path": str(examples / "short.toml"), "b_path": str(examples / "shorter.toml")}
    )
    drained = [events.get_nowait() for _ in range(events.qsize())]
    said = [event[-1] for event in drained if event[0] in ("state", "progress")]
    assert said and all(message.startswith(("A: ", "B: ")) for message in said), said
    assert any(message.startswith("B: ") and "simulat" in message for message in said), said


@pytest.mark.slow  # the board's own waits: ten seconds for the worker to end, five after SIGTERM
def test_closing_the_board_ends_a_worker_deaf_to_sigterm(tmp_path: Path) -> None:
    """`bordersim serve` stopped by Ctrl-C or SIGTERM while its worker was deep in compiled code
    (an engine's first compile, minutes under load) said it was interrupted, then did not exit:
    the board sent the worker SIGTERM, which Python handles only when the compiled call
    returns, and the interpreter's exit then waited on the worker without limit. A worker still
    alive after SIGTERM is now killed. (A stopped process stands for the busy one here: it
    takes SIGTERM only when it runs again, and SIGKILL at once.)"""
    import os
    import signal

    from bordersim.web.jobs import JobBoard

    board = JobBoard(_example_library(tmp_path))
    pid = board._worker.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        board.close()
        assert not board.worker_alive()
    finally:
        if board.worker_alive():
            os.kill(pid, signal.SIGKILL)
            board._worker.join(timeout=60)
