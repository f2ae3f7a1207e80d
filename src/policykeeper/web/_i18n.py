"""The languages of the pages: :mod:`policykeeper.i18n` (the catalogues, the choice of a language), and the templates'
``_`` that escapes the values it fills in.

Text meant for people is marked in templates with ``{{ _("...") }}`` or ``{% trans %}...{% endtrans %}``, and in
Python with :func:`gettext_for`. Translations live in ``web/locale/zh_Hans/LC_MESSAGES/*.po``: one catalogue per area
(``common.po``, ``center.po``, ``admin.po``, ``mail.po``, ``errors.po`` ...), all merged when loaded, read with Babel.

A page's language is chosen, in this order, by ``?lang=`` (which also sets the ``pk_lang`` cookie for the next pages),
the ``pk_lang`` cookie, then the browser's ``Accept-Language``; English when none of them names a language we have.
Texts that come from the pack (its purposes, recipients, promise quotes) are shown in the pack's own language and
marked with it (``lang=``), whatever the page's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from ..i18n import (
    COOKIE,
    DEFAULT,
    LANGUAGES,
    LOCALE_DIR,
    catalogue,
    choose,
    gettext_for,
    normalise,
    parse_accept_language,
)

__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "LOCALE_DIR", "catalogue", "choose", "gettext_for", "html_gettext_for",
           "normalise", "parse_accept_language"]


def html_gettext_for(language: str) -> Callable[..., Markup]:
    """The templates' ``_``/``gettext``: as :func:`gettext_for`, but the values are HTML-escaped and the result is
    markup (the catalogue's texts are ours; the values may come from anyone)."""
    table = catalogue(language)

    def gettext(text: str, **values: Any) -> Markup:
        out = Markup(table.get(text, text))
        return out % values if values else out

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> Markup:
        text = singular if n == 1 else plural
        values.setdefault("num", n)
        return gettext(text, **values)

    gettext.ngettext = ngettext  # type: ignore[attr-defined]
    return gettext
