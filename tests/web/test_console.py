"""The admin console's own work and pictures: incidents worked from the page (a step, a previewed notice, closing),
a new policy version published from an uploaded file after a preview of its diff and of the change rules, the data
map and the consents chart legible (in a real Chromium too), and every console page in Chinese, on a phone, and
through axe."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from policykeeper import consent
from policykeeper.incidents import record_incident
from policykeeper.notify import SmtpMailer
from policykeeper.pack import bundled_pack_path
from policykeeper.store._schema import audit_log, consent_events, incident_notices, incidents, outbox, policy_versions
from policykeeper.versions import publish
from policykeeper.web._admin_pictures import consent_chart, consent_series, label_lines, text_width

from ..conftest import Inbox
from .conftest import DESKTOP, ENGLISH_LEFT_JS, NO_SCROLL_JS, PHONE, Web, axe, make_web, shot
from .test_admin import _console, _csrf
from .test_api import LI, ZHANG, _signup

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def _count(web: Web, table: Any) -> int:
    with web.ctx.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _audit_events(web: Web, kind: str) -> list[dict[str, Any]]:
    with web.ctx.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.detail).where(audit_log.c.kind == kind)
                            .order_by(audit_log.c.seq)).all()
    return [{"actor": a, **(d or {})} for a, d in rows]


def _incident(web: Web, *, hours: int = 5) -> int:
    now = dt.datetime.now(dt.UTC)
    return record_incident(web.ctx.engine(), started_at=now - dt.timedelta(hours=hours), systems=["shop-db"],
                           categories=["email", "phone"], reference="INC-2041", now=now)


NOTICE = {"what_happened": "A backup of the shop database was exposed for two hours.",
          "possible_impact": "Someone may have read email addresses and phone numbers.",
          "measures": "The backup was removed and access keys were changed.",
          "advice": "Watch out for messages that pretend to come from us.",
          "remedies": "Ask our support team for help at any time."}


# -- incidents -------------------------------------------------------------------------------------------------------

def test_an_officer_records_a_step_and_a_wrong_one_changes_nothing(web: Web) -> None:
    iid = _incident(web)
    _console(web, "privacy_officer")
    page = web.client.get("/admin/incidents")
    assert page.status_code == 200 and f'action="/admin/incidents/{iid}/step"' in page.text
    assert "Still to do:" in page.text and "record keeping" in page.text
    csrf = _csrf(page.text)
    bad = web.client.post(f"/admin/incidents/{iid}/step", data={"csrf": csrf, "step": "coffee", "reference": "T-1"},
                          follow_redirects=False)
    assert bad.status_code == 303 and "err=" in bad.headers["location"]
    assert "not a step this pack records" in web.client.get(bad.headers["location"]).text
    assert web.ctx.engine() and _steps(web, iid) == []
    done = web.client.post(f"/admin/incidents/{iid}/step", data={"csrf": csrf, "step": "analysis",
                                                                  "reference": "T-2"})
    assert done.status_code == 200 and "the step “analysis” is on record" in done.text
    assert [s["step"] for s in _steps(web, iid)] == ["analysis"]
    key_id = web.keys["privacy_officer"].split("_")[1]
    entry = _audit_events(web, "incident")[-1]
    assert entry["event"] == "step" and entry["actor"] == f"key:{key_id}"


def _steps(web: Web, iid: int) -> list[dict[str, Any]]:
    with web.ctx.db.connect() as conn:
        return list(conn.execute(select(incidents.c.steps).where(incidents.c.id == iid)).scalar_one())


def test_incident_forms_need_the_write_permission_and_the_session_token(web: Web) -> None:
    iid = _incident(web)
    _console(web, "auditor")  # reads incidents, cannot work them
    page = web.client.get("/admin/incidents").text
    assert "/step" not in page and "Work on this incident" not in page
    refused = web.client.post(f"/admin/incidents/{iid}/step", data={"csrf": _csrf(page), "step": "analysis",
                                                                     "reference": "T-1"})
    assert refused.status_code == 403 and "incidents:write" in refused.text
    _console(web, "privacy_officer")
    forged = web.client.post(f"/admin/incidents/{iid}/close", data={"csrf": "0" * 64})
    assert forged.status_code == 403
    assert _steps(web, iid) == [] and _audit_events(web, "incident")[-1]["event"] == "opened"


def test_the_notice_is_previewed_without_sending_then_sent_through_the_outbox_once(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    iid = _incident(web)
    _console(web, "privacy_officer")
    csrf = _csrf(web.client.get("/admin/incidents").text)
    missing = web.client.post(f"/admin/incidents/{iid}/notify/preview",
                              data={"csrf": csrf, "what_happened": NOTICE["what_happened"], "channel": "email"})
    assert missing.status_code == 422 and "the breach notice must say possible_impact" in missing.text
    assert NOTICE["what_happened"] in missing.text  # what was typed is kept for the next try
    shown = web.client.post(f"/admin/incidents/{iid}/notify/preview", data={"csrf": csrf, **NOTICE, "channel": "email"})
    assert shown.status_code == 200, shown.text
    assert re.search(r'id="affected">2<', shown.text) and re.search(r'id="to-queue">2<', shown.text)
    body = shown.text.split('id="notice-body"', 1)[1].split("</pre>", 1)[0]
    assert "Possible impact:" in body and "Someone may have read email addresses" in body and "INC-2041" in body
    assert _count(web, incident_notices) == 0 and _count(web, outbox) == 0  # a preview sends nothing
    unconfirmed = web.client.post(f"/admin/incidents/{iid}/notify", data={"csrf": csrf, **NOTICE, "channel": "email"})
    assert "preview the notice first" in unconfirmed.text and _count(web, incident_notices) == 0
    sent = web.client.post(f"/admin/incidents/{iid}/notify", data={"csrf": _csrf(shown.text), **NOTICE,
                                                                    "channel": "email", "confirm": "yes"})
    assert sent.status_code == 200 and "2 notice(s) queued in the outbox for 2 people affected" in sent.text
    assert _count(web, incident_notices) == 2 and _count(web, outbox) >= 2
    again = web.client.post(f"/admin/incidents/{iid}/notify", data={"csrf": csrf, **NOTICE, "channel": "email",
                                                                     "confirm": "yes"})
    assert "0 notice(s) queued" in again.text and "already told: 2" in again.text
    assert _count(web, incident_notices) == 2
    assert [e["event"] for e in _audit_events(web, "incident")][-2:] == ["notified", "notified"]


def _new_incident(**change: str) -> dict[str, Any]:
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    return {"reference": "SEC-512", "systems": "shop-db, backups", "categories": ["email", "phone"],
            "started": start, "ended": "", **change}


def test_a_new_incident_is_checked_then_recorded_from_the_console_only_once_confirmed(web: Web) -> None:
    _console(web, "privacy_officer")
    page = web.client.get("/admin/incidents")
    assert 'action="/admin/incidents/new"' in page.text
    csrf = _csrf(page.text)
    check = web.client.post("/admin/incidents/new", data={"csrf": csrf, **_new_incident(harm="yes")})
    assert check.status_code == 200 and "Check the new incident" in check.text
    assert "backups, shop-db" in check.text and 'action="/admin/incidents/record"' in check.text
    assert _count(web, incidents) == 0  # the check writes nothing
    unconfirmed = web.client.post("/admin/incidents/record", data={"csrf": csrf, **_new_incident()})
    assert unconfirmed.status_code == 422 and "tick the box to confirm" in unconfirmed.text
    assert _count(web, incidents) == 0
    change = web.client.post("/admin/incidents/record", data={"csrf": csrf, **_new_incident(), "change": "yes"})
    assert change.status_code == 200 and 'value="SEC-512"' in change.text and "<details id=\"new-incident\" open" \
        in change.text and _count(web, incidents) == 0
    done = web.client.post("/admin/incidents/record", data={"csrf": csrf, **_new_incident(harm="yes"),
                                                            "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and "#incident-" in done.headers["location"]
    shown = web.client.get(done.headers["location"]).text
    assert "is on record" in shown and "liability flag" in shown  # Kamoer accepts liability for harm
    with web.ctx.db.connect() as conn:
        row = conn.execute(select(incidents)).mappings().one()
    assert row["reference"] == "SEC-512" and row["systems"] == ["backups", "shop-db"]
    assert row["categories"] == ["email", "phone"] and row["harm_to_subjects"] and row["liability"]
    assert row["ended_at"] is None and row["status"] == "open"
    entry = _audit_events(web, "incident")[-1]
    key_id = web.keys["privacy_officer"].split("_")[1]
    assert entry["event"] == "opened" and entry["actor"] == f"key:{key_id}" and entry["incident"] == row["id"]


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"reference": " "}, "reference", "Give the ticket or report reference"),
    ({"reference": "x" * 121}, "reference", "Give the ticket or report reference"),
    ({"systems": " , "}, "systems", "Name at least one system involved."),
    ({"categories": []}, "categories", "Choose at least one kind of data involved."),
    ({"categories": ["shoe_size"]}, "categories", "Choose at least one kind of data involved."),
    ({"started": ""}, "started", "Give the date and time the incident started"),
    ({"started": "31/02/banana"}, "started", "is not a date and time."),
    ({"started": "2999-01-01T00:00"}, "started", "The incident cannot start in the future."),
    ({"ended": "2000-01-01T00:00"}, "ended", "The end is before the start."),
    ({"ended": "soon"}, "ended", "is not a date and time."),
])
def test_a_new_incident_with_a_wrong_field_says_which_and_records_nothing(
        web: Web, change: dict[str, Any], field: str, says: str) -> None:
    _console(web, "privacy_officer")
    csrf = _csrf(web.client.get("/admin/incidents").text)
    for action in ("new", "record"):  # checked again when confirmed: a forged summary records nothing
        got = web.client.post(f"/admin/incidents/{action}", data={"csrf": csrf, **_new_incident(**change),
                                                                  "confirm": "yes"})
        assert got.status_code == 422, action
        assert f'<p class="field-err" id="new-{field}-err">' in got.text and says in got.text, action
        assert "Nothing was recorded" in got.text
    assert _count(web, incidents) == 0 and _audit_events(web, "incident") == []


def test_recording_an_incident_needs_the_write_permission_and_the_session_token(web: Web) -> None:
    _console(web, "auditor")
    page = web.client.get("/admin/incidents").text
    assert 'action="/admin/incidents/new"' not in page
    for action in ("new", "record"):
        refused = web.client.post(f"/admin/incidents/{action}", data={"csrf": _csrf(page), **_new_incident(),
                                                                      "confirm": "yes"})
        assert refused.status_code == 403 and "incidents:write" in refused.text
    _console(web, "privacy_officer")
    forged = web.client.post("/admin/incidents/record", data={"csrf": "0" * 64, **_new_incident(), "confirm": "yes"})
    assert forged.status_code == 403 and _count(web, incidents) == 0


def test_the_regulators_report_is_shown_and_recorded_only_once_confirmed(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    iid = _incident(web)
    _console(web, "auditor")  # reads the report and downloads it; cannot record it
    shown = web.client.get(f"/admin/incidents/{iid}/report")
    assert shown.status_code == 200 and "INC-2041" in shown.text and 'id="report-affected">1<' in shown.text
    assert "This report was sent to the regulator" not in shown.text
    download = web.client.get(f"/admin/incidents/{iid}/report.json")
    assert download.status_code == 200 and download.json()["incident"]["id"] == iid
    assert download.json()["people_affected"] == 1 and "attachment" in download.headers["content-disposition"]
    assert _count(web, incident_notices) == 0 and _audit_events(web, "incident")[-1]["event"] == "opened"
    assert web.client.get("/admin/incidents/9999/report").status_code == 404
    refused = web.client.post(f"/admin/incidents/{iid}/report", data={"csrf": _csrf(shown.text), "confirm": "yes"})
    assert refused.status_code == 403
    _console(web, "privacy_officer")
    page = web.client.get(f"/admin/incidents/{iid}/report").text
    csrf = _csrf(page)
    unconfirmed = web.client.post(f"/admin/incidents/{iid}/report", data={"csrf": csrf})
    assert unconfirmed.status_code == 422 and "tick the box to confirm" in unconfirmed.text
    assert _count(web, incident_notices) == 0
    done = web.client.post(f"/admin/incidents/{iid}/report", data={"csrf": csrf, "confirm": "yes"})
    assert f"Incident {iid}: the report to the regulator is on record." in done.text
    assert "reported on" in done.text
    with web.ctx.db.connect() as conn:
        kinds = conn.execute(select(incident_notices.c.kind)).scalars().all()
    assert kinds == ["regulator"]
    entry = _audit_events(web, "incident")[-1]
    assert entry["event"] == "regulator_report" and entry["first"] is True and entry["people_affected"] == 1
    again = web.client.post(f"/admin/incidents/{iid}/report", data={"csrf": csrf, "confirm": "yes"})
    assert "the report is on record again" in again.text and _count(web, incident_notices) == 1
    assert _audit_events(web, "incident")[-1]["first"] is False


def test_an_incident_closes_from_the_console_only_once_every_step_is_done(web: Web) -> None:
    iid = _incident(web)
    _console(web, "privacy_officer")
    csrf = _csrf(web.client.get("/admin/incidents").text)
    early = web.client.post(f"/admin/incidents/{iid}/close", data={"csrf": csrf, "confirm": "yes"})
    assert "cannot close: no record yet of" in early.text
    with web.ctx.db.connect() as conn:
        assert conn.execute(select(incidents.c.status).where(incidents.c.id == iid)).scalar_one() == "open"
    for step in ("record_keeping", "analysis", "disposal"):
        web.client.post(f"/admin/incidents/{iid}/step", data={"csrf": csrf, "step": step, "reference": "T-9"})
    # nobody's data is held, so nobody is to be told: the pack's steps are all that is asked
    unconfirmed = web.client.post(f"/admin/incidents/{iid}/close", data={"csrf": csrf})
    assert "Nothing was closed: tick the box" in unconfirmed.text
    with web.ctx.db.connect() as conn:
        assert conn.execute(select(incidents.c.status).where(incidents.c.id == iid)).scalar_one() == "open"
    closed = web.client.post(f"/admin/incidents/{iid}/close", data={"csrf": csrf, "confirm": "yes"})
    assert f"Incident {iid} is closed." in closed.text
    with web.ctx.db.connect() as conn:
        assert conn.execute(select(incidents.c.status).where(incidents.c.id == iid)).scalar_one() == "closed"
    assert "Work on this incident" not in closed.text


# -- a request's notes -----------------------------------------------------------------------------------------------

def test_a_refused_note_says_why_in_the_pages_language(web: Web) -> None:
    from .test_admin import _request

    ref = _request(web, "zhang", ZHANG, "delete")
    _console(web, "privacy_officer")
    csrf = _csrf(web.client.get(f"/admin/requests/{ref}").text)
    empty = web.client.post(f"/admin/requests/{ref}/note", data={"csrf": csrf, "note": "  "})
    assert "A note is 1 to 1000 characters." in empty.text
    long = web.client.post(f"/admin/requests/{ref}/note?lang=zh-Hans", data={"csrf": csrf, "note": "x" * 1001})
    assert "备注为 1 到 1000 个字符。" in long.text
    web.ctx.requests().fulfil_erasure(ref, ground="processing_violates_agreement", actor="test")
    erased = web.client.post(f"/admin/requests/{ref}/note", data={"csrf": csrf, "note": "Called back."})
    assert "This request takes no more notes: the person behind it was erased." in erased.text
    assert "A note is 1 to" not in erased.text
    chinese = web.client.post(f"/admin/requests/{ref}/note?lang=zh-Hans", data={"csrf": csrf, "note": "回电。"})
    assert "此请求不能再添加备注：请求背后的人已被删除。" in chinese.text
    assert not any(e.get("event") == "note_added" for e in _audit_events(web, "request"))


# -- versions --------------------------------------------------------------------------------------------------------

def _kamoer_v2(extra: tuple[tuple[str, str], ...] = ()) -> str:
    from ..versions.test_versions import KAMOER_V2, NEW_KAMOER_RECIPIENT

    text = bundled_pack_path("kamoer").read_text(encoding="utf-8")
    for old, new in (*KAMOER_V2, *NEW_KAMOER_RECIPIENT, *extra):
        assert old in text
        text = text.replace(old, new, 1)
    return text


def _tomorrow() -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()


def test_a_new_version_is_previewed_with_its_diff_and_published_only_once_confirmed(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _console(web, "privacy_officer")
    csrf = _csrf(web.client.get("/admin/versions").text)
    files = {"pack_file": ("kamoer-next.yaml", _kamoer_v2().encode(), "application/yaml")}
    shown = web.client.post("/admin/versions/preview", data={"csrf": csrf, "effective": _tomorrow()}, files=files)
    assert shown.status_code == 200, shown.text
    assert "The change rules of version 2022-12-19 allow this version" in shown.text
    diff = shown.text.split('id="diff"', 1)[1].split("</table>", 1)[0]
    assert 'New recipient: <span lang="en">Analytics vendor</span>' in diff and "<code>recipients.analytics_vendor</code>" in diff
    assert re.search(r'id="kind">significant change<', shown.text)
    assert "has updated its privacy policy" in shown.text.split('id="notice"', 1)[1]
    assert _count(web, policy_versions) == 0 and _count(web, outbox) == 0  # a preview writes nothing
    yaml_field = re.search(r'name="pack_yaml" value="([^"]*)"', shown.text)
    assert yaml_field and "analytics_vendor" in yaml_field.group(1)
    import html

    confirm = {"csrf": _csrf(shown.text), "confirm": "yes", "pack_yaml": html.unescape(yaml_field.group(1)),
               "filename": "kamoer-next.yaml", "effective": _tomorrow(), "notice": ""}
    done = web.client.post("/admin/versions/publish", data=confirm)
    assert done.status_code == 200 and "Version 2025-06-02 is published" in done.text, done.text
    assert _count(web, policy_versions) == 2  # the baseline and the new version
    entry = _audit_events(web, "policy_version")[-1]
    assert entry["label"] == "2025-06-02" and entry["actor"].startswith("key:")
    twice = web.client.post("/admin/versions/publish", data={**confirm, "csrf": _csrf(done.text)})
    assert twice.status_code == 422 and "already published" in twice.text and _count(web, policy_versions) == 2


def test_a_broken_file_or_an_unconfirmed_publish_changes_nothing_and_says_where(web: Web) -> None:
    _console(web, "privacy_officer")
    csrf = _csrf(web.client.get("/admin/versions").text)
    broken = _kamoer_v2((("  - {id: logistics,", "  - {id: logistics, colour: blue,"),))
    got = web.client.post("/admin/versions/preview", data={"csrf": csrf},
                          files={"pack_file": ("next.yaml", broken.encode(), "application/yaml")})
    assert got.status_code == 422 and 'id="problems"' in got.text
    problems = got.text.split('id="problems"', 1)[1].split("</div>", 1)[0]
    assert "next.yaml:" in problems and "colour" in problems  # the file, the line and the key
    assert web.client.post("/admin/versions/preview", data={"csrf": csrf, "effective": "2025-02-31"},
                           files={"pack_file": ("n.yaml", _kamoer_v2().encode(), "application/yaml")}
                           ).text.count("is not a date") == 1
    unconfirmed = web.client.post("/admin/versions/publish", data={"csrf": csrf, "pack_yaml": _kamoer_v2(),
                                                                    "effective": _tomorrow()})
    assert unconfirmed.status_code == 422 and "preview the version first" in unconfirmed.text
    _console(web, "auditor")
    refused = web.client.post("/admin/versions/preview", data={"csrf": csrf},
                              files={"pack_file": ("n.yaml", _kamoer_v2().encode(), "application/yaml")})
    assert refused.status_code == 403 and "versions:publish" in refused.text
    assert _count(web, policy_versions) == 0


@pytest.fixture
def kokkok_web(db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> Iterator[Web]:
    yield from make_web("kokkok", db_url, tmp_path, smtp)


def test_the_preview_refuses_a_version_sooner_than_the_promised_advance_notice(kokkok_web: Web) -> None:
    from ..versions.test_versions import KOKKOK_V2

    web = kokkok_web
    text = bundled_pack_path("kokkok").read_text(encoding="utf-8")
    for old, new in KOKKOK_V2:
        text = text.replace(old, new, 1)
    _console(web, "privacy_officer")
    page = web.client.get("/admin/versions").text
    assert "at least 7 business days between telling people and the change taking effect" in page
    got = web.client.post("/admin/versions/preview", data={"csrf": _csrf(page), "effective": _tomorrow()},
                          files={"pack_file": ("kokkok-next.yaml", text.encode(), "application/yaml")})
    assert got.status_code == 422 and "at least 7 business days after the notice" in got.text
    later = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)).isoformat()
    ok = web.client.post("/admin/versions/preview", data={"csrf": _csrf(page), "effective": later},
                         files={"pack_file": ("kokkok-next.yaml", text.encode(), "application/yaml")})
    assert ok.status_code == 200 and "allow this version" in ok.text
    assert _count(web, policy_versions) == 0


# -- the pictures ----------------------------------------------------------------------------------------------------

def test_the_consents_axis_is_time_and_empty_periods_keep_their_place() -> None:
    start = dt.date(2025, 6, 1)
    per_day = {start: [3, 0, 0], start + dt.timedelta(days=1): [1, 1, 0], start + dt.timedelta(days=20): [0, 2, 0]}
    size, series = consent_series(per_day, start, start + dt.timedelta(days=29))
    assert size == "day" and len(series) == 30 and series[20][1:] == (0, 2, 0)
    chart = consent_chart(size, series)
    given = {b.day: b for b in chart["bars"] if b.kind == "given"}
    step = given["2025-06-02"].x - given["2025-06-01"].x
    assert given["2025-06-21"].x - given["2025-06-01"].x == pytest.approx(20 * step, abs=0.5)  # true time, not ranks
    xs = [x for x, _ in chart["labels"]]
    assert all(b - a >= 80 for a, b in zip(xs, xs[1:], strict=False))  # tick labels never crowd
    size, series = consent_series(per_day, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert size == "week" and series[0][0] == dt.date(2024, 12, 30) and sum(s[1] for s in series) == 4
    assert all((b[0] - a[0]).days == 7 for a, b in zip(series, series[1:], strict=False))
    size, series = consent_series(per_day, dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    assert size == "month" and (dt.date(2025, 6, 1), 4, 3, 0) in series


def test_the_consents_page_filters_by_consent_and_period_and_exports_csv(web: Web) -> None:
    pack = web.ctx.engine().pack
    now = dt.datetime.now(dt.UTC)
    with web.ctx.db.begin() as conn:
        for days, target, action in ((1, "improvement_program", "given"), (2, "improvement_program", "withdrawn"),
                                     (40, "improvement_program", "given"), (3, "marketing_messages", "given")):
            consent.record(conn, subject_id="s1", pack=pack, target=target, action=action,  # type: ignore[arg-type]
                           at=now - dt.timedelta(days=days))
    _console(web, "auditor")
    page = web.client.get("/admin/consents?consent=improvement_program&period=30").text
    assert "given 1, withdrawn 1" in page and 'data-count="1"' in page and "per day" in page
    assert 'fill="url(#hatch)"' in page.split('class="bar withdrawn"', 1)[1].split(">", 1)[0]  # a pattern, not a hue
    everything = web.client.get("/admin/consents?period=90").text
    assert "given 3, withdrawn 1" in everything
    got = web.client.get("/admin/consents.csv?consent=improvement_program&period=90")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert len(rows) in (13, 14) and rows[0]["week_starting"] <= (now - dt.timedelta(days=89)).date().isoformat()
    assert sum(int(r["given"]) for r in rows) == 2 and sum(int(r["withdrawn"]) for r in rows) == 1
    assert {r["consent"] for r in rows} == {"improvement_program"}
    web.client.cookies.clear()
    assert web.client.get("/admin/consents.csv", follow_redirects=False).status_code == 303  # staff only
    with web.ctx.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consent_events)).scalar_one() == 4


def test_the_data_map_filters_to_one_category_or_one_recipient(web: Web) -> None:
    _console(web, "auditor")
    page = web.client.get("/admin/datamap?category=phone").text
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    nodes = re.findall(r'<g class="node" data-id="([a-z]+):([^"]+)"', svg)
    assert [i for k, i in nodes if k == "cat"] == ["phone"]
    pack = web.ctx.engine().pack
    using = {p.id for p in pack.purposes.items if p.categories == "any_declared" or "phone" in p.categories}
    assert {i for k, i in nodes if k == "pur"} == using
    one = web.client.get("/admin/datamap?recipient=logistics").text
    svg = one.split("<svg", 1)[1].split("</svg>", 1)[0]
    nodes = re.findall(r'<g class="node" data-id="([a-z]+):([^"]+)"', svg)
    assert [i for k, i in nodes if k == "rec"] == ["logistics"]
    logistics = next(r for r in pack.recipients if r.id == "logistics")
    assert {i for k, i in nodes if k == "pur"} == set(logistics.purposes)
    assert "Show the whole map" in one
    assert web.client.get("/admin/datamap?category=nope").status_code == 200  # an unknown filter shows everything


def test_labels_are_wrapped_to_their_box() -> None:
    text = "Purchase, delivery and after-sales service of products bought in the shop"
    lines = label_lines(text, 188, 12)
    assert len(lines) > 1 and " ".join(lines) == text
    assert all(text_width(line, 12) <= 188 for line in lines)
    assert all(text_width(line, 12) <= 188 for line in label_lines("个人信息" * 20, 188, 12))


# -- in a real browser -----------------------------------------------------------------------------------------------

LEGIBLE_JS = r"""(sel) => {
  const svg = document.querySelector(sel);
  const out = [];
  const boxes = [];
  const within = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5
    && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
  const svgBox = svg.getBoundingClientRect();
  for (const t of svg.querySelectorAll('text')) {
    const box = t.getBoundingClientRect();
    if (!box.width) continue;
    const node = t.closest('g.node');
    if (node) {
      const rect = node.querySelector('rect').getBoundingClientRect();
      if (!within(box, rect)) out.push('spills its box: ' + t.textContent.trim());
    }
    if (!within(box, svgBox)) out.push('outside the picture: ' + t.textContent.trim());
    for (const [other, text] of boxes) {
      if (box.left < other.right - 0.5 && other.left < box.right - 0.5
          && box.top < other.bottom - 0.5 && other.top < box.bottom - 0.5)
        out.push('overlaps: ' + t.textContent.trim() + ' / ' + text);
    }
    boxes.push([box, t.textContent.trim()]);
  }
  for (const r of svg.querySelectorAll('g.node rect')) {
    const a = r.getBoundingClientRect();
    for (const s of svg.querySelectorAll('g.node rect')) {
      const b = s.getBoundingClientRect();
      if (r !== s && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) out.push('boxes overlap');
    }
  }
  return out;
}"""

def _sign_in(page: Any, live: str, key: str, lang: str = "en") -> None:
    page.goto(f"{live}/admin/signin?lang={lang}")
    page.locator("#key").fill(key)
    page.locator("#key").press("Enter")
    page.wait_for_url(f"{live}/admin")


def _fill_console(web: Web) -> None:
    """Something to show on every page: people, consents over two weeks, an incident, a published version."""
    from ..versions.test_versions import KAMOER_V2, NEW_KAMOER_RECIPIENT, _pack

    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    eng = web.ctx.engine()
    now = dt.datetime.now(dt.UTC)
    with web.ctx.db.begin() as conn:
        for i, (target, action) in enumerate([("improvement_program", "given")] * 6 + [("improvement_program",
                                              "withdrawn")] * 2 + [("marketing_messages", "given")] * 3):
            consent.record(conn, subject_id=f"s{i}", pack=eng.pack, target=target, action=action,  # type: ignore[arg-type]
                           at=now - dt.timedelta(days=(i * 5) % 17))
    _incident(web)
    publish(eng, _pack("kamoer", *KAMOER_V2, *NEW_KAMOER_RECIPIENT), now=dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC))


def _previews(page: Any, live: str, tmp_path: Path) -> Iterator[str]:
    """Open the notice preview of the first incident and the preview of a new version, yielding on each."""
    page.goto(f"{live}/admin/incidents")
    section = page.locator("section.incident").first
    section.locator("summary").click()
    for arg, text in NOTICE.items():
        section.locator(f"textarea[name={arg}]").fill(text)
    section.locator("form[action$='/notify/preview'] button").click()
    page.wait_for_url("**/notify/preview")
    assert page.locator("#notice-body").is_visible()
    yield page.url
    upload = tmp_path / "kamoer-2026.yaml"
    upload.write_text(_kamoer_v2((('label: "2025-06-02"', 'label: "2026-01-01"'),
                                  ("updated_date: 2025-06-02", "updated_date: 2026-01-01"),
                                  ("{id: analytics_vendor, name: Analytics vendor",
                                   "{id: research_lab, name: Research lab"))), encoding="utf-8")
    page.goto(f"{live}/admin/versions")
    page.locator("#pack-file").set_input_files(str(upload))
    page.locator("#effective-date").fill(_tomorrow())
    page.locator("form[action='/admin/versions/preview'] button").click()
    page.wait_for_url("**/versions/preview")
    assert page.locator("#diff").is_visible()
    yield page.url


CONSOLE_PAGES = ["/admin", "/admin/datamap", "/admin/consents", "/admin/incidents", "/admin/versions", "/admin/compiler",
                 "/admin/evidence", "/admin/audit", "/admin/mailbox", "/admin/requests/0000000000"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_console_page_reads_in_chinese_fits_a_phone_and_passes_axe(
        web: Web, live: str, axe_page: Any, viewport: dict[str, int], tmp_path: Path) -> None:
    page = axe_page
    _fill_console(web)
    page.set_viewport_size(viewport)
    page.goto(f"{live}/admin/signin?lang=zh-Hans")
    assert page.evaluate(ENGLISH_LEFT_JS) == [] and page.evaluate(NO_SCROLL_JS)
    assert axe(page, least="serious") == []
    _sign_in(page, live, web.keys["admin"], "zh-Hans")
    for path in CONSOLE_PAGES:
        page.goto(live + path)
        assert page.locator("html").get_attribute("lang") == "zh-Hans", path
        assert page.evaluate(ENGLISH_LEFT_JS) == [], path
        assert page.evaluate(NO_SCROLL_JS), f"{path} scrolls sideways at {viewport['width']} px"
        assert axe(page, least="serious") == [], path
    assert "数据地图" in page.locator("header nav").first.inner_text()
    for path in _previews(page, live, tmp_path):  # the two pages a form leads to, before anything is done
        assert page.evaluate(ENGLISH_LEFT_JS) == [], path
        assert page.evaluate(NO_SCROLL_JS), f"{path} scrolls sideways at {viewport['width']} px"
        assert axe(page, least="serious") == [], path
    page.goto(f"{live}/admin/signin?lang=zh-Hans")  # a role without the mailbox: the page that says so
    page.context.clear_cookies()
    _sign_in(page, live, web.keys["auditor"], "zh-Hans")
    page.goto(f"{live}/admin/mailbox")
    assert "无权访问" in page.locator("h1").inner_text()
    assert page.evaluate(ENGLISH_LEFT_JS) == [] and page.evaluate(NO_SCROLL_JS) and axe(page, least="serious") == []


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_pictures_labels_fit_their_boxes_and_never_overlap(web: Web, live: str, page: Any, lang: str) -> None:
    _fill_console(web)
    page.set_viewport_size(DESKTOP)
    _sign_in(page, live, web.keys["auditor"], lang)
    for path in ("/admin/datamap", "/admin/datamap?recipient=logistics", "/admin/datamap?category=phone"):
        page.goto(live + path)
        assert page.evaluate(LEGIBLE_JS, "#data-map") == [], path
    for period in ("30", "90", "365", "all"):
        page.goto(f"{live}/admin/consents?period={period}")
        assert page.evaluate(LEGIBLE_JS, "#consent-chart") == [], period
    page.set_viewport_size(PHONE)  # on a phone the pictures keep their size and scroll inside their frame
    for path in ("/admin/datamap", "/admin/consents"):
        page.goto(live + path)
        assert page.evaluate(NO_SCROLL_JS), path
        frame = page.locator(".scroll").first
        assert frame.evaluate("e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto'")


def test_an_officer_works_an_incident_and_publishes_a_version_in_the_browser(
        web: Web, live: str, page: Any, tmp_path: Path) -> None:
    _fill_console(web)
    iid = _incident(web)
    page.set_viewport_size(DESKTOP)
    _sign_in(page, live, web.keys["privacy_officer"])
    for path, name in (("/admin", "console-dashboard"), ("/admin/datamap", "console-datamap"),
                       ("/admin/consents", "console-consents")):
        page.goto(live + path)
        shot(page, f"{name}-desktop")
    page.goto(f"{live}/admin/incidents")
    section = page.locator(f"section[aria-labelledby='incident-{iid}']")
    section.locator("summary").click()
    section.get_by_label("Step done").select_option("analysis")
    section.get_by_label("Ticket or report reference (no personal data)").fill("SEC-77")
    section.get_by_role("button", name="Record the step").press("Enter")
    assert "the step “analysis” is on record" in page.get_by_role("status").inner_text()
    section = page.locator(f"section[aria-labelledby='incident-{iid}']")
    section.locator("summary").click()
    for arg, text in NOTICE.items():
        section.locator(f"#{arg}-{iid}").fill(text)
    page.evaluate(f"document.getElementById('incident-{iid}').scrollIntoView()")
    shot(page, "console-incidents-desktop")
    section.get_by_role("button", name="Preview the notice").click()
    page.wait_for_url(f"{live}/admin/incidents/{iid}/notify/preview")
    assert "Someone may have read email addresses" in page.locator("#notice-body").inner_text()
    assert page.locator("#affected").inner_text() == "2"
    shot(page, "console-incident-notice-desktop")
    page.get_by_role("button", name="Send the notice").click()
    assert "2 notice(s) queued in the outbox" in page.get_by_role("status").inner_text()
    assert _count(web, incident_notices) == 2
    next_version = tmp_path / "kamoer-2026.yaml"
    next_version.write_text(_kamoer_v2((('label: "2025-06-02"', 'label: "2026-01-01"'),
                                        ("updated_date: 2025-06-02", "updated_date: 2026-01-01"),
                                        ("{id: analytics_vendor, name: Analytics vendor",
                                         "{id: research_lab, name: Research lab"))), encoding="utf-8")
    page.goto(f"{live}/admin/versions")
    page.get_by_label("The new version (YAML file)").set_input_files(str(next_version))
    page.get_by_label("Takes effect on (empty: the date the version states, else today)").fill(_tomorrow())
    shot(page, "console-versions-desktop")
    page.get_by_role("button", name="Preview the changes").click()
    assert "allow this version" in page.locator("#check").inner_text()
    assert "Research lab" in page.locator("#diff").inner_text()
    shot(page, "console-version-preview-desktop")
    page.get_by_role("button", name="Publish version 2026-01-01").click()
    assert "Version 2026-01-01 is published" in page.get_by_role("status").inner_text()
    with web.ctx.db.connect() as conn:
        labels = set(conn.execute(select(policy_versions.c.label)).scalars())
    assert "2026-01-01" in labels
    page.set_viewport_size(PHONE)
    for path, name in (("/admin", "console-dashboard"), ("/admin/datamap", "console-datamap"),
                       ("/admin/consents", "console-consents"), ("/admin/incidents", "console-incidents"),
                       ("/admin/versions", "console-versions")):
        page.goto(live + path)
        assert page.evaluate(NO_SCROLL_JS), path
        shot(page, f"{name}-phone")


@pytest.mark.parametrize("pack", ["kokkok", "kalos", "koso", "konzen"])
def test_every_packs_data_map_is_legible(pack: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer],
                                         page: Any) -> None:
    """The other four packs' data maps (KOKKOK's is the largest: 24 categories, 27 purposes, 16 recipients), drawn
    by the server and measured in Chromium: every label inside its box, none over another."""
    for web in make_web(pack, f"sqlite:///{tmp_path / 'pk.db'}", tmp_path, smtp):
        _console(web, "auditor")
        html = web.client.get("/admin/datamap").text
        page.set_viewport_size(DESKTOP)
        page.set_content(html)
        assert page.locator("#data-map g.node").count() >= 5
        assert page.evaluate(LEGIBLE_JS, "#data-map") == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_officer_records_a_new_incident_and_its_report_in_chinese_by_keyboard(
        web: Web, live: str, axe_page: Any, viewport: dict[str, int]) -> None:
    """The new incident's form (its errors next to the fields), the last look before it is recorded, and the
    regulator's report, in Chinese at desktop width and on a phone: no English left, no sideways scroll, nothing
    serious for axe; filled and sent with the keyboard. English viewport screenshots go to the docs."""
    page = axe_page
    size = "desktop" if viewport == DESKTOP else "phone"
    _signup(web, "zhang", ZHANG)
    page.set_viewport_size(viewport)

    def check(where: str) -> None:
        assert page.evaluate(ENGLISH_LEFT_JS) == [], where
        assert page.evaluate(NO_SCROLL_JS), f"{where} scrolls sideways at {viewport['width']} px"
        assert axe(page, least="serious") == [], where

    _sign_in(page, live, web.keys["privacy_officer"], "zh-Hans")
    page.goto(f"{live}/admin/incidents")
    page.locator("#new-incident summary").press("Enter")  # a <summary> opens with the keyboard
    page.locator("#new-reference").fill("SEC-900")
    page.locator("#new-reference").press("Enter")  # sent with nothing else filled: the form says what is missing
    page.wait_for_url("**/admin/incidents/new")
    assert page.locator("#new-systems[aria-invalid=true]").is_visible()
    assert page.locator("#new-categories-err").inner_text() == "请至少选择一类涉及的数据。"
    assert page.locator("#new-started-err").is_visible() and page.locator("#new-reference").input_value() == "SEC-900"
    check("the form with its errors")
    page.locator("#new-systems").fill("shop-db, backups")
    page.locator("input[name=categories][value=email]").press("Space")
    page.locator("#new-started").fill((dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#new-harm").press("Space")
    page.locator("#new-started").press("Enter")
    page.wait_for_selector("#new-record")
    assert "backups, shop-db" in page.locator("#new-record").inner_text() and _count(web, incidents) == 0
    check("the last look")
    page.locator("#confirm").press("Space")
    page.get_by_role("button", name="记录事件").press("Enter")
    assert "已记录" in page.get_by_role("status").inner_text()
    with web.ctx.db.connect() as conn:
        iid = conn.execute(select(incidents.c.id).where(incidents.c.reference == "SEC-900")).scalar_one()
    check("the incidents page")
    page.goto(f"{live}/admin/incidents/{iid}/report")
    assert page.locator("#report-affected").inner_text() == "1"
    check("the regulator's report")
    page.locator("#confirm").press("Space")
    page.get_by_role("button", name="记录已报告").press("Enter")
    assert "向监管机构的报告已记录" in page.get_by_role("status").inner_text()
    assert _audit_events(web, "incident")[-1]["event"] == "regulator_report"
    page.goto(f"{live}/admin/incidents?lang=en")  # English screenshots for docs/admin-console.md
    page.locator("#new-incident summary").click()
    page.locator("#new-reference").fill("SEC-901")
    page.locator("#new-reference").press("Enter")
    page.wait_for_url("**/admin/incidents/new")
    page.locator("#new-incident").scroll_into_view_if_needed()
    shot(page, f"console-incident-new-{size}")
    page.goto(f"{live}/admin/incidents/{iid}/report")
    shot(page, f"console-incident-report-{size}")
