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
#: One compute thread per local worker (read when JAX and Numba start in the worker process).
ONE_THREAD_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


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
    with (
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
    return {**WORKER_ENVIRONMENT, "XLA_FLAGS": xla_flags, "NUMBA_NUM_THREADS": "1"}


class WorkerSetup(WorkerPlugin):
    """Run once in every worker: environment, compilation cache, the block program compiled."""

    name = "bordersim-worker-setup"

    def __init__(self, warm: BlockTask | None = None) -> None:
        self.warm = warm

    def setup(self, worker: Any) -> None:
        for key, value in WORKER_ENVIRONMENT.items():
            os.environ.setdefault(key, value)
        from bordersim.engines.flow.runner import prepare_batch

        if self.warm is not None:
            from bordersim.services.blocks import block_models

            prepare_batch(block_models(self.warm), replications=self.warm.shape.replications)


def prepare_workers(client: Client, warm: BlockTask | None) -> None:
    """Register `WorkerSetup` (replacing an earlier sweep's) and wait until every worker ran it."""
    client.register_plugin(WorkerSetup(warm), name=WorkerSetup.name)
