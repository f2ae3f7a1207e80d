"""The privacy center: pages for people, server-rendered, working without JavaScript (plain forms answered by 303
redirects), accessible (a label for every input, headings in order), with CSRF tokens on every form that changes
something and no personal data in any URL. The last test drives a real Chromium through the whole journey."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import select

from policykeeper import consent
from policykeeper.marketing import unsubscribe_token
from policykeeper.store._schema import lifecycle_events

from .conftest import Web

ZHANG = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper", "password": "Coral#2025!"}
LI = {"phone": "+86 139 0000 2222", "email": "li@example.cn", "username": "li-reef", "password": "Tang#2025!"}
PERSON_PAGES = ("/me", "/me/consents", "/me/requests", "/me/profile")
PUBLIC_PAGES = ("/", "/policy", "/signin/code", "/unsubscribe")


def _signup(web: Web, person: str, values: dict[str, str]) -> None:
    got = web.client.post("/v1/collect", json={"person": person, "context": "registration", "values": values},
                          headers=web.as_role("service"))
    assert got.status_code == 200, got.text


def _sign_in(web: Web, identifier: str, email: str) -> None:
    """Sign in through the center's forms; the session cookie stays on the client."""
    asked = web.client.post("/signin", data={"identifier": identifier, "email": email})
    assert asked.status_code == 200 and "a six-digit code is on its way" in asked.text
    code = web.inbox.code_for(email)
    opened = web.client.post("/signin/code", data={"identifier": identifier, "code": code})
    assert opened.status_code == 200 and str(opened.url).endswith("/me?msg=You%20are%20signed%20in."), opened.url


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{32})"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _subject_id(web: Web, person: str) -> str:
    eng = web.ctx.engine()
    with web.ctx.db.connect() as conn:
        found = eng.subject_id_of(conn, person)
    assert found is not None
    return found


class _Page(HTMLParser):
    """Inputs and their labels, and the headings in order."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.headings: list[int] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag in ("input", "select", "textarea"):
            if tag != "input" or (a.get("type") or "text") not in ("hidden", "submit", "button"):
                self.fields.append(a)
        elif tag == "label" and a.get("for"):
            self.label_for.add(str(a["for"]))
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def _check_accessible(html: str, where: str) -> _Page:
    page = _Page()
    page.feed(html)
    for field in page.fields:
        assert field.get("id") and field["id"] in page.label_for, f"{where}: an input without a <label for>: {field}"
    assert page.headings and page.headings[0] == 1 and page.headings.count(1) == 1, f"{where}: {page.headings}"
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"{where}: heading levels jump from h{before} to h{after}"
    assert len(page.ids) == len(set(page.ids)), f"{where}: duplicate ids"
    return page


def test_every_page_renders_with_a_label_for_every_input_and_headings_in_order(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    for path in PUBLIC_PAGES:
        got = web.client.get(path)
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/html"), path
        _check_accessible(got.text, path)
    home = _check_accessible(web.client.get("/").text, "/")
    assert {f["id"] for f in home.fields} == {"identifier", "email"}
    _sign_in(web, "zhang", "zhang@example.cn")
    for path in PERSON_PAGES:
        got = web.client.get(path)
        assert got.status_code == 200 and "Sign out" in got.text, path
        assert got.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in got.headers[
            "content-security-policy"]
        _check_accessible(got.text, path)
    requests = _check_accessible(web.client.get("/me/requests").text, "/me/requests")
    assert {f["id"] for f in requests.fields} == {"right", "req-note", "req-email"}


def test_person_pages_send_a_stranger_to_sign_in(web: Web) -> None:
    for path in PERSON_PAGES + ("/me/requests/0123456789abcdef/verify", "/me/requests/0123456789abcdef/export"):
        got = web.client.get(path, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"].startswith("/?err=Please%20sign%20in"), path
    for path in ("/me/consents/marketing", "/me/requests", "/me/profile", "/me/close"):
        got = web.client.post(path, data={"csrf": "x"}, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"].startswith("/?err="), path
    shown = web.client.get("/me")
    assert shown.status_code == 200 and "Please sign in first" in shown.text and 'role="alert"' in shown.text


def test_the_policy_page_is_the_pack_in_force_with_promise_ids_as_anchors(web: Web) -> None:
    got = web.client.get("/policy")
    assert got.status_code == 200
    assert 'id="kamoer-50"' in got.text and 'href="#kamoer-50"' in got.text
    assert got.text.count("<html") == 1 and got.text.count("<main") == 1 and got.text.count("<body") == 1
    assert "How Kamoer uses your personal data" in got.text and "2022-12-19" in got.text
    assert "KAMOER-50" not in got.text and "Gaps in the policy text" not in got.text  # no ids, no internal notes


def test_a_bad_code_shows_an_error_message_never_a_traceback(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    web.client.post("/signin", data={"identifier": "zhang", "email": "zhang@example.cn"})
    good = web.inbox.code_for("zhang@example.cn")
    bad = "000000" if good != "000000" else "111111"
    wrong = web.client.post("/signin/code", data={"identifier": "zhang", "code": bad}, follow_redirects=False)
    assert wrong.status_code == 303 and wrong.headers["location"].startswith("/signin/code?err=")
    shown = web.client.get(wrong.headers["location"])
    assert shown.status_code == 200 and "That code is not valid" in shown.text and 'role="alert"' in shown.text
    for code in ("12ab56", "", "1234567"):
        page = web.client.post("/signin/code", data={"identifier": "zhang", "code": code})
        assert page.status_code == 200 and "six digits" in page.text, code
    no_email = web.client.post("/signin", data={"identifier": "zhang", "email": "not-an-address"})
    assert no_email.status_code == 200 and "The email address must be one address" in no_email.text
    for page in (wrong, shown, no_email):
        assert "Traceback" not in page.text and "ApiError" not in page.text
    assert web.client.get("/me", follow_redirects=False).status_code == 303  # still not signed in
    # the right code still works after a wrong try
    assert web.client.post("/signin/code", data={"identifier": "zhang", "code": good}).url.path == "/me"


def test_signing_in_sets_a_strict_httponly_cookie_and_signing_out_needs_the_csrf_token(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    web.client.post("/signin", data={"identifier": "zhang", "email": "zhang@example.cn"})
    code = web.inbox.code_for("zhang@example.cn")
    opened = web.client.post("/signin/code", data={"identifier": "zhang", "code": code}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].startswith("/me?msg=")
    cookie = opened.headers["set-cookie"].lower()
    assert cookie.startswith("pk_session=pks_") and "httponly" in cookie and "samesite=strict" in cookie
    forged = web.client.post("/signout", data={"csrf": "0" * 32})
    assert "The form is stale" in forged.text and web.client.get("/me", follow_redirects=False).status_code == 200
    out = web.client.post("/signout", data={"csrf": _csrf(web.client.get("/me").text)})
    assert out.url.path == "/" and "You are signed out" in out.text
    assert web.client.get("/me", follow_redirects=False).status_code == 303


def test_my_data_shows_each_value_with_why_where_from_when_and_who_received_it(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    for paper in ("confidentiality", "instructions_only"):  # the agreements are filed by the privacy officer
        assert web.client.post("/v1/facts", json={"fact": "agreement", "party": "affiliates", "arg": paper,
                                                  "reference": "group agreement"},
                               headers=web.as_role("privacy_officer")).status_code == 200
    shared = web.client.post("/v1/share", json={"person": "zhang", "recipient": "affiliates", "purpose": "purchase_delivery",
                                                "categories": ["phone"]},
                          headers=web.as_role("service"))
    assert shared.status_code == 200, shared.text
    _sign_in(web, "zhang", "zhang@example.cn")
    page = web.client.get("/me").text
    for shown in ("Mobile phone number", "+86 139 0000 1111", "Email address", "zhang@example.cn", "Created username",
                  "reefkeeper", "Register as a Kamoer user", "Collected on "):
        assert shown in page, shown
    assert "Coral#2025!" not in page and "hidden" in page  # a password is never shown back
    assert re.search(r'<li><span lang="en">Kamoer affiliates</span>, for <span lang="en">[^<]+</span>, '
                     r'\d{1,2} \w{3} \d{4}</li>', page)
    assert "li@example.cn" not in page
    # one list of purposes per group of details, never one per row
    groups = re.findall(r'<h2 id="g-\d+">Used for: <span lang="en">([^<]+)</span>', page)
    assert groups and len(groups) == len(set(groups)) and page.count("Used for:") == len(groups)
    assert "<table" not in page and "_" not in re.sub(r"<[^>]+>|zhang@example.cn", "", page.split("<main")[1])


def test_consents_are_given_and_withdrawn_by_form_with_the_csrf_token_and_the_refusal_notice(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _sign_in(web, "zhang", "zhang@example.cn")
    sid = _subject_id(web, "zhang")
    page = web.client.get("/me/consents").text
    notice = "Not joining the product improvement plan will not affect your use of Kamoer's products or services."
    assert "Improvement program" in page and "Marketing messages" in page and notice.replace("'", "&#39;") in page
    assert "Job application" in page and "Parental account" not in page  # a parent's consent is not given here

    def state() -> tuple[frozenset[str], frozenset[str]]:
        with web.ctx.db.connect() as conn:
            return consent.state_as_of(conn, sid)

    refused = web.client.post("/me/consents/improvement_program", data={"action": "given"})
    assert "The form is stale" in refused.text and "improvement_program" not in state()[0]
    stale = web.client.post("/me/consents/improvement_program", data={"action": "given", "csrf": "f" * 32})
    assert "The form is stale" in stale.text and "improvement_program" not in state()[0]
    csrf = _csrf(page)
    given = web.client.post("/me/consents/improvement_program", data={"action": "given", "csrf": csrf})
    assert "Consent given: Improvement program." in given.text and "improvement_program" in state()[0]
    assert 'id="state-improvement_program" data-state="given">given<' in given.text
    withdrawn = web.client.post("/me/consents/improvement_program", data={"action": "withdrawn", "csrf": csrf})
    assert "Consent withdrawn: Improvement program." in withdrawn.text and notice.replace("'", "&#39;") in withdrawn.text
    assert "improvement_program" in state()[1]
    off = web.client.post("/me/consents/marketing", data={"action": "withdrawn", "csrf": csrf})
    assert "Consent withdrawn: Marketing messages." in off.text and "marketing" in state()[1]
    unknown = web.client.post("/me/consents/sensitive_data", data={"action": "given", "csrf": csrf})
    assert "not one this policy asks you for" in unknown.text and "sensitive_data" not in state()[0]


def test_an_access_request_by_forms_from_submission_to_download_with_no_personal_data_in_any_url(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    seen: list[str] = []

    def note(response: httpx.Response) -> None:
        seen.append(str(response.request.url))
        seen.append(response.headers.get("location", ""))

    web.client.event_hooks["response"].append(note)
    _sign_in(web, "zhang", "zhang@example.cn")
    page = web.client.get("/me/requests").text
    assert 'value="zhang@example.cn"' in page and '<option value="access">' in page
    csrf = _csrf(page)
    assert '<option value="manage_account">' not in page and '<a href="/me/profile">on your profile page</a>' in page
    for right in ("fly", "complain_authority"):
        bad_right = web.client.post("/me/requests", data={"right": right, "email": "zhang@example.cn", "csrf": csrf})
        assert "Choose one of the rights" in bad_right.text, right
    no_csrf = web.client.post("/me/requests", data={"right": "access", "email": "zhang@example.cn"})
    assert "The form is stale" in no_csrf.text and web.ctx.requests().requests_of_subject(_subject_id(web, "zhang")) == []
    mails = len(web.inbox.messages)
    sent = web.client.post("/me/requests", data={"right": "access", "email": "zhang@example.cn", "csrf": csrf,
                                                 "note": "everything, please"})
    ref = web.ctx.requests().requests_of_subject(_subject_id(web, "zhang"))[0]["ref"]
    # signed in: the session proves who they are, so the request is confirmed at once, with no second code
    assert sent.url.path == "/me/requests" and f"Request {ref} is received and confirmed" in sent.text
    assert len(web.inbox.messages) == mails and web.ctx.requests().get(ref)["status"] == "verified"
    assert web.client.get(f"/me/requests/{ref}/export").url.path == "/me/requests"  # not fulfilled yet: a message
    # a request made without signing in (the code path) is confirmed here with its emailed code
    coded = web.ctx.requests().submit("zhang", "access", email="zhang@example.cn").ref
    assert f'href="/me/requests/{coded}/verify"' in web.client.get("/me/requests").text
    wrong = web.client.post(f"/me/requests/{coded}/verify", data={"code": "12345x", "csrf": csrf})
    assert "The code is the six digits" in wrong.text
    code = web.inbox.code_for("zhang@example.cn")
    verified = web.client.post(f"/me/requests/{coded}/verify", data={"code": code, "csrf": csrf})
    assert f"Request {coded} is confirmed" in verified.text and verified.url.path == "/me/requests"
    done = web.client.post(f"/v1/requests/{ref}/fulfil", json={}, headers=web.as_role("privacy_officer"))
    assert done.json()["status"] == "fulfilled"
    listed = web.client.get("/me/requests").text
    assert f'href="/me/requests/{ref}/export"' in listed and "done" in listed
    export = web.client.get(f"/me/requests/{ref}/export")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    assert export.headers["content-disposition"] == f'attachment; filename="export-{ref}.zip"'
    with zipfile.ZipFile(io.BytesIO(export.content)) as zf:
        doc = json.loads(zf.read("data.json"))
    assert {v["category"]: v["value"] for v in doc["values"]}["email"] == "zhang@example.cn"
    urls = unquote(" ".join(seen))
    for secret in ("zhang@example.cn", "reefkeeper", "+86", code, "identifier=", "email="):
        assert secret not in urls, secret


def test_someone_elses_request_answers_404(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    _sign_in(web, "li", "li@example.cn")
    csrf = _csrf(web.client.get("/me/requests").text)
    web.client.post("/me/requests", data={"right": "access", "email": "li@example.cn", "csrf": csrf})
    ref = web.ctx.requests().requests_of_subject(_subject_id(web, "li"))[0]["ref"]
    li_code = web.inbox.code_for("li@example.cn")
    web.client.post(f"/v1/requests/{ref}/fulfil", json={}, headers=web.as_role("privacy_officer"))
    assert web.client.get(f"/me/requests/{ref}/export").status_code == 200
    web.client.cookies.clear()
    _sign_in(web, "zhang", "zhang@example.cn")
    csrf = _csrf(web.client.get("/me/requests").text)
    for got in (web.client.get(f"/me/requests/{ref}/export"), web.client.get(f"/me/requests/{ref}/verify"),
                web.client.post(f"/me/requests/{ref}/verify", data={"code": li_code, "csrf": csrf}),
                web.client.post(f"/me/requests/{ref}/resend", data={"csrf": csrf}),
                web.client.get("/me/requests/not-a-ref/export")):
        assert got.status_code == 404 and "Not found" in got.text and "li@example.cn" not in got.text
    assert ref not in web.client.get("/me/requests").text


def test_kamoer_50_the_profile_page_edits_details_refuses_locked_ones_and_closes_the_account(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _sign_in(web, "zhang", "zhang@example.cn")
    sid = _subject_id(web, "zhang")
    page = web.client.get("/me/profile").text
    assert "Coral#2025!" not in page and "No: it is fixed once you have registered." in page
    assert re.findall(r'<input type="hidden" name="category" value="([a-z_]+)">', page) == ["password"], \
        "only details the policy lets a person change are offered"
    # a password is typed twice into password fields, never pre-filled
    assert re.findall(r'<input id="[vc]-password" name="(value|confirm)" type="password"[^>]*>', page) == [
        "value", "confirm"]
    assert 'type="password" required minlength="8" maxlength="2000" autocomplete="new-password">' in page
    csrf = _csrf(page)
    differ = web.client.post("/me/profile", data={"category": "password", "value": "N3w#Password",
                                                  "confirm": "N3w#Passwort", "csrf": csrf})
    assert "the two passwords you typed differ. Nothing was changed." in differ.text
    assert "N3w#Passw" not in differ.text and "N3w" not in str(differ.url)
    short = web.client.post("/me/profile", data={"category": "password", "value": "short", "confirm": "short",
                                                 "csrf": csrf})
    assert "Password: the new password must be at least 8 characters long. Nothing was changed." in short.text
    changed = web.client.post("/me/profile", data={"category": "password", "value": "N3w#Password",
                                                   "confirm": "N3w#Password", "csrf": csrf})
    assert "Saved: Password is updated." in changed.text and "N3w#Password" not in changed.text
    locked = web.client.post("/me/profile", data={"category": "username", "value": "someone-else", "csrf": csrf})
    assert "This detail cannot be changed after registration, as the policy says." in locked.text
    locked_email = web.client.post("/me/profile", data={"category": "email", "value": "new@example.cn", "csrf": csrf})
    assert "cannot be changed after registration" in locked_email.text
    no_csrf = web.client.post("/me/profile", data={"category": "password", "value": "Other#123", "confirm": "Other#123"})
    assert "The form is stale" in no_csrf.text
    values = {str(v["category"]): v["value"] for v in web.ctx.engine().export_subject(sid, actor="subject")}
    assert values["password"] == "N3w#Password" and values["username"] == "reefkeeper"
    assert values["email"] == "zhang@example.cn"
    unconfirmed = web.client.post("/me/close", data={"csrf": csrf})
    assert "Tick the box" in unconfirmed.text
    closed = web.client.post("/me/close", data={"csrf": csrf, "confirm": "yes"})
    assert closed.url.path == "/" and "Your account is closed and you are signed out" in closed.text
    assert web.client.get("/me", follow_redirects=False).status_code == 303
    with web.ctx.db.connect() as conn:
        assert conn.execute(select(lifecycle_events.c.kind)).scalars().all() == ["account_cancelled"]


def test_an_unsubscribe_link_asks_first_then_stops_marketing(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    sid = _subject_id(web, "zhang")
    token = unsubscribe_token(web.ctx.engine(), sid)
    asked = web.client.get("/unsubscribe", params={"token": token})
    assert asked.status_code == 200 and f'name="token" value="{token}"' in asked.text
    with web.ctx.db.connect() as conn:
        assert "marketing" not in consent.state_as_of(conn, sid)[1]  # a GET changes nothing
    done = web.client.post("/unsubscribe", data={"token": token})
    assert done.status_code == 200 and "You will get no more marketing messages." in done.text
    assert token not in str(done.url)
    with web.ctx.db.connect() as conn:
        assert "marketing" in consent.state_as_of(conn, sid)[1]
    again = web.client.post("/unsubscribe", data={"token": token})
    assert "You had already unsubscribed" in again.text
    forged = web.client.post("/unsubscribe", data={"token": token[:-3] + "abc"})
    assert 'role="alert"' in forged.text and "signature does not match" in forged.text
    assert "Traceback" not in forged.text


# -- the browser ------------------------------------------------------------------------------------------------------

def test_a_person_signs_in_consents_asks_for_their_data_verifies_by_code_and_downloads_it(
    web: Web, live: str, page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    _signup(web, "zhang", ZHANG)
    page.goto(live + "/")
    expect(page.get_by_role("heading", name="Privacy center", level=1)).to_be_visible()

    # sign in with the code from the local SMTP inbox
    page.get_by_label("Your identifier").fill("zhang")
    page.get_by_label("An email address we hold for you").fill("zhang@example.cn")
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("status")).to_contain_text("a six-digit code is on its way")
    page.get_by_label("Your identifier").fill("zhang")
    page.get_by_label("Six-digit code").fill(web.inbox.code_for("zhang@example.cn"))
    page.get_by_label("Six-digit code").press("Enter")
    expect(page.get_by_role("heading", name="What we hold about you")).to_be_visible()
    expect(page.get_by_text("zhang@example.cn", exact=True)).to_be_visible()

    # give a consent
    page.get_by_role("link", name="My consents").click()
    page.get_by_role("button", name="Give consent: Improvement program").click()
    expect(page.get_by_role("status")).to_have_text("Consent given: Improvement program.")
    expect(page.locator("#state-improvement_program")).to_have_text("given")

    # ask for their data: signed in, so confirmed at once without a second code
    page.get_by_role("link", name="My requests").click()
    page.get_by_label("What you want").select_option("access")
    expect(page.get_by_label("Where we send the answer")).to_have_value("zhang@example.cn")
    before = len(web.inbox.to("zhang@example.cn"))
    page.get_by_label("Anything you want to tell us (optional)").fill("Everything you hold, please.")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("is received and confirmed")
    assert len(web.inbox.to("zhang@example.cn")) == before
    ref = web.ctx.requests().requests_of_subject(_subject_id(web, "zhang"))[0]["ref"]

    # staff fulfil it
    done = web.client.post(f"/v1/requests/{ref}/fulfil", json={}, headers=web.as_role("privacy_officer"))
    assert done.status_code == 200 and done.json()["status"] == "fulfilled"

    # the person downloads the export
    page.reload()
    link = page.get_by_role("link", name=f"Download your data ({ref})")
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / "export.zip"
    info.value.save_as(saved)
    assert info.value.suggested_filename == f"export-{ref}.zip"
    with zipfile.ZipFile(saved) as zf:
        doc = json.loads(zf.read("data.json"))
    held = {v["category"]: v["value"] for v in doc["values"]}
    assert held == ZHANG
    # no personal data went into any address the browser visited
    assert "zhang" not in page.url and "example.cn" not in page.url


@pytest.mark.parametrize("path", PERSON_PAGES)
def test_a_signed_out_session_opens_no_person_page(web: Web, path: str) -> None:
    _signup(web, "zhang", ZHANG)
    _sign_in(web, "zhang", "zhang@example.cn")
    token = web.client.cookies["pk_session"]
    web.client.post("/signout", data={"csrf": _csrf(web.client.get("/me").text)})
    web.client.cookies.set("pk_session", token)  # the old cookie, kept: the session it named has ended
    got = web.client.get(path)
    assert got.url.path == "/" and "Please sign in first" in got.text


def test_forms_from_another_site_are_refused_sign_in_included(web: Web) -> None:
    """Login CSRF: a cross-site form must not sign a visitor in (there is no session token yet to check)."""
    _signup(web, "zhang", ZHANG)
    evil = {"Origin": "https://evil.example"}
    for path, form in (("/signin", {"identifier": "zhang", "email": "zhang@example.cn"}),
                       ("/signin/code", {"identifier": "zhang", "code": "123456"}),
                       ("/admin/signin", {"key": web.keys["admin"]})):
        got = web.client.post(path, data=form, headers=evil, follow_redirects=False)
        assert got.status_code == 403 and "another site" in got.json()["error"]["message"], path
        assert "set-cookie" not in got.headers
    assert web.inbox.messages == []  # nothing was sent either
    same = web.client.post("/signin", data={"identifier": "zhang", "email": "zhang@example.cn"},
                           headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert same.status_code == 303 and len(web.inbox.to("zhang@example.cn")) == 1


def test_koso_21_the_privacy_center_offers_the_opt_out_of_a_recipient_that_received_the_data(
    db_url: str, tmp_path: Path, smtp: Any
) -> None:
    from .conftest import make_web

    gen = make_web("koso", db_url, tmp_path, smtp)
    web = next(gen)
    try:
        svc = web.as_role("service")
        for context, values in (("account_creation", {"email": "rider@example.tw"}),
                                ("any_interaction", {"browser_name": "Firefox", "device_type": "Pixel 8",
                                                     "connection_info": "Android 14"})):
            assert web.client.post("/v1/collect", headers=svc, json={
                "person": "rider", "context": context, "values": values}).status_code == 200
        shared = web.client.post("/v1/share", headers=svc, json={
            "person": "rider", "recipient": "facebook_audience_network", "purpose": "advertising",
            "categories": ["device_type"]})
        assert shared.status_code == 200, shared.text
        fan = next(r for r in web.ctx.engine().pack.recipients if r.id == "facebook_audience_network")
        offered = [o for o in shared.json()["obligations"] if o["kind"] == "offer_opt_out"]
        assert offered == [{"kind": "offer_opt_out", "value": fan.opt_out_url, "by": "caller", "for_person": True,
                            "text": f"You can opt out of {fan.name}: {fan.opt_out_url}"}]
        _sign_in(web, "rider", "rider@example.tw")
        page = web.client.get("/me").text
        assert f'href="{fan.opt_out_url}"' in page and f'opt out of <span lang="en">{fan.name}</span>' in page
    finally:
        gen.close()


def test_an_attempt_on_someone_elses_request_in_the_center_is_a_404_and_is_audited(web: Web) -> None:
    from policykeeper.store import audit_log

    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    ref = web.ctx.requests().submit("li", "access", email="li@example.cn").ref
    _sign_in(web, "zhang", "zhang@example.cn")
    got = web.client.get(f"/me/requests/{ref}/verify")
    assert got.status_code == 404 and "li@example.cn" not in got.text
    with web.ctx.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                            .where(audit_log.c.kind == "access_refused")).all()
    assert [r.detail for r in rows] == [{"what": "request", "ref": ref, "held_by_another": True,
                                         "via": "privacy_center"}]
    assert rows[0].actor.startswith("subject:") and "li@example.cn" not in repr(rows)
