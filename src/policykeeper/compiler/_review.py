"""``pack review``: every drafted item next to its quote in the policy, with its confidence."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..pack import Pack, Rule
from ._draft import draft_pack
from ._text import Source

__all__ = ["ReviewRow", "locate", "marked_text", "review_html", "review_rows"]


@dataclass(frozen=True)
class ReviewRow:
    """One line of the review: a promise of the draft, a drafted value, or a quote of the draft."""

    kind: str  # "promise", "value" or "quote"
    item: str
    value: str
    quote: str | None
    start: int | None
    end: int | None
    confidence: float
    note: str


def locate(text: str, quote: str) -> tuple[int, int] | None:
    """Offsets of ``quote`` in the normalised text (line breaks count as spaces), or None."""
    i = text.find(quote)
    if i < 0:
        i = text.replace("\n", " ").find(re.sub(r"\s+", " ", quote.strip()))
    return (i, i + len(quote)) if i >= 0 else None


def _rule_quotes(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Rule) and value.quote:
        yield path, value.quote
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name not in ("promises", "quote"):
                yield from _rule_quotes(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _rule_quotes(item, f"{path}[{i}]")


def review_rows(draft: Pack, source: Source) -> list[ReviewRow]:
    """Rows for DRAFT against POLICY: promises, the compiler's values for each section, and every rule quote.

    Confidence and notes come from drafting POLICY again (drafting is deterministic); a promise or quote a person
    has edited shows whether it is still verbatim in the policy.
    """
    fresh = draft_pack(source, pack_id=draft.id)
    confidence = {p.quote: p.confidence for p in fresh.promises}
    rows: list[ReviewRow] = []
    for p in draft.promises:
        span = locate(source.text, p.quote)
        note = "" if span else "QUOTE NOT FOUND in the policy"
        if p.quote not in confidence:
            note = (note + "; " if note else "") + "not in a fresh draft (edited or added by a person)"
        rows.append(ReviewRow("promise", f"{p.id} [{p.tag}]", p.statement, p.quote, span[0] if span else None,
                              span[1] if span else None, confidence.get(p.quote, 1.0), note))
    for it in fresh.items:
        rows.append(ReviewRow("value", it.path, _show(it.value), it.quote, it.start, it.end, it.confidence, it.note))
    for path, quote in _rule_quotes(draft, ""):
        if locate(source.text, quote) is None:
            rows.append(ReviewRow("quote", path, "", quote, None, None, 0.0, "QUOTE NOT FOUND in the policy"))
    return rows


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def review_html(draft: Pack, source: Source, rows: list[ReviewRow]) -> str:
    """A self-contained HTML page: the table of items, and the policy with every quote marked."""
    e = html.escape
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Review of draft pack {e(draft.id)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;font-size:.9em}.low{background:#fff3cd}"
        ".none{background:#f8d7da}mark{background:#d1ecf1}pre{white-space:pre-wrap}</style></head><body>",
        f"<h1>Review of draft pack <code>{e(draft.id)}</code></h1>",
        f"<p>Policy: {e(source.name)}. Each item sits next to its quote and the compiler's confidence (0 to 1). "
        "Accept, fix or fill each one in the YAML.</p>",
        "<table><tr><th>kind</th><th>item</th><th>value</th><th>confidence</th><th>quote</th><th>note</th></tr>",
    ]
    for r in rows:
        cls = "none" if r.confidence == 0 else ("low" if r.confidence < 0.5 else "")
        where = f"<a href='#q{r.start}'>{r.start}–{r.end}</a> " if r.start is not None else ""
        out.append(f"<tr class='{cls}'><td>{e(r.kind)}</td><td>{e(r.item)}</td><td>{e(r.value)}</td>"
                   f"<td>{r.confidence:.2f}</td><td>{where}{e(r.quote or '')}</td><td>{e(r.note)}</td></tr>")
    out.append("</table><h2>The policy, quotes marked</h2><pre>")
    for text, start in marked_text(source, rows):
        out.append(e(text) if start is None else f"<mark id='q{start}'>{e(text)}</mark>")
    out.append("</pre></body></html>\n")
    return "".join(out)


def marked_text(source: Source, rows: list[ReviewRow]) -> list[tuple[str, int | None]]:
    """The policy cut into pieces: (text, None) between quotes and (quote, its start) for each quoted span."""
    spans = sorted({(r.start, r.end) for r in rows if r.start is not None and r.end is not None})
    out: list[tuple[str, int | None]] = []
    pos = 0
    for start, end in spans:
        if start < pos:
            continue
        out.append((source.text[pos:start], None))
        out.append((source.text[start:end], start))
        pos = end
    out.append((source.text[pos:], None))
    return out
