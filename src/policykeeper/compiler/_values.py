"""Reading values out of a sentence's words: periods, ages, dates, lawful bases, negations, what happens
to data at the end, and the word tables several section extractors share. Rules only (see _lexicon.py for where
each list came from)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ._lexicon import NUMBER_WORDS

__all__ = ["CHANNEL_WORDS", "DATE", "LAWFUL_GROUNDS", "REFUSAL_DISCRETIONARY", "end_action", "legal_basis", "negated",
           "parse_age", "parse_date", "parse_duration"]


_NUM = r"(\d{1,4}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"


_DURATION = re.compile(
    _NUM + r"\s*(?:\(\s*\d{1,4}\s*\)\s*)?(?:-\s*)?(working|business|calendar|natural)?\s*(days?|months?|years?|hours?)\b",
    re.IGNORECASE,
)


_UNITS = {"day": "calendar_days", "month": "months", "year": "years", "hour": "hours"}


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def parse_duration(text: str) -> dict[str, Any] | None:
    """'within fifteen (15) working days' -> {value: 15, unit: business_days}; None when no period is written."""
    m = _DURATION.search(text)
    if not m:
        return None
    value = _number(m.group(1))
    unit = _UNITS[m.group(3).lower().rstrip("s")]
    if unit == "calendar_days" and (m.group(2) or "").lower() in ("working", "business"):
        unit = "business_days"
    out: dict[str, Any] = {"value": value, "unit": unit}
    hedge = re.search(r"\b(in general|generally|in principle|usually|normally)\b", text, re.IGNORECASE)
    if hedge:
        out["qualifier"] = hedge.group(1).lower()
    return out


_AGE = re.compile(r"\b(?:under|below|younger than|less than)\s+(?:the\s+age\s+of\s+)?(?:age\s+)?" + _NUM +
                  r"(?:\s*\(\s*\d+\s*\))?(?:\s+years)?", re.IGNORECASE)


_AGE2 = re.compile(r"\b(?:aged?|age of)\s+" + _NUM + r"\s+(?:or|and)\s+(?:under|below|younger)", re.IGNORECASE)


def parse_age(text: str) -> int | None:
    """'under the age of fourteen' -> 14; 'aged 13 or under' -> 14 (people under 14)."""
    m = _AGE.search(text)
    if m:
        n = _number(m.group(1))
        return n if 1 <= n <= 25 else None
    m = _AGE2.search(text)
    if m:
        n = _number(m.group(1)) + 1
        return n if 1 <= n <= 25 else None
    return None


_NEG = r"\b(?:not|never|no|don't|won't|doesn't|cannot|can't|nor)\b(?:\s+\w+){0,3}?\s+"


_BASES: tuple[tuple[str, str], ...] = (
    ("separate_consent", r"\bseparate (?:[\w']+ ){0,4}consent"),
    ("explicit_consent", r"\bexplicit(?:ly)? (?:\w+ )?(?:consent|authori[sz])"),
    ("parental_consent", r"\b(?:parent|guardian)\w*'?s? (?:\w+ )?consent"),
    ("consent", r"\b(?:with|upon|after obtaining|based on) your (?:prior )?(?:consent|permission)|"
                r"\bif you (?:agree|consent)|\byou have (?:agreed|consented)|\bthey agreed to receive"),
    ("contract", r"\b(?:perform|fulfil+|performance of|necessary for) (?:\w+ ){0,3}contract|\bcontract performance"),
    ("legal_obligation", r"\b(?:comply|compliance) with (?:\w+ ){0,3}(?:laws?|legal|regulat|court)|\brequired by law|"
                         r"\blegal (?:obligations?|requirements)"),
    ("legitimate_interest", r"\blegitimate interests?"),
    ("vital_interest_emergency", r"\bemergenc\w+ (?:that )?threat|\blife, health,? or (?:property|safety)"),
    ("public_interest", r"\bpublic interest"),
)


def legal_basis(text: str) -> str | None:
    """The lawful basis a purpose's sentence states in so many words, or None ("to comply with legal obligations"
    -> legal_obligation; "with your consent" -> consent). A negated consent ("without your consent") states none."""
    if re.search(r"\bwithout (?:\w+ ){0,3}(?:consent|authori[sz]ation)", text, re.IGNORECASE):
        return None
    for basis, pat in _BASES:
        if re.search(pat, text, re.IGNORECASE):
            return basis
    return None


def negated(text: str, verb: str) -> bool:
    """Is ``verb`` (a regex) negated in the text ('we do not sell', 'will not actively share')?"""
    return re.search(_NEG + r"(?:" + verb + r")", text, re.IGNORECASE) is not None


_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                         "september", "october", "november", "december"], start=1)}


DATE = re.compile(
    r"(?P<mdy>(?P<m1>January|February|March|April|May|June|July|August|September|October|November|December)\s+"
    r"(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4}))|(?P<dmy>(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>January|February|March|April|May|June|July|"
    r"August|September|October|November|December),?\s+(?P<y2>\d{4}))|(?P<ymd>(?P<y3>\d{4})[/.\-年](?P<m3>\d{1,2})"
    r"[/.\-月](?P<d3>\d{1,2}))",
    re.IGNORECASE,
)


def parse_date(text: str) -> dt.date | None:
    m = DATE.search(text)
    if not m:
        return None
    try:
        if m.group("mdy"):
            return dt.date(int(m.group("y1")), _MONTHS[m.group("m1").lower()], int(m.group("d1")))
        if m.group("dmy"):
            return dt.date(int(m.group("y2")), _MONTHS[m.group("m2").lower()], int(m.group("d2")))
        return dt.date(int(m.group("y3")), int(m.group("m3")), int(m.group("d3")))
    except ValueError:
        return None


def end_action(text: str) -> str:
    """What a sentence says happens to data at the end: delete, anonymize, either, or unspecified."""
    delete = re.search(r"\bdelet|\berase|\bdestroy", text, re.IGNORECASE)
    anon = re.search(r"\banonymi", text, re.IGNORECASE)
    if delete and anon:
        return "delete_or_anonymize"
    if delete:
        return "delete"
    if anon:
        return "anonymize"
    return "unspecified"


LAWFUL_GROUNDS: tuple[tuple[str, str], ...] = (
    ("national_security", r"\bnational security"),
    ("national_defense", r"\bnational defen[cs]e"),
    ("public_security", r"\bpublic (?:security|safety)"),
    ("public_health", r"\bpublic health"),
    ("major_public_interest", r"\b(?:major|significant) public interest"),
    ("criminal_proceedings", r"\bcriminal (?:investigation|proceeding|prosecution)|\bprosecution"),
    ("protect_vital_interests", r"\blife,? (?:health|property)|\bvital interests|\bmajor legitimate rights"),
    ("publicly_disclosed_by_subject", r"\bdisclosed to the public by (?:you|the subject)|\byou (?:have )?(?:voluntarily )?"
     r"(?:disclosed|made public)|\bpublicly disclosed by (?:you|yourself)"),
    ("lawfully_public_source", r"\blegally (?:and )?publicly disclosed|\bnews report|\bgovernment information disclosure"),
    ("contract_necessity", r"\bnecessary (?:for|to) (?:sign|perform|fulfil\w*) (?:a |the )?(?:\w+ )?contract"),
    ("litigation_dispute", r"\blitigation|\bdispute resolution"),
    ("administrative_or_judicial_request", r"\bjudicial|\badministrative (?:authorit|organ|request)|\bcourt order"),
    ("emergency_life_health_safety", r"\bemergency"),
    ("other_provided_by_law", r"\bother (?:circumstances|situations) (?:stipulated|provided) by (?:laws|law)"),
)
"""Lawful grounds by their usual words (hand-written from the pack's LawfulGround list)."""


REFUSAL_DISCRETIONARY: tuple[tuple[str, str], ...] = (
    ("unreasonably_repetitive", r"\brepeated|\brepetitive"),
    ("excessive_technical_means", r"\bexcessive technical|\btechnical means"),
    ("risk_to_others", r"\blegitimate rights and interests of others|\brisk to others|\brights of others"),
    ("impractical_backup_tapes", r"\bbackup tapes?|\bimpractical"),
)


CHANNEL_WORDS: tuple[tuple[str, str], ...] = (
    ("email", r"\be-?mails?\b"), ("push", r"\bpush\b"), ("sms", r"\bsms\b|\btext messages?"),
    ("announcement", r"\bannouncements?\b|\bnotices? on (?:our|the) (?:website|app)"), ("pop_up", r"\bpop-?ups?\b"),
    ("website", r"\bwebsite\b|\bthis page\b"), ("phone", r"\bphone calls?\b|\btelephone"), ("letter", r"\bletters?\b"),
    ("in_app_message", r"\bin-app|\bsite message|\bstation message|\bmessage cent(?:er|re)"),
    ("version_update_prompt", r"\bupdating the version|\bversion update"),
)
