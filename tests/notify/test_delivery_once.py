"""Each outbox message goes out at most once, whatever dies when, and none is silently lost (issue 13, item 1)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from policykeeper import BadValueError
from policykeeper.crypto import KeyRing
from policykeeper.notify import LEASE, dead_letters, deliver, enqueue_to_person, message_key, requeue
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log, outbox

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


class Died(BaseException):
    """The process was killed: nothing after this point runs (not an error the deliverer could catch)."""


class Recorder:
    """A transport that records what it was handed (as a mail server would), optionally dying right after."""

    def __init__(self, die_after: int | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.die_after = die_after
        self._lock = threading.Lock()

    def send(self, recipient: str, message: Mapping[str, Any]) -> None:
        with self._lock:
            self.sent.append((str(message["to"]), str(message["message_id"])))
            if self.die_after is not None and len(self.sent) >= self.die_after:
                raise Died


def _queue(db: Engine, keys: KeyRing, n: int) -> None:
    with db.begin() as conn:
        for i in range(n):
            enqueue_to_person(conn, keys, kind="breach_notice", channel="email", to=f"p{i}@example.com",
                              subject="A breach", body="What happened", now=NOW)


def _statuses(db: Engine) -> dict[int, str]:
    with db.connect() as conn:
        return {r.id: r.status for r in conn.execute(select(outbox.c.id, outbox.c.status))}


def test_a_deliverer_killed_after_the_hand_over_never_sends_twice(db_url: str, tmp_path: Path) -> None:
    db, keys = open_database(db_url), KeyRing.init(tmp_path / "keys")
    _queue(db, keys, 3)
    dying = Recorder(die_after=2)
    with pytest.raises(Died):
        deliver(db, keys, dying, now=NOW)
    assert _statuses(db) == {1: "sent", 2: "sending", 3: "pending"}
    again = Recorder()
    assert deliver(db, keys, again, now=NOW + dt.timedelta(seconds=5)) == {"sent": 1, "retry": 0, "dead": 0,
                                                                            "unsure": 0}
    assert again.sent == [("p2@example.com", message_key(keys, 3))]  # the claimed message was not sent again
    later = NOW + LEASE + dt.timedelta(seconds=1)  # its deliverer is surely dead: the journal does not have it
    assert deliver(db, keys, again, now=later)["unsure"] == 1
    assert len(again.sent) == 1 and _statuses(db)[2] == "unsure"
    (held,) = dead_letters(db)  # not lost: it waits for a person
    assert held["id"] == 2 and held["status"] == "unsure" and "not re-sent" in held["last_error"]
    assert deliver(db, keys, again, now=later + LEASE)["unsure"] == 0 and len(again.sent) == 1
    requeue(db, 2, now=later)  # a person decides it should go: the same idempotency key
    assert deliver(db, keys, again, now=later)["sent"] == 1
    assert again.sent[-1] == ("p1@example.com", message_key(keys, 2)) and dying.sent[-1][1] == message_key(keys, 2)
    with pytest.raises(BadValueError, match="not a dead letter"):
        requeue(db, 2)
    with db.connect() as conn:
        events = [d["event"] for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "outbox")
                                                   .order_by(audit_log.c.seq)).scalars()]
    assert events == ["sent", "sent", "unsure", "requeued", "sent"]


def test_a_deliverer_killed_after_journalling_is_finished_as_sent_not_resent(db_url: str, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db, keys = open_database(db_url), KeyRing.init(tmp_path / "keys")
    _queue(db, keys, 1)
    journal = keys.record_shredded

    def journal_then_die(ref: str) -> None:
        journal(ref)
        raise Died

    monkeypatch.setattr(keys, "record_shredded", journal_then_die)
    first = Recorder()
    with pytest.raises(Died):
        deliver(db, keys, first, now=NOW)
    monkeypatch.undo()
    assert _statuses(db) == {1: "sending"} and len(first.sent) == 1
    again = Recorder()
    assert deliver(db, keys, again, now=NOW + LEASE) == {"sent": 1, "retry": 0, "dead": 0, "unsure": 0}
    assert again.sent == [] and _statuses(db) == {1: "sent"}
    with db.connect() as conn:
        row = conn.execute(select(outbox.c.payload, outbox.c.wrapped_key)).one()
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "outbox")).scalar_one()
    assert row.payload is None and row.wrapped_key is None
    assert detail["recovered"] is True and detail["message_id"] == message_key(keys, 1)


def test_concurrent_deliverers_send_each_message_once(db_url: str, tmp_path: Path) -> None:
    db, keys = open_database(db_url), KeyRing.init(tmp_path / "keys")
    _queue(db, keys, 30)
    shared = Recorder()
    errors: list[BaseException] = []

    deliverers = [(open_database(db_url), KeyRing.open(tmp_path / "keys")) for _ in range(3)]  # as 3 processes

    def run(own: Engine, ring: KeyRing) -> None:
        try:
            deliver(own, ring, shared, now=NOW)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=d) for d in deliverers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sorted(to for to, _ in shared.sent) == sorted(f"p{i}@example.com" for i in range(30))
    assert set(_statuses(db).values()) == {"sent"}
    assert KeyRing.open(tmp_path / "keys").read_journal() == {f"msg:{i}" for i in range(1, 31)}


def test_deliver_and_requeue_take_their_time_from_the_clock_they_are_given(db_url: str, tmp_path: Path) -> None:
    from policykeeper.clock import FixedClock, utc

    class Down:
        def send(self, recipient: str, message: Mapping[str, Any]) -> None:
            raise OSError("mail server down")

    db, keys = open_database(db_url), KeyRing.init(tmp_path / "keys")
    later = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)  # not due yet by the machine's clock
    with db.begin() as conn:
        enqueue_to_person(conn, keys, kind="breach_notice", channel="email", to="p@example.com", subject="A breach",
                          body="What happened", now=later)
    assert deliver(db, keys, Recorder()) == {"sent": 0, "retry": 0, "dead": 0, "unsure": 0}  # the system clock
    clock = FixedClock(later)
    for _ in range(6):  # each attempt at the clock's time, two hours apart, until the message is dead-lettered
        deliver(db, keys, Down(), clock=clock)
        clock.advance(dt.timedelta(hours=2))
    assert [d["status"] for d in dead_letters(db)] == ["dead"]
    requeue(db, 1, clock=clock)
    with db.connect() as conn:
        assert utc(conn.execute(select(outbox.c.next_attempt_at).where(outbox.c.id == 1)).scalar_one()) == clock.now()
    recorder = Recorder()
    assert deliver(db, keys, recorder, clock=clock)["sent"] == 1 and recorder.sent[0][0] == "p@example.com"
