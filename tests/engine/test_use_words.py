"""What the decision of a use (a read) says, word for word: the reason codes, messages, rules and promises, and the
obligations, allowed and denied: a purpose the pack does not declare (refused, or with the person's prior consent),
categories the purpose may not use or the pack does not know, a purpose for members only, consent and the grounds on
which the pack allows processing without it, aggregate-only purposes, and a person who declined the policy. The audit
entry and the API show these words. Found by mutation testing (docs/testing.md): before, only the codes of some of
these decisions were checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policykeeper import DeniedError, load_pack, parse_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Decision, Facts, PolicyEngine
from policykeeper.pack import Pack, bundled_pack_path
from policykeeper.store import open_database
from policykeeper.versions import engine_at, publish

from ..helpers import Obliged, Said, refused
from ..helpers import obliged as _obliged
from ..helpers import said as _said

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}


def _engine(pack: Pack, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _read(eng: PolicyEngine, *args: object, **kw: object) -> tuple[Said, Obliged]:
    got = eng.read(*args, now=NOW, **kw)  # type: ignore[arg-type]
    assert got.decision is not None and got.decision.allowed
    return _said(got.decision), _obliged(got.decision)


def _refused(eng: PolicyEngine, *args: object, **kw: object) -> tuple[Said, Obliged]:
    return refused(eng.read, *args, now=NOW, **kw)


def _grounds(*names: str) -> Facts:
    return Facts(grounds=frozenset(names))


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = _engine(load_pack("kokkok"), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    return eng


def test_kokkok_60_a_person_who_declined_the_policy_is_still_read_for_what_the_law_requires(
        kokkok: PolicyEngine) -> None:
    kokkok.set_consent("alice", "policy", "withdrawn", now=NOW)
    declined = ("KOKKOK-01", "KOKKOK-60", "KOKKOK-61")
    assert _read(kokkok, "alice", "legal_purposes", {"name"}) == ([
        ("ok_declined_limited_service", "the person declined the policy, which limits the service; Legal purposes "
         "rests on legal obligation, not on their agreement", "acceptance.decline_effect", declined),
        ("ok_use", "Legal purposes may use these categories", "purposes.items[19]", ("KOKKOK-31",))], [])
    assert _refused(kokkok, "alice", "p1_contract_performance", {"name"}) == ([
        ("policy_declined", "the person declined the policy: the service is limited to what the law requires "
         "(purposes on a legal obligation, vital or public interest)", "acceptance.decline_effect", declined)], [])


def test_kokkok_25_a_purpose_the_pack_does_not_declare_is_refused(kokkok: PolicyEngine) -> None:
    assert _refused(kokkok, "alice", "loyalty_programme", {"name"}) == ([
        ("undeclared_purpose", "'loyalty_programme' is not a declared purpose and is refused", "purposes",
         ("KOKKOK-25",))], [])


def test_kalos_10_a_purpose_the_pack_does_not_declare_needs_the_person_s_prior_consent(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kalos"), db_url, tmp_path)
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    assert _refused(eng, "li", "travel_insurance_offers", {"usage_data"}) == ([
        ("undeclared_purpose", "'travel_insurance_offers' is not a declared purpose and needs prior consent",
         "purposes", ("KALOS-10", "KALOS-11"))], [])
    eng.set_consent("li", "new_purpose:travel_insurance_offers", "given", now=NOW)
    assert _read(eng, "li", "travel_insurance_offers", {"usage_data"}) == ([
        ("ok_new_purpose_consented", "'travel_insurance_offers' is not in the pack but has prior consent", "purposes",
         ("KALOS-10", "KALOS-11"))], [])


def test_kokkok_05_a_purpose_uses_only_its_categories_and_the_pack_s_named_in_the_denial(
        kokkok: PolicyEngine) -> None:
    assert _refused(kokkok, "alice", "p1_contract_performance", {"name", "vehicle", "interests"}) == ([
        ("category_not_allowed", "Contract performance for service provision and fee settlement may not use "
         "interests, vehicle", "purposes.items[0].categories", ("KOKKOK-05",))], [])
    assert _refused(kokkok, "alice", "legal_purposes", {"name", "shoe_size", "hat_size"}) == ([
        ("unknown_category", "not declared: hat_size, shoe_size", "data_categories", ())], [])


def test_koso_17_location_history_is_for_account_holders_only(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    eng.collect("ana", "any_interaction", {"browser_name": "Firefox", "device_type": "phone",
                                            "connection_info": "1.2.3.4"}, now=NOW)
    assert _refused(eng, "ana", "location_history", {"location"}) == ([
        ("members_only", "Location history to improve App quality and mapping and navigation accuracy is for members "
         "(account holders) only", "purposes.items[10].member_only", ("KOSO-17",))], [])


def test_koso_14_a_purpose_on_aggregated_data_never_reads_one_person_s_values(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    eng.collect("ana", "any_interaction", {"browser_name": "Firefox", "device_type": "phone",
                                            "connection_info": "1.2.3.4"}, now=NOW)
    assert _refused(eng, "ana", "personalize_experience", {"browser_name"}) == ([
        ("aggregate_only", "Personalise user experience works on aggregated, group-level data only, never one "
         "person's values", "purposes.items[0].aggregate_only", ("KOSO-13", "KOSO-14"))], [])


def test_kokkok_61_a_consent_purpose_goes_on_without_consent_on_a_recorded_ground_and_the_ground_is_recorded(
        kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "event_entry", {"interests": "electric cars"}, Facts(channel="online"), now=NOW)
    assert _refused(kokkok, "alice", "event_participation", {"interests"}) == ([
        ("consent_missing", "Events and additional data collection needs explicit consent, which is not given (or "
         "was withdrawn)", "purposes.items[10].requires_consent", ("KOKKOK-23",))], [])
    assert _read(kokkok, "alice", "event_participation", {"interests"},
                 _grounds("public_health", "legal_requirement", "not_a_ground")) == ([
        ("ok_without_consent", "no consent needed: legal_requirement, public_health is recorded",
         "processing_without_consent", ("KOKKOK-61",)),
        ("ok_use", "Events and additional data collection may use these categories", "purposes.items[10]",
         ("KOKKOK-23",))],
        [("record_ground", "legal_requirement,public_health", "", "engine", False, ("KOKKOK-61",))])
    # a purpose that needs no consent is not "without consent": no ground is claimed or recorded for it
    assert _read(kokkok, "alice", "p1_contract_performance", {"name"}, _grounds("legal_requirement")) == ([
        ("ok_use", "Contract performance for service provision and fee settlement may use these categories",
         "purposes.items[0]", ("KOKKOK-05",))], [])


def test_konzen_a_purpose_whose_consent_is_implied_by_use_needs_no_consent_and_no_ground(
        db_url: str, tmp_path: Path) -> None:
    pack = load_pack("konzen")
    items = [p.model_copy(update={"requires_consent": "implied_by_use"}) if p.id == "provide_services" else p
             for p in pack.purposes.items]
    eng = _engine(pack.model_copy(update={"purposes": pack.purposes.model_copy(update={"items": items})}), db_url,
                  tmp_path)
    eng.collect("wang", "registration", {"phone": "13800000000", "email": "w@example.com"}, now=NOW)
    said = ("ok_use", "Provide services may use these categories", "purposes.items[0]", ("KONZEN-19",))
    assert _read(eng, "wang", "provide_services", {"phone"}) == ([said], [])
    assert _read(eng, "wang", "provide_services", {"phone"}, _grounds("public_health")) == ([said], [])


def test_konzen_30_a_withdrawn_consent_stops_processing_but_for_a_ground_the_law_allows_without_consent(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    on = Facts(conditions=frozenset({"device_positioning_on", "feature_active:location_based_service"}))
    eng.set_consent("wang", "device_positioning", "given", now=NOW)
    eng.collect("wang", "location_services", {"location": "39.9,116.4"}, on, now=NOW)
    eng.set_consent("wang", "device_positioning", "withdrawn", now=NOW)
    rule = "purposes.items[8]"
    assert _refused(eng, "wang", "location_based_services", {"location"}) == ([
        ("consent_withdrawn", "consent 'device_positioning' covering 'location_based_services' was withdrawn: "
         "processing stops", rule, ("KONZEN-07",)),
        ("consent_missing", "Location-based services needs opt_in consent, which is not given (or was withdrawn)",
         f"{rule}.requires_consent", ("KONZEN-06",))], [])
    grounds = _grounds("public_health", "national_security")
    assert _read(eng, "wang", "location_based_services", {"location"}, grounds) == ([
        ("ok_legally_permitted", "consent was withdrawn but national_security, public_health is recorded", "consents",
         ("KONZEN-07", "KONZEN-30")),
        ("ok_without_consent", "no consent needed: national_security, public_health is recorded",
         "processing_without_consent", ("KONZEN-30",)),
        ("ok_use", "Location-based services may use these categories", rule, ("KONZEN-06",))],
        [("record_ground", "national_security,public_health", "", "engine", False, ("KONZEN-30",))])


def test_konzen_30_an_objection_to_a_purpose_stops_it_but_for_a_ground_the_law_allows_without_consent(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    eng.collect("wang", "registration", {"phone": "13800000000", "email": "w@example.com"}, now=NOW)
    eng.set_consent("wang", "surveys", "withdrawn", now=NOW)
    assert _refused(eng, "wang", "surveys", {"email"}) == ([
        ("objected", "the person objected to 'surveys': processing for it stops", "purposes.items[12]", ())], [])
    assert _read(eng, "wang", "surveys", {"email"}, _grounds("public_health")) == ([
        ("ok_use", "Surveys may use these categories", "purposes.items[12]", ("KONZEN-19",))], [])


def test_koso_15_a_consent_given_under_an_older_version_does_not_reach_a_purpose_its_rule_names_later(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    eng.collect("mei", "account_creation", {"email": "mei@example.tw"}, now=NOW - dt.timedelta(days=30))
    eng.set_consent("mei", "topic_information", "given", now=NOW - dt.timedelta(days=29))
    text = bundled_pack_path("koso").read_text(encoding="utf-8")
    for old, new in (
            ('label: "2021-06-22"', 'label: "2025-06-02"'), ("updated_date: 2021-06-22", "updated_date: 2025-06-02"),
            ("    - {id: feedback_survey,",
             "    - {id: partner_offers, name: Offers from KOSO dealers, data_use: marketing.communications.email,\n"
             "       legal_basis: consent, requires_consent: opt_in, default_enabled: false, categories: [email], "
             "promises: [KOSO-15]}\n    - {id: feedback_survey,"),
            ("targets: [topic_information]", "targets: [topic_information, partner_offers]")):
        assert old in text, old
        text = text.replace(old, new, 1)
    publish(eng, parse_pack(text, "koso-next.yaml"), now=NOW)
    later = NOW + dt.timedelta(hours=1)
    v2 = engine_at(eng, later)
    with pytest.raises(DeniedError) as info:
        v2.read("mei", "partner_offers", {"email"}, now=later)
    assert isinstance(info.value.decision, Decision)
    assert _said(info.value.decision) == [
        ("consent_missing", "Offers from KOSO dealers needs opt_in consent, which is not given (or was withdrawn)",
         "purposes.items[15].requires_consent", ("KOSO-15",))]


KAMOER_CHILD = {"phone": "13900001111", "email": "xiaoming@example.cn", "username": "xiaoming", "password": "pw",
                "birthday": "2016-03-01"}


def test_kamoer_70_a_child_s_data_is_used_only_when_the_law_allows_a_parent_consents_or_it_protects_the_child(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    eng.set_consent("xiaoming", "parental_account", "given", now=NOW)
    eng.collect("xiaoming", "registration", KAMOER_CHILD, now=NOW)
    assert _refused(eng, "xiaoming", "account_registration", {"email"}) == ([
        ("minor_use_not_permitted", "a child's data is used or disclosed only when permitted by law or explicit "
         "parental consent or necessary to protect the child", "minors.permitted_uses", ("KAMOER-70",))], [])
    allowed = ([("ok_use", "Register as a Kamoer user may use these categories", "purposes.items[0]", ())], [])
    for ground in ("permitted_by_law", "legal_requirement", "necessary_to_protect_the_child"):
        assert _read(eng, "xiaoming", "account_registration", {"email"}, _grounds(ground)) == allowed, ground
    assert _refused(eng, "xiaoming", "account_registration", {"email"}, _grounds("public_health"))[0][0][0] == (
        "minor_use_not_permitted")
    eng.set_consent("xiaoming", "parental_consent:account_registration", "given", now=NOW)
    assert _read(eng, "xiaoming", "account_registration", {"email"}) == allowed


def test_kamoer_71_a_child_s_data_found_without_a_parent_s_consent_is_not_used_once_queued_for_deletion(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    eng.collect("xiaoming", "registration", {k: v for k, v in KAMOER_CHILD.items() if k != "birthday"}, now=NOW)
    assert eng.note_age("xiaoming", age=10, now=NOW)
    assert _refused(eng, "xiaoming", "account_registration", {"email"}, _grounds("permitted_by_law")) == ([
        ("queued_for_deletion", "a child's data found without parental consent is queued for deletion",
         "minors.on_unconsented_discovery", ("KAMOER-69", "KAMOER-71"))], [])


def test_kokkok_55_a_restricted_person_s_data_is_processed_only_on_a_recorded_legal_ground(
        kokkok: PolicyEngine) -> None:
    with kokkok.db.connect() as conn:
        sid = kokkok.subject_id_of(conn, "alice")
    assert sid is not None
    kokkok.restrict_subject(sid, now=NOW)
    assert _refused(kokkok, "alice", "p1_contract_performance", {"name"}) == ([
        ("restricted", "processing is restricted at the person's request", "rights", ("KOKKOK-55",))], [])
    assert _refused(kokkok, "alice", "p1_contract_performance", {"name"}, _grounds("not_a_ground")) == ([
        ("restricted", "processing is restricted at the person's request", "rights", ("KOKKOK-55",))], [])
    assert _read(kokkok, "alice", "p1_contract_performance", {"name"}, _grounds("legal_requirement")) == ([
        ("ok_use", "Contract performance for service provision and fee settlement may use these categories",
         "purposes.items[0]", ("KOKKOK-05",))], [])


def test_kokkok_44_a_business_transfer_of_the_minimum_necessary_carries_both_obligations(
        db_url: str, tmp_path: Path) -> None:
    """Two obligations with the same (empty) value but of different kinds are both kept."""
    pack = load_pack("kokkok")
    rules = [d.model_copy(update={"exceptions": tuple(
        e.model_copy(update={"minimum_necessary": True}) if e.id == "business_transaction" else e
        for e in d.exceptions)}) for d in pack.disclosures]
    eng = _engine(pack.model_copy(update={"disclosures": rules}), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    got = eng.share("alice", "buyer_co", {"name"}, "p1_contract_performance", _grounds("corporate_transaction"),
                    now=NOW)
    assert got.decision is not None
    assert _obliged(got.decision) == [
        ("record_ground", "business_transaction:corporate_transaction", "", "engine", False, ("KOKKOK-44",)),
        ("minimum_necessary", "", "", "engine", False, ("KOKKOK-44",)),
        ("carry_agreed_policy_version", "", "", "engine", False, ("KOKKOK-44",))]


def test_kamoer_70_a_person_of_the_threshold_age_is_no_child(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    eng.collect("teen", "registration", KAMOER_CHILD | {"birthday": "2011-06-02"}, now=NOW)
    assert _read(eng, "teen", "account_registration", {"email"}) == (
        [("ok_use", "Register as a Kamoer user may use these categories", "purposes.items[0]", ())], [])


def test_kamoer_21_reading_from_abroad_is_a_cross_border_transfer_named_for_the_reader(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    eng.collect("zhang", "registration", {"phone": "13900001111", "email": "z@example.cn", "username": "zhang",
                                          "password": "pw"}, now=NOW)
    said, _ = _refused(eng, "zhang", "account_registration", {"email"}, Facts(region="DE"))
    assert said == [("transfer_precondition", "the reader is in DE: a cross-border transfer needs security assessment "
                     "first", "transfers", ("KAMOER-21", "KAMOER-72"))]


def test_kalos_19_the_consent_rule_about_identity_data_authorises_identity_data_to_the_recipients_it_names(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kalos"), db_url, tmp_path)
    eng.collect("li", "business_function", {"basic_data": "Li Wei", "user_info": "li@example.cn"}, now=NOW)
    eng.record_fact("agreement", party="sdk_providers", arg="confidentiality", reference="SDK contract", now=NOW)
    with pytest.raises(DeniedError) as info:
        eng.share("li", "sdk_providers", {"user_info"}, "provide_services", now=NOW)
    assert isinstance(info.value.decision, Decision)
    assert [r.code for r in info.value.decision.reasons] == ["identity_needs_consent"]
    eng.set_consent("li", "sdk_identity", "given", now=NOW)  # the pack's rule: identity data to the SDK providers
    got = eng.share("li", "sdk_providers", {"user_info"}, "provide_services", now=NOW)
    assert got["user_info"] == ["li@example.cn"] and got.decision is not None
    assert _said(got.decision) == [("ok_share", "Third-party SDK service providers may receive these categories for "
                                    "provide_services", "recipients[1]", ("KALOS-18", "KALOS-19"))]


def test_a_permitted_use_of_a_child_s_data_the_engine_cannot_check_never_opens_it(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kamoer")
    eng = _engine(pack.model_copy(update={"minors": pack.minors.model_copy(  # type: ignore[union-attr]
        update={"permitted_uses": ("court_order",)})}), db_url, tmp_path)
    eng.set_consent("xiaoming", "parental_account", "given", now=NOW)
    eng.collect("xiaoming", "registration", KAMOER_CHILD, now=NOW)
    assert _refused(eng, "xiaoming", "account_registration", {"email"}, _grounds("court_order")) == ([
        ("minor_use_not_permitted", "a child's data is used or disclosed only when court order",
         "minors.permitted_uses", ("KAMOER-70",))], [])


def test_kalos_41_reading_from_abroad_needs_every_precondition_where_the_pack_asks_for_all(
        db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kalos")
    every = pack.transfers.model_copy(update={  # type: ignore[union-attr]
        "preconditions": ("security_assessment", "consent"), "precondition_logic": "all"})
    eng = _engine(pack.model_copy(update={"transfers": every}), db_url, tmp_path)
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    eng.record_transfer_assessment("US", reference="assessment 7", now=NOW)
    promised = ("KALOS-41", "KALOS-42", "KALOS-43")
    abroad = Facts(region="US")
    assert _refused(eng, "li", "provide_services", {"usage_data"}, abroad) == ([
        ("transfer_precondition", "the reader is in US: a cross-border transfer needs security assessment and consent "
         "first", "transfers", promised)], [])
    eng.set_consent("li", "overseas_transfer", "given", now=NOW)
    assert _read(eng, "li", "provide_services", {"usage_data"}, abroad) == ([
        ("ok_transfer", "cross-border transfer to US meets security_assessment, consent", "transfers", promised),
        ("ok_use", "Provide, maintain, improve and optimise the products and services you use may use these "
         "categories", "purposes.items[2]", ("KALOS-11",))],
        [("protection_standard", "equivalent to that within the People's Republic of China", "the reader must protect "
          "the data to the standard: equivalent to that within the People's Republic of China", "caller", False,
          promised)])


def test_kalos_42_a_transfer_rule_without_preconditions_names_itself_and_its_standard_in_words(
        db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kalos")
    plain = pack.transfers.model_copy(update={  # type: ignore[union-attr]
        "preconditions": (), "protection_standard": "standard_contractual_clauses"})
    eng = _engine(pack.model_copy(update={"transfers": plain}), db_url, tmp_path)
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    promised = ("KALOS-41", "KALOS-42", "KALOS-43")
    said, obliged = _read(eng, "li", "provide_services", {"usage_data"}, Facts(region="US"))
    assert said[0] == ("ok_transfer", "cross-border transfer to US meets the transfer rule", "transfers", promised)
    assert obliged == [("protection_standard", "standard_contractual_clauses", "the reader must protect the data to "
                        "the standard: standard contractual clauses", "caller", False, promised)]
    # a region the caller does not know is no transfer
    assert _read(eng, "li", "provide_services", {"usage_data"}, Facts(region="unspecified")) == ([
        ("ok_use", "Provide, maintain, improve and optimise the products and services you use may use these "
         "categories", "purposes.items[2]", ("KALOS-11",))], [])


def test_konzen_07_a_decision_counts_the_consents_given_and_withdrawn_by_its_own_time_only(
        db_url: str, tmp_path: Path) -> None:
    """The consent ledger is read as of the decision's time: a withdrawal recorded for a later instant does not reach
    back to a decision made before it, and one made after it sees it (found by mutation testing: the fold's time)."""
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    on = Facts(conditions=frozenset({"device_positioning_on", "feature_active:location_based_service"}))
    eng.set_consent("wang", "device_positioning", "given", now=NOW)
    eng.collect("wang", "location_services", {"location": "39.9,116.4"}, on, now=NOW)
    eng.set_consent("wang", "device_positioning", "withdrawn", now=NOW + dt.timedelta(hours=2))
    before = eng.read("wang", "location_based_services", {"location"}, now=NOW + dt.timedelta(hours=1))
    assert before["location"] == ["39.9,116.4"]
    with pytest.raises(DeniedError) as info:
        eng.read("wang", "location_based_services", {"location"}, now=NOW + dt.timedelta(hours=3))
    assert "consent_withdrawn" in {r.code for r in info.value.decision.reasons}  # type: ignore[attr-defined]
