"""The privacy center: server-rendered pages where a person reads the policy in force, signs in with a code emailed to
an address held for them, and then sees what is held about them and why, gives and withdraws consents, asks for
their data (confirming by code) and downloads it, corrects their profile and closes their account.

Every page works without JavaScript: each action is a plain form POST answered by a 303 redirect to a page that says
what happened (``?msg=`` or ``?err=``, never a traceback). Forms that change something carry the session's CSRF token.
No personal data ever goes into a URL: identifiers, addresses, codes and values travel in form bodies only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from .. import consent
from .._exceptions import BadDetailError, PolicykeeperError
from ..i18n import language_of_pack
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
from ._closing import send_closing_notice
from ._context import WebContext
from ._errors import ApiError
from ._i18n import gettext_for
from ._library_words import own, problem_words
from ._limits import before_request, before_resend, client_of
from ._pages import ctx_of, gettext_of, language_of, redirect, render, same_origin
from ._profile import GENDER_NAMES, category_of, change_detail, confirm_email_change, detail_problem, kind_of
from ._request_words import words_for
from ._signed_in import session_opened

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(same_origin)])

FormText = Annotated[str, Form()]
_REF = re.compile(r"^[0-9a-f]{1,32}$")
_CODE = re.compile(r"^[0-9]{6}$")
_EXPORTABLE = ("access", "copy", "portability")
_NOT_OFFERED = ("new_purpose", "minor_account", "policy")
"""Consent rules a person does not give on this page: a new purpose is asked for when it comes up, a parent consents
for a child's account, and the policy itself is accepted where it is shown."""


@dataclass(frozen=True)
class _Signed:
    person: Person
    token: str
    csrf: str


def _signed_in(request: Request) -> _Signed | None:
    ctx = ctx_of(request)
    token = request.cookies.get(PERSON_COOKIE, "")
    if not token:
        return None
    try:
        person = person_from(request, ctx)
    except ApiError:
        return None
    return _Signed(person, token, csrf_token(ctx, token))


def _sign_in_first(request: Request | None = None) -> RedirectResponse:
    _ = gettext_of(request) if request is not None else (lambda text: text)
    return redirect("/", err=_("Please sign in first: we send a code to an email address we hold for you."))


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


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        at = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _words(key: str) -> str:
    text = key.replace("_", " ").replace(":", ": ")
    return text[:1].upper() + text[1:]


def _page(request: Request, template: str, signed: _Signed | None, status: int = 200, **values: Any) -> HTMLResponse:
    return render(request, template, status, signed=signed, csrf=signed.csrf if signed else "", when=_when,
                  words=_words, **values)


def _not_found(request: Request, signed: _Signed | None) -> HTMLResponse:
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
def me(request: Request) -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
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
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                return str(value)
        if isinstance(value, dt.datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()
        return "" if value is None else str(format_date(value, format="medium", locale=locale))

    return day


# -- consents ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Choice:
    target: str
    title: str
    kind: str
    promises: tuple[str, ...]
    covers: tuple[str, ...]
    default: str
    withdrawable: bool
    notice: str | None


def _choices(ctx: WebContext) -> list[_Choice]:
    """What this policy asks a person's consent for: its consent rules (but those given elsewhere) and marketing."""
    eng = ctx.engine()
    pack = eng.pack
    purposes = {p.id: p.name for p in pack.purposes.items}
    found = []
    for rule in pack.consents:
        if rule.scope in _NOT_OFFERED or not rule.targets:
            continue
        found.append(_Choice(rule.id, _words(rule.id), rule.type.replace("_", " "), tuple(rule.promises),
                             tuple(purposes.get(t, _words(t)) for t in rule.targets), rule.default,
                             bool(rule.withdrawable), eng.refusal_notice(rule.id)))
    marketing = pack.marketing
    if not isinstance(marketing, str):
        default = "granted" if marketing.basis == "opt_out" else "not_granted"
        channels = tuple(_words(c) for c in marketing.channels)
        found.append(_Choice("marketing", "Marketing messages", marketing.basis.replace("_", " "),
                             tuple(marketing.promises), channels, default, True, eng.refusal_notice("marketing")))
    return found


def _states(ctx: WebContext, subject_id: str) -> tuple[frozenset[str], frozenset[str]]:
    with ctx.db.connect() as conn:
        return consent.state_as_of(conn, subject_id)


def _last_by(ctx: WebContext, subject_id: str) -> dict[str, tuple[str, dt.datetime]]:
    """Who made each target's latest consent choice (the ``by`` of its evidence) and when."""
    from ..store import web as web_store

    with ctx.db.connect() as conn:
        rows = web_store.consent_choices_of(conn, subject_id)
    return {r.target: (str(r.evidence.get("by", "")), r.at) for r in rows}


def _kinds(_: Any) -> dict[str, str]:
    return {"opt in": _("you choose to turn it on"), "opt out": _("on unless you turn it off"),
            "explicit": _("asked for explicitly"), "separate": _("asked for separately"),
            "implied by use": _("taken from your use of the service"),
            "os permission": _("asked by your device's settings"), "parental verifiable": _("given by a parent")}


@router.get("/me/consents", response_class=HTMLResponse)
def consents(request: Request) -> Response:
    from ._site import GPC, gpc_consents, gpc_honoured

    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
    ctx = ctx_of(request)
    given, withdrawn = _states(ctx, signed.person.subject_id)
    last = _last_by(ctx, signed.person.subject_id)
    covered = set(gpc_consents(ctx.engine().pack)) | {"marketing"}
    rows = []
    for c in _choices(ctx):
        if c.target in given:
            state = "given"
        elif c.target in withdrawn:
            state = "withdrawn"
        else:
            state = "given" if c.default == "granted" else "not given"
        by, at = last.get(c.target, ("", None))
        rows.append({"choice": c, "state": state, "recorded": c.target in given or c.target in withdrawn,
                     "by_gpc": state == "withdrawn" and by.lower() == GPC.lower(), "at": at,
                     "gpc_covers": c.target in covered})
    gpc = request.headers.get("sec-gpc", "").strip() == "1"
    _ = gettext_of(request)
    return _page(request, "center/consents.html", signed, rows=rows, kinds=_kinds(_), gpc_seen=gpc,
                 gpc_honoured=gpc_honoured(ctx.engine().pack), day=_day_in(language_of(request)))


@router.post("/me/consents/{target}")
def consent_change(request: Request, target: str, action: FormText = "", csrf: FormText = "") -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
    ctx = ctx_of(request)
    try:
        check_csrf(ctx, signed.token, csrf)
    except ApiError as exc:
        return redirect("/me/consents", err=_problem(exc, gettext_of(request)))
    _ = gettext_of(request)
    choice = next((c for c in _choices(ctx) if c.target == target), None)
    if choice is None or action not in ("given", "withdrawn"):
        return redirect("/me/consents", err=_("That choice is not one this policy asks you for."))
    if action == "withdrawn" and not choice.withdrawable:
        return redirect("/me/consents", err=_("This policy does not let this consent be withdrawn here."))
    try:
        ctx.engine().record_subject_consent(signed.person.subject_id, target, "given" if action == "given"
                                            else "withdrawn", actor="subject")
    except PolicykeeperError as exc:
        return redirect("/me/consents", err=_problem(exc, gettext_of(request)))
    mark = own if language_of(request) != language_of_pack(ctx.engine().pack.language) else str  # pack's words
    title = _("Marketing messages") if target == "marketing" else mark(choice.title)
    if action == "given":
        return redirect("/me/consents", msg=_("Consent given: %(choice)s.", choice=title))
    notice = f" {mark(choice.notice)}" if choice.notice else ""
    return redirect("/me/consents", msg=_("Consent withdrawn: %(choice)s.", choice=title) + notice)


# -- requests ---------------------------------------------------------------------------------------------------------

_ELSEWHERE = {"manage_account": ("/me/profile", "on your profile page"),
              "withdraw_consent": ("/me/consents", "on your consents page"),
              "complain_authority": ("", "to the authorities")}
"""Rights a person exercises on another page (or with someone else) rather than by a request to the company."""


def _stated_rights(pack: Pack) -> list[Any]:
    return [] if isinstance(pack.rights, str) else [r for r in pack.rights if r.status == "stated"]


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
def requests_page(request: Request) -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
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
def request_new(request: Request, right: FormText = "", email: FormText = "", csrf: FormText = "",
                note: FormText = "", category: FormText = "", value: FormText = "") -> Response:
    from .._exceptions import BadValueError
    from ..requests import RequestContent

    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
    ctx = ctx_of(request)
    _ = gettext_of(request)
    pack = ctx.engine().pack
    try:
        check_csrf(ctx, signed.token, csrf)
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
        due = _(" We answer by %(date)s.", date=f"{ticket.due_at:%Y-%m-%d}") if ticket.due_at else ""
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
def request_verify_form(request: Request, ref: str) -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
    mine = _mine(ctx_of(request), signed.person, ref)
    if mine is None:
        return _not_found(request, signed)
    return _page(request, "center/request_verify.html", signed, req=mine, w=words_for(gettext_of(request)))


@router.post("/me/requests/{ref}/verify")
def request_verify(request: Request, ref: str, code: FormText = "", csrf: FormText = "") -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
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
    due = _(" We answer by %(date)s.", date=f"{ticket.due_at:%Y-%m-%d}") if ticket.due_at else ""
    return redirect("/me/requests", msg=_("Request %(ref)s is confirmed.", ref=ref) + due)


@router.post("/me/requests/{ref}/resend")
def request_resend(request: Request, ref: str, csrf: FormText = "") -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
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
def request_export(request: Request, ref: str) -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
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


# -- profile and closing the account ----------------------------------------------------------------------------------

def _secret(pack: Pack, category: str) -> bool:
    """Credentials are never shown back, only replaced."""
    cat = next((c for c in pack.data_categories if c.id == category), None)
    return cat is not None and cat.fides_key.startswith("user.authorization")


@router.get("/me/profile", response_class=HTMLResponse)
def profile(request: Request) -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
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
                 genders=GENDER_NAMES(_), today=dt.datetime.now(dt.UTC).date().isoformat(),
                 waiting=[f for f in editable if f["email"]])


def _category_name(ctx: WebContext, category: str) -> str:
    return next((c.name for c in ctx.engine().pack.data_categories if c.id == category), _words(category))


@router.post("/me/profile")
def profile_change(request: Request, category: FormText = "", value: FormText = "", confirm: FormText = "",
                   csrf: FormText = "") -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
    ctx = ctx_of(request)
    _ = gettext_of(request)
    name = _category_name(ctx, category)
    try:
        check_csrf(ctx, signed.token, csrf)
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
    response = redirect("/me/profile", msg=msg, err=err)
    response.headers["location"] += "#confirm-h"
    return response


@router.post("/me/profile/email")
def profile_email(request: Request, category: FormText = "", value: FormText = "", code: FormText = "",
                  csrf: FormText = "") -> Response:
    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
    ctx = ctx_of(request)
    _ = gettext_of(request)
    name = _category_name(ctx, category)
    try:
        check_csrf(ctx, signed.token, csrf)
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
def close_account(request: Request, confirm: FormText = "", csrf: FormText = "") -> Response:
    from ..retention import cancel_account_subject

    signed = _signed_in(request)
    if signed is None:
        return _sign_in_first(request)
    ctx = ctx_of(request)
    try:
        check_csrf(ctx, signed.token, csrf)
    except ApiError as exc:
        return redirect("/me/profile", err=_problem(exc, gettext_of(request)))
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

