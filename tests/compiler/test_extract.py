"""Each section's extractor, on sentences from the five bundled policies and on hand-made tricky cases."""

from __future__ import annotations

from typing import Any

import pytest

from policykeeper import lint_pack
from policykeeper.compiler import Draft, Source, draft_pack, normalise
from policykeeper.compiler._extract import negated, parse_age, parse_duration


def draft(text: str) -> Draft:
    return draft_pack(Source(name="t.txt", format="text", text=normalise(text)), pack_id="t")


def data(d: Draft) -> dict[str, Any]:
    return d.pack.model_dump(mode="json")


@pytest.mark.parametrize(("text", "expected"), [
    ("we will respond within fifteen (15) working days", {"value": 15, "unit": "business_days"}),
    ("within 30 days of receipt", {"value": 30, "unit": "calendar_days"}),
    ("kept for six months", {"value": 6, "unit": "months"}),
    ("retained for 3 years in general", {"value": 3, "unit": "years", "qualifier": "in general"}),
    ("within 72 hours", {"value": 72, "unit": "hours"}),
    ("as soon as we can", None),
])
def test_periods_in_figures_and_in_words(text: str, expected: dict[str, Any] | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("We encourage parents or guardians to guide minors under the age of eighteen to use our services.", 18),
    ("children under the age of 14", 14),
    ("users under 16 years", 16),
    ("if you are aged 13 or under", 14),
    ("our services are for adults", None),
])
def test_ages_in_figures_and_in_words(text: str, expected: int | None) -> None:
    assert parse_age(text) == expected


def test_negations_are_read() -> None:
    assert negated("We do not sell your personal information.", "sell")
    assert negated("Currently, we will not actively share or transfer your personal information.", "share")
    assert not negated("We share your data with partners.", "share")


def test_we_do_not_sell_is_a_deny_by_default_and_unless_you_agree_is_its_exception() -> None:
    d = draft("We collect your email address. We do not sell or share your personal information with third parties "
              "unless you agree. You can unsubscribe at any time. Contact: a@b.example")
    [rule] = d.pack.disclosures
    assert rule.kind == "share" and rule.default == "deny"
    assert [e.basis for e in rule.exceptions] == ["consent"]


def test_applicable_law_deadline_is_per_applicable_law_not_a_number() -> None:
    # KONZEN-33
    d = draft("If you cannot complete a request yourself, you can submit your request through the contact information "
              "provided in this policy, and we will provide feedback in accordance with legal requirements.")
    rq = data(d)["requests"]
    assert rq["deadlines"][0]["duration"] == "per_applicable_law"


def test_numbered_request_deadline_from_kamoer() -> None:
    # the first sentence is KAMOER's; the second a hand-made period in words
    d = draft("For security purposes, you may be required to provide a written request or otherwise prove your "
              "identity. We will reply to your request within fifteen working days.")
    rq = data(d)["requests"]
    assert rq["deadlines"][0]["duration"] == {"value": 15, "unit": "business_days", "qualifier": None}
    assert rq["verification"]["required"] == "may"


def test_minors_advisory_from_konzen() -> None:
    d = draft("We encourage parents or guardians to guide minors under the age of eighteen to use our services. We "
              "suggest that minors seek parental or guardian consent and guidance before submitting personal information.")
    m = data(d)["minors"]
    assert (m["threshold"], m["term"], m["enforcement"]) == (18, "minor", "advisory")


def test_minors_blocked_and_parental_consent() -> None:
    blocked = draft("Children under 14 cannot register an account with our service.")
    assert data(blocked)["minors"]["enforcement"] == "block_registration"
    consent = draft("If you are a child under the age of 14, we must obtain the consent of your parent before we "
                    "collect your personal information.")
    m = data(consent)["minors"]
    assert (m["threshold"], m["term"], m["enforcement"]) == (14, "child", "require_parental_consent")


def test_cross_border_not_allowed_from_konzen_and_storage_region() -> None:
    d = draft("We will store user personal information collected within China in accordance with legal requirements. "
              "Currently, we do not transmit or store your personal information across borders. If cross-border "
              "transmission is required in the future, we will inform you and obtain your consent.")
    x = data(d)
    assert x["storage"]["home_regions"] == ["CN"]
    assert x["transfers"]["cross_border"] == "not_allowed"
    assert x["transfers"]["currently_active"] is False
    assert set(x["transfers"]["preconditions"]) == {"consent", "inform"}


def test_retention_necessary_for_purpose_from_konzen() -> None:
    d = draft("Generally, we will only store your personal information for the time necessary to achieve the "
              "service purpose or as required by laws and regulations.")
    [r] = data(d)["retention"]
    assert r["duration"] == "necessary_for_purpose" and r["start"] == "purpose_end" and r["legal_extension"] is True


def test_security_and_breach_from_kamoer_style_sentences() -> None:
    d = draft("We use SSL encryption to protect data in transmission. After a personal information security incident "
              "occurs, we will inform you of the basic situation and possible impact of the incident, the measures "
              "we have taken, and suggestions to prevent and reduce risks, by email, letter or push notification. "
              "When it is difficult to inform each person, we will issue an announcement. We will also report to the "
              "regulatory authorities.")
    x = data(d)
    assert [c["kind"] for c in x["security"]] == ["encryption_in_transit"]
    b = x["breach"]
    assert b["notify_subjects"] is True
    assert set(b["content_fields"]) >= {"basic_situation", "possible_impact", "measures_taken_or_planned",
                                        "subject_prevention_advice"}
    assert b["fallback_when_individual_notice_impractical"] == "public_announcement"
    assert b["regulator_report"] is True


def test_changes_advance_notice_and_acceptance() -> None:
    d = draft("Updated: January 2, 2024. We will notify you by email at least 14 days before a significant change "
              "to this policy takes effect. If you continue to use our services after the update, you agree to the "
              "updated policy.")
    c = data(d)["changes"]
    assert c["advance_notice"] == {"value": 14, "unit": "calendar_days", "qualifier": None}
    assert c["acceptance"] == "continued_use_after_posting"
    assert "email" in c["notice_channels"]
    assert c["date_stamp"] == "updated"


def test_rights_with_channels_and_fees() -> None:
    d = draft("You can access, correct or delete your personal information in your account settings. You may "
              "withdraw your consent at any time. In principle, we do not charge a fee for your reasonable requests.")
    x = data(d)
    assert {r["type"] for r in x["rights"]} >= {"access", "correct", "delete", "withdraw_consent"}
    assert x["requests"]["fees"]["default_fee"] == 0
    assert x["requests"]["fees"]["default_qualifier"] == "in principle"


def test_cookies_marketing_and_no_third_party_ads_contradiction_from_koso() -> None:
    d = draft("We don't provide any thirty-party advertising in Apps. Facebook Audience Network is an advertising "
              "service provided by Facebook Inc. We use cookies; you can refuse them through your browser settings.")
    x = data(d)
    assert x["marketing"]["third_party_ads_in_app"] is False
    assert x["cookies"]["uses_tracking"] is True and x["cookies"]["user_controls"] == ["browser_settings"]
    [issue] = [i for i in x["source_issues"] if i["kind"] != "missing_contact"]
    assert issue["kind"] == "internal_conflict" and len(issue["promises"]) == 2


def test_a_policy_silent_on_retention_leaves_it_unspecified_with_a_review_note() -> None:
    d = draft("We collect your email address when you sign up for the newsletter. We use it only to send you the "
              "newsletter. Contact: hello@tiny.example")
    assert d.pack.retention == "unspecified"
    assert d.pack.minors == "unspecified" and d.pack.breach == "unspecified" and d.pack.transfers == "unspecified"
    [note] = [it for it in d.items if it.path == "retention"]
    assert note.value == "unspecified" and note.quote is None and "no retention period" in note.note
    assert "# review: retention = unspecified" in d.yaml_text


def test_a_value_the_format_requires_but_the_text_omits_is_flagged_not_stated() -> None:
    d = draft("We collect your email address to send you the newsletter.")
    forced = [it for it in d.items if it.note.startswith("NOT STATED")]
    assert {it.path for it in forced} >= {"acceptance.model", "purposes.closed"}
    assert all(it.confidence < 0.5 for it in forced)


def test_each_heading_that_collects_named_data_is_its_own_context_with_stated_requirements() -> None:
    d = draft_pack(Source(name="t.md", format="markdown", text=normalise(
        "# Registration\nTo register you must provide your email address and a password.\n"
        "# Purchases\nWhen you buy something, we collect your delivery address. A phone number is optional.\n",
        "markdown"), heading_lines=frozenset({0, 2})), pack_id="t")
    contexts = {c.id: {f.category: f.requirement for f in c.fields} for c in d.pack.collection.contexts}
    assert contexts["registration"] == {"email": "essential", "password": "essential"}
    assert contexts["purchases"]["phone"] == "optional"
    assert "postal_address" in contexts["purchases"]


def test_automated_decisions_from_kalos_read_the_explanation_and_remedy_in_the_next_sentence() -> None:
    d = draft("In certain business functions, we may make decisions solely based on non-human automatic "
              "decision-making mechanisms such as information systems and algorithms. If these decisions "
              "significantly affect your legitimate rights and interests, you have the right to request an "
              "explanation from us, and we will also provide appropriate remedies.")
    a = data(d)["automated_decisions"]
    assert a["explanation_on_request"] is True and a["remedy"] is True


def test_kalos_no_cookies_sentence_is_uses_tracking_false() -> None:
    d = draft("We do not use cookies or similar technologies in the products or services we provide.")
    assert data(d)["cookies"]["uses_tracking"] is False


def test_no_cross_border_against_a_transfer_abroad_is_a_source_issue() -> None:
    d = draft("Currently, we do not transmit or store your personal information across borders. "
              "Your data is processed by our support team overseas. If cross-border transfer is required in the "
              "future, we will ask for your consent. Contact: a@b.example")
    [issue] = d.pack.source_issues
    assert issue.kind == "internal_conflict" and "overseas" in issue.description


def test_a_share_listed_among_the_exceptions_is_not_a_contradiction() -> None:
    # KAMOER's sharing section: the partner share is the fourth listed exception
    d = draft("Sharing\nWe will not share your personal information with any company, organization or individual other "
              "than Kamoer, except in the following cases:\n4. Sharing with authorized partners: We may share some of "
              "your personal information with our partners to provide better customer service and user experience.\n"
              "Contact: a@b.example")
    assert d.pack.disclosures[0].default == "deny"
    assert d.pack.source_issues == ()


def test_identity_sections_from_kalos_kamoer_and_koso_sentences() -> None:
    d = draft("KALOS Privacy Policy\n• Updated Date: February 1, 2024\n• Effective Date: March 18, 2024\n"
              "Thank you for choosing products or services provided by Beijing ZhiJian Software Co., Ltd. (hereinafter "
              "referred to as \"we\").\nIf you have any questions, please contact us via email: product@zjinnova.com\n"
              "By using this Site or our Apps, you signify your acceptance of this policy. If you do not agree to this "
              "policy, please do not use our Site or Apps.\nThe latest update date: September 30th, 2024.")
    x = data(d)
    assert x["version"]["updated_date"] == "2024-02-01" and x["version"]["effective_date"] == "2024-03-18"
    assert x["version"]["date_heading"] == "Updated Date"
    assert x["controller"]["legal_name"] == "Beijing ZhiJian Software Co., Ltd."
    assert x["contacts"]["status"] == "present"
    assert [c["value"] for c in x["contacts"]["channels"]] == ["product@zjinnova.com"]
    assert (x["acceptance"]["model"], x["acceptance"]["decline_effect"]) == ("implied_by_use", "no_processing")
    assert x["changes"]["date_stamp"] == "updated_and_effective"


def test_a_policy_that_refers_to_contacts_it_never_gives_is_missing_contact_from_konzen() -> None:
    d = draft("If you have any questions about this \"Privacy Policy\" or related matters, please contact us through "
              "the contact information.")
    assert d.pack.contacts.status == "missing"
    assert [i.kind for i in d.pack.source_issues] == ["missing_contact"]


def test_data_named_only_to_say_it_is_not_collected_is_no_category() -> None:
    d = draft("We collect your email address. We do not use cookies or similar technologies in the products we provide.")
    assert [c.id for c in d.pack.data_categories] == ["email"]
    assert not isinstance(d.pack.cookies, str) and d.pack.cookies.uses_tracking is False


def test_recipients_named_with_a_purpose_are_drafted_and_a_listed_exception_covers_them() -> None:
    d = draft("Sharing\nWe will not share your personal information with third parties, except in the following cases:\n"
              "1. We share your email address with payment service providers to process your payments.\n"
              "2. We may share data with our affiliates.\nContact: a@b.example")
    [rec] = d.pack.recipients
    assert (rec.id, rec.category, rec.purposes, rec.categories) == ("payment_providers", "payment", ("payment",),
                                                                     ("email",))
    assert rec.basis == "listed_exceptions"
    assert lint_pack(d.pack) == []
    [note] = [it for it in d.items if it.path == "recipients"]
    assert "affiliates" in note.note


def _consents(d: Draft) -> dict[str, Any]:
    return {c["scope"]: c for c in data(d)["consents"]}


def test_consents_take_their_scope_and_kind_from_their_own_sentence() -> None:
    # KOKKOK-40 ("separate confirmation of the user's consent"), KALOS-20 ("explicit consent"), hand-made parental case
    d = draft("We collect your email address and your name.\n"
              "If the user's personal information is provided to a third party for purposes necessary for the use of "
              "the service, with separate confirmation of the user's consent.\n"
              "We will not transfer your personal information overseas unless we obtain your explicit consent.\n"
              "We will process a child's data only with the consent of a parent or guardian.\n"
              "You may withdraw your consent at any time in the settings.")
    c = _consents(d)
    assert c["third_party_provision"]["type"] == "separate"
    assert c["transfer"]["type"] == "explicit"
    assert c["minor_account"]["type"] == "parental_verifiable"
    assert all(x["quote"] in d.source.text for x in c.values())
    assert c["transfer"]["withdrawable"] == "unspecified"  # its own sentence says nothing of withdrawal
    note = next(it.note for it in d.items if it.path == "consents.type=transfer")
    assert "withdraw your consent" in note  # the review note points at the sentence that does


def test_an_unqualified_consent_is_a_flagged_default_and_without_consent_is_no_consent() -> None:
    # KAMOER-22 asks "your consent" without saying which kind; "without your consent" grants none
    d = draft("We collect your email address.\n"
              "When we want to use information for other purposes not specified in this policy, we will ask for your "
              "consent in advance.\n"
              "We may share your data with authorities without your consent where the law requires it.")
    c = _consents(d)
    assert set(c) == {"new_purpose"}
    assert c["new_purpose"]["type"] == "opt_in"
    item = next(it for it in d.items if it.path == "consents.type=new_purpose")
    assert item.note.startswith("NOT STATED") and item.confidence < 0.5


def test_a_policy_that_asks_no_consent_drafts_none_with_a_review_note() -> None:
    d = draft("We collect your email address to answer your questions. Contact: a@b.example")
    assert data(d)["consents"] == []
    assert any(it.path == "consents" and it.value == "unspecified" and it.note for it in d.items)


@pytest.mark.parametrize(("text", "basis"), [
    ("We may use your data to comply with legal obligations and court orders.", "legal_obligation"),
    ("We use your email address to send you newsletters with your consent.", "consent"),
    ("We use your data where necessary to perform our contract with you.", "contract"),
    ("We may use your data without your consent to comply with the law.", None),
    ("We use your data to improve our products.", None),
])
def test_legal_basis_is_read_from_the_purposes_own_words(text: str, basis: str | None) -> None:
    from policykeeper.compiler._extract import legal_basis

    assert legal_basis(text) == basis


def test_a_purpose_gets_the_categories_and_basis_its_sentence_names_and_any_declared_otherwise() -> None:
    d = draft("We collect your email address and your phone number when you register.\n"
              "We use your email address to send you newsletters with your consent.\n"
              "We use the information to improve our products.")
    items = {p["data_use"]: p for p in data(d)["purposes"]["items"]}
    newsletter = next(p for u, p in items.items() if u.startswith("marketing"))
    assert newsletter["categories"] == ["email"] and newsletter["legal_basis"] == "consent"
    improve = items["functional.service.improve"]
    assert improve["categories"] == "any_declared" and improve["legal_basis"] == "unspecified"
    assert any(it.path == f"purposes.{improve['id']}.legal_basis" and it.value == "unspecified" and it.note
               for it in d.items)


def test_targeted_ads_stated_by_the_company_but_not_when_only_an_example() -> None:
    # KONZEN-21 states a purpose; KOKKOK's cookie section only lists it among examples ("such as to:")
    stated = draft("We collect your device information.\n"
                   "We may use the information for the following purposes:\n"
                   "- To provide you with more relevant advertisements to replace generally distributed advertisements;")
    assert data(stated)["marketing"]["targeted_ads"] is True
    example = draft("We collect your device information.\n"
                    "We and our partners use cookies. They may be used for various purposes such as to:\n"
                    "- Analyze site traffic and trends.\n"
                    "- Serve you relevant advertisements across other apps and websites.")
    mk = data(example)["marketing"]
    assert mk == "unspecified" or mk["targeted_ads"] == "unspecified"
    note = next(it for it in example.items if it.path == "marketing.targeted_ads")
    assert note.value == "unspecified" and "example" in note.note and note.quote in example.source.text


def test_advice_to_seek_consent_is_no_consent_the_company_asks() -> None:
    # KONZEN-39 recommends that minors seek a guardian's consent; the company asks none itself
    d = draft("We collect your email address.\n"
              "We recommend that minors encourage their parents or guardians to read this policy and suggest that "
              "minors seek parental or guardian consent and guidance before submitting personal information.")
    assert "minor_account" not in _consents(d)
