"""Days in mails are written in words in the mail's language ("9 June 2025", "2025年6月9日"), never as ISO dates
(issue 15 item 7), over real SMTP."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from policykeeper.notify import SmtpMailer

from ..conftest import Inbox
from .test_request_languages import NOW, _service, _text

_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _in_words(language: str, day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if language == "zh-Hans" else f"{day.day} {day:%B} {day.year}"


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_the_days_in_a_requests_mails_are_in_words_in_its_language(
    language: str, db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    svc = _service(db_url, tmp_path, mailer)
    ref = svc.submit("alice", "access", email="alice@example.com", language=language, now=NOW).ref
    subject, code_mail = _text(inbox.to("alice@example.com")[-1])
    assert _in_words(language, NOW.date()) in code_mail, code_mail  # the day it was received
    svc.verify(ref, inbox.code_for("alice@example.com"), now=NOW)
    svc.extend(ref, 7, reason="the supplier answers first", now=NOW)
    due = svc.get(ref)["due_at"]
    assert isinstance(due, dt.datetime)
    subject, extended = _text(inbox.to("alice@example.com")[-1])
    assert _in_words(language, due.date()) in extended, extended  # the new deadline
    for text in (code_mail, extended, subject):
        assert not _ISO.search(text), text
    if language == "en":
        assert f"New deadline: {due.day} {due:%B} {due.year}." in extended
    else:
        assert "月" in extended and f"{due:%Y-%m-%d}" not in extended


@pytest.mark.parametrize(("language", "expected"), [("en", "30 November 2026, 14:05 UTC"),
                                                    ("zh-Hans", "2026年11月30日 14:05 UTC")])
def test_the_moment_of_an_explained_decision_is_in_words(language: str, expected: str) -> None:
    from policykeeper.requests._letters import explanation_letter

    _subject, body = explanation_letter(language, "r1", "d1", dt.datetime(2026, 11, 30, 14, 5, tzinfo=dt.UTC), False,
                                        "share", [], [], False)
    assert expected in body and not _ISO.search(body), body
