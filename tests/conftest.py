from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from policykeeper.notify import SmtpMailer

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
SHARED = REPO.parent / "shared"

PACK_PROMISE_COUNTS = {"koso": 32, "kalos": 48, "konzen": 39, "kokkok": 68, "kamoer": 78}
"""Promises per policy, from the promise catalogue (PROMISES.md)."""


@pytest.fixture
def minimal_text() -> str:
    return (DATA / "passing_minimal.yaml").read_text(encoding="utf-8")


def _pg_url() -> str | None:
    import os

    url = os.environ.get("POLICYKEEPER_TEST_PG_URL")
    if not url and os.environ.get("POLICYKEEPER_REQUIRE_PG"):
        raise RuntimeError("POLICYKEEPER_REQUIRE_PG is set but POLICYKEEPER_TEST_PG_URL is not")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: a SQLite file, or a new schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pk.db'}"
        return
    url = _pg_url()
    if url is None:
        pytest.skip("no PostgreSQL server: set POLICYKEEPER_TEST_PG_URL (scripts/test starts one)")
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    u = make_url(url)
    yield u.set(query={**u.query, "options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def full_text(**replacements: str) -> str:
    """The text of tests/data/passing_full.yaml with exact replacements (each must match)."""
    text = (DATA / "passing_full.yaml").read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text



@dataclass
class Inbox:
    """The messages a real local SMTP server (aiosmtpd) received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def code_for(self, address: str) -> str:
        body = self.to(address)[-1].get_payload(decode=True)
        assert isinstance(body, bytes)
        found = re.search(r"(?:code is|验证码是) (\d{6})", body.decode())  # in English or Chinese
        assert found, body
        return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpMailer]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, SmtpMailer("127.0.0.1", port, sender="privacy@policykeeper.test")
    finally:
        controller.stop()
