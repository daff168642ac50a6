"""The Python API: the CLI's numbers for the same seed, clear errors, read-only stored runs."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bordersim as bs
from bordersim.cli import main
from bordersim.report.compare_report import KpiComparison
from bordersim.store import open_store
from bordersim.store.runs import COMPLETE, list_runs
from repo_paths import REPO, SMALL

SEED, REPLICATIONS = 3, 2


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A flow-engine run of the small example made by `bordersim run`: (store, run id)."""
    folder = tmp_path_factory.mktemp("cli")
    store = folder / "store.duckdb"
    argv = ["run", str(SMALL), "--engine", "flow", "--replications", str(REPLICATIONS)]
    argv += ["--seed", str(SEED), "--store", str(store), "--out", str(folder / "out")]
    main(argv)
    with open_store(store) as connection:
        (stored,) = list_runs(connection)
    return store, stored.run_id


@pytest.fixture(scope="module")
def api_run() -> bs.Run:
    return bs.run(SMALL, replications=REPLICATIONS, seed=SEED, engine="flow")


def test_a_run_gives_the_numbers_the_cli_stored(cli_run: tuple[Path, str], api_run: bs.Run) -> None:
    store, run_id = cli_run
    stored = bs.open_run(run_id, store=store)
    assert stored.stored is not None and stored.stored.status == COMPLETE
    pd.testing.assert_frame_equal(stored.daily(), api_run.daily())
    kpis = api_run.kpis().set_index("indicator")
    for name, interval in stored.stored.kpis.items():
        assert kpis.loc[name, "mean"] == pytest.approx(interval["mean"], rel=1e-12, abs=1e-12)
    assert list(api_run.kpis().columns) == ["indicator", "mean", "low", "high", "unit"]


def test_a_stored_runs_catalog_row_shows_as_one_line(cli_run: tuple[Path, str]) -> None:
    # repr(run.stored) was 10,000 characters: the scenario's whole resolved text and every KPI
    store, run_id = cli_run
    stored = bs.open_run(run_id, store=store).stored
    assert stored is not None
    shown = repr(stored)
    assert shown.startswith(f"StoredRun({run_id!r}, complete, 'small', flow engine, seed {SEED}, ")
    assert f"{REPLICATIONS} replications, created 20" in shown
    assert "\n" not in shown and len(shown) < 200, shown


def test_an_indicator_and_the_daily_metric_of_its_name_give_one_unit(api_run: bs.Run) -> None:
    # agents_field_hours was in "hours" in kpis() and in "staff-hours" in daily()
    from bordersim.results.schema import METRIC_UNITS

    units = api_run.kpis().set_index("indicator")["unit"]
    shared = [name for name in units.index if name in METRIC_UNITS]
    assert "agents_field_hours" in shared and "encounters" in shared
    assert {name: units[name] for name in shared} == {name: METRIC_UNITS[name] for name in shared}


def test_a_scenario_object_and_its_path_run_alike(api_run: bs.Run) -> None:
    again = bs.run(bs.load_scenario(SMALL), replications=REPLICATIONS, seed=SEED, engine="flow")
    np.testing.assert_array_equal(again.result.daily, api_run.result.daily)


def test_daily_narrows_by_metric_and_sector_and_metric_sums_sectors(api_run: bs.Run) -> None:
    pd.testing.assert_frame_equal(api_run.daily(), api_run.result.tidy())
    table = api_run.daily(["encounters", "gotaways"], sector="RGV")
    assert set(table["metric"]) == {"encounters", "gotaways"} and set(table["sector"]) == {"RGV"}
    assert len(table) == 2 * REPLICATIONS * len(api_run.dates)
    by_sector = api_run.metric("encounters", sector="RGV") + api_run.metric("encounters", "TCA")
    np.testing.assert_allclose(api_run.metric("encounters"), by_sector)
    assert api_run.metric("encounters").shape == (REPLICATIONS, len(api_run.dates))


def test_the_run_results_metric_refuses_an_unknown_name_as_the_run_does(api_run: bs.Run) -> None:
    # run.result.metric("occupancy") was a bare KeyError: 'occupancy'
    with pytest.raises(bs.BordersimError) as refused:
        api_run.result.metric("occupancy")
    with pytest.raises(bs.BordersimError) as by_the_run:
        api_run.metric("occupancy")
    assert str(refused.value) == str(by_the_run.value)
    assert "did you mean 'occupancy_peak'" in str(refused.value)


@pytest.mark.parametrize(
    "metric",
    [{"encounters": 1}, b"encounters", {"encounters", "gotaways"}],
    ids=["dict", "bytes", "set"],
)
def test_daily_refuses_metrics_given_as_a_dict_bytes_or_a_set(
    api_run: bs.Run, metric: object
) -> None:
    # a dict's keys were taken as the metrics (its values dropped), bytes were "got int 101",
    # and a set gave its metrics' rows in an order that changes from one process to the next
    with pytest.raises(bs.BordersimError) as refused:
        api_run.daily(metric)  # type: ignore[arg-type]
    text = str(refused.value)
    assert text.startswith(
        f"metric must be a metric name or a list of names, got {type(metric).__name__}"
    )
    assert "\n" not in text


def test_progress_on_the_flow_engine_counts_hours_as_the_docs_say() -> None:
    # docs/api.md said only "progress=callable(done, total)": a 2-replication flow run called
    # it once, with (1176, 1176), which read as replications
    calls: list[tuple[int, int]] = []
    run = bs.run(
        SMALL, replications=1, seed=SEED, engine="flow", progress=lambda *c: calls.append(c)
    )
    hours = 24 * (len(run.dates) + bs.load_scenario(SMALL).period.warmup_days)
    assert calls and calls[-1] == (hours, hours)
    doc = " ".join((REPO / "docs" / "api.md").read_text(encoding="utf-8").split())
    assert "replications done on the event engine, hours simulated on the flow engine" in doc


def test_plot_draws_the_mean_of_the_named_sector(api_run: bs.Run) -> None:
    fig = api_run.plot("occupancy_mean", sector="RGV")
    mean = api_run.metric("occupancy_mean", sector="RGV").mean(axis=0)
    np.testing.assert_allclose(np.asarray(fig.data[1].y, dtype=float), mean)
    assert "RGV" in fig.layout.title.text


def test_a_plot_summed_over_sectors_counts_sector_days_not_days(api_run: bs.Run) -> None:
    # stock_out is 1 on a day a sector ran out: summed over sectors it counts sector-days, as
    # the KPI stock_out_days says, but the axis read "stock_out (days)"
    assert api_run.plot("stock_out").layout.yaxis.title.text == "stock_out (sector-days)"
    assert api_run.plot("valve_open_hours").layout.yaxis.title.text == (
        "valve_open_hours (sector-hours)"
    )
    assert api_run.plot("stock_out", sector="RGV").layout.yaxis.title.text == "stock_out (days)"
    assert api_run.plot("encounters").layout.yaxis.title.text == "encounters (events)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.daily("occupancy"), "unknown metric 'occupancy'; did you mean"),
        (lambda r: r.plot("occupancy_mean", sector="XYZ"), "sector 'XYZ' is not in run"),
        (lambda r: r.metric("nope"), "unknown metric 'nope'"),
    ],
)
def test_unknown_metrics_and_sectors_are_one_clear_line(
    api_run: bs.Run, call: object, message: str
) -> None:
    with pytest.raises(bs.BordersimError) as refused:
        call(api_run)  # type: ignore[operator]
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_an_unknown_engine_or_a_missing_file_is_refused_before_running(tmp_path: Path) -> None:
    with pytest.raises(bs.BordersimError, match="unknown engine 'quantum'; choose one of"):
        bs.run(SMALL, engine="quantum")
    with pytest.raises(bs.BordersimError, match="no such scenario file"):
        bs.run(tmp_path / "nope.toml", engine="flow")
    with pytest.raises(bs.BordersimError, match="no such scenario file"):
        bs.load_scenario(tmp_path / "nope.toml")
    with pytest.raises(bs.BordersimError, match="scenario must be a Scenario"):
        bs.run(42, engine="flow")  # type: ignore[arg-type]


def test_with_changes_is_validated_by_the_loader_rules_and_names_the_key() -> None:
    sc = bs.load_scenario(SMALL)
    changed = sc.with_changes({"deployments.troops.headcount": 0, "period.warmup_days": 3})
    assert changed.deployments["troops"].headcount == 0 and changed.period.warmup_days == 3
    assert sc.deployments["troops"].headcount == 300, "the original must not change"
    assert changed.sources["deployments.troops.headcount"] == "varied from small.toml"
    for changes, where in [
        ({"deployments.troops.duration_days": -5}, "deployments.troops.duration_days = -5"),
        ({"deployments.troops.duration_days": "long"}, "deployments.troops.duration_days"),
        ({"staff.no_such_key": 1}, "staff.no_such_key = 1: unknown key"),
        ({"period.warmup_days.x": 1}, "'warmup_days' holds a value, not a table"),
    ]:
        with pytest.raises(bs.BordersimError) as refused:
            sc.with_changes(changes)
        text = str(refused.value)
        assert where in text and "small.toml" in text and "\n" not in text, text


def test_related_keys_change_together() -> None:
    sc = bs.load_scenario(SMALL)
    start, end = dt.date(2023, 6, 5), dt.date(2023, 6, 30)
    with pytest.raises(bs.BordersimError):  # one at a time, the start would follow the end
        sc.with_changes({"period.start_date": start})
    moved = sc.with_changes({"period.start_date": start, "period.end_date": end})
    assert (moved.period.start_date, moved.period.end_date) == (start, end)


def test_compare_of_a_scenario_with_itself_is_zero_and_paired(api_run: bs.Run) -> None:
    # as in `bordersim compare`, the run fixes the other side's seed, replications and engine
    table = bs.compare(api_run, SMALL)
    assert table["paired"].all()
    assert (table["difference"] == 0).all()
    assert set(table.columns) >= {"indicator", "a_mean", "b_mean", "difference", "low", "high"}


def test_a_difference_without_an_interval_is_no_finding_either_way() -> None:
    # with one replication a side, excludes_zero was False beside NaN bounds, which reads as
    # "the interval holds zero", where `bordersim compare` says "no interval"
    no_troops = bs.load_scenario(SMALL).with_changes({"deployments.troops.headcount": 0})
    table = bs.compare(SMALL, no_troops, replications=1, seed=SEED, engine="flow")
    assert str(table["excludes_zero"].dtype) == "boolean"
    assert table["low"].isna().all() and table["excludes_zero"].isna().all()
    assert table[table["excludes_zero"]].empty


def test_a_difference_with_an_interval_says_whether_it_excludes_zero(api_run: bs.Run) -> None:
    no_troops = bs.load_scenario(SMALL).with_changes({"deployments.troops.headcount": 0})
    table = bs.compare(api_run, no_troops).set_index("indicator")
    flags = table["excludes_zero"]
    has_interval = table["low"].notna()
    assert flags[has_interval].notna().all() and flags[~has_interval].isna().all()
    assert flags["agents_field_hours"], "troops change the agents' field hours every replication"
    expected = (table["low"] > 0) | (table["high"] < 0)
    assert (flags[has_interval] == expected[has_interval]).all()


@pytest.mark.parametrize("engine", ["", 0, False, []])
def test_compare_refuses_an_engine_that_is_no_engine_as_run_does(
    engine: object, tmp_path: Path
) -> None:
    # engine="" (an unset variable) or 0 was taken for the event engine without a word
    with pytest.raises(bs.BordersimError) as refused:
        bs.compare(SMALL, tmp_path / "b.toml", engine=engine)  # type: ignore[arg-type]
    assert str(refused.value) == f"unknown engine {engine!r}; choose one of: event, flow"


def test_two_runs_are_compared_as_they_are_and_options_for_a_simulation_refused(
    api_run: bs.Run,
) -> None:
    # before, a seed given with two runs was dropped without a word
    again = bs.Run(api_run.result)  # another Run of its results: not one run compared with itself
    assert (bs.compare(api_run, again)["difference"] == 0).all()
    with pytest.raises(bs.BordersimError) as refused:
        bs.compare(api_run, again, seed=3, engine="event")
    assert "both Runs" in str(refused.value) and "seed, engine" in str(refused.value)


def test_recording_a_run_stores_it_and_open_run_is_read_only(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    recorded = bs.run(
        SMALL, replications=1, seed=SEED, engine="flow", store=store, out=tmp_path / "out"
    )
    assert recorded.run_id is not None and (tmp_path / "out" / "report.html").is_file()
    opened = bs.open_run(recorded.run_id, store=store)
    with pytest.raises(ValueError, match="read-only"):
        opened.result.daily[0, 0, 0, 0] = 1.0
    # the reader has let go: a command that writes gets in at once
    with open_store(store) as connection:
        assert [r.status for r in list_runs(connection)] == [COMPLETE]


def test_open_run_errors(tmp_path: Path, cli_run: tuple[Path, str]) -> None:
    store, _ = cli_run
    with pytest.raises(
        bs.BordersimError, match=r"store\.duckdb: no run 'nope' in this store; it holds 1 run:"
    ):
        bs.open_run("nope", store=store)
    with pytest.raises(bs.BordersimError) as refused:
        bs.open_run("nope", store=tmp_path / "missing.duckdb")
    # said "is --store or $BORDERSIM_STORE mistyped?", naming a flag the call does not have, and
    # then named bs.run and `bordersim run` alone, where bs.sweep and the commands that
    # `bordersim report` names make a store too
    assert str(refused.value) == (
        f"{tmp_path / 'missing.duckdb'}: no store here (is store= or $BORDERSIM_STORE "
        "mistyped?); bs.run(..., record=True), bs.sweep(..., store=...), `bordersim run`, "
        "`bordersim sweep --store` or `bordersim data import` creates one"
    )
    assert not (tmp_path / "missing.duckdb").exists()
    with pytest.raises(bs.BordersimError, match=r"run_id must be a run id .* got int 3"):
        bs.open_run(3, store=store)  # type: ignore[arg-type]


def test_a_run_id_the_store_lacks_names_the_store_read_and_the_nearest_id(
    cli_run: tuple[Path, str],
) -> None:
    # said "no run ... in the store": which store (store=, $BORDERSIM_STORE or the default)
    # was not said, nor the id of the run meant
    store, run_id = cli_run
    with pytest.raises(bs.BordersimError) as refused:
        bs.open_run(run_id[:-1], store=store)
    assert str(refused.value) == (
        f"{store}: no run {run_id[:-1]!r} in this store (did you mean {run_id!r}?); it holds 1 "
        f"run: `bordersim runs --store {store}` lists them"
    )


def test_a_run_id_the_store_lacks_is_worded_as_bordersim_report_words_it(
    cli_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # open_run said "in this store (did you mean ...?); it holds 1 run", `bordersim report`
    # "in the store (see `bordersim runs`)", a command that lists another store than --store's
    store, run_id = cli_run
    for missing in (run_id[:-1], "nope"):
        with pytest.raises(bs.BordersimError) as refused:
            bs.open_run(missing, store=store)
        with pytest.raises(SystemExit):
            main(["report", missing, "--store", str(store)])
        assert capsys.readouterr().err.strip() == f"error: {refused.value}"
        assert f"`bordersim runs --store {store}` lists them" in str(refused.value)


WRITER = """
import sys, time
from bordersim.store import open_store
connection = open_store(sys.argv[1])
connection.execute("BEGIN TRANSACTION")
print("writing", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
connection.close()
"""


def test_a_store_being_written_is_refused_in_one_line_then_opens(
    cli_run: tuple[Path, str],
) -> None:
    store, run_id = cli_run
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        with pytest.raises(bs.BordersimError) as refused:
            bs.open_run(run_id, store=store)
        assert "another process is using it" in str(refused.value)
    finally:
        assert writer.stdin is not None
        writer.stdin.write("\n")
        writer.stdin.flush()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    assert bs.open_run(run_id, store=store).replications == REPLICATIONS


def test_a_stored_runs_kpis_are_those_of_the_store(cli_run: tuple[Path, str]) -> None:
    store, run_id = cli_run
    opened = bs.open_run(run_id, store=store)
    assert opened.stored is not None
    expected = json.loads(json.dumps(opened.stored.kpis))
    got = opened.kpis().set_index("indicator")["mean"].to_dict()
    assert got.keys() == expected.keys()
    for name, interval in expected.items():
        assert got[name] == pytest.approx(interval["mean"], rel=1e-12, abs=1e-12)


@pytest.mark.slow
def test_sweep_gives_the_table_bordersim_sweep_writes(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", str(SMALL), "--vary", "deployments.troops.headcount=0,300"]
    main([*argv, "--replications", "2", "--seed", "0", "--out", str(out)])
    written = pd.read_parquet(out / "kpis.parquet")
    table = bs.sweep(SMALL, vary={"deployments.troops.headcount": [0, 300]}, replications=2)
    # the file's "kpi" column is the table's "indicator", as run.kpis() names it
    written = written.rename(columns={"kpi": "indicator"})
    pd.testing.assert_frame_equal(table.reset_index(drop=True), written, check_dtype=False)


def test_a_sweep_names_its_indicators_as_run_kpis_and_compare_do(api_run: bs.Run) -> None:
    # the sweep's table called the column "kpi" where run.kpis() and bs.compare say "indicator"
    grid = bs.sweep(SMALL, vary={"deployments.troops.headcount": [0]}, replications=1)
    assert "kpi" not in grid.columns
    assert list(grid.columns[:3]) == ["variant", "deployments.troops.headcount", "indicator"]
    assert set(grid["indicator"]) <= set(api_run.kpis()["indicator"])
    assert "encounters" in set(grid["indicator"])


@pytest.mark.slow
def test_the_event_engine_gives_the_cli_numbers_too(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    argv = ["run", str(SMALL), "--replications", "2", "--seed", "5"]
    main([*argv, "--store", str(store), "--out", str(tmp_path / "out")])
    with open_store(store) as connection:
        (stored,) = list_runs(connection)
    api = bs.run(SMALL, replications=2, seed=5, engine="event")
    pd.testing.assert_frame_equal(bs.open_run(stored.run_id, store=store).daily(), api.daily())


def test_compare_pairs_unequal_replications_as_bordersim_compare_does(api_run: bs.Run) -> None:
    # Same seed, 3 replications against 2: the first two of A are the pairs of B's two, as in
    # `bordersim compare` (KpiComparison), not a Welch comparison of all of A with all of B.
    longer = bs.run(SMALL, replications=REPLICATIONS + 1, seed=SEED, engine="flow")
    table = bs.compare(longer, api_run).set_index("indicator")
    cli = KpiComparison.of(longer.result, api_run.result)
    assert table["paired"].all()
    for name, diff in cli.diffs.items():
        assert table.loc[name, "a_mean"] == pytest.approx(cli.summary_a[name].mean, nan_ok=True)
        assert table.loc[name, "difference"] == pytest.approx(diff.mean, nan_ok=True)
        assert table.loc[name, "low"] == pytest.approx(diff.low, nan_ok=True)
    assert (table["difference"] == 0).all(), "the pairs share their random numbers"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seed": 1.5}, "seed must be a whole number from 0 to 2^63 - 1, got 1.5"),
        ({"seed": "1"}, "seed must be a whole number from 0 to 2^63 - 1, got '1'"),
        ({"seed": None}, "seed must be a whole number"),
        (
            {"replications": 2.5},
            "replications must be at least 1 and at most 1,000,000 (a whole number)",
        ),
        (
            {"replications": "2"},
            "replications must be at least 1 and at most 1,000,000 (a whole number)",
        ),
        ({"replications": 0}, "at most 1,000,000 (a whole number), got 0"),
    ],
)
@pytest.mark.parametrize("call", ["run", "sweep"])
def test_a_seed_or_replications_that_is_not_a_whole_number_is_refused(
    options: dict[str, object], message: str, call: str
) -> None:
    # seed=1.5 used to run as seed 1 and be stored as seed 2: a record nobody could reproduce
    settings = {"replications": 1, "seed": SEED, **options}
    with pytest.raises(bs.BordersimError) as refused:
        if call == "run":
            bs.run(SMALL, engine="flow", **settings)  # type: ignore[arg-type]
        else:
            bs.sweep(SMALL, vary={"deployments.troops.headcount": [0]}, **settings)  # type: ignore[arg-type]
    assert message in str(refused.value)
    assert "--" not in str(refused.value)  # the API's parameters, not the CLI's flags


def test_the_api_names_its_own_parameters_where_the_cli_names_flags(tmp_path: Path) -> None:
    with pytest.raises(bs.BordersimError) as refused:
        bs.run(SMALL, engine="flow", replications=1, records=True)
    assert str(refused.value).startswith(
        "records=True keeps per-person records, which only the event engine has"
    )
    blocker = tmp_path / "out"
    blocker.write_text("a file where the report folder should be")
    with pytest.raises(bs.BordersimError) as refused:
        bs.run(SMALL, engine="flow", replications=1, store=tmp_path / "s.duckdb", out=blocker)
    assert "out names a file, not a folder" in str(refused.value)
    assert "--" not in str(refused.value)
    # `bordersim sweep --block-variants 1` is the CLI's remedy; the API has no such parameter
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(
            SMALL,
            vary={"period.end_date": [dt.date(2023, 5, 10), dt.date(2023, 5, 12)]},
            replications=1,
        )
    assert str(refused.value).startswith("vary period.end_date=2023-05-12: changes the number")
    assert "sweep the values that change it in separate calls" in str(refused.value)
    assert "--" not in str(refused.value)


def test_numpy_integers_are_whole_numbers(api_run: bs.Run) -> None:
    again = bs.run(SMALL, replications=np.int64(REPLICATIONS), seed=np.int64(SEED), engine="flow")
    np.testing.assert_array_equal(again.result.daily, api_run.result.daily)


def test_a_report_folder_without_a_store_is_refused_not_ignored(tmp_path: Path) -> None:
    # out= alone used to run and write nothing: the analyst looked for a report that never came
    with pytest.raises(bs.BordersimError, match="out= is the report folder of a recorded run"):
        bs.run(SMALL, replications=1, engine="flow", out=tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_arguments_of_the_wrong_kind_are_one_clear_line() -> None:
    # a list of pairs or None used to end in AttributeError / TypeError from deep inside
    sc = bs.load_scenario(SMALL)
    for call, message in [
        (lambda: sc.with_changes([("deployments.troops.headcount", 0)]), "got list"),
        (lambda: sc.with_changes(None), "with_changes takes {key path: value}"),
        (lambda: bs.sweep(sc, vary=[0, 300], replications=1), "vary takes {key path: [values]}"),
        (lambda: bs.load_scenario(None), "expected a scenario file path, got NoneType"),
    ]:
        with pytest.raises(bs.BordersimError) as refused:
            call()  # type: ignore[no-untyped-call]
        assert message in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"engine": ["flow"]}, "unknown engine ['flow']"),
        ({"record": "no"}, "record must be True or False, got str 'no'"),
        ({"records": "yes"}, "records must be True or False, got str 'yes'"),
        ({"store": 5}, "store must be a path"),
        ({"record": True, "out": 5}, "out must be a path"),
        ({"progress": 5}, "progress must be a function called as progress(done, total)"),
        # a function taking one argument was a bare TypeError at the first report, mid-run
        (
            {"progress": lambda done: None},
            "progress is called as progress(done, total), with two numbers; the function "
            "given, <lambda>(done), cannot take them",
        ),
    ],
)
def test_run_arguments_of_the_wrong_kind_are_one_line_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, arguments: dict[str, object], message: str
) -> None:
    import bordersim.services.record as record

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before the arguments were checked")

    monkeypatch.setattr(record, "simulate_loaded", never)
    monkeypatch.setattr(record, "simulate_and_record", never)
    with pytest.raises(bs.BordersimError) as refused:
        bs.run(SMALL, **{"replications": 1, "engine": "event", **arguments})  # type: ignore[arg-type]
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_store_that_is_not_a_path_is_one_line_in_open_run_and_sweep() -> None:
    with pytest.raises(bs.BordersimError, match="store must be a path"):
        bs.open_run("small-20230511-120000-ab12", store=5)  # type: ignore[arg-type]
    with pytest.raises(bs.BordersimError, match="store must be a path"):
        bs.sweep(SMALL, {"deployments.troops.headcount": [0]}, replications=1, store=5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.daily(5), "metric must be a metric name or a list of names, got int 5"),
        (lambda r: r.daily([5]), "a metric is named by a str, got int 5"),
        # an empty list was an empty table, as if the run had no days
        (lambda r: r.daily([]), "metric names no metric (it is empty): give at least one "),
        (lambda r: r.daily(iter(())), "metric names no metric (it is empty): give at least one "),
        (lambda r: r.metric(["encounters"]), "a metric is named by a str, got list"),
        (lambda r: r.plot(["encounters"]), "a metric is named by a str, got list"),
    ],
)
def test_a_metric_of_the_wrong_kind_is_one_line(call: object, message: str) -> None:
    from constructed_runs import constructed_run

    with pytest.raises(bs.BordersimError) as refused:
        call(bs.Run(constructed_run(replications=2, days=3)))  # type: ignore[operator]
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_sweep_axis_given_as_a_dict_is_refused_not_swept_over_its_keys() -> None:
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(SMALL, {"deployments.troops.headcount": {0: 300}}, replications=1)
    text = str(refused.value)
    assert "vary deployments.troops.headcount={0: 300}: expected a list of values" in text, text


def test_a_store_that_cannot_be_opened_leaves_no_empty_report_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("not a store")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(bs.BordersimError, match="is not a DuckDB database"):
        bs.run(SMALL, replications=1, engine="flow", store=not_a_store)
    with pytest.raises(bs.BordersimError, match="is not a DuckDB database"):
        bs.run(SMALL, replications=1, engine="flow", store=not_a_store, out="reports/a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    (tmp_path / "kept").mkdir()
    with pytest.raises(bs.BordersimError, match="is not a DuckDB database"):
        bs.run(SMALL, replications=1, engine="flow", store=not_a_store, out="kept")
    assert (tmp_path / "kept").is_dir(), "a folder that was there before is the user's"


def test_a_metric_named_twice_gives_its_rows_once() -> None:
    from constructed_runs import constructed_run

    run = bs.Run(constructed_run(replications=2, days=3))
    twice = run.daily(["encounters", "gotaways", "encounters"])
    pd.testing.assert_frame_equal(twice, run.daily(["encounters", "gotaways"]))
    assert not twice.duplicated(["replication", "date", "sector", "metric"]).any()


@pytest.mark.parametrize("client", ["tcp://127.0.0.1:8786", 5])
def test_a_sweep_client_that_is_not_a_dask_client_is_refused_before_the_store_is_touched(
    tmp_path: Path, client: object
) -> None:
    store = tmp_path / "sweeps.duckdb"
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(
            SMALL,
            {"deployments.troops.headcount": [0, 300]},
            replications=1,
            client=client,
            store=store,
        )
    text = str(refused.value)
    assert "client must be a distributed.Client" in text and "\n" not in text, text
    assert not store.exists(), "the sweep was registered before the client was checked"


@pytest.mark.parametrize(
    "changes",
    [
        {"custody.capacity_people": {"RGV": 0}, "custody.capacity_people.RGV": 5},
        {"custody.capacity_people.RGV": 5, "custody.capacity_people": {"RGV": 0}},
        {"custody.capacity_people.RGV": 5, "custody": {"capacity_people": {"RGV": 0}}},
    ],
)
def test_a_value_set_twice_in_one_with_changes_is_refused_not_left_to_the_order(
    changes: dict[str, object],
) -> None:
    sc = bs.load_scenario(SMALL)
    with pytest.raises(bs.BordersimError) as refused:
        sc.with_changes(changes)
    text = str(refused.value)
    assert "custody.capacity_people.RGV is set twice in one call" in text, text
    # two key paths of one table that set different values merge, as before
    both = sc.with_changes(
        {"custody.capacity_people": {"RGV": 0}, "custody.capacity_people.TCA": 5}
    ).custody.capacity_people
    assert (both.RGV, both.TCA) == (0, 5)


@pytest.mark.parametrize(
    ("b", "message"),
    [("missing.toml", "no such scenario file"), (42, "b must be a Run, a Scenario")],
)
def test_compare_refuses_a_bad_side_b_before_simulating_side_a(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, b: object, message: str
) -> None:
    import bordersim.services.record as record

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("side A was simulated before side B was checked")

    monkeypatch.setattr(record, "simulate_loaded", never)
    side_b = tmp_path / b if isinstance(b, str) else b
    with pytest.raises(bs.BordersimError, match=message):
        bs.compare(SMALL, side_b, replications=1, engine="flow")  # type: ignore[arg-type]


def test_numpy_integers_for_replications_and_seed_are_recorded_as_ints(tmp_path: Path) -> None:
    # accepted as whole numbers, they failed once they reached the store's catalog (DuckDB:
    # "Unable to transform python value of type numpy.int64") or a sweep's JSON
    one, seed = np.int64(1), np.int64(2)
    # its report goes under tmp_path, not into out/ of the folder the tests run from
    stored = bs.run(
        SMALL,
        replications=one,
        seed=seed,
        engine="flow",
        store=tmp_path / "r.duckdb",
        out=tmp_path / "out",
    )
    again = bs.open_run(stored.run_id or "", store=tmp_path / "r.duckdb")
    assert (again.seed, again.replications) == (2, 1)
    grid = bs.sweep(
        SMALL,
        {"deployments.troops.headcount": [0]},
        replications=one,
        seed=seed,
        store=tmp_path / "s.duckdb",
    )
    assert set(grid["n"]) == {1}


def test_options_given_with_two_runs_are_refused_in_the_api_s_words() -> None:
    """bs.compare(run_a, run_b, seed=3) said "A and B are both stored runs", of two Runs that
    need not be stored, named as the command line's A and B, not the call's a and b."""
    from constructed_runs import constructed_run

    runs = bs.Run(constructed_run(2, 3)), bs.Run(constructed_run(2, 3))
    with pytest.raises(bs.BordersimError) as refused:
        bs.compare(*runs, seed=3)
    assert str(refused.value) == (
        "a and b are both Runs, so nothing is simulated and seed would change nothing; leave it "
        "out, or give a scenario as a side"
    )


def test_a_compare_side_of_the_wrong_kind_is_named_with_the_kinds_it_may_be() -> None:
    """bs.compare(5, run) said "expected a Scenario (bs.load_scenario) or a scenario file path,
    got int": not which side, nor that a Run is a side too."""
    from constructed_runs import constructed_run

    run = bs.Run(constructed_run(2, 3))
    for given, side in [((5, run), "a"), ((run, None), "b")]:
        with pytest.raises(bs.BordersimError) as refused:
            bs.compare(*given)  # type: ignore[arg-type]
        assert str(refused.value).startswith(
            f"{side} must be a Run, a Scenario (bs.load_scenario) or a scenario file path, got "
        ), refused.value


def test_a_run_compared_with_itself_is_refused_in_one_line() -> None:
    """bs.compare(run, run) returned a table of differences that are all exactly zero, which
    `bordersim compare` and the workbench refuse."""
    from constructed_runs import constructed_run

    run = bs.Run(constructed_run(2, 3))
    with pytest.raises(bs.BordersimError) as refused:
        bs.compare(run, run)
    assert str(refused.value) == (
        "b: the run of a again; a run compared with itself differs by nothing: give another "
        "run for b"
    )
    assert len(bs.compare(run, bs.Run(constructed_run(2, 3)))) > 0
    scenario = bs.load_scenario(SMALL)
    for a, b in [(scenario, scenario), (SMALL, str(SMALL.resolve()))]:
        with pytest.raises(bs.BordersimError) as refused:
            bs.compare(a, b, replications=1, engine="flow")
        assert str(refused.value).startswith(
            "b: the scenario of a again; a scenario compared with itself (one seed, one engine)"
        ), refused.value


def test_a_scenario_compared_with_its_own_file_is_refused_as_compared_with_itself() -> None:
    # bs.compare(sc, sc) and bs.compare(path, path) were refused, but a Scenario against the file
    # it was loaded from simulated both sides for a table of zeros
    scenario = bs.load_scenario(SMALL)
    for a, b in [(scenario, SMALL), (str(SMALL), scenario)]:
        with pytest.raises(bs.BordersimError) as refused:
            bs.compare(a, b, replications=1, engine="flow")
        assert str(refused.value).startswith(
            "b: the scenario of a again; a scenario compared with itself (one seed, one engine)"
        ), refused.value


@pytest.mark.parametrize(
    "call",
    [
        lambda: bs.load_scenario(""),
        lambda: bs.run(" ", replications=1, engine="flow"),
        lambda: bs.compare("", SMALL, replications=1, engine="flow"),
    ],
)
def test_an_empty_scenario_path_is_refused_as_empty(call: Callable[[], object]) -> None:
    """bs.load_scenario("") (a path from an unset variable) said ".: scenario file is a folder,
    not a file", of a folder the user never named."""
    with pytest.raises(bs.BordersimError) as refused:
        call()
    assert str(refused.value) == (
        "scenario path is empty (an unset variable?); give a scenario file"
    ), refused.value


def test_runs_compare_with_eq_and_are_hashable() -> None:
    from constructed_runs import constructed_run

    a, b = bs.Run(constructed_run(2, 3)), bs.Run(constructed_run(2, 3))
    # `==` compared the arrays of the results: "The truth value of an array ... is ambiguous"
    assert a == a and a != b
    labels = {a: "base", b: "variant"}  # unhashable before
    assert labels[b] == "variant" and len({a, b, a}) == 2


@pytest.mark.parametrize("scenario", [42, None, ["small.toml"]])
def test_a_sweep_of_something_not_a_scenario_says_a_scenario_or_its_path_is_expected(
    scenario: object,
) -> None:
    # said "expected a scenario file path, got int", as if a Scenario were not accepted
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(scenario, {"deployments.troops.headcount": [0]}, replications=1)  # type: ignore[arg-type]
    text = str(refused.value)
    assert "scenario must be a Scenario (bs.load_scenario) or a scenario file path, got " in text
    assert type(scenario).__name__ in text and "\n" not in text


def test_a_sweep_grid_larger_than_bordersim_sweep_takes_is_refused_at_once() -> None:
    # a grid of 20,000 points was checked point by point for minutes in silence, where
    # `bordersim sweep` refuses more than 10,000 points before anything runs
    vary = {
        "deployments.troops.headcount": list(range(200)),
        "demand.scale": [1 + i / 100 for i in range(100)],
    }
    started = time.perf_counter()
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(SMALL, vary, replications=1)
    assert time.perf_counter() - started < 2, "the grid was checked before its size"
    assert str(refused.value) == (
        "vary: a grid of 20,000 points (200 x 100 values); a sweep takes at most 10,000: split "
        "it into several sweeps"
    )


@pytest.mark.parametrize("values", [{0, 300}, frozenset({0, 300})])
def test_a_sweep_axis_given_as_a_set_is_refused_as_it_has_no_order(values: object) -> None:
    # a set was swept in its iteration order, which differs between processes for strings
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(SMALL, {"deployments.troops.headcount": values}, replications=1)  # type: ignore[dict-item]
    text = str(refused.value)
    assert f"vary deployments.troops.headcount={values!r}: a set has no defined order" in text
    assert "pass a list or a tuple" in text and "\n" not in text


@pytest.mark.parametrize(
    ("values", "said"),
    [([0, 300, 0], "0 is listed twice"), ((300, 300.0), "300 and 300.0 are one value")],
)
def test_a_sweep_axis_listing_a_value_twice_is_refused_as_bordersim_sweep_refuses_it(
    values: object, said: str
) -> None:
    # the same variant was run twice, under two variant numbers, where --vary refuses it
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(SMALL, {"deployments.troops.headcount": values}, replications=1)  # type: ignore[dict-item]
    assert str(refused.value) == f"vary deployments.troops.headcount={values!r}: {said}"


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([], "[]"),
        ("0,300", "'0,300'"),
        ([0, 300, 0], "[0, 300, 0]"),
        ([0, -5], "-5"),  # a value the scenario refuses: the grid point is named
        (
            [*range(40), 0],
            "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16...",
        ),  # a long list shortened
    ],
)
def test_a_sweep_refusal_names_the_key_and_its_values_one_way(values: object, shown: str) -> None:
    # the key's own refusals said "vary 'KEY': ..." and its points' "vary KEY=VALUE: ..."
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(SMALL, {"deployments.troops.headcount": values}, replications=1)  # type: ignore[dict-item]
    assert str(refused.value).startswith(f"vary deployments.troops.headcount={shown}: ")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # said "give exactly one of headcount and headcount_by_sector": the key is optional only
        # because headcount_by_sector may replace it
        ({"deployments.troops.headcount": None}, "deployments.troops.headcount = None: the key "),
        ({"period.warmup_days": None}, "period.warmup_days = None: the key needs a value, a whole"),
        ({"period.start_date": None}, "period.start_date = None: the key needs a value, a date"),
        ({"custody.capacity_people": {"RGV": None}}, "custody.capacity_people.RGV = None: the key"),
        ({"health.enabled": None}, "health.enabled = None: the key needs a value, true or false"),
        ({"deployments.troops.tasks": ["intake", None]}, "tasks holds None: each item of the list"),
    ],
)
def test_none_as_a_value_says_the_key_needs_a_value_and_of_what_kind(
    changes: dict[str, object], message: str
) -> None:
    sc = bs.load_scenario(SMALL)
    with pytest.raises(bs.BordersimError) as refused:
        sc.with_changes(changes)
    text = str(refused.value)
    assert message in text and "small.toml" in text and "\n" not in text, text
    if "headcount" in message:
        assert "exactly one of" not in text, text


def test_none_at_an_unknown_key_is_still_an_unknown_key() -> None:
    with pytest.raises(bs.BordersimError, match=r"staff\.no_such_key = NoneType: unknown key"):
        bs.load_scenario(SMALL).with_changes({"staff.no_such_key": None})


def test_a_fractional_headcount_is_refused_as_a_scenario_file_refuses_it() -> None:
    sc = bs.load_scenario(SMALL)
    with pytest.raises(bs.BordersimError) as refused:
        sc.with_changes({"deployments.troops.headcount": 1.5})  # accepted before
    text = str(refused.value)
    assert "deployments.troops.headcount = 1.5: must be a whole number of people" in text, text
    # a whole number written as a float is the same headcount, and the same scenario
    assert sc.with_changes({"deployments.troops.headcount": 300.0}).hash == sc.hash


def test_paths_starting_with_a_tilde_are_in_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "~/small.toml" was "no such scenario file", and out="~/out" made a folder named "~" here
    home, here = tmp_path / "home", tmp_path / "here"
    home.mkdir(), here.mkdir()
    (home / "small.toml").write_text(SMALL.read_text())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(here)
    sc = bs.load_scenario("~/small.toml")
    assert sc.path == home / "small.toml"
    stored = bs.run("~/small.toml", replications=1, engine="flow", store="~/r.duckdb", out="~/out")
    assert stored.report_path is not None and stored.report_path.parent == home / "out"
    assert bs.open_run(stored.run_id or "", store=Path("~/r.duckdb")).run_id == stored.run_id
    assert (home / "r.duckdb").is_file() and list(here.iterdir()) == []
    (home / "plan.toml").write_text((REPO / "plans" / "examples" / "small-stress.toml").read_text())
    with pytest.raises(bs.BordersimError) as refused:  # the plan file read from ~, then this
        bs.plan("~/nope.toml", "~/plan.toml", out="~/plan")
    assert str(refused.value).startswith(f"{home / 'nope.toml'}: no such scenario file")


def test_the_kpis_of_a_run_without_days_are_one_clear_line() -> None:
    from constructed_runs import constructed_run

    empty = bs.Run(constructed_run(replications=2, days=0))
    # an IndexError from inside the KPI arithmetic, after "Mean of empty slice" warnings; plot
    # drew an empty figure without a word, where docs/api.md says it says so
    calls = (
        empty.kpis,
        lambda: bs.compare(empty, bs.Run(constructed_run(2, 3))),
        lambda: empty.plot("encounters"),
    )
    for call in calls:
        with pytest.raises(bs.BordersimError) as refused:
            call()
        text = str(refused.value)
        assert "run of 'constructed' has no reported days" in text and "\n" not in text, text
    assert empty.daily().empty  # its daily table is empty, as a narrowed one can be


def test_a_run_without_replications_has_no_kpis_in_one_clear_line() -> None:
    from constructed_runs import constructed_run

    none = bs.Run(constructed_run(replications=0, days=3))
    # kpis() was a table of NaN without a word; compare said "replications must be at least 1
    # ... got 0", though none was given; plot drew a figure of nothing
    calls = (
        none.kpis,
        lambda: bs.compare(none, bs.Run(constructed_run(2, 3))),
        lambda: bs.compare(bs.Run(constructed_run(2, 3)), none),
        lambda: none.plot("encounters"),
    )
    for call in calls:
        with pytest.raises(bs.BordersimError) as refused:
            call()
        text = str(refused.value)
        assert "run of 'constructed' has no replications" in text and "\n" not in text, text
    assert none.daily().empty and none.replications == 0


def test_a_scenario_a_run_and_its_result_show_in_one_line_not_every_value() -> None:
    from constructed_runs import constructed_run

    scenario = bs.load_scenario(SMALL)
    variant = scenario.with_changes({"period.end_date": dt.date(2023, 5, 20)})
    run = bs.Run(constructed_run(2, 3), run_id="constructed-1")
    # a Scenario showed its 6,000 characters of pydantic fields, a Run and its RunResult every
    # date and the start of the daily array
    shown = {
        repr(scenario): "Scenario('small', 2023-04-20 to 2023-05-31 (warm-up 7 days), sectors "
        f"TCA RGV, deployments: troops, from {SMALL.resolve()})",
        str(variant): "Scenario('small', 2023-04-20 to 2023-05-20 (warm-up 7 days), sectors "
        f"TCA RGV, deployments: troops, with period.end_date = 2023-05-20, from "
        f"{SMALL.resolve()})",
        repr(run): "Run('constructed', event engine, seed 1, 2 replications, 2023-05-01 to "
        "2023-05-03, sectors TCA RGV, run id 'constructed-1')",
        repr(run.result): "RunResult('constructed', event engine, seed 1, 2023-05-01 to "
        "2023-05-03, sectors TCA RGV, daily [2 replications, 3 days, 2 sectors, "
        f"{run.result.daily.shape[-1]} metrics])",
        repr(bs.StoredRunView(constructed_run(1, 0))): "StoredRunView('constructed', event "
        "engine, seed 1, 1 replication, no reported days, sectors TCA RGV)",
    }
    for text, expected in shown.items():
        assert text == expected


def test_the_daily_table_and_a_plot_name_the_unit_of_each_value() -> None:
    from bordersim.results.schema import METRIC_UNITS
    from constructed_runs import constructed_run

    run = bs.Run(constructed_run(2, 3))
    # the table had no unit, where bordersim export writes one beside each value, and the
    # plot's axis read "custody_hours_total" alone (person-hours, not people)
    table = run.daily(["encounters", "custody_hours_total", "cost_total_dollars"], sector="RGV")
    assert list(table.columns) == ["replication", "date", "sector", "metric", "value", "unit"]
    units = dict(zip(table["metric"], table["unit"], strict=True))
    assert units == {
        "encounters": "events",
        "custody_hours_total": "person-hours",
        "cost_total_dollars": "dollars",
    }
    everything = run.daily()
    assert (everything["unit"] == everything["metric"].map(METRIC_UNITS)).all()
    pd.testing.assert_frame_equal(everything, run.result.tidy())
    axis = run.plot("custody_hours_total").layout.yaxis.title.text
    assert axis == "custody_hours_total (person-hours)"


def test_load_scenario_refuses_a_folder_as_a_folder_as_run_does(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.toml")
    # load_scenario said "no such scenario file" of a folder that is there, where bs.run and
    # `bordersim scenario check` say what it is
    for given, rule in [
        (tmp_path, "scenario file is a folder, not a file"),
        (tmp_path / "pipe.toml", "scenario file is not a regular file (a FIFO, socket or device)"),
        (tmp_path / "nope.toml", "no such scenario file"),
    ]:
        messages = []
        for call in (bs.load_scenario, lambda p: bs.run(p, engine="flow", replications=1)):
            with pytest.raises(bs.BordersimError) as refused:
                call(given)
            messages.append(str(refused.value))
        assert messages[0] == messages[1] and messages[0].startswith(f"{given}: {rule}")


def test_numpy_values_in_with_changes_are_recorded_as_python_values(tmp_path: Path) -> None:
    changed = bs.load_scenario(SMALL).with_changes(
        {
            "deployments.troops.headcount": np.int64(100),
            "custody.capacity_people": {"RGV": np.float64(3000.0)},
        }
    )
    assert changed.changes == {
        "deployments.troops.headcount": 100,
        "custody.capacity_people.RGV": 3000.0,
    }
    assert [type(v) for v in changed.changes.values()] == [int, float]
    # a sweep of it with a store failed with "TypeError: Object of type int64 is not JSON
    # serializable" and a traceback, recording the changes for --resume
    grid = bs.sweep(
        changed, {"deployments.troops.ramp_up_days": [1]}, replications=1, store=tmp_path / "s.db"
    )
    assert set(grid["deployments.troops.ramp_up_days"]) == {1}


@pytest.mark.parametrize(
    "sectors", [("RGV", "TCA"), np.array(["RGV", "TCA"])], ids=["tuple", "numpy-array"]
)
def test_a_tuple_or_an_array_in_with_changes_is_taken_as_a_list(sectors: object) -> None:
    # was refused as "sectors = tuple: Input should be a valid list", the validator's words,
    # though a tuple or an array of values is a list as a scenario file holds one
    changed = bs.load_scenario(SMALL).with_changes({"sectors": sectors})
    assert changed.sectors == ["RGV", "TCA"]
    assert changed.changes == {"sectors": ["RGV", "TCA"]}
    assert all(type(code) is str for code in changed.changes["sectors"])


EMPTY_STORE = (
    "store is empty (an unset variable?); name the store, or leave store out (None) for the "
    "default ($BORDERSIM_STORE, else ./.bordersim/bordersim.duckdb)"
)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bs.run(SMALL, engine="flow", replications=1, store=""), EMPTY_STORE),
        (
            lambda: bs.run(SMALL, engine="flow", replications=1, record=True, out=" "),
            "out is empty (an unset variable?); give a path",
        ),
        (lambda: bs.open_run("small-20230511-120000-ab12", store=""), EMPTY_STORE),
        (lambda: bs.sweep(SMALL, {"deployments.troops.headcount": [0]}, store=""), EMPTY_STORE),
    ],
    ids=["run-store", "run-out", "open_run-store", "sweep-store"],
)
def test_an_empty_store_or_out_is_refused_as_the_cli_refuses_it(
    call: Callable[[], object], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # store="" (an unset variable) recorded in the default store, and out="" wrote report.html
    # into the current folder, where `bordersim run --store "" / --out ""` refuses them
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BORDERSIM_STORE", raising=False)
    with pytest.raises(bs.BordersimError) as refused:
        call()
    assert str(refused.value) == message
    assert not list(tmp_path.iterdir()), "something was written"


def test_dir_and_help_of_the_package_list_the_api() -> None:
    import pydoc

    # the API is imported on first use, so dir(bordersim) (a notebook's completion) and
    # help(bordersim) listed none of it: help showed only __getattr__
    assert set(bs.__all__) <= set(dir(bs))
    text = pydoc.render_doc(bs, renderer=pydoc.plaintext)
    for shown in ("load_scenario(path", "run(scenario", "sweep(scenario", "class Run", "open_run("):
        assert shown in text, shown


def test_a_sector_of_the_wrong_kind_or_case_is_one_clear_line() -> None:
    from constructed_runs import constructed_run

    run = bs.Run(constructed_run(2, 3))
    # a list was "sector ['RGV', 'TCA'] is not in run of 'constructed'", though both are
    calls = {
        lambda: run.daily(sector=["RGV", "TCA"]): "got list ['RGV', 'TCA']; for several, leave "
        "it out and narrow the table by its sector column",
        lambda: run.metric("encounters", sector=5): "sector must be one code of the run's "
        "sectors (TCA, RGV), a str, or None for all, got int 5",
        lambda: run.plot("encounters", sector="rgv"): "sector 'rgv' is not in run of "
        "'constructed' (did you mean 'RGV'?); its sectors are: TCA, RGV",
    }
    for call, message in calls.items():
        with pytest.raises(bs.BordersimError) as refused:
            call()
        assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_scenario_changed_in_place_is_refused_not_simulated_under_its_old_hash() -> None:
    scenario = bs.load_scenario(SMALL)
    scenario.check_unchanged()  # as loaded
    # its fields are frozen, their lists and tables were not: sectors.append("RGV") simulated RGV
    # twice, unvalidated, recorded under the hash and resolved text of the scenario as loaded
    scenario.sectors.append("RGV")
    troops = bs.load_scenario(SMALL)
    troops.deployments["troops"].tasks.remove("intake")
    calls = [
        (
            lambda: bs.run(scenario, engine="flow", replications=1),
            'sectors = ["TCA", "RGV", "RGV"]',
        ),
        (
            lambda: bs.sweep(scenario, {"deployments.troops.headcount": [0]}, replications=1),
            "was sectors = ",
        ),
        (
            lambda: bs.compare(bs.load_scenario(SMALL), troops, engine="flow", replications=1),
            '[deployments.troops] tasks = ["detection", "warehouse"], was tasks = ["detection", '
            '"intake", "warehouse"]',
        ),
    ]
    for call, shown in calls:
        with pytest.raises(bs.BordersimError) as refused:
            call()
        text = str(refused.value)
        assert "this Scenario was changed in place after it was loaded" in text, text
        assert shown in text and "with_changes" in text and "\n" not in text, text


def test_setting_a_value_of_a_scenario_is_one_clear_line() -> None:
    scenario = bs.load_scenario(SMALL)
    # pydantic's multi-line ValidationError, "Instance is frozen", not a BordersimError
    for call, name in [
        (lambda: setattr(scenario, "name", "other"), "name of a Scenario"),
        (lambda: setattr(scenario.period, "warmup_days", 3), "warmup_days of a Period"),
        (lambda: delattr(scenario.deployments["troops"], "pool"), "pool of a Deployment"),
    ]:
        with pytest.raises(bs.BordersimError) as refused:
            call()
        assert str(refused.value) == (
            f"cannot set {name}: a scenario is immutable once validated; "
            "scenario.with_changes({key path: value}) gives a validated copy"
        )
    assert scenario.name == "small" and scenario.period.warmup_days == 7


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"custody.standard_hours": "72"}, "must be a number, not a str: 72"),
        ({"custody.standard_hours": "72 hours"}, "not a str, without its unit"),
        ({"period.end_date": "2023-05-31"}, "not a str: datetime.date(2023, 5, 31)"),
        ({"period.end_date": dt.datetime(2023, 5, 31)}, "datetime.date(2023, 5, 31)"),
        ({"policy.release_valve.enabled": "yes"}, "must be True or False, not a str: True"),
        ({"name": 5}, "must be a str: '5'"),
        ({"sectors": "RGV"}, "must be a list, such as ['RGV']"),
        ({"deployments": [{"pool": "active_duty"}]}, "a dict {name: {key: value}}"),
        ({"custody.capacity_people": 5}, "is a table: give a dict {key: value}, not an int"),
        ({"period": "2023"}, "period is a table: give a dict {key: value}, not a str"),
        ({"period.warmup_days": 3.5}, "must be a whole number (an int), not a float"),
        ({"policy.release_valve.enabled": 1}, "must be True or False, not an int"),
        ({"custody.standard_hours": [72]}, "must be a number, not a list"),
    ],
)
def test_with_changes_refusals_say_the_python_value_to_pass(
    changes: dict[str, object], said: str
) -> None:
    with pytest.raises(bs.BordersimError) as refused:
        bs.load_scenario(SMALL).with_changes(changes)
    text = str(refused.value)
    assert said in text and "TOML" not in text and "\n" not in text, text


def test_set_on_the_command_line_still_says_how_toml_writes_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["run", str(SMALL), "-r", "1", "--set", 'custody.standard_hours="72"'])
    assert "a number is written without quotes in TOML" in capsys.readouterr().err


def test_a_count_of_thousands_is_written_with_a_thousands_separator() -> None:
    from bordersim.words import counted
    from constructed_runs import constructed_run

    # a run of 2,000 replications showed "2000 replications", where bordersim writes 2,000
    run = bs.Run(constructed_run(replications=2000, days=2))
    assert "seed 1, 2,000 replications, 2023-05-01" in repr(run)
    assert "(2,000 replications, event engine)" in run.plot("encounters").layout.title.text
    assert counted(2000, "variant") == "2,000 variants"
    assert counted(1, "variant") == "1 variant" and counted(999, "run") == "999 runs"


def test_an_empty_run_id_is_refused_as_bordersim_report_refuses_it() -> None:
    # open_run("") (an unset variable) looked the id up and said "no run '' in this store"
    for empty in ("", " \n"):
        with pytest.raises(bs.BordersimError) as refused:
            bs.open_run(empty)
        assert str(refused.value) == (
            "run_id is empty (an unset variable?); give a run id (see bordersim runs)"
        )


def test_a_run_id_and_a_store_pasted_with_spaces_are_the_run_and_store(
    cli_run: tuple[Path, str],
) -> None:
    # " small-...\n" was "no run ' small-...\n'" and "store.duckdb " "no store here", naming
    # the store's path without the space; `bordersim report` takes both without the spaces
    store, run_id = cli_run
    opened = bs.open_run(f" {run_id}\n", store=f" {store} ")
    assert opened.run_id == run_id and opened.replications == REPLICATIONS


def test_a_run_result_of_one_replication_and_one_day_shows_them_singular() -> None:
    from constructed_runs import constructed_run

    # repr was "daily [1 replications, 1 days, ...]", where the Run beside it said 1 replication
    shown = repr(constructed_run(replications=1, days=1))
    assert "daily [1 replication, 1 day, 2 sectors, " in shown, shown
    assert "[1,000 replications, " in repr(constructed_run(replications=1000, days=1))


def test_a_scenario_can_be_a_dict_key_or_kept_in_a_set() -> None:
    # hash(scenario) was "TypeError: unhashable type: 'list'" from inside pydantic, though a
    # Scenario is immutable and a Run can be a dict key
    scenario, again = bs.load_scenario(SMALL), bs.load_scenario(SMALL)
    variant = scenario.with_changes({"deployments.troops.headcount": 0})
    runs_by_scenario = {scenario: "base", variant: "no troops"}
    assert runs_by_scenario[again] == "base" and len({scenario, again, variant}) == 2


def test_a_run_id_given_to_compare_is_named_with_its_side_and_the_call_that_opens_it() -> None:
    # said "small-...: no such scenario file", not which side, nor that a stored run is
    # compared as bs.open_run(...), where `bordersim compare` takes the id itself
    run_id = "small-20230511-120000-ab12"
    with pytest.raises(bs.BordersimError) as refused:
        bs.compare(SMALL, run_id, replications=1, engine="flow")
    assert str(refused.value) == (
        f"b: {run_id}: no such scenario file (for a stored run, give bs.open_run({run_id!r}))"
    )
    with pytest.raises(bs.BordersimError) as refused:
        bs.compare("missing.toml", SMALL, replications=1, engine="flow")
    assert str(refused.value) == "a: missing.toml: no such scenario file"


def test_an_unknown_key_path_of_a_change_is_told_every_top_level_key() -> None:
    """vary={"nope": [...]} was told "the top-level values are name, description, sectors, base,
    remove": a key path names a key in a table far more often than one of those five, and the
    tables it could go into were not named. A key path given by a change (bs.sweep's vary,
    with_changes, as `--set` and `--vary` give it) is told every key it could start with."""
    every_key = (
        "the top-level keys are name, description, sectors, period, policy, demand, detection, "
        "processing, custody, departures, staff, deployments, supplies, health, cost, targets, "
        "base, remove"
    )
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(SMALL, vary={"nope": [1, 2]}, replications=2)
    shown = str(refused.value)
    assert shown == f"vary nope=1: {SMALL}: nope = 1: unknown key; {every_key}", shown
    with pytest.raises(bs.BordersimError) as refused:
        bs.load_scenario(SMALL).with_changes({"zzz": "minimal"})
    assert str(refused.value).endswith(f"zzz = 'minimal': unknown key; {every_key}")


def test_a_key_path_pasted_with_spaces_around_it_is_taken_without_them() -> None:
    """vary={" deployments.troops.headcount ": [...]} was refused as '" deployments" = a table:
    unknown key (did you mean 'deployments'?)', where `bordersim sweep --vary` takes the key
    pasted with spaces around it, as store= is taken; so was with_changes."""
    sc = bs.load_scenario(SMALL)
    changed = sc.with_changes({"\tdeployments.troops.headcount \n": 0})
    assert changed.deployments["troops"].headcount == 0
    assert changed == sc.with_changes({"deployments.troops.headcount": 0})
    grid = bs.sweep(sc, vary={" deployments.troops.headcount ": [0, 300]}, replications=2)
    assert grid.equals(
        bs.sweep(sc, vary={"deployments.troops.headcount": [0, 300]}, replications=2)
    )
    with pytest.raises(bs.BordersimError, match=r"cannot set ' *': the key path is empty"):
        sc.with_changes({"  ": 0})


@pytest.mark.parametrize(
    "progress",
    [lambda *reported: None, lambda done, total, extra=None: None, print],
)
def test_a_progress_that_takes_two_numbers_is_called_with_them(
    progress: Callable[..., None],
) -> None:
    # any function that takes (done, total) is taken, and so is one whose signature is unread
    run = bs.run(SMALL, replications=1, engine="flow", progress=progress)
    assert run.replications == 1


def test_a_plan_progress_that_cannot_take_a_message_is_refused_before_planning() -> None:
    # it was a bare TypeError (<lambda>() takes 0 positional arguments but 1 was given) once
    # the plan had started
    with pytest.raises(bs.BordersimError) as refused:
        bs.plan(SMALL, REPO / "plans/examples/small-stress.toml", progress=lambda: None)
    assert str(refused.value) == (
        "progress is called as progress(message), with each stage's message; the function "
        "given, <lambda>(), cannot take it"
    )


def test_a_plans_evaluation_shows_as_one_line_not_every_array() -> None:
    # result.base.evaluation in a notebook printed every replication's value of every target,
    # sector and week (thousands of characters); it is one line, as result.base is
    from bordersim.planner.targets import Evaluation

    shape = (4, 3, 2, 6)  # replications, targets, sectors, weeks
    holds = np.ones(shape, dtype=bool)
    holds[0, 0, 1, 5] = False
    evaluation = Evaluation(
        values=np.zeros(shape),
        holds=holds,
        active=np.array([True, True, False]),
        level=np.array([0.95, 0.9, 0.3]),
        at_most=np.array([False, False, True]),
    )
    shown = repr(evaluation)
    assert shown == (
        "Evaluation(within_72h at least 0.95, children_within_72h at least 0.9; held in 95 of "
        "96 replication-sector-weeks; 4 replications, 2 sectors, 6 weeks)"
    )
    assert str(evaluation) == shown


def test_a_run_or_sweep_of_something_not_a_scenario_names_the_scenario_argument() -> None:
    # said "expected a Scenario ... got NoneType", naming no argument, where a wrong store= or
    # a compare side is named; a Run given to sweep is told to give the scenario it ran
    from constructed_runs import constructed_run

    with pytest.raises(bs.BordersimError) as refused:
        bs.run(None, replications=1, engine="flow")  # type: ignore[arg-type]
    assert str(refused.value) == (
        "scenario must be a Scenario (bs.load_scenario) or a scenario file path, got NoneType None"
    )
    with pytest.raises(bs.BordersimError) as refused:
        bs.sweep(bs.Run(constructed_run(2, 3)), {"deployments.troops.headcount": [0]})  # type: ignore[arg-type]
    assert str(refused.value).startswith(
        "scenario must be a Scenario (bs.load_scenario) or a scenario file path, got Run('"
    )
    assert str(refused.value).endswith("; a Run is not a scenario: give the one it was run from")
