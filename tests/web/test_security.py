"""The workbench refuses what it must, with the right 4xx and a clear message, never a 500."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import html
import io
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlencode

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from bordersim.cli import main
from bordersim.web.app import create_app
from bordersim.web.settings import MAX_BODY_BYTES, WebSettings, without_server_paths
from repo_paths import REPO

TOKEN = "a-long-shared-token-0123456789"


def _settings(root: Path, token: str | None = None) -> WebSettings:
    scenarios = root / "scenarios"
    if not scenarios.exists():
        shutil.copytree(REPO / "scenarios", scenarios, ignore=shutil.ignore_patterns("variants"))
    plans = root / "plans"
    if not plans.exists():
        shutil.copytree(REPO / "plans", plans)
    return WebSettings(
        scenarios_dir=scenarios,
        store=root / "store.duckdb",
        out_dir=root / "out",
        token=token,
        plans_dir=plans,
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # No worker: these requests are refused before any job would be queued.
    with TestClient(create_app(_settings(tmp_path), start_worker=False)) as test_client:
        test_client.get("/scenarios")  # the CSRF cookie
        yield test_client


def _csrf(client: TestClient) -> str:
    return str(client.cookies["bordersim_csrf"])


@pytest.mark.parametrize(
    "path",
    [
        "/runs/..%2F..%2Fetc%2Fpasswd/report",
        "/runs/../../etc/passwd",
        "/runs/%2e%2e%2fstore.duckdb/export.csv",
        "/static/..%2Fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/scenarios/..%2F..%2Fpyproject",
        "/scenarios/examples%2F..%2F..%2Fpyproject",
        "/runs/x/export.sh",
        "/plans?file=..%2F..%2Fpyproject",
        "/plans/..%2F..%2Fpyproject.toml/plan.toml",
        "/plans/%2e%2e%2fplans/certificate.json",
        "/plans/.job-1/certificate.json",
        "/plans/x/..%2F..%2F..%2Fpyproject.toml",
    ],
)
def test_path_traversal_finds_nothing(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert "root:" not in response.text and "[project]" not in response.text


def test_an_oversized_body_is_refused_before_it_is_read(client: TestClient) -> None:
    body = "csrf_token=" + _csrf(client) + "&x=" + "a" * (MAX_BODY_BYTES + 1)
    response = client.post(
        "/scenarios/examples.small/check",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "too large" in response.text


def test_an_oversized_body_without_a_length_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 1000 + 2):
            yield b"a" * 1000

    response = client.post(
        "/jobs", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


def test_shared_mode_needs_the_token(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path, TOKEN), start_worker=False)) as client:
        missing = client.get("/scenarios")
        assert missing.status_code == 401 and "token" in missing.text
        assert client.get("/scenarios?token=wrong-token").status_code == 401
        assert client.get("/runs/x/export.csv").status_code == 401
        entry = client.get(f"/scenarios?token={TOKEN}", follow_redirects=False)
        assert entry.status_code == 303 and entry.headers["location"] == "/scenarios"
        assert client.get("/scenarios").status_code == 200  # the cookie now carries it
    with TestClient(create_app(_settings(tmp_path, TOKEN), start_worker=False)) as client:
        bearer = client.get("/scenarios", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "///evil.example/x"])
def test_the_token_redirect_stays_on_the_workbench(tmp_path: Path, path: str) -> None:
    """The redirect that drops ?token= from the address kept the path as it came: '//host/'
    is a protocol-relative address, so a link to the workbench sent the user to another site."""
    with TestClient(create_app(_settings(tmp_path, TOKEN), start_worker=False)) as client:
        entry = client.get(f"http://testserver{path}?token={TOKEN}", follow_redirects=False)
    assert entry.status_code == 303
    location = entry.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


def test_serving_beyond_loopback_without_a_token_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BORDERSIM_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--host", "0.0.0.0", "--port", "8765"])
    assert exit_info.value.code == 2
    assert "--token" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["port in use", "999.1.1.1", "10.99.99.99"])
def test_an_address_it_cannot_listen_on_is_one_line_and_makes_no_store(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port another program holds, a host that is no address and one that is not this
    machine's said "bordersim workbench on http://..." and then uvicorn's "ERROR: [Errno 98]
    error while attempting to bind ...", exit 3, after the store was made."""
    (tmp_path / "scenarios").mkdir()
    store = tmp_path / "new" / "store.duckdb"
    with _a_port_another_program_holds() as port:
        host = "127.0.0.1" if where == "port in use" else where
        where_to = ["--host", host, "--port", str(port), "--token", TOKEN]
        with pytest.raises(SystemExit) as exit_info:
            main(
                [
                    "serve",
                    *where_to,
                    "--scenarios",
                    str(tmp_path / "scenarios"),
                    "--store",
                    str(store),
                ]
            )
    assert exit_info.value.code == 2
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.strip().splitlines()) == 1, said
    expected = f"--port {port}: another program" if where == "port in use" else f"--host {host}"
    assert said.err.startswith(f"error: {expected}"), said.err
    assert not store.parent.exists()


@contextlib.contextmanager
def _a_port_another_program_holds() -> Iterator[int]:
    """A loopback port held (bound and listening) for the block, so that a workbench that started
    there anyway would not serve."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@contextlib.contextmanager
def _without_the_right_to_bind_low_ports() -> Iterator[None]:
    """This thread without CAP_NET_BIND_SERVICE in its effective capabilities (root's kept in
    its permitted set, and given back after), so that a port below 1024 is refused as for any
    user; a user who is not root has none to drop. Skips where that cannot be arranged."""
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: bits 0-31, then 32-63
    if not sys.platform.startswith("linux") or libc.capget(header, data) != 0:
        pytest.skip("root here, and its capabilities cannot be read to drop the one for ports")
    effective = data[0]
    data[0] = effective & ~(1 << 10)  # CAP_NET_BIND_SERVICE
    if libc.capset(header, data) != 0:
        pytest.skip("root here, and its right to listen on a port below 1024 cannot be dropped")
    try:
        yield
    finally:
        data[0] = effective
        libc.capset(header, data)


def test_a_port_this_user_may_not_listen_on_names_the_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--port 80 as a user without the right to it said "--host 127.0.0.1: not an address this
    machine can listen on (Permission denied)", though the host was fine and the port was not."""
    lowest = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    first_open = int(lowest.read_text()) if lowest.exists() else 1024
    if first_open <= 80:
        pytest.skip(f"every port from {first_open} up may be listened on by any user here")
    (tmp_path / "scenarios").mkdir()
    store = tmp_path / "new" / "store.duckdb"
    folders = ["--scenarios", str(tmp_path / "scenarios"), "--store", str(store)]
    with _without_the_right_to_bind_low_ports(), pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "80", *folders])
    assert exit_info.value.code == 2
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.strip().splitlines()) == 1, said
    assert said.err.startswith("error: --port 80: this user may not listen on port 80"), said
    assert "give another --port" in said.err and "--host" not in said.err
    assert not store.parent.exists()


def test_spaces_around_the_host_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--host " 127.0.0.1" (a space from the shell's quoting) was taken for a host beyond
    loopback: "--host  127.0.0.1 shares the workbench beyond this machine: give --token"."""
    monkeypatch.delenv("BORDERSIM_TOKEN", raising=False)
    (tmp_path / "scenarios").mkdir()
    store = tmp_path / "new" / "store.duckdb"
    with _a_port_another_program_holds() as port:
        folders = ["--scenarios", str(tmp_path / "scenarios"), "--store", str(store)]
        with pytest.raises(SystemExit) as exit_info:
            main(["serve", "--host", " 127.0.0.1 ", "--port", str(port), *folders])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --port {port}: another program already listens on 127.0.0.1:")
    assert not store.parent.exists()


@pytest.mark.parametrize("plans", ["no-such-plans", "notes.txt"])
def test_a_plan_folder_given_and_not_there_is_refused(
    plans: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve --plans` mistyped (or naming a file) started the workbench, whose plan page then
    said it had no plan files; the default plans/, where there is none, still serves without."""
    expected = "no such plan folder" if plans == "no-such-plans" else "is a file, not a plan"
    _refused_folder(tmp_path, "--plans", plans, expected, capsys)


@pytest.mark.parametrize("given", ["notes.txt", "no-such-scenarios"])
def test_a_scenario_folder_that_is_a_file_says_so(
    given: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve --scenarios FILE` said "no such scenario folder" of a file that is there; it says
    it is a file, as --plans and --out do."""
    expected = "no such scenario folder" if given.startswith("no-") else "is a file, not a scen"
    _refused_folder(tmp_path, "--scenarios", given, expected, capsys)


@pytest.mark.parametrize("out", ["notes.txt", "notes.txt/out"])
def test_a_report_folder_that_is_a_file_is_refused(
    out: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve --out` naming a file (or a folder under one) started the workbench, and every run
    then failed as it wrote its report there."""
    expected = "is a file, not a report folder" if out == "notes.txt" else "cannot hold the report"
    _refused_folder(tmp_path, "--out", out, expected, capsys)


def _refused_folder(
    tmp_path: Path, option: str, given: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve OPTION tmp_path/GIVEN` (beside a scenario folder and a file notes.txt) exits 2 with
    one line, 'error: PATH: EXPECTED...', making no store and leaving notes.txt as it was."""
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    store = tmp_path / "new" / "store.duckdb"
    folders = ["--scenarios", str(tmp_path / "scenarios"), option, str(tmp_path / given)]
    with _a_port_another_program_holds() as held, pytest.raises(SystemExit) as exit_info:
        port = str(held)
        main(["serve", "--port", port, *folders, "--store", str(store)])
    assert exit_info.value.code == 2
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.strip().splitlines()) == 1, said
    assert said.err.startswith(f"error: {tmp_path / given}: {expected}"), said.err
    assert not store.parent.exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("option", ["--scenarios", "--plans", "--out"])
def test_an_empty_folder_option_is_refused(
    option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve --out "$OUT"` with the variable unset took the current folder: reports (or the
    scenario editor's variants, or the plan page's files) went there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    store = tmp_path / "new" / "store.duckdb"
    with _a_port_another_program_holds() as held, pytest.raises(SystemExit) as exit_info:
        port = str(held)
        main(["serve", "--port", port, option, "", "--store", str(store)])
    assert exit_info.value.code == 2
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.strip().splitlines()) == 1, said
    expected = f"error: {option}: is empty (an unset variable?); give a path"
    assert said.err.startswith(expected), said.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenarios"]


def test_a_token_beyond_ascii_is_refused_not_a_crash(tmp_path: Path) -> None:
    """A shared-mode token or a CSRF token with a character beyond ASCII (a typo, a pasted
    quote) is simply wrong: 401 or 403, never a 500 from the comparison."""
    with TestClient(
        create_app(_settings(tmp_path, TOKEN), start_worker=False), raise_server_exceptions=False
    ) as client:
        assert client.get("/scenarios?token=%C3%A9t%C3%A9").status_code == 401
        bearer = client.get("/scenarios", headers={b"Authorization": b"Bearer \xe9t\xe9"})
        assert bearer.status_code == 401 and "token" in bearer.text
    with TestClient(
        create_app(_settings(tmp_path), start_worker=False), raise_server_exceptions=False
    ) as client:
        client.get("/scenarios")  # the CSRF cookie
        fields = {"csrf_token": "\u00e9" * 43, "kind": "run", "scenario": "examples.small"}
        form = client.post("/jobs", data=fields)
        assert form.status_code == 403 and "CSRF" in form.text
        header = {b"content-type": b"application/json", b"X-CSRF-Token": b"\xe9" * 43}
        json_reply = client.post("/api/jobs", content="{}", headers=header)
        assert json_reply.status_code == 403, json_reply.text
        assert json_reply.json()["error"].startswith("missing or wrong CSRF token")


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_a_form_without_the_right_csrf_token_is_forbidden(
    client: TestClient, token: str | None
) -> None:
    fields = {"kind": "run", "scenario": "examples.small", "replications": "1"}
    if token is not None:
        fields["csrf_token"] = token
    paths = ("/jobs", "/scenarios/examples.small/save", "/jobs/1/cancel", "/plans", "/plans/check")
    for path in paths:
        response = client.post(path, data=fields)
        assert response.status_code == 403, (path, response.text)
        assert "CSRF" in response.text


def test_json_without_the_csrf_header_is_forbidden(client: TestClient) -> None:
    response = client.post("/api/jobs", json={"kind": "run", "scenario": "examples.small"})
    assert response.status_code == 403
    assert response.json()["error"].startswith("missing or wrong CSRF token")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        ("{not json", "application/json", 400, "malformed JSON"),
        ("[" * 30_000 + "]" * 30_000, "application/json", 400, "nested too deeply"),
        ('{"seed": ' + "[" * 30_000 + "]" * 30_000 + "}", "application/json", 400,
         "nested too deeply"),
        ('["a", "list"]', "application/json", 422, "expected a JSON object"),
        ('{"kind": "rerun", "scenario": "examples.small"}', "application/json", 422, "kind"),
        ('{"scenario": "examples.small", "replications": "many"}', "application/json", 422,
         "replications"),
        ('{"scenario": "examples.small", "replications": 100000}', "application/json", 422,
         "at most 200 in the workbench"),
        ('{"scenario": "examples.small", "replications": 1e999}', "application/json", 422,
         "whole number"),
        ('{"scenario": "examples.small", "replications": Infinity}', "application/json", 422,
         "whole number"),
        ('{"scenario": "examples.small", "replications": 2.5}', "application/json", 422,
         "whole number"),
        ('{"scenario": "examples.small", "replications": true}', "application/json", 422,
         "whole number"),
        ('{"scenario": "examples.small", "seed": -Infinity}', "application/json", 422,
         "whole number"),
        ('{"scenario": "no-such"}', "application/json", 404, "no scenario"),
        ('{"scenario": "examples.small"}', "text/plain", 415, "expected application/json"),
    ],
)  # fmt: skip
def test_malformed_json_gets_the_right_4xx(
    client: TestClient, body: str, content_type: str, status: int, says: str
) -> None:
    response = client.post(
        "/api/jobs",
        content=body,
        headers={"content-type": content_type, "X-CSRF-Token": _csrf(client)},
    )
    assert response.status_code == status, response.text
    assert says in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        (b"a=1&&b", "application/x-www-form-urlencoded", 400, "malformed form"),
        (b"a=\xff\xfe", "application/x-www-form-urlencoded", 400, "malformed form"),
        (b'{"a": 1}', "application/json", 415, "expected a form"),
        (b"csrf_token=&kind=run", "multipart/form-data", 415, "expected a form"),
    ],
)
def test_malformed_forms_get_the_right_4xx(
    client: TestClient, body: bytes, content_type: str, status: int, says: str
) -> None:
    response = client.post("/jobs", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert says in response.text


def test_a_wrong_value_in_a_valid_form_is_a_422(client: TestClient) -> None:
    fields = {"csrf_token": _csrf(client), "kind": "run", "scenario": "examples.small"}
    response = client.post("/jobs", data={**fields, "engine": "quantum"})
    assert response.status_code == 422 and "engine" in response.text
    response = client.post("/jobs", data={**fields, "replications": "-1"})
    assert response.status_code == 422 and "replications" in response.text


@pytest.mark.parametrize("how", ["form", "json"])
def test_a_scenario_compared_with_itself_is_refused(client: TestClient, how: str) -> None:
    """The library's comparison form queued examples.small against itself: two simulations
    with one seed and engine, B repeating A replication for replication, and a page of
    differences all exactly zero. It is refused before any job, naming B (no worker runs here:
    a request queued would be a 503)."""
    request = {"kind": "compare", "scenario": "examples.small", "b": "examples.small"}
    if how == "form":
        response = client.post("/jobs", data={"csrf_token": _csrf(client), **request})
    else:
        response = client.post("/api/jobs", json=request, headers={"X-CSRF-Token": _csrf(client)})
    assert response.status_code == 422, response.text
    assert "b: examples.small is A too" in html.unescape(response.text)
    other = {**request, "b": "examples.small-staff-bound"}
    answer = client.post("/api/jobs", json=other, headers={"X-CSRF-Token": _csrf(client)})
    assert answer.status_code == 503  # accepted, and queued for a worker there is none of


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/notanumber",
        "/runs/nope/export.csv",
        "/runs/nope",
        "/runs/nope?sector=XX",
        "/compare",
        "/compare?a=x",
        "/api/jobs/abc",
        "/static/nope.js",
        "/plans?file=nope",
        "/plans/nope",
        "/plans/nope/report.html",
    ],
)
def test_odd_requests_are_4xx_never_5xx(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text)


def _store_with_a_run(
    root: Path, days: int = 10, replications: int = 2, scenario_path: str | None = None
) -> str:
    """The workbench's store under `root` with one more complete (constructed) run, from the
    scenario file `scenario_path` (None: not recorded); its id."""
    from bordersim.store import open_catalog
    from bordersim.store.runs import complete_run
    from constructed_runs import constructed_run, start_constructed

    run = constructed_run(replications, days)
    with open_catalog(_settings(root).store) as catalog:
        run_id = start_constructed(catalog, run, scenario_path=scenario_path)
        complete_run(catalog, run_id, run, kpis={}, timings={}, report_path=None)
    return run_id


@pytest.mark.parametrize("days_b", [10, 12])
def test_a_comparison_of_an_unknown_sector_is_a_422(
    client: TestClient, tmp_path: Path, days_b: int
) -> None:
    """Also where the two runs' days differ and no chart is drawn (the sector used to be
    ignored there, with a 200)."""
    a, b = _store_with_a_run(tmp_path), _store_with_a_run(tmp_path, days_b)
    page = client.get(f"/compare?a={a}&b={b}&sector=TCA")
    assert page.status_code == 200
    assert "Differences B - A: all sectors" in page.text  # the table is not the sector's
    response = client.get(f"/compare?a={a}&b={b}&sector=XX")
    assert response.status_code == 422 and "unknown sector &#39;XX&#39;" in response.text
    response = client.get(f"/compare?a={a}&b={b}&sector=EPT")
    assert response.status_code == 422 and "EPT" in response.text
    assert "is not one of this run" in response.text


def test_a_runs_details_name_its_scenario_file_without_the_servers_folders(
    client: TestClient, tmp_path: Path
) -> None:
    """A run's page and the run catalog did not name the scenario file the run came from; they
    now do, a file under the scenario folder relative to it, any other by its name only, and a
    run stored before runs kept it as "not recorded". The report rebuilt from the store has the
    row of bordersim report's run details."""
    from bordersim.report.run_report import SCENARIO_FILE_NOT_RECORDED

    small = tmp_path / "scenarios" / "examples" / "small.toml"
    elsewhere = "/home/someone/private/mine.toml"
    runs = {
        _store_with_a_run(tmp_path, scenario_path=str(small)): "examples/small.toml",
        _store_with_a_run(tmp_path, scenario_path=elsewhere): "mine.toml",
        _store_with_a_run(tmp_path): SCENARIO_FILE_NOT_RECORDED,
    }
    catalog = html.unescape(client.get("/runs").text)
    for run_id, shown in runs.items():
        page = client.get(f"/runs/{run_id}").text
        assert f'<span id="scenario-file">{html.escape(shown)}</span>' in page
        assert str(tmp_path) not in page and "/home/someone" not in page
        row = catalog.split(f">{run_id}</a></td>", 1)[1].split("</tr>", 1)[0]
        assert row.lstrip().startswith(f"<td>{shown}</td>")
    assert str(tmp_path) not in catalog and "/home/someone" not in catalog
    first, _, old = runs
    report = html.unescape(client.get(f"/runs/{first}/report").text)
    assert f"<td>scenario file</td><td>{small}</td>" in report  # the CLI's report, as it is
    report = html.unescape(client.get(f"/runs/{old}/report").text)
    assert f"<td>scenario file</td><td>{SCENARIO_FILE_NOT_RECORDED}</td>" in report


def _paragraph(page: str, element_id: str) -> str:
    """The text of the page's paragraph `element_id`."""
    found = re.search(rf'<p id="{element_id}"[^>]*>(.*?)</p>', page, re.S)
    assert found, f"no paragraph {element_id!r}"
    return html.unescape(found.group(1))


def test_a_comparison_says_what_the_cli_says_of_what_the_runs_cover(
    client: TestClient, tmp_path: Path
) -> None:
    """The comparison page of a 10-day run against a 12-day one gave B - A with no word that the
    runs cover different days (bordersim compare opens on "Not like for like"), and said "with
    95 % intervals" of one replication a side; it now says what the CLI's report says, in its
    words, and the table has the report's unit column."""
    from bordersim.report.compare_report import coverage_line, reading_line
    from bordersim.services.record import stored_record
    from bordersim.store import open_catalog

    a, b, c = (_store_with_a_run(tmp_path, days) for days in (10, 12, 10))
    with open_catalog(_settings(tmp_path).store) as catalog:
        record = {r: stored_record(catalog, r).result for r in (a, b, c)}
    page = client.get(f"/compare?a={a}&b={b}").text
    coverage = _paragraph(page, "coverage")
    assert coverage == coverage_line(record[a], record[b])
    assert coverage.startswith("Not like for like: A and B cover different reported days ")
    assert "(A: 2023-05-01 to 2023-05-10, 10 days; B: 2023-05-01 to 2023-05-12, 12 days)" in (
        coverage
    )
    assert page.index(coverage.split(":")[0]) < page.index("What differs")
    assert reading_line(record[a], record[b]) in html.unescape(page)
    assert "<th>unit</th>" in page
    same = client.get(f"/compare?a={a}&b={c}").text
    assert _paragraph(same, "coverage") == (
        "Both runs cover 2023-05-01 to 2023-05-10, 10 days; sectors TCA, RGV."
    )
    assert "Not like for like" not in same
    x, y = (_store_with_a_run(tmp_path, replications=1) for _ in range(2))
    single = html.unescape(client.get(f"/compare?a={x}&b={y}").text)
    assert "one replication a side, so there is no interval" in single
    assert "95 % interval" not in single.split("What differs")[0]


def test_a_comparison_of_a_run_that_is_not_there_names_the_side(
    client: TestClient, tmp_path: Path
) -> None:
    """/compare with an unknown B said "no run '...' in the store (see `bordersim runs`)": not
    which of the two ids it was, and a command where the workbench has its run catalog. It now
    names the field and the catalog; a run that failed is named the same way (a 409)."""
    from bordersim.store import open_catalog
    from bordersim.store.runs import fail_run
    from constructed_runs import constructed_run, start_constructed

    a = _store_with_a_run(tmp_path)
    response = client.get("/compare", params={"a": a, "b": "gone-20230101-000000-abcd"})
    assert response.status_code == 404
    assert "b: no run 'gone-20230101-000000-abcd' in the store; the run catalog (/runs) lists" in (
        html.unescape(response.text)
    )
    assert "bordersim runs" not in response.text
    with open_catalog(_settings(tmp_path).store) as catalog:
        failed = start_constructed(catalog, constructed_run(1, 3))
        fail_run(catalog, failed, reason="it broke")
    response = client.get("/compare", params={"a": failed, "b": a})
    assert response.status_code == 409
    assert f"a: run {failed} is failed: it has no results" in html.unescape(response.text)
    assert client.get(f"/runs/{failed}").status_code == 409  # no field on a run's own page


def test_a_shared_workbench_names_no_server_folder_in_a_runs_report(tmp_path: Path) -> None:
    """A run's report names its scenario file and its calibration by their absolute paths (for
    the machine's owner); opened from a shared workbench's catalog it showed where the server
    keeps its scenarios. There it names them as the run page does; a local workbench serves the
    report as it is."""
    from bordersim.store import open_catalog
    from bordersim.store.runs import save_run_context

    small = tmp_path / "scenarios" / "examples" / "small.toml"
    calibration = "/srv/private/calibration.json"
    settings = _settings(tmp_path, token=TOKEN)
    run_id = _store_with_a_run(tmp_path, scenario_path=str(small))
    with open_catalog(settings.store) as catalog:
        save_run_context(catalog, run_id, sources={}, warnings=(), calibration=calibration)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings, start_worker=False)) as shared:
        report = html.unescape(shared.get(f"/runs/{run_id}/report", headers=headers).text)
    assert "<td>scenario file</td><td>examples/small.toml</td>" in report
    assert "calibration.json" in report
    assert str(tmp_path) not in report and "/srv/private" not in report
    with TestClient(create_app(_settings(tmp_path), start_worker=False)) as local:
        report = html.unescape(local.get(f"/runs/{run_id}/report").text)
    assert f"<td>scenario file</td><td>{small}</td>" in report and "/srv/private/" in report


def test_a_run_compared_with_itself_is_refused(client: TestClient, tmp_path: Path) -> None:
    """The run catalog's comparison form took one run id for A and B and showed a comparison
    whose every difference was zero; it is refused, naming B (pasted with spaces too)."""
    a = _store_with_a_run(tmp_path)
    response = client.get("/compare", params={"a": a, "b": f" {a}\n"})
    assert response.status_code == 422
    assert f"b: {a} is A too; a run compared with itself differs by nothing" in html.unescape(
        response.text
    )


def test_run_ids_pasted_with_spaces_are_compared(client: TestClient, tmp_path: Path) -> None:
    """The run catalog's comparison form takes the two run ids as typed: one pasted with a space
    or a line end (as copied from a terminal or a report) was 'no run ' 20...'', a 404."""
    a, b = _store_with_a_run(tmp_path), _store_with_a_run(tmp_path)
    page = client.get("/compare", params={"a": f"  {a} ", "b": f"{b}\n"})
    assert page.status_code == 200, page.text
    assert a in page.text and b in page.text


def test_a_refused_export_leaves_no_temporary_folder(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export with an unknown metric or sector is a 422 naming it (a value out of range), and
    leaves nothing in the temporary folder (each refused download used to leave an empty folder
    there)."""
    run_id = _store_with_a_run(tmp_path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    for query in ("metric=no_such_metric", "sector=XX"):
        response = client.get(f"/runs/{run_id}/export.csv?{query}")
        assert response.status_code == 422 and query.split("=")[1] in response.text
    assert list(temporary.iterdir()) == []
    assert client.get(f"/runs/{run_id}/export.csv").status_code == 200
    assert list(temporary.iterdir()) == []


def test_an_export_whose_results_file_was_deleted_is_a_500_naming_it(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's fault, not the request's (it used to be a 400): a 500 that says which run's
    results are missing, as a page and as JSON, leaving no temporary folder, and not naming the
    server's folders (the CLI's message does, for the store's owner)."""
    run_id = _store_with_a_run(tmp_path)
    (daily,) = (tmp_path / "store.results").rglob("daily.parquet")
    daily.unlink()  # deleted on disk; the catalog still records it
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    said = f"the daily results of run {run_id} are missing from the store"
    for path in (f"/runs/{run_id}/export.csv", f"/runs/{run_id}/export.parquet?metric=encounters"):
        response = client.get(path)
        assert response.status_code == 500 and said in response.text
        assert "daily.parquet in its results folder" in response.text
        assert str(tmp_path) not in response.text
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 500 and said in response.json()["error"]
        assert str(tmp_path) not in response.text
    assert list(temporary.iterdir()) == []
    assert client.get(f"/runs/{run_id}").status_code == 500  # its page says the same


@pytest.mark.parametrize(
    "certificate", ['{"decision": ', '{"scenario": "x"}', "[1, 2]", b"\xff\xfe"]
)
def test_a_plan_whose_certificate_cannot_be_shown_is_a_409_not_a_500(
    client: TestClient, tmp_path: Path, certificate: str | bytes
) -> None:
    """A plan folder in out/plans/ whose certificate.json is damaged or of another layout (an
    older bordersim's) is left out of the plan list; opening it says why, and its files still
    download."""
    folder = tmp_path / "out" / "plans" / "old-plan"
    folder.mkdir(parents=True)
    written = certificate.encode() if isinstance(certificate, str) else certificate
    (folder / "certificate.json").write_bytes(written)
    response = client.get("/plans/old-plan")
    assert response.status_code == 409, response.text
    assert "certificate.json cannot be shown" in response.text
    assert client.get("/plans/old-plan/certificate.json").content == written


def test_the_form_refuses_a_variant_name_with_a_path(client: TestClient, tmp_path: Path) -> None:
    form = {
        "csrf_token": _csrf(client),
        "variant_name": "../../escape",
        "period.start_date": "2023-04-20",
        "period.end_date": "2023-05-31",
    }
    response = client.post("/scenarios/examples.small/save", data=form)
    assert response.status_code == 422
    assert "variant name" in response.text
    assert not list(tmp_path.rglob("escape*"))


@pytest.mark.parametrize(
    ("first", "second"),
    [("demand.scale", "demand.scale.x"), ("demand.scale.x", "demand.scale")],
)
def test_a_key_and_a_key_under_it_in_one_form_are_refused_not_a_crash(
    client: TestClient, tmp_path: Path, first: str, second: str
) -> None:
    """`demand.scale` and `demand.scale.x` in one form cannot both be set: in either order the
    check says so beside a field (200, as every check) and the save is a 422; nothing is saved."""
    fields = [("csrf_token", _csrf(client)), ("variant_name", "clash"), (first, "2"), (second, "3")]
    says = "a key cannot be both a value and a table"
    _refused_beside_a_field_and_not_saved(client, tmp_path, "clash", urlencode(fields), says)


def test_a_new_deployment_named_as_an_existing_one_is_refused(
    client: TestClient, tmp_path: Path
) -> None:
    """A "new" deployment named `troops` (which small.toml has) would be merged into troops,
    replacing the form's own edit of it: it is refused beside the name, and nothing is saved."""
    form = {
        "csrf_token": _csrf(client),
        "variant_name": "twice",
        "deployments.troops.headcount": "700",
        "new_deployment.name": "troops",
        "new_deployment.pool": "active_duty",
        "new_deployment.headcount": "5",
    }
    says = "&#39;troops&#39;: the scenario already has this deployment"
    _refused_beside_a_field_and_not_saved(client, tmp_path, "twice", urlencode(form), says)


def _refused_beside_a_field_and_not_saved(
    client: TestClient, tmp_path: Path, variant: str, body: str, says: str
) -> None:
    """The editor's check shows `says` beside a field (200, as every check); the save of the
    same form is a 422 and writes no variant."""
    headers = {"content-type": "application/x-www-form-urlencoded"}
    check = client.post("/scenarios/examples.small/check", content=body, headers=headers)
    assert check.status_code == 200 and says in check.text
    save = client.post("/scenarios/examples.small/save", content=body, headers=headers)
    assert save.status_code == 422
    assert not (tmp_path / "scenarios" / "variants" / f"{variant}.toml").exists()


def test_a_saved_variant_is_never_replaced(client: TestClient, tmp_path: Path) -> None:
    """Saving under a name that is taken (another variant, or the edited variant itself, which
    would become its own base) is refused; the editor offers a free name."""
    variants = tmp_path / "scenarios" / "variants"

    def save(scenario_id: str, name: str, headcount: str) -> int:
        """The reply's status; a refusal must say why, beside the name."""
        form = {
            "csrf_token": _csrf(client),
            "variant_name": name,
            "period.start_date": "2023-04-20",
            "period.end_date": "2023-05-31",
            "deployments.troops.headcount": headcount,
        }
        url = f"/scenarios/{scenario_id}/save"
        reply = client.post(url, data=form, follow_redirects=False)
        assert reply.status_code != 422 or "is saved already" in reply.text
        return reply.status_code

    assert 'value="small-variant"' in client.get("/scenarios/examples.small").text
    assert save("examples.small", "small-variant", "900") == 303
    stored = (variants / "small-variant.toml").read_bytes()
    assert b"headcount = 900" in stored
    assert 'value="small-variant-2"' in client.get("/scenarios/examples.small").text
    assert save("examples.small", "small-variant", "0") == 422  # another variant's name
    assert save("variants.small-variant", "small-variant", "0") == 422  # its own name
    assert (variants / "small-variant.toml").read_bytes() == stored
    assert sorted(p.name for p in variants.iterdir()) == ["small-variant.toml"]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"plan_file": "../../pyproject"}, 404),
        ({"plan_file": "examples.small-stress", "scenario": "../../pyproject"}, 422),
        ({"plan_file": "examples.small-stress", "targets.alpha": "abc"}, 422),
        ({"plan_file": "examples.small-stress", "search.certify_replications": "100000"}, 422),
    ],
)
def test_a_bad_plan_form_is_a_4xx_and_queues_nothing(
    client: TestClient, fields: dict[str, str], status: int
) -> None:
    form = {"csrf_token": _csrf(client), "scenario": "examples.small", **fields}
    response = client.post("/plans", data=form)
    # no worker runs here: a request that got as far as queueing a job would be a 503
    assert response.status_code == status, response.text


@pytest.mark.parametrize("folder", ["empty", "none"])
def test_a_workbench_with_no_plan_files_shows_its_plan_page(tmp_path: Path, folder: str) -> None:
    """With no plan file (an empty plan folder, or none), /plans answered 404 "this workbench
    has no plan files", hiding the plans made before and not saying how to add one; it now
    shows the page: no plan files, where to put one, and the plans made here."""
    settings = _settings(tmp_path)
    assert settings.plans_dir is not None
    shutil.rmtree(settings.plans_dir)
    if folder == "empty":
        settings.plans_dir.mkdir()
    else:
        settings = dataclasses.replace(settings, plans_dir=None)
    with TestClient(create_app(settings, start_worker=False)) as empty:
        answer = empty.get("/plans")
        chosen = empty.get("/plans?file=examples.small-stress")
    assert answer.status_code == 200, answer.text
    page = html.unescape(answer.text)
    assert "<h1>Plan a deployment</h1>" in page and 'id="plan-form"' not in page
    how = page.split('id="no-plan-files"', 1)[1].split("</p>", 1)[0]
    if folder == "empty":
        assert f"{settings.plans_dir}/examples" in how and "plan file" in how
    else:
        assert "--plans FOLDER" in how
    assert "docs/planner.md" in how
    assert 'id="no-plans"' in page  # the plans made here: none yet
    assert chosen.status_code == 404
    assert "no plan file 'examples.small-stress'" in html.unescape(chosen.text)


def test_a_failed_job_names_the_scenario_but_not_the_servers_folders(tmp_path: Path) -> None:
    """A library scenario that no longer loads fails its job (in the real worker process) with
    the CLI's message, its file named relative to the scenario folder: a user of a shared
    workbench must not learn where the server keeps its files."""
    settings = _settings(tmp_path)
    scenario = settings.scenarios_dir / "examples" / "small.toml"
    text = scenario.read_text(encoding="utf-8")
    broken = settings.scenarios_dir / "examples" / "broken.toml"
    broken.write_text(text.replace("warmup_days = 7", "warmup_days = -3"), "utf-8")
    with TestClient(create_app(settings)) as client:
        client.get("/scenarios")
        headers = {"X-CSRF-Token": _csrf(client)}
        request = {"kind": "run", "scenario": "examples.broken", "replications": 1}
        job = client.post("/api/jobs", json=request, headers=headers).json()["job"]
        deadline = time.monotonic() + 120
        while (state := client.get(f"/api/jobs/{job}").json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
    assert state["state"] == "failed", state
    message = state["message"]
    assert message.startswith("examples/broken.toml, line ") and "warmup_days = -3" in message
    assert str(tmp_path) not in message


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("{root}/scenarios/variants/x.toml, line 3: bad", "variants/x.toml, line 3: bad"),
        ("No such file: '/opt/data/official/sw.csv' (io.py:3)", "No such file: 'sw.csv' (io.py:3)"),
        ("{root}/out/plans/p: cannot write", "plans/p: cannot write"),
        (
            "not available (postgresql://u:***@db:5432/bs)",
            "not available (postgresql://u:***@db:5432/bs)",
        ),
        (
            "see ../shared/data/x.csv; 1/2 of it, and/or",
            "see ../shared/data/x.csv; 1/2 of it, and/or",
        ),
    ],
)
def test_what_a_browser_sees_names_no_absolute_path(
    tmp_path: Path, message: str, shown: str
) -> None:
    settings = _settings(tmp_path)
    assert without_server_paths(message.format(root=tmp_path), settings) == shown


def test_a_shared_store_that_does_not_answer_is_a_503_without_the_servers_folders(
    tmp_path: Path,
) -> None:
    """The 503 of a PostgreSQL store that does not answer showed its URL whole, with the
    `results=` folder where the server keeps its result files."""
    results = tmp_path / "kept-results"
    url = f"postgresql://u:secret@127.0.0.1:1/bs?results={results}"
    settings = dataclasses.replace(_settings(tmp_path), store=url)
    with TestClient(create_app(settings)) as client:
        answer = client.get("/runs")
    assert answer.status_code == 503
    assert (
        "the store is not available" in answer.text
        and "cannot connect to PostgreSQL" in answer.text
    )
    assert str(tmp_path) not in answer.text and "secret" not in answer.text


@pytest.mark.parametrize(
    "path", ["/jobs/notanumber", "/jobs/1.5/status", "/api/jobs/abc", "/api/jobs/%20"]
)
def test_a_job_id_that_is_not_a_number_is_no_job(client: TestClient, path: str) -> None:
    """/jobs/notanumber answered 422 "path.job_id: Input should be a valid integer, unable to
    parse string as an integer": the web framework's words, not the workbench's. Jobs are
    numbered; any other id is no job (404), said as an unknown run is, with where they are
    listed (no worker runs here: the id is refused before the job board is asked)."""
    response = client.get(path)
    assert response.status_code == 404, response.text
    said = html.unescape(response.text)
    assert "no job '" in said and "jobs are numbered; the jobs page (/jobs) lists them" in said
    assert "Input should be" not in said and "path.job_id" not in said


def test_cancelling_a_job_id_that_is_not_a_number_is_no_job(client: TestClient) -> None:
    response = client.post("/jobs/abc/cancel", data={"csrf_token": _csrf(client)})
    assert response.status_code == 404
    assert "no job 'abc'" in html.unescape(response.text)
    answer = client.post("/api/jobs/abc/cancel", json={}, headers={"X-CSRF-Token": _csrf(client)})
    assert answer.status_code == 404 and "no job 'abc'" in answer.json()["error"]


@pytest.mark.parametrize(
    ("request_fields", "status", "says"),
    [
        ({"kind": "compare", "scenario": "examples.small", "b": "nope"}, 404, "b: no scenario"),
        ({"kind": "compare", "scenario": "nope", "b": "examples.small"}, 404, "scenario: no"),
        ({"kind": "compare", "scenario": "examples.small"}, 422, "b: choose a scenario"),
        ({"kind": "run", "scenario": ""}, 422, "scenario: choose a scenario"),
        ({"kind": "run", "scenario": "nope"}, 404, "scenario: no scenario 'nope' in the library"),
    ],
)
def test_a_job_of_a_scenario_not_in_the_library_names_its_field(
    client: TestClient, request_fields: dict[str, str], status: int, says: str
) -> None:
    """A comparison with an unknown or missing B was refused "no scenario '' in the library":
    not which of its two scenarios, nor that none was given. The field is named, and a missing
    one is asked for (422), as /compare names a run's side."""
    form = client.post("/jobs", data={"csrf_token": _csrf(client), **request_fields})
    api = client.post("/api/jobs", json=request_fields, headers={"X-CSRF-Token": _csrf(client)})
    assert form.status_code == api.status_code == status, form.text
    assert says in html.unescape(form.text) and says in api.json()["error"]


def test_a_scenario_file_the_library_cannot_list_is_named_with_why(
    client: TestClient, tmp_path: Path
) -> None:
    """docs/web.md says every file in the scenario folders is listed, but a file whose name
    holds a space or a dot (`small v2.toml`, `small.v3.toml`) was left out without a word: the
    user saw their scenario missing and no reason. The library lists each such file by its
    name, with why and what to do; the files it can list are listed as before."""
    examples = tmp_path / "scenarios" / "examples"
    for name in ("small v2.toml", "small.v3.toml"):
        shutil.copy(examples / "small.toml", examples / name)
    page = html.unescape(client.get("/scenarios").text)
    assert 'href="/scenarios/examples.small"' in page
    left_out = page.split('id="left-out"', 1)[1].split("</p>", 1)[0]
    assert "examples/small v2.toml" in left_out and "examples/small.v3.toml" in left_out
    assert "rename" in left_out and "examples/small.toml" not in left_out


def test_a_library_of_one_scenario_offers_no_comparison_it_would_refuse(tmp_path: Path) -> None:
    """A library of one scenario offered the comparison form with that scenario as both A and
    B, which the workbench refuses (a scenario compared with itself); the page now says that a
    comparison needs a second scenario, in place of the form."""
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(REPO / "scenarios" / "examples" / "small.toml", folder / "small.toml")
    settings = dataclasses.replace(_settings(tmp_path), scenarios_dir=folder)
    with TestClient(create_app(settings, start_worker=False)) as client:
        page = html.unescape(client.get("/scenarios").text)
    assert 'href="/scenarios/small"' in page and 'id="compare-form"' not in page
    said = page.split('id="compare-needs-two"', 1)[1].split("</p>", 1)[0]
    assert "a second scenario" in said


def test_an_empty_run_catalog_says_how_to_fill_it(client: TestClient) -> None:
    """A store with no runs showed "No runs in the store yet." above the headings of an empty
    table and a comparison form with nothing to compare; it now says how a run gets there."""
    page = html.unescape(client.get("/runs").text)
    empty = page.split('id="no-runs"', 1)[1].split("</p>", 1)[0]
    assert "No runs in the store yet" in empty
    assert 'href="/scenarios"' in empty and "bordersim run" in empty
    assert '<table id="runs">' not in page and 'action="/compare"' not in page


def test_an_empty_scenario_library_says_how_to_fill_it(tmp_path: Path) -> None:
    """`serve --scenarios` naming an empty folder showed the library as an empty table, and a
    comparison form whose A and B offered nothing; the page now says the folder holds no
    scenario and where to put one, and offers no form that cannot be sent."""
    folder = tmp_path / "mine"
    folder.mkdir()
    settings = dataclasses.replace(_settings(tmp_path), scenarios_dir=folder)
    with TestClient(create_app(settings, start_worker=False)) as empty:
        page = html.unescape(empty.get("/scenarios").text)
    how = page.split('id="no-scenarios"', 1)[1].split("</p>", 1)[0]
    assert f"no scenario files in {folder}" in how
    assert f"{folder}/examples" in how and "docs/scenarios.md" in how
    assert 'id="library"' not in page and 'id="compare-form"' not in page


def test_a_plan_file_the_plan_page_cannot_offer_is_named_with_why(tmp_path: Path) -> None:
    """A plan file that does not read as TOML, or is named with a space or a dot, was left out
    of the plan page's list without a word; with no other plan file the page said "this
    workbench has no plan files", though the folder held one. Each is now named with why."""
    settings = _settings(tmp_path)
    assert settings.plans_dir is not None
    (settings.plans_dir / "examples" / "broken.toml").write_text("[search\n", encoding="utf-8")
    shutil.copy(settings.plans_dir / "2023-troops.toml", settings.plans_dir / "troops v2.toml")
    with TestClient(create_app(settings, start_worker=False)) as client:
        page = html.unescape(client.get("/plans").text)
        left_out = page.split('id="plans-left-out"', 1)[1].split("</p>", 1)[0]
        assert "examples/broken.toml (it does not read as TOML: " in left_out
        assert "line 1" in left_out and "troops v2.toml (rename it" in left_out
        for plan in settings.plans_dir.rglob("*.toml"):
            if plan.name not in ("broken.toml", "troops v2.toml"):
                plan.unlink()
        answer = client.get("/plans")
    assert answer.status_code == 200
    assert "This workbench has no plan files it can offer." in html.unescape(answer.text)
    answer = html.unescape(answer.text)
    assert "examples/broken.toml (it does not read as TOML" in answer


def test_a_plan_file_naming_a_scenario_not_in_the_library_says_so(tmp_path: Path) -> None:
    """A plan file whose `scenario` is not in the library (moved, or mistyped) opened with the
    library's first scenario chosen as its base, without a word, ready to plan on it; the
    scenario field now says which scenario the file names, and that it is not there."""
    settings = _settings(tmp_path)
    assert settings.plans_dir is not None
    stress = settings.plans_dir / "examples" / "small-stress.toml"
    moved = stress.read_text(encoding="utf-8").replace("small-staff-bound.toml", "gone.toml")
    (settings.plans_dir / "examples" / "moved.toml").write_text(moved, encoding="utf-8")
    with TestClient(create_app(settings, start_worker=False)) as client:
        page = html.unescape(client.get("/plans?file=examples.moved").text)
        shipped = html.unescape(client.get("/plans?file=examples.small-stress").text)
    said = page.split('id="err-scenario"', 1)[1].split("</span>", 1)[0]
    assert "scenario = '../../scenarios/examples/gone.toml'" in said
    assert "not in the library" in said
    no_word = shipped.split('id="err-scenario"', 1)[1].split("</span>", 1)[0]
    assert no_word.endswith(">"), no_word  # the shipped plan file's base is found: no message


def test_an_address_with_no_page_names_it(client: TestClient) -> None:
    """A mistyped address (/run/x for /runs/x) answered a bare "Not Found", and a cancel link
    opened with GET a bare "Method Not Allowed" without the Allow header HTTP asks for: neither
    said which address, nor what to do. Each now says so in the workbench's words."""
    missing = client.get("/run/abc")
    assert missing.status_code == 404
    assert "no page /run/abc on this workbench" in missing.text
    assert "Not Found" not in missing.text
    as_json = client.get("/api/nothing")
    assert as_json.status_code == 404 and "no page /api/nothing" in as_json.json()["error"]
    wrong = client.get("/jobs/1/cancel")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert "GET /jobs/1/cancel: this address takes POST only" in wrong.text
    assert "Method Not Allowed" not in wrong.text


PLAN_ID = "small-plan-20260101-000000-abcdef"


def _a_plan_of(settings: WebSettings, **changes: object) -> None:
    """A finished plan, PLAN_ID, in the workbench's out/plans/: its certificate.json as the
    planner writes it, with `changes` to its top-level keys."""
    folder = settings.plans_out / PLAN_ID
    folder.mkdir(parents=True)
    certificate = {
        "plan": "small-plan",
        "scenario": "small",
        "demand_scale": 1.0,
        "cost_dollars": 2e6,
        "cost_by_pool_dollars": {"contractor": 2e6},
        "lower_bound_dollars": 1.5e6,
        "lower_bound_kind": "fluid",
        "gap": 0.25,
        "certified": True,
        "certification": {"replications": 100, "engine": "event", "seed": 7},
        "targets": {
            "within_72h": 0.95,
            "children_within_72h": 0.95,
            "alpha": 0.05,
            "confidence": 0.95,
        },
        "decision": {
            "windows": [["2023-05-01", "2023-05-14"]],
            "pools": ["contractor"],
            "sectors": ["TCA"],
            "headcount": [[[10.0]]],
        },
        "constraints": [],
        "search": {"flow_replications_run": 16, "certification_replications_run": 100},
        "timings_s": {"total_s": 12.0},
    }
    certificate.update(changes)
    (folder / "certificate.json").write_text(json.dumps(certificate), encoding="utf-8")


def test_a_plans_targets_are_shown_as_given_not_rounded_up(tmp_path: Path) -> None:
    """A plan for 97.5 % of people out of custody within 72 hours, 99.9 % of children, with
    probability 0.975 at 99.9 % confidence was shown as "98 % of people (children: 100 %) ...
    with probability at least 98 %, each claim at 100 % confidence": a target the plan does not
    hold to. Each share is shown with the decimals it has."""
    settings = _settings(tmp_path)
    targets = {"within_72h": 0.975, "children_within_72h": 0.999, "alpha": 0.025}
    _a_plan_of(settings, targets={**targets, "confidence": 0.999})
    with TestClient(create_app(settings, start_worker=False)) as client:
        page = client.get(f"/plans/{PLAN_ID}")
    assert page.status_code == 200, page.text
    said = " ".join(html.unescape(page.text).split())
    assert "97.5 % of people (children: 99.9 %) out of custody within 72 hours" in said
    assert "probability at least 97.5 %, each claim at 99.9 % confidence" in said


def test_a_plans_costs_are_given_to_the_thousand_as_the_cli_gives_them(tmp_path: Path) -> None:
    """The workbench gave a plan's costs to ten thousand dollars ("$0.19M"), where `bordersim
    plan` and its report give them to the thousand ("$0.193M"): a pool of a few people read
    "$0.00M". The plan's page and the list of plans give them as the CLI does."""
    settings = _settings(tmp_path)
    pools = {"contractor": 190_000.0, "active_duty": 3_000.0}
    _a_plan_of(settings, cost_dollars=193_000.0, cost_by_pool_dollars=pools)
    with TestClient(create_app(settings, start_worker=False)) as client:
        shown = re.sub(r"<[^>]+>", "", client.get(f"/plans/{PLAN_ID}").text)
        page = " ".join(html.unescape(shown).split())
        listed = " ".join(html.unescape(client.get("/plans").text).split())
    assert "Cost: $0.193M of planned staff (contractor $0.190M, active_duty $0.003M)" in page
    assert "Lower bound: $1.500M" in page and "contractor: peak 10 people, $0.190M" in page
    assert "$0.00M" not in page
    assert "<td>$0.193M</td> <td>$1.500M</td>" in listed


def test_the_frontier_box_names_the_plan_files_shares(tmp_path: Path) -> None:
    """The plan page's frontier box said "also plan for 90 % and 99 %" whatever the plan file's
    search.frontier (and whatever the target): a file with frontier = [0.80, 0.85] was offered
    shares it never plans. The box names the file's shares."""
    settings = _settings(tmp_path)
    assert settings.plans_dir is not None
    stress = settings.plans_dir / "examples" / "small-stress.toml"
    text = stress.read_text(encoding="utf-8")
    assert "frontier = [0.90, 0.95, 0.99]" in text
    custom = text.replace("frontier = [0.90, 0.95, 0.99]", "frontier = [0.80, 0.85]")
    (settings.plans_dir / "examples" / "custom.toml").write_text(custom, encoding="utf-8")
    with TestClient(create_app(settings, start_worker=False)) as client:
        shipped = " ".join(client.get("/plans?file=examples.small-stress").text.split())
        changed = " ".join(client.get("/plans?file=examples.custom").text.split())
    assert "the cost frontier: the cheapest plan for 90 %, 95 % and 99 % within 72 h" in shipped
    assert "the cheapest plan for 80 % and 85 % within 72 h" in changed
    assert "90 %" not in changed.split('name="frontier"', 1)[1].split("</label>", 1)[0]


def test_a_refused_token_says_what_to_do_and_how_to_authenticate(tmp_path: Path) -> None:
    """A wrong ?token= answered "wrong token" and nothing else, and no 401 carried the
    WWW-Authenticate header HTTP asks for (an API client could not tell how to authenticate).
    Every 401 says where the token comes from, and names the Bearer scheme."""
    with TestClient(create_app(_settings(tmp_path, TOKEN), start_worker=False)) as client:
        wrong = client.get("/scenarios?token=wrong-token")
        missing = client.get("/api/jobs/1")
    assert wrong.status_code == missing.status_code == 401
    assert wrong.text.startswith("wrong token: ") and "bordersim serve" in wrong.text
    for answer in (wrong, missing):
        assert answer.headers["www-authenticate"] == 'Bearer realm="bordersim workbench"'


def test_the_comparison_form_does_not_start_with_a_scenario_against_itself(
    client: TestClient,
) -> None:
    """The library's comparison form started with the first scenario as both A and B, a
    comparison it refuses (422): "compare" as the page came was an error. B starts on the
    second scenario."""
    page = client.get("/scenarios").text
    form = page.split('id="compare-form"', 1)[1].split("</form>", 1)[0]
    a = form.split('name="scenario"', 1)[1].split("</select>", 1)[0]
    b = form.split('name="b"', 1)[1].split("</select>", 1)[0]
    chosen_b = re.search(r'<option value="([^"]+)" selected>', b)
    first_a = re.search(r'<option value="([^"]+)"', a)
    assert chosen_b is not None and first_a is not None
    assert chosen_b.group(1) != first_a.group(1)
    assert "selected" not in a  # A: the first, as before


def test_a_filtered_export_names_its_filter_and_refuses_a_sector_as_the_dashboard_does(
    client: TestClient, tmp_path: Path
) -> None:
    """An export of an unknown sector said "unknown sector 'XX'; known: ..." where the run's
    dashboard and the comparison say "sector: 'XX' is not one of this run's (...)"; and an export
    of one sector or metric was downloaded under the full export's name, RUN.csv. The export now
    refuses a sector in the dashboard's words, and a filtered file's name says what it holds."""
    run_id = _store_with_a_run(tmp_path)
    refused = client.get(f"/runs/{run_id}/export.csv?sector=XX")
    dashboard = client.get(f"/runs/{run_id}?sector=XX")
    assert refused.status_code == dashboard.status_code == 422
    said = "unknown sector 'XX'; known: TCA, RGV"  # in bordersim export's words
    assert said in html.unescape(refused.text), refused.text
    assert said in html.unescape(dashboard.text), dashboard.text

    def file_name(query: str) -> str:
        response = client.get(f"/runs/{run_id}/export.csv{query}")
        assert response.status_code == 200, response.text
        disposition = response.headers["content-disposition"]  # filename*= where quoted
        return unquote(re.split(r"filename\*?=(?:utf-8'')?", disposition)[1].strip('"'))

    assert file_name("") == f"{run_id}.csv"
    assert file_name("?sector=TCA") == f"{run_id}_sector-TCA.csv"
    assert file_name("?metric=encounters,gotaways&sector=RGV") == (
        f"{run_id}_sector-RGV_metric-encounters+gotaways.csv"
    )


def test_the_health_check_is_not_ok_without_a_worker(tmp_path: Path) -> None:
    """/healthz answered 200 {"ok": true} with "worker": false, so a monitor reading its status
    or "ok" saw a healthy workbench that could run no job. Without a worker it is now a 503 with
    "ok": false; with one, a 200 with "ok": true."""
    with TestClient(create_app(_settings(tmp_path), start_worker=False)) as client:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"ok": False, "worker": False}
    with TestClient(create_app(_settings(tmp_path))) as client:
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"ok": True, "worker": True}


def test_an_export_address_takes_its_extension_in_any_case(
    client: TestClient, tmp_path: Path
) -> None:
    """`/runs/ID/export.CSV` was a 404 ("no export format 'CSV'") where `bordersim export
    --format CSV` writes the file. The extension is now read in any case, as --format is, and
    the file is named with it in lower case."""
    run_id = _store_with_a_run(tmp_path)
    for extension, media_type in (("CSV", "text/csv"), ("Parquet", "application/vnd.apache")):
        response = client.get(f"/runs/{run_id}/export.{extension}?metric=encounters")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media_type)
        disposition = response.headers["content-disposition"]
        assert f"{run_id}_metric-encounters.{extension.lower()}" in disposition


def test_an_export_reads_its_filters_as_bordersim_export_does(
    client: TestClient, tmp_path: Path
) -> None:
    """`?metric=encounters, gotaways` was refused ("unknown metric ' gotaways' (did you mean
    'gotaways'?)") where `bordersim export --metric 'encounters, gotaways'` takes both; and of
    `?metric=encounters&metric=gotaways` only the last was exported, silently. The names are now
    read as the CLI reads them: joined by commas, spaces around them dropped, or repeated."""
    run_id = _store_with_a_run(tmp_path)
    response = client.get(
        f"/runs/{run_id}/export.csv",
        params=[
            ("metric", "encounters, gotaways"),
            ("metric", "cost_total_dollars"),
            ("sector", "RGV ,"),
            ("sector", ""),
        ],
    )
    assert response.status_code == 200, response.text
    table = pd.read_csv(io.StringIO(response.text))
    assert sorted(set(table["metric"])) == ["cost_total_dollars", "encounters", "gotaways"]
    assert set(table["sector"]) == {"RGV"}
    disposition = unquote(response.headers["content-disposition"])
    assert f"{run_id}_sector-RGV_metric-encounters+gotaways+cost_total_dollars.csv" in disposition


def test_an_export_is_downloaded_under_a_safe_file_name(client: TestClient, tmp_path: Path) -> None:
    """The download's file name kept each filter as typed: `?metric=staff_hours:*` offered a
    name with ':' and '*' (refused or changed by Windows and macOS), `?metric=[/e]ncounters` a
    '/' (the export failed, 500), and many metrics named one by one a name past the 255
    characters a file system takes (a 500: "File name too long"). The name now holds letters,
    digits, '_', '-', '+' and '.' only, and is cut to a length every file system takes."""
    from bordersim.results.schema import DAILY_METRICS

    run_id = _store_with_a_run(tmp_path)

    def file_name(metric: str) -> str:
        response = client.get(f"/runs/{run_id}/export.csv", params={"metric": metric})
        assert response.status_code == 200, response.text
        disposition = response.headers["content-disposition"]
        return unquote(re.split(r"filename\*?=(?:utf-8'')?", disposition)[1].strip('"'))

    assert file_name("staff_hours:*") == f"{run_id}_metric-staff_hours.csv"
    assert file_name("[/e]ncounters") == f"{run_id}_metric-e-ncounters.csv"
    many = [name for name in DAILY_METRICS if name.startswith("staff_hours:")][:20]
    long_name = file_name(",".join(many))
    assert len(long_name.encode()) <= 200 and long_name.endswith(".csv")
    assert long_name.startswith(f"{run_id}_metric-staff_hours-")
    assert re.fullmatch(r"[A-Za-z0-9_+.-]+", long_name)
    assert long_name != file_name(",".join(many[:19]))  # another choice, another name


def test_a_sector_is_refused_in_bordersim_export_s_words_on_every_page(
    client: TestClient, tmp_path: Path
) -> None:
    """The dashboard, the comparison and the export refused a sector in the workbench's own
    words, "sector: 'RVG' is not one of this run's (TCA, RGV)", for a typo too, where `bordersim
    export` says "unknown sector 'RVG' (did you mean 'RGV'?)" and keeps "is not one of this
    run's" for a sector of the border the run does not simulate. Each page now refuses it in the
    export's words (the run's sectors in its own order), and takes a sector in any case, as the
    export does."""
    a, b = _store_with_a_run(tmp_path), _store_with_a_run(tmp_path)
    pages = (f"/runs/{a}?sector=", f"/compare?a={a}&b={b}&sector=", f"/runs/{a}/export.csv?sector=")
    said = {
        "EPT": "sector 'EPT' is not one of this run's (TCA, RGV)",
        "RVG": "unknown sector 'RVG' (did you mean 'RGV'?); known: TCA, RGV",
    }
    for sector, words in said.items():
        for page in pages:
            response = client.get(page + sector)
            assert response.status_code == 422, response.text
            assert f'id="error-message">{words}</p>' in html.unescape(response.text), page
    for page in pages:
        assert client.get(page + "rgv").status_code == 200, page
    dashboard = client.get(f"/runs/{a}?sector=rgv").text
    assert '<option value="RGV" selected>' in dashboard
    assert "Key indicators: RGV (Rio Grande Valley)" in html.unescape(dashboard)


def test_a_job_request_is_checked_as_bordersim_run_checks_it(client: TestClient) -> None:
    """A job of an unknown engine was refused as "engine: 'quantum'; choose one of event, flow"
    where `bordersim run` and `bs.run` say "unknown engine 'quantum'; choose one of: event,
    flow"; and a seed over 2^31 - 1 was refused ("outside 0-2147483647") though `bordersim run
    --seed` takes any up to 2^63 - 1. The request is now checked by the CLI's own check."""
    headers = {"X-CSRF-Token": _csrf(client)}
    job = {"kind": "run", "scenario": "examples.small"}
    response = client.post("/api/jobs", json={**job, "engine": "quantum"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"] == "unknown engine 'quantum'; choose one of: event, flow"
    response = client.post("/api/jobs", json={**job, "seed": 2**40}, headers=headers)
    assert response.status_code == 503, response.text  # taken: queued, but this one has no worker
    response = client.post("/api/jobs", json={**job, "seed": 2**63}, headers=headers)
    assert response.status_code == 422 and "seed" in response.json()["error"]


def test_an_export_file_names_its_filters_as_the_store_spells_them(
    client: TestClient, tmp_path: Path
) -> None:
    """`?sector=rgv&metric=Encounters` exported RGV's encounters, as asked, under the name
    `ID_sector-rgv_metric-Encounters.csv`; the name now spells them as the file's rows do."""
    run_id = _store_with_a_run(tmp_path)
    response = client.get(f"/runs/{run_id}/export.csv?sector=rgv&metric=Encounters")
    assert response.status_code == 200, response.text
    assert set(pd.read_csv(io.StringIO(response.text))["sector"]) == {"RGV"}
    disposition = response.headers["content-disposition"]
    assert f'filename="{run_id}_sector-RGV_metric-encounters.csv"' in disposition


def test_an_unknown_plan_is_said_to_be_unknown_and_where_plans_are_listed(
    client: TestClient,
) -> None:
    """`/plans/nope` said "no plan 'nope'" and `/plans/nope/plan.toml` "no file 'plan.toml' of
    plan 'nope'", as if the plan were there without that file; an unknown run names the run
    catalog. Both now say there is no such plan, and that the plan page lists those made."""
    said = "no plan 'nope' on this workbench; the plan page (/plans) lists the plans made here"
    for path in ("/plans/nope", "/plans/nope/plan.toml", "/plans/nope/notes.txt"):
        response = client.get(path)
        assert response.status_code == 404
        assert f'id="error-message">{said}</p>' in html.unescape(response.text), path


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ([], "scenarios: no such scenario folder (--scenarios, by default scenarios/ in the "),
        (["--scenarios", "mine"], "mine: no such scenario folder (--scenarios)"),
        (["--plans", "mine"], "mine: no such plan folder (--plans)"),
        (["--out", "notes.txt"], "notes.txt: is a file, not a report folder (--out)"),
    ],
)
def test_a_folder_refused_at_start_names_its_option(
    given: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`bordersim serve` from a folder with no scenarios/ said "error: scenarios: no such
    scenario folder", naming no option (nor that it was the default); a --plans or --out
    refused named only its path. Each refusal now names its option too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    if given and given[0] != "--scenarios":
        (tmp_path / "scenarios").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", *given, "--store", str(tmp_path / "new" / "store.duckdb")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {said}"), err
    assert not (tmp_path / "new").exists()


def test_opening_the_plan_check_address_says_it_takes_post(client: TestClient) -> None:
    """`GET /plans/check` answered 404 "no plan 'check'", read as a plan's address, where every
    other address that takes POST only (a job's cancel, the editor's save) says so with a 405."""
    response = client.get("/plans/check")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    said = "GET /plans/check: this address takes POST only"
    assert f'id="error-message">{said}</p>' in html.unescape(response.text)


def test_more_replications_than_the_workbench_runs_are_refused_naming_its_cap(
    client: TestClient,
) -> None:
    """A run of 500 replications was refused as "replications: 500 is outside 1-200", as if 500
    were no count of replications, where `bordersim run` takes it and the plan page says "at
    most 64 in the workbench (use bordersim plan for more)". It is now refused in the plan
    page's words."""
    form = {"csrf_token": _csrf(client), "kind": "run", "scenario": "examples.small"}
    response = client.post("/jobs", data={**form, "replications": "500"})
    assert response.status_code == 422
    said = (
        "replications: 500: at most 200 in the workbench (use bordersim run or bordersim "
        "compare for more)"
    )
    assert f'id="error-message">{said}</p>' in html.unescape(response.text)
    response = client.post("/jobs", data={**form, "replications": "0"})
    assert response.status_code == 422 and "replications: 0 is outside 1-200" in response.text


def test_all_sectors_are_chosen_in_any_case(client: TestClient, tmp_path: Path) -> None:
    """A dashboard takes a sector in any case (`?sector=rgv`), but `?sector=ALL` was refused
    as "unknown sector 'ALL'", the whole border being spelled `all` only."""
    a, b = _store_with_a_run(tmp_path), _store_with_a_run(tmp_path)
    for page in (f"/runs/{a}?sector=ALL", f"/compare?a={a}&b={b}&sector=All"):
        response = client.get(page)
        assert response.status_code == 200, response.text
        assert '<option value="all" selected>' in response.text


def test_all_months_are_chosen_in_any_case(client: TestClient, tmp_path: Path) -> None:
    """`?month=ALL` was refused as "month: 'ALL' is not in this run", where `?sector=ALL` is all
    sectors: all months are now chosen in any case too."""
    run_id = _store_with_a_run(tmp_path)
    response = client.get(f"/runs/{run_id}?month=ALL")
    assert response.status_code == 200, response.text
    assert "Top gaps in weeks starting in" not in response.text  # every month's weeks


def test_an_unknown_scenario_or_plan_file_says_where_they_are_listed(client: TestClient) -> None:
    """An unknown run names the run catalog and an unknown job the jobs page, but an unknown
    scenario or plan file said only "no scenario 'nope' in the library". Each now names the
    page that lists them."""
    said = {
        "/scenarios/nope": "no scenario 'nope' in the library; the scenario library (/scenarios) "
        "lists them",
        "/plans?file=nope": "no plan file 'nope' in the library; the plan page (/plans) offers "
        "them",
    }
    for path, words in said.items():
        response = client.get(path)
        assert response.status_code == 404
        assert f'id="error-message">{words}</p>' in html.unescape(response.text), path


def test_serve_prints_its_address_with_the_token_as_it_is(tmp_path: Path) -> None:
    """A token with a part like a style (`[bold]`) was printed without it in the address serve
    gives to open, so the address copied from it was refused (401); it is printed as it is."""
    from workbench_server import start_workbench, stop_workbench

    token = "shared-[bold]-token-0123456789"
    stop_workbench(start_workbench(tmp_path, token=token))
    log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert f"/?token={token} (Ctrl-C stops it)" in log, log


@pytest.mark.parametrize("folder", ["path", "[bold]path"])
def test_serve_says_when_it_makes_a_new_store(tmp_path: Path, folder: str) -> None:
    """`serve --store path/new/x.duckdb` made the folders and an empty store without a word, so
    a mistyped --store opened an empty workbench; it now says which store it made, and where,
    with the path as it is (a folder named like a style, `[bold]`, is not read as one)."""
    from workbench_server import start_workbench, stop_workbench

    store = tmp_path / folder / "new" / "x.duckdb"
    bench = start_workbench(tmp_path, "--store", str(store))
    stop_workbench(bench)
    log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert store.is_file()
    assert f"new store {store}" in log and f"(with its folder {tmp_path / folder})" in log
    again = start_workbench(tmp_path, "--store", str(store))
    stop_workbench(again)
    assert "new store" not in (tmp_path / "server.log").read_text(encoding="utf-8")


def test_a_comparison_names_an_engine_and_a_number_of_replications_once_where_both_agree(
    client: TestClient, tmp_path: Path
) -> None:
    """The comparison page read "event / event engine, 1 / 1 replications" of two runs of one
    engine and one replication each; what both sides share is said once, what differs by side."""
    x, y = (_store_with_a_run(tmp_path, replications=1) for _ in range(2))
    single = html.unescape(client.get(f"/compare?a={x}&b={y}").text)
    assert "; event engine, 1 replication each." in single
    assert "event / event" not in single
    z = _store_with_a_run(tmp_path, replications=3)
    differing = html.unescape(client.get(f"/compare?a={x}&b={z}").text)
    assert "; event engine, 1 / 3 replications." in differing
    w = _store_with_a_run(tmp_path, replications=3)
    three = html.unescape(client.get(f"/compare?a={z}&b={w}").text)
    assert "; event engine, 3 replications each." in three


def test_an_empty_sector_is_all_sectors_on_every_page_as_on_the_downloads(
    client: TestClient, tmp_path: Path
) -> None:
    """The dashboard and the comparison refused `?sector=` ("unknown sector ''") and a sector
    with spaces around it (`?sector= rgv `), where the export under the dashboard's title reads
    an empty sector as no filter and leaves the spaces out; every page now reads them as the
    export does."""
    a, b = _store_with_a_run(tmp_path), _store_with_a_run(tmp_path)
    for page in (f"/runs/{a}", f"/compare?a={a}&b={b}"):
        join = "&" if "?" in page else "?"
        whole = client.get(page).text
        for empty in ("", " "):
            response = client.get(f"{page}{join}sector={empty}")
            assert response.status_code == 200, response.text
            assert response.text == whole, page
        spaced = client.get(f"{page}{join}sector= rgv ")
        assert spaced.status_code == 200, spaced.text
        assert spaced.text == client.get(f"{page}{join}sector=RGV").text, page
    dashboard = client.get(f"/runs/{a}?sector=").text
    assert '<option value="all" selected>' in dashboard
    assert "Key indicators: all sectors" in html.unescape(dashboard)
    assert client.get(f"/runs/{a}/export.csv?sector=").content == (
        client.get(f"/runs/{a}/export.csv").content
    )


def test_an_empty_month_is_every_month_as_an_empty_sector_is_every_sector(
    client: TestClient, tmp_path: Path
) -> None:
    """The dashboard refused `?month=` ("month: '' is not in this run (2023-05)") and a month
    with spaces around it, where it reads an empty sector as all sectors; a month is read as its
    sector is now."""
    a = _store_with_a_run(tmp_path)
    whole = client.get(f"/runs/{a}").text
    for empty in ("", " "):
        response = client.get(f"/runs/{a}?month={empty}")
        assert response.status_code == 200, response.text
        assert response.text == whole
    spaced = client.get(f"/runs/{a}?month= 2023-05 ")
    assert spaced.status_code == 200, spaced.text
    assert spaced.text == client.get(f"/runs/{a}?month=2023-05").text
    unknown = client.get(f"/runs/{a}?month=2023-13")
    assert unknown.status_code == 422
    assert "month: '2023-13' is not in this run (2023-05)" in html.unescape(unknown.text)


def test_a_head_request_is_answered_as_its_get_without_the_body(
    client: TestClient, tmp_path: Path
) -> None:
    """`curl -I` of a page (or a monitor's HEAD of /healthz) got 405 "this address takes GET
    only", where HTTP asks every server to take HEAD wherever it takes GET; it now gets the
    GET's status and headers, with no body."""
    run_id = _store_with_a_run(tmp_path)
    for address in ("/scenarios", "/runs", f"/runs/{run_id}", f"/runs/{run_id}/export.csv"):
        got, head = client.get(address), client.head(address)
        assert head.status_code == 200, address
        assert head.content == b"", address
        assert head.headers["content-type"] == got.headers["content-type"], address
    export = client.head(f"/runs/{run_id}/export.csv?sector=TCA")
    assert f"{run_id}_sector-TCA.csv" in export.headers["content-disposition"]
    assert int(export.headers["content-length"]) == len(
        client.get(f"/runs/{run_id}/export.csv?sector=TCA").content
    )
    health = client.head("/healthz")  # this workbench has no worker
    assert (health.status_code, health.content) == (503, b"")
    assert client.head(f"/runs/{run_id}x").status_code == 404
    cancel = client.head("/jobs/1/cancel")
    assert cancel.status_code == 405 and cancel.headers["allow"] == "POST"


def test_several_sectors_on_a_dashboard_are_refused_as_several_not_as_unknown(
    client: TestClient, tmp_path: Path
) -> None:
    """`?sector=RGV,TCA` on the dashboard was refused as "unknown sector 'RGV,TCA' (did you mean
    'TCA' or 'RGV'?)", though both are the run's and its CSV download takes them as two; it is
    refused as a pattern naming several is: a dashboard shows one sector, or all."""
    a, b = _store_with_a_run(tmp_path), _store_with_a_run(tmp_path)
    said = "sector 'RGV, tca' names RGV, TCA: choose one sector, or all"
    for page in (f"/runs/{a}?sector=", f"/compare?a={a}&b={b}&sector="):
        response = client.get(page + "RGV, tca")
        assert response.status_code == 422, response.text
        assert f'id="error-message">{said}</p>' in html.unescape(response.text), page
        typo = client.get(page + "RGV,RVG")
        assert typo.status_code == 422
        assert "unknown sector 'RVG' (did you mean 'RGV'?)" in html.unescape(typo.text)
        assert client.get(page + "RGV,").status_code == 200  # one name, as the export reads it
    assert client.get(f"/runs/{a}/export.csv?sector=RGV, tca").status_code == 200


def _checked_plan_field(client: TestClient, tmp_path: Path, field: str, value: str) -> str:
    """The message the plan page's check shows beside `field` of the small stress plan's form,
    with `value` typed there."""
    from bordersim.web.plans import plan_form, plan_library
    from bordersim.web.scenarios import library

    settings = _settings(tmp_path)
    assert settings.plans_dir is not None
    plan = plan_library(settings.plans_dir)["examples.small-stress"]
    form = plan_form(plan, library(settings.scenarios_dir)).values
    posted = {**form, field: value, "csrf_token": _csrf(client)}
    reply = html.unescape(client.post("/plans/check", data=posted).text)
    found = re.search(rf'data-field="{re.escape(field)}"[^>]*>([^<]*)<', reply)
    assert found, f"no message beside {field}"
    return found.group(1)


def test_a_required_plan_value_cleared_in_the_form_is_said_to_be_empty_not_none(
    client: TestClient, tmp_path: Path
) -> None:
    """A pool's cap cleared on the plan page was refused beside it as
    "pools.contractor.max_headcount = None: is required", naming a Python value nobody typed; it
    now says the field is empty ('')."""
    said = _checked_plan_field(client, tmp_path, "pools.contractor.max_headcount", "")
    assert said == (
        "pools.contractor.max_headcount = '': is required (the pool's cap on people serving in "
        "each window, border-wide)"
    )


def test_the_plan_page_writes_its_certification_cap_as_bordersim_writes_numbers(
    client: TestClient, tmp_path: Path
) -> None:
    """Certifying on 5000 replications was refused as "at most 1000 in the workbench", where the
    page's docs and every other count bordersim writes say 1,000."""
    said = _checked_plan_field(client, tmp_path, "search.certify_replications", "5000")
    assert said == (
        "search.certify_replications = 5000: at most 1,000 in the workbench (use bordersim plan "
        "for more)"
    )


@pytest.mark.parametrize("seed", [-1, 2**63, "-5"])
def test_a_seed_out_of_range_is_refused_in_bordersim_run_s_words(
    client: TestClient, seed: int | str
) -> None:
    """A run of seed -1 was refused as "seed: -1 is outside 0-9223372036854775807", a number
    to count digits of, where `bordersim run --seed -1` and `bs.run` say "must be a whole number
    from 0 to 2^63 - 1"; the workbench now says it in their words."""
    job = {"kind": "run", "scenario": "examples.small", "seed": seed}
    response = client.post("/api/jobs", json=job, headers={"X-CSRF-Token": _csrf(client)})
    assert response.status_code == 422
    said = f"seed must be a whole number from 0 to 2^63 - 1, got {int(seed)}"
    assert response.json()["error"] == said
    form = {"csrf_token": _csrf(client), **{k: str(v) for k, v in job.items()}}
    page = client.post("/jobs", data=form)
    assert page.status_code == 422
    assert f'id="error-message">{said}</p>' in html.unescape(page.text)


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("a=RUN&b=", "b: give the run id of B (choose it in the run catalog)"),
        ("a=&b=RUN", "a: give the run id of A (choose it in the run catalog)"),
        ("a=+&b=", "a and b: give two run ids (choose them in the run catalog)"),
    ],
)
def test_a_comparison_with_one_run_left_out_names_the_side_left_out(
    client: TestClient, tmp_path: Path, query: str, said: str
) -> None:
    """The catalog's comparison form with B left empty was refused as "a and b: give two run
    ids", as if A were missing too; the refusal names the side left out."""
    run_id = _store_with_a_run(tmp_path)
    response = client.get(f"/compare?{query.replace('RUN', run_id)}")
    assert response.status_code == 422
    assert f'id="error-message">{said}</p>' in html.unescape(response.text)


@pytest.mark.parametrize("engine", ["Flow", " flow", "EVENT "])
def test_a_job_takes_an_engine_in_any_case_as_bordersim_run_does(
    client: TestClient, engine: str
) -> None:
    """A job of engine "Flow" or " flow" was refused "unknown engine 'Flow'", where `bordersim
    run --engine FLOW` takes it: an engine's name is read whatever its case and without the
    spaces around it, by the form and the JSON alike (taken: queued, but this workbench has no
    worker, a 503); a name of no engine is still refused as typed."""
    headers = {"X-CSRF-Token": _csrf(client)}
    job = {"kind": "run", "scenario": "examples.small", "engine": engine}
    response = client.post("/api/jobs", json=job, headers=headers)
    assert response.status_code == 503, response.text
    form = client.post("/jobs", data={"csrf_token": _csrf(client), **job})
    assert form.status_code == 503, form.text
    refused = client.post("/api/jobs", json={**job, "engine": "Quantum "}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"] == "unknown engine 'Quantum '; choose one of: event, flow"


def test_a_cancel_needs_no_body_and_an_unknown_job_is_no_job(tmp_path: Path) -> None:
    """`POST /api/jobs/1/cancel` with no body (curl -X POST) was refused 415 "expected
    application/json", even for a job the workbench never had. A cancel needs no body (its CSRF
    header is still checked); an unknown job is a 404, said so, on either cancel address."""
    with TestClient(create_app(_settings(tmp_path))) as client:
        client.get("/scenarios")
        headers = {"X-CSRF-Token": _csrf(client)}
        unknown = client.post("/api/jobs/99/cancel", headers=headers)
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"].startswith("no job 99 on this workbench")
        page = client.post("/jobs/99/cancel", headers=headers)
        assert page.status_code == 404 and "no job 99" in html.unescape(page.text)
        request = {"kind": "run", "scenario": "examples.small", "replications": 1}
        job = client.post("/api/jobs", json=request, headers=headers).json()["job"]
        assert client.post(f"/api/jobs/{job}/cancel").status_code == 403  # no CSRF header
        reply = client.post(f"/api/jobs/{job}/cancel", headers=headers)
        assert reply.status_code == 200, reply.text
        assert reply.json()["message"].startswith("cancelling"), reply.json()
        deadline = time.monotonic() + 120
        while (state := client.get(f"/api/jobs/{job}").json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
    assert state["state"] == "cancelled", state


@pytest.mark.parametrize(
    ("field", "value"),
    [("replications", "٣"), ("seed", "1_000"), ("seed", "１２"), ("seed", "0x10")],
)
def test_a_job_count_is_written_in_the_digits_0_to_9(
    client: TestClient, field: str, value: str
) -> None:
    """The job form took replications=٣ (an Arabic-Indic digit) as 3 and seed=1_000 as 1000,
    as Python's int() reads them (`bordersim run --replications ٣` refuses it). A count is
    written in the digits 0-9; any other is refused naming its field, by the form and the JSON
    alike (a count in ASCII digits is taken: queued, but this workbench has no worker, a 503)."""
    job = {"kind": "run", "scenario": "examples.small", field: value}
    form = client.post("/jobs", data={"csrf_token": _csrf(client), **job})
    api = client.post("/api/jobs", json=job, headers={"X-CSRF-Token": _csrf(client)})
    assert form.status_code == api.status_code == 422, form.text
    says = f"{field}: {value!r} is not a whole number (digits 0-9)"
    assert says in html.unescape(form.text) and api.json()["error"] == says
    taken = client.post(
        "/api/jobs", json={**job, field: "3"}, headers={"X-CSRF-Token": _csrf(client)}
    )
    assert taken.status_code == 503, taken.text


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        ("search.certify_replications", "٣٠٠", "a whole number"),
        ("search.certify_replications", "3_00", "a whole number"),
        ("pools.contractor.max_headcount", "٥٠", "a number"),
    ],
)
def test_a_plan_number_is_written_in_the_digits_0_to_9(
    client: TestClient, tmp_path: Path, field: str, typed: str, expected: str
) -> None:
    """The plan page took certify_replications = ٣٠٠ (Arabic-Indic digits) as 300 and 3_00 as
    300, as Python's int() reads them, where the plan file is read in the digits 0-9 only. Such
    a number is refused beside its field."""
    said = _checked_plan_field(client, tmp_path, field, typed)
    assert said == f"{field} = {typed!r}: expected {expected}", said


def test_a_plan_takes_its_certifying_engine_in_any_case(client: TestClient, tmp_path: Path) -> None:
    """The plan page refused certify_engine "Flow" ("'Flow': choose event or flow") where
    `bordersim run --engine FLOW` takes it. The engine's name is read whatever its case and
    without the spaces around it; a name of no engine is still refused beside the field."""
    from bordersim.web.plans import plan_form, plan_library
    from bordersim.web.scenarios import library

    settings = _settings(tmp_path)
    assert settings.plans_dir is not None
    plan = plan_library(settings.plans_dir)["examples.small-stress"]
    form = plan_form(plan, library(settings.scenarios_dir)).values
    for typed, engine in (("Flow", "flow"), (" EVENT", "event")):
        posted = {**form, "search.certify_engine": typed, "csrf_token": _csrf(client)}
        reply = html.unescape(client.post("/plans/check", data=posted).text)
        assert "choose event or flow" not in reply, reply
        assert f'certify_engine = "{engine}"' in reply, reply
    said = _checked_plan_field(client, tmp_path, "search.certify_engine", "Quantum")
    assert said == "search.certify_engine = 'Quantum': choose event or flow", said
