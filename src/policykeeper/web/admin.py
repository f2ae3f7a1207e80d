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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import audit, consent
from .._exceptions import PolicykeeperError
from ..pack import Pack, coverage
from ._auth import STAFF_COOKIE, Staff, check_csrf, csrf_token, end_session, open_staff_session, staff_from
from ._context import MemoryMailer, WebContext
from ._errors import ApiError
from ._guards import PageStop
from ._library_words import chain_words, problem_words
from ._pages import ctx_of, gettext_of, redirect, render, same_origin

__all__ = ["PAGES", "Posted", "Seat", "require_staff", "router", "staff_form"]

router = APIRouter(prefix="/admin", dependencies=[Depends(same_origin)])



def _(text: str) -> str:
    """Marks a title for translation where it is written; the page translates it where it is shown."""
    return text


PAGES: tuple[tuple[str, str, str], ...] = (
    ("/admin", _("Dashboard"), "requests:read"),
    ("/admin/requests", _("Requests"), "requests:read"),
    ("/admin/consents", _("Consents"), "consents:read"),
    ("/admin/datamap", _("Data map"), "data:map"),
    ("/admin/incidents", _("Incidents"), "incidents:read"),
    ("/admin/versions", _("Versions"), "versions:read"),
    ("/admin/audit", _("Audit"), "audit:verify"),
    ("/admin/evidence", _("Evidence"), "evidence:read"),
    ("/admin/compiler", _("Draft a pack"), "versions:read"),
    ("/admin/mailbox", _("Mailbox"), "keys:manage"),
)
"""The console's pages: path, title (English; pages show it translated) and the permission each needs (the mailbox
is for admins only)."""



# -- sessions and permissions ----------------------------------------------------------------------------------------

@dataclass
class Seat:
    """The signed-in staff member on a page: who, their session token and the page's CSRF token."""

    staff: Staff
    token: str
    csrf: str
    nav: list[tuple[str, str]] = field(default_factory=list)




def _seat(request: Request, permission: str) -> Seat:
    """The staff member behind a console request, if their role holds ``permission``."""
    ctx = ctx_of(request)
    token = request.cookies.get(STAFF_COOKIE, "")
    try:
        staff = staff_from(request, ctx, permission)
    except ApiError as exc:
        if exc.status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageStop(RedirectResponse(f"/admin/signin?next={quote(target)}", status_code=303)) from None
        raise PageStop(_forbidden(request, ctx, permission, exc.message)) from None
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


def require_staff(permission: str) -> Callable[[Request], Seat]:
    """A console page's guard, as a dependency: ``seat: Annotated[Seat, Depends(require_staff("incidents:read"))]``
    is the signed-in staff member whose role holds ``permission``; anyone else is sent to the sign-in page (no
    session) or gets the page saying which permission is missing (403)."""

    def guard(request: Request) -> Seat:
        return _seat(request, permission)

    return guard


@dataclass(frozen=True)
class Posted:
    """A console form, posted by a staff member whose role holds the action's permission, with a matching CSRF
    token."""

    seat: Seat
    form: dict[str, str]

    @property
    def actor(self) -> str:
        """Who acts, as audit entries name them: the API key behind the console session."""
        return f"key:{self.seat.staff.key_id}"


def staff_form(permission: str) -> Callable[[Request], Awaitable[Posted]]:
    """A console action's guard, as a dependency: :func:`require_staff` and then the posted form's CSRF token."""

    async def guard(request: Request) -> Posted:
        seat = _seat(request, permission)
        return Posted(seat, await _form(request, seat))

    return guard


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
        raise PageStop(_forbidden(request, ctx_of(request), "session",
                               "forms are sent from a console session: sign in at /admin/signin"))
    try:
        check_csrf(ctx_of(request), seat.token, values.get("csrf"))
    except ApiError as exc:
        raise PageStop(render(request, "admin/forbidden.html", 403, seat=seat, permission="csrf",
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
        return redirect(f"/admin/signin?next={quote(target)}", err=problem_words(exc, gettext_of(request)))
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
def dashboard(request: Request, seat: Annotated[Seat, Depends(require_staff("requests:read"))]) -> Response:
    queue = ctx_of(request).requests().open_requests()
    counts = {"open": len(queue), "overdue": sum(r["state"] == "overdue" for r in queue),
              "due_soon": sum(r["state"] == "due_soon" for r in queue)}
    return _page(request, "admin/dashboard.html", seat, counts=counts)


# -- audit (incidents and versions: ._admin_lifecycle; pictures: ._admin_pictures) ----------------------------------------

@router.get("/compiler", response_class=HTMLResponse)
def compiler_page(request: Request, seat: Annotated[Seat, Depends(require_staff("versions:read"))]) -> Response:
    """The policy compiler's review as a page: paste a policy, see each drafted item next to its quote."""
    return _page(request, "admin/compiler.html", seat, name="policy.txt", policy="", rows=None)


@router.post("/compiler", response_class=HTMLResponse)
async def compiler_draft(request: Request, posted: Annotated[Posted, Depends(staff_form("versions:read"))]) -> Response:
    """Draft a pack from the posted policy text and show it for review (nothing is stored: drafting is read-only)."""
    from ..compiler import draft_pack, pack_id_for, policy_from_text
    from ..compiler._review import marked_text, review_rows

    seat, form = posted.seat, posted.form
    name = form.get("name", "").strip() or "policy.txt"
    policy = form.get("policy", "")
    try:
        source = policy_from_text(policy, name)
        draft = draft_pack(source, pack_id=pack_id_for(name))
    except PolicykeeperError as exc:
        return _page(request, "admin/compiler.html", seat, 422, name=name, policy=policy, rows=None, error=exc.message)
    rows = review_rows(draft.pack, source)
    return _page(request, "admin/compiler.html", seat, name=name, policy=policy, rows=rows, draft=draft,
                 pieces=marked_text(source, rows), low=sum(1 for r in rows if r.confidence < 0.5))


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, seat: Annotated[Seat, Depends(require_staff("audit:verify"))]) -> Response:
    with ctx_of(request).db.connect() as conn:
        chains = [("Audit log", audit.verify(conn)), ("Consent ledger", consent.verify(conn))]
    return _page(request, "admin/audit.html", seat, chains=chains, at=ctx_of(request).clock.now(),
                 why=lambda report: chain_words(report, gettext_of(request)))


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
def evidence_page(request: Request, seat: Annotated[Seat, Depends(require_staff("evidence:read"))]) -> Response:
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
def mailbox_page(request: Request, seat: Annotated[Seat, Depends(require_staff("keys:manage"))]) -> Response:
    mailer = ctx_of(request).mailer
    held = list(mailer.messages) if isinstance(mailer, MemoryMailer) else None
    return _page(request, "admin/mailbox.html", seat, messages=held)


from . import _admin_lifecycle, _admin_pictures  # noqa: E402,F401  (their routes join this router)
