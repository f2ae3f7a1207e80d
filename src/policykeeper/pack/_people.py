"""The policy for the people it is about: a plain-language privacy notice written from a pack.

``build_document`` (in ``_render``) shows every field of the pack for those who check it; this one says what a person
wants to know, in the order they look for it: who we are, what we collect and why, who gets it, where it goes, how
long we keep it, their rights and how to use them, children, security, marketing and cookies, changes, and how to
reach us. No ids, no keys, no internal notes (``source_issues`` stay in the console); durations and deadlines in
words. Each point keeps the promises it comes from, so a reader can follow a small link to the policy's own words.

Our sentences are English message ids (``_("...")``) translated through the pages' gettext catalogues; the pack's
own values (names of purposes and recipients, quotes) are :class:`Own` and stay in the pack's language.

The document model is in ``_people_model``, the parts about the data in ``_people_data`` and those about the person
in ``_people_rights``, the words for the pack's keys in ``_people_words``. This module puts the parts together and
writes the document as Markdown or HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from ._model import Pack
from ._people_data import data_parts
from ._people_model import Own, Part, PeopleDocument, Place, Point, Text, Value, _
from ._people_rights import person_parts

__all__ = ["Own", "Part", "PeopleDocument", "Point", "Text", "people_document", "people_html", "people_markdown", "people_page"]


def people_document(pack: Pack) -> PeopleDocument:
    """The plain-language notice of ``pack`` as a document model (our sentences still to be translated)."""
    v = pack.version
    dates = []
    if v.updated_date != "unspecified":
        dates.append(_("Last updated: %(date)s.", date=Own(v.updated_date.isoformat())))
    if v.effective_date != "unspecified":
        dates.append(_("In force since: %(date)s.", date=Own(v.effective_date.isoformat())))
    parts = data_parts(pack) + person_parts(pack)
    words = [(p.id.lower(), p.quote) for p in pack.promises]
    return PeopleDocument(_("How %(company)s uses your personal data", company=Own(pack.name)), dates,
                          [p for p in parts if p is not None], words, pack.language or "en")


# -- writing -----------------------------------------------------------------------------------------------------

Gettext = Callable[[str], str]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pieces(value: Value, gettext: Gettext, place: Callable[[str], str]) -> list[tuple[str, bool]]:
    """A value as pieces of text, each marked True when it is the pack's own (to be shown in the pack's language)."""
    if isinstance(value, Own):
        return [(value.text, True)] if value.text else []
    if isinstance(value, Place):
        return [(place(value.code), False)] if len(value.code) == 2 and value.code.isupper() \
            else [(value.code.replace("_", " "), True)]
    if isinstance(value, int):
        return [(str(value), False)]
    values = dict(value.values)
    out: list[tuple[str, bool]] = []
    for i, piece in enumerate(_PLACEHOLDER.split(gettext(value.msgid))):
        if i % 2 == 0:
            if piece:
                out.append((piece, False))
        elif piece in values:
            out += _pieces(values[piece], gettext, place)
    merged: list[tuple[str, bool]] = []
    for text, own in out:
        if merged and merged[-1][1] == own:
            merged[-1] = (merged[-1][0] + text, own)
        else:
            merged.append((text, own))
    return merged


def _english(text: str) -> str:
    return text


def _place_for(language: str) -> Callable[[str], str]:
    from babel import Locale

    try:
        names = Locale.parse(language.replace("-", "_")).territories
    except (ValueError, LookupError):
        names = Locale("en").territories
    return lambda code: str(names.get(code, code))


def plain(value: Value, gettext: Gettext = _english, language: str = "en") -> str:
    """A value as plain text in the reader's language."""
    return "".join(t for t, _own in _pieces(value, gettext, _place_for(language)))


def people_markdown(doc: PeopleDocument) -> str:
    """The notice as Markdown, in English."""
    lines = [f"# {plain(doc.title)}", ""] + [plain(d) for d in doc.dates] + [""]
    lines += [f"- [{plain(p.title)}](#{p.anchor})" for p in doc.parts] + [""]
    for part in doc.parts:
        lines += [f'<a id="{part.anchor}"></a>', f"## {plain(part.title)}", ""]
        lines += [" ".join(plain(t) for t in part.intro), ""] if part.intro else []
        for pt in part.points:
            refs = "".join(f" [↗](#{p.lower()})" for p in pt.promises)
            if pt.bullets:
                lines += [f"- {plain(t)}" for t in pt.sentences]
                continue
            body = " ".join(plain(t) for t in pt.sentences)
            lines.append(f"- **{pt.heading.text}**: {body}{refs}" if pt.heading else f"- {body}{refs}")
        lines.append("")
    lines += ['<a id="words"></a>', f"## {plain(_WORDS)}", ""]
    lines += [f'- <a id="{a}"></a>“{q}”' for a, q in doc.words]
    return "\n".join(lines) + "\n"


_WORDS = _("In the policy's own words")
_WORDS_LINK = _("The policy's own words")
_CONTENTS = _("Contents")


def people_html(doc: PeopleDocument, gettext: Gettext = _english, language: str = "en") -> str:
    """The notice as an HTML fragment (a table of contents, one <section> per part, points with headings folded),
    our sentences in ``language`` through ``gettext``, the pack's texts marked with the pack's language."""
    place = _place_for(language)
    own_lang = html.escape(doc.language)

    def show(value: Value) -> str:
        out = []
        for text, own in _pieces(value, gettext, place):
            esc = html.escape(text)
            out.append(f'<span lang="{own_lang}">{esc}</span>' if own and doc.language != language else esc)
        return "".join(out)

    link_name = html.escape(plain(_WORDS_LINK, gettext, language))

    def refs(promises: tuple[str, ...]) -> str:
        return "".join(f' <a class="words" href="#{html.escape(p.lower())}" aria-label="{link_name}">↗</a>'
                       for p in promises)

    out = [f'<h1>{show(doc.title)}</h1>']
    out += [f'<p class="muted">{show(d)}</p>' for d in doc.dates]
    out.append(f'<nav class="toc" aria-labelledby="toc-h"><h2 id="toc-h">{show(_CONTENTS)}</h2><ol>')
    out += [f'<li><a href="#{p.anchor}">{show(p.title)}</a></li>' for p in doc.parts]
    out.append("</ol></nav>")
    for part in doc.parts:
        out.append(f'<section id="{part.anchor}" aria-labelledby="{part.anchor}-h">'
                   f'<h2 id="{part.anchor}-h">{show(part.title)}</h2>')
        if part.intro:
            out.append(f"<p>{' '.join(show(t) for t in part.intro)}</p>")
        plain_points = [pt for pt in part.points if pt.heading is None or not part.folded]
        folded = [pt for pt in part.points if pt.heading is not None and part.folded]
        if plain_points:
            out.append("<ul>")
            for pt in plain_points:
                if pt.bullets:
                    out += [f"<li>{show(t)}</li>" for t in pt.sentences[:-1]]
                    out.append(f"<li>{show(pt.sentences[-1])}{refs(pt.promises)}</li>")
                    continue
                head = f"<strong>{show(pt.heading)}</strong>: " if pt.heading else ""
                out.append(f"<li>{head}{' '.join(show(t) for t in pt.sentences)}{refs(pt.promises)}</li>")
            out.append("</ul>")
        for pt in folded:
            assert pt.heading is not None
            out.append(f"<details><summary>{show(pt.heading)}</summary>"
                       f"<p>{' '.join(show(t) for t in pt.sentences)}{refs(pt.promises)}</p></details>")
        out.append("</section>")
    out.append(f'<section id="words" aria-labelledby="words-h"><details><summary><h2 id="words-h">{show(_WORDS)}'
               f'</h2></summary><ul lang="{own_lang}">')
    out += [f'<li id="{html.escape(a)}">“{html.escape(q)}”</li>' for a, q in doc.words]
    out.append("</ul></details></section>")
    return "\n".join(out)


def people_page(pack: Pack) -> str:
    """The notice as a standalone HTML page, in English."""
    doc = people_document(pack)
    lang = html.escape(doc.language)
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(plain(doc.title))}</title>\n<style>\n"
            "  body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; "
            "line-height: 1.5; color: #1a1a1a; overflow-wrap: anywhere; }\n"
            "  a { color: #0b4f9c; } a.words { text-decoration: none; font-size: .85em; }\n"
            "  details { border-bottom: 1px solid #ccc; padding: .35rem 0; } summary { cursor: pointer; }\n"
            "  summary h2 { display: inline; } :target { background: #fff4c2; } .muted { color: #4a4a4a; }\n"
            f"</style>\n</head>\n<body>\n<main>\n{people_html(doc, language=lang)}\n</main>\n</body>\n</html>\n")
