"""Section extractors for who gets the data and where it goes: processing without consent, default
sharing, recipients, corporate transactions, storage regions and transfers abroad."""

from __future__ import annotations

import re
from typing import Any

from ._lexicon import CATEGORY_RULES, COUNTRY_RULES, PURPOSE_RULES, RECIPIENT_RULES
from ._sections import Item, Sections, ref
from ._text import Sentence
from ._values import LAWFUL_GROUNDS, negated

__all__ = ["SharingSections"]


class SharingSections(Sections):
    """The sections ``processing_without_consent``, ``disclosures``, ``recipients``, ``corporate_transactions``,
    ``storage`` and ``transfers``."""

    def lawful_grounds(self) -> tuple[list[str], Sentence | None]:
        s = self.first(r"\bwithout (?:\w+ ){0,3}(?:consent|authori[sz]ation)|\bexceptions? to (?:obtaining )?(?:your )?"
                       r"(?:consent|authori)")
        if s is None:
            return [], None
        window = self.following(s, 14)
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
        window = self.window(s, 3)
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
