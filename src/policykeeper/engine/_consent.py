"""Consent: what a pack asks consent for, the notice before a refusal, recording consent (by identifier or by
pseudonymous id), acceptance by use, and which targets an older consent still covers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import audit, consent
from .._exceptions import BadValueError, SubjectNotFoundError
from ..store import ledger as ledger_store
from ..store import versions as version_store
from ._common import KEY
from ._subjects import find, find_or_create

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ._engine import PolicyEngine

_DECLINE_NOTICE = {
    "no_processing": "If you decline this policy, none of your data is processed: the service cannot be used.",
    "unspecified": "If you decline this policy, none of your data is processed: the service cannot be used.",
    "limited_service": "If you decline this policy, the service is limited: your data is processed only where the "
                       "law requires it.",
}
"""What a person is told before declining the policy, by the pack's ``acceptance.decline_effect`` (where no consent
rule of the policy gives its own notice)."""


def targets(eng: PolicyEngine) -> frozenset[str]:
    """The fixed targets of the pack's consents."""
    p = eng.pack
    ids = {c.id for c in p.consents} | {x.id for x in p.purposes.items} | {r.id for r in p.recipients}
    ids |= {c.id for c in p.data_categories} | {c.id for c in p.collection.contexts}
    ids |= {e.id for d in p.disclosures for e in d.exceptions}
    ids |= {"policy", "transfer", "sensitive_data", "identity_to_partners", "parental_consent"}
    ids |= {f"{r.id}:identity" for r in p.recipients} | {f"transfer:{r.id}" for r in p.recipients}
    if not isinstance(p.marketing, str):  # the marketing choice (opt-in or opt-out) lives in the ledger too
        ids.add("marketing")
    if eng.compiled.minors is not None and eng.compiled.minors.permitted_uses:
        ids |= {f"parental_consent:{x.id}" for x in p.purposes.items} | {f"parental_consent:{r.id}" for r in p.recipients}
    return frozenset(ids)


def is_target(eng: PolicyEngine, target: str) -> bool:
    """A fixed target of the pack, a new purpose (where the pack allows one with prior consent), or a
    consent-based disclosure exception naming its recipient ('explicit_consent:acme_ltd')."""
    if target in targets(eng):
        return True
    head, sep, key = target.partition(":")
    if not sep or not KEY.fullmatch(key):
        return False
    if head == "new_purpose":
        return eng.pack.purposes.undeclared == "require_prior_consent" and key not in eng.compiled.purposes
    exc = eng.compiled.exceptions.get(head)
    return exc is not None and exc.basis in ("explicit_consent", "separate_consent", "consent")


def agreed_version(eng: PolicyEngine, conn: Connection, sid: str) -> str:
    """The pack version the person last accepted (the current one if the ledger holds no acceptance)."""
    return ledger_store.last_accepted_version(conn, sid) or eng.compiled.version


def refusal_notice(eng: PolicyEngine, target: str) -> str | None:
    if not is_target(eng, target):
        raise BadValueError(f"{target!r} is not something this pack asks consent for")
    ids = eng.compiled.consent_targets.get(target, frozenset({target}))
    if target == "policy":
        ids = ids | {c.id for c in eng.pack.consents if c.scope == "policy"}
    notices = [c.refusal_notice for c in eng.pack.consents if c.id in ids and c.refusal_notice]
    if target == "policy" and not notices:  # what declining costs, as the pack's decline_effect says
        notices = [_DECLINE_NOTICE[eng.pack.acceptance.decline_effect]]
    return "\n".join(dict.fromkeys(notices)) or None


def accept_by_use(eng: PolicyEngine, conn: Connection, sid: str, now: dt.datetime) -> None:
    """Acceptance-by-use packs record acceptance of the current version on first use."""
    if eng.pack.acceptance.model != "implied_by_use" or _explicit_acceptance_only(eng, conn):
        return
    if not ledger_store.accepted_in_version(conn, sid, eng.compiled.version):
        consent.record(conn, subject_id=sid, pack=eng.pack, target="policy", action="accepted", at=now,
                       evidence={"by": "first_use"})
        audit.record(conn, kind="consent", actor="engine", subject_id=sid, at=now, pack_version=eng.compiled.version,
                     promises=eng.pack.acceptance.promises, detail={"target": "policy", "action": "accepted"})


def _explicit_acceptance_only(eng: PolicyEngine, conn: Connection) -> bool:
    """A published version that reduces rights binds a person only once they explicitly accept it."""
    if eng._explicit_only is None:
        row = version_store.version(conn, eng.pack.id, eng.pack.version.label)
        eng._explicit_only = bool(row is not None and row.changes and row.changes.get("explicit_consent_required"))
    return eng._explicit_only


def set_consent(eng: PolicyEngine, external_id: str, target: str, action: consent.ConsentAction, *, actor: str,
                evidence: Mapping[str, str] | None, now: dt.datetime | None) -> int:
    now = eng.clock.at(now)
    if not is_target(eng, target):
        raise BadValueError(f"{target!r} is not something this pack asks consent for")
    if action not in ("given", "withdrawn", "refused", "accepted"):
        raise BadValueError(f"consent action must be given, withdrawn, refused or accepted, not {action!r}")
    if action in ("withdrawn", "refused") and target in eng.compiled.purposes:
        purpose = eng.compiled.purposes[target][1]
        locked = [c for c in eng.pack.consents if c.basic_data_locked_while_used]
        if purpose.requires_consent in ("none", "implied_by_use") and locked:
            raise BadValueError(
                f"{purpose.name} runs on the basic data of a function in use, which cannot be withdrawn while the "
                f"function is used ({', '.join(p for c in locked for p in c.promises)}); stop using the function, "
                "or withdraw the consent for additional collection")
    exc = eng.compiled.exceptions.get(target.partition(":")[0])
    if action == "given" and exc is not None and exc.pre_notice_fields:
        missing = [f for f in exc.pre_notice_fields if not (evidence or {}).get(f)]
        if missing:
            raise BadValueError("this consent needs evidence of what the person was told first: "
                                + ", ".join(missing) + f" ({', '.join(exc.promises)})")
    t = eng.compiled.transfers
    is_transfer = target.partition(":")[0] == "transfer" or target in eng.compiled.consent_targets.get("transfer", ())
    if action == "given" and t is not None and t.inform_fields and is_transfer:
        missing = [f for f in t.inform_fields if not (evidence or {}).get(f)]
        if missing:
            raise BadValueError("consent to a cross-border transfer needs evidence that the person was told: "
                                + ", ".join(missing) + f" ({', '.join(t.promises)})")
    with eng.db.begin() as conn:
        sid, _ = find_or_create(eng, conn, external_id, now)
        notice = refusal_notice(eng, target) if action in ("withdrawn", "refused") else None
        if notice:  # the ledger keeps which consequence notice applied to this refusal
            evidence = {**(evidence or {}), "notice": notice}
        seq = consent.record(conn, subject_id=sid, pack=eng.pack, target=target, action=action, at=now,
                             evidence=evidence)
        rule = next((c for c in eng.pack.consents if c.id == target), None)
        audit.record(conn, kind="consent", actor=actor, subject_id=sid, at=now, pack_version=eng.compiled.version,
                     promises=rule.promises if rule else (), detail={"target": target, "action": action})
        if action == "withdrawn":
            from ..deletion import withdraw_in

            withdraw_in(eng, conn, sid, target, actor=actor, now=now)  # a retroactive rule deletes the data too
    return seq


def record_subject_consent(eng: PolicyEngine, subject_id: str, target: str, action: consent.ConsentAction, *,
                           actor: str, now: dt.datetime | None) -> int:
    now = eng.clock.at(now)
    if not is_target(eng, target):
        raise BadValueError(f"{target!r} is not something this pack asks consent for")
    with eng.db.begin() as conn:
        seq = consent.record(conn, subject_id=subject_id, pack=eng.pack, target=target, action=action, at=now,
                             evidence={"by": actor})
        audit.record(conn, kind="consent", actor=actor, subject_id=subject_id, at=now,
                     pack_version=eng.compiled.version, detail={"target": target, "action": action})
        if action == "withdrawn":
            from ..deletion import withdraw_in

            withdraw_in(eng, conn, subject_id, target, actor=actor, now=now)  # a retroactive rule deletes too
    return seq


def consents(eng: PolicyEngine, external_id: str, at: dt.datetime | None) -> frozenset[str]:
    with eng.db.connect() as conn:
        found = find(eng, conn, external_id)
        if found is None:
            raise SubjectNotFoundError("no data is held about that person")
        return consent.consents_as_of(conn, found[0], at)


def consent_receipt(eng: PolicyEngine, external_id: str, at: dt.datetime | None) -> dict[str, object]:
    at = eng.clock.at(at)
    with eng.db.connect() as conn:
        found = find(eng, conn, external_id)
        if found is None:
            raise SubjectNotFoundError("no data is held about that person")
        return consent.receipt(conn, eng.pack, found[0], at)


def in_scope(eng: PolicyEngine, conn: Connection, given: Mapping[str, str]) -> tuple[frozenset[str], frozenset[str]]:
    """(consents, uncovered targets). Consent covers what its rule covered in the version it was given under:
    when a later version added a purpose to a consent rule, the rule's older consent does not reach it."""
    current = eng._consent_rule_targets
    uncovered: set[str] = set()
    for target, label in given.items():
        if label == eng.pack.version.label or target not in current:
            continue
        earlier = _rule_targets(eng, conn, label).get(target)
        if earlier is not None:
            uncovered |= current[target] - earlier
    renewed = {t for t, label in given.items() if label == eng.pack.version.label}
    return frozenset(given), frozenset(uncovered - renewed)


def _rule_targets(eng: PolicyEngine, conn: Connection, label: str) -> Mapping[str, frozenset[str]]:
    """Each consent rule's targets in an earlier published version of this pack (empty if not on record)."""
    if label not in eng._earlier:
        from ..pack import Pack

        row = version_store.version(conn, eng.pack.id, label)
        rules = Pack.model_validate(row.document).consents if row is not None else ()
        eng._earlier[label] = {c.id: frozenset(c.targets) for c in rules}
    return eng._earlier[label]
