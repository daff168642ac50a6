"""The run catalog, a run's dashboard, its report and downloads, and comparisons."""

from __future__ import annotations

import hashlib
import html
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.background import BackgroundTask

from bordersim.errors import BordersimError
from bordersim.web import dashboards
from bordersim.web.settings import RUN_ID_PATTERN, without_server_paths
from bordersim.web.site import Results, Site, inside, remove_folder

_RESULTS = Results()


def stored_run(site: Site, run_id: str, field: str = "") -> Any:
    """A complete run's catalog entry; 404 or 409 with the reason otherwise, after the form's
    `field` that named it (a comparison's a or b) where there is one."""
    from bordersim.store.runs import COMPLETE, get_run

    where = f"{field}: " if field else ""
    if not RUN_ID_PATTERN.match(run_id):
        raise HTTPException(404, f"{where}no run {run_id!r}")
    if site.settings.store_is_empty:
        raise HTTPException(404, f"{where}no run {run_id!r}: the store is empty")
    with site.reading() as connection:
        try:
            stored = get_run(connection, run_id)
        except BordersimError:  # said for the workbench: its catalog lists them, not the CLI
            raise HTTPException(
                404, f"{where}no run {run_id!r} in the store; the run catalog (/runs) lists them"
            ) from None
    if stored.status != COMPLETE:
        note = failure_notes(site).get(run_id)
        why = f": {note}" if note else ""
        raise HTTPException(409, f"{where}run {run_id} is {stored.status}: it has no results{why}")
    return stored


def failure_notes(site: Site) -> dict[str, str]:
    """Why each failed run failed, by run id, as `bordersim runs` notes it, naming none of the
    server's folders."""
    from bordersim.store.runs import list_failures

    with site.reading() as connection:
        notes = list_failures(connection)
    return {run_id: without_server_paths(note, site.settings) for run_id, note in notes.items()}


#: What a download's name may hold: other characters (a pattern's '*', a metric's ':', a '/')
#: are refused or changed by some file systems.
_UNSAFE_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9_+.-]+")
#: The longest name offered, well under the 255 bytes every file system takes.
MAX_FILE_STEM = 150


def export_file_stem(run_id: str, metrics: list[str], sectors: list[str]) -> str:
    """The name of an export without its suffix: the run, then the filters it was made with, so
    that one sector's download is not saved under the name of the whole run's; in safe
    characters, and cut (with a digest of the whole, so that two choices keep two names) where
    many names are chosen."""
    from bordersim.model.dimensions import Sector
    from bordersim.results.schema import DAILY_METRICS

    stem = run_id
    if sectors:
        spelled = _as_spelled(sectors, [sector.name for sector in Sector])
        stem += "_sector-" + "+".join(_safe_names(spelled))
    if metrics:
        stem += "_metric-" + "+".join(_safe_names(_as_spelled(metrics, DAILY_METRICS)))
    if len(stem) <= MAX_FILE_STEM:
        return stem
    digest = hashlib.sha256(stem.encode()).hexdigest()[:8]
    return f"{stem[: MAX_FILE_STEM - 9]}-{digest}"


def _as_spelled(names: list[str], known: Sequence[str]) -> list[str]:
    """Each name as bordersim spells it where it differs in case only ('rgv' is 'RGV', as the
    export reads it), so that the file's name says what its rows say."""
    spelling = {name.casefold(): name for name in known}
    return [spelling.get(name.casefold(), name) for name in names]


def _safe_names(names: list[str]) -> list[str]:
    safe = (_UNSAFE_IN_FILE_NAMES.sub("-", name).strip("-.") or "any" for name in names)
    return list(dict.fromkeys(safe))


def refusal_in_runs_order(site: Site, run_id: str, refused: Any) -> str:
    """An export's refusal, a sector's with the run's sectors in the run's order, as its
    dashboard lists them (the store lists them alphabetically)."""
    from bordersim.report.export import UnknownChoice, check_run_sectors

    if refused.kind == "sector":
        codes = [s.name for s in result_of(site, run_id).sectors]
        try:
            check_run_sectors([refused.name], codes)
        except UnknownChoice as err:
            return str(err)
    return str(refused)


def result_of(site: Site, run_id: str) -> Any:
    from bordersim.store.runs import load_result

    stored = stored_run(site, run_id)
    key = (str(site.settings.store), run_id, stored.finished_at)
    cached = _RESULTS.get(key)
    if cached is None:
        with site.reading() as connection:
            cached = load_result(connection, run_id)
        _RESULTS.put(key, cached)
    return cached


def report_html(site: Site, run_id: str) -> str:
    """A run's report rebuilt from the store (when its file is gone)."""
    from bordersim.report.run_report import run_report_page
    from bordersim.services.record import stored_record
    from bordersim.validation.reference import load_official_monthly

    with site.reading() as connection:
        record = stored_record(connection, run_id)
    official, reason = load_official_monthly(record.calibration, record.calibration_sha256)
    return run_report_page(record, official=official, official_reason=reason).render()


def scenario_file(site: Site, stored: Any) -> str:
    """The scenario file a run came from, as the run's details give it (`bordersim report`'s
    words), named as a browser may see it: under the scenario folder relative to it, elsewhere
    by its name only."""
    from bordersim.report.run_report import scenario_file_text

    if not stored.scenario_path:
        return scenario_file_text(None)
    return without_server_paths(stored.scenario_path, site.settings)


def without_run_paths(site: Site, stored: Any, text: str) -> str:
    """A run's report as a shared workbench shows it: the files its details name by their
    absolute paths (the scenario file and the calibration) named as a browser may see them, as
    on the run page, so that a user does not learn where the server keeps its files."""
    from bordersim.store.runs import run_context

    with site.reading() as connection:
        kept = run_context(connection, stored.run_id)
    for path in (stored.scenario_path, kept.calibration if kept is not None else None):
        if path:
            shown = without_server_paths(path, site.settings)
            text = text.replace(html.escape(path), html.escape(shown))
    return text


def router(site: Site) -> APIRouter:
    api = APIRouter()

    @api.get("/runs", response_class=HTMLResponse)
    def runs(request: Request) -> HTMLResponse:
        from bordersim.store.runs import list_runs

        if site.settings.store_is_empty:
            return site.page(request, "runs.html", runs=[])
        with site.reading() as connection:
            stored = list_runs(connection)
        shown = list(reversed(stored))
        files = {run.run_id: scenario_file(site, run) for run in shown}
        notes = failure_notes(site)
        return site.page(request, "runs.html", runs=shown, files=files, notes=notes)

    @api.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(
        request: Request, run_id: str, sector: str = "all", month: str = "all"
    ) -> HTMLResponse:
        from bordersim.services.record import stored_calibration
        from bordersim.store.runs import run_context

        stored = stored_run(site, run_id)
        with site.reading() as connection:
            calibration = stored_calibration(connection, run_id)
            kept = run_context(connection, run_id)
        view = dashboards.run_dashboard(
            result_of(site, run_id),
            sector=sector,
            month=month,
            calibration=calibration,
            calibration_sha256=kept.calibration_sha256 if kept is not None else None,
            run_id=run_id,
        )
        swapped = bool(request.headers.get("hx-request"))
        return site.page(
            request,
            "_run_charts.html" if swapped else "run.html",
            # the selector swaps the charts: the downloads above them follow the sector too
            swapped_downloads=swapped,
            run=stored,
            view=view,
            sector=view.sector,
            month=view.month,
            scenario_file=scenario_file(site, stored),
        )

    @api.get("/runs/{run_id}/report")
    def run_report(run_id: str) -> Response:
        stored = stored_run(site, run_id)
        path = Path(stored.report_path) if stored.report_path else None
        shared = site.settings.token is not None
        if path is not None and path.is_file() and inside(path, site.settings.out_dir):
            if not shared:
                return FileResponse(path, media_type="text/html")
            text = path.read_text(encoding="utf-8")
        else:
            text = report_html(site, run_id)
        return HTMLResponse(without_run_paths(site, stored, text) if shared else text)

    @api.get("/runs/{run_id}/export.{file_format}")
    def run_export(
        run_id: str,
        file_format: str,
        # each may be repeated (`?metric=a&metric=b`): every one is taken
        metric: list[str] = Query(default_factory=list),  # noqa: B008
        sector: list[str] = Query(default_factory=list),  # noqa: B008
    ) -> Response:
        from bordersim.report.export import (
            FORMATS,
            MEDIA_TYPES,
            UnknownChoice,
            each_name,
            export_run,
        )

        asked = file_format
        file_format = file_format.lower()  # export.CSV is export.csv, as --format CSV is csv
        if file_format not in FORMATS:
            raise HTTPException(404, f"no export format {asked!r}; use csv or parquet")
        stored_run(site, run_id)
        # read as `bordersim export` reads --metric and --sector; an empty one (a form's field
        # left blank) means no filter
        metrics = each_name([m for m in metric if m])
        sectors = each_name([s for s in sector if s])
        folder = Path(tempfile.mkdtemp(prefix="bordersim-export-"))
        out = folder / f"{export_file_stem(run_id, metrics, sectors)}.{file_format}"
        try:
            with site.reading() as connection:
                export_run(
                    connection,
                    run_id,
                    out,
                    file_format=file_format,
                    metrics=metrics,
                    sectors=sectors,
                )
        except BaseException as err:  # a refused filter, a missing result file: no folder left
            remove_folder(folder)
            if isinstance(err, UnknownChoice):  # a value out of range: 422, as every form's
                raise HTTPException(422, refusal_in_runs_order(site, run_id, err)) from None
            raise
        return FileResponse(
            out,
            media_type=MEDIA_TYPES[file_format],
            filename=out.name,
            background=BackgroundTask(remove_folder, folder),
        )

    @api.get("/compare", response_class=HTMLResponse)
    def compare(request: Request, a: str = "", b: str = "") -> HTMLResponse:
        a, b = a.strip(), b.strip()  # typed or pasted into the catalog's form
        if not a and not b:
            raise HTTPException(422, "a and b: give two run ids (choose them in the run catalog)")
        for side, given in (("a", a), ("b", b)):
            if not given:
                raise HTTPException(
                    422, f"{side}: give the run id of {side.upper()} (choose it in the run catalog)"
                )
        if a == b:
            raise HTTPException(
                422,
                f"b: {b} is A too; a run compared with itself differs by nothing: choose "
                "another run for B",
            )
        stored_a, stored_b = stored_run(site, a, "a"), stored_run(site, b, "b")
        sector = request.query_params.get("sector", "all")
        view = dashboards.compare_dashboard(
            (a, result_of(site, a)), (b, result_of(site, b)), sector=sector
        )
        template = "_compare_charts.html" if request.headers.get("hx-request") else "compare.html"
        return site.page(request, template, a=stored_a, b=stored_b, view=view, sector=view.sector)

    return api
