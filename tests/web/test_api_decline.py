"""What declining the policy does is the pack's ``acceptance.decline_effect``: KOKKOK's ``limited_service`` keeps only
what the law requires going, KOSO's ``no_processing`` (and a pack that does not say) stops everything; the person is
told the consequence before the refusal is recorded. Through the REST API, on the ledger's word only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import DeniedError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.store import open_database
from policykeeper.store._schema import consent_events

from ..conftest import Inbox
from .conftest import Web, make_web

ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    yield from make_web("kokkok", db_url, tmp_path, smtp)


def _read(web: Web, purpose: str) -> tuple[int, str]:
    got = web.client.post("/v1/read", headers=web.as_role("service"), json={
        "person": "alice", "purpose": purpose, "categories": ["name"]})
    return got.status_code, got.text


def test_kokkok_01_declining_limits_the_service_to_what_the_law_requires(kokkok: Web) -> None:
    svc = kokkok.as_role("service")
    assert kokkok.client.post("/v1/collect", headers=svc, json={
        "person": "alice", "context": "personal_customer", "values": ALICE, "facts": {"channel": "online"}}
    ).status_code == 200
    assert _read(kokkok, "p1_contract_performance")[0] == 200
    declined = kokkok.client.post("/v1/consents", headers=svc, json={
        "person": "alice", "target": "policy", "action": "refused"})
    assert declined.status_code == 200, declined.text
    status, text = _read(kokkok, "p1_contract_performance")  # rests on the agreement: stops
    assert status == 403 and "limited to what the law requires" in text and "KOKKOK-01" in text
    status, text = _read(kokkok, "legal_purposes")  # a legal obligation: goes on
    assert status == 200 and "Alice Phommachanh" in text
    again = kokkok.client.post("/v1/collect", headers=svc, json={
        "person": "alice", "context": "one_to_one_inquiry", "values": {"consultation_records": "refund?"},
        "facts": {"channel": "consultation"}})
    assert again.status_code == 403 and "policy_declined" in again.text  # nothing new is collected
    shared = kokkok.client.post("/v1/share", headers=svc, json={
        "person": "alice", "recipient": "advertising_marketing_partners", "categories": ["email"],
        "purpose": "marketing_and_promotions"})
    assert shared.status_code == 403 and "policy_declined" in shared.text
    claim = kokkok.client.post("/v1/read", headers=svc, json={  # a caller cannot state the decline away, or in
        "person": "alice", "purpose": "legal_purposes", "categories": ["name"], "facts": {"conditions": ["policy"]}})
    assert claim.status_code == 422


def test_no_processing_stops_even_what_the_law_requires(db_url: str, tmp_path: Path) -> None:
    for effect in ("no_processing", "unspecified"):
        base = load_pack("kokkok")
        pack = base.model_copy(update={"acceptance": base.acceptance.model_copy(update={"decline_effect": effect})})
        eng = PolicyEngine(pack, open_database(db_url), KeyRing.open(tmp_path / f"keys-{effect}", create=True))
        who = f"alice-{effect}"
        eng.collect(who, "personal_customer", ALICE, Facts(channel="online"))
        assert eng.read(who, "legal_purposes", {"name"})["name"] == [ALICE["name"]]
        eng.set_consent(who, "policy", "refused")
        with pytest.raises(DeniedError) as info:
            eng.read(who, "legal_purposes", {"name"})
        assert info.value.decision.denials[0].message == "the person declined the policy: no processing"


def test_the_person_is_told_what_declining_costs_where_the_policy_gives_no_notice(db_url: str, tmp_path: Path) -> None:
    koso = PolicyEngine(load_pack("koso"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    assert koso.refusal_notice("policy") == "If you do not agree to this policy, please do not use our Site or Apps."
    base = load_pack("koso")
    silent = tuple(c.model_copy(update={"refusal_notice": None}) for c in base.consents)
    for effect, words in (("no_processing", "none of your data is processed"), ("unspecified", "none of your data"),
                          ("limited_service", "only where the law requires it")):
        pack = base.model_copy(update={"consents": silent, "acceptance": base.acceptance.model_copy(
            update={"decline_effect": effect})})
        eng = PolicyEngine(pack, koso.db, koso.keys)
        assert words in (eng.refusal_notice("policy") or "")
        eng.collect(f"rider-{effect}", "any_interaction", {"browser_name": "Firefox 126", "device_type": "Pixel 8",
                                                           "connection_info": "Android 14"})
        seq = eng.set_consent(f"rider-{effect}", "policy", "refused")
        with koso.db.connect() as conn:
            evidence = conn.execute(select(consent_events.c.evidence).where(consent_events.c.seq == seq)).scalar_one()
        assert words in evidence["notice"]  # the consequence told is on the record with the refusal
