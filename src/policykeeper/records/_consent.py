"""Consent records as ISO/IEC TS 27560 records in DPV (the DPVCG profile ``dpv-27560#record``).

One ``dpv:ConsentRecord`` per person (or website device) and target, holding every event of the ledger for it as a
consent status (given, refused, withdrawn) with its time and how it was indicated. The person appears only by the
pseudonymous subject id (or device id): no identifier of theirs is in the record.
"""

from __future__ import annotations

import uuid

from rdflib import BNode, Graph, Literal

from .._exceptions import SubjectNotFoundError
from ..clock import utc
from ..engine import PolicyEngine
from ..store import ledger as ledger_store
from ..store import people as people_store
from ._dpv import DCT, RDF, SCHEMA_27560, XSD, dpv, new_graph, urn

__all__ = ["STATUS", "consent_records"]

STATUS = {"given": "ConsentGiven", "accepted": "ConsentGiven", "refused": "ConsentRefused",
          "withdrawn": "ConsentWithdrawn"}
"""Ledger actions as DPV consent statuses."""
_NS = uuid.UUID("6f1c3c52-8d0e-4a53-9b86-4a8f3f3a2f27")


def consent_records(eng: PolicyEngine, external_id: str | None = None) -> Graph:
    """The 27560 records of one person (by the app's identifier) or, without one, of everyone in the ledger."""
    pack = eng.pack
    with eng.db.connect() as conn:
        subject_id = None
        if external_id is not None:
            row = people_store.by_lookup(conn, eng.keys.lookup_hash(external_id))
            if row is None or row.wrapped_key is None or eng.keys.is_shredded(row.id):
                raise SubjectNotFoundError("no data is held about that person")
            subject_id = row.id
        events = ledger_store.events_of_pack(conn, pack.id, subject_id)
    purposes = {p.id: p for p in pack.purposes.items}
    rules = {c.id: c for c in pack.consents}
    recipients = {r.id for r in pack.recipients}
    g = new_graph()
    controller = urn(pack.id, "controller")
    records: dict[tuple[str, str], tuple] = {}  # type: ignore[type-arg]
    for e in events:
        key = (e.subject_id, e.target)
        if key not in records:
            rid = uuid.uuid5(_NS, f"{pack.id}|{e.subject_id}|{e.target}")
            node, process = urn(pack.id, "consent-record", str(rid)), BNode()
            records[key] = (node, process)
            g.add((node, RDF.type, dpv("ConsentRecord")))
            g.add((node, DCT.conformsTo, SCHEMA_27560))
            g.add((node, DCT.identifier, Literal(str(rid))))
            g.add((node, dpv("hasDataSubject"), urn(pack.id, "subject", e.subject_id)))
            g.add((node, dpv("hasProcess"), process))
            g.add((process, RDF.type, dpv("Process")))
            g.add((process, dpv("hasDataController"), controller))
            g.add((process, dpv("hasLegalBasis"), dpv("Consent")))
            target = e.target
            covered = list(rules[target].targets) if target in rules else [target]
            for t in covered:
                if t in purposes:
                    g.add((process, dpv("hasPurpose"), urn(pack.id, "purpose", t)))
                elif t in recipients:
                    g.add((process, dpv("hasRecipient"), urn(pack.id, "recipient", t)))
            g.add((process, DCT.subject, Literal(target)))
        node, _ = records[key]
        at = utc(e.at)
        status = BNode()
        g.add((node, dpv("hasConsentStatus"), status))
        g.add((status, RDF.type, dpv(STATUS.get(e.action, "ConsentGiven"))))
        g.add((status, dpv("isIndicatedAtTime"), Literal(at.isoformat(), datatype=XSD.dateTime)))
        g.add((status, dpv("isIndicatedBy"), dpv("DataSubject")))
        g.add((status, dpv("hasIndicationMethod"), Literal(str((e.evidence or {}).get("by", "unspecified")))))
        notice = urn(pack.id, "notice", e.pack_version)
        g.add((status, dpv("hasNotice"), notice))
        g.add((notice, RDF.type, dpv("PrivacyNotice")))
        g.add((notice, DCT.identifier, Literal(e.pack_version)))
        g.add((node, DCT.modified, Literal(at.isoformat(), datatype=XSD.dateTime)))
    for node, _ in records.values():  # keep only the latest modification time
        times = sorted(g.objects(node, DCT.modified), key=str)
        for old in times[:-1]:
            g.remove((node, DCT.modified, old))
    return g
