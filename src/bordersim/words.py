"""How counts read in bordersim's messages and reports: "1 replication", "20 replications"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun, singular for one: ``counted(1, "replication")`` is "1 replication"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
