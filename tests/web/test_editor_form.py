"""The variant editor's form as a browser posts it: the fields of the page the workbench serves,
with boxes left unticked posting nothing (no browser: the form is read from the page's HTML)."""

from __future__ import annotations

import html
import re
import shutil
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from workbench_server import Workbench

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
    only when ticked), and each select's chosen option (not the fields of the page's other form,
    which runs the scenario)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option: bool | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = found.get("name")
        if tag == "form":
            self._inside = found.get("id") == "variant-form"
        if not self._inside:
            return
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
        if tag == "form":
            self._inside = False
        elif tag == "option":
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


def _write_split_scenario(scenarios: Path) -> None:
    """examples/split.toml: small.toml with its troops given per sector (headcount_by_sector)."""
    text = (scenarios / "examples" / "small.toml").read_text()
    text = text.replace('name = "small"', 'name = "split"')
    split = "headcount_by_sector = { TCA = 100, RGV = 200 }\n"
    text = re.sub(r"headcount = 300.*\nsectors = .*\n", split, text)
    assert "headcount_by_sector" in text
    (scenarios / "examples" / "split.toml").write_text(text)


def _saved(tmp_path: Path, name: str) -> tuple[dict[str, Any], Any]:
    """A saved variant's TOML data and its loaded scenario."""
    from bordersim.scenario import load_scenario

    path = tmp_path / "scenarios" / "variants" / f"{name}.toml"
    return tomllib.loads(path.read_text()), load_scenario(path)


def _save(client: TestClient, scenario_id: str, name: str, changes: dict[str, str]) -> Any:
    posted = _posted(client, scenario_id)
    form = [(k, changes.get(k, v)) for k, v in posted if k != "variant_name"]
    form.append(("variant_name", name))
    url = f"/scenarios/{scenario_id}/save"
    return client.post(url, data=_grouped(form), follow_redirects=False)


def test_a_per_sector_headcount_is_shown_and_kept(client: TestClient, tmp_path: Path) -> None:
    """A deployment given per sector (headcount_by_sector) showed an empty headcount and nothing
    of its split; typing a headcount was refused with TOML advice. Its numbers are now fields
    beside the headcount, kept as they are, edited, or swapped for a headcount."""
    _write_split_scenario(tmp_path / "scenarios")
    fields = dict(_posted(client, "examples.split"))
    assert fields["deployments.troops.headcount"] == ""
    assert fields["deployments.troops.headcount_by_sector.TCA"] == "100"
    assert fields["deployments.troops.headcount_by_sector.RGV"] == "200"
    assert _save(client, "examples.split", "as-is", {}).status_code == 303
    data, scenario = _saved(tmp_path, "as-is")
    assert "deployments" not in data
    assert scenario.deployments["troops"].headcount_by_sector == {"TCA": 100, "RGV": 200}
    # one sector changed, the other cleared: the split is written whole, the cleared one is gone
    edit = {
        "deployments.troops.headcount_by_sector.TCA": "150",
        "deployments.troops.headcount_by_sector.RGV": "",
    }
    assert _save(client, "examples.split", "tca-only", edit).status_code == 303
    data, scenario = _saved(tmp_path, "tca-only")
    assert scenario.deployments["troops"].headcount_by_sector == {"TCA": 150}
    # a headcount instead of the split
    edit = {
        "deployments.troops.headcount": "250",
        "deployments.troops.headcount_by_sector.TCA": "",
        "deployments.troops.headcount_by_sector.RGV": "",
    }
    assert _save(client, "examples.split", "one-headcount", edit).status_code == 303
    data, scenario = _saved(tmp_path, "one-headcount")
    assert data["remove"] == ["deployments.troops.headcount_by_sector"]
    troops = scenario.deployments["troops"]
    assert (troops.headcount, troops.headcount_by_sector) == (250, None)


def test_a_headcount_becomes_a_per_sector_split(client: TestClient, tmp_path: Path) -> None:
    """small.toml's troops, headcount cleared and sectors cleared (back to the default), given
    per sector instead: saved, with the base's headcount removed."""
    edit = {
        "deployments.troops.headcount": "",
        "deployments.troops.sectors": "",
        "deployments.troops.headcount_by_sector.RGV": "180",
    }
    assert _save(client, "examples.small", "split-troops", edit).status_code == 303
    data, scenario = _saved(tmp_path, "split-troops")
    assert data["remove"] == ["deployments.troops.headcount"]
    troops = scenario.deployments["troops"]
    assert (troops.headcount, troops.headcount_by_sector) == (None, {"RGV": 180})


_SPLIT = {"deployments.troops.headcount": "", "deployments.troops.sectors": ""}


@pytest.mark.parametrize(
    ("changes", "beside", "says"),
    [
        (
            {**_SPLIT, "deployments.troops.headcount_by_sector.RGV": "-5"},
            "deployments.troops.headcount_by_sector.RGV",
            "deployments.troops.headcount_by_sector.RGV = -5: must be at least 0",
        ),
        (
            {**_SPLIT, "deployments.troops.headcount_by_sector.RGV": "5e9"},
            "deployments.troops.headcount_by_sector.RGV",
            "deployments.troops.headcount_by_sector.RGV = 5000000000.0: must be at most 1,000,000",
        ),
        (
            {**_SPLIT, "deployments.troops.headcount_by_sector.RGV": "many"},
            "deployments.troops.headcount_by_sector.RGV",
            "deployments.troops.headcount_by_sector.RGV = 'many': expected a number",
        ),
        (
            {"deployments.troops.headcount_by_sector.RGV": "50"},
            "deployments.troops.headcount",
            "deployments.troops.headcount = '300': give a headcount or per-sector numbers "
            "(headcount_by_sector), not both; clear one of them",
        ),
        (
            {"deployments.troops.headcount": ""},
            "deployments.troops.headcount",
            "deployments.troops.headcount = empty: give a headcount or per-sector numbers",
        ),
    ],
)
def test_a_refused_per_sector_headcount_is_shown_beside_its_field(
    client: TestClient, tmp_path: Path, changes: dict[str, str], beside: str, says: str
) -> None:
    response = _save(client, "examples.small", "refused", changes)
    assert response.status_code == 422
    shown = html.unescape(response.text)
    assert f'data-field="{beside}" role="alert">{says}' in shown
    assert not (tmp_path / "scenarios" / "variants" / "refused.toml").exists()


@pytest.mark.usefixtures("browser_context")
def test_a_per_sector_headcount_is_edited_in_the_browser(page: Any, workbench: Workbench) -> None:
    """In Chromium: the split's numbers stand beside the deployment's headcount, a headcount
    typed beside them is refused there, and an edited split is saved whole."""
    _write_split_scenario(workbench.root / "scenarios")
    page.goto(f"{workbench.url}/scenarios/examples.split")
    split = "input[name='deployments.troops.headcount_by_sector.{}']"
    assert page.input_value(split.format("TCA")) == "100"
    assert page.input_value(split.format("RGV")) == "200"
    assert page.input_value("input[name='deployments.troops.headcount']") == ""
    box = page.locator("#deployment-troops")
    assert box.locator(split.format("RGV")).is_visible()
    page.fill("input[name='deployments.troops.headcount']", "250")
    page.locator("input[name='deployments.troops.headcount']").dispatch_event("change")
    error = page.wait_for_selector("[data-field='deployments.troops.headcount']:not(:empty)")
    assert "not both" in error.text_content()
    page.fill("input[name='deployments.troops.headcount']", "")
    page.fill("input[name='variant_name']", "split-edited")
    page.fill(split.format("RGV"), "240")
    page.locator(split.format("RGV")).dispatch_event("change")
    page.wait_for_selector("#valid")
    page.click("#save")
    page.wait_for_selector("#saved")
    saved = workbench.root / "scenarios" / "variants" / "split-edited.toml"
    data = tomllib.loads(saved.read_text())
    assert data["deployments"]["troops"] == {"headcount_by_sector": {"TCA": 100, "RGV": 240}}
    # the saved variant's own editor shows its split
    assert page.input_value(split.format("RGV")) == "240"


@pytest.mark.parametrize(
    ("emptied", "says"),
    [
        ("period.start_date", "empty, or not a whole date: give one (YYYY-MM-DD); the base has "),
        ("demand.scale", "empty, or not a number: give one; the base has 1"),
        ("demand.scale_by_sector.RGV", "empty, or not a number: give one; the base has 1"),
        ("deployments.troops.ramp_up_days", "empty, or not a number: give one; the base has 7"),
        # the form shows days or an end date, never both: neither can be dropped for the other
        ("deployments.troops.duration_days", "empty, or not a number: give one; the base has 90"),
    ],
)
def test_an_emptied_field_is_refused_not_saved_as_the_base(
    client: TestClient, tmp_path: Path, emptied: str, says: str
) -> None:
    """An emptied field (or a date or number the browser could not read, which it posts empty)
    was skipped: the variant saved with the base's value and the page said it was saved. It is
    refused beside the field, and nothing is written."""
    response = _save(client, "examples.small", "emptied", {emptied: ""})
    assert response.status_code == 422
    shown = html.unescape(response.text)
    assert f'data-field="{emptied}" role="alert">{emptied} = {says}' in shown
    assert not (tmp_path / "scenarios" / "variants" / "emptied.toml").exists()


@pytest.mark.usefixtures("browser_context")
def test_a_refused_save_is_shown_in_the_browser(page: Any, workbench: Workbench) -> None:
    """The save button posts through HTMX, which swaps no 4xx reply: a save refused as the form
    stood (its name saved meanwhile from another tab; a value never changed, so never checked)
    showed nothing at all, as if the click was lost. The refusal is shown beside its field."""
    page.goto(f"{workbench.url}/scenarios/examples.small")
    offered = page.input_value("input[name='variant_name']")  # saved from another tab, now:
    taken = workbench.root / "scenarios" / "variants" / f"{offered}.toml"
    taken.parent.mkdir(parents=True, exist_ok=True)
    taken.write_text(f'base = "../examples/small.toml"\nname = "{offered}"\n')
    page.click("#save")
    error = page.wait_for_selector("[data-field='variant_name']:not(:empty)")
    assert "a variant of this name is saved already" in error.text_content()
    page.wait_for_selector("#invalid")
    assert page.locator("form#variant-form").count() == 1  # the form is not drawn twice
    assert page.input_value("input[name='variant_name']") == offered  # kept


def test_a_refusal_for_no_field_of_the_form_is_shown_above_it(
    client: TestClient, tmp_path: Path
) -> None:
    """A refusal whose key is no field of the form was put beside that key, which the page does
    not have: the save was refused (422) with no message anywhere. Here the field of a
    deployment the scenario does not have (a form posted from a page of another version of
    the file): the loader's refusal is now shown at the top of the form."""
    posted = _posted(client, "examples.small")
    form = [(k, v) for k, v in posted if k != "variant_name"]
    form += [("deployments.troop.headcount", "400"), ("variant_name", "ghost")]
    response = client.post(
        "/scenarios/examples.small/save", data=_grouped(form), follow_redirects=False
    )
    assert response.status_code == 422
    shown = html.unescape(response.text)
    assert "'troop' is not a deployment of the scenario (did you mean 'troops'?)" in shown
    assert 'data-field="_general" role="alert">deployments.troop: ' in shown
    assert not (tmp_path / "scenarios" / "variants" / "ghost.toml").exists()


def test_a_deployment_whose_name_holds_a_dot_is_edited_and_removed(
    client: TestClient, tmp_path: Path
) -> None:
    """A deployment named with a dot (`[deployments."phase.1"]`, as TOML allows) could be neither
    edited nor removed in the editor: its fields were written as a key path through `phase`,
    refused as no deployment of the scenario, and its removal as a `remove` path the loader
    split at the dot. Its fields are now split after its name, and a removal quotes it
    (`deployments."phase.1"`, as `remove` now reads a key path)."""
    small = tmp_path / "scenarios" / "examples" / "small.toml"
    text = small.read_text().replace("[deployments.troops]", '[deployments."phase.1"]')
    (small.parent / "dotted.toml").write_text(text.replace('name = "small"', 'name = "dotted"'))
    edited = _save(
        client,
        "examples.dotted",
        "dotted-more",
        {"deployments.phase.1.headcount": "400", "deployments.phase.1.ramp_up_days": "3"},
    )
    assert edited.status_code == 303, html.unescape(edited.text)
    data, scenario = _saved(tmp_path, "dotted-more")
    assert data["deployments"] == {"phase.1": {"headcount": 400, "ramp_up_days": 3}}
    assert scenario.deployments["phase.1"].headcount == 400
    assert scenario.deployments["phase.1"].ramp_up_days == 3

    split = _save(
        client,
        "examples.dotted",
        "dotted-split",
        {
            "deployments.phase.1.headcount": "",
            "deployments.phase.1.sectors": "",
            "deployments.phase.1.headcount_by_sector.RGV": "120",
        },
    )
    assert split.status_code == 303, html.unescape(split.text)
    data, scenario = _saved(tmp_path, "dotted-split")
    assert data["remove"] == ['deployments."phase.1".headcount']
    assert scenario.deployments["phase.1"].headcount_by_sector == {"RGV": 120}

    posted = [(k, v) for k, v in _posted(client, "examples.dotted") if k != "variant_name"]
    ticked = [*posted, ("remove.phase.1", "on"), ("variant_name", "dotted-gone")]
    removed = client.post(
        "/scenarios/examples.dotted/save", data=_grouped(ticked), follow_redirects=False
    )
    assert removed.status_code == 303, html.unescape(removed.text)
    data, scenario = _saved(tmp_path, "dotted-gone")
    assert data["remove"] == ['deployments."phase.1"']
    assert scenario.deployments == {}


def test_a_deployments_allocation_is_a_field_and_gives_way_to_a_split(
    client: TestClient, tmp_path: Path
) -> None:
    """A deployment's allocation (load or equal) had no field: one spread equally could not be
    given per sector in the editor (a split refuses any allocation but the default, and nothing
    could change it). It is a choice beside the sectors, refused there beside a split."""
    small = tmp_path / "scenarios" / "examples" / "small.toml"
    text = small.read_text().replace("ramp_up_days = 7", 'ramp_up_days = 7\nallocation = "equal"')
    (small.parent / "equal.toml").write_text(text.replace('name = "small"', 'name = "equal"'))
    assert dict(_posted(client, "examples.equal"))["deployments.troops.allocation"] == "equal"
    split = {**_SPLIT, "deployments.troops.headcount_by_sector.RGV": "90"}
    refused = _save(client, "examples.equal", "equal-split", split)
    assert refused.status_code == 422
    beside = 'data-field="deployments.troops.allocation" role="alert">deployments.troops.allocation'
    assert beside in html.unescape(refused.text)
    changes = {**split, "deployments.troops.allocation": "load"}
    assert _save(client, "examples.equal", "equal-split", changes).status_code == 303
    data, scenario = _saved(tmp_path, "equal-split")
    assert data["deployments"]["troops"]["allocation"] == "load"
    assert scenario.deployments["troops"].headcount_by_sector == {"RGV": 90}


def test_the_count_of_problems_reads_as_words(client: TestClient) -> None:
    """The editor's status line said "1 problem(s)": the count now takes its noun's number, as
    bordersim's other counts do ("1 replication", "20 replications")."""
    response = _save(client, "examples.small", "counted", {"demand.scale": "-1"})
    assert response.status_code == 422
    assert "1 problem: see the messages" in response.text
    assert "problem(s)" not in response.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"new_deployment.ramp_up_days": "3"}, "new_deployment.name"),
        ({"new_deployment.headcount_by_sector.RGV": "50"}, "new_deployment.name"),
        ({"new_shock.date": "2023-05-10", "new_shock.surge_multiplier": "2"}, "new_shock.name"),
    ],
)  # fmt: skip
def test_a_new_deployment_or_shock_without_a_name_is_refused_not_dropped(
    client: TestClient, tmp_path: Path, changes: dict[str, str], field: str
) -> None:
    """A new deployment (or shock) filled in with its name left empty was dropped without a
    word: the editor said the variant passed, and saved it without the deployment the user
    had typed. It is refused beside the name field, and nothing is saved."""
    response = _save(client, "examples.small", "unnamed", changes)
    assert response.status_code == 422
    shown = html.unescape(response.text)
    assert f'data-field="{field}" role="alert">{field} = \'\': name the new' in shown
    assert not (tmp_path / "scenarios" / "variants" / "unnamed.toml").exists()


def test_a_saved_variant_names_the_scenario_folder_the_workbench_serves(tmp_path: Path) -> None:
    """With `serve --scenarios /data/my-scenarios` the page said a saved variant was "in
    scenarios/variants/" and to run it with `bordersim run scenarios/variants/NAME.toml`, a
    file that is not there (and the saved file's comment said the same). The pages and the
    file name the folder served: relative to where the workbench started when under it, else by
    its whole path."""
    scenarios = tmp_path / "my-scenarios"
    shutil.copytree(REPO / "scenarios", scenarios, ignore=shutil.ignore_patterns("variants"))
    settings = WebSettings(
        scenarios_dir=scenarios, store=tmp_path / "store.duckdb", out_dir=tmp_path / "out"
    )
    with TestClient(create_app(settings, start_worker=False)) as elsewhere:
        saved = _save(elsewhere, "examples.small", "mine", {"demand.scale": "1.2"})
        assert saved.status_code == 303, saved.text
        page = html.unescape(elsewhere.get(saved.headers["location"]).text)
        library = html.unescape(elsewhere.get("/scenarios").text)
    command = f"bordersim run {scenarios}/variants/mine.toml"
    assert command in page and "scenarios/variants/" not in page.replace(str(scenarios), "")
    assert f"{scenarios}/variants/" in library
    assert f"# {command}\n" in (scenarios / "variants" / "mine.toml").read_text()


def test_a_library_file_that_does_not_load_is_the_servers_fault_not_the_request(
    client: TestClient, tmp_path: Path
) -> None:
    """Opening the editor of a library scenario file that does not load answered 400 Bad
    Request, though the request was fine and the file on the server is at fault. It is now a 500
    naming the file and what is wrong with it, as a result file the store lost is, without the
    server's folders."""
    broken = tmp_path / "scenarios" / "broken.toml"
    broken.write_text('name = "broken"\nhorizon_days = "ten"\n', encoding="utf-8")
    response = client.get("/scenarios/broken")
    assert response.status_code == 500, response.text
    said = html.unescape(response.text)
    assert "library scenario file broken.toml does not load" in said, said
    assert str(tmp_path) not in said
    client.get("/scenarios")  # the CSRF cookie a browser has from the library page
    token = {"X-CSRF-Token": str(client.cookies["bordersim_csrf"])}
    check = client.post("/scenarios/broken/check", data={"variant_name": "v2"}, headers=token)
    assert check.status_code == 500


_NEW_DEPLOYMENT = {
    "new_deployment.name": "extra",
    "new_deployment.pool": "active_duty",
    "new_deployment.headcount": "50",
    "new_deployment.start_date": "2023-05-01",
    "new_deployment.duration_days": "20",
}
_NEW_SHOCK = {"new_shock.name": "wave", "new_shock.date": "2023-05-10"}


@pytest.mark.parametrize(
    ("changes", "tasks", "field", "says"),
    [
        (
            {**_NEW_DEPLOYMENT, "new_deployment.start_date": ""},
            ["detection"],
            "new_deployment.start_date",
            "empty, or not a whole date: give one (YYYY-MM-DD)",
        ),
        (
            _NEW_DEPLOYMENT,
            [],
            "new_deployment.tasks",
            "[]: tick at least one task (a deployment must name one)",
        ),
        (
            {**_NEW_DEPLOYMENT, "new_deployment.headcount": ""},
            ["detection"],
            "new_deployment.headcount",
            "empty: give a headcount or per-sector numbers (headcount_by_sector)",
        ),
        (
            {**_NEW_SHOCK, "new_shock.date": ""},
            [],
            "new_shock.date",
            "empty, or not a whole date: give one (YYYY-MM-DD)",
        ),
    ],
)
def test_a_new_deployment_or_shock_missing_a_value_is_refused_beside_it(
    client: TestClient,
    tmp_path: Path,
    changes: dict[str, str],
    tasks: list[str],
    field: str,
    says: str,
) -> None:
    """A new deployment named 'extra' with its start date left empty was refused as
    "deployments.extra: 'extra' is not a deployment of the scenario; a new one would need
    deployments.extra.start_date", as if the user had mistyped an existing one (with no task
    ticked, or no headcount, likewise, or above the form). Each is now refused beside its field
    in the words of an emptied field, and nothing is saved."""
    fields = [(k, v) for k, v in _posted(client, "examples.small") if k not in changes]
    fields = [(k, v) for k, v in fields if k != "variant_name"]
    form = [*fields, *changes.items(), ("variant_name", "added")]
    form += [("new_deployment.tasks", task) for task in tasks]
    url = "/scenarios/examples.small/save"
    response = client.post(url, data=_grouped(form), follow_redirects=False)
    assert response.status_code == 422
    shown = html.unescape(response.text)
    assert f'data-field="{field}" role="alert">{field} = {says}</' in shown, shown
    assert not (tmp_path / "scenarios" / "variants" / "added.toml").exists()


def test_a_variant_name_that_differs_only_in_case_is_refused(
    client: TestClient, tmp_path: Path
) -> None:
    """Variants named V1 and v1 were both saved: two files that a case-insensitive file system
    (macOS, Windows) holds as one, and two library entries a reader cannot tell apart. The
    second is refused, naming the one saved."""
    assert _save(client, "examples.small", "V1", {}).status_code == 303
    refused = _save(client, "examples.small", "v1", {})
    assert refused.status_code == 422
    said = html.unescape(refused.text)
    assert "'v1': a variant named 'V1' is saved already (variants/V1.toml" in said, said
    variants = tmp_path / "scenarios" / "variants"
    assert sorted(p.name for p in variants.glob("*.toml")) == ["V1.toml"]


@pytest.mark.parametrize("name", ["con", "NUL", "Aux", "prn", "com1", "LPT9"])
def test_a_variant_name_windows_reserves_is_refused(
    client: TestClient, tmp_path: Path, name: str
) -> None:
    """A variant named `con` (or `nul`, `aux`, `com1`, ...) was saved as variants/con.toml: a
    file Windows can neither create nor check out, in any case and with any extension. Such a
    name is refused beside the name field, and nothing is saved; a name that only starts so
    (`consoles`) is taken."""
    refused = _save(client, "examples.small", name, {})
    assert refused.status_code == 422
    said = html.unescape(refused.text)
    expected = f"variant_name = {name!r}: Windows reserves this name for a device"
    assert f'data-field="variant_name" role="alert">{expected}' in said, said
    variants = tmp_path / "scenarios" / "variants"
    assert not list(variants.glob("*.toml"))
    assert _save(client, "examples.small", f"{name}sole", {}).status_code == 303


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        ("deployments.troops.ramp_up_days", "٣", "a whole number"),
        ("deployments.troops.duration_days", "1_000", "a whole number"),
        ("demand.scale", "١.٥", "a number"),
        ("demand.scale", "1_0.5", "a number"),
    ],
)
def test_an_edited_number_is_written_in_the_digits_0_to_9(
    client: TestClient, tmp_path: Path, field: str, typed: str, expected: str
) -> None:
    """The editor saved ramp_up_days = ٣ (an Arabic-Indic digit) as 3 and duration_days = 1_000
    as 1000, as Python's int() and float() read them, where the scenario file itself is read
    in the digits 0-9 only. Such a number is refused beside its field, and nothing is saved."""
    response = _save(client, "examples.small", "typed", {field: typed})
    assert response.status_code == 422
    shown = html.unescape(response.text)
    says = f"{field} = {typed!r}: expected {expected}"
    assert f'data-field="{field}" role="alert">{says}' in shown, shown
    assert not (tmp_path / "scenarios" / "variants" / "typed.toml").exists()
