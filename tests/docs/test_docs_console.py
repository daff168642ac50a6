"""The docs' command lines that are cheap to run are run as written, and what the pages show a
command printing is what it prints. `test_docs_commands.py` checks every command line against the
CLI; here the cheap ones (`CHEAP`: checking scenarios, listing defaults and runs, importing and
showing the data, calibrating, verifying the store and the event core) run in a fresh folder
with its own store, and the workflow of docs/running.md (a small run, then its listing, report
and exports), docs/scaling.md's queries of a run's and a small sweep's files and
docs/forecast.md's forecast run in the slow suite. The long simulations, fits, validations,
sweeps, plans and back-tests, the web server, clusters and PostgreSQL are left to the argument
check.

In a shown line of output, `...` stands for text left out and `/path/` for the file's folder.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from test_docs_commands import Shown, _shell_lines

from doc_pages import PAGES, SHELL, block_pattern, blocks, page_text
from repo_paths import REPO

#: Commands quick enough for the fast suite (a few seconds each).
CHEAP = (
    "scenario check",
    "scenario params",
    "runs",
    "data import",
    "data show",
    "calibrate",
    "store verify",
    "verify",  # the theory cases: seconds, once the event core is compiled
)
#: Files a cheap line names that the reader brings (checked below with the output they get).
USERS_FILES = re.compile(r"\.(xlsx|csv)$")


def bordersim(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`bordersim ARGS` in `folder`, on its default store (`.bordersim/bordersim.duckdb`), wide."""
    env = {k: v for k, v in os.environ.items() if k != "BORDERSIM_STORE"}
    return subprocess.run(
        [sys.executable, "-m", "bordersim", *args],
        cwd=folder,
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def args_of(line: str) -> list[str]:
    return shlex.split(line, comments=True)[1:]


def block_lines() -> list[Shown]:
    """The `bordersim` lines of the pages' command blocks."""
    return [shown for page in PAGES for shown in _shell_lines(page)]


def command_of(args: list[str]) -> str:
    """The command an argument list names (`scenario check`, `runs`)."""
    words = [a for a in args if not a.startswith("-")]
    return " ".join(words[:2] if words[:1] in (["scenario"], ["data"], ["store"]) else words[:1])


def cheap_lines() -> dict[str, list[str]]:
    """The docs' block command lines whose command is cheap and names no file of the reader's:
    each argument list once, with where the pages show it."""
    lines: dict[str, list[str]] = {}
    for shown in block_lines():
        args = args_of(shown.text)
        if command_of(args) in CHEAP and not any(USERS_FILES.search(a) for a in args):
            lines.setdefault(shlex.join(args), []).append(f"{shown.page}:{shown.line}")
    return lines


def shown_output(page: str, command: str) -> list[str]:
    """The lines a console block of `page` shows after `$ COMMAND`, up to the next `$` line."""
    lines = "\n".join(block_pattern("console").findall(page_text(page))).splitlines()
    start = lines.index(f"$ {command}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("$ ")), len(lines))
    return lines[start:end]


def printed(shown: str, output: str, folder: Path) -> bool:
    """Whether `output` has a line with the shown line's pieces, in order."""
    pieces = [p for p in shown.replace("/path/", f"{folder}/").split("...") if p.strip()]
    for line in output.splitlines():
        at = 0
        for piece in pieces:
            at = line.find(piece, at)
            if at < 0:
                break
            at += len(piece)
        else:
            return True
    return False


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh folder with the shipped scenarios, and a store that holds the shipped data."""
    here = tmp_path_factory.mktemp("docs-console")
    (here / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    done = bordersim(here, "data", "import")
    assert done.returncode == 0, done.stderr
    yield here


def test_the_cheap_lines_are_found() -> None:
    lines = cheap_lines()
    assert {command_of(shlex.split(args)) for args in lines} == set(CHEAP)
    assert len(lines) >= 10 and sum(map(len, lines.values())) >= 15


@pytest.mark.parametrize("args", cheap_lines())
def test_a_cheap_line_runs_as_written(folder: Path, args: str) -> None:
    done = bordersim(folder, *shlex.split(args))
    where = ", ".join(cheap_lines()[args])
    assert done.returncode == 0, f"{where}: {args}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def test_data_show_prints_the_row_the_page_shows(folder: Path) -> None:
    (row,) = re.findall(r"```\n(│ FY2021 │[^\n]*)\n```", page_text("docs/data.md"))
    done = bordersim(folder, "data", "show")
    assert row in done.stdout.splitlines()
    assert "2,206,436" in done.stdout and "(48 %)" in done.stdout  # the prose's CBP figures


def test_the_pages_query_of_the_store_runs_as_written(folder: Path) -> None:
    """docs/data.md queried the store with the `duckdb` command-line tool, which `make setup`
    does not install (`duckdb: command not found`); its query is now a script for the Python
    that bordersim runs in (its duckdb module), run here as written, in the folder of the
    default store, giving the yearly totals that `data show` prints."""
    (script,) = [b for b in blocks("docs/data.md", *SHELL) if "duckdb" in b]
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=folder,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    row = re.search(r"│ FY2021 │.*│ +([\d,]+) │", page_text("docs/data.md"))
    assert row is not None
    lines = done.stdout.splitlines()
    assert f"FY2021 {row.group(1):>11}" in lines
    assert len(lines) == 24 and lines[0].startswith("FY2000") and lines[-1].startswith("FY2023")
    assert f"FY2021 {row.group(1):>11}" in page_text("docs/data.md")  # the line the page shows


def _counts_xlsx(folder: Path) -> None:
    from data.official_samples import small_sheets, write_workbook  # tests/data's samples

    sheets = small_sheets()
    header, first, *rest = sheets["Monthly Rgn and Sector"]
    sheets["Monthly Rgn and Sector"] = [header, first, (*first[:4], "about 40"), *rest]
    write_workbook(folder / "counts.xlsx", sheets)


def _weather_csv(folder: Path) -> None:
    (folder / "weather.csv").write_text("date,station,temperature\n2023-01-01,KELP,12.5\n")


@pytest.mark.parametrize(
    ("command", "make"),
    [
        ("bordersim data import counts.xlsx", _counts_xlsx),
        ("bordersim data import weather.csv", _weather_csv),
    ],
)
def test_a_bad_data_file_gets_the_error_the_page_shows(
    tmp_path: Path, command: str, make: Callable[[Path], None]
) -> None:
    make(tmp_path)
    (shown,) = shown_output("docs/data.md", command)
    done = bordersim(tmp_path, *args_of(command))
    assert done.returncode == 2
    assert printed(shown, done.stderr, tmp_path), f"{shown}\n{done.stderr}"


_PERIOD = 'name = "bad"\nsectors = ["TCA", "RGV"]\n[period]\nstart_date = 2023-04-20\n'
#: Files that give the errors docs/scenarios.md shows, at the lines it shows.
BAD_SCENARIOS = [
    (
        "bad.toml",
        _PERIOD + "end_date = 2023-05-31\nwarmup_days = 7\n[deployments.troops]\n"
        'pool = "active_duty"\ntasks = ["detection", "field"]\nheadcount = 300\n'
        "start_date = 2023-05-10\nduration_days = 90\n",
    ),
    ("bad.toml", _PERIOD + "end_date = 2023-05-31\nwarmup_day = 7\n"),
    (
        "bad.toml",
        _PERIOD + "end_date = 2023-05-31\nwarmup_days = 7\n\n\n[custody]\n"
        "standard_hours = '72 hours'\n",
    ),
    (
        "old.toml",
        'name = "old"\nsectors = ["TCA", "RGV"]\n[period]\nend_date = 1990-05-31\n'
        "start_date = 1990-04-20\nwarmup_days = 7\n",
    ),
]


def test_a_bad_scenario_gets_the_error_the_page_shows(tmp_path: Path) -> None:
    (text,) = block_pattern("text").findall(page_text("docs/scenarios.md"))
    shown = text.splitlines()
    assert len(shown) == len(BAD_SCENARIOS)
    for i, (line, (name, content)) in enumerate(zip(shown, BAD_SCENARIOS, strict=True)):
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / name).write_text(content)
        done = bordersim(folder, "scenario", "check", str(folder / name))
        assert done.returncode == 2
        assert printed(line, done.stderr, folder), f"{line}\n{done.stderr}"


def test_the_output_check_reads_pieces_in_order(tmp_path: Path) -> None:
    shown = "error: /path/x.toml, line 5: a (...): b '...' c"
    assert printed(shown, f"error: {tmp_path}/x.toml, line 5: a (x y): b 'z' c\n", tmp_path)
    assert not printed(shown, f"error: {tmp_path}/x.toml, line 6: a (x): b 'z' c", tmp_path)
    assert not printed(shown, "error: /elsewhere/x.toml, line 5: a (x): b 'z' c", tmp_path)


def _line(page: str, start: str) -> list[str]:
    """The arguments of the one block command line of `page` that starts with `start`."""
    (line,) = [s.text for s in block_lines() if s.page == page and s.text.startswith(start)]
    return args_of(line)


@pytest.mark.slow
def test_the_run_workflow_of_running_md(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/running.md's small run, its listing, its report again and both exports, and
    docs/scaling.md's query of every run's daily results, as written."""
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    done = bordersim(tmp_path, *_line("running.md", "bordersim run scenarios/examples/small.toml"))
    assert done.returncode == 0, done.stderr
    (run_id,) = re.findall(r"^run (\S+) stored", done.stdout, re.M)
    listed = bordersim(tmp_path, "runs").stdout
    assert run_id in listed
    (header,) = [line for line in listed.splitlines() if "run id" in line]
    shown = re.search(r"bordersim runs +# ([^\n]*)\n +# ([^\n]*)\n", page_text("docs/running.md"))
    assert shown is not None  # the comment names the catalog's columns, one by one
    columns = " ".join(shown.groups()).split(", ")
    assert len(columns) == len(header.strip().strip("┃").split("┃")), (columns, header)
    again = [
        run_id if a.startswith("small-") else a for a in _line("running.md", "bordersim report")
    ]
    assert bordersim(tmp_path, *again).returncode == 0
    assert (tmp_path / again[again.index("--out") + 1] / "report.html").is_file()
    for start, file in (
        ("bordersim export RUN_ID --format csv", "run.csv"),
        ("bordersim export RUN_ID --format parquet", "rgv.parquet"),
    ):
        args = [run_id if a == "RUN_ID" else a for a in _line("running.md", start)]
        exported = bordersim(tmp_path, *args)
        assert exported.returncode == 0, exported.stderr
        assert (tmp_path / file).stat().st_size > 0
    rgv = duckdb.sql(f"SELECT DISTINCT sector, metric FROM '{tmp_path / 'rgv.parquet'}'").fetchall()
    assert sorted(rgv) == [("RGV", "encounters"), ("RGV", "occupancy_mean")]
    (query,) = [
        q for q in block_pattern("sql").findall(page_text("docs/scaling.md")) if "runs/*" in q
    ]
    monkeypatch.chdir(tmp_path)
    rows = duckdb.sql(query).fetchall()
    assert {r[0] for r in rows} == {run_id} and {r[1] for r in rows} >= {"encounters"}


@pytest.mark.slow
def test_the_query_of_a_sweeps_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/scaling.md's query of a blocked sweep's files, as written, on a small sweep."""
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    vary = "deployments.troops.headcount=0,300"
    assert any(vary in s.text and "--cluster" in s.text for s in block_lines())
    args = ("sweep", "scenarios/examples/small.toml", "--vary", vary, "-r", "2")
    done = bordersim(tmp_path, *args, "--store", ".bordersim/bordersim.duckdb")
    assert done.returncode == 0, done.stderr
    (query,) = [
        q for q in block_pattern("sql").findall(page_text("docs/scaling.md")) if "sweeps/" in q
    ]
    monkeypatch.chdir(tmp_path)
    rows = duckdb.sql(query).fetchall()
    assert [variant for variant, _ in rows] == [0, 1]
    assert all(occupancy > 0 for _, occupancy in rows)


def test_validates_custody_line_reads_as_the_page_shows() -> None:
    """docs/validation.md shows a line of a 20-replication `bordersim validate` (too long to run
    here): the same figures, put through the command's own wording, give the shown text."""
    import datetime as dt

    from bordersim.validation.course import CustodyCourse, describe

    command = "bordersim validate scenarios/2021-uac-surge.toml --replications 20"
    lines = shown_output("docs/validation.md", command)
    assert lines[0] == "..."
    shown = " ".join(line for line in lines[1:] if line)
    capacity = 5935.0  # the scenario's holding capacity, docs/scenarios.md
    course = CustodyCourse(
        peak_date=dt.date(2021, 3, 31),
        peak_people=9351.0,
        peak_capacity=capacity,
        end_date=dt.date(2021, 5, 31),
        end_people=3361.0,
        end_capacity=capacity,
        week_before_people=3500.0,
        crowded_sector="BBT",
        crowded_date=dt.date(2021, 4, 1),
        crowded_ratio=3.0,
    )
    assert describe(course) == [shown]


@pytest.mark.slow
def test_the_forecast_line_of_forecast_md(tmp_path: Path) -> None:
    """docs/forecast.md's forecast, as written, in a folder without a store (the shipped files
    are read): its three files, marked, in `out/forecast`."""
    done = bordersim(tmp_path, *_line("forecast.md", "bordersim forecast --origin"))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out" / "forecast"
    written = {"report.html", "forecast.csv", "backtest.csv", ".bordersim-forecast"}
    assert {p.name for p in out.iterdir()} == written


def fenced_blocks() -> list[tuple[str, int, str]]:
    """(page, line, language) of every fenced block of the README and docs/."""
    found = []
    for page in PAGES:
        opening = None
        for number, line in enumerate(page_text(page).splitlines(), 1):
            if line.lstrip().startswith("```"):
                if opening is None:
                    opening = (page, number, line.strip().removeprefix("```"))
                else:
                    found.append(opening)
                    opening = None
    return found


#: Blocks other than Python, TOML and command lines, each checked in this file.
CHECKED_HERE = {
    "sql": 2,  # scaling.md's queries: the run workflow and the sweep
    "text": 2,  # scenarios.md's errors; running.md's daily metrics (tests/report/test_export.py)
    # output without a language: the README's layout (test_docs_commands.py), data.md's row and
    # the line its query prints (test_the_pages_query_of_the_store_runs_as_written)
    "": 3,
}


def test_every_fenced_block_is_one_a_test_reads() -> None:
    """Python (test_docs_python.py), TOML (test_docs_toml.py), command lines (sh, console, bash:
    test_docs_commands.py and here) or the blocks this file checks; a new kind fails here."""
    languages = [language for *_, language in fenced_blocks()]
    assert set(languages) <= {"python", "toml", *SHELL, *CHECKED_HERE}, set(languages)
    counts = {language: languages.count(language) for language in CHECKED_HERE}
    assert counts == CHECKED_HERE, [b for b in fenced_blocks() if b[2] in CHECKED_HERE]
