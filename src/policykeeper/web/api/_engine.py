"""The engine, for services: collect, guarded reads, shares."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, Field

from ...engine import Decision, Facts
from ...engine._facts import ATTESTED
from ._common import (
    Body,
    CanDataCollect,
    CanDataRead,
    CanDataShare,
    Ctx,
    Id,
    Key,
)

router = APIRouter()


# -- services: the engine ------------------------------------------------------------------------------------------

def _attested_only(value: str) -> str:
    head = value.partition(":")[0]
    if head not in ATTESTED:
        raise ValueError(f"{value!r} is a privileged fact: the engine derives it from its own records (the consent "
                         "ledger, the fact register, assessments), a caller cannot state it; attested conditions are "
                         + ", ".join(sorted(ATTESTED)))
    return value


def _no_agreements(value: list[str]) -> list[str]:
    if value:
        raise ValueError("agreements are privileged facts: record them in the fact register (POST /v1/facts, "
                         "fact 'agreement'), the engine reads them from there")
    return value


class FactsIn(Body):
    """Context only: the channel, the observed region, a stated age (it can only make a decision stricter) and
    conditions the caller attests (recorded with the API key). Privileged facts are refused with 422."""

    channel: Annotated[str, Field(max_length=32)] | None = None
    conditions: list[Annotated[Key, AfterValidator(_attested_only)]] = Field(default_factory=list, max_length=50)
    agreements: Annotated[list[Key], AfterValidator(_no_agreements)] = Field(default_factory=list, max_length=50)
    age: Annotated[int, Field(ge=0, le=150)] | None = None
    region: Key | None = None

    def facts(self) -> Facts:
        return Facts(channel=self.channel, conditions=frozenset(self.conditions), age=self.age, region=self.region)


class ObligationOut(BaseModel):
    kind: str
    value: str
    text: str
    by: Literal["engine", "caller"] = Field(description="engine: done as part of the action; caller: yours to do")
    for_person: bool


def _obligations(d: Decision) -> list[dict[str, Any]]:
    return [{"kind": o.kind, "value": o.value, "text": o.text, "by": o.by, "for_person": o.for_person}
            for o in d.obligations]


class CollectIn(Body):
    person: Id
    context: Key
    values: dict[Key, Annotated[str, Field(max_length=10_000)]] = Field(min_length=1, max_length=100)
    facts: FactsIn = Field(default_factory=FactsIn)


class DecisionOut(BaseModel):
    decision: str
    allowed: bool
    promises: list[str]
    obligations: list[ObligationOut] = Field(default_factory=list)


class CollectOut(DecisionOut):
    records: int


@router.post("/collect", response_model=CollectOut, tags=["engine"])
def collect(body: CollectIn, ctx: Ctx, staff: CanDataCollect) -> dict[str, Any]:
    """Collect values for a person in a collection context, if the pack allows it (403 with the promises if not)."""
    got = ctx.engine().collect(body.person, body.context, body.values, body.facts.facts(), actor=f"key:{staff.key_id}")
    d = got.decision
    return {"decision": d.decision_id, "allowed": d.allowed, "promises": list(d.promises), "records": len(got.record_ids),
            "obligations": _obligations(d)}


class ReadIn(Body):
    person: Id
    purpose: Key
    categories: list[Key] = Field(min_length=1, max_length=100)
    facts: FactsIn = Field(default_factory=FactsIn)


class ValuesOut(BaseModel):
    values: dict[str, list[str]]
    obligations: list[ObligationOut] = Field(default_factory=list, description="what the decision obliges: the "
                                             "caller's to show or do where by is caller (audited as handed over)")


@router.post("/read", response_model=ValuesOut, tags=["engine"])
def read(body: ReadIn, ctx: Ctx, staff: CanDataRead) -> dict[str, Any]:
    """A guarded read: the person's values of some categories for one purpose, if the pack allows it."""
    got = ctx.engine().read(body.person, body.purpose, set(body.categories), body.facts.facts(),
                            actor=f"key:{staff.key_id}")
    return {"values": dict(got), "obligations": _obligations(got.decision)}


class ShareIn(ReadIn):
    recipient: Key
    de_identify: bool = False


@router.post("/share", response_model=ValuesOut, tags=["engine"])
def share(body: ShareIn, ctx: Ctx, staff: CanDataShare) -> dict[str, Any]:
    """Share values with a recipient, if the pack allows it; the disclosure is logged."""
    got = ctx.engine().share(body.person, body.recipient, set(body.categories), body.purpose, body.facts.facts(),
                             de_identify=body.de_identify, actor=f"key:{staff.key_id}")
    return {"values": dict(got), "obligations": _obligations(got.decision)}
