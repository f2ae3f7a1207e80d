"""The privacy center's profile page: a person's details, changed after checks (a new email address confirmed by a
code sent to it, a password typed twice), and closing the account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from .._exceptions import BadDetailError, PolicykeeperError
from ._auth import PERSON_COOKIE, end_session
from ._closing import send_closing_notice
from ._context import WebContext
from ._errors import ApiError
from ._pages import ctx_of, gettext_of, language_of, redirect
from ._profile import GENDER_NAMES, category_of, change_detail, confirm_email_change, detail_problem, kind_of
from .center import (
    _CODE,
    FormText,
    Signed,
    SignedIn,
    _held,
    _page,
    _problem,
    _secret,
    _words,
    router,
    signed_form,
)

_ProfileForm = Annotated[SignedIn, Depends(signed_form("/me/profile"))]
_EmailForm = Annotated[SignedIn, Depends(signed_form("/me/profile", fragment="confirm-h"))]
"""The profile page's forms (the new email address's at its confirming form), their CSRF token checked."""


@router.get("/me/profile", response_class=HTMLResponse)
def profile(request: Request, signed: Signed) -> Response:
    ctx = ctx_of(request)
    pack = ctx.engine().pack
    locked = pack.locked_categories()
    emails = ctx.engine().email_categories()
    fields: dict[str, dict[str, Any]] = {}
    for it in _held(ctx, signed.person):
        cat = str(it["category"])
        entry = fields.setdefault(cat, {"category": cat, "name": it["category_name"], "values": [],
                                        "secret": _secret(pack, cat), "locked": locked.get(cat),
                                        "kind": kind_of(category_of(ctx, cat)), "email": cat in emails})
        entry["values"].append(it["value"])
    editable = [f for f in fields.values() if not f["locked"]]
    _ = gettext_of(request)
    return _page(request, "center/profile.html", signed, fields=list(fields.values()), editable=editable,
                 genders=GENDER_NAMES(_), today=ctx.engine().clock.now().date().isoformat(),
                 waiting=[f for f in editable if f["email"]])


def _detail_form(request: Request, category: str) -> tuple[WebContext, Any, str]:
    """What a form that changes a detail works with: the context, ``_`` in the page's language, and the name of the
    detail (its ``category``) for the messages."""
    ctx = ctx_of(request)
    name = next((c.name for c in ctx.engine().pack.data_categories if c.id == category), _words(category))
    return ctx, gettext_of(request), name


@router.post("/me/profile")
def profile_change(request: Request, signed: _ProfileForm, category: FormText = "", value: FormText = "",
                   confirm: FormText = "") -> Response:
    ctx, _, name = _detail_form(request, category)
    try:
        if _secret(ctx.engine().pack, category) and value != confirm:
            return redirect("/me/profile", err=_("%(detail)s: the two passwords you typed differ. Nothing was "
                                                 "changed.", detail=name))
        changed = change_detail(ctx, signed.person.subject_id, category, value, language=language_of(request))
    except BadDetailError as exc:
        return redirect("/me/profile", err=detail_problem(_, exc, name))
    except (ApiError, PolicykeeperError) as exc:
        return redirect("/me/profile", err=_problem(exc, _))
    if changed is None:
        return _to_confirm(msg=_(
            "We sent a code to the new address. Enter it below to make it your email address; until then your "
            "old address stays in use."))
    return redirect("/me/profile", msg=_("Saved: %(detail)s is updated.", detail=name))


def _to_confirm(*, msg: str | None = None, err: str | None = None) -> RedirectResponse:
    """Back to the profile page, at the form that confirms a new email address."""
    return redirect("/me/profile", msg=msg, err=err, fragment="confirm-h")


@router.post("/me/profile/email")
def profile_email(request: Request, signed: _EmailForm, category: FormText = "", value: FormText = "",
                  code: FormText = "") -> Response:
    ctx, _, name = _detail_form(request, category)
    try:
        if not _CODE.fullmatch(code.strip()):
            return _to_confirm(err=_("The code is the six digits from the email we sent to "
                                                            "the new address."))
        confirm_email_change(ctx, signed.person.subject_id, category, value, code.strip())
    except ApiError as exc:
        if exc.where == "code":
            return _to_confirm(err=_(
                "That code is not valid for this address: type the new address and the latest code we sent to it. "
                "Nothing was changed."))
        return _to_confirm(err=_problem(exc, _))
    except PolicykeeperError as exc:
        return _to_confirm(err=_problem(exc, _))
    return redirect("/me/profile", msg=_("Saved: %(detail)s is updated. Sign in with the new address from now on.",
                                         detail=name))


@router.post("/me/close")
def close_account(request: Request, signed: _ProfileForm, confirm: FormText = "") -> Response:
    from ..retention import cancel_account_subject

    ctx = ctx_of(request)
    _ = gettext_of(request)
    if confirm != "yes":
        return redirect("/me/profile", err=_("Tick the box to confirm that you want to close your account."))
    eng = ctx.engine()
    with ctx.db.connect() as conn:
        held = [c for c, vs in eng.values_of_subject(conn, signed.person.subject_id,
                                                     frozenset(eng.compiled.categories)).items() if vs]
    try:  # whether there is an account is the engine's fact: a person with none is told so
        cancel_account_subject(eng, signed.person.subject_id)
    except PolicykeeperError as exc:
        return redirect("/me/profile", err=_problem(exc, gettext_of(request)))
    try:
        mailed = send_closing_notice(eng, ctx.mailer, signed.person.subject_id, held, language_of(request))
    except PolicykeeperError:  # queued or not, the account is closed; the worker retries a queued message
        mailed = False
    end_session(ctx, signed.token)
    response = redirect("/", msg=_("Your account is closed and you are signed out. What was kept for your account "
                                   "now follows the policy's retention rules.") + (
        " " + _("We emailed you what goes when.") if mailed else ""))
    response.delete_cookie(PERSON_COOKIE)
    return response
