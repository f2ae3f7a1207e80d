"""Breach notices: the affected people found from the window and categories, their notices (once), the public
announcement fallback, the regulator's report and the timing; no personal values in the audit log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.incidents import (
    affected_subjects,
    close_incident,
    get_incident,
    incident_step,
    notice_timing,
    notify_affected,
    record_incident,
    regulator_report,
    required_steps,
)
from policykeeper.notify import RoutedTransport, SmtpMailer, deliver
from policykeeper.store import audit_log, open_database
from policykeeper.store._schema import disclosures, incident_notices, message_log, outbox

from ..conftest import Inbox
from ..helpers import sign_agreements

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
START, END = NOW - dt.timedelta(days=2), NOW - dt.timedelta(days=1)
BEFORE, AFTER = START - dt.timedelta(days=30), END + dt.timedelta(hours=1)

CONTENT = {
    "what_happened": "An attacker read the payment table of the mall checkout on 31 May.",
    "possible_impact": "Card numbers may be used for fraudulent purchases.",
    "measures": "We closed the hole, rotated keys and told the card issuers.",
    "advice": "Watch your statements and ask your bank for a new card.",
    "remedies": "We refund any fraudulent charge; write to privacy@kamoer.example.",
}

PURCHASE = {"name": "Wu Lan", "phone": "13800000001", "email": "wu@example.cn", "mailing_address": "2 Bund",
            "id_number": "310101199001011234", "bank_card": "6222020000000001"}
PERSONAL = ["Wu Lan", "wu@example.cn", "13800000001", "310101199001011234", "6222020000000001", "2 Bund",
            "li@example.cn", "zhao@example.cn", "qian@example.cn"]


def _engine(name: str, db_url: str, tmp_path: Path) -> PolicyEngine:
    return PolicyEngine(load_pack(name), open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _purchase(eng: PolicyEngine, who: str, email: str, at: dt.datetime) -> str:
    return eng.collect(who, "purchase", {**PURCHASE, "email": email}, now=at).subject_id


def _people(eng: PolicyEngine) -> dict[str, str]:
    """wu bought before the window (affected); li bought after it; zhao only registered (no card);
    qian bought before the window and was erased before it began; sun has no address, only usage logs."""
    ids = {"wu": _purchase(eng, "wu", "wu@example.cn", BEFORE),
           "li": _purchase(eng, "li", "li@example.cn", AFTER),
           "zhao": eng.collect("zhao", "registration", {"phone": "1", "email": "zhao@example.cn", "username": "z",
                                                        "password": "pw"}, now=BEFORE).subject_id,
           "qian": _purchase(eng, "qian", "qian@example.cn", BEFORE),
           "sun": eng.collect("sun", "service_use", {"usage_logs": "opened app", "ip_address": "10.0.0.9"},
                              now=BEFORE).subject_id}
    eng.erase("qian", now=START - dt.timedelta(days=1))
    return ids


def _incident(eng: PolicyEngine, categories: list[str], ref: str = "INC-2025-17") -> int:
    return record_incident(eng, started_at=START, ended_at=END, systems=["mall checkout"], categories=categories,
                           reference=ref, harm_to_subjects=True, now=NOW)


def _counts(eng: PolicyEngine) -> tuple[int, int, int]:
    with eng.db.connect() as conn:
        return (len(conn.execute(select(outbox.c.id)).all()), len(conn.execute(select(incident_notices.c.id)).all()),
                len(conn.execute(select(message_log.c.id)).all()))


def test_kamoer_46_the_notice_holds_all_five_items_and_one_missing_is_refused(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card"])
    for missing in CONTENT:
        with pytest.raises(BadValueError, match="KAMOER-46") as info:
            notify_affected(eng, iid, **{**CONTENT, missing: "  "}, now=NOW)
        assert missing in str(info.value)
    assert _counts(eng) == (0, 0, 0)  # refused: nothing changed
    run = notify_affected(eng, iid, **CONTENT, now=NOW)
    assert (run.affected, run.queued, run.unreachable) == (1, 1, 0)
    assert deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW) == {"sent": 1, "retry": 0, "dead": 0, "unsure": 0}
    [mail] = inbox.messages
    assert mail["To"] == "wu@example.cn" and "INC-2025-17" in mail["Subject"]
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    for item in CONTENT.values():
        assert item in text
    for heading in ("What happened", "Possible impact", "Measures taken or planned", "protect yourself", "Remedies"):
        assert heading in text
    with eng.db.connect() as conn:
        row = conn.execute(select(outbox.c.payload, outbox.c.status, outbox.c.kind)).one()
        logged = conn.execute(select(message_log.c.kind, message_log.c.topic)).one()
    assert row.status == "sent" and row.payload is None and row.kind == "breach_notice"  # content destroyed
    assert tuple(logged) == ("breach_notice", f"incident:{iid}")


def test_kamoer_47_notices_go_by_a_listed_channel_the_outbox_can_deliver(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    ids = _people(eng)
    iid = _incident(eng, ["bank_card"])
    with pytest.raises(BadValueError, match="KAMOER-47") as info:
        notify_affected(eng, iid, **CONTENT, channel="fax", now=NOW)
    assert "email, letter, phone, push" in str(info.value)
    for unsendable in ("letter", "phone"):
        with pytest.raises(BadValueError, match=f"no transport for '{unsendable}'"):
            notify_affected(eng, iid, **CONTENT, channel=unsendable, now=NOW)
    assert _counts(eng) == (0, 0, 0)
    assert notify_affected(eng, iid, **CONTENT, channel="email", now=NOW).queued == 1
    assert notify_affected(eng, iid, **CONTENT, channel="push", now=NOW).queued == 1
    with eng.db.connect() as conn:
        rows = conn.execute(select(incident_notices.c.subject_id, incident_notices.c.channel)
                            .order_by(incident_notices.c.channel)).all()
    assert [tuple(r) for r in rows] == [(ids["wu"], "email"), (ids["wu"], "push")]
    # a pack without a breach rule lists no channels: any deliverable one will do, and nothing is required
    other = PolicyEngine(load_pack("konzen"), eng.db, eng.keys)
    kid = record_incident(other, started_at=START, systems=["dns"], categories=["email"], reference="K-1", now=NOW)
    assert notify_affected(other, kid, what_happened="A resolver log leaked.", now=NOW).affected == 0
    with pytest.raises(BadValueError, match="no transport"):
        notify_affected(other, kid, what_happened="x", channel="letter", now=NOW)


def test_kamoer_48_a_public_announcement_when_individual_notice_is_impractical(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    ids = _people(eng)
    iid = _incident(eng, ["bank_card", "usage_logs"])  # sun has usage logs but no address
    run = notify_affected(eng, iid, **CONTENT, now=NOW)
    assert (run.affected, run.queued, run.unreachable) == (2, 1, 1)
    assert run.announcement is not None and CONTENT["advice"] in run.announcement
    assert "2 people" in run.announcement
    assert not any(v in run.announcement for v in PERSONAL)
    # operator judges individual notice impractical: no individual messages, only the announcement
    big = _incident(eng, ["bank_card"], ref="INC-2025-18")
    run2 = notify_affected(eng, big, **CONTENT, impractical=True, now=NOW)
    assert (run2.queued, run2.announcement is not None) == (0, True)
    notify_affected(eng, big, **CONTENT, impractical=True, now=NOW)  # again: still one announcement
    with eng.db.connect() as conn:
        rows = conn.execute(select(incident_notices.c.incident_id, incident_notices.c.kind,
                                   incident_notices.c.subject_id).order_by(incident_notices.c.id)).all()
        audited = conn.execute(select(audit_log.c.promises, audit_log.c.detail).where(audit_log.c.kind == "incident")
                               .order_by(audit_log.c.seq)).all()
    assert [tuple(r) for r in rows] == [(iid, "individual", ids["wu"]), (iid, "announcement", ""),
                                        (big, "announcement", "")]
    notified = [a for a in audited if a.detail["event"] == "notified"]
    assert all("KAMOER-48" in a.promises for a in notified) and notified[0].detail["announcement"] is True
    # a pack that promises no announcement refuses the fallback
    other = PolicyEngine(load_pack("konzen"), eng.db, eng.keys)
    kid = record_incident(other, started_at=START, systems=["dns"], categories=["email"], reference="K-1", now=NOW)
    with pytest.raises(BadValueError, match="no public announcement"):
        notify_affected(other, kid, what_happened="x", impractical=True, now=NOW)


def test_kamoer_49_the_regulator_gets_a_report_of_the_incident_and_its_handling(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    _, mailer = smtp
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card", "usage_logs"])
    incident_step(eng, iid, "analysis", reference="INC-2025-17/analysis", now=NOW)
    notify_affected(eng, iid, **CONTENT, now=NOW)
    deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW + dt.timedelta(minutes=5))
    report = regulator_report(eng, iid, now=NOW + dt.timedelta(hours=1))
    assert report["incident"]["reference"] == "INC-2025-17" and report["incident"]["status"] == "open"
    assert report["window"] == {"started_at": START.isoformat(), "ended_at": END.isoformat()}
    assert report["systems"] == ["mall checkout"] and report["categories"] == ["bank_card", "usage_logs"]
    assert report["people_affected"] == 2
    assert report["notices"]["individual"] == 1 and report["notices"]["by_channel"] == {"email": 1}
    assert report["notices"]["timing"]["seconds_to_all_delivered"] == 300.0
    assert report["announcement"]["made"] is True
    assert [s["step"] for s in report["steps"]] == ["analysis"]
    assert report["liability"] is True and report["previously_reported_at"] is None
    assert "KAMOER-49" in report["promises"]
    text = json.dumps(report)
    assert not any(v in text for v in PERSONAL)
    again = regulator_report(eng, iid, now=NOW + dt.timedelta(hours=2))
    assert again["previously_reported_at"] == (NOW + dt.timedelta(hours=1)).isoformat()
    regulator_report(eng, iid, record=False)  # a preview records nothing
    with eng.db.connect() as conn:
        rows = conn.execute(select(incident_notices.c.subject_id).where(incident_notices.c.kind == "regulator")).all()
        audited = conn.execute(select(audit_log.c.promises, audit_log.c.detail).where(audit_log.c.kind == "incident")
                               ).all()
    assert [r.subject_id for r in rows] == [""]
    reports = [a for a in audited if a.detail["event"] == "regulator_report"]
    assert len(reports) == 2 and all("KAMOER-49" in a.promises for a in reports)
    assert reports[0].detail["people_affected"] == 2 and reports[0].detail["first"] is True


def test_affected_people_are_those_whose_data_was_held_or_disclosed_in_the_window_and_categories(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    ids = _people(eng)
    iid = _incident(eng, ["bank_card"])
    assert affected_subjects(eng, iid) == [ids["wu"]]  # not li (after), zhao (no card), qian (erased), sun
    assert affected_subjects(eng, _incident(eng, ["email"], ref="R-2")) == sorted([ids["wu"], ids["zhao"]])
    # a disclosure of the category during the window makes its person affected, outside it does not
    with eng.db.begin() as conn:
        for sid, at in ((ids["zhao"], START + dt.timedelta(hours=1)), (ids["sun"], BEFORE)):
            conn.execute(disclosures.insert().values(subject_id=sid, recipient="logistics",
                                                     categories=["bank_card", "name"], purpose="purchase_delivery",
                                                     decision_id="d", at=at))
    assert affected_subjects(eng, iid) == sorted([ids["wu"], ids["zhao"]])
    # a real share of the mailing address during the window
    sign_agreements(eng, "logistics", now=START)
    eng.share("li", "logistics", {"mailing_address"}, "purchase_delivery", now=START + dt.timedelta(hours=2))
    assert ids["li"] not in affected_subjects(eng, iid)
    addr = record_incident(eng, started_at=START, ended_at=END, systems=["logistics api"],
                           categories=["mailing_address"], reference="R-3", now=NOW)
    assert affected_subjects(eng, addr) == sorted([ids["wu"], ids["li"]])
    # an ongoing incident (no end) runs to now: li's purchase counts
    ongoing = record_incident(eng, started_at=START, systems=["mall checkout"], categories=["bank_card"],
                              reference="R-4", now=NOW)
    assert ids["li"] in affected_subjects(eng, ongoing, now=NOW)
    # people of another pack are never affected by this pack's incident
    other = PolicyEngine(load_pack("konzen"), eng.db, eng.keys)
    kid = record_incident(other, started_at=START, systems=["dns"], categories=["email"], reference="K-1", now=NOW)
    assert affected_subjects(other, kid) == []


def test_re_running_the_notice_sends_nobody_a_second_message(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card", "email"])
    first = notify_affected(eng, iid, **CONTENT, now=NOW)
    again = notify_affected(eng, iid, **CONTENT, now=NOW + dt.timedelta(minutes=1))
    assert (first.queued, first.already_notified) == (2, 0)
    assert (again.queued, again.already_notified, again.affected) == (0, 2, 2)
    deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW + dt.timedelta(minutes=2))
    notify_affected(eng, iid, **CONTENT, now=NOW + dt.timedelta(minutes=3))
    deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW + dt.timedelta(minutes=4))
    assert sorted(m["To"] for m in inbox.messages) == ["wu@example.cn", "zhao@example.cn"]
    assert _counts(eng) == (2, 2, 2)


def test_notice_timing_runs_from_the_incident_record_to_the_last_delivery(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    _, mailer = smtp
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card", "email"])
    assert notice_timing(eng, iid)["notices"] == 0
    notify_affected(eng, iid, **CONTENT, now=NOW + dt.timedelta(minutes=30))
    pending = notice_timing(eng, iid)
    assert pending["seconds_to_all_queued"] == 1800.0 and pending["seconds_to_all_delivered"] is None
    deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW + dt.timedelta(hours=1))
    done = notice_timing(eng, iid)
    assert (done["notices"], done["delivered"], done["seconds_to_all_delivered"]) == (2, 2, 3600.0)
    assert done["opened_at"] == NOW.isoformat()


def test_no_personal_value_reaches_the_audit_log_or_the_notice_tables(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    _, mailer = smtp
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card", "email", "usage_logs"])
    notify_affected(eng, iid, **CONTENT, now=NOW)
    notify_affected(eng, iid, **CONTENT, channel="push", now=NOW)
    deliver(eng.db, eng.keys, RoutedTransport(mailer), now=NOW)
    regulator_report(eng, iid, now=NOW)
    with eng.db.connect() as conn:
        details = [json.dumps(d) for d in conn.execute(select(audit_log.c.detail)).scalars()]
        tables = [json.dumps([list(map(str, r)) for r in conn.execute(select(t)).all()])
                  for t in (incident_notices, message_log)]
        assert audit.verify(conn).ok
    for text in [*details, *tables]:
        assert not any(v in text for v in PERSONAL), text
        assert CONTENT["what_happened"] not in text


def test_a_bad_incident_id_is_refused_by_every_notice_function(db_url: str, tmp_path: Path) -> None:
    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    other = PolicyEngine(load_pack("konzen"), eng.db, eng.keys)
    kid = record_incident(other, started_at=START, systems=["dns"], categories=["email"], reference="K-1", now=NOW)
    for bad in (999, kid):  # none at all, and one of another pack
        with pytest.raises(BadValueError, match=f"no incident {bad}"):
            notify_affected(eng, bad, **CONTENT, now=NOW)
        with pytest.raises(BadValueError, match=f"no incident {bad}"):
            affected_subjects(eng, bad)
        with pytest.raises(BadValueError, match=f"no incident {bad}"):
            regulator_report(eng, bad, now=NOW)
        with pytest.raises(BadValueError, match=f"no incident {bad}"):
            notice_timing(eng, bad)
    with pytest.raises(BadValueError, match="a number"):
        affected_subjects(eng, "1")  # type: ignore[arg-type]
    assert _counts(eng) == (0, 0, 0)
    with eng.db.connect() as conn:
        assert [d["event"] for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "incident"))
                .scalars()] == ["opened"]


def test_two_concurrent_notice_runs_notify_each_person_once(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL (SQLite allows one writer at a time)")
    import threading

    eng = _engine("kamoer", db_url, tmp_path)
    _people(eng)
    iid = _incident(eng, ["bank_card", "email"])
    barrier, runs, errors = threading.Barrier(2), [], []

    def run() -> None:
        barrier.wait()
        try:
            runs.append(notify_affected(eng, iid, **CONTENT, now=NOW))
        except Exception as exc:  # noqa: BLE001 (collected for the assertion)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.queued for r in runs) == [0, 2]
    assert _counts(eng) == (2, 2, 2)


@pytest.mark.parametrize("notify_subjects", [True, "unspecified"])
def test_a_pack_that_promises_notice_keeps_the_incident_open_until_people_are_told(
    notify_subjects: object, db_url: str, tmp_path: Path
) -> None:
    pack = load_pack("kamoer")
    assert not isinstance(pack.breach, str) and pack.breach.notify_subjects is True
    pack = pack.model_copy(update={"breach": pack.breach.model_copy(update={"notify_subjects": notify_subjects})})
    eng = PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))
    _purchase(eng, "wu", "wu@example.cn", BEFORE)
    iid = _incident(eng, ["bank_card"])
    nobody = _incident(eng, ["resume"], ref="INC-2025-18")  # touched no one: nothing to tell
    for step in required_steps(eng):
        for i in (iid, nobody):
            incident_step(eng, i, step, reference=f"INC/{step}", now=NOW)
    close_incident(eng, nobody, now=NOW)
    if notify_subjects is True:
        with pytest.raises(BadValueError, match="not been notified") as info:
            close_incident(eng, iid, now=NOW)
        assert "KAMOER-46" in str(info.value)
        assert get_incident(eng, iid)["status"] == "open"
        notify_affected(eng, iid, **CONTENT, now=NOW)
    close_incident(eng, iid, now=NOW)
    assert get_incident(eng, iid)["status"] == "closed"
