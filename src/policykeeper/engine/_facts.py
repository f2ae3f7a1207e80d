"""The facts boundary: what a caller may state, and the one path that gathers everything else from the engine's records.

A caller states *context*: the channel, the observed region, the source, the data itself (a birth date among the
values), and *attested* facts about the real world the engine cannot observe (a feature in use, an OS permission
granted, positioning on, a provider's acceptance or screening) and lawful grounds; attested facts are written to the
audit entry with the actor that attested them. Every *privileged* fact (one that unlocks a protection: consent of any
kind, parental consent, de-identification, an account, a subscription, a product authorisation, a bound successor, an
informed transfer, a recipient's agreements or confirmed consent, an assessment, a restriction) comes from
``PolicyEngine._facts_of``, the one gathering path, which reads the consent ledger, the subjects and records,
the transfer assessments and the fact register with the helpers here (the statements are in ``store/facts.py``).
A caller who states a privileged fact gets :class:`PrivilegedFactError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from .._exceptions import BadValueError, PrivilegedFactError
from ..store import facts as fact_store
from ._types import Facts

__all__ = ["ATTESTED", "FACT_TABLE", "PRIVILEGED", "REGISTERED", "FactRow", "check_stated"]


@dataclass(frozen=True)
class FactRow:
    """One line of the facts table: a fact, who may state it, and where the engine finds it."""

    name: str
    stated_by: Literal["caller", "attested", "engine"]
    source: str


FACT_TABLE: tuple[FactRow, ...] = (
    FactRow("channel", "caller", "context of the call (collection channel)"),
    FactRow("region", "caller", "context of the call (where the data is read from or goes)"),
    FactRow("source", "caller", "context of the call (the entity the data comes from)"),
    FactRow("age", "caller", "stated age (stricter only); else the youngest age from a collected or held date of birth"),
    FactRow("grounds", "attested", "stated by the actor, recorded with the disclosure and the audit entry"),
    FactRow("feature_active", "attested", "stated by the actor, recorded in the audit entry"),
    FactRow("os_permission_granted", "attested", "stated by the actor, recorded in the audit entry"),
    FactRow("device_positioning_on", "attested", "stated by the actor, recorded in the audit entry"),
    FactRow("provider_accepted_request", "attested", "stated by the actor, recorded in the audit entry"),
    FactRow("provider_screened", "attested", "stated by the actor, recorded in the audit entry"),
    FactRow("consents", "engine", "consent ledger (given, not withdrawn, in scope of the version)"),
    FactRow("objections", "engine", "consent ledger (withdrawn or refused)"),
    FactRow("policy_declined", "engine", "consent ledger (the policy refused or withdrawn)"),
    FactRow("parental_consent", "engine", "consent ledger (parental consent targets)"),
    FactRow("consent", "engine", "consent ledger; 'consent:R:by_recipient' from the fact register"),
    FactRow("de_identified", "engine", "only the engine's own de-identification (share with de_identify)"),
    FactRow("account_exists", "engine", "records (data held from a context the pack marks creates_account) and no "
            "cancellation"),
    FactRow("subscribed", "engine", "fact register ('subscribed', per person and service)"),
    FactRow("product_authorized", "engine", "fact register ('product_authorized', per person)"),
    FactRow("member", "engine", "fact register ('member', per person)"),
    FactRow("transfer_informed", "engine", "fact register ('transfer_informed', per person) or a transfer consent"),
    FactRow("successor_bound", "engine", "fact register ('successor_bound', per successor)"),
    FactRow("agreements", "engine", "fact register ('agreement', per recipient)"),
    FactRow("assessed", "engine", "transfer assessments (adequate and in force)"),
    FactRow("restricted", "engine", "subjects table (status restricted)"),
    FactRow("queued_for_deletion", "engine", "subjects table (status queued)"),
    FactRow("uncovered", "engine", "consent ledger and published versions"),
    FactRow("legal_hold", "engine", "records (any of the person's records under a legal hold)"),
    FactRow("agreement_signed", "engine", "fact register ('agreement' on file with the recipient; ':kind' for one kind)"),
    FactRow("security_assessment_done", "engine", "transfer assessments (adequate, in force, for the recipient or region)"),
    FactRow("ground_recorded", "attested", "the grounds stated for the action"),
)

ATTESTED: frozenset[str] = frozenset(r.name for r in FACT_TABLE if r.stated_by == "attested") - {"grounds"}
"""Condition names a caller may attest (with or without an argument)."""
PRIVILEGED: frozenset[str] = frozenset(r.name for r in FACT_TABLE if r.stated_by == "engine")
REGISTERED: frozenset[str] = frozenset({"subscribed", "product_authorized", "member", "transfer_informed",
                                        "consent_by_recipient", "successor_bound", "agreement"})
"""Facts the fact register holds: recorded (and revoked) by staff with a reference, read by :func:`gather`."""
PERSON_FACTS = frozenset({"subscribed", "product_authorized", "member", "transfer_informed", "consent_by_recipient"})
"""Register facts about one person; the others (successor_bound, agreement) are about a party (a recipient)."""


MAX_GROUNDS = 8
"""How many grounds one action may state (the pack's vocabulary has 35; an action rests on one or two)."""
_GROUND = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
"""A ground is a name such as 'legal_requirement', never a sentence: it is kept in clear with the disclosure."""


def check_stated(facts: Facts) -> None:
    """Refuse a caller's facts that include anything privileged (or an unknown condition)."""
    bad: list[str] = []
    for name in ("consents", "objections", "uncovered", "agreements", "assessed"):
        if getattr(facts, name):
            bad.append(name)
    if facts.policy_declined:
        bad.append("policy_declined")
    for cond in facts.conditions:
        head = cond.partition(":")[0]
        if head not in ATTESTED:
            bad.append(cond)
    if bad:
        raise PrivilegedFactError(bad)
    if len(facts.grounds) > MAX_GROUNDS:
        raise BadValueError(f"at most {MAX_GROUNDS} grounds may be stated for one action, not {len(facts.grounds)}")
    if any(len(g) > 64 or not _GROUND.fullmatch(g) for g in facts.grounds):  # the ground itself is not echoed: it is free text
        raise BadValueError("a stated ground must be lower-case words joined by '_', at most 64 characters, such as "
                            "'legal_requirement'; one of the grounds stated is not")
    if facts.age is not None and not 0 <= facts.age <= 150:
        raise BadValueError(f"age {facts.age} is not a person's age")


def attested(facts: Facts, actor: str) -> dict[str, object]:
    """What the caller attested, for the audit entry (with who attested it); {} when nothing was."""
    if not facts.conditions and not facts.grounds:
        return {}
    return {"attested": {"by": actor, "conditions": sorted(facts.conditions), "grounds": sorted(facts.grounds)}}


def _utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)


def registered(conn: Connection, pack_id: str, subject_id: str | None, now: dt.datetime
               ) -> list[tuple[str, str, str | None]]:
    """The register's facts in force at ``now``: (fact, arg, party) for the person (and every party-level fact)."""
    entries = fact_store.register_entries(conn, pack_id, subject_id)
    return register_in_force(((e.subject_id, e.fact, e.arg, e.party, e.action, e.at) for e in entries), now)


def register_in_force(rows: Iterable[tuple[str | None, str, str, str | None, str, dt.datetime]], now: dt.datetime
                      ) -> list[tuple[str, str, str | None]]:
    """Fold register entries (subject, fact, arg, party, action, at), in entry order: the latest at or before ``now``
    wins for each (subject, fact, arg, party); (fact, arg, party) of those still recorded."""
    state: dict[tuple[str | None, str, str, str | None], bool] = {}
    at = _utc(now)
    for subject_id, fact, arg, party, action, when in rows:
        if _utc(when) <= at:
            state[(subject_id, fact, arg, party)] = action == "recorded"
    return [(fact, arg, party) for (_, fact, arg, party), on in state.items() if on]


def cancelled_by(cancellations: Iterable[dt.datetime], now: dt.datetime) -> bool:
    """Is any of the account's cancellation times at or before ``now``?"""
    return any(_utc(a) <= _utc(now) for a in cancellations)


def conditions_from_register(held: Iterable[tuple[str, str, str | None]], party: str | None
                             ) -> tuple[set[str], set[str]]:
    """(conditions, agreements) the register's facts establish; party-level facts count for ``party`` only."""
    conditions: set[str] = set()
    agreements: set[str] = set()
    for fact, arg, who in held:
        if fact == "consent_by_recipient" and who:
            conditions.add(f"consent:{who}:by_recipient")
        elif fact == "successor_bound":
            if who is not None and who == party:
                conditions.add("successor_bound")
        elif fact == "agreement":
            if who is not None and who == party:
                agreements.add(arg)
                conditions |= {"agreement_signed", f"agreement_signed:{arg}"}
        elif fact in PERSON_FACTS:
            conditions.add(fact)
            if arg:
                conditions.add(f"{fact}:{arg}")
    return conditions, agreements


def youngest(values: Mapping[str, str] | Mapping[str, list[str]], birth_categories: frozenset[str],
             today: dt.date, *, strict: bool) -> int | None:
    """The youngest age a date of birth among ``values`` gives; a malformed date is an error when ``strict``
    (collected now) and skipped otherwise (held from before)."""
    ages: list[int] = []
    for cat in birth_categories:
        got = values.get(cat)
        if got is None:
            continue
        for text in ([got] if isinstance(got, str) else got):
            try:
                born = dt.date.fromisoformat(text.strip())
            except ValueError:
                if strict:
                    raise BadValueError(f"{cat!r} is a date of birth: give it as YYYY-MM-DD") from None
                continue
            if strict and born > today:
                raise BadValueError(f"{cat!r} is a date of birth in the future")
            ages.append(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
    return min(ages) if ages else None


def stricter_age(stated: int | None, *derived: int | None) -> int | None:
    """The caller's age only makes a decision stricter: the youngest of what is stated and what the data says."""
    known = [a for a in (stated, *derived) if a is not None]
    return min(known) if known else None
