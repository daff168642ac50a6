"""Runs, comparisons and plans as jobs, done one at a time by one worker process, the store's
only writer.

The web server keeps the list of jobs (`JobBoard`); the worker process (`worker_main`) takes job
requests from a queue and reports its states and progress on another, which a thread of the server
reads into the list.

Cancelling sets the job's flag in shared memory: a queued job is skipped, a simulating one stops at
its next progress tick (each replication) and leaves nothing: a run is recorded in the store only
once it is simulated (a comparison keeps its first run if that was recorded before). A
job that cannot tick (an engine's first compile, a plan, which compiles and solves between ticks)
is stopped at once: the server closes the store's gate (so the worker is not writing), ends the
worker process and starts a fresh one, which takes the next queued job (and compiles again). A
plan works in a folder of its own and renames it into place under the gate, so a stopped plan
leaves nothing that looks complete.

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
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bordersim.engines import progress_words
from bordersim.web.settings import WebSettings, without_server_paths

#: Jobs a server can hold before the oldest finished ones are forgotten.
MAX_JOBS = 100_000
KEEP_FINISHED = 2_000
COMPILING = "compiling the engine (first run only: up to a few minutes)"  # docs/event-engine.md
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
KINDS = ("run", "compare", "plan")
#: What the worker is doing, in shared memory: nothing, something that stops at its next tick,
#: or something that cannot tick (compiling, planning), which a cancel stops by ending the worker.
IDLE, TICKING, UNINTERRUPTIBLE = 0, 1, 2
#: Seconds a ticking job has to honour its cancel flag before its worker is ended.
CANCEL_GRACE_S = 15.0
#: Messages a job keeps (a plan reports its stages).
LOG_LINES = 12


@dataclass
class Job:
    id: int
    kind: str  # "run", "compare" or "plan"
    label: str
    request: dict[str, Any]
    state: str = QUEUED
    message: str = "waiting for the worker"
    done: int = 0
    total: int = 0
    run_ids: list[str] = field(default_factory=list)
    plan_id: str | None = None
    log: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


#: What a cancelled job left, by kind: a run is recorded only once it is simulated, and a
#: cancel stops it before (`Worker.say` and `Worker.tick` raise `JobCancelled`).
_CANCELLED_MESSAGE = {
    "run": "cancelled; nothing of it was recorded",
    "compare": "cancelled; nothing of it was recorded",
    "plan": "cancelled; the plan left nothing",
}


def cancelled_message(kind: str, recorded: list[str]) -> str:
    """What a job cancelled in the worker left: a comparison may have recorded its A (the
    message said so even where nothing was)."""
    if kind == "compare" and recorded:
        return (
            f"cancelled; run A ({recorded[0]}) was finished and stays in the catalog, "
            "B was not recorded"
        )
    return _CANCELLED_MESSAGE.get(kind, "cancelled")


class SideFailed(Exception):
    """A comparison's side that does not load: its message names the side ("B: ...")."""


class JobCancelled(Exception):
    """Raised inside the worker from a progress tick of a job whose cancel flag is set."""


class JobBoard:
    """The server's side: submit, list, cancel; one worker process does the work."""

    def __init__(self, settings: WebSettings) -> None:
        context = mp.get_context("spawn")  # a fresh interpreter: no server threads, no JAX state
        self._requests: Any = context.Queue()
        self._events: Any = context.Queue()
        self._cancelled: Any = context.Array("b", MAX_JOBS, lock=False)
        # the worker's job and what it is doing (IDLE, TICKING, UNINTERRUPTIBLE)
        self._current: Any = context.Array("i", 2, lock=False)
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
        self._current[0], self._current[1] = 0, IDLE
        worker = self._context.Process(
            target=worker_main,
            args=(
                self._requests,
                self._events,
                self._cancelled,
                self._current,
                self.gate,
                self._settings,
            ),
            name="bordersim-worker",
            daemon=True,
        )
        worker.start()
        return worker

    def submit(self, kind: str, label: str, request: dict[str, Any]) -> Job:
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        with self._lock:
            same = self._unfinished_twin(kind, request)
            if same is not None:
                return same  # a double-click, or a form sent again: not queued twice
            job_id = next(self._ids)
            if job_id >= MAX_JOBS:
                raise RuntimeError("this server has taken all the jobs it can; restart it")
            job = Job(job_id, kind, label, request)
            self._jobs[job_id] = job
            self._forget_old()
        self._requests.put((job_id, kind, request))
        return job

    def _unfinished_twin(self, kind: str, request: dict[str, Any]) -> Job | None:
        """A queued or running job (not being cancelled) asking for the same work: the same
        scenario, engine, replications and seed give the same results, so it would only repeat
        them (a plan's request differs only by the id of its folder)."""

        def work(asked: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in asked.items() if k != "plan_id"}

        for job in self._jobs.values():
            if job.is_finished or self._cancelled[job.id] or job.kind != kind:
                continue
            if work(job.request) == work(request):
                return replace(job)
        return None

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: -j.id)

    def cancel(self, job_id: int) -> Job | None:
        """Cancel a job: skip it if queued; stop it at its next tick, or at once if it cannot
        tick (compiling, planning) or does not within `CANCEL_GRACE_S`. Returns the job as the
        request left it (a copy: the stopper may finish it before the reply is written)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.is_finished or self._cancelled[job_id]:
                return None if job is None else replace(job)
            self._cancelled[job_id] = 1
            if job.state == QUEUED:
                job.message = "cancelling: it will be skipped"
                return replace(job)
            at_once = self._current[0] == job_id and self._current[1] == UNINTERRUPTIBLE
            job.message = (
                "cancelling: stopping the worker now (compiling or planning cannot pause)"
                if at_once
                else "cancelling at its next progress step (the next replication on the event "
                "engine, the next hours reported on the flow engine)"
            )
            reply = replace(job)
        stopper = threading.Thread(
            target=self._stop_job,
            args=(job_id, 0.0 if at_once else CANCEL_GRACE_S),
            name=f"cancel-{job_id}",
            daemon=True,
        )
        stopper.start()
        return reply

    def _stop_job(self, job_id: int, grace_s: float) -> None:
        """End the worker if it is still on this job after `grace_s`, never while it writes."""
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if self._current[0] != job_id:
                return
            time.sleep(0.1)
        if not self.gate.acquire(timeout=600):
            return  # the worker has held the store for ten minutes: leave it be
        try:
            with self._lock:
                if self._current[0] != job_id or self._closing:
                    return  # it finished (or stopped) meanwhile
                self._end_worker()
                job = self._jobs.get(job_id)
                if job is not None and not job.is_finished:
                    job.state, job.finished = CANCELLED, time.time()
                    job.message = "cancelled: its worker was stopped; a fresh one takes the rest"
                self._worker = self._start_worker()
        finally:
            self.gate.release()
        _remove_work_folder(self._settings, job_id)

    def _end_worker(self) -> None:
        """Stop the worker process; its event queue may be left half written, so take a new one
        (events still in the old one are of the stopped job)."""
        self._worker.terminate()
        self._worker.join(timeout=5)
        if self._worker.is_alive():
            self._worker.kill()
            self._worker.join(timeout=5)
        self._events = self._context.Queue()

    def worker_alive(self) -> bool:
        return bool(self._worker.is_alive())

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            self._requests.put(None)
        self._worker.join(timeout=10)
        if self._worker.is_alive():
            # SIGTERM reaches Python only when a compiled call returns (an engine's first
            # compile takes minutes), and the interpreter's exit waits on the worker without
            # limit: one still alive is killed, as a cancelled job's is (`_end_worker`)
            self._end_worker()
        self._events.put(None)
        self._listener.join(timeout=5)

    def _check_worker(self) -> None:
        """A worker that died (killed, out of memory) fails its job; a new one takes the rest."""
        if self._closing or self._worker.is_alive():
            return
        with self._lock:
            if self._closing or self._worker.is_alive():
                return  # a cancel replaced it meanwhile
            for job in self._jobs.values():
                if job.state == RUNNING:
                    job.state, job.message = FAILED, "the worker process stopped during this job"
                    job.finished = time.time()
            # a gate held by the dead worker would block every page
            with contextlib.suppress(ValueError):
                self.gate.release()
            self._events = self._context.Queue()
            self._worker = self._start_worker()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.is_finished]
        for job in sorted(finished, key=lambda j: j.id)[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    def _listen(self) -> None:
        while True:
            events = self._events  # a new queue after the worker is replaced
            try:
                event = events.get(timeout=1.0)
            except Exception:  # queue.Empty: a quiet second; is the worker still there?
                self._check_worker()
                continue
            if event is None:
                return
            kind, job_id, *rest = event
            with self._lock:
                job = self._jobs.get(job_id)
                if job is not None and events is self._events:
                    _apply(job, kind, rest)


def _apply(job: Job, kind: str, rest: list[Any]) -> None:
    if job.is_finished:
        return  # a late event of a job that was stopped
    if kind == "state":
        job.state, job.message = rest[0], rest[1]
        job.log = [*job.log, rest[1]][-LOG_LINES:]
    elif kind == "progress":
        job.state = RUNNING
        job.done, job.total, job.message = rest[0], rest[1], rest[2]
    elif kind == "run":
        job.run_ids.append(rest[0])
    elif kind == "plan":
        job.plan_id = rest[0]
    if job.is_finished and job.finished is None:
        job.finished = time.time()


#: Engines this worker has compiled (each compiles on its first run in a fresh process).
_COMPILED: set[str] = set()


# ----- the worker process ------


def worker_main(
    requests: Any, events: Any, cancelled: Any, current: Any, gate: Any, settings: WebSettings
) -> None:
    """Take jobs one at a time until a None arrives."""
    import signal

    from bordersim.interrupts import Interrupted

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the server stops it, not a job
    try:
        _take_jobs(requests, events, cancelled, current, gate, settings)
    except Interrupted as stop:
        # SIGTERM where the server's signal handling came along (a worker of `bordersim serve`):
        # from the server closing it, or sent to its whole process group (systemctl stop,
        # timeout, kill -TERM -PGID). The job's clean-up has run on the way out (a run that had
        # started is recorded as failed); the worker ends as the signal says, without the
        # traceback `multiprocessing` prints for any other exception.
        sys.exit(stop.exit_code)


def _take_jobs(
    requests: Any, events: Any, cancelled: Any, current: Any, gate: Any, settings: WebSettings
) -> None:
    while True:
        item = requests.get()
        if item is None:
            return
        job_id, kind, request = item
        if cancelled[job_id]:
            events.put(("state", job_id, CANCELLED, "cancelled before it started"))
            continue
        current[0], current[1] = job_id, UNINTERRUPTIBLE
        worker = Worker(job_id, events, cancelled, current, gate, settings)
        try:
            if kind == "run":
                worker.run(request, last=True)
            elif kind == "compare":
                worker.compare(request)
            elif kind == "plan":
                worker.plan(request)
            else:
                raise ValueError(f"unknown job kind {kind!r}")
        except JobCancelled:
            events.put(("state", job_id, CANCELLED, cancelled_message(kind, worker.recorded)))
        except Exception as err:  # the job fails, the worker goes on
            from bordersim.errors import BordersimError

            said = isinstance(err, (BordersimError, SideFailed))
            message = str(err) if said else _describe(err)
            events.put(("state", job_id, FAILED, without_server_paths(message, settings)))
        else:
            events.put(("state", job_id, DONE, "done"))
        finally:
            current[0], current[1] = 0, IDLE


def _describe(err: Exception) -> str:
    last = traceback.extract_tb(err.__traceback__)[-1:]
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(err).__name__}: {err}{where}"


@dataclass
class Worker:
    """One job in the worker process: what it reports, and the shared flags it reads and sets."""

    job_id: int
    events: Any
    cancelled: Any
    current: Any
    gate: Any
    settings: WebSettings
    recorded: list[str] = field(default_factory=list)  # the runs this job has recorded

    def say(self, message: str) -> None:
        if self.cancelled[self.job_id]:
            raise JobCancelled
        self.events.put(("state", self.job_id, RUNNING, message))

    def tick(self, done: int, total: int, message: str) -> None:
        """A point where the job may stop: from here on a cancel waits for the next tick."""
        if self.cancelled[self.job_id]:
            raise JobCancelled
        self.current[1] = TICKING
        self.events.put(("progress", self.job_id, done, total, message))

    def finished_writing(self) -> None:
        """Called under the gate once the job's last write is done: never stop it after this."""
        self.current[0] = 0

    def load(self, path: Path, label: str = "") -> Any:
        """A scenario file loaded and compiled (any problem is a `BordersimError`)."""
        from bordersim.services.loading import load_and_compile

        self.current[1] = UNINTERRUPTIBLE  # loading and compiling cannot stop between ticks
        self.say(f"{label}loading {path.name}")
        return load_and_compile(path)

    def run(self, request: dict[str, Any], *, last: bool, loaded: Any = None) -> str:
        """Simulate a scenario (`loaded` already, or loaded here) and record it."""
        from bordersim.services.record import simulate_loaded

        label = request.get("side", "")
        if loaded is None:
            loaded = self.load(Path(request["scenario_path"]), label)
        self.current[1] = UNINTERRUPTIBLE  # an engine's first compile cannot stop either
        engine, replications, seed = request["engine"], request["replications"], request["seed"]
        first = engine not in _COMPILED
        self.say(label + (COMPILING if first else "starting the simulation"))

        def progress(done: int, total: int) -> None:
            self.tick(done, total, label + progress_message(engine, done, total))

        result = simulate_loaded(
            loaded, engine=engine, replications=replications, seed=seed, progress=progress
        )
        _COMPILED.add(engine)
        self.say(f"{label}writing the report and storing the results")
        from bordersim.web.recording import record_simulated

        with self.gate, writable_store(self.settings.store) as connection:
            run_id = record_simulated(connection, loaded, result, out_root=self.settings.out_dir)
            if last:
                self.finished_writing()
        self.events.put(("run", self.job_id, run_id))
        self.recorded.append(run_id)
        return run_id

    def compare(self, request: dict[str, Any]) -> None:
        """Both sides loaded first, then each simulated: a B that does not load fails the job
        before A is simulated (minutes) and recorded as a run of its own."""
        from bordersim.errors import BordersimError

        common = {k: request[k] for k in ("engine", "replications", "seed")}
        sides = (("A", request["a_path"]), ("B", request["b_path"]))
        loaded = {}
        for side, path in sides:
            try:
                loaded[side] = self.load(Path(path), f"{side}: ")
            except BordersimError as err:
                raise SideFailed(f"{side}: {err}") from err
        for side, path in sides:
            side_request = {**common, "scenario_path": path, "side": f"{side}: "}
            self.run(side_request, last=side == "B", loaded=loaded[side])

    def plan(self, request: dict[str, Any]) -> None:
        """Plan in a folder of this job's own; rename it into place under the gate."""
        from bordersim.planner import parse_plan, plan_model
        from bordersim.planner.run import planning_model

        scenario = Path(request["scenario_path"])
        spec = parse_plan(request["plan_text"], request["plan_where"], Path(request["plan_path"]))
        engine = spec.search.certify_engine
        self.say(f"loading {scenario.name} and compiling it")
        model, paths = planning_model(scenario, spec, self.say)
        work = work_folder(self.settings, self.job_id)
        shutil.rmtree(work, ignore_errors=True)

        def stage(message: str) -> None:
            self.current[1] = UNINTERRUPTIBLE  # searching and solving do not tick
            self.say(message)

        try:
            plan_model(
                model,
                spec,
                progress=stage,
                tick=lambda done, total: self.tick(
                    done, total, plan_tick_message(engine, done, total)
                ),
                scenario_path=scenario,
                out_dir=work,
                frontier=bool(request.get("frontier", False)),
                paths=paths,
            )
            self.say("writing the plan")
            with self.gate:
                target = work.parent / request["plan_id"]
                work.rename(target)
                self.finished_writing()
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        self.events.put(("plan", self.job_id, request["plan_id"]))


def progress_message(engine: str, done: int, total: int) -> str:
    """What a run's progress tick says (`bordersim.engines.progress_words`), naming the flow
    engine, whose ticks are hours, not replications."""
    words = progress_words(engine, done, total)
    return f"{words} (flow engine)" if engine == "flow" else words


def plan_tick_message(engine: str, done: int, total: int) -> str:
    """What a plan's tick says: the planner ticks as it simulates on the plan's certifying
    engine (`search.certify_engine`), which may be either."""
    return f"{engine} engine: {progress_words(engine, done, total)}"


def work_folder(settings: WebSettings, job_id: int) -> Path:
    """Where a plan job writes until it is complete (a hidden folder, never listed)."""
    return settings.plans_out / f".job-{job_id}"


def _remove_work_folder(settings: WebSettings, job_id: int) -> None:
    shutil.rmtree(work_folder(settings, job_id), ignore_errors=True)


@contextlib.contextmanager
def writable_store(location: Path | str, wait_s: float = 60.0) -> Iterator[Any]:
    """The store opened for writing (an embedded one waiting while page handlers hold it
    read-only; a shared one, `postgresql://`, takes readers and writers at once)."""
    from bordersim.errors import BordersimError
    from bordersim.store import open_catalog

    deadline = time.monotonic() + wait_s
    while True:
        try:
            connection = open_catalog(location)
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
