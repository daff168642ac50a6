"""A report rewritten from the store equals the original; each run keeps its own report folder."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pytest

from bordersim.cli import main
from bordersim.store import open_store
from bordersim.store.runs import list_runs, load_result
from repo_paths import SCENARIOS

SMALL = SCENARIOS / "examples" / "small.toml"


def _run_ids(store: Path) -> list[str]:
    with open_store(store) as connection:
        return [run.run_id for run in list_runs(connection)]


def _small_on_calibration(artifact: Path) -> Path:
    """The small example beside `artifact`, naming it as its calibration by a relative path."""
    scenario = artifact.parent / "small.toml"
    scenario.write_text(
        SMALL.read_text(encoding="utf-8").replace(
            'sectors = ["TCA", "RGV"]\n',
            f'sectors = ["TCA", "RGV"]\ndemand.calibration = "{artifact.name}"\n',
            1,
        ),
        encoding="utf-8",
    )
    return scenario


def test_a_regenerated_report_is_identical_to_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # reports go to ./out/<scenario>/<run id>/
    store = tmp_path / "store.duckdb"
    main(["run", str(SMALL), "-r", "2", "--store", str(store)])
    [run_id] = _run_ids(store)
    original = tmp_path / "out" / "small" / run_id / "report.html"
    assert os.readlink(tmp_path / "out" / "small" / "latest") == run_id
    main(["report", run_id, "--out", str(tmp_path / "again"), "--store", str(store)])
    regenerated = (tmp_path / "again" / "report.html").read_text(encoding="utf-8")
    text = original.read_text(encoding="utf-8")
    assert regenerated == text
    # The run's details name the scenario file it came from, absolute as given (they named none).
    assert f"<td>scenario file</td><td>{html.escape(str(SMALL.absolute()))}</td>" in text
    # The demand fit and calibration keep their sources; no temporary path is printed.
    assert "scenario file scenario.toml" not in text and "/tmp" not in text.replace(
        str(tmp_path), ""
    ).replace(str(SMALL.absolute()), "")


def test_a_run_on_its_own_calibration_is_rewritten_against_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario naming its calibration by a path relative to itself: the run's report, its
    rewrite from the store (from another folder) and the workbench's rebuild and dashboard all
    validate against that artifact's official counts (here twice the shipped ones)."""
    import json

    from bordersim.calibration import SHIPPED_ARTIFACT
    from bordersim.services.loading import load_and_compile
    from bordersim.services.record import simulate_loaded, stored_calibration
    from bordersim.web.dashboards import run_dashboard
    from bordersim.web.recording import record_simulated

    artifact = json.loads(SHIPPED_ARTIFACT.read_text(encoding="utf-8"))
    artifact["sector_encounters"] = [
        [count * 2 for count in month] for month in artifact["sector_encounters"]
    ]
    own = tmp_path / "scenarios" / "own-calibration.json"
    own.parent.mkdir()
    own.write_text(json.dumps(artifact), encoding="utf-8")
    scenario = _small_on_calibration(own)
    store = tmp_path / "store.duckdb"
    main(["run", str(scenario), "-r", "2", "--out", str(tmp_path / "first"), "--store", str(store)])
    [run_id] = _run_ids(store)
    monkeypatch.chdir(tmp_path / "first")  # elsewhere than the scenario
    main(["report", run_id, "--out", str(tmp_path / "again"), "--store", str(store)])
    original = (tmp_path / "first" / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "again" / "report.html").read_text(encoding="utf-8") == original
    with open_store(store) as connection:
        assert stored_calibration(connection, run_id) == str(own)
        result = load_result(connection, run_id)
    official_may = f"{2 * _shipped_may_tucson():,}"
    assert f'<td>TCA</td><td>2023-05</td><td class="num">{official_may}</td>' in original
    view = run_dashboard(result, sector="all", month="all", calibration=str(own))
    assert ["TCA", "2023-05", official_may] == view.validation[0][:3]
    # The workbench records a run it simulated the same way.
    loaded = load_and_compile(scenario)
    simulated = simulate_loaded(loaded, engine="event", replications=2, seed=1)
    with open_store(store) as connection:
        web_run = record_simulated(connection, loaded, simulated, out_root=tmp_path / "web")
        assert stored_calibration(connection, web_run) == str(own)
    web_report = (tmp_path / "web" / "small" / web_run / "report.html").read_text(encoding="utf-8")
    assert f'<td>TCA</td><td>2023-05</td><td class="num">{official_may}</td>' in web_report


def _shipped_may_tucson() -> int:
    from datetime import date

    from bordersim.model.dimensions import Sector
    from bordersim.validation.reference import load_official_monthly

    official, _ = load_official_monthly()
    assert official is not None
    return int(official(Sector.TCA)[date(2023, 5, 1)])


def test_a_run_on_the_other_engine_keeps_the_earlier_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "store.duckdb"
    main(["run", str(SMALL), "-r", "2", "--store", str(store)])
    main(["run", str(SMALL), "-r", "2", "--engine", "flow", "--store", str(store)])
    first, second = _run_ids(store)
    folder = tmp_path / "out" / "small"
    assert (folder / first / "report.html").is_file()
    assert (folder / second / "report.html").is_file()
    assert os.readlink(folder / "latest") == second


def test_set_changes_the_scenario_of_a_run(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    main(
        ["run", str(SMALL), "-r", "1", "--set", "demand.scale=1.3", "--out", str(tmp_path / "o"),
         "--store", str(store)]
    )  # fmt: skip
    with open_store(store) as connection:
        [(text,)] = connection.execute("SELECT scenario_text FROM runs").fetchall()
    assert "scale = 1.3" in text


def test_a_bad_set_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(SMALL), "--set", "demand.scael=2", "--store", str(tmp_path / "s.duckdb")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "--set demand.scael=2" in err and len(err.splitlines()) == 1


def test_a_bad_date_set_is_named_as_typed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The option is repeated as the user typed it, not as Python's datetime.date(2023, 4, 1)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(SMALL), "--set", "period.end_date=2023-04-01",
              "--store", str(tmp_path / "s.duckdb")])  # fmt: skip
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --set period.end_date=2023-04-01: ")
    assert "datetime" not in err and "before start_date" in err and len(err.splitlines()) == 1


def test_a_set_value_refused_when_compiled_is_named_as_the_set_not_as_a_line_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --set value that the compiler refuses (a date the calibration does not cover) is named
    as the --set that gave it, not as the line of the file that holds the value it replaced."""
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(SMALL), "--set", "period.start_date=1990-01-01",
              "--store", str(tmp_path / "s.duckdb")])  # fmt: skip
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: --set period.start_date=1990-01-01: period.start_date = ")
    assert "before the calibration" in err
    assert "small.toml" not in err and "line" not in err
    assert not (tmp_path / "s.duckdb").exists()


def test_settings_that_belong_together_are_checked_together() -> None:
    from bordersim.errors import ScenarioError
    from bordersim.scenario import load_scenario
    from bordersim.services.loading import apply_settings, parse_setting

    base = load_scenario(SMALL)
    together = dict(
        parse_setting(option)
        for option in ("demand.forecast.origin=2023-04", "demand.forecast.quantile=0.9")
    )
    forecast = apply_settings(base, together).demand.forecast
    assert forecast is not None and forecast.quantile == 0.9  # a new table, both its keys at once
    with pytest.raises(ScenarioError) as refused:
        apply_settings(base, {"demand.forecast.origin": "2023-04"})
    message = str(refused.value)
    assert message.startswith("--set demand.forecast.origin=2023-04: ")
    assert "demand.forecast.quantile: required key is missing" in message


def test_report_into_a_file_is_one_line_and_leaves_the_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bordersim report RUN --out FILE` is refused with one line naming --out, exit status 2,
    and the file is kept as it was (it was a FileExistsError traceback)."""
    store = tmp_path / "store.duckdb"
    main(["run", str(SMALL), "-r", "1", "--out", str(tmp_path / "o"), "--store", str(store)])
    [run_id] = _run_ids(store)
    capsys.readouterr()
    mine = tmp_path / "notes.txt"
    mine.write_text("the user's", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", run_id, "--out", str(mine), "--store", str(store)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert str(mine) in err and "not a folder" in err and len(err.splitlines()) == 1
    assert mine.read_text(encoding="utf-8") == "the user's"


def test_a_report_rewritten_after_its_calibration_file_changed_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calibration kept with a run was its path only: `bordersim report` after the file
    changed validated against the new counts, as if the run had used them. The run keeps the
    file's sha256 too; a changed file gives no validation and says why, and the run's own file
    put back gives the report byte for byte again."""
    import json

    from bordersim.calibration import SHIPPED_ARTIFACT
    from bordersim.store.runs import run_context
    from bordersim.web.dashboards import run_dashboard

    own = tmp_path / "own-calibration.json"
    original = SHIPPED_ARTIFACT.read_text(encoding="utf-8")
    own.write_text(original, encoding="utf-8")
    scenario = _small_on_calibration(own)
    store = tmp_path / "store.duckdb"
    run = ["run", str(scenario), "--engine", "flow", "-r", "2", "--store", str(store)]
    main([*run, "--out", str(tmp_path / "first")])
    [run_id] = _run_ids(store)
    first = (tmp_path / "first" / "report.html").read_text(encoding="utf-8")
    artifact = json.loads(original)
    artifact["sector_encounters"] = [
        [n * 2 for n in month] for month in artifact["sector_encounters"]
    ]
    own.write_text(json.dumps(artifact), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    main(["report", run_id, "--out", str(tmp_path / "changed"), "--store", str(store)])
    changed = (tmp_path / "changed" / "report.html").read_text(encoding="utf-8")
    assert "has changed since the run" in changed and changed != first
    with open_store(store) as connection:
        kept = run_context(connection, run_id)
        result = load_result(connection, run_id)
    assert kept is not None and kept.calibration_sha256 is not None
    view = run_dashboard(
        result,
        sector="all",
        month="all",
        calibration=str(own),
        calibration_sha256=kept.calibration_sha256,
    )
    assert "has changed since the run" in view.validation_note
    own.write_text(original, encoding="utf-8")
    main(["report", run_id, "--out", str(tmp_path / "again"), "--store", str(store)])
    assert (tmp_path / "again" / "report.html").read_text(encoding="utf-8") == first


def test_a_stored_scenario_that_no_longer_loads_is_named_as_the_stored_scenario() -> None:
    # the note of a report rewritten from an older run named the temporary copy it was loaded
    # from ("/tmp/tmpbo8lf4_v/scenario.toml: period.start_date: ..."), a file the user never had
    from bordersim.services.loading import sources_from_text

    sources, note = sources_from_text('[scenario]\nname = "x"\n')
    assert sources == {}
    assert note == (
        "The stored scenario no longer loads with this bordersim (the stored scenario text: "
        "period.start_date: required key is missing)."
    )


def test_a_report_into_the_store_s_results_folder_is_refused_as_an_export_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `report RUN --out STORE.results` wrote report.html among the runs' result files, where
    # `export --out` into the same folder is refused
    store = tmp_path / "s.duckdb"
    main(["run", str(SMALL), "-r", "1", "--store", str(store), "--out", str(tmp_path / "first")])
    [run_id] = _run_ids(store)
    results = tmp_path / "s.results"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", run_id, "--out", str(results), "--store", str(store)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {results}: --out is inside the store's results folder, which holds its runs' "
        "results; write the report elsewhere"
    )
    assert not (results / "report.html").exists()
