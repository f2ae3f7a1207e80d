"""``policykeeper demo`` opens the door, in a real Chromium: a sign-in it prints works on the privacy center (the code
arrives at the printed address), with the operator's branding (name, logo, colour from HOME/branding.yaml) on the
pages, in Chinese, at desktop width and on a 390 px phone, with nothing serious for axe-core."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policykeeper._settings import Settings
from policykeeper.cli import app
from policykeeper.web import MemoryMailer, WebContext

from .conftest import DESKTOP, ENGLISH_LEFT_JS, NO_SCROLL_JS, PHONE, Web, axe, open_page, serve, shot

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("POLICYKEEPER_HOME", "POLICYKEEPER_DATABASE_URL", "POLICYKEEPER_PACK", "POLICYKEEPER_SMTP_URL",
                 "POLICYKEEPER_REGION"):
        monkeypatch.delenv(name, raising=False)


def test_a_printed_demo_sign_in_opens_the_branded_center_in_chinese_on_desktop_and_phone(
        tmp_path: Path, chromium: Any) -> None:
    home = tmp_path / "home"
    result = CliRunner().invoke(app, ["demo", "--home", str(home), "--people", "6"])
    assert result.exit_code == 0, result.output
    shown = re.findall(r"identifier (\S+)  email (\S+)", result.output)
    assert shown, result.output
    (home / "logo.png").write_bytes(PNG)
    (home / "branding.yaml").write_text("branding:\n  name: Reef Privacy\n  logo: logo.png\n  accent: '#0B6E4F'\n",
                                        encoding="utf-8")
    mailer = MemoryMailer()
    ctx = WebContext.from_settings(Settings.load(home, None, None), mailer=mailer)
    server = serve(Web(None, ctx, None, {}))  # type: ignore[arg-type]  # only the context is served
    live = next(server)
    try:
        for (identifier, email), viewport in zip((shown * 2)[:2], (DESKTOP, PHONE), strict=True):
            size = "desktop" if viewport == DESKTOP else "phone"
            page = open_page(chromium, viewport=viewport, bypass_csp=True)  # axe is injected
            try:
                page.goto(f"{live}/?lang=zh-Hans")
                header = page.locator("header").first
                assert "Reef Privacy" in header.inner_text() and header.locator("img.brand-logo").is_visible()
                accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent')")
                assert accent.strip().lower() == "#0b6e4f"
                page.locator("#identifier").fill(identifier)
                page.locator("#email").fill(email)
                page.locator("#email").press("Enter")
                page.wait_for_url("**/signin/code**")
                sent = [m for m in mailer.messages if m["to"] == email]
                code = re.search(r"\b(\d{6})\b", sent[-1]["body"])
                assert code, sent[-1]["body"]
                page.locator("#identifier").fill(identifier)
                page.locator("#code").fill(code.group(1))
                page.locator("#code").press("Enter")
                page.wait_for_url("**/me?**")
                assert "Reef Privacy" in page.locator("header").first.inner_text()
                assert page.locator("html").get_attribute("lang") == "zh-Hans"
                assert page.evaluate(ENGLISH_LEFT_JS) == []
                assert page.evaluate(NO_SCROLL_JS), f"/me scrolls sideways at {viewport['width']} px"
                assert axe(page, least="serious") == []
                shot(page, f"center-demo-me-{size}")
            finally:
                page.context.close()
    finally:
        next(server, None)  # stops the server
        ctx.db.dispose()
