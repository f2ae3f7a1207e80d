"""Breach notices under ``kill -9`` (issue 13, item 1): a real ``policykeeper outbox deliver`` is killed at a random
point while it sends; another run follows at once, and one after the claims' lease. No person gets a message twice;
every message ends sent (received once, journalled) or unsure (held for a person: at most one per kill).

Long run: ``POLICYKEEPER_CRASH_KILLS=200 .venv/bin/python -m pytest -m crash tests/crash -q -s``."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import audit
from policykeeper.crypto import KeyRing
from policykeeper.notify import LEASE, RoutedTransport, SmtpMailer, deliver, enqueue_to_person
from policykeeper.store import open_database, outbox

from ..conftest import Inbox

pytestmark = pytest.mark.crash

KILLS = int(os.environ.get("POLICYKEEPER_CRASH_KILLS", "1"))
"""Kills per backend; 1 in the short run CI makes."""
WORKER = Path(__file__).with_name("deliver_worker.py")
PER_ROUND = 8


def test_delivery_killed_at_random_points_sends_no_message_twice(db_url: str, tmp_path: Path,
                                                                   smtp: tuple[Inbox, SmtpMailer]) -> None:
    inbox, mailer = smtp
    home = tmp_path / "home"
    keys = KeyRing.init(home / "keys")
    db = open_database(db_url)
    env = {**os.environ, "POLICYKEEPER_SMTP_URL": f"smtp://{mailer.host}:{mailer.port}",
           "POLICYKEEPER_MAIL_FROM": mailer.sender}
    rng = random.Random(int(os.environ.get("POLICYKEEPER_CRASH_SEED", "0")) or None)
    figures: Counter[str] = Counter()
    span, n = 0.0, 0
    for round_ in range(KILLS + 1):
        now = dt.datetime.now(dt.UTC)
        with db.begin() as conn:
            for _ in range(PER_ROUND):
                enqueue_to_person(conn, keys, kind="breach_notice", channel="email", to=f"p{n}@example.com",
                                  subject="A breach of your data", body="What happened, what we did.", now=now)
                n += 1
        proc = subprocess.Popen([sys.executable, str(WORKER), str(home), db_url], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        started = time.monotonic()
        if round_ == 0:
            proc.wait(60)  # not killed: how long a round takes here sets where the kills land
            span = time.monotonic() - started
        else:
            time.sleep(rng.uniform(0, span))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                figures["kills"] += 1
        _out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        figures["sent by the next run"] += deliver(db, keys, RoutedTransport(mailer))["sent"]  # claims not yet stale
        got = Counter(str(m["To"]) for m in inbox.messages)
        assert all(c == 1 for c in got.values()), [a for a, c in got.items() if c > 1]
    settled = deliver(db, keys, RoutedTransport(mailer), now=dt.datetime.now(dt.UTC) + 2 * LEASE)
    with db.connect() as conn:
        rows = conn.execute(select(outbox.c.id, outbox.c.status, outbox.c.payload)).all()
        assert audit.verify(conn).ok
    journal = keys.read_journal()
    received = Counter(str(m["Message-ID"]) for m in inbox.messages)
    assert all(c == 1 for c in received.values())  # no message twice, by its idempotency key either
    status = Counter(r.status for r in rows)
    assert set(status) <= {"sent", "unsure"}, status
    assert status["unsure"] == settled["unsure"] <= figures["kills"]  # at most the one message each kill was sending
    for r in rows:
        if r.status == "sent":
            assert f"msg:{r.id}" in journal and r.payload is None
    assert len(inbox.messages) >= status["sent"]
    figures["unsure"] = status["unsure"]
    figures["unsure, in fact delivered"] = len(inbox.messages) - status["sent"]
    figures["settled as sent from the journal"] = settled["sent"]
    print(f"\ndelivery crash figures ({db_url.split(':')[0]}): {dict(figures)}")
