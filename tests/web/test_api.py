"""The REST API: sign-in by emailed code, a person's own data and requests, the staff side by role, and one error
shape for everything that goes wrong."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from policykeeper import load_pack
from policykeeper.notify import SmtpMailer
from policykeeper.store._schema import audit_log, lifecycle_events, web_sessions

from ..conftest import Inbox
from .conftest import Web, make_web

ZHANG = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper", "password": "Coral#2025!"}
LI = {"phone": "+86 139 0000 2222", "email": "li@example.cn", "username": "li-reef", "password": "Tang#2025!"}


def _signup(web: Web, person: str, values: dict[str, str]) -> None:
    got = web.client.post("/v1/collect", json={"person": person, "context": "registration", "values": values},
                          headers=web.as_role("service"))
    assert got.status_code == 200, got.text
    assert got.json()["allowed"] and got.json()["records"] == len(values)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(resp: object) -> dict[str, object]:
    body = resp.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and {"code", "message", "where"} <= set(body["error"]), body
    return dict(body["error"])


def test_health_policy_and_openapi_are_public(web: Web) -> None:
    assert web.client.get("/v1/health").json()["pack"] == "kamoer"
    policy = web.client.get("/v1/policy").json()
    assert policy["version"] == "2022-12-19" and len(policy["promises"]) == 78
    spec = web.client.get("/v1/openapi.json").json()
    assert spec["info"]["title"] == "policykeeper" and "/v1/me" in spec["paths"]


def test_a_person_signs_in_with_an_emailed_code_and_sees_what_is_held_and_why(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    token = web.sign_in("zhang", "zhang@example.cn")
    me = web.client.get("/v1/me", headers=_bearer(token)).json()
    held = {v["category"]: v for v in me["values"]}
    assert held["email"]["value"] == "zhang@example.cn" and "account_registration" in held["email"]["purposes"]
    assert me["consents"].get("policy") == "given" or "policy" in me["consents"]
    # the cookie works too, for the browser
    web.client.post("/v1/session/code", json={"identifier": "zhang", "email": "zhang@example.cn"})
    web.client.post("/v1/session", json={"identifier": "zhang", "code": web.inbox.code_for("zhang@example.cn")})
    assert web.client.get("/v1/me").status_code == 200
    assert web.client.delete("/v1/session").status_code == 204
    assert web.client.get("/v1/me").status_code == 401


def test_a_code_goes_only_to_an_address_held_for_the_person_and_the_answer_is_the_same(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    for body in ({"identifier": "zhang", "email": "attacker@example.com"},
                 {"identifier": "nobody", "email": "nobody@example.com"}):
        got = web.client.post("/v1/session/code", json=body)
        assert got.status_code == 202 and got.json()["message"].startswith("if that address is on record")
    assert web.inbox.messages == []
    wrong = web.client.post("/v1/session", json={"identifier": "zhang", "code": "123456"})
    assert wrong.status_code == 401 and _error(wrong)["code"] == "not_signed_in"


def test_kokkok_26_identity_is_verified_at_every_login(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    gen: Iterator[Web] = make_web("kokkok", db_url, tmp_path, smtp)
    web = next(gen)
    try:
        alice = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c",
                 "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
        got = web.client.post("/v1/collect", json={"person": "alice", "context": "personal_customer", "values": alice,
                                                   "facts": {"channel": "online"}}, headers=web.as_role("service"))
        assert got.status_code == 200, got.text
        first = web.sign_in("alice", "alice@example.com")
        code = web.inbox.code_for("alice@example.com")
        again = web.client.post("/v1/session", json={"identifier": "alice", "code": code})
        assert again.status_code == 401  # a code opens one session only: every login needs a fresh one
        # a session ends: signing in again needs a new code sent to the address on record
        with web.ctx.db.begin() as conn:
            conn.execute(update(web_sessions).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        assert web.client.get("/v1/me", headers=_bearer(first)).status_code == 401
        second = web.sign_in("alice", "alice@example.com")
        assert second != first and web.client.get("/v1/me", headers=_bearer(second)).status_code == 200
        # five wrong tries spend the code
        web.client.post("/v1/session/code", json={"identifier": "alice", "email": "alice@example.com"})
        good = web.inbox.code_for("alice@example.com")
        bad = "000000" if good != "000000" else "111111"
        answers = [web.client.post("/v1/session", json={"identifier": "alice", "code": bad}) for _ in range(5)]
        assert all(_error(a)["message"] == _error(answers[0])["message"] for a in answers)  # nothing to tell apart
        assert web.client.post("/v1/session", json={"identifier": "alice", "code": good}).status_code == 401
        with web.ctx.db.connect() as conn:
            logins = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "session")).scalars().all()
        assert [d["by"] for d in logins] == ["email_code", "email_code"]
    finally:
        gen.close()


@pytest.mark.parametrize("every_login", [True, False])
def test_with_every_login_a_sign_in_ends_the_earlier_sessions(
    every_login: bool, db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    pack = load_pack("kokkok")
    handling = pack.requests
    assert not isinstance(handling, str) and not isinstance(handling.verification, str)
    assert handling.verification.every_login is True and "KOKKOK-26" in handling.verification.promises
    verification = handling.verification.model_copy(update={"every_login": every_login})
    pack = pack.model_copy(update={"requests": handling.model_copy(update={"verification": verification})})
    gen: Iterator[Web] = make_web(pack, db_url, tmp_path, smtp)
    web = next(gen)
    try:
        alice = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c",
                 "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
        got = web.client.post("/v1/collect", json={"person": "alice", "context": "personal_customer", "values": alice,
                                                   "facts": {"channel": "online"}}, headers=web.as_role("service"))
        assert got.status_code == 200, got.text
        first = web.sign_in("alice", "alice@example.com")
        second = web.sign_in("alice", "alice@example.com")
        assert web.client.get("/v1/me", headers=_bearer(second)).status_code == 200
        assert web.client.get("/v1/me", headers=_bearer(first)).status_code == (401 if every_login else 200)
    finally:
        gen.close()


def test_kamoer_50_self_service_pages_show_and_edit_the_profile_and_close_the_account(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    token = web.sign_in("zhang", "zhang@example.cn")
    me = web.client.get("/v1/me", headers=_bearer(token)).json()
    assert {v["category"] for v in me["values"]} == {"phone", "email", "username", "password"}
    changed = web.client.patch("/v1/me/profile", json={"category": "password", "value": "N3w#Password"},
                               headers=_bearer(token))
    assert changed.status_code == 200 and changed.json()["replaced"] == 1  # change the password
    locked = web.client.patch("/v1/me/profile", json={"category": "username", "value": "someone-else"},
                              headers=_bearer(token))
    assert locked.status_code == 403 and _error(locked)["where"] == "category"  # fixed at registration
    values = {v["category"]: v["value"] for v in web.client.get("/v1/me", headers=_bearer(token)).json()["values"]}
    assert values["password"] == "N3w#Password" and values["username"] == "reefkeeper"
    closed = web.client.post("/v1/me/close", headers=_bearer(token))
    assert closed.status_code == 200
    assert web.client.get("/v1/me", headers=_bearer(token)).status_code == 401  # signed out
    with web.ctx.db.connect() as conn:
        assert conn.execute(select(lifecycle_events.c.kind)).scalars().all() == ["account_cancelled"]


def test_an_access_request_from_submission_to_download(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    token = web.sign_in("zhang", "zhang@example.cn")
    ticket = web.client.post("/v1/me/requests", json={"right": "access", "email": "zhang@example.cn"},
                             headers=_bearer(token))
    assert ticket.status_code == 201, ticket.text
    ref = ticket.json()["ref"]
    # the session proves who they are: confirmed at once, no second code
    assert ticket.json()["status"] == "verified" and len(web.inbox.to("zhang@example.cn")) == 1  # the sign-in code
    not_yet = web.client.get(f"/v1/me/requests/{ref}/export", headers=_bearer(token))
    assert not_yet.status_code == 400 and "fulfilled" in str(_error(not_yet)["message"])
    queue = web.client.get("/v1/requests", headers=web.as_role("support_agent")).json()
    assert [q["ref"] for q in queue] == [ref] and queue[0]["state"] in ("on_time", "due_soon", "no_date")
    assert web.client.post(f"/v1/requests/{ref}/fulfil", json={}, headers=web.as_role("support_agent")).status_code == 403
    done = web.client.post(f"/v1/requests/{ref}/fulfil", json={}, headers=web.as_role("privacy_officer"))
    assert done.status_code == 200 and done.json()["status"] == "fulfilled"
    export = web.client.get(f"/v1/me/requests/{ref}/export", headers=_bearer(token))
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(export.content)) as zf:
        doc = json.loads(zf.read("data.json"))
    assert {v["category"] for v in doc["values"]} == {"phone", "email", "username", "password"}
    mine = web.client.get("/v1/me/requests", headers=_bearer(token)).json()
    assert [(r["ref"], r["status"]) for r in mine] == [(ref, "fulfilled")]


def test_a_person_can_never_reach_someone_elses_data_or_requests(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    zhang, li = web.sign_in("zhang", "zhang@example.cn"), web.sign_in("li", "li@example.cn")
    ref = web.client.post("/v1/me/requests", json={"right": "access", "email": "li@example.cn"},
                          headers=_bearer(li)).json()["ref"]
    li_code = web.inbox.code_for("li@example.cn")
    web.client.post(f"/v1/me/requests/{ref}/verify", json={"code": li_code}, headers=_bearer(li))
    web.client.post(f"/v1/requests/{ref}/fulfil", json={}, headers=web.as_role("privacy_officer"))
    attempts = [
        web.client.get(f"/v1/me/requests/{ref}", headers=_bearer(zhang)),
        web.client.get(f"/v1/me/requests/{ref}/export", headers=_bearer(zhang)),
        web.client.post(f"/v1/me/requests/{ref}/verify", json={"code": li_code}, headers=_bearer(zhang)),
    ]
    assert [a.status_code for a in attempts] == [404, 404, 404]
    me = web.client.get("/v1/me", headers=_bearer(zhang)).json()
    assert "li@example.cn" not in json.dumps(me) and web.client.get("/v1/me/requests", headers=_bearer(zhang)).json() == []
    # a request for someone else's address sends them nothing and gives no code to the asker
    before = len(web.inbox.messages)
    web.client.post("/v1/me/requests", json={"right": "access", "email": "li@example.cn"}, headers=_bearer(zhang))
    assert len(web.inbox.messages) == before
    # a person's session opens no staff door, and a forged token opens nothing
    assert web.client.get("/v1/requests", headers=_bearer(zhang)).status_code == 401
    assert web.client.post("/v1/read", json={"person": "li", "purpose": "account_registration",
                                             "categories": ["email"]}, headers=_bearer(zhang)).status_code == 401
    for forged in ("pks_" + "A" * 43, zhang[:-2] + "xx", "pkk_0123456789abcdef_secret", "Bearer", ""):
        assert web.client.get("/v1/me", headers=_bearer(forged)).status_code == 401


@pytest.mark.parametrize(("role", "method", "path", "body"), [
    ("auditor", "post", "/v1/collect", {"person": "x", "context": "registration", "values": {"email": "a@b.c"}}),
    ("support_agent", "post", "/v1/read", {"person": "zhang", "purpose": "account_registration", "categories": ["email"]}),
    ("service", "get", "/v1/requests", None),
    ("service", "get", "/v1/audit/verify", None),
    ("privacy_officer", "post", "/v1/keys", {"name": "x", "role": "admin"}),
    ("auditor", "post", "/v1/requests/0123abcd/refuse", {"ground": "excessive"}),
])
def test_each_role_gets_only_its_own_permissions(web: Web, role: str, method: str, path: str,
                                                 body: dict[str, object] | None) -> None:
    got = getattr(web.client, method)(path, headers=web.as_role(role), **({"json": body} if body else {}))
    assert got.status_code == 403 and _error(got)["code"] == "forbidden" and role in str(_error(got)["message"])


def test_keys_are_shown_once_listed_without_secrets_and_revoked(web: Web) -> None:
    made = web.client.post("/v1/keys", json={"name": "ops laptop", "role": "auditor"}, headers=web.as_role("admin"))
    key = made.json()["key"]
    assert made.status_code == 201 and web.client.get("/v1/audit/verify", headers=_bearer(key)).json()["audit"]["ok"]
    listed = web.client.get("/v1/keys", headers=web.as_role("admin")).json()
    assert key.split("_", 2)[2] not in json.dumps(listed)
    key_id = key.split("_", 2)[1]
    assert web.client.delete(f"/v1/keys/{key_id}", headers=web.as_role("admin")).status_code == 204
    assert web.client.get("/v1/audit/verify", headers=_bearer(key)).status_code == 401


def test_the_engine_answers_denials_with_the_promises_behind_them(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    denied = web.client.post("/v1/collect", json={"person": "zhang", "context": "registration",
                                                  "values": {"horoscope": "leo"}}, headers=web.as_role("service"))
    assert denied.status_code in (400, 403)
    read = web.client.post("/v1/read", json={"person": "zhang", "purpose": "account_registration",
                                             "categories": ["email"]}, headers=web.as_role("service"))
    assert read.status_code == 200 and read.json()["values"] == {"email": ["zhang@example.cn"]}


def test_one_error_shape_for_bad_input_of_every_kind(web: Web) -> None:
    unknown_field = web.client.post("/v1/session/code", json={"identifier": "x", "email": "a@b.c", "extra": 1})
    assert unknown_field.status_code == 422 and _error(unknown_field)["where"] == "body.extra"
    broken = web.client.post("/v1/session/code", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and _error(broken)["code"] == "invalid"
    huge = web.client.post("/v1/session/code", content=b"x" * 70_000, headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and _error(huge)["code"] == "too_large"
    assert _error(web.client.get("/v1/nothing-here"))["code"] == "not_found"
    assert web.client.put("/v1/health").status_code == 405
    bad_ref = web.client.get("/v1/me/requests/NOT-A-REF", headers=web.as_role("admin"))
    assert bad_ref.status_code in (401, 422)
    no_key = web.client.get("/v1/requests")
    assert no_key.status_code == 401 and _error(no_key)["code"] == "not_signed_in"


def test_too_many_codes_for_one_person_are_refused(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    answers = [web.client.post("/v1/session/code", json={"identifier": "zhang", "email": "zhang@example.cn"})
               for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    assert _error(answers[-1])["code"] == "too_many_attempts" and len(web.inbox.to("zhang@example.cn")) == 5
