"""The command line: exit codes, messages on stderr, and the summary lines promised in the docs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policykeeper.cli import app
from policykeeper.notify import SmtpMailer

from .conftest import DATA, PACK_PROMISE_COUNTS, REPO, Inbox

runner = CliRunner()


@pytest.mark.parametrize(("name", "count"), sorted(PACK_PROMISE_COUNTS.items()))
def test_pack_check_repository_path_prints_full_coverage(name: str, count: int) -> None:
    result = runner.invoke(app, ["pack", "check", str(REPO / "packs" / f"{name}.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == f"promises: {count}/{count} encoded"
    assert result.stderr == ""


def test_pack_check_error_names_file_line_and_key() -> None:
    path = DATA / "failing_unknown_key.yaml"
    result = runner.invoke(app, ["pack", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:41:3 at collection.undeclared_feilds: unknown key" in result.stderr
    assert "[pack_schema]" in result.stderr


def test_pack_check_strict_fails_on_unencoded_promise(tmp_path: Path) -> None:
    text = (DATA / "passing_minimal.yaml").read_text().replace("          promises: [MIN-01]\n", "")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    loose = runner.invoke(app, ["pack", "check", str(path)])
    assert loose.exit_code == 0
    assert loose.stdout.strip().splitlines()[-1] == "promises: 0/1 encoded"
    assert "not encoded by any rule: MIN-01" in loose.stderr
    assert runner.invoke(app, ["pack", "check", "--strict", str(path)]).exit_code == 1


def test_unknown_pack_name_is_a_clean_error() -> None:
    result = runner.invoke(app, ["pack", "check", "nope"])
    assert result.exit_code == 1
    assert "[pack_not_found] no bundled pack named 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_pack_schema_is_json() -> None:
    result = runner.invoke(app, ["pack", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "Pack"


def test_pack_render_to_file_and_stdout(tmp_path: Path) -> None:
    out = tmp_path / "kalos.html"
    result = runner.invoke(app, ["pack", "render", "kalos", "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!doctype html>")
    md = runner.invoke(app, ["pack", "render", "kalos"])
    assert md.stdout.startswith("# ")
    bad = runner.invoke(app, ["pack", "render", "kalos", "--format", "pdf"])
    assert bad.exit_code == 2 and "--format must be 'md' or 'html'" in bad.stderr


def test_pack_diff_summary() -> None:
    result = runner.invoke(app, ["pack", "diff", str(DATA / "passing_full.yaml"), str(DATA / "passing_full.yaml")])
    assert result.exit_code == 0
    assert result.stdout.strip() == "changes: 0 (0 significant, 0 minor)"
    result = runner.invoke(app, ["pack", "diff", str(DATA / "passing_minimal.yaml"), str(DATA / "passing_full.yaml")])
    assert result.exit_code == 0
    assert "significant added   purposes.items.navigation" in result.stdout


def test_pack_lint_prints_both_quotes_and_fails() -> None:
    result = runner.invoke(app, ["pack", "lint", "koso"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any("KOSO-22" in line and "\"We don't provide any thirty-party advertising in Apps.\"" in line for line in lines)
    assert any("KOSO-21" in line and "Facebook Audience Network is an advertising service" in line for line in lines)
    assert result.stdout.strip().splitlines()[-1] == "findings: 1"


def test_pack_lint_clean_pack_exits_zero() -> None:
    result = runner.invoke(app, ["pack", "lint", "kalos"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "findings: 0"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == "0.1.0"


def test_keys_init_rotate_and_audit_verify(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = runner.invoke(app, ["keys", "init", "--home", str(home)])
    assert first.exit_code == 0 and "master key" in first.stdout
    again = runner.invoke(app, ["keys", "init", "--home", str(home)])
    assert again.exit_code == 1 and "refusing to overwrite" in again.stderr
    rotated = runner.invoke(app, ["keys", "rotate", "--home", str(home)])
    assert rotated.exit_code == 0 and "0 data key(s) re-wrapped" in rotated.stdout
    verified = runner.invoke(app, ["audit", "verify", "--home", str(home)])
    assert verified.exit_code == 0 and verified.stdout.strip() == "audit log intact: 0 entries"


def test_audit_verify_names_the_first_bad_entry(tmp_path: Path) -> None:
    from sqlalchemy import update

    from policykeeper import audit
    from policykeeper.store import audit_log, open_database

    url = f"sqlite:///{tmp_path / 'pk.db'}"
    engine = open_database(url)
    for i in range(3):
        with engine.begin() as conn:
            audit.record(conn, kind="export", actor="app", detail={"values": i})
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="someone else"))
    result = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert result.exit_code == 1
    assert "audit log broken at entry 2" in result.stdout


def test_keys_rotate_without_keystore_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "rotate", "--home", str(tmp_path / "none")])
    assert result.exit_code == 1 and "[keystore]" in result.stderr and "Traceback" not in result.output


def test_bad_database_url_is_a_clean_error() -> None:
    result = runner.invoke(app, ["audit", "verify", "--database-url", "mysql://x"])
    assert result.exit_code == 1 and "[config]" in result.stderr


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    done = runner.invoke(app, ["backup", str(tmp_path / "b.pkbak"), "--home", str(home)])
    assert done.exit_code == 0 and "backed up 2 rows" in done.stdout  # the two chain heads of an empty database
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = runner.invoke(app, ["restore", str(tmp_path / "b.pkbak"), "--home", str(home), "--database-url", target])
    assert restored.exit_code == 0 and "0 erasure(s) re-applied" in restored.stdout
    again = runner.invoke(app, ["restore", str(tmp_path / "nope.pkbak"), "--home", str(home), "--database-url", target])
    assert again.exit_code == 1 and "[bad_value]" in again.stderr


def test_consent_give_withdraw_and_receipt(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kamoer"]
    given = runner.invoke(app, ["consent", "give", "ana@example.com", "improvement_program", "-e", "channel=app", *opts])
    assert given.exit_code == 0, given.output
    assert "consent given for improvement_program: ledger entry" in given.stdout
    receipt = json.loads(runner.invoke(app, ["consent", "receipt", "ana@example.com", *opts]).stdout)
    assert "improvement_program" in json.dumps(receipt) and "ana@example.com" not in json.dumps(receipt)
    withdrawn = runner.invoke(app, ["consent", "withdraw", "ana@example.com", "improvement_program", *opts])
    assert withdrawn.exit_code == 0 and "consent withdrawn" in withdrawn.stdout
    unknown = runner.invoke(app, ["consent", "give", "ana@example.com", "no_such_target", *opts])
    assert unknown.exit_code == 1 and "[bad_value]" in unknown.stderr and "no_such_target" in unknown.stderr
    bad = runner.invoke(app, ["consent", "give", "ana@example.com", "improvement_program", "-e", "nokey", *opts])
    assert bad.exit_code == 1 and "KEY=VALUE" in bad.stderr
    nobody = runner.invoke(app, ["consent", "receipt", "bob@example.com", *opts])
    assert nobody.exit_code == 1 and "[subject_not_found]" in nobody.stderr
    badtime = runner.invoke(app, ["consent", "receipt", "ana@example.com", "--at", "yesterday", *opts])
    assert badtime.exit_code == 1 and "--at" in badtime.stderr


def test_transfer_assess_and_deletion_queue_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kamoer"]
    done = runner.invoke(app, ["transfer", "assess", "DE", "--reference", "SA-2025-7", "--valid-until", "2099-01-01",
                               *opts])
    assert done.exit_code == 0, done.output
    assert "assessment 1 recorded: DE adequate" in done.stdout
    bad = runner.invoke(app, ["transfer", "assess", "DE", "--reference", "SA", "--outcome", "fine", *opts])
    assert bad.exit_code == 1 and "[bad_value]" in bad.stderr
    signed = runner.invoke(app, ["fact", "record", "agreement", "--party", "logistics", "--arg", "confidentiality",
                                 "--reference", "carrier contract 7", *opts])
    assert signed.exit_code == 0 and "fact 1 recorded: agreement" in signed.stdout, signed.output
    wrong = runner.invoke(app, ["fact", "record", "agreement", "--party", "logistics", "--arg", "handshake",
                                "--reference", "x", *opts])
    assert wrong.exit_code == 1 and "[bad_value]" in wrong.stderr and "confidentiality" in wrong.stderr
    nobody = runner.invoke(app, ["fact", "record", "subscribed", "--person", "ghost", "--arg", "app",
                                 "--reference", "x", *opts])
    assert nobody.exit_code == 1 and "[subject_not_found]" in nobody.stderr
    monkeypatch.setenv("POLICYKEEPER_REGION", "US")
    abroad = runner.invoke(app, ["deletions", "list", *opts])
    assert abroad.exit_code == 1 and "[config]" in abroad.stderr and "KAMOER-21" in abroad.stderr
    monkeypatch.setenv("POLICYKEEPER_REGION", "CN")

    from policykeeper import load_pack
    from policykeeper.crypto import KeyRing
    from policykeeper.engine import PolicyEngine
    from policykeeper.store import open_database

    eng = PolicyEngine(load_pack("kamoer"), open_database(f"sqlite:///{home / 'policykeeper.db'}"),
                       KeyRing.open(home / "keys"))
    eng.collect("kid", "registration", {"phone": "1", "email": "kid@example.cn", "username": "k", "password": "p"})
    assert eng.note_age("kid", age=10)
    listed = runner.invoke(app, ["deletions", "list", *opts])
    assert listed.exit_code == 0 and "minor_without_parental_consent" in listed.stdout
    assert listed.stdout.strip().splitlines()[-1] == "pending: 1"
    assert runner.invoke(app, ["deletions", "run", *opts]).stdout.strip() == "erased: 1"
    assert runner.invoke(app, ["deletions", "run", *opts]).stdout.strip() == "erased: 0"
    assert runner.invoke(app, ["deletions", "list", *opts]).stdout.strip() == "pending: 0"


def _engine_at(home: Path, pack: str) -> Any:
    """The engine the commands use for HOME (its SQLite file and keystore), to set up data the way an app would."""
    from policykeeper import load_pack
    from policykeeper.crypto import KeyRing
    from policykeeper.engine import PolicyEngine
    from policykeeper.store import open_database

    return PolicyEngine(load_pack(pack), open_database(f"sqlite:///{home / 'policykeeper.db'}"), KeyRing.open(home / "keys"))


def test_an_access_request_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kokkok"]

    from policykeeper.engine import Facts

    eng = _engine_at(home, "kokkok")
    eng.collect("noy", "mobile_customer", {"app_id": "a-9", "push_id": "p-9"}, Facts(channel="online"))
    eng.collect("noy", "one_to_one_inquiry", {"consultation_records": "hi", "email": "noy@example.la"},
                Facts(channel="consultation"))
    submitted = runner.invoke(app, ["request", "submit", "noy", "access", "--email", "noy@example.la", *opts])
    assert submitted.exit_code == 0, submitted.output
    ref = submitted.stdout.split()[1].rstrip(":")
    assert "deadline per_applicable_law" in submitted.stdout
    listed = runner.invoke(app, ["request", "list", *opts])
    assert ref in listed.stdout and listed.stdout.strip().splitlines()[-1] == "open: 1; overdue: 0"
    bad = runner.invoke(app, ["request", "verify", ref, "000000" if inbox.code_for("noy@example.la") != "000000"
                              else "111111", *opts])
    assert bad.exit_code == 1 and "wrong code" in bad.stderr
    ok = runner.invoke(app, ["request", "verify", ref, inbox.code_for("noy@example.la"), *opts])
    assert ok.exit_code == 0 and f"request {ref}: verified" in ok.stdout
    export = tmp_path / "noy.zip"
    done = runner.invoke(app, ["request", "fulfil", ref, "--output", str(export), *opts])
    assert done.exit_code == 0 and "4 value(s) exported" in done.stdout and export.exists()
    shown = json.loads(runner.invoke(app, ["request", "show", ref, *opts]).stdout)
    assert shown["status"] == "fulfilled" and "noy@example.la" not in json.dumps(shown)
    assert runner.invoke(app, ["request", "list", *opts]).stdout.strip() == "open: 0; overdue: 0"
    refused = runner.invoke(app, ["request", "refuse", ref, "--ground", "whatever", *opts])
    assert refused.exit_code == 1 and "[bad_value]" in refused.stderr


def test_request_list_runs_without_a_mail_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICYKEEPER_SMTP_URL", raising=False)
    home = tmp_path / "home"
    runner.invoke(app, ["keys", "init", "--home", str(home)])
    result = runner.invoke(app, ["request", "list", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "open: 0; overdue: 0"


def test_request_submit_with_the_mail_server_down_prints_the_reference_and_resend_sends_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    import socket

    inbox, mailer = smtp
    with socket.socket() as s:  # a port nobody listens on: the mail server is down
        s.bind(("127.0.0.1", 0))
        down = s.getsockname()[1]
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://127.0.0.1:{down}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kokkok"]
    from policykeeper.engine import Facts

    eng = _engine_at(home, "kokkok")
    eng.collect("noy", "one_to_one_inquiry", {"consultation_records": "hi", "email": "noy@example.la"},
                Facts(channel="consultation"))
    submitted = runner.invoke(app, ["request", "submit", "noy", "access", "--email", "noy@example.la", *opts])
    assert submitted.exit_code == 0, submitted.output
    ref = submitted.stdout.split()[1].rstrip(":")
    assert submitted.stdout.startswith(f"request {ref}: received")
    assert f"policykeeper request resend {ref}" in submitted.stderr and "Traceback" not in submitted.output
    assert inbox.to("noy@example.la") == []
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    assert runner.invoke(app, ["request", "resend", ref, *opts]).exit_code == 0
    assert len(inbox.to("noy@example.la")) == 1
    listed = runner.invoke(app, ["request", "list", *opts])
    assert listed.stdout.strip().splitlines()[-1] == "open: 1; overdue: 0"  # recorded once, not duplicated
    ok = runner.invoke(app, ["request", "verify", ref, inbox.code_for("noy@example.la"), *opts])
    assert ok.exit_code == 0 and f"request {ref}: verified" in ok.stdout


def test_audit_verify_on_a_mistyped_home_refuses_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "hmoe"
    result = runner.invoke(app, ["audit", "verify", "--home", str(home)])
    assert result.exit_code == 1 and "no database at" in result.stderr
    assert "intact" not in result.output and not (home / "policykeeper.db").exists()


def test_the_database_and_an_export_are_readable_by_their_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    old_mask = os.umask(0o022)  # the usual umask, under which files are world-readable unless made otherwise
    try:
        _owner_only(tmp_path, inbox)
    finally:
        os.umask(old_mask)


def _owner_only(tmp_path: Path, inbox: Inbox) -> None:
    import stat

    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kokkok"]
    from policykeeper.engine import Facts

    eng = _engine_at(home, "kokkok")
    eng.collect("noy", "one_to_one_inquiry", {"consultation_records": "hi", "email": "noy@example.la"},
                Facts(channel="consultation"))
    ref = runner.invoke(app, ["request", "submit", "noy", "access", "--email", "noy@example.la", *opts]
                        ).stdout.split()[1].rstrip(":")
    assert runner.invoke(app, ["request", "verify", ref, inbox.code_for("noy@example.la"), *opts]).exit_code == 0
    export = tmp_path / "noy.zip"
    assert runner.invoke(app, ["request", "fulfil", ref, "--output", str(export), *opts]).exit_code == 0
    backup = tmp_path / "backup.gz"
    assert runner.invoke(app, ["backup", str(backup), "--home", str(home)]).exit_code == 0
    for path in (home / "policykeeper.db", export, backup):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for wal in home.glob("policykeeper.db-*"):
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0, wal


def test_an_erasure_request_reaches_the_recipients_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kamoer"]

    from policykeeper.engine import Facts

    eng = _engine_at(home, "kamoer")
    eng.collect("wu", "purchase", {"name": "Wu Lan", "phone": "1", "email": "wu@example.cn", "mailing_address": "2 Bund",
                                   "id_number": "3101", "bank_card": "6222"})
    for paper in ("confidentiality", "instructions_only"):
        eng.record_fact("agreement", party="logistics", arg=paper, reference="carrier contract")
    eng.share("wu", "logistics", {"mailing_address"}, "purchase_delivery", Facts())
    (home / "recipients.yaml").write_text("logistics: {email: privacy@sf.example}\n")
    ref = runner.invoke(app, ["request", "submit", "wu", "delete", "--email", "wu@example.cn", *opts]).stdout.split()[1]
    ref = ref.rstrip(":")
    assert runner.invoke(app, ["request", "verify", ref, inbox.code_for("wu@example.cn"), *opts]).exit_code == 0
    no_ground = runner.invoke(app, ["request", "fulfil", ref, *opts])
    assert no_ground.exit_code == 1 and "KAMOER-54" in no_ground.stderr
    done = runner.invoke(app, ["request", "fulfil", ref, "--ground", "processing_violates_law", *opts])
    assert done.exit_code == 0 and "1 recipient notice(s) queued" in done.stdout
    sent = runner.invoke(app, ["outbox", "deliver", *opts])
    assert sent.stdout.strip() == "sent: 1; retry later: 0; dead-lettered: 0; unsure: 0"
    assert len(inbox.to("privacy@sf.example")) == 1
    assert runner.invoke(app, ["outbox", "dead", *opts]).stdout.strip() == "dead: 0; unsure: 0"
    (home / "recipients.yaml").write_text("logistics: {fax: 123}\n")
    bad = runner.invoke(app, ["outbox", "deliver", *opts])
    assert bad.exit_code == 1 and "unknown key(s) fax" in bad.stderr


def test_correction_objection_and_extension_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kokkok"]
    from policykeeper.engine import Facts

    eng = _engine_at(home, "kokkok")
    eng.collect("noy", "one_to_one_inquiry", {"consultation_records": "hi", "email": "noy@example.la",
                                              "phone": "+856 20 1"}, Facts(channel="consultation"))

    def verified(right: str) -> str:
        ref = runner.invoke(app, ["request", "submit", "noy", right, "--email", "noy@example.la", *opts]).stdout.split()[1]
        ref = ref.rstrip(":")
        assert runner.invoke(app, ["request", "verify", ref, inbox.code_for("noy@example.la"), *opts]).exit_code == 0
        return ref

    ref = verified("correct")
    extended = runner.invoke(app, ["request", "extend", ref, "--days", "5", "--reason", "checking records", *opts])
    assert extended.exit_code == 0 and ": extended;" in extended.stdout
    missing = runner.invoke(app, ["request", "fulfil", ref, *opts])
    assert missing.exit_code == 1 and "--category and --value" in missing.stderr
    done = runner.invoke(app, ["request", "fulfil", ref, "--category", "phone", "--value", "+856 20 2", *opts])
    assert done.exit_code == 0 and "phone corrected" in done.stdout
    assert eng.read("noy", "inquiry_complaint_handling", {"phone"}) == {"phone": ["+856 20 2"]}
    ref = verified("object")
    objected = runner.invoke(app, ["request", "fulfil", ref, "--purpose", "inquiry_complaint_handling", *opts])
    assert objected.exit_code == 0 and "objected to" in objected.stdout


def test_an_incident_from_record_to_notices_and_the_regulator_report_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kamoer"]
    eng = _engine_at(home, "kamoer")
    eng.collect("wu", "purchase", {"name": "Wu Lan", "phone": "1", "email": "wu@example.cn", "mailing_address": "2 Bund",
                                   "id_number": "3101", "bank_card": "6222"})
    eng.collect("sun", "service_use", {"usage_logs": "opened app"})
    recorded = runner.invoke(app, ["incident", "record", "--system", "mall checkout", "--category", "bank_card",
                                   "--category", "usage_logs", "--reference", "INC-9", "--started-at", "2020-01-01",
                                   "--harm", *opts])
    assert recorded.exit_code == 0, recorded.output
    assert recorded.stdout.strip() == "incident 1 recorded; liability flag set"
    content = ["--what-happened", "Card table read.", "--possible-impact", "Fraud.", "--measures", "Keys rotated.",
               "--advice", "Watch statements.", "--remedies", "Refunds."]
    missing = runner.invoke(app, ["incident", "notify", "1", *content[:-2], *opts])
    assert missing.exit_code == 1 and "remedies" in missing.stderr and "KAMOER-46" in missing.stderr
    letter = runner.invoke(app, ["incident", "notify", "1", *content, "--channel", "letter", *opts])
    assert letter.exit_code == 1 and "no transport" in letter.stderr
    notified = runner.invoke(app, ["incident", "notify", "1", *content, *opts])
    assert notified.exit_code == 0, notified.output
    assert notified.stdout.strip().splitlines()[-1] == ("affected: 2; queued: 1; already notified: 0; unreachable: 1; "
                                                        "announcement: yes")
    assert "Public announcement" in notified.stdout and "wu@example.cn" not in notified.stdout
    assert not (home / "recipients.yaml").exists()  # people's notices need no recipient routes
    assert runner.invoke(app, ["outbox", "deliver", *opts]).stdout.strip().startswith("sent: 1;")
    assert len(inbox.to("wu@example.cn")) == 1
    assert runner.invoke(app, ["incident", "notify", "1", *content, *opts]).stdout.strip().splitlines()[-1].startswith(
        "affected: 2; queued: 0; already notified: 1")
    bad_close = runner.invoke(app, ["incident", "close", "1", *opts])
    assert bad_close.exit_code == 1 and "record_keeping" in bad_close.stderr
    for step in ("record_keeping", "analysis", "disposal"):
        assert runner.invoke(app, ["incident", "step", "1", step, "--reference", f"INC-9/{step}", *opts]).exit_code == 0
    assert runner.invoke(app, ["incident", "close", "1", *opts]).stdout.strip() == "incident 1: closed"
    report = runner.invoke(app, ["incident", "report", "1", *opts])
    assert report.exit_code == 0, report.output
    data = json.loads(report.stdout)
    assert data["people_affected"] == 2 and data["notices"]["individual"] == 1 and data["announcement"]["made"]
    assert data["incident"]["status"] == "closed" and "wu@example.cn" not in report.stdout
    missing_incident = runner.invoke(app, ["incident", "report", "7", *opts])
    assert missing_incident.exit_code == 1 and "no incident 7" in missing_incident.stderr


def test_the_privacy_department_and_training_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kamoer"]
    shown = runner.invoke(app, ["organisation", "show", *opts])
    assert shown.exit_code == 0 and "none on record" in shown.stdout and "not stated" in shown.stdout
    bad = runner.invoke(app, ["organisation", "department", "--name", "PIP", "--contact", "privacy@kamoer.example",
                              "--role", "Data Protection Officer", *opts])
    assert bad.exit_code == 1 and "Title=N" in bad.stderr
    done = runner.invoke(app, ["organisation", "department", "--name", "PIP", "--contact", "privacy@kamoer.example",
                               "--role", "Data Protection Officer=1", "--role", "Analyst=2", *opts])
    assert done.exit_code == 0 and "3 staff in 2 role(s)" in done.stdout
    held = runner.invoke(app, ["organisation", "training", "--held-on", "2020-01-15", "--topic", "Phishing",
                               "--attendance", "30", *opts])
    assert held.exit_code == 0 and held.stdout.strip() == "training session 1 recorded"
    (home / "organisation.yaml").write_text("recurrence:\n  staff_training: {value: 12, unit: months}\n")
    shown = runner.invoke(app, ["organisation", "show", *opts])
    assert shown.exit_code == 0, shown.output
    assert "Analyst x2" in shown.stdout and "2020-01-15 Phishing (30 attended)" in shown.stdout
    assert "every 12 months (operator)" in shown.stdout and "OVERDUE" in shown.stdout


def test_pack_check_on_deep_nesting_or_an_alias_bomb_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 50_000 + "]" * 50_000)
    bomb = tmp_path / "bomb.yaml"
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb.write_text("\n".join(lines) + "\n")
    for path in (deep, bomb):
        result = runner.invoke(app, ["pack", "check", str(path)])
        assert result.exit_code == 1 and "[pack_syntax]" in result.stderr, result.output
        assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception,
                                                                                              SystemExit)


def test_apikey_create_list_and_revoke(tmp_path: Path, db_url: str) -> None:
    where = ["--home", str(tmp_path / "home"), "--database-url", db_url]
    assert runner.invoke(app, ["keys", "init", *where[:2]]).exit_code == 0
    created = runner.invoke(app, ["apikey", "create", "ci bot", "--role", "service", *where])
    assert created.exit_code == 0 and created.stdout.startswith("pkk_")
    listed = runner.invoke(app, ["apikey", "list", *where])
    key_id, role, state, name = listed.stdout.splitlines()[0].split(maxsplit=3)
    assert (role, state, name) == ("service", "active", "ci bot") and "keys: 1" in listed.stdout
    assert "keys: 0" in runner.invoke(app, ["apikey", "list", *where[:2]]).stdout  # the key is in --database-url's
    assert runner.invoke(app, ["apikey", "revoke", key_id, *where]).stdout.strip() == f"revoked {key_id}"
    assert " revoked " in runner.invoke(app, ["apikey", "list", *where]).stdout
    refused = runner.invoke(app, ["apikey", "create", "x", "--role", "nobody", *where])
    assert refused.exit_code == 1 and "error [invalid] role must be one of" in refused.stderr
    unknown = runner.invoke(app, ["apikey", "revoke", "no-such-key", *where])
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error [not_found] "), unknown.stderr
