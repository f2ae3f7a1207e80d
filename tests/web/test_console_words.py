"""The console in the person's language and in the reader's: staff verifying a request keep the language the person
made it in for the notices sent to many people, and every problem a Chinese console page shows (a refused step, a
notice or a version the library refuses, a missing permission, a broken audit chain) is a Chinese sentence (issue 15
item 7). Test client and real Chromium; both databases."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header

from policykeeper.incidents import notify_affected, record_incident
from policykeeper.notify import RoutedTransport, deliver
from policykeeper.store import languages as language_store

from .conftest import Web
from .test_admin import _console, _csrf
from .test_api import LI, _signup

NOW = dt.datetime.now(dt.UTC)
NOTICE = {"what_happened": "An attacker read the address table.", "possible_impact": "Phishing mails.",
          "measures": "We closed the hole.", "advice": "Ignore mails asking for your password.",
          "remedies": "Write to privacy@kamoer.example."}


def _language(web: Web, subject_id: str) -> str | None:
    eng = web.ctx.engine()
    with eng.db.connect() as conn:
        return language_store.of_subject(conn, eng.keys, subject_id)


def test_staff_verifying_a_request_keep_the_language_the_person_asked_in_for_later_notices(web: Web) -> None:
    """Li asks in Chinese without signing in; a support agent checks who it is in the console. The request is now
    proven, as by its code: the notices sent to many people (here a breach notice) are written to Li in Chinese."""
    _signup(web, "li", LI)
    ref = web.ctx.requests().submit("li", "access", email=LI["email"], language="zh-Hans").ref
    sid = str(web.ctx.requests().get(ref)["subject_id"])
    assert _language(web, sid) is None  # an unproven request chooses nothing for the person
    _console(web, "support_agent")
    page = web.client.get(f"/admin/requests/{ref}").text
    done = web.client.post(f"/admin/requests/{ref}/verify", data={"csrf": _csrf(page), "method": "identity_proof",
                                                                  "reference": "ticket 77"})
    assert done.status_code == 200 and web.ctx.requests().get(ref)["status"] == "verified"
    assert _language(web, sid) == "zh-Hans"
    eng = web.ctx.engine()
    iid = record_incident(eng, started_at=NOW - dt.timedelta(days=2), ended_at=None,
                          systems=["mall"], categories=["email"], reference="INC-77", harm_to_subjects=False)
    assert notify_affected(eng, iid, **NOTICE).queued >= 1
    deliver(eng.db, eng.keys, RoutedTransport(web.ctx.mailer))
    mail = web.inbox.to(LI["email"])[-1]
    assert str(make_header(decode_header(str(mail["Subject"])))) == "安全事件通知（INC-77）"
