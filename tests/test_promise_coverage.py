"""Every engine-level promise of the five packs has a test named after its ID (the engine core's "done" line).

Engine-level tags: collection, consent, purpose, sharing, minors, transfer, security, other. A promise the engine
cannot enforce by itself would be listed below with the reason; the list may only shrink (it is empty: KAMOER-41,
the privacy department and staff training, is kept by the organisation register).
"""

from __future__ import annotations

import re

from policykeeper import load_pack

from .conftest import PACK_PROMISE_COUNTS, REPO

ENGINE_TAGS = {"collection", "consent", "purpose", "sharing", "minors", "transfer", "security", "other"}
NOT_ENFORCEABLE: dict[str, str] = {}


def _tested_ids() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        for m in re.finditer(r"def test_([a-z]+)_(\d{2})_", path.read_text()):
            found.add(f"{m.group(1).upper()}-{m.group(2)}")
    return found


def test_every_engine_level_promise_has_a_test_named_by_its_id() -> None:
    tested, missing = _tested_ids(), []
    for name in PACK_PROMISE_COUNTS:
        for promise in load_pack(name).promises:
            if promise.tag in ENGINE_TAGS and promise.id not in tested and promise.id not in NOT_ENFORCEABLE:
                missing.append(f"{promise.id} [{promise.tag}]")
    assert missing == []


REQUEST_TAGS = {"rights", "verification", "deadline", "fee", "refusal", "erasure", "backup", "contact",
                "automated-decision"}
def test_every_request_side_promise_has_a_test_named_by_its_id() -> None:
    tested, missing = _tested_ids(), []
    for name in PACK_PROMISE_COUNTS:
        for promise in load_pack(name).promises:
            if promise.tag in REQUEST_TAGS and promise.id not in tested:
                missing.append(f"{promise.id} [{promise.tag}]")
    assert missing == []


def test_the_not_enforceable_list_names_real_untested_engine_promises() -> None:
    tags = {p.id: p.tag for name in PACK_PROMISE_COUNTS for p in load_pack(name).promises}
    for pid in NOT_ENFORCEABLE:
        assert tags.get(pid) in ENGINE_TAGS and pid not in _tested_ids()


LIFECYCLE_TAGS = {"retention", "change", "breach", "marketing", "cookies"}


def test_every_lifecycle_promise_has_a_test_named_by_its_id() -> None:
    tested, missing = _tested_ids(), []
    for name in PACK_PROMISE_COUNTS:
        for promise in load_pack(name).promises:
            if promise.tag in LIFECYCLE_TAGS and promise.id not in tested:
                missing.append(f"{promise.id} [{promise.tag}]")
    assert missing == []


def test_every_promise_of_the_five_packs_has_a_home() -> None:
    """Each tag belongs to one group above; together they cover every promise."""
    tags = {p.tag for name in PACK_PROMISE_COUNTS for p in load_pack(name).promises}
    assert tags <= ENGINE_TAGS | REQUEST_TAGS | LIFECYCLE_TAGS


def test_all_265_promises_of_the_five_packs_have_a_test_named_by_their_id() -> None:
    ids = [p.id for name in PACK_PROMISE_COUNTS for p in load_pack(name).promises]
    assert len(ids) == sum(PACK_PROMISE_COUNTS.values()) == 265
    assert sorted(set(ids) - _tested_ids()) == []
