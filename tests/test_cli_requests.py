"""``policykeeper request submit --note`` and the filters of ``policykeeper request list`` (the API's and the admin
console's queue filters), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policykeeper.cli import _requests, app
from policykeeper.notify import SmtpMailer
from policykeeper.requests import MAX_NOTE

from .conftest import Inbox

runner = CliRunner()


@pytest.fixture
def opts(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]) -> list[str]:
    mailer = smtp[1]
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{mailer.host}:{mailer.port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    return ["--home", str(home), "--database-url", db_url, "--pack", "kalos"]


def _home(opts: list[str]) -> tuple[Path, str]:
    return Path(opts[1]), opts[3]


def test_a_request_submitted_with_a_note_keeps_the_note_encrypted_for_staff(opts: list[str]) -> None:
    said = "Please send me everything you hold, including the call recordings."
    got = runner.invoke(app, ["request", "submit", "chen", "access", "--email", "chen@example.cn", "--note", said,
                              *opts])
    assert got.exit_code == 0, got.output
    ref = got.stdout.split()[1].rstrip(":")
    home, url = _home(opts)
    svc = _requests(home, url, "kalos")
    content = svc.content_of(ref)
    assert content is not None and content.note == said
    with svc.engine.db.connect() as conn:  # kept encrypted: the note is nowhere in clear
        from sqlalchemy import select

        from policykeeper.store import requests

        row = conn.execute(select(requests).where(requests.c.ref == ref)).one()
        assert said not in repr(tuple(row)) and said.encode() not in b"".join(
            v for v in row if isinstance(v, bytes))
    plain = runner.invoke(app, ["request", "submit", "lin", "access", "--email", "lin@example.cn", *opts])
    plain_ref = plain.stdout.split()[1].rstrip(":")
    none = svc.content_of(plain_ref)
    assert none is not None and none.note == ""


def test_a_note_too_long_is_refused_and_records_nothing(opts: list[str]) -> None:
    got = runner.invoke(app, ["request", "submit", "chen", "access", "--email", "chen@example.cn", "--note",
                              "x" * (MAX_NOTE + 1), *opts])
    assert got.exit_code == 1 and "[bad_value]" in got.stderr and "note" in got.stderr
    assert runner.invoke(app, ["request", "list", "--status", "all", *opts]).stdout.strip() == \
        "requests: 0; overdue: 0"


def test_request_list_filters_as_the_queue_does(opts: list[str]) -> None:
    home, url = _home(opts)
    svc = _requests(home, url, "kalos")
    now = dt.datetime.now(dt.UTC)
    late = svc.submit("p1", "access", email="p1@example.cn", now=now - dt.timedelta(days=40)).ref  # due 10 days ago
    soon = svc.submit("p2", "delete", email="p2@example.cn", now=now - dt.timedelta(days=28)).ref  # due in 2 days
    later = svc.submit("p3", "access", email="p3@example.cn", now=now).ref  # due in 30 days
    done = svc.submit("p4", "access", email="p4@example.cn", now=now).ref
    svc.refuse(done, "identity_not_verified", actor="operator")

    def listed(*args: str) -> list[str]:
        got = runner.invoke(app, ["request", "list", *args, *opts])
        assert got.exit_code == 0, got.output
        return got.stdout.strip().splitlines()

    default = listed()  # no filter: the open requests, as before
    assert default[-1] == "open: 3; overdue: 1" and [line.split()[0] for line in default[:-1]] == [late, soon, later]
    assert [line.split()[3] for line in default[:-1]] == ["overdue", "due_soon", "on_time"]
    overdue = listed("--overdue")
    assert overdue[-1] == "requests: 1; overdue: 1" and overdue[0].startswith(late)
    due_soon = listed("--due-soon")
    assert due_soon[-1] == "requests: 1; overdue: 0" and due_soon[0].startswith(soon)
    assert listed("--due-soon", "--due-within", "1")[-1] == "requests: 0; overdue: 0"
    rights = listed("--right", "delete")
    assert rights[-1] == "requests: 1; overdue: 0" and rights[0].split()[:2] == [soon, "delete"]
    closed = listed("--status", "closed")
    assert closed[-1] == "requests: 1; overdue: 0" and closed[0].split()[:4] == [done, "access", "refused", "closed"]
    assert listed("--status", "all")[-1] == "requests: 4; overdue: 1"
    assert listed("--status", "refused")[0].startswith(done)
    found = listed("--ref", later[:6])
    assert found[0].startswith(later) and all(line.startswith(later[:6]) for line in found[:-1])
    for bad in (["--status", "lost"], ["--overdue", "--due-soon"], ["--ref", "not-hex"]):
        got = runner.invoke(app, ["request", "list", *bad, *opts])
        assert got.exit_code == 1 and "[bad_value]" in got.stderr, bad
