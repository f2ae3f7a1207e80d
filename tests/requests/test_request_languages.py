"""Every mail about a request is written in the language the person made it in (issue 15 item 7), over real SMTP."""

from __future__ import annotations

import datetime as dt
import re
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.pack import Pack
from policykeeper.requests import RequestService
from policykeeper.retention import place_legal_hold
from policykeeper.store import languages as language_store
from policykeeper.store import open_database, requests, subjects

from ..conftest import Inbox

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
ALICE = {"name": "Alice Phommachanh", "password": "correct horse battery", "uuid": "u-7f3a9c",
         "phone": "+856 20 5555 0101", "email": "alice@example.com", "date_of_birth": "1990-04-02"}
_ENGLISH = re.compile(r"[A-Za-z]{3,}(\s+[A-Za-z]{2,}){1,}")


def _service(db_url: str, tmp_path: Path, mailer: SmtpMailer, pack: Pack | None = None) -> RequestService:
    eng = PolicyEngine(pack or load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    return RequestService(eng, mailer)


def _text(mail: Message) -> tuple[str, str]:
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    return str(make_header(decode_header(str(mail["Subject"])))), body.decode().replace("\r\n", "\n")


def _chinese(mail: Message, *allowed: str) -> str:
    """The mail's subject and body, asserted to hold no English phrase but the ``allowed`` (the pack's own words)."""
    subject, body = _text(mail)
    text = f"{subject}\n{body}"
    for words in allowed:
        text = text.replace(words, "")
    assert not _ENGLISH.search(text), (_ENGLISH.search(text), subject, body)
    return f"{subject}\n{body}"


def test_every_mail_about_a_request_made_in_chinese_is_in_chinese_and_the_language_is_kept_encrypted(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    svc = _service(db_url, tmp_path, mailer)  # an English pack: the request's language wins
    svc.center_url = "https://privacy.example"
    ref = svc.submit("alice", "access", email="alice@example.com", language="zh-CN", now=NOW).ref
    code_mail = _chinese(inbox.to("alice@example.com")[-1])
    assert f"您的隐私请求 {ref}：验证码" in code_mail and "验证码是" in code_mail and "查看您的数据" in code_mail
    svc.resend_code(ref, now=NOW)
    assert "您的新验证码是" in _chinese(inbox.to("alice@example.com")[-1])
    svc.verify(ref, inbox.code_for("alice@example.com"), now=NOW)
    svc.extend(ref, 7, reason="供应商需要先答复", now=NOW)
    extended = _chinese(inbox.to("alice@example.com")[-1])
    assert "需要更多时间" in extended and "我们还需要 7 天：供应商需要先答复" in extended
    svc.fulfil_access(ref, None, now=NOW)
    done = _chinese(inbox.to("alice@example.com")[-1], "https://privacy.example/me/requests",
                    "relevant data privacy authority")
    assert f"您的隐私请求 {ref} 已完成" in done and "您的数据导出（6 项）已准备好" in done
    assert "https://privacy.example/me/requests" in done
    sid = str(svc.get(ref)["subject_id"])
    with svc.engine.db.connect() as conn:
        row = conn.execute(select(requests.c.language).where(requests.c.ref == ref)).scalar_one()
        assert row is not None and b"zh" not in row  # encrypted under the request's key
        assert language_store.of_subject(conn, svc.engine.keys, sid) == "zh-Hans"
    # the same person asking in English gets English, whatever they asked in before
    english = svc.submit("alice", "access", email="alice@example.com", language="en", now=NOW).ref
    assert _text(inbox.to("alice@example.com")[-1])[0] == f"Your privacy request {english}: your code"


def test_a_refusal_and_an_erasure_report_with_what_was_kept_are_in_the_requests_language(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    svc = _service(db_url, tmp_path, mailer)
    refused = svc.submit("alice", "access", email="alice@example.com", language="zh-Hans", now=NOW).ref
    svc.refuse(refused, "identity_not_verified", now=NOW)
    refusal = _chinese(inbox.to("alice@example.com")[-1], "relevant data privacy authority")
    assert "被拒绝" in refusal and "我们无法核实您的身份" in refusal and "投诉" in refusal
    place_legal_hold(svc.engine, "alice", reference="CASE-1", categories=["phone"], now=NOW)
    ref = svc.submit("alice", "delete", email="alice@example.com", language="zh-Hans", now=NOW).ref
    svc.verify(ref, inbox.code_for("alice@example.com"), now=NOW)
    svc.fulfil_erasure(ref, now=NOW)
    report = _chinese(inbox.to("alice@example.com")[-1], "Contact Number (Phone number)",
                      "relevant data privacy authority")
    assert "您的个人数据已被删除，但我们必须保留的除外" in report
    assert "Contact Number (Phone number)：1 条记录因法律保全（CASE-1）而保留" in report  # the pack's name, our words


def test_a_request_that_names_no_language_we_have_is_written_in_the_packs_language(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    svc = _service(db_url, tmp_path, mailer, load_pack("kokkok").model_copy(update={"language": "zh-CN"}))
    ref = svc.submit("alice", "access", email="alice@example.com", now=NOW).ref
    assert _text(inbox.to("alice@example.com")[-1])[0] == f"您的隐私请求 {ref}：验证码"
    other = svc.submit("alice", "access", email="alice@example.com", language="fr-FR", now=NOW).ref
    assert _text(inbox.to("alice@example.com")[-1])[0] == f"您的隐私请求 {other}：验证码"
    english = _service(db_url, tmp_path / "en", mailer)
    ref = english.submit("alice", "access", email="alice@example.com", language="zh-TW", now=NOW).ref
    assert _text(inbox.to("alice@example.com")[-1])[0] == f"Your privacy request {ref}: your code"  # not Simplified
    with english.engine.db.connect() as conn:
        assert conn.execute(select(requests.c.language).where(requests.c.ref == ref)).scalar_one() is None
        assert set(conn.execute(select(subjects.c.language)).scalars()) == {None}  # nothing said, nothing kept


def test_a_persons_language_is_kept_once_a_request_is_proven_and_unreadable_once_they_are_erased(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    svc = _service(db_url, tmp_path, mailer)
    ref = svc.submit("alice", "delete", email="alice@example.com", language="zh-Hans", now=NOW).ref
    sid = str(svc.get(ref)["subject_id"])
    with svc.engine.db.connect() as conn:  # anyone may ask in alice's name: only a proven request says her language
        assert language_store.of_subject(conn, svc.engine.keys, sid) is None
    svc.verify(ref, inbox.code_for("alice@example.com"), now=NOW)
    with svc.engine.db.connect() as conn:
        assert language_store.of_subject(conn, svc.engine.keys, sid) == "zh-Hans"
    svc.fulfil_erasure(ref, now=NOW)
    assert "您的个人数据已被删除" in _text(inbox.to("alice@example.com")[-1])[1]
    with svc.engine.db.connect() as conn:
        assert language_store.of_subject(conn, svc.engine.keys, sid) is None
        assert svc._language(svc._row(conn, ref)) == "en"  # the request's key is gone too: the pack's language


def test_the_command_line_takes_the_language_a_request_was_made_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from typer.testing import CliRunner

    from policykeeper.cli import app

    inbox, mailer = smtp
    runner = CliRunner()
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kokkok"]
    eng = PolicyEngine(load_pack("kokkok"), open_database(f"sqlite:///{home / 'policykeeper.db'}"),
                       KeyRing.open(home / "keys"))
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    bad = runner.invoke(app, ["request", "submit", "alice", "access", "--email", "alice@example.com",
                              "--language", "fr", *opts])
    assert bad.exit_code == 1 and "--language: one of en, zh-Hans, not 'fr'" in bad.stderr and not inbox.messages
    made = runner.invoke(app, ["request", "submit", "alice", "access", "--email", "alice@example.com",
                               "--language", "zh-Hans", *opts])
    assert made.exit_code == 0, made.output
    ref = made.stdout.split()[1].rstrip(":")
    assert _text(inbox.to("alice@example.com")[-1])[0] == f"您的隐私请求 {ref}：验证码"
    assert runner.invoke(app, ["request", "refuse", ref, "--ground", "identity_not_verified", *opts]).exit_code == 0
    assert _text(inbox.to("alice@example.com")[-1])[0] == f"您的隐私请求 {ref} 被拒绝"
