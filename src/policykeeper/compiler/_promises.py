"""Pick the sentences that make promises and tag them.

Two signals, both licence-clean:

* the cue patterns of ``_lexicon.TAG_RULES`` (hand-written);
* a small multinomial naive Bayes over words, trained at run time on the promise quotes and tags of the bundled
  packs (the project's own data). ``exclude`` leaves packs out, so the bench drafts each bundled policy with
  nothing learned from its own pack (leave-one-out).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ._lexicon import (
    ABOUT_THE_POLICY,
    BAYES_WEIGHT,
    COMMITMENT,
    HEADING_WEIGHT,
    LIST_MIN_CHARS,
    LIST_MIN_SCORE,
    NOT_A_PROMISE,
    PARTIES,
    PROMISE_MIN_CHARS,
    PROMISE_MIN_SCORE,
    TAG_RULES,
    TIE_MARGIN,
)
from ._text import Sentence

__all__ = ["Passage", "TaggedSentence", "TagModel", "group_passages", "is_toc", "list_leads", "pick_promises", "tag_model"]

_BINDING = re.compile(r"\b(?:shall|must|will)\b", re.IGNORECASE)  # binds someone even when it names no party
_TOC = re.compile(r"^(?:\d+[.,]\s*)?How (?:we|to|your|do)\b", re.IGNORECASE)
def is_toc(text: str) -> bool:
    """A line of a table of contents ('How we use cookies;', '8. The storage period of your information;')."""
    return len(text) < 90 and bool(_TOC.match(text) or re.match(r"^(?:The|Your) [\w ]+(?:information|data|policy);$", text))


_WORD = re.compile(r"[a-z][a-z'-]+")
_STOP = frozenset("the a an of and or to in on for with by is are be we our you your this that it as at from".split())
_RULES = {tag: tuple(re.compile(p, re.IGNORECASE) for p in pats) for tag, pats in TAG_RULES.items()}


@dataclass(frozen=True)
class TaggedSentence:
    sentence: Sentence
    tag: str
    confidence: float
    score: float
    lead: int = -1  # start of the sentence that leads the list this sentence belongs to (its own start if none)


@dataclass(frozen=True)
class Passage:
    """One drafted promise: a sentence, or a list's lead-in with its items (as the bundled catalogues fold lists)."""

    start: int
    end: int
    members: tuple[TaggedSentence, ...]
    tag: str
    confidence: float


def _tokens(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


@dataclass(frozen=True)
class TagModel:
    """Naive Bayes counts per tag (Laplace smoothing)."""

    counts: dict[str, Counter[str]]
    totals: dict[str, int]
    priors: dict[str, float]
    vocabulary: int

    def posterior(self, text: str) -> dict[str, float]:
        toks = _tokens(text)
        if not self.counts or not toks:
            return {}
        logp: dict[str, float] = {}
        for tag, c in self.counts.items():
            denom = self.totals[tag] + self.vocabulary
            logp[tag] = math.log(self.priors[tag]) + sum(math.log((c[t] + 1) / denom) for t in toks)
        top = max(logp.values())
        exp = {t: math.exp(v - top) for t, v in logp.items()}
        z = sum(exp.values())
        return {t: v / z for t, v in exp.items()}


@lru_cache(maxsize=8)
def tag_model(exclude: frozenset[str] = frozenset()) -> TagModel:
    """Train on the promise quotes and statements of every bundled pack not in ``exclude``."""
    from ..pack import bundled_pack_names, load_pack

    counts: dict[str, Counter[str]] = {}
    n: Counter[str] = Counter()
    for name in bundled_pack_names():
        if name in exclude:
            continue
        for p in load_pack(name).promises:
            counts.setdefault(p.tag, Counter()).update(_tokens(p.quote))
            n[p.tag] += 1
    vocab = len({t for c in counts.values() for t in c})
    total = sum(n.values()) or 1
    return TagModel(counts=counts, totals={t: sum(c.values()) for t, c in counts.items()},
                    priors={t: n[t] / total for t in counts}, vocabulary=max(vocab, 1))


def cue_scores(text: str) -> dict[str, float]:
    """How many cue patterns of each tag the text matches."""
    scores: dict[str, float] = {}
    for tag, pats in _RULES.items():
        hits = sum(1 for p in pats if p.search(text))
        if hits:
            scores[tag] = float(hits)
    return scores


def tag_sentence(text: str, model: TagModel, heading: str = "") -> tuple[str, float, float]:
    """(tag, confidence 0..1, promise score) of one sentence.

    The heading above the sentence adds HEADING_WEIGHT per cue hit, and breaks near ties (within TIE_MARGIN).
    """
    cues = cue_scores(text)
    post = model.posterior(text + " " + heading)
    combined: dict[str, float] = {}
    for tag, hits in cue_scores(heading).items():
        combined[tag] = HEADING_WEIGHT * hits
    for tag in set(cues) | set(post):
        combined[tag] = combined.get(tag, 0.0) + cues.get(tag, 0.0) + BAYES_WEIGHT * post.get(tag, 0.0)
    if not combined:
        return "other", 0.0, 0.0
    heading_cues = cue_scores(heading)
    best = max(combined, key=lambda t: (combined[t], t))
    close = [t for t in combined if combined[best] - combined[t] < TIE_MARGIN]
    if len(close) > 1 and any(t in heading_cues for t in close):
        best = max(close, key=lambda t: (heading_cues.get(t, 0.0), combined[t], t))
    total = sum(combined.values())
    confidence = combined[best] / total if total else 0.0
    score = sum(cues.values()) + 2.0 * max(post.values(), default=0.0)
    return best, round(confidence, 2), score


def pick_promises(sentences: list[Sentence], model: TagModel) -> list[TaggedSentence]:
    """Sentences that make a promise (obligation or permission words, enough cue weight), each tagged."""
    out: list[TaggedSentence] = []
    leads = list_leads(sentences)
    heads = {v for k, v in leads.items() if k != v}  # sentences that lead a list
    for s in sentences:
        if s.kind == "heading":
            continue
        lead = leads.get(s.start, s.start)
        # an item, a line of a list led by another sentence, or a lead-in ending in ':' (it says what its list is about)
        in_list = s.kind == "item" or lead != s.start or (s.start in heads and s.text.rstrip().endswith((":", "：")))
        if len(s.text) < (LIST_MIN_CHARS if in_list else PROMISE_MIN_CHARS) or s.text.rstrip().endswith("?"):
            continue
        if is_toc(s.text):
            continue  # a line of the table of contents
        if NOT_A_PROMISE.search(s.text):
            continue  # a definition or a disclaimer
        if not in_list and not COMMITMENT.search(s.text):
            continue
        if ABOUT_THE_POLICY.search(s.text):
            continue  # about the policy itself, or advice to the reader
        if not in_list and not PARTIES.search(s.text) and not _BINDING.search(s.text):
            continue  # names neither the company nor the reader, and binds no one
        tag, confidence, score = tag_sentence(s.text, model, s.heading)
        if score < (LIST_MIN_SCORE if in_list else PROMISE_MIN_SCORE):
            continue
        out.append(TaggedSentence(s, tag, confidence, score, lead))
    return out


LIST_LINE_MAX = 250
"""A line longer than this after a list ends the list (it is a paragraph of its own)."""

_BULLET = re.compile(r"^\s*(?:[-•◦*·▪●]|\(?\d{1,2}[.)）]|\(?[a-z][.)]|[ivx]+[.)])\s")


TITLE_MAX = 90
"""A line shorter than this with no closing punctuation is a section title: it ends a list."""

_GLUED = re.compile(r"[a-z][A-Z]|\d")  # a row of a flattened table ("OptionalGender"), not a title
_SYMBOL_BULLET = re.compile(r"^\s*[-•◦*·▪●]\s")


def list_leads(sentences: list[Sentence]) -> dict[int, int]:
    """For each sentence, the start of the sentence leading the list it belongs to (its own start if none).

    A list is a sentence ending in ':' followed by list items, or by lines of at most LIST_LINE_MAX characters; or
    a run of list items with no lead-in. A longer line, a heading (unless it starts with a bullet symbol, as
    short bullets the segmenter takes for headings do), or a short line with no closing punctuation (a section
    title) ends the list. Ending a list at the first unmarked line after marked items was tried: the bundled
    plain-text policies mix marked and unmarked lines within one list, and promise recall fell.
    """
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for s in sentences:
        first.setdefault(s.block, s.start)
        last[s.block] = s.end
    size = {b: last[b] - first[b] for b in first}
    leads: dict[int, int] = {}
    lead, active = -1, False
    prev: Sentence | None = None
    for s in sentences:
        if s.kind == "heading" and not _SYMBOL_BULLET.match(s.text):
            active, prev = False, None
            leads[s.start] = s.start
            continue
        new_block = prev is None or s.block != prev.block
        after_colon = prev is not None and prev.text.rstrip().endswith((":", "："))
        if (s.kind != "item" and new_block and not after_colon and len(s.text) < TITLE_MAX
                and not _GLUED.search(s.text) and not re.search(r"[:@/]", s.text)
                and not s.text.rstrip().endswith((".", ";", ":", "。", "；", "：", ")", ","))):
            active, prev = False, None  # a section title the segmenter left as a paragraph ("Your rights")
            leads[s.start] = s.start
            continue
        if s.kind == "item" or _BULLET.match(s.text):
            if not active:
                lead = prev.start if prev is not None and prev.text.rstrip().endswith((":", "：")) else s.start
                active = True
        elif new_block and prev is not None and prev.text.rstrip().endswith((":", "：")):
            lead, active = prev.start, True
        elif active and (not new_block or size.get(s.block, 0) <= LIST_LINE_MAX):
            pass  # the rest of an item, or a short line after it (plain-text lists mix marked and unmarked lines)
        else:
            lead, active = s.start, False
        leads[s.start] = lead if active else s.start
        prev = s
    return leads


def group_passages(picked: list[TaggedSentence], limit: int = 400) -> list[Passage]:
    """Fold each list into one promise: the lead-in sentence and its items, cut where the quote would pass ``limit``.

    The passage's tag is the tag with the most cue-and-model weight over its sentences (each sentence's score times
    its confidence goes to its own tag, the lead-in's LEAD_IN_WEIGHT times), so a list is tagged by what its lead-in
    and most of its items are about.
    """
    groups: dict[int, list[TaggedSentence]] = {}
    for t in sorted(picked, key=lambda t: t.sentence.start):
        groups.setdefault(t.lead if t.lead >= 0 else t.sentence.start, []).append(t)
    out: list[Passage] = []
    for lead, members in groups.items():
        chunk: list[TaggedSentence] = []
        start, first = lead, True
        for t in members:
            if chunk and t.sentence.end - start > limit:
                out.append(_passage(chunk, start))
                chunk, first = [], False
            if not chunk:
                # the first passage of a list quotes its lead-in, picked or not, when it fits
                start = lead if first and t.sentence.end - lead <= limit else t.sentence.start
            chunk.append(t)
        if chunk:
            out.append(_passage(chunk, start))
    return sorted(out, key=lambda p: p.start)


LEAD_IN_WEIGHT = 3.0
"""A list's lead-in says what the list is about ("you can request us to delete ... in the following situations:"):
its tag weighs this much more than an item's when the passage is tagged (tried 1, 2, 3, 5, 100: promise recall 0.811,
0.815, 0.819, 0.819, 0.811)."""


def _passage(chunk: list[TaggedSentence], start: int) -> Passage:
    weight: dict[str, float] = {}
    for t in chunk:
        lead_in = t.sentence.start == t.lead and len(chunk) > 1
        weight[t.tag] = weight.get(t.tag, 0.0) + t.score * max(t.confidence, 0.05) * (LEAD_IN_WEIGHT if lead_in else 1.0)
    tag = max(weight, key=lambda k: (weight[k], k == chunk[0].tag, k))
    total = sum(weight.values()) or 1.0
    confidence = min(t.confidence for t in chunk) if len(chunk) == 1 else round(weight[tag] / total, 2)
    return Passage(min(start, chunk[0].sentence.start), chunk[-1].sentence.end, tuple(chunk), tag, confidence)
