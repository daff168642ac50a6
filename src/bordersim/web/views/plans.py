"""The plan page: define a plan from a plan file and the form, run it as a job, see the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from bordersim.web.plans import (
    ENGINES,
    FORECAST_FIELDS,
    GENERAL_FIELDS,
    PLAN_FILES,
    POOL_FIELDS,
    PlanFile,
    certificate_of,
    check_plan,
    downloaded_plan_toml,
    finished_plans,
    frontier_words,
    plan_folder,
    plan_form,
    plan_library,
    plan_view,
    pools_of,
    unlisted_plans,
)
from bordersim.web.scenarios import GENERAL, Form, form_from_post, library
from bordersim.web.security import read_form
from bordersim.web.settings import WebSettings
from bordersim.web.site import Site

MEDIA = {"plan.toml": "text/plain", "certificate.json": "application/json", "report.html": None}


def plans_folder_shown(settings: WebSettings) -> str | None:
    """The plan folder as the plan page names it (as the scenario folder is named: see
    `WebSettings.shown_folder`); None where the workbench has none."""
    if settings.plans_dir is None:
        return None
    return settings.shown_folder(settings.plans_dir, "plans")


def router(site: Site) -> APIRouter:
    api = APIRouter()

    def plan_file(plan_id: str) -> PlanFile:
        plans = plan_library(site.settings.plans_dir)
        if plan_id not in plans:
            offered = "offers them" if plans else "says why it has none, and how to add one"
            raise HTTPException(
                404, f"no plan file {plan_id!r} in the library; the plan page (/plans) {offered}"
            )
        return plans[plan_id]

    def made_plan(plan_id: str) -> Path:
        """A plan's folder; a 404 that says where the plans are listed otherwise, as an
        unknown run's names the run catalog."""
        folder = plan_folder(site.settings.plans_out, plan_id)
        if folder is None:
            raise HTTPException(
                404,
                f"no plan {plan_id!r} on this workbench; the plan page (/plans) lists the plans "
                "made here",
            )
        return folder

    def context(plan: PlanFile, form: Form, **extra: Any) -> dict[str, Any]:
        return {
            "plan": plan,
            "form": form,
            "plans": list(plan_library(site.settings.plans_dir).values()),
            "scenarios": list(library(site.settings.scenarios_dir)),
            "general_fields": GENERAL_FIELDS,
            "forecast_fields": FORECAST_FIELDS,
            "pool_fields": POOL_FIELDS,
            "pools": pools_of(plan),
            "engines": ENGINES,
            "finished": finished_plans(site.settings.plans_out),
            "left_out": unlisted_plans(site.settings.plans_dir),
            "frontier": frontier_words(plan),
            **extra,
        }

    def posted_plan(posted: dict[str, list[str]]) -> tuple[PlanFile, Form, Any]:
        """The plan file, the form with its errors, and the checked request (None if refused)."""
        form = form_from_post(posted)
        plan = plan_file(form.value("plan_file"))
        scenarios = library(site.settings.scenarios_dir)
        chosen = form.value("scenario")
        if chosen not in scenarios:
            form.errors["scenario"] = f"scenario = {chosen!r}: choose one from the library"
            return plan, form, None
        return plan, form, check_plan(form, plan, scenarios[chosen])

    def no_plan_files_page(request: Request) -> HTMLResponse:
        """The plan page without a form: a 404 hid the plans made here, and did not say how to
        add a plan file."""
        return site.page(
            request,
            "plans.html",
            plan=None,
            plans_folder=plans_folder_shown(site.settings),
            finished=finished_plans(site.settings.plans_out),
            left_out=unlisted_plans(site.settings.plans_dir),
        )

    @api.get("/plans", response_class=HTMLResponse)
    def plans_page(request: Request, file: str = "") -> HTMLResponse:
        first = next(iter(plan_library(site.settings.plans_dir)), "")
        if not file and not first:
            return no_plan_files_page(request)
        plan = plan_file(file or first)  # a 404 for a plan file the library does not have
        form = plan_form(plan, library(site.settings.scenarios_dir))
        return site.page(request, "plans.html", **context(plan, form))

    @api.post("/plans/check", response_class=HTMLResponse)
    async def plans_check(request: Request) -> HTMLResponse:
        plan, form, checked = posted_plan(await read_form(request))
        names = [key for key, _, _ in GENERAL_FIELDS + FORECAST_FIELDS] + ["scenario", GENERAL]
        names += [f"pools.{p}.{key}" for p in pools_of(plan) for key, _, _ in POOL_FIELDS]
        names += [name for name in form.errors if name not in names]
        return site.page(
            request, "_plan_check.html", form=form, checked=checked, error_fields=names
        )

    @api.post("/plans")
    async def plans_submit(request: Request) -> Response:
        plan, form, checked = posted_plan(await read_form(request))
        if checked is None:
            return site.page(request, "plans.html", status=422, **context(plan, form))
        job = site.board.submit("plan", checked.label, checked.request)
        return RedirectResponse(f"/jobs/{job.id}", 303)

    @api.get("/plans/check")
    def plans_check_opened() -> Response:
        # the form's check takes POST only; opened, it was read as a plan named 'check' (404)
        raise HTTPException(405, headers={"Allow": "POST"})

    @api.get("/plans/{plan_id}", response_class=HTMLResponse)
    def plan_page(request: Request, plan_id: str) -> HTMLResponse:
        folder = made_plan(plan_id)
        try:
            view = plan_view(plan_id, certificate_of(folder))
            return site.page(request, "plan.html", view=view, data=view.data)
        except (OSError, ValueError, LookupError, TypeError, AttributeError) as err:
            # damaged, or written by a bordersim whose certificate differs: its files still are
            raise HTTPException(
                409,
                f"plan {plan_id!r}: its certificate.json cannot be shown ({type(err).__name__}: "
                f"{err}); its files can still be downloaded from /plans/{plan_id}/FILE",
            ) from None

    @api.get("/plans/{plan_id}/{name}")
    def plan_download(plan_id: str, name: str) -> Response:
        folder = made_plan(plan_id)
        if name not in PLAN_FILES or not (folder / name).is_file():
            raise HTTPException(
                404, f"no file {name!r} of plan {plan_id!r}; its files are {', '.join(PLAN_FILES)}"
            )
        media = MEDIA[name]
        if media is None:
            return FileResponse(folder / name, media_type="text/html")
        if name == "plan.toml":  # its base named so that it runs where it is saved
            return Response(
                downloaded_plan_toml(folder, site.settings),
                media_type=media,
                headers={"Content-Disposition": f'attachment; filename="{plan_id}-{name}"'},
            )
        return FileResponse(folder / name, media_type=media, filename=f"{plan_id}-{name}")

    return api
