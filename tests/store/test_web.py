"""The web layer's repository (store/web.py): keys, sessions, codes, abuse-limit counts and the read-only views, on
both backends, with typed rows out."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from policykeeper.clock import utc
from policykeeper.store import incident_records as incident_store
from policykeeper.store import ledger as ledger_store
from policykeeper.store import open_database
from policykeeper.store import web as web_store

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_rows_are_frozen_dataclasses() -> None:
    for row in (web_store.ApiKeyRow, web_store.KeyListing, web_store.SessionRow, web_store.CodeRow,
                ledger_store.ConsentDayCount, ledger_store.ConsentChoiceRow, incident_store.IncidentRow,
                incident_store.NoticeCount):
        assert dataclasses.is_dataclass(row) and row.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_api_keys_are_stored_listed_used_and_revoked_with_their_sessions(db_url: str) -> None:
    db = open_database(db_url)
    with db.begin() as conn:
        web_store.insert_api_key(conn, key_id="a" * 16, name="ops", role="admin", secret_hash="h" * 64, created_at=T0)
        web_store.insert_api_key(conn, key_id="b" * 16, name="svc", role="service", secret_hash="g" * 64,
                                 created_at=T0 + dt.timedelta(minutes=1))
        web_store.insert_session(conn, session_id="s1", pack_id="p", subject_id="key:" + "a" * 16, created_at=T0,
                                 expires_at=T0 + dt.timedelta(hours=2))
    with db.connect() as conn:
        listed = web_store.api_keys_listed(conn)
        assert [k.id for k in listed] == ["a" * 16, "b" * 16]  # oldest first
        assert not hasattr(listed[0], "secret_hash")  # a listing never carries the hash
        key = web_store.api_key(conn, "a" * 16)
        assert key is not None and key.secret_hash == "h" * 64 and key.last_used_at is None
        assert web_store.api_key(conn, "c" * 16) is None
    with db.begin() as conn:
        web_store.touch_api_key(conn, "a" * 16, T0 + dt.timedelta(minutes=5))
        assert web_store.revoke_api_key(conn, "a" * 16, T0 + dt.timedelta(minutes=6))
        assert not web_store.revoke_api_key(conn, "a" * 16, T0 + dt.timedelta(minutes=7))  # already revoked
    with db.connect() as conn:
        key = web_store.api_key(conn, "a" * 16)
        assert key is not None and key.last_used_at is not None and key.revoked_at is not None
        assert utc(key.revoked_at) == T0 + dt.timedelta(minutes=6)
        s = web_store.session(conn, "s1")
        assert s is not None and s.ended_at is not None and utc(s.ended_at) == T0 + dt.timedelta(minutes=6)
        other = web_store.api_key(conn, "b" * 16)
        assert other is not None and other.revoked_at is None


def test_sessions_end_one_by_one_or_all_of_a_person_in_one_pack(db_url: str) -> None:
    db = open_database(db_url)
    later = T0 + dt.timedelta(hours=2)
    with db.begin() as conn:
        for sid, pack in (("s1", "p"), ("s2", "p"), ("s3", "q")):
            web_store.insert_session(conn, session_id=sid, pack_id=pack, subject_id="subj", created_at=T0,
                                     expires_at=later)
    with db.connect() as conn:
        assert web_store.session_created_at(conn, "s1") is not None
        assert utc(web_store.session_created_at(conn, "s1") or later) == T0
        assert web_store.session_created_at(conn, "nope") is None
        assert web_store.session(conn, "nope") is None
    with db.begin() as conn:
        web_store.end_session(conn, "s1", T0 + dt.timedelta(minutes=1))
        web_store.end_sessions_of(conn, "subj", T0 + dt.timedelta(minutes=2), pack_id="p")
    with db.connect() as conn:
        ended = {sid: web_store.session(conn, sid) for sid in ("s1", "s2", "s3")}
    s1, s2, s3 = ended["s1"], ended["s2"], ended["s3"]
    assert s1 is not None and s1.ended_at is not None and utc(s1.ended_at) == T0 + dt.timedelta(minutes=1)
    assert s2 is not None and s2.ended_at is not None and utc(s2.ended_at) == T0 + dt.timedelta(minutes=2)
    assert s3 is not None and s3.ended_at is None  # another pack's session stays open


def test_the_latest_code_is_found_for_a_person_or_anyone_and_counts_its_tries(db_url: str) -> None:
    db = open_database(db_url)
    with db.begin() as conn:
        for n, subject in enumerate(("x", "y")):
            web_store.insert_login_code(conn, pack_id="p", lookup="L", subject_id=subject, code_hash=f"h{n}",
                                        sent_at=T0 + dt.timedelta(minutes=n), expires_at=T0 + dt.timedelta(hours=1))
    with db.begin() as conn:
        latest = web_store.latest_code(conn, "L")
        assert latest is not None and latest.code_hash == "h1" and latest.attempts == 0 and not latest.used
        mine = web_store.latest_code(conn, "L", "x")
        assert mine is not None and mine.code_hash == "h0"
        assert web_store.latest_code(conn, "L", "z") is None and web_store.latest_code(conn, "M") is None
        web_store.count_code_attempt(conn, mine.id, 1, spent=False)
        web_store.count_code_attempt(conn, latest.id, 5, spent=True)
    with db.begin() as conn:
        mine = web_store.latest_code(conn, "L", "x")
        latest = web_store.latest_code(conn, "L")
        assert mine is not None and mine.attempts == 1 and not mine.used
        assert latest is not None and latest.attempts == 5 and latest.used
        web_store.spend_code(conn, mine.id)
    with db.connect() as conn:
        mine = web_store.latest_code(conn, "L", "x")
        assert mine is not None and mine.used


def test_rate_events_are_counted_per_key_and_forgotten_after_their_window(db_url: str) -> None:
    db = open_database(db_url)
    with db.begin() as conn:
        web_store.add_rate_events(conn, [("signin:pair", "k1", T0), ("signin:pair", "k1", T0 + dt.timedelta(hours=1)),
                                         ("signin:pair", "k2", T0), ("signin:try", "k1", T0)])
        assert web_store.count_rate_events(conn, "signin:pair", "k1") == 2
        web_store.forget_rate_events(conn, "signin:pair", T0, key="k1")
        assert web_store.count_rate_events(conn, "signin:pair", "k1") == 1
        assert web_store.count_rate_events(conn, "signin:pair", "k2") == 1  # another key is not touched
        web_store.forget_rate_events(conn, "signin:pair", T0)  # every key of the scope
        assert web_store.count_rate_events(conn, "signin:pair", "k2") == 0
        assert web_store.count_rate_events(conn, "signin:try", "k1") == 1  # another scope is not touched


@pytest.mark.parametrize("newest_by", ["id", "opened_at"])
def test_incidents_are_listed_newest_first_with_their_notice_counts(db_url: str, newest_by: str) -> None:
    from policykeeper.store._schema import incident_notices, incidents  # the test sets the rows up directly

    db = open_database(db_url)
    with db.begin() as conn:
        for n, opened in enumerate((T0 + dt.timedelta(days=1), T0), start=1):  # the second is opened first
            conn.execute(incidents.insert().values(
                id=n, pack_id="p", opened_at=opened, started_at=T0, ended_at=None, systems=["crm"],
                categories=["email"], reference=f"INC-{n}", harm_to_subjects=False, liability=False, steps=[],
                status="open", closed_at=None))
        conn.execute(incidents.insert().values(
            id=3, pack_id="other", opened_at=T0, started_at=T0, ended_at=None, systems=["x"], categories=[],
            reference="INC-3", harm_to_subjects=False, liability=False, steps=[], status="open", closed_at=None))
        for subject in ("a", "b"):
            conn.execute(incident_notices.insert().values(incident_id=1, kind="individual", subject_id=subject,
                                                          channel="email", created_at=T0))
        conn.execute(incident_notices.insert().values(incident_id=2, kind="announcement", subject_id="",
                                                      channel="page", created_at=T0 + dt.timedelta(hours=1)))
    with db.connect() as conn:
        rows = incident_store.incidents_of(conn, "p", newest_by=newest_by)  # type: ignore[arg-type]
        counts = incident_store.notice_counts(conn)
        of_first = incident_store.notice_counts(conn, 1)
    assert [r.reference for r in rows] == (["INC-2", "INC-1"] if newest_by == "id" else ["INC-1", "INC-2"])
    assert rows[0].systems == ["crm"] and rows[0].steps == [] and rows[0].status == "open"
    assert sorted((c.incident_id, c.kind, c.channel, c.count) for c in counts) == [
        (1, "individual", "email", 2), (2, "announcement", "page", 1)]
    assert [(c.incident_id, c.kind, c.channel, c.count, utc(c.first_at)) for c in of_first] == [
        (1, "individual", "email", 2, T0)]


def test_consent_counts_by_day_targets_and_a_persons_choices(db_url: str) -> None:
    from policykeeper.store._chain import append
    from policykeeper.store._schema import consent_events

    db = open_database(db_url)
    with db.begin() as conn:
        for at, target, action in ((T0, "news", "given"), (T0 + dt.timedelta(hours=1), "news", "withdrawn"),
                                   (T0 + dt.timedelta(days=1), "ads", "given")):
            append(conn, consent_events, "consent", {"subject_id": "s1", "pack_id": "p", "pack_version": "1",
                                                     "target": target, "action": action, "at": at,
                                                     "evidence": {"by": "subject"}})
    with db.connect() as conn:
        all_days = ledger_store.consent_counts_by_day(conn, "p")
        news = ledger_store.consent_counts_by_day(conn, "p", target="news")
        recent = ledger_store.consent_counts_by_day(conn, "p", since=T0 + dt.timedelta(days=1))
        seen = ledger_store.consent_targets_seen(conn, "p")
        choices = ledger_store.consent_choices_of(conn, "s1")
    assert sorted((c.day, c.action, c.count) for c in all_days) == [
        (T0.date(), "given", 1), (T0.date(), "withdrawn", 1), (T0.date() + dt.timedelta(days=1), "given", 1)]
    assert sorted(c.action for c in news) == ["given", "withdrawn"]
    assert [(c.day, c.action) for c in recent] == [(T0.date() + dt.timedelta(days=1), "given")]
    assert seen == {"news", "ads"}
    assert [(c.target, c.evidence.get("by")) for c in choices] == [("news", "subject"), ("news", "subject"),
                                                                   ("ads", "subject")]
