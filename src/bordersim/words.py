"""How counts and shares read in bordersim's messages and reports: "1 replication", "48 %"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun, singular for one: ``counted(1, "replication")`` is "1 replication",
    with the thousands separator bordersim writes elsewhere: ``counted(2000, "variant")`` is
    "2,000 variants"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def whole_percent(share: float) -> str:
    """A share as a whole percentage, with the space bordersim's tables and docs put before the
    sign: ``whole_percent(0.478)`` is "48 %"."""
    return f"{100 * share:.0f} %"
