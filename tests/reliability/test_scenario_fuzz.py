"""The seeded scenario fuzzer (`scenario_fuzz`): every mutant is a valid scenario or one clear line.

The fast test runs 150 mutants; the slow one 1,200 (about half a minute on one core), both from
fixed seeds so that a failure can be replayed. The CLI test checks the same rule end to end on a
few mutants: exit status 0 with the summary, or 2 with one line on stderr and no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_fuzz import Fuzzer, check_outcome

FAST_MUTANTS = 150
SLOW_MUTANTS = 1200


def _failures(folder: Path, seed: int, count: int) -> tuple[list[str], int]:
    fuzzer = Fuzzer(folder, seed)
    failures = [problem for m in fuzzer.mutants(count) if (problem := check_outcome(m))]
    return failures, fuzzer.count


def test_fuzzed_scenarios_are_valid_or_one_clear_line(tmp_path: Path) -> None:
    failures, count = _failures(tmp_path, seed=20260101, count=FAST_MUTANTS)
    assert count == FAST_MUTANTS
    assert not failures, "\n".join(failures[:20])


@pytest.mark.slow
def test_thousand_fuzzed_scenarios(tmp_path: Path) -> None:
    failures, count = _failures(tmp_path, seed=1, count=SLOW_MUTANTS)
    assert count >= 1000
    assert not failures, f"{len(failures)} of {count} mutants broke the rule:\n" + "\n".join(
        failures[:20]
    )


def test_cli_outcome_is_exit_0_or_exit_2_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    fuzzer = Fuzzer(tmp_path, seed=99)
    outcomes = {0: 0, 2: 0}
    for mutant in fuzzer.mutants(8):
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "bordersim"),
                "scenario",
                "check",
                "-q",
                str(mutant.path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode in (0, 2), (mutant.label, done.stderr[-500:])
        assert "Traceback" not in done.stderr, mutant.label
        if done.returncode == 2:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, (mutant.label, done.stderr)
            assert lines[0].startswith("error:"), lines
        else:
            assert "is valid" in " ".join(done.stdout.split())
        outcomes[done.returncode] += 1
    assert sum(outcomes.values()) == 8
