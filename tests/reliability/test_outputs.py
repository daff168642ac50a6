"""Outputs go only where they should, and only what bordersim created is ever removed (issue 10).

`sweep --out DIR` used to delete DIR whatever it held (`--out ..` deleted the working folder's
parent); a scenario name was used as a path; output folders were checked only after the
simulation; seeds were checked by the engine, after a run was recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bordersim.cli import main
from bordersim.errors import BordersimError
from bordersim.output_files import check_output_file, output_file_place
from bordersim.services.sweep import SWEEP_MARKER, Axis, Sweep, kpi_table, write_sweep
from bordersim.store import open_store
from bordersim.store.runs import list_runs
from constructed_runs import constructed_run
from repo_paths import SMALL


def _sweep() -> Sweep:
    runs = [constructed_run(3, 10, seed=s) for s in (1, 2)]
    points = [{"deployments.troops.headcount": h} for h in (0, 300)]
    axes = (Axis("deployments.troops.headcount", (0, 300)),)
    return Sweep(
        axes=axes,
        points=points,
        runs=runs,
        table=kpi_table(points, runs),
        scenario_path=SMALL,
        replications=3,
        seed=1,
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_sweep_never_deletes_a_folder_it_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "work"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work", encoding="utf-8")
    (mine / "data").mkdir()
    (mine / "data" / "x.csv").write_text("1,2\n", encoding="utf-8")
    before = _tree(tmp_path)
    for target in (mine, mine / "data", mine / "..", tmp_path / "work" / "thesis.tex"):
        with pytest.raises(BordersimError, match=r"never deletes|not a folder"):
            write_sweep(_sweep(), target)
    assert _tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # no partial folder left


def test_an_empty_folder_is_taken_as_out_by_sweep_plan_and_forecast(tmp_path: Path) -> None:
    """An empty folder made for the output (mkdir out/grid) was refused as "not a sweep folder
    bordersim wrote", though nothing in it would be replaced, while run and compare write into
    one; sweep, plan and forecast now take it too, and fill it."""
    from bordersim.commands.forecast import check_forecast_target
    from bordersim.output_folders import check_output_folder

    grid = tmp_path / "grid"
    grid.mkdir()
    write_sweep(_sweep(), grid)
    assert sorted(p.name for p in grid.iterdir()) == sorted(
        ["kpis.csv", "kpis.parquet", "report.html", SWEEP_MARKER]
    )
    for name in ("plan", "forecast"):
        (tmp_path / name).mkdir()
    plan = tmp_path / "plan"
    assert check_output_folder(plan, marker=".mark", what="plan") == plan
    assert check_forecast_target(tmp_path / "forecast") == tmp_path / "forecast"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast", "grid", "plan"]


def test_a_file_as_out_is_named_alike_by_sweep_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sweep --out FILE said "--out exists and is not a folder; give a new folder", where run
    and compare say "--out names a file, not a folder; give a folder" of the same file."""
    afile = tmp_path / "afile"
    afile.write_text("mine", encoding="utf-8")
    said = []
    for argv in (
        ["sweep", str(SMALL), "--vary", "demand.scale=1,2", "--out", str(afile)],
        ["run", str(SMALL), "--out", str(afile), "--store", str(tmp_path / "s.duckdb")],
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
        said.append(capsys.readouterr().err.strip())
    expected = f"error: {afile}: --out names a file, not a folder; give a folder"
    assert said == [expected, expected]
    assert afile.read_text(encoding="utf-8") == "mine"


def test_a_sweep_replaces_its_own_output_only(tmp_path: Path) -> None:
    target = tmp_path / "out" / "grid"
    write_sweep(_sweep(), target)
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["kpis.csv", "kpis.parquet", "report.html", SWEEP_MARKER]
    )
    write_sweep(_sweep(), target)  # a sweep's own folder may be replaced
    assert (target / "kpis.csv").is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grid"]
    (target / "notes.txt").write_text("mine", encoding="utf-8")  # now it holds a user's file
    with pytest.raises(BordersimError, match=r"holds notes\.txt"):
        write_sweep(_sweep(), target)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_folder_whose_marker_lists_its_files_is_replaced_only_as_written(
    tmp_path: Path,
) -> None:
    """The plan's way (`bordersim plan`): the marker names what the command wrote."""
    from bordersim.output_folders import check_output_folder, replace_folder, write_marker

    def written(name: str) -> Path:
        new = tmp_path / f".{name}"
        (new / "quantile-0.5").mkdir(parents=True)
        (new / "quantiles.csv").write_text(name, encoding="utf-8")
        write_marker(new, ".mark", "written by a test", (p.name for p in new.iterdir()))
        return new

    target = check_output_folder(tmp_path / "plan", marker=".mark", what="plan")
    replace_folder(written("first"), target)
    assert target.stat().st_mode & 0o777 == 0o755  # readable as any output folder
    assert (target / ".mark").read_text().splitlines() == [
        "written by a test",
        "quantile-0.5",
        "quantiles.csv",
    ]
    replace_folder(written("second"), check_output_folder(target, marker=".mark", what="plan"))
    assert (target / "quantiles.csv").read_text(encoding="utf-8") == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]  # nothing left aside
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(BordersimError, match=r"not a plan folder bordersim wrote \(it holds notes"):
        check_output_folder(target, marker=".mark", what="plan")
    (target / "notes.txt").unlink()
    (target / ".mark").write_text("written by a test\n", encoding="utf-8")  # lists nothing now
    with pytest.raises(BordersimError, match=r"it holds quantile-0\.5, quantiles\.csv"):
        check_output_folder(target, marker=".mark", what="plan")


def test_sweep_refuses_a_bad_out_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("keep", encoding="utf-8")
    argv = ["sweep", str(SMALL), "--vary", "deployments.troops.headcount=0,300", "-r", "2"]
    for out in ("..", "."):
        with pytest.raises(SystemExit) as done:
            main([*argv, "--out", out])
        assert done.value.code == 2
        err = capsys.readouterr().err
        assert "never deletes" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "keep"


@pytest.mark.parametrize("seed", ["-1", str(2**63), str(2**70)])
def test_seeds_are_checked_before_anything_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: str
) -> None:
    store = tmp_path / "store.duckdb"
    argv = ["run", str(SMALL), "--seed", seed, "--store", str(store), "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert f"--seed {seed}: must be a whole number from 0 to 2^63 - 1" in err
    assert not store.exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize("kind", ["out is a file", "report is a folder", "unwritable"])
def test_output_targets_are_checked_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    import os

    store, out = tmp_path / "store.duckdb", tmp_path / "o"
    if kind == "out is a file":
        out.write_text("x", encoding="utf-8")
    elif kind == "report is a folder":
        (out / "report.html").mkdir(parents=True)
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        out.mkdir()
        out.chmod(0o500)
    argv = ["run", str(SMALL), "-r", "1", "--engine", "flow", "--store", str(store)]
    with pytest.raises(SystemExit) as done:
        main([*argv, "--out", str(out)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(out) in err
    assert not store.exists() or not list_runs(open_store(store, read_only=True))


def test_a_scenario_name_never_becomes_a_path(tmp_path: Path) -> None:
    from bordersim.scenario import load_scenario

    text = SMALL.read_text(encoding="utf-8")
    for name in ("../../x", "/tmp/x", "[/]", "a/b"):
        path = tmp_path / "s.toml"
        path.write_text(text.replace('name = "small"', f'name = "{name}"'), encoding="utf-8")
        with pytest.raises(BordersimError, match="scenario name"):
            load_scenario(path)


def test_a_new_file_is_written_only_where_none_is(tmp_path: Path) -> None:
    """How the workbench saves a variant: never over a file saved meanwhile."""
    from bordersim.output_files import write_atomically

    path = tmp_path / "mine.toml"
    write_atomically(path, "first\n", new=True)
    with pytest.raises(FileExistsError):
        write_atomically(path, "second\n", new=True)
    assert path.read_text(encoding="utf-8") == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]  # no temporary file left
    write_atomically(path, "second\n")  # without `new`, a file is replaced
    assert path.read_text(encoding="utf-8") == "second\n"


def test_a_failed_command_removes_the_folders_made_for_its_file(tmp_path: Path) -> None:
    """A fit, calibration or export whose work failed left the folders made for its file."""
    kept = tmp_path / "kept"
    kept.mkdir()
    target = kept / "new" / "deeper" / "fit.json"
    with pytest.raises(RuntimeError), output_file_place(target, what="--out"):
        assert target.parent.is_dir()  # made before the work, so a bad --out fails first
        raise RuntimeError("the work failed")
    assert kept.is_dir() and list(kept.iterdir()) == []
    with output_file_place(target, what="--out"):
        target.write_text("{}")
    assert target.read_text() == "{}"


def test_a_file_in_the_way_of_an_output_files_folder_is_named(tmp_path: Path) -> None:
    blocking = tmp_path / "notes.txt"
    blocking.write_text("the user's")
    for target in (blocking / "fit.json", blocking / "more" / "fit.json"):
        with pytest.raises(BordersimError, match=r"notes.txt is a file, not a folder"):
            check_output_file(target, what="--out")
    assert blocking.read_text() == "the user's"
