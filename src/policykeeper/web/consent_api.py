"""The consent script (``GET /consent.js``) and the public endpoints it calls (``/v1/consent-script/...``).

The endpoints take no personal data: the only identifier is the pseudonymous device id in a signed token (sent in
the ``X-Consent-Device`` header or the body), never an IP address or anything about the visitor. They answer
browsers on the origins the operator lists (``HOME/consent.yaml`` ``site.origins``, or
``$POLICYKEEPER_CONSENT_ORIGINS``, comma separated) and on this service's own origin; a call from any other origin
is refused. Each client address gets ``site.rate_per_minute`` calls a minute (counted in memory, never stored).
Every ledger write is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._exceptions import BadValueError
from ._auth import person_from
from ._context import WebContext
from ._errors import ERROR_RESPONSES, ApiError, error_body
from ._pages import TEMPLATES
from ._site import (
    ConsentSite,
    cookies_allowed,
    device_of,
    gpc_honoured,
    gpc_note,
    gpc_signal,
    new_device,
    offered,
    record_choices,
    site_choices,
)

__all__ = ["SCRIPT", "install", "router"]

SCRIPT = Path(__file__).parent / "static" / "consent.js"
PREFIX = "/v1/consent-script"

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["consent script"])


class _Gate:
    """CORS limited to the listed origins, and the rate limit, for the consent endpoints only."""

    def __init__(self, app: ASGIApp, site: ConsentSite, own: str) -> None:
        self.app, self.site, self.own = app, site, own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        host = headers.get(b"host", b"").decode("latin-1")
        same = origin is not None and origin in (self.own, f"{scope.get('scheme', 'http')}://{host}")
        listed = origin is not None and (same or origin in self.site.origins)
        client = (scope.get("client") or ("?", 0))[0]
        extra: list[tuple[bytes, bytes]] = [(b"vary", b"Origin")]
        if listed and origin is not None:
            extra += [(b"access-control-allow-origin", origin.encode("latin-1"))]
        if not self.site.allow(str(client)):
            await _answer(429, error_body("too_many_attempts", "too many calls to the consent endpoints; "
                                          "try again in a minute"), extra + [(b"retry-after", b"60")])(scope, receive, send)
            return
        if origin is not None and not listed:
            await _answer(403, error_body("origin_not_allowed", f"{origin} is not an origin this service's "
                                          "operator lists for the consent script"), extra)(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await _answer(204, None, extra + [(b"access-control-allow-methods", b"GET, POST"),
                                              (b"access-control-allow-headers", b"Content-Type, X-Consent-Device"),
                                              (b"access-control-max-age", b"600")])(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_cors)


def _answer(status: int, body: dict[str, Any] | None, headers: list[tuple[bytes, bytes]]) -> Response:
    response: Response = (JSONResponse(body, status_code=status) if body is not None
                          else Response(status_code=status))
    response.raw_headers.extend(headers)
    return response


def install(app: FastAPI, ctx: WebContext) -> None:
    """Serve ``/consent.js`` and the consent endpoints, behind their CORS and rate-limit gate; honour the GPC
    signal of signed-in people on every other request, and let the pages say that the signal was seen."""
    app.include_router(router)
    app.add_api_route("/consent.js", consent_js, methods=["GET"], include_in_schema=False)
    app.add_middleware(_Gate, site=ctx.consent_site, own=ctx.public_url)
    TEMPLATES.globals["gpc_note"] = gpc_note

    @app.middleware("http")
    async def _gpc(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.headers.get("sec-gpc", "").strip() == "1" and not request.url.path.startswith(PREFIX):
            await run_in_threadpool(_honour_gpc, request, ctx)
        return await call_next(request)


def _honour_gpc(request: Request, ctx: WebContext) -> None:
    try:
        person = person_from(request, ctx)
    except ApiError:
        return  # not a signed-in person: the consent script records a visitor's signal
    gpc_signal(ctx.engine(), person.subject_id)


def consent_js() -> Response:
    return Response(SCRIPT.read_bytes(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


def _ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.pk
    return ctx


# -- the endpoints ----------------------------------------------------------------------------------------------------

DeviceHeader = Annotated[str | None, Header(alias="X-Consent-Device", max_length=80,
                                            description="The signed device token the script keeps in its cookie.")]
GpcHeader = Annotated[str | None, Header(alias="Sec-GPC", max_length=4,
                                         description="The Global Privacy Control signal (`1`), as the browser sends it.")]


class TrackerOut(BaseModel):
    name: str
    technology: str
    party: Literal["first", "third"]
    lifetime: Literal["session", "persistent"]


class PurposeOut(BaseModel):
    id: str
    name: str
    description: str
    essential: bool = Field(description="Always on; not asked.")
    gpc: bool = Field(description="Refused by a Global Privacy Control signal.")
    trackers: list[TrackerOut] = Field(description="The registered cookies and similar trackers serving it.")


class SiteConfig(BaseModel):
    pack: str
    version: str
    cookies: bool = Field(description="Whether the pack allows cookies; false: no cookie, no non-essential script.")
    gpc_honoured: bool
    gpc_seen: bool = Field(description="Whether this request carried the GPC signal (Sec-GPC: 1).")
    refusal_effect: str | None
    policy_url: str | None
    purposes: list[PurposeOut]
    choices: dict[str, str] = Field(description="The device's recorded choice per purpose: given, refused, withdrawn.")


@router.get("/config", response_model=SiteConfig)
def site_config(request: Request, device: DeviceHeader = None, sec_gpc: GpcHeader = None) -> dict[str, Any]:
    """What the consent script offers (the pack's cookie purposes) and the device's current choices."""
    ctx = _ctx(request)
    eng = ctx.engine()
    cookies = eng.pack.cookies
    allowed = cookies_allowed(eng.pack)
    return {"pack": eng.pack.id, "version": eng.pack.version.label, "cookies": allowed,
            "gpc_honoured": gpc_honoured(eng.pack), "gpc_seen": (sec_gpc or "").strip() == "1",
            "refusal_effect": None if isinstance(cookies, str) else cookies.refusal_effect,
            "policy_url": eng.pack.version.published_url,
            "purposes": [{**p.__dict__, "trackers": list(p.trackers)} for p in offered(eng)],
            "choices": site_choices(eng, device_of(eng, device)) if device and allowed else {}}


class ChoicesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device: Annotated[str, Field(max_length=80)] | None = Field(
        default=None, description="The signed device token; none on a first visit (one is made and returned).")
    choices: dict[Annotated[str, Field(max_length=64)], bool] = Field(max_length=50, description="Purpose id: allowed?")
    method: Literal["banner", "preferences", "withdraw_link", "gpc"] = "banner"
    gpc: bool = Field(default=False, description="navigator.globalPrivacyControl, as the script saw it.")


class ChoicesOut(BaseModel):
    device: str = Field(description="The signed device token for the script's first-party cookie.")
    choices: dict[str, str]


@router.post("/choices", response_model=ChoicesOut)
def site_record(request: Request, body: ChoicesIn, sec_gpc: GpcHeader = None) -> dict[str, Any]:
    """Record the visitor's choices in the consent ledger under the device id (each change audited)."""
    ctx = _ctx(request)
    eng = ctx.engine()
    if not cookies_allowed(eng.pack):
        raise BadValueError("this pack uses no cookies or similar technologies: nothing is recorded for a device")
    if body.device:
        device, token = device_of(eng, body.device), body.device
    else:
        device, token = new_device(eng)
    gpc = body.gpc or (sec_gpc or "").strip() == "1"
    got = record_choices(eng, device, body.choices, method=body.method, gpc=gpc, origin=request.headers.get("origin"))
    return {"device": token, "choices": got}
