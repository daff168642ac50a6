"""The README's table of the event core against SimPy, Ciw and salabim, and the compilation times
beside it, are those of the latest `python -m bench.peers` (`bench/results/peers.md`), so a new
measurement that leaves the README's figures behind fails here."""

from __future__ import annotations

import re

import pytest

from doc_pages import page_text

PEERS = "bench/results/peers.md"
#: The network's name in bench/results/peers.md, and the README's row for it.
NETWORKS = {
    "M/M/10": "M/M/10, utilisation 0.9",
    "tandem": "three-station tandem, two priority classes",
    "erlang-a": "Erlang A",
}
TOOLS = ("SimPy", "Ciw", "salabim")


def measured_row(network: str) -> list[str]:
    """The README's cells for `network` as bench/results/peers.md measured it: core customers a
    second in millions, then the core's ratio over each peer."""
    rows = {
        (cells[0], cells[1]): cells
        for line in page_text(PEERS).splitlines()
        if line.startswith("| ") and len(cells := [c.strip() for c in line.split("|")[1:-1]]) > 6
    }
    core_rate = int(rows[(network, "bordersim core")][5].replace(",", ""))
    return [f"{core_rate / 1e6:.2f} M", *(rows[(network, tool)][6] for tool in TOOLS)]


@pytest.mark.parametrize("network", NETWORKS)
def test_the_readme_shows_the_latest_peer_comparison(network: str) -> None:
    row = f"| {NETWORKS[network]} | {' | '.join(measured_row(network))} |"
    assert row in page_text("README.md")


def test_the_readme_gives_the_latest_compilation_times() -> None:
    measured = re.search(
        r"([\d.]+) s from a cold cache, ([\d.]+) s to import and load", page_text(PEERS)
    )
    assert measured is not None
    cold, load = measured.groups()
    readme = " ".join(page_text("README.md").split())
    assert f"{cold} s from a cold cache, {load} s to load from it" in readme
