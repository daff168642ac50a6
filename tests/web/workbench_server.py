"""A real workbench (`bordersim serve` in a subprocess) on a free loopback port, and what the
browser tests share: Chromium's path and flags, screenshots, a JSON client."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from repo_paths import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "docs" / "img"


@dataclass
class Workbench:
    url: str
    root: Path  # scenarios/, out/ and the store live here
    process: subprocess.Popen[bytes]

    @property
    def store(self) -> Path:
        return self.root / "store.duckdb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_workbench(root: Path, *extra: str, token: str | None = None) -> Workbench:
    scenarios = root / "scenarios"
    if not scenarios.exists():
        shutil.copytree(REPO / "scenarios", scenarios, ignore=shutil.ignore_patterns("variants"))
    plans = root / "plans"
    if not plans.exists():
        shutil.copytree(REPO / "plans", plans)
    port = free_port()
    env = {**os.environ, "BORDERSIM_TOKEN": token or ""}
    # forecasts the workbench computes (a plan against forecast paths) stay in the test's folder
    env.setdefault("BORDERSIM_CACHE", str(root / "cache"))
    args = [
        sys.executable,
        "-c",
        "import sys; from bordersim.cli import main; sys.exit(main())",
        "serve",
        "--port",
        str(port),
        "--scenarios",
        str(scenarios),
        "--plans",
        str(plans),
        "--out",
        str(root / "out"),
        "--store",
        str(root / "store.duckdb"),
        *extra,
    ]
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    host = "127.0.0.1"
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((root / "server.log").read_text())
        try:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if httpx2.get(url + "/healthz", headers=headers, timeout=1).status_code == 200:
                return Workbench(url, root, process)
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the workbench did not start: " + (root / "server.log").read_text())


def stop_workbench(bench: Workbench) -> None:
    bench.process.terminate()
    try:
        bench.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        bench.process.kill()
        bench.process.wait()


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web-{name}.png"), full_page=False)  # type: ignore[attr-defined]


def api_client(bench: Workbench) -> httpx2.Client:
    """A client with this workbench's CSRF cookie, sending it back as the header."""
    client = httpx2.Client(base_url=bench.url, timeout=60)
    client.get("/scenarios")
    client.headers["X-CSRF-Token"] = client.cookies["bordersim_csrf"]
    return client


def run_and_wait(bench: Workbench, scenario: str = "examples.small", replications: int = 1) -> str:
    """Submit a run through the JSON API, wait for it, return its run id."""
    client = api_client(bench)
    try:
        job = client.post(
            "/api/jobs", json={"kind": "run", "scenario": scenario, "replications": replications}
        ).json()["job"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = client.get(f"/api/jobs/{job}").json()
            if state["state"] in ("done", "failed", "cancelled"):
                assert state["state"] == "done", state
                return str(state["run_ids"][0])
            time.sleep(0.5)
    finally:
        client.close()
    raise AssertionError(f"job {job} did not finish")
