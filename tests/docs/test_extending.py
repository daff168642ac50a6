"""docs/extending.md's how-tos work as written: their edit blocks, applied to a copy of `src/`,
give a staff pool that a scenario can deploy and that both engines staff, a task both engines
staff, a departure route that both engines send people by, and a disease that spreads in both.

The four how-tos are applied together to one copy, whose scenarios one test runs on both engines:
the event engine's kernel, new for a copy of the sources (minutes on two cores), compiles once for
the four. Each how-to also runs alone, on a copy of its own, on the flow engine (seconds to
compile): a how-to that worked only beside another fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

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


def copy_with_edits(tmp_path: Path, *titles: str) -> Path:
    """A copy of `src/` under `tmp_path` with the how-tos' edit blocks applied, in order."""
    copy = tmp_path / "src"
    shutil.copytree(REPO / "src", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for title in titles:
        for path, where, anchor, text in edits(title):
            apply(tmp_path, path, where, anchor, text)
    return copy


def run_copy(copy: Path, script: str, *args: str) -> str:
    """Run `script` on the copied and edited sources; its standard output. The how-tos' scripts
    take the scenario and the engines to run (`flow,event`)."""
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


POOL = "Add a staff pool"
TASK = "Add a task"
ROUTE = "Add a departure route"
DISEASE = "Add a disease"
HOW_TOS = (POOL, TASK, ROUTE, DISEASE)
BOTH = ("flow", "event")


def rows_of(stdout: str, engines: tuple[str, ...]) -> dict[str, list[float]]:
    """The scripts' lines (`engine value value ...`) by engine: one for each engine run."""
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in stdout.splitlines()}
    assert sorted(rows) == sorted(engines), stdout
    return rows


def test_the_task_how_to_states_the_files_it_touches() -> None:
    files = {path for path, *_ in edits(TASK)}
    assert len(files) == 3, sorted(files)
    assert "**Touches 3 source files**" in section(TASK)


# ----- Add a task ----------------------------------------------------------------------------
INTERPRETERS = scenario_example(TASK)  # the how-to's own example, as written

TASK_RUN = """
import sys
import bordersim as bs

sc = bs.load_scenario(sys.argv[1])
for engine in sys.argv[2].split(","):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    total = daily.groupby("metric")["value"].sum()
    print(
        engine,
        total["staff_hours:contractor:interpretation"],
        total["staff_hours_needed:interpretation"],
        total["staff_hours:agent:interpretation"],
    )
"""


def interpreting_scenario(tmp_path: Path) -> Path:
    scenario = short_small_scenario(tmp_path, "interpreting.toml", INTERPRETERS)
    text = scenario.read_text().replace(
        "[period]", "[staff]\ninterpretation_hours_per_person_day = 0.2\n\n[period]", 1
    )
    scenario.write_text(text)
    return scenario


def check_task(stdout: str, engines: tuple[str, ...], tmp_path: Path) -> None:
    for contractors, needed, agents in rows_of(stdout, engines).values():
        assert needed > 0, stdout  # the new task's work: people in custody x the rate
        assert contractors > 0, stdout  # the deployed pool that can do it staffs it
        assert agents == 0, stdout  # agents' productivity does not name it: they cannot


# ----- Add a staff pool ----------------------------------------------------------------------
SCENARIO = scenario_example(POOL)

RUN = """
import sys
import bordersim as bs

sc = bs.load_scenario(sys.argv[1])
for engine in sys.argv[2].split(","):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    hours = daily[daily["metric"] == "staff_hours:customs_officer:intake"]["value"].sum()
    print(engine, hours)
"""


def officers_scenario(tmp_path: Path) -> Path:
    # Two weeks (one of warm-up) are enough to see the pool staffed.
    return short_small_scenario(tmp_path, "officers.toml", SCENARIO)


def check_pool(stdout: str, engines: tuple[str, ...], tmp_path: Path) -> None:
    for (hours,) in rows_of(stdout, engines).values():
        assert hours > 0, stdout


# ----- Add a departure route -----------------------------------------------------------------
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
for engine in sys.argv[2].split(","):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    total = daily.groupby("metric")["value"].sum()
    print(
        engine,
        total["departures:expedited_removal"],
        total["waiting_for_family_residential"],  # a metric of the new route
        total["waiting_for_ice_bed"],
    )
"""


def families_scenario(tmp_path: Path) -> Path:
    return short_small_scenario(tmp_path, "families.toml", ROUTE_SCENARIO)


def check_route(stdout: str, engines: tuple[str, ...], tmp_path: Path) -> None:
    for removed, _, waiting_adults in rows_of(stdout, engines).values():
        assert removed > 0, stdout  # families leave by the new route while ICE takes no one
        assert waiting_adults > 0, stdout  # adults still wait for ICE


# ----- Add a disease -------------------------------------------------------------------------
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
for engine in sys.argv[2].split(","):
    daily = bs.run(sc, replications=1, seed=1, engine=engine).daily()
    total = daily.groupby("metric")["value"].sum()
    print(engine, total["infections_in_custody"], repr(source))
"""


def measles_scenario(tmp_path: Path) -> Path:
    return short_small_scenario(tmp_path, "measles.toml", MEASLES_ON)


def check_disease(stdout: str, engines: tuple[str, ...], tmp_path: Path) -> None:
    """Measles spreads several times as much as the default disease in the same scenario."""
    import bordersim as bs

    default = bs.load_scenario(short_small_scenario(tmp_path, "default.toml", HEALTH_ON))
    assert "COVID-19" in default.sources["health.transmission_rate_per_day"]
    rows = {}
    for line in stdout.splitlines():
        engine, infections, source = line.split(" ", 2)
        rows[engine] = (float(infections), source)
    assert sorted(rows) == sorted(engines), stdout
    for engine, (with_measles, source) in rows.items():
        assert "example only" in source, stdout  # the new table's parameters were used
        daily = bs.run(default, replications=1, seed=1, engine=engine).daily()
        without = daily[daily["metric"] == "infections_in_custody"]["value"].sum()
        assert without > 0, engine  # the default disease spreads too, less
        # Five times the default's transmission rate: several times the infections in holding.
        assert with_measles > 2 * without, (engine, with_measles, without)


# ----- the how-tos run ----------------------------------------------------------------------
class HowTo(NamedTuple):
    scenario: Callable[[Path], Path]  # the how-to's scenario, written under the test's folder
    refused: str  # what the scenario names that the model before the how-to does not know
    script: str  # run on the edited copy with the scenario and the engines
    check: Callable[[str, tuple[str, ...], Path], None]  # of the script's output


HOW_TO_RUNS = {
    POOL: HowTo(officers_scenario, "customs_officer", RUN, check_pool),
    TASK: HowTo(interpreting_scenario, "interpretation", TASK_RUN, check_task),
    ROUTE: HowTo(families_scenario, "family_residential", ROUTE_RUN, check_route),
    DISEASE: HowTo(measles_scenario, "measles", DISEASE_RUN, check_disease),
}


@pytest.mark.parametrize("title", HOW_TOS)
def test_each_how_tos_scenario_is_refused_before_it(tmp_path: Path, title: str) -> None:
    import bordersim as bs

    how_to = HOW_TO_RUNS[title]
    with pytest.raises(bs.BordersimError, match=how_to.refused):
        bs.load_scenario(how_to.scenario(tmp_path))


@pytest.mark.slow
def test_closing_the_ice_line_stops_removals_before_the_route_how_to(tmp_path: Path) -> None:
    """What the route how-to's scenario shows is the new route's doing."""
    import bordersim as bs

    closed = bs.load_scenario(
        short_small_scenario(tmp_path, "closed.toml", "[departures]\nice_transfers_per_day = 0\n")
    )
    before = bs.run(closed, replications=1, seed=1, engine="flow").daily()
    assert before[before["metric"] == "departures:expedited_removal"]["value"].sum() == 0


@pytest.mark.slow
def test_the_four_how_tos_together_on_both_engines(tmp_path: Path) -> None:
    """The four how-tos applied to one copy of `src/`, each how-to's scenario run on both
    engines: a new pool both engines staff, a new task they staff, a new route they send people
    by, and a new disease that spreads in both (several times the default disease's infections).
    One test, so the event engine's kernel for the copy compiles once for the four."""
    copy = copy_with_edits(tmp_path, *HOW_TOS)
    for title in HOW_TOS:
        how_to = HOW_TO_RUNS[title]
        stdout = run_copy(copy, how_to.script, str(how_to.scenario(tmp_path)), ",".join(BOTH))
        how_to.check(stdout, BOTH, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("title", HOW_TOS)
def test_each_how_to_works_alone_on_the_flow_engine(tmp_path: Path, title: str) -> None:
    """A user follows one how-to: its edits alone give what the page says (on the flow engine,
    whose kernel compiles in seconds; the test above runs the event engine on all four)."""
    how_to = HOW_TO_RUNS[title]
    copy = copy_with_edits(tmp_path, title)
    how_to.check(
        run_copy(copy, how_to.script, str(how_to.scenario(tmp_path)), "flow"), ("flow",), tmp_path
    )
