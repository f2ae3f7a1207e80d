"""Diff marks each change significant or minor by the old pack's own change rules."""

from __future__ import annotations

from policykeeper import diff_packs, load_pack, parse_pack
from policykeeper.pack import Change, Pack

from ..conftest import full_text


def _full(**replacements: str) -> Pack:
    return parse_pack(full_text(**replacements))


def _only(changes: list[Change], path: str) -> Change:
    matching = [c for c in changes if c.path == path]
    assert len(matching) == 1, changes
    return matching[0]


OLD = _full()

NEW_PURPOSE = """    - id: ads
      name: Advertising"""
NEW_PURPOSE_PLUS = """    - id: research
      name: Research
      data_use: analytics.reporting
      legal_basis: consent
      categories: [trips]
""" + NEW_PURPOSE


def test_identical_packs_have_no_changes() -> None:
    assert diff_packs(OLD, _full()) == []


def test_new_purpose_is_significant() -> None:
    change = _only(diff_packs(OLD, _full(**{NEW_PURPOSE: NEW_PURPOSE_PLUS})), "purposes.items.research")
    assert change.kind == "added" and change.significant and change.trigger == "purposes"


def test_removed_purpose_is_minor() -> None:
    change = _only(diff_packs(_full(**{NEW_PURPOSE: NEW_PURPOSE_PLUS}), OLD), "purposes.items.research")
    assert change.kind == "removed" and not change.significant


def test_new_recipient_is_significant() -> None:
    new = _full(**{"recipients:\n": "recipients:\n  - id: analytics\n    name: Analytics Co.\n    category: analytics\n"
                   "    categories: [email]\n    purposes: [account]\n"})
    change = _only(diff_packs(OLD, new), "recipients.analytics")
    assert change.significant and change.trigger == "recipients"


def test_new_data_category_is_significant() -> None:
    new = _full(**{"\ndata_categories:\n": "\ndata_categories:\n  - id: phone\n    name: Phone\n"
                   "    fides_key: user.contact.phone_number\n    classes: [contact]\n    personal: true\n"
                   "    origin: user_provided\n"})
    change = _only(diff_packs(OLD, new), "data_categories.phone")
    assert change.significant and change.trigger == "data_types"


def test_purpose_using_more_categories_is_significant_and_fewer_is_minor() -> None:
    more = _full(**{"      categories: [email]\n    - id: navigation": "      categories: [email, trips]\n    - id: navigation"})
    assert _only(diff_packs(OLD, more), "purposes.items.account").significant
    assert not _only(diff_packs(more, OLD), "purposes.items.account").significant


def test_transfer_change_is_significant() -> None:
    new = _full(**{"  precondition_logic: any": "  precondition_logic: all"})
    change = _only(diff_packs(OLD, new), "transfers")
    assert change.significant and change.trigger == "transfers"


def test_removed_right_is_significant_added_right_is_minor() -> None:
    fewer = _full(**{"  - type: delete\n    channels: [email, settings]\n": ""})
    removed = _only(diff_packs(OLD, fewer), "rights.delete")
    assert removed.significant and removed.trigger == "rights"
    added = _only(diff_packs(fewer, OLD), "rights.delete")
    assert not added.significant


def test_longer_deadline_reduces_rights_shorter_does_not() -> None:
    longer = _full(**{"{value: 30, unit: calendar_days}": "{value: 45, unit: calendar_days}"})
    shorter = _full(**{"{value: 30, unit: calendar_days}": "{value: 15, unit: calendar_days}"})
    assert _only(diff_packs(OLD, longer), "requests").significant
    assert not _only(diff_packs(OLD, shorter), "requests").significant


def test_significance_follows_the_old_packs_own_triggers() -> None:
    # The full pack names 'retention' as significant; the same change is minor for a pack that does not.
    new = _full(**{"    end_action: delete\n    user_control": "    end_action: anonymize\n    user_control"})
    assert _only(diff_packs(OLD, new), "retention").significant
    no_trigger = _full(**{"  significant_triggers: [purposes, retention]\n": ""})
    no_trigger_new = _full(**{"  significant_triggers: [purposes, retention]\n": "",
                              "    end_action: delete\n    user_control": "    end_action: anonymize\n    user_control"})
    assert not _only(diff_packs(no_trigger, no_trigger_new), "retention").significant


def test_contact_change_is_minor_unless_the_pack_says_otherwise() -> None:
    new = _full(**{"value: privacy@full.example": "value: dpo@full.example"})
    assert not _only(diff_packs(OLD, new), "contacts").significant


def test_diff_between_two_bundled_packs_runs() -> None:
    changes = diff_packs(load_pack("kalos"), load_pack("kamoer"))
    assert any(c.significant for c in changes)
    assert all(str(c) for c in changes)
