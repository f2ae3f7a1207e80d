"""Section extractors: each reads the sentences, emits pack values with the sentence they come from, or says
``unspecified`` with a review note. Rules only (see _lexicon.py for where each list came from)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._lexicon import (
    CATEGORY_RULES,
    COUNTRY_RULES,
    NUMBER_WORDS,
    PURPOSE_RULES,
    RECIPIENT_RULES,
    RIGHT_RULES,
    SECURITY_RULES,
)
from ._promises import is_toc, list_leads
from ._text import Sentence

__all__ = ["Extractor", "Item", "parse_age", "parse_duration", "ref"]

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


CATEGORY_PATTERN = {cid: pat for cid, pat, _k, _c, _o in CATEGORY_RULES}

_CONSENT_SCOPES: tuple[tuple[str, str], ...] = (
    ("minor_account", r"\b(?:parent|guardian)"),
    ("transfer", r"\bcross[- ]border|\boverseas|\babroad|\boutside (?:of )?(?:the )?(?:country|people's|china)"),
    ("public_disclosure", r"\bpublic(?:ly)? disclos"),
    ("identity_to_partners", r"\bidentif\w+ (?:\w+ ){0,4}(?:with|to) (?:\w+ )?partners|\bpersonal identity"),
    ("third_party_provision", r"\b(?:shar|provid|transfer|disclos)\w* (?:\w+ ){0,5}(?:with|to) (?:\w+ ){0,2}(?:third|other) "
                              r"part|\bthird part\w* (?:\w+ ){0,6}(?:consent|authori[sz])"),
    ("marketing", r"\bmarketing|\bpromotion|\badvertis|\bnewsletter"),
    ("new_purpose", r"\b(?:other|new|different) purposes?|\bpurposes? (?:not|other than|beyond)|\bchange the purpose"),
    ("os_permission", r"\b(?:device|system|phone) permissions?|\bpermissions? (?:of|for) (?:your )?(?:camera|location|"
                      r"microphone|photos|album|contacts)"),
    ("sensitive_data", r"\bsensitive"),
)
"""What a consent sentence asks consent for, by its words (hand-written from the pack's ConsentRule scopes). A
sentence gets the first scope it matches, in this order."""


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
_DATE = re.compile(
    r"(?P<mdy>(?P<m1>January|February|March|April|May|June|July|August|September|October|November|December)\s+"
    r"(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4}))|(?P<dmy>(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>January|February|March|April|May|June|July|"
    r"August|September|October|November|December),?\s+(?P<y2>\d{4}))|(?P<ymd>(?P<y3>\d{4})[/.\-年](?P<m3>\d{1,2})"
    r"[/.\-月](?P<d3>\d{1,2}))",
    re.IGNORECASE,
)


def parse_date(text: str) -> dt.date | None:
    m = _DATE.search(text)
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


class Extractor:
    """Runs over the sentences of one policy and collects pack values and review items."""

    def __init__(self, text: str, sentences: list[Sentence]) -> None:
        self.text = text
        self.lines = sentences  # headings included
        self.sentences = [s for s in sentences if s.kind != "heading" and not is_toc(s.text)]
        self.items: list[Item] = []
        self.used: dict[int, tuple[Sentence, str]] = {}  # sentence start -> (sentence, tag) quoted by a rule
        self.leads = list_leads(sentences)  # sentence start -> start of the sentence leading its list

    # -- helpers --------------------------------------------------------------------------------------------
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

    def rule(self, s: Sentence, tag: str, **values: Any) -> dict[str, Any]:
        self.used.setdefault(s.start, (s, tag))
        return {**values, "promises": [ref(s)], "quote": s.text}

    # -- identity -----------------------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        found: dict[str, tuple[dt.date, Sentence]] = {}
        for key, pat in (("updated_date", r"\b(?:updated|update date|last (?:updated|revised)|revised)\b"),
                         ("effective_date", r"\beffective\b")):
            for s in self.find(pat, self.lines):
                d = parse_date(s.text)
                if d is not None:
                    found[key] = (d, s)
                    break
        for key in ("updated_date", "effective_date"):
            if key in found:
                d, s = found[key]
                out[key] = d.isoformat()
                self.emit(f"version.{key}", d.isoformat(), s, 0.9, "change")
                dm = _DATE.search(s.text)
                before = s.text[: dm.start()].strip(" :：•·-–") if dm else ""
                if key == "updated_date" and 0 < len(before) <= 40:
                    out["date_heading"] = before
            else:
                out[key] = self.silent(f"version.{key}", f"the text gives no {key.replace('_', ' ')}")
        out["label"] = out["updated_date"] if out["updated_date"] != UNSPEC else "undated"
        return out

    def controller(self) -> dict[str, Any]:
        s = self.first(r"\b(?:Co\.,? ?Ltd|Inc\.?|LLC|GmbH|Corporation|Limited|Ltd)\b")
        if s is not None:
            m = re.search(r"((?:[A-Z][\w&'’.-]*|\([A-Z][\w ]+\)|of|and)(?:[ ,]+(?:[A-Z][\w&'’.-]*|\([A-Z][\w ]+\)|of|and))*"
                          r"[ ,]+(?:Co\.,? ?Ltd\.?|Inc\.?|LLC|GmbH|Corporation|Limited|Ltd\.?))", s.text)
            if m:
                name = m.group(1).strip(" ,")
                name = re.sub(r"^(?:By|The|This|Thank you for choosing|Welcome to)\s+", "", name)
                self.emit("controller.legal_name", name, s, 0.7, "other")
                return {"legal_name": name, **self._jurisdiction()}
        s = self.first(r"\bprovided by \(?([A-Z][\w ]+)\)?|\bhereinafter (?:referred to as )?")
        if s is not None:
            m = re.search(r"provided by \(?([A-Z][\w&' ]+?)\)?[ ,.(]", s.text)
            if m:
                self.emit("controller.legal_name", m.group(1), s, 0.5, "other", "a trade name, not a legal name")
                return {"legal_name": m.group(1), **self._jurisdiction()}
        self.silent("controller.legal_name", "no company name found: fill in the controller's legal name")
        return {"legal_name": UNSPEC, **self._jurisdiction()}

    def _jurisdiction(self) -> dict[str, Any]:
        s = self.first(r"\b(?:established|incorporated|governed) (?:in accordance with|under|by) the laws of")
        if s is not None:
            for code, pat in (("CN", r"people's republic of china|\bchina\b"), ("US", r"united states"),
                              ("LA", r"\blao"), ("KR", r"korea")):
                if re.search(pat, s.text, re.IGNORECASE):
                    self.emit("controller.jurisdiction", code, s, 0.8, "other")
                    return {"jurisdiction": code}
        self.silent("controller.jurisdiction", "the text does not say under which law the controller is established")
        return {}

    def prevailing_language(self) -> Any:
        s = self.first(r"\b(?:version|language)\b.*\bprevail|\bprevail\w*\b.*\b(?:version|language)\b")
        if s is not None:
            self.emit("prevailing_language", "stated", s, 0.7, "other")
            return self.rule(s, "other")
        return self.silent("prevailing_language", "the text does not say which language version governs")

    def acceptance(self) -> dict[str, Any]:
        implied = self.first(r"\b(?:by (?:using|accessing)|(?:use|using) or continued use|continu\w+ to use)\b.*"
                             r"\b(?:agree|accept|consent|signify)")
        explicit = self.first(r"\b(?:click|tick|check)\w*\b.*\b(?:agree|accept)")
        decline = self.first(r"\bif you do not agree\b.*\b(?:do not|stop|not) (?:use|using|access)")
        out: dict[str, Any]
        if explicit is not None and implied is None:
            self.emit("acceptance.model", "explicit_click", explicit, 0.6, "consent")
            out = self.rule(explicit, "consent", model="explicit_click", recorded_on="explicit_action")
        elif implied is not None:
            self.emit("acceptance.model", "implied_by_use", implied, 0.8, "consent")
            out = self.rule(implied, "consent", model="implied_by_use", recorded_on="first_use")
        else:
            out = {"model": self.forced("acceptance.model", "implied_by_use", None, "consent",
                                        "the text does not say how the policy is accepted"),
                   "recorded_on": "first_use"}
        if decline is not None:
            self.emit("acceptance.decline_effect", "no_processing", decline, 0.7, "consent")
            out["decline_effect"] = "no_processing"
            out.setdefault("promises", []).append(ref(decline))
        else:
            out["decline_effect"] = self.silent("acceptance.decline_effect", "the text does not say what declining does")
        return out

    def contacts(self) -> dict[str, Any]:
        channels: list[dict[str, Any]] = []
        seen: set[str] = set()
        for s in self.sentences:
            for m in re.finditer(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", s.text):
                email = m.group(0).rstrip(".")
                if email.lower() not in seen:
                    seen.add(email.lower())
                    self.emit("contacts.channels", {"kind": "email", "value": email}, s, 0.95, "contact")
                    ch: dict[str, Any] = {"kind": "email", "value": email, "promises": [ref(s)]}
                    if re.search(r"data protection officer|\bDPO\b", s.text + " " + s.heading, re.IGNORECASE):
                        ch["role"] = "Data Protection Officer"
                    channels.append(ch)
            m2 = re.search(r"\b(?:Tel|Phone|Telephone|Hotline)\s*[:：]\s*(\+?[\d ()-]{6,})", s.text, re.IGNORECASE)
            if m2 and m2.group(1).strip() not in seen:
                seen.add(m2.group(1).strip())
                self.emit("contacts.channels", {"kind": "phone", "value": m2.group(1).strip()}, s, 0.9, "contact")
                channels.append({"kind": "phone", "value": m2.group(1).strip(), "promises": [ref(s)]})
            m3 = re.search(r"\b(?:Address|Postal address|Mailing address)\s*[:：]\s*(.{10,200})$", s.text, re.IGNORECASE)
            if m3 and m3.group(1) not in seen:
                seen.add(m3.group(1))
                self.emit("contacts.channels", {"kind": "postal", "value": m3.group(1)}, s, 0.8, "contact")
                channels.append({"kind": "postal", "value": m3.group(1), "promises": [ref(s)]})
        out: dict[str, Any]
        if channels:
            out = {"status": "present", "channels": channels}
        else:
            cs = self.first(r"\bcontact us\b|\bcontact information\b")
            self.items.append(Item("contacts.status", "missing", cs.text if cs else None, cs.start if cs else None,
                                   cs.end if cs else None, 0.8, "no email, phone or postal address found: add one"))
            out = {"status": "missing"}
            if cs is not None:
                out.update(self.rule(cs, "contact"))
        complaint = self.first(r"\bcomplain\w*")
        if complaint is not None and not re.search(r"authorit|regulator", complaint.text, re.IGNORECASE):
            c: dict[str, Any] = {"internal_channel": True, "promises": [ref(complaint)]}
            if re.search(r"\bpromptly\b", complaint.text, re.IGNORECASE):
                c["response"] = "promptly"
            self.emit("contacts.complaints", c.get("response", "internal channel"), complaint, 0.6, "contact")
            out["complaints"] = c
        return out

    # -- data, purposes, collection -------------------------------------------------------------------------
    def categories(self, collect_sentences: list[Sentence]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for cid, pat, key, cls, origin in CATEGORY_RULES:
            s = next((x for x in self.find(pat, collect_sentences)
                      if not negated(x.text, r"use|collect|obtain|gather|store|process")), None)
            if s is None:
                continue  # not named, or named only to say it is not collected
            m = re.search(pat, s.text, re.IGNORECASE)
            name = m.group(0) if m else cid
            cat: dict[str, Any] = {"id": cid, "name": name[:1].upper() + name[1:], "fides_key": key, "classes": [cls],
                                   "personal": True, "origin": origin, "promises": [ref(s)], "quote": s.text}
            if cid in ("email", "phone", "name", "postal_address", "government_id"):
                cat["identifying"] = True
            if cid in ("health", "biometric", "government_id", "precise_location"):
                cat["sensitive_kinds"] = [{"health": "health", "biometric": "biometric",
                                           "government_id": "identity_document",
                                           "precise_location": "precise_location"}[cid]]
            self.emit(f"data_categories.{cid}", key, s, 0.7, "collection")
            out.append(cat)
        if not out:
            s = self.first(r"\bpersonal (?:information|data)\b")
            self.forced("data_categories", "user", s, "collection", "no specific kind of data found; a generic "
                        "'personal information' category stands in")
            cat = {"id": "personal_information", "name": "Personal information", "fides_key": "user",
                   "classes": ["personal"], "personal": True, "origin": "user_provided", "source_status": "inferred"}
            if s is not None:
                cat.update(promises=[ref(s)], quote=s.text)
            out.append(cat)
        return out

    def consents(self) -> list[dict[str, Any]]:
        """One consent per scope the text asks consent for ("we will obtain your separate consent before ...")."""
        out: list[dict[str, Any]] = []
        pool = [x for x in self.find(r"\bconsent|\bauthori[sz]ation|\bpermission")
                if not re.search(r"\bwithout (?:\w+ ){0,4}(?:consent|authori[sz]ation)|\bdifficult to obtain|"
                                 r"\bnot (?:need|required) (?:\w+ ){0,3}consent|\b(?:recommend|suggest|encourage)\w*\b",
                                 x.text, re.IGNORECASE)  # advice to the reader is no consent the company asks
                and not is_toc(x.text) and not x.text.rstrip().endswith("?")]
        withdraw = self.first(r"\bwithdraw\w* (?:\w+ ){0,4}(?:consent|authori[sz]ation)", pool)
        chosen: dict[str, Sentence] = {}
        for x in pool:
            if not re.search(r"\b(?:obtain|ask|seek|request|get|require|with|upon|after|unless|prior|your|separate|"
                             r"explicit\w*)\b[^.]{0,40}\b(?:consent|authori[sz]ation|permission)", x.text, re.IGNORECASE):
                continue
            scope_ = next((sc for sc, pat in _CONSENT_SCOPES if re.search(pat, x.text, re.IGNORECASE)), None)
            if scope_ is not None:
                chosen.setdefault(scope_, x)
        for scope, _pat in _CONSENT_SCOPES:
            if scope not in chosen:
                continue
            s = chosen[scope]
            if scope == "minor_account":
                kind = "parental_verifiable"
            elif scope == "os_permission":
                kind = "os_permission"
            elif re.search(r"\bseparate (?:[\w']+ ){0,4}consent", s.text, re.IGNORECASE):
                kind = "separate"
            elif re.search(r"\bexplicit(?:ly)? (?:\w+ )?(?:consent|authori[sz])", s.text, re.IGNORECASE):
                kind = "explicit"
            else:
                kind = "opt_in"
            rule = self.rule(s, "consent", id=scope, scope=scope, type=kind)
            own_withdraw = re.search(r"\bwithdraw", s.text, re.IGNORECASE)
            rule["withdrawable"] = True if own_withdraw else UNSPEC
            rule["withdrawal_effect"] = UNSPEC
            note = "" if own_withdraw else "withdrawal is not stated in this sentence" + (
                f"; the policy says elsewhere: {withdraw.text[:120]!r}" if withdraw is not None else "")
            if kind == "opt_in":
                self.forced(f"consents.type={scope}", kind, s, "consent", "the sentence asks consent but does not say "
                            "of which kind (explicit, separate...); opt_in is the weakest form the format has. " + note)
            else:
                self.emit(f"consents.type={scope}", kind, s, 0.5, "consent", note)
            out.append(rule)
        if not out:
            self.silent("consents", "the text asks no consent for a named scope")
        return out

    def purposes(self, categories: list[dict[str, Any]]) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        candidates = self.find(r"\b(?:purposes?|use|used|using|process)\b|\bto (?:provide|improve|send|verify)")
        for pid, pat, use in PURPOSE_RULES:
            s = self.first(pat, candidates)
            if s is None:
                continue
            m = re.search(pat, s.text, re.IGNORECASE)
            name = (m.group(0) if m else pid).strip()
            item: dict[str, Any] = {"id": pid, "name": name[:1].upper() + name[1:], "data_use": use,
                                    "legal_basis": "unspecified", "categories": "any_declared",
                                    "promises": [ref(s)], "quote": s.text}
            if use.startswith("marketing") and re.search(r"\bconsent|\bagree", s.text, re.IGNORECASE):
                item["requires_consent"] = "opt_in"
            self.emit(f"purposes.{pid}", use, s, 0.6, "purpose")
            basis = legal_basis(s.text)
            if basis is None:
                self.silent(f"purposes.{pid}.legal_basis", "the purpose's sentence states no lawful basis")
            else:
                item["legal_basis"] = basis
                self.emit(f"purposes.{pid}.legal_basis", basis, s, 0.5, "purpose")
            named = [c["id"] for c in categories if c.get("source_status") != "inferred"
                     and re.search(CATEGORY_PATTERN[c["id"]], s.text, re.IGNORECASE)]
            if named:
                item["categories"] = named
                self.emit(f"purposes.{pid}.categories", named, s, 0.5, "purpose")
            else:
                self.items.append(Item(f"purposes.{pid}.categories", "any_declared", s.text, s.start, s.end, 0.3,
                                       "the purpose's sentence names no data category: any declared category may be "
                                       "used until a person narrows it"))
            items.append(item)
        out: dict[str, Any] = {}
        closed = self.first(r"\bonly (?:collect and )?use\b.*\bpurposes?\b|\bonly for the (?:following )?purposes|"
                            r"\b(?:not|never) (?:be )?used? .*\bother purposes|\bsolely for\b[^.]*\bpurposes|"
                            r"\bnot for other (?:uses|purposes)|\bother purposes\b[^.]*\b(?:consent|authori[sz])|"
                            r"\bpurposes? (?:not|other than) (?:described|stated|listed)|\bbeyond (?:the )?(?:stated|above)"
                            r" purposes?")
        if closed is not None:
            needs_consent = re.search(r"\bconsent|\bauthori[sz]", closed.text, re.IGNORECASE)
            out.update(self.rule(closed, "purpose", closed=True,
                                 undeclared="require_prior_consent" if needs_consent else "reject"))
            self.emit("purposes.closed", True, closed, 0.7, "purpose")
        else:
            out["closed"] = self.forced("purposes.closed", False, None, "purpose",
                                        "the text does not say whether other purposes are refused")
            out["undeclared"] = "reject"
        if not items:
            s = self.first(r"\bprovide\b.*\bservices?\b")
            self.forced("purposes.items", "essential.service", s, "purpose", "no purpose recognised; providing the "
                        "service stands in")
            item = {"id": "provide_services", "name": "Provide the service", "data_use": "essential.service",
                    "legal_basis": "unspecified", "categories": "any_declared"}
            if s is not None:
                item.update(promises=[ref(s)], quote=s.text)
            items.append(item)
        out["items"] = items
        return out

    def _requirement(self, cid: str, origin: str, text: str) -> tuple[str, str, str]:
        if origin == "auto_generated" or re.search(r"\bautomatically|\bcookies?\b", text, re.IGNORECASE):
            return "auto_collected", "not_applicable", ""
        if re.search(r"\bessential\b|\bmust provide|\brequired\b|\bneed to provide|\bnecessary information", text,
                     re.IGNORECASE):
            return "essential", "block_context", ""
        if re.search(r"\boptional|\bmay choose|\bvoluntar", text, re.IGNORECASE):
            return "optional", "no_effect", ""
        if re.search(r"\bpermission|\bauthori[sz]e", text, re.IGNORECASE):
            return "feature_required", "block_feature_only", ""
        return "optional", "no_effect", "NOT STATED whether this field is required"

    def collection(self, categories: list[dict[str, Any]], purposes: list[dict[str, Any]]) -> dict[str, Any]:
        """One context per heading whose sentences collect named data; whatever is left goes to one more context."""
        rules = {cid: re.compile(pat, re.IGNORECASE) for cid, pat, _k, _c, _o in CATEGORY_RULES}
        origin = {c["id"]: str(c.get("origin", "")) for c in categories}
        collecting = self.find(r"\bcollect|\bprovide (?:us|the following|your)|\bneed to provide|\bregist|"
                               r"\bwe (?:will |may )?(?:obtain|access|receive|gather)|\bessential\b|\boptional\b")
        groups: dict[str, list[Sentence]] = {}
        for sent in collecting:
            if sent.heading:
                groups.setdefault(sent.heading, []).append(sent)
        contexts: list[dict[str, Any]] = []
        placed: set[str] = set()
        ids: set[str] = set()
        for heading, sents in groups.items():
            fields: list[dict[str, Any]] = []
            for cid in origin:
                where = next((x for x in sents if rules[cid].search(x.text)), None) if cid in rules else None
                if where is None or any(f["category"] == cid for f in fields):
                    continue
                req, refusal, note = self._requirement(cid, origin[cid], where.text)
                self.items.append(Item(f"collection.{heading[:30]}.{cid}", req, where.text, where.start, where.end,
                                       0.2 if note else 0.6, note))
                fields.append({"category": cid, "requirement": req, "on_refusal": refusal, "promises": [ref(where)]})
                self.used.setdefault(where.start, (where, "collection"))
                placed.add(cid)
            if not fields:
                continue
            key = re.sub(r"[^a-z0-9]+", "_", heading.lower()).strip("_")[:40].rstrip("_") or "context"
            if not key[0].isalpha():
                key = "context_" + key
            while key in ids:
                key += "_2"
            ids.add(key)
            own = [p["id"] for p in purposes if any(p.get("quote") == x.text for x in sents)]
            ctx_: dict[str, Any] = {"id": key, "name": heading, "purposes": own or [p["id"] for p in purposes],
                                    "fields": fields}
            ctx_.update(self.rule(sents[0], "collection"))
            contexts.append(ctx_)
        rest: list[dict[str, Any]] = []
        for cat in categories:
            if cat["id"] in placed:
                continue
            quote = str(cat.get("quote", ""))
            req, refusal, note = self._requirement(cat["id"], origin[cat["id"]], quote)
            self.items.append(Item(f"collection.fields.{cat['id']}", req, quote or None, None, None,
                                   0.2 if note else 0.6, note))
            rest.append({"category": cat["id"], "requirement": req, "on_refusal": refusal})
        if rest:
            contexts.append({"id": "other_collection", "name": "Other collection the policy describes",
                             "purposes": [p["id"] for p in purposes], "fields": rest})
        ctx = contexts[0]
        refusal_s = self.first(r"\bif you (?:do not|refuse to|don't) provide\b|\brefus\w+ (?:to )?(?:consent|provide)")
        if refusal_s is not None:
            ctx["refusal_notice"] = refusal_s.text
            ctx.setdefault("promises", []).append(ref(refusal_s))
            self.used.setdefault(refusal_s.start, (refusal_s, "collection"))
            self.emit("collection.contexts.refusal_notice", refusal_s.text, refusal_s, 0.7, "collection")
        self.items.append(Item("collection.contexts", [c["id"] for c in contexts], None, None, None, 0.3,
                               "one context per heading that names the data it collects: check the split and each "
                               "context's purposes"))
        out: dict[str, Any] = {"contexts": contexts, "channels": "unspecified"}
        minimum = self.first(r"\bminimum\b.*\bnecessary|\bonly (?:the )?(?:personal )?(?:information|data) necessary")
        if minimum is not None:
            out.update(self.rule(minimum, "collection", undeclared_fields="reject"))
            self.emit("collection.undeclared_fields", "reject", minimum, 0.6, "collection")
        else:
            out["undeclared_fields"] = self.forced("collection.undeclared_fields", "reject", None, "collection",
                                                   "the text states no minimisation rule")
        sensitive = self.first(r"\bsensitive (?:personal )?(?:information|data)\b.*\b(?:explicit consent|separate consent)")
        if sensitive is not None:
            out["sensitive_requires"] = "explicit_consent"
            self.emit("collection.sensitive_requires", "explicit_consent", sensitive, 0.6, "consent")
            out.setdefault("rules", []).append(self.rule(sensitive, "consent"))
        return out

    def lawful_grounds(self) -> tuple[list[str], Sentence | None]:
        s = self.first(r"\bwithout (?:\w+ ){0,3}(?:consent|authori[sz]ation)|\bexceptions? to (?:obtaining )?(?:your )?"
                       r"(?:consent|authori)")
        if s is None:
            return [], None
        idx = self.sentences.index(s)
        window = self.sentences[idx: idx + 14]
        grounds: list[str] = []
        for ground, pat in LAWFUL_GROUNDS:
            if any(re.search(pat, w.text, re.IGNORECASE) for w in window) and ground not in grounds:
                grounds.append(ground)
        return grounds, s

    def processing_without_consent(self) -> Any:
        grounds, s = self.lawful_grounds()
        if s is None or not grounds:
            return self.silent("processing_without_consent", "the text lists no grounds for processing without consent")
        self.emit("processing_without_consent.grounds", grounds, s, 0.6, "sharing")
        return self.rule(s, "sharing", grounds=grounds)

    # -- sharing -----------------------------------------------------------------------------------------------
    def disclosures(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        no_share = next((s for s in self.find(r"\b(?:share|sell|rent|transfer|provide)\b")
                         if negated(s.text, r"share|sell|rent|trade|(?:actively )?(?:share|transfer)")
                         and (re.search(r"third[- ]part|others|outside|other than", s.text, re.IGNORECASE)
                              or negated(s.text, r"sell|rent|trade"))), None)
        grounds, gs = self.lawful_grounds()
        if no_share is not None:
            rule = self.rule(no_share, "sharing", id="sharing", kind="share", default="deny")
            excs: list[dict[str, Any]] = []
            consent = self.first(r"\b(?:unless|except|without)\b.*\b(?:explicit|express|prior|your) consent|"
                                 r"\bunless you (?:agree|consent|authori[sz]e|explicitly)|"
                                 r"\bobtain\w* your (?:explicit |express |separate )?consent")
            if consent is not None:
                basis = "explicit_consent" if re.search(r"\bexplicit|\bexpress", consent.text, re.IGNORECASE) else "consent"
                excs.append(self.rule(consent, "consent", id="with_consent", basis=basis))
            if gs is not None and grounds:
                excs.append(self.rule(gs, "sharing", id="lawful_grounds", basis="lawful_ground", grounds=grounds))
            if excs:
                rule["exceptions"] = excs
            self.emit("disclosures.sharing", "deny", no_share, 0.7, "sharing",
                      "exceptions: " + (", ".join(e["basis"] for e in excs) or "none found"))
            out.append(rule)
        no_public = next((s for s in self.find(r"\bpublicly disclose|\bpublic disclosure")
                          if negated(s.text, r"(?:publicly )?disclose|(?:make|made) public")), None)
        if no_public is not None:
            out.append(self.rule(no_public, "sharing", id="public", kind="public_disclosure", default="deny"))
            self.emit("disclosures.public", "deny", no_public, 0.7, "sharing")
        if not out:
            self.silent("disclosures", "no default sharing posture found (e.g. 'we do not share...')")
        return out

    def recipients(self, disclosures: list[dict[str, Any]], categories: list[dict[str, Any]],
                   purposes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Kinds of recipient a sharing sentence names, with the purposes and categories that sentence states.

        A recipient whose sentence states no purpose is left out (the format needs one) and named in a note.
        """
        cat_rules = {cid: re.compile(pat, re.IGNORECASE) for cid, pat, _k, _c, _o in CATEGORY_RULES}
        purpose_rules = {pid: re.compile(pat, re.IGNORECASE) for pid, pat, _u in PURPOSE_RULES}
        declared_cats = [c["id"] for c in categories]
        declared_purposes = [p["id"] for p in purposes]
        deny = next((d for d in disclosures if d["kind"] == "share" and d["default"] == "deny"), None)
        deny_s = next((x for x in self.sentences if deny is not None and x.text == deny["quote"]), None)
        listed = deny_s is not None and re.search(r"\bexcept\b|\bunless\b", deny_s.text, re.IGNORECASE)
        out: list[dict[str, Any]] = []
        skipped: list[str] = []
        sharing = [x for x in self.sentences
                   if re.search(r"\b(?:share|shared|sharing|provide|disclose|transfer|entrust)\w*\b", x.text, re.I)
                   and not negated(x.text, r"share|provide|disclose|transfer|sell")]
        for rid, pat, category, third_party in RECIPIENT_RULES:
            s = self.first(pat, sharing)
            if s is None:
                continue
            own = [p for p in declared_purposes if purpose_rules.get(p) is not None and purpose_rules[p].search(s.text)]
            if not own:
                skipped.append(rid.replace("_", " "))
                continue
            cats = [c for c in declared_cats if c in cat_rules and cat_rules[c].search(s.text)]
            m = re.search(pat, s.text, re.IGNORECASE)
            name = m.group(0) if m else rid
            rec: dict[str, Any] = {"id": rid, "name": name[:1].upper() + name[1:], "category": category,
                                   "third_party": third_party, "categories": cats or "unspecified", "purposes": own}
            region = re.search(r"\bplace of processing:?\s*([A-Z]{2})\b", s.text)
            if region:
                rec["place_of_processing"] = region.group(1)
            if re.search(r"\bconfidentiality agreements?", s.text, re.IGNORECASE):
                rec["required_agreements"] = ["confidentiality"]
            if (listed and deny is not None and deny_s is not None and s.heading == deny_s.heading
                    and s.start > deny_s.start):
                rec["basis"] = "listed_exceptions"
                if not any(e["id"] == "listed_exceptions" for e in deny.get("exceptions", [])):
                    deny.setdefault("exceptions", []).append(
                        {"id": "listed_exceptions", "basis": "standing_recipients", "promises": [ref(s)]})
            out.append(self.rule(s, "sharing", **rec))
            self.emit(f"recipients.{rid}", {"category": category, "purposes": own}, s, 0.4, "sharing",
                      "check the categories it receives, its agreements and where it processes data")
        if skipped or not out:
            self.items.append(Item("recipients", [r["id"] for r in out], None, None, None, 0.0,
                                   ("not drafted because their sentence states no purpose: " + ", ".join(skipped))
                                   if skipped else "the text names no recipient of personal data"))
        return out

    def corporate_transactions(self) -> Any:
        s = self.first(r"\bmerger|\bacquisition|\bbankruptcy|\breorgani[sz]ation|\basset (?:transfer|sale)")
        if s is None:
            return self.silent("corporate_transactions", "the text says nothing about mergers or acquisitions")
        idx = self.sentences.index(s)
        window = " ".join(x.text for x in self.sentences[idx: idx + 3])
        if re.search(r"\bno less than|\bnot (?:be )?less", window, re.IGNORECASE):
            bound = "no_less_protective"
        elif re.search(r"\bpre-?existing", window, re.IGNORECASE):
            bound = "pre_existing_agreed_policy"
        elif re.search(r"\b(?:continue to be )?bound by this (?:privacy )?policy|\bcontinue to (?:be )?(?:subject to|"
                       r"comply with) this", window, re.IGNORECASE):
            bound = "this_policy"
        else:
            return self.silent("corporate_transactions", "a transaction is mentioned but not what binds the successor")
        events = [e for e, p in (("merger", r"\bmerger"), ("acquisition", r"\bacquisition"),
                                 ("bankruptcy", r"\bbankruptcy"), ("asset_transfer", r"\basset"),
                                 ("reorganization", r"\breorgani")) if re.search(p, window, re.IGNORECASE)]
        out = self.rule(s, "sharing", events=events, successor_bound_by=bound)
        if re.search(r"\binform|\bnotify", window, re.IGNORECASE):
            out["notify_subject"] = True
        if re.search(r"\bre-?obtain|\bask (?:for )?your (?:consent|authori)|\bseek your (?:consent|authori)", window,
                     re.IGNORECASE):
            out["otherwise"] = "reconsent"
        self.emit("corporate_transactions.successor_bound_by", bound, s, 0.6, "sharing")
        return out

    # -- where and how long ---------------------------------------------------------------------------------------
    def storage(self) -> Any:
        regions: list[str] = []
        quoted: Sentence | None = None
        for s in self.find(r"\bstor(?:e|ed|age)\b|\bservers?\b|\bcollected and generated\b"):
            for code, pat in COUNTRY_RULES:
                if re.search(pat, s.text, re.IGNORECASE) and code not in regions:
                    regions.append(code)
                    quoted = quoted or s
        if not regions or quoted is None:
            return self.silent("storage", "the text does not say where data is stored")
        self.emit("storage.home_regions", regions, quoted, 0.7, "transfer")
        return self.rule(quoted, "transfer", home_regions=regions)

    def transfers(self) -> Any:
        pat = r"\bcross[- ]border|\bacross borders|\boverseas|\babroad|\boutside (?:of )?(?:the )?(?:people's|china|" \
              r"mainland|your country|the country)|\bglobal transfer|\bother countries"
        sents = self.find(pat)
        if not sents:
            return self.silent("transfers", "the text says nothing about data leaving the country")
        no = next((s for s in sents if negated(s.text, r"transmit|transfer|store|provide|send")), None)
        pre_window = " ".join(s.text for s in sents)
        pres = [p for p, rx in (("consent", r"\bconsent|\bauthori[sz]"), ("security_assessment", r"\bsecurity assessment"),
                                ("de_identification", r"\bde-?identif|\banonymi"), ("inform", r"\binform|\bnotify"))
                if re.search(rx, pre_window, re.IGNORECASE)]
        if no is not None:
            out = self.rule(no, "transfer", cross_border="not_allowed")
            if re.search(r"\bcurrently\b", no.text, re.IGNORECASE):
                out["currently_active"] = False
            self.emit("transfers.cross_border", "not_allowed", no, 0.7, "transfer")
        else:
            s = sents[0]
            out = self.rule(s, "transfer", cross_border="allowed_with_preconditions")
            self.emit("transfers.cross_border", "allowed_with_preconditions", s, 0.5, "transfer")
        if pres:
            out["preconditions"] = pres
            self.emit("transfers.preconditions", pres, sents[-1], 0.5, "transfer")
        for s in sents:
            self.used.setdefault(s.start, (s, "transfer"))
            if ref(s) not in out["promises"]:
                out["promises"].append(ref(s))
        return out

    def retention(self) -> Any:
        rules: list[dict[str, Any]] = []
        sents = self.find(r"\bdelet\w* within|\banonymi\w* within|\bretain|\bretention|"
                          r"\bstor(?:e|age)\b.*\b(?:period|time|long|until|necessary)|"
                          r"\bkeep\b|\bpreserv|\bsave\b.*\bperiod|\bretained\b")
        for s in sents:
            d = parse_duration(s.text)
            duration: Any = None
            start = "collection"
            conf = 0.6
            if d is not None and not re.search(r"\bwithin\b.*\b(?:respond|reply|feedback|request)", s.text, re.IGNORECASE):
                duration = d
            elif re.search(r"\bshortest\b", s.text, re.IGNORECASE):
                duration, start = "shortest_necessary", "purpose_end"
            elif re.search(r"\bnecessary (?:to|for) (?:achieve|fulfil|realize|accomplish|provide)|\bnecessary for the "
                           r"purpose|\btime necessary|\bperiod necessary|\bas long as (?:necessary|needed|required)",
                           s.text, re.IGNORECASE):
                duration, start = "necessary_for_purpose", "purpose_end"
            elif re.search(r"\buntil you (?:delete|clear)", s.text, re.IGNORECASE):
                duration, start = "until_user_clears", "user_clear_action"
            if duration is None:
                continue
            if re.search(r"\bafter (?:you )?(?:close|cancel|delete|deregister)\w*|\b(?:account )?cancell?ation",
                         s.text, re.IGNORECASE):
                start = "account_cancelled"
            rule = self.rule(s, "retention", id=f"retention_{len(rules) + 1}", categories="all", duration=duration,
                             start=start, end_action=self._end_action(s.text))
            if re.search(r"\blaws?\b|\blegal|\bregulat", s.text, re.IGNORECASE):
                rule["legal_extension"] = True
            if start == "collection":
                conf = 0.4
                self.items.append(Item(f"retention.retention_{len(rules) + 1}.start", "collection", s.text, s.start,
                                       s.end, 0.2, "NOT STATED when the period starts; categories default to all"))
            self.emit(f"retention.retention_{len(rules) + 1}", duration, s, conf, "retention")
            rules.append(rule)
        if not rules:
            return self.silent("retention", "the text states no retention period")
        return rules

    @staticmethod
    def _end_action(text: str) -> str:
        delete = re.search(r"\bdelet|\berase|\bdestroy", text, re.IGNORECASE)
        anon = re.search(r"\banonymi", text, re.IGNORECASE)
        if delete and anon:
            return "delete_or_anonymize"
        if delete:
            return "delete"
        if anon:
            return "anonymize"
        return "unspecified"

    def erasure(self) -> Any:
        sents = [s for s in self.find(r"\bdelet|\berase|\banonymi") if not negated(s.text, r"delete|erase")]
        if not sents:
            return self.silent("erasure", "the text does not say when data is deleted")
        out: dict[str, Any] = {"grounds": self.silent("erasure.grounds", "deletion grounds are not drafted")}
        ends = {self._end_action(s.text) for s in sents} - {"unspecified"}
        out["end_action"] = ends.pop() if len(ends) == 1 else "unspecified"
        if any(re.search(r"\bexcept as otherwise (?:provided|required)|\bunless (?:otherwise )?(?:required|provided) by|"
                         r"\blaws and regulations (?:otherwise )?(?:require|stipulate)", s.text, re.IGNORECASE) for s in sents):
            out["legal_hold_override"] = True
        out["triggers"] = [self.rule(s, "erasure") for s in sents[:6]]
        self.emit("erasure.end_action", out["end_action"], sents[0], 0.5, "erasure")
        return out

    def backups(self) -> Any:
        s = self.first(r"\bbackup|\bback-up")
        if s is None or not re.search(r"\bdelet|\bremov|\bpurg|\berase", s.text, re.IGNORECASE):
            return self.silent("backups", "the text does not say how deletion reaches backups")
        out = self.rule(s, "backup", erasure_covers_backups=True)
        if re.search(r"\bmay not (?:immediately|be immediately)|\bnot immediately", s.text, re.IGNORECASE):
            out["immediate_purge"] = False
        self.emit("backups.erasure_covers_backups", True, s, 0.5, "backup")
        return out

    # -- rights and requests -------------------------------------------------------------------------------------
    def rights(self) -> Any:
        rights: list[dict[str, Any]] = []
        pool = [s for s in self.sentences
                if re.search(r"\byou (?:can|may|have the right|are entitled|could)|\bright to\b|\brights?\b",
                             s.text + " " + s.heading, re.IGNORECASE)]
        for rtype, pat in RIGHT_RULES:
            s = self.first(pat, pool)
            if s is None:
                continue
            right: dict[str, Any] = {"type": rtype}
            channels = [c for c, p in (("settings", r"\bsettings?\b"), ("email", r"\be-?mail|@"),
                                       ("contact", r"\bcontact (?:us|information)")) if re.search(p, s.text, re.IGNORECASE)]
            if channels:
                right["channels"] = channels
            cond = re.search(r"\b(in some cases|where (?:applicable|permitted by law)|subject to applicable law)\b",
                             s.text, re.IGNORECASE)
            if cond:
                right["conditions"] = cond.group(1)
            rights.append(self.rule(s, "rights", **right))
            self.emit(f"rights.{rtype}", channels or "stated", s, 0.6, "rights")
        if not rights:
            return self.silent("rights", "the text states no rights of the person")
        return rights

    def requests(self) -> Any:
        out: dict[str, Any] = {}
        ver = self.first(r"\bverif\w+ (?:your |the requester's )?identity|\bidentity verification|\bprove (?:your )?identity")
        if ver is not None and re.search(r"\brequests?\b|\bapplications?\b", ver.text + " " + ver.heading, re.IGNORECASE):
            required = "may" if re.search(r"\bmay\b", self.context(ver), re.IGNORECASE) else "always"
            out["verification"] = self.rule(ver, "verification", required=required)
            self.emit("requests.verification.required", required, ver, 0.6, "verification")
        else:
            out["verification"] = self.silent("requests.verification", "the text does not say how requesters are verified")
        deadlines: list[dict[str, Any]] = []
        best: dict[str, tuple[int, Sentence, Any]] = {}
        for s in self.find(r"\b(?:respond|reply|feedback|process|handle|deal with|response)\w*\b"):
            if not re.search(r"\brequests?\b|\bapplications?\b|\bcomplaints?\b|\bopinions?\b|\bfeedback\b|"
                             r"\brights\b", s.text + " " + s.heading, re.IGNORECASE):
                continue
            kind = "complaint" if re.search(r"\bcomplain", s.text, re.IGNORECASE) else "rights_request"
            d: Any = parse_duration(s.text) if re.search(r"\bwithin\b", s.text, re.IGNORECASE) else None
            if d is None:
                if re.search(r"\b(?:applicable|relevant) laws?|\blegal requirements|\btimelines? prescribed by|"
                             r"\bin accordance with (?:the )?law", s.text, re.IGNORECASE):
                    d = "per_applicable_law"
                elif re.search(r"\bpromptly\b", s.text, re.IGNORECASE):
                    d = "promptly"
                elif re.search(r"\bas soon as possible\b", s.text, re.IGNORECASE):
                    d = "asap"
            if d is None:
                continue
            rank = 0 if isinstance(d, dict) else 1  # a number in the text beats a word
            if kind not in best or rank < best[kind][0]:
                best[kind] = (rank, s, d)
        for kind, (_rank, s, d) in best.items():
            deadlines.append(self.rule(s, "deadline", id=f"{kind}s", applies_to=kind, duration=d))
            self.emit(f"requests.deadlines.{kind}", d, s, 0.7, "deadline")
        out["deadlines"] = deadlines or self.silent("requests.deadlines", "the text gives no reply deadline")
        fee = self.first(r"\bfree of charge|\bno (?:fee|charge)|\bnot charge|\bcharge (?:a )?(?:reasonable )?fee|\bfees?\b")
        if fee is not None and re.search(r"\brequests?\b|\bcopy\b|\baccess\b", fee.text + " " + fee.heading, re.IGNORECASE):
            f: dict[str, Any]
            if re.search(r"\bfree of charge|\bno (?:fee|charge)|\bnot charge", fee.text, re.IGNORECASE):
                f = {"default_fee": 0}
                q = re.search(r"\b(in principle|generally|in general|normally)\b", fee.text, re.IGNORECASE)
                if q:
                    f["default_qualifier"] = q.group(1).lower()
            else:
                f = {"default_fee": "unspecified"}
            if re.search(r"\bcost\b|\breasonable fee", fee.text, re.IGNORECASE):
                f["charge"] = "cost"
            if re.search(r"\brepeat", fee.text, re.IGNORECASE):
                f["repeat_threshold"] = "reasonable_limit"
            out["fees"] = self.rule(fee, "fee", **f)
            self.emit("requests.fees.default_fee", f["default_fee"], fee, 0.7, "fee")
        else:
            out["fees"] = self.silent("requests.fees", "the text does not say whether requests cost anything")
        refusal = self.first(r"\b(?:refuse|reject|not (?:be able to )?respond|unable to respond|decline)\b.*\brequests?|"
                             r"\brequests?\b.*\b(?:refuse|reject|not respond)")
        if refusal is not None:
            idx = self.sentences.index(refusal)
            window = self.sentences[idx: idx + 12]
            disc = [g for g, p in REFUSAL_DISCRETIONARY if any(re.search(p, w.text, re.IGNORECASE) for w in window)]
            mand = [g for g, p in LAWFUL_GROUNDS if any(re.search(p, w.text, re.IGNORECASE) for w in window)]
            out["refusal"] = self.rule(refusal, "refusal", discretionary=disc, mandatory=mand)
            self.emit("requests.refusal", {"discretionary": disc, "mandatory": mand}, refusal, 0.5, "refusal")
        else:
            out["refusal"] = self.silent("requests.refusal", "the text gives no grounds for refusing a request")
        if all(v == UNSPEC for v in out.values()):
            return UNSPEC
        return out

    def minors(self) -> Any:
        sents = self.find(r"\bminors?\b|\bchild(?:ren)?\b|\bunderage\b|\bunder the age\b|\bguardian")
        age_s = next((s for s in sents if parse_age(s.text) is not None), None)
        if age_s is None:
            if sents:
                self.items.append(Item("minors", UNSPEC, sents[0].text, sents[0].start, sents[0].end, 0.0,
                                       "minors are mentioned but no age threshold is given"))
                for s in sents:
                    self.used.setdefault(s.start, (s, "minors"))
                return UNSPEC
            return self.silent("minors", "the text says nothing about minors")
        threshold = parse_age(age_s.text)
        term = "child" if re.search(r"\bchild", age_s.text, re.IGNORECASE) else (
            "underage" if re.search(r"\bunderage", age_s.text, re.IGNORECASE) else "minor")
        window = " ".join(s.text for s in sents)
        if re.search(r"\b(?:cannot|can not|may not|not (?:allowed|permitted) to|unable to) (?:register|sign up|"
                     r"create an account|join)|\bnot (?:accept|allow) (?:registration|membership)", window, re.IGNORECASE):
            enforcement = "block_registration"
        elif re.search(r"\b(?:obtain|with|require|need)\w* (?:the )?(?:\w+ )?(?:consent|permission) of (?:their |your |a |"
                       r"the )?(?:parents?|guardians?)|\bparental consent|\b(?:parents?|guardians?)(?:'s|’s|') consent",
                       window, re.IGNORECASE) and not re.search(r"\bsuggest|\bencourage|\bshould", window, re.IGNORECASE):
            enforcement = "require_parental_consent"
        elif re.search(r"\bencourage|\bsuggest|\bshould|\bguid", window, re.IGNORECASE):
            enforcement = "advisory"
        else:
            enforcement = None
        self.emit("minors.threshold", threshold, age_s, 0.85, "minors")
        out = self.rule(age_s, "minors", threshold=threshold, term=term)
        if enforcement is None:
            out["enforcement"] = self.forced("minors.enforcement", "advisory", age_s, "minors",
                                             "the text does not say what happens for minors")
        else:
            out["enforcement"] = enforcement
            self.emit("minors.enforcement", enforcement, age_s, 0.5, "minors")
        discovery = self.first(r"\b(?:discover|find|learn|become aware)\w*\b.*\b(?:without|unverified)\b.*\b(?:consent|"
                               r"permission)", sents)
        if discovery is not None and re.search(r"\bdelet", discovery.text, re.IGNORECASE):
            out["on_unconsented_discovery"] = "delete"
            out["promises"].append(ref(discovery))
            self.used.setdefault(discovery.start, (discovery, "minors"))
            self.emit("minors.on_unconsented_discovery", "delete", discovery, 0.6, "minors")
        for s in sents:
            if s is not age_s and s is not discovery:
                self.used.setdefault(s.start, (s, "minors"))
                out["promises"].append(ref(s))
        return out

    # -- security, breach ------------------------------------------------------------------------------------------
    def security(self) -> Any:
        controls: list[dict[str, Any]] = []
        pool = self.find(r"\bsecur|\bprotect|\bencrypt|\bconfidential|\baccess|\btraining|\battack")
        for kind, pat in SECURITY_RULES:
            s = self.first(pat, pool)
            if s is None:
                continue
            controls.append(self.rule(s, "security", id=kind, kind=kind))
            self.emit(f"security.{kind}", kind, s, 0.6, "security")
        if not controls:
            return self.silent("security", "the text names no security measure")
        return controls

    def breach(self) -> Any:
        s = next((x for x in self.find(r"\bincidents?\b|\bbreach(?:es)?\b|\bleak(?:s|age)?\b")
                  if re.search(r"\b(?:inform|notify|notice to)\b (?:\w+ ){0,2}(?:you|users?|subjects?|the (?:personal "
                               r"information )?subjects?)", x.text, re.IGNORECASE)), None)
        if s is None:
            return self.silent("breach", "the text says nothing about security incidents")
        idx = self.sentences.index(s)
        window = " ".join(x.text for x in self.sentences[idx: idx + 4])
        out = self.rule(s, "breach", notify_subjects=bool(re.search(r"\binform|\bnotify|\bnotice", s.text, re.IGNORECASE)))
        fields = [f for f, p in (("basic_situation", r"\bbasic (?:situation|information)"),
                                 ("possible_impact", r"\bpossible (?:impact|consequences)|\bimpact"),
                                 ("measures_taken_or_planned", r"\bmeasures (?:we have taken|taken|that we)"),
                                 ("subject_prevention_advice", r"\bsuggestions?|\badvice|\bprevent and reduce"),
                                 ("remedies", r"\bremed")) if re.search(p, window, re.IGNORECASE)]
        if fields:
            out["content_fields"] = fields
        channels = [c for c, p in CHANNEL_WORDS if re.search(p, window, re.IGNORECASE) and c != "announcement"]
        if channels:
            out["channels"] = channels
        if re.search(r"\bannouncement|\bpublic notice", window, re.IGNORECASE):
            out["fallback_when_individual_notice_impractical"] = "public_announcement"
        if re.search(r"\breport\w*\b.*\b(?:regulat|authorit|competent department)", window, re.IGNORECASE):
            out["regulator_report"] = True
        self.emit("breach.notify_subjects", out["notify_subjects"], s, 0.6, "breach")
        return out

    # -- changes and the rest ----------------------------------------------------------------------------------------
    def changes(self, version: dict[str, Any]) -> dict[str, Any]:
        upd, eff = version.get("updated_date") != UNSPEC, version.get("effective_date") != UNSPEC
        out: dict[str, Any] = {"date_stamp": "updated_and_effective" if upd and eff else ("updated" if upd else "none")}
        sents = self.find(r"\b(?:update|change|revise|modif|amend)\w*\b.*\b(?:this|the|our) (?:privacy )?(?:policy|"
                          r"agreement|notice|statement)\b|\b(?:policy|version)\b.*\b(?:update|change|revis)\w*|\bmajor changes|"
                          r"\bsignificant changes|\bmaterial changes")
        near = list(dict.fromkeys(x for s in sents for x in self.sentences[self.sentences.index(s): self.sentences.index(s) + 3]))
        adv = next((s for s in near if parse_duration(s.text) and re.search(r"\bin advance|\bbefore|\bprior", s.text,
                                                                            re.IGNORECASE)
                    and re.search(r"\bnotif|\binform|\bnotice|\bpublish|\bpost", s.text, re.IGNORECASE)), None)
        if adv is not None:
            out["advance_notice"] = parse_duration(adv.text)
            self.emit("changes.advance_notice", out["advance_notice"], adv, 0.6, "change")
        else:
            out["advance_notice"] = self.silent("changes.advance_notice", "no advance notice period is stated")
        acc = next((s for s in self.find(r"\bcontinu\w* (?:to )?(?:use|using|access)")
                    if re.search(r"\bagree|\baccept|\bbound|\bconsent|\bacceptance", s.text, re.IGNORECASE)
                    and re.search(r"\bupdat|\bchang|\brevis|\bmodif|\bnew\b|\bafter", s.text, re.IGNORECASE)), None)
        if acc is not None:
            out["acceptance"] = ("continued_use_after_effective" if re.search(r"\beffective|\btakes? effect", acc.text,
                                                                                 re.IGNORECASE)
                                 else "continued_use_after_posting")
            self.emit("changes.acceptance", out["acceptance"], acc, 0.6, "change")
            sents = sents + [acc]
        else:
            out["acceptance"] = self.silent("changes.acceptance", "the text does not say how changes are accepted")
        channels = sorted({c for s in sents for c, p in CHANNEL_WORDS if re.search(p, s.text, re.IGNORECASE)})
        if channels:
            out["notice_channels"] = channels
        sig = next((s for s in sents if re.search(r"\bmajor|\bsignificant|\bmaterial", s.text, re.IGNORECASE)), None)
        if sig is not None:
            idx = self.sentences.index(sig)
            window = " ".join(x.text for x in self.sentences[idx: idx + 8])
            trig = [t for t, p in (("purposes", r"\bpurposes?\b"),
                                   ("data_types", r"\btypes? of (?:personal )?(?:information|data)"),
                                   ("use_methods", r"\b(?:methods?|ways?) of (?:use|using|processing)"),
                                   ("ownership_or_structure", r"\bownership|\borgani[sz]ational structure|\bmerger"),
                                   ("recipients", r"\brecipients?|\bmain objects"), ("rights", r"\byour rights"),
                                   ("security_contact_or_complaints", r"\bcomplaint|\bcontact (?:method|channel)"),
                                   ("high_risk_assessment", r"\brisk assessment"))
                    if re.search(p, window, re.IGNORECASE)]
            if trig:
                out["significant_triggers"] = trig
                self.emit("changes.significant_triggers", trig, sig, 0.5, "change")
        if re.search(r"\beffective date", " ".join(s.text for s in sents), re.IGNORECASE):
            out["show_effective_date"] = True
        out["rules"] = [self.rule(s, "change") for s in sents[:8]]
        if not sents:
            self.silent("changes", "the text does not say how the policy changes")
        return out

    def service_cessation(self) -> Any:
        s = self.first(r"\bcease\w*\b.*\b(?:operation|service|products?)|\bstop\w* (?:operating|operation|providing)|"
                       r"\bterminat\w+ (?:of )?(?:the )?(?:operation|services?)")
        if s is None:
            return self.silent("service_cessation", "the text says nothing about shutting the service down")
        idx = self.sentences.index(s)
        window = " ".join(x.text for x in self.sentences[idx: idx + 2])
        channels = [c for c, p in CHANNEL_WORDS if re.search(p, window, re.IGNORECASE)]
        end = self._end_action(window)
        if not channels or end == "unspecified":
            return self.silent("service_cessation", "a shutdown is mentioned, but not how people are told or what "
                               "happens to the data")
        within: Any = parse_duration(window) or ("reasonable_period" if re.search(r"\breasonable period", window,
                                                                                   re.IGNORECASE) else "unspecified")
        out = self.rule(s, "change", notify_channels=channels, end_action=end, within=within)
        self.emit("service_cessation", {"channels": channels, "end_action": end}, s, 0.6, "change")
        return out

    def marketing(self) -> Any:
        sents = self.find(r"\bmarketing|\badvertis|\bpromotion|\bnewsletter|\bunsubscribe|\bspecial offers")
        if not sents:
            return self.silent("marketing", "the text says nothing about marketing or advertising")
        out: dict[str, Any] = {}
        anchor = sents[0]
        no_ads = next((s for s in sents if negated(s.text, r"provide|show|display|serve|send|use")
                       and re.search(r"advertis", s.text, re.IGNORECASE)), None)
        if no_ads is not None:
            out["third_party_ads_in_app"] = False
            anchor = no_ads
            self.emit("marketing.third_party_ads_in_app", False, no_ads, 0.6, "marketing")
        targeted = self.first(r"\b(?:relevant|targeted|personali[sz]ed|interest-based|tailored) (?:\w+ )?(?:ads|advertis)",
                              sents)
        if targeted is not None and self.example_only(targeted):
            # an example of what something "may be used for, such as": not a statement that the company does it, and
            # targeted_ads = true unlocks personalised ads in the engine, so it needs a statement
            self.items.append(Item("marketing.targeted_ads", UNSPEC, targeted.text, targeted.start, targeted.end, 0.3,
                                   "targeted advertising is named only in a list of examples ('such as'); state "
                                   "whether the company serves targeted ads"))
        elif targeted is not None:
            out["targeted_ads"] = True
            self.emit("marketing.targeted_ads", True, targeted, 0.6, "marketing")
        unsub = self.first(r"\bunsubscribe|\bopt[- ]out|\bstop receiving", sents)
        if unsub is not None:
            out["opt_out_methods"] = [m for m, p in (("unsubscribe_link", r"\bunsubscribe link|\blink"),
                                                      ("settings", r"\bsettings"), ("contact", r"\bcontact us"),
                                                      ("reply", r"\breply")) if re.search(p, unsub.text, re.IGNORECASE)]
            self.emit("marketing.opt_out_methods", out["opt_out_methods"], unsub, 0.5, "marketing")
        optin = (self.first(r"\b(?:agreed|consent\w*|opt(?:ed)?[- ]in) to receive")
                 or self.first(r"\bwith your (?:prior )?consent", sents))
        if optin is not None:
            out["basis"] = "opt_in"
            self.emit("marketing.basis", "opt_in", optin, 0.5, "marketing")
        elif unsub is not None and re.search(r"\bunsubscribe|\bopt[- ]out of\b|\bstop receiving", unsub.text, re.I):
            out["basis"] = "opt_out"
            self.emit("marketing.basis", "opt_out", unsub, 0.4, "marketing")
        else:
            out["basis"] = self.silent("marketing.basis", "the text does not say whether marketing is opt-in or opt-out")
        out.update(self.rule(anchor, "marketing"))
        out["rules"] = [self.rule(s, "marketing") for s in sents[:8] if s is not anchor]
        return out

    def cookies(self) -> Any:
        sents = self.find(r"\bcookies?\b|\bweb beacons?|\bpixel tags?|\btracking technolog")
        if not sents:
            return self.silent("cookies", "the text does not mention cookies or similar technologies")
        window = " ".join(s.text for s in sents)
        no = next((s for s in sents if negated(s.text, r"use|place|set") and not re.search(r"\bthird", s.text, re.I)), None)
        out: dict[str, Any]
        if no is not None and len(sents) == 1:
            out = self.rule(no, "cookies", uses_tracking=False)
            self.emit("cookies.uses_tracking", False, no, 0.6, "cookies")
            return out
        out = self.rule(sents[0], "cookies", uses_tracking=True)
        self.emit("cookies.uses_tracking", True, sents[0], 0.8, "cookies")
        tech = [t for t, p in (("cookie", r"\bcookies?\b"), ("web_beacon", r"\bweb beacons?"), ("pixel_tag", r"\bpixel"),
                               ("tag", r"\btags\b"), ("script", r"\bscripts?\b"), ("local_storage", r"\blocal storage"),
                               ("html5_lso", r"\bhtml5|\blocal shared object"), ("advertising_id", r"\badvertising id"),
                               ("identifier", r"\bidentifiers?\b")) if re.search(p, window, re.IGNORECASE)]
        out["technologies"] = tech
        life = [lf for lf, p in (("session", r"\bsession\b"), ("persistent", r"\bpersistent")) if re.search(p, window, re.I)]
        if life:
            out["lifetimes"] = life
        controls = [c for c, p in (("browser_settings", r"\bbrowser(?:'s)? settings|\bsettings of (?:your )?browser|"
                                                       r"\binternet browser settings"),
                                   ("clear_cookies", r"\bclear (?:all )?cookies|\bdelete (?:all )?cookies"))
                    if re.search(p, window, re.IGNORECASE)]
        if controls:
            out["user_controls"] = controls
            self.emit("cookies.user_controls", controls, self.first(r"\bsettings|\bclear", sents), 0.6, "cookies")
        if re.search(r"\bthird[- ]part(?:y|ies)\b.*\bcookies|\bcookies\b.*\bthird[- ]part", window, re.IGNORECASE):
            out["third_party_allowed"] = True
        out["rules"] = [self.rule(s, "cookies") for s in sents[1:8]]
        return out

    def automated_decisions(self) -> Any:
        s = self.first(r"\bautomat\w+ decision|\bsolely (?:by )?automat|\bautomatic decision")
        if s is None:
            return self.silent("automated_decisions", "the text says nothing about automated decisions")
        idx = self.sentences.index(s)
        window = " ".join(x.text for x in self.sentences[idx: idx + 2])
        out = self.rule(s, "automated-decision", trigger="significant_effect_on_rights",
                        explanation_on_request=bool(re.search(r"\bexplain|\bexplanation", window, re.IGNORECASE)),
                        remedy=bool(re.search(r"\bcomplain|\bremed|\bappeal|\brefuse", window, re.IGNORECASE)))
        self.emit("automated_decisions", "stated", s, 0.6, "automated-decision")
        return out
