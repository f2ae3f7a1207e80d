"""What staff see and do while a request is open: the queue and a request's page (what was said, the masked reply
address, the person's values on demand, notes, the timeline), and a longer deadline where the pack allows one."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any

from .._exceptions import BadValueError
from ..clock import utc
from ..store import requests_repo as request_store
from ..store import values as value_store
from . import _letters
from ._base import MISMATCH, Ticket, _Base, address_match
from ._content import MAX_STAFF_NOTE, RequestContent, mask_address, seal
from ._deadlines import fit_deadline
from ._queue import QueuePage, QueueQuery, TimelineEvent, days_left, deadline_state, queue_item

_HIDDEN = ("contact", "content", "language", "wrapped_key", "kek_id", "lookup")
"""What :meth:`get` never shows: the encrypted reply address and content, the request's key, the person's hash."""


class _Casework(_Base):
    def extend(self, ref: str, days: int, *, reason: str, actor: str = "privacy_officer",
               now: dt.datetime | None = None) -> Ticket:
        """Push an open request's deadline by ``days`` calendar days and tell the person why."""
        now = self.engine.clock.at(now)
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
            words = fit_deadline(f"{row.deadline} + {days} calendar_days")
            request_store.extend(conn, row.id, due_at=due, deadline=words)
            self._audit(conn, "extended", row, actor, now, {
                "days": days, "reason": reason.strip(), "overdue_days": late,
                "was_due": base.date().isoformat() if row.due_at is not None else None})
            address, language = self._contact(row), self._language(row)
        self._send(address, _letters.extended_letter(language, ref, days, reason.strip(), due))
        return Ticket(ref, "extended", due, words)

    def open_requests(self, *, now: dt.datetime | None = None, due_within: dt.timedelta = dt.timedelta(days=3)
                      ) -> list[dict[str, Any]]:
        """Open requests, oldest deadline first, each marked overdue or due soon."""
        now = self.engine.clock.at(now)
        with self.engine.db.connect() as conn:
            rows = request_store.by_due_date(conn, self.pack.id)
        out = []
        for r in rows:
            due = utc(r.due_at) if r.due_at is not None else None
            state = deadline_state(r.status, due, now, due_within)
            out.append({"ref": r.ref, "kind": r.kind, "right": r.right, "status": r.status,
                        "received_at": utc(r.received_at), "due_at": due, "deadline": r.deadline,
                        "pack_version": r.pack_version, "state": state, "address_match": address_match(r)})
        return out

    def get(self, ref: str) -> dict[str, Any]:
        """One request, without its encrypted reply address."""
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        out = {f.name: getattr(row, f.name) for f in fields(row) if f.name not in _HIDDEN}
        out["address_match"] = address_match(row)
        out["address_match_text"] = MISMATCH.get(out["address_match"], "the address is one held for the person")
        return out

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
        now = self.engine.clock.at(now)
        known = self._showable()
        cats = frozenset(categories) & known if categories else frozenset(known)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref)
            held = {} if row.subject_id is None else self.engine.values_of_subject(conn, row.subject_id, cats)
            self._audit(conn, "values_revealed", row, actor, now, {"categories": sorted(held)})
        return {c: held[c] for c in sorted(held)}

    def held_categories(self, ref: str) -> list[str]:
        """Which categories hold a value for the requester (the ids only: what staff may reveal)."""
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
            if row.subject_id is None:
                return []
            found = value_store.held_categories(conn, row.subject_id)
        order = [c.id for c in self.pack.data_categories]
        return sorted(set(found) & self._showable(), key=lambda c: order.index(c) if c in order else len(order))

    def _showable(self) -> set[str]:
        """The categories staff may be shown: all but credentials."""
        return {c.id for c in self.pack.data_categories if not c.fides_key.startswith("user.authorization")}

    def add_note(self, ref: str, text: str, *, actor: str, now: dt.datetime | None = None) -> int:
        """Add a staff note to the request (kept encrypted with it; the audit entry says only that a note was added
        and its number); returns the note's number."""
        now = self.engine.clock.at(now)
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
            request_store.set_content(conn, row.id, seal(key, ref, doc))
            self._audit(conn, "note_added", row, actor, now, {"note": len(notes)})
        return len(notes)

    def timeline(self, ref: str) -> list[TimelineEvent]:
        """Every step of the request from the audit log, oldest first: received, verified (by whom and how),
        extended (by whom, why, and how late it was then), refused (on which ground), fulfilled, staff notes (their
        text, while the request's key exists), values revealed, codes rejected or resent."""
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
            entries = request_store.timeline(conn, ref)
        notes = list(self._said(row).get("staff_notes") or [])
        out = []
        for e in entries:
            detail = {k: v for k, v in dict(e.detail).items() if k not in ("request", "event", "right")}
            text = None
            if e.detail.get("event") == "note_added":
                n = int(detail.get("note") or 0)
                text = notes[n - 1] if 0 < n <= len(notes) else None
            out.append(TimelineEvent(utc(e.at), str(e.detail.get("event")), e.actor, detail, text))
        return out

    def queue(self, query: QueueQuery | None = None, *, now: dt.datetime | None = None,
              requester: bool = True) -> QueuePage:
        """One page of the queue (see :class:`QueueQuery`); each item has its state (overdue, due_soon, on_time,
        no_date or closed), the days left (negative when overdue) and, with ``requester``, the masked reply address."""
        now = self.engine.clock.at(now)
        q = (query or QueueQuery()).checked()
        with self.engine.db.connect() as conn:
            rows, total = request_store.queue_page(
                conn, self.pack.id, status=q.status, right=q.right, ref=q.ref, state=q.state, sort=q.sort,
                descending=q.descending, limit=q.limit, offset=q.offset, due_within=q.due_within, now=now)
        items = []
        for r in rows:
            item = queue_item(r, now, q.due_within)
            item["address_match"] = address_match(r)
            if requester:
                address = self._contact(r)
                item["requester"] = mask_address(address) if address else ""
            items.append(item)
        return QueuePage(items, total, q.limit, q.offset)
