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
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from distributed import Client, LocalCluster, WorkerPlugin

from bordersim.errors import BordersimError

if TYPE_CHECKING:
    from bordersim.services.blocks import BlockTask

#: JAX must not take most of a GPU's memory up front when several workers share it.
WORKER_ENVIRONMENT = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
#: Set in a local worker's environment: its JAX computes on one core (start_jax_on_one_core).
ONE_CORE_VARIABLE = "BORDERSIM_WORKER_ONE_CORE"
#: Dask settings of local workers: no statistical profiling of the tasks (see open_client).
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
#: Eigen's own thread pool off in a local worker (read when JAX starts in the worker process);
#: XLA's CPU pool is held to one thread by `start_jax_on_one_core` (no XLA flag does it).
ONE_THREAD_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false"


class ClusterSpecError(BordersimError):
    """A --cluster value that is neither local[:N] nor tcp://HOST:PORT."""


def parse_cluster(spec: str) -> tuple[str, Any]:
    """``("local", n_workers)`` or ``("address", "tcp://HOST:PORT")``."""
    text = spec.strip()
    if text == "local":
        return "local", max(1, os.cpu_count() or 1)
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise ClusterSpecError(
                f"--cluster {spec!r}: the number of workers after local: must be a whole "
                "number of at least 1 (for example local:2)"
            )
        return "local", int(count)
    if text.startswith(("tcp://", "tls://")) and ":" in text.split("://", 1)[1]:
        return "address", text
    raise ClusterSpecError(
        f"--cluster {spec!r}: expected local, local:N or tcp://HOST:PORT of a Dask scheduler"
    )


@contextmanager
def open_client(spec: str) -> Iterator[Client]:
    """A Dask client for `spec`; a local cluster started here is closed on the way out."""
    kind, value = parse_cluster(spec)
    if kind == "address":
        try:
            client = Client(value, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise ClusterSpecError(f"--cluster {spec}: no Dask scheduler answers: {err}") from err
        with client:
            yield client
        return
    import dask

    # Dask's statistical profiler samples the running task's stack every 10 ms; on a block it
    # cost about 9 % of the worker's CPU time (3.45 s against 3.15 s a block), which a worker on
    # a busy core takes from the block itself. The nannies pass this setting on to the workers
    # they start, restarted ones included.
    with (
        dask.config.set(LOCAL_WORKER_CONFIG),
        LocalCluster(
            n_workers=value,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env=local_worker_environment(),
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def local_worker_environment() -> dict[str, str]:
    """The environment of a local worker process: `WORKER_ENVIRONMENT`, one compute thread."""
    xla_flags = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_XLA_FLAGS}".strip()
    return {
        **WORKER_ENVIRONMENT,
        "XLA_FLAGS": xla_flags,
        "NUMBA_NUM_THREADS": "1",
        ONE_CORE_VARIABLE: "1",
    }


def start_jax_on_one_core() -> None:
    """Start JAX's CPU backend while this process may run on one core only, then give the
    process back every core it had.

    XLA sizes its CPU thread pool by the cores the process may use when the backend starts, and
    runs parts of a program on it in parallel whatever `ONE_THREAD_XLA_FLAGS` say: a local
    worker used about 1.45 cores on a block (3.6 s of CPU time in 2.5 s), so two workers on two
    cores took 1.44 times as long per block as one, and the parallel work cost more CPU time in
    all than one thread does (3.0 s a block). Started this way the pool has one thread, the
    worker one core's worth of work, and the operating system still moves it between cores
    (every thread's affinity is given back, the pool's included: a thread inherits its
    creator's). Nothing is done where the process cannot set its CPU affinity (not Linux)."""
    if not hasattr(os, "sched_setaffinity"):
        return
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
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
            start_jax_on_one_core()
        from bordersim.engines.flow.runner import prepare_batch

        if self.warm is not None:
            from bordersim.services.blocks import block_models

            prepare_batch(block_models(self.warm), replications=self.warm.shape.replications)


def prepare_workers(client: Client, warm: BlockTask | None) -> None:
    """Register `WorkerSetup` (replacing an earlier sweep's) and wait until every worker ran it."""
    client.register_plugin(WorkerSetup(warm), name=WorkerSetup.name)
