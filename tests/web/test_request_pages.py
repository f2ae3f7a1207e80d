"""The request pages in real Chromium, at desktop width and on a 390 px phone, in Simplified Chinese: the privacy
center's request form, the console's queue (filters, search, pages, CSV) and a request's page (what was asked, values
hidden until shown, the timeline), the confirming step before an erasure, with axe-core's check and the keyboard."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from policykeeper.notify import SmtpMailer
from policykeeper.pack import FixedDuration
from policykeeper.requests import RequestContent
from policykeeper.store import audit_log

from ..conftest import Inbox
from .conftest import DESKTOP, ENGLISH_LEFT_JS, PHONE, Web, axe, make_web, open_page, serve, shot

ALICE = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def shop(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    """KOKKOK with a 30-day deadline; a dozen people and their requests: overdue, due soon, on time, closed."""
    for web in make_web("kokkok", db_url, tmp_path, smtp):
        web.ctx.deadlines = {"per_applicable_law": FixedDuration(value=30, unit="calendar_days")}
        eng, svc = web.ctx.engine(), web.ctx.requests()
        from policykeeper.engine import Facts

        now = dt.datetime.now(dt.UTC)
        for i in range(30):
            who = f"p{i:02d}"
            eng.collect(who, "personal_customer", {**ALICE, "name": f"Person {i}", "uuid": f"u-{i}",
                                                    "email": f"{who}@example.com"}, Facts(channel="online"))
            right = ("access", "delete", "correct", "restrict")[i % 4]
            said = RequestContent(note="", category="phone", value="+856 20 0000 0000") if right == "correct" \
                else RequestContent()
            with eng.db.connect() as conn:
                sid = str(eng.subject_id_of(conn, who))
            t = svc.submit_for_subject(sid, right, email=f"{who}@example.com", signed_in=dt.datetime.now(dt.UTC), content=said,
                                       now=now - dt.timedelta(days=(i * 37) % 45))
            if i % 7 == 3:
                svc.refuse(t.ref, "identity_not_verified")
        yield web


@pytest.fixture
def shop_live(shop: Web) -> Iterator[str]:
    yield from serve(shop)


def _open(chromium: Any, live: str, viewport: str) -> Any:
    return open_page(chromium, viewport=VIEWPORTS[viewport], locale="zh-CN", bypass_csp=True)  # axe is injected


def _staff(page: Any, live: str, key: str, path: str) -> None:
    page.goto(f"{live}/admin/signin?next={path}&lang=zh-Hans")
    page.locator("#key").fill(key)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}{path}*")


def _english_shot(page: Any, url: str, name: str, viewport: str) -> None:
    """The same page in English, as a viewport screenshot for the docs (the test machine may lack Chinese fonts)."""
    page.goto(url + ("&" if "?" in url else "?") + "lang=en")
    shot(page, f"{name}-en-{viewport}")
    page.goto(url + ("&" if "?" in url else "?") + "lang=zh-Hans")


def _check(page: Any, viewport: str, name: str) -> None:
    """No English left, no horizontal scroll on a phone, nothing serious for axe; a viewport screenshot."""
    assert page.evaluate(ENGLISH_LEFT_JS) == [], name
    if viewport == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    assert axe(page, least="serious") == [], name
    shot(page, f"{name}-{viewport}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_queue_and_a_request_page_in_chinese_on_desktop_and_phone(
        shop: Web, shop_live: str, chromium: Any, viewport: str) -> None:
    page = _open(chromium, shop_live, viewport)
    try:
        _staff(page, shop_live, shop.keys["privacy_officer"], "/admin/requests")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        rows = page.locator("table.pk-queue tbody tr")
        assert rows.count() == 25 and "共 30 条请求" in page.locator("#queue-count").inner_text()
        assert "逾期" in rows.first.inner_text()  # overdue first
        _check(page, viewport, "admin-requests")
        _english_shot(page, f"{shop_live}/admin/requests", "admin-requests", viewport)
        # filters by keyboard: overdue only
        page.locator("#q-state").select_option("overdue")
        page.get_by_role("button", name="显示", exact=True).press("Enter")
        page.wait_for_url("**state=overdue**")
        overdue = page.locator("table.pk-queue tbody tr")
        assert overdue.count() >= 1 and all("逾期" in overdue.nth(i).inner_text() for i in range(overdue.count()))
        # a correction request: what was asked, the values hidden until shown, the timeline
        svc = shop.ctx.requests()
        ref = next(r["ref"] for r in svc.queue().items if r["right"] == "correct" and r["state"] == "overdue")
        officer = "key:" + shop.keys["privacy_officer"].split("_")[1]
        svc.extend(ref, 10, reason="the branch keeps older records on paper", actor=officer)
        svc.add_note(ref, "Called the branch: the paper file arrives on Monday.", actor=officer)
        page.goto(f"{shop_live}/admin/requests/{ref}")
        steps = page.locator(".pk-timeline").inner_text()
        assert "延长时已逾期" in steps and "test privacy_officer" in steps and "the paper file arrives" in steps
        assert page.locator("#asked-value").inner_text() == "+856 20 0000 0000"
        assert "+856 20 5555 0101" not in page.content()
        page.get_by_role("button", name="显示Contact Number (Phone number)").click()
        assert page.locator('[data-revealed="phone"]').inner_text() == "+856 20 5555 0101"
        assert "已查看个人数据" in page.locator(".pk-timeline").inner_text()
        _check(page, viewport, "admin-request")
        page.context.set_default_timeout(15_000)
        page.goto(f"{shop_live}/admin/requests/{ref}?lang=en")
        page.get_by_role("button", name="Show Contact Number (Phone number)").click()
        page.wait_for_load_state("load")
        page.evaluate("document.getElementById('asked').scrollIntoView()")
        page.wait_for_timeout(300)
        shot(page, f"admin-request-en-{viewport}")
        page.locator("#timeline").scroll_into_view_if_needed()
        shot(page, f"admin-request-timeline-en-{viewport}")
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_person_asks_for_a_correction_with_a_note_in_chinese_and_needs_no_code(
        shop: Web, shop_live: str, chromium: Any, viewport: str) -> None:
    token = shop.sign_in("p01", "p01@example.com")
    mails = len(shop.inbox.messages)
    page = _open(chromium, shop_live, viewport)
    try:
        page.context.add_cookies([{"name": "pk_session", "value": token, "url": shop_live}])
        page.goto(f"{shop_live}/me/requests?lang=zh-Hans")
        _check(page, viewport, "center-requests")
        page.locator("#right").select_option("correct")
        page.locator("#req-category").select_option("phone")
        page.locator("#req-value").fill("+856 20 7777 8888")
        page.locator("#req-note").fill("换了新号码")
        page.locator("#req-note").focus()
        page.keyboard.press("Tab")
        page.get_by_role("button", name="发送请求").click()
        status = page.get_by_role("status")
        status.wait_for()
        assert "已收到并确认" in status.inner_text()
        assert len(shop.inbox.messages) == mails  # no second code
        _check(page, viewport, "center-requests-sent")
        _english_shot(page, f"{shop_live}/me/requests", "center-requests", viewport)
    finally:
        page.context.close()
    mine = [r for r in shop.ctx.requests().queue().items if r["right"] == "correct" and r["requester"].startswith("p")]
    ref = next(r["ref"] for r in sorted(mine, key=lambda r: r["received_at"], reverse=True))
    assert shop.ctx.requests().content_of(ref) == RequestContent("换了新号码", "phone", "+856 20 7777 8888")


def test_the_code_page_in_chinese(shop: Web, shop_live: str, chromium: Any) -> None:
    token = shop.sign_in("p02", "p02@example.com")
    ref = shop.ctx.requests().submit("p02", "access", email="p02@example.com").ref  # not signed in: the code path
    for viewport in VIEWPORTS:
        page = _open(chromium, shop_live, viewport)
        try:
            page.context.add_cookies([{"name": "pk_session", "value": token, "url": shop_live}])
            page.goto(f"{shop_live}/me/requests/{ref}/verify?lang=zh-Hans")
            assert page.get_by_label(f"关于请求 {ref} 的邮件中的六位验证码").is_visible()
            _check(page, viewport, "center-request-verify")
        finally:
            page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_one_click_erases_nothing_the_confirming_step_does(shop: Web, shop_live: str, chromium: Any,
                                                            viewport: str) -> None:
    """The confirming page at desktop width and on a phone: no English left, no sideways scroll, nothing serious for
    axe; the box ticked and the button pressed with the keyboard."""
    svc = shop.ctx.requests()
    ref = next(r["ref"] for r in svc.queue().items if r["right"] == "delete")
    page = _open(chromium, shop_live, viewport)
    try:
        _staff(page, shop_live, shop.keys["privacy_officer"], f"/admin/requests/{ref}")
        page.get_by_role("button", name="删除本人的数据…").click()
        page.wait_for_url(f"**/admin/requests/{ref}/fulfil")
        assert "无法撤销" in page.content() and svc.get(ref)["status"] != "fulfilled"
        _check(page, viewport=viewport, name="admin-request-confirm")
        page.get_by_role("button", name="立即删除").click()  # the box is not ticked: the browser stops it
        assert svc.get(ref)["status"] != "fulfilled"
        page.get_by_label("我明白此操作无法撤销").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="立即删除").press("Enter")
        page.get_by_role("status").wait_for()
        assert svc.get(ref)["status"] == "fulfilled"
    finally:
        page.context.close()
    # without the browser's help (no JavaScript, a hand-made form): the server still wants the box
    ref2 = next(r["ref"] for r in svc.queue().items if r["right"] == "delete")
    from .test_admin import _console, _csrf

    _console(shop, "privacy_officer")
    form = _csrf(shop.client.get(f"/admin/requests/{ref2}").text)
    step = shop.client.post(f"/admin/requests/{ref2}/fulfil", data={"csrf": form, "confirm_step": "1"})
    assert "未执行任何操作" in step.text or "Nothing was done" in step.text
    assert svc.get(ref2)["status"] != "fulfilled"


def test_the_csv_export_is_masked_and_safe_in_a_spreadsheet(shop: Web) -> None:
    from policykeeper.web._request_words import csv_cell

    from .test_admin import _console

    assert [csv_cell(v) for v in ("=1+1", "+856", "@SUM(A1)", "\tx", "-3", "-x", 12, None, "ok")] == [
        "'=1+1", "'+856", "'@SUM(A1)", "'\tx", "-3", "'-x", "12", "", "ok"]
    svc = shop.ctx.requests()
    evil = svc.submit("nobody", "access", email="=HYPERLINK(1)@example.com").ref  # a requester's own address
    _console(shop, "support_agent")
    got = shop.client.get("/admin/requests.csv?status=all&sort=received&order=desc")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert len(rows) == 31 and all("@example.com" not in v for r in rows for v in r.values())
    assert next(r for r in rows if r["reference"] == evil)["requester"] == "'=•••@e•••.com"
    assert all(r["requester"].startswith("p•••@e•••") for r in rows if r["reference"] != evil)
    only = list(csv.DictReader(io.StringIO(shop.client.get("/admin/requests.csv?right=delete&status=open").text)))
    assert only and all(r["right"] == "delete" and r["status"] != "refused" for r in only)
    second = shop.client.get("/admin/requests?status=all&page=2").text
    assert second.count('<tr>') - 1 == 6 and "26 to 31 of 31 requests" in second and 'rel="prev"' in second
    assert all(not r[k] or r[k][0] not in "=+@" for r in rows for k in r)
    overdue = next(r for r in rows if r["state"] == "overdue")
    assert int(overdue["days_left"]) < 0  # a plain number stays a number
    with shop.ctx.db.connect() as conn:
        reveals = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")).scalars().all()
    assert not any(d.get("event") == "values_revealed" for d in reveals)  # a CSV reveals nothing
