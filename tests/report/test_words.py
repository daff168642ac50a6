"""How counts read in messages and reports."""

from __future__ import annotations

from bordersim.words import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "replication") == "1 replication"
    assert counted(0, "replication") == "0 replications"
    assert counted(20, "variant") == "20 variants"
    assert counted(2, "child", "children") == "2 children"
