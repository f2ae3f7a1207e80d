"""/consent.js in a real headless Chromium, on a demo shop page served from another origin (another local server).

The page tags its scripts and an iframe with cookie purposes; the script must keep them blocked until the visitor
allows their purpose, run them then without a reload, honour GPC, record every choice in the ledger under the device
id of its first-party cookie, and set no cookie at all for a pack without cookies (KALOS).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from policykeeper.marketing import register_tracker
from policykeeper.store._schema import consent_events
from policykeeper.web import WebContext

from .conftest import Web, axe, serve, shot
from .test_consent_api import make_ctx

DEMO = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Demo shop</title></head>
<body><main><h1>Demo shop</h1><p><a href="#" data-pk-preferences>Cookie settings</a></p>
<iframe title="Advertisement" data-purpose="cookie_ad_delivery" data-src="{api}/v1/health"></iframe>
<script>window.ran = [];</script>
<script type="text/plain" data-purpose="cookie_essential">window.ran.push("essential")</script>
<script type="text/plain" data-purpose="cookie_ux">window.ran.push("ux")</script>
<script type="text/plain" data-purpose="cookie_traffic_analysis">window.ran.push("analytics")</script>
<script type="text/plain" data-purpose="cookie_ad_delivery">window.ran.push("ads")</script>
<script type="text/plain" data-purpose="not_a_purpose">window.ran.push("unknown")</script>
</main><script src="{api}/consent.js" defer></script></body></html>"""


class _Shop:
    """The demo page on a second local server: another origin than the API's, both on loopback (Chromium blocks a
    page in a public address space from reaching a loopback server)."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.html = ""
        shop = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                body = shop.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _site(pack: str, tmp_path: Path) -> Iterator[tuple[str, WebContext]]:
    shop = _Shop()
    ctx = make_ctx(pack, f"sqlite:///{tmp_path / 'pk.db'}", tmp_path)
    ctx.consent_site.origins = (shop.origin,)
    ctx.shop = shop  # type: ignore[attr-defined]
    try:
        yield from ((url, ctx) for url in serve(Web(None, ctx, None, {})))  # type: ignore[arg-type]
    finally:
        shop.server.shutdown()
        ctx.db.dispose()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[str, WebContext]]:
    """The KOKKOK pack (cookies for essentials, preferences, analytics and ads) served on a free port."""
    yield from _site("kokkok", tmp_path)


def _open(page: Any, site: tuple[str, WebContext], lang: str = "en") -> None:
    api, ctx = site
    shop: _Shop = ctx.shop  # type: ignore[attr-defined]
    shop.html = DEMO.format(api=api, lang=lang)
    page.goto(f"{shop.origin}/")
    page.wait_for_function("window.policykeeper !== undefined")


def _ran(page: Any) -> list[str]:
    return sorted(page.evaluate("window.ran"))


def _device(page: Any) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == "pk_consent")
    assert cookie["domain"] == "localhost"  # first-party: set on the site, not by the API's host
    return str(cookie["value"]).split(".")[0]


def _ledger(ctx: WebContext, device: str) -> dict[str, tuple[str, str]]:
    with ctx.db.connect() as conn:
        rows = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.evidence)
                            .where(consent_events.c.subject_id == device).order_by(consent_events.c.seq)).all()
    return {r.target: (r.action, r.evidence["by"]) for r in rows}


def test_banner_shows_and_nothing_tagged_runs_before_consent(page: Any, shop: tuple[str, WebContext]) -> None:
    _open(page, shop)
    banner = page.get_by_role("region", name="Cookie consent")
    assert banner.is_visible()
    assert _ran(page) == ["essential"]  # essential purposes are always on; nothing else, nothing unknown
    assert page.locator("iframe[title=Advertisement]").get_attribute("src") is None
    assert page.context.cookies() == []  # no cookie before a choice


def test_accepting_runs_the_allowed_scripts_without_a_reload_and_lands_in_the_ledger(
        page: Any, shop: tuple[str, WebContext]) -> None:
    _open(page, shop)
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.ran.length === 4")
    assert _ran(page) == ["ads", "analytics", "essential", "ux"]
    assert page.locator("iframe[title=Advertisement]").get_attribute("src") == f"{shop[0]}/v1/health"
    # the live region is filled a moment after the choice is saved (so screen readers announce it): wait for it
    page.wait_for_function("document.getElementById('pk-live').textContent !== ''")
    assert page.get_by_role("status").text_content() == "Your choices were saved."
    ledger = _ledger(shop[1], _device(page))
    assert ledger["cookie_ux"] == ("given", "consent_script") and ledger["cookie_ad_delivery"][0] == "given"
    assert "cookie_essential" not in ledger
    page.reload()
    page.wait_for_function("window.policykeeper !== undefined && window.ran.length === 4")
    assert page.get_by_role("region", name="Cookie consent").count() == 0  # the choice is remembered


def test_kokkok_50_withdrawal_is_one_click_from_the_persistent_link_and_stops_scripts_on_the_next_load(
        page: Any, shop: tuple[str, WebContext]) -> None:
    _open(page, shop)
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.ran.length === 4")
    link = page.get_by_role("region", name="Privacy choices")
    link.get_by_role("button", name="Withdraw consent").click()
    page.get_by_role("status").filter(has_text="Consent withdrawn").wait_for()
    assert page.locator("iframe[title=Advertisement]").get_attribute("src") is None
    ledger = _ledger(shop[1], _device(page))
    assert {t: a for t, (a, _) in ledger.items()} == {t: "withdrawn" for t in ledger} and len(ledger) == 5
    page.reload()
    page.wait_for_function("window.policykeeper !== undefined")
    page.wait_for_timeout(200)
    assert _ran(page) == ["essential"]
    assert page.get_by_role("region", name="Privacy choices").is_visible()


def test_the_banner_and_dialog_work_from_the_keyboard(page: Any, shop: tuple[str, WebContext]) -> None:
    _open(page, shop)
    for _ in range(10):  # the banner comes first in the tab order
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Preferences":
            break
    else:
        raise AssertionError("Tab never reached the Preferences button")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Privacy preferences")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.name") == "cookie_auth_preferences"  # focus moved into it
    for _ in range(15):  # the focus stays inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('[role=dialog]')")
    page.keyboard.press("Escape")
    assert dialog.count() == 0
    assert page.evaluate("document.activeElement.textContent") == "Preferences"  # focus went back
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # to the second checkbox: cookie_ad_delivery
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # cookie_ux
    assert page.evaluate("document.activeElement.name") == "cookie_ux"
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save choices").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("window.ran.includes('ux')")
    assert _ran(page) == ["essential", "ux"]
    ledger = _ledger(shop[1], _device(page))
    assert ledger["cookie_ux"] == ("given", "consent_script") and ledger["cookie_ad_delivery"] == ("refused", "consent_script")


def test_gpc_in_the_browser_is_honoured_shown_and_recorded_as_gpc(chromium: Any, shop: tuple[str, WebContext]) -> None:
    context = chromium.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
    page = context.new_page()
    try:
        _open(page, shop)
        page.wait_for_function("document.cookie.includes('pk_consent')")  # the signal's refusal was recorded
        ledger = _ledger(shop[1], _device(page))
        assert ledger["cookie_ad_delivery"] == ("refused", "GPC") and ledger["cookie_cross_site_ads"] == ("refused", "GPC")
        banner = page.get_by_role("region", name="Cookie consent")  # still asks about what GPC does not cover
        assert "Global Privacy Control signal was seen" in banner.text_content()
        banner.get_by_role("button", name="Accept all").click()
        page.wait_for_function("window.ran.includes('ux')")
        assert _ran(page) == ["essential", "ux"]  # ads and analytics (shared with third parties) stay off
        page.get_by_role("button", name="Privacy choices").click()
        box = page.get_by_role("checkbox", name="Ad delivery and measurement")
        assert box.is_disabled() and not box.is_checked()
        assert _ledger(shop[1], _device(page))["cookie_ad_delivery"] == ("refused", "GPC")
    finally:
        shot(page, "consent-script-gpc")
        context.close()


def test_kalos_12_a_pack_without_cookies_sets_no_cookie_and_runs_nothing_tagged(page: Any, tmp_path: Path) -> None:
    for api, ctx in _site("kalos", tmp_path):
        _open(page, (api, ctx))
        page.wait_for_timeout(300)
        assert page.context.cookies() == []  # from the browser's cookie jar: none on any domain
        assert page.evaluate("window.ran") == []  # not even one tagged 'essential': KALOS has no cookie purposes
        assert page.get_by_role("region").count() == 0
        with ctx.db.connect() as conn:
            assert conn.execute(select(consent_events.c.seq)).first() is None


def test_simplified_chinese(page: Any, shop: tuple[str, WebContext]) -> None:
    _open(page, shop, lang="zh-CN")
    banner = page.get_by_role("region", name="Cookie 同意")
    banner.get_by_role("button", name="设置偏好").click()
    assert page.get_by_role("dialog", name="隐私偏好").is_visible()
    assert page.get_by_role("checkbox", name="Essential functions").is_disabled()


def test_the_banner_and_dialog_pass_axe_and_are_labelled(page: Any, shop: tuple[str, WebContext]) -> None:
    register_tracker(shop[1].engine(), name="pk_prefs", technology="cookie", purpose="cookie_ux", party="first",
                     lifetime="persistent", placement="browser")
    _open(page, shop)
    assert axe(page, ".pk-root") == []
    page.get_by_role("button", name="Preferences").click()
    dialog = page.get_by_role("dialog", name="Privacy preferences")
    assert dialog.get_attribute("aria-modal") == "true"
    for box in dialog.get_by_role("checkbox").all():  # every choice has a label a screen reader reads
        assert box.evaluate("b => b.labels.length === 1 && b.labels[0].textContent.trim().length > 0")
    assert dialog.get_by_role("button", name="Close").is_visible()
    assert "Uses: pk_prefs (first party, persistent)" in dialog.text_content()  # the tracker registry
    assert axe(page, ".pk-root") == []


def test_a_cookie_the_service_no_longer_accepts_is_forgotten_and_the_visitor_asked_again(
        page: Any, shop: tuple[str, WebContext]) -> None:
    _open(page, shop)
    origin = page.evaluate("location.origin")
    page.context.add_cookies([{"name": "pk_consent", "value": "dv" + "0" * 30 + ".forged", "url": origin}])
    page.reload()
    page.wait_for_function("window.policykeeper !== undefined")
    assert page.get_by_role("region", name="Cookie consent").is_visible()
    assert _ran(page) == ["essential"]
    assert page.context.cookies() == []


def test_no_banner_where_the_gpc_signal_already_answers_every_question(chromium: Any, tmp_path: Path) -> None:
    """A pack whose only optional cookie purposes are advertising: the signal gives the whole opt-out."""
    for api, ctx in _site("kokkok", tmp_path):
        cookies = ctx.pack.cookies
        ctx.pack = ctx.pack.model_copy(update={"cookies": cookies.model_copy(update={  # type: ignore[union-attr]
            "purposes": ("cookie_essential", "cookie_ad_delivery", "cookie_cross_site_ads")})})
        ctx._base, ctx._engines = None, {}
        context = chromium.new_context(extra_http_headers={"Sec-GPC": "1"})
        context.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
        page = context.new_page()
        try:
            _open(page, (api, ctx))
            page.wait_for_function("document.cookie.includes('pk_consent')")
            assert page.get_by_role("region", name="Cookie consent").count() == 0
            assert page.get_by_role("region", name="Privacy choices").is_visible()
            assert _ran(page) == ["essential"]
            assert set(_ledger(ctx, _device(page)).values()) == {("refused", "GPC")}
        finally:
            context.close()
