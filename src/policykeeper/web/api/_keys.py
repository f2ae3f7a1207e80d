"""API keys: create, list, revoke."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from .._auth import (
    MAX_KEY_NAME,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from ._common import (
    Body,
    CanKeysManage,
    Ctx,
    clean,
)

router = APIRouter()


class KeyIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=MAX_KEY_NAME)]
    role: Literal["admin", "privacy_officer", "support_agent", "auditor", "service"]


class KeyOut(BaseModel):
    key: str
    message: str


class KeyInfo(BaseModel):
    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


@router.post("/keys", status_code=201, response_model=KeyOut, tags=["keys"])
def new_key(body: KeyIn, ctx: Ctx, staff: CanKeysManage) -> dict[str, str]:
    """Create an API key for a role; it is shown once."""
    return {"key": create_api_key(ctx, body.name, body.role), "message": "keep this key: it is not shown again"}


@router.get("/keys", response_model=list[KeyInfo], tags=["keys"])
def keys(ctx: Ctx, staff: CanKeysManage) -> list[dict[str, Any]]:
    """Every key (never the secret)."""
    return [clean(k) for k in list_api_keys(ctx)]


@router.delete("/keys/{key_id}", status_code=204, tags=["keys"])
def revoke_key(key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")], ctx: Ctx,
               staff: CanKeysManage) -> Response:
    """Revoke a key (and the console sessions opened with it)."""
    revoke_api_key(ctx, key_id)
    return Response(status_code=204)
