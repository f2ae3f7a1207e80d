"""Staff work the request queue: filters, one request, notes, reveal, verify, fulfil, refuse, extend."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from ..._exceptions import BadValueError
from ...engine._values import MAX_TEXT
from ...requests import MAX_STAFF_NOTE, QueueQuery
from .._errors import ApiError
from ._common import (
    Body,
    CanRequestsAct,
    CanRequestsRead,
    CanRequestsVerify,
    Ctx,
    Key,
    Ref,
    RequestSummary,
    TicketOut,
    clean,
    iso,
    ticket,
)

router = APIRouter()


# -- staff: requests -----------------------------------------------------------------------------------------------

class QueueItem(RequestSummary):
    pack_version: str
    state: Literal["overdue", "due_soon", "on_time", "no_date"]
    address_match: Literal["matched", "not_held", "no_address", "no_person", "unknown"] = Field(
        description="Whether the request's address is one held for the person; anything but matched needs a "
                    "mismatch_reason to verify by staff")


class QueueRow(QueueItem):
    state: Literal["overdue", "due_soon", "on_time", "no_date", "closed"]  # type: ignore[assignment]
    closed_at: str | None
    days_left: int | None = Field(description="Whole days to the due date, negative when overdue; null without a "
                                              "date or once closed")
    requester: str = Field(description="The request's reply address, masked (z•••@e•••.cn)")


@router.get("/requests", response_model=list[QueueRow], tags=["requests"],
            responses={200: {"headers": {"X-Total-Count": {"description": "requests matching the filters, all pages",
                                                           "schema": {"type": "integer"}}}}})
def request_queue(
    ctx: Ctx, staff: CanRequestsRead, response: Response,
    status: Annotated[Literal["open", "closed", "all", "received", "verified", "extended", "fulfilled", "refused"],
                      Query(description="all (the default: closed requests too, as in the console), open, "
                                        "closed, or one status")] = "all",
    right: Annotated[Key | None, Query(description="one right (access, delete, correct ...)")] = None,
    state: Annotated[Literal["overdue", "due_soon"] | None,
                     Query(description="open requests past their due date, or due within due_within_days")] = None,
    ref: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9a-fA-F]+$",
                                     description="a reference, or its first characters")] = None,
    sort: Annotated[Literal["due", "received", "status"], Query()] = "due",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    due_within_days: Annotated[int, Query(ge=0, le=365)] = 3,
) -> list[dict[str, Any]]:
    """The request queue, one page: every request, closed ones included, unless a filter says otherwise (the
    console's queue shows the same). Overdue requests first, then by due date (requests without a date after the
    dated ones; closed ones after open ones), by receipt or by status. ``X-Total-Count`` says how many match in all."""
    page = ctx.requests().queue(QueueQuery(status=status, right=right, state=state, ref=ref or "", sort=sort,
                                           descending=order == "desc", limit=limit, offset=offset,
                                           due_within=dt.timedelta(days=due_within_days)))
    response.headers["X-Total-Count"] = str(page.total)
    return [clean(r) for r in page.items]


class CorrectionOut(BaseModel):
    category: str
    value: str


class ContentOut(BaseModel):
    note: str
    correction: CorrectionOut | None


class EventOut(BaseModel):
    at: str
    event: str
    actor: str
    detail: dict[str, Any]
    note: str | None


class RequestDetailOut(BaseModel):
    ref: str
    kind: str
    right: str | None
    status: str
    received_at: str
    verified_at: str | None
    due_at: str | None
    deadline: str
    closed_at: str | None
    refusal_ground: str | None
    pack_version: str
    address_match: str
    requester: str | None = Field(description="The reply address, masked; null once the person was erased")
    content: ContentOut | None = Field(description="What the person said; null once the person was erased")
    timeline: list[EventOut]


@router.get("/requests/{ref}", response_model=RequestDetailOut, tags=["requests"])
def request_detail(ref: Ref, ctx: Ctx, staff: CanRequestsRead) -> dict[str, Any]:
    """One request: what the person said with it, the masked requester and every step so far (who, when, why)."""
    svc = ctx.requests()
    try:
        row = svc.get(ref)
    except BadValueError:
        raise ApiError(404, "not_found", f"no request {ref}") from None
    said = svc.content_of(ref)
    return {**{k: iso(row[k]) for k in RequestDetailOut.model_fields if k in row},
            "requester": svc.requester(ref),
            "content": None if said is None else said.as_dict() | {"correction": said.as_dict().get("correction")},
            "timeline": [{"at": iso(e.at), "event": e.event, "actor": e.actor, "detail": e.detail, "note": e.note}
                         for e in svc.timeline(ref)]}


class NoteIn(Body):
    text: Annotated[str, Field(min_length=1, max_length=MAX_STAFF_NOTE)]


class NoteOut(BaseModel):
    ref: str
    note: int


@router.post("/requests/{ref}/notes", status_code=201, response_model=NoteOut, tags=["requests"])
def request_note(ref: Ref, body: NoteIn, ctx: Ctx, staff: CanRequestsVerify) -> dict[str, Any]:
    """Add a staff note to a request (kept encrypted with it; the audit log says only that one was added)."""
    if not body.text.strip():
        raise ApiError(422, "invalid", "the note is empty", "text")
    return {"ref": ref, "note": ctx.requests().add_note(ref, body.text, actor=f"key:{staff.key_id}")}


class RevealIn(Body):
    categories: list[Key] = Field(default_factory=list, max_length=100,
                                  description="The items to show; none for every item held")


@router.post("/requests/{ref}/reveal", response_model=dict[str, list[str]], tags=["requests"])
def request_reveal(ref: Ref, body: RevealIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, list[str]]:
    """The requester's current values (for answering a correction, say). Every call is audited: who, when, which
    request and which items, never the values."""
    return ctx.requests().current_values(ref, tuple(body.categories), actor=f"key:{staff.key_id}")


class StaffVerifyIn(Body):
    method: Key
    reference: Annotated[str, Field(min_length=1, max_length=120)]
    mismatch_reason: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="Why go on when the request's address is not one held for the person (audited)")
    authority_reference: Annotated[str, Field(min_length=1, max_length=120)] | None = Field(
        None, description="For a request made by an agent: where the proof of the agent's authority (the person's "
                          "signed permission) is kept; required for those, recorded and audited")


@router.post("/requests/{ref}/verify", response_model=TicketOut, tags=["requests"])
def request_verify(ref: Ref, body: StaffVerifyIn, ctx: Ctx, staff: CanRequestsVerify) -> dict[str, Any]:
    """Verify a requester's identity by one of the pack's methods (evidence kept elsewhere, by reference)."""
    t = ctx.requests().verify_by_staff(ref, body.method, reference=body.reference,
                                       mismatch_reason=body.mismatch_reason,
                                       authority_reference=body.authority_reference, actor=f"key:{staff.key_id}")
    return ticket(t)


class FulfilIn(Body):
    category: Key | None = None
    value: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    purposes: list[Key] = Field(default_factory=list, max_length=50)
    decision: Annotated[str, Field(max_length=64)] | None = None
    ground: Key | None = None


class FulfilOut(BaseModel):
    ref: str
    status: str
    detail: dict[str, Any]


@router.post("/requests/{ref}/fulfil", response_model=FulfilOut, tags=["requests"])
def request_fulfil(ref: Ref, body: FulfilIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, Any]:
    """Fulfil a verified request by its right: access (the person downloads the export), erasure, correction,
    restriction, objection or an explanation of an automated decision."""
    svc, actor = ctx.requests(), f"key:{staff.key_id}"
    right = svc.get(ref)["right"]
    if right in ("access", "copy", "portability"):
        detail: dict[str, Any] = {"values": svc.fulfil_access(ref, None, actor=actor)}
    elif right in ("delete", "erasure"):
        detail = {"erased": str(svc.fulfil_erasure(ref, ground=body.ground, actor=actor))}
    elif right in ("correct", "rectification"):
        said = svc.content_of(ref)
        if said is not None and said.category and body.category is None and body.value is None:
            body = body.model_copy(update={"category": said.category, "value": said.value})  # what the person asked
        if body.category is None or body.value is None:
            raise ApiError(422, "invalid", "a correction needs the category and the corrected value", "category")
        svc.fulfil_correction(ref, body.category, body.value, actor=actor)
        detail = {"corrected": body.category}
    elif right in ("restrict", "restriction", "object", "objection"):
        svc.fulfil_restriction(ref, purposes=tuple(body.purposes), actor=actor)
        detail = {"purposes": list(body.purposes) or "all"}
    elif right == "automated_decision_explanation":
        if not body.decision:
            raise ApiError(422, "invalid", "an explanation needs the decision id", "decision")
        detail = {"explanation": str(svc.fulfil_explanation(ref, body.decision, actor=actor))}
    else:
        raise ApiError(409, "conflict", f"requests for {right!r} are answered by refusing or extending, or by hand")
    return {"ref": ref, "status": svc.get(ref)["status"], "detail": detail}


class RefuseIn(Body):
    ground: Key


@router.post("/requests/{ref}/refuse", response_model=FulfilOut, tags=["requests"])
def request_refuse(ref: Ref, body: RefuseIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, Any]:
    """Refuse on one of the pack's grounds; the person is told why and where to complain."""
    svc = ctx.requests()
    svc.refuse(ref, body.ground, actor=f"key:{staff.key_id}")
    return {"ref": ref, "status": svc.get(ref)["status"], "detail": {"ground": body.ground}}


MAX_EXTENSION_DAYS = 90
"""Longest extension :meth:`policykeeper.requests.RequestService.extend` grants, in days (it refuses more)."""
MAX_EXTENSION_REASON = 200
"""Longest reason :meth:`policykeeper.requests.RequestService.extend` takes, in characters. Both stand here until
``requests/`` says them as constants next to ``extend``; tests/web/test_api_limits.py holds them to what it enforces."""


class ExtendIn(Body):
    days: Annotated[int, Field(ge=1, le=MAX_EXTENSION_DAYS)]
    reason: Annotated[str, Field(min_length=1, max_length=MAX_EXTENSION_REASON)]


@router.post("/requests/{ref}/extend", response_model=TicketOut, tags=["requests"])
def request_extend(ref: Ref, body: ExtendIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, Any]:
    """Push the deadline back, with a reason the person is told."""
    t = ctx.requests().extend(ref, body.days, reason=body.reason, actor=f"key:{staff.key_id}")
    return ticket(t)
