"""Request guards: body size limit, the shared-mode token, CSRF tokens, strict form parsing.

- Every request body is read in full by `BodyLimit` before the application sees it; one larger
  than the limit is refused with 413 (a scenario form is a few kB).
- In shared mode (`--host` beyond loopback) every request must carry the token: once as
  `?token=...` (which sets a cookie), then the cookie or an `Authorization: Bearer` header.
- Every state-changing request carries the CSRF token of its browser (double submit: a random
  cookie, same-site strict, and the same value in the form or the `X-CSRF-Token` header).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from starlette.datastructures import URL
from starlette.responses import PlainTextResponse, RedirectResponse, Response

CSRF_COOKIE = "bordersim_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
TOKEN_COOKIE = "bordersim_token"
FORM_TYPE = "application/x-www-form-urlencoded"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: refuse bodies over `limit` bytes with 413, before the app reads them."""

    def __init__(self, app: App, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.limit
            except ValueError:
                await _plain(400, "Content-Length is not a number")(scope, receive, send)
                return
            if too_large:
                await self._refuse(scope, receive, send)
                return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _plain(413, f"request body too large: the limit is {self.limit:,} bytes")(
            scope, receive, send
        )


def _plain(status: int, text: str) -> Response:
    return PlainTextResponse(text + "\n", status_code=status)


def _unauthorized(text: str) -> Response:
    """A 401, with the header HTTP asks of one: how to authenticate (a bearer token)."""
    response = _plain(401, text)
    response.headers["WWW-Authenticate"] = 'Bearer realm="bordersim workbench"'
    return response


class TokenGate:
    """ASGI middleware for shared mode: every request presents the token, or gets 401."""

    def __init__(self, app: App, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        offered = request.query_params.get("token")
        if offered is not None:
            if not same_secret(offered, self.token):
                await _unauthorized(
                    "wrong token: open the workbench with the ?token=... that whoever started "
                    "`bordersim serve` gave"
                )(scope, receive, send)
                return
            # Remember it in a cookie and drop it from the address bar.
            url = URL(str(request.url)).remove_query_params("token")
            # one leading slash: "//host/" (or "/\\host/", which browsers read alike) would send
            # the browser, token cookie set, to another site
            path = "/" + url.path.lstrip("/\\")
            response = RedirectResponse(path + (f"?{url.query}" if url.query else ""), 303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        header = request.headers.get("authorization", "")
        presented = request.cookies.get(TOKEN_COOKIE) or (
            header[7:] if header.lower().startswith("bearer ") else ""
        )
        if not presented or not same_secret(presented, self.token):
            await _unauthorized(
                "this workbench is shared: open it with ?token=... (given by whoever started "
                "`bordersim serve`) or send Authorization: Bearer TOKEN",
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)


def same_secret(offered: str, expected: str) -> bool:
    """Compare in constant time. `hmac.compare_digest` refuses (TypeError) strings with
    characters beyond ASCII, which a browser or client may well send; compared as UTF-8 bytes,
    they are simply wrong."""
    return hmac.compare_digest(
        offered.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on its first visit; `remember_csrf` sets the cookie)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) == 43:
        return existing
    made = getattr(request.state, "csrf_made", None)
    if made is None:
        made = secrets.token_urlsafe(32)
        request.state.csrf_made = made
    return str(made)


def remember_csrf(request: Request, response: Response) -> None:
    made = getattr(request.state, "csrf_made", None)
    if made is not None:
        response.set_cookie(CSRF_COOKIE, made, httponly=True, samesite="strict")


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    offered = submitted or request.headers.get(CSRF_HEADER)
    if not cookie or not offered or not same_secret(cookie, offered):
        raise HTTPException(
            403,
            "missing or wrong CSRF token: reload the page and submit the form again",
        )


async def read_nothing_or(request: Request, read: Callable[[Request], Awaitable[Any]]) -> Any:
    """What `read` (`read_form` or `read_json`) makes of the body, or nothing where there is no
    body: a request that needs none (a cancel, `curl -X POST`) has its CSRF header checked."""
    if await request.body():
        return await read(request)
    check_csrf(request, None)
    return None


async def read_form(request: Request) -> dict[str, list[str]]:
    """A url-encoded form, strictly parsed, with its CSRF token checked; 4xx otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise HTTPException(415, f"expected a form ({FORM_TYPE}), got {kind or 'no content type'}")
    body = await request.body()
    try:
        text = body.decode("utf-8")
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError) as err:
        raise HTTPException(400, f"malformed form data: {err}") from None
    submitted = form.get(CSRF_FIELD)
    check_csrf(request, submitted[0] if submitted else None)
    return form


async def read_json(request: Request) -> dict[str, Any]:
    """A JSON object body with the CSRF header checked; 4xx with the reason otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, f"expected application/json, got {kind or 'no content type'}")
    check_csrf(request, None)
    try:
        data = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HTTPException(400, f"malformed JSON: {err}") from None
    except RecursionError:  # arrays or objects nested thousands deep, within the body limit
        raise HTTPException(400, "malformed JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise HTTPException(422, "expected a JSON object")
    return data
