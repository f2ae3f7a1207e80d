"""KOKKOK-62: a request made by an agent is acted on only once staff recorded the proof of the agent's authority
(``requests.verification.agent_authority_check``); a pack that provides for no agent refuses such a request. Through
the command line and the REST API, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from policykeeper import BadValueError, load_pack
from policykeeper.cli import app
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.requests import RequestService
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log

from ..conftest import Inbox
from ..web.conftest import Web, make_web

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
AGENT = "counsel@lawfirm.la"
runner = CliRunner()


def _verified_events(eng: PolicyEngine) -> list[dict[str, object]]:
    with eng.db.connect() as conn:
        return [d for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")).scalars()
                if d["event"] == "verified"]


def test_kokkok_62_an_agents_request_needs_proof_of_authority_on_the_command_line(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]) -> None:
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{smtp[1].host}:{smtp[1].port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--database-url", db_url, "--pack", "kokkok"]
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.open(home / "keys"))
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"))
    got = runner.invoke(app, ["request", "submit", "alice", "access", "--email", AGENT, "--agent", *opts])
    assert got.exit_code == 0, got.output
    ref = got.stdout.split()[1].rstrip(":")
    assert smtp[0].to(AGENT) == []  # no code: a code proves an address, not a mandate
    by_code = runner.invoke(app, ["request", "verify", ref, "123456", *opts])
    assert by_code.exit_code == 1 and "verified by staff" in by_code.stderr
    fulfil = runner.invoke(app, ["request", "fulfil", ref, "-o", str(tmp_path / "x.zip"), *opts])
    assert fulfil.exit_code == 1 and not (tmp_path / "x.zip").exists()
    staff = ["request", "verify-staff", ref, "--method", "supporting_documents", "--reference", "file 88",
             "--mismatch-reason", "the agent's own address", *opts]
    without = runner.invoke(app, staff)
    assert without.exit_code == 1 and "authority" in without.stderr and "KOKKOK-62" in without.stderr
    assert _verified_events(eng) == []
    done = runner.invoke(app, [*staff, "--authority", "signed permission, file 88/2"])
    assert done.exit_code == 0, done.output
    (event,) = _verified_events(eng)
    assert event["authority_reference"] == "signed permission, file 88/2"
    out = runner.invoke(app, ["request", "fulfil", ref, "-o", str(tmp_path / "x.zip"), *opts])
    assert out.exit_code == 0, out.output


def test_a_pack_that_provides_for_no_agent_refuses_an_agents_request(
        db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    kamoer = RequestService(PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.init(tmp_path / "k")),
                            smtp[1])
    with pytest.raises(BadValueError, match="no requests made by an agent"):
        kamoer.submit("zhang", "access", email=AGENT, agent=True, now=NOW)
    with kamoer.engine.db.connect() as conn:
        assert conn.execute(select(audit_log.c.seq)).first() is None  # nothing recorded


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    yield from make_web("kokkok", db_url, tmp_path, smtp)


def test_kokkok_62_the_api_verifies_an_agents_request_only_with_the_proof_on_record(kokkok: Web) -> None:
    eng = kokkok.ctx.engine()
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"))
    svc = kokkok.ctx.requests()
    ticket = svc.submit("alice", "access", email=AGENT, agent=True)
    staff = kokkok.as_role("privacy_officer")
    body = {"method": "supporting_documents", "reference": "file 88", "mismatch_reason": "the agent's own address"}
    refused = kokkok.client.post(f"/v1/requests/{ticket.ref}/verify", headers=staff, json=body)
    assert refused.status_code == 400 and "authority_reference" in refused.text
    early = kokkok.client.post(f"/v1/requests/{ticket.ref}/fulfil", headers=staff, json={})
    assert early.status_code == 400 and svc.get(ticket.ref)["status"] == "received"
    ok = kokkok.client.post(f"/v1/requests/{ticket.ref}/verify", headers=staff,
                            json={**body, "authority_reference": "power of attorney PA-17"})
    assert ok.status_code == 200, ok.text
    assert svc.get(ticket.ref)["detail"]["authority"] == "power of attorney PA-17"
    done = kokkok.client.post(f"/v1/requests/{ticket.ref}/fulfil", headers=staff, json={})
    assert done.status_code == 200, done.text


def test_kokkok_62_the_console_asks_for_the_proof_of_an_agents_authority(kokkok: Web) -> None:
    import html
    import re

    kokkok.ctx.engine().collect("alice", "personal_customer", ALICE, Facts(channel="online"))
    svc = kokkok.ctx.requests()
    ref = svc.submit("alice", "access", email=AGENT, agent=True).ref
    kokkok.client.cookies.clear()
    signed = kokkok.client.post("/admin/signin", data={"key": kokkok.keys["support_agent"], "next": "/admin"},
                                follow_redirects=False)
    assert signed.status_code == 303
    page = kokkok.client.get(f"/admin/requests/{ref}").text
    assert 'name="authority_reference"' in page
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    form = {"csrf": found.group(1), "method": "supporting_documents", "reference": "file 88",
            "mismatch_reason": "the agent's own address"}
    tried = kokkok.client.post(f"/admin/requests/{ref}/verify", data=form)
    assert "proof of the agent" in html.unescape(tried.text) and svc.get(ref)["status"] == "received"
    done = kokkok.client.post(f"/admin/requests/{ref}/verify", data={**form, "authority_reference": "PA-17"})
    assert f"Request {ref} is verified." in done.text and svc.get(ref)["detail"]["authority"] == "PA-17"
