"""The one deletion path: every way personal data leaves goes through here.

Request erasure and account cancellation (``requests``), the person's own "clear history" control, the end of a
retention period and the shutdown of the service (``retention``), the minors' deletion queue and the withdrawal of
a consent whose rule is retroactive all call this service. It

* **honours legal holds and the pack's legal exceptions everywhere.** A record under a legal hold, or of a category
  the pack keeps as a record required by law (KOKKOK's electronic transaction records), is never destroyed. Where
  the rule that governs the deletion lets a longer legal requirement win (``legal_hold_override``, or a consent
  withdrawal that stops processing "except as legally permitted"), the rest goes and what was kept is reported
  with the reason. Where the rule promises the deletion without a legal exception, the deletion fails closed
  (:class:`ErasureIncompleteError`, nothing changed) and says which hold stands in the way.
* **leaves no readable copy, backups included**, also when only part of a person's data goes: every record is
  encrypted under a key of its person and category (``crypto/_groups.py``); deleting records destroys that key
  (records of the group that stay, such as held ones, are first re-encrypted under a fresh key) and journals it in
  the keystore as ``rk:<id>``, so a restore of an older backup destroys it again. Erasing the whole person destroys
  their own data key, journalled by their pseudonymous id, as before.
* **is one transaction per deletion and can be re-run after a crash**: a second run finds nothing left to delete.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from .. import audit
from .._exceptions import BadValueError, ErasureIncompleteError
from ..crypto import decrypt, encrypt, new_data_key, unwrap_data_key
from ..crypto._groups import GROUP_PREFIX
from ..store import erasure as erasure_store
from ..store import keys as key_store
from ..store import people as people_store
from ..store.erasure import Condition

if TYPE_CHECKING:
    from ..engine import PolicyEngine

__all__ = [
    "CAUSES",
    "DeletionReport",
    "Governing",
    "Kept",
    "covers_backups",
    "delete_where",
    "erase_person",
    "erase_person_in",
    "governing",
    "kept_by_law",
    "preflight",
    "withdraw_in",
]

CAUSES = ("request", "cancellation", "clear_history", "retention", "minor", "cessation", "consent_withdrawn",
          "erasure")
"""Why data is deleted; every deletion names one in its report and audit entry."""


@dataclass(frozen=True)
class Governing:
    """The pack rule a deletion keeps: its name, whether a longer legal requirement wins over it, its promises."""

    rule: str
    law_wins: bool
    promises: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kept:
    """Records a deletion kept, and why (no values: a category, a count, a reason, the legal matter's reference)."""

    category: str
    records: int
    reason: str
    """``legal_hold`` or ``kept_as_record`` (a record the pack keeps as the law requires)."""
    reference: str | None = None
    promises: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "records": self.records, "reason": self.reason,
                "reference": self.reference, "promises": list(self.promises)}

    def words(self, names: dict[str, str]) -> str:
        what = names.get(self.category, self.category)
        if self.reason == "legal_hold":
            why = "a legal hold" + (f" ({self.reference})" if self.reference else "")
        else:
            why = "a record the law requires us to keep"
        refs = f" [{', '.join(self.promises)}]" if self.promises else ""
        return f"{what}: {self.records} record(s) kept under {why}{refs}"


@dataclass(frozen=True)
class DeletionReport:
    """What one deletion did: records deleted, keys destroyed, what it kept and why, whether the person is gone."""

    subject_id: str | None
    cause: str
    rule: str
    deleted: int = 0
    keys_destroyed: int = 0
    kept: tuple[Kept, ...] = ()
    erased: bool = False
    """The whole person was crypto-shredded (their own data key destroyed)."""
    backups_covered: bool = True
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject_id, "cause": self.cause, "rule": self.rule, "deleted": self.deleted,
                "keys_destroyed": self.keys_destroyed, "kept": [k.as_dict() for k in self.kept],
                "erased": self.erased, "backups_covered": self.backups_covered}


# -- the pack's word -------------------------------------------------------------------------------------------------

def governing(eng: PolicyEngine, cause: str, *, rule_id: str | None = None) -> Governing:
    """The rule that governs a deletion of ``cause`` (a retention rule by id, the cessation rule, the erasure rule)."""
    pack = eng.pack
    rules = () if isinstance(pack.retention, str) else pack.retention
    if rule_id is not None:
        for r in rules:
            if r.id == rule_id:
                return Governing(f"retention rule {r.id}", r.legal_hold_override, tuple(r.promises))
    if cause == "cessation" and not isinstance(pack.service_cessation, str):
        cess = pack.service_cessation
        return Governing("service_cessation", cess.legal_hold_override, tuple(cess.promises))
    if cause == "cancellation":
        for r in rules:
            if r.start == "account_cancelled":
                return Governing(f"retention rule {r.id}", r.legal_hold_override, tuple(r.promises))
    erasure = pack.erasure
    if isinstance(erasure, str):
        return Governing("erasure", False)
    promises = dict.fromkeys(erasure.promises)
    for t in erasure.triggers:
        promises.update(dict.fromkeys(t.promises))
    return Governing("erasure", erasure.legal_hold_override, tuple(promises))


def kept_by_law(eng: PolicyEngine) -> dict[str, tuple[str, ...]]:
    """Categories the pack keeps as a record the law requires (``end_action: keep_as_record``), with promises."""
    rules = () if isinstance(eng.pack.retention, str) else eng.pack.retention
    out: dict[str, tuple[str, ...]] = {}
    for r in rules:
        if r.end_action == "keep_as_record" and r.categories != "all":
            for c in r.categories:
                out[c] = tuple(r.promises)
    return out


def covers_backups(eng: PolicyEngine) -> bool:
    """Does erasure reach backups (``backups.erasure_covers_backups``, true unless the pack says otherwise)? When it
    does, every destroyed record group key is journalled, so a restore destroys it again."""
    rule = eng.pack.backups
    return True if isinstance(rule, str) else rule.erasure_covers_backups


# -- keys --------------------------------------------------------------------------------------------------------------

def _subject_key(eng: PolicyEngine, conn: Connection, sid: str) -> bytes | None:
    row = people_store.by_id(conn, sid)
    if row is None or row.wrapped_key is None or row.kek_id is None or eng.keys.is_shredded(sid):
        return None
    return unwrap_data_key(eng.keys.get(row.kek_id), row.wrapped_key, sid)


def _destroy_groups(eng: PolicyEngine, conn: Connection, key_ids: Iterable[str], now: dt.datetime) -> int:
    """Destroy record group keys whose records were just deleted. Records still under one (held, newer, or serving
    another purpose) are first re-encrypted under a fresh key of their group. Returns how many keys were destroyed."""
    journal = covers_backups(eng)
    destroyed = 0
    for kid in sorted(set(key_ids)):
        row = key_store.lock_group_key(conn, kid)
        if row is None:
            continue  # already destroyed (a re-run)
        left = key_store.values_under(conn, kid)
        skey = _subject_key(eng, conn, row.subject_id)
        key_store.drop_group_key(conn, kid)
        if left and skey is not None:
            old = decrypt(skey, row.wrapped_key, f"rk|{kid}")
            nid, new = secrets.token_hex(16), new_data_key()
            key_store.add_group_key(conn, key_id=nid, subject_id=row.subject_id, category=row.category,
                                    wrapped_key=encrypt(skey, new, f"rk|{nid}"), created_at=now)
            for r in left:
                aad = f"{row.subject_id}|{r.category}|{r.id}"
                key_store.rekey_record(conn, r.id, key_id=nid, value=encrypt(new, decrypt(old, r.value, aad), aad))
        if journal:  # a restore of an older backup destroys it again
            eng.keys.record_shredded(GROUP_PREFIX + kid)
        destroyed += 1
    return destroyed


def delete_where(eng: PolicyEngine, conn: Connection, cond: Condition, *, now: dt.datetime) -> tuple[int, int]:
    """Delete the records matching ``cond`` (which the caller has already cleared of legal holds) and destroy
    their group keys, inside the caller's transaction. Set-based: one statement for the rows. Returns (records
    deleted, keys destroyed)."""
    kids = erasure_store.group_keys_of(conn, cond)
    gone = erasure_store.delete_records(conn, cond)
    return gone, _destroy_groups(eng, conn, kids, now)


# -- a person, all or part ---------------------------------------------------------------------------------------------

def _kept(eng: PolicyEngine, conn: Connection, scope: Condition, gov: Governing) -> list[Kept]:
    law = kept_by_law(eng)
    out = [Kept(h.category, h.records, "legal_hold", h.reference, gov.promises)
           for h in erasure_store.count_held(conn, scope)]
    if law:
        out += [Kept(category, n, "kept_as_record", None, law[category])
                for category, n in erasure_store.count_of_categories(conn, scope, sorted(law)).items()]
    return out


def _refuse(gov: Governing, kept: list[Kept]) -> ErasureIncompleteError:
    holds = sorted({k.reference or "no reference" for k in kept if k.reason == "legal_hold"})
    law = sorted({k.category for k in kept if k.reason == "kept_as_record"})
    what = "; ".join(([f"records under legal hold ({', '.join(holds)})"] if holds else [])
                     + ([f"records the law requires to keep ({', '.join(law)})"] if law else []))
    refs = f" ({', '.join(gov.promises)})" if gov.promises else ""
    return ErasureIncompleteError(
        f"{what} stand in the way, and the pack's {gov.rule}{refs} promises this deletion without a legal "
        "exception: nothing was deleted. Release the hold when the matter ends, or refuse on a legal ground")


def preflight(eng: PolicyEngine, sid: str, *, cause: str, gov: Governing | None = None) -> list[Kept]:
    """What erasing the whole person would keep; raises :class:`ErasureIncompleteError` (changing nothing) where the
    governing rule makes no exception for it. Callers with side effects of their own (notices to recipients, the
    company's databases) ask this first, so a deletion that cannot finish does nothing at all."""
    gov = gov or governing(eng, cause)
    with eng.db.connect() as conn:
        kept = _kept(eng, conn, erasure_store.live_of(sid), gov)
    if kept and not gov.law_wins:
        raise _refuse(gov, kept)
    return kept


def erase_person_in(eng: PolicyEngine, conn: Connection, sid: str, *, cause: str, actor: str, reason: str,
                    now: dt.datetime, scope: Condition | None = None, gov: Governing | None = None
                    ) -> DeletionReport:
    """Delete a person's data (all of it, or the records matching ``scope``) inside the caller's transaction.

    With nothing kept and no ``scope``, the person is crypto-shredded: their data key is destroyed (journalled
    first, so it is never used again even if the transaction fails), their records blanked. Otherwise the records
    go, their group keys are destroyed, and what was kept is reported; a person who keeps held records is
    restricted (no processing but on recorded legal grounds)."""
    if cause not in CAUSES:
        raise BadValueError(f"unknown deletion cause {cause!r}; one of {', '.join(CAUSES)}")
    gov = gov or governing(eng, cause)
    status = people_store.lock_status(conn, sid)
    if status is None or status == "erased":
        if status == "erased":
            eng.keys.record_shredded(sid)
        return DeletionReport(sid, cause, gov.rule, erased=status == "erased")  # done before: a re-run is harmless
    live = erasure_store.live_of(sid, scope)
    kept = _kept(eng, conn, live, gov)
    if kept and not gov.law_wins:
        raise _refuse(gov, kept)
    if scope is None and not kept:
        eng.keys.record_shredded(sid)  # first: even if this transaction fails, the key is never used again
        count = erasure_store.shred_person(conn, sid, now)  # what the fact register knew of them goes too
        report = DeletionReport(sid, cause, gov.rule, deleted=count, erased=True)
    else:
        law = sorted(kept_by_law(eng)) if kept else None
        count, destroyed = delete_where(eng, conn, erasure_store.not_kept(live, law), now=now)
        if kept and scope is None:  # what is kept is kept for the law alone
            people_store.set_status(conn, sid, "restricted", only_from=("active", "queued"))
        report = DeletionReport(sid, cause, gov.rule, deleted=count, keys_destroyed=destroyed, kept=tuple(kept),
                                backups_covered=covers_backups(eng))
    audit.record(conn, kind="erasure", actor=actor, subject_id=sid, at=now, pack_version=eng.compiled.version,
                 promises=gov.promises,
                 detail={"reason": reason, "cause": cause, "rule": gov.rule, "records": report.deleted,
                         "keys_destroyed": report.keys_destroyed, "erased": report.erased,
                         "kept": [k.as_dict() for k in report.kept], "backups_covered": report.backups_covered})
    return report


def erase_person(eng: PolicyEngine, sid: str, *, cause: str, actor: str, reason: str, now: dt.datetime | None = None,
                 scope: Condition | None = None, gov: Governing | None = None) -> DeletionReport:
    """:func:`erase_person_in` in a transaction of its own (at ``now``, or the engine clock's present)."""
    now = eng.clock.at(now)
    with eng.db.begin() as conn:
        return erase_person_in(eng, conn, sid, cause=cause, actor=actor, reason=reason, now=now, scope=scope, gov=gov)


# -- a consent withdrawn ---------------------------------------------------------------------------------------------

def withdraw_in(eng: PolicyEngine, conn: Connection, sid: str, target: str, *, actor: str, now: dt.datetime
                ) -> DeletionReport | None:
    """After a consent withdrawal (inside its transaction): where the consent rule is ``retroactive``, delete the
    data collected under it (records of a withdrawn category, or whose every purpose was withdrawn). The rule's
    ``withdrawal_effect`` says whether the law may keep some: ``stop_except_legally_permitted`` keeps held records
    and reports them; ``stop_processing`` makes no exception, so a hold blocks the deletion (audited as
    ``deletion_blocked``; the withdrawal itself stands). Not retroactive: past data stays, only processing stops."""
    rules = [c for c in eng.pack.consents if c.retroactive and (c.id == target or target in c.targets)]
    if not rules:
        return None
    purposes: set[str] = set()
    cats: set[str] = set()
    for c in rules:
        covered = c.targets if c.id == target else (target,)
        purposes |= {t for t in covered if t in eng.compiled.purposes}
        cats |= {t for t in covered if t in eng.compiled.categories}
    ids = [r.id for r in erasure_store.live_records(conn, sid)
           if r.category in cats or (r.purposes and set(r.purposes) <= purposes)]
    if not ids:
        return None
    promises = tuple(dict.fromkeys(p for c in rules for p in c.promises))
    gov = Governing(f"consent rule {', '.join(c.id for c in rules)}",
                    all(c.withdrawal_effect == "stop_except_legally_permitted" for c in rules), promises)
    try:
        return erase_person_in(eng, conn, sid, cause="consent_withdrawn", actor=actor, reason=f"withdrawn: {target}",
                               now=now, scope=erasure_store.by_ids(ids), gov=gov)
    except ErasureIncompleteError as blocked:  # raised before anything changed
        audit.record(conn, kind="deletion_blocked", actor=actor, subject_id=sid, at=now,
                     pack_version=eng.compiled.version, promises=promises,
                     detail={"cause": "consent_withdrawn", "target": target, "why": str(blocked)})
        return None
