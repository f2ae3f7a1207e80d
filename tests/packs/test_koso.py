"""KOSO's engine-level promises (collection, consent, purpose, sharing, security, other), each proven by ID.

Every test drives the real engine over SQLite and PostgreSQL and checks the denial path as well as the allowed one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, DeniedError, PrivilegedFactError, load_pack, render_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.retention import cancel_account
from policykeeper.store import audit_log, disclosures, open_database, records

from ..helpers import codes, promises, subscribe

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
DEVICE = {"browser_name": "Firefox 126", "device_type": "Pixel 8", "connection_info": "Android 14, Chunghwa Telecom"}
SUPPORT = {"name": "Chen Mei", "email": "mei@example.tw", "support_info": "speedometer flickers",
           "product_records": "RX-2 serial KS-99812, bought 2024-03-02"}
ACCOUNT = Facts()  # the account and the dashboard subscription are on record (see _account)


def _account(koso: PolicyEngine, person: str) -> None:
    koso.collect(person, "account_creation", {"email": f"{person}@example.tw"}, now=NOW)
    subscribe(koso, person, "dashboard_app", now=NOW)


@pytest.fixture
def koso(db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack("koso"), open_database(db_url), KeyRing.init(tmp_path / "keys"))




def test_koso_02_declining_the_policy_means_no_processing(koso: PolicyEngine) -> None:
    with pytest.raises(DeniedError) as info:
        koso.set_consent("rider", "policy", "refused", now=NOW)
        koso.collect("rider", "any_interaction", DEVICE, now=NOW)
    assert codes(info) == {"policy_declined"} and "KOSO-02" in promises(info)
    koso.collect("rider2", "any_interaction", DEVICE, now=NOW)
    assert koso.read("rider2", "improve_site_apps", {"device_type"}, now=NOW) == {"device_type": ["Pixel 8"]}
    koso.set_consent("rider2", "policy", "refused", now=LATER)  # declining later stops everything from then on
    with pytest.raises(DeniedError) as info:
        koso.read("rider2", "improve_site_apps", {"device_type"}, now=LATER + dt.timedelta(seconds=1))
    assert "policy_declined" in codes(info)
    with pytest.raises(DeniedError):
        koso.collect("rider2", "product_use", {"usage_logs": "ride mode 3"}, now=LATER + dt.timedelta(seconds=1))


def test_koso_04_connection_data_is_non_personal_and_collected_on_any_interaction(koso: PolicyEngine) -> None:
    cats = {c.id: c for c in koso.pack.data_categories}
    for name in DEVICE:
        assert cats[name].personal is False and "non_personal" in cats[name].classes
    got = koso.collect("visitor", "any_interaction", DEVICE, now=NOW)  # no account, no consent needed
    assert got.decision.allowed and len(got.record_ids) == 3 and "KOSO-04" in got.decision.promises
    with pytest.raises(DeniedError) as info:  # nothing beyond that list rides along
        koso.collect("visitor", "any_interaction", {**DEVICE, "email": "v@example.tw"}, now=NOW)
    assert "undeclared_field" in codes(info)


def test_koso_05_an_account_is_optional_and_gates_only_account_features(koso: PolicyEngine) -> None:
    assert koso.collect("guest", "any_interaction", DEVICE, now=NOW).decision.allowed
    assert koso.collect("guest", "product_use", {"usage_logs": "trip meter reset"}, now=NOW).decision.allowed
    assert koso.collect("guest", "warranty_support", {"name": "Guest", "email": "g@example.tw"}, now=NOW).decision.allowed
    subscribe(koso, "guest", "dashboard_app", now=NOW)  # subscribed, but held without an account
    with pytest.raises(DeniedError) as info:  # the account-only feature
        koso.collect("guest", "dashboard_location", {"location": "25.03,121.56", "trip_history": "Taipei loop"},
                     now=NOW)
    assert "condition_unmet" in codes(info)
    ctx = {c.id: c for c in koso.pack.collection.contexts}
    assert ctx["dashboard_location"].member_only and not ctx["any_interaction"].member_only
    assert "KOSO-05" in ctx["account_creation"].promises


def test_koso_06_an_account_takes_an_email_and_optional_contact_details_only(koso: PolicyEngine) -> None:
    got = koso.collect("mei", "account_creation", {"email": "mei@example.tw"}, now=NOW)
    assert got.decision.allowed and "KOSO-06" in got.decision.promises
    assert koso.collect("mei", "account_creation", {"email": "mei@example.tw", "other_contact": "+886 912 345 678"},
                        now=LATER).decision.allowed
    with pytest.raises(DeniedError) as info:
        koso.collect("lin", "account_creation", {"other_contact": "+886 900 000 000"}, now=NOW)
    assert "essential_missing" in codes(info) and "KOSO-06" in promises(info)
    with pytest.raises(DeniedError) as info:
        koso.collect("lin", "account_creation", {"email": "lin@example.tw", "name": "Lin"}, now=NOW)
    assert "undeclared_field" in codes(info)


def test_koso_08_support_requests_collect_name_and_email_for_customer_support_only(koso: PolicyEngine) -> None:
    got = koso.collect("mei", "warranty_support", SUPPORT, now=NOW)
    assert got.decision.allowed and "KOSO-08" in got.decision.promises
    with koso.db.connect() as conn:
        purposes = conn.execute(select(records.c.purposes).where(records.c.category == "name")).scalar_one()
    assert purposes == ["customer_support"]
    assert koso.read("mei", "customer_support", {"name", "email"}, now=LATER)["email"] == ["mei@example.tw"]
    with pytest.raises(DeniedError) as info:
        koso.read("mei", "market_research", {"name"}, now=LATER)
    assert "category_not_allowed" in codes(info)
    with pytest.raises(DeniedError) as info:
        koso.collect("lin", "warranty_support", {"email": "lin@example.tw"}, now=NOW)
    assert "essential_missing" in codes(info) and "KOSO-08" in promises(info)


def test_koso_09_product_records_are_their_own_category_and_treated_as_personal(koso: PolicyEngine) -> None:
    cat = {c.id: c for c in koso.pack.data_categories}["product_records"]
    assert cat.personal == "maybe" and "KOSO-09" in cat.promises
    got = koso.collect("mei", "warranty_support", SUPPORT, now=NOW)
    with koso.db.connect() as conn:
        stored = conn.execute(select(records.c.value).where(records.c.category == "product_records")).scalar_one()
    assert b"KS-99812" not in stored  # encrypted like any personal value
    assert "KOSO-09" in got.decision.promises
    assert koso.read("mei", "customer_support", {"product_records"}, now=LATER)["product_records"] == [
        SUPPORT["product_records"]]
    with pytest.raises(DeniedError):  # personal-data rules apply: not for an unrelated purpose
        koso.read("mei", "onboard_display", {"product_records"}, now=LATER)


def test_koso_10_onboard_data_only_from_an_authorised_product_for_display_analysis_future(koso: PolicyEngine) -> None:
    data = {"vehicle_onboard": "rpm=7200;temp=88C"}
    with pytest.raises(DeniedError) as info:
        koso.collect("mei", "product_connection", data, now=NOW)
    assert "condition_unmet" in codes(info) and "KOSO-10" in promises(info)
    koso.collect("mei", "any_interaction", DEVICE, now=NOW)
    koso.record_fact("product_authorized", person="mei", reference="pairing 1", now=NOW)
    authorised = Facts()
    assert koso.collect("mei", "product_connection", data, authorised, now=NOW).decision.allowed
    for purpose in ("onboard_display", "onboard_analysis", "onboard_future_services"):
        assert koso.read("mei", purpose, {"vehicle_onboard"}, now=LATER)["vehicle_onboard"] == [data["vehicle_onboard"]]
    with pytest.raises(DeniedError):
        koso.read("mei", "market_research", {"vehicle_onboard"}, now=LATER)


def test_koso_11_usage_logs_hold_only_the_listed_kinds_of_information(koso: PolicyEngine) -> None:
    cat = {c.id: c for c in koso.pack.data_categories}["usage_logs"]
    assert "KOSO-11" in cat.promises and set(cat.classes) == {"usage", "log"}
    got = koso.collect("mei", "product_use", {"usage_logs": "feature=lap timer; 14 min"}, now=NOW)
    assert got.decision.allowed and "KOSO-11" in got.decision.promises
    with pytest.raises(DeniedError) as info:  # anything else is not usage data and is refused
        koso.collect("mei", "product_use", {"usage_logs": "x", "location": "25.03,121.56"}, now=NOW)
    assert "undeclared_field" in codes(info)


def test_koso_12_usage_logs_serve_product_improvement_and_support(koso: PolicyEngine) -> None:
    koso.collect("mei", "product_use", {"usage_logs": "feature=lap timer"}, now=NOW)
    with koso.db.connect() as conn:
        assert conn.execute(select(records.c.purposes)).scalar_one() == ["improve_products", "customer_support"]
    for purpose in ("improve_products", "customer_support"):
        assert koso.read("mei", purpose, {"usage_logs"}, now=LATER)["usage_logs"]
    for purpose in ("onboard_display", "location_history", "account"):
        with pytest.raises(DeniedError) as info:
            koso.read("mei", purpose, {"usage_logs"}, now=LATER)
        assert "category_not_allowed" in codes(info)


def test_koso_13_the_purpose_list_is_closed(koso: PolicyEngine) -> None:
    koso.collect("mei", "any_interaction", DEVICE, now=NOW)
    assert koso.pack.purposes.undeclared == "reject"
    for purpose in ("improve_site_apps", "market_research", "improve_communication"):
        assert koso.read("mei", purpose, {"device_type"}, now=LATER)["device_type"] == ["Pixel 8"]
    with pytest.raises(DeniedError) as info:
        koso.read("mei", "sell_to_data_brokers", {"device_type"}, now=LATER)
    assert codes(info) == {"undeclared_purpose"} and "KOSO-13" in promises(info)


def test_koso_14_personalisation_runs_on_group_level_data_only(koso: PolicyEngine) -> None:
    for i in range(6):
        koso.collect(f"rider{i}", "any_interaction", {**DEVICE, "device_type": "Pixel 8" if i < 5 else "Rare Phone"},
                     now=NOW)
    with pytest.raises(DeniedError) as info:  # one person's values are never handed to personalisation
        koso.read("rider0", "personalize_experience", {"device_type"}, now=LATER)
    assert "aggregate_only" in codes(info) and "KOSO-14" in promises(info)
    groups = koso.aggregate("personalize_experience", "device_type", min_group=5, now=LATER)
    assert groups == {"Pixel 8": 5, "(other)": 1}  # the one rare device does not single its owner out
    with pytest.raises(BadValueError):
        koso.aggregate("personalize_experience", "device_type", min_group=1, now=LATER)
    with koso.db.connect() as conn:
        entry = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "aggregate")).scalar_one()
    assert entry["people"] == 6 and "Rare Phone" not in str(entry)


def test_koso_17_location_history_only_improves_apps_and_maps(koso: PolicyEngine) -> None:
    _account(koso, "mei")
    koso.collect("mei", "dashboard_location", {"location": "25.03,121.56", "trip_history": "Taipei loop"}, ACCOUNT,
                 now=NOW)
    assert koso.read("mei", "location_history", {"location", "trip_history"}, ACCOUNT, now=LATER)["trip_history"] == [
        "Taipei loop"]
    with pytest.raises(PrivilegedFactError):  # an account is known from the engine's records, never from the caller
        koso.read("mei", "location_history", {"location"}, Facts(conditions=frozenset({"account_exists"})), now=LATER)
    cancel_account(koso, "mei", now=LATER)  # once the account is closed, the history is for account holders only
    with pytest.raises(DeniedError) as info:
        koso.read("mei", "location_history", {"location", "trip_history"}, now=LATER)
    assert codes(info) == {"members_only"} and "KOSO-17" in promises(info)
    purpose = {p.id: p for p in koso.pack.purposes.items}["location_history"]
    assert "KOSO-17" in purpose.promises
    for other in ("market_research", "advertising", "improve_customer_service"):
        with pytest.raises(DeniedError) as info:
            koso.read("mei", other, {"location"}, now=LATER)
        assert "category_not_allowed" in codes(info)
    with pytest.raises(DeniedError):
        koso.share("mei", "facebook_audience_network", {"location"}, "advertising", now=LATER)


def test_koso_19_dispute_fees_troubleshooting_illegal_activity_and_terms_are_allowed(koso: PolicyEngine) -> None:
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW)
    for purpose in ("dispute_resolution", "fee_collection", "troubleshooting", "prevent_illegal_activity",
                    "enforce_terms_of_use"):
        assert koso.read("mei", purpose, {"name", "email"}, now=LATER)["name"] == ["Chen Mei"]
    with pytest.raises(DeniedError) as info:
        koso.read("mei", "debt_resale", {"name"}, now=LATER)
    assert "undeclared_purpose" in codes(info)


def test_koso_20_named_distributors_with_their_privacy_links_for_their_purposes(koso: PolicyEngine) -> None:
    links = {r.id: r.privacy_url for r in koso.pack.recipients}
    assert links["firebase_analytics"] == links["firebase_auth"] == "https://firebase.google.com/support/privacy"
    assert links["facebook_audience_network"] == "https://www.facebook.com/about/privacy/update"
    assert links["crashlytics"] == "https://firebase.google.com/terms/crashlytics"
    assert koso.pack.recipient_list.non_exhaustive is True  # "a few of the distributors we use"
    koso.collect("mei", "any_interaction", DEVICE, now=NOW)
    koso.collect("mei", "account_creation", {"email": "mei@example.tw"}, now=NOW)
    assert koso.share("mei", "firebase_analytics", {"device_type"}, "market_research", now=LATER)
    assert koso.share("mei", "firebase_auth", {"email"}, "account", now=LATER) == {"email": ["mei@example.tw"]}
    assert koso.share("mei", "crashlytics", {"connection_info"}, "troubleshooting", now=LATER)
    with pytest.raises(DeniedError) as info:  # a listed distributor, but not for that category
        koso.share("mei", "firebase_analytics", {"email"}, "market_research", now=LATER)
    assert "category_not_allowed" in codes(info) and "KOSO-20" in promises(info)
    with pytest.raises(DeniedError):  # nor for another purpose
        koso.share("mei", "crashlytics", {"connection_info"}, "market_research", now=LATER)
    with koso.db.connect() as conn:
        got = conn.execute(select(disclosures.c.recipient).order_by(disclosures.c.id)).scalars().all()
    assert got == ["firebase_analytics", "firebase_auth", "crashlytics"]


def test_koso_24_third_party_sites_are_outside_the_policy(koso: PolicyEngine) -> None:
    adv = {a.id: a for a in koso.pack.advisories}["external_links"]
    assert adv.trigger == "external_link" and "KOSO-24" in adv.promises
    page = render_pack(koso.pack, "md")
    assert "Partner, advertiser and other third-party sites are outside this policy" in page
    koso.collect("mei", "any_interaction", DEVICE, now=NOW)
    with pytest.raises(DeniedError) as info:  # a linked site is no recipient of ours: nothing goes there
        koso.share("mei", "partner-site.example", {"device_type"}, "market_research", now=LATER)
    assert "no_exception" in codes(info)


def test_koso_25_legal_disclosures_need_a_recorded_ground_from_the_list(koso: PolicyEngine) -> None:
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW)
    with pytest.raises(DeniedError) as info:
        koso.share("mei", "taipei_district_court", {"name"}, "dispute_resolution", now=LATER)
    assert "no_exception" in codes(info)
    with pytest.raises(DeniedError):  # a ground that is not on the list
        koso.share("mei", "taipei_district_court", {"name"}, "dispute_resolution",
                   Facts(grounds=frozenset({"business_convenience"})), now=LATER)
    got = koso.share("mei", "taipei_district_court", {"name"}, "dispute_resolution",
                     Facts(grounds=frozenset({"legal_requirement"})), now=LATER)
    assert got == {"name": ["Chen Mei"]}
    with koso.db.connect() as conn:
        row = conn.execute(select(disclosures.c.recipient, disclosures.c.ground)).one()
        decision = conn.execute(select(audit_log.c.promises).where(audit_log.c.allowed.is_(True))
                                .order_by(audit_log.c.seq.desc())).scalars().first()
    assert tuple(row) == ("taipei_district_court", "legal_requirement") and decision and "KOSO-25" in decision


def test_koso_26_compelled_disclosure_needs_national_security_or_public_importance(koso: PolicyEngine) -> None:
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW)
    for ground in ("national_security", "public_importance"):
        assert koso.share("mei", "national_police_agency", {"email"}, "prevent_illegal_activity",
                          Facts(grounds=frozenset({ground})), now=LATER)["email"]
    with pytest.raises(DeniedError) as info:
        koso.share("mei", "national_police_agency", {"email"}, "prevent_illegal_activity",
                   Facts(grounds=frozenset({"curiosity"})), now=LATER)
    assert "no_exception" in codes(info)
    exc = {e.id: e for d in koso.pack.disclosures for e in d.exceptions}["compelled"]
    assert set(exc.grounds) == {"national_security", "public_importance"} and "KOSO-26" in exc.promises


def test_koso_27_affiliates_get_data_only_for_purposes_in_the_policy(koso: PolicyEngine) -> None:
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW)
    got = koso.share("mei", "affiliates", {"name", "email"}, "customer_support", now=LATER)
    assert got["name"] == ["Chen Mei"]
    with pytest.raises(DeniedError) as info:  # advertising is a purpose of the SDK only, not of the group
        koso.share("mei", "affiliates", {"email"}, "advertising", now=LATER)
    assert "purpose_not_allowed" in codes(info) and "KOSO-27" in promises(info)


def test_koso_31_every_access_needs_a_role_and_a_purpose(koso: PolicyEngine) -> None:
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW)
    assert koso.read("mei", "customer_support", {"email"}, actor="support_agent", now=LATER)["email"]
    with pytest.raises(BadValueError, match="actor"):
        koso.read("mei", "customer_support", {"email"}, actor=" ", now=LATER)
    with pytest.raises(DeniedError) as info:  # no purpose that justifies it: no access
        koso.read("mei", "curiosity", {"email"}, actor="support_agent", now=LATER)
    assert "undeclared_purpose" in codes(info)
    with koso.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.allowed, audit_log.c.detail)
                            .where(audit_log.c.kind == "decision").order_by(audit_log.c.seq)).all()
    reads = [r for r in rows if r.detail.get("purpose")]
    assert [(r.actor, r.allowed, r.detail["purpose"]) for r in reads] == [
        ("support_agent", True, "customer_support"), ("support_agent", False, "curiosity")]
    measure = {m.id: m for m in koso.pack.security}["need_to_know"]
    assert "KOSO-31" in measure.promises
