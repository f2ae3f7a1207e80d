"""Small helpers shared by the promise tests: what a denial says, and what the audit log last allowed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from policykeeper import DeniedError
from policykeeper.engine import Decision, PolicyEngine
from policykeeper.store import audit_log


def codes(info: pytest.ExceptionInfo[DeniedError]) -> set[str]:
    """The codes of every reason a decision was denied."""
    return {r.code for r in info.value.decision.denials}


def promises(info: pytest.ExceptionInfo[DeniedError]) -> tuple[str, ...]:
    """The promise IDs behind a denied decision."""
    return tuple(info.value.decision.promises)


def last_allowed_promises(eng: PolicyEngine) -> list[str]:
    """The promise IDs of the most recent allowed decision in the audit log."""
    with eng.db.connect() as conn:
        got = conn.execute(select(audit_log.c.promises).where(audit_log.c.allowed.is_(True))
                           .order_by(audit_log.c.seq.desc())).scalars().first()
    return list(got or [])


def sign_agreements(eng: PolicyEngine, *recipients: str, now: object = None) -> None:
    """Record in the fact register every agreement the pack asks of these recipients (all recipients if none named),
    the way a privacy officer files the signed contracts."""
    import datetime as dt

    at = now if isinstance(now, dt.datetime) else dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for r in eng.pack.recipients:
        if recipients and r.id not in recipients:
            continue
        for paper in r.required_agreements:
            eng.record_fact("agreement", party=r.id, arg=paper, reference=f"contract with {r.id}", now=at)


def subscribe(eng: PolicyEngine, person: str, service: str, *, now: object = None) -> None:
    """Record a person's subscription to a service in the fact register (they must already be held)."""
    import datetime as dt

    at = now if isinstance(now, dt.datetime) else dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    eng.record_fact("subscribed", person=person, arg=service, reference=f"{service} subscription", now=at)


Said = list[tuple[str, str, str, tuple[str, ...]]]
"""A decision's reasons, word for word: (code, message, rule, promises)."""
Obliged = list[tuple[str, str, str, str, bool, tuple[str, ...]]]
"""A decision's obligations, word for word: (kind, value, text, by, for the person, promises)."""


def said(d: Decision) -> Said:
    return [(r.code, r.message, r.rule, tuple(r.promises)) for r in d.reasons]


def obliged(d: Decision) -> Obliged:
    return [(o.kind, o.value, o.text, o.by, o.for_person, tuple(o.promises)) for o in d.obligations]


def refused(action: Callable[..., object], *args: object, **kw: object) -> tuple[Said, Obliged]:
    """The words of the decision a guarded action (``eng.read``, ``eng.collect``, ``eng.share``) was refused with."""
    with pytest.raises(DeniedError) as info:
        action(*args, **kw)
    decision = info.value.decision
    assert isinstance(decision, Decision) and not decision.allowed
    return said(decision), obliged(decision)
