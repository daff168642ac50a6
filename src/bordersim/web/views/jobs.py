"""Jobs: submit a run or a comparison, follow its progress, cancel it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bordersim.errors import ModelError
from bordersim.services.record import check_request
from bordersim.web.security import read_form, read_json, read_nothing_or
from bordersim.web.settings import MAX_REPLICATIONS
from bordersim.web.site import Site, int_field, job_number, no_job, whole_field
from bordersim.web.views.scenarios import entry_of
from bordersim.words import counted


def job_request(site: Site, fields: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """A run or comparison request from a form or JSON: (kind, label, the worker's request)."""
    kind = str(fields.get("kind", "run"))
    if kind not in ("run", "compare"):
        raise HTTPException(422, f"kind: {kind!r} is neither 'run' nor 'compare'")
    engine = engine_named(fields.get("engine", "event"))
    # a count the CLI takes, over the workbench's cap, is said so, as the plan page says it
    over = "in the workbench (use bordersim run or bordersim compare for more)"
    replications = int_field(fields, "replications", 2, 1, MAX_REPLICATIONS, over=over)
    seed = whole_field(fields, "seed", 1)  # its range is checked below, in the CLI's words
    try:  # in the words of `bordersim run` and `bs.run`, which check the same
        check_request(engine, replications, records=False, seed=seed)
    except ModelError as err:
        raise HTTPException(422, str(err)) from None
    common = {"engine": engine, "replications": replications, "seed": seed}
    # as a run's page says it: two runs of one scenario are told apart in the list of jobs
    how = f"{engine} engine, {counted(replications, 'replication')} from seed {seed}"
    a = entry_of(site, str(fields.get("scenario", "")), "scenario")
    if kind == "run":
        return kind, f"run {a.name}, {how}", {**common, "scenario_path": str(a.path)}
    b = entry_of(site, str(fields.get("b", "")), "b")
    if b.path == a.path:
        # Both sides run with one seed and engine: B would repeat A, replication for
        # replication, and every difference be exactly zero.
        raise HTTPException(
            422,
            f"b: {b.id} is A too; a scenario compared with itself (one seed, one engine) "
            "differs by nothing: choose another scenario for B",
        )
    return (
        kind,
        f"compare {a.name} (A) with {b.name} (B), {how}",
        {**common, "a_path": str(a.path), "b_path": str(b.path)},
    )


def engine_named(value: Any) -> Any:
    """An engine's name whatever its case and without the spaces around it, as `bordersim run
    --engine FLOW` reads it; a name of no engine is kept as given, for the refusal to quote."""
    from bordersim.engines import ENGINES

    if not isinstance(value, str):
        return value
    name = value.strip().lower()
    return name if name in ENGINES else value


def job_json(job: Any) -> dict[str, Any]:
    return {
        "job": job.id,
        "state": job.state,
        "message": job.message,
        "done": job.done,
        "total": job.total,
        "run_ids": job.run_ids,
        "plan_id": job.plan_id,
    }


def router(site: Site) -> APIRouter:
    api = APIRouter()

    @api.post("/jobs")
    async def submit(request: Request) -> Response:
        posted = await read_form(request)
        kind, label, job = job_request(site, {k: v[-1] for k, v in posted.items() if v})
        submitted = site.board.submit(kind, label, job)
        return RedirectResponse(f"/jobs/{submitted.id}", 303)

    @api.post("/api/jobs")
    async def submit_json(request: Request) -> JSONResponse:
        kind, label, job = job_request(site, await read_json(request))
        submitted = site.board.submit(kind, label, job)
        return JSONResponse({"job": submitted.id, "state": submitted.state}, status_code=202)

    @api.get("/api/jobs/{job_id}")
    def job_state(job_id: str) -> JSONResponse:
        return JSONResponse(job_json(site.job_of(job_id)))

    @api.get("/jobs", response_class=HTMLResponse)
    def jobs(request: Request) -> HTMLResponse:
        return site.page(request, "jobs.html", jobs=site.board.all())

    @api.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: str) -> HTMLResponse:
        return site.page(request, "job.html", job=site.job_of(job_id))

    @api.get("/jobs/{job_id}/status", response_class=HTMLResponse)
    def job_status(request: Request, job_id: str) -> HTMLResponse:
        number = job_number(job_id)
        if request.headers.get("hx-request") and site.board.get(number) is None:
            # A job page's refresh, after a restart (jobs are kept in memory): HTMX swaps no 4xx
            # reply, so a 404 left the page saying "running" for ever. Say so, and stop.
            return site.page(request, "_job_gone.html", job_id=number)
        return site.page(request, "_job_status.html", job=site.job_of(job_id))

    @api.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
    async def job_cancel(request: Request, job_id: str) -> Response:
        await read_nothing_or(request, read_form)  # its CSRF token checked before all else
        number = job_number(job_id)
        if site.board.get(number) is None:
            raise no_job(number)
        job = site.board.cancel(number)
        if job is None:
            raise no_job(number)
        if request.headers.get("hx-request"):
            return site.page(request, "_job_status.html", job=job)
        return RedirectResponse(f"/jobs/{number}", 303)

    @api.post("/api/jobs/{job_id}/cancel")
    async def job_cancel_json(request: Request, job_id: str) -> JSONResponse:
        await read_nothing_or(request, read_json)  # its CSRF token checked before all else
        number = job_number(job_id)
        if site.board.get(number) is None:
            raise no_job(number)
        job = site.board.cancel(number)
        if job is None:
            raise no_job(number)
        return JSONResponse(job_json(job))

    return api
