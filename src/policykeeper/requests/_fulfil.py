"""Answering a verified request: the export (access, copy, portability), a correction, a restriction or objection,
the explanation of an automated decision, or a refusal on one of the pack's grounds. Erasure has its own module."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from .._exceptions import BadValueError
from ..clock import utc
from ..connectors import access as connector_access
from ..store import requests_repo as request_store
from ..store.requests_repo import Request
from . import _letters
from ._base import OPEN, _Base

ACCESS = ("access", "copy", "portability")


class _Fulfilment(_Base):
    def export_archive(self, ref: str, *, actor: str = "subject", now: dt.datetime | None = None) -> bytes:
        """The export of a fulfilled access request as zip bytes (data.json and data.csv), built when asked for,
        so no copy of it is kept at rest."""
        now = self.engine.clock.at(now)
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
        if row.right not in ACCESS:
            raise BadValueError(f"request {ref} is for {row.right!r}, not access")
        if row.status != "fulfilled":
            raise BadValueError(f"request {ref} is {row.status}; the export is ready once it is fulfilled")
        items = self.engine.export_subject(row.subject_id, actor=actor, now=now) if row.subject_id else []
        return export_bytes(ref, self.pack.id, row.pack_version, self._portable(row.right, items),
                             self._company_access(row))

    def fulfil_access(self, ref: str, output: Path | None, *, actor: str = "privacy_officer",
                      now: dt.datetime | None = None) -> int:
        """Write the person's export (data.json and data.csv in one zip) and close the request; returns the number of
        values. Running it again rewrites the same export. With no ``output`` nothing is written: the person
        downloads the export later (:meth:`export_archive`)."""
        now = self.engine.clock.at(now)
        row = self._verified(ref, ACCESS, "access")
        items = self.engine.export_subject(row.subject_id, actor=actor, now=now) if row.subject_id else []
        items = self._portable(row.right, items)
        company = self._company_access(row)
        if output is not None:
            _write_export(output, ref, self.pack.id, row.pack_version, items, company)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            told = None
            if row.status != "fulfilled":
                self._fulfilled(conn, row, actor, now, {"values": len(items)})
                told = self._tell_done(conn, row, _letters.export_ready_text(self._language(row), len(items),
                                                                             self.center_url), now)
        self._send_now(told, now)
        return len(items)

    def _company_access(self, row: Request) -> dict[str, list[dict[str, Any]]]:
        """The person's rows in the company's own databases, by their verified address."""
        ids = self._identities(row)
        out: dict[str, list[dict[str, Any]]] = {}
        for dmap, db in self.databases:
            if ids:
                out.update({k: [{c: (None if v is None else str(v)) for c, v in r.items()} for r in rows]
                            for k, rows in connector_access(db, dmap, ids).items()})
        return out

    def _portable(self, right: str | None, items: list[dict[str, object]]) -> list[dict[str, object]]:
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
        now = self.engine.clock.at(now)
        row = self._verified(ref, ("correct",), "correction")
        rights = () if isinstance(self.pack.rights, str) else self.pack.rights
        spec = next((r for r in rights if r.type == "correct"), None)
        if spec is None:
            raise BadValueError("this policy grants no right to correct")
        if category in spec.locked_fields:
            raise BadValueError(f"{category!r} cannot be changed once registered ({', '.join(spec.promises)})",
                                kind="locked_detail")
        if row.subject_id is None:
            raise BadValueError("nothing is held about this person to correct")
        changed = self.engine.correct_subject(row.subject_id, category, value, actor=actor, now=now)
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            first = row.status != "fulfilled"
            self._fulfilled(conn, row, actor, now, {"corrected": category, "values": changed}, {"corrected": category})
            names = {c.id: c.name for c in self.pack.data_categories}
            told = self._tell_done(conn, row, _letters.corrected_text(self._language(row), names.get(category, category)),
                                   now) if first else None
        self._send_now(told, now)

    def fulfil_restriction(self, ref: str, *, purposes: tuple[str, ...] = (), actor: str = "privacy_officer",
                           now: dt.datetime | None = None) -> None:
        """A verified ``restrict`` request stops all processing but what recorded legal grounds require; an
        ``object`` request stops the named purposes (recorded as objections in the consent ledger)."""
        now = self.engine.clock.at(now)
        row = self._verified(ref, ("restrict", "object"), "restriction or objection")
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
                self._fulfilled(conn, row, actor, now, {"purposes": list(purposes)})

    def fulfil_explanation(self, ref: str, decision_id: str, *, actor: str = "privacy_officer",
                           now: dt.datetime | None = None) -> str:
        """Explain one automated decision about the verified requester (the rules and promises behind it, from the
        audit log) and offer the remedy the pack promises; returns the explanation sent."""
        now = self.engine.clock.at(now)
        rule = self.pack.automated_decisions
        if isinstance(rule, str) or not rule.explanation_on_request:
            raise BadValueError("this policy promises no explanation of automated decisions")
        with self.engine.db.connect() as conn:
            row = self._row(conn, ref)
            entry = request_store.decision(conn, decision_id)
        if row.right != "automated_decision_explanation":
            raise BadValueError(f"request {ref} is for {row.right!r}, not an explanation")
        self._check_verified(row)
        if entry is None or row.subject_id is None or entry.subject_id != row.subject_id:
            raise BadValueError(f"no decision {decision_id!r} about this person")  # never someone else's
        language = self._language(row)
        title, text = _letters.explanation_letter(
            language, ref, decision_id, utc(entry.at), bool(entry.allowed), entry.detail.get("action"),
            list(zip(entry.detail.get("codes", []), entry.detail.get("rules", []), strict=False)),
            list(entry.promises or ()), bool(rule.remedy))
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status != "fulfilled":
                self._fulfilled(conn, row, actor, now, {"decision": decision_id})
            address = self._contact(row)
        self._send(address, (title, text + self.complaint_route(language)))
        return text

    def refuse(self, ref: str, ground: str, *, actor: str = "privacy_officer", now: dt.datetime | None = None) -> None:
        """Refuse on one of the pack's refusal grounds (or because identity could not be verified); the person is
        told the ground."""
        now = self.engine.clock.at(now)
        handling = self.pack.requests
        allowed = {"identity_not_verified"}
        if not isinstance(handling, str) and not isinstance(handling.refusal, str):
            allowed |= set(handling.refusal.discretionary) | set(handling.refusal.mandatory)
        if ground not in allowed:
            raise BadValueError(f"{ground!r} is not a refusal ground of this policy: {', '.join(sorted(allowed))}",
                                kind="refusal_ground")
        with self.engine.db.begin() as conn:
            row = self._row(conn, ref, lock=True)
            if row.status == "refused":
                return
            if row.status not in OPEN:
                raise BadValueError(f"request {ref} is already {row.status}")
            request_store.close(conn, row.id, status="refused", at=now, refusal_ground=ground)
            self._audit(conn, "refused", row, actor, now, {"ground": ground})
            address, language = self._contact(row), self._language(row)
        self._send(address, _letters.refused_letter(language, ref, ground, self.complaint_route(language)))


def _write_export(path: Path, ref: str, pack_id: str, version: str, items: list[dict[str, object]],
                  company: dict[str, list[dict[str, Any]]] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # personal data: readable by its owner only
    with os.fdopen(fd, "wb") as fh:
        fh.write(export_bytes(ref, pack_id, version, items, company))
    tmp.replace(path)  # never a half-written export


def export_bytes(ref: str, pack_id: str, version: str, items: list[dict[str, object]],
                 company: dict[str, list[dict[str, Any]]] | None = None) -> bytes:
    """An export's zip: ``data.json`` (the request, the pack, the values and the company rows) and ``data.csv`` (a row
    a value, then a row a company column); ``bench requests`` writes its floor's export with it too."""
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
