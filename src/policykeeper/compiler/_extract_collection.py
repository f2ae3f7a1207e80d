"""Section extractors for what is collected and why: data categories, consents, purposes and
collection contexts."""

from __future__ import annotations

import re
from typing import Any

from ._lexicon import CATEGORY_RULES, PURPOSE_RULES
from ._promises import is_toc
from ._sections import UNSPEC, Item, Sections, ref
from ._text import Sentence
from ._values import legal_basis, negated

__all__ = ["CollectionSections"]


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


class CollectionSections(Sections):
    """The sections ``data_categories``, ``consents``, ``purposes`` and ``collection``."""

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
