"""Both engines reproduce their pinned outputs: the event engine bit for bit, the flow engine
bit for bit or, on a machine with other instruction sets, to float32 rounding (see
`golden_cases`, also to regenerate)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from golden_cases import CASES, GOLDENS, Case, same_to_rounding, summarise


def _differences(expected: dict[str, Any], got: dict[str, Any], *, rounding: bool) -> list[str]:
    """What moved; with `rounding`, arrays whose bits differ by float rounding only
    (`same_to_rounding`) have not."""
    lines = []
    for key in ("shape", "dtype"):
        if expected[key] != got[key]:
            lines.append(f"{key}: expected {expected[key]}, got {got[key]}")
    entries = [
        (f"{section} {name}", entry, got[section].get(name, ["missing", float("nan")]))
        for section in ("metrics", "people")
        for name, entry in expected.get(section, {}).items()
    ]
    entries.append(("custody_hist", expected["custody_hist"], got["custody_hist"]))
    for label, entry, got_entry in entries:
        if got_entry[0] == entry[0] or (rounding and same_to_rounding(entry, got_entry)):
            continue
        lines.append(f"{label}: total {entry[1]!r} -> {got_entry[1]!r}")
    return lines


@pytest.fixture(scope="module")
def goldens() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDENS.read_text())
    return data


def test_every_case_has_a_golden(goldens: dict[str, Any]) -> None:
    assert sorted(goldens) == sorted(case.name for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_engine_output_matches_its_golden(case: Case, goldens: dict[str, Any]) -> None:
    if case.engine == "flow":
        jax = pytest.importorskip("jax")
        if jax.default_backend() != "cpu":
            pytest.skip("flow goldens are pinned on the CPU backend")
    differences = _differences(goldens[case.name], summarise(case), rounding=case.engine == "flow")
    assert not differences, (
        f"{case.name} moved from its golden (if on purpose, regenerate: "
        ".venv/bin/python tests/golden/golden_cases.py):\n" + "\n".join(differences)
    )


def test_rounding_passes_and_a_move_does_not() -> None:
    """The flow engine's tolerance lets float32 rounding through, not a change: a value moved
    from one day to another (the total unchanged), or one person more."""
    from golden_cases import _numeric_entry

    values = np.random.default_rng(7).gamma(2.0, 50.0, size=(2, 6, 9)).astype(np.float32)
    golden = _numeric_entry(values)
    rounded = values * np.float32(1 + 2**-23)  # every value one float32 step up or so
    assert _numeric_entry(rounded)[0] != golden[0]
    assert same_to_rounding(golden, _numeric_entry(rounded))
    moved = values.copy()
    moved[0, 0, 0] -= 1.0
    moved[1, 5, 8] += 1.0
    assert not same_to_rounding(golden, _numeric_entry(moved))
    one_more = values.copy()
    one_more[0, 3, 4] += 1.0
    assert not same_to_rounding(golden, _numeric_entry(one_more))
