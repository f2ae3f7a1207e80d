"""Data subject requests: received, identity verified by a one-time code over email, then fulfilled or refused.

A request is pinned to the pack version it was received under and gets its deadline from that pack (calendar or
business days, from receipt or from verification, as the pack says; symbolic deadlines such as "per applicable law"
are kept as words and not tracked as a date). The reply address is encrypted under a key of the request's own, so
erasing the person destroys it too. Every transition is one transaction and is audited without personal values;
every step can be run again after a crash without doing anything twice.

States: ``received`` -> ``verified`` -> ``fulfilled`` | ``refused``; ``extended`` pushes the deadline where the
pack allows it. A person signed in to the privacy center is already proven (their session was opened with a code
sent to an address held for them): their request is verified on receipt where the pack's verification rule accepts a
login, with no second code. What the person says with a request (:class:`RequestContent`) and staff notes are kept
encrypted under the request's key; the audit log holds every step and says only that they exist.
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import json
import os
import secrets
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from .. import audit
from .._exceptions import BadValueError, ConfigError
from ..clock import after, utc
from ..connectors import DatasetMap
from ..connectors import access as connector_access
from ..connectors import erase as connector_erase
from ..connectors._identity import normalise
from ..crypto import decrypt, encrypt, new_data_key, unwrap_data_key, wrap_data_key
from ..engine import PolicyEngine
from ..i18n import known, language_of_pack
from ..notify import Mailer, RoutedTransport, deliver, enqueue_to_person
from ..pack._types import FixedDuration
from ..store import languages as language_store
from ..store._schema import request_codes, requests, subjects
from . import _letters as letters
from ._content import MAX_NOTE, MAX_STAFF_NOTE, MAX_VALUE, RequestContent, mask_address, mask_value, seal, unseal
from ._queue import STATUSES, QueuePage, QueueQuery, TimelineEvent, days_left, query_queue, queue_item, timeline_entries

__all__ = ["CODE_TTL", "MAX_ATTEMPTS", "MAX_NOTE", "MAX_STAFF_NOTE", "MAX_VALUE", "STATUSES", "QueuePage", "QueueQuery",
           "RequestContent", "RequestService", "Ticket", "TimelineEvent", "load_deadlines", "mask_address",
           "mask_value"]

CODE_TTL = dt.timedelta(minutes=15)
"""How long a one-time code is valid."""
MAX_ATTEMPTS = 5
"""Wrong codes allowed before the code is spent and a new one must be asked for."""
KINDS = ("rights_request", "general_question", "complaint")
OPEN = ("received", "verified", "extended")


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


def load_deadlines(path: Path) -> dict[str, FixedDuration]:
    """``deadlines: {per_applicable_law: {value: 30, unit: calendar_days}}`` from ``path`` (HOME/requests.yaml): what
    the applicable law requires where the pack defers to it. A missing file means none."""
    from .._settings import durations, read_settings_file

    return durations(path, "deadlines", read_settings_file(path, ("deadlines",), "request settings")["deadlines"])


def _deadline_words(duration: object) -> str:
    if isinstance(duration, FixedDuration):
        return f"{duration.value} {duration.unit}" + (f" ({duration.qualifier})" if duration.qualifier else "")
    return str(duration)


class RequestService:
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
        self.deadlines = dict(deadlines or {})
        """Numbers for deadlines the pack leaves to the law (``per_applicable_law``): by deadline rule id or by the
        pack's word; the operator states what the applicable law requires (``HOME/requests.yaml``)."""
        """The company's own databases (a dataset map and an engine each): access and erasure reach them too."""

    center_url: str | None = None
    """The privacy center's public address (set by the web server): an "export ready" email links to where the
    person downloads it once signed in."""

    # -- helpers -------------------------------------------------------------------------------------------------
    def _deadline_rule(self, kind: str) -> Any:
        handling = self.pack.requests
        if isinstance(handling, str) or isinstance(handling.deadlines, str):
            return None
        return next((d for d in handling.deadlines if d.applies_to == kind), None)

    def _due(self, kind: str, start: dt.datetime, stage: str) -> tuple[dt.datetime | None, str]:
        rule = self._deadline_rule(kind)
        if rule is None:
            return None, "unspecified"
        duration = rule.duration
        words = _deadline_words(duration)
        if not isinstance(duration, FixedDuration):
            configured = self.deadlines.get(rule.id) or self.deadlines.get(str(duration))
            if configured is not None:
                duration, words = configured, f"{_deadline_words(configured)} (law, configured)"
        clock = rule.clock_start if rule.clock_start != "unspecified" else "receipt"
        if not isinstance(duration, FixedDuration) or clock != stage:
            return None, words
        return after(start, duration), words

    def _audit(self, conn: Connection, event: str, row: Any, actor: str, now: dt.datetime,
               extra: dict[str, object] | None = None) -> None:
        rule = self._deadline_rule(row.kind)
        promises = tuple(rule.promises) if rule is not None else ()
        audit.record(conn, kind="request", actor=actor, subject_id=row.subject_id, at=now,
                     pack_version=row.pack_version, promises=promises,
                     detail={"request": row.ref, "event": event, "right": row.right, **(extra or {})})

    def contact_for(self, handles: str = "rights_requests") -> list[str]:
        """Where the person sends this kind of message, as the pack names it ('rights_requests', 'questions',
        'complaints', 'corrections', 'account_cancellation'); [] where the policy gives no contact."""
        contacts = self.pack.contacts
        if isinstance(contacts, str) or contacts.status == "missing":
            return []
        return [c.value for c in contacts.channels if handles in c.handles]

    def fulfil_explanation(self, ref: str, decision_id: str, *, actor: str = "privacy_officer",
                           now: dt.datetime | None = None) -> str:
        """Explain one automated decision about the verified requester (the rules and promises behind it, from the
        audit log) and offer the remedy the pack promises; returns the explanation sent."""
        now = now or dt.datetime.now(dt.UTC)
        rule = self.pack.automated_decisions
        if isinstance(rule, str) or not rule.explanation_on_request:
            raise BadValueError("this policy promises no explanation of automated decisions")
        from ..store._schema import audit_log

        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
            entry = conn.execute(select(audit_log.c.at, audit_log.c.allowed, audit_log.c.detail, audit_log.c.promises,
                                        audit_log.c.subject_id).where(audit_log.c.decision_id == decision_id,
                                                                      audit_log.c.kind == "decision")).first()
        if row.right != "automated_decision_explanation":
            raise BadValueError(f"request {ref} is for {row.right!r}, not an explanation")
        if row.status not in ("verified", "extended", "fulfilled"):
            raise BadValueError(f"request {ref} is {row.status}: the requester's identity must be verified first")
        self._check_authority(row)
        if entry is None or row.subject_id is None or entry.subject_id != row.subject_id:
            raise BadValueError(f"no decision {decision_id!r} about this person")  # never someone else's
        language = self._language(row)
        title, text = letters.explanation_letter(
            language, ref, decision_id, utc(entry.at), bool(entry.allowed), entry.detail.get("action"),
            list(zip(entry.detail.get("codes", []), entry.detail.get("rules", []), strict=False)),
            list(entry.promises or ()), bool(rule.remedy))
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "fulfilled":
                conn.execute(update(requests).where(requests.c.id == row.id).values(
                    status="fulfilled", closed_at=now, detail={"decision": decision_id}))
                self._audit(conn, "fulfilled", row, actor, now, {"decision": decision_id})
            address = self._contact(row)
        if address:
            self.mailer.send(address, title, text + self.complaint_route(language))
        return text

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
        return letters.complaint_words(language or language_of_pack(self.pack.language), authorities, told)

    def _row(self, conn: Connection, ref: str, *, lock: bool = False) -> Any:
        stmt = select(requests).where(requests.c.ref == ref, requests.c.pack_id == self.pack.id)
        row = conn.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            raise BadValueError(f"no request {ref!r}")
        return row

    def _contact(self, row: Any) -> str | None:
        if row.wrapped_key is None or row.contact is None or self.engine.keys.is_shredded(f"req:{row.ref}"):
            return None
        key = unwrap_data_key(self.engine.keys.get(row.kek_id), row.wrapped_key, f"req:{row.ref}")
        return decrypt(key, row.contact, f"req:{row.ref}|contact").decode()

    def _language(self, row: Any) -> str:
        """The language the person made the request in (every mail about it is written in it); the pack's where
        none was said, or once the request's key is gone."""
        said = None
        if row.language is not None and row.wrapped_key is not None and not self.engine.keys.is_shredded(
                f"req:{row.ref}"):
            key = unwrap_data_key(self.engine.keys.get(row.kek_id), row.wrapped_key, f"req:{row.ref}")
            said = known(language_store.unsealed(key, row.ref, row.language))
        return said or language_of_pack(self.pack.language)

    def _remember_language(self, conn: Connection, row: Any) -> None:
        """Once a request proves who made it (its code, or a signed-in session), the language it was made in is the
        one notices to many people (a breach, a policy change) are written in for that person; an unproven request
        changes nothing, so no one else can choose it."""
        if row.language is not None and row.subject_id is not None and not (
                isinstance(row.detail, dict) and row.detail.get("agent")):
            language_store.remember_for_subject(conn, self.engine.keys, row.subject_id, self._language(row))

    def _code_hash(self, ref: str, code: str) -> str:
        return self.engine.keys.lookup_hash(f"otp|{ref}|{code}")

    # -- submit --------------------------------------------------------------------------------------------------
    def submit(self, external_id: str, right: str | None, *, email: str, kind: str = "rights_request",
               agent: bool = False, content: RequestContent | None = None, language: str | None = None,
               now: dt.datetime | None = None) -> Ticket:
        """Receive a request and email a one-time code to ``email``.

        The code goes out only if ``email`` is an address held for that person (or nothing is held about them at
        all); either way the answer is the same, so a request reveals nothing about anybody else. ``content`` is what
        the person says with it (a note; for a correction, the item and its new value), kept encrypted.

        ``agent``: the request is made by someone acting for the person (``email`` is the agent's). Where the pack
        checks an agent's authority (``requests.verification.agent_authority_check``), no code is sent (a code proves
        an address, not a mandate): staff verify it with a reference to the person's signed permission
        (:meth:`verify_by_staff` with ``authority_reference``) before anything is fulfilled. A pack that provides
        for no agent refuses the request (:class:`BadValueError`): the person makes it themselves.

        ``language``: the language the person made the request in (``en``, ``zh-Hans``; a tag we have no catalogue
        for counts as none): every mail about the request is written in it, the pack's language where none is given.
        """
        now = now or dt.datetime.now(dt.UTC)
        address = self._check_submission(right, kind, email)
        if agent and not self._agents_allowed():
            raise BadValueError("this policy provides for no requests made by an agent (no agent_authority_check): "
                                "the person makes the request themselves")
        said = (content or RequestContent()).checked(self.pack, right)
        if not external_id or len(external_id) > 256:
            raise BadValueError("the person's identifier must be 1 to 256 characters")
        with self.engine.db.connect() as conn:
            found = self.engine._find(conn, external_id)
            match = "no_person" if found is None else self._match(conn, found[0], address)
        return self._receive(self.engine.keys.lookup_hash(external_id), found[0] if found else None, match, address,
                             right, kind, now, said, agent=agent, language=language)

    def _agents_allowed(self) -> bool:
        """Does the pack provide for requests by an agent, with their authority checked (KOKKOK-62)?"""
        handling = self.pack.requests
        return not isinstance(handling, str) and not isinstance(handling.verification, str) \
            and handling.verification.agent_authority_check

    def _check_authority(self, row: Any) -> None:
        """A request made by an agent is fulfilled only once staff recorded the proof of their authority."""
        detail = row.detail if isinstance(row.detail, dict) else {}
        if detail.get("agent") and not detail.get("authority"):
            raise BadValueError(f"request {row.ref} was made by an agent: staff must record the proof of the agent's "
                                "authority (the person's signed permission) when verifying it, before it is fulfilled")

    def _match(self, conn: Connection, subject_id: str, address: str) -> str:
        """Is ``address`` one held for the person, by the email identity rule the connectors use too? ``matched``,
        ``not_held``, or ``no_address`` (nothing held to compare it with)."""
        held = [v for vs in self.engine.values_of_subject(conn, subject_id, self.engine.email_categories()).values()
                for v in vs if v.strip()]
        if not held:
            return "no_address"
        wanted = normalise("email", address)
        return "matched" if any(normalise("email", v) == wanted for v in held) else "not_held"

    def submit_for_subject(self, subject_id: str, right: str | None, *, email: str, kind: str = "rights_request",
                           content: RequestContent | None = None, signed_in: dt.datetime | None = None,
                           language: str | None = None, now: dt.datetime | None = None) -> Ticket:
        """``submit`` for a person known by their pseudonymous id; the code goes out only to an address held for them.

        ``signed_in``: when the person's session was opened (the caller holds it; it was opened with a code sent to
        an address held for them), which proves who they are. Where ``email`` is an address held for them since
        before that moment (one added during the session proves nothing: anyone signed in could add someone else's)
        and the pack's verification rule accepts a login (:meth:`session_verifies`), the request is verified on
        receipt and no second code is sent."""
        now = now or dt.datetime.now(dt.UTC)
        address = self._check_submission(right, kind, email)
        said = (content or RequestContent()).checked(self.pack, right)
        with self.engine.db.connect() as conn:
            row = conn.execute(select(subjects.c.lookup).where(subjects.c.id == subject_id)).first()
            match = self._match(conn, subject_id, address)
            proven = signed_in is not None and match == "matched" and self._held_since(conn, subject_id, address,
                                                                                         signed_in)
        if row is None:
            raise BadValueError("no data is held about that person")
        return self._receive(str(row.lookup), subject_id, match, address, right, kind, now, said,
                             by_session=proven and self.session_verifies(), language=language)

    def _held_since(self, conn: Connection, subject_id: str, address: str, before: dt.datetime) -> bool:
        """Was ``address`` held for the person, by a record collected no later than ``before``?"""
        from ..crypto._groups import record_cipher_key
        from ..store._schema import records

        subject = conn.execute(select(subjects.c.kek_id, subjects.c.wrapped_key).where(
            subjects.c.id == subject_id)).first()
        if subject is None or subject.wrapped_key is None or self.engine.keys.is_shredded(subject_id):
            return False
        key = unwrap_data_key(self.engine.keys.get(subject.kek_id), subject.wrapped_key, subject_id)
        wanted = normalise("email", address)
        groups: dict[str, bytes | None] = {}
        for r in conn.execute(select(records.c.id, records.c.category, records.c.value, records.c.key_id,
                                     records.c.collected_at).where(
                records.c.subject_id == subject_id, records.c.status == "active",
                records.c.category.in_(sorted(self.engine.email_categories())))):
            if utc(r.collected_at) > utc(before):
                continue
            rkey = record_cipher_key(conn, key, r.key_id, groups)
            if rkey is not None and normalise("email", decrypt(rkey, r.value, f"{subject_id}|{r.category}|{r.id}")
                                              .decode()) == wanted:
                return True
        return False

    def session_verifies(self) -> bool:
        """Does a signed-in session prove the requester's identity under this pack? Yes where the pack names a login
        among its verification methods, or does not require verification always (``required: may``, or no rule: the
        session's code went to an address held for the person, as the request's code would). No where the pack
        always requires one of its methods and a login is not one: then the emailed code and staff verify as before.
        """
        handling = self.pack.requests
        if isinstance(handling, str) or isinstance(handling.verification, str):
            return True
        rule = handling.verification
        return "login" in rule.methods or rule.required != "always"

    def _check_submission(self, right: str | None, kind: str, email: str) -> str:
        if kind not in KINDS:
            raise BadValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        granted = [] if isinstance(self.pack.rights, str) else [r.type for r in self.pack.rights]
        if kind == "rights_request" and right not in granted:
            raise BadValueError(f"this policy grants no right {right!r}; it grants: {', '.join(granted) or 'none'}")
        address = email.strip()
        if "@" not in address or len(address) > 254 or any(ch.isspace() for ch in address):
            raise BadValueError("email must be one address, like name@example.com")
        return address

    def _receive(self, lookup: str, subject_id: str | None, match: str, address: str, right: str | None, kind: str,
                 now: dt.datetime, said: RequestContent, *, by_session: bool = False, agent: bool = False,
                 language: str | None = None) -> Ticket:
        """``match``: the address is one held for the person (``matched``), is not (``not_held``), no address is
        held for them (``no_address``), or nothing is held about them at all (``no_person``). The code goes out for
        ``matched`` and ``no_person`` (as before: a request reveals nothing about anybody); staff who verify anything
        but ``matched`` see the answer and must give a reason (:meth:`verify_by_staff`)."""
        # an agent's authority is checked by staff; a signed-in session needs no second code
        matches = match in ("matched", "no_person") and not agent and not by_session
        ref = secrets.token_hex(8)
        due, words = self._due(kind, now, "receipt")
        fee = self._fee_by_lookup(lookup, right, now)
        key, master = new_data_key(), self.engine.keys.current
        code = f"{secrets.randbelow(10**6):06d}"
        told_in = known(language)
        with self.engine.db.begin() as conn:
            rid = conn.execute(requests.insert().values(
                ref=ref, pack_id=self.pack.id, pack_version=self.engine.compiled.version, kind=kind, right=right,
                lookup=lookup, subject_id=subject_id,
                kek_id=master.id, wrapped_key=wrap_data_key(master, key, f"req:{ref}"),
                contact=encrypt(key, address.encode(), f"req:{ref}|contact"), status="received", received_at=now,
                content=None if said.empty else seal(key, ref, said.as_dict()),
                language=None if told_in is None else language_store.sealed(key, ref, told_in),
                due_at=due, deadline=words, detail={"fee": fee, "address_match": match, **({"agent": True} if agent
                                                                                             else {})},
            ).returning(requests.c.id)).scalar_one()
            if matches:
                conn.execute(request_codes.insert().values(
                    request_id=rid, code_hash=self._code_hash(ref, code), sent_at=now, expires_at=now + CODE_TTL,
                    attempts=0, used=False))
            row = self._row(conn, ref)
            says = {"note": bool(said.note), **({"corrects": said.category} if said.category else {})}
            self._audit(conn, "received", row, "agent" if agent else "subject", now,
                        {"code_sent": matches, "fee": fee, "address_match": match, "says": says,
                         **({"agent": True} if agent else {})})
            if by_session:  # the signed-in session proves who they are: no second code
                if due is None:
                    due, fresh = self._due(kind, now, "verification")
                    words = fresh if due is not None else words
                conn.execute(update(requests).where(requests.c.id == rid).values(
                    status="verified", verified_at=now, due_at=due, deadline=words))
                if told_in is not None and subject_id is not None:  # proven: what notices to them are written in
                    language_store.remember_for_subject(conn, self.engine.keys, subject_id, told_in)
                methods = self._verification_methods()
                self._audit(conn, "verified", row, "subject", now,
                            {"method": "login" if "login" in methods else "session", "address_match": match})
                return Ticket(ref, "verified", due, words, fee)
        unsent = ""
        if matches:
            try:
                self.mailer.send(address, *letters.code_letter(
                    told_in or language_of_pack(self.pack.language), ref, code, int(CODE_TTL.total_seconds() // 60),
                    right, kind, now, due, words, fee))
            except ConfigError as exc:  # recorded all the same: the caller gets the reference and can resend
                unsent = exc.message
        return Ticket(ref, "received", due, words, fee, unsent)

    def _verification_methods(self) -> tuple[str, ...]:
        handling = self.pack.requests
        if isinstance(handling, str) or isinstance(handling.verification, str):
            return ()
        return tuple(handling.verification.methods)

    def requests_of_subject(self, subject_id: str) -> list[dict[str, Any]]:
        """A person's own requests, newest first (what the privacy center shows them)."""
        with self.engine.db.connect() as conn:
            lookup = conn.execute(select(subjects.c.lookup).where(subjects.c.id == subject_id)).scalar()
            rows = conn.execute(select(requests.c.ref, requests.c.kind, requests.c.right, requests.c.status,
                                       requests.c.received_at, requests.c.due_at, requests.c.deadline,
                                       requests.c.closed_at, requests.c.refusal_ground)
                                .where(requests.c.pack_id == self.pack.id,
                                       (requests.c.subject_id == subject_id) | (requests.c.lookup == lookup))
                                .order_by(requests.c.id.desc())).mappings().all()
        return [dict(r) for r in rows]

    def note_foreign_access(self, subject_id: str, ref: str, *, via: str, now: dt.datetime | None = None) -> None:
        """A signed-in person asked for a request that is not theirs (another person's, or none): audited with their
        own pseudonymous id and the reference asked for, never anything of the other person."""
        now = now or dt.datetime.now(dt.UTC)
        with self.engine.db.begin() as conn:
            held = conn.execute(select(requests.c.id).where(requests.c.ref == ref[:32],
                                                            requests.c.pack_id == self.pack.id)).first() is not None
            audit.record(conn, kind="access_refused", actor=f"subject:{subject_id}", subject_id=subject_id, at=now,
                         pack_version=self.engine.compiled.version,
                         detail={"what": "request", "ref": ref[:32], "held_by_another": held, "via": via})

    def _fee_by_lookup(self, lookup: str, right: str | None, now: dt.datetime) -> str:
        """Free by default; beyond the reasonable number of repeats, the pack's charge applies."""
        handling = self.pack.requests
        fees = None if isinstance(handling, str) or isinstance(handling.fees, str) else handling.fees
        if fees is None or right is None:
            return "none"
        free = "none" if fees.default_fee in (0, "unspecified") else f"fixed:{fees.default_fee}"
        threshold = fees.repeat_threshold
        if threshold == "unspecified":  # the policy names no charge for repeated requests
            return free
        limit = self.repeat_limit if threshold == "reasonable_limit" else max(threshold, 1)
        since = now - self.repeat_window
        with self.engine.db.connect() as conn:
            earlier = conn.execute(select(requests.c.received_at).where(
                requests.c.lookup == lookup, requests.c.right == right,
                requests.c.pack_id == self.pack.id)).scalars().all()
        repeats = sum(1 for at in earlier if utc(at) >= since)
        if repeats < limit or fees.charge != "cost":
            return free
        return "cost" if fees.mode == "mandatory" else "may_charge_cost"

    # -- verify --------------------------------------------------------------------------------------------------
    def verify(self, ref: str, code: str, *, now: dt.datetime | None = None) -> Ticket:
        """Check the one-time code; a wrong code costs an attempt, an expired or spent one must be asked for again."""
        now = now or dt.datetime.now(dt.UTC)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "received":
                return Ticket(ref, row.status, row.due_at, row.deadline)  # already verified (or closed): no harm
            otp = conn.execute(select(request_codes).where(request_codes.c.request_id == row.id)).first()
            problem = None
            if isinstance(row.detail, dict) and row.detail.get("agent"):
                problem = "a request made by an agent is verified by staff, with proof of the agent's authority"
            elif otp is None or otp.used:
                problem = "no valid code for this request: ask for a new one"
            elif utc(otp.expires_at) <= utc(now):
                problem = "the code has expired: ask for a new one"
            elif not hmac.compare_digest(otp.code_hash, self._code_hash(ref, code.strip())):
                attempts = otp.attempts + 1
                spent = attempts >= MAX_ATTEMPTS
                conn.execute(update(request_codes).where(request_codes.c.request_id == row.id)
                             .values(attempts=attempts, used=spent))
                self._audit(conn, "code_rejected", row, "subject", now, {"attempts": attempts})
                left = MAX_ATTEMPTS - attempts
                problem = "wrong code" + (f"; {left} attempt(s) left" if left else "; no attempts left, ask for a new one")
            if problem is None:
                due, words = (row.due_at, row.deadline)
                if due is None:
                    due, words = self._due(row.kind, now, "verification")
                    words = words if due is not None else row.deadline
                conn.execute(update(request_codes).where(request_codes.c.request_id == row.id).values(used=True))
                conn.execute(update(requests).where(requests.c.id == row.id).values(
                    status="verified", verified_at=now, due_at=due, deadline=words))
                self._audit(conn, "verified", row, "subject", now)
                self._remember_language(conn, row)
        if problem is not None:
            raise BadValueError(problem)
        return Ticket(ref, "verified", due, words)

    def verify_by_staff(self, ref: str, method: str, *, reference: str, mismatch_reason: str | None = None,
                        authority_reference: str | None = None, actor: str = "privacy_officer",
                        now: dt.datetime | None = None) -> Ticket:
        """Verify identity (or an agent's authority) by one of the pack's own methods, e.g. an identity document
        checked by staff; ``reference`` points to the evidence kept elsewhere (never the document itself).

        The request's address is what the company databases are searched by. Where it is not an address held for
        the person (or nothing is held to compare it with), staff must say why they go on (``mismatch_reason``,
        audited): otherwise a requester could aim an access or erasure at someone else's address.

        A request made by an agent needs ``authority_reference``: where the proof of the agent's authority (the
        person's signed permission, a power of attorney) is kept. It is recorded with the request and audited, and
        nothing is fulfilled without it."""
        now = now or dt.datetime.now(dt.UTC)
        handling = self.pack.requests
        methods = () if isinstance(handling, str) or isinstance(handling.verification, str) \
            else handling.verification.methods
        if method not in methods:
            raise BadValueError(f"{method!r} is not a verification method of this policy"
                                + (f": {', '.join(methods)}" if methods else " (it names none)"))
        if not reference.strip() or len(reference) > 120:
            raise BadValueError("reference must point to the evidence (1 to 120 characters, no personal data)")
        reason = (mismatch_reason or "").strip()
        if len(reason) > 200:
            raise BadValueError("the mismatch reason is 1 to 200 characters (no personal data)")
        authority = (authority_reference or "").strip()
        if len(authority) > 120:
            raise BadValueError("authority_reference must point to the proof of authority (1 to 120 characters, no "
                                "personal data)")
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "received":
                return Ticket(ref, row.status, row.due_at, row.deadline)
            detail = dict(row.detail) if isinstance(row.detail, dict) else {}
            if detail.get("agent") and not authority:
                handling = self.pack.requests
                refs = "" if isinstance(handling, str) or isinstance(handling.verification, str) \
                    else f" ({', '.join(handling.verification.promises)})"
                raise BadValueError(f"request {ref} was made by an agent: give authority_reference, where the proof "
                                    f"of the agent's authority (the person's signed permission) is kept{refs}")
            if authority:
                detail["authority"] = authority
            match = _address_match(row)
            if match != "matched" and not reason:
                raise BadValueError(_MISMATCH[match] + "; check that it is the requester's, then give the mismatch "
                                    "reason to go on")
            due, words = (row.due_at, row.deadline)
            if due is None:
                due, fresh = self._due(row.kind, now, "verification")
                words = fresh if due is not None else row.deadline
            conn.execute(update(requests).where(requests.c.id == row.id).values(
                status="verified", verified_at=now, due_at=due, deadline=words, detail=detail))
            conn.execute(update(request_codes).where(request_codes.c.request_id == row.id).values(used=True))
            self._audit(conn, "verified", row, actor, now, {"method": method, "reference": reference.strip(),
                                                             "address_match": match,
                                                             **({"mismatch_reason": reason} if reason else {}),
                                                             **({"authority_reference": authority} if authority
                                                                else {})})
        return Ticket(ref, "verified", due, words)

    def resend_code(self, ref: str, *, now: dt.datetime | None = None) -> None:
        """A fresh code for a request still waiting for verification (the old one stops working)."""
        now = now or dt.datetime.now(dt.UTC)
        code = f"{secrets.randbelow(10**6):06d}"
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            otp = conn.execute(select(request_codes).where(request_codes.c.request_id == row.id)).first()
            if row.status != "received" or otp is None:
                raise BadValueError(f"request {ref} is not waiting for a code")
            conn.execute(update(request_codes).where(request_codes.c.request_id == row.id).values(
                code_hash=self._code_hash(ref, code), sent_at=now, expires_at=now + CODE_TTL, attempts=0, used=False))
            self._audit(conn, "code_resent", row, "subject", now)
            address = self._contact(row)
        if address:
            self.mailer.send(address, *letters.new_code_letter(self._language(row), ref, code))

    # -- fulfil / refuse ---------------------------------------------------------------------------------------------
    def export_archive(self, ref: str, *, actor: str = "subject", now: dt.datetime | None = None) -> bytes:
        """The export of a fulfilled access request as zip bytes (data.json and data.csv), built when asked for,
        so no copy of it is kept at rest."""
        now = now or dt.datetime.now(dt.UTC)
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if row.right not in ("access", "copy", "portability"):
            raise BadValueError(f"request {ref} is for {row.right!r}, not access")
        if row.status != "fulfilled":
            raise BadValueError(f"request {ref} is {row.status}; the export is ready once it is fulfilled")
        items = self.engine.export_subject(row.subject_id, actor=actor, now=now) if row.subject_id else []
        return _export_bytes(ref, self.pack.id, row.pack_version, self._portable(row.right, items),
                             self._company_access(row))

    def fulfil_access(self, ref: str, output: Path | None, *, actor: str = "privacy_officer",
                      now: dt.datetime | None = None) -> int:
        """Write the person's export (data.json and data.csv in one zip) and close the request; returns the number of
        values. Running it again rewrites the same export. With no ``output`` nothing is written: the person
        downloads the export later (:meth:`export_archive`)."""
        now = now or dt.datetime.now(dt.UTC)
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if row.right not in ("access", "copy", "portability"):
            raise BadValueError(f"request {ref} is for {row.right!r}, not access")
        if row.status not in ("verified", "extended", "fulfilled"):
            raise BadValueError(f"request {ref} is {row.status}: the requester's identity must be verified first")
        self._check_authority(row)
        items = self.engine.export_subject(row.subject_id, actor=actor, now=now) if row.subject_id else []
        items = self._portable(row.right, items)
        company = self._company_access(row)
        if output is not None:
            _write_export(output, ref, self.pack.id, row.pack_version, items, company)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            told = None
            if row.status != "fulfilled":
                conn.execute(update(requests).where(requests.c.id == row.id).values(
                    status="fulfilled", closed_at=now, detail={"values": len(items)}))
                self._audit(conn, "fulfilled", row, actor, now, {"values": len(items)})
                told = self._tell_done(conn, row, letters.export_ready_text(self._language(row), len(items),
                                                                            self.center_url), now)
        self._send_now(told, now)
        return len(items)

    def _identities(self, row: Any) -> dict[str, str]:
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

    def _company_access(self, row: Any) -> dict[str, list[dict[str, Any]]]:
        """The person's rows in the company's own databases, by their verified address."""
        ids = self._identities(row)
        out: dict[str, list[dict[str, Any]]] = {}
        for dmap, db in self.databases:
            if ids:
                out.update({k: [{c: (None if v is None else str(v)) for c, v in r.items()} for r in rows]
                            for k, rows in connector_access(db, dmap, ids).items()})
        return out

    def _portable(self, right: str, items: list[dict[str, object]]) -> list[dict[str, object]]:
        """Portability covers only data processed on the legal bases the pack names (e.g. consent, contract)."""
        spec = next((r for r in (() if isinstance(self.pack.rights, str) else self.pack.rights) if r.type == right), None)
        if right != "portability" or spec is None or not spec.basis_limit:
            return items
        basis = {p.id: p.legal_basis for p in self.pack.purposes.items}
        return [it for it in items if any(basis.get(str(p)) in spec.basis_limit
                                          for p in it["purposes"])]  # type: ignore[attr-defined]

    def fulfil_correction(self, ref: str, category: str, value: str, *, actor: str = "privacy_officer",
                          now: dt.datetime | None = None) -> None:
        """Correct one category's value for a verified requester (locked fields, where the pack locks them, stay)."""
        now = now or dt.datetime.now(dt.UTC)
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if row.right != "correct":
            raise BadValueError(f"request {ref} is for {row.right!r}, not correction")
        if row.status not in ("verified", "extended", "fulfilled"):
            raise BadValueError(f"request {ref} is {row.status}: the requester's identity must be verified first")
        self._check_authority(row)
        rights = () if isinstance(self.pack.rights, str) else self.pack.rights
        spec = next((r for r in rights if r.type == "correct"), None)
        if spec is None:
            raise BadValueError("this policy grants no right to correct")
        if category in spec.locked_fields:
            raise BadValueError(f"{category!r} cannot be changed once registered ({', '.join(spec.promises)})")
        if row.subject_id is None:
            raise BadValueError("nothing is held about this person to correct")
        changed = self.engine.correct_subject(row.subject_id, category, value, actor=actor, now=now)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            first = row.status != "fulfilled"
            conn.execute(update(requests).where(requests.c.id == row.id).values(
                status="fulfilled", closed_at=now, detail={"corrected": category, "values": changed}))
            self._audit(conn, "fulfilled", row, actor, now, {"corrected": category})
            names = {c.id: c.name for c in self.pack.data_categories}
            told = self._tell_done(conn, row, letters.corrected_text(self._language(row), names.get(category, category)),
                                   now) if first else None
        self._send_now(told, now)

    def fulfil_restriction(self, ref: str, *, purposes: tuple[str, ...] = (), actor: str = "privacy_officer",
                           now: dt.datetime | None = None) -> None:
        """A verified ``restrict`` request stops all processing but what recorded legal grounds require; an
        ``object`` request stops the named purposes (recorded as objections in the consent ledger)."""
        now = now or dt.datetime.now(dt.UTC)
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if row.right not in ("restrict", "object"):
            raise BadValueError(f"request {ref} is for {row.right!r}, not restriction or objection")
        if row.status not in ("verified", "extended", "fulfilled"):
            raise BadValueError(f"request {ref} is {row.status}: the requester's identity must be verified first")
        self._check_authority(row)
        if row.subject_id is None:
            raise BadValueError("nothing is held about this person")
        if row.right == "object":
            unknown = [p for p in purposes if p not in self.engine.compiled.purposes]
            if not purposes or unknown:
                raise BadValueError("an objection names the declared purposes it objects to"
                                    + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
            for p in purposes:
                self.engine.record_subject_consent(row.subject_id, p, "refused", actor=actor, now=now)
        else:
            self.engine.restrict_subject(row.subject_id, actor=actor, now=now)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "fulfilled":
                conn.execute(update(requests).where(requests.c.id == row.id).values(
                    status="fulfilled", closed_at=now, detail={"purposes": list(purposes)}))
                self._audit(conn, "fulfilled", row, actor, now, {"purposes": list(purposes)})

    def fulfil_erasure(self, ref: str, *, ground: str | None = None, actor: str = "privacy_officer",
                       not_held_reason: str | None = None, now: dt.datetime | None = None) -> dict[str, int]:
        """Erase a verified requester through the deletion service: queue an erasure notice for every recipient in
        the disclosure log (with the values it received, so it can find the person), delete and crypto-shred the
        person's data, tell them (with what was kept and why: records under a legal hold, or that the law requires to
        keep, where the pack lets the law win), then destroy the reply address too. A cancellation also records the
        account's cancellation, so what a hold kept falls to the cancellation rule once the hold is released. Safe to
        run again after a crash: notices are queued once, erasure is idempotent.

        Where the pack closes the list of erasure grounds, ``ground`` must be one of them. Where a hold stands in the
        way and the pack's rule makes no exception for it, nothing is done (:class:`ErasureIncompleteError`). A company
        database that finds no row by the person's address fails the erasure ("no rows matched: nothing erased")
        unless staff give ``not_held_reason`` (audited).
        """
        from ..deletion import Kept, erase_person, preflight
        now = now or dt.datetime.now(dt.UTC)
        erasure = self.pack.erasure
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if row.right not in ("delete", "cancel_account"):
            raise BadValueError(f"request {ref} is for {row.right!r}, not erasure")
        if row.status not in ("verified", "extended", "fulfilled"):
            raise BadValueError(f"request {ref} is {row.status}: the requester's identity must be verified first")
        self._check_authority(row)
        grounds = () if isinstance(erasure, str) or isinstance(erasure.grounds, str) else erasure.grounds
        if row.right == "delete" and not isinstance(erasure, str) and erasure.grounds_closed is True \
                and row.status != "fulfilled" and ground not in grounds:
            raise BadValueError(f"this policy erases on request only on these grounds ({', '.join(erasure.promises)}):"
                                f" {', '.join(grounds)}")
        notices = 0
        reason = None if not_held_reason is None else not_held_reason.strip()
        if reason is not None and not 1 <= len(reason) <= 200:
            raise BadValueError("say why the company database holds nothing for this person, in 1 to 200 characters "
                                "(no personal data)")
        cause = "cancellation" if row.right == "cancel_account" else "request"
        kept: tuple[Kept, ...] = ()
        if row.subject_id is not None and row.status != "fulfilled":
            if cause == "cancellation":  # the account is the engine's fact, never the requester's or staff's word
                from ..retention import check_account

                with self.engine.db.connect() as conn:
                    check_account(self.engine, conn, row.subject_id, now)
            preflight(self.engine, row.subject_id, cause=cause)  # a deletion that cannot finish starts nothing
        if row.status != "fulfilled":
            ids = self._identities(row)
            for i, (dmap, db) in enumerate(self.databases):  # the company's databases first: fail closed, before all
                if ids:
                    self._erase_company(ref, str(i), dmap, db, ids, actor, now, not_held_reason=reason)
        if row.subject_id is not None and row.status != "fulfilled":
            notices = self._queue_notices(row, now)
            if cause == "cancellation":
                from ..retention import cancel_account_subject

                cancel_account_subject(self.engine, row.subject_id, actor=actor, now=now)
            kept = erase_person(self.engine, row.subject_id, cause=cause, actor=actor, reason=f"request {ref}",
                                now=now).kept
        outcome: dict[str, object] = {"notices": notices, "ground": ground, "kept": [k.as_dict() for k in kept]}
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            told = None
            if row.status != "fulfilled":
                conn.execute(update(requests).where(requests.c.id == row.id).values(
                    status="fulfilled", closed_at=now, detail=outcome))
                self._audit(conn, "fulfilled", row, actor, now, outcome)
                names = {c.id: c.name for c in self.pack.data_categories}
                told = self._tell_done(conn, row, letters.erased_text(self._language(row), [k.as_dict() for k in kept],
                                                                      names, notices), now)
        self._send_now(told, now)
        self._forget_contacts(row.lookup, now)
        return {"notices": notices}

    def _erase_company(self, ref: str, where: str, dmap: DatasetMap, db: Engine, ids: dict[str, str], actor: str,
                       now: dt.datetime, *, not_held_reason: str | None = None) -> None:
        """Erase the person in one company database and audit how many rows changed, once. The rows to change are
        counted (a dry run) and kept with the request before anything changes there: if a crash lands after that
        database committed but before the audit entry, the next run finds nothing left to change and reports the
        count the first run changed, not 0. A database that holds no row for the person fails closed ("no rows
        matched: nothing erased") unless staff said why holding nothing is right (``not_held_reason``, audited)."""
        secret = self.engine.keys.lookup_hash(f"mask|{ref}").encode()
        with self.engine.db.connect() as conn:
            detail = dict(self._row(conn, ref).detail or {})
        state = dict(detail.get("company", {}).get(where, {}))
        if "planned" not in state:
            state["planned"] = connector_erase(db, dmap, ids, secret=secret, dry=True,
                                               require_match=not_held_reason is None)
            self._keep_company_state(ref, where, state)
        # the plan found the person (or staff said why not): a re-run after a crash finds nothing left, and that is done
        changed = connector_erase(db, dmap, ids, secret=secret, require_match=False)
        if state.get("audited"):
            return
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if not any(state["planned"].values()) and not any(changed.values()):
                self._audit(conn, "company_not_held", row, actor, now,
                            {"datasets": [d.fides_key for d in dmap.dataset], "reason": not_held_reason})
            elif not any(changed.values()):
                self._audit(conn, "company_erased", row, actor, now,
                            {"rows": state["planned"], "by": "an earlier run, interrupted before this entry"})
            else:
                self._audit(conn, "company_erased", row, actor, now, {"rows": changed})
            self._keep_company_state(ref, where, {**state, "audited": True}, conn)

    def _keep_company_state(self, ref: str, where: str, state: dict[str, Any], conn: Connection | None = None) -> None:
        if conn is None:
            with self.engine.db.begin() as own:
                self._keep_company_state(ref, where, state, own)
            return
        row = self._row(conn, ref, lock=True)
        detail = dict(row.detail or {})
        detail["company"] = {**detail.get("company", {}), where: state}
        conn.execute(update(requests).where(requests.c.id == row.id).values(detail=detail))

    def _queue_notices(self, row: Any, now: dt.datetime) -> int:
        """One erasure notice per recipient that received the person's data (once, however often this runs)."""
        from sqlalchemy import func

        from ..notify import enqueue
        from ..store._schema import disclosures, outbox, records

        erasure = self.pack.erasure
        exempt = set() if isinstance(erasure, str) else set(erasure.propagation_exceptions)
        with self.engine.db.begin() as conn:
            if conn.execute(select(func.count()).select_from(outbox).where(outbox.c.request_ref == row.ref,
                                                                          outbox.c.kind == "erasure_notice")).scalar():
                return int(conn.execute(select(func.count()).select_from(outbox).where(
                    outbox.c.request_ref == row.ref, outbox.c.kind == "erasure_notice")).scalar_one())
            sent: dict[str, set[str]] = {}
            upstream = not isinstance(erasure, str) and erasure.propagate == "upstream_sources"
            if upstream:  # KALOS: tell the entities the data was obtained from
                for r in conn.execute(select(records.c.source, records.c.category).where(
                        records.c.subject_id == row.subject_id, records.c.status == "active",
                        records.c.source.is_not(None))):
                    sent.setdefault(r.source, set()).add(r.category)
            else:  # everyone in the disclosure log (Kamoer promises it; it is the safe default)
                for d in conn.execute(select(disclosures.c.recipient, disclosures.c.categories, disclosures.c.ground)
                                      .where(disclosures.c.subject_id == row.subject_id)):
                    if d.ground and set(d.ground.split(",")) & exempt:
                        continue  # kept under a legal requirement the pack names as an exception
                    sent.setdefault(d.recipient, set()).update(d.categories)
            values = {c: vs for c, vs in self.engine.values_of_subject(conn, row.subject_id,
                                                                       {c for cs in sent.values() for c in cs}).items()}
            for recipient, cats in sorted(sent.items()):
                enqueue(conn, self.engine.keys, kind="erasure_notice", recipient=recipient, request_ref=row.ref, now=now,
                        message={"subject": "Please erase this person's data", "request": row.ref,
                                 "controller": self.pack.controller.legal_name,
                                 "categories": sorted(cats), "values": {c: values.get(c, []) for c in sorted(cats)}})
            self._audit(conn, "notices_queued", row, "engine", now, {"recipients": sorted(sent)})
        return len(sent)

    def _tell_done(self, conn: Connection, row: Any, text: str, now: dt.datetime) -> int | None:
        """Queue the "done" message in the transaction that closes the request, so it exists once, whatever re-runs."""
        address = self._contact(row)
        if not address:
            return None
        language = self._language(row)
        return enqueue_to_person(conn, self.engine.keys, kind="request_done", channel="email", to=address,
                                 subject=letters.done_subject(language, row.ref),
                                 body=text + self.complaint_route(language), now=now)

    def _send_now(self, message: int | None, now: dt.datetime) -> None:
        """Deliver one queued message right away, through the outbox (at most once; a failure is retried later)."""
        if message is not None:
            deliver(self.engine.db, self.engine.keys, RoutedTransport(self.mailer), only=(message,),
                    pack_version=self.engine.compiled.version, now=now, actor="engine")

    def _forget_contacts(self, lookup: str, now: dt.datetime) -> None:
        """Destroy the reply address of every closed request of this person (their keys, journalled first)."""
        with self.engine.db.begin() as conn:
            rows = conn.execute(select(requests.c.id, requests.c.ref).where(
                requests.c.lookup == lookup, requests.c.pack_id == self.pack.id,
                requests.c.status.in_(("fulfilled", "refused")), requests.c.wrapped_key.is_not(None))).all()
            for r in rows:
                self.engine.keys.record_shredded(f"req:{r.ref}")
                conn.execute(update(requests).where(requests.c.id == r.id).values(
                    contact=None, content=None, language=None, wrapped_key=None, kek_id=None))

    def extend(self, ref: str, days: int, *, reason: str, actor: str = "privacy_officer",
               now: dt.datetime | None = None) -> Ticket:
        """Push an open request's deadline by ``days`` calendar days and tell the person why."""
        now = now or dt.datetime.now(dt.UTC)
        if not 1 <= days <= 90:
            raise BadValueError("an extension is 1 to 90 days")
        if not reason.strip() or len(reason) > 200:
            raise BadValueError("say why, in 1 to 200 characters (no personal data)")
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status not in ("verified", "extended"):
                raise BadValueError(f"request {ref} is {row.status}: only a verified, open request can be extended")
            base = utc(row.due_at) if row.due_at is not None else now
            due = base + dt.timedelta(days=days)
            late = -(days_left(base, now) or 0) if row.due_at is not None and base < now else 0
            words = _fit_deadline(f"{row.deadline} + {days} calendar_days")
            conn.execute(update(requests).where(requests.c.id == row.id).values(
                status="extended", due_at=due, deadline=words))
            self._audit(conn, "extended", row, actor, now, {
                "days": days, "reason": reason.strip(), "overdue_days": late,
                "was_due": base.date().isoformat() if row.due_at is not None else None})
            address, language = self._contact(row), self._language(row)
        if address:
            self.mailer.send(address, *letters.extended_letter(language, ref, days, reason.strip(), due))
        return Ticket(ref, "extended", due, words)

    def refuse(self, ref: str, ground: str, *, actor: str = "privacy_officer", now: dt.datetime | None = None) -> None:
        """Refuse on one of the pack's refusal grounds (or because identity could not be verified); the person is
        told the ground."""
        now = now or dt.datetime.now(dt.UTC)
        handling = self.pack.requests
        allowed = {"identity_not_verified"}
        if not isinstance(handling, str) and not isinstance(handling.refusal, str):
            allowed |= set(handling.refusal.discretionary) | set(handling.refusal.mandatory)
        if ground not in allowed:
            raise BadValueError(f"{ground!r} is not a refusal ground of this policy: {', '.join(sorted(allowed))}")
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status == "refused":
                return
            if row.status not in OPEN:
                raise BadValueError(f"request {ref} is already {row.status}")
            conn.execute(update(requests).where(requests.c.id == row.id).values(
                status="refused", closed_at=now, refusal_ground=ground))
            self._audit(conn, "refused", row, actor, now, {"ground": ground})
            address, language = self._contact(row), self._language(row)
        if address:
            self.mailer.send(address, *letters.refused_letter(language, ref, ground, self.complaint_route(language)))

    # -- queue ------------------------------------------------------------------------------------------------------
    def open_requests(self, *, now: dt.datetime | None = None, due_within: dt.timedelta = dt.timedelta(days=3)
                      ) -> list[dict[str, Any]]:
        """Open requests, oldest deadline first, each marked overdue or due soon."""
        now = now or dt.datetime.now(dt.UTC)
        with self.engine.db.connect() as conn:
            rows = conn.execute(select(requests.c.ref, requests.c.kind, requests.c.right, requests.c.status,
                                       requests.c.received_at, requests.c.due_at, requests.c.deadline,
                                       requests.c.pack_version, requests.c.detail)
                                .where(requests.c.pack_id == self.pack.id, requests.c.status.in_(OPEN))
                                .order_by(requests.c.due_at, requests.c.received_at)).mappings().all()
        out = []
        for r in rows:
            due = utc(r["due_at"]) if r["due_at"] is not None else None
            state = "no_date" if due is None else "overdue" if due < now else "due_soon" if due - now <= due_within \
                else "on_time"
            out.append({**{k: v for k, v in r.items() if k != "detail"}, "due_at": due,
                        "received_at": utc(r["received_at"]), "state": state, "address_match": _address_match(r)})
        return out

    def get(self, ref: str) -> dict[str, Any]:
        """One request, without its encrypted reply address."""
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        out = {k: v for k, v in row._mapping.items()
               if k not in ("contact", "content", "language", "wrapped_key", "kek_id", "lookup")}
        out["address_match"] = _address_match(row)
        out["address_match_text"] = _MISMATCH.get(out["address_match"], "the address is one held for the person")
        return out


    # -- what was said, the person's values, notes, the timeline --------------------------------------------------------
    def _key(self, row: Any) -> bytes | None:
        if row.wrapped_key is None or self.engine.keys.is_shredded(f"req:{row.ref}"):
            return None
        return unwrap_data_key(self.engine.keys.get(row.kek_id), row.wrapped_key, f"req:{row.ref}")

    def _said(self, row: Any) -> dict[str, Any]:
        key = self._key(row)
        return unseal(key, row.ref, row.content) if key is not None and row.content is not None else {}

    def content_of(self, ref: str) -> RequestContent | None:
        """What the person said with the request, or None once their erasure destroyed the request's key."""
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if self._key(row) is None:
            return None
        return RequestContent.from_dict(self._said(row))

    def requester(self, ref: str, *, masked: bool = True) -> str | None:
        """The request's reply address (masked by default: ``z•••@e•••.cn``), None once destroyed."""
        with self.engine.db.connect() as conn:
            address = self._contact(self._row(conn, ref))
        return mask_address(address) if masked and address else address

    def current_values(self, ref: str, categories: tuple[str, ...] = (), *, actor: str,
                       now: dt.datetime | None = None) -> dict[str, list[str]]:
        """The values held for the requester (of ``categories``, or all), for staff answering the request; never a
        password or other credential (``user.authorization``), which is only ever replaced. Each call is audited
        (``values_revealed``: who, when, which request and which categories, never the values)."""
        now = now or dt.datetime.now(dt.UTC)
        known = self._showable()
        cats = frozenset(categories) & known if categories else frozenset(known)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref)
            held = {} if row.subject_id is None else self.engine.values_of_subject(conn, row.subject_id, cats)
            self._audit(conn, "values_revealed", row, actor, now, {"categories": sorted(held)})
        return {c: held[c] for c in sorted(held)}

    def held_categories(self, ref: str) -> list[str]:
        """Which categories hold a value for the requester (the ids only: what staff may reveal)."""
        from ..store._schema import records

        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
            if row.subject_id is None:
                return []
            found = conn.execute(select(records.c.category).where(
                records.c.subject_id == row.subject_id, records.c.status == "active").distinct()).scalars().all()
        order = [c.id for c in self.pack.data_categories]
        return sorted(set(found) & self._showable(), key=lambda c: order.index(c) if c in order else len(order))

    def _showable(self) -> set[str]:
        """The categories staff may be shown: all but credentials."""
        return {c.id for c in self.pack.data_categories if not c.fides_key.startswith("user.authorization")}

    def add_note(self, ref: str, text: str, *, actor: str, now: dt.datetime | None = None) -> int:
        """Add a staff note to the request (kept encrypted with it; the audit entry says only that a note was added
        and its number); returns the note's number."""
        now = now or dt.datetime.now(dt.UTC)
        note = text.strip()
        if not note or len(note) > MAX_STAFF_NOTE:
            raise BadValueError(f"note: 1 to {MAX_STAFF_NOTE} characters")
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            key = self._key(row)
            if key is None:
                raise BadValueError(f"request {ref} can take no more notes: the person was erased")
            doc = self._said(row)
            notes = list(doc.get("staff_notes") or [])
            notes.append(note)
            doc["staff_notes"] = notes
            conn.execute(update(requests).where(requests.c.id == row.id).values(content=seal(key, ref, doc)))
            self._audit(conn, "note_added", row, actor, now, {"note": len(notes)})
        return len(notes)

    def timeline(self, ref: str) -> list[TimelineEvent]:
        """Every step of the request from the audit log, oldest first: received, verified (by whom and how),
        extended (by whom, why, and how late it was then), refused (on which ground), fulfilled, staff notes (their
        text, while the request's key exists), values revealed, codes rejected or resent."""
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
            entries = timeline_entries(conn, ref)
        notes = list(self._said(row).get("staff_notes") or [])
        out = []
        for e in entries:
            detail = {k: v for k, v in dict(e.detail).items() if k not in ("request", "event", "right")}
            text = None
            if e.detail.get("event") == "note_added":
                n = int(detail.get("note") or 0)
                text = notes[n - 1] if 0 < n <= len(notes) else None
            out.append(TimelineEvent(utc(e.at), str(e.detail.get("event")), str(e.actor), detail, text))
        return out

    def queue(self, query: QueueQuery | None = None, *, now: dt.datetime | None = None,
              requester: bool = True) -> QueuePage:
        """One page of the queue (see :class:`QueueQuery`); each item has its state (overdue, due_soon, on_time,
        no_date or closed), the days left (negative when overdue) and, with ``requester``, the masked reply address."""
        now = now or dt.datetime.now(dt.UTC)
        q = (query or QueueQuery()).checked()
        with self.engine.db.connect() as conn:
            rows, total = query_queue(conn, self.pack.id, q, now)
        items = []
        for r in rows:
            item = queue_item(r, now, q.due_within)
            item["address_match"] = _address_match(r)
            if requester:
                address = self._contact(r)
                item["requester"] = mask_address(address) if address else ""
            items.append(item)
        return QueuePage(items, total, q.limit, q.offset)

_MISMATCH = {
    "not_held": "the request's address does not match the person on record",
    "no_person": "there is no person on record to match the request's address with",
    "no_address": "no address is held for the person to match the request's address with",
    "unknown": "the request was received before addresses were matched",
}


def _fit_deadline(words: str) -> str:
    """Deadline words fit their column (40 characters): qualifiers in brackets go first, then the tail."""
    import re

    if len(words) > 40:
        words = re.sub(r" \([^)]*\)", "", words)
    return words if len(words) <= 40 else words[:39] + "…"


def _address_match(row: Any) -> str:
    """matched, not_held, no_address, no_person, or unknown (recorded when the request was received)."""
    detail = row["detail"] if isinstance(row, Mapping) else row.detail
    got = detail.get("address_match") if isinstance(detail, dict) else None
    return str(got) if got in ("matched", "not_held", "no_address", "no_person") else "unknown"


def _write_export(path: Path, ref: str, pack_id: str, version: str, items: list[dict[str, object]],
                  company: dict[str, list[dict[str, Any]]] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # personal data: readable by its owner only
    with os.fdopen(fd, "wb") as fh:
        fh.write(_export_bytes(ref, pack_id, version, items, company))
    tmp.replace(path)  # never a half-written export


def _export_bytes(ref: str, pack_id: str, version: str, items: list[dict[str, object]],
                  company: dict[str, list[dict[str, Any]]] | None = None) -> bytes:
    doc = {"request": ref, "pack": pack_id, "pack_version": version, "values": items, "databases": company or {}}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["category", "category_name", "value", "purposes", "source", "channel", "collected_at",
                     "recipients"])
    for it in items:
        recips = it["recipients"] if isinstance(it["recipients"], list) else []
        writer.writerow([it["category"], it["category_name"], it["value"], ";".join(map(str, it["purposes"]))  # type: ignore[call-overload]
                         , it["source"], it["channel"] or "", it["collected_at"],
                         ";".join(f"{x['recipient']}@{x['at']}" for x in recips)])
    for where, rows in (company or {}).items():
        for r in rows:
            for col, val in r.items():
                writer.writerow([f"{where}.{col}", col, val or "", "", where, "", "", ""])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.json", json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        zf.writestr("data.csv", buf.getvalue())
    return out.getvalue()
