"""The console in the person's language and in the reader's: staff verifying a request keep the language the person
made it in for the notices sent to many people, and every problem a Chinese console page shows (a refused step, a
notice or a version the library refuses, a missing permission, a broken audit chain) is a Chinese sentence (issue 15
item 7). Test client and real Chromium; both databases."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from policykeeper.incidents import notify_affected, record_incident
from policykeeper.notify import RoutedTransport, SmtpMailer, deliver
from policykeeper.pack import bundled_pack_path
from policykeeper.store import languages as language_store
from policykeeper.store._schema import audit_log

from ..conftest import Inbox
from .conftest import DESKTOP, ENGLISH_LEFT_JS, Web, axe, make_web, shot
from .test_admin import _console, _csrf
from .test_api import LI, ZHANG, _signup
from .test_console import _incident, _kamoer_v2, _sign_in, _tomorrow

NOW = dt.datetime.now(dt.UTC)
NOTICE = {"what_happened": "An attacker read the address table.", "possible_impact": "Phishing mails.",
          "measures": "We closed the hole.", "advice": "Ignore mails asking for your password.",
          "remedies": "Write to privacy@kamoer.example."}


def _language(web: Web, subject_id: str) -> str | None:
    eng = web.ctx.engine()
    with eng.db.connect() as conn:
        return language_store.of_subject(conn, eng.keys, subject_id)


def test_staff_verifying_a_request_keep_the_language_the_person_asked_in_for_later_notices(web: Web) -> None:
    """Li asks in Chinese without signing in; a support agent checks who it is in the console. The request is now
    proven, as by its code: the notices sent to many people (here a breach notice) are written to Li in Chinese."""
    _signup(web, "li", LI)
    ref = web.ctx.requests().submit("li", "access", email=LI["email"], language="zh-Hans").ref
    sid = str(web.ctx.requests().get(ref)["subject_id"])
    assert _language(web, sid) is None  # an unproven request chooses nothing for the person
    _console(web, "support_agent")
    page = web.client.get(f"/admin/requests/{ref}").text
    done = web.client.post(f"/admin/requests/{ref}/verify", data={"csrf": _csrf(page), "method": "identity_proof",
                                                                  "reference": "ticket 77"})
    assert done.status_code == 200 and web.ctx.requests().get(ref)["status"] == "verified"
    assert _language(web, sid) == "zh-Hans"
    eng = web.ctx.engine()
    iid = record_incident(eng, started_at=NOW - dt.timedelta(days=2), ended_at=None,
                          systems=["mall"], categories=["email"], reference="INC-77", harm_to_subjects=False)
    assert notify_affected(eng, iid, **NOTICE).queued >= 1
    deliver(eng.db, eng.keys, RoutedTransport(web.ctx.mailer))
    mail = web.inbox.to(LI["email"])[-1]
    assert str(make_header(decode_header(str(mail["Subject"])))) == "安全事件通知（INC-77）"


def test_every_problem_a_chinese_console_page_shows_is_in_chinese(web: Web, live: str, axe_page: Any,
                                                                   tmp_path: Path) -> None:
    """The refusals staff meet on the incidents and versions pages (a notice missing what the policy requires, an
    incident closed too early, a broken pack file, a version already published), a page or a form their role or
    session may not use, and a broken audit chain: each in Chinese, with no English left (issue 15 item 7)."""
    page = axe_page
    _signup(web, "zhang", ZHANG)
    iid = _incident(web)
    page.set_viewport_size(DESKTOP)
    found: dict[str, list[str]] = {}

    def check(where: str, expected: str) -> None:
        assert expected in page.locator("main").inner_text(), where
        left = page.evaluate(ENGLISH_LEFT_JS)
        if left:
            found[where] = left
        assert axe(page, least="serious") == [], where

    _sign_in(page, live, web.keys["privacy_officer"], "zh-Hans")
    page.goto(f"{live}/admin/incidents")
    section = page.locator(f"section[aria-labelledby='incident-{iid}']")
    section.locator("summary").click()
    page.evaluate("document.querySelectorAll('textarea[required]').forEach(e => e.removeAttribute('required'))")
    section.locator("form[action$='/notify/preview'] button").click()
    page.wait_for_url("**/notify/preview")
    check("a notice missing what the policy requires", "通知必须写明“发生了什么”")
    page.goto(f"{live}/admin/incidents")
    section = page.locator(f"section[aria-labelledby='incident-{iid}']")
    section.locator("summary").click()
    section.locator(f"#close-{iid}").check()
    section.locator("form[action$='/close'] button").click()
    page.wait_for_load_state()
    check("closing before every step is on record", f"事件 {iid} 还不能关闭：以下步骤尚无记录：")
    broken = tmp_path / "next.yaml"
    broken.write_text(_kamoer_v2((("  - {id: logistics,", "  - {id: logistics, colour: blue,"),)), encoding="utf-8")
    same = tmp_path / "same.yaml"
    same.write_text(bundled_pack_path("kamoer").read_text(encoding="utf-8"), encoding="utf-8")
    for upload, expected in ((broken, "不符合政策包的格式"), (same, "已经发布")):
        page.goto(f"{live}/admin/versions")
        page.locator("#pack-file").set_input_files(str(upload))
        page.locator("form[action='/admin/versions/preview'] button").click()
        page.wait_for_url("**/versions/preview")
        check(f"the versions page refusing {upload.name}", expected)
        if upload is broken:
            page.locator("#problems").scroll_into_view_if_needed()
            shot(page, "console-zh-version-refused-desktop")
    page.goto(f"{live}/admin/incidents")  # a form whose session token is wrong
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.value = 'stale')")
    section = page.locator(f"section[aria-labelledby='incident-{iid}']")
    section.locator("summary").click()
    section.locator(f"#step-ref-{iid}").fill("SEC-1")
    section.locator("form[action$='/step'] button").click()
    page.wait_for_load_state()
    check("a stale form", "此表单")
    with web.ctx.db.begin() as conn:
        first = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq).limit(1)).scalar_one()
        conn.execute(update(audit_log).where(audit_log.c.seq == first).values(actor="someone-else"))
    page.goto(f"{live}/admin/audit")
    check("a broken audit chain", "它被修改过")
    page.context.clear_cookies()
    _sign_in(page, live, web.keys["support_agent"], "zh-Hans")
    page.goto(f"{live}/admin/incidents")
    check("a page the role may not open", "incidents:read")
    assert not found, "\n".join(f"{where}: {left}" for where, left in found.items())


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    yield from make_web("kokkok", db_url, tmp_path, smtp)


def test_a_version_sooner_than_the_promised_notice_is_refused_in_chinese_with_the_day_in_words(kokkok: Web) -> None:
    from ..versions.test_versions import KOKKOK_V2

    web = kokkok
    text = bundled_pack_path("kokkok").read_text(encoding="utf-8")
    for old, new in KOKKOK_V2:
        text = text.replace(old, new, 1)
    _console(web, "privacy_officer")
    page = web.client.get("/admin/versions?lang=zh-Hans").text
    got = web.client.post("/admin/versions/preview?lang=zh-Hans", data={"csrf": _csrf(page), "effective": _tomorrow()},
                          files={"pack_file": ("kokkok-next.yaml", text.encode(), "application/yaml")})
    assert got.status_code == 422
    problems = got.text.split('id="problems"', 1)[1].split("</div>", 1)[0]
    assert "必须在版本生效前至少 7 " in problems, problems
    assert re.search(r"最早为 \d{4}年\d{1,2}月\d{1,2}日", problems), problems
    assert not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{2,}", re.sub(r"<[^>]+>", "", problems)), problems


def test_staff_verifying_an_address_not_on_record_are_told_why_in_chinese(web: Web) -> None:
    """Li signs in and asks with an address not held for Li: on a Chinese console page, verifying without saying
    why says so in Chinese (from the check's kind), and a missing evidence reference too; nothing is verified."""
    _signup(web, "li", LI)
    token = web.sign_in("li", LI["email"])
    made = web.client.post("/v1/me/requests", json={"right": "access", "email": "someone@else.example"},
                           headers={"Authorization": f"Bearer {token}"})
    ref = str(made.json()["ref"])
    web.client.cookies.clear()
    _console(web, "support_agent")
    page = web.client.get(f"/admin/requests/{ref}?lang=zh-Hans").text
    for data, said in (({"reference": "ticket 9"}, "请求中的地址与为此人保存的地址不符"),
                       ({"reference": " ", "mismatch_reason": "confirmed by phone"}, "请填写另行保存的证据的编号")):
        got = web.client.post(f"/admin/requests/{ref}/verify?lang=zh-Hans",
                              data={"csrf": _csrf(page), "method": "identity_proof", **data})
        alert = got.text.split('role="alert"', 1)[1].split("</", 1)[0]
        assert said in alert and not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{2,}", alert), alert
        assert web.ctx.requests().get(ref)["status"] == "received"
