"""A policy's changes and its change notice in words people read, in their language.

:func:`policykeeper.pack.diff_packs` describes each change for those who check the pack (``description``, in English,
with its keys). People read another sentence, written here from the change's kind and path: what kind of thing
changed, named with the pack's own words (a purpose's name, a promise's statement), which stay in the pack's language
(``own`` marks them, e.g. with the pack's ``lang`` on a page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..pack._people_words import RIGHTS

__all__ = ["change_words", "pack_names", "section_words"]

_NAMED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")


def _quoted(description: str) -> str | None:
    found = _NAMED.search(description)
    return None if found is None else (found.group(1) if found.group(1) is not None else found.group(2))


def section_words(_: Callable[..., Any], section: str) -> Any:
    """A part of the policy, named the way a person would."""
    names = {
        "controller": _("who we are"), "contacts": _("how to reach us"), "collection": _("how we collect data"),
        "consents": _("the consents we ask for"), "processing_without_consent": _("what we do without asking consent"),
        "recipient_list": _("who we share data with"), "disclosures": _("when we disclose data"),
        "corporate_transactions": _("what happens if our business changes hands"),
        "storage": _("where data is stored"), "transfers": _("transfers abroad"),
        "retention": _("how long we keep data"), "erasure": _("how we erase data"), "backups": _("backups"),
        "requests": _("how we handle your requests"), "minors": _("children's data"), "security": _("security"),
        "breach": _("what we do after a security incident"), "changes": _("how we change this policy"),
        "service_cessation": _("what happens if the service ends"), "marketing": _("marketing"),
        "cookies": _("cookies and similar technologies"), "automated_decisions": _("decisions made by computers"),
        "presentation": _("how this policy is presented"), "acceptance": _("how you accept this policy"),
        "principles": _("our principles"), "principles_rule": _("our principles"), "definitions": _("definitions"),
        "glossary": _("definitions"), "taxonomy": _("the kinds of data"), "advisories": _("advice to you"),
        "scope_exclusions": _("what this policy does not cover"), "prevailing_language": _("which language prevails"),
        "language": _("the policy's language"), "name": _("the policy's name"), "source_issues": _("editorial notes"),
        "version": _("the version"), "pack_format": _("the format"), "promise_prefix": _("the format"),
        "id": _("the format"), "source_file": _("the format"),
    }
    return names.get(section, section.replace("_", " "))


def pack_names(pack: Any) -> dict[str, str]:
    """What the pack calls each thing a change's path names: data categories, purposes, recipients and occasions of
    collection by their names, promises by their statements."""
    out = {f"data_categories.{c.id}": c.name for c in pack.data_categories}
    out |= {f"purposes.items.{p.id}": p.name for p in pack.purposes.items}
    out |= {f"recipients.{r.id}": r.name for r in pack.recipients}
    out |= {f"collection.contexts.{c.id}": c.name for c in pack.collection.contexts}
    out |= {f"promises.{p.id}": p.statement for p in pack.promises}
    return out


def change_words(_: Callable[..., Any], change: Any, own: Callable[[str], Any] = str,
                 names: Mapping[str, str] | None = None) -> Any:
    """One change (a :class:`policykeeper.pack.Change` or its stored dict) as a sentence in ``_``'s language. The
    pack's own words go through ``own``; ``names``: :func:`pack_names` of the new version, for the things a change
    names only by id (a changed purpose, a changed promise)."""
    get = change.get if isinstance(change, Mapping) else lambda k: getattr(change, k)
    kind, path, description = str(get("kind")), str(get("path")), str(get("description"))
    head, _dot, key = path.partition(".")
    if path.startswith("purposes.items."):
        head, key = "purposes", path.removeprefix("purposes.items.")
    elif path.startswith("collection.contexts."):
        head, key = "contexts", path.removeprefix("collection.contexts.")
    named = (names or {}).get(path)
    name = _quoted(description) or named or key
    if head in ("data_categories", "purposes", "recipients", "contexts"):
        added = {"data_categories": _("New kind of data: %(name)s", name=own(name)),
                 "purposes": _("New purpose: %(name)s", name=own(name)),
                 "recipients": _("New recipient: %(name)s", name=own(name)),
                 "contexts": _("New occasion on which we collect data: %(name)s", name=own(name))}
        removed = {"data_categories": _("No longer collected: %(name)s", name=own(name)),
                   "purposes": _("Purpose dropped: %(name)s", name=own(name)),
                   "recipients": _("No longer shared with: %(name)s", name=own(name)),
                   "contexts": _("We no longer collect data on this occasion: %(name)s", name=own(name))}
        changed = {"data_categories": _("What we say about a kind of data changed: %(name)s", name=own(named or key)),
                   "purposes": _("What we say about a purpose changed: %(name)s", name=own(named or key)),
                   "recipients": _("What we say about a recipient changed: %(name)s", name=own(named or key)),
                   "contexts": _("What we say about an occasion on which we collect data changed: %(name)s",
                                 name=own(named or key))}
        return (added if kind == "added" else removed if kind == "removed" else changed)[head]
    if head == "rights":
        right = str(_(RIGHTS[key])).rstrip(".") if key in RIGHTS else key.replace("_", " ")
        if kind == "added":
            return _("New right: %(right)s", right=right)
        if kind == "removed":
            return _("A right is gone: %(right)s", right=right)
        return _("The conditions or the ways to use a right changed: %(right)s", right=right)
    if head == "promises":
        text = description.removeprefix("promise withdrawn: ") if kind != "changed" \
            else (named or "")
        if kind == "added":
            return _("New commitment: %(text)s", text=own(text))
        if kind == "removed":
            return _("Commitment withdrawn: %(text)s", text=own(text))
        return _("The wording of a commitment changed: %(text)s", text=own(text)) if text \
            else _("The wording of a commitment changed")
    return _("Changed: %(section)s", section=section_words(_, head))
