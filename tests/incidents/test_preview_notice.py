"""The breach notice previewed before it is sent (the admin console's preview step): refused by the same breach rules
as the real run, counting the same people, showing the very text each person then receives, and writing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from policykeeper import BadValueError
from policykeeper.incidents import notify_affected, preview_notice
from policykeeper.notify import RoutedTransport, SmtpMailer, deliver

from ..conftest import Inbox
from .test_notices import CONTENT, NOW, _counts, _engine, _incident, _people


def test_kamoer_46_the_preview_is_the_notice_people_receive_and_sends_nothing(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card"])
    with pytest.raises(BadValueError, match="possible_impact.*KAMOER-46"):
        preview_notice(eng, iid, **{**CONTENT, "possible_impact": " "}, now=NOW)
    with pytest.raises(BadValueError, match="no transport for 'letter'"):
        preview_notice(eng, iid, **CONTENT, channel="letter", now=NOW)
    shown = preview_notice(eng, iid, **CONTENT, now=NOW)
    assert (shown.affected, shown.to_queue, shown.already_notified, shown.unreachable) == (1, 1, 0, 0)
    assert shown.announcement is None and "INC-2025-17" in shown.subject
    assert _counts(eng) == (0, 0, 0)  # a preview writes nothing
    run = notify_affected(eng, iid, **CONTENT, now=NOW)
    assert (run.affected, run.queued) == (shown.affected, shown.to_queue)
    deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW)
    [mail] = inbox.messages
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes) and body.decode().replace("\r\n", "\n").strip() == shown.body.strip()
    assert mail["Subject"] == shown.subject
    again = preview_notice(eng, iid, **CONTENT, now=NOW)
    assert (again.to_queue, again.already_notified) == (0, 1)


def test_kamoer_48_the_preview_shows_the_public_announcement_when_individual_notice_is_impractical(
        db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card"])
    shown = preview_notice(eng, iid, **CONTENT, impractical=True, now=NOW)
    assert shown.to_queue == 0 and shown.announcement is not None and "Public announcement" in shown.announcement
    assert _counts(eng) == (0, 0, 0)


def test_a_misspelt_content_argument_is_refused_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card"])
    with pytest.raises(TypeError, match="'what_happend'"):
        preview_notice(eng, iid, **CONTENT, what_happend="typo", now=NOW)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'what_happend'"):
        notify_affected(eng, iid, **CONTENT, what_happend="typo", now=NOW)  # type: ignore[call-arg]
    with pytest.raises(BadValueError, match="advice must be text"):
        notify_affected(eng, iid, **{**CONTENT, "advice": 3}, now=NOW)  # type: ignore[arg-type]
    assert _counts(eng) == (0, 0, 0)
