"""``--cluster`` values, read without importing Dask (so that a bad one is refused at once and a
good one can start its cluster in the background while the command goes on)."""

from __future__ import annotations

import os
from typing import Any

from bordersim.errors import BordersimError
from bordersim.words import counted


class ClusterSpecError(BordersimError):
    """A --cluster value that is neither local[:N] nor tcp://HOST:PORT."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one): a local
    worker computes on one core, so `local` starts this many and `local:N` may ask for up to it."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def parse_cluster(spec: str) -> tuple[str, Any]:
    """``("local", n_workers)`` or ``("address", "tcp://HOST:PORT")``."""
    text = spec.strip()
    if text == "local":
        return "local", usable_cores()
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        if not (count.isascii() and count.isdigit()) or int(count) < 1:
            raise ClusterSpecError(
                f"--cluster {spec!r}: the number of workers after local: must be a whole "
                "number of at least 1 (for example local:2)"
            )
        cores = usable_cores()
        if int(count) > cores:
            # each worker is a process of its own (Python, Dask, JAX): hundreds of them ran
            # the machine out of memory, and more workers than cores run no faster
            # the cores this process may use (its affinity), which may be fewer than the
            # machine's: a batch job's, or under `taskset`
            raise ClusterSpecError(
                f"--cluster {spec!r}: asks for {count} local workers, one a core, and "
                f"bordersim may use {counted(cores, 'core')} here: give at most local:{cores} "
                f"(local uses {'it' if cores == 1 else 'them all'}), or join a scheduler with "
                "more workers (tcp://HOST:PORT)"
            )
        return "local", int(count)
    if text.startswith(("tcp://", "tls://")) and ":" in text.split("://", 1)[1]:
        _check_address(spec, text)
        return "address", text
    raise ClusterSpecError(
        f"--cluster {spec!r}: expected local, local:N or tcp://HOST:PORT of a Dask scheduler"
    )


def _check_address(spec: str, text: str) -> None:
    """Refuse a scheduler address without a host or with a port that is not one, before Dask
    is asked to reach it (which said nothing for 20 s, or raised a traceback for a port in
    letters)."""
    host, _, port = text.split("://", 1)[1].rpartition(":")
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise ClusterSpecError(
            f"--cluster {spec!r}: the port after the scheduler's host must be a number from 1 "
            "to 65535 (for example tcp://scheduler.example.org:8786)"
        )
    bracketed = host.startswith("[") and host.endswith("]")
    name = host[1:-1] if bracketed else host
    if not name or any(c in name for c in "/[]@ ") or (":" in name and not bracketed):
        raise ClusterSpecError(
            f"--cluster {spec!r}: no scheduler host before the port (expected tcp://HOST:PORT, "
            "an IPv6 address in brackets: tcp://[::1]:8786)"
        )


#: How long `check_scheduler` waits for a scheduler's port to accept (Dask's own client waits
#: 20 s too, `services.cluster.open_client`).
SCHEDULER_TIMEOUT_S = 20.0


def check_scheduler(spec: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
    """Refuse a ``tcp://HOST:PORT`` that nothing listens on before anything is recorded: a host
    that has no address or a port that refuses the connection is said at once (Dask's client
    retried for its 20 s and the sweep was recorded meanwhile, left 'unfinished' though none of
    it ran). A `local[:N]` value has nothing to reach."""
    import socket

    kind, address = parse_cluster(spec)
    if kind != "address":
        return
    host, _, port = address.split("://", 1)[1].rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except socket.gaierror as err:
        reason = f"no such host: {err.strerror}"
    except TimeoutError:
        reason = f"nothing answered in {timeout_s:g} s"
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
    else:
        return
    raise ClusterSpecError(
        f"--cluster {spec}: no Dask scheduler answers there ({reason}); nothing was run"
    )
