"""Assemble a draft pack from a policy's text: every value with its quote, the rest ``unspecified`` with a note."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .._exceptions import BadValueError
from ..pack import Pack, parse_pack
from ._extract import UNSPEC, Extractor, Item, negated, ref
from ._lexicon import ABOUT_THE_POLICY, COMMITMENT, PARTIES
from ._promises import group_passages, pick_promises, tag_model
from ._text import MAX_QUOTE, Sentence, Source, segment

__all__ = ["Draft", "DraftPromise", "draft_pack", "pack_id_for"]

_SECTION_ORDER = (
    "pack_format", "id", "name", "source_file", "promise_prefix", "version", "controller", "prevailing_language",
    "acceptance", "contacts", "data_categories", "purposes", "collection", "consents", "processing_without_consent", "recipients",
    "disclosures",
    "corporate_transactions", "storage", "transfers", "retention", "erasure", "backups", "rights", "requests", "minors",
    "security", "breach", "changes", "service_cessation", "marketing", "cookies", "automated_decisions",
    "source_issues", "promises",
)


@dataclass(frozen=True)
class DraftPromise:
    id: str
    tag: str
    start: int
    end: int
    quote: str
    confidence: float


@dataclass
class Draft:
    """The draft: its YAML text (comments hold the review notes), the validated pack and the review items."""

    source: Source
    yaml_text: str
    pack: Pack
    items: list[Item]
    promises: list[DraftPromise] = field(default_factory=list)


_OFFER = re.compile(r"\bcontact us\b|essential|optional", re.IGNORECASE)
"""An offer of a channel ("please contact us via email: ...") or a table row stating what is required: a promise
although it has no word of obligation."""


def pack_id_for(name: str) -> str:
    """A pack id from a file name: 'Acme Policy.html' -> 'acme_policy'."""
    stem = re.sub(r"\.(?:txt|md|markdown|html?|text)$", "", name, flags=re.IGNORECASE)
    key = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")
    if not key or not key[0].isalpha():
        key = "draft_" + key if key else "draft"
    return key[:40]


def draft_pack(source: Source, *, pack_id: str | None = None, exclude: frozenset[str] = frozenset()) -> Draft:
    """Draft a pack from ``source``. ``exclude`` names bundled packs the tag model must not learn from."""
    pid = pack_id or pack_id_for(source.name)
    prefix = re.sub(r"[^A-Z0-9]", "", pid.upper()) or "DRAFT"
    if not prefix[0].isalpha():
        prefix = "P" + prefix
    _blocks, sentences = segment(source.text, source.heading_lines, source.item_lines)
    ex = Extractor(source.text, sentences)
    version = ex.version()
    controller = ex.controller()
    data: dict[str, Any] = {
        "pack_format": 1, "id": pid, "name": f"{controller['legal_name'] if controller['legal_name'] != UNSPEC else pid} "
        "(draft)", "source_file": source.name, "promise_prefix": prefix, "version": version, "controller": controller,
    }
    data["prevailing_language"] = ex.prevailing_language()
    data["acceptance"] = ex.acceptance()
    data["contacts"] = ex.contacts()
    collect_pool = [s for s in sentences if re.search(r"\bcollect|\bprovide|\bobtain|\bgather|\binformation\b|\bdata\b|"
                                                      r"\bessential\b|\boptional\b|\brequired\b",
                                                      s.text + " " + s.heading, re.IGNORECASE)]
    data["data_categories"] = ex.categories(collect_pool)
    data["purposes"] = ex.purposes(data["data_categories"])
    data["collection"] = ex.collection(data["data_categories"], data["purposes"]["items"])
    consents = ex.consents()
    if consents:
        data["consents"] = consents
    data["processing_without_consent"] = ex.processing_without_consent()
    data["disclosures"] = ex.disclosures()
    data["recipients"] = ex.recipients(data["disclosures"], data["data_categories"], data["purposes"]["items"])
    data["corporate_transactions"] = ex.corporate_transactions()
    data["storage"] = ex.storage()
    data["transfers"] = ex.transfers()
    data["retention"] = ex.retention()
    data["erasure"] = ex.erasure()
    data["backups"] = ex.backups()
    data["rights"] = ex.rights()
    data["requests"] = ex.requests()
    data["minors"] = ex.minors()
    data["security"] = ex.security()
    data["breach"] = ex.breach()
    data["changes"] = ex.changes(version)
    data["service_cessation"] = ex.service_cessation()
    data["marketing"] = ex.marketing()
    data["cookies"] = ex.cookies()
    data["automated_decisions"] = ex.automated_decisions()
    issues = _contradictions(ex, data, sentences)
    conflict_starts = {int(p[1:]) for i in issues for p in i["promises"] if p.startswith("@")}
    if data["contacts"]["status"] == "missing":
        issues.append({"kind": "missing_contact", "description": "The policy gives no email, phone or postal address.",
                       "promises": list(data["contacts"].get("promises", []))})
    data["source_issues"] = issues

    passages = group_passages(pick_promises(sentences, tag_model(exclude)), MAX_QUOTE)
    spans: list[tuple[int, int, str, float]] = [(p.start, p.end, p.tag, p.confidence) for p in passages]
    for start, (s, tag) in ex.used.items():
        if any(a <= start < b for a, b, _t, _c in spans):
            continue
        if start in conflict_starts or (s.kind != "heading" and PARTIES.search(s.text)
                                        and (COMMITMENT.search(s.text) or _OFFER.search(s.text))
                                        and not ABOUT_THE_POLICY.search(s.text)):
            spans.append((s.start, s.end, tag, 0.5))
        # else: a value's quote that makes no promise (a date line, an address, a heading): the rule keeps its
        # quote and names no promise
    spans.sort()
    promises: list[DraftPromise] = []
    ids: dict[str, str] = {}
    width = max(2, len(str(len(spans))))
    for n, (a, b, tag, conf) in enumerate(spans, start=1):
        pid_ = f"{prefix}-{n:0{width}d}"
        promises.append(DraftPromise(pid_, tag, a, b, source.text[a:b], conf))
    for s in sentences:
        owner = next((p for p in promises if p.start <= s.start < p.end), None)
        if owner is not None:
            ids[ref(s)] = owner.id
    if not promises:
        if not sentences:
            raise BadValueError(f"{source.name}: the policy has no sentence to quote")
        first = sentences[0]
        ids[ref(first)] = f"{prefix}-01"
        promises.append(DraftPromise(f"{prefix}-01", "other", first.start, first.end, first.text, 0.0))
    data["promises"] = [{"id": p.id, "tag": p.tag, "quote": p.quote,
                         "statement": f"DRAFT ({p.tag}): state the behaviour this sentence promises, as a test can "
                                      "check it."} for p in promises]
    resolved = _resolve(data, ids)
    text = _to_yaml(resolved, ex.items, source)
    pack = parse_pack(text, f"{pid}.yaml")
    return Draft(source=source, yaml_text=text, pack=pack, items=ex.items, promises=promises)


def _contradictions(ex: Extractor, data: dict[str, Any], sentences: list[Sentence]) -> list[dict[str, Any]]:
    """Two sentences of the policy that cannot both hold, found while drafting."""
    issues: list[dict[str, Any]] = []
    deny = next((d for d in data["disclosures"] if d["kind"] == "share" and d["default"] == "deny"), None)
    if deny is not None:
        deny_s = next((x for x in sentences if x.text == deny["quote"]), None)
        listed = deny_s is not None and re.search(r"\bexcept\b|\bunless\b", deny_s.text, re.IGNORECASE)
        others = [s for s in sentences if not (listed and deny_s is not None and s.heading == deny_s.heading
                                               and s.start > deny_s.start)]  # not one of the exceptions it lists
        shares = _first_saying(others, r"\b(?:share|provide|disclose)\w*\b.*\b(?:with|to) (?:\w+ ){0,3}(?:third[- ]part|"
                                       r"partners|advertisers)", r"share|provide|disclose|(?:actively )?share",
                               r"\b(?:unless|except|without|consent|only)\b")
        if shares is not None:
            issues.append(_conflict(ex, deny, shares, "sharing", f"The policy says nothing is shared ({deny['quote']!r}) "
                                                                 f"yet also says {shares.text!r}."))
    t = data["transfers"]
    if isinstance(t, dict) and t.get("cross_border") == "not_allowed":
        abroad = _first_saying(sentences, r"\b(?:transferr?|transmit|stor|process|sen[dt]|host)\w*\b[^.]*\b(?:outside "
                                          r"(?:of )?(?:the )?(?:country|people's|china|mainland)|abroad|overseas|across "
                                          r"borders|other countries|all over the world)",
                               r"transmit|transfer|store|process|send|host", r"\b(?:if|when|should|in the future|unless)\b")
        if abroad is not None:
            issues.append(_conflict(ex, t, abroad, "transfer", f"The policy says data does not cross borders "
                                                               f"({t['quote']!r}) yet also says {abroad.text!r}."))
    m = data["marketing"]
    if isinstance(m, dict) and m.get("third_party_ads_in_app") is False:
        ads = _first_saying(sentences, r"\baudience network|\badmob|\badvertising (?:network|service|sdk|partners?)|"
                                       r"\bad network", r"provide|show|display|use")
        if ads is not None:
            issues.append(_conflict(ex, m, ads, "marketing", f"The policy says there is no third-party advertising "
                                                             f"({m['quote']!r}) yet names an advertising service: "
                                                             f"{ads.text!r}."))
    return issues


def _first_saying(sentences: list[Sentence], says: str, verbs: str, hedges: str | None = None) -> Sentence | None:
    """The first sentence that says ``says`` (a pattern) outright: none of ``verbs`` negated, no word of ``hedges``."""
    return next((s for s in sentences if re.search(says, s.text, re.IGNORECASE) and not negated(s.text, verbs)
                 and not (hedges is not None and re.search(hedges, s.text, re.IGNORECASE))), None)


def _conflict(ex: Extractor, value: dict[str, Any], s: Sentence, tag: str, description: str) -> dict[str, Any]:
    """An ``internal_conflict`` between a drafted value and sentence ``s``, which becomes a promise tagged ``tag``."""
    ex.used.setdefault(s.start, (s, tag))
    return {"kind": "internal_conflict", "description": description, "promises": [value["promises"][0], ref(s)]}


def _resolve(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _resolve(v, ids) for k, v in value.items()}
        if "promises" in out and isinstance(out["promises"], list) and all(isinstance(p, str) for p in out["promises"]):
            # a quote that is no promise of the draft leaves the rule with its quote and no promise
            out["promises"] = list(dict.fromkeys(p for p in out["promises"] if not p.startswith("@")))
        return out
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("@") and value in ids:
        return ids[value]
    return value


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if len(value) > 60 else None)


_Dumper.add_representer(str, _str)


def _to_yaml(data: dict[str, Any], items: list[Item], source: Source) -> str:
    lines = [
        f"# DRAFT pack written by `policykeeper pack draft` from {source.name} ({source.format}).",
        "# Every value carries the quote it comes from; 'unspecified' means the text says nothing (or the draft was",
        "# unsure). Lines starting '# review:' say what a person must check. `policykeeper pack review` shows each",
        "# value next to its quote and confidence.",
    ]
    by_section: dict[str, list[Item]] = {}
    for it in items:
        by_section.setdefault(it.path.split(".")[0], []).append(it)
    for key in _SECTION_ORDER:
        if key not in data:
            continue
        for it in by_section.get(key, []):
            if it.value == UNSPEC or it.confidence < 0.5 or it.note:
                lines.append(f"# review: {it.path} = {_short(it.value)} (confidence {it.confidence:.1f})"
                             + (f": {it.note}" if it.note else ""))
        dumped = yaml.dump({key: data[key]}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100000,
                           default_flow_style=False)
        lines.append(dumped.rstrip("\n"))
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
