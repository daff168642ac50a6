"""Runs and comparisons as jobs, done one at a time by one worker process, the store's only writer.

The web server keeps the list of jobs (`JobBoard`); the worker process (`worker_main`) takes job
requests from a queue and reports its states and progress on another, which a thread of the server
reads into the list. Cancelling sets the job's flag in shared memory: a queued job is skipped, a
running one stops at its next progress tick (each replication), is marked failed in the store and
leaves no report.

The worker holds the store open only to record a finished simulation, never while it simulates,
so the pages (which open the store read-only) stay readable during a long run. DuckDB lets one
process write a file or several read it, not both; a shared gate keeps the writer from starving
while pages keep opening the store: the worker closes the gate, waits for the readers already in
to leave, writes, and opens it again (`read_only` passes the gate only to open its connection).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bordersim.web.settings import WebSettings

#: Jobs a server can hold before the oldest finished ones are forgotten.
MAX_JOBS = 100_000
KEEP_FINISHED = 2_000
COMPILING = "compiling the engine (first run only, about 40 s)"
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)


@dataclass
class Job:
    id: int
    kind: str  # "run" or "compare"
    label: str
    request: dict[str, Any]
    state: str = QUEUED
    message: str = "waiting for the worker"
    done: int = 0
    total: int = 0
    run_ids: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class JobCancelled(Exception):
    """Raised inside the worker from a progress tick of a job whose cancel flag is set."""


class JobBoard:
    """The server's side: submit, list, cancel; one worker process does the work."""

    def __init__(self, settings: WebSettings) -> None:
        context = mp.get_context("spawn")  # a fresh interpreter: no server threads, no JAX state
        self._requests: Any = context.Queue()
        self._events: Any = context.Queue()
        self._cancelled: Any = context.Array("b", MAX_JOBS, lock=False)
        self.gate: Any = context.Lock()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._context, self._settings = context, settings
        self._closing = False
        self._worker = self._start_worker()
        self._listener = threading.Thread(target=self._listen, name="job-events", daemon=True)
        self._listener.start()

    def _start_worker(self) -> Any:
        worker = self._context.Process(
            target=worker_main,
            args=(self._requests, self._events, self._cancelled, self.gate, self._settings),
            name="bordersim-worker",
            daemon=True,
        )
        worker.start()
        return worker

    def submit(self, kind: str, label: str, request: dict[str, Any]) -> Job:
        with self._lock:
            job_id = next(self._ids)
            if job_id >= MAX_JOBS:
                raise RuntimeError("this server has taken all the jobs it can; restart it")
            job = Job(job_id, kind, label, request)
            self._jobs[job_id] = job
            self._forget_old()
        self._requests.put((job_id, kind, request))
        return job

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: -j.id)

    def cancel(self, job_id: int) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.is_finished:
                return job
            self._cancelled[job_id] = 1
            if job.state == QUEUED:
                job.message = "cancelling: it will be skipped"
            else:
                job.message = "cancelling at the next replication"
            return job

    def worker_alive(self) -> bool:
        return bool(self._worker.is_alive())

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            self._requests.put(None)
        self._worker.join(timeout=10)
        if self._worker.is_alive():
            self._worker.terminate()
            self._worker.join(timeout=5)
        self._events.put(None)
        self._listener.join(timeout=5)

    def _check_worker(self) -> None:
        """A worker that died (killed, out of memory) fails its job; a new one takes the rest."""
        if self._closing or self._worker.is_alive():
            return
        with self._lock:
            for job in self._jobs.values():
                if job.state == RUNNING:
                    job.state, job.message = FAILED, "the worker process stopped during this job"
                    job.finished = time.time()
            # a gate held by the dead worker would block every page
            with contextlib.suppress(ValueError):
                self.gate.release()
            self._worker = self._start_worker()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.is_finished]
        for job in sorted(finished, key=lambda j: j.id)[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    def _listen(self) -> None:
        while True:
            try:
                event = self._events.get(timeout=1.0)
            except Exception:  # queue.Empty: a quiet second; is the worker still there?
                self._check_worker()
                continue
            if event is None:
                return
            kind, job_id, *rest = event
            with self._lock:
                job = self._jobs.get(job_id)
                if job is not None:
                    _apply(job, kind, rest)


def _apply(job: Job, kind: str, rest: list[Any]) -> None:
    if kind == "state":
        job.state, job.message = rest[0], rest[1]
    elif kind == "progress":
        job.state = RUNNING
        job.done, job.total, job.message = rest[0], rest[1], rest[2]
    elif kind == "run":
        job.run_ids.append(rest[0])
    if job.is_finished and job.finished is None:
        job.finished = time.time()


#: Engines this worker has compiled (each compiles on its first run in a fresh process).
_COMPILED: set[str] = set()


# ----- the worker process ------


def worker_main(
    requests: Any, events: Any, cancelled: Any, gate: Any, settings: WebSettings
) -> None:
    """Take jobs one at a time until a None arrives."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the server stops it, not a job
    while True:
        item = requests.get()
        if item is None:
            return
        job_id, kind, request = item
        if cancelled[job_id]:
            events.put(("state", job_id, CANCELLED, "cancelled before it started"))
            continue
        try:
            if kind == "run":
                _run_job(job_id, request, events, cancelled, gate, settings)
            elif kind == "compare":
                _compare_job(job_id, request, events, cancelled, gate, settings)
            else:
                raise ValueError(f"unknown job kind {kind!r}")
        except JobCancelled:
            events.put(("state", job_id, CANCELLED, "cancelled; the run was marked failed"))
        except Exception as err:  # the job fails, the worker goes on
            from bordersim.errors import BordersimError

            message = str(err) if isinstance(err, BordersimError) else _describe(err)
            events.put(("state", job_id, FAILED, message))
        else:
            events.put(("state", job_id, DONE, "done"))


def _describe(err: Exception) -> str:
    last = traceback.extract_tb(err.__traceback__)[-1:]
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(err).__name__}: {err}{where}"


def _run_job(
    job_id: int,
    request: dict[str, Any],
    events: Any,
    cancelled: Any,
    gate: Any,
    settings: WebSettings,
) -> str:
    from bordersim.services.loading import load_and_compile
    from bordersim.services.record import simulate_loaded

    path = Path(request["scenario_path"])
    events.put(("state", job_id, RUNNING, f"loading {path.name}"))
    loaded = load_and_compile(path)
    engine, replications, seed = request["engine"], request["replications"], request["seed"]
    first = engine not in _COMPILED
    events.put(("state", job_id, RUNNING, COMPILING if first else "starting the simulation"))
    label = request.get("side", "")

    def progress(done: int, total: int) -> None:
        if cancelled[job_id]:
            raise JobCancelled
        events.put(("progress", job_id, done, total, f"{label}replication {done} of {total}"))

    result = simulate_loaded(
        loaded, engine=engine, replications=replications, seed=seed, progress=progress
    )
    _COMPILED.add(engine)
    if cancelled[job_id]:
        raise JobCancelled
    events.put(("state", job_id, RUNNING, f"{label}writing the report and storing the results"))
    from bordersim.web.recording import record_simulated

    with gate, writable_store(settings.store) as connection:
        run_id = record_simulated(connection, loaded, result, out_root=settings.out_dir)
    events.put(("run", job_id, run_id))
    return run_id


def _compare_job(
    job_id: int,
    request: dict[str, Any],
    events: Any,
    cancelled: Any,
    gate: Any,
    settings: WebSettings,
) -> None:
    common = {k: request[k] for k in ("engine", "replications", "seed")}
    for side, path in (("A", request["a_path"]), ("B", request["b_path"])):
        _run_job(
            job_id,
            {**common, "scenario_path": path, "side": f"{side}: "},
            events,
            cancelled,
            gate,
            settings,
        )


@contextlib.contextmanager
def writable_store(path: Path, wait_s: float = 60.0) -> Iterator[Any]:
    """The store opened for writing, waiting while page handlers hold it read-only."""
    from bordersim.errors import BordersimError
    from bordersim.store import open_store

    deadline = time.monotonic() + wait_s
    while True:
        try:
            connection = open_store(path)
            break
        except BordersimError as err:
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield connection
    finally:
        connection.close()


def drain(board: JobBoard, timeout_s: float) -> bool:
    """Wait until every job is finished (tests and shutdown); False on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(job.is_finished for job in board.all()):
            return True
        time.sleep(0.1)
    return False
