"""Behavioural pack fields the engine honours: change the field in a bundled pack and the behaviour changes.

``on_refusal`` (what refusing one field does), ``member_only`` (contexts and purposes for account holders) and
``record_required`` (the ground or exception relied on is written to the audit entry)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from policykeeper import DeniedError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.pack import Pack
from policykeeper.retention import cancel_account
from policykeeper.store import audit_log, open_database

from ..helpers import codes, subscribe

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c", "phone": "+856 20 5555 0101",
         "email": "alice@example.com", "date_of_birth": "1990-04-02"}


def _engine(pack: Pack, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _field(pack: Pack, context: str, category: str, **update: Any) -> Pack:
    contexts = tuple(
        c.model_copy(update={"fields": tuple(f.model_copy(update=update) if f.category == category else f
                                             for f in c.fields)}) if c.id == context else c
        for c in pack.collection.contexts)
    return pack.model_copy(update={"collection": pack.collection.model_copy(update={"contexts": contexts})})


def _context(pack: Pack, context: str, **update: Any) -> Pack:
    contexts = tuple(c.model_copy(update=update) if c.id == context else c for c in pack.collection.contexts)
    return pack.model_copy(update={"collection": pack.collection.model_copy(update={"contexts": contexts})})


@pytest.mark.parametrize("on_refusal", ["no_effect", "block_context"])
def test_refusing_an_optional_field_does_what_on_refusal_says(on_refusal: str, db_url: str, tmp_path: Path) -> None:
    pack = _field(load_pack("kokkok"), "personal_customer", "sensitive_information", on_refusal=on_refusal)
    eng = _engine(pack, db_url, tmp_path)
    eng.set_consent("alice", "sensitive_data", "refused", now=NOW)
    if on_refusal == "no_effect":  # the bundled pack: refusing sensitive data costs nothing else
        eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
        return
    with pytest.raises(DeniedError) as info:
        eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    assert codes(info) == {"refused_block_context"}


def test_refusing_a_feature_field_blocks_that_feature_only(db_url: str, tmp_path: Path) -> None:
    eng = _engine(load_pack("kalos"), db_url, tmp_path)
    active = Facts(conditions=frozenset({"feature_active:connect", "os_permission_granted:location"}))
    eng.set_consent("li", "location_permission", "refused", now=NOW)
    with pytest.raises(DeniedError) as info:
        eng.collect("li", "connect_feature", {}, active, now=NOW)
    assert codes(info) == {"refused_block_feature_only"}
    relaxed = _engine(_field(load_pack("kalos"), "connect_feature", "precise_location", on_refusal="no_effect"),
                      db_url, tmp_path / "b")
    relaxed.set_consent("li", "location_permission", "refused", now=NOW)
    relaxed.collect("li", "connect_feature", {}, active, now=NOW)


@pytest.mark.parametrize("member_only", [True, False])
def test_a_members_only_context_needs_an_account(member_only: bool, db_url: str, tmp_path: Path) -> None:
    pack = _context(load_pack("koso"), "dashboard_location", member_only=member_only, activation=None)
    eng = _engine(pack, db_url, tmp_path)
    values = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
    eng.collect("mei", "account_creation", {"email": "mei@example.tw"}, now=NOW)  # the account is on record
    eng.collect("mei", "dashboard_location", values, now=NOW)
    if not member_only:
        eng.collect("rider", "dashboard_location", values, now=NOW)
        return
    with pytest.raises(DeniedError) as info:
        eng.collect("rider", "dashboard_location", values, now=NOW)
    assert codes(info) == {"members_only"}


def test_a_members_only_purpose_needs_an_account(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("koso")
    items = tuple(p.model_copy(update={"member_only": False}) if p.id == "location_history" else p
                  for p in pack.purposes.items)
    open_pack = pack.model_copy(update={"purposes": pack.purposes.model_copy(update={"items": items})})
    for p, allowed in ((pack, False), (open_pack, True)):
        eng = _engine(p, db_url, tmp_path / str(allowed))
        eng.collect("mei", "account_creation", {"email": "mei@example.tw"}, now=NOW)
        subscribe(eng, "mei", "dashboard_app", now=NOW)
        eng.collect("mei", "dashboard_location", {"location": "25.03,121.56"}, now=NOW)
        assert eng.read("mei", "location_history", {"location"}, now=NOW) == {"location": ["25.03,121.56"]}
        cancel_account(eng, "mei", now=NOW)  # no account any more: the history is for account holders
        if allowed:
            assert eng.read("mei", "location_history", {"location"}, now=NOW) == {"location": ["25.03,121.56"]}
        else:
            with pytest.raises(DeniedError) as info:
                eng.read("mei", "location_history", {"location"}, now=NOW)
            assert codes(info) == {"members_only"}


def _last_detail(eng: PolicyEngine) -> dict[str, Any]:
    with eng.db.connect() as conn:
        got = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "decision")
                           .order_by(audit_log.c.seq.desc())).scalars().first()
    assert got is not None
    return dict(got)


@pytest.mark.parametrize("record_required", [True, False])
def test_a_disclosure_exception_that_requires_a_record_names_itself_in_the_audit_entry(
    record_required: bool, db_url: str, tmp_path: Path
) -> None:
    pack = load_pack("kokkok")
    rules = tuple(d.model_copy(update={"exceptions": tuple(
        e.model_copy(update={"record_required": record_required}) if e.id == "good_faith_legal" else e
        for e in d.exceptions)}) for d in pack.disclosures)
    eng = _engine(pack.model_copy(update={"disclosures": rules}), db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    purpose = next(p.id for p in pack.purposes.items if not isinstance(p.categories, str) and "name" in p.categories
                   and p.requires_consent == "none")
    eng.share("alice", "police_department", {"name"}, purpose,
              Facts(grounds=frozenset({"good_faith_legal_requirement"})), now=NOW)
    detail = _last_detail(eng)
    if record_required:
        assert detail["grounds_recorded"] == ["good_faith_legal:good_faith_legal_requirement"]
    else:
        assert "grounds_recorded" not in detail


@pytest.mark.parametrize("record_required", [True, False])
def test_processing_without_consent_on_a_lawful_ground_records_the_ground_where_the_pack_requires(
    record_required: bool, db_url: str, tmp_path: Path
) -> None:
    pack = load_pack("kokkok")
    pwc = pack.processing_without_consent
    assert not isinstance(pwc, str) and pwc.record_required is True and "KOKKOK-61" in pwc.promises
    pack = pack.model_copy(update={"processing_without_consent": pwc.model_copy(
        update={"record_required": record_required})})
    eng = _engine(pack, db_url, tmp_path)
    eng.set_consent("bo", "event_entry_contact", "given", now=NOW)
    eng.collect("bo", "event_entry", {"name": "Bo", "email": "bo@example.la"}, Facts(channel="offline_branch"), now=NOW)
    eng.set_consent("bo", "event_entry_contact", "withdrawn", now=NOW)
    with pytest.raises(DeniedError):  # consent withdrawn and no ground: nothing
        eng.read("bo", "event_participation", {"email"}, now=NOW)
    ground = Facts(grounds=frozenset({"legal_requirement"}))
    assert eng.read("bo", "event_participation", {"email"}, ground, now=NOW) == {"email": ["bo@example.la"]}
    detail = _last_detail(eng)
    if record_required:
        assert detail["grounds_recorded"] == ["legal_requirement"]
    else:
        assert "grounds_recorded" not in detail
