"""The admin console for staff, under ``/admin``: the request queue and its decisions, consents over time, the data
map, incidents, policy versions, the audit chains, the evidence behind every promise and (without a mail server) the
mailbox.

Staff sign in by pasting their API key; the console session (``pkc_...``) lives in an HttpOnly, SameSite=Strict
cookie and carries the key's role. Every page checks one permission of that role (:data:`._auth.ROLES`): without a
session it sends the visitor to the sign-in page, without the permission it answers 403 naming the permission.
Pages are rendered on the server and work without JavaScript: every action is a form POST with the session's CSRF
token, answered by a 303 redirect to a page that says what happened. Charts and the data map are inline SVG with a
table next to them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from .. import audit, consent
from ..incidents import notice_timing
from ..pack import Pack, coverage
from ..store._schema import consent_events, incident_notices, incidents
from ..versions import notice_for, versions
from ._auth import STAFF_COOKIE, Staff, check_csrf, csrf_token, end_session, open_staff_session, staff_from
from ._context import MemoryMailer, WebContext
from ._errors import ApiError
from ._pages import ctx_of, redirect, render, same_origin

__all__ = ["PAGES", "router"]

router = APIRouter(prefix="/admin", dependencies=[Depends(same_origin)])

PAGES: tuple[tuple[str, str, str], ...] = (
    ("/admin", "Dashboard", "requests:read"),
    ("/admin/requests", "Requests", "requests:read"),
    ("/admin/consents", "Consents", "consents:read"),
    ("/admin/datamap", "Data map", "data:map"),
    ("/admin/incidents", "Incidents", "incidents:read"),
    ("/admin/versions", "Versions", "versions:read"),
    ("/admin/audit", "Audit", "audit:verify"),
    ("/admin/evidence", "Evidence", "evidence:read"),
    ("/admin/mailbox", "Mailbox", "keys:manage"),
)
"""The console's pages: path, title and the permission each needs (the mailbox is for admins only)."""



# -- sessions and permissions ----------------------------------------------------------------------------------------

@dataclass
class Seat:
    """The signed-in staff member on a page: who, their session token and the page's CSRF token."""

    staff: Staff
    token: str
    csrf: str
    nav: list[tuple[str, str]] = field(default_factory=list)


class _Stop(Exception):
    """A page cannot go on: answer with ``response`` instead."""

    def __init__(self, response: Response) -> None:
        super().__init__("stop")
        self.response = response


def _seat(request: Request, permission: str) -> Seat:
    """The staff member behind a console request, if their role holds ``permission``."""
    ctx = ctx_of(request)
    token = request.cookies.get(STAFF_COOKIE, "")
    try:
        staff = staff_from(request, ctx, permission)
    except ApiError as exc:
        if exc.status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise _Stop(RedirectResponse(f"/admin/signin?next={quote(target)}", status_code=303)) from None
        raise _Stop(_forbidden(request, ctx, permission, exc.message)) from None
    nav = [(path, title) for path, title, perm in PAGES if staff.can(perm)]
    return Seat(staff, token, csrf_token(ctx, token) if token else "", nav)


def _forbidden(request: Request, ctx: WebContext, permission: str, message: str) -> HTMLResponse:
    token = request.cookies.get(STAFF_COOKIE, "")
    staff: Staff | None = None
    for perm in ("requests:read", "consents:read", "data:collect"):  # every role holds one of these
        try:
            staff = staff_from(request, ctx, perm)
            break
        except ApiError:
            continue
    nav = [(p, t) for p, t, perm in PAGES if staff is not None and staff.can(perm)]
    seat = Seat(staff, token, csrf_token(ctx, token) if token else "", nav) if staff is not None else None
    return render(request, "admin/forbidden.html", 403, seat=seat, permission=permission, message=message)


def when(value: object, *, date_only: bool = False) -> str:
    """A time as staff read it: ``2025-06-02 09:00 UTC`` (or the date alone); ISO strings are read first."""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    at = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return at.strftime("%Y-%m-%d") if date_only else at.strftime("%Y-%m-%d %H:%M UTC")


def _page(request: Request, template: str, seat: Seat, status: int = 200, **values: Any) -> HTMLResponse:
    return render(request, template, status, seat=seat, when=when, **values)


async def _form(request: Request, seat: Seat) -> dict[str, str]:
    """The posted form, once its CSRF token matches the console session (a session cookie is required)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not seat.token:
        raise _Stop(_forbidden(request, ctx_of(request), "a console session",
                               "forms are sent from a console session: sign in at /admin/signin"))
    try:
        check_csrf(ctx_of(request), seat.token, values.get("csrf"))
    except ApiError as exc:
        raise _Stop(render(request, "admin/forbidden.html", 403, seat=seat, permission="csrf",
                           message=exc.message)) from None
    return values


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


# -- sign in and out -----------------------------------------------------------------------------------------------

@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "admin/signin.html", seat=None, next=_safe_next(next))


@router.post("/signin")
async def signin(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await request.form()
    key = str(form.get("key") or "")
    target = _safe_next(str(form.get("next") or ""))
    try:
        token, _staff = open_staff_session(ctx, key)
    except ApiError as exc:
        return redirect(f"/admin/signin?next={quote(target)}", err=exc.message)
    response = redirect(target)
    response.set_cookie(STAFF_COOKIE, token, max_age=int(ctx.session_ttl.total_seconds()), httponly=True,
                        samesite="strict", secure=ctx.secure_cookies, path="/admin")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    ctx = ctx_of(request)
    token = request.cookies.get(STAFF_COOKIE, "")
    form = await request.form()
    given = form.get("csrf")
    if token:
        try:
            check_csrf(ctx, token, given if isinstance(given, str) else None)
        except ApiError as exc:
            return render(request, "admin/forbidden.html", 403, seat=None, permission="csrf", message=exc.message)
        end_session(ctx, token)
    response = redirect("/admin/signin", msg="You are signed out.")
    response.delete_cookie(STAFF_COOKIE, path="/admin")
    return response


# -- dashboard and requests ----------------------------------------------------------------------------------------

@router.get("", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    try:
        seat = _seat(request, "requests:read")
    except _Stop as stop:
        return stop.response
    queue = ctx_of(request).requests().open_requests()
    counts = {"open": len(queue), "overdue": sum(r["state"] == "overdue" for r in queue),
              "due_soon": sum(r["state"] == "due_soon" for r in queue)}
    return _page(request, "admin/dashboard.html", seat, counts=counts)


# -- consents over time --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str
    day: str
    count: int


def consent_chart(days: list[tuple[str, int, int]], *, width: int = 720, height: int = 260) -> dict[str, Any]:
    """Geometry of the consents chart: per day a bar of consents given and one of consents withdrawn."""
    left, bottom, top = 40, 40, 16
    plot_h = height - bottom - top
    peak = max([max(g, w) for _, g, w in days] + [1])
    slot = (width - left - 8) / max(len(days), 1)
    bar_w = max(min(slot / 2 - 2, 24), 2)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for i, (day, given, withdrawn) in enumerate(days):
        x0 = left + i * slot + (slot - 2 * bar_w) / 2
        for j, (kind, n) in enumerate((("given", given), ("withdrawn", withdrawn))):
            h = plot_h * n / peak
            bars.append(Bar(round(x0 + j * bar_w, 1), round(top + plot_h - h, 1), round(bar_w, 1), round(h, 1),
                            kind, day, n))
        labels.append((round(left + i * slot + slot / 2, 1), day[5:]))
    step = max(1, len(labels) // 12)
    ticks = sorted({0, peak // 2, peak})
    return {"width": width, "height": height, "left": left, "top": top, "plot_h": plot_h, "bars": bars,
            "labels": labels[::step], "ticks": [(t, round(top + plot_h - plot_h * t / peak, 1)) for t in ticks],
            "axis_y": top + plot_h}


def _consent_days(ctx: WebContext, limit: int = 60) -> list[tuple[str, int, int, int]]:
    """(day, given, withdrawn, other) for the last ``limit`` days that had consent events, oldest first."""
    pack = ctx.engine().pack
    day = func.date(consent_events.c.at)
    with ctx.db.connect() as conn:
        rows = conn.execute(select(day, consent_events.c.action, func.count())
                            .where(consent_events.c.pack_id == pack.id)
                            .group_by(day, consent_events.c.action)).all()
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d, action, n in rows:
        slot = {"given": 0, "withdrawn": 1}.get(str(action), 2)
        found[str(d)[:10]][slot] += int(n)
    return [(d, found[d][0], found[d][1], found[d][2]) for d in sorted(found)[-limit:]]


@router.get("/consents", response_class=HTMLResponse)
def consents_page(request: Request) -> Response:
    try:
        seat = _seat(request, "consents:read")
    except _Stop as stop:
        return stop.response
    days = _consent_days(ctx_of(request))
    chart = consent_chart([(d, g, w) for d, g, w, _ in days])
    totals = (sum(d[1] for d in days), sum(d[2] for d in days), sum(d[3] for d in days))
    return _page(request, "admin/consents.html", seat, days=days, chart=chart, totals=totals)


# -- the data map ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    id: str
    label: str
    column: int
    x: float
    y: float


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str


UNSTATED = "not stated"


def _place(value: object) -> str:
    return UNSTATED if value in (None, "unspecified") else str(value)


def data_map(pack: Pack, *, col_width: int = 250, row_h: int = 26, box_w: int = 200) -> dict[str, Any]:
    """Geometry of the data map: columns categories -> purposes -> recipients -> regions, and the links between them
    (a purpose to the categories it may use, a recipient to the purposes it receives data for, a recipient to where it
    processes data)."""
    cats = [(c.id, c.name) for c in pack.data_categories]
    purps = [(p.id, p.name) for p in pack.purposes.items]
    recs = [(r.id, r.name) for r in pack.recipients]
    places = sorted({_place(r.place_of_processing) for r in pack.recipients}, key=lambda p: (p == UNSTATED, p))
    columns = [cats, purps, recs, [(p, p) for p in places]]
    prefix = ("cat", "pur", "rec", "reg")
    rows = max(len(c) for c in columns)
    height = 40 + rows * row_h
    nodes: dict[str, Node] = {}
    for col, items in enumerate(columns):
        offset = (rows - len(items)) * row_h / 2  # centre shorter columns
        for i, (key, label) in enumerate(items):
            nid = f"{prefix[col]}:{key}"
            nodes[nid] = Node(nid, label, col, 10 + col * col_width, round(36 + offset + i * row_h, 1))
    pairs: list[tuple[str, str, str]] = []
    all_cats = [c for c, _ in cats]
    for p in pack.purposes.items:
        used = all_cats if p.categories == "any_declared" else list(p.categories)
        kind = "any" if p.categories == "any_declared" else "uses"
        pairs += [(f"cat:{c}", f"pur:{p.id}", kind) for c in used]
    for r in pack.recipients:
        pairs += [(f"pur:{p}", f"rec:{r.id}", "receives") for p in r.purposes]
        pairs.append((f"rec:{r.id}", f"reg:{_place(r.place_of_processing)}", "processes"))
    links = []
    for a, b, kind in pairs:
        if a in nodes and b in nodes:
            s, t = nodes[a], nodes[b]
            links.append(Link(a, b, s.x + box_w, s.y + row_h / 2 - 3, t.x, t.y + row_h / 2 - 3, kind))
    storage = pack.storage
    home = () if isinstance(storage, str) or isinstance(storage.home_regions, str) else tuple(storage.home_regions)
    return {"width": 10 + 3 * col_width + box_w + 10, "height": height, "box_w": box_w, "box_h": row_h - 6,
            "nodes": list(nodes.values()), "links": links, "home": home,
            "headings": [(10 + i * col_width, t) for i, t in enumerate(("Data categories", "Purposes", "Recipients",
                                                                      "Where recipients process"))]}


@router.get("/datamap", response_class=HTMLResponse)
def datamap_page(request: Request) -> Response:
    try:
        seat = _seat(request, "data:map")
    except _Stop as stop:
        return stop.response
    pack = ctx_of(request).engine().pack
    names = {c.id: c.name for c in pack.data_categories}
    return _page(request, "admin/datamap.html", seat, m=data_map(pack), names=names,
                 purposes=pack.purposes.items, recipients=pack.recipients, unstated=UNSTATED, place=_place)


# -- incidents, versions, audit --------------------------------------------------------------------------------------

@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request) -> Response:
    try:
        seat = _seat(request, "incidents:read")
    except _Stop as stop:
        return stop.response
    ctx = ctx_of(request)
    eng = ctx.engine()
    with ctx.db.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(incidents).where(incidents.c.pack_id == eng.pack.id)
                                              .order_by(incidents.c.opened_at.desc())).mappings()]
        counts = conn.execute(select(incident_notices.c.incident_id, incident_notices.c.kind,
                                     incident_notices.c.channel, func.count(), func.min(incident_notices.c.created_at))
                              .group_by(incident_notices.c.incident_id, incident_notices.c.kind,
                                        incident_notices.c.channel)).all()
    notices: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for iid, kind, channel, n, first in counts:
        notices[int(iid)].append({"kind": kind, "channel": channel, "count": int(n), "first": first})
    items = [{**r, "notices": notices.get(int(r["id"]), []), "timing": notice_timing(eng, int(r["id"]))}
             for r in rows]
    return _page(request, "admin/incidents.html", seat, incidents=items)


@router.get("/versions", response_class=HTMLResponse)
def versions_page(request: Request) -> Response:
    try:
        seat = _seat(request, "versions:read")
    except _Stop as stop:
        return stop.response
    eng = ctx_of(request).engine()
    items = []
    for v in versions(eng):
        baseline = bool((v["changes"] or {}).get("baseline"))
        items.append({**v, "baseline": baseline, "items": (v["changes"] or {}).get("items", []),
                      "channels": (v["changes"] or {}).get("channels", []),
                      "notice": None if baseline else notice_for(eng, v["label"])})
    return _page(request, "admin/versions.html", seat, versions=list(reversed(items)), current=eng.pack.version.label)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> Response:
    try:
        seat = _seat(request, "audit:verify")
    except _Stop as stop:
        return stop.response
    with ctx_of(request).db.connect() as conn:
        chains = [("Audit log", audit.verify(conn)), ("Consent ledger", consent.verify(conn))]
    return _page(request, "admin/audit.html", seat, chains=chains, at=dt.datetime.now(dt.UTC))


# -- evidence --------------------------------------------------------------------------------------------------------

def tests_dir() -> Path | None:
    """The repository's tests directory, when policykeeper runs from a source checkout."""
    import policykeeper

    found = Path(policykeeper.__file__).resolve().parents[2] / "tests"
    return found if found.is_dir() else None


def proving_tests(pack: Pack, where: Path) -> dict[str, list[str]]:
    """Promise ID -> the tests named after it (``test_<id lower>_...``), as ``path::name``."""
    ids = {p.id.lower().replace("-", "_"): p.id for p in pack.promises}
    pattern = re.compile(r"^\s*(?:async\s+)?def\s+(test_([a-z0-9]+_[0-9]+)\w*)\s*\(", re.MULTILINE)
    out: dict[str, list[str]] = defaultdict(list)
    for path in sorted(where.rglob("test_*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for m in pattern.finditer(text):
            pid = ids.get(m.group(2))
            name = m.group(1)
            if pid and (name == f"test_{m.group(2)}" or name.startswith(f"test_{m.group(2)}_")):
                out[pid].append(f"{path.relative_to(where.parent).as_posix()}::{name}")
    return out


@router.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request) -> Response:
    try:
        seat = _seat(request, "evidence:read")
    except _Stop as stop:
        return stop.response
    from ..organisation import department, training_status

    ctx = ctx_of(request)
    eng = ctx.engine()
    pack = eng.pack
    cov = coverage(pack)
    where = tests_dir()
    tests = proving_tests(pack, where) if where is not None else None
    return _page(request, "admin/evidence.html", seat, promises=pack.promises, rules=cov.rules, tests=tests,
                 summary=cov.summary(), department=department(eng), training=training_status(eng, ctx.recurrence))


# -- mailbox -------------------------------------------------------------------------------------------------------

@router.get("/mailbox", response_class=HTMLResponse)
def mailbox_page(request: Request) -> Response:
    try:
        seat = _seat(request, "keys:manage")
    except _Stop as stop:
        return stop.response
    mailer = ctx_of(request).mailer
    held = list(mailer.messages) if isinstance(mailer, MemoryMailer) else None
    return _page(request, "admin/mailbox.html", seat, messages=held)
