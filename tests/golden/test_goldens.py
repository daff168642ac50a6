"""Both engines reproduce their pinned outputs bit for bit (see `golden_cases` to regenerate)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from golden_cases import CASES, GOLDENS, Case, summarise


def _differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    lines = []
    for key in ("shape", "dtype"):
        if expected[key] != got[key]:
            lines.append(f"{key}: expected {expected[key]}, got {got[key]}")
    for section in ("metrics", "people"):
        for name, (digest, total) in expected.get(section, {}).items():
            got_digest, got_total = got[section].get(name, ("missing", float("nan")))
            if got_digest != digest:
                lines.append(f"{section} {name}: total {total!r} -> {got_total!r}")
    if expected["custody_hist"][0] != got["custody_hist"][0]:
        lines.append(
            f"custody_hist: total {expected['custody_hist'][1]} -> {got['custody_hist'][1]}"
        )
    return lines


@pytest.fixture(scope="module")
def goldens() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDENS.read_text())
    return data


def test_every_case_has_a_golden(goldens: dict[str, Any]) -> None:
    assert sorted(goldens) == sorted(case.name for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_engine_output_is_bit_identical(case: Case, goldens: dict[str, Any]) -> None:
    if case.engine == "flow":
        jax = pytest.importorskip("jax")
        if jax.default_backend() != "cpu":
            pytest.skip("flow goldens are pinned on the CPU backend")
    differences = _differences(goldens[case.name], summarise(case))
    assert not differences, (
        f"{case.name} moved from its golden (if on purpose, regenerate: "
        ".venv/bin/python tests/golden/golden_cases.py):\n" + "\n".join(differences)
    )
