"""The console's incidents and policy versions pages, and the work done from them.

Incidents: record one of the pack's promised steps, tell the people affected (a preview of the notice each person
will read, checked against the pack's breach rules and channels, then a confirmed send that queues it in the outbox)
and close. Versions: publish a new version of the pack from an uploaded YAML file, after a preview of its diff and of
the change rules' check, and a confirmation. Every action calls the same library function the CLI does
(``incidents``, ``versions``), checks the seat's permission and the CSRF token, and is one audited transaction; the
library refuses bad input before anything is written, and the page says what and where.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from .._exceptions import PackError, PolicykeeperError
from ..incidents import (
    CONTENT_FIELDS,
    close_incident,
    get_incident,
    incident_step,
    notice_timing,
    notify_affected,
    preview_notice,
    record_incident,
    regulator_report,
    required_steps,
)
from ..notify import PERSON_CHANNELS
from ..pack import Pack, parse_pack
from ..pack._types import FixedDuration
from ..store import incident_records as incident_store
from ..versions import notice_for, preview, publish, versions
from ._context import WebContext
from ._library_words import change_describer, pack_issue_words, problem_words
from ._pages import ctx_of, gettext_of, redirect
from .admin import Posted, Seat, _form, _page, require_staff, router, staff_form, when

__all__ = ["MAX_PACK_UPLOAD"]

MAX_PACK_UPLOAD = 2_000_000
"""Largest pack file the versions page takes, in characters (the body limit of its two forms is raised to match)."""

_BACK = "/admin/incidents"


def _back(incident_id: int, *, msg: str | None = None, err: str | None = None) -> Response:
    """Back to the incidents page, at the incident, saying what happened."""
    return redirect(_BACK, msg=msg, err=err, fragment=f"incident-{incident_id}")


# -- incidents -------------------------------------------------------------------------------------------------------

def _breach(ctx: WebContext) -> dict[str, Any]:
    """The pack's breach rules as the incidents page shows them: required content, channels, fallback, timing."""
    pack = ctx.engine().pack
    rule = pack.breach
    if isinstance(rule, str):
        return {"required": (), "channels": ("email",), "unsent": (), "fallback": False, "timing": None,
                "promises": ()}
    listed = rule.channels or ("email",)
    return {"required": tuple(rule.content_fields), "channels": tuple(c for c in listed if c in PERSON_CHANNELS),
            "unsent": tuple(c for c in listed if c not in PERSON_CHANNELS),
            "fallback": rule.fallback_when_individual_notice_impractical == "public_announcement",
            "timing": rule.timing if isinstance(rule.timing, FixedDuration) else None, "promises": rule.promises}


def _incident_rows(ctx: WebContext) -> list[dict[str, Any]]:
    eng = ctx.engine()
    with ctx.db.connect() as conn:
        rows = [asdict(r) for r in incident_store.incidents_of(conn, eng.pack.id, newest_by="opened_at")]
        counts = incident_store.notice_counts(conn)
    notices: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in counts:
        notices[c.incident_id].append({"kind": c.kind, "channel": c.channel, "count": c.count, "first": c.first_at})
    steps = required_steps(eng)
    out = []
    for r in rows:
        done = {s["step"] for s in r["steps"]}
        sent = notices.get(int(r["id"]), [])
        out.append({**r, "notices": sent, "timing": notice_timing(eng, int(r["id"])),
                    "missing": [s for s in steps if s not in done],
                    "reported": next((n["first"] for n in sent if n["kind"] == "regulator"), None)})
    return out


def _incidents_page(request: Request, seat: Seat, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    pack = ctx.engine().pack
    return _page(request, "admin/incidents.html", seat, status, incidents=_incident_rows(ctx),
                 steps=required_steps(ctx.engine()), breach=_breach(ctx), fields=CONTENT_FIELDS,
                 names={c.id: c.name for c in pack.data_categories}, can_write=seat.staff.can("incidents:write"),
                 categories=pack.data_categories, **values)


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, seat: Annotated[Seat, Depends(require_staff("incidents:read"))]) -> Response:
    return _incidents_page(request, seat)


Working = Annotated[Posted, Depends(staff_form("incidents:write"))]
"""An incident form posted by staff who may work incidents, its CSRF token checked."""
Reading = Annotated[Seat, Depends(require_staff("incidents:read"))]


# -- a new incident --------------------------------------------------------------------------------------------------

_DRAFT_FIELDS = ("reference", "systems", "started", "ended", "harm")


def _moment(text: str) -> dt.datetime | None:
    """A date and time from the form (``2026-11-29T10:30``, or a date alone), read as UTC; None if it is not one."""
    try:
        at = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _new_incident(request: Request, form: dict[str, str],
                  chosen: list[str]) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """The new incident's draft (what was typed, to show again), the problems by field (in the page's language),
    and, when there are none, the arguments of ``record_incident``. The library checks the same again."""
    _ = gettext_of(request)
    eng = ctx_of(request).engine()
    draft: dict[str, Any] = {k: form.get(k, "")[:2000] for k in _DRAFT_FIELDS}
    known = [c.id for c in eng.pack.data_categories]
    draft["categories"] = [c for c in chosen if c in known]
    problems: dict[str, str] = {}
    reference = draft["reference"].strip()
    if not reference or len(reference) > 120:
        problems["reference"] = _("Give the ticket or report reference: 1 to 120 characters, no personal data.")
    systems = sorted({part.strip() for part in draft["systems"].replace("\n", ",").split(",") if part.strip()})
    if not systems:
        problems["systems"] = _("Name at least one system involved.")
    elif any(len(name) > 120 for name in systems):
        problems["systems"] = _("A system's name is at most 120 characters.")
    if not draft["categories"]:
        problems["categories"] = _("Choose at least one kind of data involved.")
    now = eng.clock.now()
    started = _moment(draft["started"]) if draft["started"].strip() else None
    if not draft["started"].strip():
        problems["started"] = _("Give the date and time the incident started (UTC).")
    elif started is None:
        problems["started"] = _("“%(value)s” is not a date and time.", value=draft["started"][:40])
    elif started > now:
        problems["started"] = _("The incident cannot start in the future.")
    ended = _moment(draft["ended"]) if draft["ended"].strip() else None
    if draft["ended"].strip() and ended is None:
        problems["ended"] = _("“%(value)s” is not a date and time.", value=draft["ended"][:40])
    elif ended is not None and started is not None and ended < started:
        problems["ended"] = _("The end is before the start.")
    args: dict[str, Any] = {"started_at": started, "ended_at": ended, "systems": systems,
                            "categories": draft["categories"], "reference": reference,
                            "harm_to_subjects": draft["harm"] == "yes"}
    return draft, problems, args


async def _categories(request: Request) -> list[str]:
    return [v for v in (await request.form()).getlist("categories") if isinstance(v, str)]


@router.post("/incidents/new", response_class=HTMLResponse)
async def incident_new(request: Request, posted: Working) -> Response:
    """The new incident checked and shown for a last look before it is recorded (nothing is written yet)."""
    draft, problems, args = _new_incident(request, posted.form, await _categories(request))
    if problems:
        return _incidents_page(request, posted.seat, 422, new=draft, new_problems=problems)
    return _page(request, "admin/incident_record.html", posted.seat, draft=draft, args=args,
                 names={c.id: c.name for c in ctx_of(request).engine().pack.data_categories})


@router.post("/incidents/record", response_class=HTMLResponse)
async def incident_record(request: Request, posted: Working) -> Response:
    """Open the incident record once its summary was confirmed (a record is kept: it cannot be deleted)."""
    _ = gettext_of(request)
    draft, problems, args = _new_incident(request, posted.form, await _categories(request))
    names = {c.id: c.name for c in ctx_of(request).engine().pack.data_categories}
    if problems or posted.form.get("change") == "yes":
        return _incidents_page(request, posted.seat, 422 if problems else 200, new=draft, new_problems=problems)
    if posted.form.get("confirm") != "yes":
        return _page(request, "admin/incident_record.html", posted.seat, 422, draft=draft, args=args, names=names,
                     missing=True)
    eng = ctx_of(request).engine()
    try:
        iid = record_incident(eng, actor=posted.actor, **args)
    except PolicykeeperError as exc:
        return _incidents_page(request, posted.seat, 422, new=draft, new_problems={"": problem_words(exc, _)})
    text = _("Incident %(id)s is on record.", id=iid)
    if get_incident(eng, iid)["liability"]:
        text += " " + _("People were harmed and the policy accepts liability: the incident carries the liability "
                        "flag.")
    return _back(iid, msg=text)


def _missing(request: Request, incident_id: int) -> str:
    _ = gettext_of(request)
    return str(_("incident %(id)s", id=incident_id))


# -- the regulator's report ------------------------------------------------------------------------------------------

@router.get("/incidents/{incident_id}/report", response_class=HTMLResponse)
def incident_report_page(request: Request, incident_id: int, seat: Reading) -> Response:
    """The report to the regulator as it stands now; nothing is recorded until staff who may work incidents
    confirm that it was sent."""
    eng = ctx_of(request).engine()
    try:
        report = regulator_report(eng, incident_id, record=False)
    except PolicykeeperError:
        return _page(request, "admin/notfound.html", seat, 404,
                     what=_missing(request, incident_id))
    return _page(request, "admin/incident_report.html", seat, report=report,
                 names={c.id: c.name for c in eng.pack.data_categories},
                 can_write=seat.staff.can("incidents:write"), missing=False)


@router.get("/incidents/{incident_id}/report.json")
def incident_report_json(request: Request, incident_id: int, seat: Reading) -> Response:
    """The same report as JSON, to attach to the filing (a preview: downloading it records nothing)."""
    try:
        report = regulator_report(ctx_of(request).engine(), incident_id, record=False)
    except PolicykeeperError:
        return _page(request, "admin/notfound.html", seat, 404,
                     what=_missing(request, incident_id))
    return Response(json.dumps(report, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="incident-{incident_id}-report.json"',
                             "Cache-Control": "no-store"})


@router.post("/incidents/{incident_id}/report", response_class=HTMLResponse)
async def incident_report_form(request: Request, incident_id: int, posted: Working) -> Response:
    """Record that the report went to the regulator (once confirmed): noted with the incident and audited."""
    _ = gettext_of(request)
    eng = ctx_of(request).engine()
    if posted.form.get("confirm") != "yes":
        try:
            report = regulator_report(eng, incident_id, record=False)
        except PolicykeeperError as exc:
            return _back(incident_id, err=problem_words(exc, gettext_of(request)))
        return _page(request, "admin/incident_report.html", posted.seat, 422, report=report,
                     names={c.id: c.name for c in eng.pack.data_categories}, can_write=True, missing=True)
    try:
        report = regulator_report(eng, incident_id, record=True, actor=posted.actor)
    except PolicykeeperError as exc:
        return _back(incident_id, err=problem_words(exc, gettext_of(request)))
    if report["previously_reported_at"]:
        return _back(incident_id, msg=_("Incident %(id)s: the report is on record again; it was first reported on "
                                        "%(date)s.", id=incident_id, date=when(report["previously_reported_at"])))
    return _back(incident_id, msg=_("Incident %(id)s: the report to the regulator is on record.", id=incident_id))


@router.post("/incidents/{incident_id}/step")
async def incident_step_form(request: Request, incident_id: int, posted: Working) -> Response:
    form, actor = posted.form, posted.actor
    _ = gettext_of(request)
    step = form.get("step", "")
    try:
        incident_step(ctx_of(request).engine(), incident_id, step, reference=form.get("reference", ""), actor=actor)
    except PolicykeeperError as exc:
        return _back(incident_id, err=problem_words(exc, gettext_of(request)))
    return _back(incident_id,
                    msg=_("Incident %(id)s: the step “%(step)s” is on record.", id=incident_id,
                          step=step.replace("_", " ")))


@router.post("/incidents/{incident_id}/close")
async def incident_close_form(request: Request, incident_id: int, posted: Working) -> Response:
    actor = posted.actor
    _ = gettext_of(request)
    if posted.form.get("confirm") != "yes":
        return _back(incident_id, err=_("Nothing was closed: tick the box to confirm that it cannot be undone."))
    try:
        close_incident(ctx_of(request).engine(), incident_id, actor=actor)
    except PolicykeeperError as exc:
        return _back(incident_id, err=problem_words(exc, gettext_of(request)))
    return _back(incident_id, msg=_("Incident %(id)s is closed.", id=incident_id))


_CONTENT_ARGS = tuple(arg for arg, _heading in CONTENT_FIELDS.values())


def _notice_args(form: dict[str, str]) -> dict[str, Any]:
    args: dict[str, Any] = {arg: form.get(arg, "")[:5000] for arg in _CONTENT_ARGS}
    args["channel"] = form.get("channel", "email")
    args["impractical"] = form.get("impractical") == "yes"
    return args


@router.post("/incidents/{incident_id}/notify/preview", response_class=HTMLResponse)
async def incident_notify_preview(request: Request, incident_id: int, posted: Working) -> Response:
    """The notice as each person will read it and who it reaches, before anything is sent."""
    seat, form = posted.seat, posted.form
    args = _notice_args(form)
    try:
        shown = preview_notice(ctx_of(request).engine(), incident_id, **args)
    except PolicykeeperError as exc:
        return _incidents_page(request, seat, 422, problems=[problem_words(exc, gettext_of(request))],
                               draft={"id": incident_id, **args})
    return _page(request, "admin/incident_notice.html", seat, preview=shown, args=args)


@router.post("/incidents/{incident_id}/notify")
async def incident_notify_form(request: Request, incident_id: int, posted: Working) -> Response:
    form, actor = posted.form, posted.actor
    _ = gettext_of(request)
    if form.get("confirm") != "yes":
        return _back(incident_id,
                        err=_("Nothing was sent: preview the notice first, then confirm it."))
    try:
        run = notify_affected(ctx_of(request).engine(), incident_id, actor=actor, **_notice_args(form))
    except PolicykeeperError as exc:
        return _back(incident_id, err=problem_words(exc, gettext_of(request)))
    text = _("Incident %(id)s: %(queued)s notice(s) queued in the outbox for %(affected)s people affected "
             "(already told: %(done)s; no address: %(unreachable)s).", id=incident_id, queued=run.queued,
             affected=run.affected, done=run.already_notified, unreachable=run.unreachable)
    if run.announcement:
        text += " " + _("A public announcement is due: its text is in the incident's notices.")
    return _back(incident_id, msg=text)


# -- versions --------------------------------------------------------------------------------------------------------

def _version_items(ctx: WebContext) -> list[dict[str, Any]]:
    eng = ctx.engine()
    items = []
    for v in versions(eng):
        changes = v["changes"] or {}
        baseline = bool(changes.get("baseline"))
        items.append({**v, "baseline": baseline, "items": changes.get("items", []),
                      "channels": changes.get("channels", []),
                      "notice": None if baseline else notice_for(eng, v["label"])})
    return list(reversed(items))


def _rules(pack: Pack) -> dict[str, Any]:
    """The change rules of the version in force, as the versions page lists them."""
    rule = pack.changes
    return {"date_stamp": rule.date_stamp, "advance_notice": rule.advance_notice if isinstance(
                rule.advance_notice, FixedDuration) else None,
            "acceptance": rule.acceptance, "guard": rule.no_rights_reduction_without_explicit_consent is True,
            "channels": rule.notice_channels, "significant_channels": rule.significant_channels,
            "promises": rule.promises}


def _versions_page(request: Request, seat: Seat, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    pack = ctx.engine().pack
    return _page(request, "admin/versions.html", seat, status, versions=_version_items(ctx),
                 current=pack.version.label, rules=_rules(pack), can_publish=seat.staff.can("versions:publish"),
                 describe=change_describer(request), **values)


@router.get("/versions", response_class=HTMLResponse)
def versions_page(request: Request, seat: Annotated[Seat, Depends(require_staff("versions:read"))]) -> Response:
    return _versions_page(request, seat)


Publishing = Annotated[Seat, Depends(require_staff("versions:publish"))]
"""Staff who may publish a version (the upload's CSRF token is checked with the form, which holds the file)."""


class _Refused(Exception):
    """The upload cannot be published: ``problems`` say what and where."""

    def __init__(self, problems: list[Any]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _date(form: dict[str, str], name: str, label: str, _: Any) -> dt.datetime | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _Refused([_("%(field)s: “%(value)s” is not a date (YYYY-MM-DD).", field=label, value=text[:40])]) \
            from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


async def _upload(request: Request, seat: Seat) -> tuple[dict[str, str], str, str]:
    """The posted form (CSRF checked) and the pack's YAML text: the uploaded file, or the text the preview carried."""
    raw = await request.form()
    form = await _form(request, seat)
    _ = gettext_of(request)
    text = form.get("pack_yaml", "")
    upload = raw.get("pack_file")
    name = form.get("filename", "")
    if not text and upload is not None and not isinstance(upload, str):
        name = upload.filename or ""
        data = await upload.read(MAX_PACK_UPLOAD + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused([_("The file is not UTF-8 text: upload the pack's YAML file.")]) from None
    if not text.strip():
        raise _Refused([_("Choose the new version's YAML file to upload.")])
    if len(text) > MAX_PACK_UPLOAD:
        raise _Refused([_("The file is larger than %(n)s characters.", n=MAX_PACK_UPLOAD)])
    return form, text, name.strip()[:120] or "pack.yaml"


def _parse(text: str, filename: str, _: Any) -> Pack:
    try:
        return parse_pack(text, filename)
    except PackError as exc:
        raise _Refused(pack_issue_words(exc, _)) from None


async def _prepared(request: Request, seat: Seat) -> tuple[dict[str, str], str, str, Pack, dict[str, Any]]:
    _ = gettext_of(request)
    form, text, name = await _upload(request, seat)
    new = _parse(text, name, _)
    args = {"effective_at": _date(form, "effective", _("Takes effect on"), _),
            "notice_at": _date(form, "notice", _("People are told on"), _),
            "explicit_consent": form.get("explicit_consent") == "yes"}
    return form, text, name, new, args


@router.post("/versions/preview", response_class=HTMLResponse)
async def version_preview(request: Request, seat: Publishing) -> Response:
    """The diff of an uploaded version against the one in force and the change rules' check; nothing is written."""
    try:
        form, text, filename, new, args = await _prepared(request, seat)
        shown = preview(ctx_of(request).engine(), new, **args)
    except _Refused as refused:
        return _versions_page(request, seat, 422, problems=refused.problems)
    except PolicykeeperError as exc:
        return _versions_page(request, seat, 422, problems=[problem_words(exc, gettext_of(request))])
    return _page(request, "admin/version_preview.html", seat, describe=change_describer(request), preview=shown,
                 text=text, form=form, filename=filename,
                 rules=_rules(shown.against), new=new)


@router.post("/versions/publish")
async def version_publish(request: Request, seat: Publishing) -> Response:
    _ = gettext_of(request)
    try:
        form, _text, _name, new, args = await _prepared(request, seat)
        if form.get("confirm") != "yes":
            raise _Refused([_("Nothing was published: preview the version first, then confirm it.")])
        got = publish(ctx_of(request).engine(), new, actor=f"key:{seat.staff.key_id}", **args)
    except _Refused as refused:
        return _versions_page(request, seat, 422, problems=refused.problems)
    except PolicykeeperError as exc:
        return _versions_page(request, seat, 422, problems=[problem_words(exc, gettext_of(request))])
    return redirect("/admin/versions", msg=_(
        "Version %(label)s is published: it takes effect on %(date)s; %(emails)s email(s) queued in the outbox.",
        label=got.label, date=got.effective_at.date().isoformat(), emails=got.emails))
