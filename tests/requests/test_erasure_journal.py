"""An erasure killed between journalling the key and committing: the person is unreadable at once, the request
stays open (never reported done), and the next run finishes it and tells the person once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import SubjectNotFoundError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.requests import RequestService
from policykeeper.store import open_database, requests, subjects

from ..conftest import Inbox

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice P", "password": "pw", "uuid": "u-1", "phone": "+856 20 5555 0101", "email": "alice@example.com",
         "date_of_birth": "1990-04-02"}


class Died(BaseException):
    """The process was killed here."""


def test_an_erasure_killed_after_its_journal_entry_is_finished_by_the_next_run(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, mailer = smtp
    svc = RequestService(PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "k")), mailer)
    svc.engine.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    ref = svc.submit("alice", "delete", email="alice@example.com", now=NOW).ref
    svc.verify(ref, inbox.code_for("alice@example.com"), now=NOW)
    journal = svc.engine.keys.record_shredded

    def journal_then_die(entry: str) -> None:
        journal(entry)
        raise Died

    monkeypatch.setattr(svc.engine.keys, "record_shredded", journal_then_die)
    with pytest.raises(Died):
        svc.fulfil_erasure(ref, now=NOW)
    monkeypatch.undo()
    other = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.open(tmp_path / "k"))  # another process
    with pytest.raises(SubjectNotFoundError):
        other.read("alice", "p1_contract_performance", {"email"}, now=NOW)  # the key is gone for everyone at once
    with svc.engine.db.connect() as conn:
        assert conn.execute(select(requests.c.status).where(requests.c.ref == ref)).scalar_one() == "verified"
        assert conn.execute(select(subjects.c.status)).scalar_one() == "active"  # not yet erased, not reported done
    svc.fulfil_erasure(ref, now=NOW)
    with svc.engine.db.connect() as conn:
        assert conn.execute(select(requests.c.status).where(requests.c.ref == ref)).scalar_one() == "fulfilled"
        assert conn.execute(select(subjects.c.status, subjects.c.wrapped_key)).one() == ("erased", None)
    svc.fulfil_erasure(ref, now=NOW)  # and again: nothing twice
    assert [m["Subject"] for m in inbox.messages].count(f"Your privacy request {ref} is done") == 1
