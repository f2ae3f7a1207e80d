"""Evidence: the data map and the promises with the rules that encode them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ._common import (
    CanDataMap,
    CanEvidenceRead,
    Ctx,
)

router = APIRouter()


class MapRecipient(BaseModel):
    id: str
    name: str
    third_party: bool
    regions: list[str] = Field(description="Where the recipient processes the data; empty where the policy is silent.")


class MapPurpose(BaseModel):
    id: str
    name: str
    legal_basis: str
    recipients: list[MapRecipient]


class MapCategory(BaseModel):
    id: str
    name: str
    purposes: list[MapPurpose]


class DataMapOut(BaseModel):
    pack: str
    version: str
    storage_regions: list[str] = Field(description="Where the controller keeps the data; empty where unspecified.")
    categories: list[MapCategory]


@router.get("/datamap", response_model=DataMapOut, tags=["evidence"])
def datamap(ctx: Ctx, staff: CanDataMap) -> dict[str, Any]:
    """What the pack says happens to each data category: the purposes that may use it, the recipients that may get
    it for each purpose, and where they process it."""
    pack = ctx.engine().pack
    storage = [] if isinstance(pack.storage, str) or isinstance(pack.storage.home_regions, str) \
        else list(pack.storage.home_regions)
    cats = []
    for cat in pack.data_categories:
        purposes = []
        for p in pack.purposes.items:
            if p.categories != "any_declared" and cat.id not in p.categories:
                continue
            recipients = [{"id": r.id, "name": r.name, "third_party": r.third_party,
                           "regions": [] if r.place_of_processing == "unspecified" else [r.place_of_processing]}
                          for r in pack.recipients
                          if p.id in r.purposes and (isinstance(r.categories, str) or cat.id in r.categories)]
            purposes.append({"id": p.id, "name": p.name, "legal_basis": p.legal_basis, "recipients": recipients})
        cats.append({"id": cat.id, "name": cat.name, "purposes": purposes})
    return {"pack": pack.id, "version": pack.version.label, "storage_regions": storage, "categories": cats}


class EvidencePromise(BaseModel):
    id: str
    tag: str
    statement: str
    rules: list[str] = Field(description="The pack locations (dotted paths) of the rules that encode the promise.")


class EvidenceOut(BaseModel):
    pack: str
    version: str
    total: int
    encoded: int
    missing: list[str]
    promises: list[EvidencePromise]


@router.get("/evidence", response_model=EvidenceOut, tags=["evidence"])
def evidence(ctx: Ctx, staff: CanEvidenceRead) -> dict[str, Any]:
    """Every promise of the policy in force with the rules of the pack that encode it."""
    from ...pack import coverage

    pack = ctx.engine().pack
    cov = coverage(pack)
    return {"pack": pack.id, "version": pack.version.label, "total": cov.total, "encoded": len(cov.encoded),
            "missing": list(cov.missing),
            "promises": [{"id": p.id, "tag": p.tag, "statement": p.statement, "rules": list(cov.rules.get(p.id, ()))}
                         for p in pack.promises]}
