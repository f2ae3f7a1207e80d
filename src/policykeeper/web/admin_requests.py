"""The console's request pages, under ``/admin/requests``: the queue staff work from and one request's page.

The queue lists every request, closed ones included, with filters (status, right, overdue or due soon), a search by
reference, a sort (due date, receipt, status; overdue first, requests without a date after dated ones), pages, the
days left and the requester's address masked; the same view downloads as CSV (masked too, and safe to open in a
spreadsheet). A request's page shows what the person asked, their current values hidden until a member of staff who
may act reveals them (each reveal audited, never the values), and the timeline of every step with who, when and why.
Irreversible actions (erasing the person, refusing) take a second, confirming step that works without JavaScript.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from .._exceptions import PolicykeeperError
from ..pack import Pack
from ..requests import MAX_STAFF_NOTE, STATUSES, QueueQuery
from ._auth import list_api_keys
from ._context import WebContext
from ._errors import ApiError
from ._guards import PageStop
from ._library_words import problem_words
from ._pages import ctx_of, gettext_of, redirect, same_origin
from ._request_words import csv_cell, words_for
from .admin import Posted, Seat, _page, require_staff, staff_form

__all__ = ["router"]

router = APIRouter(prefix="/admin", dependencies=[Depends(same_origin)])

_REF = re.compile(r"^[0-9a-f]{1,32}$")
_ACCESS = ("access", "copy", "portability")
_ERASE = ("delete", "erasure", "cancel_account")
_CORRECT = ("correct", "rectification")
_RESTRICT = ("restrict", "restriction", "object", "objection")
PAGE_SIZE = 25
CSV_LIMIT = 10_000


# -- the queue -------------------------------------------------------------------------------------------------------

def _query(request: Request, *, limit: int = PAGE_SIZE) -> tuple[QueueQuery, dict[str, str], str | None]:
    """The queue's view from the address (``?status=&right=&state=&ref=&sort=&order=&page=``): values that are not
    allowed fall back to the default, and a malformed reference is said, not obeyed."""
    p = request.query_params
    status = p.get("status", "all")
    status = status if status in STATUSES else "all"
    state = p.get("state") if p.get("state") in ("overdue", "due_soon") else None
    sort = str(p.get("sort")) if p.get("sort") in ("due", "received", "status") else "due"
    order = "desc" if p.get("order") == "desc" else "asc"
    right = (p.get("right") or "")[:40]
    ref = (p.get("ref") or "").strip().lower()[:32]
    problem = None
    if ref and not _REF.match(ref):
        problem, ref = "ref", ""
    try:
        page = max(1, min(int(p.get("page") or 1), 100_000))
    except ValueError:
        page = 1
    view = {"status": status, "right": right, "state": state or "", "ref": ref, "sort": sort, "order": order}
    query = QueueQuery(status=status, right=right or None, state=state, ref=ref, sort=sort,  # type: ignore[arg-type]
                       descending=order == "desc", limit=limit, offset=(page - 1) * limit)
    return query, view, problem


def _link(view: dict[str, str], **change: object) -> str:
    merged = {**view, **{k: str(v) for k, v in change.items()}}
    return "?" + urlencode({k: v for k, v in merged.items() if v})


def _rights(pack: Pack) -> list[str]:
    return [] if isinstance(pack.rights, str) else sorted({r.type for r in pack.rights})


@router.get("/requests", response_class=HTMLResponse)
def request_queue(request: Request, seat: Annotated[Seat, Depends(require_staff("requests:read"))]) -> Response:
    ctx = ctx_of(request)
    query, view, problem = _query(request)
    page = ctx.requests().queue(query)
    _ = gettext_of(request)
    number = query.offset // query.limit + 1
    pages = max(1, -(-page.total // query.limit))
    return _page(request, "admin/requests.html", seat, queue=page.items, total=page.total, number=number, size=query.limit,
                 pages=pages, view=view, link=lambda **c: _link(view, **c), rights=_rights(ctx.engine().pack),
                 statuses=STATUSES, w=words_for(gettext_of(request)),
                 problem=_("A reference is up to 32 characters, 0-9 and a-f.") if problem else None,
                 csv_link="/admin/requests.csv" + _link(view, page=""))


@router.get("/requests.csv", dependencies=[Depends(require_staff("requests:read"))])
def request_queue_csv(request: Request) -> Response:
    """The queue as CSV, with the filters and sort of the page (every page, up to 10,000 rows): the requester masked,
    every cell safe to open in a spreadsheet."""
    query, _view, _problem = _query(request, limit=500)
    svc = ctx_of(request).requests()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "right", "status", "state", "received", "due", "days_left", "deadline",
                     "closed", "requester"])
    offset = 0
    while offset < CSV_LIMIT:
        page = svc.queue(QueueQuery(**{**query.__dict__, "offset": offset, "limit": 500}))
        for r in page.items:
            writer.writerow([csv_cell(v) for v in (
                r["ref"], r["right"] or r["kind"], r["status"], r["state"], r["received_at"].isoformat(),
                r["due_at"].isoformat() if r["due_at"] else "", r["days_left"], r["deadline"],
                r["closed_at"].isoformat() if r["closed_at"] else "", r["requester"])])
        offset += 500
        if offset >= page.total:
            break
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="requests.csv"', "Cache-Control": "no-store"})


# -- one request -----------------------------------------------------------------------------------------------------

def _grounds(pack: Pack) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pack's refusal grounds: (mandatory, discretionary); identity_not_verified is always open to staff."""
    handling = pack.requests
    if isinstance(handling, str) or isinstance(handling.refusal, str):
        return (), ()
    return tuple(handling.refusal.mandatory), tuple(handling.refusal.discretionary)


def _methods(pack: Pack) -> tuple[str, ...]:
    handling = pack.requests
    if isinstance(handling, str) or isinstance(handling.verification, str):
        return ()
    return tuple(handling.verification.methods)


def _erasure_grounds(pack: Pack) -> tuple[str, ...]:
    erasure = pack.erasure
    if isinstance(erasure, str) or isinstance(erasure.grounds, str) or erasure.grounds_closed is not True:
        return ()
    return tuple(erasure.grounds)


def _request_or_stop(request: Request, seat: Seat, ref: str) -> dict[str, Any]:
    if not _REF.match(ref):
        raise PageStop(_page(request, "admin/notfound.html", seat, 404, what=_missing(request, ref)))
    try:
        return ctx_of(request).requests().get(ref)
    except PolicykeeperError:
        raise PageStop(_page(request, "admin/notfound.html", seat, 404, what=_missing(request, ref))) from None


def _missing(request: Request, ref: str) -> str:
    _ = gettext_of(request)
    return str(_("request %(ref)s", ref=ref))


def _detail_page(request: Request, seat: Seat, ref: str, row: dict[str, Any], *,
                 revealed: dict[str, list[str]] | None = None, status: int = 200) -> HTMLResponse:
    ctx = ctx_of(request)
    svc = ctx.requests()
    pack = ctx.engine().pack
    item = next(iter(svc.queue(QueueQuery(status="all", ref=ref, limit=1)).items), None)
    mandatory, discretionary = _grounds(pack)
    names = {k["id"]: k["name"] for k in list_api_keys(ctx)}
    categories = {c.id: c.name for c in pack.data_categories}
    said = svc.content_of(ref)
    return _page(request, "admin/request.html", seat, status, r=row, item=item, methods=_methods(pack),
                 mandatory=mandatory, discretionary=discretionary, erasure_grounds=_erasure_grounds(pack),
                 categories=pack.data_categories, category_names=categories, purposes=pack.purposes.items,
                 access=_ACCESS, erase=_ERASE, correct=_CORRECT, restrict=_RESTRICT, said=said,
                 requester=svc.requester(ref), held=svc.held_categories(ref) if seat.staff.can("requests:act") else [],
                 revealed=revealed or {}, timeline=svc.timeline(ref), actor_names=names,
                 w=words_for(gettext_of(request), pack), can_verify=seat.staff.can("requests:verify"),
                 can_act=seat.staff.can("requests:act"))


@router.get("/requests/{ref}", response_class=HTMLResponse)
def request_detail(request: Request, ref: str,
                   seat: Annotated[Seat, Depends(require_staff("requests:read"))]) -> Response:
    return _detail_page(request, seat, ref, _request_or_stop(request, seat, ref))


def _acting(permission: str) -> Any:
    """A request's action, as a dependency: the staff member's posted form (:func:`.admin.staff_form`), once the
    request named in the address is found (else the page says it is not)."""

    async def guard(request: Request, ref: str, posted: Posted = Depends(staff_form(permission))) -> Posted:  # noqa: B008
        _request_or_stop(request, posted.seat, ref)
        return posted

    return guard


Verifying = Annotated[Posted, Depends(_acting("requests:verify"))]
Acting = Annotated[Posted, Depends(_acting("requests:act"))]


@router.post("/requests/{ref}/reveal", response_class=HTMLResponse)
async def request_reveal(request: Request, ref: str, posted: Acting) -> Response:
    """Show the requester's current values on the page answered to this POST (never in an address, never kept),
    audited each time."""
    seat, form, actor = posted.seat, posted.form, posted.actor
    svc = ctx_of(request).requests()
    category = form.get("category", "")
    shown = svc.current_values(ref, (category,) if category and category != "*" else (), actor=actor)
    return _detail_page(request, seat, ref, svc.get(ref), revealed=shown)


@router.post("/requests/{ref}/note")
async def request_note(request: Request, ref: str, posted: Verifying) -> Response:
    form, actor = posted.form, posted.actor
    _ = gettext_of(request)
    back = f"/admin/requests/{ref}"
    note = form.get("note", "")
    if not note.strip() or len(note.strip()) > MAX_STAFF_NOTE:
        return redirect(back, err=_("A note is 1 to %(n)s characters.", n=MAX_STAFF_NOTE))
    try:
        ctx_of(request).requests().add_note(ref, note, actor=actor)
    except PolicykeeperError as exc:  # said as it is: the note was fine, the request takes none (or is gone)
        if "erased" in exc.message:
            return redirect(back, err=_("This request takes no more notes: the person behind it was erased."))
        return redirect(back, err=exc.message)
    return redirect(back + "#timeline", msg=_("Note added."))


@router.post("/requests/{ref}/verify")
async def request_verify(request: Request, ref: str, posted: Verifying) -> Response:
    form, actor = posted.form, posted.actor
    _ = gettext_of(request)
    back = f"/admin/requests/{ref}"
    try:
        ctx_of(request).requests().verify_by_staff(ref, form.get("method", ""), reference=form.get("reference", ""),
                                                   mismatch_reason=form.get("mismatch_reason") or None,
                                                   authority_reference=form.get("authority_reference") or None,
                                                   actor=actor)
    except PolicykeeperError as exc:
        return redirect(back, err=problem_words(exc, gettext_of(request)))
    return redirect(back, msg=_("Request %(ref)s is verified.", ref=ref))


def _fulfil(ctx: WebContext, ref: str, right: str | None, form: dict[str, str], actor: str, _: Any) -> str:
    svc = ctx.requests()
    if right in _ACCESS:
        n = svc.fulfil_access(ref, None, actor=actor)
        return str(_("Request %(ref)s is fulfilled: the export holds %(n)s value(s); the person downloads it.",
                     ref=ref, n=n))
    if right in _ERASE:
        got = svc.fulfil_erasure(ref, ground=form.get("ground") or None, actor=actor)
        return str(_("Request %(ref)s is fulfilled: the person is erased; %(n)s recipient(s) will be told.",
                     ref=ref, n=got["notices"]))
    if right in _CORRECT:
        category, value = form.get("category", "").strip(), form.get("value", "")
        if not category or not value.strip():
            raise ApiError(422, "invalid", str(_("A correction needs the item and the corrected value.")))
        svc.fulfil_correction(ref, category, value, actor=actor)
        return str(_("Request %(ref)s is fulfilled: %(item)s is corrected.", ref=ref, item=category))
    if right in _RESTRICT:
        purposes = tuple(p.strip() for p in form.get("purposes", "").split(",") if p.strip())
        svc.fulfil_restriction(ref, purposes=purposes, actor=actor)
        return str(_("Request %(ref)s is fulfilled: processing is restricted.", ref=ref))
    if right == "automated_decision_explanation":
        decision = form.get("decision", "").strip()
        if not decision:
            raise ApiError(422, "invalid", str(_("An explanation needs the decision id.")))
        svc.fulfil_explanation(ref, decision, actor=actor)
        return str(_("Request %(ref)s is fulfilled: the explanation was sent.", ref=ref))
    raise ApiError(409, "conflict", str(_("This kind of request is answered by refusing or extending, or by hand.")))


def _confirm(request: Request, seat: Seat, row: dict[str, Any], action: str, form: dict[str, str]) -> HTMLResponse:
    """The second step of an irreversible action: what will happen, the values chosen (kept in hidden fields) and a
    box to tick before anything is done."""
    keep = {k: v for k, v in form.items() if k not in ("csrf", "confirm")}
    return _page(request, "admin/request_confirm.html", seat, r=row, action=action, keep=keep,
                 w=words_for(gettext_of(request)), missing="confirm_step" in form)


@router.post("/requests/{ref}/fulfil", response_class=HTMLResponse)
async def request_fulfil(request: Request, ref: str, posted: Acting) -> Response:
    seat, form, actor = posted.seat, posted.form, posted.actor
    ctx, back = ctx_of(request), f"/admin/requests/{ref}"
    row = ctx.requests().get(ref)
    if row["right"] in _ERASE and row["status"] != "fulfilled" and form.get("confirm") != "yes":
        return _confirm(request, seat, row, "erase", form)  # nothing is done before the box is ticked
    try:
        message = _fulfil(ctx, ref, row["right"], form, actor, gettext_of(request))
    except (PolicykeeperError, ApiError) as exc:
        return redirect(back, err=problem_words(exc, gettext_of(request)))
    return redirect(back, msg=message)


@router.post("/requests/{ref}/refuse", response_class=HTMLResponse)
async def request_refuse(request: Request, ref: str, posted: Acting) -> Response:
    seat, form, actor = posted.seat, posted.form, posted.actor
    _ = gettext_of(request)
    back = f"/admin/requests/{ref}"
    ground = form.get("ground", "").strip()
    row = ctx_of(request).requests().get(ref)
    allowed = {"identity_not_verified", *[g for gs in _grounds(ctx_of(request).engine().pack) for g in gs]}
    if ground not in allowed:  # said at once, not after the confirming step
        return redirect(back, err=f"{ground!r} is not a refusal ground of this policy: {', '.join(sorted(allowed))}")
    if form.get("confirm") != "yes" and row["status"] not in ("fulfilled", "refused"):
        return _confirm(request, seat, row, "refuse", form)
    try:
        ctx_of(request).requests().refuse(ref, ground, actor=actor)
    except PolicykeeperError as exc:
        return redirect(back, err=problem_words(exc, gettext_of(request)))
    return redirect(back, msg=_("Request %(ref)s is refused (%(ground)s); the person is told why.", ref=ref,
                                ground=words_for(_).ground(ground)))


@router.post("/requests/{ref}/extend")
async def request_extend(request: Request, ref: str, posted: Acting) -> Response:
    form, actor = posted.form, posted.actor
    _ = gettext_of(request)
    back = f"/admin/requests/{ref}"
    days = form.get("days", "").strip()
    if not days.isdigit():
        return redirect(back, err=_("Days must be a whole number of days (1 to 90)."))
    try:
        t = ctx_of(request).requests().extend(ref, int(days), reason=form.get("reason", ""), actor=actor)
    except PolicykeeperError as exc:
        return redirect(back, err=problem_words(exc, gettext_of(request)))
    due = f"{t.due_at:%Y-%m-%d}" if t.due_at else "-"
    return redirect(back, msg=_("Request %(ref)s is extended by %(n)s day(s). New due date: %(due)s.", ref=ref,
                                n=int(days), due=due))

