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


# Values at the bounds the validator allows: each simulates to finite results, or the engine
# refuses it with one `BordersimError`; a run is never stored with NaN (`store.runs.check_finite`).
AT_THE_BOUNDS = {
    "surge x1000": "[demand.shocks.s]\ndate = 2023-05-12\nsurge_days = 10\nsurge_multiplier = 1000",
    "occupancy 100 x capacity": "[custody]\ninitial_occupancy_fraction = 100",
    "ICE full at a million beds": (
        "[departures]\nice_beds = 1000000\nice_initial_occupancy_beds = 1000000"
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(AT_THE_BOUNDS))
def test_scenarios_at_the_bounds_simulate_to_finite_results(tmp_path: Path, case: str) -> None:
    import tomllib

    from bordersim.errors import BordersimError
    from bordersim.services.loading import load_and_compile
    from bordersim.services.record import simulate_loaded
    from bordersim.store.runs import check_finite
    from repo_paths import SMALL

    overlay = tomllib.loads(AT_THE_BOUNDS[case])
    base = tomllib.loads(SMALL.read_text(encoding="utf-8"))
    for section, values in overlay.items():
        for key, value in values.items():
            if isinstance(value, dict):
                base.setdefault(section, {}).setdefault(key, {}).update(value)
            else:
                base.setdefault(section, {})[key] = value
    from bordersim.scenario.toml_text import dumps

    path = tmp_path / "bounds.toml"
    path.write_text(dumps(base), encoding="utf-8")
    try:
        loaded = load_and_compile(path)
        result = simulate_loaded(loaded, engine="flow", replications=2, seed=3)
    except BordersimError as err:
        assert "\n" not in str(err) and len(str(err)) <= 300
        return
    check_finite(result)
