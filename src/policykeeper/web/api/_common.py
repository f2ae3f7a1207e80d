"""What every resource of the REST API shares: the field types, the body base, the context and the permission
dependencies, and the helpers that turn library values into JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ...requests import Ticket
from .._auth import MAX_IDENTIFIER, Person, Staff, person_from, staff_from
from .._context import WebContext
from .._errors import ApiError

__all__ = [
    "Accepted", "Body", "CanAuditVerify", "CanConsentsRead", "CanConsentsWrite", "CanDataCollect", "CanDataMap",
    "CanDataRead", "CanDataShare", "CanEvidenceRead", "CanFactsWrite", "CanIncidentsRead", "CanIncidentsWrite",
    "CanKeysManage", "CanOutboxDeliver", "CanRequestsAct", "CanRequestsRead", "CanRequestsVerify", "CanRetentionRun",
    "CanVersionsPublish", "CanVersionsRead", "Ctx", "Id", "IncidentId", "Key", "Me", "Ref", "RequestSummary", "Text",
    "TicketOut", "When", "aware", "clean", "ctx_of", "iso", "needs", "ticket",
]

Id = Annotated[str, Field(min_length=1, max_length=MAX_IDENTIFIER)]
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.:-]*$")]
Ref = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def ctx_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.pk
    return ctx


Ctx = Annotated[WebContext, Depends(ctx_of)]


def _person(request: Request, ctx: Ctx) -> Person:
    return person_from(request, ctx)


Me = Annotated[Person, Depends(_person)]


def needs(permission: str) -> Any:
    def dep(request: Request, ctx: Ctx) -> Staff:
        return staff_from(request, ctx, permission)

    return Depends(dep)


CanAuditVerify = Annotated[Staff, needs("audit:verify")]
CanConsentsRead = Annotated[Staff, needs("consents:read")]
CanConsentsWrite = Annotated[Staff, needs("consents:write")]
CanDataCollect = Annotated[Staff, needs("data:collect")]
CanDataRead = Annotated[Staff, needs("data:read")]
CanDataShare = Annotated[Staff, needs("data:share")]
CanFactsWrite = Annotated[Staff, needs("facts:write")]
CanKeysManage = Annotated[Staff, needs("keys:manage")]
CanRequestsAct = Annotated[Staff, needs("requests:act")]
CanRequestsRead = Annotated[Staff, needs("requests:read")]
CanRequestsVerify = Annotated[Staff, needs("requests:verify")]


def iso(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()
    return v


def ticket(t: Ticket) -> dict[str, Any]:
    return {"ref": t.ref, "status": t.status, "due_at": iso(t.due_at), "deadline": t.deadline, "fee": t.fee}


def clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) for k, v in row.items()}


CanDataMap = Annotated[Staff, needs("data:map")]
CanEvidenceRead = Annotated[Staff, needs("evidence:read")]
CanIncidentsRead = Annotated[Staff, needs("incidents:read")]
CanIncidentsWrite = Annotated[Staff, needs("incidents:write")]
CanOutboxDeliver = Annotated[Staff, needs("outbox:deliver")]
CanRetentionRun = Annotated[Staff, needs("retention:run")]
CanVersionsPublish = Annotated[Staff, needs("versions:publish")]
CanVersionsRead = Annotated[Staff, needs("versions:read")]

When = Annotated[dt.datetime, Field(description="ISO 8601 date-time; UTC when it names no zone.")]
IncidentId = Annotated[int, Field(ge=1, le=2_147_483_647)]
Text = Annotated[str, Field(max_length=5000)]


def aware(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    try:
        return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)
    except (OverflowError, ValueError):  # a date at the very edge of the calendar, moved past it by its zone
        raise ApiError(422, "invalid", "the date-time is out of range", None) from None


class RequestSummary(BaseModel):
    """What the API says of every request, to the person who made it and to staff alike."""

    ref: str
    kind: str
    right: str | None
    status: str
    received_at: str
    due_at: str | None
    deadline: str


class TicketOut(BaseModel):
    ref: str
    status: str
    due_at: str | None
    deadline: str
    fee: str


class Accepted(BaseModel):
    message: str
