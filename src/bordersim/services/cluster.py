"""Dask clusters for sweeps: ``local[:N]`` (a `LocalCluster` of N one-thread worker processes)
or ``tcp://HOST:PORT`` (an existing scheduler), and the setup every worker runs once.

A local worker is one core: its compute libraries (XLA's CPU thread pool, Numba's parallel
loops) run one thread each, as Dask already makes the BLAS libraries do
(``distributed.nanny.pre-spawn-environ``), so that N workers use N cores instead of N thread
pools contending for the same ones. Workers that join an existing scheduler keep the environment
they were started with.

The setup (`WorkerSetup`, a Dask worker plugin, re-run by any worker that joins later, a
restarted one included) turns JAX's GPU memory preallocation off so that several workers can
share a GPU, points JAX at its persistent compilation cache, and compiles the sweep's block
program once (the flow engine's Numba-compiled host pass is cached on disk by Numba itself), so
no block pays for compilation. Dask is imported only when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from multiprocessing import resource_tracker
from typing import TYPE_CHECKING, Any

from distributed import Client, LocalCluster, WorkerPlugin

from bordersim.interrupts import as_child_process, held_from_children
from bordersim.services.cluster_spec import ClusterSpecError, parse_cluster

if TYPE_CHECKING:
    from bordersim.services.blocks import BlockTask

#: JAX must not take most of a GPU's memory up front when several workers share it.
WORKER_ENVIRONMENT = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
#: Set in a local worker's environment: its JAX computes on one core (start_jax_on_one_core).
ONE_CORE_VARIABLE = "BORDERSIM_WORKER_ONE_CORE"
#: Dask settings of a local cluster (its scheduler, nannies and workers; see open_client): no
#: statistical profiling of the tasks, and the periodic bookkeeping that a sweep's few long
#: tasks do not need made rarer or turned off, since on a machine with as many workers as cores
#: every cycle it takes comes out of a block. The scheduler holds back the tasks beyond what the
#: workers run (Dask's queuing), so there is nothing queued on a worker for another to steal.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "10s",
    "distributed.scheduler.work-stealing": False,
    "distributed.scheduler.active-memory-manager.start": False,
}
#: Dask's logger of a connection closing, which logs it at INFO level with a traceback: a
#: Ctrl-C that closes a local cluster while blocks run printed "Batched Comm Closed" and a
#: `CommClosedError` traceback after the command's "interrupted" line. Nothing for a user to
#: act on; warnings and errors still show.
QUIET_LOGGERS = ("distributed.batched",)
#: Eigen's own thread pool off in a local worker (read when JAX starts in the worker process);
#: XLA's CPU pool is held to one thread by `start_jax_on_one_core` (no XLA flag does it).
ONE_THREAD_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false"
#: PyArrow's memory pool in a local worker: the C library's allocator, not PyArrow's default
#: jemalloc, whose first use in a worker's task thread after a block's simulation took 0.75-0.9 s
#: (each worker's first block file took 0.8 s to write, the next ones 0.1 s; with this pool the
#: first one takes 0.1 s too, and later writes are no slower).
ARROW_MEMORY_POOL = "system"
#: Clients of local clusters started by `open_client`: their workers set themselves up when
#: they start (`dask_setup`), so `prepare_workers` has nothing to wait for.
_SELF_STARTING: weakref.WeakSet[Client] = weakref.WeakSet()


@contextmanager
def open_client(spec: str) -> Iterator[Client]:
    """A Dask client for `spec`; a local cluster started here is closed on the way out."""
    kind, value = parse_cluster(spec)
    if kind == "address":
        try:
            client = Client(value, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise ClusterSpecError(f"--cluster {spec}: no Dask scheduler answers: {err}") from err
        except Exception as err:  # something else answers there: an HTTP server, say
            # (Dask's client took the first bytes of its reply for a length, and raised
            # "Unable to allocate 3.07 EiB for an array")
            raise ClusterSpecError(
                f"--cluster {spec}: what answers there is not a Dask scheduler (its reply made "
                f"no sense to Dask's client: {type(err).__name__}); give the scheduler's own "
                "port (8786 unless it was started with another), not its dashboard's"
            ) from err
        with client:
            yield client
        return
    import dask

    # Dask's statistical profiler samples the running task's stack every 10 ms; on a block it
    # cost about 9 % of the worker's CPU time (3.45 s against 3.15 s a block), which a worker on
    # a busy core takes from the block itself; the other settings of LOCAL_CLUSTER_CONFIG are
    # explained beside it. The scheduler reads them as it starts here, and the nannies pass
    # them on to the workers they start, restarted ones included.
    quiet_closing_connections()
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        # The workers, and any the nannies restart from the cluster's event loop, begin with
        # Ctrl-C and SIGTERM blocked; `dask_setup` sets their handlers (bordersim.interrupts).
        # Python's resource tracker is started first: the thread that starts it lets both
        # signals through again, and the thread that starts the workers would be that one.
        resource_tracker.ensure_running()
        with held_from_children():
            cluster = LocalCluster(
                n_workers=value,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=local_worker_environment(),
                preload=[__name__],  # each worker runs `dask_setup` as it starts
            )
        with cluster, Client(cluster) as client:
            _SELF_STARTING.add(client)
            yield client
            # Reached only when the caller's work ended without an error: nothing of the
            # workers' is needed any more. (After an error or an interruption the workers are
            # closed gracefully, below, as tasks may still be running.)
            end_local_workers(cluster)


def end_local_workers(cluster: LocalCluster) -> None:
    """End a local cluster's worker processes now, so that closing it need not wait for them.

    A graceful close asks every worker to finish its tasks, close its connections and shut its
    interpreter down (JAX's threads and caches with it): 0.7-1.5 s on the 2-core machine, during
    which the command only waits, and when the scheduler closes first a worker's heartbeat can
    print a `CommClosedError` traceback. Each nanny is first told that its worker goes away on
    purpose (so it does not start a new one), then the process is killed."""
    for nanny in list(cluster.workers.values()):
        pid = getattr(nanny, "pid", None)
        close_gracefully = getattr(nanny, "close_gracefully", None)
        if not pid or close_gracefully is None:
            continue
        close_gracefully(reason="bordersim: work done")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class BackgroundClient:
    """A Dask client being opened by `open_client` in a thread of its own, so that a local
    cluster's workers start (Python, Dask, JAX: 2-3 s) while this process loads, checks and
    records the sweep. The same thread closes it: `release` starts that, `close` waits for it."""

    def __init__(self, spec: str) -> None:
        parse_cluster(spec)  # a bad value is refused here, at once
        self.spec = spec
        self._opened: Future[Client] = Future()
        self._released = threading.Event()
        self._finished = False
        self._tasks_may_run = False
        self._thread = threading.Thread(target=self._hold, name="bordersim-cluster", daemon=True)
        self._thread.start()

    def wait_for_client(self, *, for_tasks: bool = False) -> Client:
        """The client once the cluster is up (or the error that kept it from starting);
        `for_tasks` when it is taken to run tasks."""
        if for_tasks:
            self._tasks_may_run = True
        return self._opened.result()

    def connected(self, timeout_s: float) -> None:
        """Wait until the client has joined the scheduler, or raise why it did not. Something
        that accepts the connection and never answers (a service other than Dask's on that
        port) holds Dask's client for good: its handshake waits without a time limit, so the
        wait ends here and the thread that holds the client is left to end with the process."""
        try:
            self._opened.result(timeout=timeout_s)
        except FutureTimeout:
            raise ClusterSpecError(
                f"--cluster {self.spec}: what answers there is not a Dask scheduler (no reply "
                f"to Dask's client in {timeout_s:g} s); give the scheduler's own port (8786 "
                "unless it was started with another)"
            ) from None

    def release(self, *, finished: bool) -> None:
        """Start closing the cluster: at once if the work `finished` or no task was given to it
        (`end_local_workers`; a bad grid is refused without waiting for a graceful close),
        gracefully otherwise."""
        self._finished = finished
        self._released.set()

    def close(self, *, finished: bool = False) -> None:
        """Close the cluster (if `release` has not already started it) and wait until it is."""
        if not self._released.is_set():
            self.release(finished=finished)
        self._thread.join()

    def _hold(self) -> None:
        try:
            with open_client(self.spec) as client:
                self._opened.set_result(client)
                self._released.wait()
                if not self._finished and self._tasks_may_run:
                    raise _CloseGracefully
        except _CloseGracefully:
            pass
        except BaseException as err:  # handed to the thread that waits for the client
            if not self._opened.done():
                self._opened.set_exception(err)


class _CloseGracefully(Exception):
    """Leaves `open_client` by its error path, which closes the workers gracefully."""


def local_worker_environment() -> dict[str, str]:
    """The environment of a local worker process: `WORKER_ENVIRONMENT`, one compute thread."""
    xla_flags = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_XLA_FLAGS}".strip()
    return {
        **WORKER_ENVIRONMENT,
        "XLA_FLAGS": xla_flags,
        "NUMBA_NUM_THREADS": "1",
        "ARROW_DEFAULT_MEMORY_POOL": ARROW_MEMORY_POOL,
        ONE_CORE_VARIABLE: "1",
    }


def quiet_closing_connections() -> None:
    """In the command and in each local worker: Dask's notes of a connection closing
    (`QUIET_LOGGERS`) left out."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def dask_setup(worker: Any) -> None:
    """Run by every local worker as it starts (a Dask preload, `open_client`), a restarted one
    included: JAX started on one core and the modules a block needs imported, before the worker
    takes its first task, so that no block pays for them. (A block's first Parquet write took
    0.26 s against 0.10 s for the next ones: importing `pyarrow.parquet`.)"""
    as_child_process()  # Ctrl-C is the command's to handle; it stops the workers itself
    quiet_closing_connections()
    for key, value in WORKER_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    if os.environ.get(ONE_CORE_VARIABLE) == "1":
        start_jax_on_one_core(worker.name)
    import pyarrow.parquet  # noqa: F401

    import bordersim.compiler
    import bordersim.engines.flow.runner
    import bordersim.services.blocks
    import bordersim.store.result_files  # noqa: F401


_JAX_STARTED = threading.Lock()
_jax_started = False
#: The core this process started JAX on (None: not started by `start_jax_on_one_core`).
jax_started_on: int | None = None


def start_jax_on_one_core(worker_name: object = None) -> None:
    """Start JAX's CPU backend while this process may run on one core only, then give the
    process back every core it had. Workers named 0, 1, ... (a local cluster's) start on
    different cores (`starting_core`), so that N workers starting at once import and start JAX
    on N cores: when every worker started on the first core, two workers on 2 cores spent
    about 2.3 s sharing it, at half a core each, while the other core had nothing to do.

    XLA sizes its CPU thread pool by the cores the process may use when the backend starts, and
    runs parts of a program on it in parallel whatever `ONE_THREAD_XLA_FLAGS` say: a local
    worker used about 1.45 cores on a block (3.6 s of CPU time in 2.5 s), so two workers on two
    cores took 1.44 times as long per block as one, and the parallel work cost more CPU time in
    all than one thread does (3.0 s a block). Started this way the pool has one thread, the
    worker one core's worth of work, and the operating system still moves it between cores
    (every thread's affinity is given back, the pool's included: a thread inherits its
    creator's). Nothing is done where the process cannot set its CPU affinity (not Linux)."""
    global _jax_started
    with _JAX_STARTED:
        if _jax_started or not hasattr(os, "sched_setaffinity"):
            return
        _start_jax_pinned(worker_name)
        _jax_started = True


def starting_core(allowed: set[int], worker_name: object) -> int:
    """The core a worker starts JAX on: its place among the allowed cores by its name where
    the name is a number (a local cluster's workers: 0, 1, ...), by its process id otherwise."""
    cores = sorted(allowed)
    index = worker_name if isinstance(worker_name, int) else os.getpid()
    return cores[index % len(cores)]


def _start_jax_pinned(worker_name: object) -> None:
    global jax_started_on
    allowed = os.sched_getaffinity(0)
    jax_started_on = starting_core(allowed, worker_name)
    os.sched_setaffinity(0, {jax_started_on})
    try:
        import jax

        jax.devices()
    finally:
        for thread in _thread_ids():
            with contextlib.suppress(OSError):  # a thread that has ended since
                os.sched_setaffinity(thread, allowed)
        os.sched_setaffinity(0, allowed)


def _thread_ids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:
        return []


class WorkerSetup(WorkerPlugin):
    """Run once in every worker: environment, compilation cache, the block program compiled."""

    name = "bordersim-worker-setup"

    def __init__(self, warm: BlockTask | None = None) -> None:
        self.warm = warm

    def setup(self, worker: Any) -> None:
        for key, value in WORKER_ENVIRONMENT.items():
            os.environ.setdefault(key, value)
        if os.environ.get(ONE_CORE_VARIABLE) == "1":
            start_jax_on_one_core(worker.name)
        from bordersim.engines.flow.runner import prepare_batch

        if self.warm is not None:
            from bordersim.services.blocks import block_models

            prepare_batch(block_models(self.warm), replications=self.warm.shape.replications)


def prepare_workers(client: Client, warm: BlockTask | None) -> None:
    """Register `WorkerSetup` (replacing an earlier sweep's) and wait until every worker ran it.

    Not for the workers of a local cluster `open_client` started: they set themselves up as
    they start (`dask_setup`), and each loads the block program (or compiles it) with its
    first block instead of waiting here for it, while the other workers already run blocks."""
    if client in _SELF_STARTING:
        return
    client.register_plugin(WorkerSetup(warm), name=WorkerSetup.name)
