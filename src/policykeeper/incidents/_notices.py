"""Breach notices: who an incident touched, telling them, the public announcement, and the regulator's report.

The people affected are found set-based from the incident's window and categories: everyone of the pack with a
record in those categories that existed during the window (collected before it ended, its subject not erased before
it began), and everyone whose data in those categories was disclosed during it. Each reachable person gets one
message through the outbox (encrypted, its key destroyed once delivered), one ``incident_notices`` row and one
``message_log`` row; re-running never notifies anyone twice. Where individual notice is impractical and the pack
promises a public announcement instead (Kamoer), one is made. The regulator's report holds the incident, its
handling and counts, never a personal value. Every change is one transaction, audited with promise IDs and counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict, Unpack

from pydantic import Field
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from .. import audit
from .._exceptions import BadValueError
from ..clock import utc
from ..engine import PolicyEngine
from ..i18n import gettext_for, language_of_pack
from ..notify import PERSON_CHANNELS, enqueue_to_person
from ..store import incident_records as incident_store
from ..store import languages as language_store
from ..store import messages as message_store
from ..store import people as people_store
from ..store.incident_records import IncidentRow

__all__ = ["CONTENT_FIELDS", "NoticePreview", "NoticeRun", "affected_subjects", "notice_timing", "notify_affected",
           "preview_notice", "regulator_report"]

CONTENT_FIELDS = {
    "basic_situation": ("what_happened", "What happened"),
    "possible_impact": ("possible_impact", "Possible impact"),
    "measures_taken_or_planned": ("measures", "Measures taken or planned"),
    "subject_prevention_advice": ("advice", "What you can do to protect yourself"),
    "remedies": ("remedies", "Remedies"),
}
"""Each content item a pack may require of a breach notice: (the argument that carries it, its heading)."""

PUSH_NOTE = "push notices are addressed to the pseudonymous subject id; the push webhook maps it to the person's devices"


@dataclass(frozen=True)
class NoticeRun:
    """What one run of :func:`notify_affected` did (counts only; no personal values). The REST API answers with it,
    the incident's id named ``incident`` there."""

    incident_id: Annotated[int, Field(serialization_alias="incident")]
    channel: str
    affected: int
    queued: int
    already_notified: int
    unreachable: int
    announcement: str | None
    """The public announcement's text when individual notice was impractical (no personal data), else None."""


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else utc(at).isoformat()


def _breach_promises(eng: PolicyEngine) -> tuple[str, ...]:
    breach = eng.pack.breach
    if isinstance(breach, str):
        return ()
    found = dict.fromkeys(breach.promises)
    for rule in breach.rules:
        found.update(dict.fromkeys(rule.promises))
    return tuple(found)


def _incident(conn: Connection, eng: PolicyEngine, incident_id: int, *, lock: bool = False) -> IncidentRow:
    if not isinstance(incident_id, int) or isinstance(incident_id, bool):
        raise BadValueError(f"an incident id is a number, not {incident_id!r}", kind="incident_unknown")
    row = incident_store.incident(conn, eng.pack.id, incident_id, lock=lock)
    if row is None:
        raise BadValueError(f"no incident {incident_id} for pack {eng.pack.id}", kind="incident_unknown",
                            incident=incident_id)
    return row


def _affected(conn: Connection, eng: PolicyEngine, inc: IncidentRow, now: dt.datetime) -> list[str]:
    end = utc(inc.ended_at) if inc.ended_at is not None else utc(now)
    return incident_store.affected_subjects(conn, eng.pack.id, list(inc.categories), utc(inc.started_at), end)


def affected_subjects(eng: PolicyEngine, incident_id: int, *, now: dt.datetime | None = None) -> list[str]:
    """Pseudonymous ids of the people whose data the incident touched (an open window ends ``now``, by default the
    engine's clock)."""
    now = eng.clock.at(now)
    with eng.db.connect() as conn:
        return _affected(conn, eng, _incident(conn, eng, incident_id), now)


def _content(eng: PolicyEngine, given: dict[str, str]) -> list[tuple[str, str]]:
    breach = eng.pack.breach
    required = () if isinstance(breach, str) else breach.content_fields
    promises = "the pack's breach rule" if isinstance(breach, str) else ", ".join(breach.promises)
    for item in required:
        arg, _ = CONTENT_FIELDS[item]
        if not given[arg].strip():
            raise BadValueError(f"the breach notice must say {item} (argument {arg}); {promises} requires all of "
                                f"{', '.join(required)}", kind="notice_field", field=arg)
    items = [(heading, given[arg].strip()) for arg, heading in CONTENT_FIELDS.values() if given[arg].strip()]
    if not items:
        raise BadValueError("a breach notice must say something: give at least what_happened", kind="notice_empty")
    return items


def _check_channel(eng: PolicyEngine, channel: str) -> None:
    breach = eng.pack.breach
    listed = () if isinstance(breach, str) else breach.channels
    if listed and channel not in listed:
        rules = () if isinstance(breach, str) else breach.rules
        owner = next((r.promises for r in rules if any(c in (r.quote or "").lower() for c in listed)), ())
        raise BadValueError(f"{channel!r} is not a breach-notice channel of pack {eng.pack.id}: it lists "
                            f"{', '.join(listed)}" + (f" ({', '.join(owner)})" if owner else ""),
                            kind="notice_channel", channel=channel, channels=tuple(listed))
    if channel not in PERSON_CHANNELS:
        raise BadValueError(f"no transport for {channel!r} breach notices: the outbox reaches people by "
                            f"{', '.join(PERSON_CHANNELS)}; send {channel} notices yourself",
                            kind="notice_transport", channel=channel)


def _headings(_: Any) -> dict[str, str]:
    """The headings of CONTENT_FIELDS in the reader's language."""
    return {"What happened": _("What happened"), "Possible impact": _("Possible impact"),
            "Measures taken or planned": _("Measures taken or planned"),
            "What you can do to protect yourself": _("What you can do to protect yourself"), "Remedies": _("Remedies")}


def _body(eng: PolicyEngine, inc: IncidentRow, items: list[tuple[str, str]], language: str | None = None) -> str:
    """The notice in ``language`` (the pack's by default); what staff wrote for each item is sent as written."""
    _ = gettext_for(language or language_of_pack(eng.pack.language))
    names = {c.id: c.name for c in eng.pack.data_categories}
    lines = [_("We are writing to tell you about a security incident that may affect your personal information."), ""]
    for heading, text in items:
        lines += [_("%(heading)s:", heading=_headings(_).get(heading, heading)), text, ""]
    lines.append(_("Data involved: %(categories)s", categories=", ".join(names.get(c, c) for c in inc.categories)))
    lines.append(_("Incident reference: %(reference)s", reference=inc.reference))
    return "\n".join(lines) + "\n"


def _announcement(eng: PolicyEngine, inc: IncidentRow, items: list[tuple[str, str]], affected: int) -> str:
    _ = gettext_for(language_of_pack(eng.pack.language))
    names = {c.id: c.name for c in eng.pack.data_categories}
    lines = [_("Public announcement: security incident %(reference)s", reference=inc.reference), "",
             _("A security incident may have affected the personal information of %(n)s people. We could not reach "
               "each of them individually, so we are announcing it here.", n=affected), ""]
    for heading, text in items:
        lines += [_("%(heading)s:", heading=_headings(_).get(heading, heading)), text, ""]
    lines.append(_("Data involved: %(categories)s", categories=", ".join(names.get(c, c) for c in inc.categories)))
    return "\n".join(lines) + "\n"



@dataclass(frozen=True)
class NoticePreview:
    """What :func:`notify_affected` would send with the same content now: the message each person would read, and
    counts only (no personal values)."""

    incident_id: int
    channel: str
    subject: str
    body: str
    affected: int
    to_queue: int
    already_notified: int
    unreachable: int
    announcement: str | None


class NoticeText(TypedDict, total=False):
    """What a breach notice says, one argument per content item of :data:`CONTENT_FIELDS` (each empty when not
    given); :func:`preview_notice` and :func:`notify_affected` take the same."""

    what_happened: str
    possible_impact: str
    measures: str
    advice: str
    remedies: str


def _given(text: NoticeText) -> dict[str, str]:
    args = [arg for arg, _ in CONTENT_FIELDS.values()]
    for arg in text:
        if arg not in args:
            raise TypeError(f"unexpected keyword argument {arg!r}")
    given: dict[str, str] = {}
    for arg in args:
        value: object = text.get(arg, "")
        if not isinstance(value, str):
            raise BadValueError(f"{arg} must be text, not {type(value).__name__}")
        given[arg] = value
    return given


def _fallback(eng: PolicyEngine, impractical: bool) -> str:
    breach = eng.pack.breach
    fallback = "unspecified" if isinstance(breach, str) else breach.fallback_when_individual_notice_impractical
    if impractical and fallback != "public_announcement":
        raise BadValueError(f"pack {eng.pack.id} promises no public announcement when individual notice is "
                            "impractical; notify people individually", kind="notice_no_announcement")
    return str(fallback)


def _checked(eng: PolicyEngine, given: dict[str, str], channel: str, impractical: bool
             ) -> tuple[list[tuple[str, str]], str]:
    """A notice's content and channel checked against the pack's breach rules: (its items, the pack's fallback)."""
    items = _content(eng, given)
    _check_channel(eng, channel)
    return items, _fallback(eng, impractical)


def preview_notice(
    eng: PolicyEngine,
    incident_id: int,
    *,
    channel: str = "email",
    impractical: bool = False,
    now: dt.datetime | None = None,
    **text: Unpack[NoticeText],
) -> NoticePreview:
    """The breach notice :func:`notify_affected` would send, checked against the pack's breach rules (required
    content, channels, the public announcement fallback) the same way, and who it would reach; writes nothing."""
    now = eng.clock.at(now)
    items, fallback = _checked(eng, _given(text), channel, impractical)
    with eng.db.connect() as conn:
        plan = _plan(conn, eng, incident_id, channel, impractical, now)
    inc = plan.incident
    announcement = _announcement(eng, inc, items, len(plan.affected)) if plan.announces(fallback) else None
    lang = language_of_pack(eng.pack.language)  # what a person whose language we do not know reads
    return NoticePreview(incident_id, channel, _subject(inc, lang), _body(eng, inc, items, lang), len(plan.affected),
                         len(plan.reachable), plan.already_notified, plan.unreachable, announcement)


@dataclass(frozen=True)
class _Plan:
    """Whom one breach notice run reaches: the same for :func:`preview_notice` and :func:`notify_affected`."""

    incident: IncidentRow
    affected: list[str]
    already_notified: int
    """Affected people already sent this incident's notice through this channel."""
    reachable: list[tuple[str, str]]
    """(pseudonymous id, address) of each affected person still to notify who can be reached."""
    unreachable: int
    impractical: bool

    def announces(self, fallback: str) -> bool:
        """Is the public announcement due: individual notice impractical or someone unreachable, and the pack's
        fallback is an announcement?"""
        return bool(self.impractical or self.unreachable) and fallback == "public_announcement"


def _plan(conn: Connection, eng: PolicyEngine, incident_id: int, channel: str, impractical: bool, now: dt.datetime,
          *, lock: bool = False) -> _Plan:
    """The incident (its row locked with ``lock``), who it affected, and whom of them a notice through ``channel``
    would reach now (no one when individual notice is ``impractical``)."""
    inc = _incident(conn, eng, incident_id, lock=lock)
    affected = _affected(conn, eng, inc, now)
    done = incident_store.notified_subjects(conn, incident_id, channel)
    reachable: list[tuple[str, str]] = []
    unreachable = 0
    for sid in ([] if impractical else affected):
        if sid in done:
            continue
        to = _address(conn, eng, sid, channel)
        if to is None:
            unreachable += 1
        else:
            reachable.append((sid, to))
    return _Plan(inc, affected, len(done & set(affected)), reachable, unreachable, impractical)


def _subject(inc: IncidentRow, language: str = "en") -> str:
    _ = gettext_for(language)
    return _("Security incident notice (%(reference)s)", reference=inc.reference)


def notify_affected(
    eng: PolicyEngine,
    incident_id: int,
    *,
    channel: str = "email",
    impractical: bool = False,
    actor: str = "security_officer",
    now: dt.datetime | None = None,
    **text: Unpack[NoticeText],
) -> NoticeRun:
    """Tell every affected, reachable person about an incident (once), and announce it publicly where individual
    notice is impractical and the pack promises that fallback. One transaction; audited with counts only."""
    now = eng.clock.at(now)
    given = _given(text)
    items, fallback = _checked(eng, given, channel, impractical)
    topic = f"incident:{incident_id}"
    try:
        with eng.db.begin() as conn:
            # the incident's row is locked: concurrent runs for one incident take turns
            plan = _plan(conn, eng, incident_id, channel, impractical, now, lock=True)
            inc = plan.incident
            written: dict[str, tuple[str, str]] = {}  # by language: the person's last used, else the pack's
            for sid, to in plan.reachable:
                lang = language_store.of_subject(conn, eng.keys, sid) or language_of_pack(eng.pack.language)
                if lang not in written:
                    written[lang] = (_subject(inc, lang), _body(eng, inc, items, lang))
                subject, body = written[lang]
                mid = enqueue_to_person(conn, eng.keys, kind="breach_notice", channel=channel, to=to, subject=subject,
                                        body=body, now=now, extra={"incident": incident_id})
                incident_store.add_notice(conn, incident_id, kind="individual", subject_id=sid, channel=channel,
                                          outbox_id=mid, created_at=now)
                message_store.log_message(conn, pack_id=eng.pack.id, subject_id=sid, kind="breach_notice",
                                          channel=channel, topic=topic, outbox_id=mid, created_at=now)
            queued, unreachable = len(plan.reachable), plan.unreachable
            announcement = None
            if plan.announces(fallback):
                announcement = _announcement(eng, inc, items, len(plan.affected))
                if not incident_store.has_announcement(conn, incident_id):
                    incident_store.add_notice(conn, incident_id, kind="announcement", subject_id="", channel="public",
                                              outbox_id=None, created_at=now)
                    message_store.log_message(conn, pack_id=eng.pack.id, subject_id="", kind="announcement",
                                              channel="public", topic=topic, outbox_id=None, created_at=now)
            run = NoticeRun(incident_id, channel, len(plan.affected), queued, plan.already_notified, unreachable,
                            announcement)
            audit.record(conn, kind="incident", actor=actor, at=now, pack_version=eng.compiled.version,
                         promises=_breach_promises(eng),
                         detail={"incident": incident_id, "event": "notified", "channel": channel,
                                 "affected": run.affected, "queued": queued, "already_notified": run.already_notified,
                                 "unreachable": unreachable, "impractical": impractical,
                                 "announcement": announcement is not None,
                                 "content": sorted(arg for arg, v in given.items() if v.strip())})
    except IntegrityError:
        raise BadValueError(f"incident {incident_id}: another run is notifying the same people; run it again "
                            "once that one has finished", kind="notice_busy", incident=incident_id) from None
    return run


def _address(conn: Connection, eng: PolicyEngine, sid: str, channel: str) -> str | None:
    if channel == "email":
        return eng.email_of_subject(conn, sid)
    # push: addressed to the pseudonymous id (see PUSH_NOTE); reachable while the person's data is held
    row = people_store.by_id(conn, sid)
    return sid if row is not None and row.wrapped_key is not None and not eng.keys.is_shredded(sid) else None


def _timing(conn: Connection, inc: IncidentRow) -> dict[str, Any]:
    opened = utc(inc.opened_at)
    times = incident_store.notice_times(conn, inc.id)
    count, delivered = times.count, times.delivered
    first, last, last_sent = (None if v is None else utc(v)
                              for v in (times.first_queued_at, times.last_queued_at, times.last_delivered_at))

    def since(at: dt.datetime | None) -> float | None:
        return None if at is None else (at - opened).total_seconds()

    return {"opened_at": opened.isoformat(), "notices": int(count), "delivered": int(delivered),
            "first_queued_at": _iso(first), "last_queued_at": _iso(last),
            "last_delivered_at": _iso(last_sent) if count and delivered == count else None,
            "seconds_to_first_queued": since(first), "seconds_to_all_queued": since(last),
            "seconds_to_all_delivered": since(last_sent) if count and delivered == count else None}


def notice_timing(eng: PolicyEngine, incident_id: int) -> dict[str, Any]:
    """The time from the incident record to its individual notices being queued and to the last one delivered
    (``seconds_to_all_delivered`` is None while any is undelivered)."""
    with eng.db.connect() as conn:
        return _timing(conn, _incident(conn, eng, incident_id))


def regulator_report(eng: PolicyEngine, incident_id: int, *, record: bool = True, actor: str = "security_officer",
                     now: dt.datetime | None = None) -> dict[str, Any]:
    """The incident and its handling for the regulator: record, window, systems, categories, people affected,
    notices and when, announcement, steps, liability. No personal values. With ``record`` the report is noted
    (an ``incident_notices`` row of kind ``regulator``) and audited, in one transaction."""
    now = eng.clock.at(now)
    with eng.db.begin() if record else eng.db.connect() as conn:
        inc = _incident(conn, eng, incident_id)
        affected = _affected(conn, eng, inc, now)
        notices = incident_store.notice_counts(conn, incident_id)
        by_channel = {n.channel: n.count for n in notices if n.kind == "individual"}
        announced = [_iso(n.first_at) for n in notices if n.kind == "announcement"]
        reported = [_iso(n.first_at) for n in notices if n.kind == "regulator"]
        report: dict[str, Any] = {
            "pack": eng.pack.id,
            "pack_version": eng.compiled.version,
            "incident": {"id": inc.id, "reference": inc.reference, "status": inc.status,
                         "opened_at": _iso(inc.opened_at), "closed_at": _iso(inc.closed_at)},
            "window": {"started_at": _iso(inc.started_at), "ended_at": _iso(inc.ended_at)},
            "systems": list(inc.systems),
            "categories": list(inc.categories),
            "people_affected": len(affected),
            "notices": {"individual": sum(by_channel.values()), "by_channel": by_channel,
                        "timing": _timing(conn, inc)},
            "announcement": {"made": bool(announced), "at": announced[0] if announced else None},
            "steps": [{"step": s["step"], "at": s["at"], "reference": s["reference"]} for s in inc.steps],
            "harm_to_subjects": bool(inc.harm_to_subjects),
            "liability": bool(inc.liability),
            "previously_reported_at": reported[0] if reported else None,
            "reported_at": _iso(now),
            "promises": list(_breach_promises(eng)),
        }
        if record:
            if not reported:
                incident_store.add_notice(conn, incident_id, kind="regulator", subject_id="", channel="report",
                                          outbox_id=None, created_at=now)
            audit.record(conn, kind="incident", actor=actor, at=now, pack_version=eng.compiled.version,
                         promises=_breach_promises(eng),
                         detail={"incident": incident_id, "event": "regulator_report",
                                 "people_affected": len(affected), "individual_notices": sum(by_channel.values()),
                                 "announcement": bool(announced), "first": not reported})
    return report
