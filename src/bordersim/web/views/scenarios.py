"""The scenario library and the variant editor (inline checks, save)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bordersim.errors import BordersimError
from bordersim.web.scenarios import (
    ALLOCATIONS,
    DEPLOYMENT_FIELDS,
    GENERAL,
    POOLS,
    SHOCK_FIELDS,
    SPLIT,
    TASKS,
    UNLISTED_WHY,
    Entry,
    FieldError,
    Form,
    check_variant,
    field_of_error,
    form_from_post,
    form_from_scenario,
    free_variant_name,
    library,
    save_variant,
    unlisted,
    variant_data,
    variant_text,
)
from bordersim.web.security import read_form
from bordersim.web.settings import without_server_paths
from bordersim.web.site import ENGINES, Site


def entry_of(site: Site, scenario_id: str, field: str = "") -> Entry:
    """A library entry by its id; 404 otherwise (422 for none given), after the request's
    `field` that named it where there is one (a comparison's scenario or b)."""
    where = f"{field}: " if field else ""
    if field and not scenario_id:
        raise HTTPException(422, f"{where}choose a scenario from the library (/scenarios)")
    entries = library(site.settings.scenarios_dir)
    if scenario_id not in entries:
        raise HTTPException(
            404,
            f"{where}no scenario {scenario_id!r} in the library; the scenario library "
            "(/scenarios) lists them",
        )
    return entries[scenario_id]


def loaded_base(site: Site, entry: Entry) -> Any:
    """The library file's scenario; a 500 where it does not load: the request is fine, the file
    on the server is not (as a result file the store lost; a 400 would blame the request)."""
    from bordersim.scenario import load_scenario

    try:
        return load_scenario(entry.path)
    except BordersimError as err:
        name = entry.path.relative_to(site.settings.scenarios_dir).as_posix()
        raise HTTPException(
            500,
            f"the library scenario file {name} does not load: {short(str(err), site)}; "
            "correct it on the server to edit it",
        ) from None


def editor_context(entry: Entry, form: Form, scenario: Any, **extra: Any) -> dict[str, Any]:
    return {
        "entry": entry,
        "form": form,
        "scenario": scenario,
        "sectors": [getattr(s, "name", str(s)) for s in scenario.sectors],
        "deployments": list(scenario.deployments),
        "shocks": list(scenario.demand.shocks),
        "pools": POOLS,
        "allocations": ALLOCATIONS,
        "tasks": TASKS,
        "has_scale": "scale" in type(scenario.demand).model_fields,
        **extra,
    }


def _new_entry_fields(form: Form) -> list[str]:
    """The key paths a new deployment or shock of the form would have in the variant."""
    fields: list[str] = []
    deployment = form.value("new_deployment.name")
    if deployment:
        fields += [f"deployments.{deployment}.{k}" for k in DEPLOYMENT_FIELDS]
        split = f"new_deployment.{SPLIT}."
        fields += [
            f"deployments.{deployment}.{SPLIT}.{k[len(split) :]}"
            for k in form.values
            if k.startswith(split)
        ]
    shock = form.value("new_shock.name")
    if shock:
        fields += [f"demand.shocks.{shock}.{k}" for k in (*SHOCK_FIELDS, "sectors")]
    return fields


def _form_field(form: Form, name: str) -> str:
    """An error's key path in the variant, as the form field that set it."""
    deployment, shock = form.value("new_deployment.name"), form.value("new_shock.name")
    if deployment and name.startswith(f"deployments.{deployment}."):
        return "new_deployment." + name.split(".", 2)[2]
    if shock and name.startswith(f"demand.shocks.{shock}."):
        return "new_shock." + name.split(".", 3)[3]
    return name


def checked(site: Site, entry: Entry, posted: dict[str, list[str]]) -> tuple[Form, Any, str | None]:
    """The posted form with its errors, the base scenario, and the variant text if it passed."""
    scenario = loaded_base(site, entry)
    base_form = form_from_scenario(scenario)
    form = form_from_post(posted)
    variants = site.settings.variants_dir
    try:
        data = variant_data(form, base_form, entry, list(scenario.deployments), variants)
        text = variant_text(data, site.settings.scenarios_shown)
        check_variant(text, variants)
    except FieldError as err:
        form.errors[err.field_name] = str(err)
        return form, scenario, None
    except BordersimError as err:
        message = str(err)
        fields = list(form.values) + list(form.lists) + _new_entry_fields(form)
        name = _form_field(form, field_of_error(message, fields))
        shown = {*form.values, *form.lists, *(f"deployments.{d}" for d in scenario.deployments)}
        if name not in shown:
            name = GENERAL  # a key the page has no field for: above the form, not nowhere
        form.errors[name] = short(message, site)
        return form, scenario, None
    return form, scenario, text


def short(message: str, site: Site) -> str:
    """An error without the temporary file's path (the CLI prints it; the form shows the field)
    nor any other of the server's folders."""
    if message.startswith(("/", ".")) and ": " in message:
        message = message.split(": ", 1)[1]
    return without_server_paths(message, site.settings)


def router(site: Site) -> APIRouter:
    api = APIRouter()

    @api.get("/scenarios", response_class=HTMLResponse)
    def scenarios(request: Request) -> HTMLResponse:
        folder = site.settings.scenarios_dir
        return site.page(
            request,
            "scenarios.html",
            entries=list(library(folder).values()),
            engines=ENGINES,
            left_out=unlisted(folder),
            left_out_why=UNLISTED_WHY,
        )

    @api.get("/scenarios/{scenario_id}", response_class=HTMLResponse)
    def editor(request: Request, scenario_id: str) -> HTMLResponse:
        entry = entry_of(site, scenario_id)
        scenario = loaded_base(site, entry)
        form = form_from_scenario(scenario)
        form.values["variant_name"] = free_variant_name(entry.path.stem, site.settings.variants_dir)
        return site.page(request, "editor.html", **editor_context(entry, form, scenario))

    @api.post("/scenarios/{scenario_id}/check", response_class=HTMLResponse)
    async def check(request: Request, scenario_id: str) -> HTMLResponse:
        entry = entry_of(site, scenario_id)
        form, scenario, text = checked(site, entry, await read_form(request))
        # 200 either way: the check itself worked, and HTMX swaps only successful responses.
        return check_reply(request, entry, form, scenario, text)

    def check_reply(
        request: Request, entry: Entry, form: Form, scenario: Any, text: str | None
    ) -> HTMLResponse:
        """The status line, and every field's error message swapped in beside its field (the
        inputs are left alone, so nothing typed meanwhile is lost)."""
        fields = [*form.values, *form.lists, GENERAL]
        fields += [f"deployments.{d}" for d in scenario.deployments]
        fields += [f"deployments.{d}.pool" for d in scenario.deployments]
        fields += [name for name in form.errors if name not in fields]
        return site.page(
            request,
            "_editor_check.html",
            **editor_context(entry, form, scenario, preview=text),
            error_fields=[f for f in dict.fromkeys(fields) if f != "csrf_token"],
        )

    @api.post("/scenarios/{scenario_id}/save", response_class=HTMLResponse)
    async def save(request: Request, scenario_id: str) -> Response:
        entry = entry_of(site, scenario_id)
        form, scenario, text = checked(site, entry, await read_form(request))
        name = form.value("variant_name")
        if text is not None:
            try:
                save_variant(text, name, site.settings.variants_dir)
            except FileExistsError:  # saved under that name since the check above
                form.errors["variant_name"] = f"{name!r}: a variant of this name is saved already"
                text = None
        if text is None:
            if request.headers.get("hx-request"):
                # As a check's: the status and the messages beside their fields. HTMX swaps no
                # 4xx reply, so a 422 here showed nothing of the refusal.
                return check_reply(request, entry, form, scenario, None)
            context = editor_context(entry, form, scenario)
            return site.page(request, "editor.html", status=422, **context)
        target = f"/scenarios/variants.{name}?saved=1"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, 303)

    return api
