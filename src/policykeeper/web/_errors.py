"""One error shape for every API answer, and the request-size limit.

Every error is ``{"error": {"code": ..., "message": ..., "where": ...}}`` with a status that says what kind it is:
400 bad input, 401 not signed in, 403 not allowed (by role or by the pack, with the promises behind a pack denial),
404 not found, 405 wrong method, 409 conflict, 413 body too large, 422 a field is wrong (``where`` names it), 429 too
many attempts, 500 a problem on our side (never with details of it).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._exceptions import PolicykeeperError

__all__ = ["ERROR_RESPONSES", "ApiError", "BodyLimit", "CatchAll", "ErrorOut", "NoUnstorableText", "error_body",
           "error_page", "install_error_handlers", "wants_page"]

log = logging.getLogger("policykeeper.web")

_STATUS = {"bad_value": 400, "denied": 403, "subject_not_found": 404, "pack_not_found": 404, "config": 409,
           "erasure_incomplete": 409, "audit_event": 500, "privileged_fact": 422, "pack_syntax": 422, "pack_schema": 422,
           "pack_reference": 422}
_HTTP_CODES = {400: "bad_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               406: "not_acceptable", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "too_many_attempts", 500: "internal"}


class ErrorDetail(BaseModel):
    """What went wrong; a pack denial also lists the promises and reasons behind it."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(description="A stable code, e.g. invalid, not_found, denied.")
    message: str = Field(description="What went wrong, for a person to read.")
    where: str | None = Field(description="The field at fault (e.g. body.values.email), for input errors.")


class ErrorOut(BaseModel):
    """The one error shape of the API."""

    error: ErrorDetail


_DESCRIPTIONS = {400: "Bad value", 401: "Not signed in", 403: "Not allowed (by role, or by the pack: denied)",
                 404: "Not found", 409: "Conflict", 413: "Body larger than the limit", 422: "Invalid field",
                 429: "Too many attempts"}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text} for status, text in _DESCRIPTIONS.items()}
"""The error answers every operation may give, documented with the one error shape."""


class ApiError(Exception):
    """An error the API answers with: status, code, message and, for a field, where."""

    def __init__(self, status: int, code: str, message: str, where: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.where, self.extra = status, code, message, where, extra or {}


def error_body(code: str, message: str, where: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "where": where, **extra}}


def _policykeeper(exc: PolicykeeperError) -> JSONResponse:
    extra: dict[str, Any] = {}
    decision = getattr(exc, "decision", None)
    if decision is not None:
        extra = {"promises": list(getattr(decision, "promises", ())),
                 "reasons": [r.code for r in getattr(decision, "denials", ())]}
    return JSONResponse(error_body(exc.code, exc.message, None, **extra), status_code=_STATUS.get(exc.code, 400))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, ours or the framework's, in the one shape."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.where, **exc.extra), status_code=exc.status)

    @app.exception_handler(PolicykeeperError)
    async def _pk(request: Request, exc: PolicykeeperError) -> JSONResponse:
        return _policykeeper(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(error_body("invalid", str(first.get("msg", "invalid request")), where or None),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405) and wants_page(request):
            return error_page(request, exc.status_code, exc.headers)
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)



def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API under ``/v1``): it gets an HTML error page, not the JSON shape."""
    return not request.url.path.startswith("/v1") and "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """An error as a page in the person's language, with a way back (to the privacy center, or the console)."""
    from ._pages import gettext_of, render

    _ = gettext_of(request)
    console = request.url.path == "/admin" or request.url.path.startswith("/admin/")
    heading, explanation = {
        404: (_("Page not found"),
              _("There is no page at this address. Check it for a typing mistake, or start again from the link "
                "below.")),
        405: (_("This page cannot be opened that way"), _("Open it from a link or a form of this site.")),
    }.get(status, (_("Something went wrong"), _("The page could not be shown. Nothing was changed.")))
    back, label = ("/admin", _("Back to the admin console")) if console else ("/", _("Back to the privacy center"))
    response = render(request, "error.html", status, heading=heading, explanation=explanation, back=back,
                      back_label=label, console=console, code=status)
    response.headers.update(headers or {})
    return response


class _HttpMiddleware:
    """An ASGI middleware for HTTP requests (:meth:`http`); anything else (the server's lifespan events) passes
    through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class _Tracked:
    """A middleware's ``send`` that remembers whether the response has started: after that, no other answer can
    take its place."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class CatchAll(_HttpMiddleware):
    """Answer any unexpected error with a bare 500 and log only its kind, method and route, never its text: the text
    of a database error may hold values (a key's hash, a lookup hash, wrapped key bytes, a unique key's value). The
    error stops here, so the server underneath does not log its traceback either."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracked = _Tracked(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: every error gets an answer
            route = scope.get("route")
            where = getattr(route, "path", None) or "(no route)"
            log.error("unexpected %s on %s %s", type(exc).__name__, scope.get("method"), where)  # no values
            if not tracked.started:
                response = JSONResponse(error_body("internal", "something went wrong on our side; nothing was "
                                                   "changed"), status_code=500)
                await response(scope, receive, send)


def _unstorable(value: Any) -> bool:
    """Whether a decoded value holds text no database column can keep: NUL, or half of a surrogate pair."""
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


_SUSPECT = re.compile(rb"\\u(0000|d[89a-f][0-9a-f]{2})|%00|\x00", re.IGNORECASE)


class NoUnstorableText(_HttpMiddleware):
    """Answer 422 to a request whose path, query or body holds NUL (``\\u0000``, ``%00``) or a lone surrogate, in
    any string: such text cannot be stored (PostgreSQL refuses it), so it is refused at the door with a clear
    answer, never a 500. Bodies are read within the body limit; only suspect ones are decoded to be sure."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        from urllib.parse import parse_qsl, unquote

        query = scope.get("query_string", b"")
        if _unstorable(str(scope.get("path", ""))) or _unstorable(unquote(query.decode("latin-1"))):
            await _refuse("the address", scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                chunks = []
                break
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        if _SUSPECT.search(body):
            kind = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
            decoded: Any = None
            try:
                if kind == b"application/x-www-form-urlencoded":
                    decoded = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
                    decoded = [v for pair in decoded for v in pair]
                else:
                    decoded = json.loads(body)
            except ValueError:
                decoded = None  # not valid: the framework answers that itself
            if _unstorable(decoded):
                await _refuse("the body", scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(where: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(error_body("invalid", f"{where} holds a NUL character or half of a surrogate pair: "
                                       "text like that cannot be stored", "body" if where == "the body" else "path"),
                            status_code=422)
    await response(scope, receive, send)


class BodyLimit(_HttpMiddleware):
    """Refuse request bodies larger than ``limit`` bytes with 413, by the declared length or while reading."""

    def __init__(self, app: ASGIApp, limit: int, larger: dict[str, int] | None = None) -> None:
        super().__init__(app)
        self.limit, self.larger = limit, dict(larger or {})

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = max(self.limit, self.larger.get(str(scope.get("path", "")), 0))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0
        tracked = _Tracked(send)

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not tracked.started:
                await _too_large(limit)(scope, receive, send)


class _TooLarge(Exception):
    pass


def _too_large(limit: int) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    response: Response = JSONResponse(error_body("too_large", f"the request body is larger than {limit} bytes"),
                                      status_code=413)
    return response
