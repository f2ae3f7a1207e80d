"""Security incidents: record, steps, close, notify, the regulator's report."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...incidents import NoticeRun
from ...store import incident_records as incident_store
from .._context import WebContext
from .._errors import ApiError
from ._common import (
    Body,
    CanIncidentsRead,
    CanIncidentsWrite,
    Ctx,
    IncidentId,
    Key,
    Text,
    When,
    aware,
    iso,
)

router = APIRouter()


class StepOut(BaseModel):
    step: str
    at: str
    actor: str
    reference: str


class IncidentOut(BaseModel):
    id: int
    reference: str
    status: str
    opened_at: str
    started_at: str
    ended_at: str | None
    closed_at: str | None
    systems: list[str]
    categories: list[str]
    harm_to_subjects: bool
    liability: bool
    steps: list[StepOut]
    required_steps: list[str]


def _incident_out(ctx: WebContext, row: dict[str, Any]) -> dict[str, Any]:
    from ...incidents import required_steps

    return {"id": int(row["id"]), "reference": row["reference"], "status": row["status"],
            "opened_at": iso(row["opened_at"]), "started_at": iso(row["started_at"]),
            "ended_at": iso(row["ended_at"]), "closed_at": iso(row["closed_at"]),
            "systems": list(row["systems"]), "categories": list(row["categories"]),
            "harm_to_subjects": bool(row["harm_to_subjects"]), "liability": bool(row["liability"]),
            "steps": [{"step": s["step"], "at": s["at"], "actor": s["actor"], "reference": s["reference"]}
                      for s in row["steps"]],
            "required_steps": list(required_steps(ctx.engine()))}


def _incident(ctx: WebContext, incident_id: int) -> dict[str, Any]:
    from ..._exceptions import BadValueError
    from ...incidents import get_incident

    try:
        return get_incident(ctx.engine(), incident_id)
    except BadValueError:
        raise ApiError(404, "not_found", f"no incident {incident_id}") from None


@router.get("/incidents", response_model=list[IncidentOut], tags=["incidents"])
def list_incidents(ctx: Ctx, staff: CanIncidentsRead) -> list[dict[str, Any]]:
    """Every security incident on record, newest first."""
    with ctx.db.connect() as conn:
        rows = incident_store.incidents_of(conn, ctx.pack.id)
    return [_incident_out(ctx, asdict(r)) for r in rows]


class IncidentIn(Body):
    started_at: When
    ended_at: When | None = None
    systems: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=50)
    categories: list[Key] = Field(default_factory=list, max_length=100)
    reference: Annotated[str, Field(min_length=1, max_length=120, description="A ticket or report id, never "
                                                                              "personal data.")]
    harm_to_subjects: bool = False


@router.post("/incidents", status_code=201, response_model=IncidentOut, tags=["incidents"])
def new_incident(body: IncidentIn, ctx: Ctx, staff: CanIncidentsWrite) -> dict[str, Any]:
    """Open an incident record: its window, the systems and data categories involved, and a reference."""
    from ...incidents import record_incident

    started = aware(body.started_at)
    assert started is not None
    iid = record_incident(ctx.engine(), started_at=started, ended_at=aware(body.ended_at), systems=body.systems,
                          categories=body.categories, reference=body.reference,
                          harm_to_subjects=body.harm_to_subjects, actor=f"key:{staff.key_id}")
    return _incident_out(ctx, _incident(ctx, iid))


@router.get("/incidents/{incident_id}", response_model=IncidentOut, tags=["incidents"])
def show_incident(incident_id: IncidentId, ctx: Ctx, staff: CanIncidentsRead) -> dict[str, Any]:
    """One incident record with its steps."""
    return _incident_out(ctx, _incident(ctx, incident_id))


class StepIn(Body):
    step: Key
    reference: Annotated[str, Field(min_length=1, max_length=120)]


@router.post("/incidents/{incident_id}/steps", response_model=IncidentOut, tags=["incidents"])
def incident_step(incident_id: IncidentId, body: StepIn, ctx: Ctx, staff: CanIncidentsWrite) -> dict[str, Any]:
    """Record that one of the steps the pack promises for every incident was done."""
    from ...incidents import incident_step as record_step

    _incident(ctx, incident_id)
    record_step(ctx.engine(), incident_id, body.step, reference=body.reference, actor=f"key:{staff.key_id}")
    return _incident_out(ctx, _incident(ctx, incident_id))


class CloseIncidentIn(Body):
    ended_at: When | None = None


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut, tags=["incidents"])
def incident_close(incident_id: IncidentId, body: CloseIncidentIn, ctx: Ctx,
                   staff: CanIncidentsWrite) -> dict[str, Any]:
    """Close an incident once every promised step is on record."""
    from ...incidents import close_incident

    _incident(ctx, incident_id)
    close_incident(ctx.engine(), incident_id, ended_at=aware(body.ended_at), actor=f"key:{staff.key_id}")
    return _incident_out(ctx, _incident(ctx, incident_id))


class NotifyIn(Body):
    what_happened: Text = ""
    possible_impact: Text = ""
    measures: Text = ""
    advice: Text = ""
    remedies: Text = ""
    channel: Literal["email", "push"] = "email"
    impractical: bool = Field(default=False, description="Individual notice is impractical: make the public "
                                                         "announcement instead (where the pack promises one).")


@router.post("/incidents/{incident_id}/notify", response_model=NoticeRun, tags=["incidents"])
def incident_notify(incident_id: IncidentId, body: NotifyIn, ctx: Ctx, staff: CanIncidentsWrite) -> NoticeRun:
    """Queue one notice to each affected, reachable person (never twice), with the content the pack requires;
    deliver with ``POST /v1/outbox/deliver``."""
    from ...incidents import notify_affected

    _incident(ctx, incident_id)
    return notify_affected(ctx.engine(), incident_id, what_happened=body.what_happened,
                           possible_impact=body.possible_impact, measures=body.measures, advice=body.advice,
                           remedies=body.remedies, channel=body.channel, impractical=body.impractical,
                           actor=f"key:{staff.key_id}")


@router.get("/incidents/{incident_id}/report", tags=["incidents"])
def incident_report(incident_id: IncidentId, ctx: Ctx, staff: CanIncidentsRead) -> dict[str, Any]:
    """The regulator's report of an incident and its handling, as a preview (no personal values); ``POST`` records
    that it was reported."""
    from ...incidents import regulator_report

    _incident(ctx, incident_id)
    return regulator_report(ctx.engine(), incident_id, record=False, actor=f"key:{staff.key_id}")


@router.post("/incidents/{incident_id}/report", tags=["incidents"])
def incident_report_record(incident_id: IncidentId, ctx: Ctx, staff: CanIncidentsWrite) -> dict[str, Any]:
    """The regulator's report, recorded as sent to the regulator (the first time) and audited."""
    from ...incidents import regulator_report

    _incident(ctx, incident_id)
    return regulator_report(ctx.engine(), incident_id, record=True, actor=f"key:{staff.key_id}")
