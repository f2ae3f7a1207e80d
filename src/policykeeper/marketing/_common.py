"""What every part of marketing shares: the pack's marketing and cookie rules, the person's marketing choice from the
engine's facts, refusals audited as decisions, and withdrawing the choice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection

from .. import audit, consent
from .._exceptions import DeniedError, SubjectNotFoundError
from ..engine import Decision, PolicyEngine, Reason
from ..pack._lifecycle import CookieRule, MarketingRule
from ..store import people as people_store

MARKETING = "marketing"
"""The consent-ledger target that holds a person's marketing choice."""


def _rule(eng: PolicyEngine) -> MarketingRule | None:
    m = eng.pack.marketing
    return None if isinstance(m, str) else m


def _cookies(eng: PolicyEngine) -> CookieRule | None:
    c = eng.pack.cookies
    return None if isinstance(c, str) else c


def _promises(rule: MarketingRule | CookieRule | None) -> tuple[str, ...]:
    if rule is None:
        return ()
    found = dict.fromkeys(rule.promises)
    for sub in rule.rules:
        found.update(dict.fromkeys(sub.promises))
    return tuple(found)


def _targets(eng: PolicyEngine) -> frozenset[str]:
    """The ledger targets that count as the marketing choice: 'marketing' and the pack's marketing consents."""
    return frozenset({MARKETING} | {c.id for c in eng.pack.consents if c.scope == "marketing"})


def _deny(eng: PolicyEngine, action: str, code: str, message: str, rule: str, promises: Iterable[str],
          subject_id: str | None, detail: Mapping[str, object], actor: str, now: dt.datetime) -> DeniedError:
    """Audit a refusal in its own transaction (the refusal is evidence too) and return the error to raise."""
    d = Decision(False, action, (Reason(code, message, rule, tuple(promises)),), eng.pack.id, eng.compiled.version)
    return _refused(eng, d, subject_id, detail, actor, now)


def _refused(eng: PolicyEngine, d: Decision, subject_id: str | None, detail: Mapping[str, object], actor: str,
             now: dt.datetime) -> DeniedError:
    with eng.db.begin() as conn:
        audit.record(conn, kind="decision", actor=actor, subject_id=subject_id, decision_id=d.decision_id,
                     allowed=False, promises=d.promises, pack_version=d.pack_version, at=now,
                     detail={"action": d.action, "codes": [r.code for r in d.denials],
                             "rules": [r.rule for r in d.denials], **detail})
    first = d.denials[0]
    refs = f" ({', '.join(first.promises)})" if first.promises else ""
    return DeniedError(f"{first.message} [rule {first.rule}]{refs}", d)



def _subject_id(eng: PolicyEngine, conn: Connection, external_id: str) -> str:
    row = people_store.by_lookup(conn, eng.keys.lookup_hash(external_id))
    if row is None or row.wrapped_key is None or eng.keys.is_shredded(row.id):
        raise SubjectNotFoundError("no data is held about that person")
    return row.id


def _receives(eng: PolicyEngine, conn: Connection, sid: str, now: dt.datetime) -> bool:
    """Whether the person's marketing choice (consents and withdrawals, from the engine's one fact path) lets
    marketing reach them now, under the pack's basis."""
    rule = _rule(eng)
    if rule is None or rule.basis == "unspecified":
        return False
    facts = eng.facts_for(conn, sid, now=now)
    targets = _targets(eng)
    if not facts.consents.isdisjoint(targets):
        return True
    return rule.basis == "opt_out" and facts.objections.isdisjoint(targets)


_HALTED = (("restricted", "restricted", "the person restricted the processing of their data: no marketing"),
           ("queued_for_deletion", "queued_for_deletion", "the person's data is queued for deletion: no marketing"))


def _halted(eng: PolicyEngine, conn: Connection, sid: str, now: dt.datetime) -> tuple[str, str] | None:
    """(code, words) when the engine's records stop all use of the person's data for marketing (a restriction,
    the deletion queue, the policy declined), whatever their marketing choice; None otherwise."""
    facts = eng.facts_for(conn, sid, now=now)
    for fact, code, words in _HALTED:
        if facts.holds(fact):
            return code, words
    if facts.policy_declined:
        return "policy_declined", "the person declined the policy: no processing, marketing included"
    return None


def _withdraw(eng: PolicyEngine, conn: Connection, sid: str, by: str, now: dt.datetime) -> bool:
    """Record 'withdrawn' for every marketing target still held (and 'marketing' itself); False if nothing changed."""
    given, withdrawn = consent.state_as_of(conn, sid, now)
    todo = sorted((given & _targets(eng)) | ({MARKETING} - withdrawn))
    for target in todo:
        _record_choice(eng, conn, sid, target, "withdrawn", by, now)
    return bool(todo)


def _record_choice(eng: PolicyEngine, conn: Connection, sid: str, target: str, action: consent.ConsentAction, by: str,
                   now: dt.datetime) -> None:
    """One marketing choice in the consent ledger (evidence: who or what made it) and its audit entry."""
    consent.record(conn, subject_id=sid, pack=eng.pack, target=target, action=action, at=now, evidence={"by": by})
    audit.record(conn, kind="consent", actor=by, subject_id=sid, at=now, pack_version=eng.compiled.version,
                 promises=_promises(_rule(eng)), detail={"target": target, "action": action, "by": by})
