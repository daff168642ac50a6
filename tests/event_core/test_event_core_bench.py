"""The peer benchmark harness runs end to end on a small scale and writes its table."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.slow
def test_peer_benchmark_runs_and_agrees(tmp_path: Path) -> None:
    from bench.peers import main

    out = tmp_path / "peers.md"
    code = main(
        [
            "--core-customers",
            "50000",
            "--peer-customers",
            "5000",
            "--salabim-customers",
            "1000",
            "--no-compile-time",
            "--output",
            str(out),
        ]
    )
    text = out.read_text()
    assert code == 0, text
    for tool in ("bordersim core", "SimPy", "Ciw", "salabim"):
        assert tool in text
    assert "Targets:" in text and "NO (" not in text
