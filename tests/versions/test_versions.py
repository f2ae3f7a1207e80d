"""Policy versions: publishing with a diff, the pack's change rules (dates, advance notice, rights), notices through
the pack's channels, the effective date, acceptance by continued use, and consent that never stretches to a purpose
added later. Every test drives the real engine over SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, DeniedError, load_pack, parse_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import RoutedTransport, deliver
from policykeeper.pack import Pack, bundled_pack_path
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log, consent_events, message_log, outbox
from policykeeper.versions import engine_at, notice_for, pack_at, publish, versions

from ..conftest import Inbox

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
ACCOUNT = Facts(conditions=frozenset({"account_exists", "subscribed:dashboard_app"}))
SUPPORT = {"name": "Chen Mei", "email": "mei@example.tw", "support_info": "speedometer flickers"}


def _engine(name: str, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _pack(name: str, *pairs: tuple[str, str]) -> Pack:
    text = bundled_pack_path(name).read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return parse_pack(text, f"{name}-next.yaml")


KOSO_V2 = (('label: "2021-06-22"', 'label: "2025-06-02"'), ("updated_date: 2021-06-22", "updated_date: 2025-06-02"))
NEW_KOSO_PURPOSE = (
    ("    - {id: feedback_survey,",
     "    - {id: partner_offers, name: Offers from KOSO dealers, data_use: marketing.communications.email,\n"
     "       legal_basis: consent, requires_consent: opt_in, default_enabled: false, categories: [email], "
     "promises: [KOSO-15]}\n    - {id: feedback_survey,"),
    ("targets: [topic_information]", "targets: [topic_information, partner_offers]"),
)
KALOS_V2 = (('label: "2024-03-18"', 'label: "2025-05-01"'), ("updated_date: 2024-02-01", "updated_date: 2025-04-01"),
            ("effective_date: 2024-03-18", "effective_date: 2025-05-01"))
EMAIL_KALOS = ("fides_key: user.account, classes: [identity]", "fides_key: user.contact.email, classes: [identity]")
NEW_KAMOER_RECIPIENT = (
    ("  - {id: logistics,",
     "  - {id: analytics_vendor, name: Analytics vendor, category: service_provider, categories: [phone],\n"
     "     purposes: [service_quality], minimum_necessary: true, required_agreements: [confidentiality, instructions_only],\n"
     "     basis: authorized_partners, place_of_processing: unspecified, promises: [KAMOER-35]}\n  - {id: logistics,"),
)
KOKKOK_V2 = (('label: "2024-09-30"', 'label: "2025-06-02"'), ("updated_date: 2024-09-30", "updated_date: 2025-06-02"))
KAMOER_V2 = (('label: "2022-12-19"', 'label: "2025-06-02"'), ("updated_date: 2022-12-19", "updated_date: 2025-06-02"))


def _log(eng: PolicyEngine) -> list[tuple[str, str, str]]:
    with eng.db.connect() as conn:
        return [(r.kind, r.channel, r.subject_id) for r in conn.execute(select(message_log).order_by(message_log.c.id))]


def _acceptances(eng: PolicyEngine) -> list[tuple[str, dict[str, str]]]:
    with eng.db.connect() as conn:
        return [(r.pack_version, r.evidence) for r in conn.execute(
            select(consent_events).where(consent_events.c.target == "policy", consent_events.c.action == "accepted")
            .order_by(consent_events.c.seq))]


# -- KOSO: an updated date on every version; no advance notice, no direct notification; first use accepts --------

def test_koso_28_every_published_version_carries_an_updated_updated_at_date(db_url: str, tmp_path: Path) -> None:
    koso = _engine("koso", db_url, tmp_path)
    same_date = _pack("koso", KOSO_V2[0])
    with pytest.raises(BadValueError, match="'Updated at' date must be updated.*KOSO-28"):
        publish(koso, same_date, now=NOW)
    assert versions(koso) == []  # refused: nothing recorded
    got = publish(koso, _pack("koso", *KOSO_V2), now=NOW)
    assert got.label == "2025-06-02" and "KOSO-28" in got.promises
    assert [v["label"] for v in versions(koso)] == ["2021-06-22", "2025-06-02"]
    with pytest.raises(BadValueError, match="already published"):
        publish(koso, _pack("koso", *KOSO_V2), now=NOW)


def test_koso_29_no_advance_notice_and_no_direct_notification_only_the_policy_page(db_url: str, tmp_path: Path) -> None:
    koso = _engine("koso", db_url, tmp_path)
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW - dt.timedelta(days=30))
    got = publish(koso, _pack("koso", *KOSO_V2, *NEW_KOSO_PURPOSE), now=NOW)
    assert got.significant and got.effective_at == NOW  # a new purpose, in force at once
    assert got.channels == ("page",) and got.emails == 0
    assert _log(koso) == [("policy_notice", "page", "")]
    with koso.db.connect() as conn:
        assert conn.execute(select(outbox.c.id)).first() is None  # nobody is written to


def test_koso_03_the_first_use_after_posting_is_recorded_as_acceptance(db_url: str, tmp_path: Path) -> None:
    koso = _engine("koso", db_url, tmp_path)
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW - dt.timedelta(days=30))
    publish(koso, _pack("koso", *KOSO_V2), now=NOW)
    assert [v for v, _ in _acceptances(koso)] == ["2021-06-22"]
    later = engine_at(koso, NOW + dt.timedelta(hours=1))
    assert later.pack.version.label == "2025-06-02"
    later.collect("mei", "warranty_support", {**SUPPORT, "support_info": "fixed"}, now=NOW + dt.timedelta(hours=1))
    later.collect("mei", "warranty_support", {**SUPPORT, "support_info": "again"}, now=NOW + dt.timedelta(hours=2))
    got = _acceptances(koso)
    assert [v for v, _ in got] == ["2021-06-22", "2025-06-02"] and got[1][1] == {"by": "first_use"}  # once
    with koso.db.connect() as conn:
        entry = conn.execute(select(audit_log.c.promises).where(audit_log.c.kind == "consent")
                             .order_by(audit_log.c.seq.desc())).scalars().first()
    assert entry is not None and "KOSO-01" in entry  # the acceptance-by-use rule


def test_consent_given_under_an_older_version_never_extends_to_a_purpose_added_later(db_url: str, tmp_path: Path) -> None:
    koso = _engine("koso", db_url, tmp_path)
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW - dt.timedelta(days=30))
    koso.set_consent("mei", "topic_information", "given", now=NOW - dt.timedelta(days=29))
    publish(koso, _pack("koso", *KOSO_V2, *NEW_KOSO_PURPOSE), now=NOW)
    v2 = engine_at(koso, NOW + dt.timedelta(hours=1))
    assert v2.read("mei", "topic_information", {"email"}, now=NOW + dt.timedelta(hours=1))["email"] == ["mei@example.tw"]
    with pytest.raises(DeniedError) as info:  # the rule now names partner_offers, but the consent predates it
        v2.read("mei", "partner_offers", {"email"}, now=NOW + dt.timedelta(hours=1))
    assert "consent_missing" in {r.code for r in info.value.decision.denials}
    v2.set_consent("mei", "topic_information", "given", now=NOW + dt.timedelta(hours=2))  # fresh consent, new version
    v2.set_consent("mei", "partner_offers", "given", now=NOW + dt.timedelta(hours=2))
    assert v2.read("mei", "partner_offers", {"email"}, now=NOW + dt.timedelta(hours=3))["email"] == ["mei@example.tw"]


# -- KALOS: updated and effective dates; no fewer rights without consent; page for all, email for significant ----

def test_kalos_01_a_version_has_updated_and_effective_dates_and_governs_only_from_its_effective_date(
    db_url: str, tmp_path: Path
) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    no_effective = _pack("kalos", *KALOS_V2[:2], ("effective_date: 2024-03-18", "effective_date: unspecified"))
    with pytest.raises(BadValueError, match="effective_date.*KALOS-01"):
        publish(kalos, no_effective, now=NOW - dt.timedelta(days=60))
    got = publish(kalos, _pack("kalos", *KALOS_V2), now=dt.datetime(2025, 4, 2, tzinfo=dt.UTC))
    assert got.effective_at == dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    assert pack_at(kalos, dt.datetime(2025, 4, 30, 23, tzinfo=dt.UTC)).version.label == "2024-03-18"
    assert pack_at(kalos, dt.datetime(2025, 5, 1, tzinfo=dt.UTC)).version.label == "2025-05-01"
    stored = {v["label"]: v for v in versions(kalos)}["2025-05-01"]
    assert stored["notice_at"] == dt.datetime(2025, 4, 2, tzinfo=dt.UTC)
    with pytest.raises(BadValueError, match="differs from the one the version states"):
        publish(kalos, _pack("kalos", ('label: "2024-03-18"', 'label: "2025-08-01"'), ("updated_date: 2024-02-01",
                "updated_date: 2025-07-01"), ("effective_date: 2024-03-18", "effective_date: 2025-08-01")),
                now=NOW, effective_at=dt.datetime(2025, 7, 15, tzinfo=dt.UTC))


def test_kalos_44_a_version_cannot_reduce_rights_without_explicit_consent(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    fewer = _pack("kalos", *KALOS_V2, ("  - {type: withdraw_consent, channels: [email], promises: [KALOS-27]}\n", ""))
    with pytest.raises(BadValueError, match="reduces people's rights.*explicit consent.*KALOS-44"):
        publish(kalos, fewer, now=NOW - dt.timedelta(days=60))
    assert versions(kalos) == []
    got = publish(kalos, fewer, explicit_consent=True, now=NOW - dt.timedelta(days=60))
    assert got.explicit_consent_required and "explicitly agree" in notice_for(kalos, "2025-05-01")


def test_kalos_45_every_change_is_published_on_the_policy_page(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    minor = _pack("kalos", *KALOS_V2, ("name: KALOS\n", "name: KALOS apps\n"))
    got = publish(kalos, minor, now=NOW - dt.timedelta(days=60))
    assert not got.significant and got.channels == ("page",) and "KALOS-45" in got.promises
    assert _log(kalos) == [("policy_notice", "page", "")]


def test_kalos_46_a_significant_change_gets_a_prominent_notice_and_an_email_explaining_it(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    inbox, mailer = smtp
    # a KALOS service that keeps the person's email address as their user information
    kalos = PolicyEngine(_pack("kalos", EMAIL_KALOS), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    sid = kalos.collect("wu", "security", {"user_info": "wu@example.cn"}, now=NOW - dt.timedelta(days=90)).subject_id
    kalos.collect("nomail", "security", {"log_info": "login 09:00"}, now=NOW - dt.timedelta(days=90))
    new_owner = _pack("kalos", EMAIL_KALOS, *KALOS_V2, ("legal_name: Beijing ZhiJian Software Co., Ltd.",
                                                        "legal_name: ZhiJian Holdings Ltd."))
    got = publish(kalos, new_owner, now=NOW - dt.timedelta(days=60))
    assert got.significant and got.channels == ("page", "prominent_notice", "email")
    assert got.emails == 1 and got.unreachable == 1 and "KALOS-46" in got.promises
    assert ("policy_notice", "email", sid) in _log(kalos) and ("policy_notice", "prominent_notice", "") in _log(kalos)
    assert deliver(kalos.db, kalos.keys, RoutedTransport(mailer), now=NOW)["sent"] == 1
    body = inbox.to("wu@example.cn")[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Changed: who we are" in body and "2025-05-01" in body  # the specific change in plain words, and when
    with kalos.db.connect() as conn:
        details = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "policy_version")).scalars().all()
    assert "wu@example.cn" not in str(details)


def test_kalos_47_significant_triggers_include_ownership_recipients_and_rights(db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    owner = _pack("kalos", *KALOS_V2, ("legal_name: Beijing ZhiJian Software Co., Ltd.", "legal_name: Other Co."))
    got = publish(kalos, owner, now=NOW - dt.timedelta(days=60))
    assert {c.trigger for c in got.changes if c.significant} == {"ownership_or_structure"}
    assert "KALOS-47" in got.promises


# -- KONZEN: the new policy shown with its effective date; continued use agrees --------------------------------

def test_konzen_36_the_new_policy_is_shown_with_its_effective_date(db_url: str, tmp_path: Path) -> None:
    konzen = _engine("konzen", db_url, tmp_path)
    nxt = _pack("konzen", ("label: undated", "label: v2-2025"))
    effective = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    got = publish(konzen, nxt, effective_at=effective, now=NOW)
    assert got.channels == ("version_update_prompt",) and "KONZEN-36" in got.promises
    assert "takes effect on 1 July 2025" in notice_for(konzen, "v2-2025")
    assert _log(konzen) == [("policy_notice", "version_update_prompt", "")]
    with pytest.raises(BadValueError, match="no version 'v9'"):
        notice_for(konzen, "v9")


def test_konzen_37_continued_use_after_a_change_records_agreement(db_url: str, tmp_path: Path) -> None:
    konzen = _engine("konzen", db_url, tmp_path)
    signup = {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}
    konzen.collect("wang", "registration", signup, now=NOW)
    publish(konzen, _pack("konzen", ("label: undated", "label: v2-2025")), now=NOW)
    engine_at(konzen, NOW + dt.timedelta(days=1)).collect("wang", "registration", signup, now=NOW + dt.timedelta(days=1))
    assert [v for v, _ in _acceptances(konzen)] == ["undated", "v2-2025"]


# -- KOKKOK: 7 business days' notice; published on its site; continued use after the effective date binds -------

def test_kokkok_64_the_effective_date_is_at_least_7_business_days_after_the_notice(db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    nxt = _pack("kokkok", *KOKKOK_V2)
    with pytest.raises(BadValueError, match=r"at least 7 business days.*2025-06-11 at the earliest.*KOKKOK-64"):
        publish(kokkok, nxt, effective_at=dt.datetime(2025, 6, 10, 9, tzinfo=dt.UTC), now=NOW)
    assert versions(kokkok) == []
    got = publish(kokkok, nxt, effective_at=dt.datetime(2025, 6, 11, 9, tzinfo=dt.UTC), now=NOW)
    assert got.channels == ("in_app", "other_appropriate_means", "website")
    with pytest.raises(BadValueError, match="before people are told"):
        publish(kokkok, _pack("kokkok", ('label: "2024-09-30"', 'label: "x"'), ("updated_date: 2024-09-30",
                "updated_date: 2025-07-01")), notice_at=NOW, effective_at=NOW - dt.timedelta(days=1), now=NOW)


def test_kokkok_65_the_updated_version_is_published_at_its_website(db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    got = publish(kokkok, _pack("kokkok", *KOKKOK_V2), effective_at=NOW + dt.timedelta(days=14), now=NOW)
    assert got.published_url == "https://laosmartmobility.com" and "KOKKOK-65" in got.promises
    assert "https://laosmartmobility.com" in notice_for(kokkok, "2025-06-02")
    assert ("policy_notice", "website", "") in _log(kokkok)


def test_kokkok_66_continued_use_after_the_effective_date_binds_the_user(db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    alice = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c", "phone": "+856 20 5555 0101",
             "email": "alice@example.com", "date_of_birth": "1990-04-02"}
    kokkok.collect("alice", "personal_customer", alice, Facts(channel="online"), now=NOW)
    effective = NOW + dt.timedelta(days=14)
    publish(kokkok, _pack("kokkok", *KOKKOK_V2), effective_at=effective, now=NOW)
    before = engine_at(kokkok, effective - dt.timedelta(minutes=1))
    before.collect("alice", "personal_customer", alice, Facts(channel="online"), now=effective - dt.timedelta(minutes=1))
    assert [v for v, _ in _acceptances(kokkok)] == ["2024-09-30"]  # not bound before the effective date
    after = engine_at(kokkok, effective)
    after.collect("alice", "personal_customer", alice, Facts(channel="online"), now=effective)
    assert [v for v, _ in _acceptances(kokkok)] == ["2024-09-30", "2025-06-02"]


# -- KAMOER: every change posted, major ones prominently; triggers; continued use accepts -------------------------

def test_kamoer_75_every_change_is_posted_and_major_changes_get_a_prominent_notice(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    minor = publish(kamoer, _pack("kamoer", *KAMOER_V2), now=NOW)
    assert not minor.significant and minor.channels == ("page",) and "KAMOER-75" in minor.promises
    major = _pack("kamoer", ('label: "2022-12-19"', 'label: "2025-07-01"'),
                  ("updated_date: 2022-12-19", "updated_date: 2025-07-01"), *NEW_KAMOER_RECIPIENT)
    got = publish(kamoer, major, now=NOW + dt.timedelta(days=29))
    assert got.significant and got.channels == ("page", "prominent_notice")
    assert _log(kamoer)[-2:] == [("policy_notice", "page", ""), ("policy_notice", "prominent_notice", "")]


def test_kamoer_76_major_change_triggers_are_purposes_recipients_and_rights(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    got = publish(kamoer, _pack("kamoer", *KAMOER_V2, *NEW_KAMOER_RECIPIENT), now=NOW)
    assert {c.trigger for c in got.changes if c.significant} == {"recipients"} and "KAMOER-76" in got.promises


def test_kamoer_77_continued_use_after_the_update_takes_effect_counts_as_acceptance(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    signup = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reef", "password": "Coral#2025!"}
    kamoer.collect("zhang", "registration", signup, now=NOW)
    publish(kamoer, _pack("kamoer", *KAMOER_V2), effective_at=NOW + dt.timedelta(days=10), now=NOW)
    engine_at(kamoer, NOW + dt.timedelta(days=5)).collect("zhang", "registration", signup, now=NOW + dt.timedelta(days=5))
    assert [v for v, _ in _acceptances(kamoer)] == ["2022-12-19"]
    engine_at(kamoer, NOW + dt.timedelta(days=10)).collect("zhang", "registration", signup,
                                                           now=NOW + dt.timedelta(days=10))
    assert [v for v, _ in _acceptances(kamoer)] == ["2022-12-19", "2025-06-02"]


def test_publishing_another_pack_is_refused(db_url: str, tmp_path: Path) -> None:
    kamoer = _engine("kamoer", db_url, tmp_path)
    with pytest.raises(BadValueError, match="this is the 'koso' pack"):
        publish(kamoer, load_pack("koso"), now=NOW)




def test_publish_and_list_versions_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from policykeeper.cli import app

    home = tmp_path / "home"
    KeyRing.init(home / "keys")
    env = {"POLICYKEEPER_HOME": str(home), "POLICYKEEPER_DATABASE_URL": db_url, "POLICYKEEPER_PACK": "kokkok"}
    text = bundled_pack_path("kokkok").read_text(encoding="utf-8")
    for old, new in KOKKOK_V2:
        text = text.replace(old, new, 1)
    path = tmp_path / "kokkok-next.yaml"
    path.write_text(text)
    runner = CliRunner()
    soon = runner.invoke(app, ["pack", "publish", str(path), "--notice", "2025-06-02", "--effective", "2025-06-05"],
                         env=env)
    assert soon.exit_code == 1 and "at least 7 business days" in soon.stderr and "Traceback" not in soon.output
    ok = runner.invoke(app, ["pack", "publish", str(path), "--notice", "2025-06-02", "--effective", "2025-06-11"],
                       env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip().splitlines()[-1].startswith("published 2025-06-02: minor change; notice 2025-06-02")
    listed = runner.invoke(app, ["pack", "versions"], env=env)
    assert listed.exit_code == 0 and listed.stdout.strip().splitlines()[-1] == "versions: 2"
