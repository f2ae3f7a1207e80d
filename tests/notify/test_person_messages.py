"""Messages to people through the outbox: email over a real local SMTP server, push as a webhook, retries and
dead letters, and no message content anywhere once delivered."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from policykeeper import ConfigError
from policykeeper.crypto import KeyRing
from policykeeper.notify import PERSON, RoutedTransport, SmtpMailer, dead_letters, deliver, enqueue_to_person, message_key
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log, outbox

from ..conftest import Inbox

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def push_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            got.append({**json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                        "header": self.headers.get("Idempotency-Key")})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/push", got
    finally:
        server.shutdown()


def test_email_and_push_messages_reach_the_person_and_leave_no_content_behind(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer], push_server: tuple[str, list[dict[str, Any]]]
) -> None:
    inbox, mailer = smtp
    url, pushed = push_server
    db, keys = open_database(db_url), KeyRing.init(tmp_path / "keys")
    with db.begin() as conn:
        enqueue_to_person(conn, keys, kind="service", channel="email", to="mei@example.tw", subject="Your receipt",
                          body="Thank you for your order.", now=NOW)
        enqueue_to_person(conn, keys, kind="service", channel="push", to="device-token-7f", subject="Ride ended",
                          body="Your trip was saved.", now=NOW)
    transport = RoutedTransport(mailer, {"push": {"webhook": url}})
    assert deliver(db, keys, transport, now=NOW) == {"sent": 2, "retry": 0, "dead": 0, "unsure": 0}
    assert inbox.to("mei@example.tw")[0]["Subject"] == "Your receipt"
    assert inbox.to("mei@example.tw")[0]["Message-ID"] == f"<{message_key(keys, 1)}@policykeeper.test>"
    key = message_key(keys, 2)  # the idempotency key, in the body and the header
    assert pushed == [{"channel": "push", "to": "device-token-7f", "subject": "Ride ended", "body": "Your trip was saved.",
                       "message_id": key, "header": key}]
    with db.connect() as conn:
        rows = conn.execute(select(outbox.c.recipient, outbox.c.payload, outbox.c.status)).all()
        log = json.dumps([r.detail for r in conn.execute(select(audit_log.c.detail))])
    assert {(r.recipient, r.payload, r.status) for r in rows} == {(PERSON, None, "sent")}
    assert "mei@example.tw" not in log and "device-token-7f" not in log


def test_a_channel_the_outbox_cannot_reach_is_refused_and_a_missing_route_is_retried_then_dead(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    _, mailer = smtp
    db, keys = open_database(db_url), KeyRing.init(tmp_path / "keys")
    with db.begin() as conn, pytest.raises(ConfigError, match="cannot reach people through 'letter'"):
        enqueue_to_person(conn, keys, kind="breach_notice", channel="letter", to="1 Road", subject="s", body="b", now=NOW)
    with db.begin() as conn:
        enqueue_to_person(conn, keys, kind="service", channel="push", to="device-token-7f", subject="s", body="b", now=NOW)
    at = NOW
    for _ in range(6):
        deliver(db, keys, RoutedTransport(mailer), now=at)  # no push route configured
        at += dt.timedelta(hours=2)
    dead = dead_letters(db)
    assert len(dead) == 1 and "no push webhook configured" in dead[0]["last_error"]
    assert "device-token-7f" not in json.dumps(dead)
