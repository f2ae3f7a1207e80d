"""A request reads time from its engine's clock: a FixedClock moves its deadline and its overdue state, no ``now=``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from policykeeper import load_pack
from policykeeper.clock import FixedClock
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.requests import QueueQuery, RequestService
from policykeeper.store import open_database

from ..conftest import Inbox

START = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


def test_the_engines_clock_sets_a_requests_deadline_and_makes_it_overdue(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    clock = FixedClock(START)
    svc = RequestService(PolicyEngine(load_pack("kalos"), open_database(db_url), KeyRing.init(tmp_path / "keys"),
                                      clock=clock), smtp[1])
    ticket = svc.submit("li", "access", email="li@example.cn")  # KALOS-32: 30 days from receipt
    assert ticket.due_at == START + dt.timedelta(days=30)
    clock.advance(dt.timedelta(days=29))
    assert [r["state"] for r in svc.open_requests()] == ["due_soon"]
    assert svc.queue(QueueQuery(state="overdue")).total == 0
    clock.advance(dt.timedelta(days=2))
    assert [r["state"] for r in svc.open_requests()] == ["overdue"]
    (item,) = svc.queue(QueueQuery(state="overdue")).items
    assert item["ref"] == ticket.ref and item["days_left"] == -1
    assert [e.at for e in svc.timeline(ticket.ref)] == [START]  # received when the clock said
