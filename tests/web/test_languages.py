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
        found = web.ctx.engine().subject_id_of(conn, person)
    assert found is not None
    return found


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


def test_the_librarys_errors_reach_a_chinese_page_in_chinese(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    web.client.get("/?lang=zh-Hans")
    web.client.post("/signin", data={"identifier": "zhang", "email": ZHANG["email"]})
    web.client.post("/signin/code", data={"identifier": "zhang", "code": web.inbox.code_for(ZHANG["email"])})
    ref = web.ctx.requests().submit("zhang", "access", email=ZHANG["email"]).ref  # made elsewhere: it needs a code
    code = web.inbox.code_for(ZHANG["email"])
    page = web.client.get(f"/me/requests/{ref}/verify").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{32})"', page)
    assert csrf
    wrong = web.client.post(f"/me/requests/{ref}/verify", data={"code": "000000" if code != "000000" else "111111",
                                                                "csrf": csrf.group(1)})
    assert "验证码错误；还可尝试 4 次。" in wrong.text and "wrong code" not in wrong.text
    export = web.client.get(f"/me/requests/{ref}/export")  # not done yet
    assert "wrong code" not in export.text and "fulfilled" not in export.text


def test_library_errors_become_plain_sentences_by_their_code() -> None:
    from policykeeper import BadValueError, DeniedError
    from policykeeper.web._i18n import gettext_for
    from policykeeper.web._library_words import problem_words

    zh, en = gettext_for("zh-Hans"), gettext_for("en")
    odd = BadValueError("request abc is received: something only a developer reads")
    assert problem_words(odd, en) == "request abc is received: something only a developer reads"  # precise
    assert problem_words(odd, zh) == "无法按要求完成，未作任何更改：请检查您输入的内容后重试。"
    assert problem_words(BadValueError("the code has expired: ask for a new one"), zh) == "验证码已过期：请重新申请。"
    assert problem_words(BadValueError("the code has expired: ask for a new one"), en) == \
        "the code has expired: ask for a new one"
    assert problem_words(DeniedError("not allowed by purposes.x", None), zh) == "政策不允许此操作；未作任何更改。"
    assert problem_words(ValueError("boom"), zh) == "我们这边出了问题；未作任何更改。"
