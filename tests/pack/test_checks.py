"""Meaning checks: ids, references, taxonomy extensions, contacts; and coverage from the pack alone."""

from __future__ import annotations

import pytest

from policykeeper import PackReferenceError, coverage, load_pack, parse_pack

from ..conftest import DATA, full_text


def _problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(PackReferenceError) as info:
        parse_pack(text, "x.yaml")
    return [(i.path, i.message) for i in info.value.issues]


def test_duplicate_ids_are_refused() -> None:
    text = full_text(**{"  - id: trips\n": "  - id: email\n"})
    assert ("data_categories[1].id", "id 'email' is used twice") in _problems(text)


def test_extension_must_start_with_its_parent() -> None:
    text = full_text(**{"    - key: user.vehicle.onboard\n": "    - key: user.car.onboard\n"})
    path, message = _problems(text)[0]
    assert path == "taxonomy.data_categories[1].key"
    assert "must extend its parent" in message


def test_extension_may_not_shadow_a_default_key() -> None:
    text = full_text(**{"    - key: user.vehicle\n      parent_key: user\n": "    - key: user.contact\n      parent_key: user\n"})
    assert any("already exists" in m for _, m in _problems(text))


def test_unknown_data_use_is_refused() -> None:
    text = full_text(**{"data_use: essential.service.operations\n": "data_use: essential.navigation\n"})
    assert any(p == "purposes.items[1].data_use" for p, _ in _problems(text))


def test_recipient_basis_must_be_an_exception() -> None:
    text = full_text(**{"basis: with_consent\n    consent": "basis: with_permission\n    consent"})
    assert ("recipients[1].basis", "unknown disclosure exception 'with_permission'; declared: legal, with_consent") in _problems(
        text
    )


def test_consent_targets_must_exist() -> None:
    text = full_text(**{"targets: [navigation]": "targets: [navigaton]"})
    assert any(p == "consents[0].targets[0]" for p, _ in _problems(text))


def test_contacts_status_must_agree_with_channels() -> None:
    text = full_text(**{"  status: present\n": "  status: missing\n"})
    assert ("contacts.status", "contacts are 'missing' but channels are given") in _problems(text)


def test_same_category_twice_in_one_context_is_refused() -> None:
    text = full_text(**{"        - category: onboard\n": "        - category: trips\n"})
    assert any("listed twice" in m for _, m in _problems(text))


def test_coverage_names_the_rules_behind_each_promise() -> None:
    cov = coverage(load_pack(DATA / "passing_full.yaml"))
    assert cov.complete
    assert cov.rules["FULL-03"] == ("purposes.items.1", "consents.0")
    assert cov.rules["FULL-01"] == ("collection.contexts.0.fields.0",)


def test_a_promise_in_source_issues_only_is_not_encoded() -> None:
    text = full_text(**{"          promises: [FULL-01]\n": ""}) + (
        "source_issues:\n  - kind: ambiguous\n    description: unclear\n    promises: [FULL-01]\n"
    )
    cov = coverage(parse_pack(text))
    assert cov.missing == ("FULL-01",)
    assert cov.summary() == "promises: 8/9 encoded"
