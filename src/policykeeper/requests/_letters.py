"""The mails about a request, in the language the person made it in (English or Simplified Chinese).

Every mail about one request (its code, a new code, an extension, a refusal, "done" with the export, the correction,
the erasure report and what was kept, an explanation) is written here, in the language kept with the request
(:func:`policykeeper.i18n.known`; the pack's language where none was said). The pack's own words (names of data
categories, of complaint authorities) stay in the pack's language. Texts are English message ids translated through
the gettext catalogues (``web/locale``), checked by ``tests/web/test_i18n.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..i18n import day_in, gettext_for, moment_in
from ..pack._people_words import GROUNDS

__all__ = ["Letter", "code_letter", "complaint_words", "done_subject", "erased_text", "explanation_letter",
           "export_ready_text", "corrected_text", "extended_letter", "new_code_letter", "refused_letter"]

Letter = tuple[str, str]
"""A mail's subject and body."""

_Gettext = Callable[..., str]


def _right(_: _Gettext, right: str | None) -> str:
    names = {
        "access": _("See your data"), "copy": _("Get a copy of your data"), "correct": _("Correct your data"),
        "delete": _("Erase your data"), "restrict": _("Limit how your data is used"),
        "object": _("Object to a use of your data"), "withdraw_consent": _("Withdraw a consent"),
        "portability": _("Take your data elsewhere"), "cancel_account": _("Close your account"),
        "clear_history": _("Clear your history"), "automated_decision_explanation": _("Explain an automated decision"),
        "complain_internal": _("Complain to us"), "complain_authority": _("Complain to the authority"),
        "manage_account": _("Manage your account"), "general_question": _("A question"),
        "complaint": _("A complaint"), "rights_request": _("A request"),
    }
    return names.get(right or "", (right or "").replace("_", " "))


_TERM = re.compile(r"^(\d+) (calendar_days|business_days|hours|months|years)$")


def deadline_words(language: str, due: dt.datetime | None, words: str) -> str:
    """A request's deadline in words: its day where the pack gives one, else the pack's rule in plain words."""
    _ = gettext_for(language)
    if due is not None:
        return day_in(language, due.date())
    symbolic = {"per_applicable_law": _("as the law requires"), "unspecified": _("as soon as we can"),
                "promptly": _("promptly"), "immediately": _("at once"), "asap": _("as soon as we can"),
                "reasonable_period": _("within a reasonable time")}
    units = {"calendar_days": _("%(n)s days"), "business_days": _("%(n)s working days"), "hours": _("%(n)s hours"),
             "months": _("%(n)s months"), "years": _("%(n)s years")}
    parts = []
    for part in words.replace(" (law, configured)", "").split(" + "):
        term = _TERM.match(part.strip())
        if term:
            parts.append(units[term.group(2)].replace("%(n)s", term.group(1)))
        else:
            parts.append(symbolic.get(part.strip(), part.strip().replace("_", " ")))
    return " + ".join(parts)


def code_letter(language: str, ref: str, code: str, minutes: int, right: str | None, kind: str,
                received: dt.datetime, due: dt.datetime | None, words: str, fee: str) -> Letter:
    _ = gettext_for(language)
    body = (_("Your code is %(code)s. It is valid for %(minutes)s minutes.", code=code, minutes=minutes) + "\n"
            + _("Request %(ref)s (%(what)s), received %(day)s; deadline: %(deadline)s.", ref=ref,
                what=_right(_, right or kind), day=day_in(language, received.date()),
                deadline=deadline_words(language, due, words)) + "\n")
    if fee == "cost":
        body += _("Fee: we charge what it costs us (a repeated request).") + "\n"
    elif fee == "may_charge_cost":
        body += _("Fee: we may charge what it costs us (a repeated request).") + "\n"
    elif fee != "none":
        body += _("Fee: %(fee)s (a repeated request).", fee=fee.removeprefix("fixed:")) + "\n"
    return _("Your privacy request %(ref)s: your code", ref=ref), body


def new_code_letter(language: str, ref: str, code: str) -> Letter:
    _ = gettext_for(language)
    return (_("Your privacy request %(ref)s: a new code", ref=ref),
            _("Your new code is %(code)s.", code=code) + "\n")


def extended_letter(language: str, ref: str, days: int, reason: str, due: dt.datetime) -> Letter:
    """``reason`` is staff's own words, as they wrote them."""
    _ = gettext_for(language)
    return (_("Your privacy request %(ref)s needs more time", ref=ref),
            _("We need %(days)s more day(s): %(reason)s. New deadline: %(day)s.", days=days, reason=reason,
              day=day_in(language, due.date())) + "\n")


def refused_letter(language: str, ref: str, ground: str, complaint: str) -> Letter:
    _ = gettext_for(language)
    grounds = {"identity_not_verified": _("we could not verify who you are"),
               "manifestly_unfounded": _("the request is clearly unfounded"),
               "excessive": _("the request is excessive"),
               "unreasonably_repetitive": _("the request is unreasonably repetitive"),
               "excessive_technical_means": _("it would need excessive technical means"),
               "risk_to_others": _("it would put the rights of others at risk"),
               "impractical_backup_tapes": _("it is highly impractical (such as data on backup tapes)")}
    said = grounds.get(ground) or (_(GROUNDS[ground]) if ground in GROUNDS else ground.replace("_", " "))
    return (_("Your privacy request %(ref)s was refused", ref=ref),
            _("We cannot fulfil request %(ref)s. Ground: %(ground)s.", ref=ref, ground=said) + "\n" + complaint)


def done_subject(language: str, ref: str) -> str:
    _ = gettext_for(language)
    return _("Your privacy request %(ref)s is done", ref=ref)


def export_ready_text(language: str, values: int, center_url: str | None) -> str:
    _ = gettext_for(language)
    text = _("Your data export (%(n)s values) is ready.", n=values) + "\n"
    if center_url:
        text += _("Download it from your requests page in the privacy center, once signed in: %(url)s",
                  url=f"{center_url}/me/requests") + "\n"
    return text


def corrected_text(language: str, category: str) -> str:
    """``category``: the data category's name in the pack's words."""
    _ = gettext_for(language)
    return _("Your %(item)s was corrected.", item=category) + "\n"


def _kept_line(_: _Gettext, kept: Mapping[str, Any], names: Mapping[str, str]) -> str:
    what = names.get(kept["category"], kept["category"])
    if kept["reason"] == "legal_hold":
        why = (_("a legal hold (%(reference)s)", reference=kept["reference"]) if kept.get("reference")
               else _("a legal hold"))
    else:
        why = _("a record the law requires us to keep")
    refs = f" [{', '.join(kept.get('promises') or ())}]" if kept.get("promises") else ""
    return _("%(what)s: %(n)s record(s) kept under %(why)s", what=what, n=kept["records"], why=why) + refs


def erased_text(language: str, kept: Sequence[Mapping[str, Any]], names: Mapping[str, str], notices: int) -> str:
    """The erasure report: erased, or erased but for what the law keeps (each item and why), and how many
    recipients were told to erase it too. ``kept``: the deletion's ``Kept.as_dict()`` items."""
    _ = gettext_for(language)
    if not kept:
        text = _("Your personal data has been erased")
    else:
        text = (_("Your personal data has been erased, except what we must keep:") + "\n"
                + "".join(f"- {_kept_line(_, k, names)}\n" for k in kept)
                + _("It is used for nothing else and erased once the obligation ends"))
    return text + _("; %(n)s recipient(s) were told to erase it too.", n=notices) + "\n"


def complaint_words(language: str, authorities: Sequence[str], told: bool) -> str:
    """Where to complain, with an outcome (the authorities' names as the pack gives them)."""
    _ = gettext_for(language)
    if not told and not authorities:
        return _("You may complain to the data protection authority.") + "\n"
    if authorities:
        return _("If you are not satisfied, you may complain to: %(where)s.", where=", ".join(authorities)) + "\n"
    return _("If you are not satisfied, you may complain to the data protection authority.") + "\n"


def explanation_letter(language: str, ref: str, decision_id: str, at: dt.datetime, allowed: bool, action: object,
                       reasons: Sequence[tuple[str, str]], promises: Sequence[str], remedy: bool) -> Letter:
    """The explanation of one automated decision: what was decided, by which rules, and the remedy."""
    _ = gettext_for(language)
    lines = [_("Decision %(decision)s of %(at)s UTC: %(outcome)s (%(action)s).", decision=decision_id,
               at=moment_in(language, at), outcome=_("allowed") if allowed else _("refused"), action=action)]
    for code, where in reasons:
        lines.append("- " + _("%(reason)s, under the policy rule %(rule)s", reason=code.removeprefix("ok_")
                                                                                          .replace("_", " "), rule=where))
    if promises:
        lines.append(_("Policy promises behind it: %(promises)s.", promises=", ".join(promises)))
    if remedy:
        lines.append(_("If you disagree, reply to ask for a human review (request %(ref)s).", ref=ref))
    return _("Your privacy request %(ref)s: the explanation you asked for", ref=ref), "\n".join(lines) + "\n"
