"""The base of the section extractors: one review item per drafted value, the sentences of the policy, and
the helpers each extractor uses to find sentences and to emit values with the sentence they come from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._promises import is_toc, list_leads
from ._text import Sentence

__all__ = ["UNSPEC", "Item", "Sections", "ref"]


UNSPEC = "unspecified"


@dataclass(frozen=True)
class Item:
    """One drafted value for review: where it goes, what it is, the quote behind it and how sure the draft is."""

    path: str
    value: Any
    quote: str | None
    start: int | None
    end: int | None
    confidence: float
    note: str = ""


def ref(s: Sentence) -> str:
    """A placeholder for 'the promise this sentence becomes', resolved to an ID when the pack is assembled."""
    return f"@{s.start}"


class Sections:
    """The state and helpers every section extractor shares: the sentences of one policy, the review items and the
    values drafted so far, and the sentences a rule quotes. ``Extractor`` (``_extract.py``) puts the sections together."""

    def __init__(self, text: str, sentences: list[Sentence]) -> None:
        self.text = text
        self.lines = sentences  # headings included
        self.sentences = [s for s in sentences if s.kind != "heading" and not is_toc(s.text)]
        self.items: list[Item] = []
        self.used: dict[int, tuple[Sentence, str]] = {}  # sentence start -> (sentence, tag) quoted by a rule
        self.leads = list_leads(sentences)  # sentence start -> start of the sentence leading its list

    def find(self, pattern: str, within: Iterable[Sentence] | None = None) -> list[Sentence]:
        rx = re.compile(pattern, re.IGNORECASE)
        return [s for s in (within if within is not None else self.sentences) if rx.search(s.text)]

    def first(self, pattern: str, within: Iterable[Sentence] | None = None) -> Sentence | None:
        found = self.find(pattern, within)
        return found[0] if found else None

    def emit(self, path: str, value: Any, s: Sentence | None, confidence: float, tag: str, note: str = "") -> None:
        self.items.append(Item(path, value, s.text if s else None, s.start if s else None, s.end if s else None,
                               confidence, note))
        if s is not None:
            self.used.setdefault(s.start, (s, tag))

    def silent(self, path: str, note: str) -> str:
        self.items.append(Item(path, UNSPEC, None, None, None, 0.0, note))
        return UNSPEC

    def forced(self, path: str, value: Any, s: Sentence | None, tag: str, note: str) -> Any:
        """A value the pack format requires although the text does not state it: flagged, low confidence."""
        self.items.append(Item(path, value, s.text if s else None, s.start if s else None, s.end if s else None,
                               0.2, "NOT STATED: the pack format needs a value here; confirm or fix. " + note))
        if s is not None:
            self.used.setdefault(s.start, (s, tag))
        return value

    def context(self, s: Sentence) -> str:
        """The sentence, with the one before when it starts in lower case (a line break cut it in the seed)."""
        i = self.lines.index(s)
        if s.text[:1].islower() and i > 0:
            return self.lines[i - 1].text + " " + s.text
        return s.text

    def example_only(self, s: Sentence) -> bool:
        """Is ``s`` one item of a list its lead-in offers as examples ("may be used for various purposes such as to:")?"""
        lead = self.leads.get(s.start, s.start)
        if lead == s.start:
            return False
        head = next((x for x in self.sentences if x.start == lead), None)
        return head is not None and re.search(r"\bsuch as\b|\bfor example\b|\be\.g\.", head.text, re.IGNORECASE) is not None

    def following(self, s: Sentence, n: int) -> list[Sentence]:
        """``s`` and the sentences after it, ``n`` in all (fewer at the end of the text)."""
        idx = self.sentences.index(s)
        return self.sentences[idx: idx + n]

    def window(self, s: Sentence, n: int) -> str:
        """The text of ``s`` and of the sentences after it, ``n`` in all, as one string."""
        return " ".join(x.text for x in self.following(s, n))

    def rule(self, s: Sentence, tag: str, **values: Any) -> dict[str, Any]:
        self.used.setdefault(s.start, (s, tag))
        return {**values, "promises": [ref(s)], "quote": s.text}
