"""A share about a person the engine holds no data on is still decided, on the facts about the recipient alone: the
fact register's agreements of this pack, in force at the time of the share. Allowed, it answers "no data is held";
refused, the denial is audited. Found by mutation testing (docs/testing.md): no test reached this path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import DeniedError, SubjectNotFoundError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.pack._types import Condition
from policykeeper.store import audit_log, open_database

from ..helpers import codes

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
SHARE = ("nobody-held", "sdk_providers", {"device_info"}, "provide_services")


def _refused(eng: PolicyEngine, at: dt.datetime) -> set[str]:
    with pytest.raises(DeniedError) as info:
        eng.share(*SHARE, now=at)
    return codes(info)


def test_kalos_18_a_share_about_someone_not_held_needs_the_recipient_s_agreement_of_this_pack(
        db_url: str, tmp_path: Path) -> None:
    db = open_database(db_url)
    eng = PolicyEngine(load_pack("kalos"), db, KeyRing.init(tmp_path / "keys"))
    assert _refused(eng, NOW) == {"agreement_missing"}
    # the same recipient's agreement filed under another pack in the same database does not count here
    other = PolicyEngine(load_pack("kalos").model_copy(update={"id": "kalos-other"}), db,
                         KeyRing.init(tmp_path / "other-keys"))
    other.record_fact("agreement", party="sdk_providers", arg="confidentiality", reference="their contract", now=NOW)
    assert _refused(eng, NOW + dt.timedelta(minutes=1)) == {"agreement_missing"}
    # filed under this pack: from that instant the share is allowed, and there is no one's data to give
    signed = NOW + dt.timedelta(hours=1)
    eng.record_fact("agreement", party="sdk_providers", arg="confidentiality", reference="SDK contract 7", now=signed)
    assert _refused(eng, signed - dt.timedelta(seconds=1)) == {"agreement_missing"}
    with pytest.raises(SubjectNotFoundError):
        eng.share(*SHARE, now=signed)
    # revoked: refused again from the revocation on
    ended = signed + dt.timedelta(days=30)
    eng.record_fact("agreement", party="sdk_providers", arg="confidentiality", reference="SDK contract 7 ended",
                    revoke=True, now=ended)
    with pytest.raises(SubjectNotFoundError):
        eng.share(*SHARE, now=ended - dt.timedelta(seconds=1))
    assert _refused(eng, ended) == {"agreement_missing"}
    with eng.db.connect() as conn:
        denied = conn.execute(select(audit_log.c.detail).where(
            audit_log.c.kind == "decision", audit_log.c.allowed.is_(False), audit_log.c.subject_id.is_(None))).all()
    assert len(denied) == 4  # every refusal is audited, with no person to name


def test_a_share_about_someone_not_held_is_not_decided_on_another_person_s_register_facts(
        db_url: str, tmp_path: Path) -> None:
    pack = load_pack("kalos")
    members_only = [r.model_copy(update={"trigger": Condition(all=("member",))}) if r.id == "sdk_providers" else r
                    for r in pack.recipients]
    eng = PolicyEngine(pack.model_copy(update={"recipients": members_only}), open_database(db_url),
                       KeyRing.init(tmp_path / "keys"))
    eng.record_fact("agreement", party="sdk_providers", arg="confidentiality", reference="SDK contract 7", now=NOW)
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, Facts(), now=NOW)
    eng.record_fact("member", person="li", reference="membership 12", now=NOW)
    later = NOW + dt.timedelta(minutes=1)
    assert eng.share("li", "sdk_providers", {"usage_data"}, "provide_services", now=later)["usage_data"]
    assert _refused(eng, later) == {"condition_unmet"}  # li's membership is li's alone


def test_koso_17_a_member_on_the_register_is_a_member_without_an_account(db_url: str, tmp_path: Path) -> None:
    eng = PolicyEngine(load_pack("koso"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("mei", "any_interaction", {"browser_name": "Firefox", "device_type": "phone",
                                           "connection_info": "1.2.3.4"}, now=NOW)
    with pytest.raises(DeniedError) as info:
        eng.read("mei", "location_history", {"location"}, now=NOW)
    assert codes(info) == {"members_only"}
    eng.record_fact("member", person="mei", reference="club card 5", now=NOW)
    assert eng.read("mei", "location_history", {"location"}, now=NOW + dt.timedelta(seconds=1)) == {"location": []}
