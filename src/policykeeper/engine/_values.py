"""What a value of a data category must look like when a person (or staff for them) changes it.

A category's kind comes from its Fides key: an email address (``user.contact.email``), a phone number
(``user.contact.phone_number``), a date of birth (``user.demographic.date_of_birth``), a gender
(``user.demographic.gender``, one of :data:`GENDERS`), a credential (``user.authorization``), or free text. A value
that does not fit is refused with :class:`~policykeeper.BadDetailError`, which names the category and the problem (a
stable key the pages translate), and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from .._exceptions import BadDetailError
from ..clock import system
from ..pack._data import DataCategory

__all__ = ["GENDERS", "DetailKind", "Problem", "check_detail", "detail_kind"]

DetailKind = Literal["email", "phone", "date_of_birth", "gender", "secret", "text"]
Problem = Literal["empty", "too_long", "email", "phone", "date", "date_future", "date_too_old", "choice",
                  "secret_short", "control"]
GENDERS: tuple[str, ...] = ("female", "male", "another", "not_said")
"""The values a gender may take: ``another`` for any other, ``not_said`` for prefer not to say."""

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]{4,30}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_TEXT = 2000
OLDEST = dt.date(1900, 1, 1)
SECRET_MIN = 8

_WORDS: dict[str, str] = {
    "empty": "is empty",
    "too_long": f"is longer than {MAX_TEXT} characters",
    "email": "is not an email address like name@example.com",
    "phone": "is not a phone number: use digits, spaces and an optional leading +, like +86 139 0000 1111",
    "date": "is not a real date written as YYYY-MM-DD, like 1990-04-21",
    "date_future": "is not in the past",
    "date_too_old": "is before 1900",
    "choice": "is not one of " + ", ".join(GENDERS),
    "secret_short": f"is shorter than {SECRET_MIN} characters",
    "control": "contains control characters",
}


def _bad(category: str, problem: Problem) -> BadDetailError:
    return BadDetailError(category, problem, f"the new {category.replace('_', ' ')} {_WORDS[problem]}; "
                                             "nothing was changed")


def detail_kind(category: DataCategory) -> DetailKind:
    """The kind of value a category holds, from its Fides key."""
    key = category.fides_key
    if key.startswith("user.contact.email"):
        return "email"
    if key.startswith("user.contact.phone_number"):
        return "phone"
    if key.startswith("user.demographic.date_of_birth"):
        return "date_of_birth"
    if key.startswith("user.demographic.gender"):
        return "gender"
    if key.startswith("user.authorization"):
        return "secret"
    return "text"


def check_detail(category: DataCategory, value: str, *, today: dt.date | None = None) -> str:
    """``value`` as it will be kept (surrounding spaces dropped, an email's domain in lower case), or
    :class:`BadDetailError` saying what is wrong with it."""
    kind = detail_kind(category)
    text = value if kind == "secret" else value.strip()
    problem = _problem(kind, text, today or system.now().date())
    if problem is not None:
        raise _bad(category.id, problem)
    if kind == "email":
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"
    return text


def _problem(kind: DetailKind, text: str, today: dt.date) -> Problem | None:
    if not text:
        return "empty"
    if len(text) > MAX_TEXT:
        return "too_long"
    if _CONTROL.search(text):
        return "control"
    if kind == "email" and (len(text) > 254 or not _EMAIL.fullmatch(text)):
        return "email"
    if kind == "phone" and (not _PHONE.fullmatch(text) or not 6 <= sum(ch.isdigit() for ch in text) <= 15):
        return "phone"
    if kind == "date_of_birth":
        if not _DATE.fullmatch(text):
            return "date"
        try:
            born = dt.date.fromisoformat(text)
        except ValueError:
            return "date"
        if born >= today:
            return "date_future"
        if born < OLDEST:
            return "date_too_old"
    if kind == "gender" and text not in GENDERS:
        return "choice"
    if kind == "secret" and len(text) < SECRET_MIN:
        return "secret_short"
    return None
