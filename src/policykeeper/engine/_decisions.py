"""Deciding on a person's data: what the pack's rules can consult, reading those facts with the person in one
statement, recording every decision (allowed or denied) in the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .. import audit
from ..crypto import unwrap_data_key
from ..pack._types import Condition
from ._common import NO_FACTS, check_actor, denied
from ._decide import CompiledPack, decide
from ._subjects import find_by_id
from ._types import Decision, Facts, Share, Use

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .._exceptions import DeniedError
    from ..pack import Pack
    from ..store.facts import GatheredRow
    from ._engine import PolicyEngine

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


def consulted(pack: Pack, cp: CompiledPack, births: frozenset[str]) -> frozenset[str]:
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


def kinds(eng: PolicyEngine, action: Use | Share | None, *, every: bool = False) -> tuple[str, ...]:
    """What a decision on ``action`` reads about a person, from what the pack's rules can consult (``every``:
    every held fact, for the modules that decide on facts outside the rules, such as an account's cancellation)."""
    needs = eng.consulted_facts
    if every:
        needs = frozenset({"account", "hold", "register"} | (
            {"age_collect", "age_use"} if eng.compiled.minors is not None and eng._birth_categories else set()))
    out = ["consent"]
    if "account" in needs and eng._account_contexts:
        out += ["account", "cancelled"]
    if "hold" in needs:
        out.append("hold")
    if "register" in needs:
        out.append("register")
    if ("age_use" if isinstance(action, Use | Share) else "age_collect") in needs:
        out.append("birth")
    return tuple(out)


def record(eng: PolicyEngine, conn: Connection, d: Decision, actor: str, subject_id: str | None,
           detail: Mapping[str, object], now: dt.datetime) -> None:
    """Write a decision (allowed or denied) to the audit log, in the caller's transaction."""
    basis = [o.value for o in d.obligations if o.kind == "record_ground"]
    if basis:  # the pack requires the ground (or the disclosure exception) relied on to be recorded
        detail = {**detail, "grounds_recorded": basis}
    audit.record(
        conn, kind="decision", actor=actor, subject_id=subject_id, decision_id=d.decision_id, allowed=d.allowed,
        promises=d.promises, pack_version=d.pack_version, at=now,
        detail={"action": d.action, "codes": [r.code for r in d.reasons], "rules": [r.rule for r in d.reasons],
                **({"obligations": list(d.obligation_names)} if d.obligations else {}), **detail},
    )


def deny(eng: PolicyEngine, d: Decision, actor: str, subject_id: str | None, detail: Mapping[str, object],
         now: dt.datetime) -> DeniedError:
    """Audit a denial in its own transaction (the denial is evidence too) and return the error to raise."""
    with eng.db.begin() as conn:
        record(eng, conn, d, actor, subject_id, detail, now)
    return denied(d)


def subject_facts(
    eng: PolicyEngine, conn: Connection, external_id: str, stated: Facts, action: Use | Share | None,
    now: dt.datetime, *, values: Mapping[str, str] | None = None, de_identified: bool = False,
    gathered: dict[str, list[GatheredRow[Any]]] | None = None,
) -> tuple[tuple[str, bytes] | None, Facts]:
    """The subject (if any) and the facts for an action on their data (see ``PolicyEngine._facts_of``): the person and
    everything the decision reads about them come back in one statement. Given ``gathered`` (a use or share), the
    statement also reads the person's values of the action's categories and leaves its rows there."""
    wanted = kinds(eng, action)
    cats = None
    if gathered is not None and isinstance(action, Use | Share):
        wanted, cats = (*wanted, "values"), action.categories
    rows = eng._fact_statements.gather(conn, wanted, pack_id=eng.pack.id, lookup=eng.keys.lookup_hash(external_id),
                                      cats=cats)
    if gathered is not None:
        gathered.update(rows)
    row = rows["subject"][0] if rows["subject"] else None
    full = None
    if row is not None and row.value is not None and not eng.keys.is_shredded(row.a):
        full = (row.a, unwrap_data_key(eng.keys.get(row.b), row.value, row.a), row.c)
    facts = eng._facts_of(conn, full, stated, action, now, values=values, de_identified=de_identified,
                          gathered=rows)
    return (None if full is None else (full[0], full[1])), facts


def guard(
    eng: PolicyEngine, conn: Connection, external_id: str, facts: Facts, action: Use | Share,
    detail: Mapping[str, object], actor: str, now: dt.datetime,
) -> tuple[tuple[str, bytes] | None, Decision, Facts, list[GatheredRow[Any]]]:
    """Decide an action on a person's data with the facts the engine holds; a denial is audited here. The
    person's stored values of the action's categories are read with the facts (still encrypted; for
    :func:`._subjects.values` once the decision allows them)."""
    check_actor(actor)
    gathered: dict[str, list[GatheredRow[Any]]] = {}
    found, facts = subject_facts(eng, conn, external_id, facts, action, now,
                                 de_identified=bool(detail.get("de_identified")), gathered=gathered)
    d = decide(eng.compiled, facts, action)
    if not d.allowed:
        record(eng, conn, d, actor, found[0] if found else None, detail, now)
    return found, d, facts, gathered.get("values", [])


def facts_for(eng: PolicyEngine, conn: Connection, subject_id: str, action: Use | Share | None,
              now: dt.datetime | None) -> Facts:
    now = eng.clock.at(now)
    full = find_by_id(eng, conn, subject_id)
    # every held fact, not only those the pack's rules consult: the callers decide on more than the rules do
    rows = None if full is None else eng._gather(conn, kinds(eng, action, every=True), sid=full[0])
    return eng._facts_of(conn, full, NO_FACTS, action, now, gathered=rows)
