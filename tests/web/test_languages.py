"""The language a person uses on the pages and the API is the language of every mail about their requests, and is
kept (encrypted) for notices that go to many people (issue 15 item 7). Real SMTP, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

from policykeeper.store import languages as language_store

from .conftest import Web
from .test_api import ZHANG, _bearer, _signup


def _last_subject(web: Web, to: str) -> str:
    return str(make_header(decode_header(str(web.inbox.to(to)[-1]["Subject"]))))


def _subject_id(web: Web, person: str) -> str:
    with web.ctx.db.connect() as conn:
        found = web.ctx.engine()._find(conn, person)
    assert found is not None
    return str(found[0])


def _language_of(web: Web, person: str) -> str | None:
    sid = _subject_id(web, person)
    with web.ctx.db.connect() as conn:
        return language_store.of_subject(conn, web.ctx.keys, sid)


def _api_sign_in(web: Web, language: str) -> str:
    assert web.client.post("/v1/session/code", json={"identifier": "zhang", "email": ZHANG["email"]}).status_code == 202
    got = web.client.post("/v1/session", json={"identifier": "zhang", "code": web.inbox.code_for(ZHANG["email"])},
                          headers={"Accept-Language": language})
    assert got.status_code == 200, got.text
    web.client.cookies.clear()
    return str(got.json()["token"])


def test_a_request_made_through_the_api_is_answered_in_its_accept_language_or_its_language_field(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    token = _api_sign_in(web, "zh-CN,zh;q=0.9")
    assert _language_of(web, "zhang") == "zh-Hans"  # signing in says which language the person reads
    asked = web.client.post("/v1/me/requests", json={"right": "access", "email": ZHANG["email"]},
                            headers={**_bearer(token), "Accept-Language": "zh-CN,zh;q=0.9"})
    assert asked.status_code == 201, asked.text
    ref = asked.json()["ref"]
    extended = web.client.post(f"/v1/requests/{ref}/extend", json={"days": 5, "reason": "供应商需要先答复"},
                               headers=web.as_role("privacy_officer"))
    assert extended.status_code == 200, extended.text
    assert _last_subject(web, ZHANG["email"]) == f"您的隐私请求 {ref} 需要更多时间"
    english = web.client.post("/v1/me/requests", json={"right": "access", "email": ZHANG["email"], "language": "en"},
                              headers={**_bearer(token), "Accept-Language": "zh-CN"})  # the field wins
    assert english.status_code == 201, english.text
    web.client.post(f"/v1/requests/{english.json()['ref']}/refuse", json={"ground": "identity_not_verified"},
                    headers=web.as_role("privacy_officer"))
    assert _last_subject(web, ZHANG["email"]) == f"Your privacy request {english.json()['ref']} was refused"
    bad = web.client.post("/v1/me/requests", json={"right": "access", "email": ZHANG["email"],
                                                   "language": "zh Hans; drop"}, headers=_bearer(token))
    assert bad.status_code == 422 and "language" in bad.text


def test_a_request_made_on_a_chinese_page_is_answered_in_chinese(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    assert web.client.get("/?lang=zh-Hans").status_code == 200  # the switch: remembered in the pk_lang cookie
    assert web.client.post("/signin", data={"identifier": "zhang", "email": ZHANG["email"]}).status_code == 200
    assert _last_subject(web, ZHANG["email"]) == "您的登录验证码"  # the sign-in code in the page's language
    opened = web.client.post("/signin/code", data={"identifier": "zhang", "code": web.inbox.code_for(ZHANG["email"])})
    assert opened.status_code == 200 and opened.url.path == "/me"
    assert _language_of(web, "zhang") == "zh-Hans"
    page = web.client.get("/me/requests").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{32})"', page)
    assert csrf
    sent = web.client.post("/me/requests", data={"right": "access", "email": ZHANG["email"], "csrf": csrf.group(1)})
    assert sent.status_code == 200
    (ref,) = [r["ref"] for r in web.ctx.requests().requests_of_subject(_subject_id(web, "zhang"))]
    web.ctx.requests().refuse(ref, "identity_not_verified")  # staff, in whatever language they work
    assert _last_subject(web, ZHANG["email"]) == f"您的隐私请求 {ref} 被拒绝"
    body = web.inbox.to(ZHANG["email"])[-1].get_payload(decode=True)
    assert isinstance(body, bytes) and "我们无法核实您的身份" in body.decode()
