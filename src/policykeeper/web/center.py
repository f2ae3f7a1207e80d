"""The privacy center: server-rendered pages where a person reads the policy in force, signs in with a code emailed to
an address held for them, and then sees what is held about them and why, gives and withdraws consents, asks for
their data (confirming by code) and downloads it, corrects their profile and closes their account.

Every page works without JavaScript: each action is a plain form POST answered by a 303 redirect to a page that says
what happened (``?msg=`` or ``?err=``, never a traceback). Forms that change something carry the session's CSRF token.
No personal data ever goes into a URL: identifiers, addresses, codes and values travel in form bodies only.

This module holds the public pages, ``/me`` and what the pages share; the consents page is in ``_center_consents``,
the request pages in ``_center_requests``, the profile and closing the account in ``_center_account``. A page only a
signed-in person sees takes ``signed: Signed`` (the :func:`signed_in` guard): anyone else is sent home to sign in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from .._exceptions import PolicykeeperError
from ..clock import utc
from ..pack import Pack, people_document, people_html
from ._auth import (
    CODE_TTL,
    PERSON_COOKIE,
    Person,
    check_csrf,
    csrf_token,
    end_session,
    open_person_session,
    person_from,
    send_login_code,
)
from ._context import WebContext
from ._errors import ApiError
from ._guards import PageStop
from ._i18n import gettext_for
from ._library_words import problem_words
from ._limits import client_of
from ._pages import ctx_of, gettext_of, language_of, redirect, render, same_origin

__all__ = ["Signed", "SignedIn", "router", "signed_form", "signed_in"]

router = APIRouter(dependencies=[Depends(same_origin)])

FormText = Annotated[str, Form()]
_REF = re.compile(r"^[0-9a-f]{1,32}$")
_CODE = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class SignedIn:
    """The person signed in to the privacy center: who, their session token and the page's CSRF token."""

    person: Person
    token: str
    csrf: str


def _signed_in(request: Request) -> SignedIn | None:
    ctx = ctx_of(request)
    token = request.cookies.get(PERSON_COOKIE, "")
    if not token:
        return None
    try:
        person = person_from(request, ctx)
    except ApiError:
        return None
    return SignedIn(person, token, csrf_token(ctx, token))


def _sign_in_first(request: Request) -> RedirectResponse:
    _ = gettext_of(request)
    return redirect("/", err=_("Please sign in first: we send a code to an email address we hold for you."))


def signed_in(request: Request) -> SignedIn:
    """A privacy center page's guard, as a dependency (``signed: Signed``): the person signed in; anyone else is sent
    to the home page, which asks them to sign in first."""
    signed = _signed_in(request)
    if signed is None:
        raise PageStop(_sign_in_first(request))
    return signed


Signed = Annotated[SignedIn, Depends(signed_in)]
"""The parameter of a page only a signed-in person sees."""


def signed_form(back: str, *, fragment: str = "") -> Callable[[Request, SignedIn, str], SignedIn]:
    """A privacy center form's guard, as a dependency (``signed: Annotated[SignedIn, Depends(signed_form(...))]``):
    :func:`signed_in`, then the posted form's CSRF token; a stale form, or one not sent from this site, goes back to
    the page ``back`` (at ``#fragment``) saying so, and changes nothing."""

    def guard(request: Request, signed: Signed, csrf: FormText = "") -> SignedIn:
        try:
            check_csrf(ctx_of(request), signed.token, csrf)
        except ApiError as exc:
            raise PageStop(redirect(back, err=_problem(exc, gettext_of(request)), fragment=fragment)) from None
        return signed

    return guard


def _problem(exc: Exception, _: Any = None) -> str:
    """What went wrong, in words a person can act on (messages never carry personal values)."""
    if isinstance(exc, ApiError | PolicykeeperError):
        text = str(exc.message)
        if _ is not None and isinstance(exc, ApiError) and exc.code == "denied" and exc.where == "category":
            return str(_("This detail cannot be changed after registration, as the policy says."))
        if _ is not None and isinstance(exc, ApiError) and exc.code == "forbidden":
            return str(_("The form is stale or was not sent from this site; reload the page and retry."))
        if _ is not None and isinstance(exc, ApiError) and exc.code == "too_many_attempts":
            return str(_("Too many tries: wait a while and try again."))
        if _ is not None:  # the library's words, mapped to the page's language
            text = problem_words(exc, _)
        return text[:1].upper() + text[1:]
    return problem_words(exc, _) if _ is not None else "Something went wrong on our side; nothing was changed."


def _moment(value: Any) -> Any:
    """A value a page shows as a time: ISO text read as a datetime, a datetime in UTC (one without a zone, as SQLite
    returns them, is UTC already); text that is no date, and anything else, as it is."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return utc(value) if isinstance(value, dt.datetime) else value


def _when(value: Any) -> str:
    at = _moment(value)
    if isinstance(at, dt.datetime):
        return at.strftime("%Y-%m-%d %H:%M UTC")
    return "" if at is None else str(at)


def _words(key: str) -> str:
    text = key.replace("_", " ").replace(":", ": ")
    return text[:1].upper() + text[1:]


def _page(request: Request, template: str, signed: SignedIn | None, status: int = 200, **values: Any) -> HTMLResponse:
    return render(request, template, status, signed=signed, csrf=signed.csrf if signed else "", when=_when,
                  words=_words, **values)


def _not_found(request: Request, signed: SignedIn | None) -> HTMLResponse:
    return _page(request, "center/not_found.html", signed, status=404)


# -- public: home, sign-in, policy, unsubscribe ---------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    pack = ctx_of(request).engine().pack
    return _page(request, "center/home.html", _signed_in(request), rights=_stated_rights(pack),
                 right_names=_right_names(gettext_of(request)))


def _right_names(_: Any) -> dict[str, str]:
    """The rights a pack can state, in plain words in the page's language."""
    return {"access": _("seeing your data"), "copy": _("a copy of your data"), "correct": _("correcting it"),
            "delete": _("deleting it"), "restrict": _("limiting its use"), "object": _("objecting to a use"),
            "withdraw_consent": _("withdrawing a consent"), "portability": _("taking your data elsewhere"),
            "cancel_account": _("closing your account"), "clear_history": _("clearing your history"),
            "automated_decision_explanation": _("an explanation of an automated decision"),
            "complain_internal": _("complaining to us"), "complain_authority": _("complaining to the authorities"),
            "manage_account": _("managing your account")}


@router.post("/signin")
def signin(request: Request, identifier: FormText = "", email: FormText = "") -> RedirectResponse:
    _ = gettext_of(request)
    try:
        send_login_code(ctx_of(request), identifier, email, client=client_of(request), language=language_of(request))
    except ApiError as exc:
        if exc.where == "email":
            return redirect("/", err=_("The email address must be one address, like name@example.com."))
        if exc.where == "identifier":
            return redirect("/", err=_("Enter your identifier: your username or the email address of your "
                                       "account."))
        return redirect("/", err=_problem(exc, _))
    minutes = int(CODE_TTL.total_seconds() // 60)
    return redirect("/signin/code", msg=gettext_of(request)("If that address is on record for you, a six-digit code "
                                                            "is on its way. It is valid for %(minutes)s minutes.",
                                                            minutes=minutes))


@router.get("/signin/code", response_class=HTMLResponse)
def signin_code_form(request: Request) -> HTMLResponse:
    return _page(request, "center/signin_code.html", _signed_in(request))


@router.post("/signin/code")
def signin_code(request: Request, identifier: FormText = "", code: FormText = "") -> RedirectResponse:
    ctx = ctx_of(request)
    _ = gettext_of(request)
    code = code.strip()
    if not _CODE.fullmatch(code):
        return redirect("/signin/code", err=gettext_of(request)("The code is the six digits from the email we sent."))
    if not identifier.strip() or len(identifier) > 256:
        return redirect("/signin/code", err=gettext_of(request)("Enter the identifier you asked for the code with."))
    try:
        token = open_person_session(ctx, identifier, code, client=client_of(request), language=language_of(request))
    except ApiError as exc:
        if exc.code == "not_signed_in":
            return redirect("/signin/code", err=_(
                "That code is not valid: enter the latest code we emailed (each works once, for 15 minutes and 5 "
                "tries), or ask for a new one."))
        return redirect("/signin/code", err=_problem(exc, _))
    response = redirect("/me", msg=_("You are signed in."))
    response.set_cookie(PERSON_COOKIE, token, max_age=int(ctx.session_ttl.total_seconds()), httponly=True,
                        samesite="strict", secure=ctx.secure_cookies)
    return response


@router.post("/signout")
def signout(request: Request, csrf: FormText = "") -> Response:
    signed = _signed_in(request)
    _ = gettext_of(request)
    if signed is None:
        return redirect("/", msg=_("You are signed out."))
    ctx = ctx_of(request)
    try:
        check_csrf(ctx, signed.token, csrf)
    except ApiError as exc:
        return redirect("/me", err=_problem(exc, _))
    end_session(ctx, signed.token)
    response = redirect("/", msg=_("You are signed out."))
    response.delete_cookie(PERSON_COOKIE)
    return response


_POLICY_CACHE: dict[tuple[str, str, str], Markup] = {}


def _policy_fragment(pack: Pack, language: str) -> Markup:
    """The plain-language notice of the pack (``pack._people``) in the page's language, to sit inside our page; each
    point links to the policy's own words (``/policy#kamoer-50``)."""
    key = (pack.id, pack.version.label, language)
    if key not in _POLICY_CACHE:
        doc = people_document(pack)
        _POLICY_CACHE[key] = Markup(people_html(doc, gettext_for(language), language))  # escaped by people_html
    return _POLICY_CACHE[key]


@router.get("/policy", response_class=HTMLResponse)
def policy(request: Request) -> HTMLResponse:
    pack = ctx_of(request).engine().pack
    return _page(request, "center/policy.html", _signed_in(request),
                 policy_html=_policy_fragment(pack, language_of(request)))


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_form(request: Request, token: str = "") -> HTMLResponse:
    return _page(request, "center/unsubscribe.html", _signed_in(request), token=token[:1000])


@router.post("/unsubscribe")
def unsubscribe(request: Request, token: FormText = "") -> RedirectResponse:
    from ..marketing import unsubscribe as do_unsubscribe

    _ = gettext_of(request)
    if not token or len(token) > 1000:
        return redirect("/unsubscribe", err=_("This unsubscribe link is incomplete: open the link from the message "
                                              "again."))
    try:
        changed = do_unsubscribe(ctx_of(request).engine(), token)
    except PolicykeeperError as exc:
        return redirect("/unsubscribe", err=_("This unsubscribe link does not work: %(why)s",
                                              why=_problem(exc, gettext_of(request))))
    return redirect("/unsubscribe", msg=_("You will get no more marketing messages.") if changed else
                    _("You had already unsubscribed: you get no marketing messages."))


# -- a person's own data ----------------------------------------------------------------------------------------------

def _held(ctx: WebContext, person: Person) -> list[dict[str, Any]]:
    eng = ctx.engine()
    purposes = {p.id: p.name for p in eng.pack.purposes.items}
    recipients = {r.id: r.name for r in eng.pack.recipients}
    opt_outs = {r.id: r.opt_out_url for r in eng.pack.recipients if r.opt_out_url}  # the offer_opt_out obligation
    out = []
    for it in eng.export_subject(person.subject_id, actor="subject"):
        row = dict(it)
        row["purpose_names"] = [purposes.get(str(p), _words(str(p))) for p in it["purposes"]]  # type: ignore[attr-defined]
        row["recipient_rows"] = [{"name": recipients.get(d["recipient"], _words(d["recipient"])),
                                  "purpose": purposes.get(d["purpose"], _words(d["purpose"])), "at": d["at"],
                                  "opt_out": opt_outs.get(d["recipient"])}
                                 for d in it["recipients"]]  # type: ignore[attr-defined]
        row["secret"] = _secret(eng.pack, str(it["category"]))
        out.append(row)
    return out


@router.get("/me", response_class=HTMLResponse)
def me(request: Request, signed: Signed) -> Response:
    ctx = ctx_of(request)
    values = _held(ctx, signed.person)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for v in values:  # one list of purposes per group of details, not one per row
        groups.setdefault(tuple(v["purpose_names"]), []).append(v)
    return _page(request, "center/me.html", signed, values=values, groups=list(groups.items()),
                 day=_day_in(language_of(request)))


def _day_in(language: str) -> Any:
    """A day in words in the page's language (``29 Nov 2026``, ``2026年11月29日``), from a datetime or ISO text."""
    from babel.dates import format_date

    locale = "zh_Hans_CN" if language == "zh-Hans" else "en_GB"

    def day(value: Any) -> str:
        at = _moment(value)
        if isinstance(at, str):  # text that is no date
            return at
        if isinstance(at, dt.datetime):
            at = at.date()
        return "" if at is None else str(format_date(at, format="medium", locale=locale))

    return day


def _stated_rights(pack: Pack) -> list[Any]:
    return [] if isinstance(pack.rights, str) else [r for r in pack.rights if r.status == "stated"]


def _secret(pack: Pack, category: str) -> bool:
    """Credentials are never shown back, only replaced."""
    cat = next((c for c in pack.data_categories if c.id == category), None)
    return cat is not None and cat.fides_key.startswith("user.authorization")


from . import _center_account, _center_consents, _center_requests  # noqa: E402,F401  (their routes join this router)
