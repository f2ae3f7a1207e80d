"""A share is refused for a person who restricted processing or declined the policy, as a read is: the denial comes
from the engine's own records (the subjects table, the consent ledger), is audited, and sends nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import DeniedError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.store import audit_log, open_database

from ..helpers import codes, promises

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
SHARE = ("alice", "payment_processors", {"name"}, "p1_contract_performance")


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path) -> tuple[PolicyEngine, str]:
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    got = eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    eng.set_consent("alice", "payment_processors", "given", now=NOW)
    assert eng.share(*SHARE, now=NOW) == {"name": ["Alice Phommachanh"]}  # allowed before anything below
    return eng, got.subject_id


def _denials(eng: PolicyEngine) -> list[dict[str, object]]:
    with eng.db.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log.c.detail).where(
            audit_log.c.kind == "decision", audit_log.c.allowed.is_(False))).scalars()]


def test_kokkok_a_share_is_refused_once_the_person_restricted_processing(kokkok: tuple[PolicyEngine, str]) -> None:
    eng, sid = kokkok
    eng.restrict_subject(sid, now=NOW)
    with pytest.raises(DeniedError) as info:
        eng.share(*SHARE, now=LATER)
    assert codes(info) == {"restricted"}
    restrict_promises = {p for r in eng.pack.rights if r.type == "restrict" for p in r.promises}  # type: ignore[union-attr]
    assert restrict_promises and restrict_promises <= set(promises(info))
    assert [d["action"] for d in _denials(eng)] == ["share:payment_processors"]
    # a legal ground the pack lets processing rest on without consent carries on through the restriction
    grounds = eng.pack.processing_without_consent.grounds  # type: ignore[union-attr]
    assert eng.share(*SHARE, Facts(grounds=frozenset({grounds[0]})), now=LATER) == {"name": ["Alice Phommachanh"]}
    with pytest.raises(DeniedError) as info:  # a ground the pack does not name does not
        eng.share(*SHARE, Facts(grounds=frozenset({"business_need"})), now=LATER)
    assert codes(info) == {"restricted"}
    eng.restrict_subject(sid, False, now=LATER)  # lifted: sharing goes on
    assert eng.share(*SHARE, now=LATER + dt.timedelta(seconds=1)) == {"name": ["Alice Phommachanh"]}


def test_kokkok_60_a_share_is_refused_once_the_person_declined_the_policy(kokkok: tuple[PolicyEngine, str]) -> None:
    eng, _ = kokkok
    eng.set_consent("alice", "policy", "withdrawn", now=LATER)
    with pytest.raises(DeniedError) as info:
        eng.share(*SHARE, now=LATER + dt.timedelta(seconds=1))
    assert codes(info) == {"policy_declined"}
    assert set(eng.pack.acceptance.promises) <= set(promises(info)) and "KOKKOK-60" in promises(info)
    assert [d["action"] for d in _denials(eng)] == ["share:payment_processors"]
    eng.set_consent("alice", "policy", "accepted", now=LATER + dt.timedelta(seconds=2))  # accepted again: it goes on
    assert eng.share(*SHARE, now=LATER + dt.timedelta(seconds=3)) == {"name": ["Alice Phommachanh"]}
