"""The facts repository: the one statement that reads everything a decision needs about a person, the fact register's
entries and the cross-border security assessments.

The fact statement (:class:`FactStatements`) is a ``UNION ALL`` of one branch per kind of held fact (the subject row,
consent events, an account context, the account's cancellations, a legal hold, register entries, held dates of
birth, the values asked for); every branch has the same columns (:data:`GATHERED`), so one round trip brings all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Connection,
    DateTime,
    LargeBinary,
    String,
    bindparam,
    cast,
    exists,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from ._schema import consent_events, fact_register, lifecycle_events, record_keys, records, subjects, transfer_assessments

__all__ = ["GATHERED", "Assessment", "GatheredRow", "FactStatements", "RegisterEntry", "adequate_assessments",
           "insert_assessment", "insert_fact", "register_entries"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class GatheredRow(Generic[_T]):
    """One row of the fact statement: its ``kind``, then per kind its order (``n``) and what it carries (``a`` to
    ``e``, ``at``, ``value``, ``group_key``; see :meth:`FactStatements.branches`).

    The type parameter is the type of the carried columns, which differ per kind (``GatheredRow[Any]``); the engine's
    fact-gathering path (``PolicyEngine._facts_of``) reads each kind's columns as that kind's branch fills them."""

    kind: str
    n: int | None
    a: _T
    b: _T
    c: _T
    d: _T
    e: _T
    at: _T
    value: _T
    group_key: _T


GATHERED = (("n", BigInteger()), ("a", String()), ("b", String()), ("c", String()), ("d", String()),
            ("e", String()), ("at", DateTime(timezone=True)), ("value", LargeBinary()), ("group_key", LargeBinary()))
"""The columns of the one fact query: a row kind, then per kind its order (n) and what it carries."""



def _branch(kind: str, **given: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    cols: list[ColumnElement[Any]] = [literal_column(f"'{kind}'", String()).label("kind")]
    for name, type_ in GATHERED:
        col = given.get(name)
        cols.append((cast(null(), type_) if col is None else col).label(name))
    return cols


def _fixed(name: str, values: frozenset[str]) -> list[BindParameter[str]]:
    """A fixed IN list as plain parameters (an expanding one is rebuilt on every execution)."""
    return [bindparam(f"{name}_{i}", v, type_=String()) for i, v in enumerate(sorted(values))]


MAX_BUILT = 512
"""How many fact statements one pack keeps built (one per set of kinds and of categories read)."""


class FactStatements:
    """The fact statement for one pack, built once per set of kinds asked for and kept.

    ``account_contexts``: the collection contexts whose data means an account; ``birth_categories``: the categories
    that hold a date of birth."""

    def __init__(self, account_contexts: frozenset[str], birth_categories: frozenset[str]) -> None:
        self.account_contexts = account_contexts
        self.birth_categories = birth_categories
        self._built: dict[tuple[str, ...], CompoundSelect[Any]] = {}

    def statement(self, kinds: tuple[str, ...], by_lookup: bool, cats: tuple[str, ...] = ()) -> CompoundSelect[Any]:
        """One statement for everything a decision reads about a person: their consent events, and (as ``kinds``
        asks) whether they hold data from an account context, the account's cancellations, whether any record is
        under a legal hold, the fact register's entries, and their held dates of birth (with the group key). By
        lookup hash, the subject row comes first and the person's id is a subquery. ``cats``: the categories whose
        values to read (kind ``values``), fixed in the statement: a read asks for few sets of categories, and an
        expanding IN list would be rewritten into the SQL on every execution."""
        key = (*kinds, str(by_lookup), *cats)
        stmt = self._built.get(key)
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
                *live, r.c.context.in_(_fixed("ctx", self.account_contexts))))),
            "cancelled": select(*_branch("cancelled", at=le.c.at)).where(
                le.c.pack_id == bindparam("pack"), le.c.kind == "account_cancelled", le.c.subject_id == sid),
            "hold": select(*_branch("hold")).where(exists(select(r.c.id).where(*live, r.c.legal_hold.is_(True)))),
            "register": select(*_branch("register", n=fr.c.id, a=fr.c.fact, b=fr.c.arg, c=fr.c.party, d=fr.c.action,
                                        e=fr.c.subject_id, at=fr.c.at)).where(
                fr.c.pack_id == bindparam("pack"), (fr.c.subject_id == sid) | fr.c.subject_id.is_(None)),
            "birth": select(*_branch("birth", n=r.c.id, a=r.c.category, b=r.c.key_id, value=r.c.value,
                                     group_key=record_keys.c.wrapped_key))
            .select_from(r.outerjoin(record_keys, record_keys.c.id == r.c.key_id))
            .where(*live, r.c.category.in_(_fixed("birth", self.birth_categories))),
            "values": select(*_branch("values", n=r.c.id, a=r.c.category, b=r.c.key_id, c=cast(r.c.purposes, String()),
                                      value=r.c.value, group_key=record_keys.c.wrapped_key))
            .select_from(r.outerjoin(record_keys, record_keys.c.id == r.c.key_id))
            .where(*live, r.c.category.in_(_fixed("cat", frozenset(cats)))),
        }
        chosen = (("subject",) if by_lookup else ()) + kinds
        if len(self._built) >= MAX_BUILT:  # many sets of categories: start again rather than grow without end
            self._built.clear()
        stmt = self._built[key] = union_all(*(branches[k] for k in chosen))
        return stmt

    def gather(self, conn: Connection, kinds: tuple[str, ...], *, pack_id: str, sid: str | None = None,
               lookup: str | None = None, cats: Iterable[str] | None = None) -> dict[str, list[GatheredRow[Any]]]:
        """Run the fact statement for a person (by pseudonymous id, or by lookup hash, which adds their subject row
        as ``subject``); rows by kind, each kind in its own order (ledger, register, records)."""
        by_lookup = lookup is not None
        stmt = self.statement(kinds, by_lookup, tuple(sorted(set(cats))) if cats is not None else ())
        rows: dict[str, list[GatheredRow[Any]]] = {k: [] for k in ("subject", *kinds)}
        params: dict[str, object] = {"lookup": lookup} if by_lookup else {"sid": sid}
        for row in conn.execute(stmt, {**params, "pack": pack_id}):
            rows[row[0]].append(GatheredRow(*row))
        for found in rows.values():
            found.sort(key=lambda row: row.n or 0)
        return rows


# -- the fact register ---------------------------------------------------------------------------------------------
def insert_fact(conn: Connection, *, pack_id: str, subject_id: str | None, fact: str, arg: str, party: str | None,
                action: str, reference: str, at: dt.datetime, actor: str) -> int:
    """Append an entry (``action`` recorded or revoked) to the fact register; returns its id."""
    return int(conn.execute(fact_register.insert().values(
        pack_id=pack_id, subject_id=subject_id, fact=fact, arg=arg, party=party, action=action, reference=reference,
        at=at, actor=actor,
    ).returning(fact_register.c.id)).scalar_one())


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One entry of the fact register: a fact (with its argument) recorded or revoked at ``at``, about a person
    (``subject_id``) or, with no person, about a party."""

    subject_id: str | None
    fact: str
    arg: str
    party: str | None
    action: str
    at: dt.datetime


def register_entries(conn: Connection, pack_id: str, subject_id: str | None) -> list[RegisterEntry]:
    """The pack's register entries, in entry order: the person's and every party-level one (with no person), or only
    the party-level ones when ``subject_id`` is None."""
    t = fact_register
    who = t.c.subject_id.is_(None) if subject_id is None else (t.c.subject_id == subject_id) | t.c.subject_id.is_(None)
    return [RegisterEntry(*r) for r in conn.execute(select(t.c.subject_id, t.c.fact, t.c.arg, t.c.party, t.c.action,
                                                           t.c.at).where(t.c.pack_id == pack_id, who).order_by(t.c.id))]


# -- cross-border security assessments ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Assessment:
    """An adequate security assessment on record for a destination (a region or a recipient)."""

    destination: str
    assessed_at: dt.datetime
    valid_until: dt.datetime | None


def adequate_assessments(conn: Connection, pack_id: str) -> list[Assessment]:
    """Every adequate security assessment on record for the pack (in force or not)."""
    t = transfer_assessments
    return [Assessment(*r) for r in conn.execute(select(t.c.destination, t.c.assessed_at, t.c.valid_until).where(
        t.c.pack_id == pack_id, t.c.outcome == "adequate"))]


def insert_assessment(conn: Connection, *, pack_id: str, destination: str, outcome: str, reference: str,
                      assessed_at: dt.datetime, valid_until: dt.datetime | None, recorded_by: str) -> int:
    """Record a security assessment; returns its id."""
    return int(conn.execute(transfer_assessments.insert().values(
        pack_id=pack_id, destination=destination, outcome=outcome, reference=reference, assessed_at=assessed_at,
        valid_until=valid_until, recorded_by=recorded_by,
    ).returning(transfer_assessments.c.id)).scalar_one())
