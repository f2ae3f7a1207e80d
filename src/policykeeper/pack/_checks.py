"""Checks a pack's meaning once its structure is valid: ids, references, taxonomy, promises."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from ._model import Pack
from ._taxonomy import default_data_categories, default_data_uses
from ._types import Rule

__all__ = ["check_pack", "promise_references"]

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def promise_references(pack: Pack) -> Iterator[tuple[Loc, str]]:
    """Every (location, promise ID) a rule of the pack names; declarations are not references."""
    for name in type(pack).model_fields:
        if name in ("promises", "source_issues"):
            continue
        yield from _walk(getattr(pack, name), (name,))


def _walk(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, Rule):
        for i, pid in enumerate(value.promises):
            yield loc + ("promises", i), pid
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name != "promises":
                yield from _walk(getattr(value, name), loc + (name,))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _walk(item, loc + (i,))


def check_pack(pack: Pack) -> list[Problem]:
    """Return the meaning problems of a structurally valid pack (empty when clean)."""
    problems: list[Problem] = []
    problems += _check_promises(pack)
    cat_keys = _check_taxonomy(pack, problems)
    cats = _unique(pack.data_categories, ("data_categories",), problems)
    purposes = _unique(pack.purposes.items, ("purposes", "items"), problems)
    contexts = _unique(pack.collection.contexts, ("collection", "contexts"), problems)
    consents = _unique(pack.consents, ("consents",), problems)
    recipients = _unique(pack.recipients, ("recipients",), problems)
    disclosures = _unique(pack.disclosures, ("disclosures",), problems)
    if isinstance(pack.security, tuple):
        _unique(pack.security, ("security",), problems)
    if isinstance(pack.retention, tuple):
        _unique(pack.retention, ("retention",), problems)
    _unique(pack.advisories, ("advisories",), problems)
    exceptions: set[str] = set()
    for i, rule in enumerate(pack.disclosures):
        exceptions |= _unique(rule.exceptions, ("disclosures", i, "exceptions"), problems)

    for i, c in enumerate(pack.data_categories):
        if c.fides_key not in cat_keys[0]:
            problems.append(
                (("data_categories", i, "fides_key"),
                 f"{c.fides_key!r} is not a Fides data category; use a key of the default taxonomy "
                 "or declare an extension under taxonomy.data_categories")
            )

    def refs(values: Iterable[str], known: set[str], loc: Loc, what: str) -> None:
        for j, v in enumerate(values):
            if v not in known:
                problems.append((loc + (j,), f"unknown {what} {v!r}; declared: {_some(known)}"))

    def ref(value: str, known: set[str], loc: Loc, what: str) -> None:
        if value not in known:
            problems.append((loc, f"unknown {what} {value!r}; declared: {_some(known)}"))

    for i, p in enumerate(pack.purposes.items):
        if p.data_use not in cat_keys[1]:
            problems.append(
                (("purposes", "items", i, "data_use"),
                 f"{p.data_use!r} is not a Fides data use; use a key of the default taxonomy "
                 "or declare an extension under taxonomy.data_uses")
            )
        if isinstance(p.categories, tuple):
            refs(p.categories, cats, ("purposes", "items", i, "categories"), "data category")
    for i, ctx in enumerate(pack.collection.contexts):
        base: Loc = ("collection", "contexts", i)
        refs(ctx.purposes, purposes, base + ("purposes",), "purpose")
        seen: set[str] = set()
        for j, f in enumerate(ctx.fields):
            floc = base + ("fields", j)
            ref(f.category, cats, floc + ("category",), "data category")
            if f.category in seen:
                problems.append((floc + ("category",), f"category {f.category!r} is listed twice in this context"))
            seen.add(f.category)
            refs(f.purposes, purposes, floc + ("purposes",), "purpose")
            if f.consent_rule is not None:
                ref(f.consent_rule, consents, floc + ("consent_rule",), "consent rule")
    anything = cats | purposes | contexts | recipients | disclosures | exceptions
    for i, cr in enumerate(pack.consents):
        refs(cr.targets, anything, ("consents", i, "targets"), "consent target")
    for i, r in enumerate(pack.recipients):
        if isinstance(r.categories, tuple):
            refs(r.categories, cats, ("recipients", i, "categories"), "data category")
        refs(r.purposes, purposes, ("recipients", i, "purposes"), "purpose")
        if r.basis is not None:
            ref(r.basis, exceptions, ("recipients", i, "basis"), "disclosure exception")
    if isinstance(pack.retention, tuple):
        for i, rr in enumerate(pack.retention):
            if isinstance(rr.categories, tuple):
                refs(rr.categories, cats, ("retention", i, "categories"), "data category")
            if isinstance(rr.purposes, tuple):
                refs(rr.purposes, purposes, ("retention", i, "purposes"), "purpose")
            refs(rr.continued_uses, purposes, ("retention", i, "continued_uses"), "purpose")
    if not isinstance(pack.cookies, str):
        refs(pack.cookies.purposes, purposes, ("cookies", "purposes"), "purpose")
    if not isinstance(pack.minors, str):
        refs(pack.minors.age_source, cats, ("minors", "age_source"), "data category")
    if isinstance(pack.rights, tuple):
        for i, right in enumerate(pack.rights):
            refs(right.locked_fields, cats, ("rights", i, "locked_fields"), "data category")
    if not isinstance(pack.requests, str) and isinstance(pack.requests.deadlines, tuple):
        _unique(pack.requests.deadlines, ("requests", "deadlines"), problems)
    if pack.contacts.status == "present" and not pack.contacts.channels:
        problems.append((("contacts", "channels"), "contacts are 'present' but no channel is given"))
    if pack.contacts.status == "missing" and pack.contacts.channels:
        problems.append((("contacts", "status"), "contacts are 'missing' but channels are given"))
    return problems


def _check_promises(pack: Pack) -> list[Problem]:
    problems: list[Problem] = []
    declared: set[str] = set()
    for i, p in enumerate(pack.promises):
        if p.id in declared:
            problems.append((("promises", i, "id"), f"promise {p.id} is declared twice"))
        declared.add(p.id)
        if not p.id.startswith(pack.promise_prefix + "-"):
            problems.append(
                (("promises", i, "id"), f"promise {p.id} does not start with the pack's prefix {pack.promise_prefix}-")
            )
    for loc, pid in promise_references(pack):
        if pid not in declared:
            problems.append((loc, f"names promise {pid}, which the pack does not declare under 'promises'"))
    for i, issue in enumerate(pack.source_issues):
        for j, pid in enumerate(issue.promises):
            if pid not in declared:
                problems.append((("source_issues", i, "promises", j), f"names undeclared promise {pid}"))
    return problems


def _check_taxonomy(pack: Pack, problems: list[Problem]) -> tuple[set[str], set[str]]:
    """Validate extensions; return the usable (data category keys, data use keys)."""
    result: list[set[str]] = []
    for kind, defaults in (
        ("data_categories", default_data_categories()),
        ("data_uses", default_data_uses()),
    ):
        known = set(defaults)
        for i, ext in enumerate(getattr(pack.taxonomy, kind)):
            loc: Loc = ("taxonomy", kind, i)
            if ext.key in known:
                problems.append((loc + ("key",), f"{ext.key!r} already exists; an extension must add a new key"))
                continue
            if ext.parent_key not in known:
                problems.append(
                    (loc + ("parent_key",),
                     f"parent {ext.parent_key!r} is neither in the Fides default taxonomy nor an earlier extension")
                )
                continue
            if not ext.key.startswith(ext.parent_key + "."):
                problems.append((loc + ("key",), f"{ext.key!r} must extend its parent: start with {ext.parent_key + '.'!r}"))
                continue
            known.add(ext.key)
        result.append(known)
    return result[0], result[1]


def _unique(items: Iterable[Any], loc: Loc, problems: list[Problem]) -> set[str]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            problems.append((loc + (i, "id"), f"id {item.id!r} is used twice"))
        seen.add(item.id)
    return seen


def _some(known: set[str]) -> str:
    names = sorted(known)
    return ", ".join(names[:12]) + (" ..." if len(names) > 12 else "") if names else "(none)"
