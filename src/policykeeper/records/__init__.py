"""Records in the standards regulators and partners read.

- consent records as ISO/IEC TS 27560 records in DPV JSON-LD (per person, or everyone in the ledger);
- the pack as DPV, in Turtle or JSON-LD: processes with their purposes, personal data, legal bases, controller,
  recipients, retention, storage location and rights, and the cross-border transfer rule;
- a record of processing activities (GDPR Article 30 style) as CSV or HTML.

(Kantara v1.1 consent receipts come from :func:`policykeeper.consent.receipt`.) Every DPV term used is on the
checked-in list ``dpv-terms.tsv``, taken from the DPV 2.2 specification.
"""

from __future__ import annotations

from typing import Literal

from rdflib import Graph

from ..engine import PolicyEngine
from ..pack import Pack
from ._consent import consent_records
from ._dpv import DPV_NS, terms
from ._pack import pack_graph
from ._ropa import ROPA_COLUMNS, ropa_csv, ropa_html, ropa_rows

__all__ = ["CONTEXT", "DPV_NS", "ROPA_COLUMNS", "consent_records", "consent_records_jsonld", "pack_dpv", "pack_graph",
           "ropa_csv", "ropa_html", "ropa_rows", "serialize", "terms"]

CONTEXT = {"dpv": str(DPV_NS), "dct": "http://purl.org/dc/terms/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
           "xsd": "http://www.w3.org/2001/XMLSchema#", "loc": "https://w3id.org/dpv/loc#"}
"""The JSON-LD context of every export (prefixes only, so a reader sees the DPV names as written in the spec)."""


def serialize(graph: Graph, fmt: Literal["turtle", "json-ld"]) -> str:
    if fmt == "turtle":
        return graph.serialize(format="turtle")
    return graph.serialize(format="json-ld", context=CONTEXT, indent=2)


def consent_records_jsonld(eng: PolicyEngine, external_id: str | None = None) -> str:
    """:func:`consent_records` as JSON-LD."""
    return serialize(consent_records(eng, external_id), "json-ld")


def pack_dpv(pack: Pack, fmt: Literal["turtle", "json-ld"] = "turtle") -> str:
    """The pack as DPV, in Turtle or JSON-LD."""
    return serialize(pack_graph(pack), fmt)
