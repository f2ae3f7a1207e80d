"""The consent script's public endpoints: CORS limited to listed origins, rate-limited, no personal data, audited."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from policykeeper import load_pack
from policykeeper._exceptions import ConfigError
from policykeeper.crypto import KeyRing
from policykeeper.marketing import register_tracker
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log, consent_events
from policykeeper.web import MemoryMailer, WebContext, create_app
from policykeeper.web._site import ConsentSite, gpc_note, load_site_settings, site_purposes

from .conftest import Web

SHOP = "http://shop.test"
CONFIG = "/v1/consent-script/config"
CHOICES = "/v1/consent-script/choices"


def make_ctx(pack: str, db_url: str, tmp_path: Path, rate: int = 1000) -> WebContext:
    return WebContext(db=open_database(db_url), keys=KeyRing.init(tmp_path / "keys"), pack=load_pack(pack),
                      mailer=MemoryMailer(), consent_site=ConsentSite(origins=(SHOP,), rate_per_minute=rate))


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, WebContext]]:
    ctx = make_ctx("kokkok", db_url, tmp_path)
    with TestClient(create_app(ctx)) as client:
        yield client, ctx
    ctx.db.dispose()


def _events(ctx: WebContext, device: str) -> list[tuple[str, str, str]]:
    with ctx.db.connect() as conn:
        rows = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.evidence)
                            .where(consent_events.c.subject_id == device).order_by(consent_events.c.seq)).all()
    return [(r.target, r.action, r.evidence["by"]) for r in rows]


def test_config_offers_the_cookie_purposes_with_essential_ones_always_on(site: tuple[TestClient, WebContext]) -> None:
    client, _ = site
    got = client.get(CONFIG, headers={"Origin": SHOP})
    assert got.status_code == 200 and got.headers["access-control-allow-origin"] == SHOP
    body = got.json()
    assert body["cookies"] is True and body["choices"] == {}
    by_id = {p["id"]: p for p in body["purposes"]}
    assert by_id["cookie_essential"]["essential"] and not by_id["cookie_ux"]["essential"]
    assert by_id["cookie_cross_site_ads"]["gpc"] and not by_id["cookie_ux"]["gpc"]
    assert client.get(CONFIG, headers={"Sec-GPC": "1"}).json()["gpc_seen"] is True


def test_choices_land_in_the_ledger_under_a_signed_device_id_and_each_write_is_audited(
        site: tuple[TestClient, WebContext]) -> None:
    client, ctx = site
    got = client.post(CHOICES, json={"choices": {"cookie_ux": True, "cookie_ad_delivery": False}}, headers={"Origin": SHOP})
    assert got.status_code == 200, got.text
    token = got.json()["device"]
    device = token.split(".")[0]
    assert _events(ctx, device) == [("cookie_ad_delivery", "refused", "consent_script"), ("cookie_ux", "given", "consent_script")]
    # the same choices again change nothing; a change is recorded as withdrawn
    client.post(CHOICES, json={"device": token, "choices": {"cookie_ux": True}}, headers={"Origin": SHOP})
    client.post(CHOICES, json={"device": token, "choices": {"cookie_ux": False}, "method": "withdraw_link"},
                headers={"Origin": SHOP})
    assert _events(ctx, device)[2:] == [("cookie_ux", "withdrawn", "consent_script")]
    assert client.get(CONFIG, headers={"X-Consent-Device": token}).json()["choices"] == {
        "cookie_ad_delivery": "refused", "cookie_ux": "withdrawn"}
    with ctx.db.connect() as conn:
        audited = conn.execute(select(audit_log.c.actor, audit_log.c.subject_id, audit_log.c.detail)
                               .where(audit_log.c.kind == "consent")).all()
    assert len(audited) == 3 and all(a.subject_id == device and a.actor == "consent_script" for a in audited)
    assert "origin" not in str([a.detail for a in audited])  # the audit holds what changed, nothing about the visitor


def test_gpc_refuses_what_it_covers_recorded_as_gpc(site: tuple[TestClient, WebContext]) -> None:
    client, ctx = site
    got = client.post(CHOICES, json={"choices": {"cookie_cross_site_ads": True, "cookie_ux": True}},
                      headers={"Origin": SHOP, "Sec-GPC": "1"})
    device = got.json()["device"].split(".")[0]
    events = _events(ctx, device)
    assert ("cookie_cross_site_ads", "refused", "GPC") in events and ("cookie_ux", "given", "consent_script") in events
    gpc_purposes = {p.id for p in site_purposes(ctx.pack) if p.gpc}
    assert {t for t, a, by in events if by == "GPC"} == gpc_purposes


@pytest.mark.parametrize("body, words", [
    ({"choices": {"cookie_nope": True}}, "not cookie purposes"),
    ({"choices": {"cookie_essential": False}}, "essential purposes are always on"),
    ({"device": "dv" + "0" * 30 + ".forged", "choices": {"cookie_ux": True}}, "signature does not match"),
    ({"device": "someone@example.com", "choices": {"cookie_ux": True}}, "malformed"),
])
def test_bad_choices_are_refused_and_change_nothing(site: tuple[TestClient, WebContext], body: dict[str, object],
                                                    words: str) -> None:
    client, ctx = site
    got = client.post(CHOICES, json=body, headers={"Origin": SHOP})
    assert got.status_code == 400 and words in got.json()["error"]["message"]
    with ctx.db.connect() as conn:
        assert conn.execute(select(consent_events.c.seq)).first() is None


def test_cors_is_limited_to_the_listed_origins(site: tuple[TestClient, WebContext]) -> None:
    client, ctx = site
    pre = client.options(CHOICES, headers={"Origin": SHOP, "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type,x-consent-device"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == SHOP
    assert "X-Consent-Device" in pre.headers["access-control-allow-headers"]
    other = "https://evil.example"
    pre = client.options(CHOICES, headers={"Origin": other, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers
    got = client.post(CHOICES, json={"choices": {"cookie_ux": True}}, headers={"Origin": other})
    assert got.status_code == 403 and got.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in got.headers
    with ctx.db.connect() as conn:
        assert conn.execute(select(consent_events.c.seq)).first() is None
    # other API routes are not opened to the listed origins
    assert "access-control-allow-origin" not in client.get("/v1/health", headers={"Origin": SHOP}).headers


def test_the_endpoints_are_rate_limited(db_url: str, tmp_path: Path) -> None:
    ctx = make_ctx("kokkok", db_url, tmp_path, rate=3)
    with TestClient(create_app(ctx)) as client:
        codes = [client.get(CONFIG, headers={"Origin": SHOP}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        got = client.post(CHOICES, json={"choices": {"cookie_ux": True}}, headers={"Origin": SHOP})
        assert got.status_code == 429 and got.json()["error"]["code"] == "too_many_attempts"
        assert got.headers["retry-after"] == "60" and got.headers["access-control-allow-origin"] == SHOP
        assert client.get("/v1/health").status_code == 200  # only the consent endpoints are limited
    with ctx.db.connect() as conn:
        assert conn.execute(select(consent_events.c.seq)).first() is None
    ctx.db.dispose()


def test_a_pack_without_cookies_offers_nothing_and_records_nothing(db_url: str, tmp_path: Path) -> None:
    ctx = make_ctx("kalos", db_url, tmp_path)
    with TestClient(create_app(ctx)) as client:
        body = client.get(CONFIG, headers={"Origin": SHOP}).json()
        assert body["cookies"] is False and body["purposes"] == []
        got = client.post(CHOICES, json={"choices": {}}, headers={"Origin": SHOP})
        assert got.status_code == 400 and "no cookies" in got.json()["error"]["message"]
        assert "set-cookie" not in got.headers
    ctx.db.dispose()


def test_the_script_is_served_within_its_size_budget(site: tuple[TestClient, WebContext]) -> None:
    client, _ = site
    got = client.get("/consent.js")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/javascript")
    assert len(gzip.compress(got.content, compresslevel=9)) <= 12 * 1024
    assert b"import " not in got.content and b"require(" not in got.content  # no runtime dependencies


def test_the_endpoints_are_in_the_openapi_document(site: tuple[TestClient, WebContext]) -> None:
    client, _ = site
    paths = client.get("/v1/openapi.json").json()["paths"]
    assert {"get", "post"} == set(paths[CONFIG]) | set(paths[CHOICES])
    assert "429" in paths[CHOICES]["post"]["responses"]
    assert {p["name"] for p in paths[CONFIG]["get"]["parameters"]} == {"X-Consent-Device", "Sec-GPC"}


def test_the_operator_lists_origins_in_home_or_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICYKEEPER_CONSENT_ORIGINS", raising=False)
    assert load_site_settings(tmp_path).origins == ()
    (tmp_path / "consent.yaml").write_text("site:\n  origins: [https://shop.example/]\n  rate_per_minute: 30\n")
    monkeypatch.setenv("POLICYKEEPER_CONSENT_ORIGINS", "https://www.shop.example, http://localhost:3000")
    got = load_site_settings(tmp_path)
    assert got.origins == ("https://shop.example", "https://www.shop.example", "http://localhost:3000")
    assert got.rate_per_minute == 30
    for text, words in [("site:\n  origins: [shop.example]\n", "is not an origin"),
                        ("site:\n  origins: [https://a.example/path]\n", "is not an origin"),
                        ("site:\n  rate_per_minute: 0\n", "rate_per_minute"),
                        ("site:\n  origin: [https://a.example]\n", "unknown keys")]:
        (tmp_path / "consent.yaml").write_text(text)
        with pytest.raises(ConfigError, match=words):
            load_site_settings(tmp_path)


def test_the_gpc_header_of_a_signed_in_person_is_their_marketing_opt_out(web: Web) -> None:
    """Kamoer markets on an opt-out basis and says nothing against GPC: the signal is honoured, recorded once."""
    web.client.post("/v1/collect", json={"person": "reef", "context": "registration", "values": {
        "phone": "+86 139 0000 1111", "email": "reef@example.cn", "username": "reefkeeper", "password": "Coral#2025!"}},
        headers=web.as_role("service"))
    token = web.sign_in("reef", "reef@example.cn")
    me = {"Authorization": f"Bearer {token}"}
    assert "marketing" not in web.client.get("/v1/me", headers=me).json()["consents"]  # no signal: nothing changes
    got = web.client.get("/v1/me", headers={**me, "Sec-GPC": "1"})
    assert got.json()["consents"]["marketing"] == "withdrawn"
    web.client.get("/v1/me", headers={**me, "Sec-GPC": "1"})
    with web.ctx.db.connect() as conn:
        rows = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.evidence)).all()
        audited = conn.execute(select(audit_log.c.actor).where(audit_log.c.kind == "consent")).all()
    assert [(r.target, r.action, r.evidence["by"]) for r in rows if r.target != "policy"] == [
        ("marketing", "withdrawn", "gpc")]  # once: the second signal changes nothing
    assert [a.actor for a in audited].count("gpc") == 1
    # a stranger's signal records nothing (the consent script records a visitor's)
    assert web.client.get("/v1/policy", headers={"Sec-GPC": "1"}).status_code == 200


def test_the_privacy_center_says_that_the_signal_was_seen(web: Web) -> None:
    page = web.client.get("/", headers={"Sec-GPC": "1"}).text
    assert "Global Privacy Control signal: it is honoured" in page and "data-gpc" in page
    assert "data-gpc" not in web.client.get("/").text
    pack = web.ctx.pack
    refusing = pack.model_copy(update={"marketing": pack.marketing.model_copy(update={"honor_gpc": False})})  # type: ignore[union-attr]
    assert "does not act on it" in gpc_note(refusing)
    assert "shared with other companies" in gpc_note(load_pack("kalos"))  # its partner-identity consent
    assert "nothing for it to stop" in gpc_note(load_pack("kalos").model_copy(update={"consents": ()}))


def test_config_lists_the_registered_trackers_under_their_purpose(site: tuple[TestClient, WebContext]) -> None:
    client, ctx = site
    eng = ctx.engine()
    register_tracker(eng, name="pk_prefs", technology="cookie", purpose="cookie_ux", party="first",
                     lifetime="persistent", placement="browser")
    by_id = {p["id"]: p for p in client.get(CONFIG).json()["purposes"]}
    assert by_id["cookie_ux"]["trackers"] == [{"name": "pk_prefs", "technology": "cookie", "party": "first",
                                               "lifetime": "persistent"}]
    assert by_id["cookie_ux"]["gpc"] is False and by_id["cookie_ad_delivery"]["trackers"] == []
