"""What every step of a request shares: the service's setup, reading a request, its key and reply address, its audit
entries, the checks before anything is fulfilled, and the "done" message queued with the step that closes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from .. import audit
from .._exceptions import BadValueError
from ..connectors import DatasetMap
from ..crypto import decrypt, unwrap_data_key
from ..engine import PolicyEngine
from ..i18n import known, language_of_pack
from ..notify import Mailer, RoutedTransport, deliver, enqueue_to_person
from ..pack._rights import VerificationRule
from ..pack._types import FixedDuration
from ..store import languages as language_store
from ..store import requests_repo as request_store
from ..store.requests_repo import Request
from . import _letters
from ._content import unseal
from ._deadlines import deadline_rule, due

CODE_TTL = dt.timedelta(minutes=15)
"""How long a one-time code is valid."""
MAX_ATTEMPTS = 5
"""Wrong codes allowed before the code is spent and a new one must be asked for."""
KINDS = ("rights_request", "general_question", "complaint")
OPEN = request_store.OPEN
VERIFIED = ("verified", "extended", "fulfilled")
"""The statuses in which a request's identity is verified (a fulfilled one may be fulfilled again, harmlessly)."""


@dataclass(frozen=True)
class Ticket:
    """What the person is told on submission: the reference and the deadline."""

    ref: str
    status: str
    due_at: dt.datetime | None
    deadline: str
    fee: str = "none"
    """none (free), cost (charged at cost: the pack says it will), or may_charge_cost (staff decide)."""
    unsent: str = ""
    """Why the code could not be emailed (the mail server refused or was down), or "" if it went or none was due:
    the request is recorded all the same, and ``resend_code`` sends a fresh code later."""


MISMATCH = {
    "not_held": "the request's address does not match the person on record",
    "no_person": "there is no person on record to match the request's address with",
    "no_address": "no address is held for the person to match the request's address with",
    "unknown": "the request was received before addresses were matched",
}


def address_match(row: Request) -> str:
    """matched, not_held, no_address, no_person, or unknown (recorded when the request was received)."""
    got = row.detail.get("address_match") if isinstance(row.detail, dict) else None
    return str(got) if got in ("matched", "not_held", "no_address", "no_person") else "unknown"


class _Base:
    """Requests against one engine's pack, database and keystore; emails go through ``mailer``."""

    def __init__(self, engine: PolicyEngine, mailer: Mailer, *, repeat_limit: int = 3,
                 repeat_window: dt.timedelta = dt.timedelta(days=365),
                 databases: tuple[tuple[DatasetMap, Engine], ...] = (),
                 deadlines: Mapping[str, FixedDuration] | None = None) -> None:
        """``repeat_limit`` requests for the same right within ``repeat_window`` are "reasonable" where the pack
        leaves the number to the operator (``repeat_threshold: reasonable_limit``); a number in the pack wins, and a
        pack silent on repeats (``unspecified``) never charges for them. Beyond the limit the pack's fee applies."""
        if repeat_limit < 1:
            raise BadValueError("repeat_limit must be at least 1")
        self.engine = engine
        self.mailer = mailer
        self.pack = engine.pack
        self.repeat_limit, self.repeat_window = repeat_limit, repeat_window
        self.databases = databases
        """The company's own databases (a dataset map and an engine each): access and erasure reach them too."""
        self.deadlines = dict(deadlines or {})
        """Numbers for deadlines the pack leaves to the law (``per_applicable_law``): by deadline rule id or by the
        pack's word; the operator states what the applicable law requires (``HOME/requests.yaml``)."""

    center_url: str | None = None
    """The privacy center's public address (set by the web server): an "export ready" email links to where the
    person downloads it once signed in."""

    def _due(self, kind: str, start: dt.datetime, stage: str) -> tuple[dt.datetime | None, str]:
        return due(self.pack, self.deadlines, kind, start, stage)

    def _audit(self, conn: Connection, event: str, row: Request, actor: str, now: dt.datetime,
               extra: dict[str, object] | None = None) -> None:
        rule = deadline_rule(self.pack, row.kind)
        promises = tuple(rule.promises) if rule is not None else ()
        audit.record(conn, kind="request", actor=actor, subject_id=row.subject_id, at=now,
                     pack_version=row.pack_version, promises=promises,
                     detail={"request": row.ref, "event": event, "right": row.right, **(extra or {})})

    def _verification(self) -> VerificationRule | None:
        handling = self.pack.requests
        return None if isinstance(handling, str) or isinstance(handling.verification, str) else handling.verification

    def contact_for(self, handles: str = "rights_requests") -> list[str]:
        """Where the person sends this kind of message, as the pack names it ('rights_requests', 'questions',
        'complaints', 'corrections', 'account_cancellation'); [] where the policy gives no contact."""
        contacts = self.pack.contacts
        if isinstance(contacts, str) or contacts.status == "missing":
            return []
        return [c.value for c in contacts.channels if handles in c.handles]

    def complaint_route(self, language: str | None = None) -> str:
        """What the person is told, with an outcome, about complaining (where the pack says so), in ``language``
        (the pack's by default)."""
        contacts, handling = self.pack.contacts, self.pack.requests
        authorities = () if isinstance(contacts, str) or isinstance(contacts.complaints, str) \
            else contacts.complaints.external_authorities
        told = not isinstance(handling, str) and handling.outcome_includes_complaint_route is True
        if not authorities and not any(not isinstance(r, str) and r.type == "complain_authority"
                                       for r in (() if isinstance(self.pack.rights, str) else self.pack.rights)):
            return ""
        return _letters.complaint_words(language or language_of_pack(self.pack.language), authorities, told)

    def _language(self, row: Request) -> str:
        """The language the person made the request in (every mail about it is written in it); the pack's where
        none was said, or once the request's key is gone."""
        said = None
        if row.language is not None and row.wrapped_key is not None and row.kek_id is not None \
                and not self.engine.keys.is_shredded(f"req:{row.ref}"):
            key = unwrap_data_key(self.engine.keys.get(row.kek_id), row.wrapped_key, f"req:{row.ref}")
            said = known(language_store.unsealed(key, row.ref, row.language))
        return said or language_of_pack(self.pack.language)

    def _remember_language(self, conn: Connection, row: Request) -> None:
        """Once a request proves who made it (its code, or a signed-in session), the language it was made in is the
        one notices to many people (a breach, a policy change) are written in for that person; an unproven request
        changes nothing, so no one else can choose it."""
        if row.language is not None and row.subject_id is not None and not (
                isinstance(row.detail, dict) and row.detail.get("agent")):
            language_store.remember_for_subject(conn, self.engine.keys, row.subject_id, self._language(row))

    def _row(self, conn: Connection, ref: str, *, lock: bool = False) -> Request:
        row = request_store.find(conn, self.pack.id, ref, lock=lock)
        if row is None:
            raise BadValueError(f"no request {ref!r}")
        return row

    def _key(self, row: Request) -> bytes | None:
        if row.wrapped_key is None or row.kek_id is None or self.engine.keys.is_shredded(f"req:{row.ref}"):
            return None
        return unwrap_data_key(self.engine.keys.get(row.kek_id), row.wrapped_key, f"req:{row.ref}")

    def _contact(self, row: Request) -> str | None:
        key = None if row.contact is None else self._key(row)
        return None if key is None or row.contact is None else decrypt(key, row.contact,
                                                                       f"req:{row.ref}|contact").decode()

    def _said(self, row: Request) -> dict[str, Any]:
        key = self._key(row)
        return unseal(key, row.ref, row.content) if key is not None and row.content is not None else {}

    def _code_hash(self, ref: str, code: str) -> str:
        return self.engine.keys.lookup_hash(f"otp|{ref}|{code}")

    def _check_authority(self, row: Request) -> None:
        """A request made by an agent is fulfilled only once staff recorded the proof of their authority."""
        detail = row.detail if isinstance(row.detail, dict) else {}
        if detail.get("agent") and not detail.get("authority"):
            raise BadValueError(f"request {row.ref} was made by an agent: staff must record the proof of the agent's "
                                "authority (the person's signed permission) when verifying it, before it is fulfilled")

    def _verified(self, ref: str, rights: tuple[str, ...], what: str) -> Request:
        """The request, once it is one for ``rights`` (else "not ``what``"), its requester verified and, for an
        agent, their authority recorded."""
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if row.right not in rights:
            raise BadValueError(f"request {ref} is for {row.right!r}, not {what}")
        self._check_verified(row)
        return row

    def _check_verified(self, row: Request) -> None:
        if row.status not in VERIFIED:
            raise BadValueError(f"request {row.ref} is {row.status}: the requester's identity must be verified first")
        self._check_authority(row)

    def _identities(self, row: Request) -> dict[str, str]:
        """Who to look for in the company's databases: the request's address, or for a request made by an agent
        (whose address is the agent's) the latest address held for the person."""
        if isinstance(row.detail, dict) and row.detail.get("agent"):
            if row.subject_id is None:
                return {}
            with self.engine.db.connect() as conn:
                address = self.engine.email_of_subject(conn, row.subject_id)
        else:
            address = self._contact(row)
        return {"email": address} if address else {}

    def _tell_done(self, conn: Connection, row: Request, text: str, now: dt.datetime) -> int | None:
        """Queue the "done" message in the transaction that closes the request, so it exists once, whatever re-runs."""
        address = self._contact(row)
        if not address:
            return None
        language = self._language(row)
        return enqueue_to_person(conn, self.engine.keys, kind="request_done", channel="email", to=address,
                                 subject=_letters.done_subject(language, row.ref),
                                 body=text + self.complaint_route(language), now=now)

    def _send_now(self, message: int | None, now: dt.datetime) -> None:
        """Deliver one queued message right away, through the outbox (at most once; a failure is retried later)."""
        if message is not None:
            deliver(self.engine.db, self.engine.keys, RoutedTransport(self.mailer), only=(message,),
                    pack_version=self.engine.compiled.version, now=now, actor="engine")

    def _send(self, address: str | None, letter: tuple[str, str]) -> None:
        if address:
            self.mailer.send(address, *letter)

    def _fulfilled(self, conn: Connection, row: Request, actor: str, now: dt.datetime, outcome: dict[str, Any],
                   audited: dict[str, object] | None = None) -> None:
        """Close the request as fulfilled with its ``outcome`` (audited as ``audited``, else the outcome itself)."""
        request_store.close(conn, row.id, status="fulfilled", at=now, detail=outcome)
        self._audit(conn, "fulfilled", row, actor, now, outcome if audited is None else audited)
