"""The fact register, for services and privacy officers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .._errors import ApiError
from ._common import (
    Body,
    CanFactsWrite,
    Ctx,
    Id,
    Key,
)

router = APIRouter()


class FactIn(Body):
    fact: Literal["subscribed", "product_authorized", "member", "transfer_informed", "consent_by_recipient",
                  "successor_bound", "agreement"]
    person: Id | None = None
    party: Key | None = None
    arg: Key | None = None
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    revoke: bool = False


class FactOut(BaseModel):
    entry: int


@router.post("/facts", response_model=FactOut, tags=["engine"])
def record_fact(body: FactIn, ctx: Ctx, staff: CanFactsWrite) -> dict[str, Any]:
    """Record (or revoke) a privileged fact in the fact register, with the document behind it: a person's
    subscription, product authorisation, membership, informed transfer, a recipient's confirmed consent; and (privacy
    officers only) a recipient's agreement or a bound successor. The engine reads it from there; no caller states it."""
    if body.fact in ("successor_bound", "agreement") and not staff.can("facts:party"):
        raise ApiError(403, "forbidden", f"recording {body.fact!r} needs the privacy officer's role", "fact")
    entry = ctx.engine().record_fact(body.fact, person=body.person, party=body.party, arg=body.arg or "",
                                     reference=body.reference, revoke=body.revoke, actor=f"key:{staff.key_id}")
    return {"entry": entry}
