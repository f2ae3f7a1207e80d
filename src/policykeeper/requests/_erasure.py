"""Erasure on request (and account cancellation): the company's own databases first, erasure notices to every
recipient, the person's data through the one deletion path, then the request's own reply address. Each step is safe
to run again after a crash."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine

from .._exceptions import BadValueError
from ..connectors import DatasetMap
from ..connectors import erase as connector_erase
from ..store import requests_repo as request_store
from ..store import values as value_store
from ..store.requests_repo import Request
from . import _letters
from ._base import _Base


class _Erasure(_Base):
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
        now = self.engine.clock.at(now)
        erasure = self.pack.erasure
        row = self._verified(ref, ("delete", "cancel_account"), "erasure")
        grounds = () if isinstance(erasure, str) or isinstance(erasure.grounds, str) else erasure.grounds
        if row.right == "delete" and not isinstance(erasure, str) and erasure.grounds_closed is True \
                and row.status != "fulfilled" and ground not in grounds:
            raise BadValueError(f"this policy erases on request only on these grounds ({', '.join(erasure.promises)}):"
                                f" {', '.join(grounds)}", kind="erasure_ground")
        notices = 0
        reason = None if not_held_reason is None else not_held_reason.strip()
        if reason is not None and not 1 <= len(reason) <= 200:
            raise BadValueError("say why the company database holds nothing for this person, in 1 to 200 characters "
                                "(no personal data)", kind="not_held_reason")
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
            notices = self._queue_notices(row, row.subject_id, now)
            if cause == "cancellation":
                from ..retention import cancel_account_subject

                cancel_account_subject(self.engine, row.subject_id, actor=actor, now=now)
            kept = erase_person(self.engine, row.subject_id, cause=cause, actor=actor, reason=f"request {ref}",
                                now=now).kept
        outcome: dict[str, Any] = {"notices": notices, "ground": ground, "kept": [k.as_dict() for k in kept]}
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            told = None
            if row.status != "fulfilled":
                self._fulfilled(conn, row, actor, now, outcome)
                names = {c.id: c.name for c in self.pack.data_categories}
                told = self._tell_done(conn, row, _letters.erased_text(self._language(row), [k.as_dict() for k in kept],
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
        request_store.set_detail(conn, row.id, detail)

    def _queue_notices(self, row: Request, subject_id: str, now: dt.datetime) -> int:
        """One erasure notice per recipient that received the person's data (once, however often this runs)."""
        from ..notify import enqueue

        erasure = self.pack.erasure
        exempt = set() if isinstance(erasure, str) else set(erasure.propagation_exceptions)
        with self.engine.db.begin() as conn:
            queued = request_store.erasure_notices(conn, row.ref)
            if queued:
                return queued
            sent: dict[str, set[str]] = {}
            upstream = not isinstance(erasure, str) and erasure.propagate == "upstream_sources"
            if upstream:  # KALOS: tell the entities the data was obtained from
                sent = value_store.sources_of(conn, subject_id)
            else:  # everyone in the disclosure log (Kamoer promises it; it is the safe default)
                for d in value_store.disclosures_of(conn, subject_id):
                    if d.ground and set(d.ground.split(",")) & exempt:
                        continue  # kept under a legal requirement the pack names as an exception
                    sent.setdefault(d.recipient, set()).update(d.categories)
            values = {c: vs for c, vs in self.engine.values_of_subject(conn, subject_id,
                                                                       {c for cs in sent.values() for c in cs}).items()}
            for recipient, cats in sorted(sent.items()):
                enqueue(conn, self.engine.keys, kind="erasure_notice", recipient=recipient, request_ref=row.ref, now=now,
                        message={"subject": "Please erase this person's data", "request": row.ref,
                                 "controller": self.pack.controller.legal_name,
                                 "categories": sorted(cats), "values": {c: values.get(c, []) for c in sorted(cats)}})
            self._audit(conn, "notices_queued", row, "engine", now, {"recipients": sorted(sent)})
        return len(sent)

    def _forget_contacts(self, lookup: str, now: dt.datetime) -> None:
        """Destroy the reply address of every closed request of this person (their keys, journalled first)."""
        with self.engine.db.begin() as conn:
            for r in request_store.holding_keys(conn, self.pack.id, lookup):
                self.engine.keys.record_shredded(f"req:{r.ref}")
                request_store.forget_keys(conn, r.id)
