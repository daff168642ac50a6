"""docs/extending.md's "Add a staff pool" works as written: its edit blocks, applied to a copy of
`src/`, give a pool that a scenario can deploy and that both engines staff."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from repo_paths import REPO

DOC = REPO / "docs" / "extending.md"
EDIT = re.compile(r"```\w*\n# edit (\S+), (after|before|replace): ([^\n]*)\n(.*?)```", re.S)


def pool_section() -> str:
    text = DOC.read_text()
    return text.split("## Add a staff pool", 1)[1].split("\n## ", 1)[0]


def edits() -> list[tuple[str, str, str, str]]:
    """(path, where, anchor line, text) of each edit block of the pool how-to."""
    return [m.groups() for m in EDIT.finditer(pool_section())]


def apply(root: Path, path: str, where: str, anchor: str, text: str) -> None:
    file = root / path
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


SCENARIO = """
[deployments.officers]
pool = "customs_officer"
headcount = 200
sectors = ["TCA", "RGV"]
tasks = ["intake", "custody_watch"]
start_date = 2023-04-20
duration_days = 60
"""

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

    scenario = tmp_path / "officers.toml"
    small = (REPO / "scenarios/examples/small.toml").read_text()
    assert "end_date = 2023-05-31" in small
    # Two weeks (one of warm-up) are enough to see the pool staffed.
    scenario.write_text(small.replace("end_date = 2023-05-31", "end_date = 2023-05-03") + SCENARIO)
    with pytest.raises(bs.BordersimError, match="customs_officer"):
        bs.load_scenario(scenario)  # not a pool before the how-to

    copy = tmp_path / "src"
    shutil.copytree(REPO / "src", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for path, where, anchor, text in edits():
        apply(tmp_path, path, where, anchor, text)
    env = dict(os.environ, PYTHONPATH=str(copy))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUN), str(scenario)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    hours = dict(line.split() for line in done.stdout.splitlines() if line[:4] in ("flow", "even"))
    assert float(hours["flow"]) > 0 and float(hours["event"]) > 0, done.stdout
