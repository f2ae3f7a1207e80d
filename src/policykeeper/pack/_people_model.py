"""The document model of the people's notice (``_people``): parts, points, our sentences (English message ids,
marked ``_("...")`` for translation) and the pack's own texts, with the small helpers that put a pack's values
into words (lists, durations, deadlines, names, the promises a point comes from)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Union

from ._model import Pack
from ._people_words import SYMBOLIC, TERMS
from ._types import FixedDuration

__all__ = ["Own", "Part", "PeopleDocument", "Place", "Point", "Text", "Value"]


@dataclass(frozen=True)
class Own:
    """Text that comes from the pack itself: shown as it is, in the pack's language."""

    text: str


@dataclass(frozen=True)
class Place:
    """A country (ISO code) or a named area, named in the reader's language where it is a country."""

    code: str


Value = Union["Text", Own, Place, int]


@dataclass(frozen=True)
class Text:
    """One of our sentences: an English message id with ``%(name)s`` values."""

    msgid: str
    values: tuple[tuple[str, Value], ...] = ()


def _(msgid: str, **values: Value) -> Text:
    return Text(msgid, tuple(values.items()))


@dataclass
class Point:
    """One point of a part: an optional heading (the pack's name of a purpose or recipient), sentences, and the
    promises they come from."""

    sentences: Sequence[Value]
    heading: Own | None = None
    promises: tuple[str, ...] = ()
    bullets: bool = False
    """The sentences are items of a list (the cases of an exception), not a paragraph."""


@dataclass
class Part:
    anchor: str
    title: Text
    intro: list[Text] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    folded: bool = False
    """Points with headings are shown folded (a reader opens the one they want)."""


@dataclass
class PeopleDocument:
    title: Text
    dates: list[Text]
    parts: list[Part]
    words: list[tuple[str, str]]
    """The policy's own words: (anchor, quote) for every promise, for the curious."""
    language: str


# -- words for a pack's values ------------------------------------------------------------------------------


def _own_words(key: str) -> Own:
    return Own(key.replace("_", " "))


def _said(text: str) -> Own:
    """A sentence of the pack's, ending with a full stop (only one)."""
    text = text.strip()
    return Own(text if text[-1:] in ".!?。" else text + ".")


def _term(key: str) -> Value:
    return Text(TERMS[key]) if key in TERMS else _own_words(key)


def _list(values: Iterable[Value], either: bool = False) -> Value:
    """Several values as one: ``a, b and c`` (or ``a, b or c``) in the reader's language."""
    items = list(values)
    if not items:
        return Own("")
    if len(items) == 1:
        return items[0]
    out: Value = _("%(first)s or %(last)s", first=items[-2], last=items[-1]) if either \
        else _("%(first)s and %(last)s", first=items[-2], last=items[-1])
    for item in reversed(items[:-2]):
        out = _("%(first)s, %(rest)s", first=item, rest=out)
    return out


def _duration(d: object) -> Value | None:
    """A fixed duration in words: "30 days", "7 working days"; None where the pack gives no number."""
    if not isinstance(d, FixedDuration):
        return None
    n = d.value
    one = n == 1
    text = {
        "calendar_days": _("1 day") if one else _("%(n)s days", n=n),
        "business_days": _("1 working day") if one else _("%(n)s working days", n=n),
        "hours": _("1 hour") if one else _("%(n)s hours", n=n),
        "months": _("1 month") if one else _("%(n)s months", n=n),
        "years": _("1 year") if one else _("%(n)s years", n=n),
    }[d.unit]
    return _("%(time)s (%(hedge)s)", time=text, hedge=Own(d.qualifier)) if d.qualifier else text


def _within(d: object) -> Value | None:
    """A deadline in words: "within 15 working days", "promptly"."""
    fixed = _duration(d)
    if fixed is not None:
        return _("within %(time)s", time=fixed)
    return Text(SYMBOLIC[str(d)]) if str(d) in SYMBOLIC else None


def _promises(*rules: object) -> tuple[str, ...]:
    out: list[str] = []
    for r in rules:
        for p in getattr(r, "promises", ()):
            if p not in out:
                out.append(p)
    return tuple(out)


def _names(pack: Pack, ids: Iterable[str], kind: str) -> Value:
    table = {c.id: c.name for c in pack.data_categories} if kind == "data" else {p.id: p.name for p in pack.purposes.items}
    return Own(", ".join(table.get(i, i.replace("_", " ")) for i in ids))
