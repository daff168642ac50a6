"""What every page handler shares: the settings, the templates, the job board, the store.

`Site` is built once per application by `create_app`; the routers in `bordersim.web.views` take
it as their only argument, so each handler stays short and names what it uses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from bordersim.store.connection import StaleView, connect_current
from bordersim.store.interface import Catalog
from bordersim.web.jobs import JobBoard
from bordersim.web.security import csrf_token, remember_csrf
from bordersim.web.settings import WebSettings, without_absolute_paths, without_server_paths
from bordersim.words import counted

TEMPLATES = Path(str(files("bordersim.web") / "templates"))
ENGINES = ("event", "flow")


class Site:
    """One workbench: its settings, templates and (while it serves) its job board."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.templates = Jinja2Templates(directory=str(TEMPLATES))
        self.templates.env.globals["today"] = dt.date.today
        self.templates.env.globals["counted"] = counted  # "1 problem", "2 problems"
        self.templates.env.filters["percent"] = percent
        self.templates.env.filters["millions"] = _millions  # as the CLI gives a plan's costs
        self._board: JobBoard | None = None

    # ----- the worker ------

    def start_board(self) -> None:
        self._board = JobBoard(self.settings)

    def close_board(self) -> None:
        board, self._board = self._board, None
        if board is not None:
            board.close()

    @property
    def board(self) -> JobBoard:
        if self._board is None:
            raise HTTPException(503, "the job worker is not running")
        return self._board

    def worker_alive(self) -> bool:
        return self._board is not None and self._board.worker_alive()

    def job_of(self, job_id: str) -> Any:
        number = job_number(job_id)
        job = self.board.get(number)
        if job is None:
            raise no_job(number)
        return job

    # ----- pages ------

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        response = self.templates.TemplateResponse(
            request,
            name,
            {
                "csrf": csrf_token(request),
                "shared": self.settings.token is not None,
                "scenarios_folder": self.settings.scenarios_shown,
                **context,
            },
            status_code=status,
        )
        remember_csrf(request, response)
        return response

    def error(self, request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return self.page(request, "error.html", status=status, status_code=status, message=message)

    # ----- the store, read-only ------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Catalog]:
        if isinstance(self.settings.store, str):
            with read_shared(self.settings.store, self.settings) as catalog:
                yield catalog
            return
        gate = self._board.gate if self._board is not None else None
        with read_only(self.settings.store, gate, settings=self.settings) as connection:
            yield connection


def job_number(job_id: str) -> int:
    """A job's number from its address; any other id is no job (404), in the workbench's words
    rather than the web framework's ("Input should be a valid integer")."""
    if not (job_id.isascii() and job_id.isdecimal()):
        raise HTTPException(404, f"no job {job_id!r}: jobs are numbered; {JOBS_LISTED}")
    return int(job_id)


def no_job(number: int) -> HTTPException:
    return HTTPException(404, f"no job {number} on this workbench; {JOBS_LISTED}")


#: Where an unknown job's message sends the user, as an unknown run's names the run catalog.
JOBS_LISTED = "the jobs page (/jobs) lists them"


def _millions(dollars: float) -> str:
    from bordersim.planner.output import millions

    return millions(dollars)


def percent(share: float) -> str:
    """A share as a percentage with the decimals it has (0.95 is "95", 0.975 "97.5"): a target
    of 99.9 % is never shown as 100 %."""
    return format(100 * share, ".4g")


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def whole_field(fields: dict[str, Any], name: str, default: int) -> int:
    """A whole number from a form's text or a JSON value, of any size; 422 otherwise. A JSON
    true, a fraction (2.5) or an infinity (1e999) is not a whole number: never rounded, never
    a 500. A text is written in the digits 0-9: int() would read "٣" as 3 and "1_000" as 1000."""
    raw = fields.get(name, default)
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        if isinstance(raw, str) and not WHOLE_TEXT.fullmatch(raw):
            raise ValueError
        return int(raw)
    except (TypeError, ValueError, OverflowError):
        raise HTTPException(422, f"{name}: {raw!r} is not a whole number (digits 0-9)") from None


#: A whole number as text: ASCII digits, a sign, and spaces around them.
WHOLE_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)


def int_field(
    fields: dict[str, Any], name: str, default: int, low: int, high: int, *, over: str = ""
) -> int:
    """A whole number from a form's text or a JSON value, in [low, high]; 422 otherwise. A JSON
    true, a fraction (2.5) or an infinity (1e999) is not a whole number: never rounded, never
    a 500. `over` says why a number above `high` is refused, where it is a cap of the
    workbench's own ("in the workbench (use ... for more)")."""
    value = whole_field(fields, name, default)
    if value > high and over:
        raise HTTPException(422, f"{name}: {value}: at most {high} {over}")
    if not low <= value <= high:
        raise HTTPException(422, f"{name}: {value} is outside {low}-{high}")
    return value


def inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def remove_folder(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


class Results:
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


@contextlib.contextmanager
def read_shared(url: str, settings: WebSettings) -> Iterator[Catalog]:
    """A shared store's catalog, read-only. PostgreSQL lets readers and the worker in at once,
    so there is no gate to pass; a server that does not answer is 503, its reason shown
    without the server's folders (the URL's `results=` folder among them)."""
    from bordersim.errors import BordersimError
    from bordersim.store.postgres import open_postgres

    try:
        catalog = open_postgres(url, create=False, read_only=True)
    except BordersimError as err:
        text = f"the store is not available ({err})"
        raise HTTPException(503, without_server_paths(text, settings)) from None
    with catalog:
        yield catalog


@contextlib.contextmanager
def read_only(
    path: Path, gate: Any = None, wait_s: float = 60.0, *, settings: WebSettings | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store opened read-only, waiting while the worker writes to it. A lock held past
    `wait_s` is "busy"; any other error (a damaged file) is said at once, without the server's
    folders (`settings` names the ones shown relative to them)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            connection = _connect_through(path, gate, deadline)
            break
        except (duckdb.Error, StaleView) as err:
            if not _is_lock(err, path):
                raise _unreadable(err, settings) from None
            if time.monotonic() > deadline:
                raise HTTPException(503, BUSY) from None
            time.sleep(0.05)
    try:
        yield connection
    finally:
        connection.close()


#: A store another process (the worker, a `bordersim run`) held locked longer than a page waits.
BUSY = "the store is busy (another process is writing to it); try again"


def _is_lock(err: Exception, path: Path) -> bool:
    """A lock held by another process, as the store tells it (`bordersim.store._connect`): a
    DuckDB I/O error about a lock; the file's own name, which may hold "lock", is left out."""
    text = str(err).replace(str(path), "").lower()
    return isinstance(err, duckdb.IOException) and "lock" in text


def _unreadable(err: Exception, settings: WebSettings | None) -> HTTPException:
    """A store that cannot be opened for a reason waiting will not cure (not a DuckDB store,
    damaged): a 503 with DuckDB's reason, the server's folders left out."""
    cause = " ".join(str(err).split())[:200]
    text = f"the store cannot be read ({cause})"
    shown = (
        without_absolute_paths(text) if settings is None else without_server_paths(text, settings)
    )
    return HTTPException(503, shown)


def _connect_through(path: Path, gate: Any, deadline: float) -> duckdb.DuckDBPyConnection:
    """A read-only connection, opened while the gate is open (the worker closes it to write)."""
    if gate is None:
        return connect_current(path, read_only=True)
    if not gate.acquire(timeout=max(0.1, deadline - time.monotonic())):
        raise HTTPException(503, BUSY)
    try:
        return connect_current(path, read_only=True)
    finally:
        gate.release()
