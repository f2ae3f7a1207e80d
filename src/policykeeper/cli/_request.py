"""``policykeeper request ...`` and ``dataset check``: data subject requests, from receipt to fulfilment or
refusal, and the dataset maps of the company's own databases."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._exceptions import BadValueError
from .._settings import Settings
from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    PersonArg,
    _engine,
    err,
    groups,
    out,
)

if TYPE_CHECKING:
    from ..requests import RequestService, Ticket


request_app = groups["request"]
dataset_app = groups["dataset"]


def _requests(home: Path | None, database_url: str | None, pack: str | None) -> RequestService:
    from ..requests import RequestService, load_deadlines

    deadlines = load_deadlines(Settings.load(home, database_url, pack).home / "requests.yaml")
    return RequestService(_engine(home, database_url, pack), _SmtpWhenNeeded(), deadlines=deadlines)


class _SmtpWhenNeeded:
    """The mail server ($POLICYKEEPER_SMTP_URL), looked up only when a message goes out: commands that send nothing
    (``request list``, ``request show``) run without one."""

    def send(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> None:
        from ..notify import SmtpMailer

        SmtpMailer.from_url().send(to, subject, body, message_id=message_id)


RefArg = Annotated[str, typer.Argument(help="The request's reference (from 'request submit').")]


def _ticket(t: Ticket) -> None:
    due = t.due_at.isoformat(timespec="minutes") if t.due_at else "no fixed date"
    fee = "" if t.fee == "none" else f"; fee: {t.fee.replace('_', ' ')}"
    out.print(f"request {t.ref}: {t.status}; deadline {t.deadline} (due {due}){fee}", markup=False)
    if t.unsent:
        err.print(f"warning: request {t.ref} is recorded, but its code was not sent ({t.unsent}); once the mail "
                  f"server is back, run: policykeeper request resend {t.ref}", markup=False)


@request_app.command("submit")
def request_submit(
    person: PersonArg,
    right: Annotated[str | None, typer.Argument(help="The right (access, delete, correct...); none for a question.")] = None,
    email: Annotated[str, typer.Option("--email", help="Where the one-time code and the answer go.")] = "",
    kind: Annotated[str, typer.Option("--kind", help="rights_request, general_question or complaint.")] = "rights_request",
    agent: Annotated[bool, typer.Option("--agent", help="Made by an agent for the person (--email is the agent's): "
                                        "verified by staff with proof of authority, no code.")] = False,
    note: Annotated[str, typer.Option("--note", help="What the person wants, in their words (kept encrypted; staff "
                                      "handling the request read it).")] = "",
    language: Annotated[str | None, typer.Option(
        "--language", help="The language the person asked in (en, zh-Hans): every mail about the request is written "
                           "in it; the policy's language by default.")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Receive a request and email the person a one-time code (only if the address is one held for them)."""
    from .._exceptions import BadValueError
    from ..i18n import LANGUAGES, known
    from ..requests import RequestContent

    if language is not None and known(language) is None:
        raise BadValueError(f"--language: one of {', '.join(LANGUAGES)}, not {language!r}")
    _ticket(_requests(home, database_url, pack).submit(person, right, email=email, kind=kind, agent=agent,
                                                       content=RequestContent(note) if note else None,
                                                       language=language))


@request_app.command("verify")
def request_verify(ref: RefArg, code: Annotated[str, typer.Argument(help="The code from the email.")],
                   home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Check the person's one-time code (expiry and attempt limits apply)."""
    _ticket(_requests(home, database_url, pack).verify(ref, code))


@request_app.command("verify-staff")
def request_verify_staff(
    ref: RefArg,
    method: Annotated[str, typer.Option("--method", help="One of the pack's methods, e.g. identity_proof.")],
    reference: Annotated[str, typer.Option("--reference", help="Where the evidence is kept (no personal data).")],
    mismatch_reason: Annotated[str | None, typer.Option(
        "--mismatch-reason", help="Why go on when the request's address is not one held for the person (audited).")]
    = None,
    authority: Annotated[str | None, typer.Option(
        "--authority", help="For a request by an agent: where the proof of their authority (the person's signed "
        "permission) is kept (no personal data).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Verify identity or an agent's authority by one of the pack's own methods, checked by staff.

    Where the request's address is not one held for the person (or nothing is held to compare it with), this says so
    and needs --mismatch-reason: the address is what the company's databases are searched by."""
    _ticket(_requests(home, database_url, pack).verify_by_staff(ref, method, reference=reference,
                                                                mismatch_reason=mismatch_reason,
                                                                authority_reference=authority, actor="operator"))


@request_app.command("resend")
def request_resend(ref: RefArg, home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Send a fresh one-time code (the old one stops working)."""
    _requests(home, database_url, pack).resend_code(ref)
    out.print(f"request {ref}: a new code was sent", markup=False)


@request_app.command("list")
def request_list(
    due_within: Annotated[int, typer.Option("--due-within", help="Days that count as due soon.")] = 3,
    status: Annotated[str | None, typer.Option("--status", help="open (the default), closed, all, or one status: "
                                               "received, verified, extended, fulfilled or refused.")] = None,
    right: Annotated[str | None, typer.Option("--right", help="Only this right (access, delete, correct ...), or "
                                              "this kind (general_question, complaint).")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past their due date.")] = False,
    due_soon: Annotated[bool, typer.Option("--due-soon", help="Only open requests due within --due-within days.")]
    = False,
    ref: Annotated[str | None, typer.Option("--ref", help="Only references that start with this (a search).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Open requests, the oldest deadline first: overdue, due soon, on time, or no fixed date.

    With a filter (as the API's and the admin console's queue take them), the requests that match it, overdue ones
    first, then by due date."""
    svc = _requests(home, database_url, pack)
    within = dt.timedelta(days=due_within)
    if status is None and right is None and not overdue and not due_soon and ref is None:
        rows = svc.open_requests(due_within=within)
        _rows(rows)
        out.print(f"open: {len(rows)}; overdue: {sum(r['state'] == 'overdue' for r in rows)}")
        return
    from ..requests import QueueQuery

    if overdue and due_soon:
        raise BadValueError("--overdue and --due-soon: give one of them")
    query = QueueQuery(status=status or "open", right=right, state="overdue" if overdue else "due_soon" if due_soon
                       else None, ref=ref or "", limit=500, due_within=within)
    rows = []
    while True:  # every page: the queue gives at most 500 at a time
        page = svc.queue(replace(query, offset=len(rows)), requester=False)
        rows += page.items
        if not page.items or len(rows) >= page.total:
            break
    _rows(rows)
    out.print(f"requests: {len(rows)}; overdue: {sum(r['state'] == 'overdue' for r in rows)}")


def _rows(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        due = r["due_at"].date().isoformat() if r["due_at"] else r["deadline"]
        out.print(f"{r['ref']}\t{r['right'] or r['kind']}\t{r['status']}\t{r['state']}\tdue {due}", markup=False)


@request_app.command("show")
def request_show(ref: RefArg, home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """One request as JSON (never its reply address)."""
    row = _requests(home, database_url, pack).get(ref)
    out.print(json.dumps(row, indent=2, default=str), markup=False)


@request_app.command("fulfil")
def request_fulfil(
    ref: RefArg,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write an access export (zip).")] = None,
    ground: Annotated[str | None, typer.Option("--ground", help="The erasure ground, where the pack lists them.")] = None,
    dataset: Annotated[Path | None, typer.Option("--dataset", help="A dataset map (Fides YAML) of a company database.")]
    = None,
    dataset_url: Annotated[str | None, typer.Option("--dataset-url", help="That database's SQLAlchemy URL.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Correction: the category to correct.")] = None,
    value: Annotated[str | None, typer.Option("--value", help="Correction: the corrected value.")] = None,
    purpose: Annotated[list[str] | None, typer.Option("--purpose", help="Objection: a purpose objected to (repeat).")]
    = None,
    decision: Annotated[str | None, typer.Option("--decision", help="Explanation: the decision id to explain.")] = None,
    not_held_reason: Annotated[str | None, typer.Option(
        "--not-held-reason", help="Erasure: why the company database holds no row for the person (audited).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Carry out a verified request: an access export to --output, or an erasure with notices to recipients.

    With --dataset and --dataset-url the company's own database is included: its rows in the export, or erased
    (fail-closed: if anything personal would be left, a column is not covered by the map, or no row matched the
    person, nothing changes and the request stays open; --not-held-reason goes on where no row is right)."""
    from ..connectors import load_dataset_map, open_target

    svc = _requests(home, database_url, pack)
    if (dataset is None) != (dataset_url is None):
        raise BadValueError("--dataset and --dataset-url go together")
    if dataset is not None and dataset_url is not None:
        svc.databases = ((load_dataset_map(dataset), open_target(dataset_url)),)
    right = svc.get(ref)["right"]
    if right == "correct":
        if category is None or value is None:
            raise BadValueError("a correction needs --category and --value")
        svc.fulfil_correction(ref, category, value, actor="operator")
        out.print(f"request {ref}: fulfilled; {category} corrected", markup=False)
        return
    if right in ("restrict", "object"):
        svc.fulfil_restriction(ref, purposes=tuple(purpose or ()), actor="operator")
        out.print(f"request {ref}: fulfilled; processing {'restricted' if right == 'restrict' else 'objected to'}",
                  markup=False)
        return
    if right == "automated_decision_explanation":
        if decision is None:
            raise BadValueError("an explanation needs --decision ID")
        out.print(svc.fulfil_explanation(ref, decision, actor="operator"), markup=False)
        return
    if right in ("delete", "cancel_account"):
        notices = svc.fulfil_erasure(ref, ground=ground, actor="operator",
                                     not_held_reason=not_held_reason)["notices"]
        out.print(f"request {ref}: fulfilled; erased; {notices} recipient notice(s) queued", markup=False)
        return
    if output is None:
        raise BadValueError("an access request needs --output FILE for the export")
    n = svc.fulfil_access(ref, output, actor="operator")
    out.print(f"request {ref}: fulfilled; {n} value(s) exported to {output}", markup=False)


@dataset_app.command("check")
def dataset_check(
    dataset: Annotated[Path, typer.Argument(help="The dataset map (Fides YAML).")],
    url: Annotated[str, typer.Option("--url", help="The company database's SQLAlchemy URL.")],
    scan: Annotated[bool, typer.Option("--scan", help="Sample values of uncovered columns; flag those that look "
                                                      "personal (emails, phones, names).")] = False,
    sample: Annotated[int, typer.Option("--sample", help="Values sampled per column with --scan.")] = 200,
) -> None:
    """Compare a dataset map with the live schema: every table and column it does not cover (exit 1 if any).

    Erasure refuses a table with a column the map does not cover; a data category outside 'user' marks a column
    not personal. Sampled values are never printed."""
    from ..connectors import load_dataset_map, open_target
    from ..connectors._coverage import check_coverage

    if not 1 <= sample <= 10_000:
        raise BadValueError("--sample is 1 to 10000")
    report = check_coverage(open_target(url), load_dataset_map(dataset), scan=scan, sample=sample)
    for t in report.tables_not_in_map:
        kinds = sorted({k for c, k in report.looks_personal.items() if c.startswith(t + ".")})
        out.print(f"table not in the map: {t}" + (f" (looks personal: {', '.join(kinds)})" if kinds else ""),
                  markup=False)
    for c in report.collections_not_in_database:
        out.print(f"collection not in the database: {c}", markup=False)
    for f in report.fields_not_in_database:
        out.print(f"field not in the database: {f}", markup=False)
    for col in report.uncovered:
        hint = report.looks_personal.get(col)
        out.print(f"column not covered: {col}" + (f" (looks personal: {hint})" if hint else ""), markup=False)
    for note in report.notes:
        out.print(f"note: {note}", markup=False)
    gaps = (len(report.tables_not_in_map) + len(report.collections_not_in_database) + len(report.fields_not_in_database)
            + len(report.uncovered))
    out.print(f"{'covered' if report.ok else 'not covered'}: {gaps} gap(s)", markup=False)
    if not report.ok:
        raise typer.Exit(1)


@request_app.command("extend")
def request_extend(
    ref: RefArg,
    days: Annotated[int, typer.Option("--days", help="How many calendar days more (1 to 90).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, told to the person (no personal data).")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Push a verified request's deadline and tell the person why."""
    _ticket(_requests(home, database_url, pack).extend(ref, days, reason=reason, actor="operator"))


@request_app.command("refuse")
def request_refuse(
    ref: RefArg,
    ground: Annotated[str, typer.Option("--ground", help="One of the pack's refusal grounds.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Refuse a request on one of the pack's grounds; the person is told the ground."""
    _requests(home, database_url, pack).refuse(ref, ground, actor="operator")
    out.print(f"request {ref}: refused ({ground})", markup=False)
