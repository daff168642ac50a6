"""The workbench's pages and endpoints (FastAPI, Jinja2 templates, HTMX fragments).

Every handler that reads runs opens the store read-only for as long as it copies data out; the
worker process (`jobs.py`) is the only writer. Runs are addressed by their id, scenarios by an id
from the library listing; neither ever becomes a path without being looked up first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from bordersim.errors import BordersimError
from bordersim.web import dashboards
from bordersim.web.jobs import JobBoard
from bordersim.web.scenarios import (
    GENERAL,
    POOLS,
    TASKS,
    FieldError,
    Form,
    check_variant,
    field_of_error,
    form_from_post,
    form_from_scenario,
    library,
    save_variant,
    variant_data,
    variant_text,
)
from bordersim.web.security import (
    BodyLimit,
    TokenGate,
    csrf_token,
    read_form,
    read_json,
    remember_csrf,
)
from bordersim.web.settings import MAX_REPLICATIONS, RUN_ID_PATTERN, WebSettings

TEMPLATES = Path(str(files("bordersim.web") / "templates"))
STATIC = {
    "htmx.min.js": ("web", "static/htmx.min.js", "text/javascript"),
    "style.css": ("web", "static/style.css", "text/css"),
    "plotly.min.js": ("report", "vendor/plotly-cartesian.min.js", "text/javascript"),
}
ENGINES = ("event", "flow")


def create_app(settings: WebSettings, *, start_worker: bool = True) -> FastAPI:
    board_holder: dict[str, JobBoard] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            board_holder["board"] = JobBoard(settings)
        try:
            yield
        finally:
            if "board" in board_holder:
                board_holder.pop("board").close()

    app = FastAPI(title="bordersim workbench", lifespan=lifespan, docs_url=None, redoc_url=None)
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["today"] = dt.date.today

    def board() -> JobBoard:
        if "board" not in board_holder:
            raise HTTPException(503, "the job worker is not running")
        return board_holder["board"]

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        response = templates.TemplateResponse(
            request,
            name,
            {"csrf": csrf_token(request), "shared": settings.token is not None, **context},
            status_code=status,
        )
        remember_csrf(request, response)
        return response

    # ----- errors: a clear 4xx, never a 500 for a bad request ------

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(request, 422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(BordersimError)
    async def bordersim_error(request: Request, exc: BordersimError) -> Response:
        return _error(request, 400, str(exc))

    def _error(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return page(request, "error.html", status=status, status_code=status, message=message)

    # ----- static files, by name from a fixed list ------

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, f"no static file {name!r}")
        package, relative, media = STATIC[name]
        body = _static_bytes(package, relative)
        return Response(body, media_type=media, headers={"Cache-Control": "max-age=86400"})

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/scenarios", 303)

    # ----- scenario library and editor ------

    def entry_of(scenario_id: str) -> Any:
        entries = library(settings.scenarios_dir)
        if scenario_id not in entries:
            raise HTTPException(404, f"no scenario {scenario_id!r} in the library")
        return entries[scenario_id]

    @app.get("/scenarios", response_class=HTMLResponse)
    def scenarios(request: Request) -> HTMLResponse:
        entries = library(settings.scenarios_dir)
        return page(request, "scenarios.html", entries=list(entries.values()), engines=ENGINES)

    def loaded_base(entry: Any) -> Any:
        from bordersim.scenario import load_scenario

        return load_scenario(entry.path)

    def editor_context(entry: Any, form: Form, scenario: Any, **extra: Any) -> dict[str, Any]:
        return {
            "entry": entry,
            "form": form,
            "scenario": scenario,
            "sectors": [getattr(s, "name", str(s)) for s in scenario.sectors],
            "deployments": list(scenario.deployments),
            "shocks": list(scenario.demand.shocks),
            "pools": POOLS,
            "tasks": TASKS,
            "has_scale": "scale" in type(scenario.demand).model_fields,
            **extra,
        }

    @app.get("/scenarios/{scenario_id}", response_class=HTMLResponse)
    def editor(request: Request, scenario_id: str) -> HTMLResponse:
        entry = entry_of(scenario_id)
        scenario = loaded_base(entry)
        form = form_from_scenario(scenario)
        form.values["variant_name"] = f"{entry.path.stem}-variant"
        return page(request, "editor.html", **editor_context(entry, form, scenario))

    def checked(entry: Any, posted: dict[str, list[str]]) -> tuple[Form, Any, str | None, Any]:
        """The posted form with its errors, the base, the variant text (if it passed), its model."""
        scenario = loaded_base(entry)
        base_form = form_from_scenario(scenario)
        form = form_from_post(posted)
        try:
            data = variant_data(
                form, base_form, entry, list(scenario.deployments), settings.variants_dir
            )
            text = variant_text(data)
            loaded = check_variant(text, settings.variants_dir)
        except FieldError as err:
            form.errors[err.field_name] = str(err)
            return form, scenario, None, None
        except BordersimError as err:
            message = str(err)
            fields = list(form.values) + list(form.lists)
            new_name = form.value("new_deployment.name")
            if new_name:
                fields += [
                    f"deployments.{new_name}.{k}"
                    for k in (
                        "pool",
                        "headcount",
                        "sectors",
                        "tasks",
                        "start_date",
                        "end_date",
                        "duration_days",
                        "ramp_up_days",
                    )
                ]
            name = field_of_error(message, fields)
            if new_name and name.startswith(f"deployments.{new_name}."):
                name = "new_deployment." + name.split(".", 2)[2]
            form.errors[name] = _short(message)
            return form, scenario, None, None
        return form, scenario, text, loaded

    @app.post("/scenarios/{scenario_id}/check", response_class=HTMLResponse)
    async def check(request: Request, scenario_id: str) -> HTMLResponse:
        entry = entry_of(scenario_id)
        posted = await read_form(request)
        form, scenario, text, _ = checked(entry, posted)
        # 200 either way: the check itself worked, and HTMX swaps only successful responses.
        return check_reply(request, entry, form, scenario, text)

    def check_reply(
        request: Request, entry: Any, form: Form, scenario: Any, text: str | None
    ) -> HTMLResponse:
        """The status line, and every field's error message swapped in beside its field (the
        inputs are left alone, so nothing typed meanwhile is lost)."""
        fields = [*form.values, *form.lists, GENERAL]
        fields += [f"deployments.{d}" for d in scenario.deployments]
        fields += [f"deployments.{d}.pool" for d in scenario.deployments]
        fields += [name for name in form.errors if name not in fields]
        return page(
            request,
            "_editor_check.html",
            **editor_context(entry, form, scenario, preview=text),
            error_fields=[f for f in dict.fromkeys(fields) if f != "csrf_token"],
        )

    @app.post("/scenarios/{scenario_id}/save", response_class=HTMLResponse)
    async def save(request: Request, scenario_id: str) -> Response:
        entry = entry_of(scenario_id)
        posted = await read_form(request)
        form, scenario, text, _ = checked(entry, posted)
        if text is None:
            template = "_editor_form.html" if request.headers.get("hx-request") else "editor.html"
            return page(request, template, status=422, **editor_context(entry, form, scenario))
        name = form.value("variant_name")
        save_variant(text, name, settings.variants_dir)
        target = f"/scenarios/variants.{name}?saved=1"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, 303)

    # ----- jobs ------

    def job_request(fields: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        kind = str(fields.get("kind", "run"))
        if kind not in ("run", "compare"):
            raise HTTPException(422, f"kind: {kind!r} is neither 'run' nor 'compare'")
        engine = str(fields.get("engine", "event"))
        if engine not in ENGINES:
            raise HTTPException(422, f"engine: {engine!r}; choose one of {', '.join(ENGINES)}")
        replications = _int_field(fields, "replications", 2, 1, MAX_REPLICATIONS)
        seed = _int_field(fields, "seed", 1, 0, 2**31 - 1)
        common = {"engine": engine, "replications": replications, "seed": seed}
        a = entry_of(str(fields.get("scenario", "")))
        if kind == "run":
            return kind, f"run {a.name}", {**common, "scenario_path": str(a.path)}
        b = entry_of(str(fields.get("b", "")))
        return (
            kind,
            f"compare {a.name} (A) with {b.name} (B)",
            {**common, "a_path": str(a.path), "b_path": str(b.path)},
        )

    @app.post("/jobs")
    async def submit(request: Request) -> Response:
        posted = await read_form(request)
        kind, label, job = job_request({k: v[-1] for k, v in posted.items() if v})
        submitted = board().submit(kind, label, job)
        return RedirectResponse(f"/jobs/{submitted.id}", 303)

    @app.post("/api/jobs")
    async def submit_json(request: Request) -> JSONResponse:
        data = await read_json(request)
        kind, label, job = job_request(data)
        submitted = board().submit(kind, label, job)
        return JSONResponse({"job": submitted.id, "state": submitted.state}, status_code=202)

    @app.get("/api/jobs/{job_id}")
    def job_json(job_id: int) -> JSONResponse:
        job = board().get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return JSONResponse(
            {
                "job": job.id,
                "state": job.state,
                "message": job.message,
                "done": job.done,
                "total": job.total,
                "run_ids": job.run_ids,
            }
        )

    @app.get("/jobs", response_class=HTMLResponse)
    def jobs(request: Request) -> HTMLResponse:
        return page(request, "jobs.html", jobs=board().all())

    def job_of(job_id: int) -> Any:
        job = board().get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: int) -> HTMLResponse:
        return page(request, "job.html", job=job_of(job_id))

    @app.get("/jobs/{job_id}/status", response_class=HTMLResponse)
    def job_status(request: Request, job_id: int) -> HTMLResponse:
        return page(request, "_job_status.html", job=job_of(job_id))

    @app.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
    async def job_cancel(request: Request, job_id: int) -> Response:
        await read_form(request)
        job = board().cancel(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        if request.headers.get("hx-request"):
            return page(request, "_job_status.html", job=job)
        return RedirectResponse(f"/jobs/{job_id}", 303)

    # ----- runs: catalog, dashboards, downloads ------

    @contextlib.contextmanager
    def reading() -> Iterator[duckdb.DuckDBPyConnection]:
        gate = board_holder["board"].gate if "board" in board_holder else None
        with read_only(settings.store, gate) as connection:
            yield connection

    def run_id_of(run_id: str) -> str:
        if not RUN_ID_PATTERN.match(run_id):
            raise HTTPException(404, f"no run {run_id!r}")
        return run_id

    @app.get("/runs", response_class=HTMLResponse)
    def runs(request: Request) -> HTMLResponse:
        from bordersim.store.runs import list_runs

        if not settings.store.is_file():
            return page(request, "runs.html", runs=[])
        with reading() as connection:
            stored = list_runs(connection)
        return page(request, "runs.html", runs=list(reversed(stored)))

    def stored_run(run_id: str) -> Any:
        from bordersim.store.runs import COMPLETE, get_run

        run_id_of(run_id)
        if not settings.store.is_file():
            raise HTTPException(404, f"no run {run_id!r}: the store is empty")
        with reading() as connection:
            try:
                stored = get_run(connection, run_id)
            except BordersimError as err:
                raise HTTPException(404, str(err)) from None
        if stored.status != COMPLETE:
            raise HTTPException(409, f"run {run_id} is {stored.status}: it has no results")
        return stored

    def result_of(run_id: str) -> Any:
        from bordersim.store.runs import load_result

        stored = stored_run(run_id)
        key = (str(settings.store), run_id, stored.finished_at)
        cached = _RESULTS.get(key)
        if cached is None:
            with reading() as connection:
                cached = load_result(connection, run_id)
            _RESULTS.put(key, cached)
        return cached

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(
        request: Request, run_id: str, sector: str = "all", month: str = "all"
    ) -> HTMLResponse:
        stored = stored_run(run_id)
        result = result_of(run_id)
        view = dashboards.run_dashboard(result, sector=sector, month=month)
        template = "_run_charts.html" if request.headers.get("hx-request") else "run.html"
        return page(request, template, run=stored, view=view, sector=sector, month=month)

    @app.get("/runs/{run_id}/report")
    def run_report(run_id: str) -> Response:
        stored = stored_run(run_id)
        path = Path(stored.report_path) if stored.report_path else None
        if path is not None and path.is_file() and _inside(path, settings.out_dir):
            return FileResponse(path, media_type="text/html")
        from bordersim.report.run_report import run_report_page
        from bordersim.services.record import stored_record
        from bordersim.validation.reference import load_official_monthly

        with reading() as connection:
            record = stored_record(connection, run_id)
        official, reason = load_official_monthly()
        html = run_report_page(record, official=official, official_reason=reason).render()
        return HTMLResponse(html)

    @app.get("/runs/{run_id}/export.{file_format}")
    def run_export(run_id: str, file_format: str, metric: str = "", sector: str = "") -> Response:
        from bordersim.report.export import FORMATS, MEDIA_TYPES, export_run

        if file_format not in FORMATS:
            raise HTTPException(404, f"no export format {file_format!r}; use csv or parquet")
        stored_run(run_id)
        metrics = [m for m in metric.split(",") if m]
        sectors = [s for s in sector.split(",") if s]
        folder = Path(tempfile.mkdtemp(prefix="bordersim-export-"))
        out = folder / f"{run_id}.{file_format}"
        with reading() as connection:
            export_run(
                connection, run_id, out, file_format=file_format, metrics=metrics, sectors=sectors
            )
        return FileResponse(
            out,
            media_type=MEDIA_TYPES[file_format],
            filename=out.name,
            background=BackgroundTask(_remove_folder, folder),
        )

    @app.get("/compare", response_class=HTMLResponse)
    def compare(request: Request, a: str = "", b: str = "") -> HTMLResponse:
        if not a or not b:
            raise HTTPException(422, "a and b: give two run ids (choose them in the run catalog)")
        stored_a, stored_b = stored_run(a), stored_run(b)
        sector = request.query_params.get("sector", "all")
        view = dashboards.compare_dashboard((a, result_of(a)), (b, result_of(b)), sector=sector)
        template = "_compare_charts.html" if request.headers.get("hx-request") else "compare.html"
        return page(request, template, a=stored_a, b=stored_b, view=view, sector=sector)

    @app.get("/healthz")
    def health() -> JSONResponse:
        alive = "board" in board_holder and board_holder["board"].worker_alive()
        return JSONResponse({"ok": True, "worker": alive})

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.token:
        app.add_middleware(TokenGate, token=settings.token)
    return app


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _short(message: str) -> str:
    """An error without the temporary file's path (the CLI prints it; the form shows the field)."""
    return (
        message.split(": ", 1)[1] if message.startswith(("/", ".")) and ": " in message else message
    )


def _int_field(fields: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = fields.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise HTTPException(422, f"{name}: {raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise HTTPException(422, f"{name}: {value} is outside {low}-{high}")
    return value


@functools.cache
def _static_bytes(package: str, relative: str) -> bytes:
    return (files(f"bordersim.{package}") / relative).read_bytes()


class _Results:
    """Complete runs' results, read once each: a complete run never changes (a few kept)."""

    def __init__(self, size: int = 16) -> None:
        self._items: dict[Any, Any] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._items.get(key)

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                del self._items[next(iter(self._items))]


_RESULTS = _Results()


@contextlib.contextmanager
def read_only(
    path: Path, gate: Any = None, wait_s: float = 60.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store opened read-only, waiting while the worker writes to it."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if gate is not None:
                if not gate.acquire(timeout=max(0.1, deadline - time.monotonic())):
                    raise HTTPException(503, "the store is busy; try again")
                try:
                    connection = duckdb.connect(str(path), read_only=True)
                finally:
                    gate.release()
            else:
                connection = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.Error as err:
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                raise HTTPException(503, f"the store is busy; try again ({err})") from None
            time.sleep(0.05)
    try:
        yield connection
    finally:
        connection.close()


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _remove_folder(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
