"""Lint finds a pack's contradictions with both quotes, and raises no false alarm."""

from __future__ import annotations

import pytest

from policykeeper import lint_pack, load_pack, parse_pack

from ..conftest import DATA, full_text


def test_clean_pack_has_no_findings() -> None:
    assert lint_pack(load_pack(DATA / "passing_full.yaml")) == []


def test_no_third_party_ads_vs_advertising_recipient() -> None:
    pack = parse_pack(full_text(**{"marketing: unspecified": "marketing:\n  basis: opt_in\n  third_party_ads_in_app: false\n"
                               "  quote: \"We show no third-party ads\""}))
    [finding] = lint_pack(pack)
    assert finding.code == "ads_contradiction"
    assert finding.first_quote == "We show no third-party ads"
    assert finding.second_path == "recipients[1]"


def test_default_deny_vs_recipient_without_exception() -> None:
    pack = parse_pack(full_text(**{"    basis: with_consent\n": ""}))
    [finding] = lint_pack(pack)
    assert finding.code == "sharing_contradiction"
    assert finding.first_promises == ("FULL-04",)
    assert finding.first_quote == "we do not share"
    assert "ad_network" in finding.message


def test_exempt_category_and_inside_recipients_are_not_contradictions() -> None:
    pack = parse_pack(full_text(**{"    basis: with_consent\n": "    third_party: false\n"}))
    assert lint_pack(pack) == []


def test_no_cookies_vs_cookie_category() -> None:
    pack = parse_pack(full_text(**{
        "cookies:\n  uses_tracking: true\n  technologies: [cookie]": "cookies:\n  uses_tracking: false",
        "    fides_key: user.contact.email\n    classes: [contact]":
        "    fides_key: user.device.cookie_id\n    classes: [cookie]",
    }))
    assert [f.code for f in lint_pack(pack)] == ["cookie_contradiction"]


def test_no_cross_border_vs_foreign_recipient() -> None:
    pack = parse_pack(full_text(**{
        "  cross_border: allowed_with_preconditions\n  preconditions: [consent, de_identification]\n  precondition_logic: any":
        "  cross_border: not_allowed",
    }))
    [finding] = lint_pack(pack)
    assert finding.code == "transfer_contradiction" and "US" in finding.message


def test_missing_contact_makes_the_pack_incomplete() -> None:
    pack = parse_pack(full_text(**{
        "  status: present\n  channels:\n    - kind: email\n      value: privacy@full.example\n"
        "      handles: [questions, rights_requests]\n      promises: [FULL-08]":
        "  status: missing\n  promises: [FULL-08]",
    }))
    [finding] = lint_pack(pack)
    assert finding.code == "pack_incomplete" and finding.second_path is None


def test_koso_says_no_third_party_ads_but_lists_facebook_audience_network() -> None:
    pack = load_pack("koso")
    findings = [f for f in lint_pack(pack) if f.code == "ads_contradiction"]
    assert len(findings) == 1
    f = findings[0]
    assert "KOSO-22" in f.first_promises
    assert f.first_quote == "We don't provide any thirty-party advertising in Apps."
    assert "KOSO-21" in f.second_promises
    assert f.second_quote is not None and "Facebook Audience Network" in f.second_quote


def test_konzen_says_no_active_sharing_but_shares_with_advertisers() -> None:
    pack = load_pack("konzen")
    findings = [f for f in lint_pack(pack) if f.code == "sharing_contradiction"]
    assert len(findings) == 1
    f = findings[0]
    assert "KONZEN-22" in f.first_promises
    assert f.first_quote == "Currently, we will not actively share or transfer your personal information to third parties."
    assert "KONZEN-24" in f.second_promises
    assert f.second_quote is not None and "advertisers" in f.second_quote


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("kalos", []),
        ("koso", ["ads_contradiction"]),
        ("konzen", ["sharing_contradiction", "pack_incomplete"]),
        ("kokkok", []),
        ("kamoer", []),
    ],
)
def test_bundled_packs_report_exactly_their_real_contradictions(name: str, codes: list[str]) -> None:
    assert [f.code for f in lint_pack(load_pack(name))] == codes
