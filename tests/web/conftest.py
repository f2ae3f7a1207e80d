"""A running app per test: the real engine on SQLite or PostgreSQL, a real local SMTP server, API keys per role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.notify import SmtpMailer
from policykeeper.pack import Pack
from policykeeper.store import open_database
from policykeeper.web import WebContext, create_api_key, create_app

from ..conftest import Inbox


@dataclass
class Web:
    client: TestClient
    ctx: WebContext
    inbox: Inbox
    keys: dict[str, str]

    def as_role(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def sign_in(self, identifier: str, email: str) -> str:
        """Ask for a code, read it from the SMTP server, open a session; returns the bearer token."""
        before = len(self.inbox.to(email))
        assert self.client.post("/v1/session/code", json={"identifier": identifier, "email": email}).status_code == 202
        assert len(self.inbox.to(email)) == before + 1, "no code was sent"
        code = self.inbox.code_for(email)
        got = self.client.post("/v1/session", json={"identifier": identifier, "code": code})
        assert got.status_code == 200, got.text
        self.client.cookies.clear()  # tests pass the token explicitly, so one client can act as several people
        return str(got.json()["token"])


def make_web(pack: str | Pack, db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    inbox, mailer = smtp
    ctx = WebContext(db=open_database(db_url), keys=KeyRing.init(tmp_path / "keys"),
                     pack=load_pack(pack) if isinstance(pack, str) else pack, mailer=mailer,
                     max_body=64_000)
    keys = {role: create_api_key(ctx, f"test {role}", role)
            for role in ("admin", "privacy_officer", "support_agent", "auditor", "service")}
    with TestClient(create_app(ctx)) as client:
        yield Web(client, ctx, inbox, keys)
    ctx.db.dispose()


@pytest.fixture
def web(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    """The Kamoer pack (a shop with accounts), signed up people can sign in to."""
    yield from make_web("kamoer", db_url, tmp_path, smtp)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(web: Web) -> Iterator[str]:
    """The same app served by a real uvicorn server on a free local port; yields its base URL."""
    yield from serve(web)


def serve(web: Web) -> Iterator[str]:
    """Serve ``web``'s app with uvicorn on a free local port for as long as the generator is open."""
    import threading
    import time

    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(web.ctx), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
"""Where browser tests keep their screenshots (CI keeps the directory as the run's artifacts)."""


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """A real headless Chromium (Debian's package), driven by Playwright. Module-scoped: Playwright's synchronous API
    keeps an event loop running while it is open, which other tests' ``asyncio.run`` must not find."""
    import os
    import shutil

    path = os.environ.get("POLICYKEEPER_CHROMIUM") or shutil.which("chromium")
    if not path:
        if os.environ.get("POLICYKEEPER_REQUIRE_PG"):  # scripts/test sets it: there, a missing browser is an error
            raise RuntimeError("no Chromium: install the Debian package chromium or set POLICYKEEPER_CHROMIUM")
        pytest.skip("no Chromium: install the Debian package chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NO_SCROLL_JS = "() => document.documentElement.scrollWidth <= window.innerWidth"
"""True when the page does not scroll sideways (on a 390 px phone: nothing wider than the screen)."""


def open_page(chromium: Any, *, bypass_csp: bool = False, **options: Any) -> Any:
    """A fresh page in its own browser context (``viewport=``, ``locale=``, ...). ``bypass_csp`` lets a test inject
    axe-core past the pages' Content-Security-Policy (which refuses every script the site does not serve); the pages
    themselves are unchanged. Close it with ``page.context.close()``."""
    context = chromium.new_context(bypass_csp=bypass_csp, **options)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    return pg


def _test_name(request: pytest.FixtureRequest) -> str:
    return str(request.node.name).replace("/", "_").replace("[", "-").replace("]", "")


@pytest.fixture
def page(chromium: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser page; its last state is saved as a screenshot named after the test."""
    pg = open_page(chromium)
    try:
        yield pg
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{_test_name(request)}.png"), full_page=True)
        finally:
            pg.context.close()


@pytest.fixture
def axe_page(chromium: object, request: pytest.FixtureRequest) -> Iterator[Any]:
    """As ``page``, in a context that lets :func:`axe` in past the pages' Content-Security-Policy; its last state is
    saved as a viewport screenshot named after the test."""
    pg = open_page(chromium, bypass_csp=True)
    try:
        yield pg
    finally:
        try:
            shot(pg, _test_name(request))
        finally:
            pg.context.close()


def shot(page: Any, name: str | Path) -> None:
    """A viewport screenshot (small enough for the docs) into test-artifacts/screenshots as ``<name>.png`` (or to the
    path given). Chromium on a busy machine sometimes fails to capture one, so it is tried again."""
    path = name if isinstance(name, Path) else ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        try:
            page.screenshot(path=str(path))
            return
        except Exception:
            if attempt == 2:
                raise
            page.wait_for_timeout(500)


ENGLISH_LEFT_JS = r"""() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, code, kbd, samp, [translate="no"]')) continue;
    const marked = el.closest('[lang]');
    if (marked && !marked.getAttribute('lang').toLowerCase().startsWith('zh')) continue;  // pack text, a language name
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const text = node.textContent.trim();
    if (/[A-Za-z]{3,}(\s+[A-Za-z]{2,}){1,}/.test(text)) out.push(text.slice(0, 120));
  }
  return out;
}"""
"""Visible English phrases (two words or more) left on a page shown in Chinese, outside elements marked with another
language (pack texts carry the pack's ``lang``), code, and ``translate="no"``. Browser tests of Chinese pages assert
``page.evaluate(ENGLISH_LEFT_JS) == []``."""


_IMPACTS = ("minor", "moderate", "serious", "critical")


def axe(page: Any, within: str | None = None, *, least: str = "minor") -> list[dict[str, Any]]:
    """The accessibility violations axe-core finds on the page (or inside ``within``, a CSS selector), under WCAG 2.1
    A and AA, of impact ``least`` or worse (``least="serious"``: the serious and critical ones): ``[]`` when there
    are none. axe is read from $POLICYKEEPER_AXE (scripts/test installs axe-core with npm and sets it); the page's
    context must bypass its Content-Security-Policy (``axe_page``, or ``open_page(..., bypass_csp=True)``)."""
    path = os.environ.get("POLICYKEEPER_AXE") or ""
    if not Path(path).is_file():
        if os.environ.get("POLICYKEEPER_REQUIRE_PG"):  # scripts/test installs it from npm
            raise RuntimeError("no axe-core: scripts/test installs it with npm and sets POLICYKEEPER_AXE")
        pytest.skip("no axe-core: set POLICYKEEPER_AXE to axe.min.js (scripts/test installs it with npm)")
    page.add_script_tag(path=path)
    target = f"document.querySelector({within!r})" if within else "document"
    result = page.evaluate(f"axe.run({target}, {{runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
    counted = _IMPACTS[_IMPACTS.index(least):]
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in counted]
