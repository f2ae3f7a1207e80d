"""What the decision of a collection says, word for word: the reason codes, messages, rules and promises, and the
obligations, allowed and denied: an unknown context, a declined policy, a context's conditions and members-only
contexts, undeclared fields (refused or dropped), essential fields missing, consent a field or sensitive data needs, a
refused consent, the collection channel, the advisories a field triggers, and a minor's age. The audit entry and the
API show these words. Found by mutation testing (docs/testing.md): before, only the codes of some of these decisions
were checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.pack import Condition, Pack
from policykeeper.store import open_database

from ..helpers import Obliged, Said, refused
from ..helpers import obliged as _obliged
from ..helpers import said as _said

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
ONLINE = Facts(channel="online")


def _engine(pack: Pack, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _collect(eng: PolicyEngine, *args: object, **kw: object) -> tuple[Said, Obliged]:
    got = eng.collect(*args, now=NOW, **kw)  # type: ignore[arg-type]
    assert got.decision.allowed
    return _said(got.decision), _obliged(got.decision)


def _refused(eng: PolicyEngine, *args: object, **kw: object) -> tuple[Said, Obliged]:
    return refused(eng.collect, *args, now=NOW, **kw)


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path) -> PolicyEngine:
    return _engine(load_pack("kokkok"), db_url, tmp_path)


REGISTRATION = "Registration as a Personal Customer"


def test_kokkok_03_a_registration_says_what_it_may_collect_and_which_promises_it_keeps(kokkok: PolicyEngine) -> None:
    assert _collect(kokkok, "alice", "personal_customer", ALICE, ONLINE) == ([
        ("ok_collect", f"{REGISTRATION} may collect these fields", "collection.contexts[0]",
         ("KOKKOK-03", "KOKKOK-19", "KOKKOK-07"))], [])


def test_kokkok_02_every_record_needs_a_collection_channel_the_pack_names(kokkok: PolicyEngine) -> None:
    needs = ("channel_required", "every record needs a collection channel from online, consultation, "
             "third_party_provider, data_generation_tool, offline_branch", "collection.channels",
             ("KOKKOK-02", "KOKKOK-16", "KOKKOK-22"))
    assert _refused(kokkok, "alice", "personal_customer", ALICE) == ([needs], [])
    assert _refused(kokkok, "alice", "personal_customer", ALICE, Facts(channel="carrier_pigeon")) == ([needs], [])


def test_kokkok_03_a_missing_essential_field_and_an_undeclared_one_are_named(kokkok: PolicyEngine) -> None:
    values = {k: v for k, v in ALICE.items() if k != "date_of_birth"} | {"vehicle": "KL-1234"}
    assert _refused(kokkok, "alice", "personal_customer", values, ONLINE) == ([
        ("undeclared_field", f"'vehicle' is not declared for {REGISTRATION} (data minimisation)",
         "collection.undeclared_fields", ("KOKKOK-02", "KOKKOK-16", "KOKKOK-22", "KOKKOK-03", "KOKKOK-19")),
        ("essential_missing", f"'date_of_birth' is essential for {REGISTRATION}: Refusal to consent to essential "
         "information during membership registration will limit service provision.",
         "collection.contexts[0].fields[5]", ("KOKKOK-03", "KOKKOK-07", "KOKKOK-03", "KOKKOK-19"))], [])


def test_kokkok_18_a_refused_consent_to_the_essential_registration_data_blocks_registration(
        kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    kokkok.set_consent("alice", "essential_registration", "withdrawn", now=NOW)
    assert _refused(kokkok, "alice", "personal_customer", ALICE, ONLINE) == ([
        ("consent_refused", f"consent to the essential data of {REGISTRATION} was refused: Refusal to consent to "
         "essential information during membership registration will limit service provision.",
         "collection.contexts[0]", ("KOKKOK-18", "KOKKOK-19"))], [])


def test_kokkok_23_an_opt_in_field_needs_the_consent_its_rule_names(kokkok: PolicyEngine) -> None:
    assert _refused(kokkok, "alice", "event_entry", {"name": "Alice", "interests": "cars"}, ONLINE) == ([
        ("consent_missing", "'name' needs consent 'event_entry_contact' first", "collection.contexts[6].fields[0]",
         ("KOKKOK-23",))], [])
    kokkok.set_consent("alice", "event_entry_contact", "given", now=NOW)
    assert _collect(kokkok, "alice", "event_entry", {"name": "Alice", "interests": "cars"}, ONLINE) == ([
        ("ok_collect", "Event entries and additional data collection may collect these fields",
         "collection.contexts[6]", ("KOKKOK-23",))], [])


def test_kokkok_17_sensitive_data_needs_explicit_consent_first(kokkok: PolicyEngine) -> None:
    assert _refused(kokkok, "alice", "personal_customer", ALICE | {"sensitive_information": "health"}, ONLINE) == ([
        ("consent_missing", "'sensitive_information' needs consent 'sensitive_data' first",
         "collection.contexts[0].fields[7]", ("KOKKOK-17", "KOKKOK-03", "KOKKOK-19")),
        ("sensitive_needs_consent", "'sensitive_information' is sensitive (race, religion, ideology, place_of_origin, "
         "birthplace, political_inclination, criminal_records, health): explicit consent first",
         "collection.sensitive_requires", ("KOKKOK-02", "KOKKOK-16", "KOKKOK-22"))], [])


def test_kokkok_07_an_underage_person_s_registration_is_refused(kokkok: PolicyEngine) -> None:
    assert _refused(kokkok, "kid", "personal_customer", ALICE | {"date_of_birth": "2015-01-01"}, ONLINE) == ([
        ("minor_blocked", "under 14: registration is refused", "minors", ("KOKKOK-07", "KOKKOK-27"))], [])


def test_kokkok_60_a_person_who_declined_the_policy_gives_no_more_data(kokkok: PolicyEngine) -> None:
    kokkok.collect("alice", "personal_customer", ALICE, ONLINE, now=NOW)
    kokkok.set_consent("alice", "policy", "withdrawn", now=NOW)
    assert _refused(kokkok, "alice", "one_to_one_inquiry", {"consultation_records": "a question"}, ONLINE) == ([
        ("policy_declined", "the person declined the policy: the service is limited to what the law requires "
         "(purposes on a legal obligation, vital or public interest)", "acceptance.decline_effect",
         ("KOKKOK-01", "KOKKOK-60", "KOKKOK-61"))], [])


def test_koso_01_a_person_who_declined_the_policy_is_not_processed_and_an_unknown_context_is_named(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    eng.collect("ana", "account_creation", {"email": "ana@example.com"}, now=NOW)
    assert _refused(eng, "ana", "newsletter_signup", {"email": "ana@example.com"}) == ([
        ("unknown_context", "'newsletter_signup' is not a collection context of this pack", "collection.contexts",
         ())], [])
    eng.set_consent("ana", "policy", "withdrawn", now=NOW)
    assert _refused(eng, "ana", "account_creation", {"email": "ana@example.com"}) == ([
        ("policy_declined", "the person declined the policy: no processing", "acceptance.decline_effect",
         ("KOSO-01", "KOSO-02"))], [])


def test_koso_07_dashboard_location_is_for_account_holders_with_the_app(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    name = "Location and trip history from a dashboard-related App (K Link, K Race)"
    assert _refused(eng, "ana", "dashboard_location", {"location": "45.1,7.6"}) == ([
        ("condition_unmet", f"{name} collects only when account_exists", "collection.contexts[2].activation",
         ("KOSO-07",)),
        ("condition_unmet", f"{name} collects only when subscribed:dashboard_app", "collection.contexts[2].activation",
         ("KOSO-07",)),
        ("members_only", f"{name} is for members (account holders) only", "collection.contexts[2].member_only",
         ("KOSO-07",))], [])


def test_kamoer_42_an_undeclared_field_is_dropped_and_a_password_brings_its_advice(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    got = eng.collect("zhang", "registration", {"phone": "13900001111", "email": "z@example.cn", "username": "zhang",
                                                "password": "pw", "bank_card": "6222"}, now=NOW)
    advice = next(a for a in eng.pack.advisories if a.id == "complex_password").text
    assert got.decision.dropped == frozenset({"bank_card"})
    assert _said(got.decision) == [
        ("ok_dropped", "'bank_card' is not declared for Register as a Kamoer user: dropped",
         "collection.undeclared_fields", ("KAMOER-42",)),
        ("ok_advisory", advice, "advisories[2]", ("KAMOER-44",)),
        ("ok_collect", "Register as a Kamoer user may collect these fields", "collection.contexts[0]",
         ("KAMOER-03",))]
    assert _obliged(got.decision) == [("show_advisory", "complex_password", advice, "caller", True, ("KAMOER-44",))]


def test_kamoer_18_publishing_sensitive_data_warns_the_person(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    sensitive = eng.compiled.categories["published_sensitive"].name
    advice = next(a for a in eng.pack.advisories if a.id == "sensitive_publishing").text
    assert _collect(eng, "zhang", "public_channels", {"published_sensitive": "my diagnosis"}) == ([
        ("ok_advisory", advice, "advisories[0]", ("KAMOER-18",)),
        ("ok_collect", "Content the user publishes in public channels may collect these fields",
         "collection.contexts[10]", ("KAMOER-18",))],
        [("warn_sensitive", "published_sensitive", f"{sensitive} is sensitive: think before you publish it", "caller",
          True, ("KAMOER-42",)),
         ("show_advisory", "sensitive_publishing", advice, "caller", True, ("KAMOER-18",))])


def test_kalos_05_a_refused_location_permission_blocks_the_feature_only(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kalos"), db_url, tmp_path)
    on = Facts(conditions=frozenset({"feature_active:connect", "os_permission_granted:location"}))
    name = 'The "Connect" feature'
    assert _refused(eng, "li", "connect_feature", {"precise_location": "30.5,114.3"}) == ([
        ("condition_unmet", f"{name} collects only when feature_active:connect", "collection.contexts[0].activation",
         ("KALOS-05",)),
        ("condition_unmet", f"{name} collects only when os_permission_granted:location",
         "collection.contexts[0].activation", ("KALOS-05",)),
        ("consent_missing", "'precise_location' needs consent 'location_permission' first",
         "collection.contexts[0].fields[0]", ("KALOS-05",))], [])
    eng.set_consent("li", "location_permission", "given", now=NOW)
    assert _collect(eng, "li", "connect_feature", {"precise_location": "30.5,114.3"}, on) == ([
        ("ok_collect", f"{name} may collect these fields", "collection.contexts[0]", ("KALOS-05",))], [])
    eng.set_consent("li", "location_permission", "withdrawn", now=NOW)
    assert _refused(eng, "li", "connect_feature", {"precise_location": "30.5,114.3"}, on) == ([
        ("refused_block_feature_only", f"'precise_location' was refused, which blocks the feature {name} (nothing "
         "else)", "collection.contexts[0].fields[0].on_refusal", ("KALOS-05",)),
        ("consent_missing", "'precise_location' needs consent 'location_permission' first",
         "collection.contexts[0].fields[0]", ("KALOS-05",))], [])


def test_kalos_38_a_minor_needs_a_parent_s_consent_first(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kalos"), db_url, tmp_path)
    assert _refused(eng, "kim", "business_function", {"basic_data": "Kim", "user_info": "kim@example.com"},
                    Facts(age=15)) == ([
        ("parental_consent_missing", "under 18: a parent's or guardian's consent first", "minors",
         ("KALOS-37", "KALOS-38", "KALOS-39"))], [])


def test_konzen_38_a_minor_is_shown_advice_and_the_guidance_for_minors(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    guidance = eng.pack.advisories[0].text
    assert _collect(eng, "wang", "registration", {"phone": "13800000000", "email": "w@example.com"},
                    Facts(age=16)) == ([
        ("ok_minor_advisory", "under 18: advice is shown", "minors", ("KONZEN-38",)),
        ("ok_advisory", guidance, "advisories[0]", ("KONZEN-39",)),
        ("ok_collect", "Registering an account or using the services may collect these fields",
         "collection.contexts[0]", ("KONZEN-04", "KONZEN-05"))],
        [("show_minor_advisory", "", "under 18: advice for a minor is shown", "caller", True, ("KONZEN-38",)),
         ("show_advisory", "minors_guidance", guidance, "caller", True, ("KONZEN-39",))])


def test_kokkok_10_an_essential_field_missing_from_a_context_without_a_refusal_notice(kokkok: PolicyEngine) -> None:
    assert _refused(kokkok, "bo", "used_car_sales", {"name": "Bo", "uuid": "u-1", "phone": "+856 20 1"}, ONLINE) == ([
        ("essential_missing", "'vehicle' is essential for Sales (Used Car)", "collection.contexts[2].fields[3]",
         ("KOKKOK-10",))], [])


def test_kokkok_07_the_age_threshold_itself_is_not_underage(kokkok: PolicyEngine) -> None:
    assert _collect(kokkok, "teen", "personal_customer", ALICE, Facts(channel="online", age=14))[0][0][0] == (
        "ok_collect")


def test_kamoer_42_every_sensitive_field_collected_brings_its_own_warning(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    said, obliged = _collect(eng, "zhang", "purchase", {
        "name": "Zhang San", "phone": "+86 139 0000 1111", "email": "z@example.cn", "mailing_address": "1 Road",
        "id_number": "110", "bank_card": "6222"})
    assert said == [("ok_collect", "Purchase and delivery of products or services may collect these fields",
                     "collection.contexts[1]", ("KAMOER-05", "KAMOER-06"))]
    names = {c: eng.compiled.categories[c].name for c in ("id_number", "bank_card")}
    assert obliged == [
        ("warn_sensitive", c, f"{names[c]} is sensitive: think before you publish it", "caller", True, ("KAMOER-42",))
        for c in ("id_number", "bank_card")]


def test_kamoer_69_a_parent_s_withdrawn_consent_to_the_child_s_account_refuses_its_registration_data(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    eng.set_consent("xiaoming", "parental_account", "given", now=NOW)
    values = {"phone": "13900001111", "email": "x@example.cn", "username": "xiaoming", "password": "pw"}
    eng.collect("xiaoming", "registration", values, now=NOW)
    eng.set_consent("xiaoming", "parental_account", "withdrawn", now=NOW)
    said, _ = _refused(eng, "xiaoming", "registration", values)
    assert said[0] == ("consent_refused", "consent to the essential data of Register as a Kamoer user was refused",
                       "collection.contexts[0]", ("KAMOER-69",))


def test_kalos_38_a_minor_with_a_parent_s_consent_registers_and_the_threshold_age_is_no_minor(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kalos"), db_url, tmp_path)
    values = {"basic_data": "Kim", "user_info": "kim@example.com"}
    allowed = ([("ok_collect", "A business function (its basic data) may collect these fields",
                 "collection.contexts[3]", ("KALOS-27",))], [])
    assert _collect(eng, "adult", "business_function", values, Facts(age=18)) == allowed
    eng.set_consent("kim", "parental_account", "given", now=NOW)
    assert _collect(eng, "kim", "business_function", values, Facts(age=15)) == allowed


def test_a_declined_policy_whose_effect_the_pack_leaves_open_stops_all_collection(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    values = {"phone": "13800000000", "email": "w@example.com"}
    eng.collect("wang", "registration", values, now=NOW)
    eng.set_consent("wang", "policy", "withdrawn", now=NOW)
    assert _refused(eng, "wang", "registration", values) == ([
        ("policy_declined", "the person declined the policy: no processing", "acceptance.decline_effect",
         ("KONZEN-01",))], [])


def _field(pack: Pack, context: str, category: str, **update: object) -> Pack:
    contexts = tuple(
        c.model_copy(update={"fields": tuple(f.model_copy(update=update) if f.category == category else f
                                             for f in c.fields)}) if c.id == context else c
        for c in pack.collection.contexts)
    return pack.model_copy(update={"collection": pack.collection.model_copy(update={"contexts": contexts})})


def test_refusing_a_field_blocks_its_context_with_the_context_s_notice(db_url: str, tmp_path: Path) -> None:
    pack = _field(load_pack("kokkok"), "personal_customer", "sensitive_information", on_refusal="block_context")
    eng = _engine(pack, db_url, tmp_path)
    eng.set_consent("alice", "sensitive_data", "refused", now=NOW)
    assert _refused(eng, "alice", "personal_customer", ALICE, ONLINE) == ([
        ("refused_block_context", f"'sensitive_information' was refused, which blocks {REGISTRATION}: Refusal to "
         "consent to essential information during membership registration will limit service provision.",
         "collection.contexts[0].fields[7].on_refusal", ("KOKKOK-17",))], [])


def test_refusing_a_field_that_limits_benefits_lets_the_context_go_on_and_tells_the_caller(
        db_url: str, tmp_path: Path) -> None:
    pack = _field(load_pack("kokkok"), "personal_customer", "sensitive_information", on_refusal="limit_benefits")
    eng = _engine(pack, db_url, tmp_path)
    eng.set_consent("alice", "sensitive_data", "refused", now=NOW)
    assert _collect(eng, "alice", "personal_customer", ALICE, ONLINE) == ([
        ("ok_benefits_limited", f"'sensitive_information' was refused: {REGISTRATION} goes on with limited benefits",
         "collection.contexts[0].fields[7].on_refusal", ("KOKKOK-17",)),
        ("ok_collect", f"{REGISTRATION} may collect these fields", "collection.contexts[0]",
         ("KOKKOK-03", "KOKKOK-19", "KOKKOK-07"))],
        [("limit_benefits", "sensitive_information", "", "caller", False, ("KOKKOK-17",))])


def test_kamoer_15_refusing_a_programme_field_names_the_consent_rule_s_own_notice(db_url: str, tmp_path: Path) -> None:
    pack = _field(load_pack("kamoer"), "product_improvement_program", "diagnostic_data",
                  on_refusal="block_feature_only")
    contexts = tuple(c.model_copy(update={"refusal_notice": "The programme needs this data."})
                     if c.id == "product_improvement_program" else c for c in pack.collection.contexts)
    pack = pack.model_copy(update={"collection": pack.collection.model_copy(update={"contexts": contexts})})
    eng = _engine(pack, db_url, tmp_path)
    eng.set_consent("zhang", "improvement_program", "refused", now=NOW)
    said, _ = _refused(eng, "zhang", "product_improvement_program", {"usage_data": "ran 3 pumps"})
    assert said[0] == (
        "refused_block_feature_only", "'diagnostic_data' was refused, which blocks the feature Product Improvement "
        "Program (opt-in) (nothing else): Not joining the product improvement plan will not affect your use of "
        "Kamoer's products or services.", "collection.contexts[5].fields[0].on_refusal", ("KAMOER-13", "KAMOER-15"))


def test_kokkok_29_a_provider_s_location_is_collected_only_once_it_accepted_the_request(kokkok: PolicyEngine) -> None:
    context = "A service provider accepts a customer's request"
    assert _refused(kokkok, "prov", "provider_request", {"provider_location": "17.97,102.6"}, ONLINE) == ([
        ("condition_unmet", f"{context} collects only when provider_accepted_request",
         "collection.contexts[9].activation", ("KOKKOK-29",))], [])
    accepted = Facts(channel="online", conditions=frozenset({"provider_accepted_request"}))
    assert _collect(kokkok, "prov", "provider_request", {"provider_location": "17.97,102.6"}, accepted) == ([
        ("ok_collect", f"{context} may collect these fields", "collection.contexts[9]", ("KOKKOK-29",))], [])


def test_a_context_active_on_any_of_several_conditions_names_them_all_when_none_holds(
        db_url: str, tmp_path: Path) -> None:
    pack = load_pack("konzen")
    either = Condition(all=("device_positioning_on",), any=("feature_active:location_based_service",
                                                            "feature_active:map"))
    contexts = tuple(c.model_copy(update={"activation": either}) if c.id == "location_services" else c
                     for c in pack.collection.contexts)
    eng = _engine(pack.model_copy(update={"collection": pack.collection.model_copy(update={"contexts": contexts})}),
                  db_url, tmp_path)
    eng.set_consent("wang", "device_positioning", "given", now=NOW)
    context = "Location-based services on a mobile device with positioning"
    where, promised = "collection.contexts[1].activation", ("KONZEN-06", "KONZEN-07")
    assert _refused(eng, "wang", "location_services", {"location": "39.9,116.4"}) == ([
        ("condition_unmet", f"{context} collects only when device_positioning_on", where, promised),
        ("condition_unmet", f"{context} collects only when any of feature_active:location_based_service, "
         "feature_active:map", where, promised)], [])
    for feature in ("feature_active:map", "feature_active:location_based_service"):
        on = Facts(conditions=frozenset({"device_positioning_on", feature}))
        assert _collect(eng, "wang", "location_services", {"location": "39.9,116.4"}, on) == ([
            ("ok_collect", f"{context} may collect these fields", "collection.contexts[1]", promised)], [])


def test_an_opt_in_field_without_a_consent_rule_needs_consent_to_itself_or_to_its_context(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(_field(load_pack("kamoer"), "job_application", "resume", consent_rule=None), db_url, tmp_path)
    assert _refused(eng, "zhang", "job_application", {"resume": "CV", "name": "Zhang San"}) == ([
        ("consent_missing", "'resume' needs consent 'resume' first", "collection.contexts[7].fields[0]",
         ("KAMOER-16",))], [])
    eng.set_consent("zhang", "job_application", "given", now=NOW)
    assert _collect(eng, "zhang", "job_application", {"resume": "CV", "name": "Zhang San"}) == ([
        ("ok_collect", "Job applications through the website may collect these fields", "collection.contexts[7]",
         ("KAMOER-16",))], [])


def test_a_field_needing_separate_authorisation_needs_consent_to_itself(db_url: str, tmp_path: Path) -> None:
    pack = _field(load_pack("kamoer"), "job_application", "phone", separate_authorization=True)
    eng = _engine(pack, db_url, tmp_path)
    assert _refused(eng, "zhang", "job_application", {"name": "Zhang San", "phone": "139"}) == ([
        ("consent_missing", "'phone' needs consent 'phone' first", "collection.contexts[7].fields[3]",
         ("KAMOER-16",))], [])


@pytest.mark.parametrize("needs", ["consent", "explicit_consent"])
def test_sensitive_data_needs_consent_where_the_pack_asks_for_consent_of_either_kind(
        needs: str, db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kokkok")
    eng = _engine(pack.model_copy(update={"collection": pack.collection.model_copy(update={
        "sensitive_requires": needs})}), db_url, tmp_path)
    eng.set_consent("alice", "sensitive_data", "given", now=NOW)
    assert _collect(eng, "alice", "personal_customer", ALICE | {"sensitive_information": "health"}, ONLINE)[0] == [
        ("ok_collect", f"{REGISTRATION} may collect these fields", "collection.contexts[0]",
         ("KOKKOK-03", "KOKKOK-19", "KOKKOK-07", "KOKKOK-17"))]
    eng.set_consent("alice", "sensitive_data", "withdrawn", now=NOW)
    said, _ = _refused(eng, "alice", "personal_customer", ALICE | {"sensitive_information": "health"}, ONLINE)
    assert said[-1][0] == "sensitive_needs_consent"


def test_kamoer_04_a_profile_field_needing_separate_authorisation_names_the_field_s_own_promise(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(_field(load_pack("kamoer"), "registration", "name", separate_authorization=True), db_url, tmp_path)
    values = {"phone": "13900001111", "email": "z@example.cn", "username": "zhang", "password": "pw", "name": "Zhang"}
    said, _ = _refused(eng, "zhang", "registration", values)
    assert said == [("consent_missing", "'name' needs consent 'name' first", "collection.contexts[0].fields[4]",
                     ("KAMOER-04",)),
                    ("ok_advisory", next(a.text for a in eng.pack.advisories if a.id == "complex_password"),
                     "advisories[2]", ("KAMOER-44",))]


def test_kokkok_23_the_denial_names_the_consent_rule_s_promises_too(db_url: str, tmp_path: Path) -> None:
    eng = _engine(_field(load_pack("kokkok"), "event_entry", "name", promises=()), db_url, tmp_path)
    assert _refused(eng, "alice", "event_entry", {"name": "Alice"}, ONLINE) == ([
        ("consent_missing", "'name' needs consent 'event_entry_contact' first", "collection.contexts[6].fields[0]",
         ("KOKKOK-23",))], [])
    assert _refused(eng, "alice", "newsletter_signup", {"name": "Alice"}, ONLINE) == ([
        ("unknown_context", "'newsletter_signup' is not a collection context of this pack", "collection.contexts",
         ("KOKKOK-02", "KOKKOK-16", "KOKKOK-22"))], [])


def test_a_general_consent_to_sensitive_data_covers_a_sensitive_field_no_consent_rule_names(
        db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kamoer")
    eng = _engine(pack.model_copy(update={"collection": pack.collection.model_copy(update={
        "sensitive_requires": "explicit_consent"})}), db_url, tmp_path)
    values = {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "z@example.cn", "mailing_address": "1 Road",
              "id_number": "110", "bank_card": "6222"}
    said, _ = _refused(eng, "zhang", "purchase", values)
    assert [r[0] for r in said] == ["sensitive_needs_consent", "sensitive_needs_consent"]
    eng.set_consent("zhang", "sensitive_data", "given", now=NOW)
    assert _collect(eng, "zhang", "purchase", values) == ([
        ("ok_collect", "Purchase and delivery of products or services may collect these fields",
         "collection.contexts[1]", ("KAMOER-05", "KAMOER-06"))], [])


def test_channels_a_pack_lists_but_does_not_require_are_not_asked_for(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kokkok")
    eng = _engine(pack.model_copy(update={"collection": pack.collection.model_copy(update={
        "channel_required": False})}), db_url, tmp_path)
    assert _collect(eng, "alice", "personal_customer", ALICE) == ([
        ("ok_collect", f"{REGISTRATION} may collect these fields", "collection.contexts[0]",
         ("KOKKOK-03", "KOKKOK-19", "KOKKOK-07"))], [])


def test_kamoer_14_refusing_a_field_whose_refusal_is_not_applicable_blocks_nothing_more(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(_field(load_pack("kamoer"), "ml_module", "ml_images", on_refusal="not_applicable"), db_url, tmp_path)
    eng.set_consent("zhang", "ml_images", "refused", now=NOW)
    on = Facts(conditions=frozenset({"feature_active:ml_module"}))
    assert _refused(eng, "zhang", "ml_module", {"ml_images": "tank.jpg"}, on) == ([
        ("consent_missing", "'ml_images' needs consent 'ml_images' first", "collection.contexts[6].fields[0]",
         ("KAMOER-14",))], [])
