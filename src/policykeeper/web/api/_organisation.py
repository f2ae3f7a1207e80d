"""Organisational measures (KAMOER-41): the privacy department and staff training."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...organisation import MAX_ATTENDANCE, MAX_CONTACT, MAX_HEAD_COUNT, MAX_NAME, MAX_ROLE_TITLE, MAX_TOPIC
from .._auth import (
    Staff,
)
from .._context import WebContext
from ._common import (
    Body,
    CanEvidenceRead,
    Ctx,
    needs,
)

router = APIRouter()


# -- organisational measures (KAMOER-41) -----------------------------------------------------------------------------

CanOrganisationWrite = Annotated[Staff, needs("organisation:write")]


class RoleOut(BaseModel):
    role: str
    count: int


class DepartmentOut(BaseModel):
    name: str
    contact: str
    roles: list[RoleOut]
    updated_at: dt.datetime


class TrainingOut(BaseModel):
    id: int
    held_on: dt.date
    topic: str
    attendance: int


class OrganisationOut(BaseModel):
    department: DepartmentOut | None
    training: list[TrainingOut]
    status: dict[str, Any] = Field(description="The last session, the recurrence (and whether the pack or the "
                                               "operator states it), when the next is due and whether it is overdue.")


def _organisation(ctx: WebContext) -> dict[str, Any]:
    from ...organisation import department, training_sessions_of, training_status

    eng = ctx.engine()
    return {"department": department(eng), "training": training_sessions_of(eng),
            "status": training_status(eng, ctx.recurrence).as_dict()}


@router.get("/organisation", response_model=OrganisationOut, tags=["evidence"])
def organisation(ctx: Ctx, staff: CanEvidenceRead) -> dict[str, Any]:
    """The privacy department (members by role, never by name) and staff training, with the recurrence check."""
    return _organisation(ctx)


class DepartmentIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    contact: Annotated[str, Field(min_length=3, max_length=MAX_CONTACT, description="The department's functional address "
                                                                            "(email or https page), not a person's.")]
    roles: dict[Annotated[str, Field(min_length=1, max_length=MAX_ROLE_TITLE)],
                Annotated[int, Field(ge=1, le=MAX_HEAD_COUNT)]] = Field(
        min_length=1, max_length=100, description="Role title -> head count. Role titles only: no staff names.")


@router.put("/organisation/department", response_model=OrganisationOut, tags=["evidence"])
def put_department(body: DepartmentIn, ctx: Ctx, staff: CanOrganisationWrite) -> dict[str, Any]:
    """Record (or replace) the privacy department."""
    from ...organisation import set_department

    set_department(ctx.engine(), name=body.name, contact=body.contact, roles=body.roles, actor=f"key:{staff.key_id}")
    return _organisation(ctx)


class TrainingIn(Body):
    held_on: dt.date
    topic: Annotated[str, Field(min_length=1, max_length=MAX_TOPIC)]
    attendance: Annotated[int, Field(ge=1, le=MAX_ATTENDANCE, description="How many staff attended (a count).")]


@router.post("/organisation/training", status_code=201, response_model=OrganisationOut, tags=["evidence"])
def post_training(body: TrainingIn, ctx: Ctx, staff: CanOrganisationWrite) -> dict[str, Any]:
    """Record a staff training session."""
    from ...organisation import record_training

    record_training(ctx.engine(), held_on=body.held_on, topic=body.topic, attendance=body.attendance,
                    actor=f"key:{staff.key_id}")
    return _organisation(ctx)
