"""Notices that go to many people at once (a breach notice, a policy change) are written in the language each person
last used with us, where the engine knows it, else in the pack's language (issue 15 item 7). Real SMTP, both
databases."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.incidents import notify_affected, preview_notice, record_incident
from policykeeper.notify import RoutedTransport, SmtpMailer, deliver
from policykeeper.store import languages as language_store
from policykeeper.store import open_database
from policykeeper.versions import publish

from ..conftest import Inbox
from ..versions.test_versions import EMAIL_KALOS, KALOS_V2, _pack
from .test_notices import CONTENT, PURCHASE

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
START, END = NOW - dt.timedelta(days=2), NOW - dt.timedelta(days=1)


def _mail(inbox: Inbox, to: str) -> tuple[str, str]:
    (mail,) = inbox.to(to)
    assert isinstance(mail, Message)
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    return str(make_header(decode_header(str(mail["Subject"])))), body.decode().replace("\r\n", "\n")


def _remember(eng: PolicyEngine, sid: str, language: str) -> None:
    with eng.db.begin() as conn:
        language_store.remember_for_subject(conn, eng.keys, sid, language)


def test_a_breach_notice_is_written_in_each_persons_last_language_and_the_packs_otherwise(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    eng = PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    wu = eng.collect("wu", "purchase", PURCHASE, now=START - dt.timedelta(days=30)).subject_id
    eng.collect("li", "purchase", {**PURCHASE, "email": "li@example.cn"}, now=START - dt.timedelta(days=30))
    _remember(eng, wu, "zh-Hans")
    iid = record_incident(eng, started_at=START, ended_at=END, systems=["mall checkout"], categories=["bank_card"],
                          reference="INC-2025-17", harm_to_subjects=True, now=NOW)
    shown = preview_notice(eng, iid, **CONTENT, now=NOW)  # the pack's language: what the console previews
    assert notify_affected(eng, iid, **CONTENT, now=NOW).queued == 2
    assert deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW)["sent"] == 2
    subject, body = _mail(inbox, "wu@example.cn")
    assert subject == "安全事件通知（INC-2025-17）"
    assert "我们特此告知您一起可能影响您个人信息的安全事件。" in body and "发生了什么：" in body
    assert "您可以采取的保护措施：" in body and "事件编号：INC-2025-17" in body
    assert CONTENT["what_happened"] in body  # what staff wrote, as they wrote it
    subject, body = _mail(inbox, "li@example.cn")
    assert subject == "Security incident notice (INC-2025-17)" == shown.subject
    assert body.strip() == shown.body.strip() and "What happened:" in body


def test_a_policy_change_notice_is_written_in_each_persons_last_language(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    kalos = PolicyEngine(_pack("kalos", EMAIL_KALOS), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    wu = kalos.collect("wu", "security", {"user_info": "wu@example.cn"}, now=NOW - dt.timedelta(days=90)).subject_id
    kalos.collect("li", "security", {"user_info": "li@example.cn"}, now=NOW - dt.timedelta(days=90))
    _remember(kalos, wu, "zh-Hans")
    new_owner = _pack("kalos", EMAIL_KALOS, *KALOS_V2, ("legal_name: Beijing ZhiJian Software Co., Ltd.",
                                                        "legal_name: ZhiJian Holdings Ltd."))
    assert publish(kalos, new_owner, now=NOW - dt.timedelta(days=60)).emails == 2
    deliver(kalos.db, kalos.keys, RoutedTransport(mailer), now=NOW)
    subject, body = _mail(inbox, "wu@example.cn")
    assert subject == "我们的隐私政策将于 2025年5月1日 变更"
    assert "版本 2025-05-01 于 2025年5月1日 生效。" in body and "变更内容：" in body and "已变更：我们是谁" in body
    subject, body = _mail(inbox, "li@example.cn")
    assert subject == "Our privacy policy changes on 1 May 2025" and "- Changed: who we are" in body


def test_a_shutdown_notice_is_titled_in_each_persons_last_language(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from policykeeper.retention import cease_service

    inbox, mailer = smtp
    pack = load_pack("konzen")
    rule = pack.service_cessation.model_copy(update={"notify_channels": ("email", "announcement")})  # type: ignore[union-attr]
    eng = PolicyEngine(pack.model_copy(update={"service_cessation": rule}), open_database(db_url),
                       KeyRing.init(tmp_path / "keys"))
    wang = eng.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"},
                       now=NOW).subject_id
    eng.collect("li", "registration", {"phone": "+86 135 0000 0000", "email": "li@example.cn"}, now=NOW)
    _remember(eng, wang, "zh-Hans")
    cease_service(eng, at=NOW + dt.timedelta(days=60), reference="BOARD-2025-07",
                  announcement="Konzen domains close on 1 August.", now=NOW)
    deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW)
    legal = eng.pack.controller.legal_name
    assert _mail(inbox, "wang@example.cn") == (f"{legal}：服务即将停止", "Konzen domains close on 1 August.\n")
    assert _mail(inbox, "li@example.cn")[0] == f"{legal}: the service is shutting down"
