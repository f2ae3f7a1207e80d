"""Working from the console on a 390x844 phone, by keyboard: publishing a policy version (the versions page, the
preview of the diff and of the change rules' check, the published list) and working an incident (its steps, the
notice previewed then sent, closing), with no sideways scroll and nothing serious for axe-core, in English and in
Chinese (issue 15 items 5 and 7). Real Chromium; SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from policykeeper.store._schema import incident_notices, policy_versions

from .conftest import ENGLISH_LEFT_JS, NO_SCROLL_JS, PHONE, Web, axe, shot
from .test_api import LI, ZHANG, _signup
from .test_console import NOTICE, _count, _incident, _kamoer_v2, _sign_in, _tomorrow


def _check_phone_page(page: Any, lang: str, where: str) -> None:
    """At 390 px: no sideways scroll, no serious accessibility violation, and in Chinese no English left."""
    assert page.evaluate(NO_SCROLL_JS), f"{where} scrolls sideways at 390 px"
    assert axe(page, least="serious") == [], where
    if lang == "zh-Hans":
        assert page.evaluate(ENGLISH_LEFT_JS) == [], where


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_an_officer_publishes_a_version_on_a_phone_by_keyboard(web: Web, live: str, axe_page: Any, tmp_path: Path,
                                                               lang: str) -> None:
    page = axe_page
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    page.set_viewport_size(PHONE)

    upload = tmp_path / "kamoer-2026.yaml"
    upload.write_text(_kamoer_v2((('label: "2025-06-02"', 'label: "2026-01-01"'),
                                  ("updated_date: 2025-06-02", "updated_date: 2026-01-01"),
                                  ("{id: analytics_vendor, name: Analytics vendor",
                                   "{id: research_lab, name: Research lab"))), encoding="utf-8")
    _sign_in(page, live, web.keys["privacy_officer"], lang)
    page.goto(f"{live}/admin/versions")
    _check_phone_page(page, lang, "the versions page")
    page.locator("#pack-file").set_input_files(str(upload))  # a file is chosen in the system's own dialog
    page.locator("#effective-date").fill(_tomorrow())
    page.locator("#explicit-consent").focus()
    assert _focused(page) == "explicit-consent"
    page.keyboard.press("Tab")  # from the last field to the button, and sent with the keyboard
    assert page.evaluate("document.activeElement.closest('form').action").endswith("/admin/versions/preview")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/versions/preview")
    assert "Research lab" in page.locator("#diff").inner_text()
    assert page.locator("#check").is_visible() and _count(web, policy_versions) == 0  # nothing written yet
    shot(page, f"console-version-preview-{'zh-' if lang != 'en' else ''}phone")
    _check_phone_page(page, lang, "the preview")
    publish = page.locator("form[action='/admin/versions/publish'] button")
    publish.focus()
    page.keyboard.press("Enter")
    page.get_by_role("status").wait_for()
    assert "2026-01-01" in page.get_by_role("status").inner_text()
    with web.ctx.db.connect() as conn:
        assert "2026-01-01" in set(conn.execute(select(policy_versions.c.label)).scalars())
    _check_phone_page(page, lang, "the versions page after publishing")


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_an_officer_works_an_incident_on_a_phone_by_keyboard(web: Web, live: str, axe_page: Any, lang: str) -> None:
    page = axe_page
    iid = _incident(web)
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    page.set_viewport_size(PHONE)

    def work() -> Any:
        page.goto(f"{live}/admin/incidents#incident-{iid}")
        section = page.locator(f"section[aria-labelledby='incident-{iid}']")
        if not section.locator("details").evaluate("d => d.open"):
            section.locator("summary").focus()
            page.keyboard.press("Enter")  # a <summary> opens with the keyboard
        assert section.locator("details").evaluate("d => d.open")
        return section

    _sign_in(page, live, web.keys["privacy_officer"], lang)
    steps = [str(v) for v in work().locator(f"#step-{iid} option").evaluate_all("os => os.map(o => o.value)")]
    for n, step in enumerate(steps):
        section = work()
        section.locator(f"#step-{iid}").select_option(step)
        section.locator(f"#step-ref-{iid}").fill(f"SEC-{n}")
        section.locator(f"#step-ref-{iid}").press("Enter")
        page.get_by_role("status").wait_for()
    _check_phone_page(page, lang, "the incidents page with its steps on record")
    section = work()
    for arg, text in NOTICE.items():
        section.locator(f"#{arg}-{iid}").fill(text)
    section.locator("form[action$='/notify/preview'] button").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/admin/incidents/{iid}/notify/preview")
    assert page.locator("#affected").inner_text() == "2" and _count(web, incident_notices) == 0
    shot(page, f"console-incident-notice-{'zh-' if lang != 'en' else ''}phone")
    _check_phone_page(page, lang, "the notice's preview")
    page.locator("form[action$='/notify'] button").focus()
    page.keyboard.press("Enter")
    page.get_by_role("status").wait_for()
    assert _count(web, incident_notices) == 2
    section = work()
    section.locator(f"#close-{iid}").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_role("status").wait_for()
    with web.ctx.db.connect() as conn:
        from policykeeper.store._schema import incidents

        assert conn.execute(select(incidents.c.status).where(incidents.c.id == iid)).scalar_one() == "closed"
    _check_phone_page(page, lang, "the incidents page once closed")
