"""docs/extending.md's how-tos work as written: their edit blocks, applied to a copy of `src/`,
give a staff pool that a scenario can deploy and that both engines staff, a task both engines
staff, and a departure route that both engines send people by."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from doc_pages import block_pattern
from repo_paths import REPO

DOC = REPO / "docs" / "extending.md"
EDIT = re.compile(
    r"```\w*\n# edit (\S+), (after|before|replace|substitute): ([^\n]*)\n(.*?)```", re.S
)


def section(title: str) -> str:
    text = DOC.read_text()
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def scenario_example(title: str) -> str:
    """The how-to's scenario TOML: its one TOML block that is not an edit of a source file."""
    blocks = block_pattern("toml").findall(section(title))
    scenario = [b for b in blocks if not b.startswith("# edit ")]
    assert len(scenario) == 1, f"{title}: {len(scenario)} scenario examples, not one"
    return "\n" + scenario[0]


def pool_section() -> str:
    return section("Add a staff pool")


def edits(title: str = "Add a staff pool") -> list[tuple[str, str, str, str]]:
    """(path, where, anchor line, text) of each edit block of a how-to."""
    return [m.groups() for m in EDIT.finditer(section(title))]


def apply(root: Path, path: str, where: str, anchor: str, text: str) -> None:
    file = root / path
    if where == "substitute":  # within a line: the block's one line replaces the anchor text
        content = file.read_text()
        count = content.count(anchor)
        assert count == 1, f"{path}: {anchor!r} is in the file {count} times, not once"
        file.write_text(content.replace(anchor, text.rstrip("\n")))
        return
    lines = file.read_text().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.strip() == anchor.strip()]
    assert len(hits) == 1, f"{path}: the anchor {anchor!r} is on {len(hits)} lines, not one"
    i = hits[0]
    new = text.splitlines(keepends=True)
    if where == "after":
        lines[i + 1 : i + 1] = new
    elif where == "before":
        lines[i:i] = new
    else:
        lines[i : i + 1] = new
    file.write_text("".join(lines))


def test_the_how_to_states_the_files_it_touches() -> None:
    files = {path for path, *_ in edits()}
    assert len(files) == 4, sorted(files)
    assert "**Touches 4 source files**" in pool_section()


def test_the_route_how_to_states_the_files_it_touches() -> None:
    files = {path for path, *_ in edits(ROUTE)}
    assert len(files) == 3, sorted(files)
    assert "**Touches 3 source files**" in section(ROUTE)


def copy_with_edits(tmp_path: Path, title: str) -> Path:
    """A copy of `src/` under `tmp_path` with the how-to's edit blocks applied."""
    copy = tmp_path / "src"
    shutil.copytree(REPO / "src", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for path, where, anchor, text in edits(title):
        apply(tmp_path, path, where, anchor, text)
    return copy


def run_copy(copy: Path, script: str, *args: str) -> str:
    """Run `script` on the copied and edited sources; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=dict(os.environ, PYTHONPATH=str(copy)),
        cwd=copy.parent,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def short_small_scenario(tmp_path: Path, name: str, extra: str) -> Path:
    """The small example scenario cut to two weeks (one of warm-up), with `extra` appended."""
    scenario = tmp_path / name
    small = (REPO / "scenarios/examples/small.toml").read_text()
    assert "end_date = 2023-05-31" in small
    scenario.write_text(small.replace("end_date = 2023-05-31", "end_date = 2023-05-03") + extra)
    return scenario


ROUTE = "Add a departure route"
TASK = "Add a task"


def test_the_task_how_to_states_the_files_it_touches() -> None:
    files = {path for path, *_ in edits(TASK)}
    assert len(files) == 3, sorted(files)
    assert "**Touches 3 source files**" in section(TASK)


INTERPRETERS = scenario_example(TASK)  # the how-to's own example, as written

TASK_RUN = """
import sys
import bordersim as bs

sc = bs.load_scenario(sys.argv[1])
for engine in ("flow", "event"):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    total = daily.groupby("metric")["value"].sum()
    print(
        engine,
        total["staff_hours:contractor:interpretation"],
        total["staff_hours_needed:interpretation"],
        total["staff_hours:agent:interpretation"],
    )
"""


@pytest.mark.slow
def test_a_new_task_is_staffed_by_both_engines(tmp_path: Path) -> None:
    import bordersim as bs

    scenario = short_small_scenario(tmp_path, "interpreting.toml", INTERPRETERS)
    text = scenario.read_text().replace(
        "[period]", "[staff]\ninterpretation_hours_per_person_day = 0.2\n\n[period]", 1
    )
    scenario.write_text(text)
    with pytest.raises(bs.BordersimError, match="interpretation"):
        bs.load_scenario(scenario)  # not a parameter before the how-to

    stdout = run_copy(copy_with_edits(tmp_path, TASK), TASK_RUN, str(scenario))
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in stdout.splitlines()}
    for engine in ("flow", "event"):
        contractors, needed, agents = rows[engine]
        assert needed > 0, stdout  # the new task's work: people in custody x the rate
        assert contractors > 0, stdout  # the deployed pool that can do it staffs it
        assert agents == 0, stdout  # agents' productivity does not name it: they cannot


SCENARIO = scenario_example("Add a staff pool")

RUN = """
import sys
import bordersim as bs

sc = bs.load_scenario(sys.argv[1])
for engine in ("flow", "event"):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    hours = daily[daily["metric"] == "staff_hours:customs_officer:intake"]["value"].sum()
    print(engine, hours)
"""


@pytest.mark.slow
def test_a_new_pool_is_deployed_and_staffed_by_both_engines(tmp_path: Path) -> None:
    import bordersim as bs

    # Two weeks (one of warm-up) are enough to see the pool staffed.
    scenario = short_small_scenario(tmp_path, "officers.toml", SCENARIO)
    with pytest.raises(bs.BordersimError, match="customs_officer"):
        bs.load_scenario(scenario)  # not a pool before the how-to

    stdout = run_copy(copy_with_edits(tmp_path, "Add a staff pool"), RUN, str(scenario))
    hours = dict(line.split() for line in stdout.splitlines() if line[:4] in ("flow", "even"))
    assert float(hours["flow"]) > 0 and float(hours["event"]) > 0, stdout


# The ICE line closed: expedited removals can leave custody by the new route only.
ROUTE_SCENARIO = """
[departures]
ice_transfers_per_day = 0
family_residential_intake_per_day = 150
"""

ROUTE_RUN = """
import sys
import bordersim as bs

sc = bs.load_scenario(sys.argv[1])
for engine in ("flow", "event"):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    total = daily.groupby("metric")["value"].sum()
    print(
        engine,
        total["departures:expedited_removal"],
        total["waiting_for_family_residential"],  # a metric of the new route
        total["waiting_for_ice_bed"],
    )
"""


@pytest.mark.slow
def test_a_new_route_takes_people_in_both_engines(tmp_path: Path) -> None:
    import bordersim as bs

    scenario = short_small_scenario(tmp_path, "families.toml", ROUTE_SCENARIO)
    with pytest.raises(bs.BordersimError, match="family_residential"):
        bs.load_scenario(scenario)  # not a parameter before the how-to
    closed = bs.load_scenario(
        short_small_scenario(tmp_path, "closed.toml", "[departures]\nice_transfers_per_day = 0\n")
    )
    before = bs.run(closed, replications=1, seed=1, engine="flow").daily()
    assert before[before["metric"] == "departures:expedited_removal"]["value"].sum() == 0

    stdout = run_copy(copy_with_edits(tmp_path, ROUTE), ROUTE_RUN, str(scenario))
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in stdout.splitlines()}
    for engine in ("flow", "event"):
        removed, _, waiting_adults = rows[engine]
        assert removed > 0, stdout  # families leave by the new route while ICE takes no one
        assert waiting_adults > 0, stdout  # adults still wait for ICE


DISEASE = "Add a disease"


def test_the_disease_how_to_states_the_files_it_touches() -> None:
    files = {path for path, *_ in edits(DISEASE)}
    assert files == {"src/bordersim/defaults/diseases.toml"}, sorted(files)
    assert "**Touches 1 source file**" in section(DISEASE)


MEASLES_ON = scenario_example(DISEASE)
HEALTH_ON = MEASLES_ON.replace('disease = "measles"\n', "")  # the same, on the default disease

DISEASE_RUN = """
import sys
import bordersim as bs

sc = bs.load_scenario(sys.argv[1])
source = sc.sources["health.transmission_rate_per_day"]
for engine in ("flow", "event"):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    total = daily.groupby("metric")["value"].sum()
    print(engine, total["infections_in_custody"], repr(source))
"""


@pytest.mark.slow
def test_a_new_disease_spreads_in_both_engines(tmp_path: Path) -> None:
    import bordersim as bs

    assert MEASLES_ON != HEALTH_ON
    measles = short_small_scenario(tmp_path, "measles.toml", MEASLES_ON)
    with pytest.raises(bs.BordersimError, match="measles"):
        bs.load_scenario(measles)  # not a disease before the how-to
    default = bs.load_scenario(short_small_scenario(tmp_path, "default.toml", HEALTH_ON))
    assert "COVID-19" in default.sources["health.transmission_rate_per_day"]

    stdout = run_copy(copy_with_edits(tmp_path, DISEASE), DISEASE_RUN, str(measles))
    rows = {}
    for line in stdout.splitlines():
        engine, infections, source = line.split(" ", 2)
        rows[engine] = (float(infections), source)
    for engine in ("flow", "event"):
        with_measles, source = rows[engine]
        assert "example only" in source, stdout  # the new table's parameters were used
        daily = bs.run(default, replications=1, seed=1, engine=engine).daily()
        without = daily[daily["metric"] == "infections_in_custody"]["value"].sum()
        assert without > 0, engine  # the default disease spreads too, less
        # Five times the default's transmission rate: several times the infections in holding.
        assert with_measles > 2 * without, (engine, with_measles, without)
