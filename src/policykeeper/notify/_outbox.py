"""The outbox: messages to recipients (such as "erase this person too"), delivered with retries.

A message is written in the same transaction as the decision that calls for it, encrypted under a key of its own.
Delivery runs apart and can be re-run at any time, by several workers at once. Each message goes out at most once:

1. it is *claimed*: ``pending`` becomes ``sending`` in a transaction that commits before anything is sent, so no
   other worker (nor a re-run after a crash) takes it again;
2. it is sent, carrying an idempotency key (:func:`message_key`: the email's ``Message-ID``, a webhook's
   ``Idempotency-Key``), the same on every attempt of that message;
3. its id (``msg:ID``) is appended to the keystore's erasure journal, durably, *before* the transaction that marks
   it ``sent`` and destroys its key (so the personal values it carried are gone).

A failure is counted and the message retried later with a growing delay; after ``MAX_ATTEMPTS`` it is dead-lettered
for a person to look at. A message still ``sending`` when its lease (:data:`LEASE`) runs out belonged to a process
that died: if its id is in the journal it was delivered and is marked ``sent``; if not, whether it went out is
unknown (the process died between the claim and the journal: before, during or just after the hand-over to the
mail server). It is then ``unsure``: never re-sent by itself (SMTP has no idempotency), listed with the dead
letters, and sent again only when a person asks (:func:`requeue`). The audit log records each step without content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection

from .. import audit
from .._exceptions import BadValueError, ConfigError, PolicykeeperError
from ..clock import Clock, system, utc
from ..crypto import KeyRing, decrypt, encrypt, new_data_key, unwrap_data_key, wrap_data_key
from ..store import messages as outbox_store

__all__ = ["LEASE", "MAX_ATTEMPTS", "PERSON", "PERSON_CHANNELS", "PUBLIC_CHANNELS", "EmailTransport",
           "RecipientTransport", "RoutedTransport", "WebhookTransport", "dead_letters", "deliver", "enqueue",
           "enqueue_to_person", "message_key", "require_transports", "requeue"]

MAX_ATTEMPTS = 6
"""Failed deliveries before a message is dead-lettered; the delay doubles from one minute."""

LEASE = dt.timedelta(minutes=5)
"""How long a claimed message may stay ``sending``; longer means its worker died (sends time out after 10 s)."""


PERSON = "person"
"""The outbox recipient id of a message to a person; the message itself carries ``to``, ``channel``, ``subject``
and ``body`` (see :func:`enqueue_to_person`)."""


class RecipientTransport(Protocol):
    """Delivers one message to one recipient (raises on failure)."""

    def send(self, recipient: str, message: Mapping[str, Any]) -> None: ...


def _delivery_error(text: str) -> ConfigError:
    return ConfigError(text)


@dataclass(frozen=True)
class EmailTransport:
    """Recipients reached by email: ``addresses`` maps recipient ids to their privacy contact address."""

    mailer: Any
    addresses: Mapping[str, str] = field(default_factory=dict)

    def send(self, recipient: str, message: Mapping[str, Any]) -> None:
        to = self.addresses.get(recipient)
        if not to:
            raise _delivery_error(f"no address configured for recipient {recipient!r}")
        self.mailer.send(to, f"{message.get('subject', 'A request about personal data')} ({message.get('request', '')})",
                         json.dumps(message, indent=2, ensure_ascii=False), **_key_of(message))


@dataclass(frozen=True)
class WebhookTransport:
    """Recipients reached by an HTTPS webhook: ``urls`` maps recipient ids to the URL that takes a JSON POST."""

    urls: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    def send(self, recipient: str, message: Mapping[str, Any]) -> None:
        url = self.urls.get(recipient)
        if not url:
            raise _delivery_error(f"no webhook configured for recipient {recipient!r}")
        headers = {"Content-Type": "application/json"}
        if message.get("message_id"):
            headers["Idempotency-Key"] = str(message["message_id"])
        req = urllib.request.Request(url, data=json.dumps(message).encode(), method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (configured URLs only)
                if resp.status >= 300:
                    raise _delivery_error(f"webhook answered {resp.status}")
        except (urllib.error.URLError, OSError) as exc:
            raise _delivery_error(f"webhook unreachable: {type(exc).__name__}") from None


@dataclass(frozen=True)
class RoutedTransport:
    """Each recipient by its own route: a webhook where one is configured, else email."""

    mailer: Any
    routes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def send(self, recipient: str, message: Mapping[str, Any]) -> None:
        if recipient == PERSON:
            _to_person(self.mailer, self.routes, message)
            return
        route = self.routes.get(recipient, {})
        if route.get("webhook"):
            WebhookTransport({recipient: route["webhook"]}).send(recipient, message)
        else:
            EmailTransport(self.mailer, {recipient: route.get("email", "")}).send(recipient, message)

    @staticmethod
    def from_file(path: Path, mailer: Any) -> RoutedTransport:
        """Routes from a YAML file: ``recipient_id: {email: ADDRESS}`` or ``{webhook: URL}``."""
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read recipient routes: {type(exc).__name__}") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise ConfigError(f"{path}: expected 'recipient_id: {{email: ADDRESS}}' or '{{webhook: URL}}' entries")
        for rid, route in data.items():
            unknown = set(route) - {"email", "webhook"}
            if unknown:
                raise ConfigError(f"{path}: {rid}: unknown key(s) {', '.join(sorted(unknown))} (email, webhook)")
        return RoutedTransport(mailer, {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.items()})


PERSON_CHANNELS = ("email", "push")
"""Channels the outbox can reach a person through: email over SMTP, push as a webhook (route ``push``)."""


PUBLIC_CHANNELS = ("announcement", "page", "website", "in_app", "prominent_notice", "version_update_prompt",
                   "other_appropriate_means")
"""Channels that reach everyone at once (an announcement, the policy page, a notice in the app): the notice is
recorded once (``message_log``, subject '') and published by the operator; no per-person transport is needed."""


def require_transports(channels: tuple[str, ...] | list[str], what: str) -> None:
    """Refuse, before anything is written, a notice whose pack names a channel the outbox has no transport for:
    every channel the pack names is used, or the operation fails naming the one it cannot use."""
    missing = [c for c in channels if c not in PERSON_CHANNELS and c not in PUBLIC_CHANNELS]
    if missing:
        raise ConfigError(f"{what} must go out through {', '.join(repr(c) for c in missing)}, and policykeeper has no "
                          f"transport for {'it' if len(missing) == 1 else 'them'}: the outbox reaches people by "
                          f"{', '.join(PERSON_CHANNELS)} and publishes {', '.join(PUBLIC_CHANNELS)}s; nothing was sent")


def _to_person(mailer: Any, routes: Mapping[str, Mapping[str, str]], message: Mapping[str, Any]) -> None:
    channel, to = message.get("channel"), str(message.get("to") or "")
    if channel == "email":
        if not to:
            raise _delivery_error("the message names no email address")
        mailer.send(to, str(message.get("subject", "")), str(message.get("body", "")), **_key_of(message))
    elif channel == "push":
        url = routes.get("push", {}).get("webhook", "")
        if not url:
            raise _delivery_error("no push webhook configured (route 'push')")
        WebhookTransport({PERSON: url}).send(PERSON, message)
    else:
        raise _delivery_error(f"the outbox cannot reach people through {channel!r}; it can through "
                              + ", ".join(PERSON_CHANNELS))


def _key_of(message: Mapping[str, Any]) -> dict[str, str]:
    key = message.get("message_id")
    return {"message_id": str(key)} if key else {}


def message_key(keys: KeyRing, message_id: int) -> str:
    """The idempotency key of one outbox message: the same on every attempt, unguessable, no personal data."""
    tag = hmac.new(keys.derive_key("outbox-message-id"), str(message_id).encode(), hashlib.sha256).hexdigest()[:20]
    return f"pk-{message_id}-{tag}"


def enqueue_to_person(conn: Connection, keys: KeyRing, *, kind: str, channel: str, to: str, subject: str, body: str,
                      now: dt.datetime, extra: Mapping[str, Any] | None = None) -> int:
    """Write one message to a person (email address or push token in ``to``) inside the caller's transaction.

    The address and the text are encrypted under the message's own key, destroyed once it is delivered."""
    if channel not in PERSON_CHANNELS:
        raise ConfigError(f"the outbox cannot reach people through {channel!r}; it can through "
                          + ", ".join(PERSON_CHANNELS))
    message = {**(extra or {}), "channel": channel, "to": to, "subject": subject, "body": body}
    return enqueue(conn, keys, kind=kind, recipient=PERSON, message=message, request_ref=None, now=now)


def enqueue(conn: Connection, keys: KeyRing, *, kind: str, recipient: str, message: Mapping[str, Any],
            request_ref: str | None, now: dt.datetime) -> int:
    """Write one message inside the caller's transaction; returns its id."""
    key, master = new_data_key(), keys.current
    mid = outbox_store.add_message(conn, kind=kind, request_ref=request_ref, recipient=recipient, kek_id=master.id,
                                   now=now)
    outbox_store.seal(conn, mid, wrapped_key=wrap_data_key(master, key, f"msg:{mid}"),
                      payload=encrypt(key, json.dumps(dict(message)).encode(), f"msg:{mid}|payload"))
    return mid


def deliver(db: Any, keys: KeyRing, transport: RecipientTransport, *, pack_version: str | None = None,
            now: dt.datetime | None = None, actor: str = "worker", only: Collection[int] | None = None,
            clock: Clock = system) -> dict[str, int]:
    """Try every pending message that is due (or only the ``only`` ids); first settle the claims of dead workers.
    ``now`` (default: ``clock``'s time) is the time of the run.

    Returns counts: sent, retry (failed, tried again later), dead (dead-lettered) and unsure (a dead worker's message
    that may or may not have gone out; never re-sent by itself)."""
    now = clock.at(now)
    counts = {"sent": 0, "retry": 0, "dead": 0, "unsure": 0}
    _settle_stale_claims(db, keys, now, counts, pack_version, actor)
    with db.connect() as conn:
        due = [m.id for m in outbox_store.pending(conn, only) if utc(m.next_attempt_at) <= now]
    for mid in due:
        with db.begin() as conn:  # the claim commits before anything is sent
            row = outbox_store.claim(conn, mid, lease_until=now + LEASE)
        if row is None:
            continue  # another worker took it
        message = json.loads(decrypt(unwrap_data_key(keys.get(row.kek_id), row.wrapped_key, f"msg:{row.id}"),
                                     row.payload, f"msg:{row.id}|payload"))
        key = message_key(keys, row.id)
        try:
            transport.send(row.recipient, {**message, "message_id": key})
        except (PolicykeeperError, OSError) as exc:
            dead = row.attempts >= MAX_ATTEMPTS
            error = str(exc)[:200] if isinstance(exc, PolicykeeperError) else type(exc).__name__
            with db.begin() as conn:
                outbox_store.failed(conn, row.id, dead=dead, error=error,
                                    next_attempt_at=now + dt.timedelta(minutes=2 ** (row.attempts - 1)))
                audit.record(conn, kind="outbox", actor=actor, at=now, pack_version=pack_version,
                             detail={"message": row.id, "recipient": row.recipient, "event": "dead" if dead else "retry",
                                     "attempts": row.attempts})
            counts["dead" if dead else "retry"] += 1
            continue
        keys.record_shredded(f"msg:{row.id}")  # the journal of delivered ids, durable before the commit
        with db.begin() as conn:
            _mark_sent(conn, row.id, row.recipient, key, now, pack_version, actor, recovered=False)
        counts["sent"] += 1
    return counts


def _mark_sent(conn: Connection, mid: int, recipient: str, key: str, now: dt.datetime, pack_version: str | None,
               actor: str, *, recovered: bool) -> None:
    outbox_store.mark_sent(conn, mid, now=now)
    detail: dict[str, Any] = {"message": mid, "recipient": recipient, "event": "sent", "message_id": key}
    if recovered:
        detail["recovered"] = True
    audit.record(conn, kind="outbox", actor=actor, at=now, pack_version=pack_version, detail=detail)


def _settle_stale_claims(db: Any, keys: KeyRing, now: dt.datetime, counts: dict[str, int], pack_version: str | None,
                         actor: str) -> None:
    """Claims whose lease ran out: journalled means delivered (mark it sent); not journalled means unknown."""
    with db.connect() as conn:
        stale = [c for c in outbox_store.sending(conn) if utc(c.next_attempt_at) <= now]
    for r in stale:
        delivered = keys.is_shredded(f"msg:{r.id}")
        with db.begin() as conn:
            if not outbox_store.settle_claim(conn, r.id, lease=r.next_attempt_at,
                                             status="sent" if delivered else "unsure"):
                continue  # settled by another worker, or its owner finished meanwhile
            if delivered:
                _mark_sent(conn, r.id, r.recipient, message_key(keys, r.id), now, pack_version, actor, recovered=True)
                counts["sent"] += 1
            else:
                outbox_store.unsure(conn, r.id, error="unsure: the worker died while sending; not re-sent without a person")
                audit.record(conn, kind="outbox", actor=actor, at=now, pack_version=pack_version,
                             detail={"message": r.id, "recipient": r.recipient, "event": "unsure"})
                counts["unsure"] += 1


def requeue(db: Any, message_id: int, *, actor: str = "operator", now: dt.datetime | None = None,
            clock: Clock = system) -> None:
    """Send a dead-lettered or ``unsure`` message again (a person decided to), with its same idempotency key."""
    now = clock.at(now)
    with db.begin() as conn:
        row = outbox_store.message(conn, message_id)
        if row is None or row.status not in ("dead", "unsure") or row.payload is None:
            raise BadValueError(f"message {message_id} is not a dead letter or an unsure message"
                                + (f" (it is {row.status})" if row is not None else ""))
        outbox_store.requeue(conn, message_id, now=now)
        audit.record(conn, kind="outbox", actor=actor, at=now,
                     detail={"message": message_id, "recipient": row.recipient, "event": "requeued",
                             "was": row.status})


def dead_letters(db: Any) -> list[dict[str, Any]]:
    """Messages that need a person (no content): dead-lettered, or ``unsure`` whether they went out."""
    with db.connect() as conn:
        return [asdict(r) for r in outbox_store.dead_letters(conn)]
