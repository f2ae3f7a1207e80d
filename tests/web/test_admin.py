"""The admin console: staff sign in with their key, every page checks one permission, forms carry the CSRF token,
requests are decided from the queue, and the charts and the data map are drawn on the server as SVG."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select, update

from policykeeper.incidents import record_incident
from policykeeper.notify import SmtpMailer
from policykeeper.pack import FixedDuration
from policykeeper.store._schema import audit_log
from policykeeper.versions import publish
from policykeeper.web import MemoryMailer

from ..conftest import Inbox
from .conftest import Web, make_web
from .test_api import LI, ZHANG, _bearer, _signup

PAGES = [  # path, permission, a role without it (None: every role has it)
    ("/admin", "requests:read", "service"),
    ("/admin/requests", "requests:read", "service"),
    ("/admin/consents", "consents:read", None),
    ("/admin/datamap", "data:map", "support_agent"),
    ("/admin/incidents", "incidents:read", "support_agent"),
    ("/admin/versions", "versions:read", "support_agent"),
    ("/admin/audit", "audit:verify", "support_agent"),
    ("/admin/evidence", "evidence:read", "service"),
    ("/admin/compiler", "versions:read", "support_agent"),
    ("/admin/mailbox", "keys:manage", "privacy_officer"),
]


def _console(web: Web, role: str) -> None:
    """Sign the test client in to the console with the role's key (replacing any console session)."""
    web.client.cookies.clear()
    got = web.client.post("/admin/signin", data={"key": web.keys[role], "next": "/admin"}, follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/admin", got.text


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _request(web: Web, person: str, values: dict[str, str], right: str = "access", *, verify: bool = True) -> str:
    """A person signs up and asks to exercise a right: signed in through the API (their session proves who they
    are: verified at once), or (``verify=False``) not signed in, so the request waits for its emailed code."""
    _signup(web, person, values)
    if not verify:
        return web.ctx.requests().submit(person, right, email=values["email"]).ref
    token = web.sign_in(person, values["email"])
    ticket = web.client.post("/v1/me/requests", json={"right": right, "email": values["email"]}, headers=_bearer(token))
    assert ticket.status_code == 201 and ticket.json()["status"] == "verified", ticket.text
    web.client.cookies.clear()
    return str(ticket.json()["ref"])


def _status(web: Web, ref: str) -> str:
    return str(web.ctx.requests().get(ref)["status"])


class _Fields(HTMLParser):
    """Every visible form field of a page and every label's ``for``."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str | None]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.fields.append((str(a.get("name")), a.get("id")))
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))


# -- signing in and permissions ------------------------------------------------------------------------------------

def test_staff_who_are_not_signed_in_are_sent_to_the_sign_in_page(web: Web) -> None:
    for path, _, _ in PAGES:
        got = web.client.get(path, follow_redirects=False)
        assert got.status_code == 303, path
        assert got.headers["location"].startswith("/admin/signin?next=" + path), path
    page = web.client.get("/admin/requests")  # followed: the sign-in form, which returns to the page asked for
    assert page.status_code == 200 and "Staff sign-in" in page.text and 'value="/admin/requests"' in page.text


def test_staff_sign_in_with_their_key_into_an_httponly_strict_cookie_and_sign_out(web: Web) -> None:
    assert web.client.post("/admin/signin", data={"key": web.keys["auditor"], "next": "https://evil.example/"},
                           follow_redirects=False).headers["location"] == "/admin"  # never sent off-site
    bad = web.client.post("/admin/signin", data={"key": "pkk_0000000000000000_nope", "next": "/admin"})
    assert bad.status_code == 200 and "that API key is not valid" in bad.text
    got = web.client.post("/admin/signin", data={"key": web.keys["auditor"], "next": "/admin/audit"},
                          follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/admin/audit"
    cookie = got.headers["set-cookie"].lower()
    assert cookie.startswith("pk_staff=pkc_") and "httponly" in cookie and "samesite=strict" in cookie
    page = web.client.get("/admin/audit")
    assert page.status_code == 200 and "Audit chains" in page.text and "auditor" in page.text
    session = str(web.client.cookies.get("pk_staff"))
    signed_out = web.client.post("/admin/signout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/admin/signin")
    web.client.cookies.clear()
    again = web.client.get("/admin/audit", headers=_bearer(session), follow_redirects=False)
    assert again.status_code == 303  # the session itself has ended, not just the cookie


@pytest.mark.parametrize(("path", "permission", "without"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_renders_for_a_role_with_its_permission_and_names_it_to_others(
    web: Web, path: str, permission: str, without: str | None
) -> None:
    _console(web, "admin")
    page = web.client.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html") and "Admin console" in page.text
    if without is not None:
        _console(web, without)
        refused = web.client.get(path)
        assert refused.status_code == 403
        assert permission in refused.text and f"the <strong>{without}</strong> role does not have" in refused.text


# -- requests --------------------------------------------------------------------------------------------------------

def test_the_queue_shows_each_request_with_its_deadline_and_the_dashboard_counts_them(web: Web) -> None:
    ref = _request(web, "zhang", ZHANG)
    unverified = _request(web, "li", LI, verify=False)
    _console(web, "support_agent")
    queue = web.client.get("/admin/requests").text
    assert f'href="/admin/requests/{ref}"' in queue and f'href="/admin/requests/{unverified}"' in queue
    row = queue.split(f"/admin/requests/{ref}", 1)[1].split("</tr>", 1)[0]
    item = next(r for r in web.ctx.requests().open_requests() if r["ref"] == ref)
    assert f'class="{item["state"]}"' in row and "z•••@e•••.cn" in row
    if item["due_at"] is not None:
        assert item["due_at"].strftime("%Y-%m-%d") in row
    board = web.client.get("/admin").text
    assert re.search(r'id="count-open">2<', board)


def test_overdue_and_due_soon_requests_are_highlighted_with_their_due_dates(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    gen: Iterator[Web] = make_web("kalos", db_url, tmp_path, smtp)  # KALOS: 30 calendar days from receipt
    web = next(gen)
    try:
        svc, now = web.ctx.requests(), dt.datetime.now(dt.UTC)
        web.ctx.engine().collect("li", "business_function", {"basic_data": "Li Wei", "user_info": "li@example.cn"})
        refs = {age: svc.submit("li", "access", email="li@example.cn", now=now - dt.timedelta(days=age)).ref
                for age in (40, 28, 1)}
        _console(web, "auditor")
        queue = web.client.get("/admin/requests").text
        for age, state, left in ((40, "overdue", "10 days overdue"), (28, "due_soon", "1 day left"),
                                 (1, "on_time", "28 days left")):
            row = queue.split(f"/admin/requests/{refs[age]}", 1)[1].split("</tr>", 1)[0]
            due = (now - dt.timedelta(days=age) + dt.timedelta(days=30)).strftime("%Y-%m-%d")
            assert f'<td class="{state}">' in row and left in row and due in row
        assert queue.index(refs[40]) < queue.index(refs[28]) < queue.index(refs[1])  # soonest deadline first
        board = web.client.get("/admin").text
        assert re.search(r'id="count-overdue" class="overdue">1<', board)
        assert re.search(r'id="count-due-soon" class="due_soon">1<', board)
        detail = web.client.get(f"/admin/requests/{refs[40]}").text
        assert '<span class="overdue">(10 days overdue)</span>' in detail
    finally:
        gen.close()


def test_a_support_agent_verifies_an_identity_but_cannot_fulfil(web: Web) -> None:
    ref = _request(web, "li", LI, verify=False)
    _console(web, "support_agent")
    page = web.client.get(f"/admin/requests/{ref}").text
    assert "Verification method" in page and "Fulfil request" not in page and "Refuse request" not in page
    done = web.client.post(f"/admin/requests/{ref}/verify", data={"csrf": _csrf(page), "method": "identity_proof",
                                                                  "reference": "ticket 41"})
    assert done.status_code == 200 and f"Request {ref} is verified." in done.text
    assert _status(web, ref) == "verified"
    refused = web.client.post(f"/admin/requests/{ref}/fulfil", data={"csrf": _csrf(page)})
    assert refused.status_code == 403 and "requests:act" in refused.text
    assert _status(web, ref) == "verified"


def test_staff_see_an_address_that_matches_no_one_on_record_and_must_say_why_they_go_on(web: Web) -> None:
    """Li signs in and asks for access giving Zhang's address: no code goes to Zhang; the console says the address is
    not Li's and verifies only with a reason, which the audit log keeps (the address never)."""
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    token = web.sign_in("li", LI["email"])
    made = web.client.post("/v1/me/requests", json={"right": "access", "email": ZHANG["email"]}, headers=_bearer(token))
    ref = str(made.json()["ref"])
    assert web.inbox.to(ZHANG["email"]) == []
    web.client.cookies.clear()
    _console(web, "support_agent")
    page = web.client.get(f"/admin/requests/{ref}").text
    assert "does not match the person on record" in page and 'name="mismatch_reason"' in page
    tried = web.client.post(f"/admin/requests/{ref}/verify", data={"csrf": _csrf(page), "method": "identity_proof",
                                                                   "reference": "ticket 42"})
    assert "does not match the person on record" in html.unescape(tried.text) and _status(web, ref) == "received"
    done = web.client.post(f"/admin/requests/{ref}/verify", data={
        "csrf": _csrf(page), "method": "identity_proof", "reference": "ticket 42",
        "mismatch_reason": "Li's new address, confirmed by phone"})
    assert f"Request {ref} is verified." in done.text and _status(web, ref) == "verified"
    with web.ctx.engine().db.connect() as conn:
        details = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")).scalars().all()
    verified = next(d for d in details if d["event"] == "verified")
    assert verified["mismatch_reason"] == "Li's new address, confirmed by phone"
    assert verified["address_match"] == "not_held" and ZHANG["email"] not in repr(details)
    # the API says the same, and takes the reason the same way
    made = web.client.post("/v1/me/requests", json={"right": "access", "email": ZHANG["email"]}, headers=_bearer(token))
    ref2 = str(made.json()["ref"])
    web.client.cookies.clear()
    queue = web.client.get("/v1/requests", headers=web.as_role("privacy_officer")).json()
    assert next(q for q in queue if q["ref"] == ref2)["address_match"] == "not_held"
    no = web.client.post(f"/v1/requests/{ref2}/verify", json={"method": "identity_proof", "reference": "t 43"},
                         headers=web.as_role("privacy_officer"))
    assert no.status_code >= 400 and "does not match the person on record" in no.text
    yes = web.client.post(f"/v1/requests/{ref2}/verify", headers=web.as_role("privacy_officer"),
                          json={"method": "identity_proof", "reference": "t 43", "mismatch_reason": "phone check"})
    assert yes.status_code == 200 and yes.json()["status"] == "verified"


def test_forms_without_the_sessions_csrf_token_are_refused(web: Web) -> None:
    ref = _request(web, "zhang", ZHANG)
    _console(web, "privacy_officer")
    for data in ({"ground": "risk_to_others"}, {"ground": "risk_to_others", "csrf": "0" * 32}):
        got = web.client.post(f"/admin/requests/{ref}/refuse", data=data)
        assert got.status_code == 403 and "the form is stale" in got.text
    # a key sent as a bearer token has no console session, so it cannot post console forms either
    web.client.cookies.clear()
    got = web.client.post(f"/admin/requests/{ref}/refuse", data={"ground": "risk_to_others", "csrf": "0" * 32},
                          headers=web.as_role("privacy_officer"))
    assert got.status_code == 403
    assert _status(web, ref) == "verified"


def test_a_refusal_takes_only_a_ground_of_the_policy(web: Web) -> None:
    ref = _request(web, "zhang", ZHANG)
    _console(web, "privacy_officer")
    page = web.client.get(f"/admin/requests/{ref}").text
    for ground in ("national_security", "unreasonably_repetitive", "identity_not_verified"):
        assert f'<option value="{ground}">' in page
    assert 'label="Must refuse (mandatory)"' in page and 'label="May refuse (discretionary)"' in page
    wrong = web.client.post(f"/admin/requests/{ref}/refuse", data={"csrf": _csrf(page), "ground": "too_busy"})
    assert wrong.status_code == 200 and "&#39;too_busy&#39; is not a refusal ground of this policy" in wrong.text
    assert 'class="err" role="alert"' in wrong.text and _status(web, ref) == "verified"
    one_click = web.client.post(f"/admin/requests/{ref}/refuse", data={"csrf": _csrf(page), "ground": "risk_to_others"})
    assert "cannot be undone" in one_click.text and _status(web, ref) == "verified"  # a confirming step first
    done = web.client.post(f"/admin/requests/{ref}/refuse", data={"csrf": _csrf(page), "ground": "risk_to_others",
                                                                  "confirm": "yes"})
    assert "is refused (a risk to others)" in done.text and _status(web, ref) == "refused"
    assert web.ctx.requests().get(ref)["refusal_ground"] == "risk_to_others"


def test_an_officer_extends_a_deadline_and_fulfils_a_correction(web: Web) -> None:
    ref = _request(web, "zhang", ZHANG, "correct")
    _console(web, "privacy_officer")
    page = web.client.get(f"/admin/requests/{ref}").text
    assert "Item to correct" in page and "Corrected value" in page
    before = web.ctx.requests().get(ref)["due_at"]
    bad = web.client.post(f"/admin/requests/{ref}/extend", data={"csrf": _csrf(page), "days": "x", "reason": "r"})
    assert "Days must be a whole number" in bad.text
    ext = web.client.post(f"/admin/requests/{ref}/extend", data={"csrf": _csrf(page), "days": "10",
                                                                 "reason": "records are on paper"})
    assert "is extended by 10 day(s)" in ext.text and _status(web, ref) == "extended"
    after = web.ctx.requests().get(ref)["due_at"]
    if before is not None:
        assert after - before == dt.timedelta(days=10)
    done = web.client.post(f"/admin/requests/{ref}/fulfil", data={"csrf": _csrf(page), "category": "password",
                                                                  "value": "N3w#Password"})
    assert "password is corrected" in done.text and _status(web, ref) == "fulfilled"
    assert web.client.get("/admin/requests/ffff").status_code == 404


def test_every_form_field_of_the_console_has_a_label(web: Web) -> None:
    ref = _request(web, "zhang", ZHANG)
    unverified = _request(web, "li", LI, verify=False)
    pages = [web.client.get("/admin/signin").text]
    _console(web, "admin")
    pages += [web.client.get(p).text for p, _, _ in PAGES]
    pages += [web.client.get(f"/admin/requests/{r}").text for r in (ref, unverified)]
    seen = 0
    for text in pages:
        parser = _Fields()
        parser.feed(text)
        for name, fid in parser.fields:
            assert fid and fid in parser.labels, f"field {name} has no label"
            seen += 1
    assert seen >= 7  # key, method, reference, refusal ground (x2), days, reason


# -- pictures and the rest -------------------------------------------------------------------------------------------

def test_the_consent_chart_draws_a_bar_per_day_for_consents_given_and_withdrawn(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    for action in ("given", "withdrawn"):
        got = web.client.post("/v1/consents", json={"person": "zhang", "target": "improvement_program",
                                                    "action": action}, headers=web.as_role("service"))
        assert got.status_code == 200, got.text
    _console(web, "auditor")
    page = web.client.get("/admin/consents?period=30").text  # a day per bar over a month
    svg = page.split('<svg', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title id=\"chart-title\">Consents given and withdrawn over time</title>" in svg
    today = dt.datetime.now(dt.UTC).date().isoformat()
    given = re.findall(rf'<rect class="bar given" data-day="{today}" data-count="(\d+)"', svg)
    withdrawn = re.findall(rf'<rect class="bar withdrawn" data-day="{today}" data-count="(\d+)"', svg)
    assert given and withdrawn and int(withdrawn[0]) == 1 and int(given[0]) >= 1
    table = page.split('id="consent-table"', 1)[1]
    assert f"<td>{today}</td><td>{given[0]}</td><td>1</td>" in table


def test_the_data_map_draws_categories_purposes_recipients_and_places_with_lines_between(web: Web) -> None:
    pack = web.ctx.engine().pack
    _console(web, "auditor")
    page = web.client.get("/admin/datamap").text
    svg = page.split('<svg', 1)[1].split("</svg>", 1)[0]
    nodes = re.findall(r'<g class="node" data-id="([a-z]+):([^"]+)">', svg)
    kinds = {k: [i for kk, i in nodes if kk == k] for k in ("cat", "pur", "rec", "reg")}
    assert sorted(kinds["cat"]) == sorted(c.id for c in pack.data_categories)
    assert sorted(kinds["pur"]) == sorted(p.id for p in pack.purposes.items)
    assert sorted(kinds["rec"]) == sorted(r.id for r in pack.recipients)
    assert kinds["reg"] == ["not stated"]  # Kamoer names no place of processing for any recipient
    for c in pack.data_categories:
        assert f'<title lang="en">{html.escape(c.name)}</title>' in svg
    lines = set(re.findall(r'<path class="link \w+" data-from="([^"]+)" data-to="([^"]+)"', svg))
    assert ("pur:purchase_delivery", "rec:logistics") in lines
    assert ("rec:logistics", "reg:not stated") in lines
    assert ("cat:phone", "pur:account_registration") in lines
    assert len(lines) >= len(pack.recipients) * 2
    assert 'id="map-recipients"' in page and "Logistics" in page.split('id="map-recipients"', 1)[1]


def test_incidents_are_listed_with_their_notices_and_timing(web: Web) -> None:
    eng = web.ctx.engine()
    now = dt.datetime.now(dt.UTC)
    iid = record_incident(eng, started_at=now - dt.timedelta(hours=5), systems=["shop-db"], categories=["email"],
                          reference="INC-2041", now=now)
    _console(web, "auditor")
    page = web.client.get("/admin/incidents").text
    assert f'Incident {iid} · <span translate="no">INC-2041</span> · open' in page
    assert "shop-db" in page and "0 individual notice(s)" in page


def test_versions_show_their_changes_and_notice(web: Web) -> None:
    from ..versions.test_versions import KAMOER_V2, NEW_KAMOER_RECIPIENT, _pack

    publish(web.ctx.engine(), _pack("kamoer", *KAMOER_V2, *NEW_KAMOER_RECIPIENT),
            now=dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC))
    _console(web, "auditor")
    page = web.client.get("/admin/versions").text
    assert "Version 2025-06-02" in page and "significant change" in page and "recipients" in page
    assert "Notice text" in page and "has updated its privacy policy" in page
    assert "(the version the engine started with)" in page


def test_the_audit_page_verifies_both_chains_and_names_the_first_bad_entry(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _console(web, "auditor")
    page = web.client.get("/admin/audit").text
    assert page.count(">ok<") == 2
    with web.ctx.db.begin() as conn:
        first = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq).limit(1)).scalar_one()
        conn.execute(update(audit_log).where(audit_log.c.seq == first).values(actor="someone-else"))
    broken = web.client.get("/admin/audit").text
    assert f"broken at entry {first}" in broken and broken.count(">ok<") == 1


def test_the_evidence_page_lists_each_promise_with_its_rules_and_its_tests(web: Web) -> None:
    _console(web, "auditor")
    page = web.client.get("/admin/evidence").text
    row = page.split('<tr id="KAMOER-50">', 1)[1].split("</tr>", 1)[0]
    assert "<code>rights.0</code>" in row
    assert "tests/web/test_api.py::test_kamoer_50_self_service_pages_show_and_edit_the_profile_and_close_the_account" \
        in row
    assert "promises: 78/78 encoded" in page


def test_the_evidence_page_shows_the_last_training_and_flags_one_overdue(web: Web) -> None:
    from policykeeper.organisation import record_training, set_department

    _console(web, "auditor")
    page = web.client.get("/admin/evidence").text
    assert "No privacy department on record" in page and "Recurrence not stated" in page
    eng = web.ctx.engine()
    set_department(eng, name="Personal Information Protection Department", contact="privacy@kamoer.example",
                   roles={"Data Protection Officer": 1})
    today = dt.date.today()
    record_training(eng, held_on=today - dt.timedelta(days=400), topic="Phishing drills", attendance=12)
    web.ctx.recurrence = {"staff_training": FixedDuration(value=12, unit="months")}
    section = web.client.get("/admin/evidence").text.split('<section id="organisation">', 1)[1].split("</section>")[0]
    assert "Personal Information Protection Department" in section and "Data Protection Officer" in section
    assert "Phishing drills (12 attended)" in section and "OVERDUE" in section and "KAMOER-41" in section
    record_training(eng, held_on=today, topic="Privacy law update", attendance=9)
    section = web.client.get("/admin/evidence").text.split('<section id="organisation">', 1)[1].split("</section>")[0]
    assert "Privacy law update (9 attended)" in section and "OVERDUE" not in section and "next due" in section


def test_an_installed_package_without_tests_says_where_the_test_list_is(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    from policykeeper.web import admin

    monkeypatch.setattr(admin, "tests_dir", lambda: None)
    _console(web, "auditor")
    page = web.client.get("/admin/evidence").text
    assert "The test list is available in the source repository" in page and "::test_" not in page
    assert '<tr id="KAMOER-50">' in page


def test_the_mailbox_shows_held_messages_only_without_a_mail_server(web: Web) -> None:
    _console(web, "admin")
    assert "none are held here" in web.client.get("/admin/mailbox").text
    smtp = web.ctx.mailer
    web.ctx.mailer = MemoryMailer()
    try:
        _signup(web, "zhang", ZHANG)
        web.client.post("/v1/session/code", json={"identifier": "zhang", "email": "zhang@example.cn"})
        page = web.client.get("/admin/mailbox").text
        assert "Your sign-in code" in page and "zhang@example.cn" in page and "no mail server is configured" in page.lower()
    finally:
        web.ctx.mailer = smtp


# -- in a real browser -----------------------------------------------------------------------------------------------

def _fulfil_in_the_browser(web: Web, live: str, page: object, ref: str) -> None:
    """Sign in to the console with the officer's key, find the request in the queue with its deadline, fulfil it."""
    item = next(r for r in web.ctx.requests().open_requests() if r["ref"] == ref)
    pg = page  # a Playwright page
    pg.goto(f"{live}/admin/requests")  # type: ignore[attr-defined]
    assert "/admin/signin" in pg.url  # type: ignore[attr-defined]
    pg.get_by_label("API key").fill(web.keys["privacy_officer"])  # type: ignore[attr-defined]
    pg.get_by_label("API key").press("Enter")  # type: ignore[attr-defined]  # the keyboard is enough
    pg.wait_for_url(f"{live}/admin/requests")  # type: ignore[attr-defined]
    row = pg.locator("tr", has_text=ref)  # type: ignore[attr-defined]
    text = row.inner_text()
    assert "confirmed, in progress" in text and "•••@" in text
    if item["due_at"] is not None:
        assert item["due_at"].strftime("%Y-%m-%d") in text
    pg.get_by_role("link", name=ref).click()  # type: ignore[attr-defined]
    pg.wait_for_url(f"{live}/admin/requests/{ref}")  # type: ignore[attr-defined]
    assert pg.locator("#status").inner_text() == "confirmed, in progress"  # type: ignore[attr-defined]
    pg.get_by_role("button", name="Fulfil request").focus()  # type: ignore[attr-defined]
    pg.keyboard.press("Enter")  # type: ignore[attr-defined]
    pg.get_by_role("status").wait_for()  # type: ignore[attr-defined]
    assert f"Request {ref} is fulfilled" in pg.get_by_role("status").inner_text()  # type: ignore[attr-defined]
    assert pg.locator("#status").inner_text() == "done"  # type: ignore[attr-defined]
    assert _status(web, ref) == "fulfilled"


def test_a_staff_member_sees_the_request_with_its_deadline_and_fulfils_it(web: Web, live: str, page: object) -> None:
    ref = _request(web, "zhang", ZHANG)
    _fulfil_in_the_browser(web, live, page, ref)
    token = web.sign_in("zhang", ZHANG["email"])
    assert web.client.get(f"/v1/me/requests/{ref}", headers=_bearer(token)).json()["status"] == "fulfilled"
    export = web.client.get(f"/v1/me/requests/{ref}/export", headers=_bearer(token))
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"


@pytest.fixture
def kokkok_web(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    """KOKKOK, whose request deadline the law sets: the operator states it (30 days), so requests have a due date."""
    from policykeeper.pack._types import FixedDuration

    for web in make_web("kokkok", db_url, tmp_path, smtp):
        web.ctx.deadlines = {"per_applicable_law": FixedDuration(value=30, unit="calendar_days")}
        yield web


@pytest.fixture
def kokkok_live(kokkok_web: Web) -> Iterator[str]:
    from .conftest import serve

    yield from serve(kokkok_web)


def test_a_staff_member_sees_the_due_date_of_a_request_and_fulfils_it(
    kokkok_web: Web, kokkok_live: str, page: object
) -> None:
    web = kokkok_web
    alice = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c",
             "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
    got = web.client.post("/v1/collect", json={"person": "alice", "context": "personal_customer", "values": alice,
                                               "facts": {"channel": "online"}}, headers=web.as_role("service"))
    assert got.status_code == 200, got.text
    token = web.sign_in("alice", alice["email"])
    ref = web.client.post("/v1/me/requests", json={"right": "access", "email": alice["email"]},
                          headers=_bearer(token)).json()["ref"]
    web.client.post(f"/v1/me/requests/{ref}/verify", json={"code": web.inbox.code_for(alice["email"])},
                    headers=_bearer(token))
    item = next(r for r in web.ctx.requests().open_requests() if r["ref"] == ref)
    assert item["due_at"] is not None and item["state"] == "on_time"
    _fulfil_in_the_browser(web, kokkok_live, page, ref)
