"""Receiving a request: checked against the pack's rights, the reply address matched with what is held for the person,
the fee for a repeated request, and a one-time code sent where the address may get one. A person signed in to the
privacy center is already proven, where the pack's verification rule accepts a login: their request is verified on
receipt."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Connection

from .. import audit
from .._exceptions import BadValueError, ConfigError
from ..clock import utc
from ..connectors._identity import normalise
from ..crypto import decrypt, encrypt, new_data_key, unwrap_data_key, wrap_data_key
from ..i18n import known, language_of_pack
from ..store import languages as language_store
from ..store import people as people_store
from ..store import requests_repo as request_store
from ..store import values as value_store
from . import _letters
from ._base import CODE_TTL, KINDS, Ticket, _Base
from ._content import RequestContent, seal


class _Submission(_Base):
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
        now = self.engine.clock.at(now)
        address = self._check_submission(right, kind, email)
        if agent and not self._agents_allowed():
            raise BadValueError("this policy provides for no requests made by an agent (no agent_authority_check): "
                                "the person makes the request themselves")
        said = (content or RequestContent()).checked(self.pack, right)
        if not external_id or len(external_id) > 256:
            raise BadValueError("the person's identifier must be 1 to 256 characters")
        lookup = self.engine.keys.lookup_hash(external_id)
        with self.engine.db.connect() as conn:
            found = people_store.by_lookup(conn, lookup)
            sid = None if found is None or found.wrapped_key is None or self.engine.keys.is_shredded(found.id) \
                else found.id  # a person whose key still exists
            match = "no_person" if sid is None else self._match(conn, sid, address)
        return self._receive(lookup, sid, match, address, right, kind, now, said, agent=agent, language=language)

    def _agents_allowed(self) -> bool:
        """Does the pack provide for requests by an agent, with their authority checked (KOKKOK-62)?"""
        rule = self._verification()
        return rule is not None and rule.agent_authority_check

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
        now = self.engine.clock.at(now)
        address = self._check_submission(right, kind, email)
        said = (content or RequestContent()).checked(self.pack, right)
        with self.engine.db.connect() as conn:
            lookup = people_store.lookup_of(conn, subject_id)
            match = self._match(conn, subject_id, address)
            proven = signed_in is not None and match == "matched" and self._held_since(conn, subject_id, address,
                                                                                         signed_in)
        if lookup is None:
            raise BadValueError("no data is held about that person")
        return self._receive(lookup, subject_id, match, address, right, kind, now, said,
                             by_session=proven and self.session_verifies(), language=language)

    def _held_since(self, conn: Connection, subject_id: str, address: str, before: dt.datetime) -> bool:
        """Was ``address`` held for the person, by a record collected no later than ``before``?"""
        from ..crypto._groups import record_cipher_key

        subject = people_store.by_id(conn, subject_id)
        if subject is None or subject.wrapped_key is None or subject.kek_id is None \
                or self.engine.keys.is_shredded(subject_id):
            return False
        key = unwrap_data_key(self.engine.keys.get(subject.kek_id), subject.wrapped_key, subject_id)
        wanted = normalise("email", address)
        groups: dict[str, bytes | None] = {}
        for r in value_store.active(conn, subject_id, sorted(self.engine.email_categories())):
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
        rule = self._verification()
        return rule is None or "login" in rule.methods or rule.required != "always"

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
            rid = request_store.add(
                conn, ref=ref, pack_id=self.pack.id, pack_version=self.engine.compiled.version, kind=kind,
                right=right, lookup=lookup, subject_id=subject_id, kek_id=master.id,
                wrapped_key=wrap_data_key(master, key, f"req:{ref}"),
                contact=encrypt(key, address.encode(), f"req:{ref}|contact"), received_at=now,
                content=None if said.empty else seal(key, ref, said.as_dict()), due_at=due, deadline=words,
                detail={"fee": fee, "address_match": match, **({"agent": True} if agent else {})},
                language=None if told_in is None else language_store.sealed(key, ref, told_in))
            if matches:
                request_store.add_code(conn, rid, code_hash=self._code_hash(ref, code), sent_at=now,
                                       expires_at=now + CODE_TTL)
            row = self._row(conn, ref)
            says = {"note": bool(said.note), **({"corrects": said.category} if said.category else {})}
            self._audit(conn, "received", row, "agent" if agent else "subject", now,
                        {"code_sent": matches, "fee": fee, "address_match": match, "says": says,
                         **({"agent": True} if agent else {})})
            if by_session:  # the signed-in session proves who they are: no second code
                if due is None:
                    due, fresh = self._due(kind, now, "verification")
                    words = fresh if due is not None else words
                request_store.mark_verified(conn, rid, at=now, due_at=due, deadline=words)
                if told_in is not None and subject_id is not None:  # proven: what notices to them are written in
                    language_store.remember_for_subject(conn, self.engine.keys, subject_id, told_in)
                methods = () if (rule := self._verification()) is None else tuple(rule.methods)
                self._audit(conn, "verified", row, "subject", now,
                            {"method": "login" if "login" in methods else "session", "address_match": match})
                return Ticket(ref, "verified", due, words, fee)
        unsent = ""
        if matches:
            try:
                self._send(address, _letters.code_letter(
                    told_in or language_of_pack(self.pack.language), ref, code, int(CODE_TTL.total_seconds() // 60),
                    right, kind, now, due, words, fee))
            except ConfigError as exc:  # recorded all the same: the caller gets the reference and can resend
                unsent = exc.message
        return Ticket(ref, "received", due, words, fee, unsent)

    def requests_of_subject(self, subject_id: str) -> list[dict[str, Any]]:
        """A person's own requests, newest first (what the privacy center shows them)."""
        with self.engine.db.connect() as conn:
            rows = request_store.of_person(conn, self.pack.id, subject_id,
                                           people_store.lookup_of(conn, subject_id))
        return [{"ref": r.ref, "kind": r.kind, "right": r.right, "status": r.status, "received_at": r.received_at,
                 "due_at": r.due_at, "deadline": r.deadline, "closed_at": r.closed_at,
                 "refusal_ground": r.refusal_ground} for r in rows]

    def note_foreign_access(self, subject_id: str, ref: str, *, via: str, now: dt.datetime | None = None) -> None:
        """A signed-in person asked for a request that is not theirs (another person's, or none): audited with their
        own pseudonymous id and the reference asked for, never anything of the other person."""
        now = self.engine.clock.at(now)
        with self.engine.db.begin() as conn:
            held = request_store.exists(conn, self.pack.id, ref[:32])
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
            earlier = request_store.received_times(conn, self.pack.id, lookup, right)
        repeats = sum(1 for at in earlier if utc(at) >= since)
        if repeats < limit or fees.charge != "cost":
            return free
        return "cost" if fees.mode == "mandatory" else "may_charge_cost"
