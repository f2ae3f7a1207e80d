"""A running app per test: the real engine on SQLite or PostgreSQL, a real local SMTP server, API keys per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.notify import SmtpMailer
from policykeeper.store import open_database
from policykeeper.web import WebContext, create_api_key, create_app

from ..conftest import Inbox


@dataclass
class Web:
    client: TestClient
    ctx: WebContext
    inbox: Inbox
    keys: dict[str, str]

    def as_role(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def sign_in(self, identifier: str, email: str) -> str:
        """Ask for a code, read it from the SMTP server, open a session; returns the bearer token."""
        before = len(self.inbox.to(email))
        assert self.client.post("/v1/session/code", json={"identifier": identifier, "email": email}).status_code == 202
        assert len(self.inbox.to(email)) == before + 1, "no code was sent"
        code = self.inbox.code_for(email)
        got = self.client.post("/v1/session", json={"identifier": identifier, "code": code})
        assert got.status_code == 200, got.text
        self.client.cookies.clear()  # tests pass the token explicitly, so one client can act as several people
        return str(got.json()["token"])


def make_web(pack: str, db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    inbox, mailer = smtp
    ctx = WebContext(db=open_database(db_url), keys=KeyRing.init(tmp_path / "keys"), pack=load_pack(pack), mailer=mailer,
                     max_body=64_000)
    keys = {role: create_api_key(ctx, f"test {role}", role)
            for role in ("admin", "privacy_officer", "support_agent", "auditor", "service")}
    with TestClient(create_app(ctx)) as client:
        yield Web(client, ctx, inbox, keys)
    ctx.db.dispose()


@pytest.fixture
def web(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    """The Kamoer pack (a shop with accounts), signed up people can sign in to."""
    yield from make_web("kamoer", db_url, tmp_path, smtp)
