"""Profile edits checked by their category's kind (in the engine, so the center, the API and staff corrections agree),
a new sign-in address confirmed by a code sent to it, GPC on the consents page, and the operator's branding."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadDetailError, ConfigError, consent
from policykeeper.notify import SmtpMailer
from policykeeper.store._schema import audit_log, consent_events
from policykeeper.web._brand import Branding, contrast_on_white, load_branding

from ..conftest import Inbox
from .conftest import Web, make_web

ALICE = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c", "phone": "+856 20 5555 0101",
         "email": "alice@example.com", "date_of_birth": "1990-04-02", "gender": "female"}


@pytest.fixture
def kokkok(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    """The Kokkok pack: a person may change every detail, their email address included."""
    yield from make_web("kokkok", db_url, tmp_path, smtp)


def signup(web: Web, person: str = "alice", values: dict[str, str] | None = None) -> str:
    got = web.client.post("/v1/collect", json={"person": person, "context": "personal_customer",
                                               "values": values or ALICE, "facts": {"channel": "online"}},
                          headers=web.as_role("service"))
    assert got.status_code == 200, got.text
    eng = web.ctx.engine()
    with web.ctx.db.connect() as conn:
        found = eng.subject_id_of(conn, person)
    assert found is not None
    return found


def sign_in(web: Web, identifier: str, email: str, lang: str = "en") -> str:
    """Sign in through the center's forms (the session cookie stays on the client); returns a CSRF token."""
    web.client.post(f"/signin?lang={lang}", data={"identifier": identifier, "email": email})
    opened = web.client.post("/signin/code", data={"identifier": identifier, "code": web.inbox.code_for(email)})
    assert opened.url.path == "/me", opened.url
    return csrf_of(web.client.get("/me/profile").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{32})"', html)
    assert found
    return found.group(1)


def held(web: Web, sid: str) -> dict[str, str]:
    return {str(v["category"]): str(v["value"]) for v in web.ctx.engine().export_subject(sid, actor="subject")}


# -- the engine: the library function behind every entry point --------------------------------------------------------

@pytest.mark.parametrize(("category", "value", "problem"), [
    ("date_of_birth", "31/02/banana", "date"), ("date_of_birth", "2023-02-31", "date"),
    ("date_of_birth", "2999-01-01", "date_future"), ("date_of_birth", "1850-06-01", "date_too_old"),
    ("email", "not-an-email", "email"), ("email", "a@b", "email"), ("email", "two@one.cn three@one.cn", "email"),
    ("phone", "call me", "phone"), ("phone", "12", "phone"), ("gender", "banana", "choice"),
    ("password", "abc1234", "secret_short"), ("name", "   ", "empty"), ("name", "x" * 2001, "too_long"),
    ("name", "tab\x07bell", "control"),
])
def test_a_value_that_does_not_fit_its_kind_is_refused_and_nothing_changes(
        kokkok: Web, category: str, value: str, problem: str) -> None:
    sid = signup(kokkok)
    before = held(kokkok, sid)
    with pytest.raises(BadDetailError) as caught:
        kokkok.ctx.engine().correct_subject(sid, category, value, actor="subject")
    assert caught.value.category == category and caught.value.problem == problem
    assert value not in caught.value.message or not value.strip()  # the message names the detail, not the value
    assert held(kokkok, sid) == before
    with kokkok.ctx.db.connect() as conn:
        assert not conn.execute(select(audit_log.c.seq).where(audit_log.c.kind == "correction")).first()


def test_values_that_fit_are_kept_normalised(kokkok: Web) -> None:
    sid = signup(kokkok)
    eng = kokkok.ctx.engine()
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    for category, value, kept in (("date_of_birth", f" {yesterday} ", yesterday), ("phone", "+856 20 5555 0199", None),
                                  ("gender", "not_said", None), ("name", "  Alice Q ", "Alice Q"),
                                  ("password", " spaces count ", " spaces count ")):
        assert eng.correct_subject(sid, category, value, actor="subject") == 1
        assert held(kokkok, sid)[category] == (kept if kept is not None else value)


def test_staff_corrections_are_checked_the_same_way(kokkok: Web) -> None:
    signup(kokkok)
    token = kokkok.sign_in("alice", "alice@example.com")
    me = {"Authorization": f"Bearer {token}"}
    ref = kokkok.client.post("/v1/me/requests", json={"right": "correct", "email": "alice@example.com"},
                             headers=me).json()["ref"]
    assert kokkok.client.post(f"/v1/me/requests/{ref}/verify", json={"code": kokkok.inbox.code_for(
        "alice@example.com")}, headers=me).status_code == 200
    bad = kokkok.client.post(f"/v1/requests/{ref}/fulfil", json={"category": "date_of_birth", "value": "31/02/banana"},
                             headers=kokkok.as_role("privacy_officer"))
    assert bad.status_code == 400 and "date of birth is not a real date" in bad.json()["error"]["message"]


# -- the API and the center say the same ------------------------------------------------------------------------------

def test_the_api_refuses_the_same_values_naming_the_field(kokkok: Web) -> None:
    sid = signup(kokkok)
    me = {"Authorization": f"Bearer {kokkok.sign_in('alice', 'alice@example.com')}"}
    for category, value in (("date_of_birth", "31/02/banana"), ("phone", "not a phone"), ("gender", "x")):
        got = kokkok.client.patch("/v1/me/profile", json={"category": category, "value": value}, headers=me)
        assert got.status_code == 422, got.text
        error = got.json()["error"]
        assert error["where"] == "value" and "nothing was changed" in error["message"]
        assert category.replace("_", " ") in error["message"]
    assert held(kokkok, sid)["date_of_birth"] == "1990-04-02"
    ok = kokkok.client.patch("/v1/me/profile", json={"category": "date_of_birth", "value": "1991-05-06"}, headers=me)
    assert ok.status_code == 200 and ok.json() == {"category": "date_of_birth", "replaced": 1, "pending": False}


def test_the_center_says_what_and_where_in_the_persons_language(kokkok: Web) -> None:
    sid = signup(kokkok)
    csrf = sign_in(kokkok, "alice", "alice@example.com")
    page = kokkok.client.get("/me/profile").text
    assert 'type="date" required min="1900-01-01" max="' in page and 'type="tel"' in page
    assert 'value="1990-04-02"' in page and "correct horse battery" not in page
    got = kokkok.client.post("/me/profile", data={"category": "date_of_birth", "value": "31/02/banana",
                                                  "csrf": csrf})
    assert 'role="alert"' in got.text and "Date of Birth: this is not a real date. Write it as year-month-day, like " \
        "1990-04-21. Nothing was changed." in got.text
    future = kokkok.client.post("/me/profile", data={"category": "date_of_birth", "value": "2999-01-01",
                                                     "csrf": csrf})
    assert "the date must be in the past" in future.text
    kokkok.client.cookies.set("pk_lang", "zh-Hans")
    chinese = kokkok.client.post("/me/profile", data={"category": "email", "value": "not-an-email", "csrf": csrf})
    assert "Email：这不是电子邮箱地址（应形如 name@example.com）。未作任何更改。" in chinese.text
    kokkok.client.cookies.delete("pk_lang")
    assert held(kokkok, sid)["email"] == "alice@example.com" and held(kokkok, sid)["date_of_birth"] == "1990-04-02"
    saved = kokkok.client.post("/me/profile", data={"category": "gender", "value": "another", "csrf": csrf})
    assert "Saved: Gender is updated." in saved.text and held(kokkok, sid)["gender"] == "another"


# -- a new sign-in address --------------------------------------------------------------------------------------------

def test_a_new_email_is_confirmed_by_a_code_sent_to_it_before_it_replaces_the_old_one(kokkok: Web) -> None:
    sid = signup(kokkok)
    csrf = sign_in(kokkok, "alice", "alice@example.com")
    old_mail = len(kokkok.inbox.to("alice@example.com"))
    asked = kokkok.client.post("/me/profile", data={"category": "email", "value": "Alice.New@Example.ORG",
                                                    "csrf": csrf})
    assert "We sent a code to the new address" in asked.text, re.findall(r"<main.*?</h1>.{0,400}", asked.text, re.S)
    assert 'id="confirm-h"' in asked.text
    assert "Alice.New" not in str(asked.url)
    sent = kokkok.inbox.to("Alice.New@example.org")
    assert len(sent) == 1 and sent[0]["Subject"] == "Confirm your new email address"
    assert len(kokkok.inbox.to("alice@example.com")) == old_mail  # the code goes to the new address only
    assert held(kokkok, sid)["email"] == "alice@example.com"  # not changed yet ...
    kokkok.client.cookies.pop("pk_session")
    kokkok.sign_in("alice", "alice@example.com")  # ... and the old address still signs in
    csrf = sign_in(kokkok, "alice", "alice@example.com")
    code = kokkok.inbox.code_for("Alice.New@example.org")
    wrong = "000000" if code != "000000" else "111111"
    for value, given in (("alice.new@example.org", wrong), ("other@example.org", code)):
        refused = kokkok.client.post("/me/profile/email", data={"category": "email", "value": value, "code": given,
                                                                "csrf": csrf})
        assert "That code is not valid for this address" in refused.text
    assert held(kokkok, sid)["email"] == "alice@example.com"
    done = kokkok.client.post("/me/profile/email", data={"category": "email", "value": "Alice.New@example.org",
                                                         "code": code, "csrf": csrf})
    assert "Saved: Email is updated. Sign in with the new address from now on." in done.text
    assert held(kokkok, sid)["email"] == "Alice.New@example.org"
    again = kokkok.client.post("/me/profile/email", data={"category": "email", "value": "Alice.New@example.org",
                                                          "code": code, "csrf": csrf})
    assert "That code is not valid" in again.text  # a code works once
    kokkok.client.cookies.pop("pk_session")
    kokkok.sign_in("alice", "alice.new@example.org")


def test_a_stale_form_goes_back_to_its_own_page_and_changes_nothing(kokkok: Web) -> None:
    """The center's form guard: without the session's CSRF token a form is refused, back on the page it came from
    (the new address's form at its confirming form), and nothing is changed, sent or closed."""
    sid = signup(kokkok)
    csrf = sign_in(kokkok, "alice", "alice@example.com")
    asked = kokkok.client.post("/me/profile", data={"category": "email", "value": "alice.new@example.org",
                                                    "csrf": csrf})
    assert "We sent a code to the new address" in asked.text
    code = kokkok.inbox.code_for("alice.new@example.org")
    mails = len(kokkok.inbox.messages)
    before = held(kokkok, sid)
    with kokkok.ctx.db.connect() as conn:
        consents = consent.state_as_of(conn, sid)
    forms = [("/me/profile", {"category": "name", "value": "Someone Else"}, "/me/profile?err="),
             ("/me/profile/email", {"category": "email", "value": "alice.new@example.org", "code": code},
              "/me/profile?err="),
             ("/me/consents/marketing", {"action": "given"}, "/me/consents?err="),
             ("/me/close", {"confirm": "yes"}, "/me/profile?err=")]
    for path, data, back in forms:
        for token in (None, "0" * 32):
            sent = data if token is None else {**data, "csrf": token}
            got = kokkok.client.post(path, data=sent, follow_redirects=False)
            where = got.headers["location"]
            assert got.status_code == 303 and where.startswith(back), (path, where)
            assert where.endswith("#confirm-h") == (path == "/me/profile/email"), where
            assert "The form is stale" in kokkok.client.get(where).text
    assert held(kokkok, sid) == before and len(kokkok.inbox.messages) == mails
    assert kokkok.client.get("/me", follow_redirects=False).status_code == 200  # still signed in: not closed
    with kokkok.ctx.db.connect() as conn:
        assert consent.state_as_of(conn, sid) == consents


def test_the_code_for_a_new_address_never_opens_a_session_and_is_spent_after_five_tries(kokkok: Web) -> None:
    signup(kokkok)
    me = {"Authorization": f"Bearer {kokkok.sign_in('alice', 'alice@example.com')}"}
    pending = kokkok.client.patch("/v1/me/profile", json={"category": "email", "value": "new@example.org"},
                                  headers=me)
    assert pending.status_code == 200 and pending.json() == {"category": "email", "replaced": 0, "pending": True}
    code = kokkok.inbox.code_for("new@example.org")
    for who in ("alice", "new@example.org"):
        assert kokkok.client.post("/v1/session", json={"identifier": who, "code": code}).status_code == 401
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        bad = kokkok.client.post("/v1/me/profile/email", json={"category": "email", "value": "new@example.org",
                                                               "code": wrong}, headers=me)
        assert bad.status_code == 422 and bad.json()["error"]["where"] == "code"
    spent = kokkok.client.post("/v1/me/profile/email", json={"category": "email", "value": "new@example.org",
                                                             "code": code}, headers=me)
    assert spent.status_code == 422  # five wrong tries spend the code
    kokkok.client.patch("/v1/me/profile", json={"category": "email", "value": "new@example.org"}, headers=me)
    fresh = kokkok.inbox.code_for("new@example.org")
    ok = kokkok.client.post("/v1/me/profile/email", json={"category": "email", "value": "new@example.org",
                                                          "code": fresh}, headers=me)
    assert ok.status_code == 200 and ok.json() == {"category": "email", "replaced": 1, "pending": False}


def test_a_locked_email_stays_refused_with_no_code_sent(web: Web) -> None:
    """Kamoer fixes the email address at registration (KAMOER-51): no code goes anywhere."""
    from .test_center import ZHANG, _signup

    _signup(web, "zhang", ZHANG)
    me = {"Authorization": f"Bearer {web.sign_in('zhang', 'zhang@example.cn')}"}
    got = web.client.patch("/v1/me/profile", json={"category": "email", "value": "new@example.cn"}, headers=me)
    assert got.status_code == 403 and got.json()["error"]["where"] == "category"
    assert web.inbox.to("new@example.cn") == []


# -- GPC on the consents page -----------------------------------------------------------------------------------------

def _ledger(web: Web, sid: str) -> list[tuple[str, str, str]]:
    with web.ctx.db.connect() as conn:
        rows = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.evidence)
                            .where(consent_events.c.subject_id == sid).order_by(consent_events.c.seq)).all()
    return [(r.target, r.action, str((r.evidence or {}).get("by"))) for r in rows]


def test_a_gpc_signal_refuses_the_sharing_consents_and_the_consents_page_says_so(kokkok: Web) -> None:
    """Kokkok's optional sharing (marketing, on by default) is a sale/sharing-type consent: GPC withdraws it, recorded
    as ``by: GPC`` like the consent script does; its sensitive-data consent is not GPC's to refuse."""
    sid = signup(kokkok)
    sign_in(kokkok, "alice", "alice@example.com")
    plain = kokkok.client.get("/me/consents").text
    assert "data-gpc-consents" not in plain and 'data-state="given"' in plain
    assert ("optional_sharing", "withdrawn", "GPC") not in _ledger(kokkok, sid)
    page = kokkok.client.get("/me/consents", headers={"Sec-GPC": "1"}).text
    assert "data-gpc-consents" in page and "data-gpc" in page
    assert re.search(r'id="state-optional_sharing" data-state="withdrawn">withdrawn</strong>\s*<span class="muted" '
                     r"data-by-gpc>\(by your browser's Global Privacy Control signal, on ", page)
    ledger = _ledger(kokkok, sid)
    assert ("optional_sharing", "withdrawn", "GPC") in ledger and ("marketing", "withdrawn", "gpc") in ledger
    assert not any(t == "sensitive_data" for t, _, _ in ledger)
    kokkok.client.get("/me/consents", headers={"Sec-GPC": "1"})
    assert _ledger(kokkok, sid) == ledger  # once: the next signal changes nothing
    with kokkok.ctx.db.connect() as conn:
        audited = conn.execute(select(audit_log.c.actor).where(audit_log.c.kind == "consent")).scalars().all()
    assert audited.count("GPC") == 1


def test_a_pack_that_does_not_honour_gpc_records_nothing(db_url: str, tmp_path: Path,
                                                         smtp: tuple[Inbox, SmtpMailer]) -> None:
    from policykeeper import load_pack

    pack = load_pack("kokkok")
    refusing = pack.model_copy(update={"marketing": pack.marketing.model_copy(update={"honor_gpc": False})})  # type: ignore[union-attr]
    for web in make_web(refusing, db_url, tmp_path, smtp):
        sid = signup(web)
        sign_in(web, "alice", "alice@example.com")
        page = web.client.get("/me/consents", headers={"Sec-GPC": "1"}).text
        assert "does not act on it" in page and "data-gpc-consents" not in page
        assert not any(by.lower() == "gpc" for _, _, by in _ledger(web, sid))


# -- branding ---------------------------------------------------------------------------------------------------------

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/6jcdVQAAAABJRU5ErkJggg==")


def test_branding_is_read_from_the_home_directory_and_checked(tmp_path: Path) -> None:
    assert load_branding(tmp_path) == Branding()
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "branding.yaml").write_text("branding:\n  name: Reef Privacy\n  logo: logo.png\n  accent: '#0B6E4F'\n")
    brand = load_branding(tmp_path)
    assert brand.name == "Reef Privacy" and brand.accent == "#0b6e4f"
    assert brand.logo == "data:image/png;base64," + base64.b64encode(PNG).decode()
    for text, said in (("branding:\n  accent: '#ffff00'\n", "too light to read on white"),
                       ("branding:\n  accent: red\n", "#rrggbb"),
                       ("branding:\n  logo: logo.gif\n", "PNG, JPEG, WebP or SVG"),
                       ("branding:\n  logo: missing.png\n", "cannot be read"),
                       ("branding:\n  colour: '#000000'\n", "branding has no colour"),
                       ("branding:\n  name: '<script>'\n", "one line of text")):
        (tmp_path / "branding.yaml").write_text(text)
        with pytest.raises(ConfigError, match=re.escape(said)):
            load_branding(tmp_path)
    assert contrast_on_white("#000000") == pytest.approx(21.0) and contrast_on_white("#ffffff") == pytest.approx(1.0)


def test_the_center_and_the_console_show_the_operators_name_logo_and_colour(web: Web) -> None:
    logo = "data:image/png;base64," + base64.b64encode(PNG).decode()
    web.ctx.branding = Branding(name="Reef Privacy", logo=logo, accent="#0b6e4f")
    for path in ("/", "/policy", "/admin/"):
        got = web.client.get(path)
        assert got.status_code == 200, path
        assert "<strong lang=\"en\">Reef Privacy</strong>" in got.text and f'src="{logo}"' in got.text, path
        assert ":root { --accent: #0b6e4f; }" in got.text, path
        assert "img-src 'self' data:" in got.headers["content-security-policy"], path  # the logo needs no other source
    web.ctx.branding = Branding()
    plain = web.client.get("/").text
    assert ">Reef Privacy<" not in plain and 'class="brand-logo"' not in plain
    assert f'<strong lang="en">{web.ctx.pack.controller.legal_name}</strong>' in plain


# -- mails to people --------------------------------------------------------------------------------------------------

def test_closing_an_account_emails_what_goes_when_in_the_persons_language(web: Web) -> None:
    """Kamoer deletes everything held for an account once it is closed (rule while_using): the mail gives the date."""
    from .test_center import ZHANG, _signup

    _signup(web, "zhang", ZHANG)
    web.client.cookies.set("pk_lang", "zh-Hans")
    web.client.post("/signin", data={"identifier": "zhang", "email": "zhang@example.cn"})
    web.client.post("/signin/code", data={"identifier": "zhang", "code": web.inbox.code_for("zhang@example.cn")})
    csrf = csrf_of(web.client.get("/me/profile").text)
    before = len(web.inbox.to("zhang@example.cn"))
    closed = web.client.post("/me/close", data={"csrf": csrf, "confirm": "yes"})
    assert "我们已通过电子邮件告知您各项信息的处理时间。" in closed.text
    mails = web.inbox.to("zhang@example.cn")
    assert len(mails) == before + 1
    mail = mails[-1]
    body = mail.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    today = dt.datetime.now(dt.UTC).date()
    assert str(make_header(decode_header(str(mail["Subject"])))) == "您的账户已注销：您的数据将如何处理"
    assert f"于 {today.year}年{today.month}月{today.day}日 或稍后删除：" in body
    for name in ("Mobile phone number", "Email address", "Created username", "Password"):
        assert name in body
    assert "Coral#2025!" not in body and "zhang@example.cn" not in body  # names of details, never their values


def test_the_closing_schedule_follows_the_packs_rules(kokkok: Web) -> None:
    """Kokkok has no rule that starts when an account closes: details stay until their purposes end, and payment
    records are kept as a record for as long as the law requires."""
    from policykeeper.web._closing import closing_schedule, closing_text

    eng = kokkok.ctx.engine()
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    steps = closing_schedule(eng, ["email", "phone", "payment_records"], now)
    assert {(s.what, s.categories) for s in steps} == {("purposes", ("email", "phone")),
                                                     ("kept", ("payment_records",))}
    _, body = closing_text(eng, steps, "en", now)
    assert "Your account was closed on 2 March 2026." in body
    assert "Kept only until the purposes they were collected for end, then deleted or anonymised: Email" in body
    assert "Kept as a record for as long as the law requires, then deleted: Payment" in body


def test_an_export_ready_mail_links_to_the_signed_in_requests_page(kokkok: Web) -> None:
    signup(kokkok)
    me = {"Authorization": f"Bearer {kokkok.sign_in('alice', 'alice@example.com')}"}
    ref = kokkok.client.post("/v1/me/requests", json={"right": "access", "email": "alice@example.com"},
                             headers=me).json()["ref"]
    kokkok.client.post(f"/v1/me/requests/{ref}/verify", json={"code": kokkok.inbox.code_for("alice@example.com")},
                       headers=me)
    assert kokkok.client.post(f"/v1/requests/{ref}/fulfil", json={},
                              headers=kokkok.as_role("privacy_officer")).status_code == 200
    done = kokkok.inbox.to("alice@example.com")[-1]
    body = done.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    assert "is ready" in body and f"{kokkok.ctx.public_url}/me/requests" in body


def test_the_sign_in_code_comes_in_the_language_of_the_page_it_was_asked_from(kokkok: Web) -> None:
    signup(kokkok)
    kokkok.client.post("/signin?lang=zh-Hans", data={"identifier": "alice", "email": "alice@example.com"})
    mail = kokkok.inbox.to("alice@example.com")[-1]
    assert str(make_header(decode_header(str(mail["Subject"])))) == "您的登录验证码"
    assert "分钟内有效" in mail.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    kokkok.client.post("/signin?lang=en", data={"identifier": "alice", "email": "alice@example.com"})
    assert kokkok.inbox.to("alice@example.com")[-1]["Subject"] == "Your sign-in code"
