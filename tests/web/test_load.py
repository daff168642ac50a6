"""A bounded load test on 127.0.0.1: 50 users browse and submit small runs for 60 s.

Every request must succeed and every job submitted must finish as a complete run in the store (no
job lost). The p95 page latency is printed (run with -s to see it), not asserted: it depends on
the machine.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx2
import numpy as np
import pytest
from workbench_server import Workbench, api_client, run_and_wait, start_workbench, stop_workbench

USERS = 50
SECONDS = 60.0
SUBMITTING_USERS = 10  # each submits one small run (one replication) at a random moment


@pytest.fixture(scope="module")
def loaded_bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    bench = start_workbench(tmp_path_factory.mktemp("load"))
    yield bench
    stop_workbench(bench)


@pytest.mark.slow
def test_fifty_users_for_a_minute_lose_nothing(loaded_bench: Workbench) -> None:
    first_run = run_and_wait(loaded_bench)  # a run to look at, and the engine compiled
    pages = ["/scenarios", "/runs", "/jobs", f"/runs/{first_run}", "/scenarios/examples.small"]
    latencies: list[float] = []
    failures: list[str] = []
    submitted: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def submit(client: httpx2.Client, seed: int) -> None:
        # a seed each: the same request as a job still unfinished is answered with that job
        request = {"kind": "run", "scenario": "examples.small", "replications": 1, "seed": seed}
        reply = client.post("/api/jobs", json=request)
        with lock:
            if reply.status_code == 202:
                submitted.append(int(reply.json()["job"]))
            else:
                failures.append(f"submit: {reply.status_code} {reply.text[:200]}")

    def user(number: int) -> None:
        rng = random.Random(number)
        submits = number < SUBMITTING_USERS
        submit_at = time.monotonic() + rng.uniform(0, SECONDS * 0.8)
        client = api_client(loaded_bench)
        try:
            while time.monotonic() < stop_at:
                if submits and time.monotonic() >= submit_at:
                    submit(client, number + 1)
                    submits = False
                    continue
                path = rng.choice(pages)
                started = time.perf_counter()
                try:
                    reply = client.get(path)
                except httpx2.HTTPError as err:
                    with lock:
                        failures.append(f"{path}: {err!r}")
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if reply.status_code != 200:
                        failures.append(f"{path}: {reply.status_code} {reply.text[:200]}")
                time.sleep(rng.uniform(0.2, 1.0))  # a user reads the page
            if submits:  # a slow machine kept this user reading past its moment
                submit(client, number + 1)
        finally:
            client.close()

    threads = [threading.Thread(target=user, args=(n,)) for n in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(submitted) == SUBMITTING_USERS

    # Every job finishes, as a complete run.
    run_ids = _wait_for_jobs(loaded_bench, submitted, timeout_s=600)
    with duckdb.connect(str(loaded_bench.store), read_only=True) as connection:
        complete = {
            row[0]
            for row in connection.execute(
                "SELECT run_id FROM runs WHERE status = 'complete'"
            ).fetchall()
        }
    assert set(run_ids) <= complete
    p50, p95 = np.percentile(latencies, [50, 95])
    print(
        f"\nload: {USERS} users, {SECONDS:.0f} s, {len(latencies)} page loads "
        f"({len(latencies) / SECONDS:.1f}/s), p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms, "
        f"max {1000 * max(latencies):.0f} ms; {len(submitted)} jobs submitted, "
        f"{len(run_ids)} complete, 0 errors"
    )
    Path(loaded_bench.root / "load.txt").write_text(f"p95 {p95:.3f} s\n")


def _wait_for_jobs(bench: Workbench, jobs: list[int], timeout_s: float) -> list[str]:
    deadline = time.monotonic() + timeout_s
    client = api_client(bench)
    try:
        while time.monotonic() < deadline:
            states = [client.get(f"/api/jobs/{job}").json() for job in jobs]
            if all(s["state"] in ("done", "failed", "cancelled") for s in states):
                assert [s["state"] for s in states] == ["done"] * len(jobs), states
                return [s["run_ids"][0] for s in states]
            time.sleep(1)
    finally:
        client.close()
    raise AssertionError(f"jobs still unfinished after {timeout_s} s")
