"""Compare two versions of a pack and mark each change significant or minor.

A change is significant when it falls under a trigger the old pack's own change
rules name (``changes.significant_triggers``), or under the baseline every pack
gets: a new purpose, recipient, data category or transfer, or reduced rights.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ._model import Pack
from ._types import FixedDuration

__all__ = ["BASELINE_TRIGGERS", "Change", "diff_packs"]

BASELINE_TRIGGERS = frozenset({"purposes", "recipients", "data_types", "transfers", "rights"})
"""Triggers that make a change significant whatever the pack says."""

_SECTION_TRIGGER = {
    "controller": "ownership_or_structure",
    "corporate_transactions": "ownership_or_structure",
    "contacts": "security_contact_or_complaints",
    "storage": "transfers",
    "transfers": "transfers",
    "disclosures": "recipients",
    "retention": "retention",
    "requests": "rights",
}


@dataclass(frozen=True)
class Change:
    """One difference between two packs."""

    kind: str  # added | removed | changed
    path: str
    description: str
    trigger: str | None
    significant: bool

    def __str__(self) -> str:
        mark = "significant" if self.significant else "minor"
        why = f" [{self.trigger}]" if self.trigger and self.significant else ""
        return f"{mark:11} {self.kind:7} {self.path}: {self.description}{why}"


def diff_packs(old: Pack, new: Pack) -> list[Change]:
    """Every change from ``old`` to ``new``; significance follows ``old``'s change rules."""
    triggers = set(BASELINE_TRIGGERS)
    if not isinstance(old.changes.significant_triggers, str):
        triggers |= set(old.changes.significant_triggers)

    def mk(kind: str, path: str, description: str, trigger: str | None) -> Change:
        return Change(kind, path, description, trigger, trigger is not None and trigger in triggers)

    changes: list[Change] = []
    changes += _by_id(old.data_categories, new.data_categories, "data_categories", "data category", mk,
                      added="data_types", changed="data_types")
    changes += _by_id(old.purposes.items, new.purposes.items, "purposes.items", "purpose", mk,
                      added="purposes", changed="purposes")
    changes += _by_id(old.recipients, new.recipients, "recipients", "recipient", mk,
                      added="recipients", changed="recipients")
    changes += _by_id(old.collection.contexts, new.collection.contexts, "collection.contexts",
                      "collection context", mk, added="data_types", changed="data_types")
    changes += _rights(old, new, mk)
    changes += _promises(old, new, mk)
    handled = {"data_categories", "purposes", "recipients", "collection", "rights", "promises", "version"}
    for name in type(old).model_fields:
        if name in handled:
            continue
        a, b = _plain(getattr(old, name)), _plain(getattr(new, name))
        if a != b:
            trigger = _SECTION_TRIGGER.get(name)
            if name == "requests" and not _requests_reduced(old, new):
                trigger = None
            changes.append(mk("changed", name, _describe(a, b), trigger))
    a_collect = _plain(old.collection.model_copy(update={"contexts": ()}))
    b_collect = _plain(new.collection.model_copy(update={"contexts": ()}))
    if a_collect != b_collect:
        changes.append(mk("changed", "collection", _describe(a_collect, b_collect), None))
    return changes


def _by_id(old: Iterable[Any], new: Iterable[Any], path: str, what: str, mk: Any,
           *, added: str, changed: str) -> Iterator[Change]:
    a = {x.id: x for x in old}
    b = {x.id: x for x in new}
    for key in b.keys() - a.keys():
        yield mk("added", f"{path}.{key}", f"new {what} {b[key].name!r}", added)
    for key in a.keys() - b.keys():
        yield mk("removed", f"{path}.{key}", f"{what} {a[key].name!r} is gone", None)
    for key in sorted(a.keys() & b.keys()):
        da, db = _plain(a[key]), _plain(b[key])
        if da != db:
            fields = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k) and k not in ("promises", "quote"))
            if not fields:
                yield mk("changed", f"{path}.{key}", "promise references or quote changed", None)
                continue
            grows = any(_grows(da.get(k), db.get(k)) for k in fields)
            yield mk("changed", f"{path}.{key}", f"{', '.join(fields)} changed", changed if grows else None)


def _grows(a: Any, b: Any) -> bool:
    """True unless the new value is a strict subset of the old (narrowing is not significant)."""
    if isinstance(a, list) and isinstance(b, list):
        return not set(map(str, b)) <= set(map(str, a))
    return True


def _rights(old: Pack, new: Pack, mk: Any) -> Iterator[Change]:
    a = {r.type: r for r in old.rights} if isinstance(old.rights, tuple) else {}
    b = {r.type: r for r in new.rights} if isinstance(new.rights, tuple) else {}
    for t in sorted(a.keys() - b.keys()):
        yield mk("removed", f"rights.{t}", f"right {t!r} is gone (reduced rights)", "rights")
    for t in sorted(b.keys() - a.keys()):
        yield mk("added", f"rights.{t}", f"new right {t!r}", None)
    for t in sorted(a.keys() & b.keys()):
        if _plain(a[t]) != _plain(b[t]):
            fewer = not set(a[t].channels) <= set(b[t].channels)
            yield mk("changed", f"rights.{t}", "conditions or channels changed", "rights" if fewer or
                     a[t].conditions != b[t].conditions or a[t].constraints != b[t].constraints else None)


def _promises(old: Pack, new: Pack, mk: Any) -> Iterator[Change]:
    a = {p.id: p for p in old.promises}
    b = {p.id: p for p in new.promises}
    for pid in sorted(b.keys() - a.keys()):
        yield mk("added", f"promises.{pid}", b[pid].statement, None)
    for pid in sorted(a.keys() - b.keys()):
        trigger = "rights" if a[pid].tag in ("rights", "deadline", "fee", "refusal", "verification") else None
        yield mk("removed", f"promises.{pid}", f"promise withdrawn: {a[pid].statement}", trigger)
    for pid in sorted(a.keys() & b.keys()):
        if a[pid] != b[pid]:
            yield mk("changed", f"promises.{pid}", "wording changed", None)


def _days(d: object) -> float | None:
    if isinstance(d, FixedDuration):
        per = {"calendar_days": 1.0, "business_days": 1.4, "hours": 1 / 24, "months": 30.0, "years": 365.0}
        return d.value * per[d.unit]
    return None


def _requests_reduced(old: Pack, new: Pack) -> bool:
    """Longer deadlines, new fees or new refusal grounds reduce the person's rights."""
    o, n = old.requests, new.requests
    if isinstance(o, str) or isinstance(n, str):
        return not isinstance(o, str) and isinstance(n, str)
    if isinstance(o.deadlines, tuple) and isinstance(n.deadlines, tuple):
        od = {d.id: _days(d.duration) for d in o.deadlines}
        for d in n.deadlines:
            before, after = od.get(d.id), _days(d.duration)
            if before is not None and (after is None or after > before):
                return True
    if not isinstance(o.refusal, str) and not isinstance(n.refusal, str):
        if not set(n.refusal.mandatory) <= set(o.refusal.mandatory):
            return True
        if not set(n.refusal.discretionary) <= set(o.refusal.discretionary):
            return True
    if not isinstance(o.fees, str) and not isinstance(n.fees, str):
        of, nf = o.fees.default_fee, n.fees.default_fee
        if isinstance(of, int) and isinstance(nf, int) and nf > of:
            return True
    return bool(_plain(o.verification) != _plain(n.verification))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _describe(a: Any, b: Any) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        return f"{', '.join(keys)} changed"
    return f"{_short(a)} -> {_short(b)}"


def _short(v: Any) -> str:
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."
