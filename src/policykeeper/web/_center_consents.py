"""The privacy center's consents page: what the policy asks a person's consent for, each choice's state and who made
it (GPC included), and giving or withdrawing one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from .. import consent
from .._exceptions import PolicykeeperError
from ..i18n import language_of_pack
from ._context import WebContext
from ._library_words import own
from ._pages import ctx_of, gettext_of, language_of, redirect
from .center import (
    FormText,
    Signed,
    SignedIn,
    _day_in,
    _page,
    _problem,
    _words,
    router,
    signed_form,
)

_ConsentsForm = Annotated[SignedIn, Depends(signed_form("/me/consents"))]
"""The consents page's form, its CSRF token checked."""

_NOT_OFFERED = ("new_purpose", "minor_account", "policy")
"""Consent rules a person does not give on this page: a new purpose is asked for when it comes up, a parent consents
for a child's account, and the policy itself is accepted where it is shown."""

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
    from ..store import ledger as ledger_store

    with ctx.db.connect() as conn:
        rows = ledger_store.consent_choices_of(conn, subject_id)
    return {r.target: (str(r.evidence.get("by", "")), r.at) for r in rows}


def _kinds(_: Any) -> dict[str, str]:
    return {"opt in": _("you choose to turn it on"), "opt out": _("on unless you turn it off"),
            "explicit": _("asked for explicitly"), "separate": _("asked for separately"),
            "implied by use": _("taken from your use of the service"),
            "os permission": _("asked by your device's settings"), "parental verifiable": _("given by a parent")}


@router.get("/me/consents", response_class=HTMLResponse)
def consents(request: Request, signed: Signed) -> Response:
    from ._site import GPC, gpc_consents, gpc_honoured

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
def consent_change(request: Request, signed: _ConsentsForm, target: str, action: FormText = "") -> Response:
    ctx = ctx_of(request)
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
