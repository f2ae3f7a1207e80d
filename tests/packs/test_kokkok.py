"""KOKKOK Car's engine-level promises (collection, consent, purpose, sharing, security, other), each proven by ID.

Every test drives the real engine over SQLite and PostgreSQL and checks the denial path as well as the allowed one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, DeniedError, load_pack, render_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, consent_events, disclosures, open_database, records

from ..helpers import codes, last_allowed_promises, promises

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
USAGE = {"browser_os": "Chrome 126 / Android 14", "device_model": "Galaxy A54", "search_item": "Toyota Vios 2019",
         "service_usage_records": "opened listing 88", "ip_address": "203.0.113.7", "visit_time": "2025-06-02T09:00",
         "service_usage_history": "3 visits", "bad_usage_history": "none", "cookie": "sid=ab12"}
ONLINE = Facts(channel="online")
STAFF = Facts(channel="consultation")


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    return eng





def test_kokkok_01_using_the_app_records_agreement_to_collection_use_and_transfer(kokkok: PolicyEngine) -> None:
    with kokkok.db.connect() as conn:
        (row,) = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.pack_version)).all()
    assert tuple(row) == ("policy", "accepted", kokkok.compiled.version)
    assert kokkok.pack.acceptance.model == "implied_by_use" and "KOKKOK-01" in kokkok.pack.acceptance.promises
    with pytest.raises(DeniedError) as info:  # no use without agreeing
        kokkok.set_consent("bob", "policy", "refused", now=NOW)
        kokkok.collect("bob", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    assert "policy_declined" in codes(info)


def test_kokkok_02_collection_happens_only_in_the_declared_contexts(kokkok: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kokkok.collect("alice", "newsletter_popup", {"email": "alice@example.com"}, ONLINE, now=LATER)
    assert codes(info) == {"unknown_context"} and "KOKKOK-02" in promises(info)
    got = kokkok.collect("alice", "one_to_one_inquiry", {"consultation_records": "Is the Vios still for sale?"}, STAFF,
                         now=LATER)
    assert got.decision.allowed


def test_kokkok_05_p1_contract_performance_uses_the_registration_data(kokkok: PolicyEngine) -> None:
    got = kokkok.read("alice", "p1_contract_performance", {"name", "uuid", "phone"}, now=LATER)
    assert got["uuid"] == ["u-7f3a9c"] and "KOKKOK-05" in last_allowed_promises(kokkok)
    kokkok.collect("alice", "one_to_one_inquiry", {"consultation_records": "refund?"}, STAFF, now=NOW)
    with pytest.raises(DeniedError) as info:  # consultation records are not contract data
        kokkok.read("alice", "p1_contract_performance", {"consultation_records"}, now=LATER)
    assert "category_not_allowed" in codes(info) and "KOKKOK-05" in promises(info)


def test_kokkok_06_p2_customer_management(kokkok: PolicyEngine) -> None:
    assert kokkok.read("alice", "p2_customer_management", {"email", "phone"}, now=LATER)["email"] == ["alice@example.com"]
    assert "KOKKOK-06" in last_allowed_promises(kokkok)
    with pytest.raises(DeniedError) as info:
        kokkok.read("alice", "p2_customer_management", {"browser_os"}, now=LATER)
    assert "category_not_allowed" in codes(info) and "KOKKOK-06" in promises(info)


def test_kokkok_08_p3_new_services_and_marketing(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "personal_customer", {**ALICE, "gender": "f"}, ONLINE, now=NOW)
    assert kokkok.read("alice", "p3_new_services_marketing", {"gender", "date_of_birth"}, now=LATER)["gender"] == ["f"]
    assert "KOKKOK-08" in last_allowed_promises(kokkok)
    with pytest.raises(DeniedError) as info:  # never the password
        kokkok.read("alice", "p3_new_services_marketing", {"password"}, now=LATER)
    assert "category_not_allowed" in codes(info) and "KOKKOK-08" in promises(info)


def test_kokkok_10_used_car_sales_needs_identity_and_vehicle_for_verification_only(kokkok: PolicyEngine) -> None:
    sale = {"name": "Alice Phommachanh", "uuid": "u-7f3a9c", "phone": "+856 20 5555 0101",
            "vehicle": "Toyota Vios, sedan, 64,000 km"}
    with pytest.raises(DeniedError) as info:
        kokkok.collect("alice", "used_car_sales", {k: v for k, v in sale.items() if k != "vehicle"}, ONLINE, now=LATER)
    assert "essential_missing" in codes(info) and "KOKKOK-10" in promises(info)
    kokkok.collect("alice", "used_car_sales", sale, ONLINE, now=LATER)
    assert kokkok.read("alice", "identity_vehicle_verification", {"vehicle"}, now=LATER)["vehicle"] == [sale["vehicle"]]
    with pytest.raises(DeniedError):
        kokkok.read("alice", "marketing_and_promotions", {"vehicle"}, now=LATER)


def test_kokkok_11_test_drives_need_identity_details_for_identity_verification_only(kokkok: PolicyEngine) -> None:
    drive = {**{k: ALICE[k] for k in ("name", "uuid", "phone", "email", "date_of_birth")}, "gender": "f"}
    with pytest.raises(DeniedError) as info:  # gender is essential here
        kokkok.collect("alice", "used_car_test_drive", {k: v for k, v in drive.items() if k != "gender"}, ONLINE,
                       now=LATER)
    assert "essential_missing" in codes(info) and "KOKKOK-11" in promises(info)
    kokkok.collect("alice", "used_car_test_drive", drive, ONLINE, now=LATER)
    assert kokkok.read("alice", "customer_identity_verification", {"gender"}, now=LATER)["gender"] == ["f"]
    with kokkok.db.connect() as conn:
        purposes = conn.execute(select(records.c.purposes).where(records.c.context == "used_car_test_drive")).scalars()
        assert all(p == ["customer_identity_verification"] for p in purposes)


def test_kokkok_12_device_and_search_data_only_for_usage_statistics(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "service_usage", USAGE, Facts(channel="data_generation_tool"), now=LATER)
    cats = {"browser_os", "device_model", "search_item", "service_usage_records"}
    assert kokkok.read("alice", "usage_statistics", cats, now=LATER)["device_model"] == ["Galaxy A54"]
    with pytest.raises(DeniedError) as info:
        kokkok.read("alice", "p3_new_services_marketing", {"search_item"}, now=LATER)
    assert "category_not_allowed" in codes(info)
    with pytest.raises(DeniedError) as info:
        kokkok.read("alice", "usage_statistics", {"ip_address"}, now=LATER)
    assert "KOKKOK-12" in promises(info)


def test_kokkok_13_ip_visits_history_and_cookies_only_for_usage_patterns(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "service_usage", USAGE, Facts(channel="data_generation_tool"), now=LATER)
    cats = {"ip_address", "visit_time", "service_usage_history", "bad_usage_history", "cookie"}
    assert kokkok.read("alice", "usage_pattern_analysis", cats, now=LATER)["ip_address"] == ["203.0.113.7"]
    with pytest.raises(DeniedError) as info:
        kokkok.read("alice", "usage_pattern_analysis", {"email"}, now=LATER)
    assert "KOKKOK-13" in promises(info)
    with pytest.raises(DeniedError):
        kokkok.read("alice", "p2_customer_management", {"ip_address"}, now=LATER)


def test_kokkok_15_consultation_records_only_for_inquiries_and_complaints(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "one_to_one_inquiry", {"consultation_records": "complaint: late refund"}, STAFF, now=LATER)
    got = kokkok.read("alice", "inquiry_complaint_handling", {"consultation_records"}, now=LATER)
    assert got == {"consultation_records": ["complaint: late refund"]}
    for purpose in ("p3_new_services_marketing", "usage_statistics", "marketing_and_promotions"):
        with pytest.raises(DeniedError) as info:
            kokkok.read("alice", purpose, {"consultation_records"}, now=LATER)
        assert "category_not_allowed" in codes(info)
    purpose = {p.id: p for p in kokkok.pack.purposes.items}["inquiry_complaint_handling"]
    assert "KOKKOK-15" in purpose.promises


def test_kokkok_17_sensitive_data_only_with_explicit_consent(kokkok: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kokkok.collect("alice", "personal_customer", {**ALICE, "sensitive_information": "health: diabetic"}, ONLINE,
                       now=LATER)
    assert {"consent_missing", "sensitive_needs_consent"} & codes(info) and "KOKKOK-17" in promises(info)
    kokkok.set_consent("alice", "sensitive_data", "given", evidence={"form": "explicit checkbox"}, now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    assert kokkok.collect("alice", "personal_customer", {**ALICE, "sensitive_information": "health: diabetic"}, ONLINE,
                          now=later).decision.allowed
    assert kokkok.read("alice", "sensitive_data_use", {"sensitive_information"}, now=later)["sensitive_information"]


def test_kokkok_18_a_refusal_is_recorded_with_the_limits_it_brings(kokkok: PolicyEngine) -> None:
    notice = kokkok.refusal_notice("essential_registration")
    assert notice and "limit service provision" in notice
    seq = kokkok.set_consent("alice", "essential_registration", "refused", now=LATER)
    with kokkok.db.connect() as conn:
        row = conn.execute(select(consent_events.c.action, consent_events.c.evidence)
                           .where(consent_events.c.seq == seq)).one()
    assert row.action == "refused" and row.evidence["notice"] == notice  # the limits told, on the record
    rule = {c.id: c for c in kokkok.pack.consents}["essential_registration"]
    assert "KOKKOK-18" in rule.promises


def test_kokkok_19_refusing_essential_fields_blocks_registration_optional_does_not(kokkok: PolicyEngine) -> None:
    kokkok.set_consent("bob", "essential_registration", "refused", now=NOW)
    bob = {**ALICE, "email": "bob@example.com", "uuid": "u-b0b"}
    with pytest.raises(DeniedError) as info:
        kokkok.collect("bob", "personal_customer", bob, ONLINE, now=LATER)
    assert "consent_refused" in codes(info) and "KOKKOK-19" in promises(info)
    assert "limit service provision" in str(info.value)
    # refusing an optional field (gender) changes nothing
    assert kokkok.collect("carol", "personal_customer", {**ALICE, "uuid": "u-c4"}, ONLINE, now=LATER).decision.allowed


def test_kokkok_20_non_member_services_take_only_what_they_need_for_that_service(kokkok: PolicyEngine) -> None:
    got = kokkok.collect("walkin", "non_member_service", {"name": "Somchai", "phone": "+856 20 777 1234"}, STAFF, now=NOW)
    assert got.decision.allowed and "KOKKOK-20" in got.decision.promises
    with pytest.raises(DeniedError) as info:
        kokkok.collect("walkin", "non_member_service", {"name": "Somchai", "phone": "1", "date_of_birth": "1980-01-01"},
                       STAFF, now=NOW)
    assert "undeclared_field" in codes(info)
    assert kokkok.read("walkin", "p1_contract_performance", {"phone"}, now=LATER)["phone"]
    with pytest.raises(DeniedError):
        kokkok.read("walkin", "marketing_and_promotions", {"phone"}, now=LATER)


def test_kokkok_21_non_members_get_the_same_protection(kokkok: PolicyEngine) -> None:
    kokkok.collect("walkin", "non_member_service", {"name": "Somchai Vongsa", "phone": "+856 20 777 1234"}, STAFF, now=NOW)
    with kokkok.db.connect() as conn:
        blobs = conn.execute(select(records.c.value).where(records.c.context == "non_member_service")).scalars().all()
    assert blobs and all(b"Somchai" not in b for b in blobs)  # encrypted like member data
    with pytest.raises(DeniedError):  # guarded like member data
        kokkok.read("walkin", "sell_lists", {"phone"}, now=LATER)
    erased = kokkok.erase("walkin", now=LATER)  # and erasable like member data
    assert erased
    measure = {m.id: m for m in kokkok.pack.security}["non_member_protection"]  # type: ignore[union-attr]
    assert "KOKKOK-21" in measure.promises
    contexts = {c.id: c for c in kokkok.pack.collection.contexts}
    assert contexts["non_member_service"].member_only is False


def test_kokkok_23_event_contacts_are_used_only_with_consent(kokkok: PolicyEngine) -> None:
    entry = {"name": "Noy", "phone": "+856 20 222 3333", "interests": "EVs"}
    with pytest.raises(DeniedError) as info:
        kokkok.collect("noy", "event_entry", entry, ONLINE, now=NOW)
    assert "consent_missing" in codes(info) and "KOKKOK-23" in promises(info)
    assert kokkok.collect("noy", "event_entry", {"interests": "EVs"}, ONLINE, now=NOW).decision.allowed
    kokkok.set_consent("noy", "event_entry_contact", "given", now=NOW)
    assert kokkok.collect("noy", "event_entry", entry, ONLINE, now=LATER).decision.allowed


def test_kokkok_24_data_across_roles_is_linked_only_for_section_ii_purposes(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "used_car_sales", {"name": ALICE["name"], "uuid": ALICE["uuid"], "phone": ALICE["phone"],
                                               "vehicle": "Honda Jazz"}, ONLINE, now=LATER)
    linked = kokkok.read("alice", "cross_role_linking", {"name", "vehicle", "email"}, now=LATER)
    assert linked["vehicle"] == ["Honda Jazz"] and len(linked["name"]) == 2  # one person, two roles
    assert "KOKKOK-24" in last_allowed_promises(kokkok)
    with pytest.raises(DeniedError):
        kokkok.read("alice", "profile_for_resale", {"name", "vehicle"}, now=LATER)


def test_kokkok_25_section_ii_purposes_are_a_closed_list(kokkok: PolicyEngine) -> None:
    for purpose in ("services_and_features", "safety_and_security", "research_and_development", "legal_purposes"):
        assert kokkok.read("alice", purpose, {"uuid"}, now=LATER)["uuid"] == ["u-7f3a9c"]
    with pytest.raises(DeniedError) as info:
        kokkok.read("alice", "political_campaigning", {"phone"}, now=LATER)
    assert codes(info) == {"undeclared_purpose"} and "KOKKOK-25" in promises(info)


def test_kokkok_28_an_unscreened_provider_cannot_be_activated(kokkok: PolicyEngine) -> None:
    driver = {"name": "Khamla", "phone": "+856 20 999 0000"}
    with pytest.raises(DeniedError) as info:
        kokkok.collect("driver-7", "provider_onboarding", driver, STAFF, now=NOW)
    assert "condition_unmet" in codes(info) and "KOKKOK-28" in promises(info)
    screened = Facts(channel="consultation", conditions=frozenset({"provider_screened"}))
    assert kokkok.collect("driver-7", "provider_onboarding", driver, screened, now=NOW).decision.allowed


def test_kokkok_29_a_providers_location_reaches_the_customer_only_after_acceptance(kokkok: PolicyEngine) -> None:
    accepted = Facts(channel="data_generation_tool", conditions=frozenset({"provider_accepted_request"}))
    with pytest.raises(DeniedError):
        kokkok.collect("driver-7", "provider_request", {"provider_location": "17.97,102.61"},
                       Facts(channel="data_generation_tool"), now=NOW)
    kokkok.collect("driver-7", "provider_request", {"provider_location": "17.97,102.61"}, accepted, now=NOW)
    with pytest.raises(DeniedError) as info:
        kokkok.share("driver-7", "customers_of_provider", {"provider_location"}, "provider_details_sharing", now=LATER)
    assert "condition_unmet" in codes(info) and "KOKKOK-29" in promises(info)
    got = kokkok.share("driver-7", "customers_of_provider", {"provider_location"}, "provider_details_sharing",
                       Facts(conditions=frozenset({"provider_accepted_request"})), now=LATER)
    assert got == {"provider_location": ["17.97,102.61"]}


def test_kokkok_30_user_support_may_use_what_resolving_the_issue_needs(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "one_to_one_inquiry", {"consultation_records": "app crashes on payment"}, STAFF, now=LATER)
    got = kokkok.read("alice", "user_support", {"consultation_records", "email"}, actor="support_agent", now=LATER)
    assert got["consultation_records"] == ["app crashes on payment"]
    assert "KOKKOK-30" in {p for x in kokkok.pack.purposes.items if x.id == "user_support" for p in x.promises}
    with pytest.raises(DeniedError):
        kokkok.read("alice", "user_support_upsell", {"email"}, now=LATER)


def test_kokkok_31_legal_purposes_and_legal_advisors(kokkok: PolicyEngine) -> None:
    assert kokkok.read("alice", "legal_purposes", {"name", "uuid"}, now=LATER)["name"]
    assert "KOKKOK-31" in last_allowed_promises(kokkok)
    got = kokkok.share("alice", "legal_advisors", {"name"}, "legal_purposes", now=LATER)
    assert got == {"name": ["Alice Phommachanh"]}
    with pytest.raises(DeniedError) as info:
        kokkok.share("alice", "legal_advisors", {"name"}, "marketing_and_promotions", now=LATER)
    assert "purpose_not_allowed" in codes(info)


def test_kokkok_37_nothing_goes_outside_section_i_without_prior_consent(kokkok: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kokkok.share("alice", "vientiane_car_club", {"phone"}, "services_and_features", now=LATER)
    assert codes(info) == {"no_exception"} and "KOKKOK-37" in promises(info)
    kokkok.set_consent("alice", "prior_consent:vientiane_car_club", "given", now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    assert kokkok.share("alice", "vientiane_car_club", {"phone"}, "services_and_features", now=later)["phone"]


def test_kokkok_38_contract_necessity_when_consent_is_impractical_is_recorded(kokkok: PolicyEngine) -> None:
    ground = Facts(grounds=frozenset({"contract_necessity_consent_impractical"}))
    assert kokkok.share("alice", "tow_truck_partner", {"phone"}, "p1_contract_performance", ground, now=LATER)
    with kokkok.db.connect() as conn:
        assert conn.execute(select(disclosures.c.ground)).scalar_one() == "contract_necessity_consent_impractical"
    assert "KOKKOK-38" in last_allowed_promises(kokkok)
    with pytest.raises(DeniedError):
        kokkok.share("alice", "tow_truck_partner", {"phone"}, "p1_contract_performance", now=LATER)


def test_kokkok_39_a_good_faith_legal_request_is_recorded(kokkok: PolicyEngine) -> None:
    ground = Facts(grounds=frozenset({"good_faith_legal_requirement"}))
    assert kokkok.share("alice", "vientiane_police", {"name"}, "legal_purposes", ground, now=LATER)
    assert "KOKKOK-39" in last_allowed_promises(kokkok)
    with kokkok.db.connect() as conn:
        assert conn.execute(select(disclosures.c.ground)).scalar_one() == "good_faith_legal_requirement"
    with pytest.raises(DeniedError):
        kokkok.share("alice", "vientiane_police", {"name"}, "legal_purposes", now=LATER)


def test_kokkok_40_third_party_provision_needs_a_separate_consent(kokkok: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:  # accepting the policy is not that consent
        kokkok.share("alice", "payment_processors", {"name"}, "p1_contract_performance", now=LATER)
    assert "consent_missing" in codes(info) and "KOKKOK-40" in promises(info)
    kokkok.set_consent("alice", "payment_processors", "given", evidence={"screen": "separate provision consent"},
                       now=LATER)
    got = kokkok.share("alice", "payment_processors", {"name"}, "p1_contract_performance",
                       now=LATER + dt.timedelta(seconds=1))
    assert got["name"] == ["Alice Phommachanh"]


def test_kokkok_41_partners_outside_the_listed_categories_are_refused(kokkok: PolicyEngine) -> None:
    listed = {r.category for r in kokkok.pack.recipients}
    assert {"payment", "debt_collector", "credit_bureau"} <= listed
    assert kokkok.pack.recipient_list.closed_categories and "KOKKOK-41" in kokkok.pack.recipient_list.promises  # type: ignore[union-attr]
    with pytest.raises(BadValueError):  # a data broker is no listed recipient: nobody can even consent to it
        kokkok.set_consent("alice", "data_brokers", "given", now=LATER)
    kokkok.set_consent("alice", "third_party_provision", "given", now=LATER)
    with pytest.raises(DeniedError) as info:
        kokkok.share("alice", "data_brokers", {"phone"}, "marketing_and_promotions", now=LATER + dt.timedelta(1))
    assert "no_exception" in codes(info)


def test_kokkok_42_legal_authorities_or_an_emergency(kokkok: PolicyEngine) -> None:
    for ground in ("legal_requirement", "emergency_life_health_safety"):
        assert kokkok.share("alice", "mahosot_hospital", {"phone", "name"}, "safety_and_security",
                            Facts(grounds=frozenset({ground})), now=LATER)["phone"]
    assert "KOKKOK-42" in last_allowed_promises(kokkok)
    assert kokkok.share("alice", "authorities", {"name"}, "legal_purposes", now=LATER)["name"]
    with pytest.raises(DeniedError):
        kokkok.share("alice", "mahosot_hospital", {"phone"}, "safety_and_security", now=LATER)


def test_kokkok_43_public_interest_sharing_records_its_ground(kokkok: PolicyEngine) -> None:
    assert kokkok.share("alice", "ministry_of_health", {"phone"}, "safety_and_security",
                        Facts(grounds=frozenset({"public_health"})), now=LATER)["phone"]
    assert "KOKKOK-43" in last_allowed_promises(kokkok)
    with kokkok.db.connect() as conn:
        assert conn.execute(select(disclosures.c.ground)).scalar_one() == "public_health"
    with pytest.raises(DeniedError):
        kokkok.share("alice", "ministry_of_health", {"phone"}, "safety_and_security", now=LATER)


def test_kokkok_44_a_business_transaction_carries_the_agreed_policy_version(kokkok: PolicyEngine) -> None:
    deal = Facts(grounds=frozenset({"corporate_transaction"}))
    assert kokkok.share("alice", "acquirer_co", {"name", "uuid"}, "services_and_features", deal, now=LATER)["uuid"]
    with kokkok.db.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.allowed.is_(True))
                              .order_by(audit_log.c.seq.desc())).scalars().first()
    assert detail and detail["policy_version_carried"] == kokkok.compiled.version
    assert "KOKKOK-44" in last_allowed_promises(kokkok)
    with pytest.raises(DeniedError):
        kokkok.share("alice", "acquirer_co", {"name"}, "services_and_features", now=LATER)


def test_kokkok_51_measures_against_loss_unauthorised_use_and_access(kokkok: PolicyEngine, db_url: str) -> None:
    with kokkok.db.connect() as conn:
        assert all(b"Alice" not in v for v in conn.execute(select(records.c.value)).scalars())
    with pytest.raises(DeniedError):
        kokkok.read("alice", "data_resale", {"phone"}, now=LATER)
    assert "KOKKOK-51" in {p for m in kokkok.pack.security for p in m.promises}  # type: ignore[union-attr]
    other = PolicyEngine(kokkok.pack, kokkok.db, KeyRing.init(Path(str(db_url).split("/")[-1] + "-other-keys")))
    try:  # the database alone, without the keystore, does not open the data
        with pytest.raises(Exception):  # noqa: B017 - any failure to unwrap is the point
            other.read("alice", "p1_contract_performance", {"name"}, now=LATER)
    finally:
        import shutil

        shutil.rmtree(Path(str(db_url).split("/")[-1] + "-other-keys"), ignore_errors=True)


def test_kokkok_52_access_is_need_to_know_and_names_who_did_it(kokkok: PolicyEngine) -> None:
    assert kokkok.read("alice", "user_support", {"email"}, actor="support:agent-12", now=LATER)["email"]
    with pytest.raises(BadValueError):
        kokkok.read("alice", "user_support", {"email"}, actor="", now=LATER)
    with pytest.raises(DeniedError):
        kokkok.read("alice", "curiosity", {"email"}, actor="support:agent-12", now=LATER)
    with kokkok.db.connect() as conn:
        actors = conn.execute(select(audit_log.c.actor).where(audit_log.c.kind == "decision")).scalars().all()
    assert "support:agent-12" in actors
    kinds = {m.kind for m in kokkok.pack.security}  # type: ignore[union-attr]
    assert {"access_control_need_to_know", "confidentiality_obligation"} <= kinds


def test_kokkok_56_consent_based_processing_can_be_withdrawn(kokkok: PolicyEngine) -> None:
    assert kokkok.read("alice", "marketing_and_promotions", {"email"}, now=LATER)["email"]
    kokkok.set_consent("alice", "optional_sharing", "withdrawn", now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    with pytest.raises(DeniedError) as info:
        kokkok.read("alice", "marketing_and_promotions", {"email"}, now=later)
    assert "consent_withdrawn" in codes(info) and "KOKKOK-56" in promises(info)
    assert kokkok.read("alice", "p1_contract_performance", {"email"}, now=later)["email"]  # contract basis: unaffected


def test_kokkok_59_optional_sharing_can_always_be_declined(kokkok: PolicyEngine) -> None:
    kokkok.set_consent("alice", "third_party_provision", "given", now=NOW)
    assert kokkok.share("alice", "advertising_marketing_partners", {"email"}, "marketing_and_promotions", now=LATER)
    kokkok.set_consent("alice", "optional_sharing", "refused", now=LATER)
    with pytest.raises(DeniedError) as info:
        kokkok.share("alice", "advertising_marketing_partners", {"email"}, "marketing_and_promotions",
                     now=LATER + dt.timedelta(seconds=1))
    assert "consent_withdrawn" in codes(info) and "KOKKOK-59" in promises(info)


def test_kokkok_60_refusing_or_withdrawing_is_preceded_by_its_consequences(kokkok: PolicyEngine) -> None:
    notice = kokkok.refusal_notice("policy")
    assert notice and "Section II" in notice and "unable to use the App" in notice
    seq = kokkok.set_consent("alice", "policy", "withdrawn", now=LATER)
    with kokkok.db.connect() as conn:
        evidence = conn.execute(select(consent_events.c.evidence).where(consent_events.c.seq == seq)).scalar_one()
    assert evidence["notice"] == notice
    with pytest.raises(DeniedError) as info:
        kokkok.read("alice", "p1_contract_performance", {"name"}, now=LATER + dt.timedelta(seconds=1))
    assert "policy_declined" in codes(info) and "KOKKOK-60" in promises(info)
    with pytest.raises(BadValueError):
        kokkok.refusal_notice("not_a_target")


def test_kokkok_61_after_withdrawal_only_recorded_legal_grounds_carry_on(kokkok: PolicyEngine) -> None:
    kokkok.set_consent("alice", "optional_sharing", "withdrawn", now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    with pytest.raises(DeniedError):
        kokkok.read("alice", "marketing_and_promotions", {"email"}, now=later)
    kept = kokkok.read("alice", "marketing_and_promotions", {"email"}, Facts(grounds=frozenset({"legal_requirement"})),
                       now=later)
    assert kept["email"] == ["alice@example.com"] and "KOKKOK-61" in last_allowed_promises(kokkok)
    with pytest.raises(DeniedError):  # a ground that is not a legal requirement or permission does not
        kokkok.read("alice", "marketing_and_promotions", {"email"}, Facts(grounds=frozenset({"business_need"})), now=later)


def test_kokkok_68_the_english_version_prevails(kokkok: PolicyEngine) -> None:
    assert kokkok.pack.language == "en" and "KOKKOK-68" in kokkok.pack.prevailing_language.promises  # type: ignore[union-attr]
    page = render_pack(kokkok.pack, "md")
    assert "the English version shall prevail" in page
