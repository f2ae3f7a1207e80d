"""What a person says with a request (kept encrypted), the signed-in path without a second code, the queue staff
work from (filters, search, sort, pages) and a request's timeline with staff notes and audited reveals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from policykeeper import BadValueError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.requests import QueueQuery, RequestContent, RequestService, mask_address
from policykeeper.store import audit_log, open_database, requests

from ..conftest import Inbox

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
BOB = {**ALICE, "name": "Bob Vongsa", "uuid": "u-bob", "email": "bob@example.com", "phone": "+856 20 5555 0202"}


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> RequestService:
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    svc = RequestService(eng, smtp[1])
    for who, values in (("alice", ALICE), ("bob", BOB)):
        eng.collect(who, "personal_customer", values, Facts(channel="online"), now=NOW)
    return svc


def _subject(svc: RequestService, who: str) -> str:
    with svc.engine.db.connect() as conn:
        found = svc.engine.subject_id_of(conn, who)
    assert found is not None
    return found


def _dump(svc: RequestService) -> str:
    with svc.engine.db.connect() as conn:
        return repr(conn.execute(select(audit_log)).all()) + repr(conn.execute(select(requests)).all())


def test_what_a_person_says_is_kept_encrypted_and_never_audited(
        kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    said = RequestContent(note="My phone number changed last spring", category="phone", value="+856 20 9999 1234")
    t = kokkok.submit("alice", "correct", email="alice@example.com", content=said, now=NOW)
    assert kokkok.content_of(t.ref) == said
    dumped = _dump(kokkok)
    for secret in ("changed last spring", "9999 1234"):
        assert secret not in dumped
    with kokkok.engine.db.connect() as conn:
        received = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")).scalars().all()
    assert received[0]["says"] == {"note": True, "corrects": "phone"}  # that something was said, not what
    # staff notes too
    kokkok.verify(t.ref, smtp[0].code_for("alice@example.com"), now=NOW)
    assert kokkok.add_note(t.ref, "Called back: the old number is out of service", actor="key:k1", now=NOW) == 1
    assert "out of service" not in _dump(kokkok)
    steps = kokkok.timeline(t.ref)
    assert [s.event for s in steps] == ["received", "verified", "note_added"]
    assert steps[-1].note == "Called back: the old number is out of service" and steps[-1].actor == "key:k1"


@pytest.mark.parametrize(("content", "right", "problem"), [
    (RequestContent(note="x" * 2001), "access", "note: at most 2000"),
    (RequestContent(category="phone", value="1"), "access", "only a correction request"),
    (RequestContent(category="shoe_size", value="42"), "correct", "'shoe_size' is not an item"),
    (RequestContent(category="", value="42"), "correct", "say which item"),
    (RequestContent(category="phone", value="  "), "correct", "correction.value"),
    (RequestContent(category="phone", value="9" * 2001), "correct", "correction.value"),
])
def test_bad_content_is_refused_by_name_and_records_nothing(
        kokkok: RequestService, content: RequestContent, right: str, problem: str) -> None:
    with pytest.raises(BadValueError, match=problem):
        kokkok.submit("alice", right, email="alice@example.com", content=content, now=NOW)
    assert kokkok.queue(QueueQuery(status="all")).total == 0


def test_a_locked_item_cannot_be_asked_to_be_corrected(db_url: str, tmp_path: Path,
                                                        smtp: tuple[Inbox, SmtpMailer]) -> None:
    svc = RequestService(PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.init(tmp_path / "k")),
                         smtp[1])
    with pytest.raises(BadValueError, match="cannot be changed once registered"):
        svc.submit("someone", "correct", email="a@example.com",
                   content=RequestContent(category="email", value="b@example.com"), now=NOW)


def test_kokkok_62_a_signed_in_person_is_verified_by_their_login_with_no_second_code(
        kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    inbox = smtp[0]
    t = kokkok.submit_for_subject(_subject(kokkok, "alice"), "access", email="alice@example.com", signed_in=NOW,
                                  now=NOW)
    assert t.status == "verified" and inbox.to("alice@example.com") == []
    steps = kokkok.timeline(t.ref)
    assert [(s.event, s.actor, s.detail.get("method")) for s in steps] == [
        ("received", "subject", None), ("verified", "subject", "login")]
    # an address that is not held for them proves nothing: staff verify it as before
    other = kokkok.submit_for_subject(_subject(kokkok, "alice"), "access", email="someone@example.org",
                                      signed_in=NOW, now=NOW)
    assert other.status == "received" and inbox.to("someone@example.org") == []
    # not signed in: the emailed code, as before
    coded = kokkok.submit_for_subject(_subject(kokkok, "alice"), "access", email="alice@example.com", now=NOW)
    assert coded.status == "received" and len(inbox.to("alice@example.com")) == 1


def test_kokkok_62_an_address_added_during_the_session_proves_nothing(
        kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    """Anyone signed in could put someone else's address on their profile, then ask for an erasure that the company
    databases would carry out by that address: only an address held since before the session opened counts."""
    alice = _subject(kokkok, "alice")
    session = NOW + dt.timedelta(hours=1)
    kokkok.engine.correct_subject(alice, "email", "victim@example.org", now=session + dt.timedelta(minutes=5))
    t = kokkok.submit_for_subject(alice, "delete", email="victim@example.org", signed_in=session,
                                  now=session + dt.timedelta(minutes=6))
    assert t.status == "received" and len(smtp[0].to("victim@example.org")) == 1  # the code path, as before
    # signed in again after the change: the address was held before that session opened
    later = kokkok.submit_for_subject(alice, "access", email="victim@example.org",
                                      signed_in=session + dt.timedelta(hours=1), now=session + dt.timedelta(hours=2))
    assert later.status == "verified"


def test_kokkok_62_where_the_pack_always_requires_a_method_that_is_not_a_login_the_code_path_stays(
        kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    pack = kokkok.pack
    handling = pack.requests
    rule = handling.verification  # type: ignore[union-attr]
    stricter = pack.model_copy(update={"requests": handling.model_copy(update={  # type: ignore[union-attr]
        "verification": rule.model_copy(update={"methods": ("supporting_documents", "identity_proof")})})})
    kokkok.pack = stricter
    assert not kokkok.session_verifies()
    t = kokkok.submit_for_subject(_subject(kokkok, "alice"), "access", email="alice@example.com", signed_in=NOW,
                                  now=NOW)
    assert t.status == "received" and len(smtp[0].to("alice@example.com")) == 1


def test_an_extension_keeps_the_record_that_the_request_was_late(
        kokkok: RequestService, smtp: tuple[Inbox, SmtpMailer]) -> None:
    kokkok.deadlines = {"rights_requests": __import__("policykeeper.pack", fromlist=["FixedDuration"]).FixedDuration(
        value=10, unit="calendar_days")}
    t = kokkok.submit_for_subject(_subject(kokkok, "alice"), "access", email="alice@example.com", signed_in=NOW,
                                  now=NOW)
    assert t.due_at == NOW + dt.timedelta(days=10)
    later = NOW + dt.timedelta(days=13, hours=2)
    assert kokkok.queue(QueueQuery(state="overdue"), now=later).total == 1
    kokkok.extend(t.ref, 20, reason="the archive is offsite", actor="key:k1", now=later)
    assert kokkok.queue(QueueQuery(state="overdue"), now=later).total == 0  # on time again ...
    ext = next(s for s in kokkok.timeline(t.ref) if s.event == "extended")
    assert ext.detail == {"days": 20, "reason": "the archive is offsite", "overdue_days": 3,  # ... but it was late
                          "was_due": "2025-06-12"} and ext.actor == "key:k1"
    on_time = kokkok.submit_for_subject(_subject(kokkok, "bob"), "access", email="bob@example.com", signed_in=NOW,
                                        now=NOW)
    kokkok.extend(on_time.ref, 5, reason="busy", actor="key:k1", now=NOW)
    assert next(s for s in kokkok.timeline(on_time.ref) if s.event == "extended").detail["overdue_days"] == 0


def test_revealing_the_persons_values_is_audited_without_them(kokkok: RequestService) -> None:
    t = kokkok.submit_for_subject(_subject(kokkok, "alice"), "correct", email="alice@example.com", signed_in=NOW,
                                  content=RequestContent(category="phone", value="+856 20 1111 2222"), now=NOW)
    assert "phone" in kokkok.held_categories(t.ref) and "password" not in kokkok.held_categories(t.ref)
    assert "password" not in kokkok.current_values(t.ref, ("password",), actor="key:k9", now=NOW)  # never shown
    assert kokkok.current_values(t.ref, ("phone",), actor="key:k9", now=NOW) == {"phone": ["+856 20 5555 0101"]}
    step = kokkok.timeline(t.ref)[-1]
    assert (step.event, step.actor, step.detail) == ("values_revealed", "key:k9", {"categories": ["phone"]})
    assert "5555 0101" not in _dump(kokkok)
    everything = kokkok.current_values(t.ref, actor="key:k9", now=NOW)
    assert "password" not in everything and everything["email"] == ["alice@example.com"]


def test_the_queue_filters_searches_sorts_and_pages(kokkok: RequestService) -> None:
    from policykeeper.pack import FixedDuration

    kokkok.deadlines = {"rights_requests": FixedDuration(value=30, unit="calendar_days")}
    a, b = _subject(kokkok, "alice"), _subject(kokkok, "bob")
    old = kokkok.submit_for_subject(a, "access", email="alice@example.com", signed_in=NOW, now=NOW)
    mid = kokkok.submit_for_subject(b, "delete", email="bob@example.com", signed_in=NOW,
                                    now=NOW + dt.timedelta(days=10))
    new = kokkok.submit_for_subject(a, "correct", email="alice@example.com", signed_in=NOW,
                                    now=NOW + dt.timedelta(days=20))
    closed = kokkok.submit_for_subject(b, "access", email="bob@example.com", signed_in=NOW, now=NOW)
    kokkok.refuse(closed.ref, "identity_not_verified", now=NOW)
    undated = kokkok.submit_for_subject(a, "restrict", email="alice@example.com", signed_in=NOW,
                                        now=NOW + dt.timedelta(days=1))
    with kokkok.engine.db.begin() as conn:  # a request the pack gives no date (e.g. received under another rule)
        conn.execute(update(requests).where(requests.c.ref == undated.ref).values(due_at=None))
    now = NOW + dt.timedelta(days=32)  # old is overdue, mid is due in 8 days, new in 18

    def refs(**kw: object) -> list[str]:
        return [i["ref"] for i in kokkok.queue(QueueQuery(**kw), now=now).items]  # type: ignore[arg-type]

    assert refs() == [old.ref, mid.ref, new.ref, undated.ref]  # overdue first, no date after the dated ones
    assert refs(status="all") == [old.ref, mid.ref, new.ref, undated.ref, closed.ref]
    assert refs(status="closed") == refs(status="refused") == [closed.ref]
    assert refs(right="delete") == [mid.ref] and refs(state="overdue") == [old.ref]
    assert refs(state="due_soon", due_within=dt.timedelta(days=10)) == [mid.ref]
    assert refs(ref=new.ref[:6]) == [new.ref] and refs(ref=new.ref.upper()) == [new.ref]
    assert refs(sort="received", descending=True) == [old.ref, new.ref, mid.ref, undated.ref]  # overdue still first
    page = kokkok.queue(QueueQuery(status="all", limit=2, offset=2), now=now)
    assert [i["ref"] for i in page.items] == [new.ref, undated.ref] and page.total == 5
    first = kokkok.queue(QueueQuery(), now=now).items[0]
    assert first["state"] == "overdue" and first["days_left"] == -2 and first["requester"] == "a•••@e•••.com"
    assert kokkok.queue(QueueQuery(status="closed"), now=now).items[0]["days_left"] is None
    for bad in (QueueQuery(status="lost"), QueueQuery(sort="size"), QueueQuery(limit=0), QueueQuery(ref="xyz")):
        with pytest.raises(BadValueError):
            kokkok.queue(bad)


def test_an_erasure_destroys_what_the_person_said_with_the_request(kokkok: RequestService) -> None:
    t = kokkok.submit_for_subject(_subject(kokkok, "alice"), "delete", email="alice@example.com", signed_in=NOW,
                                  content=RequestContent(note="please remove everything"), now=NOW)
    kokkok.add_note(t.ref, "checked the backups", actor="key:k1", now=NOW)
    kokkok.fulfil_erasure(t.ref, now=NOW)
    assert kokkok.content_of(t.ref) is None and kokkok.requester(t.ref) is None
    steps = kokkok.timeline(t.ref)
    assert next(s for s in steps if s.event == "note_added").note is None  # the step stays, its text is gone
    with kokkok.engine.db.connect() as conn:
        assert conn.execute(select(requests.c.content).where(requests.c.ref == t.ref)).scalar() is None


def test_masks_show_too_little_to_contact_anyone() -> None:
    assert mask_address("zhang.wei@example.cn") == "z•••@e•••.cn"
    assert mask_address("x@localhost") == "x•••@l•••"
    assert mask_address("") == ""
