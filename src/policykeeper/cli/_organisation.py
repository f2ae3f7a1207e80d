"""``policykeeper organisation ...``: the privacy department and staff training."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from .._exceptions import BadValueError
from .._settings import Settings
from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    _engine,
    groups,
    out,
)

organisation_app = groups["organisation"]


@organisation_app.command("department")
def organisation_department(
    name: Annotated[str, typer.Option("--name", help="The department's name.")],
    contact: Annotated[str, typer.Option("--contact", help="Its functional address (email or https page), not a "
                                                            "person's.")],
    role: Annotated[list[str], typer.Option("--role", help="A role title and its head count, 'Title=N' (repeat). "
                                                            "Role titles only: staff names are never recorded.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record (or replace) the privacy department: name, contact and members by role."""
    from ..organisation import set_department

    roles: dict[str, int] = {}
    for item in role:
        title, sep, count = item.rpartition("=")
        if not sep or not count.strip().isdigit():
            raise BadValueError(f"--role {item!r}: expected 'Title=N', e.g. 'Data Protection Officer=1'")
        roles[title.strip()] = int(count)
    got = set_department(_engine(home, database_url, pack), name=name, contact=contact, roles=roles,
                         actor="operator")
    out.print(f"privacy department recorded: {got['name']} ({sum(r['count'] for r in got['roles'])} staff in "
              f"{len(got['roles'])} role(s))", markup=False)


@organisation_app.command("training")
def organisation_training(
    held_on: Annotated[str, typer.Option("--held-on", help="The day it was held (YYYY-MM-DD).")],
    topic: Annotated[str, typer.Option("--topic", help="What it covered.")],
    attendance: Annotated[int, typer.Option("--attendance", help="How many staff attended.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record a staff security and privacy training session."""
    from ..organisation import record_training

    try:
        day = dt.date.fromisoformat(held_on)
    except ValueError:
        raise BadValueError(f"--held-on {held_on!r} is not a date (YYYY-MM-DD)") from None
    sid = record_training(_engine(home, database_url, pack), held_on=day, topic=topic, attendance=attendance,
                          actor="operator")
    out.print(f"training session {sid} recorded", markup=False)


@organisation_app.command("show")
def organisation_show(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Show the department, the last training session and whether the next one is overdue (recurrence from the pack,
    or from HOME/organisation.yaml where the pack leaves it unspecified)."""
    from ..organisation import department, load_recurrence, training_status

    eng = _engine(home, database_url, pack)
    dept = department(eng)
    status = training_status(eng, load_recurrence(Settings.load(home).home / "organisation.yaml"))
    if dept is None:
        out.print("privacy department: none on record", markup=False)
    else:
        roles = ", ".join(f"{r['role']} x{r['count']}" for r in dept["roles"])
        out.print(f"privacy department: {dept['name']} <{dept['contact']}>; {roles}", markup=False)
    last = status.last
    out.print("last training: " + (f"{last['held_on']} {last['topic']} ({last['attendance']} attended)" if last
                                   else "none on record"), markup=False)
    if status.every is None:
        out.print("recurrence: not stated (the pack leaves it unspecified; set recurrence.staff_training in "
                  "HOME/organisation.yaml)", markup=False)
    else:
        every = status.every
        out.print(f"recurrence: every {every.value} {every.unit} ({status.source}); next due "
                  f"{status.due_on or 'now'}" + ("; OVERDUE" if status.overdue else ""), markup=False)
