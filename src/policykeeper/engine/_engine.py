"""The engine: gather facts, ask the decision point, record the answer, then act or raise.

Every personal value is encrypted under its subject's data key before it reaches
the database; every decision is written to the audit log in the same transaction
as the action it allowed; erasure destroys the subject's data key.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    Row,
    String,
    bindparam,
    cast,
    exists,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from .. import audit, consent
from .._exceptions import BadValueError, ConfigError, DeniedError, ErasureIncompleteError, SubjectNotFoundError
from ..clock import Clock
from ..clock import after as _after
from ..clock import age as _age
from ..clock import system as system_clock
from ..clock import utc as _utc
from ..crypto import KeyRing, decrypt, encrypt, new_data_key, unwrap_data_key, wrap_data_key
from ..crypto._groups import group_key, held_cipher_key, record_cipher_key
from ..pack import Pack
from ..pack._types import Condition, FixedDuration
from ..store._schema import (
    consent_events,
    deletion_queue,
    disclosures,
    fact_register,
    lifecycle_events,
    record_keys,
    records,
    subjects,
    transfer_assessments,
)
from . import _facts
from ._decide import CompiledPack, compile_pack, decide
from ._types import Collect, Decision, Facts, Obligation, Reason, Share, Use
from ._values import check_detail

__all__ = ["Collected", "PolicyEngine", "Released"]

_NO_FACTS = Facts()


@dataclass(frozen=True)
class Collected:
    """What a collection stored: the decision, the subject's pseudonymous id, the record ids, dropped fields."""

    decision: Decision
    subject_id: str
    record_ids: tuple[int, ...]

    @property
    def obligations(self) -> tuple[Obligation, ...]:
        """What the decision obliges (see :class:`Obligation`): the caller's to show or do, or done by the engine."""
        return self.decision.obligations


class Released(dict[str, list[str]]):
    """The values a read or share released (category -> values), with the decision that allowed them: its
    ``obligations`` are the caller's to carry out where ``by`` is ``caller`` (they are audited as handed over)."""

    decision: Decision

    @property
    def obligations(self) -> tuple[Obligation, ...]:
        return self.decision.obligations


_SUBJECT_BY_LOOKUP = select(subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key, subjects.c.status).where(
    subjects.c.lookup == bindparam("lookup"))
_VALUES = (  # each value with its group key's wrapped form (NULL once that key was destroyed): one statement
    select(records.c.id, records.c.category, records.c.value, records.c.purposes, records.c.key_id,
           record_keys.c.wrapped_key.label("group_key"))
    .select_from(records.outerjoin(record_keys, record_keys.c.id == records.c.key_id))
    .where(records.c.subject_id == bindparam("sid"), records.c.status == "active",
           records.c.category.in_(bindparam("cats", expanding=True)))
    .order_by(records.c.id)
)


_DECLINE_NOTICE = {
    "no_processing": "If you decline this policy, none of your data is processed: the service cannot be used.",
    "unspecified": "If you decline this policy, none of your data is processed: the service cannot be used.",
    "limited_service": "If you decline this policy, the service is limited: your data is processed only where the "
                       "law requires it.",
}
"""What a person is told before declining the policy, by the pack's ``acceptance.decline_effect`` (where no consent
rule of the policy gives its own notice)."""

_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class _NotCollectedFor(Exception):
    """Every value asked for was collected for other purposes than the one reading it."""

    def __init__(self, purpose: str, withheld: int) -> None:
        super().__init__(purpose)
        self.withheld = withheld


def _check_transport(pack: Pack, db: Engine) -> None:
    """Where the pack promises encryption in transit, a PostgreSQL server reached over the network needs TLS."""
    measures = () if isinstance(pack.security, str) else pack.security
    promised = [m for m in measures if m.kind == "encryption_in_transit"]
    url = db.url
    if not promised or url.get_backend_name() != "postgresql":
        return
    host = str(url.query.get("host") or url.host or "")
    local = not host or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")
    if not local and url.query.get("sslmode") not in ("require", "verify-ca", "verify-full"):
        raise ConfigError(f"the pack promises encryption in transit ({', '.join(p for m in promised for p in m.promises)}):"
                          f" connect to {host} with sslmode=require, verify-ca or verify-full")


def _check_actor(actor: str) -> None:
    """Need to know: every access names who (a role or service) is doing it."""
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 64:
        raise BadValueError("every access must name its actor (a role or service, 1 to 64 characters)")


def _denied(d: Decision) -> DeniedError:
    first = d.denials[0]
    refs = f" ({', '.join(first.promises)})" if first.promises else ""
    return DeniedError(f"{first.message} [rule {first.rule}]{refs}", d)


_REGISTER_BACKED = frozenset({"subscribed", "product_authorized", "member", "transfer_informed", "consent",
                              "successor_bound", "agreement_signed"})
"""Condition names the fact register can make hold ('consent' for 'consent:R:by_recipient')."""


def _conditions(node: object) -> list[Condition]:
    """Every condition anywhere in a pack (activations, triggers, exceptions' conditions...), found by walking it."""
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, BaseModel):
        return [c for name in type(node).model_fields for c in _conditions(getattr(node, name))]
    if isinstance(node, tuple | list):
        return [c for item in node for c in _conditions(item)]
    if isinstance(node, dict):
        return [c for item in node.values() for c in _conditions(item)]
    return []


def _consulted(pack: Pack, cp: CompiledPack, births: frozenset[str]) -> frozenset[str]:
    """Which held facts the pack's rules can ever consult, so that a decision gathers only those: ``account``
    (account_exists), ``hold`` (legal_hold), ``register`` (the fact register), ``age_collect`` and ``age_use`` (a held
    date of birth, for a collection or for a use or share)."""
    named = {f.partition(":")[0] for cond in _conditions(pack) for f in cond.facts()}
    if any(c.member_only for c in pack.collection.contexts) or any(p.member_only for p in pack.purposes.items):
        named |= {"member", "account_exists"}
    if cp.transfers is not None and "inform" in cp.transfers.preconditions:
        named.add("transfer_informed")
    if any(r.consent == "recipient_obtains_explicit" for r in pack.recipients) or any(
            e.basis == "recipient_obtained_consent" for e in cp.exceptions.values()):
        named.add("consent")  # 'consent:R:by_recipient', confirmed in the register
    if any(r.required_agreements for r in pack.recipients):
        named.add("agreement_signed")
    if not isinstance(pack.corporate_transactions, str):
        named.add("successor_bound")
    out: set[str] = set()
    if "account_exists" in named:
        out.add("account")
    if "legal_hold" in named:
        out.add("hold")
    if named & _REGISTER_BACKED:
        out.add("register")
    if cp.minors is not None and births:
        out.add("age_collect")
        if cp.minors.permitted_uses:
            out.add("age_use")
    return frozenset(out)


_GATHERED = (("n", BigInteger()), ("a", String()), ("b", String()), ("c", String()), ("d", String()),
             ("e", String()), ("at", DateTime(timezone=True)), ("value", LargeBinary()), ("group_key", LargeBinary()))
"""The columns of the one fact query: a row kind, then per kind its order (n) and what it carries."""


def _branch(kind: str, **given: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    cols: list[ColumnElement[Any]] = [literal_column(f"'{kind}'", String()).label("kind")]
    for name, type_ in _GATHERED:
        col = given.get(name)
        cols.append((cast(null(), type_) if col is None else col).label(name))
    return cols


def _fixed(name: str, values: frozenset[str]) -> list[BindParameter[str]]:
    """A fixed IN list as plain parameters (an expanding one is rebuilt on every execution)."""
    return [bindparam(f"{name}_{i}", v, type_=String()) for i, v in enumerate(sorted(values))]


class PolicyEngine:
    """Enforces one pack over one database and keystore."""

    def __init__(self, pack: Pack, db: Engine, keys: KeyRing, *, region: str | None = None,
                 clock: Clock | None = None) -> None:
        """``region`` is where this deployment stores data; it must be one of the pack's home regions. ``clock`` is
        where every service of this engine reads the time (the system clock unless one is given)."""
        self.pack = pack
        self.clock: Clock = clock or system_clock
        self.compiled: CompiledPack = compile_pack(pack)
        self.db = db
        self.keys = keys
        home = self.compiled.home_regions
        if region is not None and home is not None and region not in home:
            promises = "" if isinstance(pack.storage, str) else f" ({', '.join(pack.storage.promises)})"
            raise ConfigError(f"this deployment stores data in {region!r}, but the pack promises storage in "
                              f"{', '.join(sorted(home))}{promises}")
        self.region = region
        self._earlier: dict[str, Mapping[str, frozenset[str]]] = {}
        self._explicit_only: bool | None = None
        self._consent_rule_targets = {c.id: frozenset(c.targets) for c in pack.consents}
        minors = self.compiled.minors
        self._birth_categories = frozenset(
            c.id for c in pack.data_categories if c.fides_key.startswith("user.demographic.date_of_birth")
        ) | frozenset(minors.age_source if minors is not None else ())
        """Categories that give a person's age: any date of birth (Fides category), and the pack's age sources."""
        self._account_contexts = frozenset(c.id for c in pack.collection.contexts if c.creates_account)
        """Collection contexts the pack marks ``creates_account``: data held from one means an account (none marked:
        nobody has an account, the safe reading)."""
        self._consults = _consulted(pack, self.compiled, self._birth_categories)
        """Held facts the pack's rules can ever consult (see :func:`_consulted`); only these are gathered."""
        self._gather_statements: dict[tuple[str, ...], CompoundSelect[Any]] = {}
        """The fact statement per (kinds..., by lookup), built once."""
        _check_transport(pack, db)

    # -- subjects --------------------------------------------------------------
    def _find(self, conn: Connection, external_id: str) -> tuple[str, bytes] | None:
        found = self._find_full(conn, external_id)
        return None if found is None else (found[0], found[1])

    def _find_full(self, conn: Connection, external_id: str) -> tuple[str, bytes, str] | None:
        """(pseudonymous id, data key, status) of a person whose key still exists."""
        row = conn.execute(_SUBJECT_BY_LOOKUP, {"lookup": self.keys.lookup_hash(external_id)}).first()
        if row is None or row.wrapped_key is None or self.keys.is_shredded(row.id):
            return None
        return row.id, unwrap_data_key(self.keys.get(row.kek_id), row.wrapped_key, row.id), row.status

    def _find_or_create(self, conn: Connection, external_id: str, now: dt.datetime) -> tuple[str, bytes]:
        found = self._find(conn, external_id)
        if found is not None:
            return found
        lookup = self.keys.lookup_hash(external_id)
        if conn.execute(select(subjects.c.id).where(subjects.c.lookup == lookup)).first() is not None:
            raise SubjectNotFoundError("that person's data was erased; a new subject needs a new identifier")
        sid, key = secrets.token_hex(16), new_data_key()
        master = self.keys.current
        row = dict(id=sid, lookup=lookup, pack_id=self.pack.id, kek_id=master.id,
                   wrapped_key=wrap_data_key(master, key, sid), status="active", created_at=now)
        if conn.dialect.name != "postgresql":  # SQLite: writers are serialised (BEGIN IMMEDIATE), no race
            conn.execute(subjects.insert().values(**row))
            return sid, key
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        if conn.execute(pg_insert(subjects).values(**row).on_conflict_do_nothing(index_elements=["lookup"])
                        .returning(subjects.c.id)).first() is not None:
            return sid, key
        found = self._find(conn, external_id)  # a concurrent first write for this person committed first: theirs
        if found is None:
            raise SubjectNotFoundError("that person's data was erased; a new subject needs a new identifier")
        return found

    # -- decisions ------------------------------------------------------------------
    def _record(self, conn: Connection, d: Decision, actor: str, subject_id: str | None, detail: Mapping[str, object],
                now: dt.datetime) -> None:
        basis = [o.value for o in d.obligations if o.kind == "record_ground"]
        if basis:  # the pack requires the ground (or the disclosure exception) relied on to be recorded
            detail = {**detail, "grounds_recorded": basis}
        audit.record(
            conn, kind="decision", actor=actor, subject_id=subject_id, decision_id=d.decision_id, allowed=d.allowed,
            promises=d.promises, pack_version=d.pack_version, at=now,
            detail={"action": d.action, "codes": [r.code for r in d.reasons], "rules": [r.rule for r in d.reasons],
                    **({"obligations": list(d.obligation_names)} if d.obligations else {}), **detail},
        )

    def _deny(self, d: Decision, actor: str, subject_id: str | None, detail: Mapping[str, object],
              now: dt.datetime) -> DeniedError:
        with self.db.begin() as conn:  # the denial is evidence too, in its own transaction
            self._record(conn, d, actor, subject_id, detail, now)
        return _denied(d)

    # -- actions ----------------------------------------------------------------------
    def collect(
        self,
        external_id: str,
        context: str,
        values: Mapping[str, str],
        facts: Facts = _NO_FACTS,
        *,
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> Collected:
        """Collect values (category id -> text) in a collection context, if the pack allows it.

        ``facts`` carries context only (channel, source, region, a stated age, attested conditions and grounds); a
        privileged fact raises :class:`PrivilegedFactError`. Where the pack sets an age threshold, a date of birth among
        ``values`` gives the age (a stated age can only make the decision stricter)."""
        now = now or dt.datetime.now(dt.UTC)
        _check_actor(actor)
        _facts.check_stated(facts)
        if facts.source is not None and not _KEY.fullmatch(facts.source):
            raise BadValueError("source must be an entity id (lower case letters, digits, '_', '.', '-')")
        for cat, value in values.items():
            if not isinstance(value, str):
                raise BadValueError(f"value of {cat!r} must be text, not {type(value).__name__}")
        stated = facts
        with self.db.connect() as conn:
            found, facts = self._subject_facts(conn, external_id, facts, None, now, values=values)
        d = decide(self.compiled, facts, Collect(context, frozenset(values)))
        detail = {"context": context, "categories": sorted(values), **_facts.attested(stated, actor)}
        if not d.allowed:
            if found is not None and {r.code for r in d.denials} & {"parental_consent_missing", "minor_blocked"}:
                self._queue_minor(found[0], now)  # a minor discovered later, e.g. by a corrected birth date
            raise self._deny(d, actor, found[0] if found else None, detail, now)
        entry = self.compiled.contexts[context]
        ctx, fields = entry[1], entry[2]
        ids: list[int] = []
        with self.db.begin() as conn:
            sid, key = self._find_or_create(conn, external_id, now)
            self._accept_by_use(conn, sid, now)
            for cat, value in sorted(values.items()):
                if cat in d.dropped:
                    continue
                purposes = list(fields[cat].purposes or ctx.purposes)
                kid, gkey = group_key(conn, sid, key, cat, now)  # deleting this category destroys its own key
                rid = conn.execute(records.insert().values(
                    subject_id=sid, pack_id=self.pack.id, pack_version=self.compiled.version, context=context,
                    category=cat, purposes=purposes, channel=facts.channel, source=facts.source, value=b"",
                    collected_at=now,
                    status="active", legal_hold=False, key_id=kid,
                ).returning(records.c.id)).scalar_one()
                conn.execute(update(records).where(records.c.id == rid).values(
                    value=encrypt(gkey, value.encode(), f"{sid}|{cat}|{rid}")))
                ids.append(rid)
            self._record(conn, d, actor, sid, detail, now)
        return Collected(d, sid, tuple(ids))

    # -- minors discovered later ---------------------------------------------------------
    def note_age(
        self,
        external_id: str,
        *,
        age: int | None = None,
        date_of_birth: str | None = None,
        now: dt.datetime | None = None,
    ) -> bool:
        """Tell the engine a person's age learnt after collection; True if their data is now queued for deletion.

        A minor whose data was taken without a parent's or guardian's consent on record has it queued for deletion
        where the pack promises that (``minors.on_unconsented_discovery: delete``); until the queue runs, the data is
        neither used nor shared.
        """
        now = now or dt.datetime.now(dt.UTC)
        if (age is None) == (date_of_birth is None):
            raise BadValueError("give exactly one of age or date_of_birth")
        if date_of_birth is not None:
            try:
                age = _age(dt.date.fromisoformat(date_of_birth), now.date())
            except ValueError:
                raise BadValueError("date_of_birth must be a date as YYYY-MM-DD") from None
        assert age is not None
        if age < 0 or age > 150:
            raise BadValueError(f"age {age} is not a person's age")
        m = self.compiled.minors
        with self.db.connect() as conn:  # the one fact-gathering path: the ledger, and any birth date held
            full = self._find_full(conn, external_id)
            if full is None:
                raise SubjectNotFoundError("no data is held about that person")
            known = self._facts_of(conn, full, Facts(age=age), None, now)
        parental = self.compiled.consent_targets.get("parental_consent", frozenset({"parental_consent"}))
        if m is None or known.age is None or known.age >= m.threshold or not known.consents.isdisjoint(parental):
            return False
        return self._queue_minor(full[0], now)

    def _queue_minor(self, sid: str, now: dt.datetime) -> bool:
        m = self.compiled.minors
        if m is None or m.on_unconsented_discovery != "delete":
            return False
        d = m.discovery_within
        due = _after(now, d) if isinstance(d, FixedDuration) else now
        with self.db.begin() as conn:
            if conn.execute(select(deletion_queue.c.id).where(
                    deletion_queue.c.subject_id == sid, deletion_queue.c.status == "pending")).first() is None:
                conn.execute(deletion_queue.insert().values(
                    subject_id=sid, reason="minor_without_parental_consent", promises=list(m.promises), queued_at=now,
                    due_at=due, status="pending"))
                conn.execute(update(subjects).where(subjects.c.id == sid, subjects.c.status == "active")
                             .values(status="queued"))  # no use or share from now on
                audit.record(conn, kind="deletion_queued", actor="engine", subject_id=sid, at=now,
                             pack_version=self.compiled.version, promises=m.promises,
                             detail={"reason": "minor_without_parental_consent"})
        return True

    def pending_deletions(self) -> list[dict[str, object]]:
        """The deletion queue's pending entries (pseudonymous subject ids only)."""
        with self.db.connect() as conn:
            rows = conn.execute(select(deletion_queue).where(deletion_queue.c.status == "pending")
                                .order_by(deletion_queue.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def run_deletion_queue(self, *, actor: str = "worker", now: dt.datetime | None = None) -> int:
        """Erase every subject whose queued deletion is due, through the deletion service (legal holds honoured);
        safe to re-run after a crash. Returns how many. An entry the pack's erasure rule cannot complete (a legal
        hold it makes no exception for) stays pending, and the refusal is audited."""
        from ..deletion import erase_person_in

        now = now or dt.datetime.now(dt.UTC)
        done = 0
        for item in self.pending_deletions():
            due = item["due_at"]
            if isinstance(due, dt.datetime) and _utc(due) > _utc(now):
                continue
            sid = str(item["subject_id"])
            try:
                with self.db.begin() as conn:
                    erase_person_in(self, conn, sid, cause="minor", actor=actor, reason=str(item["reason"]), now=now)
                    conn.execute(update(deletion_queue).where(deletion_queue.c.id == item["id"],
                                                              deletion_queue.c.status == "pending")
                                 .values(status="done", done_at=now))
            except ErasureIncompleteError as blocked:
                with self.db.begin() as conn:
                    audit.record(conn, kind="deletion_blocked", actor=actor, subject_id=sid, at=now,
                                 pack_version=self.compiled.version, detail={"queue": item["id"], "why": str(blocked)})
                continue
            done += 1
        return done

    def read(
        self,
        external_id: str,
        purpose: str,
        categories: frozenset[str] | set[str],
        facts: Facts = _NO_FACTS,
        *,
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> Released:
        """Return the person's values of ``categories`` for ``purpose``, if the pack allows it (with the decision and
        its obligations). ``facts`` carries context only; a privileged fact raises :class:`PrivilegedFactError`."""
        now = now or dt.datetime.now(dt.UTC)
        _facts.check_stated(facts)
        cats = frozenset(categories)
        detail = {"purpose": purpose, "categories": sorted(cats), **_facts.attested(facts, actor)}
        out: dict[str, list[str]] | None = None
        with self.db.begin() as conn:  # decide, record and read in one transaction
            found, d, known, held = self._guard(conn, external_id, facts, Use(purpose, cats), detail, actor, now)
            if found is not None and d.allowed:
                # reusing data collected for another purpose needs the person's prior consent to this purpose
                reuse = not known.consents.isdisjoint({purpose, f"new_purpose:{purpose}"})
                try:
                    out = self._values(conn, found, cats, None if reuse else purpose, held=held)
                except _NotCollectedFor as gap:
                    p_index, p_rule = self.compiled.purposes[purpose]
                    d = replace(d, allowed=False, reasons=(*d.reasons, Reason(
                        "not_collected_for_purpose", f"the values held were collected for other purposes, not {purpose!r}"
                        f" ({gap.withheld} withheld)", f"purposes.items[{p_index}]", p_rule.promises)))
                self._record(conn, d, actor, found[0], detail, now)
        return self._released(found, d, out)

    @staticmethod
    def _released(found: tuple[str, bytes] | None, d: Decision,
                  out: dict[str, list[str]] | None) -> Released:
        """After the transaction: raise for a denial (already audited) or an unknown person, else the values."""
        if not d.allowed:
            raise _denied(d)
        if found is None or out is None:
            raise SubjectNotFoundError("no data is held about that person")
        got = Released(out)
        got.decision = d
        return got

    def aggregate(
        self,
        purpose: str,
        category: str,
        *,
        min_group: int = 5,
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> dict[str, int]:
        """How many people hold each value of ``category``, for a purpose that may use group-level data only.

        Each person counts only if the pack lets the purpose use their data (their consents included); values held
        by fewer than ``min_group`` people are folded into ``"(other)"`` so no one is singled out.
        """
        now = now or dt.datetime.now(dt.UTC)
        _check_actor(actor)
        if min_group < 2:
            raise BadValueError("min_group must be at least 2: a group of one singles a person out")
        action = Use(purpose, frozenset({category}), individual=False)
        d = decide(self.compiled, _NO_FACTS, action)
        detail = {"purpose": purpose, "categories": [category], "aggregate": True}
        if not d.allowed and not any(r.code == "consent_missing" for r in d.denials):
            raise self._deny(d, actor, None, detail, now)
        counts: dict[str, int] = {}
        people = 0
        with self.db.begin() as conn:
            rows = conn.execute(select(subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key, subjects.c.status).where(
                subjects.c.status == "active", subjects.c.wrapped_key.is_not(None)))
            for row in rows.all():
                if self.keys.is_shredded(row.id):
                    continue
                key = unwrap_data_key(self.keys.get(row.kek_id), row.wrapped_key, row.id)
                if not decide(self.compiled, self._facts_of(conn, (row.id, key, row.status), _NO_FACTS, action, now),
                              action).allowed:
                    continue
                values = self._values(conn, (row.id, key), frozenset({category}))[category]
                for value in set(values):
                    counts[value] = counts.get(value, 0) + 1
                people += 1 if values else 0
            out: dict[str, int] = {}
            for value, n in sorted(counts.items()):
                if n >= min_group:
                    out[value] = n
                else:
                    out["(other)"] = out.get("(other)", 0) + n
            audit.record(conn, kind="aggregate", actor=actor, at=now, pack_version=self.compiled.version,
                         promises=d.promises, detail={**detail, "people": people, "groups": len(out)})
        return out

    def _guard(
        self, conn: Connection, external_id: str, facts: Facts, action: Use | Share, detail: Mapping[str, object],
        actor: str, now: dt.datetime,
    ) -> tuple[tuple[str, bytes] | None, Decision, Facts, list[Row[Any]]]:
        """Decide an action on a person's data with the facts the engine holds; a denial is audited here. The
        person's stored values of the action's categories are read with the facts (still encrypted; for
        :meth:`_values` once the decision allows them)."""
        _check_actor(actor)
        gathered: dict[str, list[Row[Any]]] = {}
        found, facts = self._subject_facts(conn, external_id, facts, action, now,
                                           de_identified=bool(detail.get("de_identified")), gathered=gathered)
        d = decide(self.compiled, facts, action)
        if not d.allowed:
            self._record(conn, d, actor, found[0] if found else None, detail, now)
        return found, d, facts, gathered.get("values", [])

    def _subject_facts(
        self, conn: Connection, external_id: str, stated: Facts, action: Use | Share | None, now: dt.datetime, *,
        values: Mapping[str, str] | None = None, de_identified: bool = False,
        gathered: dict[str, list[Row[Any]]] | None = None,
    ) -> tuple[tuple[str, bytes] | None, Facts]:
        """The subject (if any) and the facts for an action on their data (see :meth:`_facts_of`): the person and
        everything the decision reads about them come back in one statement. Given ``gathered`` (a use or share), the
        statement also reads the person's values of the action's categories and leaves its rows there."""
        kinds = self._kinds(action)
        cats = None
        if gathered is not None and isinstance(action, Use | Share):
            kinds, cats = (*kinds, "values"), action.categories
        rows = self._gather(conn, kinds, lookup=self.keys.lookup_hash(external_id), cats=cats)
        if gathered is not None:
            gathered.update(rows)
        row = rows["subject"][0] if rows["subject"] else None
        full = None
        if row is not None and row.value is not None and not self.keys.is_shredded(row.a):
            full = (row.a, unwrap_data_key(self.keys.get(row.b), row.value, row.a), row.c)
        facts = self._facts_of(conn, full, stated, action, now, values=values, de_identified=de_identified,
                               gathered=rows)
        return (None if full is None else (full[0], full[1])), facts

    def _kinds(self, action: Use | Share | None, *, every: bool = False) -> tuple[str, ...]:
        """What a decision on ``action`` reads about a person, from what the pack's rules can consult (``every``:
        every held fact, for the modules that decide on facts outside the rules, such as an account's cancellation)."""
        needs = self._consults
        if every:
            needs = frozenset({"account", "hold", "register"} | (
                {"age_collect", "age_use"} if self.compiled.minors is not None and self._birth_categories else set()))
        kinds = ["consent"]
        if "account" in needs and self._account_contexts:
            kinds += ["account", "cancelled"]
        if "hold" in needs:
            kinds.append("hold")
        if "register" in needs:
            kinds.append("register")
        if ("age_use" if isinstance(action, Use | Share) else "age_collect") in needs:
            kinds.append("birth")
        return tuple(kinds)

    def _gather(self, conn: Connection, kinds: tuple[str, ...], *, sid: str | None = None,
                lookup: str | None = None, cats: frozenset[str] | None = None) -> dict[str, list[Row[Any]]]:
        """Run the one fact statement for a person (by pseudonymous id, or by lookup hash, which adds their subject
        row as ``subject``); rows by kind, each kind in its own order (ledger, register, records)."""
        by_lookup = lookup is not None
        stmt = self._gather_statement(kinds, by_lookup)
        rows: dict[str, list[Row[Any]]] = {k: [] for k in ("subject", *kinds)}
        params: dict[str, object] = {"lookup": lookup} if by_lookup else {"sid": sid}
        if cats is not None:
            params["cats"] = sorted(cats)
        for row in conn.execute(stmt, {**params, "pack": self.pack.id}):
            rows[row.kind].append(row)
        for found in rows.values():
            found.sort(key=lambda row: row.n or 0)
        return rows

    def _gather_statement(self, kinds: tuple[str, ...], by_lookup: bool) -> CompoundSelect[Any]:
        """One statement for everything a decision reads about a person: their consent events, and (as ``kinds``
        asks) whether they hold data from an account context, the account's cancellations, whether any record is
        under a legal hold, the fact register's entries, and their held dates of birth (with the group key). By
        lookup hash, the subject row comes first and the person's id is a subquery."""
        stmt = self._gather_statements.get((*kinds, str(by_lookup)))
        if stmt is not None:
            return stmt
        r, ce, fr, le, sj = records, consent_events, fact_register, lifecycle_events, subjects
        sid: ColumnElement[str] = (select(sj.c.id).where(sj.c.lookup == bindparam("lookup")).scalar_subquery()
                                   if by_lookup else bindparam("sid", type_=String()))
        live = (r.c.subject_id == sid, r.c.status == "active")
        branches = {
            "subject": select(*_branch("subject", a=sj.c.id, b=sj.c.kek_id, c=sj.c.status, value=sj.c.wrapped_key))
            .where(sj.c.lookup == bindparam("lookup")),
            "consent": select(*_branch("consent", n=ce.c.seq, a=ce.c.target, b=ce.c.action, c=ce.c.pack_version,
                                       at=ce.c.at)).where(ce.c.subject_id == sid),
            "account": select(*_branch("account")).where(exists(select(r.c.id).where(
                *live, r.c.context.in_(_fixed("ctx", self._account_contexts))))),
            "cancelled": select(*_branch("cancelled", at=le.c.at)).where(
                le.c.pack_id == bindparam("pack"), le.c.kind == "account_cancelled", le.c.subject_id == sid),
            "hold": select(*_branch("hold")).where(exists(select(r.c.id).where(*live, r.c.legal_hold.is_(True)))),
            "register": select(*_branch("register", n=fr.c.id, a=fr.c.fact, b=fr.c.arg, c=fr.c.party, d=fr.c.action,
                                        e=fr.c.subject_id, at=fr.c.at)).where(
                fr.c.pack_id == bindparam("pack"), (fr.c.subject_id == sid) | fr.c.subject_id.is_(None)),
            "birth": select(*_branch("birth", n=r.c.id, a=r.c.category, b=r.c.key_id, value=r.c.value,
                                     group_key=record_keys.c.wrapped_key))
            .select_from(r.outerjoin(record_keys, record_keys.c.id == r.c.key_id))
            .where(*live, r.c.category.in_(_fixed("birth", self._birth_categories))),
            "values": select(*_branch("values", n=r.c.id, a=r.c.category, b=r.c.key_id, c=cast(r.c.purposes, String()),
                                      value=r.c.value, group_key=record_keys.c.wrapped_key))
            .select_from(r.outerjoin(record_keys, record_keys.c.id == r.c.key_id))
            .where(*live, r.c.category.in_(bindparam("cats", expanding=True))),
        }
        chosen = (("subject",) if by_lookup else ()) + kinds
        stmt = self._gather_statements[(*kinds, str(by_lookup))] = union_all(*(branches[k] for k in chosen))
        return stmt

    def facts_for(self, conn: Connection, subject_id: str, action: Use | Share | None = None, *,
                  now: dt.datetime | None = None) -> Facts:
        """The facts the engine holds about a person known by pseudonymous id, through the one fact-gathering path
        (:meth:`_facts_of`): what requests, retention, marketing and deletion decide on (an account, a restriction,
        the deletion queue, consents and withdrawals, a declined policy, a legal hold, register facts, the age). Never
        the caller's word. An erased (or unknown) person has only the facts that are not about anyone."""
        now = now or dt.datetime.now(dt.UTC)
        row = conn.execute(select(subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key, subjects.c.status)
                           .where(subjects.c.id == subject_id)).first()
        full = None
        if row is not None and row.wrapped_key is not None and not self.keys.is_shredded(row.id):
            full = (row.id, unwrap_data_key(self.keys.get(row.kek_id), row.wrapped_key, row.id), row.status)
        # every held fact, not only those the pack's rules consult: the callers decide on more than the rules do
        rows = None if full is None else self._gather(conn, self._kinds(action, every=True), sid=full[0])
        return self._facts_of(conn, full, _NO_FACTS, action, now, gathered=rows)

    def decide_for_subject(self, conn: Connection, subject_id: str, action: Use | Share, *,
                           now: dt.datetime | None = None) -> Decision:
        """Decide an action on a pseudonymous subject's data with the facts the engine holds (for modules that act
        on a person by subject id, such as marketing). Not audited here: the caller records what it did."""
        return decide(self.compiled, self.facts_for(conn, subject_id, action, now=now), action)

    def _facts_of(
        self, conn: Connection, subject: tuple[str, bytes, str] | None, stated: Facts, action: Use | Share | None,
        now: dt.datetime, *, values: Mapping[str, str] | None = None, de_identified: bool = False,
        gathered: Mapping[str, list[Row[Any]]] | None = None,
    ) -> Facts:
        """THE fact-gathering path: the caller's context (already checked to hold nothing privileged) plus every
        privileged fact from the engine's own records: the consent ledger (consents, withdrawals, parental consent,
        the policy), the subjects table (account, restriction, deletion queue), the fact register (subscriptions,
        product authorisations, agreements, bound successors, recipients' confirmed consent, informed transfers),
        the transfer assessments, and the age from a date of birth collected now or held.

        Only what the pack's rules can consult is read (see :func:`_consulted`), in one statement (``_gather``);
        ``gathered`` is that statement's rows when they were read together with the person (``_subject_facts``)."""
        conditions = set(stated.conditions)
        if de_identified:  # only the engine's own de-identification counts as one
            conditions.add("de_identified")
        assessed = self._assessed(conn, now) if (stated.region is not None or isinstance(action, Share)) else frozenset()
        party = action.recipient if isinstance(action, Share) else None
        m = self.compiled.minors
        births = self._birth_categories
        age_now = _facts.youngest(values, births, now.date(), strict=True) if m is not None and values else None
        if assessed & {party, stated.region}:
            conditions.add("security_assessment_done")
        if subject is None:  # party-level register facts count only for the party a share goes to
            register = "register" in self._consults and isinstance(action, Share)
            held_facts = _facts.registered(conn, self.pack.id, None, now) if register else []
            c, agreements = _facts.conditions_from_register(held_facts, party)
            return replace(stated, conditions=frozenset(conditions | c), agreements=frozenset(agreements),
                           assessed=assessed, age=_facts.stricter_age(stated.age, age_now))
        sid, key, status = subject
        rows = gathered if gathered is not None else self._gather(conn, self._kinds(action), sid=sid)
        versioned, withdrawn = consent.fold_versioned(((x.a, x.b, x.at, x.c) for x in rows["consent"]), now)
        given, uncovered = self._in_scope(conn, versioned)
        conditions |= {"queued": {"queued_for_deletion"}, "restricted": {"restricted"}}.get(status, set())
        cancelled = _facts.cancelled_by((x.at for x in rows.get("cancelled", ())), now)
        if status in ("active", "restricted") and rows.get("account") and not cancelled:
            conditions.add("account_exists")
        if rows.get("hold"):
            conditions.add("legal_hold")
        held_facts = _facts.register_in_force(((x.e, x.a, x.b, x.c, x.d, x.at) for x in rows.get("register", ())), now)
        c, agreements = _facts.conditions_from_register(held_facts, party)
        held_age = None
        if "birth" in rows:
            held: dict[str, list[str]] = {}
            groups: dict[str, bytes | None] = {}
            for x in rows["birth"]:
                rkey = held_cipher_key(key, x.b, x.group_key, groups)
                if rkey is not None:
                    held.setdefault(x.a, []).append(decrypt(rkey, x.value, f"{sid}|{x.a}|{x.n}").decode())
            held_age = _facts.youngest(held, births, now.date(), strict=False)
        return replace(stated, consents=given, objections=withdrawn, uncovered=uncovered,
                       conditions=frozenset(conditions | c), agreements=frozenset(agreements), assessed=assessed,
                       policy_declined="policy" in withdrawn, age=_facts.stricter_age(stated.age, age_now, held_age))

    def _in_scope(self, conn: Connection, given: Mapping[str, str]) -> tuple[frozenset[str], frozenset[str]]:
        """(consents, uncovered targets). Consent covers what its rule covered in the version it was given under:
        when a later version added a purpose to a consent rule, the rule's older consent does not reach it."""
        current = self._consent_rule_targets
        uncovered: set[str] = set()
        for target, label in given.items():
            if label == self.pack.version.label or target not in current:
                continue
            earlier = self._rule_targets(conn, label).get(target)
            if earlier is not None:
                uncovered |= current[target] - earlier
        renewed = {t for t, label in given.items() if label == self.pack.version.label}
        return frozenset(given), frozenset(uncovered - renewed)

    def _rule_targets(self, conn: Connection, label: str) -> Mapping[str, frozenset[str]]:
        """Each consent rule's targets in an earlier published version of this pack (empty if not on record)."""
        if label not in self._earlier:
            from ..pack import Pack
            from ..store._schema import policy_versions

            doc = conn.execute(select(policy_versions.c.document).where(
                policy_versions.c.pack_id == self.pack.id, policy_versions.c.label == label)).scalar()
            rules = Pack.model_validate(doc).consents if doc is not None else ()
            self._earlier[label] = {c.id: frozenset(c.targets) for c in rules}
        return self._earlier[label]

    def _assessed(self, conn: Connection, now: dt.datetime) -> frozenset[str]:
        """Destinations with an adequate security assessment on record and in force at ``now``."""
        if self.compiled.transfers is None or "security_assessment" not in self.compiled.transfers.preconditions:
            return frozenset()
        t = transfer_assessments
        rows = conn.execute(select(t.c.destination, t.c.assessed_at, t.c.valid_until).where(
            t.c.pack_id == self.pack.id, t.c.outcome == "adequate"))
        at = _utc(now)
        return frozenset(r.destination for r in rows
                         if _utc(r.assessed_at) <= at and (r.valid_until is None or _utc(r.valid_until) > at))

    def record_transfer_assessment(
        self,
        destination: str,
        *,
        reference: str,
        outcome: str = "adequate",
        valid_until: dt.datetime | None = None,
        actor: str = "privacy_officer",
        now: dt.datetime | None = None,
    ) -> int:
        """Record a cross-border security assessment for a region or a recipient; returns its id.

        A transfer rule that requires ``security_assessment`` lets data go to (or be read from) a place outside the
        home regions only while an adequate assessment for that place or recipient is on record.
        """
        now = now or dt.datetime.now(dt.UTC)
        if outcome not in ("adequate", "inadequate"):
            raise BadValueError(f"assessment outcome must be adequate or inadequate, not {outcome!r}")
        if not destination or len(destination) > 64:
            raise BadValueError("destination must be a region code or a recipient id (1 to 64 characters)")
        if not reference.strip() or len(reference) > 200:
            raise BadValueError("reference must name the assessment document (1 to 200 characters)")
        if valid_until is not None and _utc(valid_until) <= _utc(now):
            raise BadValueError("valid_until must be later than the assessment")
        promises = self.compiled.transfers.promises if self.compiled.transfers else ()
        with self.db.begin() as conn:
            aid = conn.execute(transfer_assessments.insert().values(
                pack_id=self.pack.id, destination=destination, outcome=outcome, reference=reference,
                assessed_at=now, valid_until=valid_until, recorded_by=actor,
            ).returning(transfer_assessments.c.id)).scalar_one()
            audit.record(conn, kind="transfer_assessment", actor=actor, subject_id=None, at=now,
                         pack_version=self.compiled.version, promises=promises,
                         detail={"destination": destination, "outcome": outcome, "assessment": aid})
        return int(aid)

    # -- the fact register -------------------------------------------------------------
    def record_fact(
        self,
        fact: str,
        *,
        person: str | None = None,
        party: str | None = None,
        arg: str = "",
        reference: str,
        revoke: bool = False,
        actor: str = "privacy_officer",
        now: dt.datetime | None = None,
    ) -> int:
        """Record (or, with ``revoke``, withdraw) a fact that unlocks a protection and that the engine cannot see in
        its other records, with the document or system record behind it; returns the register entry's id.

        About a person (``person`` is the app's identifier of someone the engine holds): ``subscribed`` (``arg`` the
        service, e.g. ``dashboard_app``), ``product_authorized`` (``arg`` the product, optional), ``member``,
        ``transfer_informed``, ``consent_by_recipient`` (``party`` the recipient that obtained the person's consent).
        About a party: ``successor_bound`` (``party`` the successor, bound to protect the data) and ``agreement``
        (``party`` the recipient, ``arg`` the agreement on file, e.g. ``confidentiality``). Audited."""
        now = now or dt.datetime.now(dt.UTC)
        _check_actor(actor)
        if fact not in _facts.REGISTERED:
            raise BadValueError(f"{fact!r} is not a fact the register holds; it holds "
                                + ", ".join(sorted(_facts.REGISTERED)))
        for name, value in (("party", party or ""), ("arg", arg)):
            if value and not _KEY.fullmatch(value):
                raise BadValueError(f"{name} must be an id (lower case letters, digits, '_', '.', '-')")
        if not isinstance(reference, str) or not reference.strip() or len(reference) > 200:
            raise BadValueError("reference must name the document or record behind the fact (1 to 200 characters)")
        about_person = fact in _facts.PERSON_FACTS
        if about_person != (person is not None):
            raise BadValueError(f"{fact!r} is " + ("about a person: give person" if about_person
                                                   else "about a party, not a person: give party, not person"))
        if fact in ("consent_by_recipient", "successor_bound", "agreement") and not party:
            raise BadValueError(f"{fact!r} needs the party it concerns (a recipient or successor id)")
        if fact in ("subscribed", "agreement") and not arg:
            raise BadValueError(f"{fact!r} needs arg: " + ("the service subscribed to" if fact == "subscribed"
                                                           else "the agreement on file, e.g. confidentiality"))
        if fact == "agreement" and party is not None and party in self.compiled.recipients:
            wanted = self.compiled.recipients[party][1].required_agreements
            if wanted and arg not in wanted:
                raise BadValueError(f"the pack asks {party!r} for {', '.join(wanted)}, not {arg!r}")
        with self.db.begin() as conn:
            sid = None
            if person is not None:
                found = self._find(conn, person)
                if found is None:
                    raise SubjectNotFoundError("no data is held about that person")
                sid = found[0]
            fid = conn.execute(fact_register.insert().values(
                pack_id=self.pack.id, subject_id=sid, fact=fact, arg=arg, party=party,
                action="revoked" if revoke else "recorded", reference=reference.strip(), at=now, actor=actor,
            ).returning(fact_register.c.id)).scalar_one()
            audit.record(conn, kind="fact", actor=actor, subject_id=sid, at=now, pack_version=self.compiled.version,
                         detail={"fact": fact, "arg": arg, "party": party, "action": "revoked" if revoke else "recorded",
                                 "entry": fid})
        return int(fid)

    # -- consent ------------------------------------------------------------------------
    def _targets(self) -> frozenset[str]:
        p = self.pack
        ids = {c.id for c in p.consents} | {x.id for x in p.purposes.items} | {r.id for r in p.recipients}
        ids |= {c.id for c in p.data_categories} | {c.id for c in p.collection.contexts}
        ids |= {e.id for d in p.disclosures for e in d.exceptions}
        ids |= {"policy", "transfer", "sensitive_data", "identity_to_partners", "parental_consent"}
        ids |= {f"{r.id}:identity" for r in p.recipients} | {f"transfer:{r.id}" for r in p.recipients}
        if not isinstance(p.marketing, str):  # the marketing choice (opt-in or opt-out) lives in the ledger too
            ids.add("marketing")
        if self.compiled.minors is not None and self.compiled.minors.permitted_uses:
            ids |= {f"parental_consent:{x.id}" for x in p.purposes.items} | {f"parental_consent:{r.id}" for r in p.recipients}
        return frozenset(ids)

    def _agreed_version(self, conn: Connection, sid: str) -> str:
        """The pack version the person last accepted (the current one if the ledger holds no acceptance)."""
        row = conn.execute(select(consent_events.c.pack_version).where(
            consent_events.c.subject_id == sid, consent_events.c.target == "policy",
            consent_events.c.action == "accepted").order_by(consent_events.c.seq.desc())).first()
        return str(row[0]) if row else self.compiled.version

    def refusal_notice(self, target: str) -> str | None:
        """What the person must be told before a refusal or withdrawal of ``target`` is confirmed, if anything."""
        if not self._is_target(target):
            raise BadValueError(f"{target!r} is not something this pack asks consent for")
        ids = self.compiled.consent_targets.get(target, frozenset({target}))
        if target == "policy":
            ids = ids | {c.id for c in self.pack.consents if c.scope == "policy"}
        notices = [c.refusal_notice for c in self.pack.consents if c.id in ids and c.refusal_notice]
        if target == "policy" and not notices:  # what declining costs, as the pack's decline_effect says
            notices = [_DECLINE_NOTICE[self.pack.acceptance.decline_effect]]
        return "\n".join(dict.fromkeys(notices)) or None

    def _is_target(self, target: str) -> bool:
        """A fixed target of the pack, a new purpose (where the pack allows one with prior consent), or a
        consent-based disclosure exception naming its recipient ('explicit_consent:acme_ltd')."""
        if target in self._targets():
            return True
        head, sep, key = target.partition(":")
        if not sep or not _KEY.fullmatch(key):
            return False
        if head == "new_purpose":
            return self.pack.purposes.undeclared == "require_prior_consent" and key not in self.compiled.purposes
        exc = self.compiled.exceptions.get(head)
        return exc is not None and exc.basis in ("explicit_consent", "separate_consent", "consent")

    def _accept_by_use(self, conn: Connection, sid: str, now: dt.datetime) -> None:
        """Acceptance-by-use packs record acceptance of the current version on first use."""
        if self.pack.acceptance.model != "implied_by_use" or self._explicit_acceptance_only(conn):
            return
        already = conn.execute(select(consent_events.c.seq).where(
            consent_events.c.subject_id == sid, consent_events.c.target == "policy",
            consent_events.c.action == "accepted", consent_events.c.pack_version == self.compiled.version,
        )).first()
        if already is None:
            consent.record(conn, subject_id=sid, pack=self.pack, target="policy", action="accepted", at=now,
                           evidence={"by": "first_use"})
            audit.record(conn, kind="consent", actor="engine", subject_id=sid, at=now, pack_version=self.compiled.version,
                         promises=self.pack.acceptance.promises, detail={"target": "policy", "action": "accepted"})

    def _explicit_acceptance_only(self, conn: Connection) -> bool:
        """A published version that reduces rights binds a person only once they explicitly accept it."""
        if self._explicit_only is None:
            from ..store._schema import policy_versions

            changes = conn.execute(select(policy_versions.c.changes).where(
                policy_versions.c.pack_id == self.pack.id, policy_versions.c.label == self.pack.version.label)).scalar()
            self._explicit_only = bool(changes and changes.get("explicit_consent_required"))
        return self._explicit_only

    def set_consent(
        self,
        external_id: str,
        target: str,
        action: consent.ConsentAction,
        *,
        actor: str = "subject",
        evidence: Mapping[str, str] | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        """Record consent given, withdrawn or refused for one target; returns the ledger sequence number."""
        now = now or dt.datetime.now(dt.UTC)
        if not self._is_target(target):
            raise BadValueError(f"{target!r} is not something this pack asks consent for")
        if action not in ("given", "withdrawn", "refused", "accepted"):
            raise BadValueError(f"consent action must be given, withdrawn, refused or accepted, not {action!r}")
        if action in ("withdrawn", "refused") and target in self.compiled.purposes:
            purpose = self.compiled.purposes[target][1]
            locked = [c for c in self.pack.consents if c.basic_data_locked_while_used]
            if purpose.requires_consent in ("none", "implied_by_use") and locked:
                raise BadValueError(
                    f"{purpose.name} runs on the basic data of a function in use, which cannot be withdrawn while the "
                    f"function is used ({', '.join(p for c in locked for p in c.promises)}); stop using the function, "
                    "or withdraw the consent for additional collection")
        exc = self.compiled.exceptions.get(target.partition(":")[0])
        if action == "given" and exc is not None and exc.pre_notice_fields:
            missing = [f for f in exc.pre_notice_fields if not (evidence or {}).get(f)]
            if missing:
                raise BadValueError("this consent needs evidence of what the person was told first: "
                                    + ", ".join(missing) + f" ({', '.join(exc.promises)})")
        t = self.compiled.transfers
        is_transfer = target.partition(":")[0] == "transfer" or target in self.compiled.consent_targets.get("transfer", ())
        if action == "given" and t is not None and t.inform_fields and is_transfer:
            missing = [f for f in t.inform_fields if not (evidence or {}).get(f)]
            if missing:
                raise BadValueError("consent to a cross-border transfer needs evidence that the person was told: "
                                    + ", ".join(missing) + f" ({', '.join(t.promises)})")
        with self.db.begin() as conn:
            sid, _ = self._find_or_create(conn, external_id, now)
            notice = self.refusal_notice(target) if action in ("withdrawn", "refused") else None
            if notice:  # the ledger keeps which consequence notice applied to this refusal
                evidence = {**(evidence or {}), "notice": notice}
            seq = consent.record(conn, subject_id=sid, pack=self.pack, target=target, action=action, at=now,
                                 evidence=evidence)
            rule = next((c for c in self.pack.consents if c.id == target), None)
            audit.record(conn, kind="consent", actor=actor, subject_id=sid, at=now, pack_version=self.compiled.version,
                         promises=rule.promises if rule else (), detail={"target": target, "action": action})
            if action == "withdrawn":
                from ..deletion import withdraw_in

                withdraw_in(self, conn, sid, target, actor=actor, now=now)  # a retroactive rule deletes the data too
        return seq

    def consents(self, external_id: str, at: dt.datetime | None = None) -> frozenset[str]:
        """What the person has consent on record for, now or as of ``at``."""
        with self.db.connect() as conn:
            found = self._find(conn, external_id)
            if found is None:
                raise SubjectNotFoundError("no data is held about that person")
            return consent.consents_as_of(conn, found[0], at)

    def consent_receipt(self, external_id: str, at: dt.datetime | None = None) -> dict[str, object]:
        """A Kantara-style consent receipt for the person's consents at ``at`` (default now)."""
        at = at or dt.datetime.now(dt.UTC)
        with self.db.connect() as conn:
            found = self._find(conn, external_id)
            if found is None:
                raise SubjectNotFoundError("no data is held about that person")
            return consent.receipt(conn, self.pack, found[0], at)

    def _values(self, conn: Connection, found: tuple[str, bytes], cats: frozenset[str],
                purpose: str | None = None, *, held: list[Row[Any]] | None = None) -> dict[str, list[str]]:
        """Decrypt the person's active values of ``cats``. With a purpose that names its own categories, only values
        collected for that purpose come back (purpose binding); cross-cutting purposes (any declared category, such
        as legal or security purposes) see every value the decision allowed. ``held``: the value rows already read
        with the decision's facts (see :meth:`_guard`)."""
        sid, key = found
        entry = self.compiled.purposes.get(purpose) if purpose else None
        bound = entry is not None and not isinstance(entry[1].categories, str)
        rows: Iterable[tuple[Any, ...]] = (
            conn.execute(_VALUES, {"sid": sid, "cats": sorted(cats)}).tuples() if held is None
            else ((x.n, x.a, x.value, json.loads(x.c), x.b, x.group_key) for x in held))
        out: dict[str, list[str]] = {c: [] for c in sorted(cats)}
        withheld = 0
        groups: dict[str, bytes | None] = {}
        for rid, category, value, purposes, key_id, wrapped in rows:
            if bound and purpose not in purposes:
                withheld += 1
                continue
            rkey = held_cipher_key(key, key_id, wrapped, groups)
            if rkey is not None:
                out[category].append(decrypt(rkey, value, f"{sid}|{category}|{rid}").decode())
        if withheld and not any(out.values()):
            raise _NotCollectedFor(purpose or "", withheld)
        return out

    def holds_contact(self, external_id: str, address: str) -> bool:
        """Is ``address`` one of the email addresses held for this person? (Proves a requester is that person
        once they also prove they control the address.)"""
        from ..connectors._identity import normalise  # the email rule the company databases are matched by

        wanted = normalise("email", address)
        emails = [c.id for c in self.pack.data_categories if c.fides_key.startswith("user.contact.email")]
        if not wanted or not emails:
            return False
        with self.db.connect() as conn:
            found = self._find(conn, external_id)
            if found is None:
                return False
            held = self._values(conn, found, frozenset(emails))
        return any(normalise("email", v) == wanted for vs in held.values() for v in vs)

    def export(self, external_id: str, *, actor: str = "requests", now: dt.datetime | None = None) -> list[dict[str, object]]:
        """Everything held about a person, each value with its category, purposes, source and the recipients its
        category went to (from the disclosure log). Audited without values; [] for a person with no data."""
        with self.db.connect() as conn:
            found = self._find(conn, external_id)
        return [] if found is None else self.export_subject(found[0], actor=actor, now=now)

    def export_subject(self, subject_id: str, *, actor: str = "requests", now: dt.datetime | None = None
                       ) -> list[dict[str, object]]:
        """``export`` for a pseudonymous subject id (what requests keep instead of the app's identifier)."""
        now = now or dt.datetime.now(dt.UTC)
        _check_actor(actor)
        cats = {c.id: c for c in self.pack.data_categories}
        contexts = {c.id: c.name for c in self.pack.collection.contexts}
        with self.db.begin() as conn:
            row = conn.execute(select(subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key)
                               .where(subjects.c.id == subject_id)).first()
            if row is None or row.wrapped_key is None or self.keys.is_shredded(row.id):
                return []
            found = (row.id, unwrap_data_key(self.keys.get(row.kek_id), row.wrapped_key, row.id))
            sid, key = found
            sent: dict[str, list[dict[str, str]]] = {}
            for d in conn.execute(select(disclosures.c.recipient, disclosures.c.categories, disclosures.c.purpose,
                                         disclosures.c.at).where(disclosures.c.subject_id == sid)
                                  .order_by(disclosures.c.id)):
                for c in d.categories:
                    sent.setdefault(c, []).append({"recipient": d.recipient, "purpose": d.purpose,
                                                   "at": _utc(d.at).isoformat()})
            out: list[dict[str, object]] = []
            groups: dict[str, bytes | None] = {}
            for r in conn.execute(select(records).where(records.c.subject_id == sid, records.c.status == "active")
                                  .order_by(records.c.id)):
                cat = cats.get(r.category)
                rkey = record_cipher_key(conn, key, r.key_id, groups)
                if rkey is None:
                    continue
                out.append({
                    "category": r.category, "category_name": cat.name if cat else r.category,
                    "value": decrypt(rkey, r.value, f"{sid}|{r.category}|{r.id}").decode(),
                    "purposes": list(r.purposes), "source": contexts.get(r.context, r.context), "channel": r.channel,
                    "obtained_from": r.source,
                    "collected_at": _utc(r.collected_at).isoformat(), "pack_version": r.pack_version,
                    "recipients": sent.get(r.category, []),
                })
            audit.record(conn, kind="export", actor=actor, subject_id=sid, at=now, pack_version=self.compiled.version,
                         detail={"values": len(out)})
        return out

    def share(
        self,
        external_id: str,
        recipient: str,
        categories: frozenset[str] | set[str],
        purpose: str,
        facts: Facts = _NO_FACTS,
        *,
        de_identify: bool = False,
        kind: str = "share",
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> Released:
        """Release values to a recipient, if the pack allows it; the disclosure log records who got what (no values).

        ``kind`` names the disclosure rule for a recipient the pack does not declare: ``share`` (default),
        ``transfer_to_controller`` (another controller, e.g. a successor) or ``public_disclosure``.

        With ``de_identify`` (or when the pack requires de-identified data for the recipient) every value is replaced
        by a keyed pseudonym that is stable per recipient and cannot be reversed without the keystore.
        """
        now = now or dt.datetime.now(dt.UTC)
        cats = frozenset(categories)
        _facts.check_stated(facts)  # de-identification too is the engine's own (``de_identify``), never a claim
        if kind not in ("share", "transfer_to_controller", "public_disclosure"):
            raise BadValueError(f"kind must be share, transfer_to_controller or public_disclosure, not {kind!r}")
        detail = {"recipient": recipient, "purpose": purpose, "categories": sorted(cats), "de_identified": de_identify,
                  "kind": kind, **_facts.attested(facts, actor)}
        out: dict[str, list[str]] | None = None
        with self.db.begin() as conn:  # decide, record, log the disclosure and read in one transaction
            found, d, _, held = self._guard(conn, external_id, facts, Share(recipient, cats, purpose, kind), detail,
                                            actor, now)
            if found is not None and d.allowed:
                out = self._values(conn, found, cats, held=held)
                if de_identify or d.obliges("de_identify"):
                    out = {c: ["pseudonym:" + self.keys.lookup_hash(f"{recipient}|{c}|{x}")[:24] for x in vs]
                           for c, vs in out.items()}
                if d.obliges("carry_agreed_policy_version"):
                    detail = {**detail, "policy_version_carried": self._agreed_version(conn, found[0])}
                notice = d.obliges("notify_subject")
                if notice is not None:  # the person is told, through the outbox, in the same transaction
                    detail = {**detail, "notified": self._notify_subject(conn, found[0], notice, now)}
                conn.execute(disclosures.insert().values(
                    subject_id=found[0], recipient=recipient, categories=sorted(cats), purpose=purpose,
                    ground=",".join(sorted(facts.grounds)) or None, decision_id=d.decision_id, at=now,
                ))
                self._record(conn, d, actor, found[0], detail, now)
        return self._released(found, d, out)

    def _notify_subject(self, conn: Connection, sid: str, notice: Obligation, now: dt.datetime) -> dict[str, object]:
        """Queue a notice to the person through the outbox: by email to the latest address held, else by push to
        their pseudonymous id. Returns what the audit entry keeps (channel and outbox id, no address)."""
        from ..notify import enqueue_to_person

        to = self.email_of_subject(conn, sid)
        channel = "email" if to is not None else "push"
        oid = enqueue_to_person(conn, self.keys, kind="subject_notice", channel=channel, to=to or sid,
                                subject=f"About your personal data at {self.pack.name}", body=notice.text, now=now)
        return {"channel": channel, "outbox": oid}

    def values_of_subject(self, conn: Connection, subject_id: str, cats: set[str] | frozenset[str]
                          ) -> dict[str, list[str]]:
        """Decrypted active values of some categories of a pseudonymous subject, inside the caller's transaction
        (for erasure notices, which must say whom to erase)."""
        row = conn.execute(select(subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key)
                           .where(subjects.c.id == subject_id)).first()
        if row is None or row.wrapped_key is None or self.keys.is_shredded(row.id) or not cats:
            return {}
        key = unwrap_data_key(self.keys.get(row.kek_id), row.wrapped_key, row.id)
        return self._values(conn, (row.id, key), frozenset(cats))

    def email_categories(self) -> frozenset[str]:
        """The pack's categories that hold email addresses (Fides ``user.contact.email``)."""
        return frozenset(c.id for c in self.pack.data_categories if c.fides_key.startswith("user.contact.email"))

    def email_of_subject(self, conn: Connection, subject_id: str) -> str | None:
        """The latest email address held for a pseudonymous subject (to send them a notice), or None."""
        held = self.values_of_subject(conn, subject_id, self.email_categories())
        found = [v for vs in held.values() for v in vs if v.strip()]
        return found[-1].strip() if found else None

    def correct_subject(self, subject_id: str, category: str, value: str, *, actor: str = "app",
                        now: dt.datetime | None = None) -> int:
        """Replace a category's active values with one corrected value (the old ones are kept as superseded
        ciphertext, for the record); returns how many were replaced. Audited without values. The value is checked
        against its category's kind first (an email, a phone number, a past date of birth ...: ``_values``);
        one that does not fit raises :class:`BadDetailError` and changes nothing."""
        now = now or dt.datetime.now(dt.UTC)
        if category not in self.compiled.categories:
            raise BadValueError(f"{category!r} is not a data category of this pack")
        if not isinstance(value, str) or not value:
            raise BadValueError("the corrected value must be non-empty text")
        value = check_detail(self.compiled.categories[category], value, today=now.date())
        with self.db.begin() as conn:
            row = conn.execute(select(subjects.c.id, subjects.c.kek_id, subjects.c.wrapped_key)
                               .where(subjects.c.id == subject_id)).first()
            if row is None or row.wrapped_key is None or self.keys.is_shredded(row.id):
                raise SubjectNotFoundError("no data is held about that person")
            key = unwrap_data_key(self.keys.get(row.kek_id), row.wrapped_key, row.id)
            old = conn.execute(select(records).where(records.c.subject_id == subject_id, records.c.category == category,
                                                     records.c.status == "active").order_by(records.c.id)).all()
            if not old:
                raise BadValueError(f"no {category!r} is held to correct")
            last = old[-1]
            conn.execute(update(records).where(records.c.id.in_([r.id for r in old])).values(status="superseded"))
            kid, gkey = group_key(conn, subject_id, key, category, now)
            rid = conn.execute(records.insert().values(
                subject_id=subject_id, pack_id=self.pack.id, pack_version=self.compiled.version, context=last.context,
                category=category, purposes=list(last.purposes), channel=last.channel, value=b"", collected_at=now,
                status="active", legal_hold=False, key_id=kid).returning(records.c.id)).scalar_one()
            conn.execute(update(records).where(records.c.id == rid).values(
                value=encrypt(gkey, value.encode(), f"{subject_id}|{category}|{rid}")))
            audit.record(conn, kind="correction", actor=actor, subject_id=subject_id, at=now,
                         pack_version=self.compiled.version, detail={"category": category, "replaced": len(old)})
        return len(old)

    def record_subject_consent(self, subject_id: str, target: str, action: consent.ConsentAction, *,
                               actor: str = "subject", now: dt.datetime | None = None) -> int:
        """``set_consent`` for a pseudonymous subject id (requests keep no app identifier)."""
        now = now or dt.datetime.now(dt.UTC)
        if not self._is_target(target):
            raise BadValueError(f"{target!r} is not something this pack asks consent for")
        with self.db.begin() as conn:
            seq = consent.record(conn, subject_id=subject_id, pack=self.pack, target=target, action=action, at=now,
                                 evidence={"by": actor})
            audit.record(conn, kind="consent", actor=actor, subject_id=subject_id, at=now,
                         pack_version=self.compiled.version, detail={"target": target, "action": action})
            if action == "withdrawn":
                from ..deletion import withdraw_in

                withdraw_in(self, conn, subject_id, target, actor=actor, now=now)  # a retroactive rule deletes too
        return seq

    def restrict_subject(self, subject_id: str, restricted: bool = True, *, actor: str = "app",
                         now: dt.datetime | None = None) -> None:
        """Restrict (or lift the restriction of) all processing of a person's data but for recorded legal grounds."""
        now = now or dt.datetime.now(dt.UTC)
        with self.db.begin() as conn:
            row = conn.execute(select(subjects.c.status).where(subjects.c.id == subject_id)).first()
            if row is None or row.status not in ("active", "restricted"):
                raise SubjectNotFoundError("no data is held about that person")
            conn.execute(update(subjects).where(subjects.c.id == subject_id).values(
                status="restricted" if restricted else "active"))
            audit.record(conn, kind="restriction", actor=actor, subject_id=subject_id, at=now,
                         pack_version=self.compiled.version, detail={"restricted": restricted})

    def erase_subject(self, subject_id: str, *, actor: str = "app", reason: str = "erasure request",
                      now: dt.datetime | None = None) -> None:
        """``erase`` for a pseudonymous subject id."""
        from ..deletion import erase_person

        erase_person(self, subject_id, cause="erasure", actor=actor, reason=reason, now=now)

    def erase(self, external_id: str, *, actor: str = "app", reason: str = "erasure request",
              now: dt.datetime | None = None) -> str:
        """Erase a person through the deletion service: crypto-shred them (destroy the data key, blank the records,
        journal it outside the database), or, where records under a legal hold must stay and the pack lets the law
        win, delete and crypto-shred everything else and restrict what is kept."""
        from ..deletion import erase_person_in

        now = now or dt.datetime.now(dt.UTC)
        with self.db.begin() as conn:
            row = conn.execute(select(subjects.c.id).where(
                subjects.c.lookup == self.keys.lookup_hash(external_id))).first()
            if row is None:
                raise SubjectNotFoundError("no data is held about that person")
            sid = str(row.id)
            erase_person_in(self, conn, sid, cause="erasure", actor=actor, reason=reason, now=now)
        return sid
