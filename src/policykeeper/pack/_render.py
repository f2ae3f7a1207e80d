"""Render a readable privacy policy from a pack: one document model, two writers (Markdown, HTML).

Every section of the pack appears; where the policy is silent the text says so.
Every promise ID is an anchor, and every rule links to the promises it keeps.
Glossary terms are linked to their explanation wherever they appear.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel

from ._model import Pack
from ._types import FixedDuration, Rule

__all__ = ["Document", "Item", "Section", "build_document", "render_pack"]

SILENT = "The policy does not say."


@dataclass
class Item:
    text: str
    promises: tuple[str, ...] = ()
    anchor: str | None = None
    sub: list[Item] = field(default_factory=list)


@dataclass
class Section:
    title: str
    anchor: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Document:
    title: str
    header: list[str]
    sections: list[Section]
    glossary: dict[str, str]


def promise_anchor(pid: str) -> str:
    return pid.lower()


def glossary_anchor(term: str) -> str:
    return "glossary-" + re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")


# -- building ----------------------------------------------------------------


def _words(key: str) -> str:
    return key.replace("_", " ")


def _dur(d: object) -> str:
    if isinstance(d, FixedDuration):
        s = f"{d.value} {_words(d.unit)}"
        return f"{s} ({d.qualifier})" if d.qualifier else s
    return _words(str(d))


def _value(v: Any) -> str:
    if isinstance(v, FixedDuration):
        return _dur(v)
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, tuple):
        return ", ".join(_value(x) for x in v) if v else "none"
    if isinstance(v, BaseModel):
        return "; ".join(f"{_words(k)}: {_value(x)}" for k, x in _fields(v))
    if v is None:
        return ""
    return _words(str(v)) if isinstance(v, str) and re.fullmatch(r"[a-z0-9_]+", v) else str(v)


def _fields(m: BaseModel) -> list[tuple[str, Any]]:
    """Fields worth showing: set or non-default, without bookkeeping."""
    out = []
    for name, info in type(m).model_fields.items():
        if name in ("promises", "quote", "rules", "id"):
            continue
        v = getattr(m, name)
        if v in (None, (), {}) or (v == info.default and not isinstance(v, bool)):
            continue
        out.append((name, v))
    return out


def _describe(m: BaseModel, title: str | None = None) -> Item:
    parts = [f"{_words(k).capitalize()}: {_value(v)}." for k, v in _fields(m)]
    text = (f"{title}. " if title else "") + " ".join(parts)
    return Item(text.strip() or (title or ""), m.promises if isinstance(m, Rule) else ())


def _extra_rules(rules: tuple[Rule, ...], pack: Pack) -> list[Item]:
    items = []
    for r in rules:
        text = r.quote or "; ".join(pack.promise(p).statement for p in r.promises if _has(pack, p))
        items.append(Item(text, r.promises))
    return items


def _has(pack: Pack, pid: str) -> bool:
    return any(p.id == pid for p in pack.promises)


def _section(title: str, items: list[Item]) -> Section:
    return Section(title, re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"), items or [Item(SILENT)])


def _maybe(value: Any, fn: Any) -> list[Item]:
    if isinstance(value, str):
        return [Item(SILENT)]
    return list(fn(value))


def build_document(pack: Pack) -> Document:
    """The policy as a document model, independent of the output format."""
    v = pack.version
    header = []
    heading = v.date_heading or "Updated"
    if v.updated_date != "unspecified":
        header.append(f"{heading}: {v.updated_date}")
    if v.effective_date != "unspecified":
        header.append(f"Effective date: {v.effective_date}")
    if v.updated_date == "unspecified" and v.effective_date == "unspecified":
        header.append("This policy states no date or version.")
    if v.published_url:
        header.append(f"Published at {v.published_url}")
    header.append(f"Pack version: {v.label}")

    cats = {c.id: c for c in pack.data_categories}
    purposes = {p.id: p for p in pack.purposes.items}
    s: list[Section] = []

    c = pack.controller
    who = [Item(f"{c.legal_name}" + (f" (also: {', '.join(c.aliases)})" if c.aliases else "")
                + (", including its affiliates" if c.includes_affiliates else "") + ".", c.promises)]
    for label, vals in (("Products", c.products), ("Sites", c.sites), ("Apps", c.app_ids)):
        if vals:
            who.append(Item(f"{label}: {', '.join(vals)}."))
    if c.address:
        who.append(Item(f"Address: {c.address}."))
    if not isinstance(pack.prevailing_language, str):
        pl = pack.prevailing_language
        who.append(Item(f"Prevailing language: {pack.language}. " + (pl.quote or ""), pl.promises))
    if not isinstance(pack.principles, str):
        pr = pack.principles_rule
        who.append(Item(f"Principles: {', '.join(pack.principles)}.", pr.promises if pr else ()))
    who += _extra_rules(pack.presentation, pack)
    who += [Item(f"{_words(k).capitalize()}: {t}") for k, t in pack.definitions.items()]
    s.append(_section("Who we are", who))

    contacts = [Item(f"{ch.role + ': ' if ch.role else ''}{ch.kind} {ch.value}"
                     + (f" (for {', '.join(_words(h) for h in ch.handles)})" if ch.handles else ""), ch.promises)
                for ch in pack.contacts.channels]
    if pack.contacts.status == "missing":
        contacts.insert(0, Item("The policy refers to contact information but gives none.", pack.contacts.promises))
    elif pack.contacts.promises:
        contacts.insert(0, Item("How to reach us:", pack.contacts.promises))
    if not isinstance(pack.contacts.complaints, str):
        contacts.append(_describe(pack.contacts.complaints, "Complaints"))
    s.append(_section("How to contact us", contacts))

    a = pack.acceptance
    acc = [_describe(a, "Accepting this policy")]
    acc += [_describe(cr, f"Consent '{cr.id}'") for cr in pack.consents]
    if not isinstance(pack.processing_without_consent, str):
        acc.append(_describe(pack.processing_without_consent, "Processing without consent is allowed only on these grounds"))
    s.append(_section("Your acceptance and consent", acc))

    collect = []
    for ctx in pack.collection.contexts:
        it = Item(f"{ctx.name}" + (" (members only)" if ctx.member_only else "")
                  + (f", when {_value(ctx.activation)}" if ctx.activation else "")
                  + f": for {', '.join(purposes[p].name if p in purposes else p for p in ctx.purposes)}.",
                  ctx.promises, anchor=f"context-{ctx.id}")
        for f in ctx.fields:
            name = cats[f.category].name if f.category in cats else f.category
            extra = f", purposes: {', '.join(f.purposes)}" if f.purposes else ""
            it.sub.append(Item(f"{name}: {_words(f.requirement)}; if refused: {_words(f.on_refusal)}{extra}", f.promises))
        if ctx.refusal_notice:
            it.sub.append(Item(f"If you do not provide it: {ctx.refusal_notice}"))
        collect.append(it)
    col_rules = pack.collection
    collect.append(_describe(col_rules.model_copy(update={"contexts": ()}), "Limits on collection"))
    collect += _extra_rules(col_rules.rules, pack)
    s.append(_section("What we collect", collect))

    s.append(_section("Kinds of data", [
        Item(f"{cat.name} ({cat.fides_key})" + (f": {', '.join(cat.fields)}" + (", etc." if cat.open_list else "")
             if cat.fields else "") + f". Personal: {_value(cat.personal)}."
             + (f" Sensitive: {', '.join(cat.sensitive_kinds)}." if cat.sensitive_kinds else "")
             + (f" To stop it: {cat.stop_control}." if cat.stop_control else ""), cat.promises)
        for cat in pack.data_categories
    ]))

    pc = pack.purposes
    pur = [Item(("We use data only for the purposes below; " if pc.closed else "Purposes include the following; ")
                + f"any other purpose: {_words(pc.undeclared)}.", pc.promises)]
    for p in pc.items:
        used = "any declared data" if isinstance(p.categories, str) else ", ".join(
            cats[x].name if x in cats else x for x in p.categories)
        pur.append(Item(f"{p.name}" + (f" ({p.group})" if p.group else "") + f" — {p.description} "
                        f"Legal basis: {_words(p.legal_basis)}. Data: {used}."
                        + (" Aggregated data only." if p.aggregate_only else "")
                        + (f" Needs consent ({_words(p.requires_consent)})." if p.requires_consent != "none" else ""),
                        p.promises, anchor=f"purpose-{p.id}"))
    s.append(_section("Why we use it", pur))

    share = [_describe(r, r.name) for r in pack.recipients]
    if not isinstance(pack.recipient_list, str):
        share.insert(0, _describe(pack.recipient_list, "About this list"))
    for d in pack.disclosures:
        share.append(Item(f"{_words(d.kind).capitalize()}: by default {d.default}"
                          + (f", except to {', '.join(_words(x) for x in d.exempt_recipient_categories)}"
                             if d.exempt_recipient_categories else "") + ".", d.promises))
        share += [_describe(e, f"Exception '{_words(e.id)}'") for e in d.exceptions]
    if not isinstance(pack.corporate_transactions, str):
        share.append(_describe(pack.corporate_transactions, "Mergers, acquisitions and similar"))
    s.append(_section("Who we share it with", share))

    s.append(_section("Where it is stored and transferred",
                      _maybe(pack.storage, lambda x: [_describe(x, "Storage")])
                      + _maybe(pack.transfers, lambda x: [_describe(x, "Cross-border transfer")])))
    keep = _maybe(pack.retention, lambda rs: [_describe(r, f"Retention '{_words(r.id)}'") for r in rs])
    keep += _maybe(pack.erasure, lambda e: [_describe(e, "Deletion"), *_extra_rules(e.triggers, pack)])
    keep += _maybe(pack.backups, lambda b: [_describe(b, "Backups")])
    s.append(_section("How long we keep it", keep))

    rights = _maybe(pack.rights, lambda rs: [_describe(r, _words(r.type).capitalize()) for r in rs])
    rights += _maybe(pack.requests, lambda rq: [
        *([_describe(rq.verification, "Identity verification")] if not isinstance(rq.verification, str) else []),
        *([_describe(d, f"Deadline for {_words(d.applies_to)}") for d in rq.deadlines]
          if not isinstance(rq.deadlines, str) else [Item("Deadline: " + SILENT)]),
        *([_describe(rq.fees, "Fees")] if not isinstance(rq.fees, str) else []),
        *([_describe(rq.refusal, "Refusal")] if not isinstance(rq.refusal, str) else []),
        *_extra_rules(rq.rules, pack),
        *([Item("Every answer tells you how to complain to the regulator.", rq.promises)]
          if rq.outcome_includes_complaint_route is True else []),
    ])
    s.append(_section("Your rights and requests", rights))
    s.append(_section("Children", _maybe(pack.minors, lambda m: [
        Item(f"Anyone under {m.threshold} is a {m.term}; enforcement: {_words(m.enforcement)}.", m.promises),
        _describe(m.model_copy(update={"promises": ()}), None), *_extra_rules(m.rules, pack)])))
    s.append(_section("Security", _maybe(pack.security, lambda cs: [_describe(x, _words(x.kind).capitalize()) for x in cs])))
    s.append(_section("Security incidents", _maybe(pack.breach, lambda b: [_describe(b, "If a breach happens"),
                                                                         *_extra_rules(b.rules, pack)])))
    s.append(_section("Marketing", _maybe(pack.marketing, lambda m: [_describe(m, "Marketing"),
                                                                    *_extra_rules(m.rules, pack)])))
    s.append(_section("Cookies and tracking", _maybe(pack.cookies, lambda c: [
        Item("We use no cookies or similar technologies." if not c.uses_tracking else "We use tracking technologies.",
             c.promises), _describe(c.model_copy(update={"promises": ()}), None), *_extra_rules(c.rules, pack)])))
    s.append(_section("Automated decisions", _maybe(pack.automated_decisions, lambda x: [_describe(x, "Automated decisions")])))
    ch = pack.changes
    s.append(_section("Changes to this policy", [_describe(ch, "Changes"), *_extra_rules(ch.rules, pack)]
                      + _maybe(pack.service_cessation, lambda x: [_describe(x, "If the service shuts down")])))
    s.append(_section("Advice for you", [Item(a.text, a.promises) for a in pack.advisories]
                      + _extra_rules(pack.scope_exclusions, pack)))
    s.append(_section("Gaps in the policy text", [Item(f"{_words(i.kind).capitalize()}: {i.description}", i.promises)
                                                  for i in pack.source_issues] or [Item("None recorded.")]))
    s.append(Section("Promises", "promises", [
        Item(f"{p.statement} — “{p.quote}”", (), anchor=promise_anchor(p.id), sub=[Item(p.id), Item(p.tag)])
        for p in pack.promises]))
    return Document(f"{pack.name}: privacy policy", header, s, dict(pack.glossary))


# -- writing ---------------------------------------------------------------


def _segments(text: str, glossary: dict[str, str]) -> list[tuple[str, str | None]]:
    """Split text into (piece, glossary term or None)."""
    if not glossary:
        return [(text, None)]
    terms = sorted(glossary, key=len, reverse=True)
    rx = re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE)
    out: list[tuple[str, str | None]] = []
    pos = 0
    lower = {t.lower(): t for t in terms}
    for m in rx.finditer(text):
        out.append((text[pos:m.start()], None))
        out.append((m.group(0), lower[m.group(0).lower()]))
        pos = m.end()
    out.append((text[pos:], None))
    return [x for x in out if x[0]]


def _md_text(text: str, glossary: dict[str, str]) -> str:
    out = []
    for piece, term in _segments(text, glossary):
        piece = piece.replace("[", "\\[").replace("]", "\\]")
        out.append(f"[{piece}](#{glossary_anchor(term)})" if term else piece)
    return "".join(out)


def _md_refs(promises: tuple[str, ...]) -> str:
    return " (" + ", ".join(f"[{p}](#{promise_anchor(p)})" for p in promises) + ")" if promises else ""


def to_markdown(doc: Document) -> str:
    lines = [f"# {doc.title}", ""]
    lines += [f"*{h}*  " for h in doc.header] + [""]
    lines += ["## Contents", ""] + [f"- [{sec.title}](#{sec.anchor})" for sec in doc.sections] + [""]
    for sec in doc.sections:
        lines += [f'<a id="{sec.anchor}"></a>', f"## {sec.title}", ""]
        for it in sec.items:
            if sec.anchor == "promises":
                lines.append(f'- <a id="{it.anchor}"></a>**{it.sub[0].text}** ({it.sub[1].text}): {_md_text(it.text, {})}')
                continue
            anchor = f'<a id="{it.anchor}"></a>' if it.anchor else ""
            lines.append(f"- {anchor}{_md_text(it.text, doc.glossary)}{_md_refs(it.promises)}")
            lines += [f"  - {_md_text(x.text, doc.glossary)}{_md_refs(x.promises)}" for x in it.sub]
        lines.append("")
    if doc.glossary:
        lines += ['<a id="glossary"></a>', "## Glossary", ""]
        lines += [f'- <a id="{glossary_anchor(t)}"></a>**{t}**: {e}' for t, e in doc.glossary.items()] + [""]
    return "\n".join(lines)


def _html_text(text: str, glossary: dict[str, str]) -> Markup:
    out = []
    for piece, term in _segments(text, glossary):
        esc = html.escape(piece)
        out.append(f'<a class="term" href="#{glossary_anchor(term)}">{esc}</a>' if term else esc)
    return Markup("".join(out))


_env = Environment(
    loader=PackageLoader("policykeeper", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def to_html(doc: Document) -> str:
    tpl = _env.get_template("policy.html.j2")
    return tpl.render(doc=doc, text=lambda t: _html_text(t, doc.glossary), anchor=promise_anchor,
                      glossary_anchor=glossary_anchor)


def render_pack(pack: Pack, fmt: Literal["md", "html"] = "md") -> str:
    """The readable policy as Markdown or a standalone HTML page."""
    doc = build_document(pack)
    return to_markdown(doc) if fmt == "md" else to_html(doc)
