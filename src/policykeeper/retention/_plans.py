"""What the sweep follows: one plan per retention rule (and the pack's cessation rule), and which records each
plan finds due at a moment.

A plan says which records a rule governs, when its period starts and ends, and what happens at the end. The
conditions that select records are built by the lifecycle store; this module decides which to build.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from .._exceptions import ConfigError
from ..clock import after, utc
from ..engine import PolicyEngine
from ..pack._types import FixedDuration
from ..store import lifecycle as lifecycle_store
from ..store.lifecycle import Condition

Action = Literal["delete", "anonymize", "restrict_access"]
END_ACTIONS: tuple[Action, ...] = ("delete", "anonymize", "restrict_access")
"""What a sweep can do to a record at the end of its period."""

_CHOICES: dict[str, tuple[Action, ...]] = {
    "delete": ("delete",),
    "destroy": ("delete",),
    "anonymize": ("anonymize",),
    "restrict_access": ("restrict_access",),
    "delete_or_anonymize": ("delete", "anonymize"),
    "erase_destroy_anonymize_or_restrict": ("delete", "anonymize", "restrict_access"),
    "unspecified": ("delete",),
}

DEFAULT_PERIODS: dict[str, FixedDuration] = {
    "reasonable_period": FixedDuration(value=30, unit="calendar_days"),
}
"""Periods for words the pack leaves open; configure others per rule id (``periods={rule_id: duration}``)."""

_ZERO = FixedDuration(value=0, unit="calendar_days")
_UNTIL_EVENT = {"immediately", "necessary_for_purpose", "shortest_necessary", "while_using_service",
                "until_account_cancelled", "until_user_clears", "promptly", "asap"}
_START_EVENT = {"purpose_end": "purpose_ended", "account_cancelled": "account_cancelled",
                "service_ceased": "service_ceased"}
CESSATION = "service_cessation"
"""The rule id under which the pack's service-cessation rule is swept."""


@dataclass(frozen=True)
class _Plan:
    rule_id: str
    promises: tuple[str, ...]
    categories: tuple[str, ...] | None  # None: every category not governed elsewhere
    excluded: tuple[str, ...]
    purposes: tuple[str, ...] | None
    start: str
    period: FixedDuration | None
    action: Action | None  # None: kept as a record
    law_wins: bool = True  # legal_hold_override: a longer legal requirement (a hold) wins over the rule


def _period(rule_id: str, duration: object, periods: Mapping[str, FixedDuration]) -> FixedDuration | None:
    if rule_id in periods:
        return periods[rule_id]
    if isinstance(duration, FixedDuration):
        return duration
    if isinstance(duration, str) and duration in periods:
        return periods[duration]
    if duration in _UNTIL_EVENT:
        return _ZERO
    if isinstance(duration, str) and duration in DEFAULT_PERIODS:
        return DEFAULT_PERIODS[duration]
    return None


def _plans(eng: PolicyEngine, periods: Mapping[str, FixedDuration], actions: Mapping[str, str]) -> list[_Plan]:
    rules = () if isinstance(eng.pack.retention, str) else eng.pack.retention
    named = {c for r in rules if r.categories != "all" for c in r.categories}
    kept = {c for r in rules if r.categories != "all" and (r.exempt_from_purpose_end or r.end_action == "keep_as_record")
            for c in r.categories}
    plans: list[_Plan] = []

    def choose(rule_id: str, end_action: str) -> Action | None:
        if end_action == "keep_as_record":
            return None
        allowed = _CHOICES[end_action]
        chosen = actions.get(rule_id, allowed[0])
        if chosen not in allowed:
            raise ConfigError(f"retention rule {rule_id!r} ends with {end_action}; {chosen!r} is not one of "
                              + ", ".join(allowed))
        return chosen

    for r in rules:
        if r.start == "user_clear_action":
            continue  # ended by the person's own control, not by a sweep
        cats = None if r.categories == "all" else tuple(r.categories)
        excluded = tuple(sorted(named if cats is None else ()))
        if r.start == "purpose_end" and cats is None:
            excluded = tuple(sorted(set(excluded) | kept))
        purposes = None if r.purposes == "any" else tuple(r.purposes)
        plans.append(_Plan(r.id, r.promises, cats, excluded, purposes, r.start, _period(r.id, r.duration, periods),
                           choose(r.id, str(r.end_action)), r.legal_hold_override))
    cess = eng.pack.service_cessation
    if not isinstance(cess, str):
        plans.append(_Plan(CESSATION, cess.promises, None, tuple(sorted(kept)), None, "service_ceased",
                           _period(CESSATION, cess.within, periods), choose(CESSATION, cess.end_action),
                           cess.legal_hold_override))
    return plans


def _due(eng: PolicyEngine, conn: Connection, plan: _Plan, now: dt.datetime) -> list[Condition] | None:
    """Conditions (OR-ed) that select a plan's records whose period is over, or None when nothing can be due."""
    assert plan.period is not None
    base = lifecycle_store.record_scope(eng.pack.id, categories=plan.categories, excluded=plan.excluded,
                                        purposes=plan.purposes)
    if plan.start in ("collection", "transaction", "last_use"):
        return [lifecycle_store.collected_by(base, after(now, plan.period, back=True))]
    kind = _START_EVENT[plan.start]
    ripe = [e for e in lifecycle_store.events(conn, eng.pack.id, kind) if after(utc(e.at), plan.period) <= now]
    if not ripe:
        return None
    if plan.start == "service_ceased":
        return [lifecycle_store.all_of(base)]
    if plan.start == "account_cancelled":
        sids = sorted({e.subject_id for e in ripe if e.subject_id})
        return [lifecycle_store.of_subjects_with_event(base, eng.pack.id, kind, sids)]
    # purpose_end: a record is due once every purpose it was collected for has ended (for everyone, or for that
    # person); a record that also serves a purpose still running (KOKKOK: safety and security) stays
    everyone = {e.purpose for e in ripe if e.subject_id is None}
    per_person: dict[str, set[str | None]] = {}
    for e in ripe:
        if e.subject_id is not None:
            per_person.setdefault(e.subject_id, set()).add(e.purpose)
    combos = lifecycle_store.purpose_sets(conn, eng.pack.id)

    def ended(text: str, done: set[str | None]) -> bool:
        return set(json.loads(text)) <= done

    conds: list[Condition] = []
    all_ended = [t for t in combos if ended(t, everyone)]
    if all_ended:
        conds.append(lifecycle_store.with_purpose_sets(base, all_ended))
    for sid, done in sorted(per_person.items()):
        mine = [t for t in combos if ended(t, done | everyone) and t not in all_ended]
        if mine:
            conds.append(lifecycle_store.with_purpose_sets(base, mine, sid))
    return conds or None
