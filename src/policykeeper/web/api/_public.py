"""Public: the service's health and the policy in force."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from ._common import (
    Ctx,
)

router = APIRouter()


# -- public ---------------------------------------------------------------------------------------------------------

class Health(BaseModel):
    status: Literal["ok"]
    pack: str
    version: str
    database: str


@router.get("/health", response_model=Health, tags=["public"])
def health(ctx: Ctx) -> dict[str, Any]:
    """The service is up; which pack (and version) it enforces."""
    info = ctx.info()
    return {"status": "ok", "pack": info["pack"], "version": info["version"], "database": info["database"]}


class PromiseOut(BaseModel):
    id: str
    tag: str
    statement: str


class PolicyOut(BaseModel):
    pack: str
    name: str
    version: str
    controller: str
    promises: list[PromiseOut]


@router.get("/policy", response_model=PolicyOut, tags=["public"])
def policy(ctx: Ctx) -> dict[str, Any]:
    """The policy in force: its version and every promise it makes."""
    pack = ctx.engine().pack
    return {"pack": pack.id, "name": pack.name, "version": pack.version.label, "controller": pack.controller.legal_name,
            "promises": [{"id": p.id, "tag": p.tag, "statement": p.statement} for p in pack.promises]}
