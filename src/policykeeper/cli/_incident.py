"""``policykeeper incident ...``: security incidents, their promised steps, notices and the regulator's report."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    _engine,
    _when,
    groups,
    out,
)

incident_app = groups["incident"]


IncidentArg = Annotated[int, typer.Argument(help="The incident id (printed by 'incident record').")]
TicketOpt = Annotated[str, typer.Option("--reference", help="A ticket or report id (never personal data).")]


@incident_app.command("record")
def incident_record(
    system: Annotated[list[str], typer.Option("--system", help="A system involved (repeat).")],
    category: Annotated[list[str], typer.Option("--category", help="A data category of the pack involved (repeat).")],
    reference: TicketOpt,
    started_at: Annotated[str, typer.Option("--started-at", help="Start of the window (ISO date-time, UTC if no zone).")],
    ended_at: Annotated[str | None, typer.Option("--ended-at", help="End of the window; omit while ongoing.")] = None,
    harm: Annotated[bool, typer.Option("--harm", help="People were harmed (sets the liability flag where the pack "
                                                       "accepts liability).")] = False,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Open an incident record: its time window, systems, data categories and reference."""
    from ..incidents import get_incident, record_incident

    eng = _engine(home, database_url, pack)
    start = _when(started_at, "--started-at") or eng.clock.now()
    iid = record_incident(eng, started_at=start, ended_at=_when(ended_at, "--ended-at"), systems=system,
                          categories=category, reference=reference, harm_to_subjects=harm, actor="operator")
    liability = get_incident(eng, iid)["liability"]
    out.print(f"incident {iid} recorded" + ("; liability flag set" if liability else ""), markup=False)


@incident_app.command("step")
def incident_step_cmd(
    incident: IncidentArg,
    step: Annotated[str, typer.Argument(help="The step done, one the pack records (e.g. analysis).")],
    reference: TicketOpt,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record that one of the pack's promised incident steps was done."""
    from ..incidents import incident_step, required_steps

    eng = _engine(home, database_url, pack)
    incident_step(eng, incident, step, reference=reference, actor="operator")
    out.print(f"incident {incident}: {step} recorded (steps: {', '.join(required_steps(eng))})", markup=False)


@incident_app.command("close")
def incident_close(
    incident: IncidentArg,
    ended_at: Annotated[str | None, typer.Option("--ended-at", help="End of the window, if not yet given.")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Close an incident once every promised step is on record."""
    from ..incidents import close_incident

    close_incident(_engine(home, database_url, pack), incident, ended_at=_when(ended_at, "--ended-at"),
                   actor="operator")
    out.print(f"incident {incident}: closed", markup=False)


@incident_app.command("notify")
def incident_notify(
    incident: IncidentArg,
    what_happened: Annotated[str, typer.Option("--what-happened", help="The basic situation.")] = "",
    possible_impact: Annotated[str, typer.Option("--possible-impact", help="The possible impact.")] = "",
    measures: Annotated[str, typer.Option("--measures", help="Measures taken or planned.")] = "",
    advice: Annotated[str, typer.Option("--advice", help="What people can do to protect themselves.")] = "",
    remedies: Annotated[str, typer.Option("--remedies", help="Remedies offered.")] = "",
    channel: Annotated[str, typer.Option("--channel", help="email or push.")] = "email",
    impractical: Annotated[bool, typer.Option("--impractical", help="Individual notice is impractical: make the "
                                                                    "public announcement instead.")] = False,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Queue one breach notice to each affected, reachable person (never twice); print the announcement if one is
    due. Deliver with 'outbox deliver'."""
    from ..incidents import notify_affected

    run = notify_affected(_engine(home, database_url, pack), incident, what_happened=what_happened,
                          possible_impact=possible_impact, measures=measures, advice=advice, remedies=remedies,
                          channel=channel, impractical=impractical, actor="operator")
    if run.announcement:
        out.print(run.announcement, markup=False)
    out.print(f"affected: {run.affected}; queued: {run.queued}; already notified: {run.already_notified}; "
              f"unreachable: {run.unreachable}; announcement: {'yes' if run.announcement else 'no'}", markup=False)


@incident_app.command("report")
def incident_report(
    incident: IncidentArg,
    preview: Annotated[bool, typer.Option("--preview", help="Print without recording that it was reported.")] = False,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Print the regulator's report of an incident and its handling (JSON, no personal values) and record it."""
    from ..incidents import regulator_report

    report = regulator_report(_engine(home, database_url, pack), incident, record=not preview, actor="operator")
    out.print(json.dumps(report, indent=2), markup=False)
