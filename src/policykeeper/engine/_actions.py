"""The guarded actions on people's data: collect, read, aggregate and share. Each decides with the facts the engine
holds, records the decision in the same transaction as the action, then acts or raises."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from .. import audit
from .._exceptions import BadValueError, SubjectNotFoundError
from ..crypto import encrypt, unwrap_data_key
from ..crypto._groups import group_key
from ..store import people as people_store
from ..store import values as value_store
from . import _facts
from ._common import KEY, NO_FACTS, Collected, NotCollectedFor, Released, check_actor, denied
from ._consent import accept_by_use, agreed_version
from ._decide import decide
from ._decisions import deny, guard, record, subject_facts
from ._minors import queue_minor
from ._subjects import email_of_subject, find_or_create, values
from ._types import Collect, Decision, Facts, Obligation, Reason, Share, Use

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ._engine import PolicyEngine


def collect(eng: PolicyEngine, external_id: str, context: str, given: Mapping[str, str], facts: Facts, *,
            actor: str, now: dt.datetime | None) -> Collected:
    now = eng.clock.at(now)
    check_actor(actor)
    _facts.check_stated(facts)
    if facts.source is not None and not KEY.fullmatch(facts.source):
        raise BadValueError("source must be an entity id (lower case letters, digits, '_', '.', '-')")
    for cat, value in given.items():
        if not isinstance(value, str):
            raise BadValueError(f"value of {cat!r} must be text, not {type(value).__name__}")
    stated = facts
    with eng.db.connect() as conn:
        found, facts = subject_facts(eng, conn, external_id, facts, None, now, values=given)
    d = decide(eng.compiled, facts, Collect(context, frozenset(given)))
    detail = {"context": context, "categories": sorted(given), **_facts.attested(stated, actor)}
    if not d.allowed:
        if found is not None and {r.code for r in d.denials} & {"parental_consent_missing", "minor_blocked"}:
            queue_minor(eng, found[0], now)  # a minor discovered later, e.g. by a corrected birth date
        raise deny(eng, d, actor, found[0] if found else None, detail, now)
    entry = eng.compiled.contexts[context]
    ctx, fields = entry[1], entry[2]
    ids: list[int] = []
    with eng.db.begin() as conn:
        sid, key = find_or_create(eng, conn, external_id, now)
        accept_by_use(eng, conn, sid, now)
        for cat, value in sorted(given.items()):
            if cat in d.dropped:
                continue
            purposes = list(fields[cat].purposes or ctx.purposes)
            kid, gkey = group_key(conn, sid, key, cat, now)  # deleting this category destroys its own key
            rid = value_store.insert(conn, subject_id=sid, pack_id=eng.pack.id, pack_version=eng.compiled.version,
                                      context=context, category=cat, purposes=purposes, channel=facts.channel,
                                      source=facts.source, collected_at=now, key_id=kid)
            value_store.set_value(conn, rid, encrypt(gkey, value.encode(), f"{sid}|{cat}|{rid}"))
            ids.append(rid)
        record(eng, conn, d, actor, sid, detail, now)
    return Collected(d, sid, tuple(ids))


def released(found: tuple[str, bytes] | None, d: Decision, out: dict[str, list[str]] | None) -> Released:
    """After the transaction: raise for a denial (already audited) or an unknown person, else the values."""
    if not d.allowed:
        raise denied(d)
    if found is None or out is None:
        raise SubjectNotFoundError("no data is held about that person")
    got = Released(out)
    got.decision = d
    return got


def read(eng: PolicyEngine, external_id: str, purpose: str, categories: frozenset[str] | set[str], facts: Facts, *,
         actor: str, now: dt.datetime | None) -> Released:
    now = eng.clock.at(now)
    _facts.check_stated(facts)
    cats = frozenset(categories)
    detail = {"purpose": purpose, "categories": sorted(cats), **_facts.attested(facts, actor)}
    out: dict[str, list[str]] | None = None
    with eng.db.begin() as conn:  # decide, record and read in one transaction
        found, d, known, held = guard(eng, conn, external_id, facts, Use(purpose, cats), detail, actor, now)
        if found is not None and d.allowed:
            # reusing data collected for another purpose needs the person's prior consent to this purpose
            reuse = not known.consents.isdisjoint({purpose, f"new_purpose:{purpose}"})
            try:
                out = values(eng, conn, found, cats, None if reuse else purpose, held=held)
            except NotCollectedFor as gap:
                p_index, p_rule = eng.compiled.purposes[purpose]
                d = replace(d, allowed=False, reasons=(*d.reasons, Reason(
                    "not_collected_for_purpose", f"the values held were collected for other purposes, not {purpose!r}"
                    f" ({gap.withheld} withheld)", f"purposes.items[{p_index}]", p_rule.promises)))
            record(eng, conn, d, actor, found[0], detail, now)
    return released(found, d, out)


def aggregate(eng: PolicyEngine, purpose: str, category: str, *, min_group: int, actor: str,
              now: dt.datetime | None) -> dict[str, int]:
    now = eng.clock.at(now)
    check_actor(actor)
    if min_group < 2:
        raise BadValueError("min_group must be at least 2: a group of one singles a person out")
    action = Use(purpose, frozenset({category}), individual=False)
    d = decide(eng.compiled, NO_FACTS, action)
    detail = {"purpose": purpose, "categories": [category], "aggregate": True}
    if not d.allowed and not any(r.code == "consent_missing" for r in d.denials):
        raise deny(eng, d, actor, None, detail, now)
    counts: dict[str, int] = {}
    people = 0
    with eng.db.begin() as conn:
        for row in people_store.live(conn):
            if eng.keys.is_shredded(row.id) or row.wrapped_key is None or row.kek_id is None:
                continue
            key = unwrap_data_key(eng.keys.get(row.kek_id), row.wrapped_key, row.id)
            if not decide(eng.compiled, eng._facts_of(conn, (row.id, key, row.status), NO_FACTS, action, now),
                          action).allowed:
                continue
            held = values(eng, conn, (row.id, key), frozenset({category}))[category]
            for value in set(held):
                counts[value] = counts.get(value, 0) + 1
            people += 1 if held else 0
        out: dict[str, int] = {}
        for value, n in sorted(counts.items()):
            if n >= min_group:
                out[value] = n
            else:
                out["(other)"] = out.get("(other)", 0) + n
        audit.record(conn, kind="aggregate", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=d.promises, detail={**detail, "people": people, "groups": len(out)})
    return out


def share(eng: PolicyEngine, external_id: str, recipient: str, categories: frozenset[str] | set[str], purpose: str,
          facts: Facts, *, de_identify: bool, kind: str, actor: str, now: dt.datetime | None) -> Released:
    now = eng.clock.at(now)
    cats = frozenset(categories)
    _facts.check_stated(facts)  # de-identification too is the engine's own (``de_identify``), never a claim
    if kind not in ("share", "transfer_to_controller", "public_disclosure"):
        raise BadValueError(f"kind must be share, transfer_to_controller or public_disclosure, not {kind!r}")
    detail = {"recipient": recipient, "purpose": purpose, "categories": sorted(cats), "de_identified": de_identify,
              "kind": kind, **_facts.attested(facts, actor)}
    out: dict[str, list[str]] | None = None
    with eng.db.begin() as conn:  # decide, record, log the disclosure and read in one transaction
        found, d, _, held = guard(eng, conn, external_id, facts, Share(recipient, cats, purpose, kind), detail,
                                  actor, now)
        if found is not None and d.allowed:
            out = values(eng, conn, found, cats, held=held)
            if de_identify or d.obliges("de_identify"):
                out = {c: ["pseudonym:" + eng.keys.lookup_hash(f"{recipient}|{c}|{x}")[:24] for x in vs]
                       for c, vs in out.items()}
            if d.obliges("carry_agreed_policy_version"):
                detail = {**detail, "policy_version_carried": agreed_version(eng, conn, found[0])}
            notice = d.obliges("notify_subject")
            if notice is not None:  # the person is told, through the outbox, in the same transaction
                detail = {**detail, "notified": notify_subject(eng, conn, found[0], notice, now)}
            value_store.log_disclosure(conn, subject_id=found[0], recipient=recipient, categories=sorted(cats),
                                        purpose=purpose, ground=",".join(sorted(facts.grounds)) or None,
                                        decision_id=d.decision_id, at=now)
            record(eng, conn, d, actor, found[0], detail, now)
    return released(found, d, out)


def notify_subject(eng: PolicyEngine, conn: Connection, sid: str, notice: Obligation, now: dt.datetime
                   ) -> dict[str, object]:
    """Queue a notice to the person through the outbox: by email to the latest address held, else by push to
    their pseudonymous id. Returns what the audit entry keeps (channel and outbox id, no address)."""
    from ..notify import enqueue_to_person

    to = email_of_subject(eng, conn, sid)
    channel = "email" if to is not None else "push"
    oid = enqueue_to_person(conn, eng.keys, kind="subject_notice", channel=channel, to=to or sid,
                            subject=f"About your personal data at {eng.pack.name}", body=notice.text, now=now)
    return {"channel": channel, "outbox": oid}
