"""Sign-in and self-service that resist abuse: a stranger's ask never cancels someone's code nor locks them out,
step 2 answers the same whatever was guessed, and codes, requests, resends and email changes are limited per person,
per address and per client, in the database (so every server process shares the limits)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from policykeeper.crypto import KeyRing
from policykeeper.notify import SmtpMailer
from policykeeper.store import open_database
from policykeeper.web import WebContext, create_app

from ..conftest import Inbox
from .conftest import Web, make_web

ZHANG = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper", "password": "Coral#2025!"}
LI = {"phone": "+86 139 0000 2222", "email": "li@example.cn", "username": "li-reef", "password": "Tang#2025!"}


def _signup(web: Web, person: str, values: dict[str, str]) -> None:
    got = web.client.post("/v1/collect", json={"person": person, "context": "registration", "values": values},
                          headers=web.as_role("service"))
    assert got.status_code == 200, got.text


def _ask(web: Web, identifier: str, email: str) -> int:
    return web.client.post("/v1/session/code", json={"identifier": identifier, "email": email}).status_code


def _other(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_a_strangers_asks_never_cancel_a_persons_code_nor_lock_them_out(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    assert _ask(web, "zhang", "zhang@example.cn") == 202
    code = web.inbox.code_for("zhang@example.cn")
    for i in range(8):  # a stranger who knows the identifier but not the address
        assert _ask(web, "zhang", f"stranger{i}@example.com") == 202
    assert _ask(web, "zhang", "stranger@example.com") == 202
    opened = web.client.post("/v1/session", json={"identifier": "zhang", "code": code})
    assert opened.status_code == 200, opened.text  # the person's code still works
    assert _ask(web, "zhang", "zhang@example.cn") == 202  # and they can still ask for a new one
    assert len(web.inbox.to("zhang@example.cn")) == 2
    assert all(m["To"] == "zhang@example.cn" for m in web.inbox.messages)


def test_step_two_answers_the_same_whatever_address_was_guessed(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    assert _ask(web, "zhang", "zhang@example.cn") == 202  # the guess is right: a code goes out (to zhang)
    assert _ask(web, "li", "guess@example.com") == 202  # the guess is wrong: nothing goes out
    code = web.inbox.code_for("zhang@example.cn")
    answers = []
    for identifier in ("zhang", "li", "nobody"):
        got = web.client.post("/v1/session", json={"identifier": identifier, "code": _other(code)})
        answers.append((got.status_code, got.json()))
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0][0] == 401 and "attempt" not in answers[0][1]["error"]["message"]


def test_too_many_codes_from_one_client_are_refused_and_every_server_process_sees_it(
    web: Web, db_url: str, tmp_path: Path
) -> None:
    for i in range(30):
        assert _ask(web, f"person{i}", f"p{i}@example.com") == 202
    refused = web.client.post("/v1/session/code", json={"identifier": "zhang", "email": "zhang@example.cn"})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_attempts"
    # a second server process on the same database (its own engine and app) counts the same events
    other = WebContext(db=open_database(db_url), keys=KeyRing.open(tmp_path / "keys"), pack=web.ctx.pack,
                       mailer=web.ctx.mailer)
    try:
        with TestClient(create_app(other)) as client:
            again = client.post("/v1/session/code", json={"identifier": "li", "email": "li@example.cn"})
            assert again.status_code == 429
    finally:
        other.db.dispose()
    with web.ctx.db.connect() as conn:  # only keyed hashes are kept, never an identifier or an address
        kept = " ".join(str(r) for r in conn.execute(text("SELECT scope, key FROM rate_events")))
    assert "person1" not in kept and "example.com" not in kept


def test_too_many_codes_for_one_address_are_refused_whatever_the_identifier(web: Web) -> None:
    answers = [_ask(web, f"someone{i}", "victim@example.com") for i in range(11)]
    assert answers == [202] * 10 + [429]


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    """The Kokkok pack, where a person may change their email address."""
    yield from make_web("kokkok", db_url, tmp_path, smtp)


def test_a_signed_in_person_cannot_make_the_server_mail_an_address_forty_times(kokkok: Web) -> None:
    web = kokkok
    alice = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c",
             "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
    got = web.client.post("/v1/collect", json={"person": "alice", "context": "personal_customer", "values": alice,
                                               "facts": {"channel": "online"}}, headers=web.as_role("service"))
    assert got.status_code == 200, got.text
    token = web.sign_in("alice", "alice@example.com")
    me = {"Authorization": f"Bearer {token}"}
    victim = "victim@example.org"
    changes = [web.client.patch("/v1/me/profile", json={"category": "email", "value": victim}, headers=me)
               for _ in range(6)]
    assert [c.status_code for c in changes] == [200] * 5 + [429], changes[-1].text
    assert all(c.json()["pending"] for c in changes[:5])  # a new address waits for the code sent to it
    assert len(web.inbox.to(victim)) == 5
    answers = [web.client.post("/v1/me/requests", json={"right": "access", "email": victim}, headers=me).status_code
               for _ in range(40)]
    assert answers.count(201) == 10 and answers.count(429) == 30
    assert len(web.inbox.to(victim)) == 5  # never confirmed, so never an address of alice's: no request code goes


def test_resending_a_request_code_is_limited(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    token = web.sign_in("zhang", "zhang@example.cn")
    ref = web.ctx.requests().submit("zhang", "access", email="zhang@example.cn").ref  # not signed in: waits for a code
    web.client.cookies.set("pk_session", token)
    page = web.client.get(f"/me/requests/{ref}/verify")
    import re

    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf, page.text
    before = len(web.inbox.to("zhang@example.cn"))
    for _ in range(8):
        web.client.post(f"/me/requests/{ref}/resend", data={"csrf": csrf.group(1)},
                        headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert len(web.inbox.to("zhang@example.cn")) - before == 5


def test_unexpected_errors_are_logged_without_their_values(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    from policykeeper.store._schema import api_keys

    def broken(app: FastAPI) -> None:
        @app.get("/v1/broken")
        def _broken() -> None:
            with web.ctx.db.begin() as conn:  # a duplicate key: the database refuses it, with the values
                for _ in range(2):
                    conn.execute(api_keys.insert().values(id="dup-key-id", name="n", role="admin",
                                                          secret_hash="SECRET-HASH-VALUE", created_at=_now()))

    with caplog.at_level(logging.DEBUG), TestClient(create_app(web.ctx, extra=broken)) as client:
        got = client.get("/v1/broken")
    assert got.status_code == 500 and got.json()["error"]["code"] == "internal"
    logged = caplog.text
    assert "unexpected IntegrityError on GET /v1/broken" in logged
    assert "SECRET-HASH-VALUE" not in logged and "dup-key-id" not in logged


def _now() -> object:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def test_the_database_engine_never_puts_parameters_in_errors(db_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from policykeeper.store._schema import api_keys

    db = open_database(db_url)
    try:
        with pytest.raises(IntegrityError) as caught, db.begin() as conn:
            for _ in range(2):
                conn.execute(api_keys.insert().values(id="k1", name="n", role="admin",
                                                      secret_hash="SECRET-HASH-VALUE", created_at=_now()))
        assert "SECRET-HASH-VALUE" not in str(caught.value)
    finally:
        db.dispose()




def test_nul_and_lone_surrogates_are_a_422_never_a_500(web: Web) -> None:
    admin, po = web.as_role("admin"), web.as_role("privacy_officer")
    answers = [
        web.client.post("/v1/keys", json={"name": "evil\u0000key", "role": "auditor"}, headers=admin),
        web.client.post("/v1/keys", content=b'{"name": "half \\ud800 pair", "role": "auditor"}', headers={
            **admin, "Content-Type": "application/json"}),
        web.client.post("/v1/incidents", json={"started_at": "2025-01-01T00:00:00Z", "systems": ["db\u0000"],
                                               "reference": "INC-1"}, headers=po),
        web.client.get("/v1/versions/%00/notice", headers=po),
        web.client.get("/v1/requests?due=%00", headers=po),
        web.client.post("/v1/session/code", json={"identifier": "zh\u0000ang", "email": "a@example.com"}),
        web.client.post("/signin", data={"identifier": "zh\u0000ang", "email": "a@example.com"},
                        headers={"Origin": "http://testserver"}),
    ]
    for got in answers:
        assert got.status_code == 422, (got.request.url, got.text)
        assert got.json()["error"]["code"] == "invalid" and "NUL" in got.json()["error"]["message"]
    # an escaped backslash before "u0000" is ordinary text, and goes through
    fine = web.client.post("/v1/keys", content=b'{"name": "back\\\\u0000slash", "role": "auditor"}',
                           headers={**admin, "Content-Type": "application/json"})
    assert fine.status_code == 201, fine.text


def test_a_pack_upload_with_an_alias_bomb_or_deep_nesting_is_refused_fast(web: Web) -> None:
    import time

    po = web.as_role("privacy_officer")
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    for text_ in ("\n".join(lines) + "\n", "a: " + "[" * 50_000 + "]" * 50_000,
                  "id: x\n" + "".join(f"k{i}: 1\n" for i in range(20_000))):
        start = time.monotonic()
        got = web.client.post("/v1/versions", json={"pack_yaml": text_}, headers=po)
        assert time.monotonic() - start < 5
        assert got.status_code == 422 and got.json()["error"]["code"] == "pack_syntax", got.text[:300]


def test_with_the_mail_server_down_asking_a_code_answers_the_same_whether_or_not_the_address_is_held(
    web: Web
) -> None:
    import socket

    from policykeeper.notify import SmtpMailer as Smtp

    _signup(web, "zhang", ZHANG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = s.getsockname()[1]
    web.ctx.mailer = Smtp(host="127.0.0.1", port=down, timeout=2)
    held = web.client.post("/v1/session/code", json={"identifier": "zhang", "email": "zhang@example.cn"})
    not_held = web.client.post("/v1/session/code", json={"identifier": "zhang", "email": "guess@example.cn"})
    assert held.status_code == not_held.status_code == 202 and held.json() == not_held.json()


def test_limit_events_older_than_their_window_are_deleted(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from policykeeper.web import _limits

    then = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    for i in range(5):
        _limits.throttle(web.ctx, [("signin:client", (f"10.0.0.{i}",))], now=then)
    monkeypatch.setattr(_limits.secrets, "randbelow", lambda n: 0)  # this time, sweep the whole scope
    _limits.throttle(web.ctx, [("signin:client", ("10.0.0.99",))])
    with web.ctx.db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rate_events WHERE scope = 'signin:client'")).scalar_one() == 1
