"""A signed-in person changes one of their details, from the privacy center or the API (both go through here).

The value is checked against its category's kind by the engine (``engine._values``: an email, a phone number, a real
date of birth in the past, a gender among the offered ones, a password of at least eight characters); locked
categories are refused. A new **email address** — where sign-in codes go — does not replace the old one at once: a
six-digit code is sent to the new address, and only when the person gives that code back (with the address, which is
not kept anywhere meanwhile) is the address changed. Until then the old address keeps working. The code is kept as a
keyed hash in ``login_codes`` under a lookup derived with its own key, so it can never open a session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from .._exceptions import BadDetailError, BadValueError
from ..engine import GENDERS, check_detail, detail_kind
from ..pack._data import DataCategory
from ..store import web as web_store
from ._auth import CODE_TTL, MAX_CODE_ATTEMPTS, _secret_hash
from ._context import WebContext
from ._errors import ApiError
from ._i18n import gettext_for
from ._limits import before_profile_change

__all__ = ["GENDER_NAMES", "category_of", "change_detail", "confirm_email_change", "detail_problem", "kind_of"]

def GENDER_NAMES(_: Any) -> dict[str, str]:  # noqa: N802  (a table, translated per call)
    """The offered genders in words, in the page's language."""
    return {"female": _("Female"), "male": _("Male"), "another": _("Another gender"),
            "not_said": _("I prefer not to say")}


assert set(GENDER_NAMES(lambda s: s)) == set(GENDERS)


def category_of(ctx: WebContext, category: str) -> DataCategory:
    found = next((c for c in ctx.engine().pack.data_categories if c.id == category), None)
    if found is None:
        raise ApiError(422, "invalid", "choose one of your details", "category")
    return found


def detail_problem(_: Any, exc: BadDetailError, name: str) -> str:
    """What is wrong with a new value, in the person's language, naming the detail (never the value)."""
    texts = {
        "empty": _("%(detail)s: the new value is empty. Nothing was changed."),
        "too_long": _("%(detail)s: the new value is longer than 2000 characters. Nothing was changed."),
        "control": _("%(detail)s: the new value contains characters that cannot be typed. Nothing was changed."),
        "email": _("%(detail)s: this is not an email address like name@example.com. Nothing was changed."),
        "phone": _("%(detail)s: this is not a phone number. Use digits, spaces and an optional + at the start, like "
                   "+86 139 0000 1111. Nothing was changed."),
        "date": _("%(detail)s: this is not a real date. Write it as year-month-day, like 1990-04-21. Nothing was "
                  "changed."),
        "date_future": _("%(detail)s: the date must be in the past. Nothing was changed."),
        "date_too_old": _("%(detail)s: the date is before 1900. Nothing was changed."),
        "choice": _("%(detail)s: choose one of the options offered. Nothing was changed."),
        "secret_short": _("%(detail)s: the new password must be at least 8 characters long. Nothing was changed."),
    }
    text = texts.get(exc.problem, _("%(detail)s: this value cannot be used. Nothing was changed."))
    return str(text).replace("%(detail)s", name)


def _lookup(ctx: WebContext, subject_id: str, category: str, address: str) -> str:
    key = ctx.keys.derive_key("email-change")
    return hmac.new(key, f"{subject_id}|{category}|{address.lower()}".encode(), hashlib.sha256).hexdigest()


def _is_email(ctx: WebContext, category: str) -> bool:
    return category in ctx.engine().email_categories()


def change_detail(ctx: WebContext, subject_id: str, category: str, value: str, *, language: str = "en",
                  now: dt.datetime | None = None) -> int | None:
    """Change one detail of the person; returns how many values were replaced, or None when the detail is an email
    address: then a code went to the new address, and :func:`confirm_email_change` finishes the change."""
    eng = ctx.engine()
    cat = category_of(ctx, category)
    locked = eng.pack.locked_categories()
    if category in locked:
        raise ApiError(403, "denied", f"this detail cannot be changed after registration ({', '.join(locked[category])})",
                       "category")
    now = eng.clock.at(now)
    if not _is_email(ctx, category):
        before_profile_change(ctx, subject_id, category)
        return eng.correct_subject(subject_id, category, value, actor="subject", now=now)
    address = check_detail(cat, value, today=now.date())
    before_profile_change(ctx, subject_id, category)
    code = f"{secrets.randbelow(10**6):06d}"
    lookup = _lookup(ctx, subject_id, category, address)
    with ctx.db.begin() as conn:
        web_store.insert_login_code(conn, pack_id=ctx.pack.id, lookup=lookup, subject_id=subject_id,
                                    code_hash=_secret_hash(ctx, f"email-change:{lookup}:{code}"), sent_at=now,
                                    expires_at=now + CODE_TTL)
    _ = gettext_for(language)
    minutes = int(CODE_TTL.total_seconds() // 60)
    ctx.mailer.send(address, _("Confirm your new email address"),
                    _("Your code is %(code)s. Enter it on your profile page to make this your email address; it "
                      "is valid for %(minutes)s minutes. Until then your old address stays in use.",
                      code=code, minutes=minutes) + "\n"
                    + _("If you did not ask for this change, ignore this message: nothing changes.") + "\n")
    return None


NOT_VALID = ("that code is not valid for this address: enter the address and the latest code we sent to it (each "
             f"works once, for {int(CODE_TTL.total_seconds() // 60)} minutes and {MAX_CODE_ATTEMPTS} tries)")


def confirm_email_change(ctx: WebContext, subject_id: str, category: str, address: str, code: str, *,
                         now: dt.datetime | None = None) -> int:
    """The code sent to ``address`` is right: it becomes the person's ``category``; returns how many were replaced.
    A wrong code costs one of :data:`MAX_CODE_ATTEMPTS`; nothing is changed until the right one is given."""
    now = ctx.clock.at(now)
    cat = category_of(ctx, category)
    if not _is_email(ctx, category):
        raise ApiError(422, "invalid", "only an email address is confirmed by a code", "category")
    try:
        address = check_detail(cat, address, today=now.date())
    except BadValueError:
        raise ApiError(422, "invalid", NOT_VALID, "code") from None
    lookup = _lookup(ctx, subject_id, category, address)
    with ctx.db.begin() as conn:
        row = web_store.latest_code(conn, lookup, subject_id)
        expires = None if row is None else (row.expires_at if row.expires_at.tzinfo else
                                            row.expires_at.replace(tzinfo=dt.UTC))
        valid = row is not None and not row.used and expires is not None and expires > now
        right = valid and row is not None and hmac.compare_digest(
            row.code_hash, _secret_hash(ctx, f"email-change:{lookup}:{code.strip()}"))
        if row is not None and valid and not right:
            attempts = row.attempts + 1
            web_store.count_code_attempt(conn, row.id, attempts, spent=attempts >= MAX_CODE_ATTEMPTS)
        elif row is not None and right:
            web_store.spend_code(conn, row.id)
    if not right:
        raise ApiError(422, "invalid", NOT_VALID, "code")
    return ctx.engine().correct_subject(subject_id, category, address, actor="subject", now=now)


def kind_of(category: DataCategory) -> str:
    """The kind of input a category gets on the profile page."""
    return detail_kind(category)
