"""The workbench application: FastAPI, server-rendered pages (Jinja2) and HTMX fragments.

Every handler that reads runs opens the store read-only for as long as it copies data out; the
worker process (`jobs.py`) is the only writer. Runs are addressed by their id, scenarios and plan
files by an id from the library listing, plan results by their folder's id; none ever becomes a
path without being looked up first. The pages live in `bordersim.web.views`, one router per area.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from http import HTTPStatus
from importlib.resources import files

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bordersim.errors import BordersimError, StoreFileError
from bordersim.web.security import App, BodyLimit, Message, Receive, Scope, Send, TokenGate
from bordersim.web.settings import WebSettings, without_server_paths
from bordersim.web.site import Site, read_only
from bordersim.web.views import jobs, plans, runs, scenarios

__all__ = ["create_app", "read_only"]

STATIC = {
    "htmx.min.js": ("web", "static/htmx.min.js", "text/javascript"),
    "style.css": ("web", "static/style.css", "text/css"),
    "plotly.min.js": ("report", "vendor/plotly-cartesian.min.js", "text/javascript"),
}


def create_app(settings: WebSettings, *, start_worker: bool = True) -> FastAPI:
    site = Site(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            site.start_board()
        try:
            yield
        finally:
            site.close_board()

    app = FastAPI(title="bordersim workbench", lifespan=lifespan, docs_url=None, redoc_url=None)
    _add_error_handlers(app, site)
    app.include_router(_basics(site))
    for area in (scenarios, jobs, runs, plans):
        app.include_router(area.router(site))
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.token:
        app.add_middleware(TokenGate, token=settings.token)
    app.add_middleware(HeadAsGet)
    return app


class HeadAsGet:
    """ASGI middleware: a HEAD request is answered as its GET, without the body (HTTP asks every
    server to take HEAD wherever it takes GET: `curl -I`, a monitor of /healthz); the status and
    the headers, its length included, are the GET's."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _add_error_handlers(app: FastAPI, site: Site) -> None:
    """A clear 4xx for a bad request, never a 500; a 500 with a clear message where the store
    has lost a result file it records (the request is fine, the store is not: a 404 would say
    there is no such run, and a 410, which caches may keep, that it was removed on purpose)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = site.error(request, exc.status_code, _said(request, exc))
        response.headers.update(exc.headers or {})  # a 405's Allow, as HTTP asks
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return site.error(request, 422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(BordersimError)
    async def bordersim_error(request: Request, exc: BordersimError) -> Response:
        return site.error(request, 400, without_server_paths(str(exc), site.settings))

    @app.exception_handler(StoreFileError)
    async def store_file_error(request: Request, exc: StoreFileError) -> Response:
        return site.error(request, 500, exc.public)


def _said(request: Request, exc: StarletteHTTPException) -> str:
    """The exception's message, or, where the framework gave only its status's name (an address
    the workbench has no page at, or no page for this method), which address and why."""
    message = str(exc.detail)
    if message != HTTPStatus(exc.status_code).phrase:
        return message
    path = request.url.path
    allowed = (exc.headers or {}).get("Allow")
    if exc.status_code == 405 and allowed:
        return f"{request.method} {path}: this address takes {allowed} only"
    if exc.status_code == 404:
        return f"no page {path} on this workbench"
    return message


def _basics(site: Site) -> APIRouter:
    """Static files (by name from a fixed list), the home page and the health check."""
    api = APIRouter()

    @api.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, f"no static file {name!r}")
        package, relative, media = STATIC[name]
        body = _static_bytes(package, relative)
        return Response(body, media_type=media, headers={"Cache-Control": "max-age=86400"})

    @api.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/scenarios", 303)

    @api.get("/healthz")
    def health() -> JSONResponse:
        # Without a live worker no job can run: not healthy, so a monitor that reads only the
        # status sees it (503; a dead worker is replaced within seconds).
        alive = site.worker_alive()
        return JSONResponse({"ok": alive, "worker": alive}, status_code=200 if alive else 503)

    return api


@functools.cache
def _static_bytes(package: str, relative: str) -> bytes:
    return (files(f"bordersim.{package}") / relative).read_bytes()
