"""The outbox: deliver due messages."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ._common import (
    CanOutboxDeliver,
    Ctx,
)

router = APIRouter()


class DeliveredOut(BaseModel):
    sent: int
    retry: int
    dead: int
    unsure: int = Field(description="claimed by a worker that died while sending: maybe sent, never re-sent by itself")


@router.post("/outbox/deliver", response_model=DeliveredOut, tags=["lifecycle"])
def outbox_deliver(ctx: Ctx, staff: CanOutboxDeliver) -> dict[str, int]:
    """Send every due message in the outbox (to people by email; to recipients by their email route); failures are
    retried later with a growing delay, then dead-lettered."""
    from ...notify import RoutedTransport, deliver

    eng = ctx.engine()
    return deliver(ctx.db, ctx.keys, RoutedTransport(ctx.mailer), pack_version=eng.compiled.version,
                   actor=f"key:{staff.key_id}")
