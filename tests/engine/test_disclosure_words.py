"""What a disclosure decision says, word for word: the reason codes, messages, rules and promises, and the
obligations (with who carries each out), for the disclosures to someone who is not a declared recipient (an
exception of the pack's disclosure rule, a corporate transaction, a default) and for the denials of a declared
recipient. The audit entry and the API show these words. Found by mutation testing (docs/testing.md): before,
only the codes of some of these decisions were checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policykeeper import DeniedError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Decision, Facts, PolicyEngine
from policykeeper.pack import Pack
from policykeeper.store import open_database

from ..helpers import Obliged, Said, refused
from ..helpers import obliged as _obliged
from ..helpers import said as _said

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}


def _engine(pack: Pack, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _allowed(eng: PolicyEngine, *args: object, **kw: object) -> tuple[Said, Obliged]:
    got = eng.share(*args, now=NOW, **kw)  # type: ignore[arg-type]
    assert got.decision is not None
    return _said(got.decision), _obliged(got.decision)


def _denied(eng: PolicyEngine, *args: object, **kw: object) -> Said:
    with pytest.raises(DeniedError) as info:
        eng.share(*args, now=NOW, **kw)  # type: ignore[arg-type]
    decision = info.value.decision
    assert isinstance(decision, Decision) and decision.obligations == ()
    return _said(decision)


def _grounds(*names: str) -> Facts:
    return Facts(grounds=frozenset(names))


@pytest.fixture
def kalos(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = _engine(load_pack("kalos"), db_url, tmp_path)
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    return eng


def test_kalos_16_an_exception_with_minimum_necessary_names_what_is_beyond_it_and_obliges_the_minimum(
        kalos: PolicyEngine) -> None:
    said, obliged = _allowed(kalos, "li", "regulator", {"user_info"}, "complaint_handling",
                             _grounds("complaint_handling"))
    assert said == [("ok_exception", "allowed by exception 'complaint_handling'", "disclosures[0].exceptions[2]",
                     ("KALOS-16",))]
    assert obliged == [("record_ground", "complaint_handling:complaint_handling", "", "engine", False, ("KALOS-16",)),
                       ("minimum_necessary", "", "", "engine", False, ("KALOS-16",))]
    assert _denied(kalos, "li", "regulator", {"usage_data", "precise_location", "device_info"}, "complaint_handling",
                   _grounds("complaint_handling")) == [
        ("beyond_minimum_necessary", "only the minimum necessary for Handling a rights complaint against the user: "
         "not device_info, precise_location, usage_data", "disclosures[0].exceptions[2]", ("KALOS-16",))]


def test_kalos_15_the_ground_recorded_is_only_the_one_the_exception_names(kalos: PolicyEngine) -> None:
    said, obliged = _allowed(kalos, "li", "court", {"usage_data"}, "complaint_handling",
                             _grounds("litigation_dispute", "administrative_or_judicial_request", "audit"))
    assert said == [("ok_exception", "allowed by exception 'legal_grounds'", "disclosures[0].exceptions[1]",
                     ("KALOS-15",))]
    assert obliged == [("record_ground", "legal_grounds:administrative_or_judicial_request,litigation_dispute", "",
                        "engine", False, ("KALOS-15",))]


def test_kalos_a_disclosure_no_exception_covers_says_so(kalos: PolicyEngine) -> None:
    assert _denied(kalos, "li", "regulator", {"usage_data"}, "complaint_handling") == [
        ("no_exception", "'regulator' is not a declared recipient and no exception applies (record a lawful ground "
         "or consent)", "disclosures[0]", ("KALOS-13",))]
    assert _denied(kalos, "li", "regulator", {"usage_data"}, "nope") == [
        ("undeclared_purpose", "'nope' is not a declared purpose: nothing is disclosed for it", "purposes",
         ("KALOS-10", "KALOS-11"))]
    # a declared recipient's id under another kind of disclosure is not that recipient
    assert _denied(kalos, "li", "service_providers", {"usage_data"}, "provide_services",
                   kind="transfer_to_controller") == [
        ("no_exception", "'service_providers' is not a declared recipient and no exception applies (record a lawful "
         "ground or consent)", "disclosures[1]", ("KALOS-20",))]


def test_kalos_21_a_successor_that_is_not_bound_needs_the_person_s_fresh_consent(kalos: PolicyEngine) -> None:
    assert _denied(kalos, "li", "buyer_co", {"usage_data"}, "provide_services", _grounds("corporate_transaction"),
                   kind="transfer_to_controller") == [
        ("successor_not_bound", "'buyer_co' is not bound to protect the data (this policy): the person must consent "
         "afresh", "corporate_transactions", ("KALOS-21",))]


def test_kalos_a_declared_recipient_gets_only_its_categories_named_in_the_denial(kalos: PolicyEngine) -> None:
    said = _denied(kalos, "li", "authorized_partners", {"precise_location", "device_info", "user_info"},
                   "partner_services")
    assert said[0] == ("category_not_allowed", "Authorised partners jointly providing services may not receive "
                       "device_info, precise_location", "recipients[2].categories", ("KALOS-17",))


def test_konzen_29_a_bound_successor_gets_the_data_and_the_person_is_told(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    eng.collect("wang", "registration", {"phone": "13800000000", "email": "w@example.com"}, now=NOW)
    eng.record_fact("successor_bound", party="buyer_co", reference="merger deed", now=NOW)
    said, obliged = _allowed(eng, "wang", "buyer_co", {"phone"}, "provide_services", _grounds("corporate_transaction"),
                             kind="transfer_to_controller")
    assert said == [("ok_corporate_transaction", "the successor is bound (no less protective)",
                     "corporate_transactions", ("KONZEN-29",))]
    assert obliged == [("notify_subject", "buyer_co", "Your personal data was transferred to buyer_co, who is bound "
                        "to protect it (no less protective).", "engine", True, ("KONZEN-29",))]
    assert _denied(eng, "wang", "other_co", {"phone"}, "provide_services", _grounds("corporate_transaction"),
                   kind="transfer_to_controller") == [
        ("successor_not_bound", "'other_co' is not bound to protect the data (no less protective)",
         "corporate_transactions", ("KONZEN-29",))]


def test_kokkok_44_a_business_transfer_carries_the_policy_version_the_person_agreed_to(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kokkok"), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    said, obliged = _allowed(eng, "alice", "buyer_co", {"name"}, "p1_contract_performance",
                             _grounds("corporate_transaction"))
    assert said == [
        ("ok_exception", "allowed by exception 'business_transaction'", "disclosures[0].exceptions[7]", ("KOKKOK-44",)),
        ("ok_policy_carried", "the data stays bound by the policy version the person agreed to",
         "corporate_transactions", ("KOKKOK-44",))]
    assert obliged == [
        ("record_ground", "business_transaction:corporate_transaction", "", "engine", False, ("KOKKOK-44",)),
        ("carry_agreed_policy_version", "", "", "engine", False, ("KOKKOK-44",))]


def test_a_kind_of_disclosure_the_pack_does_not_provide_for_is_refused_by_name(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    assert _denied(eng, "ana", "press", {"email"}, "x", kind="public_disclosure") == [
        ("unknown_recipient", "'press' is not allowed (public disclosure is not provided for)", "disclosures", ())]
    pack = load_pack("kalos")
    no_sharing = pack.model_copy(update={"disclosures": [d for d in pack.disclosures if d.kind != "share"]})
    other = _engine(no_sharing, db_url, tmp_path / "other")
    assert _denied(other, "li", "regulator", {"usage_data"}, "provide_services") == [
        ("unknown_recipient", "'regulator' is not a declared recipient", "recipients", ())]


def test_a_disclosure_rule_that_allows_by_default_says_so(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kalos")
    rules = [d.model_copy(update={"default": "allow", "exceptions": ()}) if d.kind == "public_disclosure" else d
             for d in pack.disclosures]
    eng = _engine(pack.model_copy(update={"disclosures": rules}), db_url, tmp_path)
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    said, obliged = _allowed(eng, "li", "press", {"usage_data"}, "provide_services", kind="public_disclosure")
    assert said == [("ok_default_allow", "public disclosure is allowed by default", "disclosures[2]", ("KALOS-22",))]
    assert obliged == []


# -- a declared recipient ---------------------------------------------------------------------------------------------

def _refusal(eng: PolicyEngine, *args: object, **kw: object) -> tuple[Said, Obliged]:
    return refused(eng.share, *args, now=NOW, **kw)


def test_kokkok_41_a_declared_recipient_s_denials_name_the_rule_field_and_the_consent_it_needs(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kokkok"), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    bureaus = "Credit bureaus, alternative credit-scoring agencies and other credit-reporting organisations"
    assert _refusal(eng, "alice", "credit_bureaus", {"name"}, "p3_new_services_marketing") == ([
        ("purpose_not_allowed", f"{bureaus} may receive data only for p1_contract_performance, safety_and_security",
         "recipients[2].purposes", ("KOKKOK-41",)),
        ("consent_missing", f"sharing with {bureaus} needs separate consent", "recipients[2].consent", ("KOKKOK-41",)),
        ("consent_missing", f"sharing with {bureaus} rests on separate consent, not given", "disclosures",
         ("KOKKOK-40",))], [])
    assert _refusal(eng, "alice", "customers_of_provider", {"name"}, "provider_details_sharing") == ([
        ("condition_unmet", "The customer whose request a service provider accepted receives data only when "
         "provider_accepted_request", "recipients[14].trigger", ("KOKKOK-29",))], [])
    # the separate consent of the disclosure rule's exception is what the recipient's sharing rests on
    eng.set_consent("alice", "payment_processors", "given", now=NOW)
    said, _ = _allowed(eng, "alice", "payment_processors", {"name"}, "p1_contract_performance")
    assert said == [("ok_share", "Payment processors and facilitators may receive these categories for "
                     "p1_contract_performance", "recipients[0]", ("KOKKOK-41",))]


def test_kokkok_60_a_person_who_declined_the_policy_is_still_shared_with_for_what_the_law_requires(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kokkok"), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    eng.set_consent("alice", "policy", "withdrawn", now=NOW)
    said, obliged = _allowed(eng, "alice", "legal_advisors", {"name"}, "legal_purposes")
    assert said == [
        ("ok_declined_limited_service", "the person declined the policy, which limits the service; Legal purposes "
         "rests on legal obligation, not on their agreement", "acceptance.decline_effect",
         ("KOKKOK-01", "KOKKOK-60", "KOKKOK-61")),
        ("ok_share", "Legal advisors may receive these categories for legal_purposes", "recipients[11]",
         ("KOKKOK-42",))]
    assert obliged == []


def test_kamoer_35_a_recipient_gets_only_its_categories_and_the_minimum_with_every_agreement_on_file(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kamoer"), db_url, tmp_path)
    eng.collect("zhang", "purchase", {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "z@example.cn",
                                      "mailing_address": "1 Road", "id_number": "110", "bank_card": "6222"}, now=NOW)
    assert _refusal(eng, "zhang", "logistics", {"name", "bank_card", "id_number"}, "purchase_delivery") == ([
        ("category_not_allowed", "Logistics service providers may not receive bank_card, id_number",
         "recipients[1].categories", ("KAMOER-33", "KAMOER-35")),
        ("agreement_missing", "Logistics service providers needs confidentiality and instructions_only on file first",
         "recipients[1].required_agreements", ("KAMOER-33", "KAMOER-35"))], [])
    assert _refusal(eng, "zhang", "affiliates", {"name", "device_location", "usage_logs"}, "purchase_delivery") == ([
        ("beyond_minimum_necessary", "Kamoer affiliates gets only what purchase_delivery needs, not device_location, "
         "usage_logs", "recipients[0].minimum_necessary", ("KAMOER-32", "KAMOER-35")),
        ("agreement_missing", "Kamoer affiliates needs confidentiality and instructions_only on file first",
         "recipients[0].required_agreements", ("KAMOER-32", "KAMOER-35"))], [])


def test_konzen_24_any_one_agreement_will_do_and_the_data_goes_de_identified(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    eng.collect("wang", "service_logs", {"device_info": "Pixel 8", "browsing_info": "home"}, now=NOW)
    promised = ("KONZEN-24", "KONZEN-25", "KONZEN-26")
    de_identify = ("de_identify", "", "", "engine", False, promised)
    assert _refusal(eng, "wang", "advertisers_and_agents", {"device_info"}, "relevant_ads") == ([
        ("agreement_missing", "Advertisers and their agents needs data_protection_agreement or commitment_letter or "
         "processing_policy on file first", "recipients[0].required_agreements", promised)], [de_identify])
    eng.record_fact("agreement", party="advertisers_and_agents", arg="commitment_letter", reference="letter", now=NOW)
    got = eng.share("wang", "advertisers_and_agents", {"device_info"}, "relevant_ads", now=NOW)
    assert got["device_info"][0].startswith("pseudonym:") and got.decision is not None
    assert _said(got.decision) == [("ok_share", "Advertisers and their agents may receive these categories for "
                                    "relevant_ads", "recipients[0]", promised)]
    assert _obliged(got.decision) == [de_identify]


def test_koso_20_the_person_is_offered_the_recipient_s_opt_out_and_once_used_it_holds(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    eng.collect("ana", "any_interaction", {"browser_name": "Firefox", "device_type": "phone",
                                            "connection_info": "1.2.3.4"}, now=NOW)
    url = "https://www.facebook.com/about/privacy/update"
    said, obliged = _allowed(eng, "ana", "facebook_audience_network", {"browser_name"}, "advertising")
    assert said == [("ok_share", "Facebook Audience Network may receive these categories for advertising",
                     "recipients[2]", ("KOSO-20", "KOSO-21"))]
    assert obliged == [("offer_opt_out", url, f"You can opt out of Facebook Audience Network: {url}", "caller", True,
                        ("KOSO-20", "KOSO-21"))]
    eng.set_consent("ana", "facebook_audience_network", "withdrawn", now=NOW)
    assert _refusal(eng, "ana", "facebook_audience_network", {"browser_name"}, "advertising") == ([
        ("opted_out", "the person opted out of Facebook Audience Network", "recipients[2].opt_out_url",
         ("KOSO-20", "KOSO-21"))], [])


def test_kalos_19_identity_data_is_forbidden_or_needs_the_person_s_authorisation(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kalos")
    forbidden = [r.model_copy(update={"identity_data": "forbidden"}) if r.id == "service_providers" else r
                 for r in pack.recipients]
    eng = _engine(pack.model_copy(update={"recipients": forbidden}), db_url, tmp_path)
    eng.collect("li", "business_function", {"basic_data": "Li Wei", "user_info": "li@example.cn"}, now=NOW)
    assert _refusal(eng, "li", "service_providers", {"user_info", "basic_data"}, "provide_services") == ([
        ("identity_forbidden", "identifying data (basic_data, user_info) never goes to ZhiJian's service providers",
         "recipients[0].identity_data", ("KALOS-13",))], [])
    eng.record_fact("agreement", party="sdk_providers", arg="confidentiality", reference="SDK contract", now=NOW)
    assert _refusal(eng, "li", "sdk_providers", {"user_info"}, "provide_services") == ([
        ("identity_needs_consent", "identifying data goes to Third-party SDK service providers only with explicit "
         "authorisation", "recipients[1].identity_data", ("KALOS-18", "KALOS-19"))], [])
    eng.set_consent("li", "identity_to_partners", "given", now=NOW)  # consent to identity data for every partner
    assert eng.share("li", "sdk_providers", {"user_info"}, "provide_services", now=NOW)["user_info"] == [
        "li@example.cn"]


def test_kokkok_40_a_separate_consent_naming_the_recipient_opens_its_exception(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kokkok"), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    assert _denied(eng, "alice", "partner_x", {"name"}, "p1_contract_performance") == [
        ("no_exception", "'partner_x' is not a declared recipient and no exception applies (record a lawful ground or "
         "consent)", "disclosures[0]", ("KOKKOK-37",))]
    eng.set_consent("alice", "separate_consent_provision:partner_x", "given", now=NOW)
    said, obliged = _allowed(eng, "alice", "partner_x", {"name"}, "p1_contract_performance")
    assert said == [("ok_exception", "allowed by exception 'separate_consent_provision'",
                     "disclosures[0].exceptions[4]", ("KOKKOK-40",))]
    assert obliged == [("record_ground", "separate_consent_provision:", "", "engine", False, ("KOKKOK-40",))]


def test_a_recipient_that_obtains_consent_itself_needs_it_confirmed_and_its_basis_still_counts(
        db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kokkok")
    changed = [r.model_copy(update={"consent": "recipient_obtains_explicit", "basis": "prior_consent"})
               if r.id == "payment_processors" else r for r in pack.recipients]
    eng = _engine(pack.model_copy(update={"recipients": changed}), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    payment = "Payment processors and facilitators"
    rests = ("consent_missing", f"sharing with {payment} rests on consent, not given", "disclosures", ("KOKKOK-37",))
    assert _refusal(eng, "alice", "payment_processors", {"name"}, "p1_contract_performance") == ([
        ("consent_missing", f"sharing with {payment} needs recipient obtains explicit consent",
         "recipients[0].consent", ("KOKKOK-41",)), rests], [])
    for party in ("payment_processors", "debt_collectors"):  # each recipient says it obtained Alice's consent
        eng.record_fact("consent_by_recipient", person="alice", party=party, reference="their form", now=NOW)
    assert _refusal(eng, "alice", "payment_processors", {"name"}, "p1_contract_performance") == ([rests], [])
    # a recipient that must have the person's separate consent is not satisfied by its own word
    assert _refusal(eng, "alice", "debt_collectors", {"name"}, "p1_contract_performance")[0][0] == (
        "consent_missing", "sharing with Debt collectors needs separate consent", "recipients[1].consent",
        ("KOKKOK-41",))


def test_kalos_14_a_recipient_whose_sharing_rests_on_explicit_consent_needs_it(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kalos")
    changed = [r.model_copy(update={"basis": "explicit_consent"}) if r.id == "service_providers" else r
               for r in pack.recipients]
    eng = _engine(pack.model_copy(update={"recipients": changed}), db_url, tmp_path)
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    assert _refusal(eng, "li", "service_providers", {"usage_data"}, "provide_services") == ([
        ("consent_missing", "sharing with ZhiJian's service providers rests on explicit consent, not given",
         "disclosures", ("KALOS-14",))], [])


def test_koso_a_share_for_a_purpose_the_person_objected_to_names_that_purpose_s_rule(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("koso"), db_url, tmp_path)
    eng.collect("ana", "any_interaction", {"browser_name": "Firefox", "device_type": "phone",
                                            "connection_info": "1.2.3.4"}, now=NOW)
    eng.set_consent("ana", "advertising", "withdrawn", now=NOW)
    index = [p.id for p in eng.pack.purposes.items].index("advertising")
    assert _refusal(eng, "ana", "facebook_audience_network", {"browser_name"}, "advertising")[0] == [
        ("objected", "the person objected to 'advertising': processing for it stops", f"purposes.items[{index}]", ())]


def test_konzen_24_data_that_does_not_identify_goes_de_identified_even_with_identity_authorised(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("konzen"), db_url, tmp_path)
    eng.collect("wang", "service_logs", {"device_info": "Pixel 8", "browsing_info": "home"}, now=NOW)
    eng.record_fact("agreement", party="advertisers_and_agents", arg="commitment_letter", reference="letter", now=NOW)
    eng.set_consent("wang", "advertisers_and_agents:identity", "given", now=NOW)
    got = eng.share("wang", "advertisers_and_agents", {"device_info"}, "relevant_ads", now=NOW)
    assert got["device_info"][0].startswith("pseudonym:") and got.decision is not None
    assert [o.kind for o in got.decision.obligations] == ["de_identify"]
