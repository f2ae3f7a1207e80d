"""The privacy center's pages in a real Chromium: in Chinese with no English left, on a 390 px phone with no sideways
scroll, with no serious or critical axe-core violation, and the profile's forms (passwords typed twice into hidden
fields, a new address confirmed by code) used with the keyboard. Screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policykeeper.notify import SmtpMailer

from ..conftest import Inbox
from .conftest import DESKTOP, ENGLISH_LEFT_JS, PHONE, Web, axe, make_web, serve, shot
from .test_center_profile import signup


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    yield from make_web("kokkok", db_url, tmp_path, smtp)


@pytest.fixture
def live(kokkok: Web) -> Iterator[str]:
    yield from serve(kokkok)


def _sign_in(page: Any, live: str, web: Web) -> None:
    page.goto(live + "/")
    page.locator("#identifier").fill("alice")
    page.locator("#email").fill("alice@example.com")
    page.locator("#email").press("Enter")
    page.wait_for_url("**/signin/code**")
    page.locator("#identifier").fill("alice")
    page.locator("#code").fill(web.inbox.code_for("alice@example.com"))
    page.locator("#code").press("Enter")
    page.wait_for_url("**/me?**")


def _check(page: Any, where: str, *, chinese: bool) -> None:
    if chinese:
        assert page.evaluate(ENGLISH_LEFT_JS) == [], where
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{where}: {width} px wide in a {viewport} px window"
    assert axe(page, least="serious") == [], where


CENTER = ("/", "/signin/code", "/unsubscribe")
SIGNED = ("/me", "/me/consents", "/me/profile", "/me/requests/0123456789abcdef/verify")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_center_in_chinese_has_no_english_left_fits_a_phone_and_passes_axe(
        kokkok: Web, live: str, axe_page: Any, size: str) -> None:
    page = axe_page
    signup(kokkok)
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    page.context.add_cookies([{"name": "pk_lang", "value": "zh-Hans", "url": live}])
    for path in CENTER:
        page.goto(live + path)
        assert page.evaluate("document.documentElement.lang") == "zh-Hans"
        _check(page, path, chinese=True)
    _sign_in(page, live, kokkok)
    for path in SIGNED:
        page.goto(live + path)
        _check(page, path, chinese=True)
        if path == "/me/requests/0123456789abcdef/verify":
            assert page.get_by_role("heading", level=1).text_content() == "未找到"
        else:
            shot(page, f"center-zh-{path.strip('/').replace('/', '-')}-{size}")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_center_in_english_fits_and_passes_axe_with_gpc_shown(
        kokkok: Web, live: str, axe_page: Any, size: str) -> None:
    page = axe_page
    signup(kokkok)
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    page.set_extra_http_headers({"Sec-GPC": "1"})
    for path in CENTER:
        page.goto(live + path)
        _check(page, path, chinese=False)
    _sign_in(page, live, kokkok)
    for path in SIGNED:
        page.goto(live + path)
        _check(page, path, chinese=False)
        if path != SIGNED[-1]:
            shot(page, f"center-{path.strip('/').replace('/', '-')}-{size}")
    page.goto(live + "/me/consents")
    assert page.locator("#state-optional_sharing").text_content() == "withdrawn"
    assert page.locator("[data-by-gpc]").first.is_visible()
    assert page.locator("[data-gpc-consents]").is_visible()


def test_the_profile_is_used_with_the_keyboard_passwords_hidden_and_a_new_address_confirmed(
        kokkok: Web, live: str, axe_page: Any) -> None:
    page = axe_page
    from playwright.sync_api import expect

    sid = signup(kokkok)
    page.set_viewport_size(PHONE)
    _sign_in(page, live, kokkok)
    page.goto(live + "/me/profile")
    new, again = page.get_by_label("New password (at least 8 characters)"), page.get_by_label("The new password again")
    assert new.get_attribute("type") == "password" and again.get_attribute("type") == "password"
    assert new.input_value() == "" and again.input_value() == ""  # never pre-filled
    new.focus()
    page.keyboard.type("Brand#New#1")
    page.keyboard.press("Tab")
    page.keyboard.type("Brand#New#2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Password: the two passwords you typed differ. Nothing was changed.")
    assert "Brand#New" not in page.content() and "Brand" not in page.url
    # a birth date in the future is refused by the server even when the browser's own check is bypassed
    page.evaluate("document.getElementById('v-date_of_birth').removeAttribute('max')")
    page.get_by_label("Date of birth (year-month-day)").fill("2999-01-01")
    page.get_by_label("Date of birth (year-month-day)").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("the date must be in the past. Nothing was changed.")
    # a new email address: a code to that address, then the address and the code back
    page.get_by_label("New email address").first.fill("alice@new.example")
    page.get_by_role("button", name="Send a code to the new address").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a code to the new address")
    assert page.url.endswith("#confirm-h")
    page.locator("#confirm-email").fill("alice@new.example")
    page.locator("#confirm-code").fill(kokkok.inbox.code_for("alice@new.example"))
    page.locator("#confirm-code").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Sign in with the new address from now on.")
    values = {str(v["category"]): v["value"] for v in kokkok.ctx.engine().export_subject(sid, actor="subject")}
    assert values["email"] == "alice@new.example" and values["password"] == ALICE_PASSWORD
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


ALICE_PASSWORD = "correct horse battery"
