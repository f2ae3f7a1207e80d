"""The languages of the texts people read (pages, mails, notices): English (the source text) and Simplified Chinese.

Text meant for people is marked with ``_("...")``: in Python, ``_ = gettext_for(language)`` then
``_("Your code is %(code)s.", code=code)``; in the pages' templates ``{{ _("...") }}`` (see ``web/_i18n``).
Translations live in ``web/locale/zh_Hans/LC_MESSAGES/*.po``: one catalogue per area, all merged when loaded, read with
Babel. English needs no catalogue: a message id *is* its English text.

This module sits below the services, so that a service (requests, incidents, versions) writes its mails in the language
of the person they go to; the pages' own choice of language (``?lang=``, cookie, ``Accept-Language``) is :func:`choose`.
Chinese written in traditional characters (zh-TW, zh-HK, zh-Hant) is not Simplified Chinese: those readers get English
until a catalogue for them exists. Texts that come from the pack stay in the pack's language.

``tests/web/test_i18n.py`` checks that every marked string has a Chinese translation.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "LOCALE_DIR", "catalogue", "choose", "day_in", "gettext_for", "known",
           "language_of_pack", "moment_in", "normalise", "parse_accept_language"]

LANGUAGES: Mapping[str, str] = {"en": "English", "zh-Hans": "简体中文"}
"""The languages the pages come in: a BCP 47 tag and the language's name in itself (what the switch shows)."""
DEFAULT = "en"
COOKIE = "pk_lang"
LOCALE_DIR = Path(__file__).parent / "web" / "locale"
"""The catalogues (they sit with the pages, which have the most text; mails and the library's texts share them)."""
_DIRS = {"zh-Hans": "zh_Hans"}
_SIMPLIFIED = ("zh", "zh-cn", "zh-sg", "zh-my", "zh-hans")


def normalise(value: str) -> str | None:
    """One language tag from a header, ``?lang=`` or the cookie, as one of LANGUAGES (None if we have no such)."""
    tag = value.strip().lower().replace("_", "-")
    if tag == "en" or tag.startswith("en-"):
        return "en"
    if tag in _SIMPLIFIED or tag.startswith("zh-hans"):
        return "zh-Hans"
    return None


def parse_accept_language(header: str | None) -> str | None:
    """The preferred language we have from an ``Accept-Language`` header (RFC 9110 12.5.4), or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:32]):
        name, _, params = part.partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        tag = normalise(name)
        if tag is not None and q > 0:
            ranked.append((-q, i, tag))
    return min(ranked)[2] if ranked else None


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a page: ``?lang=``, then the cookie, then ``Accept-Language``, then English."""
    for value in (query, cookie):
        if value and (tag := normalise(value)) is not None:
            return tag
    return parse_accept_language(accept_language) or DEFAULT


@functools.cache
def catalogue(language: str) -> Mapping[str, str]:
    """Every translated message of ``language``: the English text to its translation (fuzzy and empty ones left
    out, so they show in English rather than wrong). Loaded once per process."""
    folder = _DIRS.get(language)
    if folder is None:
        return {}
    from babel.messages.pofile import read_po

    table: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / folder / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh):
                if not message.id or message.fuzzy:
                    continue
                if isinstance(message.id, str):
                    if isinstance(message.string, str) and message.string:
                        table[message.id] = message.string
                else:  # a plural: Chinese has one form, so both English forms map to it
                    forms = [f for f in message.string or () if f]
                    if forms:
                        table[message.id[0]] = forms[0]
                        table[message.id[1]] = forms[-1]
    return table


def moment_in(language: str, at: dt.datetime) -> str:
    """A moment in UTC in words, the way the language writes it (``29 November 2026, 14:05``,
    ``2026年11月29日 14:05``)."""
    at = at.astimezone(dt.UTC) if at.tzinfo else at
    return f"{day_in(language, at.date())}{'' if language == 'zh-Hans' else ','} {at:%H:%M}"


def gettext_for(language: str) -> Callable[..., str]:
    """``_(text, **values)`` for Python code (mails, flash messages, errors): the translation of ``text`` with
    ``%(name)s`` placeholders filled from ``values``; the English text where no translation exists."""
    table = catalogue(language)

    def gettext(text: str, **values: Any) -> str:
        out = table.get(text, text)
        return out % values if values else out

    return gettext


def language_of_pack(pack_language: str | None) -> str:
    """The language we write in for a pack when nothing says the person's: the pack's own, where we have it, else
    English."""
    return normalise(pack_language or "") or DEFAULT


def known(value: str | None) -> str | None:
    """``value`` as one of LANGUAGES, or None (for a language kept with a request or a person, or sent by a client)."""
    return normalise(value) if value else None



def day_in(language: str, day: dt.date) -> str:
    """A day in words, the way the language writes it (``29 November 2026``, ``2026年11月29日``): for people, in
    mails and notices, never an ISO date."""
    from babel.dates import format_date

    return str(format_date(day, format="long", locale="zh_Hans_CN" if language == "zh-Hans" else "en_GB"))
