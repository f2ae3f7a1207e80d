"""Section extractors for who and what the policy is: its dates, the controller, the governing language,
how it is accepted, and how to reach the company."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ._sections import UNSPEC, Item, Sections, ref
from ._text import Sentence
from ._values import DATE, parse_date

__all__ = ["IdentitySections"]


class IdentitySections(Sections):
    """The sections ``version``, ``controller``, ``prevailing_language``, ``acceptance`` and ``contacts``."""

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
                dm = DATE.search(s.text)
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
