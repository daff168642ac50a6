"""``--cluster`` values, read without importing Dask (so that a bad one is refused at once and a
good one can start its cluster in the background while the command goes on)."""

from __future__ import annotations

import os
from typing import Any

from bordersim.errors import BordersimError


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
