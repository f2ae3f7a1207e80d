"""The privacy center's request pages: asking to use a right (with a note, and for a correction the item and the new
value), confirming by an emailed code unless the session proves who asks, and downloading an export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from .._exceptions import PolicykeeperError
from ..i18n import day_in
from ..pack import Pack
from ._auth import Person, check_csrf
from ._context import WebContext
from ._errors import ApiError
from ._limits import before_request, before_resend
from ._pages import ctx_of, gettext_of, language_of, redirect
from ._request_words import words_for
from ._signed_in import session_opened
from .center import (
    _CODE,
    _REF,
    FormText,
    Signed,
    SignedIn,
    _held,
    _not_found,
    _page,
    _problem,
    _secret,
    _stated_rights,
    router,
    signed_form,
)

_EXPORTABLE = ("access", "copy", "portability")

_ELSEWHERE = {"manage_account": ("/me/profile", "on your profile page"),
              "withdraw_consent": ("/me/consents", "on your consents page"),
              "complain_authority": ("", "to the authorities")}
"""Rights a person exercises on another page (or with someone else) rather than by a request to the company."""


def _requestable(pack: Pack) -> list[Any]:
    return [r for r in _stated_rights(pack) if r.type not in _ELSEWHERE]


def _mine(ctx: WebContext, person: Person, ref: str) -> dict[str, Any] | None:
    if not _REF.fullmatch(ref):
        return None
    found = next((r for r in ctx.requests().requests_of_subject(person.subject_id) if r["ref"] == ref), None)
    if found is None:  # another person's request looks like none, and the attempt is audited (no values of theirs)
        ctx.requests().note_foreign_access(person.subject_id, ref, via="privacy_center")
    return found


def _emails(ctx: WebContext, subject_id: str) -> list[str]:
    eng = ctx.engine()
    with ctx.db.connect() as conn:
        held = eng.values_of_subject(conn, subject_id, eng.email_categories())
    return sorted({v for vs in held.values() for v in vs})


@router.get("/me/requests", response_class=HTMLResponse)
def requests_page(request: Request, signed: Signed) -> Response:
    ctx = ctx_of(request)
    mine = ctx.requests().requests_of_subject(signed.person.subject_id)
    emails = _emails(ctx, signed.person.subject_id)
    pack = ctx.engine().pack
    elsewhere = [(r, *_ELSEWHERE[r.type]) for r in _stated_rights(pack) if r.type in _ELSEWHERE]
    locked = pack.locked_categories()
    held = {str(it["category"]) for it in _held(ctx, signed.person)}
    correctable = [c for c in pack.data_categories
                   if c.id in held and c.id not in locked and not _secret(pack, c.id)]
    return _page(request, "center/requests.html", signed, requests=mine, exportable=_EXPORTABLE,
                 rights=_requestable(pack), elsewhere=elsewhere, emails=emails, correctable=correctable,
                 w=words_for(gettext_of(request)), can_correct=any(r.type == "correct" for r in _requestable(pack)))


@router.post("/me/requests")
def request_new(request: Request, signed: Annotated[SignedIn, Depends(signed_form("/me/requests"))], right: FormText = "",
                email: FormText = "", note: FormText = "", category: FormText = "", value: FormText = "") -> Response:
    from .._exceptions import BadValueError
    from ..requests import RequestContent

    ctx = ctx_of(request)
    _ = gettext_of(request)
    pack = ctx.engine().pack
    try:
        if right not in {r.type for r in _requestable(pack)}:
            raise ApiError(422, "invalid", str(_("Choose one of the rights this policy grants.")), "right")
        said = RequestContent(note, category.strip() or None if right == "correct" else None,
                              (value if category.strip() else None) if right == "correct" else None)
        try:
            said = said.checked(pack, right)
        except BadValueError as exc:
            raise ApiError(422, "invalid", _content_problem(exc.message, _), "content") from None
        before_request(ctx, signed.person.subject_id, email)
        ticket = ctx.requests().submit_for_subject(signed.person.subject_id, right, email=email, content=said,
                                                   signed_in=session_opened(ctx, signed.person),
                                                   language=language_of(request))
    except (ApiError, PolicykeeperError) as exc:
        return redirect("/me/requests", err=_problem(exc, gettext_of(request)))
    if ticket.status == "verified":  # the session proved who they are: no second code
        due = _(" We answer by %(date)s.", date=day_in(language_of(request), ticket.due_at.date())) if ticket.due_at else ""
        return redirect("/me/requests", msg=_("Request %(ref)s is received and confirmed.", ref=ticket.ref) + due)
    return redirect(f"/me/requests/{ticket.ref}/verify",
                    msg=_("Request %(ref)s received. If that address is on record for you, we emailed a code to "
                          "confirm it.", ref=ticket.ref))


def _content_problem(message: str, _: Any) -> str:
    """What is wrong with what the person wrote, in their language."""
    where = message.split(":", 1)[0]
    if where == "note":
        return str(_("Your note is too long: at most 2000 characters."))
    if where == "correction.value":
        return str(_("Give the new value for the item to correct (at most 2000 characters)."))
    return str(_("Choose an item we hold about you that can be corrected here."))


@router.get("/me/requests/{ref}/verify", response_class=HTMLResponse)
def request_verify_form(request: Request, signed: Signed, ref: str) -> Response:
    mine = _mine(ctx_of(request), signed.person, ref)
    if mine is None:
        return _not_found(request, signed)
    return _page(request, "center/request_verify.html", signed, req=mine, w=words_for(gettext_of(request)))


@router.post("/me/requests/{ref}/verify")
def request_verify(request: Request, signed: Signed, ref: str, code: FormText = "", csrf: FormText = "") -> Response:
    ctx = ctx_of(request)
    if _mine(ctx, signed.person, ref) is None:
        return _not_found(request, signed)
    try:
        check_csrf(ctx, signed.token, csrf)
        if not _CODE.fullmatch(code.strip()):
            raise ApiError(422, "invalid", str(gettext_of(request)("The code is the six digits from the email about "
                                                                   "this request.")), "code")
        ticket = ctx.requests().verify(ref, code.strip())
    except (ApiError, PolicykeeperError) as exc:
        return redirect(f"/me/requests/{ref}/verify", err=_problem(exc, gettext_of(request)))
    _ = gettext_of(request)
    due = _(" We answer by %(date)s.", date=day_in(language_of(request), ticket.due_at.date())) if ticket.due_at else ""
    return redirect("/me/requests", msg=_("Request %(ref)s is confirmed.", ref=ref) + due)


@router.post("/me/requests/{ref}/resend")
def request_resend(request: Request, signed: Signed, ref: str, csrf: FormText = "") -> Response:
    ctx = ctx_of(request)
    if _mine(ctx, signed.person, ref) is None:
        return _not_found(request, signed)
    try:
        check_csrf(ctx, signed.token, csrf)
        before_resend(ctx, signed.person.subject_id)
        ctx.requests().resend_code(ref)
    except (ApiError, PolicykeeperError) as exc:
        return redirect(f"/me/requests/{ref}/verify", err=_problem(exc, gettext_of(request)))
    return redirect(f"/me/requests/{ref}/verify", msg=gettext_of(request)("A new code is on its way; the old one no "
                                                                          "longer works."))


@router.get("/me/requests/{ref}/export")
def request_export(request: Request, signed: Signed, ref: str) -> Response:
    ctx = ctx_of(request)
    if _mine(ctx, signed.person, ref) is None:
        return _not_found(request, signed)  # someone else's request looks exactly like none
    try:
        data = ctx.requests().export_archive(ref)
    except PolicykeeperError as exc:
        return redirect("/me/requests", err=_problem(exc, gettext_of(request)))
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="export-{ref}.zip"',
                             "Cache-Control": "no-store"})
