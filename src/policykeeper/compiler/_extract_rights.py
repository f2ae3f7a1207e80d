"""Section extractors for the person's rights: rights, requests (verification, deadlines, fees,
refusal), minors and automated decisions."""

from __future__ import annotations

import re
from typing import Any

from ._lexicon import RIGHT_RULES
from ._sections import UNSPEC, Item, Sections, ref
from ._text import Sentence
from ._values import LAWFUL_GROUNDS, REFUSAL_DISCRETIONARY, parse_age, parse_duration

__all__ = ["RightsSections"]


class RightsSections(Sections):
    """The sections ``rights``, ``requests``, ``minors`` and ``automated_decisions``."""

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
            window = self.following(refusal, 12)
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

    def automated_decisions(self) -> Any:
        s = self.first(r"\bautomat\w+ decision|\bsolely (?:by )?automat|\bautomatic decision")
        if s is None:
            return self.silent("automated_decisions", "the text says nothing about automated decisions")
        window = self.window(s, 2)
        out = self.rule(s, "automated-decision", trigger="significant_effect_on_rights",
                        explanation_on_request=bool(re.search(r"\bexplain|\bexplanation", window, re.IGNORECASE)),
                        remedy=bool(re.search(r"\bcomplain|\bremed|\bappeal|\brefuse", window, re.IGNORECASE)))
        self.emit("automated_decisions", "stated", s, 0.6, "automated-decision")
        return out
