"""The policy compiler's review as a console page: a pasted policy is drafted and each item shown by its quote."""

from __future__ import annotations

import html
from typing import Any

from ..conftest import DATA
from .conftest import Web
from .test_admin import _console, _csrf, _Fields

BRIGHTLEAF = (DATA / "compiler" / "brightleaf.md").read_text(encoding="utf-8")


def test_a_pasted_policy_is_drafted_and_each_item_shown_next_to_its_quote(web: Web) -> None:
    _console(web, "privacy_officer")
    form = web.client.get("/admin/compiler")
    assert form.status_code == 200 and "Draft a pack from a privacy policy" in form.text
    fields = _Fields()
    fields.feed(form.text)
    assert {n for n, _ in fields.fields} == {"name", "policy"}
    assert all(fid in fields.labels for _, fid in fields.fields)  # every field is labelled
    got = web.client.post("/admin/compiler", data={"csrf": _csrf(form.text), "name": "brightleaf.md",
                                                   "policy": BRIGHTLEAF})
    assert got.status_code == 200, got.text
    page = html.unescape(got.text)
    assert "Review of the draft pack <code>brightleaf</code>" in page
    assert "We do not sell your personal information." in page  # a quote, verbatim
    assert "retention" in page and "unspecified" in page  # values and what the text leaves open
    assert '<mark id="q' in got.text and "The draft pack (YAML)" in page and "pack_format: 1" in page
    assert "(low)" in page  # low-confidence rows say so in words, not only in colour


def test_an_empty_or_oversized_policy_is_refused_with_the_reason_and_the_form_kept(web: Web) -> None:
    _console(web, "admin")
    form = web.client.get("/admin/compiler").text
    empty = web.client.post("/admin/compiler", data={"csrf": _csrf(form), "name": "acme.txt", "policy": "   "})
    assert empty.status_code == 422 and "the policy has no text" in empty.text and 'value="acme.txt"' in empty.text
    big = web.client.post("/admin/compiler", data={"csrf": _csrf(form), "name": "acme.txt",
                                                   "policy": "We collect your email. " * 100_000})
    assert big.status_code == 413  # the console's request size limit refuses it before drafting


def test_drafting_needs_the_sessions_csrf_token_and_the_permission(web: Web) -> None:
    _console(web, "admin")
    refused = web.client.post("/admin/compiler", data={"csrf": "0" * 32, "name": "a.txt", "policy": BRIGHTLEAF})
    assert refused.status_code == 403 and "Review of the draft pack" not in refused.text
    _console(web, "support_agent")
    denied = web.client.post("/admin/compiler", data={"csrf": "0" * 32, "name": "a.txt", "policy": BRIGHTLEAF})
    assert denied.status_code == 403 and "versions:read" in denied.text


def test_in_a_browser_a_privacy_officer_drafts_a_policy_and_follows_an_item_to_its_quote(
    web: Web, live: str, page: Any
) -> None:
    from playwright.sync_api import expect

    page.goto(live + "/admin/compiler")
    page.get_by_label("API key").fill(web.keys["privacy_officer"])
    page.get_by_label("API key").press("Enter")
    expect(page.get_by_role("heading", name="Draft a pack from a privacy policy", level=1)).to_be_visible()
    page.get_by_label("File name").fill("brightleaf.md")
    page.get_by_label("Policy text").fill(BRIGHTLEAF)
    page.get_by_role("button", name="Draft and review").click()
    expect(page.get_by_role("heading", name="Review of the draft pack brightleaf")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="disclosures").first
    expect(row).to_contain_text("We do not sell your personal information.")
    row.get_by_role("link").first.click()
    assert page.url.split("#")[1].startswith("q")
    target = page.locator("#" + page.url.split("#")[1])
    expect(target).to_contain_text("We do not sell your personal information.")
