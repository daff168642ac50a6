"""Blocked sweeps recorded in either store (embedded DuckDB, PostgreSQL on a real server): the
catalog registers a block only once its file is complete, an interrupted sweep keeps exactly its
finished blocks and resumes from the catalog, and `bordersim sweep --store` / `bs.sweep(...,
store=)` give the numbers of the same sweep recorded in an embedded store."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import bordersim as bs
from bordersim.cli import main
from bordersim.scenario import load_scenario
from bordersim.services.blocks import BlockedSweep, BlockReport, BlockShape, run_blocked_sweep
from bordersim.services.sweep import Axis
from bordersim.store import open_catalog
from bordersim.store.interface import results_dir_of
from bordersim.store.result_files import sha256_of
from bordersim.store.sweeps import list_sweeps, registered_blocks

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "scenarios" / "examples" / "small.toml"
KEY = "deployments.troops.headcount"
AXES = [Axis(KEY, (0, 300, 600))]
SHAPE = BlockShape(variants=1, replications=2)  # 3 x 2 = 6 blocks
VARY = ["--vary", f"{KEY}=0,300,600", "-r", "4", "--seed", "11"]


def blocked(store: str | Path, **kwargs: object) -> BlockedSweep:
    return run_blocked_sweep(
        load_scenario(SMALL),
        AXES,
        replications=4,
        seed=11,
        shape=SHAPE,
        store=store,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> BlockedSweep:
    """The sweep recorded in an embedded store of its own."""
    return blocked(tmp_path_factory.mktemp("reference") / "bordersim.duckdb")


def test_an_interrupted_sweep_registers_its_finished_blocks_and_resumes(
    store_url: str,
    reference: BlockedSweep,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    finished: list[BlockReport] = []

    def stop_after_two(report: BlockReport) -> None:
        finished.append(report)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        blocked(store_url, on_block=stop_after_two)
    with open_catalog(store_url, create=False) as catalog:
        blocks = registered_blocks(catalog, reference.sweep_id)
        results = results_dir_of(catalog)
        (sweep,) = list_sweeps(catalog)
    assert sorted(blocks) == sorted(report.block.name for report in finished)
    assert (sweep.sweep_id, sweep.blocks, sweep.registered) == (reference.sweep_id, 6, 2)
    assert sweep.finished_at is None
    for entry in blocks.values():  # each registered file is the one the task wrote, whole
        assert entry.path.startswith(f"sweeps/{reference.sweep_id}/blocks/")
        assert sha256_of(results / entry.path) == entry.sha256
    assert not list(results.rglob("*.partial"))
    main(["runs", "--store", store_url])  # the listing names it, to be resumed
    listing = capsys.readouterr().out
    assert reference.sweep_id in listing and "2 of 6" in listing and "unfinished" in listing

    out = tmp_path / "out"
    main(["sweep", "--resume", reference.sweep_id, "--store", store_url, "--out", str(out)])
    assert "4 blocks run, 2 reused" in capsys.readouterr().out
    table = pd.read_parquet(out / "kpis.parquet")
    pd.testing.assert_frame_equal(table, reference.sweep.table, check_exact=True)
    with open_catalog(store_url, create=False) as catalog:
        (sweep,) = list_sweeps(catalog)
    assert sweep.registered == 6 and sweep.finished_at is not None
    main(["store", "verify", "--store", store_url])
    assert "6 of 6 result files intact (their paths are under" in capsys.readouterr().out


def _sweep_listing(store_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The sweep's row of `bordersim runs`, its cells joined."""
    main(["runs", "--store", store_url])
    rows = [line for line in capsys.readouterr().out.splitlines() if "│" in line]
    cells = [line.split("│")[1:-1] for line in rows]
    return " ".join(" ".join(" ".join(column).split()) for column in zip(*cells, strict=True))


def _driving_process(
    store: str, *, scenario_hash: str, plan_json: str, blocks: int = 1
) -> subprocess.Popen[str]:
    """Another process that records the sweep small-0123456789ab in `store` as its own (a
    sweep's driver) and stays alive until its standard input closes or it is killed; returned
    once the sweep is recorded."""
    code = textwrap.dedent(
        f"""
        import sys
        from bordersim.store import open_catalog
        from bordersim.store.sweeps import record_sweep
        with open_catalog({store!r}) as catalog:
            record_sweep(catalog, "small-0123456789ab", scenario_name="small",
                         scenario_hash={scenario_hash!r}, plan_json={plan_json!r},
                         blocks={blocks}, code_version="t")
        print("recorded", flush=True)
        sys.stdin.read()
        """
    )
    driver = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert driver.stdout is not None and driver.stdout.readline() == "recorded\n"
    return driver


def test_a_sweep_another_process_drives_is_listed_as_running(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` showed a sweep under way in another process as "unfinished: --resume it",
    inviting a second driver of the same sweep. The sweep records its process, as a run does:
    alive, it is running; killed, it is to resume; on another host, it may be either."""
    driver = _driving_process(store_url, scenario_hash="f" * 64, plan_json="{}", blocks=4)
    try:
        listed = _sweep_listing(store_url, capsys)
        assert f"running (process {driver.pid})" in listed, listed
        assert "--resume" not in listed
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=60)
    listed = _sweep_listing(store_url, capsys)
    assert "unfinished: --resume it" in listed and "running" not in listed, listed
    with open_catalog(store_url) as catalog:
        catalog.execute("UPDATE sweeps SET host = 'elsewhere', pid = 1")
    listed = _sweep_listing(store_url, capsys)
    assert "unfinished: running on elsewhere, or --resume it" in listed, listed


def test_cli_and_api_sweeps_record_in_the_store(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    main(["sweep", str(SMALL), *VARY, "--store", store_url, "--out", str(out)])
    assert "1 block run, 0 reused" in capsys.readouterr().out  # default blocks: 3 x 4
    from_cli = pd.read_parquet(out / "kpis.parquet")
    # the same sweep from Python finds the finished block in the store and runs nothing
    from_api = bs.sweep(SMALL, {KEY: [0, 300, 600]}, replications=4, seed=11, store=store_url)
    # the file's "kpi" column is the API's "indicator", as run.kpis() names it
    from_cli = from_cli.rename(columns={"kpi": "indicator"})
    pd.testing.assert_frame_equal(from_api, from_cli, check_exact=True)
    with open_catalog(store_url, create=False) as catalog:
        (sweep,) = list_sweeps(catalog)
        assert registered_blocks(catalog, sweep.sweep_id).keys() == {"variants=00000/seeds=00000"}


@pytest.mark.parametrize("given", ["a text file", "a folder"])
def test_a_bad_store_is_refused_before_the_sweep_is_announced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    """A blocked sweep with a --store that is no store printed "3 variants x 4 replications of
    small, blocks of ... in this process" and then refused the store, as if it had started;
    `--resume` already checked the store first. The store is refused before anything is said."""
    store = tmp_path / "store.duckdb"
    if given == "a folder":
        store.mkdir()
    else:
        store.write_text("not a store\n")
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(SMALL), *VARY, "--store", str(store), "--out", str(tmp_path / "o")])
    assert done.value.code == 2
    out, err = capsys.readouterr()
    assert out == "", out
    assert err.startswith(f"error: {store}: is not"), err
    assert not (tmp_path / "o").exists()


def test_resuming_a_run_id_says_it_is_a_run(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` lists runs and sweeps side by side; a run's id given to `sweep --resume`
    was "no sweep 'X' in this store", as if the id were mistyped, where `report` of a sweep's id
    says it is a blocked sweep. It is now said to be a run, with what to do with it."""
    from constructed_runs import constructed_run, start_constructed

    with open_catalog(store_url, create=True) as catalog:
        start_constructed(catalog, constructed_run(1, 3), "small-20261207-120000-abcd")
    with pytest.raises(SystemExit) as done:
        main(["sweep", "--resume", "small-20261207-120000-abcd", "--store", store_url])
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "'small-20261207-120000-abcd' is a run, not a blocked sweep" in err, err
    assert "`bordersim report small-20261207-120000-abcd" in err, err


def test_resuming_a_sweep_the_store_lacks_names_the_store(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The line "no sweep 'X' in the store" did not say which store was asked (the default one, or
    $BORDERSIM_STORE, where a sweep recorded with --store elsewhere is not): the line names it,
    a URL without its password. Without --cluster, "resuming sweep X in this process" came
    first, as if it were resuming: the id is checked first, as with --cluster."""
    from bordersim.store.postgres import shown_url

    open_catalog(store_url, create=True).close()
    with pytest.raises(SystemExit) as done:
        main(["sweep", "--resume", "small-000000000000", "--store", store_url])
    assert done.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # not "resuming sweep small-000000000000 in this process" first
    shown = shown_url(store_url) if store_url.startswith("postgresql:") else store_url
    # a long location is shown by its end (errors.BordersimError)
    assert f"{shown[-40:]}: no sweep 'small-000000000000' in this store" in err, err


def test_report_and_resume_of_an_id_the_store_lacks_say_it_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim report X` and `sweep --resume X` of the same store worded an id it lacks
    differently, and the sweep's message did not give the command that lists what the store
    holds: both now name `bordersim runs --store S`."""
    store = tmp_path / "bordersim.duckdb"
    open_catalog(store, create=True).close()
    said = []
    for command in (["report", "nope"], ["sweep", "--resume", "nope-0123456789ab"]):
        with pytest.raises(SystemExit) as done:
            main([*command, "--store", str(store)])
        assert done.value.code == 2
        said.append(" ".join(capsys.readouterr().err.split()))
    listing = f"`bordersim runs --store {store}`"
    assert f"{store}: no run 'nope' in this store; it holds 0 runs: {listing}" in said[0], said
    assert f"{store}: no sweep 'nope-0123456789ab' in this store; {listing}" in said[1], said


def test_a_missing_store_names_every_command_that_creates_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` of a store not there yet said "`bordersim data import` or `bordersim run`
    creates one", leaving out the blocked sweep, which records itself in a store it creates."""
    missing = tmp_path / "missing.duckdb"
    with pytest.raises(SystemExit) as done:
        main(["runs", "--store", str(missing)])
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        f"error: {missing}: no store here (is --store or $BORDERSIM_STORE mistyped?); "
        "`bordersim data import`, `bordersim run` or `bordersim sweep --store` creates one"
    ), err
    assert not missing.exists()


def test_runs_lists_a_run_under_way_as_it_lists_a_sweep_under_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` showed a sweep under way as "running (process N)" and a run under way,
    in the table beside it, as "running", without its process: a run now names its process as
    a sweep does, and one driven from another host is said to be running there."""
    import os

    from constructed_runs import constructed_run, start_constructed

    store = tmp_path / "bordersim.duckdb"
    with open_catalog(store, create=True) as catalog:
        start_constructed(catalog, constructed_run(1, 3), "small-20261207-120000-abcd")
    listed = _sweep_listing(str(store), capsys)
    assert f"running (process {os.getpid()})" in listed, listed
    with open_catalog(store) as catalog:
        catalog.execute("UPDATE runs SET host = 'elsewhere', pid = 1")
    listed = _sweep_listing(str(store), capsys)
    assert "running on elsewhere" in listed, listed


def test_resuming_a_sweep_another_process_drives_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `sweep --resume` of a sweep that another process on this machine was running ran
    its unfinished blocks a second time, without a word, and took the sweep over in the
    listing. It is refused, naming the process, before anything runs."""
    from bordersim.services.blocks import SweepPlan, input_digests

    store = tmp_path / "bordersim.duckdb"
    base, axes = load_scenario(SMALL), [Axis(KEY, (0,))]
    plan = SweepPlan("small-0123456789ab", str(SMALL), base.hash, axes, 1, 11, BlockShape(1, 1))
    plan.inputs = input_digests(base, axes)
    driver = _driving_process(str(store), scenario_hash=base.hash, plan_json=plan.to_json())
    try:
        with pytest.raises(SystemExit) as done:
            main(["sweep", "--resume", "small-0123456789ab", "--store", str(store),
                  "--out", str(tmp_path / "out")])  # fmt: skip
        assert done.value.code == 2
        out, err = capsys.readouterr()
        assert out == "", out
        err = " ".join(err.split())
        assert (
            f"sweep small-0123456789ab is running now (process {driver.pid} on this machine)" in err
        ), err
        with open_catalog(store, create=False) as catalog:
            (sweep,) = list_sweeps(catalog)
        assert sweep.pid == driver.pid  # still its driver's
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=60)


def test_an_empty_store_file_names_every_command_that_makes_a_store_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` of an empty file said "`bordersim data import` or `bordersim run` makes
    one there", leaving out the blocked sweep, which makes a store there too."""
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    with pytest.raises(SystemExit) as done:
        main(["runs", "--store", str(empty)])
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        f"error: {empty}: is an empty file, not a store yet; `bordersim data import`, `bordersim "
        "run` or `bordersim sweep --store` makes one there"
    ), err
    assert empty.stat().st_size == 0


def test_a_store_server_that_cannot_be_reached_is_refused_before_the_sweep_is_announced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blocked sweep with a PostgreSQL --store whose server refuses the connection announced
    itself and checked its whole grid before the store said it could not be reached, as if it
    had started; `--resume` reaches the store first. The server is now reached first."""
    from bordersim.errors import MAX_WHERE_CHARS

    url = f"postgresql://analyst@127.0.0.1:1/bordersim?results={tmp_path}/results"
    # a few characters longer than a location is shown whole, whatever the length of tmp_path
    url += "-" * max(0, MAX_WHERE_CHARS + 4 - len(url))
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(SMALL), *VARY, "--store", url, "--out", str(tmp_path / "o")])
    assert done.value.code == 2
    out, err = capsys.readouterr()
    assert out == "", out
    # a long location is shown by its end (errors.BordersimError)
    assert err.startswith("error: ...") and "127.0.0.1:1/bordersim?results=" in err, err
    assert ": cannot connect to PostgreSQL (" in err, err
    assert not (tmp_path / "o").exists()


def test_resuming_a_sweep_driven_from_another_host_warns_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sweep --resume` of a sweep recorded as driven by a process on another host (a store on
    a shared disk), which cannot be checked from here, resumed it without a word, though that
    process may still run its blocks. The sweep resumes, with a warning naming the host."""
    from bordersim.services.blocks import SweepPlan, input_digests
    from bordersim.store.sweeps import record_sweep

    store = tmp_path / "bordersim.duckdb"
    base, axes = load_scenario(SMALL), [Axis(KEY, (0,))]
    plan = SweepPlan("small-0123456789ab", str(SMALL), base.hash, axes, 1, 11, BlockShape(1, 1))
    plan.inputs = input_digests(base, axes)
    with open_catalog(store) as catalog:
        record_sweep(catalog, "small-0123456789ab", scenario_name="small",
                     scenario_hash=base.hash, plan_json=plan.to_json(), blocks=1,
                     code_version="t")  # fmt: skip
        catalog.execute("UPDATE sweeps SET host = 'elsewhere.example', pid = 4242")
    main(["sweep", "--resume", "small-0123456789ab", "--store", str(store),
          "--out", str(tmp_path / "out")])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "resuming sweep small-0123456789ab in this process",
        "warning: sweep small-0123456789ab was driven by process 4242 on elsewhere.example, "
        "which cannot be checked from here; if it still runs there, stop it: both would run "
        "the unfinished blocks",
    ], lines
    assert any("1 block run, 0 reused" in line for line in lines), lines
    with open_catalog(store, create=False) as catalog:
        (sweep,) = list_sweeps(catalog)
    assert sweep.finished_at is not None


def test_runs_on_a_narrow_terminal_starts_every_folded_header_on_the_top_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` on a terminal too narrow for its headers folded "scenario file" over
    four lines and set every other header on the last of them, below three empty lines, as
    Rich sets a header row; every header now starts on the header row's first line."""
    import re

    from constructed_runs import constructed_run, start_constructed

    store = tmp_path / "bordersim.duckdb"
    with open_catalog(store, create=True) as catalog:
        start_constructed(catalog, constructed_run(1, 3), "small-20261207-120000-abcd")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # a terminal, as Rich sees one
    monkeypatch.setenv("COLUMNS", "100")
    main(["runs", "--store", str(store)])
    lines = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    bottom = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    header = [[cell.strip() for cell in line.split("┃")[1:-1]] for line in lines[top + 1 : bottom]]
    assert len(header) > 1, lines  # folded
    assert header[0][0] == "run id" and "created (UTC)" in header[0], header
    assert all(cell for cell in header[0]), header


def test_runs_shows_a_store_and_scenario_path_with_brackets_as_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim runs` of a store in a folder named `d[/x]` ended in a traceback (Rich read the
    name as markup), and one in `e[red]` was titled by `e`; a scenario file's path lost its
    brackets alike. Paths are shown as they are."""
    from constructed_runs import constructed_run, start_constructed

    store = tmp_path / "d[/x]" / "e[red]" / "bordersim.duckdb"
    store.parent.mkdir(parents=True)
    scenario = str(tmp_path / "[bold]s.toml")
    with open_catalog(store, create=True) as catalog:
        start_constructed(catalog, constructed_run(1, 3), "small-20261207-120000-abcd", scenario)
    main(["runs", "--store", str(store)])
    out = capsys.readouterr().out
    assert f"Runs in {store}" in out, out
    cells = "".join(line.split("│")[2].strip() for line in out.splitlines() if "│" in line)
    assert cells == scenario, out


def test_a_blank_store_variable_is_refused_by_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """BORDERSIM_STORE set to spaces was a store file named by the spaces in the working folder:
    `bordersim runs` said the folder itself held no store, and a command that makes a store
    would have made one named "  ". The variable is refused by its name, as an empty --store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", "  ")
    with pytest.raises(SystemExit) as done:
        main(["runs"])
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        "error: BORDERSIM_STORE: is blank; name the store in it, or unset it for the default "
        "(./.bordersim/bordersim.duckdb)"
    ), err
    assert list(tmp_path.iterdir()) == []
