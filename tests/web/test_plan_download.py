"""A plan's plan.toml, downloaded from the workbench, runs wherever it is saved: its base scenario
is named by its absolute path (on a shared workbench, by its path in the scenario folder, naming
none of the server's folders), while the plan.toml beside the plan keeps the relative base that
`bordersim plan` writes."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bordersim.compiler import compile_scenario
from bordersim.planner import load_plan
from bordersim.planner.output import plan_toml
from bordersim.planner.problem import build_problem
from bordersim.scenario import load_scenario
from bordersim.web.app import create_app
from bordersim.web.settings import WebSettings
from repo_paths import REPO

TOKEN = "a-long-shared-token-0123456789"
PLAN_ID = "small-plan-20260101-000000-abcdef"


def _workbench_with_a_plan(root: Path, token: str | None = None) -> WebSettings:
    """A workbench under `root` with one finished plan of examples/small.toml in out/plans/,
    its plan.toml written as `bordersim plan` writes it there."""
    scenarios = root / "scenarios"
    shutil.copytree(REPO / "scenarios", scenarios, ignore=shutil.ignore_patterns("variants"))
    settings = WebSettings(
        scenarios_dir=scenarios, store=root / "store.duckdb", out_dir=root / "out", token=token
    )
    base = scenarios / "examples" / "small.toml"
    problem = build_problem(
        compile_scenario(load_scenario(base)), load_plan(REPO / "plans/examples/small-stress.toml")
    )
    x = np.zeros(problem.shape)
    x[0, :, :] = [[30, 60, 60], [200, 400, 100]]
    folder = settings.plans_out / PLAN_ID
    folder.mkdir(parents=True)
    (folder / "plan.toml").write_text(plan_toml(problem, x, base, folder, "small-plan", "a plan"))
    (folder / "certificate.json").write_text("{}")
    return settings


def _runs_from(saved: Path) -> None:
    model = compile_scenario(load_scenario(saved))
    assert any(name.startswith("deployment plan_") for name in model.crew_names)


def test_the_downloaded_plan_runs_where_it_is_saved(tmp_path: Path) -> None:
    """The download named its base relative to out/plans/PLAN/ (`../../../scenarios/...`):
    saved anywhere else, `bordersim run` could not find the base scenario."""
    settings = _workbench_with_a_plan(tmp_path / "server")
    on_disk = (settings.plans_out / PLAN_ID / "plan.toml").read_text()
    with TestClient(create_app(settings, start_worker=False)) as client:
        reply = client.get(f"/plans/{PLAN_ID}/plan.toml")
    assert reply.status_code == 200
    assert reply.headers["content-disposition"] == f'attachment; filename="{PLAN_ID}-plan.toml"'
    saved = tmp_path / "downloads" / f"{PLAN_ID}-plan.toml"
    saved.parent.mkdir()
    saved.write_text(reply.text)
    _runs_from(saved)
    base = tomllib.loads(reply.text)["base"]
    assert base == (settings.scenarios_dir / "examples" / "small.toml").resolve().as_posix()
    # the file beside the plan is as the planner wrote it, and still runs there
    assert (settings.plans_out / PLAN_ID / "plan.toml").read_text() == on_disk
    assert tomllib.loads(on_disk)["base"] == "../../../scenarios/examples/small.toml"
    _runs_from(settings.plans_out / PLAN_ID / "plan.toml")


def test_a_shared_workbench_names_the_base_in_its_scenario_folder(tmp_path: Path) -> None:
    settings = _workbench_with_a_plan(tmp_path / "server", token=TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings, start_worker=False)) as client:
        reply = client.get(f"/plans/{PLAN_ID}/plan.toml", headers=headers)
    assert reply.status_code == 200
    assert tomllib.loads(reply.text)["base"] == "examples/small.toml"
    assert str(tmp_path) not in reply.text and "../" not in reply.text
    assert "save this file in that folder" in reply.text
    copy = tmp_path / "my-scenarios"  # the user's copy of the scenario folder
    shutil.copytree(REPO / "scenarios", copy, ignore=shutil.ignore_patterns("variants"))
    (copy / f"{PLAN_ID}-plan.toml").write_text(reply.text)
    _runs_from(copy / f"{PLAN_ID}-plan.toml")


@pytest.mark.parametrize("text", ["not toml = [", 'name = "no base"\n'])
def test_a_plan_toml_without_a_readable_base_downloads_as_it_is(tmp_path: Path, text: str) -> None:
    settings = _workbench_with_a_plan(tmp_path)
    (settings.plans_out / PLAN_ID / "plan.toml").write_text(text)
    with TestClient(create_app(settings, start_worker=False)) as client:
        assert client.get(f"/plans/{PLAN_ID}/plan.toml").text == text
