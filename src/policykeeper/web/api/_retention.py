"""The end-of-retention sweep."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ._common import Body, CanRetentionRun, Ctx

router = APIRouter()


class RetentionIn(Body):
    dry_run: bool = Field(description="Count what would change; change nothing.")


class RuleOutcomeOut(BaseModel):
    rule: str
    action: str
    affected: int
    held: int
    skipped: str | None
    promises: list[str]


class SweepOut(BaseModel):
    run: int | None = Field(description="The run's id (none on a dry run).")
    dry_run: bool
    affected: int
    rules: list[RuleOutcomeOut]


@router.post("/retention/run", response_model=SweepOut, tags=["lifecycle"])
def retention_run(body: RetentionIn, ctx: Ctx, staff: CanRetentionRun) -> dict[str, Any]:
    """Apply every end-of-retention action that is due (the pack's periods and default end actions); a dry run only
    counts. Safe to re-run."""
    from ...retention import sweep

    report = sweep(ctx.engine(), dry_run=body.dry_run, actor=f"key:{staff.key_id}")
    return report.as_dict()
