"""The facts boundary over REST: privileged facts are refused with 422 naming them; the fact register; obligations
returned with the values; a signed-in person's attempt on someone else's request is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper.notify import SmtpMailer
from policykeeper.store import audit_log, records

from ..conftest import Inbox
from .conftest import Web, make_web

ZHANG = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper", "password": "Coral#2025!"}
LI = {"phone": "+86 139 0000 2222", "email": "li@example.cn", "username": "li-reef", "password": "Tang#2025!"}


@pytest.fixture
def kalos(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    yield from make_web("kalos", db_url, tmp_path, smtp)


def _stored(web: Web) -> int:
    with web.ctx.db.connect() as conn:
        return len(conn.execute(select(records.c.id)).all())


def test_kalos_41_a_read_abroad_claiming_de_identification_is_refused_with_422(kalos: Web) -> None:
    svc = kalos.as_role("service")
    got = kalos.client.post("/v1/collect", headers=svc, json={
        "person": "li", "context": "business_function", "values": {"basic_data": "Li Wei", "user_info": "li@x.cn"}})
    assert got.status_code == 200, got.text
    claim = kalos.client.post("/v1/read", headers=svc, json={
        "person": "li", "purpose": "provide_services", "categories": ["user_info"],
        "facts": {"region": "us", "conditions": ["de_identified"]}})
    assert claim.status_code == 422, claim.text
    err = claim.json()["error"]
    assert "de_identified" in err["message"] and err["where"].startswith("body.facts.conditions")
    plain = kalos.client.post("/v1/read", headers=svc, json={
        "person": "li", "purpose": "provide_services", "categories": ["user_info"], "facts": {"region": "us"}})
    assert plain.status_code == 403 and "KALOS-41" in plain.text and "li@x.cn" not in plain.text


def test_kamoer_69_a_child_with_a_claimed_parental_consent_is_refused_and_nothing_is_stored(web: Web) -> None:
    svc = web.as_role("service")
    claim = web.client.post("/v1/collect", headers=svc, json={
        "person": "kid", "context": "registration", "values": ZHANG,
        "facts": {"age": 12, "conditions": ["parental_consent"]}})
    assert claim.status_code == 422 and "parental_consent" in claim.json()["error"]["message"]
    child = web.client.post("/v1/collect", headers=svc, json={
        "person": "kid", "context": "registration", "values": ZHANG, "facts": {"age": 12}})
    assert child.status_code == 403 and "KAMOER-69" in child.text
    by_birthday = web.client.post("/v1/collect", headers=svc, json={
        "person": "kid", "context": "registration", "values": {**ZHANG, "birthday": "2013-01-01"}})
    assert by_birthday.status_code == 403 and "KAMOER-69" in by_birthday.text
    assert _stored(web) == 0
    # the ledger is where parental consent comes from
    assert web.client.post("/v1/consents", headers=svc, json={
        "person": "kid", "target": "parental_consent", "action": "given"}).status_code == 200
    ok = web.client.post("/v1/collect", headers=svc, json={
        "person": "kid", "context": "registration", "values": ZHANG, "facts": {"age": 12}})
    assert ok.status_code == 200 and ok.json()["allowed"]


@pytest.mark.parametrize("claim", [
    {"conditions": ["account_exists"]}, {"conditions": ["subscribed:dashboard_app"]},
    {"conditions": ["product_authorized"]}, {"conditions": ["successor_bound"]}, {"conditions": ["transfer_informed"]},
    {"conditions": ["consent:logistics:by_recipient"]}, {"agreements": ["confidentiality"]},
])
def test_every_privileged_fact_is_refused_with_422_naming_it(web: Web, claim: dict[str, list[str]]) -> None:
    got = web.client.post("/v1/collect", headers=web.as_role("service"), json={
        "person": "zhang", "context": "registration", "values": ZHANG, "facts": claim})
    assert got.status_code == 422, got.text
    named = next(iter(claim.values()))[0]
    err = got.json()["error"]
    assert (named in err["message"] or "agreements" in err["message"]) and err["where"].startswith("body.facts")
    assert _stored(web) == 0


def test_attested_conditions_are_accepted_and_audited_with_the_api_key(web: Web) -> None:
    got = web.client.post("/v1/collect", headers=web.as_role("service"), json={
        "person": "zhang", "context": "registration", "values": ZHANG, "facts": {"conditions": ["feature_active"]}})
    assert got.status_code == 200, got.text
    with web.ctx.db.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "decision")
                              .order_by(audit_log.c.seq.desc())).scalars().first()
    assert detail["attested"]["conditions"] == ["feature_active"]
    assert detail["attested"]["by"].startswith("key:")


def test_kamoer_21_agreements_are_recorded_in_the_register_by_a_privacy_officer_only(web: Web) -> None:
    body = {"fact": "agreement", "party": "logistics", "arg": "confidentiality", "reference": "carrier contract"}
    assert web.client.post("/v1/facts", headers=web.as_role("service"), json=body).status_code == 403
    assert web.client.post("/v1/facts", headers=web.as_role("auditor"), json=body).status_code == 403
    got = web.client.post("/v1/facts", headers=web.as_role("privacy_officer"), json=body)
    assert got.status_code == 200 and got.json()["entry"] >= 1
    wrong = web.client.post("/v1/facts", headers=web.as_role("privacy_officer"), json={**body, "arg": "handshake"})
    assert wrong.status_code == 400 and "confidentiality" in wrong.json()["error"]["message"]


def test_kamoer_44_an_advisory_is_returned_with_the_collection_for_the_person(web: Web) -> None:
    got = web.client.post("/v1/collect", headers=web.as_role("service"), json={
        "person": "zhang", "context": "registration", "values": ZHANG})
    assert got.status_code == 200
    shown = {o["value"]: o for o in got.json()["obligations"] if o["kind"] == "show_advisory"}
    assert shown["complex_password"]["for_person"] and shown["complex_password"]["by"] == "caller"
    assert "complex password" in shown["complex_password"]["text"]


def test_a_signed_in_persons_attempt_on_someone_elses_request_is_audited_without_their_values(web: Web) -> None:
    svc = web.as_role("service")
    for person, values in (("zhang", ZHANG), ("li", LI)):
        assert web.client.post("/v1/collect", headers=svc, json={
            "person": person, "context": "registration", "values": values}).status_code == 200
    li = web.sign_in("li", "li@example.cn")
    ref = web.client.post("/v1/me/requests", headers={"Authorization": f"Bearer {li}"},
                          json={"right": "access", "email": "li@example.cn"}).json()["ref"]
    zhang = web.sign_in("zhang", "zhang@example.cn")
    got = web.client.get(f"/v1/me/requests/{ref}", headers={"Authorization": f"Bearer {zhang}"})
    assert got.status_code == 404
    with web.ctx.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.subject_id, audit_log.c.detail)
                            .where(audit_log.c.kind == "access_refused")).all()
    assert len(rows) == 1
    (row,) = rows
    assert row.detail == {"what": "request", "ref": ref, "held_by_another": True, "via": "api"}
    assert "li@example.cn" not in repr(rows) and "Li" not in repr(row.detail)
    missing = web.client.get("/v1/me/requests/0123abcd", headers={"Authorization": f"Bearer {zhang}"})
    assert missing.status_code == 404
    with web.ctx.db.connect() as conn:
        last = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "access_refused")
                            .order_by(audit_log.c.seq.desc())).scalars().first()
    assert last == {"what": "request", "ref": "0123abcd", "held_by_another": False, "via": "api"}
