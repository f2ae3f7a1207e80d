"""Verifying the requester: the emailed one-time code (limited attempts, a short life, resent on demand), or staff
checking identity, or an agent's authority, by one of the pack's own methods."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from .._exceptions import BadValueError
from ..clock import utc
from ..store import requests_repo as request_store
from ..store.requests_repo import Request
from . import _letters
from ._base import CODE_TTL, MAX_ATTEMPTS, MISMATCH, Ticket, _Base, address_match


class _Verification(_Base):
    def verify(self, ref: str, code: str, *, now: dt.datetime | None = None) -> Ticket:
        """Check the one-time code; a wrong code costs an attempt, an expired or spent one must be asked for again."""
        now = self.engine.clock.at(now)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "received":
                return Ticket(ref, row.status, row.due_at, row.deadline)  # already verified (or closed): no harm
            otp = request_store.code_of(conn, row.id)
            problem = None
            if isinstance(row.detail, dict) and row.detail.get("agent"):
                problem = "a request made by an agent is verified by staff, with proof of the agent's authority"
            elif otp is None or otp.used:
                problem = "no valid code for this request: ask for a new one"
            elif utc(otp.expires_at) <= utc(now):
                problem = "the code has expired: ask for a new one"
            elif not hmac.compare_digest(otp.code_hash, self._code_hash(ref, code.strip())):
                attempts = otp.attempts + 1
                request_store.count_wrong_code(conn, row.id, attempts=attempts, spent=attempts >= MAX_ATTEMPTS)
                self._audit(conn, "code_rejected", row, "subject", now, {"attempts": attempts})
                left = MAX_ATTEMPTS - attempts
                problem = "wrong code" + (f"; {left} attempt(s) left" if left else "; no attempts left, ask for a new one")
            if problem is None:
                due, words = self._verified_deadline(row, now)
                request_store.spend_code(conn, row.id)
                request_store.mark_verified(conn, row.id, at=now, due_at=due, deadline=words)
                self._audit(conn, "verified", row, "subject", now)
                self._remember_language(conn, row)
        if problem is not None:
            raise BadValueError(problem)
        return Ticket(ref, "verified", due, words)

    def _verified_deadline(self, row: Request, now: dt.datetime) -> tuple[dt.datetime | None, str]:
        """The deadline once verified: the one from receipt, or where the pack counts from verification, from now."""
        if row.due_at is not None:
            return row.due_at, row.deadline
        due, words = self._due(row.kind, now, "verification")
        return due, words if due is not None else row.deadline

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
        now = self.engine.clock.at(now)
        rule = self._verification()
        methods = () if rule is None else rule.methods
        if method not in methods:
            raise BadValueError(f"{method!r} is not a verification method of this policy"
                                + (f": {', '.join(methods)}" if methods else " (it names none)"),
                                kind="verification_method")
        if not reference.strip() or len(reference) > 120:
            raise BadValueError("reference must point to the evidence (1 to 120 characters, no personal data)",
                                kind="evidence_reference")
        reason = (mismatch_reason or "").strip()
        if len(reason) > 200:
            raise BadValueError("the mismatch reason is 1 to 200 characters (no personal data)", kind="mismatch_reason")
        authority = (authority_reference or "").strip()
        if len(authority) > 120:
            raise BadValueError("authority_reference must point to the proof of authority (1 to 120 characters, no "
                                "personal data)", kind="agent_authority")
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "received":
                return Ticket(ref, row.status, row.due_at, row.deadline)
            detail = dict(row.detail) if isinstance(row.detail, dict) else {}
            if detail.get("agent") and not authority:
                refs = "" if rule is None else f" ({', '.join(rule.promises)})"
                raise BadValueError(f"request {ref} was made by an agent: give authority_reference, where the proof "
                                    f"of the agent's authority (the person's signed permission) is kept{refs}",
                                    kind="agent_authority")
            if authority:
                detail["authority"] = authority
            match = address_match(row)
            if match != "matched" and not reason:
                raise BadValueError(MISMATCH[match] + "; check that it is the requester's, then give the mismatch "
                                    "reason to go on", kind="address_mismatch", match=match)
            due, words = self._verified_deadline(row, now)
            request_store.mark_verified(conn, row.id, at=now, due_at=due, deadline=words, detail=detail)
            request_store.spend_code(conn, row.id)
            self._remember_language(conn, row)  # staff proved who made it, as a code or a session does
            self._audit(conn, "verified", row, actor, now, {"method": method, "reference": reference.strip(),
                                                             "address_match": match,
                                                             **({"mismatch_reason": reason} if reason else {}),
                                                             **({"authority_reference": authority} if authority
                                                                else {})})
        return Ticket(ref, "verified", due, words)

    def resend_code(self, ref: str, *, now: dt.datetime | None = None) -> None:
        """A fresh code for a request still waiting for verification (the old one stops working)."""
        now = self.engine.clock.at(now)
        code = f"{secrets.randbelow(10**6):06d}"
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "received" or request_store.code_of(conn, row.id) is None:
                raise BadValueError(f"request {ref} is not waiting for a code")
            request_store.renew_code(conn, row.id, code_hash=self._code_hash(ref, code), sent_at=now,
                                     expires_at=now + CODE_TTL)
            self._audit(conn, "code_resent", row, "subject", now)
            address = self._contact(row)
        self._send(address, _letters.new_code_letter(self._language(row), ref, code))
