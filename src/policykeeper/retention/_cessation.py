"""The end of the service: the shutdown event and the notices that tell people of it."""

from __future__ import annotations

import datetime as dt

from .. import audit
from .._exceptions import BadValueError, ConfigError
from ..engine import PolicyEngine
from ..store import lifecycle as lifecycle_store
from ..store import messages as message_store
from ..store import people as people_store
from ._events import _event


def cease_service(eng: PolicyEngine, *, at: dt.datetime, reference: str, announcement: str, actor: str = "admin",
                  now: dt.datetime | None = None) -> int:
    """Record that the service shuts down at ``at`` and tell people through every channel the pack's cessation rule
    names: an ``announcement`` is recorded for everyone, ``push`` and ``email`` put one message per reachable person
    in the outbox. A channel with no transport (e.g. ``sms``) fails the whole call, naming it, before anything is
    written. Its data falls to the pack's cessation rule from ``at`` on, through the deletion service.
    ``announcement`` is the public text (no personal data)."""
    now = eng.clock.at(now)
    rule = eng.pack.service_cessation
    if isinstance(rule, str):
        raise ConfigError(f"the {eng.pack.id} pack says nothing about a shutdown; there is no cessation rule to apply")
    if not reference.strip() or len(reference) > 120:
        raise BadValueError("reference must be a decision or ticket id (1 to 120 characters)")
    if not announcement.strip():
        raise BadValueError("a shutdown needs the announcement users will see")
    from ..i18n import gettext_for, language_of_pack
    from ..notify import PUBLIC_CHANNELS, enqueue_to_person, require_transports
    from ..store import languages as language_store

    channels = list(dict.fromkeys(rule.notify_channels))
    require_transports(channels, f"the {eng.pack.id} pack's shutdown notice ({', '.join(rule.promises)})")
    text = announcement.strip()
    with eng.db.begin() as conn:
        eid = _event(eng, conn, "service_ceased", None, None, at, actor, rule.promises,
                     {"reference": reference.strip(), "recorded_at": now.isoformat(), "channels": channels})
        topic = f"service_ceased:{eid}"
        people = [s for s in people_store.subjects_with_keys(conn, eng.pack.id) if not eng.keys.is_shredded(s)]
        sent: dict[str, dict[str, int]] = {}
        for channel in channels:
            if channel in PUBLIC_CHANNELS:
                message_store.log_message(conn, pack_id=eng.pack.id, subject_id="", kind="announcement",
                                          channel=channel, topic=topic, outbox_id=None, created_at=now)
                sent[channel] = {"queued": 1, "unreachable": 0}
                continue
            queued = unreachable = 0
            for sid in people:
                to = eng.email_of_subject(conn, sid) if channel == "email" else sid  # push: the pseudonymous id
                if not to:
                    unreachable += 1
                    continue
                _ = gettext_for(language_store.of_subject(conn, eng.keys, sid) or language_of_pack(eng.pack.language))
                mid = enqueue_to_person(conn, eng.keys, kind="service_notice", channel=channel, to=to,
                                        subject=_("%(controller)s: the service is shutting down",
                                                  controller=eng.pack.controller.legal_name),
                                        body=text + "\n", now=now, extra={"event": eid})  # the operator's words
                message_store.log_message(conn, pack_id=eng.pack.id, subject_id=sid, kind="service", channel=channel,
                                          topic=topic, outbox_id=mid, created_at=now)
                queued += 1
            sent[channel] = {"queued": queued, "unreachable": unreachable}
        lifecycle_store.set_event_detail(conn, eid, {
            "reference": reference.strip(), "recorded_at": now.isoformat(), "announcement": text,
            "channels": channels, "notices": sent})
        audit.record(conn, kind="service_notice", actor=actor, at=now, pack_version=eng.compiled.version,
                     promises=rule.promises, detail={"event": eid, "notices": sent})
        return eid
