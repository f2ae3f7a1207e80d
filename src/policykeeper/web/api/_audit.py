"""The audit log's and the consent ledger's hash chains, verified."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from ... import audit, consent
from ._common import (
    CanAuditVerify,
    Ctx,
)

router = APIRouter()


class ChainOut(BaseModel):
    ok: bool
    entries: int
    problem: str | None


class VerifyOut(BaseModel):
    audit: ChainOut
    consents: ChainOut


def _chain(report: Any) -> dict[str, Any]:
    problem = None if report.ok else f"entry {report.first_bad_seq}: {report.reason}"
    return {"ok": bool(report.ok), "entries": int(report.entries), "problem": problem}


@router.get("/audit/verify", response_model=VerifyOut, tags=["evidence"])
def audit_verify(ctx: Ctx, staff: CanAuditVerify) -> dict[str, Any]:
    """Check the hash chains of the audit log and the consent ledger."""
    with ctx.db.connect() as conn:
        return {"audit": _chain(audit.verify(conn)), "consents": _chain(consent.verify(conn))}
