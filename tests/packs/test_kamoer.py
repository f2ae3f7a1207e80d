"""Kamoer's engine-level promises (collection, consent, purpose, sharing, security, other), each proven by ID.

Every test drives the real engine over SQLite and PostgreSQL and checks the denial path as well as the allowed one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from policykeeper import BadValueError, ConfigError, DeniedError, load_pack, render_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, disclosures, open_database, records

from ..helpers import codes, last_allowed_promises, promises, sign_agreements

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
SIGNUP = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper", "password": "Coral#2025!"}
BUYER = {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "zhang@example.cn",
         "mailing_address": "88 Huaihai Road, Shanghai", "id_number": "310101199001011234", "bank_card": "6222 0000 1111 2222"}
PARTNER = Facts()  # the agreements are on file in the fact register (the fixture signs them)
FEATURE = Facts(conditions=frozenset({"feature_active"}))


@pytest.fixture
def kamoer(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("zhang", "registration", SIGNUP, now=NOW)
    sign_agreements(eng)
    return eng





def test_kamoer_01_the_controller_includes_the_group_and_covers_every_product(kamoer: PolicyEngine) -> None:
    c = kamoer.pack.controller
    assert c.includes_affiliates is True and "KAMOER-01" in c.promises
    assert "all products and services of Kamoer" in c.products
    assert "Kamoer Fluid Technology (Shanghai) Co., Ltd." in render_pack(kamoer.pack, "md")
    kamoer.collect("zhang", "purchase", BUYER, now=LATER)
    # group companies are inside the controller: affiliates get data without an outside-sharing exception
    assert kamoer.share("zhang", "affiliates", {"mailing_address"}, "purchase_delivery", PARTNER, now=LATER)


def test_kamoer_02_every_use_carries_one_of_the_policys_purposes(kamoer: PolicyEngine) -> None:
    groups = sorted({p.group for p in kamoer.pack.purposes.items if p.group and p.group.startswith("(")})
    assert groups == [f"({i})" for i in range(1, 9)]
    assert kamoer.read("zhang", "account_registration", {"username"}, now=LATER)["username"] == ["reefkeeper"]
    with pytest.raises(DeniedError) as info:
        kamoer.read("zhang", "lead_generation", {"email"}, now=LATER)
    assert codes(info) == {"undeclared_purpose"} and "KAMOER-02" in promises(info)


def test_kamoer_03_an_account_needs_phone_email_username_and_password(kamoer: PolicyEngine) -> None:
    for missing in SIGNUP:
        with pytest.raises(DeniedError) as info:
            kamoer.collect("li", "registration", {k: v for k, v in SIGNUP.items() if k != missing}, now=NOW)
        assert "essential_missing" in codes(info) and "KAMOER-03" in promises(info)
    with kamoer.db.connect() as conn:
        assert len(conn.execute(select(records.c.id)).all()) == 4  # zhang's four, nothing from the refusals


def test_kamoer_04_profile_details_are_optional_and_basic_functions_work_without(kamoer: PolicyEngine) -> None:
    assert kamoer.read("zhang", "account_registration", {"email"}, now=LATER)["email"]  # no profile given
    got = kamoer.collect("zhang", "registration", {**SIGNUP, "name": "Zhang San", "birthday": "1990-01-01",
                                                   "gender": "m", "industry": "aquaculture"}, now=LATER)
    assert got.decision.allowed and "KAMOER-04" in got.decision.promises
    kamoer.set_consent("zhang", "additional_collection", "withdrawn", now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    with pytest.raises(DeniedError):  # the optional profile stops being used ...
        kamoer.read("zhang", "better_experience", {"industry"}, now=later)
    assert kamoer.read("zhang", "account_registration", {"username"}, now=later)["username"]  # ... the basics do not


def test_kamoer_05_a_purchase_needs_identity_payment_and_delivery_data(kamoer: PolicyEngine) -> None:
    got = kamoer.collect("zhang", "purchase", BUYER, now=LATER)
    assert got.decision.allowed and len(got.record_ids) == 6 and "KAMOER-05" in got.decision.promises
    assert kamoer.read("zhang", "purchase_delivery", {"mailing_address"}, now=LATER)["mailing_address"]


def test_kamoer_06_missing_purchase_data_blocks_checkout_only(kamoer: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kamoer.collect("zhang", "purchase", {k: v for k, v in BUYER.items() if k != "bank_card"}, now=LATER)
    assert "essential_missing" in codes(info) and "KAMOER-06" in promises(info)
    assert kamoer.collect("zhang", "service_use", {"usage_logs": "browsed pumps", "ip_address": "198.51.100.4",
                                                   "access_time": "09:01"}, now=LATER).decision.allowed
    assert kamoer.read("zhang", "account_registration", {"email"}, now=LATER)["email"]


def test_kamoer_07_feature_data_only_while_the_feature_is_used(kamoer: PolicyEngine) -> None:
    data = {"device_location": "31.2,121.5", "device_config": "X1 pump, 12V", "shared_content": "tank photo"}
    with pytest.raises(DeniedError) as info:
        kamoer.collect("zhang", "feature_use", data, now=LATER)
    assert "condition_unmet" in codes(info) and "KAMOER-07" in promises(info)
    assert kamoer.collect("zhang", "feature_use", data, FEATURE, now=LATER).decision.allowed


def test_kamoer_08_usage_logs_ip_and_access_times_during_use(kamoer: PolicyEngine) -> None:
    got = kamoer.collect("zhang", "service_use", {"usage_logs": "opened dosing", "ip_address": "198.51.100.4",
                                                  "access_time": "09:01"}, now=LATER)
    assert got.decision.allowed and "KAMOER-08" in got.decision.promises
    assert kamoer.read("zhang", "product_features", {"ip_address"}, now=LATER)["ip_address"] == ["198.51.100.4"]
    with pytest.raises(DeniedError):
        kamoer.read("zhang", "information_and_ads", {"ip_address"}, now=LATER)


def test_kamoer_09_refusing_one_features_data_disables_only_that_feature(kamoer: PolicyEngine) -> None:
    kamoer.set_consent("zhang", "ml_images", "refused", now=NOW)
    ml = Facts(conditions=frozenset({"feature_active:ml_module"}))
    with pytest.raises(DeniedError) as info:
        kamoer.collect("zhang", "ml_module", {"ml_images": "img-001.jpg"}, ml, now=LATER)
    assert "consent_missing" in codes(info)
    assert kamoer.collect("zhang", "feature_use", {"device_location": "31.2,121.5", "device_config": "X1",
                                                   "shared_content": "photo"}, FEATURE, now=LATER).decision.allowed
    assert kamoer.read("zhang", "account_registration", {"username"}, now=LATER)["username"]
    rule = {c.id: c for c in kamoer.pack.consents}["ml_images"]
    assert rule.scope == "field"
    assert "KAMOER-09" in {p for c in kamoer.pack.collection.contexts if c.id == "feature_use" for p in c.promises} or \
        "KAMOER-09" in kamoer.pack.collection.promises


def test_kamoer_10_service_quality_data_only_improves_quality_and_prevents_risk(kamoer: PolicyEngine) -> None:
    got = kamoer.collect("zhang", "service_quality", {"service_quality_info": "survey: 4/5, chat support"}, now=LATER)
    assert "KAMOER-10" in got.decision.promises
    assert kamoer.read("zhang", "service_quality", {"service_quality_info"}, now=LATER)["service_quality_info"]
    with pytest.raises(DeniedError) as info:
        kamoer.read("zhang", "information_and_ads", {"service_quality_info"}, now=LATER)
    assert "category_not_allowed" in codes(info)


def test_kamoer_14_ml_images_need_a_separate_authorisation_while_the_function_runs(kamoer: PolicyEngine) -> None:
    ml = Facts(conditions=frozenset({"feature_active:ml_module"}))
    kamoer.set_consent("zhang", "improvement_program", "given", now=NOW)  # the program consent is not enough
    with pytest.raises(DeniedError) as info:
        kamoer.collect("zhang", "ml_module", {"ml_images": "img-001.jpg"}, ml, now=LATER)
    assert "consent_missing" in codes(info) and "KAMOER-14" in promises(info)
    kamoer.set_consent("zhang", "ml_images", "given", now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    with pytest.raises(DeniedError):  # not while the function is off
        kamoer.collect("zhang", "ml_module", {"ml_images": "img-002.jpg"}, now=later)
    assert kamoer.collect("zhang", "ml_module", {"ml_images": "img-003.jpg"}, ml, now=later).decision.allowed
    assert kamoer.read("zhang", "ml_algorithm_improvement", {"ml_images"}, now=later)["ml_images"] == ["img-003.jpg"]


def test_kamoer_15_declining_the_improvement_program_changes_nothing_else(kamoer: PolicyEngine) -> None:
    notice = kamoer.refusal_notice("improvement_program")
    assert notice and "will not affect your use" in notice
    kamoer.set_consent("zhang", "improvement_program", "refused", now=NOW)
    with pytest.raises(DeniedError):
        kamoer.collect("zhang", "product_improvement_program", {"diagnostic_data": "crash 0x1f"}, now=LATER)
    assert kamoer.collect("zhang", "purchase", BUYER, now=LATER).decision.allowed
    assert kamoer.collect("zhang", "feature_use", {"device_location": "31.2,121.5", "device_config": "X1",
                                                   "shared_content": "photo"}, FEATURE, now=LATER).decision.allowed
    assert kamoer.read("zhang", "purchase_delivery", {"name"}, now=LATER)["name"] == ["Zhang San"]
    assert "KAMOER-15" in {p for c in kamoer.pack.consents if c.id == "improvement_program" for p in c.promises}


def test_kamoer_16_resumes_with_consent_only_to_discuss_jobs(kamoer: PolicyEngine) -> None:
    cv = {"resume": "BSc marine biology; 5 years at an aquarium", "name": "Wu Lan", "email": "wu@example.cn"}
    with pytest.raises(DeniedError) as info:
        kamoer.collect("wu", "job_application", cv, now=NOW)
    assert "consent_missing" in codes(info) and "KAMOER-16" in promises(info)
    kamoer.set_consent("wu", "job_application", "given", now=NOW)
    kamoer.collect("wu", "job_application", cv, now=LATER)
    assert kamoer.read("wu", "job_communication", {"resume"}, now=LATER)["resume"] == [cv["resume"]]
    with pytest.raises(DeniedError):
        kamoer.read("wu", "information_and_ads", {"email"}, now=LATER)


def test_kamoer_17_without_consent_only_on_a_recorded_statutory_ground(kamoer: PolicyEngine) -> None:
    kamoer.set_consent("wu", "job_application", "given", now=NOW)
    kamoer.collect("wu", "job_application", {"resume": "CV text", "email": "wu@example.cn"}, now=NOW)
    kamoer.set_consent("wu", "job_application", "withdrawn", now=NOW + dt.timedelta(seconds=1))
    with pytest.raises(DeniedError):
        kamoer.read("wu", "job_communication", {"resume"}, now=LATER)
    got = kamoer.read("wu", "job_communication", {"resume"}, Facts(grounds=frozenset({"criminal_proceedings"})), now=LATER)
    assert got["resume"] == ["CV text"] and "KAMOER-17" in last_allowed_promises(kamoer)
    with pytest.raises(DeniedError):  # a ground that is not on the list
        kamoer.read("wu", "job_communication", {"resume"}, Facts(grounds=frozenset({"hr_convenience"})), now=LATER)


def test_kamoer_18_publishing_sensitive_content_comes_with_a_warning(kamoer: PolicyEngine) -> None:
    got = kamoer.collect("zhang", "public_channels", {"published_sensitive": "my reef helps my anxiety"}, now=LATER)
    assert got.decision.allowed and "show_advisory:sensitive_publishing" in got.decision.obligation_names
    warning = got.decision.obliges("warn_sensitive")
    assert warning is not None and warning.for_person and "KAMOER-18" in got.decision.promises
    plain = kamoer.collect("zhang", "public_channels", {"shared_content": "new tank setup"}, now=LATER)
    assert "show_advisory:sensitive_publishing" not in plain.decision.obligation_names
    purchase = kamoer.collect("zhang", "purchase", BUYER, now=LATER)  # a sensitive field that is not published
    assert "show_advisory:sensitive_publishing" not in purchase.decision.obligation_names


def test_kamoer_22_a_purpose_outside_the_policy_needs_prior_consent(kamoer: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kamoer.read("zhang", "aquarium_club_invites", {"email"}, now=LATER)
    assert "undeclared_purpose" in codes(info) and "KAMOER-22" in promises(info)
    kamoer.set_consent("zhang", "new_purpose:aquarium_club_invites", "given", now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    assert kamoer.read("zhang", "aquarium_club_invites", {"email"}, now=later)["email"] == ["zhang@example.cn"]


def test_kamoer_23_reusing_data_for_another_purpose_needs_consent_to_that_reuse(kamoer: PolicyEngine) -> None:
    kamoer.collect("li", "purchase", {**BUYER, "phone": "+86 138 2222 3333", "email": "li@example.cn"}, now=NOW)
    # li's phone number was given to deliver an order, not to receive information and ads
    with pytest.raises(DeniedError) as info:
        kamoer.read("li", "information_and_ads", {"phone"}, now=LATER)
    assert "not_collected_for_purpose" in codes(info)
    kamoer.set_consent("li", "information_and_ads", "given", evidence={"asked": "use my phone for news"}, now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    assert kamoer.read("li", "information_and_ads", {"phone"}, now=later)["phone"] == ["+86 138 2222 3333"]
    assert kamoer.pack.purposes.repurposing == "require_prior_consent"
    assert "KAMOER-23" in {p for c in kamoer.pack.consents if c.id == "new_purpose" for p in c.promises}


def test_kamoer_29_nothing_is_shared_outside_kamoer_by_default(kamoer: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kamoer.share("zhang", "reef_forum_ltd", {"email"}, "information_and_ads", now=LATER)
    assert codes(info) == {"no_exception"} and "KAMOER-29" in promises(info)


def test_kamoer_30_a_share_by_explicit_consent(kamoer: PolicyEngine) -> None:
    kamoer.set_consent("zhang", "explicit_consent:reef_forum_ltd", "given", now=NOW)
    assert kamoer.share("zhang", "reef_forum_ltd", {"email"}, "information_and_ads", now=LATER)["email"]
    assert "KAMOER-30" in last_allowed_promises(kamoer)
    with pytest.raises(DeniedError):
        kamoer.share("zhang", "other_forum_ltd", {"email"}, "information_and_ads", now=LATER)


def test_kamoer_31_shares_required_by_law_record_their_basis(kamoer: PolicyEngine) -> None:
    got = kamoer.share("zhang", "shanghai_market_regulator", {"phone"}, "safeguard_interests",
                       Facts(grounds=frozenset({"government_requirement"})), now=LATER)
    assert got["phone"] and "KAMOER-31" in last_allowed_promises(kamoer)
    with kamoer.db.connect() as conn:
        assert conn.execute(select(disclosures.c.ground)).scalar_one() == "government_requirement"
    with pytest.raises(DeniedError):
        kamoer.share("zhang", "shanghai_market_regulator", {"phone"}, "safeguard_interests", now=LATER)


def test_kamoer_32_affiliates_get_only_the_necessary_data_for_the_policys_purposes(kamoer: PolicyEngine) -> None:
    kamoer.collect("zhang", "purchase", BUYER, now=NOW)
    assert kamoer.share("zhang", "affiliates", {"mailing_address", "name"}, "purchase_delivery", PARTNER, now=LATER)
    with pytest.raises(DeniedError) as info:  # more than delivery needs
        kamoer.share("zhang", "affiliates", {"mailing_address", "username"}, "purchase_delivery", PARTNER, now=LATER)
    assert "beyond_minimum_necessary" in codes(info) and "KAMOER-32" in promises(info)
    with pytest.raises(DeniedError) as info:  # a changed purpose is not covered
        kamoer.share("zhang", "affiliates", {"email"}, "information_and_ads", PARTNER, now=LATER)
    assert "purpose_not_allowed" in codes(info)


def test_kamoer_33_partners_get_the_minimum_and_only_for_their_purpose(kamoer: PolicyEngine) -> None:
    kamoer.collect("zhang", "purchase", BUYER, now=NOW)
    got = kamoer.share("zhang", "logistics", {"mailing_address", "phone", "name"}, "purchase_delivery", PARTNER, now=LATER)
    assert got["mailing_address"] == ["88 Huaihai Road, Shanghai"] and "KAMOER-33" in last_allowed_promises(kamoer)
    with pytest.raises(DeniedError) as info:
        kamoer.share("zhang", "logistics", {"id_number"}, "purchase_delivery", PARTNER, now=LATER)
    assert "category_not_allowed" in codes(info)
    with pytest.raises(DeniedError) as info:
        kamoer.share("zhang", "logistics", {"phone"}, "information_and_ads", PARTNER, now=LATER)
    assert "purpose_not_allowed" in codes(info)


def test_kamoer_34_partners_come_from_the_listed_categories(kamoer: PolicyEngine) -> None:
    cats = {r.category for r in kamoer.pack.recipients}
    assert {"technical_infrastructure", "payment", "logistics", "sms_mail", "analytics", "customer_service",
            "research"} <= cats
    kamoer.collect("zhang", "purchase", BUYER, now=NOW)
    assert kamoer.share("zhang", "payment_services", {"bank_card"}, "purchase_delivery", PARTNER, now=LATER)
    assert "KAMOER-34" in last_allowed_promises(kamoer) or "KAMOER-33" in last_allowed_promises(kamoer)
    with pytest.raises(DeniedError):  # an unlisted partner is an outside share
        kamoer.share("zhang", "crypto_exchange", {"bank_card"}, "purchase_delivery", PARTNER, now=LATER)


def test_kamoer_35_every_recipient_signs_confidentiality_and_follows_instructions(kamoer: PolicyEngine) -> None:
    kamoer.collect("zhang", "purchase", BUYER, now=NOW)
    assert all(set(r.required_agreements) == {"confidentiality", "instructions_only"} for r in kamoer.pack.recipients)
    kamoer.record_fact("agreement", party="logistics", arg="instructions_only", reference="terminated", revoke=True,
                       now=NOW)
    for paper in ("confidentiality", "instructions_only"):  # none, then one of the two on file
        with pytest.raises(DeniedError) as info:
            kamoer.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery", now=LATER)
        assert "agreement_missing" in codes(info)
        kamoer.record_fact("agreement", party="logistics", arg=paper, reference="terminated", revoke=True, now=NOW)
    for paper in ("confidentiality", "instructions_only"):
        kamoer.record_fact("agreement", party="logistics", arg=paper, reference="signed again", now=LATER)
    assert kamoer.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery", PARTNER, now=LATER)


def test_kamoer_36_embedded_sdks_are_listed_and_controlled(kamoer: PolicyEngine) -> None:
    sdk = {r.id: r for r in kamoer.pack.recipients}["third_party_sdks"]
    assert sdk.category == "processor_sdk" and "KAMOER-36" in kamoer.pack.recipient_list.promises  # type: ignore[union-attr]
    assert any(i.kind == "missing_annex" for i in kamoer.pack.source_issues)  # Annex I is missing: said so, not invented
    kamoer.collect("zhang", "feature_use", {"device_location": "31.2,121.5", "device_config": "X1",
                                            "shared_content": "photo"}, FEATURE, now=NOW)
    assert kamoer.share("zhang", "third_party_sdks", {"device_config"}, "product_features", PARTNER, now=LATER)
    with pytest.raises(DeniedError) as info:  # only for the features they serve
        kamoer.share("zhang", "third_party_sdks", {"device_config"}, "information_and_ads", PARTNER, now=LATER)
    assert "purpose_not_allowed" in codes(info)


def test_kamoer_37_transfers_need_consent_and_successors_are_bound_or_ask_again(kamoer: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kamoer.share("zhang", "pump_maker_b", {"email"}, "information_and_ads", kind="transfer_to_controller", now=NOW)
    assert "KAMOER-37" in promises(info)
    kamoer.set_consent("zhang", "transfer_explicit_consent:pump_maker_b", "given", now=NOW)
    assert kamoer.share("zhang", "pump_maker_b", {"email"}, "information_and_ads", kind="transfer_to_controller",
                        now=LATER)
    deal = Facts(grounds=frozenset({"corporate_transaction"}))
    with pytest.raises(DeniedError) as info:
        kamoer.share("zhang", "acquirer", {"email"}, "information_and_ads", deal, kind="transfer_to_controller", now=LATER)
    assert "successor_not_bound" in codes(info) and "consent afresh" in str(info.value)
    kamoer.record_fact("successor_bound", party="acquirer", reference="merger agreement art. 12", now=NOW)
    assert kamoer.share("zhang", "acquirer", {"email"}, "information_and_ads", deal, kind="transfer_to_controller",
                        now=LATER)


def test_kamoer_38_public_disclosure_by_explicit_consent_or_by_law(kamoer: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        kamoer.share("zhang", "public", {"username"}, "account_registration", kind="public_disclosure", now=NOW)
    assert "KAMOER-38" in promises(info)
    assert kamoer.share("zhang", "public", {"username"}, "account_registration",
                        Facts(grounds=frozenset({"litigation_dispute"})), kind="public_disclosure", now=NOW)
    kamoer.set_consent("zhang", "public_explicit_consent:public", "given", now=NOW)
    assert kamoer.share("zhang", "public", {"username"}, "account_registration", kind="public_disclosure", now=LATER)


def test_kamoer_39_data_travels_encrypted(kamoer: PolicyEngine, tmp_path: Path) -> None:
    kinds = {m.kind for m in kamoer.pack.security}  # type: ignore[union-attr]
    assert {"encryption_in_transit", "https"} <= kinds
    with pytest.raises(ConfigError, match="KAMOER-39"):
        PolicyEngine(kamoer.pack, create_engine("postgresql+psycopg://pk@db.kamoer.example/pk"),
                     KeyRing.open(tmp_path / "keys"))
    PolicyEngine(kamoer.pack, create_engine("postgresql+psycopg://pk@db.kamoer.example/pk?sslmode=require"),
                 KeyRing.open(tmp_path / "keys"))
    with kamoer.db.connect() as conn:  # and rests encrypted
        assert all(b"reefkeeper" not in v for v in conn.execute(select(records.c.value)).scalars())


def test_kamoer_40_only_authorised_personnel_with_a_purpose_get_access(kamoer: PolicyEngine) -> None:
    assert kamoer.read("zhang", "account_registration", {"email"}, actor="support:li", now=LATER)["email"]
    with pytest.raises(BadValueError):
        kamoer.read("zhang", "account_registration", {"email"}, actor="", now=LATER)
    with pytest.raises(DeniedError):
        kamoer.read("zhang", "curiosity", {"email"}, actor="support:li", now=LATER)
    assert "KAMOER-40" in {p for m in kamoer.pack.security if m.kind == "access_control_need_to_know"  # type: ignore[union-attr]
                           for p in m.promises}


def test_kamoer_42_irrelevant_fields_are_dropped(kamoer: PolicyEngine) -> None:
    got = kamoer.collect("li", "registration", {**SIGNUP, "email": "li@example.cn", "wechat_id": "li_reef",
                                                "blood_type": "A"}, now=NOW)
    assert got.decision.allowed and got.decision.dropped == {"wechat_id", "blood_type"}
    assert "KAMOER-42" in got.decision.promises
    with kamoer.db.connect() as conn:
        cats = conn.execute(select(records.c.category).where(records.c.subject_id == got.subject_id)).scalars().all()
    assert sorted(cats) == sorted(SIGNUP)


def test_kamoer_44_users_are_told_about_unencrypted_channels_and_nudged_to_strong_passwords(kamoer: PolicyEngine) -> None:
    got = kamoer.collect("li", "registration", {**SIGNUP, "email": "li@example.cn"}, now=NOW)
    assert "show_advisory:complex_password" in got.decision.obligation_names and "KAMOER-44" in got.decision.promises
    other = kamoer.collect("li", "service_use", {"usage_logs": "x", "ip_address": "1", "access_time": "2"}, now=NOW)
    assert "show_advisory:complex_password" not in other.decision.obligation_names
    page = render_pack(kamoer.pack, "md")
    assert "Email, instant messaging and messages with other Kamoer users are not encrypted" in page


def test_kamoer_57_additional_consent_comes_and_goes_basic_data_stays(kamoer: PolicyEngine) -> None:
    with pytest.raises(BadValueError, match="KAMOER-57"):
        kamoer.set_consent("zhang", "account_registration", "withdrawn", now=NOW)
    kamoer.collect("zhang", "registration", {**SIGNUP, "industry": "aquaculture"}, now=NOW)
    assert kamoer.read("zhang", "better_experience", {"industry"}, now=LATER)["industry"]
    kamoer.set_consent("zhang", "additional_collection", "withdrawn", now=LATER)
    with pytest.raises(DeniedError) as info:
        kamoer.read("zhang", "better_experience", {"industry"}, now=LATER + dt.timedelta(seconds=1))
    assert "consent_withdrawn" in codes(info) and "KAMOER-57" in promises(info)
    kamoer.set_consent("zhang", "additional_collection", "given", now=LATER + dt.timedelta(seconds=2))
    assert kamoer.read("zhang", "better_experience", {"industry"}, now=LATER + dt.timedelta(seconds=3))["industry"]


def test_kamoer_58_withdrawal_stops_further_processing_not_what_was_done(kamoer: PolicyEngine) -> None:
    kamoer.set_consent("zhang", "improvement_program", "given", now=NOW)
    kamoer.collect("zhang", "product_improvement_program", {"diagnostic_data": "crash 0x1f"}, now=NOW)
    assert kamoer.read("zhang", "product_improvement_program", {"diagnostic_data"}, now=LATER)["diagnostic_data"]
    kamoer.set_consent("zhang", "improvement_program", "withdrawn", now=LATER)
    later = LATER + dt.timedelta(seconds=1)
    with pytest.raises(DeniedError):
        kamoer.read("zhang", "product_improvement_program", {"diagnostic_data"}, now=later)
    with kamoer.db.connect() as conn:  # no backward effect: the earlier read stays on record as allowed
        rows = conn.execute(select(audit_log.c.allowed, audit_log.c.detail).where(audit_log.c.kind == "decision")).all()
    reads = [r.allowed for r in rows if r.detail.get("purpose") == "product_improvement_program"]
    assert reads == [True, False]
    assert "KAMOER-58" in {p for c in kamoer.pack.consents if c.id == "additional_collection" for p in c.promises}
