"""The edges of the fact-gathering path, through the engine: ages on a birthday and at the limits of a stated age, a
register fact in force from the instant it is recorded, and party facts that stay within their own pack when two
packs share one database. Each was found by mutation testing (docs/testing.md): the tests before could not tell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policykeeper import BadValueError, DeniedError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.pack._types import Condition
from policykeeper.retention import cancel_account, clear_history, place_legal_hold
from policykeeper.store import open_database

from ..helpers import codes, subscribe

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
KAMOER_USER = {"phone": "+86 135 1234 5678", "email": "wang@example.cn", "username": "wang", "password": "s3cret-pass"}


def _engine(name: str, db_url: str, tmp_path: Path, keys: str = "keys") -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / keys))


def test_kamoer_69_a_birth_date_gives_the_age_to_the_day(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)  # Kamoer: a child is under 14
    fourteen_today = {**KAMOER_USER, "birthday": "2011-06-02"}
    assert eng.collect("ming", "registration", fourteen_today, now=NOW).decision.allowed  # 14 today: not a child
    with pytest.raises(DeniedError) as info:  # one day short of 14
        eng.collect("hong", "registration", {**KAMOER_USER, "birthday": "2011-06-03"}, now=NOW)
    assert codes(info) == {"parental_consent_missing"}
    with pytest.raises(DeniedError) as info:  # born today: a child, not a date in the future
        eng.collect("baby", "registration", {**KAMOER_USER, "birthday": "2025-06-02"}, now=NOW)
    assert codes(info) == {"parental_consent_missing"}
    with pytest.raises(BadValueError, match="in the future"):
        eng.collect("later", "registration", {**KAMOER_USER, "birthday": "2025-06-03"}, now=NOW)


def test_a_stated_age_is_a_person_s_age_from_0_to_150(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    eng.collect("wang", "registration", KAMOER_USER, now=NOW)
    assert eng.read("wang", "account_registration", {"email"}, Facts(age=150), now=LATER)["email"] == ["wang@example.cn"]
    with pytest.raises(DeniedError):  # 0 is an age (a child's): decided, not refused as bad input
        eng.collect("wang", "registration", KAMOER_USER, Facts(age=0), now=LATER)
    for bad in (151, -1):
        with pytest.raises(BadValueError, match=f"age {bad} is not"):
            eng.read("wang", "account_registration", {"email"}, Facts(age=bad), now=LATER)


def test_koso_07_a_register_fact_is_in_force_from_the_instant_it_is_recorded(db_url: str, tmp_path: Path) -> None:
    eng = _engine("koso", db_url, tmp_path)
    trip = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
    eng.collect("mei", "account_creation", {"email": "mei@example.tw"}, now=NOW)
    eng.record_fact("subscribed", person="mei", arg="dashboard_app", reference="store order 1", now=LATER)
    with pytest.raises(DeniedError):  # a moment before it was recorded
        eng.collect("mei", "dashboard_location", trip, now=LATER - dt.timedelta(microseconds=1))
    taipei = dt.timezone(dt.timedelta(hours=8))  # the same instants told in another time zone
    with pytest.raises(DeniedError):
        eng.collect("mei", "dashboard_location", trip, now=(LATER - dt.timedelta(microseconds=1)).astimezone(taipei))
    assert eng.collect("mei", "dashboard_location", trip, now=LATER).decision.allowed
    end = LATER + dt.timedelta(hours=1)
    eng.record_fact("subscribed", person="mei", arg="dashboard_app", reference="cancelled", revoke=True, now=end)
    with pytest.raises(DeniedError):  # revoked: from that instant on
        eng.collect("mei", "dashboard_location", trip, now=end)


def test_konzen_29_a_successor_bound_under_another_pack_is_not_bound_under_this_one(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path, "kalos-keys")
    konzen = _engine("konzen", db_url, tmp_path, "konzen-keys")  # the same database
    konzen.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}, now=NOW)
    kalos.record_fact("successor_bound", party="buyer_group", reference="SPA clause 9.2 (another company)", now=NOW)
    deal = Facts(grounds=frozenset({"corporate_transaction"}))
    with pytest.raises(DeniedError) as info:
        konzen.share("wang", "buyer_group", {"email"}, "provide_services", deal, kind="transfer_to_controller", now=LATER)
    assert codes(info) == {"successor_not_bound"}
    konzen.record_fact("successor_bound", party="buyer_group", reference="SPA clause 9.2", now=LATER)
    assert konzen.share("wang", "buyer_group", {"email"}, "provide_services", deal, kind="transfer_to_controller",
                        now=LATER)["email"] == ["wang@example.cn"]


def test_koso_07_clearing_history_keeps_the_account_and_a_cancellation_ends_it_from_its_instant(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("koso", db_url, tmp_path)
    trip = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
    eng.collect("mei", "account_creation", {"email": "mei@example.tw"}, now=NOW)
    subscribe(eng, "mei", "dashboard_app", now=NOW)
    eng.collect("mei", "dashboard_location", trip, now=NOW)
    assert clear_history(eng, "mei", "location_history", now=LATER) == 2
    later = LATER + dt.timedelta(seconds=1)
    assert eng.collect("mei", "dashboard_location", trip, now=later).decision.allowed  # still an account holder
    end = later + dt.timedelta(hours=1)
    cancel_account(eng, "mei", now=end)
    with pytest.raises(DeniedError) as info:  # cancelled: no account from that instant on
        eng.collect("mei", "dashboard_location", trip, now=end)
    assert "condition_unmet" in codes(info)


def test_the_engine_derives_a_legal_hold_and_a_security_assessment_from_its_own_records(
    db_url: str, tmp_path: Path
) -> None:
    """No bundled pack names these two facts in a condition, but a pack may (they are in the facts table): here
    Kamoer's logistics recipient receives data only while both hold, and neither can be stated by the caller."""
    pack = load_pack("kamoer")
    recipients = list(pack.recipients)
    i = [r.id for r in recipients].index("logistics")
    recipients[i] = recipients[i].model_copy(
        update={"trigger": Condition(all=("security_assessment_done", "legal_hold"))})
    eng = PolicyEngine(pack.model_copy(update={"recipients": tuple(recipients)}), open_database(db_url),
                       KeyRing.init(tmp_path / "keys"), region="CN")
    buyer = {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "zhang@example.cn",
             "mailing_address": "88 Huaihai Road, Shanghai", "id_number": "310101199001011234",
             "bank_card": "6222 0000 1111 2222"}
    eng.collect("zhang", "purchase", buyer, now=NOW)
    eng.collect("li", "purchase", {**buyer, "name": "Li Si"}, now=NOW)
    for paper in ("confidentiality", "instructions_only"):
        eng.record_fact("agreement", party="logistics", arg=paper, reference="carrier contract", now=NOW)

    def unmet(person: str) -> set[str]:
        with pytest.raises(DeniedError) as info:
            eng.share(person, "logistics", {"mailing_address"}, "purchase_delivery", now=LATER)
        return {r.message.rsplit(" ", 1)[-1] for r in info.value.decision.denials if r.code == "condition_unmet"}

    assert unmet("zhang") == {"security_assessment_done", "legal_hold"}
    eng.record_transfer_assessment("logistics", reference="SA-1", now=NOW)  # for the recipient itself
    assert unmet("zhang") == {"legal_hold"}
    place_legal_hold(eng, "li", reference="CASE-1", categories=["phone"], now=NOW)  # another person's hold
    assert unmet("zhang") == {"legal_hold"}
    place_legal_hold(eng, "zhang", reference="CASE-2", categories=["phone"], now=NOW)
    assert eng.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery", now=LATER) == {
        "mailing_address": ["88 Huaihai Road, Shanghai"]}
    place_legal_hold(eng, "zhang", reference="CASE-2", categories=["phone"], release=True, now=NOW)
    assert unmet("zhang") == {"legal_hold"}


def test_koso_07_one_person_s_subscription_is_not_another_s(db_url: str, tmp_path: Path) -> None:
    eng = _engine("koso", db_url, tmp_path)
    trip = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
    for who in ("mei", "kim"):
        eng.collect(who, "account_creation", {"email": f"{who}@example.tw"}, now=NOW)
    subscribe(eng, "mei", "dashboard_app", now=NOW)
    assert eng.collect("mei", "dashboard_location", trip, now=LATER).decision.allowed
    with pytest.raises(DeniedError) as info:
        eng.collect("kim", "dashboard_location", trip, now=LATER)
    assert "condition_unmet" in codes(info)


def test_the_grounds_stated_for_a_share_are_kept_whole_on_both_backends(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from policykeeper.store._schema import audit_log, disclosures

    koso = _engine("koso", db_url, tmp_path)
    koso.collect("mei", "warranty_support", {"name": "Chen Mei", "email": "mei@example.tw"}, now=NOW)
    grounds = frozenset({"legal_requirement", "administrative_or_judicial_request", "litigation_dispute"})
    assert len(",".join(grounds)) > 64  # longer than the column once was (PostgreSQL refused it)
    got = koso.share("mei", "taipei_district_court", {"name"}, "dispute_resolution", Facts(grounds=grounds), now=LATER)
    assert got == {"name": ["Chen Mei"]}
    with koso.db.connect() as conn:
        assert conn.execute(select(disclosures.c.ground)).scalar_one() == ",".join(sorted(grounds))
        entries = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    # a ground is a name, never a sentence (it is kept in clear), and at most eight are stated: refused, nothing kept
    for bad in (frozenset({"legal_requirement", "asked by Chen Mei's lawyer"}), frozenset({"Legal_requirement"}),
                frozenset({"legal_requirement", "x" * 65}), frozenset({f"ground_{i}" for i in range(9)})):
        with pytest.raises(BadValueError, match="ground"):
            koso.share("mei", "taipei_district_court", {"name"}, "dispute_resolution", Facts(grounds=bad), now=LATER)
    with koso.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(disclosures)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == entries
    eight = frozenset({"legal_requirement", *(f"ground_{i}" for i in range(7))})  # eight names: accepted
    assert koso.share("mei", "taipei_district_court", {"name"}, "dispute_resolution", Facts(grounds=eight),
                      now=LATER) == {"name": ["Chen Mei"]}
