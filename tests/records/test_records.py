"""Standard records: each export parses back (rdflib, or the CSV reader) to what was exported, and uses DPV terms
spelled as the DPV specification spells them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF
from typer.testing import CliRunner

from policykeeper import SubjectNotFoundError, load_pack
from policykeeper.cli import app
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.records import (
    DPV_NS,
    ROPA_COLUMNS,
    consent_records,
    consent_records_jsonld,
    pack_dpv,
    pack_graph,
    ropa_csv,
    ropa_html,
    ropa_rows,
    terms,
)
from policykeeper.records._dpv import dpv
from policykeeper.store import open_database
from policykeeper.web._site import new_device, record_choices

from ..conftest import REPO

PACKS = ("kokkok", "kalos", "koso", "konzen", "kamoer")
T0 = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=1)
SPEC = {line for line in (REPO / "tests" / "data" / "dpv-2.2-terms.txt").read_text().splitlines()
        if line and not line.startswith("#")}


def _dpv_iris(g: Graph) -> set[str]:
    return {str(t) for triple in g for t in triple if isinstance(t, URIRef) and str(t).startswith(str(DPV_NS))}


def test_the_checked_in_dpv_terms_are_terms_of_the_dpv_specification() -> None:
    assert len(SPEC) > 1000 and {"ConsentRecord", "hasConsentStatus", "hasPurpose"} <= SPEC  # the spec's index
    listed = terms()
    assert listed and set(listed) <= SPEC, sorted(set(listed) - SPEC)
    assert all(iri == f"https://w3id.org/dpv#{name}" for name, iri in listed.items())
    with pytest.raises(Exception, match="not on the checked-in list"):
        dpv("hasPurposes")  # a misspelling never reaches an export


@pytest.mark.parametrize("name", PACKS)
def test_the_pack_as_dpv_round_trips_in_turtle_and_json_ld(name: str) -> None:
    pack = load_pack(name)
    g = pack_graph(pack)
    for fmt in ("turtle", "json-ld"):
        back = Graph().parse(data=pack_dpv(pack, fmt), format=fmt)  # type: ignore[arg-type]
        assert isomorphic(g, back), fmt
    used = {iri.removeprefix(str(DPV_NS)) for iri in _dpv_iris(g)}
    assert used <= set(terms()) and used <= SPEC
    processes = set(g.subjects(RDF.type, dpv("Process")))
    assert len(processes) == len(pack.purposes.items)
    for p in processes:  # every process names its purpose and controller
        assert g.value(p, dpv("hasPurpose")) is not None and g.value(p, dpv("hasDataController")) is not None


def test_the_pack_as_dpv_says_what_the_pack_says() -> None:
    pack = load_pack("kokkok")
    g = pack_graph(pack)
    base = "urn:policykeeper:kokkok:"
    contract = URIRef(base + "process:p1_contract_performance")
    assert g.value(contract, dpv("hasLegalBasis")) == dpv("Contract")
    ads = URIRef(base + "process:cookie_ad_delivery")
    assert g.value(ads, dpv("hasLegalBasis")) == dpv("ImpliedConsent")
    assert set(g.objects(ads, dpv("hasPersonalData"))) == {URIRef(base + "data:cookie")}
    recipients = {r.id for r in pack.recipients if "cookie_ad_delivery" in r.purposes}
    assert {str(r).rsplit(":", 1)[1] for r in g.objects(ads, dpv("hasRecipient"))} == recipients and recipients
    assert g.value(URIRef(base + "controller"), dpv("hasName")).toPython() == pack.controller.legal_name  # type: ignore[union-attr]
    assert set(g.subjects(RDF.type, dpv("DataSubjectRight")))  # rights
    assert set(g.subjects(RDF.type, dpv("StorageDuration")))  # retention


def test_consent_records_are_27560_records_that_round_trip(db_url: str, tmp_path: Path) -> None:
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.set_consent("alice@example.com", "marketing_and_promotions", "given", now=T0)
    eng.set_consent("alice@example.com", "marketing_and_promotions", "withdrawn", now=T1)
    eng.set_consent("bob@example.com", "marketing_and_promotions", "given", now=T0)
    device, _ = new_device(eng)
    record_choices(eng, device, {"cookie_ux": True}, method="banner", gpc=True, origin="https://shop.example", now=T0)

    text = consent_records_jsonld(eng, "alice@example.com")
    assert "alice" not in text and "example.com" not in text  # only the pseudonymous subject id
    g = Graph().parse(data=text, format="json-ld")
    assert isomorphic(g, consent_records(eng, "alice@example.com"))
    (record,) = g.subjects(RDF.type, dpv("ConsentRecord"))
    assert str(g.value(record, DCTERMS.conformsTo)) == "https://w3id.org/dpv/schema/dpv-27560#record"
    statuses = {(g.value(s, RDF.type), g.value(s, dpv("isIndicatedAtTime")).toPython())  # type: ignore[union-attr]
                for s in g.objects(record, dpv("hasConsentStatus"))}
    assert statuses == {(dpv("ConsentGiven"), T0), (dpv("ConsentWithdrawn"), T1)}
    process = g.value(record, dpv("hasProcess"))
    assert g.value(process, dpv("hasPurpose")) == URIRef("urn:policykeeper:kokkok:purpose:marketing_and_promotions")
    assert g.value(process, dpv("hasLegalBasis")) == dpv("Consent")

    everyone = Graph().parse(data=consent_records_jsonld(eng), format="json-ld")
    subjects = set(everyone.objects(None, dpv("hasDataSubject")))
    assert len(subjects) == 3 and URIRef(f"urn:policykeeper:kokkok:subject:{device}") in subjects
    methods = {str(m) for m in everyone.objects(None, dpv("hasIndicationMethod"))}
    assert {"GPC", "consent_script"} <= methods  # the website's choices, GPC's recorded as such
    assert _dpv_iris(everyone) <= {terms()[n] for n in terms()}
    with pytest.raises(SubjectNotFoundError):
        consent_records(eng, "nobody@example.com")
    eng.db.dispose()


@pytest.mark.parametrize("name", PACKS)
def test_the_record_of_processing_round_trips_through_the_csv_reader(name: str) -> None:
    pack = load_pack(name)
    rows = list(csv.DictReader(io.StringIO(ropa_csv(pack))))
    assert rows == ropa_rows(pack) and tuple(rows[0]) == ROPA_COLUMNS
    assert [r["purpose_id"] for r in rows] == [p.id for p in pack.purposes.items]
    assert all(r["controller"] == pack.controller.legal_name and r["personal_data"] for r in rows)


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        self._in = tag in ("td", "th")
        if self._in:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = False if tag in ("td", "th") else self._in

    def handle_data(self, data: str) -> None:
        if self._in:
            self.rows[-1][-1] += data


def test_the_record_of_processing_in_html_holds_the_same_table() -> None:
    pack = load_pack("kamoer")
    parser = _Cells()
    parser.feed(ropa_html(pack))
    header, *body = parser.rows
    assert header == [c.replace("_", " ") for c in ROPA_COLUMNS]
    assert body == [[r[c] for c in ROPA_COLUMNS] for r in ropa_rows(pack)]


def test_the_cli_prints_each_record(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    KeyRing.init(home / "keys")
    got = runner.invoke(app, ["records", "pack", "--pack", "kalos", "--format", "json-ld"])
    assert got.exit_code == 0 and isomorphic(Graph().parse(data=got.output, format="json-ld"), pack_graph(load_pack("kalos")))
    out = tmp_path / "ropa.csv"
    got = runner.invoke(app, ["records", "ropa", "--pack", "kalos", "--out", str(out)])
    assert got.exit_code == 0 and out.read_text() == ropa_csv(load_pack("kalos"))
    got = runner.invoke(app, ["records", "ropa", "--pack", "kalos", "--format", "pdf"])
    assert got.exit_code != 0 and "csv or html" in got.output
    assert runner.invoke(app, ["consent", "give", "u1", "marketing_and_promotions", "--home", str(home)]).exit_code == 0
    got = runner.invoke(app, ["records", "consent", "u1", "--home", str(home)])
    assert got.exit_code == 0, got.output
    assert json.loads(got.output)["@graph"]
    got = runner.invoke(app, ["records", "consent", "--home", str(home)])
    assert got.exit_code != 0 and "--all" in got.output
    got = runner.invoke(app, ["records", "consent", "--all", "--home", str(home)])
    assert got.exit_code == 0 and "dpv:ConsentRecord" in got.output
