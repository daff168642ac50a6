"""`bordersim sweep`: parsing of --vary, clear errors, and a small grid run as one batch."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bordersim.cli import main
from bordersim.commands.sweep import parse_value, parse_vary
from bordersim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "scenarios" / "examples" / "small.toml"


def test_values_are_read_as_toml() -> None:
    assert parse_value("1500") == 1500
    assert parse_value("0.5") == 0.5
    assert parse_value("true") is True
    assert parse_value("2023-05-10") == dt.date(2023, 5, 10)
    assert parse_value("RGV") == "RGV"
    axis = parse_vary("deployments.troops.headcount=0, 300,600")
    assert axis.key == "deployments.troops.headcount" and axis.values == (0, 300, 600)


@pytest.mark.parametrize("option", ["headcount", "=1,2", "a.b=", "a.b=1,,2", "a.b=1,1"])
def test_malformed_vary_is_refused(option: str) -> None:
    with pytest.raises(ScenarioError, match="--vary"):
        parse_vary(option)


@pytest.mark.parametrize(
    ("values", "said"),
    [("1,2,1", "1 is listed twice"), ("1,1.0", "1 and 1.0 are one value"), ("2, 2.0e0", "2 and")],
)
def test_a_value_repeated_in_another_spelling_is_refused(values: str, said: str) -> None:
    # demand.scale=1,1.0 ran the same variant twice, as two rows of the table
    with pytest.raises(ScenarioError, match="--vary") as refused:
        parse_vary(f"demand.scale={values}")
    assert said in str(refused.value)
    assert parse_vary("a.b=true,1").values == (True, 1)  # a boolean is not the number 1


def test_unknown_key_and_bad_value_exit_2_without_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweeps" / "sweep"
    for vary in ("deployments.troops.headcont=0,300", "deployments.troops.headcount=-5,300"):
        with pytest.raises(SystemExit) as exit_info:
            main(["sweep", str(SMALL), "--vary", vary, "-r", "2", "--out", str(out)])
        assert exit_info.value.code == 2
        said = capsys.readouterr()
        assert "deployments.troops.headco" in said.err
        assert said.out == ""  # refused before the sweep's plan is announced
        assert not out.parent.exists()  # not even the folder that would have held it


def test_a_refused_date_is_named_as_typed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The --vary value is repeated as the user typed it, not as Python's datetime.date(...)."""
    vary = "period.end_date=2023-04-01,2023-05-31"
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(SMALL), "--vary", vary, "-r", "1",
              "--store", str(tmp_path / "s.duckdb"), "--out", str(tmp_path / "sweep")])  # fmt: skip
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: --vary period.end_date=2023-04-01: ")
    assert "datetime" not in err and "before start_date" in err


def test_small_grid_writes_table_and_report(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    main(
        [
            "sweep",
            str(SMALL),
            "--vary",
            "deployments.troops.headcount=0,600",
            "-r",
            "3",
            "--seed",
            "4",
            "--out",
            str(out),
        ]
    )
    table = pd.read_csv(out / "kpis.csv")
    assert set(table["deployments.troops.headcount"]) == {0, 600}
    assert (table["n"] == 3).all()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "kpis.parquet"), table, check_dtype=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "plotly" in html.lower() and "deployments.troops.headcount" in html
    intake = table[table["kpi"] == "agents_support_hours"].set_index(
        "deployments.troops.headcount"
    )["mean"]
    # troops take intake work off agents
    assert intake[600] < intake[0]


@pytest.mark.parametrize("blocked", [False, True], ids=["in-process", "blocked"])
@pytest.mark.parametrize(
    ("axes", "named"),
    [
        # the schema takes the date; the calibration starts in October 1999
        (["period.start_date=2023-04-20,1990-01-01"], "period.start_date=1990-01-01"),
        # each value compiles beside the base; the two together start before the calibration
        (
            ["period.start_date=2023-04-20,1999-10-05", "period.warmup_days=0,7"],
            "period.start_date=1999-10-05 with period.warmup_days=7",
        ),
    ],
    ids=["one-value", "two-values-together"],
)
def test_a_value_only_the_compiler_refuses_stops_the_sweep_before_it_runs(
    axes: list[str],
    named: str,
    blocked: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Refused before any block runs, as one line naming the --vary values; no output folder,
    and no sweep recorded in the store as if it had started."""
    from bordersim.store import open_catalog
    from bordersim.store.sweeps import list_sweeps

    store = tmp_path / "s.duckdb"
    vary = [arg for axis in axes for arg in ("--vary", axis)]
    extra = ["--store", str(store), "--block-variants", "1"] if blocked else []
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(SMALL), *vary, "-r", "1", "--out", str(tmp_path / "out"), *extra])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: --vary {named}: period.start_date = ")
    assert err.count("--vary") == 1, err  # the point was named twice, the second time in part
    assert "before the calibration" in err
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.rglob("*.parquet"))  # no block ran
    if store.exists():
        with open_catalog(str(store), create=False) as catalog:
            assert list_sweeps(catalog) == []


def test_values_of_one_point_apply_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A period moved past the file's end date: the start alone is before the file's end, so
    the point's two values are validated together (as with --set), not one after the other.
    One variant of one replication is said so, not '1 variants x 1 replications'; the folder
    is shown as it is named, not read as markup."""
    out = tmp_path / "out[bold]"
    main(
        [
            "sweep",
            str(SMALL),
            "--vary",
            "period.start_date=2023-06-01",
            "--vary",
            "period.end_date=2023-06-03",
            "-r",
            "1",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert "1 variant x 1 replication of small" in " ".join(printed.split())
    assert "out[bold]/kpis.csv" in "".join(printed.split())
    table = pd.read_csv(out / "kpis.csv")
    assert set(table["period.start_date"]) == {"2023-06-01"}
    assert set(table["period.end_date"]) == {"2023-06-03"}


@pytest.mark.parametrize("blocked", [False, True], ids=["in-process", "blocked"])
def test_variants_of_one_block_with_different_days_are_refused_before_it_runs(
    blocked: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two period lengths cannot run as one flow batch: refused before anything is recorded
    or run, naming the --vary values and what to do (each variant in its own block)."""
    store = tmp_path / "s.duckdb"
    extra = ["--store", str(store)] if blocked else []
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "sweep",
                str(SMALL),
                "--vary",
                "period.end_date=2023-05-10,2023-05-12",
                "-r",
                "1",
                "--out",
                str(tmp_path / "out"),
                *extra,
            ]
        )
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: --vary period.end_date=2023-05-12: changes the number of days")
    assert "--block-variants 1" in err
    assert not (tmp_path / "out").exists()
    assert not store.exists()


@pytest.mark.slow
def test_a_blocked_sweep_runs_when_only_its_base_does_not_compile(tmp_path: Path) -> None:
    """Every --vary point compiles though the file's own start date does not: the blocked
    sweep runs to the end, as the in-process one does."""
    early = tmp_path / "early.toml"
    early.write_text(
        f'base = "{SMALL.as_posix()}"\n'
        'name = "early"\n[period]\nstart_date = 1990-01-01\nend_date = 1990-01-10\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    main(
        [
            "sweep",
            str(early),
            "--vary",
            "period.start_date=2023-04-20,2023-04-21",
            "--vary",
            "period.end_date=2023-04-25,2023-04-26",
            "--block-variants",
            "1",
            "-r",
            "1",
            "--store",
            str(tmp_path / "s.duckdb"),
            "--out",
            str(out),
        ]
    )
    table = pd.read_csv(out / "kpis.csv")
    assert len(set(zip(table["period.start_date"], table["period.end_date"], strict=True))) == 4


@pytest.mark.parametrize("blocked", [False, True], ids=["in-process", "blocked"])
def test_a_key_varied_twice_is_refused(
    blocked: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--store", str(tmp_path / "s.duckdb")] if blocked else []
    axes = ["--vary", "demand.scale=1,2", "--vary", "demand.scale=3"]
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(SMALL), *axes, "-r", "1", "--out", str(tmp_path / "out"), *extra])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--vary names a key twice: demand.scale, demand.scale" in err
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def sweep_said(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """What `bordersim sweep` prints on an 80-column page, run from a folder of its own with a
    relative --out: that folder and the output."""
    folder = tmp_path_factory.mktemp("sweep-said")
    done = subprocess.run(
        [sys.executable, "-m", "bordersim", "sweep", str(SMALL), "--out", "sw", "-r", "1",
         "--vary", "deployments.troops.headcount=0"],
        cwd=folder, env={**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT / "src")},
        capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder, done.stdout


@pytest.mark.slow
def test_a_sweep_says_where_it_wrote_by_the_whole_path(sweep_said: tuple[Path, str]) -> None:
    """A sweep with --out sw said "wrote sw/kpis.csv" where `run`, `compare` and `export` say
    where they wrote by the whole path: the sweep now does too."""
    folder, said = sweep_said
    assert f"wrote {folder / 'sw' / 'kpis.csv'}, kpis.parquet, report.html" in said, said


def _headers(said: str) -> list[str]:
    """The KPI table's column names, each whole however its cell folds them across lines."""
    lines = said.splitlines()
    top = next(i for i, line in enumerate(lines) if line.lstrip().startswith("┏"))
    rows = [line.strip().strip("┃").split("┃") for line in lines[top + 1 :]]
    header = [row for row in itertools.takewhile(lambda row: len(row) > 1, rows)]
    return ["".join(cell.strip() for cell in column) for column in zip(*header, strict=True)]


@pytest.mark.slow
def test_the_sweep_table_names_its_columns_whole(sweep_said: tuple[Path, str]) -> None:
    """On an 80-column page the sweep's KPI table cut its column names short
    ("deployments.t…", "custody_shar…", "cost_total_d…"): the names fold, whole."""
    _, said = sweep_said
    assert _headers(said) == [
        "deployments.troops.headcount",
        "encounters",
        "custody_share_over_72h",
        "occupancy_mean",
        "cost_total_dollars",
    ], said


@pytest.mark.slow
def test_the_sweep_says_what_it_runs_on_one_line(sweep_said: tuple[Path, str]) -> None:
    """The line that says what the sweep runs was folded at the page's width, its last word
    on a line of its own: it is one line, as the sweep's other lines are."""
    _, said = sweep_said
    first = said.splitlines()[0]
    assert first == (
        "1 variant x 1 replication of small (flow engine, blocks of 1 x 1 in this process)"
    ), said
