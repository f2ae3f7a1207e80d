"""The public pages in real Chromium (desktop and 390x844): the plain-language policy page, home, sign-in, the HTML
error pages of the privacy center and the console, and the API docs served with no CDN. Each is checked with axe-core,
in Simplified Chinese (no English left outside the pack's own texts) and for horizontal scroll on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import DESKTOP, ENGLISH_LEFT_JS, PHONE, Web, axe, open_page, shot


@pytest.fixture
def at(chromium: Any, live: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open a page of the live server at a viewport: ``at(path, viewport)``; every page opened is closed after."""
    opened: list[Any] = []

    def open_at(path: str, viewport: dict[str, int] = DESKTOP) -> Any:
        page = open_page(chromium, viewport=viewport, bypass_csp=True)  # axe is added as a script
        opened.append(page.context)
        page.goto(live + path)
        return page

    yield open_at
    for context in opened:
        context.close()


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]




@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_policy_page_is_a_short_plain_notice_that_passes_axe(at: Any, viewport: dict[str, int]) -> None:
    page = at("/policy", viewport)
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "How Kamoer uses your personal data"
    for name in ("What we collect and why", "Who we share it with", "How long we keep it",
                 "Your rights and how to use them", "Children", "Changes to this notice", "Contact us"):
        assert page.get_by_role("heading", name=name, level=2).is_visible(), name
    body = page.inner_text("main")
    assert "KAMOER-" not in body and "_" not in body.replace("sales@", "") and ".." not in body
    height = page.evaluate("document.documentElement.scrollHeight")
    limit = 6000 if viewport is DESKTOP else 9000  # the full record was 18,110 px on a desktop and 37,934 on a phone
    assert height < limit, height
    _no_sideways_scroll(page)
    assert axe(page) == []
    name = "policy-desktop" if viewport is DESKTOP else "policy-phone"
    shot(page, name)
    page.get_by_role("link", name="Your rights and how to use them").click()  # the contents lead to each part
    assert page.evaluate("location.hash") == "#rights"
    if viewport is DESKTOP:  # a purpose opens on demand, by keyboard too
        summary = page.locator("#collect summary").first
        summary.focus()
        page.keyboard.press("Enter")
        assert page.locator("#collect details").first.evaluate("d => d.open")


def test_a_promise_anchor_opens_the_policys_own_words(at: Any) -> None:
    page = at("/policy#kamoer-50")
    target = page.locator("#kamoer-50")
    page.wait_for_function("document.querySelector('#words details').open")  # Chromium opens the folded words
    assert target.is_visible() and "“" in target.inner_text()
    link = page.locator('a.words[href="#kamoer-52"]').first  # and each point links to the words it keeps
    assert link.get_attribute("aria-label") == "The policy's own words"


@pytest.mark.parametrize("path", ["/policy", "/", "/signin/code", "/no-such-page", "/admin/no-such-page"])
def test_the_pages_in_chinese_leave_no_english_and_fit_a_phone(at: Any, path: str) -> None:
    page = at(path + "?lang=zh-Hans", PHONE)
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.evaluate(ENGLISH_LEFT_JS) == []
    _no_sideways_scroll(page)
    assert axe(page) == []


@pytest.mark.parametrize("path", ["/", "/signin/code"])
def test_home_and_sign_in_pass_axe_on_a_desktop_and_work_by_keyboard(at: Any, path: str) -> None:
    page = at(path)
    assert axe(page) == []
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.get_by_label("Your identifier", exact=False).first.fill("someone")
    assert page.get_by_role("button").last.is_enabled()


@pytest.mark.parametrize(("path", "back"), [("/no-such-page", "/"), ("/me/nothing/here", "/"),
                                            ("/admin/no-such-page", "/admin")])
def test_a_mistyped_address_answers_a_page_with_a_way_back(at: Any, web: Web, path: str, back: str) -> None:
    page = at(path)
    assert page.get_by_role("heading", name="Page not found", level=1).is_visible()
    link = page.locator(f'main a[href="{back}"]')
    assert link.is_visible()
    assert axe(page) == []
    _no_sideways_scroll(page)
    got = web.client.get(path, headers={"Accept": "text/html"})
    assert got.status_code == 404 and got.headers["content-type"].startswith("text/html")
    link.click()
    page.wait_for_url(f"**{back}*")


def test_the_api_keeps_its_json_errors(web: Web) -> None:
    for accept in ("text/html,application/xhtml+xml", "application/json", "*/*"):
        got = web.client.get("/v1/no-such-thing", headers={"Accept": accept})
        assert got.status_code == 404 and got.json()["error"]["code"] == "not_found"
    plain = web.client.get("/no-such-page")  # a client that does not ask for HTML keeps the one JSON shape
    assert plain.status_code == 404 and plain.json()["error"]["code"] == "not_found"
    wrong = web.client.put("/policy", headers={"Accept": "text/html"})
    assert wrong.status_code == 405 and "text/html" in wrong.headers["content-type"] and "allow" in wrong.headers


def _host(url: str) -> str | None:
    """The host a request goes to; a blob's is its origin's; None for inline data (no request leaves the page)."""
    if url.startswith("data:"):
        return None
    return urlparse(url.removeprefix("blob:")).netloc


@pytest.mark.parametrize(("path", "ready"), [("/v1/docs", ".swagger-ui .info .title"),
                                             ("/v1/redoc", "h1")])
def test_the_api_docs_ask_nothing_of_any_other_host(chromium: Any, live: str, path: str, ready: str) -> None:
    """Every request the docs page makes (scripts, styles, fonts, images, ReDoc's footer logo included) goes to this
    server: none is even asked of a CDN, and the page renders with every other host blocked."""
    here = urlparse(live).netloc
    asked: list[str] = []
    blocked: list[str] = []
    context = chromium.new_context()
    try:
        def only_here(route: Any) -> None:
            if _host(route.request.url) in (here, None):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", only_here)
        page = context.new_page()
        page.on("request", lambda request: asked.append(request.url))
        page.set_default_timeout(60_000)  # the bundles are large: a busy machine takes its time
        page.goto(live + path)
        page.wait_for_selector(ready)
        assert "policykeeper" in page.inner_text(ready)
        if path == "/v1/redoc":  # the sidebar's footer, where ReDoc shows Redocly's logo, is drawn
            page.wait_for_selector("a[href='https://redocly.com/redoc/']", state="attached")
        page.wait_for_load_state("networkidle")
        elsewhere = [u for u in asked if _host(u) not in (here, None)]
        assert elsewhere == [] and blocked == [], elsewhere or blocked
        assert any(urlparse(u).path == ("/v1/docs/redoc.js" if path == "/v1/redoc" else
                                        "/v1/docs/assets/swagger-ui-bundle.js") for u in asked), asked
    finally:
        context.close()
