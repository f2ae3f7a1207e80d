"""Consents, for services: record one in the ledger, a consent receipt."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ._common import (
    Body,
    CanConsentsRead,
    CanConsentsWrite,
    Ctx,
    Id,
    Key,
)

router = APIRouter()


class PersonConsentIn(Body):
    person: Id
    target: Key
    action: Literal["given", "withdrawn", "refused", "accepted"]
    evidence: dict[Key, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict, max_length=20)


class SeqOut(BaseModel):
    seq: int


@router.post("/consents", response_model=SeqOut, tags=["engine"])
def record_consent(body: PersonConsentIn, ctx: Ctx, staff: CanConsentsWrite) -> dict[str, Any]:
    """Record a consent given, withdrawn, refused or accepted in the hash-chained ledger."""
    return {"seq": ctx.engine().set_consent(body.person, body.target, body.action, evidence=body.evidence,
                                            actor=f"key:{staff.key_id}")}


class PersonIn(Body):
    person: Id


@router.post("/consents/receipt", tags=["engine"])
def consent_receipt(body: PersonIn, ctx: Ctx, staff: CanConsentsRead) -> dict[str, Any]:
    """A Kantara-style consent receipt for the person."""
    return ctx.engine().consent_receipt(body.person)
