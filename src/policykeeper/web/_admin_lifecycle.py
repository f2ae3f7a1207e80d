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
from collections import defaultdict
from dataclasses import asdict
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from .._exceptions import PackError, PolicykeeperError
from ..incidents import (
    CONTENT_FIELDS,
    close_incident,
    incident_step,
    notice_timing,
    notify_affected,
    preview_notice,
    required_steps,
)
from ..notify import PERSON_CHANNELS
from ..pack import Pack, parse_pack
from ..pack._types import FixedDuration
from ..store import web as web_store
from ..versions import notice_for, preview, publish, versions
from ._context import WebContext
from ._library_words import change_describer
from ._pages import ctx_of, gettext_of, redirect
from .admin import Seat, _form, _page, _seat, _Stop, router

__all__ = ["MAX_PACK_UPLOAD"]

MAX_PACK_UPLOAD = 2_000_000
"""Largest pack file the versions page takes, in characters (the body limit of its two forms is raised to match)."""

_BACK = "/admin/incidents"


def _back(incident_id: int, *, msg: str | None = None, err: str | None = None) -> Response:
    """Back to the incidents page, at the incident, saying what happened."""
    response = redirect(_BACK, msg=msg, err=err)
    response.headers["location"] += f"#incident-{incident_id}"
    return response


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
        rows = [asdict(r) for r in web_store.incidents_of(conn, eng.pack.id, newest_by="opened_at")]
        counts = web_store.incident_notice_counts(conn)
    notices: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in counts:
        notices[c.incident_id].append({"kind": c.kind, "channel": c.channel, "count": c.count, "first": c.first})
    steps = required_steps(eng)
    out = []
    for r in rows:
        done = {s["step"] for s in r["steps"]}
        out.append({**r, "notices": notices.get(int(r["id"]), []), "timing": notice_timing(eng, int(r["id"])),
                    "missing": [s for s in steps if s not in done]})
    return out


def _incidents_page(request: Request, seat: Seat, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    pack = ctx.engine().pack
    return _page(request, "admin/incidents.html", seat, status, incidents=_incident_rows(ctx),
                 steps=required_steps(ctx.engine()), breach=_breach(ctx), fields=CONTENT_FIELDS,
                 names={c.id: c.name for c in pack.data_categories}, can_write=seat.staff.can("incidents:write"),
                 **values)


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request) -> Response:
    try:
        seat = _seat(request, "incidents:read")
    except _Stop as stop:
        return stop.response
    return _incidents_page(request, seat)


async def _incident_action(request: Request, incident_id: int) -> tuple[Seat, dict[str, str], str]:
    seat = _seat(request, "incidents:write")
    form = await _form(request, seat)
    return seat, form, f"key:{seat.staff.key_id}"


@router.post("/incidents/{incident_id}/step")
async def incident_step_form(request: Request, incident_id: int) -> Response:
    try:
        seat, form, actor = await _incident_action(request, incident_id)
    except _Stop as stop:
        return stop.response
    _ = gettext_of(request)
    step = form.get("step", "")
    try:
        incident_step(ctx_of(request).engine(), incident_id, step, reference=form.get("reference", ""), actor=actor)
    except PolicykeeperError as exc:
        return _back(incident_id, err=exc.message)
    return _back(incident_id,
                    msg=_("Incident %(id)s: the step “%(step)s” is on record.", id=incident_id,
                          step=step.replace("_", " ")))


@router.post("/incidents/{incident_id}/close")
async def incident_close_form(request: Request, incident_id: int) -> Response:
    try:
        seat, form, actor = await _incident_action(request, incident_id)
    except _Stop as stop:
        return stop.response
    _ = gettext_of(request)
    try:
        close_incident(ctx_of(request).engine(), incident_id, actor=actor)
    except PolicykeeperError as exc:
        return _back(incident_id, err=exc.message)
    return _back(incident_id, msg=_("Incident %(id)s is closed.", id=incident_id))


_CONTENT_ARGS = tuple(arg for arg, _heading in CONTENT_FIELDS.values())


def _notice_args(form: dict[str, str]) -> dict[str, Any]:
    args: dict[str, Any] = {arg: form.get(arg, "")[:5000] for arg in _CONTENT_ARGS}
    args["channel"] = form.get("channel", "email")
    args["impractical"] = form.get("impractical") == "yes"
    return args


@router.post("/incidents/{incident_id}/notify/preview", response_class=HTMLResponse)
async def incident_notify_preview(request: Request, incident_id: int) -> Response:
    """The notice as each person will read it and who it reaches, before anything is sent."""
    try:
        seat, form, _actor = await _incident_action(request, incident_id)
    except _Stop as stop:
        return stop.response
    args = _notice_args(form)
    try:
        shown = preview_notice(ctx_of(request).engine(), incident_id, **args)
    except PolicykeeperError as exc:
        return _incidents_page(request, seat, 422, problems=[exc.message], draft={"id": incident_id, **args})
    return _page(request, "admin/incident_notice.html", seat, preview=shown, args=args)


@router.post("/incidents/{incident_id}/notify")
async def incident_notify_form(request: Request, incident_id: int) -> Response:
    try:
        seat, form, actor = await _incident_action(request, incident_id)
    except _Stop as stop:
        return stop.response
    _ = gettext_of(request)
    if form.get("confirm") != "yes":
        return _back(incident_id,
                        err=_("Nothing was sent: preview the notice first, then confirm it."))
    try:
        run = notify_affected(ctx_of(request).engine(), incident_id, actor=actor, **_notice_args(form))
    except PolicykeeperError as exc:
        return _back(incident_id, err=exc.message)
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
def versions_page(request: Request) -> Response:
    try:
        seat = _seat(request, "versions:read")
    except _Stop as stop:
        return stop.response
    return _versions_page(request, seat)


class _Refused(Exception):
    """The upload cannot be published: ``problems`` say what and where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
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


def _parse(text: str, filename: str) -> Pack:
    try:
        return parse_pack(text, filename)
    except PackError as exc:
        raise _Refused([str(i) for i in exc.issues] or [exc.message]) from None


async def _prepared(request: Request, seat: Seat) -> tuple[dict[str, str], str, str, Pack, dict[str, Any]]:
    _ = gettext_of(request)
    form, text, name = await _upload(request, seat)
    new = _parse(text, name)
    args = {"effective_at": _date(form, "effective", _("Takes effect on"), _),
            "notice_at": _date(form, "notice", _("People are told on"), _),
            "explicit_consent": form.get("explicit_consent") == "yes"}
    return form, text, name, new, args


@router.post("/versions/preview", response_class=HTMLResponse)
async def version_preview(request: Request) -> Response:
    """The diff of an uploaded version against the one in force and the change rules' check; nothing is written."""
    try:
        seat = _seat(request, "versions:publish")
        try:
            form, text, filename, new, args = await _prepared(request, seat)
            shown = preview(ctx_of(request).engine(), new, **args)
        except _Refused as refused:
            return _versions_page(request, seat, 422, problems=refused.problems)
        except PolicykeeperError as exc:
            return _versions_page(request, seat, 422, problems=[exc.message])
    except _Stop as stop:
        return stop.response
    return _page(request, "admin/version_preview.html", seat, describe=change_describer(request), preview=shown,
                 text=text, form=form, filename=filename,
                 rules=_rules(shown.against), new=new)


@router.post("/versions/publish")
async def version_publish(request: Request) -> Response:
    try:
        seat = _seat(request, "versions:publish")
        _ = gettext_of(request)
        try:
            form, _text, _name, new, args = await _prepared(request, seat)
            if form.get("confirm") != "yes":
                raise _Refused([_("Nothing was published: preview the version first, then confirm it.")])
            got = publish(ctx_of(request).engine(), new, actor=f"key:{seat.staff.key_id}", **args)
        except _Refused as refused:
            return _versions_page(request, seat, 422, problems=refused.problems)
        except PolicykeeperError as exc:
            return _versions_page(request, seat, 422, problems=[exc.message])
    except _Stop as stop:
        return stop.response
    return redirect("/admin/versions", msg=_(
        "Version %(label)s is published: it takes effect on %(date)s; %(emails)s email(s) queued in the outbox.",
        label=got.label, date=got.effective_at.date().isoformat(), emails=got.emails))
