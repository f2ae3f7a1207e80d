"""Word lists and thresholds of the policy compiler, each with where it came from.

The keyword tables (tags, categories, purposes, rights, security measures, recipients, countries) are data, in
``lexicon.toml`` next to this module, in the order the compiler tries them; they are loaded here, at import.

Every list here was written by hand for this project (licence: the project's own), from the vocabulary of the
pack format (pack/_*.py), the tag list of PROMISES.md and the five bundled policies; the Fides keys are names from
the ``fideslang`` default taxonomy (Apache-2.0). Nothing here was derived from OPP-115, PolicyQA, APP-350 or any
other corpus whose licence forbids commercial use. docs/compiler.md repeats this.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

__all__ = [
    "AGE_WORDS",
    "BAYES_WEIGHT",
    "CATEGORY_RULES",
    "COMMITMENT",
    "COUNTRY_RULES",
    "HEADING_WEIGHT",
    "LIST_MIN_CHARS",
    "LIST_MIN_SCORE",
    "NOT_A_PROMISE",
    "ABOUT_THE_POLICY",
    "PARTIES",
    "NUMBER_WORDS",
    "PROMISE_MIN_CHARS",
    "PROMISE_MIN_SCORE",
    "PURPOSE_RULES",
    "RECIPIENT_RULES",
    "RIGHT_RULES",
    "SECURITY_RULES",
    "TAG_FAMILY",
    "TAG_RULES",
    "TIE_MARGIN",
]

TABLES_FILE = Path(__file__).with_name("lexicon.toml")
_TABLES = tomllib.loads(TABLES_FILE.read_text(encoding="utf-8"))

NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty-five": 45, "sixty": 60, "ninety": 90,
}
"""Numbers written in words, as policies write periods and ages ("within fifteen working days")."""

AGE_WORDS = NUMBER_WORDS

# -- promise detection ------------------------------------------------------------------------------------------

COMMITMENT = re.compile(
    r"\b(?:will|shall|must|may|can(?:not)?|won't|do not|does not|don't|never|only|promise|commit(?:ted)?|undertake|"
    r"ensure|agree|have the right|are entitled|right to|means that|signify|prohibit\w*|require[sd]?|retain\w*|"
    r"delete[sd]?|encrypt\w*|collect(?:s|ed)?|use[sd]?|shar(?:e|es|ed)|stored?|notify|inform|retained|limit|verify\w*|"
    r"protected|complain|request|comply|click|reset|edit|include[sd]?|withdraw|send|screen)\b",
    re.IGNORECASE,
)
"""Words of obligation or permission: a sentence without one makes no promise (hand-written)."""

NOT_A_PROMISE = re.compile(
    r"\brefers to\b|\bplease understand that\b|\bcannot guarantee\b|\bnot (?:completely|absolutely|100%) "
    r"secure\b|\byou should understand\b",
    re.IGNORECASE,
)
"""Definitions and disclaimers: they explain, they promise nothing (hand-written after reading the seeds)."""

ABOUT_THE_POLICY = re.compile(
    r"^(?:this|our|the) (?:privacy )?(?:policy|notice|statement) (?:governs|explains|describes|will help|sets out|"
    r"applies|is intended)|^(?:we hope|thank you for|please (?:\w+ )?(?:read|understand)|it is your responsibility)|"
    r"\bwe (?:encourage|invite|advise) (?:you|users)\b|\b(?:well aware of|recogni[sz]e) the importance\b|"
    r"\bdo (?:our|its|their) (?:utmost|best)\b|\b(?:continually |constantly )?strive to\b|"
    r"\brefer to the (?:corresponding|relevant) (?:\w+ )?guidelines|"
    r"^(?:our|this|the) (?:privacy )?(?:policy|notice) (?:may|is subject to) change\b|"
    r"^we may (?:revise|modify|update|amend|change)\b(?:,? (?:or )?\w+)*,? (?:the terms (?:of|in) )?(?:this|the|our) [\"“]?"
    r"(?:privacy )?(?:policy|notice)[\"”]? (?:from time to time|at any time)\.$",
    re.IGNORECASE,
)
"""Sentences about the policy itself, advice to the reader and statements of effort ("This Privacy Policy explains
how ...", "Please read this policy carefully", "we will do our utmost to ...", "We may revise this policy from time
to time" standing alone): they introduce, reassure or reserve a right, they promise nothing a test can check (the
promises about changes are how they are announced and accepted). Hand-written, from the usual wording of policies."""

PARTIES = re.compile(r"\b(?:we|us|our|ours|you|your|users?|customers?(?! service)|company|controller)\b|essential|optional",
                     re.IGNORECASE)
"""A sentence outside a list makes a promise only about the company or the reader; one naming neither ("Such
jurisdictions may have different laws", "Cookies usually contain identifiers") describes the world. A row of a
flattened table ("OptionalGender") names the field's requirement instead."""

PROMISE_MIN_CHARS = 30
"""A shorter sentence is a fragment or a label (chosen by reading the five seeds' shortest promises, 40+ chars)."""

LIST_MIN_CHARS = 12
"""A list item (or a line after a sentence ending in ':') may be shorter: it continues its lead-in sentence."""

LIST_MIN_SCORE = 1.0
"""Cue weight a list item needs (its lead-in already made the commitment)."""

BAYES_WEIGHT = 1.0
"""Weight of the naive Bayes probability next to the cue hits (tried 0, 0.5, 1, 4, 8 on the bench)."""

HEADING_WEIGHT = 0.0
"""Weight of each cue hit in the heading above a sentence ("Your Rights", "Cookies"), tried 0, 0.75, 1.5, 3."""

TIE_MARGIN = 0.25
"""Tags whose weights differ by less than this are a tie, broken by cue hits in the heading above the sentence
(tried 0.01, 0.1, 0.25, 0.5, 0.75, 1.0 on the bench: promise recall 0.785, 0.792, 0.789, 0.781, 0.766, 0.770)."""

PROMISE_MIN_SCORE = 1.0
"""Keyword score a sentence needs to be drafted as a promise (tuned on the five seeds; see docs/compiler.md)."""

TAG_RULES: dict[str, tuple[str, ...]] = {tag: tuple(cues) for tag, cues in _TABLES["tags"].items()}
"""Cue patterns per PROMISES.md tag (hand-written from the pack format's vocabulary)."""

TAG_FAMILY: dict[str, str] = dict(_TABLES["tag_families"])
"""Tag families for the bench: a drafted promise matches a hand-written one of the same family (docs/compiler.md)."""

# -- data categories (fides keys from the fideslang default taxonomy) ---------------------------------------------

CATEGORY_RULES: tuple[tuple[str, str, str, str, str], ...] = tuple(
    (cid, c["pattern"], c["fides_key"], c["class"], c["origin"]) for cid, c in _TABLES["categories"].items()
)
"""Data categories the compiler recognises: (id, pattern, fides key, class, origin) (hand-written; keys checked
against fideslang)."""

PURPOSE_RULES: tuple[tuple[str, str, str], ...] = tuple(
    (pid, p["pattern"], p["data_use"]) for pid, p in _TABLES["purposes"].items()
)
"""Purposes the compiler recognises: (id, pattern, Fides data use) (hand-written; keys checked against fideslang)."""

RIGHT_RULES: tuple[tuple[str, str], ...] = tuple(_TABLES["rights"].items())
"""Rights, by the words policies use for them (hand-written from the pack's RightType list)."""

SECURITY_RULES: tuple[tuple[str, str], ...] = tuple(_TABLES["security"].items())
"""Security measures, by their usual words (hand-written from the pack's SecurityControl kinds)."""

RECIPIENT_RULES: tuple[tuple[str, str, str, bool], ...] = tuple(
    (rid, r["pattern"], r["category"], r["third_party"]) for rid, r in _TABLES["recipients"].items()
)
"""Kinds of recipient: (id, pattern, pack recipient category, outside the controller) (hand-written from the pack's
RecipientCategory list)."""

COUNTRY_RULES: tuple[tuple[str, str], ...] = tuple(_TABLES["countries"].items())
"""Storage regions: 'stored in China' -> CN (hand-written)."""
