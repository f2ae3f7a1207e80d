"""KALOS's engine-level promises (collection, consent, purpose, sharing, security), each proven by ID.

Every test drives the real engine over SQLite and PostgreSQL and checks the denial path as well as the allowed one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, DeniedError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, consent_events, disclosures, open_database, records

from ..helpers import codes, promises, sign_agreements

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
BASIC = {"basic_data": "Li Wei, 138 0013 8000", "user_info": "liwei@example.cn"}
SECURITY = {"user_info": "liwei@example.cn", "usage_data": "3 logins/min", "device_info": "Mi 13, Android 14",
            "log_info": "2025-06-02 09:00 login failed x5"}
CONNECT = Facts(conditions=frozenset({"feature_active:connect", "os_permission_granted:location"}))


@pytest.fixture
def kalos(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = PolicyEngine(load_pack("kalos"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("li", "business_function", BASIC, now=NOW)
    return eng




def test_kalos_02_only_what_a_purpose_declares_is_collected(kalos: PolicyEngine) -> None:
    col = kalos.pack.collection
    assert col.undeclared_fields == "reject" and "KALOS-02" in col.promises
    with pytest.raises(DeniedError) as info:
        kalos.collect("li", "business_function", {**BASIC, "precise_location": "39.9,116.4"}, now=LATER)
    assert "undeclared_field" in codes(info) and "KALOS-02" in promises(info)
    with kalos.db.connect() as conn:
        assert len(conn.execute(select(records.c.id)).all()) == 2  # nothing of the refused collection was kept
    declared = {c for p in kalos.pack.purposes.items if not isinstance(p.categories, str) for c in p.categories}
    for ctx in kalos.pack.collection.contexts:  # every collected category serves a declared purpose
        assert {f.category for f in ctx.fields} <= declared


def test_kalos_03_all_personal_data_is_protected_by_standard_controls(kalos: PolicyEngine, db_url: str) -> None:
    measures = {m.id: m for m in kalos.pack.security}
    assert "KALOS-03" in measures["industry_standard"].promises
    with kalos.db.connect() as conn:
        blobs = conn.execute(select(records.c.value)).scalars().all()
        assert audit.verify(conn).ok
    assert blobs and all(b"Li Wei" not in b and b"liwei@" not in b for b in blobs)  # AES-GCM at rest
    with pytest.raises(DeniedError):  # access control: no declared purpose, no access
        kalos.read("li", "sell_data", {"user_info"}, now=LATER)


def test_kalos_05_connect_reads_no_location_before_the_os_permission(kalos: PolicyEngine) -> None:
    loc = {"precise_location": "39.9087,116.3975"}
    with pytest.raises(DeniedError) as info:
        kalos.collect("li", "connect_feature", loc, Facts(conditions=frozenset({"feature_active:connect"})), now=NOW)
    assert "condition_unmet" in codes(info) and "KALOS-05" in promises(info)
    with pytest.raises(DeniedError) as info:  # the permission is granted but not yet recorded in the ledger
        kalos.collect("li", "connect_feature", loc, CONNECT, now=NOW)
    assert "consent_missing" in codes(info)
    seq = kalos.set_consent("li", "location_permission", "given", evidence={"os": "android", "grant": "fine"}, now=NOW)
    assert kalos.collect("li", "connect_feature", loc, CONNECT, now=LATER).decision.allowed
    with kalos.db.connect() as conn:
        row = conn.execute(select(consent_events.c.target, consent_events.c.evidence)
                           .where(consent_events.c.seq == seq)).one()
    assert row.target == "location_permission" and row.evidence["grant"] == "fine"


def test_kalos_06_precise_location_serves_navigation_only(kalos: PolicyEngine) -> None:
    kalos.set_consent("li", "location_permission", "given", now=NOW)
    kalos.collect("li", "connect_feature", {"precise_location": "39.9087,116.3975"}, CONNECT, now=NOW)
    assert kalos.read("li", "navigation", {"precise_location"}, now=LATER)["precise_location"] == ["39.9087,116.3975"]
    for purpose in ("provide_services", "security_fraud_prevention", "partner_services"):
        with pytest.raises(DeniedError) as info:
            kalos.read("li", purpose, {"precise_location"}, now=LATER)
        assert "category_not_allowed" in codes(info)


def test_kalos_07_usage_data_is_collected_to_improve_services(kalos: PolicyEngine) -> None:
    got = kalos.collect("li", "service_use", {"usage_data": "opened trip planner 4x"}, now=NOW)
    assert got.decision.allowed and "KALOS-07" in got.decision.promises
    kalos.set_consent("li", "additional_collection", "given", now=NOW)
    assert kalos.read("li", "improve_services", {"usage_data"}, now=LATER)["usage_data"] == ["opened trip planner 4x"]
    with pytest.raises(DeniedError) as info:  # the improvement purpose gets usage data, nothing else
        kalos.read("li", "improve_services", {"user_info"}, now=LATER)
    assert "category_not_allowed" in codes(info) and "KALOS-07" in promises(info)


def test_kalos_08_fraud_prevention_combines_user_usage_device_and_log_data(kalos: PolicyEngine) -> None:
    got = kalos.collect("li", "security", {**SECURITY, "authorized_or_legal_data": "court order 2025-17"}, now=NOW)
    assert got.decision.allowed and "KALOS-08" in got.decision.promises
    combined = kalos.read("li", "security_fraud_prevention", set(SECURITY) | {"authorized_or_legal_data"}, now=LATER)
    assert combined["log_info"] == [SECURITY["log_info"]] and combined["authorized_or_legal_data"]
    with pytest.raises(DeniedError) as info:  # the basic data set is not part of it
        kalos.read("li", "security_fraud_prevention", {"basic_data"}, now=LATER)
    assert "category_not_allowed" in codes(info) and "KALOS-08" in promises(info)


def test_kalos_10_a_new_purpose_waits_for_its_own_prior_consent(kalos: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kalos.read("li", "travel_insurance_offers", {"user_info"}, now=NOW)
    assert codes(info) == {"undeclared_purpose"} and "KALOS-10" in promises(info)
    kalos.set_consent("li", "new_purpose:loyalty_programme", "given", now=NOW)  # consent for another purpose
    with pytest.raises(DeniedError):
        kalos.read("li", "travel_insurance_offers", {"user_info"}, now=LATER)
    kalos.set_consent("li", "new_purpose:travel_insurance_offers", "given", now=NOW)
    assert kalos.read("li", "travel_insurance_offers", {"user_info"}, now=LATER)["user_info"] == ["liwei@example.cn"]
    with pytest.raises(BadValueError):  # a declared purpose is not "new"
        kalos.set_consent("li", "new_purpose:navigation", "given", now=NOW)


def test_kalos_11_three_kinds_of_use_and_the_third_needs_consent(kalos: PolicyEngine) -> None:
    groups = {p.id: p.group for p in kalos.pack.purposes.items if p.group}
    assert groups == {"provide_services": "(1)", "security_fraud_prevention": "(2)", "other_permitted_purposes": "(3)"}
    assert kalos.read("li", "provide_services", {"basic_data"}, now=NOW)["basic_data"]  # (1): no consent needed
    with pytest.raises(DeniedError) as info:  # (3) needs consent
        kalos.read("li", "other_permitted_purposes", {"basic_data"}, now=NOW)
    assert "consent_missing" in codes(info) and "KALOS-11" in promises(info)
    kalos.set_consent("li", "new_purpose", "given", now=NOW)
    assert kalos.read("li", "other_permitted_purposes", {"basic_data"}, now=LATER)["basic_data"]


def test_kalos_13_nothing_leaves_zhijian_but_to_its_service_providers(kalos: PolicyEngine) -> None:
    assert kalos.share("li", "service_providers", {"user_info"}, "provide_services", now=NOW)["user_info"]
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "data_broker_ltd", {"user_info"}, "provide_services", now=NOW)
    assert codes(info) == {"no_exception"} and "KALOS-13" in promises(info)
    with kalos.db.connect() as conn:
        assert conn.execute(select(disclosures.c.recipient)).scalars().all() == ["service_providers"]


def test_kalos_14_a_share_by_consent_needs_a_consent_that_names_the_recipient(kalos: PolicyEngine) -> None:
    kalos.set_consent("li", "explicit_consent:hotel_partner_a", "given", now=NOW)
    with pytest.raises(DeniedError):  # consent named another recipient
        kalos.share("li", "hotel_partner_b", {"user_info"}, "provide_services", now=LATER)
    got = kalos.share("li", "hotel_partner_a", {"user_info"}, "provide_services", now=LATER)
    assert got["user_info"] == ["liwei@example.cn"]
    with kalos.db.connect() as conn:
        promises = conn.execute(select(audit_log.c.promises).where(audit_log.c.allowed.is_(True))
                                .order_by(audit_log.c.seq.desc())).scalars().first()
    assert promises and "KALOS-14" in promises
    with pytest.raises(BadValueError):  # a consent cannot name a recipient for a rule that is not consent-based
        kalos.set_consent("li", "legal_grounds:hotel_partner_a", "given", now=NOW)


def test_kalos_15_legal_shares_need_a_recorded_ground_from_the_list(kalos: PolicyEngine) -> None:
    for ground in ("legal_regulatory_requirement", "litigation_dispute", "administrative_or_judicial_request"):
        assert kalos.share("li", "beijing_court", {"user_info"}, "legal_compliance",
                           Facts(grounds=frozenset({ground})), now=NOW)["user_info"]
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "beijing_court", {"user_info"}, "legal_compliance",
                    Facts(grounds=frozenset({"good_citizenship"})), now=NOW)
    assert "no_exception" in codes(info)
    with kalos.db.connect() as conn:
        grounds = conn.execute(select(disclosures.c.ground).order_by(disclosures.c.id)).scalars().all()
    assert grounds == ["legal_regulatory_requirement", "litigation_dispute", "administrative_or_judicial_request"]


def test_kalos_16_a_complainant_gets_the_minimum_for_complaint_handling_only(kalos: PolicyEngine) -> None:
    complaint = Facts(grounds=frozenset({"complaint_handling"}))
    got = kalos.share("li", "ip_rights_holder", {"user_info"}, "complaint_handling", complaint, now=NOW)
    assert got == {"user_info": ["liwei@example.cn"]}
    with pytest.raises(DeniedError) as info:  # more than the complaint needs
        kalos.share("li", "ip_rights_holder", {"user_info", "basic_data"}, "complaint_handling", complaint, now=NOW)
    assert "beyond_minimum_necessary" in codes(info) and "KALOS-16" in promises(info)
    with pytest.raises(DeniedError):  # no complaint on record
        kalos.share("li", "ip_rights_holder", {"user_info"}, "complaint_handling", now=NOW)


def test_kalos_17_authorised_partners_get_part_of_the_data_for_joint_services(kalos: PolicyEngine) -> None:
    kalos.collect("li", "service_use", {"usage_data": "rated route 5 stars"}, now=NOW)
    got = kalos.share("li", "authorized_partners", {"user_info", "usage_data"}, "partner_services", now=LATER)
    assert got["usage_data"] == ["rated route 5 stars"]
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "authorized_partners", {"basic_data"}, "partner_services", now=LATER)
    assert "category_not_allowed" in codes(info) and "KALOS-17" in promises(info)
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "authorized_partners", {"user_info"}, "provide_services", now=LATER)
    assert "purpose_not_allowed" in codes(info)


def test_kalos_18_no_data_flows_to_an_sdk_without_a_confidentiality_agreement(kalos: PolicyEngine) -> None:
    kalos.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "sdk_providers", {"usage_data"}, "provide_services", now=LATER)
    assert "agreement_missing" in codes(info) and "KALOS-18" in promises(info)
    sign_agreements(kalos, "sdk_providers", now=NOW)
    signed = Facts()
    assert kalos.share("li", "sdk_providers", {"usage_data"}, "provide_services", signed, now=LATER)["usage_data"]


def test_kalos_19_identity_data_reaches_an_sdk_only_with_consent_for_that_flow(kalos: PolicyEngine) -> None:
    sign_agreements(kalos, "sdk_providers", now=NOW)
    signed = Facts()
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "sdk_providers", {"user_info"}, "provide_services", signed, now=NOW)
    assert "identity_needs_consent" in codes(info) and "KALOS-19" in promises(info)
    kalos.set_consent("li", "sdk_identity", "given", now=NOW)
    assert kalos.share("li", "sdk_providers", {"user_info"}, "provide_services", signed, now=LATER)["user_info"]
    kalos.set_consent("li", "sdk_identity", "withdrawn", now=LATER)
    with pytest.raises(DeniedError):
        kalos.share("li", "sdk_providers", {"user_info"}, "provide_services", signed, now=LATER + dt.timedelta(1))


def test_kalos_20_handing_data_to_another_controller_needs_explicit_consent(kalos: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "travel_agency_co", {"user_info"}, "provide_services", kind="transfer_to_controller", now=NOW)
    assert "no_exception" in codes(info) and "KALOS-20" in promises(info)
    kalos.set_consent("li", "transfer_explicit_consent:travel_agency_co", "given", now=NOW)
    got = kalos.share("li", "travel_agency_co", {"user_info"}, "provide_services", kind="transfer_to_controller",
                      now=LATER)
    assert got["user_info"] == ["liwei@example.cn"]
    with pytest.raises(BadValueError):
        kalos.share("li", "travel_agency_co", {"user_info"}, "provide_services", kind="sale", now=LATER)


def test_kalos_21_a_successor_bound_by_the_policy_takes_over_otherwise_fresh_consent(kalos: PolicyEngine) -> None:
    deal = Facts(grounds=frozenset({"corporate_transaction"}))
    with pytest.raises(DeniedError) as info:  # the successor is not bound: every person must consent afresh
        kalos.share("li", "acquirer_inc", {"basic_data"}, "provide_services", deal, kind="transfer_to_controller",
                    now=NOW)
    assert codes(info) == {"successor_not_bound"} and "KALOS-21" in promises(info)
    assert "consent afresh" in str(info.value)
    kalos.record_fact("successor_bound", party="acquirer_inc", reference="SPA schedule 4", now=NOW)
    bound = deal
    got = kalos.share("li", "acquirer_inc", {"basic_data"}, "provide_services", bound, kind="transfer_to_controller",
                      now=NOW)
    assert got["basic_data"] == ["Li Wei, 138 0013 8000"]
    kalos.record_fact("successor_bound", party="acquirer_inc", reference="deal restructured", revoke=True,
                      now=NOW + dt.timedelta(seconds=1))
    kalos.collect("wang", "business_function", {"basic_data": "Wang Fang", "user_info": "wf@example.cn"}, now=NOW)
    kalos.set_consent("wang", "transfer_explicit_consent:acquirer_inc", "given", now=NOW)  # fresh consent
    assert kalos.share("wang", "acquirer_inc", {"basic_data"}, "provide_services", deal, kind="transfer_to_controller",
                       now=LATER)
    ct = kalos.pack.corporate_transactions
    assert not isinstance(ct, str) and ct.otherwise == "reconsent" and "KALOS-21" in ct.promises


def test_kalos_22_public_disclosure_needs_explicit_consent(kalos: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "public", {"basic_data"}, "provide_services", kind="public_disclosure", now=NOW)
    assert "no_exception" in codes(info) and "KALOS-22" in promises(info)
    kalos.set_consent("li", "public_explicit_consent:public", "given", now=NOW)
    assert kalos.share("li", "public", {"basic_data"}, "provide_services", kind="public_disclosure", now=LATER)


def test_kalos_23_disclosing_a_violation_needs_a_basis_and_consent(kalos: PolicyEngine) -> None:
    basis = Facts(grounds=frozenset({"violation_disclosure"}))
    with pytest.raises(DeniedError):  # a basis without consent
        kalos.share("li", "public", {"user_info"}, "security_fraud_prevention", basis, kind="public_disclosure", now=NOW)
    kalos.set_consent("li", "violation_disclosure:public", "given", now=NOW)
    with pytest.raises(DeniedError) as info:  # consent without a basis
        kalos.share("li", "public", {"user_info"}, "security_fraud_prevention", kind="public_disclosure", now=LATER)
    assert "no_exception" in codes(info)
    got = kalos.share("li", "public", {"user_info"}, "security_fraud_prevention", basis, kind="public_disclosure",
                      now=LATER)
    assert got["user_info"] == ["liwei@example.cn"]
    with kalos.db.connect() as conn:
        promises = conn.execute(select(audit_log.c.promises).where(audit_log.c.allowed.is_(True))
                                .order_by(audit_log.c.seq.desc())).scalars().first()
    assert promises and "KALOS-23" in promises


def test_kalos_27_basic_data_stays_while_used_additional_consent_comes_and_goes(kalos: PolicyEngine) -> None:
    with pytest.raises(BadValueError, match="KALOS-27"):
        kalos.set_consent("li", "provide_services", "withdrawn", now=NOW)
    assert kalos.read("li", "provide_services", {"basic_data"}, now=LATER)["basic_data"]
    kalos.collect("li", "service_use", {"usage_data": "night mode"}, now=NOW)
    kalos.set_consent("li", "additional_collection", "given", now=NOW)
    assert kalos.read("li", "improve_services", {"usage_data"}, now=LATER)["usage_data"] == ["night mode"]
    kalos.set_consent("li", "additional_collection", "withdrawn", now=LATER)
    with pytest.raises(DeniedError) as info:
        kalos.read("li", "improve_services", {"usage_data"}, now=LATER + dt.timedelta(seconds=1))
    assert "consent_missing" in codes(info) and "KALOS-27" in promises(info)
    kalos.set_consent("li", "additional_collection", "given", now=LATER + dt.timedelta(seconds=2))
    assert kalos.read("li", "improve_services", {"usage_data"}, now=LATER + dt.timedelta(seconds=3))["usage_data"]
