"""Small helpers shared by the promise tests: what a denial says, and what the audit log last allowed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from policykeeper import DeniedError
from policykeeper.engine import PolicyEngine
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
