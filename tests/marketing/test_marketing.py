"""Marketing and tracking promises: the marketing choice, unsubscribe links through real SMTP, GPC, trackers."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, ConfigError, DeniedError, audit, lint_pack, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.marketing import (
    check_display,
    gpc_opt_out,
    list_trackers,
    marketing_allowed,
    register_tracker,
    send_message,
    set_marketing_preference,
    trackers_for,
    tracking_allowed,
    unsubscribe,
    unsubscribe_token,
)
from policykeeper.notify import RoutedTransport, deliver
from policykeeper.store import audit_log, consent_events, open_database, outbox
from policykeeper.store._schema import message_log, subjects, trackers

from ..conftest import Inbox
from ..helpers import codes, promises

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
BASE = "https://shop.example"
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
KAMOER_USER = {"phone": "+86 135 1234 5678", "email": "wang@example.cn", "username": "wang", "password": "s3cret-pass"}
LINK = re.compile(r"(https?://\S+)/unsubscribe\?token=(\S+)")


def _engine(name: str, db_url: str, tmp_path: Path, keys: str = "keys") -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / keys))


def _kokkok(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = _engine("kokkok", db_url, tmp_path)
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    return eng


def _kamoer(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = _engine("kamoer", db_url, tmp_path)
    eng.collect("wang", "registration", KAMOER_USER, now=NOW)
    return eng


def _koso(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = _engine("koso", db_url, tmp_path)
    eng.collect("kim", "account_creation", {"email": "kim@example.kr"}, now=NOW)
    return eng


def _promo(eng: PolicyEngine, person: str, topic: str, *, channel: str = "email", **kw: object) -> int | None:
    return send_message(eng, person, kind="marketing", channel=channel, topic=topic, subject="Summer offers",
                        body="Half price on every ride this week.", base_url=BASE, now=NOW, **kw)  # type: ignore[arg-type]


def _service(eng: PolicyEngine, person: str, topic: str, **kw: object) -> int | None:
    return send_message(eng, person, kind="service", channel="email", topic=topic, subject="Your receipt",
                        body="Your ride on 2 June cost 42 000 LAK.", now=NOW, **kw)  # type: ignore[arg-type]


def _deliver(eng: PolicyEngine, smtp: tuple[Inbox, object]) -> None:
    deliver(eng.db, eng.keys, RoutedTransport(smtp[1]), now=NOW)


def _body(inbox: Inbox, address: str) -> str:
    raw = inbox.to(address)[-1].get_payload(decode=True)
    assert isinstance(raw, bytes)
    return raw.decode()


def _link(inbox: Inbox, address: str) -> tuple[str, str]:
    found = LINK.search(_body(inbox, address))
    assert found, _body(inbox, address)
    return found.group(1), found.group(2)


def _ledger(eng: PolicyEngine) -> list[tuple[str, str, dict[str, str]]]:
    with eng.db.connect() as conn:
        rows = conn.execute(select(consent_events.c.target, consent_events.c.action, consent_events.c.evidence)
                            .order_by(consent_events.c.seq)).all()
    return [(r.target, r.action, dict(r.evidence)) for r in rows if r.target != "policy"]


def _audit_text(eng: PolicyEngine) -> str:
    with eng.db.connect() as conn:
        assert audit.verify(conn).ok
        rows = conn.execute(select(audit_log.c.detail)).scalars().all()
    return json.dumps(rows, default=str)


def _outbox_count(eng: PolicyEngine) -> int:
    with eng.db.connect() as conn:
        return len(conn.execute(select(outbox.c.id)).all())


# -- marketing -----------------------------------------------------------------------------------------------------------
def test_koso_15_topic_information_goes_only_to_users_who_agreed_default_off(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _koso(db_url, tmp_path)
    assert marketing_allowed(eng, "kim", now=NOW) is False  # default: off
    with pytest.raises(DeniedError) as info:
        _promo(eng, "kim", "topics-june")
    assert codes(info) == {"not_opted_in"} and "KOSO-15" in promises(info)
    with pytest.raises(DeniedError):  # the purpose itself needs the opt-in too, even classed as a service message
        _service(eng, "kim", "topics-june", purpose="topic_information")
    assert _outbox_count(eng) == 0
    eng.set_consent("kim", "marketing", "given", now=NOW)
    assert marketing_allowed(eng, "kim", now=NOW) is True
    assert _promo(eng, "kim", "topics-june") is not None
    _deliver(eng, smtp)
    assert "Half price" in _body(smtp[0], "kim@example.kr")
    eng.set_consent("kim", "marketing", "withdrawn", now=NOW)
    with pytest.raises(DeniedError):
        _promo(eng, "kim", "topics-july")


def test_koso_16_feedback_surveys_may_be_sent_without_a_marketing_opt_in(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _koso(db_url, tmp_path)
    assert _service(eng, "kim", "survey-2025-q2", purpose="feedback_survey") is not None
    _deliver(eng, smtp)
    body = _body(smtp[0], "kim@example.kr")
    assert "42 000" in body and "/unsubscribe" not in body  # a service-class survey: no marketing link
    with eng.db.connect() as conn:
        row = conn.execute(select(audit_log.c.promises).where(audit_log.c.kind == "message")).scalar_one()
    assert "KOSO-16" in row
    with pytest.raises(DeniedError):  # a promotion to the same person is still refused: no opt-in
        _promo(eng, "kim", "survey-2025-q2")
    with pytest.raises(BadValueError, match="not a purpose"):
        _service(eng, "kim", "survey-x", purpose="surveys")  # Konzen's purpose, not KOSO's


def test_koso_22_no_third_party_ads_in_the_app_despite_the_listed_ad_sdk(db_url: str, tmp_path: Path) -> None:
    eng = _koso(db_url, tmp_path)
    clash = [f for f in lint_pack(eng.pack) if f.code == "ads_contradiction"]
    assert clash and "KOSO-22" in clash[0].first_promises and "KOSO-21" in clash[0].second_promises
    with pytest.raises(DeniedError) as info:
        check_display(eng, kind="ad", source="advertisers", now=NOW)
    assert codes(info) == {"third_party_ads_refused"} and "KOSO-22" in promises(info)
    assert "contradicts itself" in str(info.value)
    assert check_display(eng, kind="ad", source="own", now=NOW).allowed  # KOSO's own promotion is not third-party
    with pytest.raises(DeniedError) as tracker:  # nor can an ad tracker slip in: KOSO declares no tracking
        register_tracker(eng, name="fan", technology="advertising_id", purpose="advertising", party="third",
                         lifetime="persistent", placement="app", recipient="facebook_audience_network", now=NOW)
    assert codes(tracker) == {"no_tracking"}


def test_koso_23_recommendations_only_koso_products_from_interests_and_owned_products(db_url: str, tmp_path: Path) -> None:
    eng = _koso(db_url, tmp_path)
    d = check_display(eng, kind="recommendation", based_on=["product_records", "usage_logs"], now=NOW)
    assert d.allowed and "KOSO-23" in d.promises
    with pytest.raises(DeniedError) as info:
        check_display(eng, kind="recommendation", source="partners", based_on=["usage_logs"], now=NOW)
    assert codes(info) == {"recommendation_source_refused"} and "KOSO-23" in promises(info)
    with pytest.raises(DeniedError) as info2:
        check_display(eng, kind="recommendation", based_on=["location"], now=NOW)
    assert codes(info2) == {"recommendation_basis_refused"}
    with pytest.raises(BadValueError):
        check_display(eng, kind="recommendation", based_on=["shoe_size"], now=NOW)


def test_konzen_21_targeted_ads_are_allowed_but_no_marketing_messages_without_a_basis(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("konzen", db_url, tmp_path)
    eng.collect("hana", "registration", {"phone": "+82 10 1234 5678", "email": "hana@example.kr"}, now=NOW)
    d = check_display(eng, kind="ad", source="advertisers", personalised=True, now=NOW)
    assert d.allowed and "KONZEN-21" in d.promises
    kamoer = _engine("kamoer", db_url, tmp_path, keys="keys2")
    with pytest.raises(DeniedError):  # the same targeted ad where the pack forbids it
        check_display(kamoer, kind="ad", personalised=True, now=NOW)
    with pytest.raises(DeniedError) as info:  # Konzen gives no opt-in/opt-out basis: no marketing email (safe default)
        _promo(eng, "hana", "ads-june")
    assert codes(info) == {"no_marketing_basis"} and "KONZEN-21" in promises(info)


def test_kokkok_32_marketing_may_cover_partner_sponsor_and_advertiser_offers(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _kokkok(db_url, tmp_path)
    for source in ("own", "partners", "sponsors", "advertisers"):
        assert _promo(eng, "alice", f"offer-{source}", source=source, content_type="special offers") is not None
    assert _promo(eng, "alice", "greetings", content_type="festive greetings") is not None
    with pytest.raises(DeniedError) as info:
        _promo(eng, "alice", "loans", content_type="loan offers")
    assert codes(info) == {"content_type_not_allowed"} and "KOKKOK-32" in promises(info)
    koso = _koso(db_url, tmp_path / "koso")
    koso.set_consent("kim", "marketing", "given", now=NOW)
    with pytest.raises(DeniedError) as own_only:  # KOSO markets its own products only
        _promo(koso, "kim", "offer-partners", source="partners")
    assert codes(own_only) == {"source_not_allowed"}
    _deliver(eng, smtp)
    assert len(smtp[0].to("alice@example.com")) == 5


def test_kokkok_33_marketing_goes_only_through_the_listed_channels(db_url: str, tmp_path: Path) -> None:
    eng = _kokkok(db_url, tmp_path)
    assert _promo(eng, "alice", "june", channel="email") is not None
    assert _promo(eng, "alice", "june", channel="push") is not None
    for channel in ("fax", "letter"):
        with pytest.raises(DeniedError) as info:
            _promo(eng, "alice", "june", channel=channel)
        assert codes(info) == {"channel_not_allowed"} and "KOKKOK-33" in promises(info)
    for channel in ("sms", "whatsapp", "call"):  # listed, but the outbox has no transport for them yet
        with pytest.raises(BadValueError, match="no transport"):
            _promo(eng, "alice", "june", channel=channel)
    with eng.db.connect() as conn:
        logged = conn.execute(select(message_log.c.channel, message_log.c.kind)).all()
    assert sorted(logged) == [("email", "marketing"), ("push", "marketing")]


def test_kokkok_34_every_marketing_email_carries_a_working_unsubscribe_link(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _kokkok(db_url, tmp_path)
    assert _promo(eng, "alice", "june") is not None
    assert _promo(eng, "alice", "june") is None  # a re-run sends nothing twice
    _deliver(eng, smtp)
    assert len(smtp[0].to("alice@example.com")) == 1
    base, token = _link(smtp[0], "alice@example.com")
    assert base == BASE
    assert unsubscribe(eng, token, now=NOW) is True
    assert unsubscribe(eng, token, now=NOW) is False  # idempotent
    assert ("marketing", "withdrawn", {"by": "unsubscribe_link"}) in _ledger(eng)
    assert marketing_allowed(eng, "alice", now=NOW) is False
    with pytest.raises(DeniedError) as info:
        _promo(eng, "alice", "july")
    assert codes(info) == {"opted_out"} and "KOKKOK-34" in promises(info)
    assert "alice" not in _audit_text(eng) and "example.com" not in _audit_text(eng)


def test_kokkok_35_app_settings_work_the_same_as_the_unsubscribe_link(db_url: str, tmp_path: Path) -> None:
    eng = _kokkok(db_url, tmp_path)
    assert set_marketing_preference(eng, "alice", False, now=NOW) is True
    assert set_marketing_preference(eng, "alice", False, now=NOW) is False
    assert ("marketing", "withdrawn", {"by": "app_settings"}) in _ledger(eng)
    with pytest.raises(DeniedError) as info:
        _promo(eng, "alice", "june")
    assert codes(info) == {"opted_out"} and "KOKKOK-35" in promises(info)
    assert set_marketing_preference(eng, "alice", True, now=NOW) is True  # back on from the same screen
    assert _promo(eng, "alice", "june") is not None
    with pytest.raises(BadValueError):
        set_marketing_preference(_engine("kalos", db_url, tmp_path, keys="k2"), "x", True, now=NOW)


def test_kokkok_36_after_opt_out_service_messages_still_go(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _kokkok(db_url, tmp_path)
    set_marketing_preference(eng, "alice", False, now=NOW)
    with pytest.raises(DeniedError):
        _promo(eng, "alice", "rewards-june")
    assert _service(eng, "alice", "receipt-1") is not None
    with pytest.raises(BadValueError, match="'marketing' or 'service'"):
        send_message(eng, "alice", kind="promo", channel="email", topic="x", subject="s", body="b",  # type: ignore[arg-type]
                     now=NOW)
    _deliver(eng, smtp)
    [msg] = smtp[0].to("alice@example.com")
    assert msg["Subject"] == "Your receipt" and "/unsubscribe" not in _body(smtp[0], "alice@example.com")
    with eng.db.connect() as conn:
        assert conn.execute(select(message_log.c.kind)).scalars().all() == ["service"]


def test_kamoer_11_information_goes_to_the_contact_given_with_an_unsubscribe_method(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _kamoer(db_url, tmp_path)
    assert _promo(eng, "wang", "618-sale", purpose="information_and_ads") is not None
    _deliver(eng, smtp)
    assert [m["To"] for m in smtp[0].messages] == ["wang@example.cn"]
    assert _link(smtp[0], "wang@example.cn")[0] == BASE
    eng.collect("li", "service_use", {"ip_address": "198.51.100.4"}, now=NOW)
    with pytest.raises(BadValueError, match="no email address"):  # no contact given: nothing is sent
        _promo(eng, "li", "618-sale")


def test_kamoer_12_no_personalised_content_or_ads_in_the_app(db_url: str, tmp_path: Path) -> None:
    eng = _kamoer(db_url, tmp_path)
    with pytest.raises(DeniedError) as info:
        check_display(eng, kind="ad", personalised=True, now=NOW)
    assert codes(info) == {"personalised_display_refused"} and "KAMOER-12" in promises(info)
    with pytest.raises(DeniedError):
        check_display(eng, kind="recommendation", personalised=True, now=NOW)
    assert check_display(eng, kind="ad", personalised=False, now=NOW).allowed
    with pytest.raises(DeniedError) as tracker:  # nor a tracker that would personalise
        register_tracker(eng, name="persona", technology="cookie", purpose="personalised_ads", party="first",
                         lifetime="persistent", placement="browser", now=NOW)
    assert codes(tracker) == {"purpose_not_listed"}


def test_kamoer_28_unsubscribing_stops_the_emails_and_the_email_tracking(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _kamoer(db_url, tmp_path)
    assert tracking_allowed(eng, "wang", now=NOW) is True
    _promo(eng, "wang", "618-sale")
    _deliver(eng, smtp)
    assert unsubscribe(eng, _link(smtp[0], "wang@example.cn")[1], now=NOW) is True
    assert tracking_allowed(eng, "wang", now=NOW) is False
    with pytest.raises(DeniedError) as info:
        _promo(eng, "wang", "double-11")
    assert "KAMOER-28" in promises(info)
    kalos = _engine("kalos", db_url, tmp_path, keys="k2")  # a pack without tracking never allows the pixel
    assert tracking_allowed(kalos, "anyone", now=NOW) is False


def test_kamoer_59_commercial_messages_can_be_left_through_the_method_in_each_email(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    eng = _kamoer(db_url, tmp_path)
    with pytest.raises(BadValueError, match="no transport"):  # no text message goes out without its method
        _promo(eng, "wang", "618-sale", channel="sms")
    assert _outbox_count(eng) == 0
    _promo(eng, "wang", "618-sale")
    _promo(eng, "wang", "double-11")
    _deliver(eng, smtp)
    tokens = [LINK.search(m.get_payload(decode=True).decode()).group(2)  # type: ignore[union-attr]
              for m in smtp[0].to("wang@example.cn")]
    assert len(tokens) == 2
    later = NOW + dt.timedelta(days=200)  # "at any time": an older message's link still works months later
    assert unsubscribe(eng, tokens[0], now=later) is True
    assert ("marketing", "withdrawn", {"by": "unsubscribe_link"}) in _ledger(eng)


# -- bad input ------------------------------------------------------------------------------------------------------
def test_unsubscribe_refuses_forged_tampered_expired_and_other_pack_tokens(db_url: str, tmp_path: Path) -> None:
    eng = _kokkok(db_url, tmp_path)
    with eng.db.connect() as conn:
        sid = conn.execute(select(subjects.c.id)).scalar_one()
    good = unsubscribe_token(eng, sid, now=NOW)
    payload, sig = good.split(".")
    other = _engine("kokkok", db_url, tmp_path, keys="other-keys")
    cases = {
        "forged": unsubscribe_token(other, sid, now=NOW),  # signed with another deployment's key
        "tampered": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + sig,
        "malformed": "not-a-token",
    }
    for what, token in cases.items():
        with pytest.raises(BadValueError, match="forged|malformed") as info:
            unsubscribe(eng, token, now=NOW)
        assert info.value.code == "bad_value", what
    with pytest.raises(BadValueError, match="expired"):
        unsubscribe(eng, unsubscribe_token(eng, sid, now=NOW, lifetime=dt.timedelta(days=1)),
                    now=NOW + dt.timedelta(days=2))
    kamoer = PolicyEngine(load_pack("kamoer"), eng.db, eng.keys)  # same keys, another pack
    with pytest.raises(BadValueError, match="for pack 'kokkok'"):
        unsubscribe(kamoer, good, now=NOW)
    assert ("marketing", "withdrawn", {"by": "unsubscribe_link"}) not in _ledger(eng)  # none of them changed anything
    assert marketing_allowed(eng, "alice", now=NOW) is True
    assert unsubscribe(eng, good, now=NOW) is True


def test_gpc_signal_is_recorded_as_a_marketing_opt_out(db_url: str, tmp_path: Path) -> None:
    eng = _kokkok(db_url, tmp_path)  # honor_gpc unspecified: honoured anyway, the safer reading
    assert eng.pack.marketing != "unspecified" and eng.pack.marketing.honor_gpc == "unspecified"  # type: ignore[union-attr]
    for absent in (None, "0", ""):
        assert gpc_opt_out(eng, "alice", absent, now=NOW) is False
    assert marketing_allowed(eng, "alice", now=NOW) is True
    assert gpc_opt_out(eng, "alice", "1", now=NOW) is True
    assert gpc_opt_out(eng, "alice", "1", now=NOW) is False
    assert ("marketing", "withdrawn", {"by": "gpc"}) in _ledger(eng)
    with pytest.raises(DeniedError):
        _promo(eng, "alice", "june")


def test_marketing_needs_a_public_url_for_its_unsubscribe_link(db_url: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    eng = _kokkok(db_url, tmp_path)
    monkeypatch.delenv("POLICYKEEPER_PUBLIC_URL", raising=False)
    with pytest.raises(ConfigError, match="unsubscribe link"):
        send_message(eng, "alice", kind="marketing", channel="email", topic="t", subject="s", body="b", now=NOW)
    assert _outbox_count(eng) == 0


# -- cookies and trackers -----------------------------------------------------------------------------------------------
def _tracker(eng: PolicyEngine, name: str, technology: str, purpose: str, *, party: str = "first",
             lifetime: str = "persistent", placement: str = "browser", recipient: str | None = None) -> int:
    return register_tracker(eng, name=name, technology=technology, purpose=purpose, party=party,  # type: ignore[arg-type]
                            lifetime=lifetime, placement=placement, recipient=recipient, now=NOW)  # type: ignore[arg-type]


def test_kalos_12_any_cookie_beacon_pixel_or_local_storage_id_is_refused(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kalos", db_url, tmp_path)
    for tech, placement in (("cookie", "browser"), ("web_beacon", "web_page"), ("pixel_tag", "email"),
                            ("local_storage", "app")):
        with pytest.raises(DeniedError) as info:
            _tracker(eng, f"t-{tech}", tech, "navigation", placement=placement)
        assert codes(info) == {"no_tracking"} and promises(info) == ("KALOS-12",)
    assert list_trackers(eng) == []
    with eng.db.connect() as conn:
        denied = conn.execute(select(audit_log.c.detail).where(audit_log.c.allowed.is_(False))).scalars().all()
    assert len(denied) == 4


def test_konzen_08_cookies_and_identifiers_only_for_personalisation_and_security(db_url: str, tmp_path: Path) -> None:
    eng = _engine("konzen", db_url, tmp_path)
    assert _tracker(eng, "pref", "cookie", "personalized_responses") > 0
    assert _tracker(eng, "device-id", "identifier", "security_prevention") > 0
    with pytest.raises(DeniedError) as info:
        _tracker(eng, "ads", "cookie", "relevant_ads")
    assert codes(info) == {"purpose_not_listed"} and "KONZEN-08" in promises(info)
    with pytest.raises(DeniedError) as tech:
        _tracker(eng, "beacon", "web_beacon", "security_prevention")
    assert codes(tech) == {"technology_not_listed"}
    with pytest.raises(DeniedError) as where:
        _tracker(eng, "in-app", "identifier", "security_prevention", placement="app")
    assert codes(where) == {"placement_not_listed"}
    assert [t["name"] for t in list_trackers(eng)] == ["pref", "device-id"]


def test_konzen_09_refusing_cookies_is_honoured_and_the_service_keeps_working(db_url: str, tmp_path: Path) -> None:
    eng = _engine("konzen", db_url, tmp_path)
    _tracker(eng, "pref", "cookie", "personalized_responses")
    _tracker(eng, "device-id", "identifier", "security_prevention")
    everything = trackers_for(eng)
    assert len(everything.allowed) == 2 and everything.warning is None
    some = trackers_for(eng, {"personalized_responses"})
    assert [t["name"] for t in some.allowed] == ["device-id"] and [t["name"] for t in some.blocked] == ["pref"]
    assert some.warning == eng.pack.cookies.refusal_effect and "keeps working" in some.warning  # type: ignore[union-attr]
    blocked = trackers_for(eng, "all")
    assert blocked.allowed == () and len(blocked.blocked) == 2


def test_kokkok_47_listed_technologies_each_persistent_or_session_in_listed_places(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kokkok", db_url, tmp_path)
    for tech, placement, lifetime in (("cookie", "browser", "session"), ("web_beacon", "email", "persistent"),
                                      ("tag", "web_page", "session"), ("script", "web_page", "session"),
                                      ("html5_lso", "browser", "persistent"), ("advertising_id", "device", "persistent")):
        _tracker(eng, f"t-{tech}", tech, "cookie_essential", placement=placement, lifetime=lifetime)
    assert len(list_trackers(eng)) == 6
    assert _tracker(eng, "t-cookie", "cookie", "cookie_essential", lifetime="session") == list_trackers(eng)[0]["id"]
    with pytest.raises(BadValueError, match="already registered"):
        _tracker(eng, "t-cookie", "cookie", "cookie_ux", lifetime="session")
    with pytest.raises(DeniedError) as info:
        _tracker(eng, "pixel", "pixel_tag", "cookie_essential")
    assert codes(info) == {"technology_not_listed"} and "KOKKOK-47" in promises(info)
    with pytest.raises(DeniedError) as where:
        _tracker(eng, "in-app", "cookie", "cookie_essential", placement="app")
    assert codes(where) == {"placement_not_listed"}
    with pytest.raises(BadValueError):
        _tracker(eng, "forever", "cookie", "cookie_essential", lifetime="eternal")
    with pytest.raises(BadValueError):
        _tracker(eng, "odd", "fingerprint", "cookie_essential")


def test_kokkok_48_cookie_purposes_are_a_closed_list(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kokkok", db_url, tmp_path)
    for purpose in ("cookie_essential", "cookie_auth_preferences", "cookie_ad_delivery", "cookie_traffic_analysis",
                    "cookie_cross_site_ads", "cookie_ux"):
        _tracker(eng, purpose, "cookie", purpose)
    for purpose in ("credit_scoring", "marketing_and_promotions"):  # even a pack purpose outside the cookie list
        with pytest.raises(DeniedError) as info:
            _tracker(eng, purpose, "cookie", purpose)
        assert codes(info) == {"purpose_not_listed"} and "KOKKOK-48" in promises(info)
    assert len(list_trackers(eng)) == 6


def test_kokkok_49_third_party_cookies_must_be_set_by_a_listed_third_party_recipient(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("kokkok", db_url, tmp_path)
    recipient = next(r for r in eng.pack.recipients if r.id == "third_party_cookies")
    assert recipient.controller_no_control and "KOKKOK-49" in recipient.promises
    tid = _tracker(eng, "_ga", "cookie", "cookie_traffic_analysis", party="third", recipient="third_party_cookies")
    assert list_trackers(eng)[0]["recipient"] == "third_party_cookies"
    for name, purpose, who in (("anon", "cookie_ad_delivery", None), ("stranger", "cookie_ad_delivery", "acme_ads"),
                               ("wrong-purpose", "cookie_essential", "third_party_cookies")):
        with pytest.raises(DeniedError) as info:
            _tracker(eng, name, "cookie", purpose, party="third", recipient=who)
        assert codes(info) == {"recipient_not_listed"}
    with pytest.raises(BadValueError):
        _tracker(eng, "first-with-recipient", "cookie", "cookie_ux", recipient="third_party_cookies")
    with eng.db.connect() as conn:
        row = conn.execute(select(audit_log.c.promises).where(audit_log.c.kind == "tracker")).scalar_one()
        assert conn.execute(select(trackers.c.id)).scalar_one() == tid
    assert "KOKKOK-49" in row


def test_kokkok_50_disabled_or_blocked_cookies_are_honoured_with_a_warning(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kokkok", db_url, tmp_path)
    _tracker(eng, "session", "cookie", "cookie_essential", lifetime="session")
    _tracker(eng, "_ga", "cookie", "cookie_traffic_analysis", party="third", recipient="third_party_cookies")
    _tracker(eng, "ads", "advertising_id", "cookie_cross_site_ads", placement="device")
    off = trackers_for(eng, "all")
    assert off.allowed == () and off.warning == "Some features of the websites and apps may not work."
    no_ads = trackers_for(eng, {"cookie_cross_site_ads", "cookie_traffic_analysis"})
    assert [t["name"] for t in no_ads.allowed] == ["session"] and no_ads.warning
    gpc = trackers_for(eng, gpc=True)  # Global Privacy Control: no third-party tracker
    assert [t["name"] for t in gpc.blocked] == ["_ga"]
    with pytest.raises(BadValueError, match="not tracker purposes"):
        trackers_for(eng, {"cookie_monster"})


def test_kamoer_24_website_cookies_only_identity_security_preferences_and_basket(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    for purpose in ("cookie_identity", "cookie_security", "cookie_preferences", "cookie_shopping_basket"):
        _tracker(eng, purpose, "cookie", purpose, placement="web_page")
    with pytest.raises(DeniedError) as info:
        _tracker(eng, "analytics", "cookie", "cookie_traffic_analysis")
    assert codes(info) == {"purpose_not_listed"} and "KAMOER-24" in promises(info)
    assert len(list_trackers(eng)) == 4


def test_kamoer_25_no_cookie_for_a_purpose_outside_the_cookie_list(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    for purpose in ("information_and_ads", "ml_algorithm_improvement", "anything"):  # pack purposes or not
        with pytest.raises(DeniedError) as info:
            _tracker(eng, f"c-{purpose}", "cookie", purpose)
        assert codes(info) == {"purpose_not_listed"} and "KAMOER-25" in promises(info)
    assert list_trackers(eng) == []


def test_kamoer_26_blocking_cookies_is_honoured_settings_reentered_each_visit(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    _tracker(eng, "prefs", "cookie", "cookie_preferences")
    _tracker(eng, "basket", "cookie", "cookie_shopping_basket", lifetime="session")
    choice = trackers_for(eng, {"cookie_preferences"})
    assert [t["name"] for t in choice.allowed] == ["basket"]
    assert choice.warning == "Settings must be re-entered on each visit."
    assert trackers_for(eng, "all").allowed == ()


def test_kamoer_27_pixel_tags_and_beacons_in_emails_are_listed_trackers(db_url: str, tmp_path: Path) -> None:
    eng = _kamoer(db_url, tmp_path)
    _tracker(eng, "open-pixel", "pixel_tag", "email_engagement", placement="email")
    _tracker(eng, "click-beacon", "web_beacon", "email_engagement", placement="email")
    assert {t["technology"] for t in list_trackers(eng)} == {"pixel_tag", "web_beacon"}
    assert tracking_allowed(eng, "wang", now=NOW) is True
    konzen = _engine("konzen", db_url, tmp_path, keys="k2")
    with pytest.raises(DeniedError) as info:  # a pack that lists no email pixel refuses one
        _tracker(konzen, "open-pixel", "pixel_tag", "personalized_responses", placement="email")
    assert codes(info) == {"technology_not_listed"}
    with pytest.raises(DeniedError) as kinfo:
        _tracker(eng, "sms-pixel", "pixel_tag", "email_engagement", placement="device")
    assert codes(kinfo) == {"placement_not_listed"} and "KAMOER-27" in promises(kinfo)
