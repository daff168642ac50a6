"""The plan page's library, form and results: plan files, their overrides, finished plans.

A plan is defined from a shipped plan file (`plans/*.toml`, `plans/examples/*.toml`) and the
form's changes to it: the form's fields are the plan file's key paths, so the text the planner
reads is the file with the changed values, checked exactly as `bordersim plan` checks a file; a
`PlanError` naming a key is shown beside that key's field. Plan files are addressed by an id from
the listing, finished plans by their folder's id under `out/plans/`, never by a browser's path.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bordersim.errors import BordersimError
from bordersim.scenario.toml_text import dumps, toml_value
from bordersim.web.scenarios import (
    Entry,
    FieldError,
    Form,
    ascii_number,
    field_of_error,
    field_text,
)
from bordersim.web.settings import (
    NAME_PATTERN,
    NAME_RULE,
    RUN_ID_PATTERN,
    WebSettings,
    without_absolute_paths,
)

FOLDERS = ("", "examples")
ENGINES = ("event", "flow")
#: Largest simulation budget a browser may ask for (the workbench is for exploring; the CLI has
#: no such limit).
MAX_SEARCH_REPLICATIONS = 64
MAX_CERTIFY_REPLICATIONS = 1000
#: The plan file's keys the form shows, with their kind; pools get POOL_FIELDS each.
GENERAL_FIELDS = (
    ("demand_scale", "demand x (stress test)", "float"),
    ("targets.within_72h", "share out of custody within 72 h (above 0, at most 1)", "float"),
    ("targets.children_within_72h", "children's share within 72 h (above 0, at most 1)", "float"),
    ("targets.alpha", "alpha (each target holds with probability 1 - alpha)", "float"),
    ("windows.days", "window days", "int"),
    ("windows.min_tour_days", "minimum tour days", "int"),
    ("budget_dollars", "budget, $ (optional)", "float"),
    ("search.replications", "flow replications per candidate", "int"),
    ("search.certify_replications", "fresh replications to certify", "int"),
    ("search.trim_seconds", "seconds for the trim (0: none)", "int"),
    ("search.bound_seconds", "seconds for the lower bound's probes", "int"),
)
POOL_FIELDS = (
    ("max_headcount", "cap (people)", "float"),
    ("max_per_sector", "cap per sector, people (optional)", "float"),
    ("available_from", "available from (optional)", "date"),
    ("lead_time_days", "lead time days", "int"),
    ("ramp_up_days", "ramp-up days", "int"),
    ("step", "step, people (headcounts are multiples)", "int"),
)
#: The plan file's [forecast] (docs/planner.md, "Against a forecast"): with a month and a number
#: of paths the plan is made against forecast sample paths; with neither, against the base
#: scenario's own demand.
FORECAST_FIELDS = (
    ("forecast.origin", "last month of data (YYYY-MM)", "month"),
    ("forecast.paths", "sample paths", "int"),
    ("forecast.seed", "seed of the paths", "int"),
)
PLAN_FILES = ("plan.toml", "certificate.json", "report.html")


@dataclass(frozen=True)
class PlanFile:
    id: str
    path: Path
    name: str
    description: str
    data: dict[str, Any]


def plan_library(plans_dir: Path | None) -> dict[str, PlanFile]:
    """Every plan file the workbench offers, by id (files that do not read as TOML are left out:
    `bordersim plan` would refuse them too; `unlisted_plans` says which, and why)."""
    found: dict[str, PlanFile] = {}
    for folder, path in _plan_paths(plans_dir):
        data = _plan_data(path)
        if not NAME_PATTERN.match(path.stem) or isinstance(data, str):
            continue
        plan_id = f"{folder}.{path.stem}" if folder else path.stem
        name, description = str(data.get("name", path.stem)), str(data.get("description", ""))
        found[plan_id] = PlanFile(plan_id, path, name, description, data)
    return found


def unlisted_plans(plans_dir: Path | None) -> list[str]:
    """The plan files the plan page leaves out, each under the plan folder relative to it with
    why: a name no library id may hold, or a file that does not read as TOML."""
    left_out: list[str] = []
    for _, path in _plan_paths(plans_dir):
        shown = str(path.relative_to(plans_dir)) if plans_dir is not None else path.name
        data = _plan_data(path)
        if not NAME_PATTERN.match(path.stem):
            left_out.append(f"{shown} (rename it: a plan file's name is {NAME_RULE})")
        elif isinstance(data, str):
            left_out.append(f"{shown} (it does not read as TOML: {data})")
    return left_out


def _plan_paths(plans_dir: Path | None) -> list[tuple[str, Path]]:
    if plans_dir is None:
        return []
    return [(f, path) for f in FOLDERS for path in sorted((plans_dir / f).glob("*.toml"))]


def _plan_data(path: Path) -> dict[str, Any] | str:
    """A plan file's TOML, or why it does not read as TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        return str(err)
    except UnicodeDecodeError:
        return "it is not UTF-8 text"
    except OSError as err:
        return err.strerror or type(err).__name__


def base_scenario(plan: PlanFile, scenarios: dict[str, Entry]) -> str | None:
    """The library id of the scenario the plan file names (its `scenario` key), if any."""
    named = plan.data.get("scenario")
    if not isinstance(named, str):
        return None
    target = (plan.path.parent / named).resolve()
    for entry_id, entry in scenarios.items():
        if entry.path.resolve() == target:
            return entry_id
    return None


def frontier_words(plan: PlanFile) -> str:
    """The plan file's frontier shares (`search.frontier`, else the planner's) in words: "90 %,
    95 % and 99 %". A value the planner would refuse is left to its check."""
    from bordersim.planner.spec import Search
    from bordersim.web.site import percent

    search = plan.data.get("search")
    raw = search.get("frontier", Search.frontier) if isinstance(search, dict) else Search.frontier
    if not isinstance(raw, list | tuple) or not all(isinstance(q, int | float) for q in raw):
        raw = Search.frontier
    words = [f"{percent(float(q))} %" for q in raw]
    if len(words) < 2:
        return "".join(words) or "no share (search.frontier is empty)"
    return f"{', '.join(words[:-1])} and {words[-1]}"


def pools_of(plan: PlanFile) -> list[str]:
    pools = plan.data.get("pools", {})
    return list(pools) if isinstance(pools, dict) else []


def _get(data: dict[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def form_fields(plan: PlanFile) -> list[tuple[str, str, str]]:
    """(key path, label, kind) of every value the form shows for this plan file."""
    fields = list(GENERAL_FIELDS) + list(FORECAST_FIELDS)
    for pool in pools_of(plan):
        fields += [(f"pools.{pool}.{key}", label, kind) for key, label, kind in POOL_FIELDS]
    return fields


def plan_form(plan: PlanFile, scenarios: dict[str, Entry]) -> Form:
    """The form's starting values: the plan file's (defaults where it sets none)."""
    from bordersim.planner.spec import ForecastPaths, PoolPlan, Search, Targets

    defaults: dict[str, Any] = {
        "targets.within_72h": Targets.within_72h,
        "targets.children_within_72h": Targets.children_within_72h,
        "targets.alpha": Targets.alpha,
        "search.replications": Search.replications,
        "search.certify_replications": Search.certify_replications,
        "search.trim_seconds": Search.trim_seconds,
        "search.bound_seconds": Search.bound_seconds,
        "demand_scale": 1.0,
    }
    for pool in pools_of(plan):
        for key in ("lead_time_days", "ramp_up_days", "step"):
            defaults[f"pools.{pool}.{key}"] = getattr(PoolPlan, key)
    forecast = plan.data.get("forecast")
    if isinstance(forecast, dict) and "quantiles" not in forecast:  # the planner's defaults
        defaults["forecast.paths"] = ForecastPaths.paths
        defaults["forecast.seed"] = ForecastPaths.seed
    form = Form()
    for key, _, kind in form_fields(plan):
        value = _get(plan.data, key)
        if kind == "month" and isinstance(value, dt.date):
            value = f"{value:%Y-%m}"  # a date in a month's place names its month (the planner)
        form.values[key] = field_text(value if value is not None else defaults.get(key))
    form.values["search.certify_engine"] = str(_get(plan.data, "search.certify_engine") or "event")
    form.values["scenario"] = base_scenario(plan, scenarios) or next(iter(scenarios), "")
    named = plan.data.get("scenario")
    if isinstance(named, str) and base_scenario(plan, scenarios) is None:
        # the library's first scenario stands in, which the plan file was not written for
        form.errors["scenario"] = (
            f"the plan file names scenario = {without_absolute_paths(named)!r}, which is not in "
            "the library: choose the base scenario"
        )
    form.values["plan_file"] = plan.id
    for pool in pools_of(plan):
        form.values[f"use.{pool}"] = "on"
    return form


@dataclass
class PlanRequest:
    """A checked plan: what the worker needs, and the label of its job."""

    label: str
    request: dict[str, Any]


def plan_text(form: Form, plan: PlanFile) -> str:
    """The plan file's text with the form's changes (a `FieldError` for a value that is not of
    its kind)."""
    data = copy.deepcopy(plan.data)
    for pool in pools_of(plan):
        if form.value(f"use.{pool}") != "on":
            data["pools"].pop(pool, None)
    for key, _, kind in form_fields(plan):
        parts = key.split(".")
        if parts[0] == "pools" and parts[1] not in data.get("pools", {}):
            continue
        text = form.value(key)
        if text == "" and key in form.values:
            _drop(data, parts)  # not set: the planner's default (none, where optional)
        elif key in form.values:
            _put(data, parts, _parse(key, text, kind))
    forecast = data.get("forecast")
    if isinstance(forecast, dict) and not {"origin", "paths"} & forecast.keys():
        data.pop("forecast")  # a seed alone asks for no paths: the scenario's own demand
    elif isinstance(forecast, dict) and "origin" not in forecast:
        # the planner's reader said "forecast.origin = None: is required a month, YYYY-MM"
        way_back = (
            ", or clear the sample paths too to plan for the base scenario's own demand"
            if "paths" in forecast
            else ""
        )
        raise FieldError(
            "forecast.origin",
            f"'': give the last month of data (YYYY-MM) the forecast starts from{way_back}",
        )
    typed = form.value("search.certify_engine") or "event"
    # whatever its case and without the spaces around it, as `--engine FLOW` is read
    engine = typed.strip().lower() if typed.strip().lower() in ENGINES else typed
    if engine not in ENGINES:
        raise FieldError("search.certify_engine", f"{engine!r}: choose event or flow")
    data.setdefault("search", {})["certify_engine"] = engine
    return f"# {plan.path.name} with the workbench's changes\n" + dumps(data)


def _parse(key: str, text: str, kind: str) -> Any:
    try:
        if not ascii_number(text):  # int() and float() read "٣" as 3 and "1_000" as 1000
            raise ValueError
        if kind == "month":
            dt.date.fromisoformat(f"{text}-01")
            return text
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "int":
            return int(text)
        return float(text)
    except ValueError:
        expected = {
            "month": "a month (YYYY-MM)",
            "date": "a date (YYYY-MM-DD)",
            "int": "a whole number",
            "float": "a number",
        }
        raise FieldError(key, f"{text!r}: expected {expected[kind]}") from None


def _put(data: dict[str, Any], parts: list[str], value: Any) -> None:
    table = data
    for part in parts[:-1]:
        table = table.setdefault(part, {})
    table[parts[-1]] = value


def _drop(data: dict[str, Any], parts: list[str]) -> None:
    table = _get(data, ".".join(parts[:-1])) if len(parts) > 1 else data
    if isinstance(table, dict):
        table.pop(parts[-1], None)


def check_plan(form: Form, plan: PlanFile, scenario: Entry) -> PlanRequest | None:
    """The plan request for the worker, or None with the form's errors set beside its fields."""
    from bordersim.planner import parse_plan

    try:
        text = plan_text(form, plan)
        spec = parse_plan(text, f"plan {plan.id}", plan.path.resolve())
        _check_budget(spec)
        if spec.forecast is not None or spec.quantiles is not None:  # before the job starts
            _check_forecast(spec, scenario)
    except FieldError as err:
        form.errors[err.field_name] = str(err)
        return None
    except BordersimError as err:
        message = without_absolute_paths(str(err))
        fields = [key for key, _, _ in form_fields(plan)] + ["search.certify_engine"]
        # neither the plan's name nor a line: the line is of the text written for the planner,
        # which the page shows only once the plan passes (not of the plan file on disk)
        shown = re.sub(rf"^plan {re.escape(plan.id)}(, line \d+)?: ", "", message)
        field = field_of_error(message, fields)
        if form.value(field) == "" and shown.startswith(f"{field} = None: "):
            # a value the planner requires, cleared: the field is empty, not Python's None
            shown = f"{field} = '': {shown.removeprefix(f'{field} = None: ')}"
        form.errors[field] = shown
        return None
    plan_id = new_plan_id(spec.name, scenario.path.stem)
    request = {
        "scenario_path": str(scenario.path),
        "plan_path": str(plan.path.resolve()),
        "plan_text": text,
        "plan_where": f"plan {plan.id} (workbench)",
        "plan_id": plan_id,
        "frontier": form.value("frontier") == "on",
    }
    return PlanRequest(f"plan {spec.name} on {scenario.name}", request)


def _check_forecast(spec: Any, scenario: Entry) -> None:
    """The plan's [forecast] against the base scenario: its origin within the calibration, and
    one quantile at most (each quantile is a plan; the workbench makes one at a time)."""
    from bordersim.planner.run import check_forecast, quantile_scenario
    from bordersim.scenario import load_scenario

    base = load_scenario(scenario.path)
    check_forecast(base, spec)
    quantile_scenario(base, spec)


def _check_budget(spec: Any) -> None:
    search = spec.search
    if search.replications > MAX_SEARCH_REPLICATIONS:
        raise FieldError(
            "search.replications",
            f"{search.replications}: at most {MAX_SEARCH_REPLICATIONS:,} in the workbench "
            "(use bordersim plan for more)",
        )
    if search.certify_replications > MAX_CERTIFY_REPLICATIONS:
        raise FieldError(
            "search.certify_replications",
            f"{search.certify_replications}: at most {MAX_CERTIFY_REPLICATIONS:,} in the "
            "workbench (use bordersim plan for more)",
        )


def new_plan_id(plan_name: str, scenario_stem: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{scenario_stem}-{plan_name}")
    plan_id = f"{safe[:80]}-{stamp}-{secrets.token_hex(2)}"
    assert RUN_ID_PATTERN.match(plan_id), plan_id
    return plan_id


# ----- finished plans ------


@dataclass(frozen=True)
class PlanSummary:
    id: str
    scenario: str
    plan: str
    cost: float
    lower_bound: float
    gap: float
    certified: bool
    created: str


def plan_folder(plans_out: Path, plan_id: str) -> Path | None:
    """A finished plan's folder, if `plan_id` names one (never a path from the browser)."""
    if not RUN_ID_PATTERN.match(plan_id) or plan_id.startswith("."):
        return None
    folder = plans_out / plan_id
    return folder if (folder / "certificate.json").is_file() else None


def downloaded_plan_toml(folder: Path, settings: WebSettings) -> str:
    """A plan's plan.toml as the workbench serves it for download.

    On disk its `base` names the base scenario relative to the plan's folder (as `bordersim
    plan` writes it), which holds there only. The download names it by its absolute path, so the
    file runs wherever it is saved on this machine. A shared workbench (a token) names none of
    the server's folders: there the base is its path in the scenario folder, and a comment says
    to save the file in that folder (or a copy of it)."""
    text = (folder / "plan.toml").read_text(encoding="utf-8")
    try:
        base = tomllib.loads(text).get("base")
    except tomllib.TOMLDecodeError:
        return text
    line = re.search(r"(?m)^base = .*$", text)
    if not isinstance(base, str) or line is None:
        return text
    path = (folder / base).resolve()
    if settings.token is None:
        named = path.as_posix()
        note = [
            "# base: the scenario planned from, by its absolute path (the plan.toml beside",
            "# the plan names it relative to that folder), so this file runs wherever it is",
            "# saved on this machine.",
        ]
    else:
        scenarios = settings.scenarios_dir.resolve()
        named = (
            path.relative_to(scenarios).as_posix() if path.is_relative_to(scenarios) else path.name
        )
        note = [
            "# base: the scenario planned from, by its path in the workbench's scenario folder:",
            "# save this file in that folder (or a copy of it), or give base your copy's path.",
        ]
    served = "\n".join([*note, f"base = {toml_value(named)}"])
    return text[: line.start()] + served + text[line.end() :]


def certificate_of(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / "certificate.json").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def finished_plans(plans_out: Path) -> list[PlanSummary]:
    """Finished plans, newest first."""
    if not plans_out.is_dir():
        return []
    summaries = []
    for folder in plans_out.iterdir():
        if plan_folder(plans_out, folder.name) is None:
            continue
        try:
            data = certificate_of(folder)
            created = dt.datetime.fromtimestamp(folder.stat().st_mtime, dt.UTC)
            summaries.append(
                PlanSummary(
                    folder.name,
                    str(data["scenario"]),
                    str(data["plan"]),
                    float(data["cost_dollars"]),
                    float(data["lower_bound_dollars"]),
                    float(data["gap"]),
                    bool(data["certified"]),
                    f"{created:%Y-%m-%d %H:%M} UTC",
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a folder that is not a plan's: not listed
    return sorted(summaries, key=lambda s: s.created, reverse=True)


@dataclass
class PlanView:
    """What the plan's page shows, from its certificate.json."""

    id: str
    data: dict[str, Any]
    windows: list[str]
    deployment: list[dict[str, Any]]  # per pool: rows per sector, totals, peak
    constraints: list[dict[str, Any]]  # required ones, least certain first
    certified: int
    required: int
    unattainable: int


def plan_view(plan_id: str, data: dict[str, Any], shown: int = 30) -> PlanView:
    decision = data["decision"]
    windows = [f"{a} to {b}" for a, b in decision["windows"]]
    deployment = []
    for k, pool in enumerate(decision["pools"]):
        by_sector = decision["headcount"][k]
        rows = [
            (sector, [round(v) for v in by_sector[s]])
            for s, sector in enumerate(decision["sectors"])
        ]
        totals = [round(sum(col)) for col in zip(*(r[1] for r in rows), strict=True)]
        cost = float(data.get("cost_by_pool_dollars", {}).get(pool, 0.0))
        deployment.append(
            {"pool": pool, "rows": rows, "totals": totals, "peak": max(totals), "cost": cost}
        )
    required = [c for c in data["constraints"] if c["required"]]
    ordered = sorted(required, key=lambda c: (c["certified"], c["lower_bound"]))
    return PlanView(
        id=plan_id,
        data=data,
        windows=windows,
        deployment=deployment,
        constraints=ordered[:shown],
        certified=sum(1 for c in required if c["certified"]),
        required=len(required),
        unattainable=sum(1 for c in data["constraints"] if not c["attainable_at_caps"]),
    )
