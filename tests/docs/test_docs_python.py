"""Every Python example of the README and docs/ runs in the tests as written and gives what its
comments say. The pages whose examples other test files run are listed with those files; an
example added to any page without a test here or there fails `test_every_example_has_a_test`.

The examples use the shipped scenarios by their relative paths, so each runs in a fresh folder
that links `scenarios/` and keeps what it writes (store, reports) apart from the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from doc_pages import PAGES, blocks
from repo_paths import REPO

#: Pages whose examples this file runs, with how many each has.
RUN_HERE = {
    "README.md": 1,
    "docs/calibration.md": 1,
    "docs/event-engine.md": 1,
    "docs/flow-engine.md": 1,
    "docs/scaling.md": 2,  # the second (SLURM) is compiled only: no SLURM cluster here
    "docs/scenarios.md": 1,
}
#: Pages whose examples another test file runs, with how many each has.
RUN_ELSEWHERE = {
    "docs/api.md": ("tests/api/test_docs_examples.py", 6),
    "docs/event-core.md": ("tests/event_core/test_event_core_docs.py", 1),
    "docs/extending.md": ("tests/docs/test_extending.py", 11),  # edit blocks, applied to src/
    "docs/forecast.md": ("tests/forecast/test_forecast_docs.py", 1),
}


def examples(page: str) -> list[str]:
    return blocks(page, "python")


def run_example(page: str, index: int = 0, replace: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one example (with `replace`'s substitutions) and return its names."""
    code = examples(page)[index]
    for old, new in (replace or {}).items():
        assert old in code, f"{page}: the example no longer says {old!r}"
        code = code.replace(old, new)
    namespace: dict[str, Any] = {}
    exec(compile(code, f"{REPO / page}:example{index + 1}", "exec"), namespace)
    return namespace


@pytest.fixture
def in_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERSIM_STORE", str(tmp_path / "store.duckdb"))
    yield tmp_path


def test_every_example_has_a_test() -> None:
    found = {page: len(examples(page)) for page in PAGES if examples(page)}
    expected = {**RUN_HERE, **{page: count for page, (_, count) in RUN_ELSEWHERE.items()}}
    assert found == expected, "a page's Python examples changed: run each in a test, list it here"
    for page, (test_file, _) in RUN_ELSEWHERE.items():
        assert page.removeprefix("docs/") in (REPO / test_file).read_text(encoding="utf-8")


def test_the_calibration_example(
    in_a_fresh_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = run_example("docs/calibration.md")
    assert names["first"].shape == (31, 2, 9)
    assert names["shares"].shape == (31, 9, 5)
    assert np.allclose(names["shares"].sum(axis=2), 1.0)
    assert "date 2031-01-01 is outside the calibration" in capsys.readouterr().out


def test_the_scenarios_example(in_a_fresh_folder: Path) -> None:
    names = run_example("docs/scenarios.md")
    scenario, bigger = names["scenario"], names["bigger"]
    assert type(names["model"]).__name__ == "CompiledModel"
    assert bigger.deployments["title42_active_duty"].headcount == 3000
    assert scenario.deployments["title42_active_duty"].headcount == 1500  # the copy is new
    assert scenario.hash != bigger.hash
    assert "on_duty_fraction" in scenario.resolved_text
    assert "GAO-18-50" in scenario.sources["staff.pools.agent.on_duty_fraction"]


def test_the_event_engine_example(in_a_fresh_folder: Path) -> None:
    names = run_example("docs/event-engine.md")
    encounters = names["result"].metric("encounters")
    assert encounters.shape[0] == 20 and encounters.shape[2] == 9
    assert encounters.sum() > 0


@pytest.mark.slow
def test_the_flow_engine_example(in_a_fresh_folder: Path) -> None:
    names = run_example("docs/flow-engine.md")
    result = names["result"]
    assert result.metric("encounters").shape == (100, 153, 9)
    assert {"compile_s", "run_s", "replications_per_s", "chunk_replications"} <= set(result.timings)


@pytest.mark.slow
def test_the_readme_example(in_a_fresh_folder: Path) -> None:
    names = run_example("README.md")
    run, stored = names["run"], names["stored"]
    assert run.run_id is None and stored.run_id  # stored only when asked
    assert stored.report_path is not None and stored.report_path.is_file()
    kpis = run.kpis()
    assert {"indicator", "mean", "low", "high", "unit"} <= set(kpis.columns)
    assert list(run.daily().columns) == ["replication", "date", "sector", "metric", "value", "unit"]
    # the stored run, read back, is the run that was stored
    reopened = names["bs"].open_run(stored.run_id)
    assert np.array_equal(reopened.result.daily, stored.result.daily, equal_nan=True)


@pytest.mark.slow
def test_the_scaling_example_on_a_running_scheduler(in_a_fresh_folder: Path) -> None:
    """The example joins a scheduler someone started: here a local one, at its own address."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        names = run_example(
            "docs/scaling.md",
            replace={"tcp://scheduler.example.org:8786": cluster.scheduler_address},
        )
    table = names["table"]
    assert sorted(set(table["deployments.troops.headcount"])) == [0, 300, 600]
    assert (table["n"] == 20).all()


def test_the_slurm_example_compiles() -> None:
    code = examples("docs/scaling.md")[1]
    assert "SLURMCluster(" in code
    compile(code, "docs/scaling.md:example2", "exec")
