"""The pack as DPV: its processes (purpose, personal data, legal basis, controller, recipients, retention, storage
location and rights), its recipients and its cross-border transfer rule."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef

from ..pack import Pack
from ..pack._data import Purpose
from ..pack._types import FixedDuration
from ._dpv import DCT, RDF, RDFS, dpv, location, new_graph, urn

__all__ = ["LEGAL_BASES", "iso_duration", "pack_graph", "purpose_categories", "purpose_recipients", "purpose_retention"]

LEGAL_BASES = {
    "consent": "Consent", "explicit_consent": "ExplicitlyExpressedConsent", "separate_consent": "ExplicitlyExpressedConsent",
    "parental_consent": "ExplicitlyExpressedConsent", "implied_by_use": "ImpliedConsent", "contract": "Contract",
    "legal_obligation": "LegalObligation", "legitimate_operation_security": "LegitimateInterest",
    "legitimate_interest": "LegitimateInterest", "vital_interest_emergency": "VitalInterest",
    "public_interest": "PublicInterest",
}
"""The pack's legal bases as DPV legal-basis classes (``unspecified`` has none)."""

_ISO = {"calendar_days": "P{}D", "hours": "PT{}H", "months": "P{}M", "years": "P{}Y"}


def iso_duration(d: object) -> str:
    """A fixed duration in ISO 8601 (``P30D``); business days and symbolic durations in words."""
    if isinstance(d, FixedDuration):
        pattern = _ISO.get(d.unit)
        return pattern.format(d.value) if pattern else f"{d.value} {d.unit.replace('_', ' ')}"
    return str(d).replace("_", " ")


def purpose_categories(pack: Pack, p: Purpose) -> list[str]:
    return [c.id for c in pack.data_categories] if isinstance(p.categories, str) else list(p.categories)


def purpose_recipients(pack: Pack, p: Purpose) -> list[str]:
    return [r.id for r in pack.recipients if p.id in r.purposes]


def purpose_retention(pack: Pack, p: Purpose) -> list[tuple[str, str, str]]:
    """(rule id, duration, what happens at the end) of each retention rule covering the purpose's data."""
    if isinstance(pack.retention, str):
        return []
    cats = set(purpose_categories(pack, p))
    return [(r.id, iso_duration(r.duration), f"from {r.start.replace('_', ' ')}; then {str(r.end_action).replace('_', ' ')}")
            for r in pack.retention
            if (r.purposes == "any" or p.id in r.purposes) and (r.categories == "all" or cats & set(r.categories))]


def pack_graph(pack: Pack) -> Graph:
    """The pack as a DPV graph."""
    g = new_graph()
    pid = pack.id
    notice = urn(pid, "notice", pack.version.label)
    controller = urn(pid, "controller")
    g.add((notice, RDF.type, dpv("PrivacyNotice")))
    g.add((notice, DCT.title, Literal(pack.name)))
    g.add((notice, DCT.identifier, Literal(pack.version.label)))
    g.add((notice, DCT.language, Literal(pack.language)))
    if pack.version.published_url:
        g.add((notice, DCT.source, URIRef(pack.version.published_url)))
    g.add((notice, dpv("hasDataController"), controller))

    g.add((controller, RDF.type, dpv("DataController")))
    g.add((controller, dpv("hasName"), Literal(pack.controller.legal_name)))
    if pack.controller.address:
        g.add((controller, dpv("hasAddress"), Literal(pack.controller.address)))
    for ch in pack.contacts.channels:
        g.add((controller, dpv("hasContact"), Literal(f"{ch.kind}: {ch.value}")))
    where = location(pack.controller.jurisdiction)
    if where is not None:
        g.add((controller, dpv("hasJurisdiction"), where))

    for c in pack.data_categories:
        node = urn(pid, "data", c.id)
        g.add((node, RDF.type, dpv("PersonalData")))
        if c.sensitive_kinds:
            g.add((node, RDF.type, dpv("SensitivePersonalData")))
        g.add((node, RDFS.label, Literal(c.name)))
        g.add((node, DCT.identifier, Literal(c.fides_key)))
    for r in pack.recipients:
        node = urn(pid, "recipient", r.id)
        g.add((node, RDF.type, dpv("Recipient")))
        if r.third_party:
            g.add((node, RDF.type, dpv("ThirdParty")))
        g.add((node, dpv("hasName"), Literal(r.name)))
        g.add((node, DCT.type, Literal(r.category)))
        if not isinstance(r.place_of_processing, str) or r.place_of_processing != "unspecified":
            loc = location(r.place_of_processing)
            g.add((node, dpv("hasLocation"), loc if loc is not None else Literal(r.place_of_processing)))
    rights = [] if isinstance(pack.rights, str) else list(dict.fromkeys(r.type for r in pack.rights))
    for kind in rights:
        node = urn(pid, "right", kind)
        g.add((node, RDF.type, dpv("DataSubjectRight")))
        g.add((node, RDFS.label, Literal(kind.replace("_", " "))))
    regions = () if isinstance(pack.storage, str) or isinstance(pack.storage.home_regions, str) \
        else pack.storage.home_regions

    for p in pack.purposes.items:
        purpose = urn(pid, "purpose", p.id)
        g.add((purpose, RDF.type, dpv("Purpose")))
        g.add((purpose, RDFS.label, Literal(p.name)))
        if p.description:
            g.add((purpose, DCT.description, Literal(p.description)))
        g.add((purpose, DCT.type, Literal(p.data_use)))
        process = urn(pid, "process", p.id)
        g.add((notice, dpv("hasProcess"), process))
        g.add((process, RDF.type, dpv("Process")))
        g.add((process, dpv("hasPurpose"), purpose))
        g.add((process, dpv("hasDataController"), controller))
        basis = LEGAL_BASES.get(p.legal_basis)
        if basis is not None:
            g.add((process, dpv("hasLegalBasis"), dpv(basis)))
        for cid in purpose_categories(pack, p):
            g.add((process, dpv("hasPersonalData"), urn(pid, "data", cid)))
        for rid in purpose_recipients(pack, p):
            g.add((process, dpv("hasRecipient"), urn(pid, "recipient", rid)))
        for kind in rights:
            g.add((process, dpv("hasRight"), urn(pid, "right", kind)))
        for rule, duration, end in purpose_retention(pack, p):
            cond, dur = BNode(), BNode()
            g.add((process, dpv("hasStorageCondition"), cond))
            g.add((cond, RDF.type, dpv("StorageDuration")))
            g.add((cond, DCT.identifier, Literal(rule)))
            g.add((cond, DCT.description, Literal(end)))
            g.add((cond, dpv("hasDuration"), dur))
            g.add((dur, RDF.type, dpv("Duration")))
            g.add((dur, RDF.value, Literal(duration)))
        for region in regions:
            cond = BNode()
            g.add((process, dpv("hasStorageCondition"), cond))
            g.add((cond, RDF.type, dpv("StorageLocation")))
            loc = location(region)
            g.add((cond, dpv("hasLocation"), loc if loc is not None else Literal(region)))

    t = pack.transfers
    if not isinstance(t, str) and t.cross_border != "unspecified":
        node = urn(pid, "transfer")
        g.add((notice, dpv("hasProcess"), node))
        g.add((node, RDF.type, dpv("CrossBorderTransfer")))
        g.add((node, DCT.description, Literal(transfer_words(pack))))
    return g


def transfer_words(pack: Pack) -> str:
    """The cross-border transfer rule in words."""
    t = pack.transfers
    if isinstance(t, str) or t.cross_border == "unspecified":
        return "not stated by the policy"
    if t.cross_border == "not_allowed":
        return "no transfer across borders"
    pre = f" {t.precondition_logic} of: " + ", ".join(x.replace("_", " ") for x in t.preconditions) if t.preconditions else ""
    dest = f" to {t.destination}" if t.destination else ""
    return f"allowed{dest} with preconditions{pre}".rstrip()
