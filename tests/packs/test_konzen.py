"""Konzen's engine-level promises (collection, consent, purpose, sharing, security, other), each proven by ID.

Every test drives the real engine over SQLite and PostgreSQL and checks the denial path as well as the allowed one.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from policykeeper import BadValueError, ConfigError, DeniedError, load_pack, render_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, backup_database, consent_events, disclosures, open_database, records

from ..helpers import codes, promises

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
SIGNUP = {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}
LOGS = {"device_info": "Huawei P60", "browsing_info": "/domains/search?q=shop", "click_info": "buy shop.cn",
        "cookie_identifiers": "ck-91ab"}
POSITIONING = Facts(conditions=frozenset({"device_positioning_on", "feature_active:location_based_service"}))
AGREEMENT = Facts()  # the commitment letter is on file in the fact register (see _sign)


def _sign(eng: PolicyEngine) -> None:
    eng.record_fact("agreement", party="advertisers_and_agents", arg="commitment_letter", reference="letter 2024-3",
                    now=NOW)


@pytest.fixture
def konzen(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = PolicyEngine(load_pack("konzen"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("wang", "registration", SIGNUP, now=NOW)
    return eng




def test_konzen_01_using_the_service_records_agreement_to_the_current_policy(konzen: PolicyEngine) -> None:
    with konzen.db.connect() as conn:
        rows = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.pack_version,
                                   consent_events.c.evidence)).all()
    assert [(r.target, r.action) for r in rows] == [("policy", "accepted")]
    assert rows[0].pack_version == konzen.compiled.version and rows[0].evidence == {"by": "first_use"}
    konzen.collect("wang", "service_logs", LOGS, now=LATER)  # continued use: no second acceptance of the same version
    with konzen.db.connect() as conn:
        assert len(conn.execute(select(consent_events.c.seq)).all()) == 1
    assert konzen.pack.acceptance.model == "implied_by_use" and "KONZEN-01" in konzen.pack.acceptance.promises
    with pytest.raises(DeniedError) as info:  # declining means no processing
        konzen.set_consent("li", "policy", "refused", now=NOW)
        konzen.collect("li", "registration", SIGNUP, now=NOW)
    assert "policy_declined" in codes(info)


def test_konzen_02_the_rendered_policy_links_terms_to_their_explanations(konzen: PolicyEngine) -> None:
    html = render_pack(konzen.pack, "html")
    assert '<a class="term" href="#glossary-cookies">' in html and 'id="glossary-cookies"' in html
    assert 'href="#glossary-ssl"' in html.lower() or 'href="#glossary-SSL"' in html
    plain = render_pack(konzen.pack.model_copy(update={"glossary": {}}), "html")
    assert 'class="term"' not in plain  # the links come from the pack's glossary, nothing else


def test_konzen_04_registration_collects_phone_and_email(konzen: PolicyEngine) -> None:
    with konzen.db.connect() as conn:
        cats = sorted(conn.execute(select(records.c.category)).scalars().all())
    assert cats == ["email", "phone"]
    assert konzen.read("wang", "identity_verification", {"phone", "email"}, now=LATER) == {
        "email": ["wang@example.cn"], "phone": ["+86 135 1234 5678"]}
    with pytest.raises(DeniedError) as info:  # nothing the context does not declare
        konzen.collect("li", "registration", {**SIGNUP, "id_card": "1101"}, now=NOW)
    assert "undeclared_field" in codes(info) and "KONZEN-04" in promises(info)


def test_konzen_05_missing_required_information_is_refused_with_its_consequence(konzen: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        konzen.collect("li", "registration", {"phone": "+86 135 0000 0000"}, now=NOW)
    assert "essential_missing" in codes(info) and "KONZEN-05" in promises(info)
    assert "you may not be able to register as our user" in str(info.value)  # the consequence, shown
    with konzen.db.connect() as conn:
        assert len(conn.execute(select(records.c.id)).all()) == 2  # only wang's


def test_konzen_06_location_only_with_positioning_on_during_a_location_service(konzen: PolicyEngine) -> None:
    konzen.set_consent("wang", "device_positioning", "given", now=NOW)
    loc = {"location": "GPS 31.23,121.47"}
    for missing in ("device_positioning_on", "feature_active:location_based_service"):
        facts = Facts(conditions=POSITIONING.conditions - {missing})
        with pytest.raises(DeniedError) as info:
            konzen.collect("wang", "location_services", loc, facts, now=LATER)
        assert "condition_unmet" in codes(info) and "KONZEN-06" in promises(info)
    assert konzen.collect("wang", "location_services", loc, POSITIONING, now=LATER).decision.allowed


def test_konzen_07_turning_positioning_off_stops_location_at_once(konzen: PolicyEngine) -> None:
    konzen.set_consent("wang", "device_positioning", "given", now=NOW)
    konzen.collect("wang", "location_services", {"location": "GPS 31.23,121.47"}, POSITIONING, now=NOW)
    assert konzen.read("wang", "location_based_services", {"location"}, now=LATER)["location"]
    konzen.set_consent("wang", "device_positioning", "withdrawn", evidence={"via": "positioning switched off"}, now=LATER)
    after = LATER + dt.timedelta(seconds=1)
    with pytest.raises(DeniedError) as info:
        konzen.read("wang", "location_based_services", {"location"}, now=after)
    assert "consent_missing" in codes(info)
    with pytest.raises(DeniedError) as info:
        konzen.collect("wang", "location_services", {"location": "GPS 31.24,121.48"}, POSITIONING, now=after)
    assert "consent_missing" in codes(info) and "KONZEN-07" in promises(info)


def test_konzen_10_every_storage_location_is_covered_by_the_controls(
    konzen: PolicyEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = konzen.pack.storage
    assert not isinstance(storage, str) and set(storage.media) == {"app_local_cache", "database", "server_logs"}
    assert "KONZEN-10" in {p for m in konzen.pack.security if m.id == "storage_media" for p in m.promises}  # type: ignore[union-attr]
    with caplog.at_level(logging.DEBUG):  # server logs: no personal value is ever logged
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
        konzen.collect("zhao", "registration", {"phone": "+86 186 7777 8888", "email": "zhao@example.cn"}, now=NOW)
        konzen.read("zhao", "customer_service", {"phone"}, now=LATER)
        with pytest.raises(DeniedError):
            konzen.read("zhao", "resale", {"phone"}, now=LATER)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert caplog.records and "zhao@example.cn" not in caplog.text and "7777 8888" not in caplog.text
    backup = tmp_path / "b.pkbak"
    backup_database(konzen.db, backup)  # the database and its backups: ciphertext only
    import gzip

    assert b"zhao@example.cn" not in gzip.decompress(backup.read_bytes())


def test_konzen_17_controls_against_loss_misuse_unauthorised_access_and_disclosure(
    konzen: PolicyEngine, tmp_path: Path
) -> None:
    assert "KONZEN-17" in {p for m in konzen.pack.security if m.id == "loss_and_misuse" for p in m.promises}  # type: ignore[union-attr]
    with konzen.db.connect() as conn:  # unauthorised access to the database yields ciphertext
        assert all(b"wang@" not in v for v in conn.execute(select(records.c.value)).scalars())
    with pytest.raises(DeniedError):  # improper use
        konzen.read("wang", "sell_contacts", {"email"}, now=LATER)
    with pytest.raises(DeniedError):  # disclosure
        konzen.share("wang", "spam_house", {"email"}, "surveys", now=LATER)
    counts = backup_database(konzen.db, tmp_path / "b.pkbak")  # loss
    assert counts["records"] == 2


def test_konzen_18_a_networked_database_connection_must_use_tls(konzen: PolicyEngine, tmp_path: Path) -> None:
    assert "KONZEN-18" in {p for m in konzen.pack.security if m.kind == "encryption_in_transit" for p in m.promises}  # type: ignore[union-attr]
    keys = KeyRing.open(tmp_path / "keys")
    remote = create_engine("postgresql+psycopg://pk@db.example.cn/policykeeper")
    with pytest.raises(ConfigError, match="KONZEN-18"):
        PolicyEngine(konzen.pack, remote, keys)
    for ok in ("postgresql+psycopg://pk@db.example.cn/policykeeper?sslmode=verify-full",
               "postgresql+psycopg://pk@/policykeeper?host=/run/postgresql", "postgresql+psycopg://pk@localhost/pk"):
        PolicyEngine(konzen.pack, create_engine(ok), keys)
    PolicyEngine(load_pack("kokkok"), remote, keys)  # a pack without that promise does not demand it


def test_konzen_19_the_purpose_list_is_closed(konzen: PolicyEngine) -> None:
    konzen.collect("wang", "service_logs", LOGS, now=NOW)
    for purpose in ("provide_services", "identity_verification", "customer_service", "surveys"):
        assert konzen.read("wang", purpose, {"email"}, now=LATER)["email"] == ["wang@example.cn"]
    assert konzen.read("wang", "relevant_ads", {"click_info"}, now=LATER)["click_info"]
    with pytest.raises(DeniedError) as info:
        konzen.read("wang", "credit_scoring", {"email"}, now=LATER)
    assert codes(info) == {"undeclared_purpose"} and "KONZEN-19" in promises(info)


def test_konzen_22_nothing_is_shared_by_default(konzen: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "registrar_partner", {"email"}, "provide_services", now=LATER)
    assert codes(info) == {"no_exception"} and "KONZEN-22" in promises(info)
    with konzen.db.connect() as conn:
        assert conn.execute(select(disclosures.c.id)).first() is None


def test_konzen_23_other_shares_need_our_or_the_recipients_explicit_consent(konzen: PolicyEngine) -> None:
    with pytest.raises(DeniedError):
        konzen.share("wang", "registrar_partner", {"email"}, "provide_services", now=NOW)
    konzen.set_consent("wang", "explicit_consent:registrar_partner", "given", now=NOW)
    assert konzen.share("wang", "registrar_partner", {"email"}, "provide_services", now=LATER)["email"]
    konzen.record_fact("consent_by_recipient", person="wang", party="dns_host", reference="dns_host record 88",
                       now=NOW)  # the recipient obtained consent, and it is on record
    by_them = Facts()
    assert konzen.share("wang", "dns_host", {"email"}, "provide_services", by_them, now=LATER)["email"]
    with pytest.raises(DeniedError) as info:  # the confirmation is per recipient
        konzen.share("wang", "mail_host", {"email"}, "provide_services", by_them, now=LATER)
    assert "KONZEN-22" in promises(info)


def test_konzen_24_advertisers_get_some_data_for_ads_and_their_measurement_only(konzen: PolicyEngine) -> None:
    konzen.collect("wang", "service_logs", LOGS, now=NOW)
    _sign(konzen)
    for purpose in ("relevant_ads", "ad_effectiveness"):
        assert konzen.share("wang", "advertisers_and_agents", {"click_info"}, purpose, AGREEMENT, now=LATER)
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "advertisers_and_agents", {"click_info"}, "design_improve_services", AGREEMENT, now=LATER)
    assert "purpose_not_allowed" in codes(info) and "KONZEN-24" in promises(info)
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "advertisers_and_agents", {"phone"}, "relevant_ads", AGREEMENT, now=LATER)
    assert "category_not_allowed" in codes(info)


def test_konzen_25_advertisers_need_an_agreement_and_get_de_identified_data(konzen: PolicyEngine) -> None:
    konzen.collect("wang", "service_logs", LOGS, now=NOW)
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "advertisers_and_agents", {"device_info"}, "relevant_ads", now=LATER)
    assert "agreement_missing" in codes(info) and "KONZEN-25" in promises(info)
    for paper in ("data_protection_agreement", "commitment_letter", "processing_policy"):  # any one of them
        konzen.record_fact("agreement", party="advertisers_and_agents", arg=paper, reference="signed", now=NOW)
        got = konzen.share("wang", "advertisers_and_agents", {"device_info"}, "relevant_ads", now=LATER)
        assert got["device_info"][0].startswith("pseudonym:") and "Huawei" not in got["device_info"][0]
        konzen.record_fact("agreement", party="advertisers_and_agents", arg=paper, reference="ended", revoke=True,
                           now=NOW)


def test_konzen_26_identifying_data_reaches_partners_only_with_authorisation(konzen: PolicyEngine) -> None:
    _sign(konzen)
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "advertisers_and_agents", {"email"}, "relevant_ads", AGREEMENT, now=NOW)
    assert "identity_needs_consent" in codes(info) and "KONZEN-26" in promises(info)
    konzen.set_consent("wang", "identity_to_partners", "given", now=NOW)
    got = konzen.share("wang", "advertisers_and_agents", {"email"}, "relevant_ads", AGREEMENT, now=LATER)
    assert got == {"email": ["wang@example.cn"]}  # authorised: the identity itself goes, as the person allowed
    konzen.set_consent("wang", "identity_to_partners", "withdrawn", now=LATER)
    with pytest.raises(DeniedError):
        konzen.share("wang", "advertisers_and_agents", {"email"}, "relevant_ads", AGREEMENT,
                     now=LATER + dt.timedelta(seconds=1))


def test_konzen_27_public_disclosure_is_off_by_default(konzen: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "public", {"email"}, "provide_services", kind="public_disclosure", now=NOW)
    assert codes(info) == {"no_exception"} and "KONZEN-27" in promises(info)


def test_konzen_28_a_public_disclosure_first_tells_purpose_types_and_sensitivity(konzen: PolicyEngine) -> None:
    told = {"purpose": "winner announcement", "data_types": "email"}
    with pytest.raises(BadValueError, match="sensitive_information"):
        konzen.set_consent("wang", "public_explicit_consent:public", "given", evidence=told, now=NOW)
    with pytest.raises(DeniedError):
        konzen.share("wang", "public", {"email"}, "provide_services", kind="public_disclosure", now=NOW)
    konzen.set_consent("wang", "public_explicit_consent:public", "given",
                       evidence={**told, "sensitive_information": "none"}, now=NOW)
    got = konzen.share("wang", "public", {"email"}, "provide_services", kind="public_disclosure", now=LATER)
    assert got["email"] == ["wang@example.cn"]
    with konzen.db.connect() as conn:
        promises = conn.execute(select(audit_log.c.promises).where(audit_log.c.allowed.is_(True))
                                .order_by(audit_log.c.seq.desc())).scalars().first()
    assert promises and "KONZEN-28" in promises


def test_konzen_29_a_new_controller_must_protect_at_least_as_well_and_users_are_told(konzen: PolicyEngine) -> None:
    deal = Facts(grounds=frozenset({"corporate_transaction"}))
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "buyer_group", {"email"}, "provide_services", deal, kind="transfer_to_controller", now=NOW)
    assert "successor_not_bound" in codes(info) and "KONZEN-29" in promises(info)
    konzen.record_fact("successor_bound", party="buyer_group", reference="SPA clause 9.2", now=NOW)
    got = konzen.share("wang", "buyer_group", {"email"}, "provide_services", deal, kind="transfer_to_controller",
                       now=LATER)
    assert got["email"] and got.decision.obliges("notify_subject") is not None
    from policykeeper.store import outbox

    with konzen.db.connect() as conn:  # users are informed: the engine queued the notice to the person
        assert conn.execute(select(outbox.c.kind, outbox.c.recipient)).all() == [("subject_notice", "person")]


def test_konzen_30_without_consent_only_on_a_recorded_statutory_ground(konzen: PolicyEngine) -> None:
    for ground in ("national_security", "public_health", "criminal_proceedings", "protect_vital_interests"):
        assert konzen.share("wang", "public_security_bureau", {"phone"}, "identity_verification",
                            Facts(grounds=frozenset({ground})), now=LATER)["phone"]
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "public_security_bureau", {"phone"}, "identity_verification",
                     Facts(grounds=frozenset({"marketing_partnership"})), now=LATER)
    assert "no_exception" in codes(info)
    assert konzen.share("wang", "public", {"phone"}, "identity_verification", Facts(grounds=frozenset({"public_health"})),
                        kind="public_disclosure", now=LATER)
    with konzen.db.connect() as conn:
        assert "national_security" in conn.execute(select(disclosures.c.ground)).scalars().all()
