"""The DPV terms the exports may use, read from the checked-in list (``dpv-terms.tsv``), and the graph's prefixes."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from .._exceptions import BadValueError

__all__ = ["DCT", "DPV_NS", "LOC", "RDF", "RDFS", "TERMS_FILE", "XSD", "dpv", "location", "new_graph", "terms", "urn"]

TERMS_FILE = Path(__file__).with_name("dpv-terms.tsv")
DPV_NS = Namespace("https://w3id.org/dpv#")
LOC = Namespace("https://w3id.org/dpv/loc#")
DCT = DCTERMS
SCHEMA_27560 = URIRef("https://w3id.org/dpv/schema/dpv-27560#record")


@cache
def terms() -> dict[str, str]:
    """Local name -> IRI of every DPV term an export may use."""
    found: dict[str, str] = {}
    for line in TERMS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, iri, _ = line.split("\t", 2)
            found[name] = iri
    return found


def dpv(name: str) -> URIRef:
    """The IRI of a DPV term on the checked-in list; any other name is a programming error caught here."""
    iri = terms().get(name)
    if iri is None:
        raise BadValueError(f"dpv:{name} is not on the checked-in list of DPV terms ({TERMS_FILE.name})")
    return URIRef(iri)


def urn(pack_id: str, *parts: str) -> URIRef:
    """A stable identifier for a thing of a pack, e.g. ``urn:policykeeper:kokkok:purpose:p1``."""
    return URIRef(":".join(["urn:policykeeper", quote(pack_id, safe=""), *(quote(p, safe="") for p in parts)]))


def location(region: str) -> URIRef | None:
    """A DPV location for an ISO country code (``CN`` -> ``loc:CN``); None for a named area."""
    return LOC[region] if len(region) == 2 and region.isalpha() and region.isupper() else None


def new_graph() -> Graph:
    g = Graph()
    g.bind("dpv", DPV_NS)
    g.bind("loc", LOC)
    g.bind("dct", DCT)
    return g
