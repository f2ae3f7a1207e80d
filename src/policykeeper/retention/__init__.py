"""Retention: the end of each retention period, enforced by a sweep.

Each retention rule of the pack says which categories it governs, when its period starts (collection, a
transaction, the end of a purpose, the cancellation of the account, the end of the service, or the person's own
"clear" action), how long it runs and what happens at the end (delete, anonymise, restrict access, or keep as a
record). Events that start a period are written to ``lifecycle_events`` as they happen (:func:`end_purpose`,
:func:`cancel_account`, :func:`cease_service`); :func:`sweep` then applies every end action that is due.

How the sweep works:

* **Set-based.** Each rule is one statement per window of record ids (``batch`` ids wide), never one per row. A
  window is one transaction holding the change and its audit entry, so a crash loses nothing and a re-run only
  does what is still due.
* **Legal holds win.** A record under a legal hold (:func:`place_legal_hold`) is never swept; the run counts it.
* **No personal values.** Runs (``retention_runs``) and audit entries hold rule ids, counts and the action taken.
* **The most specific rule governs.** A category a rule names explicitly is not swept by a rule for ``all``
  categories; a rule that keeps a category as a record (KOKKOK's payment records) exempts it from purpose-end sweeps.
* **Open-ended periods need a number.** "As long as necessary" runs until the event that ends it (the purpose's
  end, the cancellation); "a reasonable period" is :data:`DEFAULT_PERIODS` unless configured; "as the law
  requires" is never swept automatically unless the operator configures a period for that rule.
* **No run left "running".** A run records its process (host, pid and the pid's start time) and a heartbeat with
  every window; a run that raises is marked failed, and the next sweep marks a run whose process is gone (or that
  has not been heard from for :data:`STALE_AFTER`) failed too, taken over by itself, which does what is left.
* **Anonymisation** turns the records into counts per category and month (``anonymous_aggregates``) and deletes them:
  what is left has no person behind it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, cast, func, or_, select, update
from sqlalchemy import String as SqlString

from .. import audit
from .._exceptions import BadValueError, ConfigError, SubjectNotFoundError
from ..clock import after, utc
from ..engine import PolicyEngine
from ..pack._lifecycle import RetentionRule
from ..pack._types import FixedDuration
from ..store._schema import anonymous_aggregates, lifecycle_events, message_log, records, retention_runs, subjects

__all__ = [
    "DEFAULT_PERIODS",
    "END_ACTIONS",
    "RuleOutcome",
    "SweepReport",
    "cancel_account",
    "cancel_account_subject",
    "cease_service",
    "check_account",
    "clear_history",
    "end_purpose",
    "history_cleared",
    "place_legal_hold",
    "release_legal_hold",
    "sweep",
]

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


@dataclass
class RuleOutcome:
    """What a sweep did (or, on a dry run, would do) for one rule; counts only."""

    rule: str
    action: str
    promises: tuple[str, ...]
    affected: int = 0
    held: int = 0
    skipped: str | None = None
    conflict: str | None = None
    """Set when held records are due under a rule that makes no exception for a longer legal requirement
    (``legal_hold_override: false``): they are kept (a hold is never broken) but the pack's promise is not, and a
    person must resolve it."""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "action": self.action, "affected": self.affected, "held": self.held,
                "skipped": self.skipped, "conflict": self.conflict, "promises": list(self.promises)}


@dataclass
class SweepReport:
    """One sweep: its id in ``retention_runs`` (None on a dry run) and each rule's outcome."""

    run_id: int | None
    dry_run: bool
    rules: list[RuleOutcome] = field(default_factory=list)

    @property
    def affected(self) -> int:
        return sum(r.affected for r in self.rules)

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "dry_run": self.dry_run, "affected": self.affected,
                "rules": [r.as_dict() for r in self.rules]}


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


# -- events -------------------------------------------------------------------------------------------------------

def _subject(eng: PolicyEngine, conn: Connection, external_id: str) -> str:
    found = eng._find(conn, external_id)
    if found is None:
        raise SubjectNotFoundError("no data is held about that person")
    return found[0]


def _event(eng: PolicyEngine, conn: Connection, kind: str, sid: str | None, purpose: str | None, at: dt.datetime,
           actor: str, promises: Iterable[str], detail: Mapping[str, Any] | None = None) -> int:
    eid = conn.execute(lifecycle_events.insert().values(
        pack_id=eng.pack.id, kind=kind, subject_id=sid, purpose=purpose, at=at, detail=dict(detail or {}),
    ).returning(lifecycle_events.c.id)).scalar_one()
    audit.record(conn, kind="lifecycle", actor=actor, subject_id=sid, at=at, pack_version=eng.compiled.version,
                 promises=tuple(dict.fromkeys(promises)),
                 detail={"event": kind, "purpose": purpose, "id": int(eid), **(detail or {})})
    return int(eid)


def _rule_promises(eng: PolicyEngine, start: str) -> tuple[str, ...]:
    rules = eng.pack.retention
    found: dict[str, None] = {}
    if not isinstance(rules, str):
        for r in rules:
            if r.start == start:
                found.update(dict.fromkeys(r.promises))
    return tuple(found)


def end_purpose(eng: PolicyEngine, purpose: str, external_id: str | None = None, *, actor: str = "app",
                now: dt.datetime | None = None) -> int:
    """Record that a purpose has ended, for one person or (``external_id`` None) for everyone.

    Records whose every purpose has ended then fall to the purpose-end retention rules at the next sweep."""
    now = now or dt.datetime.now(dt.UTC)
    if purpose not in eng.compiled.purposes:
        raise BadValueError(f"{purpose!r} is not a purpose of the {eng.pack.id} pack")
    with eng.db.begin() as conn:
        sid = _subject(eng, conn, external_id) if external_id is not None else None
        return _event(eng, conn, "purpose_ended", sid, purpose, now, actor, _rule_promises(eng, "purpose_end"))


def cancel_account(eng: PolicyEngine, external_id: str, *, actor: str = "subject", now: dt.datetime | None = None) -> int:
    """Record that the person closed their account; rules that keep data "while the service is used" end now."""
    with eng.db.connect() as conn:
        sid = _subject(eng, conn, external_id)
    return cancel_account_subject(eng, sid, actor=actor, now=now)


def cancel_account_subject(eng: PolicyEngine, sid: str, *, actor: str = "subject",
                           now: dt.datetime | None = None) -> int:
    """``cancel_account`` for a pseudonymous subject id (a signed-in privacy-center session).

    Whether the person has an account is the engine's fact (``account_exists``, from the records of a context the
    pack marks ``creates_account``), never the caller's: cancelling where there is none is refused
    (:class:`BadValueError`) and changes nothing, as it would start the account rules' clock on data no account
    holds."""
    now = now or dt.datetime.now(dt.UTC)
    with eng.db.begin() as conn:
        already = _cancelled_event(conn, sid)
        if already is not None:
            return already  # cancelling twice changes nothing
        check_account(eng, conn, sid, now)
        return _event(eng, conn, "account_cancelled", sid, None, now, actor, _rule_promises(eng, "account_cancelled"))


def _cancelled_event(conn: Connection, sid: str) -> int | None:
    row = conn.execute(select(lifecycle_events.c.id).where(
        lifecycle_events.c.kind == "account_cancelled", lifecycle_events.c.subject_id == sid)).first()
    return None if row is None else int(row[0])


def check_account(eng: PolicyEngine, conn: Connection, sid: str, now: dt.datetime) -> None:
    """Refuse (:class:`BadValueError`) to cancel the account of a person who has none: the engine's fact
    ``account_exists`` (one fact path), or a cancellation already recorded (a re-run after a crash)."""
    if _cancelled_event(conn, sid) is None and not eng.facts_for(conn, sid, now=now).holds("account_exists"):
        raise BadValueError("that person has no account to cancel (no data is held from a collection context that "
                            "opens one): handle it as an erasure, or refuse it")


def cease_service(eng: PolicyEngine, *, at: dt.datetime, reference: str, announcement: str, actor: str = "admin",
                  now: dt.datetime | None = None) -> int:
    """Record that the service shuts down at ``at`` and tell people through every channel the pack's cessation rule
    names: an ``announcement`` is recorded for everyone, ``push`` and ``email`` put one message per reachable person
    in the outbox. A channel with no transport (e.g. ``sms``) fails the whole call, naming it, before anything is
    written. Its data falls to the pack's cessation rule from ``at`` on, through the deletion service.
    ``announcement`` is the public text (no personal data)."""
    now = now or dt.datetime.now(dt.UTC)
    rule = eng.pack.service_cessation
    if isinstance(rule, str):
        raise ConfigError(f"the {eng.pack.id} pack says nothing about a shutdown; there is no cessation rule to apply")
    if not reference.strip() or len(reference) > 120:
        raise BadValueError("reference must be a decision or ticket id (1 to 120 characters)")
    if not announcement.strip():
        raise BadValueError("a shutdown needs the announcement users will see")
    from ..i18n import gettext_for, language_of_pack
    from ..notify import PUBLIC_CHANNELS, enqueue_to_person, require_transports
    from ..store import languages as language_store

    channels = list(dict.fromkeys(rule.notify_channels))
    require_transports(channels, f"the {eng.pack.id} pack's shutdown notice ({', '.join(rule.promises)})")
    text = announcement.strip()
    with eng.db.begin() as conn:
        eid = _event(eng, conn, "service_ceased", None, None, at, actor, rule.promises,
                     {"reference": reference.strip(), "recorded_at": now.isoformat(), "channels": channels})
        topic = f"service_ceased:{eid}"
        people = [str(s) for s in conn.execute(select(subjects.c.id).where(
            subjects.c.pack_id == eng.pack.id, subjects.c.wrapped_key.is_not(None)).order_by(subjects.c.id)).scalars()
            if not eng.keys.is_shredded(s)]
        sent: dict[str, dict[str, int]] = {}
        for channel in channels:
            if channel in PUBLIC_CHANNELS:
                conn.execute(message_log.insert().values(
                    pack_id=eng.pack.id, subject_id="", kind="announcement", channel=channel, topic=topic,
                    outbox_id=None, created_at=now))
                sent[channel] = {"queued": 1, "unreachable": 0}
                continue
            queued = unreachable = 0
            for sid in people:
                to = eng.email_of_subject(conn, sid) if channel == "email" else sid  # push: the pseudonymous id
                if not to:
                    unreachable += 1
                    continue
                _ = gettext_for(language_store.of_subject(conn, eng.keys, sid) or language_of_pack(eng.pack.language))
                mid = enqueue_to_person(conn, eng.keys, kind="service_notice", channel=channel, to=to,
                                        subject=_("%(controller)s: the service is shutting down",
                                                  controller=eng.pack.controller.legal_name),
                                        body=text + "\n", now=now, extra={"event": eid})  # the operator's words
                conn.execute(message_log.insert().values(
                    pack_id=eng.pack.id, subject_id=sid, kind="service", channel=channel, topic=topic, outbox_id=mid,
                    created_at=now))
                queued += 1
            sent[channel] = {"queued": queued, "unreachable": unreachable}
        conn.execute(update(lifecycle_events).where(lifecycle_events.c.id == eid).values(
            detail={"reference": reference.strip(), "recorded_at": now.isoformat(), "announcement": text,
                    "channels": channels, "notices": sent}))
        audit.record(conn, kind="service_notice", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=rule.promises, detail={"event": eid, "notices": sent})
        return eid


def _clear_rule(eng: PolicyEngine, rule_id: str) -> RetentionRule:
    rules = () if isinstance(eng.pack.retention, str) else eng.pack.retention
    for r in rules:
        if r.id == rule_id:
            if r.start != "user_clear_action":
                raise BadValueError(f"retention rule {rule_id!r} is not ended by the person's own action")
            return r
    clearable = [r.id for r in rules if r.start == "user_clear_action"]
    raise BadValueError(f"no retention rule {rule_id!r} in the {eng.pack.id} pack"
                        + (f"; the person can clear: {', '.join(clearable)}" if clearable else ""))


def clear_history(eng: PolicyEngine, external_id: str, rule_id: str, *, actor: str = "subject",
                  now: dt.datetime | None = None) -> int:
    """The person's own "clear" control (e.g. KOSO's clear history): delete that rule's records now through the
    deletion service (their keys destroyed, so no backup brings them back readable), in one transaction, and leave
    an event that :func:`history_cleared` checks. Returns how many records were deleted. A record under a legal
    hold is kept where the rule lets the law win; otherwise the clearing fails and changes nothing."""
    from ..deletion import erase_person_in, governing

    now = now or dt.datetime.now(dt.UTC)
    rule = _clear_rule(eng, rule_id)
    cats = _named(eng, rule)
    with eng.db.begin() as conn:
        sid = _subject(eng, conn, external_id)
        report = erase_person_in(eng, conn, sid, cause="clear_history", actor=actor, reason=f"rule {rule.id}",
                                 now=now, scope=records.c.category.in_(cats),
                                 gov=governing(eng, "clear_history", rule_id=rule.id))
        _event(eng, conn, "history_cleared", sid, None, now, actor, rule.promises,
               {"rule": rule.id, "deleted": report.deleted, "kept": sum(k.records for k in report.kept)})
    return report.deleted


def history_cleared(eng: PolicyEngine, external_id: str, rule_id: str) -> bool:
    """Can it be checked that the history is gone? True when the person cleared it and no record of those
    categories collected before the clearing is left."""
    rule = _clear_rule(eng, rule_id)
    with eng.db.connect() as conn:
        sid = _subject(eng, conn, external_id)
        last = conn.execute(select(func.max(lifecycle_events.c.at)).where(
            lifecycle_events.c.kind == "history_cleared", lifecycle_events.c.subject_id == sid)).scalar()
        if last is None:
            return False
        left = conn.execute(select(func.count()).select_from(records).where(
            records.c.subject_id == sid, records.c.category.in_(_named(eng, rule)), records.c.collected_at <= last,
            records.c.status == "active")).scalar_one()
    return int(left) == 0


# -- legal holds --------------------------------------------------------------------------------------------------

def place_legal_hold(eng: PolicyEngine, external_id: str, *, reference: str, categories: Iterable[str] | None = None,
                     actor: str = "privacy_officer", now: dt.datetime | None = None, release: bool = False) -> int:
    """Put (or with ``release`` take off) a legal hold on a person's records, all or some categories: held records
    outlive their retention period until released. Returns how many records changed."""
    now = now or dt.datetime.now(dt.UTC)
    if not reference.strip() or len(reference) > 120:
        raise BadValueError("reference must be the legal matter's id (1 to 120 characters, no personal data)")
    cats = sorted(set(categories)) if categories is not None else None
    unknown = [c for c in cats or () if c not in eng.compiled.categories]
    if unknown:
        raise BadValueError(f"not data categories of the {eng.pack.id} pack: {', '.join(unknown)}")
    with eng.db.begin() as conn:
        sid = _subject(eng, conn, external_id)
        cond = and_(records.c.subject_id == sid, records.c.status.in_(("active", "blocked")))
        if cats is not None:
            cond = and_(cond, records.c.category.in_(cats))
        n = conn.execute(update(records).where(cond).values(
            legal_hold=not release, legal_hold_ref=None if release else reference.strip())).rowcount
        audit.record(conn, kind="legal_hold", actor=actor, subject_id=sid, at=now, pack_version=eng.compiled.version,
                     detail={"event": "released" if release else "placed", "reference": reference.strip(),
                             "categories": cats or "all", "records": n})
    return int(n)


def release_legal_hold(eng: PolicyEngine, external_id: str, *, reference: str, categories: Iterable[str] | None = None,
                       actor: str = "privacy_officer", now: dt.datetime | None = None) -> int:
    """Take a legal hold off; the records fall to their retention rules at the next sweep."""
    return place_legal_hold(eng, external_id, reference=reference, categories=categories, actor=actor, now=now,
                            release=True)


# -- the sweep ----------------------------------------------------------------------------------------------------

def _named(eng: PolicyEngine, rule: RetentionRule) -> list[str]:
    if rule.categories == "all":
        return sorted(eng.compiled.categories)
    return list(rule.categories)


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


def _json_text(col: Any) -> ColumnElement[str]:
    return cast(col, SqlString)


def _has_purpose(purpose: str) -> ColumnElement[bool]:
    return _json_text(records.c.purposes).like(f'%"{purpose}"%')


def _due(eng: PolicyEngine, conn: Connection, plan: _Plan, now: dt.datetime) -> list[ColumnElement[bool]] | None:
    """Conditions (OR-ed) that select a plan's records whose period is over, or None when nothing can be due."""
    assert plan.period is not None
    base = [records.c.pack_id == eng.pack.id, records.c.status == "active"]
    if plan.categories is not None:
        base.append(records.c.category.in_(plan.categories))
    if plan.excluded:
        base.append(records.c.category.not_in(plan.excluded))
    if plan.purposes is not None:
        base.append(or_(*[_has_purpose(p) for p in plan.purposes]))
    if plan.start in ("collection", "transaction", "last_use"):
        return [and_(*base, records.c.collected_at <= after(now, plan.period, back=True))]
    kind = _START_EVENT[plan.start]
    events = conn.execute(select(lifecycle_events.c.subject_id, lifecycle_events.c.purpose, lifecycle_events.c.at)
                          .where(lifecycle_events.c.pack_id == eng.pack.id, lifecycle_events.c.kind == kind)).all()
    ripe = [e for e in events if after(utc(e.at), plan.period) <= now]
    if not ripe:
        return None
    if plan.start == "service_ceased":
        return [and_(*base)]
    if plan.start == "account_cancelled":
        sids = sorted({e.subject_id for e in ripe if e.subject_id})
        return [and_(*base, records.c.subject_id.in_(
            select(lifecycle_events.c.subject_id).where(lifecycle_events.c.pack_id == eng.pack.id,
                                                         lifecycle_events.c.kind == kind,
                                                         lifecycle_events.c.subject_id.in_(sids))))]
    # purpose_end: a record is due once every purpose it was collected for has ended (for everyone, or for that
    # person); a record that also serves a purpose still running (KOKKOK: safety and security) stays
    everyone = {e.purpose for e in ripe if e.subject_id is None}
    per_person: dict[str, set[str]] = {}
    for e in ripe:
        if e.subject_id is not None:
            per_person.setdefault(e.subject_id, set()).add(e.purpose)
    combos = [str(t) for (t,) in conn.execute(select(_json_text(records.c.purposes)).where(
        records.c.pack_id == eng.pack.id, records.c.status == "active").distinct())]
    def ended(text: str, done: set[str]) -> bool:
        return set(json.loads(text)) <= done

    conds: list[ColumnElement[bool]] = []
    all_ended = [t for t in combos if ended(t, everyone)]
    if all_ended:
        conds.append(and_(*base, _json_text(records.c.purposes).in_(all_ended)))
    for sid, done in sorted(per_person.items()):
        mine = [t for t in combos if ended(t, done | everyone) and t not in all_ended]
        if mine:
            conds.append(and_(*base, records.c.subject_id == sid, _json_text(records.c.purposes).in_(mine)))
    return conds or None


def _period_text(conn: Connection) -> ColumnElement[str]:
    if conn.dialect.name == "postgresql":
        return func.to_char(records.c.collected_at, "YYYY-MM")
    return func.strftime("%Y-%m", records.c.collected_at)


def _anonymise(conn: Connection, pack_id: str, cond: ColumnElement[bool]) -> None:
    period = _period_text(conn).label("period")
    rows = conn.execute(select(records.c.category, period, func.count().label("n")).where(cond)
                        .group_by(records.c.category, period)).all()
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(anonymous_aggregates).values([
        {"pack_id": pack_id, "category": r.category, "purpose": "", "period": r.period, "count": r.n} for r in rows])
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["pack_id", "category", "purpose", "period"],
        set_={"count": anonymous_aggregates.c.count + stmt.excluded["count"]}))


def _apply(eng: PolicyEngine, conn: Connection, action: Action, cond: ColumnElement[bool], now: dt.datetime) -> int:
    """One window of a rule's end action. Deleting and anonymising go through the deletion service, which destroys
    the keys of what goes (so no backup brings it back readable)."""
    from ..deletion import delete_where

    if action == "restrict_access":
        return int(conn.execute(update(records).where(cond).values(status="blocked")).rowcount)
    if action == "anonymize":
        _anonymise(conn, eng.pack.id, cond)
    return delete_where(eng, conn, cond, now=now)[0]


Progress = Callable[[str, int, int], None]
"""Called as ``progress(rule_id, windows_done, windows_total)`` during long sweeps."""


def sweep(
    eng: PolicyEngine,
    *,
    dry_run: bool = False,
    periods: Mapping[str, FixedDuration] | None = None,
    actions: Mapping[str, str] | None = None,
    batch: int = 50_000,
    progress: Progress | None = None,
    actor: str = "worker",
    now: dt.datetime | None = None,
) -> SweepReport:
    """Apply every end-of-retention action that is due; safe to re-run at any time, also after a crash.

    ``periods`` gives numbers to open-ended rules (by rule id, or by word such as ``reasonable_period``);
    ``actions`` picks the end action where the pack leaves a choice (by rule id; default the first the pack names,
    usually delete). A dry run counts what would change and changes nothing."""
    now = now or dt.datetime.now(dt.UTC)
    if batch < 1:
        raise BadValueError("batch must be at least 1")
    plans = _plans(eng, {**(periods or {})}, actions or {})
    report = SweepReport(None, dry_run)
    with eng.db.begin() as conn:
        bounds = conn.execute(select(func.min(records.c.id), func.max(records.c.id))
                              .where(records.c.pack_id == eng.pack.id)).first()
        held_any = conn.execute(select(records.c.id).where(records.c.pack_id == eng.pack.id,
                                                           records.c.legal_hold.is_(True)).limit(1)).first() is not None
        owner = _owner()
        if not dry_run:
            report.run_id = int(conn.execute(retention_runs.insert().values(
                pack_id=eng.pack.id, started_at=now, dry_run=False, status="running", actor=actor, detail=owner,
            ).returning(retention_runs.c.id)).scalar_one())
            _take_over(conn, eng, report.run_id, actor, now)
    if dry_run:
        return _sweep(eng, plans, report, bounds, held_any, batch, progress, actor, now, owner)
    try:
        return _sweep(eng, plans, report, bounds, held_any, batch, progress, actor, now, owner)
    except BaseException:
        with eng.db.begin() as conn:  # what was done stays done (and audited); the run says it did not finish
            conn.execute(update(retention_runs).where(retention_runs.c.id == report.run_id).values(
                finished_at=dt.datetime.now(dt.UTC), status="failed", detail={**report.as_dict(), **owner}))
        raise


STALE_AFTER = dt.timedelta(minutes=15)
"""A run not heard from for this long (no window finished) is taken to be dead, wherever it ran."""


def _start_tag(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), to tell it from a later one with its pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_started": _start_tag(os.getpid()),
            "heartbeat": dt.datetime.now(dt.UTC).isoformat()}


def _gone(detail: Any) -> bool:
    """Whether the process a run recorded is no longer running (on this host), or has not been heard from for
    :data:`STALE_AFTER` (anywhere)."""
    detail = detail if isinstance(detail, dict) else {}
    try:
        beat = dt.datetime.fromisoformat(str(detail["heartbeat"]))
    except (KeyError, ValueError):
        beat = None
    if beat is None or utc(beat) < dt.datetime.now(dt.UTC) - STALE_AFTER:
        return True
    if detail.get("host") != socket.gethostname() or not isinstance(detail.get("pid"), int):
        return False
    pid = int(detail["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    tag = _start_tag(pid)
    return detail.get("pid_started") is not None and tag is not None and tag != detail["pid_started"]


def _take_over(conn: Connection, eng: PolicyEngine, run_id: int, actor: str, now: dt.datetime) -> None:
    """Mark runs of this pack left "running" by a process that is gone as failed, taken over by ``run_id``: the
    sweep is idempotent, so this run does what they left undone."""
    for old in conn.execute(select(retention_runs.c.id, retention_runs.c.detail).where(
            retention_runs.c.pack_id == eng.pack.id, retention_runs.c.status == "running",
            retention_runs.c.id != run_id)).all():
        if not _gone(old.detail):
            continue
        detail = {**(old.detail if isinstance(old.detail, dict) else {}), "taken_over_by": run_id}
        conn.execute(update(retention_runs).where(retention_runs.c.id == old.id, retention_runs.c.status == "running")
                     .values(status="failed", finished_at=dt.datetime.now(dt.UTC), detail=detail))
        audit.record(conn, kind="retention", actor=actor, at=now, pack_version=eng.compiled.version,
                     detail={"run": old.id, "event": "taken_over", "by": run_id})


def _sweep(eng: PolicyEngine, plans: list[_Plan], report: SweepReport, bounds: Any, held_any: bool, batch: int,
           progress: Progress | None, actor: str, now: dt.datetime, owner: dict[str, Any]) -> SweepReport:
    dry_run = report.dry_run
    lo, hi = (bounds[0], bounds[1]) if bounds and bounds[0] is not None else (1, 0)
    for plan in plans:
        out = RuleOutcome(plan.rule_id, plan.action or "keep_as_record", plan.promises)
        report.rules.append(out)
        if plan.action is None:
            out.skipped = "kept as a record (exempt from end-of-purpose deletion)"
            continue
        if plan.period is None:
            out.skipped = "the pack gives no period; configure one for this rule to sweep it"
            continue
        with eng.db.connect() as conn:
            conds = _due(eng, conn, plan, now)
            if conds is None:
                continue
            due = or_(*conds)
            if held_any:
                out.held = int(conn.execute(select(func.count()).select_from(records)
                                            .where(due, records.c.legal_hold.is_(True))).scalar_one())
            if out.held and not plan.law_wins:
                out.conflict = (f"{out.held} record(s) under legal hold are due, and rule {plan.rule_id} "
                                f"({', '.join(plan.promises)}) makes no exception for a longer legal requirement: "
                                "kept, as a hold is never broken; release the hold or amend the pack")
            if dry_run:
                out.affected = int(conn.execute(select(func.count()).select_from(records)
                                                .where(due, records.c.legal_hold.is_(False))).scalar_one())
                continue
        windows = max(1, (hi - lo) // batch + 1)
        for n in range(windows):
            start = lo + n * batch
            cond = and_(due, records.c.legal_hold.is_(False), records.c.id >= start, records.c.id < start + batch)
            with eng.db.begin() as conn:
                done = _apply(eng, conn, plan.action, cond, now)
                if done:
                    out.affected += done
                    audit.record(conn, kind="retention", actor=actor, at=now, pack_version=eng.compiled.version,
                                 promises=plan.promises, detail={"run": report.run_id, "rule": plan.rule_id,
                                                                 "action": plan.action, "records": done})
                owner["heartbeat"] = dt.datetime.now(dt.UTC).isoformat()  # alive: nobody takes this run over
                conn.execute(update(retention_runs).where(retention_runs.c.id == report.run_id).values(
                    detail={**report.as_dict(), **owner}))
            if progress is not None:
                progress(plan.rule_id, n + 1, windows)
    if not dry_run:
        with eng.db.begin() as conn:
            for out in report.rules:
                if out.conflict:
                    audit.record(conn, kind="deletion_blocked", actor=actor, at=now, pack_version=eng.compiled.version,
                                 promises=out.promises, detail={"run": report.run_id, "rule": out.rule,
                                                                "held": out.held, "why": out.conflict})
            conn.execute(update(retention_runs).where(retention_runs.c.id == report.run_id).values(
                finished_at=dt.datetime.now(dt.UTC), status="done", detail={**report.as_dict(), **owner}))
    return report

