"""What a request's person is told, by email: their code, a new deadline, a refusal, an outcome, and where to complain.

Each function returns a message's subject and body (or a body's part); the service decides when it is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ..clock import utc
from ..pack import Pack
from ..store.requests_repo import DecisionEntry

Letter = tuple[str, str]
"""A subject and a body."""


def complaint_route(pack: Pack) -> str:
    """What the person is told, with an outcome, about complaining (where the pack says so)."""
    contacts, handling = pack.contacts, pack.requests
    authorities = () if isinstance(contacts, str) or isinstance(contacts.complaints, str) \
        else contacts.complaints.external_authorities
    told = not isinstance(handling, str) and handling.outcome_includes_complaint_route is True
    if not authorities and not any(not isinstance(r, str) and r.type == "complain_authority"
                                   for r in (() if isinstance(pack.rights, str) else pack.rights)):
        return ""
    if not told and not authorities:
        return "You may complain to the data protection authority.\n"
    return "If you are not satisfied, you may complain to: " + (", ".join(authorities) or
                                                                "the data protection authority") + ".\n"


def code(ref: str, code: str, *, minutes: int, asked: str, received: dt.datetime, deadline: str, fee: str) -> Letter:
    return (f"Your privacy request {ref}: your code",
            f"Your code is {code}. It is valid for {minutes} minutes.\nRequest {ref} ({asked}), received "
            f"{received:%Y-%m-%d}; deadline: {deadline}.\n"
            + ("" if fee == "none" else f"Fee: {fee.replace('_', ' ')} (a repeated request).\n"))


def new_code(ref: str, code: str) -> Letter:
    return f"Your privacy request {ref}: a new code", f"Your new code is {code}.\n"


def extended(ref: str, days: int, reason: str, due: dt.datetime) -> Letter:
    return (f"Your privacy request {ref} needs more time",
            f"We need {days} more day(s): {reason}. New deadline: {due:%Y-%m-%d}.\n")


def refused(pack: Pack, ref: str, ground: str) -> Letter:
    return (f"Your privacy request {ref} was refused",
            f"We cannot fulfil request {ref}. Ground: {ground.replace('_', ' ')}.\n" + complaint_route(pack))


def done(pack: Pack, ref: str, text: str) -> Letter:
    return f"Your privacy request {ref} is done", text + complaint_route(pack)


def explanation(ref: str, decision_id: str, entry: DecisionEntry, *, remedy: bool) -> str:
    """One automated decision explained: when, its outcome, the rules and promises behind it, and the remedy."""
    lines = [f"Decision {decision_id} of {utc(entry.at):%Y-%m-%d %H:%M} UTC: "
             f"{'allowed' if entry.allowed else 'refused'} ({entry.detail.get('action')})."]
    for c, where in zip(entry.detail.get("codes", []), entry.detail.get("rules", []), strict=False):
        lines.append(f"- {c.removeprefix('ok_').replace('_', ' ')}, under the policy rule {where}")
    if entry.promises:
        lines.append("Policy promises behind it: " + ", ".join(entry.promises) + ".")
    if remedy:
        lines.append(f"If you disagree, reply to ask for a human review (request {ref}).")
    return "\n".join(lines) + "\n"


def explained(pack: Pack, ref: str, text: str) -> Letter:
    return f"Your privacy request {ref}: the explanation you asked for", text + complaint_route(pack)


def export_ready(values: int, center_url: str | None) -> str:
    where = (f"Download it from your requests page in the privacy center, once signed in: {center_url}/me/requests\n"
             if center_url else "")
    return f"Your data export ({values} values) is ready.\n" + where


def corrected(category: str) -> str:
    return f"Your {category.replace('_', ' ')} was corrected.\n"


def erased(kept: Iterable[str], notices: int) -> str:
    """``kept``: what was kept and why, one line each."""
    listed = "".join(f"- {k}\n" for k in kept)
    text = ("Your personal data has been erased" if not listed else
            "Your personal data has been erased, except what we must keep:\n" + listed
            + "It is used for nothing else and erased once the obligation ends")
    return text + f"; {notices} recipient(s) were told to erase it too.\n"
