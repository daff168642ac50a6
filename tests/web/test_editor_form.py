"""The variant editor's form as a browser posts it: the fields of the page the workbench serves,
with boxes left unticked posting nothing (no browser: the form is read from the page's HTML)."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bordersim.web.app import create_app
from bordersim.web.settings import WebSettings
from repo_paths import REPO


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    scenarios = tmp_path / "scenarios"
    shutil.copytree(REPO / "scenarios", scenarios, ignore=shutil.ignore_patterns("variants"))
    settings = WebSettings(
        scenarios_dir=scenarios, store=tmp_path / "store.duckdb", out_dir=tmp_path / "out"
    )
    with TestClient(create_app(settings, start_worker=False)) as test_client:
        yield test_client


class _Fields(HTMLParser):
    """What a browser submits from the page's variant form: each input's name and value (a box
    only when ticked), and each select's chosen option."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option: bool | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = found.get("name")
        if tag == "input" and name:
            if found.get("type") in ("checkbox", "radio") and "checked" not in found:
                return
            self.fields.append((name, found.get("value") or ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._option = "selected" in found
            self._options.append(("", self._option))

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            text, selected = self._options[-1]
            self._options[-1] = (text + data, selected)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = [text for text, selected in self._options if selected] or [self._options[0][0]]
            self.fields.append((self._select, chosen[0].strip()))
            self._select = None


def _posted(client: TestClient, scenario_id: str) -> list[tuple[str, str]]:
    parser = _Fields()
    parser.feed(client.get(f"/scenarios/{scenario_id}").text)
    return parser.fields


def test_unticking_every_task_of_a_deployment_is_refused_beside_its_tasks(
    client: TestClient, tmp_path: Path
) -> None:
    """With every task of `troops` unticked the browser posts no tasks field: the variant kept
    small.toml's tasks and saved. A deployment must have a task: it is refused beside the boxes,
    and nothing is saved."""
    fields = [(k, v) for k, v in _posted(client, "examples.small") if k != "variant_name"]
    ticked = [v for k, v in fields if k == "deployments.troops.tasks" and v]
    assert ticked == ["detection", "intake", "warehouse"]
    untick = [(k, v) for k, v in fields if not (k == "deployments.troops.tasks" and v)]
    form = [*untick, ("variant_name", "no-tasks")]
    check = client.post("/scenarios/examples.small/check", data=_grouped(form))
    assert check.status_code == 200
    beside = 'data-field="deployments.troops.tasks" role="alert" hx-swap-oob="true">'
    says = "deployments.troops.tasks = []: a deployment must name at least one task"
    assert beside + says in check.text
    save = client.post("/scenarios/examples.small/save", data=_grouped(form))
    assert save.status_code == 422 and says in save.text
    assert not (tmp_path / "scenarios" / "variants" / "no-tasks.toml").exists()


def test_unticking_some_tasks_saves_the_rest(client: TestClient, tmp_path: Path) -> None:
    fields = [(k, v) for k, v in _posted(client, "examples.small") if k != "variant_name"]
    untick = [(k, v) for k, v in fields if (k, v) != ("deployments.troops.tasks", "warehouse")]
    form = [*untick, ("variant_name", "fewer-tasks")]
    url = "/scenarios/examples.small/save"
    save = client.post(url, data=_grouped(form), follow_redirects=False)
    assert save.status_code == 303, save.text
    saved = (tmp_path / "scenarios" / "variants" / "fewer-tasks.toml").read_text()
    assert 'tasks = ["detection", "intake"]' in saved


def test_a_new_deployment_keeps_the_tasks_ticked_for_it(client: TestClient, tmp_path: Path) -> None:
    """A task ticked for the new deployment was written under a table `new_deployment`, which
    the scenario refused as an unknown key: no new deployment could be saved."""
    new = {
        "new_deployment.name": "extra",
        "new_deployment.pool": "active_duty",
        "new_deployment.headcount": "50",
        "new_deployment.sectors": "TCA",
        "new_deployment.start_date": "2023-05-01",
        "new_deployment.duration_days": "20",
        "variant_name": "more-deployed",
    }
    fields = [(k, v) for k, v in _posted(client, "examples.small") if k not in new]
    form = [*fields, *new.items(), ("new_deployment.tasks", "detection")]
    url = "/scenarios/examples.small/save"
    save = client.post(url, data=_grouped(form), follow_redirects=False)
    assert save.status_code == 303, save.text
    saved = tomllib.loads((tmp_path / "scenarios" / "variants" / "more-deployed.toml").read_text())
    assert "new_deployment" not in saved
    assert saved["deployments"]["extra"]["tasks"] == ["detection"]
    assert saved["deployments"]["extra"]["headcount"] == 50


def _grouped(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The fields as TestClient posts them: repeated names as lists, in order."""
    grouped: dict[str, list[str]] = {}
    for key, value in fields:
        grouped.setdefault(key, []).append(value)
    return grouped
