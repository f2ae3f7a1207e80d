"""Every privacy center and console page in Chinese, in the states people meet beyond the happy path (errors, empty
lists, each request status, the library's errors, flash messages): no English phrase left outside the pack's own
texts (issue 15 item 7), nothing wider than the screen and nothing serious for axe-core, at desktop width and on a
390x844 phone. Real Chromium; the app on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policykeeper.incidents import record_incident
from policykeeper.notify import SmtpMailer

from ..conftest import Inbox
from .conftest import DESKTOP, ENGLISH_LEFT_JS, NO_SCROLL_JS, PHONE, Web, axe, make_web, serve
from .test_center_profile import signup

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    yield from make_web("kokkok", db_url, tmp_path, smtp)


@pytest.fixture
def live(kokkok: Web) -> Iterator[str]:
    yield from serve(kokkok)


def _left(page: Any, where: str, found: dict[str, list[str]]) -> None:
    """What is wrong with the page as it stands: English left, a sideways scroll, axe-core's serious or critical
    violations (each kept in ``found`` under the page's name)."""
    assert page.evaluate("document.documentElement.lang") == "zh-Hans", where
    left = page.evaluate(ENGLISH_LEFT_JS)
    if left:
        found[where] = left
    if not page.evaluate(NO_SCROLL_JS):
        found[f"{where}: scrolls sideways"] = [str(page.evaluate("document.documentElement.scrollWidth"))]
    violations = axe(page, least="serious")
    if violations:
        found[f"{where}: axe"] = [f"{v['id']} ({v['impact']}): {v['nodes'][:2]}" for v in violations]


def _requests_in_every_state(web: Web) -> dict[str, str]:
    """alice's requests: one waiting for its code, one confirmed, one extended, one refused, one done."""
    svc = web.ctx.requests()
    refs = {}
    for state in ("verified", "extended", "refused", "fulfilled", "received"):
        refs[state] = svc.submit("alice", "access", email="alice@example.com", language="zh-Hans").ref
        code = web.inbox.code_for("alice@example.com")
        if state != "received":
            svc.verify(refs[state], code)
    refs["code"] = code  # the code of the request still waiting for one
    svc.extend(refs["extended"], 7, reason="supplier first")
    svc.refuse(refs["refused"], "identity_not_verified")
    svc.fulfil_access(refs["fulfilled"], None)
    svc.add_note(refs["verified"], "called back", actor="key:test")
    return refs


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_in_chinese_in_its_error_and_empty_states_has_no_english_left(
        kokkok: Web, live: str, axe_page: Any, viewport: dict[str, int]) -> None:
    page = axe_page
    page.set_viewport_size(viewport)
    found: dict[str, list[str]] = {}
    signup(kokkok)
    page.context.add_cookies([{"name": "pk_lang", "value": "zh-Hans", "url": live}])
    # the privacy center before signing in: errors, a page that does not exist, a broken unsubscribe link
    for path in ("/", "/policy", "/signin/code", "/unsubscribe", "/unsubscribe?token=broken", "/nowhere",
                 "/me/requests/0123456789abcdef/verify"):
        page.goto(live + path)
        _left(page, path, found)
    page.goto(live + "/")
    page.locator("#identifier").fill("alice")
    page.locator("#email").fill("not-an-address")
    page.locator("#email").press("Enter")
    _left(page, "/ (a bad address)", found)
    page.goto(live + "/signin/code")
    page.locator("#identifier").fill("alice")
    page.locator("#code").fill("000000")
    page.locator("#code").press("Enter")
    _left(page, "/signin/code (a wrong code)", found)
    # signed in, nothing asked yet: the empty states
    page.goto(live + "/")
    page.locator("#identifier").fill("alice")
    page.locator("#email").fill("alice@example.com")
    page.locator("#email").press("Enter")
    page.wait_for_url("**/signin/code**")
    page.locator("#identifier").fill("alice")
    page.locator("#code").fill(kokkok.inbox.code_for("alice@example.com"))
    page.locator("#code").press("Enter")
    page.wait_for_url("**/me?**")
    _left(page, "/me (signed in)", found)
    for path in ("/me/requests", "/me/consents", "/me/profile"):
        page.goto(live + path)
        _left(page, f"{path} (empty)", found)
    # withdrawing a consent: the flash says what follows, in the pack's words where the pack says it
    page.goto(live + "/me/consents")
    buttons = page.locator("form[action^='/me/consents/'] button")
    if buttons.count():
        buttons.first.click()
        page.wait_for_load_state()
        _left(page, "/me/consents (after a change)", found)
    # a profile change the engine refuses
    page.goto(live + "/me/profile")
    dob = page.locator("input[name='value'][id*='date_of_birth'], #value-date_of_birth")
    if dob.count():
        dob.first.fill("2999-01-01")
        dob.first.press("Enter")
        page.wait_for_load_state()
        _left(page, "/me/profile (a refused value)", found)
    # requests in every state, and the library's errors about them
    refs = _requests_in_every_state(kokkok)
    page.goto(live + "/me/requests")
    _left(page, "/me/requests (every state)", found)
    page.goto(f"{live}/me/requests/{refs['received']}/verify")
    _left(page, "/me/requests/REF/verify", found)
    page.locator("#req-code").fill("000000" if refs.pop("code") != "000000" else "111111")
    page.locator("#req-code").press("Enter")
    page.wait_for_load_state()
    _left(page, "/me/requests/REF/verify (a wrong code)", found)
    page.goto(f"{live}/me/requests/{refs['verified']}/export")
    _left(page, "/me/requests/REF/export (not ready)", found)
    # the console, in Chinese
    page.goto(f"{live}/admin/signin")
    _left(page, "/admin/signin", found)
    page.locator("#key").fill("not-a-key")
    page.locator("#key").press("Enter")
    page.wait_for_load_state()
    _left(page, "/admin/signin (a wrong key)", found)
    incident = record_incident(kokkok.ctx.engine(), started_at=NOW - dt.timedelta(days=2),
                               ended_at=NOW - dt.timedelta(days=1), systems=["web shop"], categories=["email"],
                               reference="INC-1", harm_to_subjects=True, now=NOW)
    del incident
    page.locator("#key").fill(kokkok.keys["admin"])
    page.locator("#key").press("Enter")
    page.wait_for_url(f"{live}/admin")
    for path in ("/admin", "/admin/requests", "/admin/requests?status=closed&q=zzzz", "/admin/incidents",
                 "/admin/versions", "/admin/mailbox", "/admin/audit", "/admin/evidence", "/admin/consents",
                 "/admin/datamap", "/admin/compiler", "/admin/nowhere", "/admin/requests/0000000000"):
        page.goto(live + path)
        _left(page, path, found)
    for state, ref in refs.items():
        page.goto(f"{live}/admin/requests/{ref}")
        _left(page, f"/admin/requests/REF ({state})", found)
    page.goto(f"{live}/admin/requests/{refs['fulfilled']}")
    assert not found, "\n".join(f"{where}: {left}" for where, left in found.items())
