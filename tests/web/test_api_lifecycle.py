"""The lifecycle through the REST API: retention sweeps, policy versions, security incidents and their notices, the
data map, the evidence of every promise, and outbox delivery. Each endpoint works for a role that holds its
permission and answers 403 for one that does not; bad bodies answer 422 naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from policykeeper.pack import bundled_pack_path

from .conftest import Web

NOW = dt.datetime.now(dt.UTC)
CONTENT = {
    "what_happened": "An attacker read the account table of the shop on 31 May.",
    "possible_impact": "Email addresses may receive phishing messages.",
    "measures": "We closed the hole and rotated keys.",
    "advice": "Do not follow links in unexpected messages.",
    "remedies": "Write to privacy@kamoer.example for help.",
}


def _signup(web: Web, person: str, email: str) -> None:
    got = web.client.post("/v1/collect", json={"person": person, "context": "registration", "values": {
        "phone": "+86 139 0000 1111", "email": email, "username": person, "password": "Coral#2025!"}},
        headers=web.as_role("service"))
    assert got.status_code == 200, got.text


def _error(resp: object, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and {"code", "message", "where"} <= set(body["error"]), body
    return dict(body["error"])


def _kamoer_v2(label: str = "2025-06-02") -> str:
    text = bundled_pack_path("kamoer").read_text(encoding="utf-8")
    return text.replace('label: "2022-12-19"', f'label: "{label}"', 1).replace(
        "updated_date: 2022-12-19", f"updated_date: {label}", 1)


ENDPOINTS = [  # (method, path, body, a role with the permission, a role without it)
    ("post", "/v1/retention/run", {"dry_run": True}, "privacy_officer", "auditor"),
    ("get", "/v1/versions", None, "auditor", "service"),
    ("post", "/v1/versions", {"pack_yaml": "x"}, "privacy_officer", "auditor"),
    ("get", "/v1/versions/2022-12-19/notice", None, "auditor", "support_agent"),
    ("get", "/v1/incidents", None, "auditor", "support_agent"),
    ("post", "/v1/incidents", {"started_at": "2025-01-01T00:00:00Z", "systems": ["shop"], "reference": "INC-1"},
     "privacy_officer", "auditor"),
    ("post", "/v1/incidents/1/steps", {"step": "analysis", "reference": "INC-1"}, "privacy_officer", "auditor"),
    ("post", "/v1/incidents/1/notify", CONTENT, "privacy_officer", "support_agent"),
    ("get", "/v1/incidents/1/report", None, "auditor", "service"),
    ("get", "/v1/datamap", None, "auditor", "service"),
    ("get", "/v1/evidence", None, "auditor", "support_agent"),
    ("post", "/v1/outbox/deliver", None, "privacy_officer", "auditor"),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed", "denied"), ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_each_lifecycle_endpoint_needs_its_permission(web: Web, method: str, path: str, body: object, allowed: str,
                                                      denied: str) -> None:
    call = getattr(web.client, method)
    kwargs = {} if body is None else {"json": body}
    assert _error(call(path, headers=web.as_role(denied), **kwargs), 403)["code"] == "forbidden"
    assert _error(call(path, **kwargs), 401)["code"] == "not_signed_in"
    got = call(path, headers=web.as_role(allowed), **kwargs)
    assert got.status_code not in (401, 403, 500), got.text  # allowed in (the body may still be wrong for this data)
    assert call(path, headers=web.as_role("admin"), **kwargs).status_code not in (401, 403, 500)


def test_a_retention_sweep_by_api_counts_on_a_dry_run_and_records_a_real_run(web: Web) -> None:
    _signup(web, "zhang", "zhang@example.cn")
    dry = web.client.post("/v1/retention/run", json={"dry_run": True}, headers=web.as_role("privacy_officer"))
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["run"] is None and dry.json()["rules"]
    real = web.client.post("/v1/retention/run", json={"dry_run": False}, headers=web.as_role("admin")).json()
    assert real["run"] is not None and real["affected"] == dry.json()["affected"]
    assert all({"rule", "action", "affected", "held", "promises"} <= set(r) for r in real["rules"])


def test_a_new_version_is_published_listed_and_its_notice_read(web: Web) -> None:
    assert web.client.get("/v1/versions", headers=web.as_role("auditor")).json() == []
    got = web.client.post("/v1/versions", json={"pack_yaml": _kamoer_v2()}, headers=web.as_role("privacy_officer"))
    assert got.status_code == 201, got.text
    published = got.json()
    assert published["label"] == "2025-06-02" and published["significant"] is False
    assert "page" in published["channels"]
    listed = web.client.get("/v1/versions", headers=web.as_role("auditor")).json()
    assert [v["label"] for v in listed] == ["2022-12-19", "2025-06-02"]
    notice = web.client.get("/v1/versions/2025-06-02/notice", headers=web.as_role("auditor")).json()
    assert "2025-06-02" in notice["notice"] and "Kamoer" in notice["notice"]
    assert _error(web.client.get("/v1/versions/1999-01-01/notice", headers=web.as_role("auditor")), 404)
    again = web.client.post("/v1/versions", json={"pack_yaml": _kamoer_v2()}, headers=web.as_role("privacy_officer"))
    assert "already published" in str(_error(again, 400)["message"])


def test_a_pack_that_is_not_valid_or_a_bad_date_answers_422_naming_the_field(web: Web) -> None:
    po = web.as_role("privacy_officer")
    bad = _error(web.client.post("/v1/versions", json={"pack_yaml": "id: [unclosed"}, headers=po), 422)
    assert bad["where"] == "body.pack_yaml" and bad["code"] == "pack_syntax"
    broken = _kamoer_v2().replace("pack_format: 1", "pack_format: 7", 1)
    assert _error(web.client.post("/v1/versions", json={"pack_yaml": broken}, headers=po), 422)["where"] == \
        "body.pack_yaml"
    when = _error(web.client.post("/v1/versions", json={"pack_yaml": "x", "effective_at": "soon"}, headers=po), 422)
    assert when["where"] == "body.effective_at"
    extra = _error(web.client.post("/v1/versions", json={"pack_yaml": "x", "force": True}, headers=po), 422)
    assert extra["where"] == "body.force"
    assert _error(web.client.post("/v1/retention/run", json={}, headers=po), 422)["where"] == "body.dry_run"


def test_an_incident_by_api_from_record_to_notices_delivered_and_the_regulator_report(web: Web) -> None:
    _signup(web, "zhang", "zhang@example.cn")
    po, auditor = web.as_role("privacy_officer"), web.as_role("auditor")
    start = (NOW - dt.timedelta(hours=2)).isoformat()
    got = web.client.post("/v1/incidents", json={"started_at": start, "systems": ["shop"], "categories": ["email"],
                                                 "reference": "INC-2025-17", "harm_to_subjects": True}, headers=po)
    assert got.status_code == 201, got.text
    inc = got.json()
    assert inc["status"] == "open" and inc["liability"] is True and inc["categories"] == ["email"]
    iid = inc["id"]
    assert [i["id"] for i in web.client.get("/v1/incidents", headers=auditor).json()] == [iid]
    step = inc["required_steps"][0] if inc["required_steps"] else "analysis"
    stepped = web.client.post(f"/v1/incidents/{iid}/steps", json={"step": step, "reference": "T-1"}, headers=po)
    assert stepped.status_code == 200, stepped.text
    assert [s["step"] for s in stepped.json()["steps"]] == [step]
    wrong = _error(web.client.post(f"/v1/incidents/{iid}/steps", json={"step": "dancing", "reference": "T"},
                                   headers=po), 400)
    assert "not a step" in str(wrong["message"])
    run = web.client.post(f"/v1/incidents/{iid}/notify", json={**CONTENT, "channel": "email"}, headers=po)
    assert run.status_code == 200, run.text
    assert run.json() == {"incident": iid, "channel": "email", "affected": 1, "queued": 1, "already_notified": 0,
                          "unreachable": 0, "announcement": None}
    missing = _error(web.client.post(f"/v1/incidents/{iid}/notify", json={**CONTENT, "advice": ""}, headers=po), 400)
    assert "advice" in str(missing["message"]) or "subject_prevention_advice" in str(missing["message"])
    sent = web.client.post("/v1/outbox/deliver", headers=po).json()
    assert sent["sent"] >= 1
    [mail] = web.inbox.to("zhang@example.cn")
    assert "INC-2025-17" in mail["Subject"]
    report = web.client.get(f"/v1/incidents/{iid}/report", headers=auditor).json()
    assert report["people_affected"] == 1 and report["notices"]["individual"] == 1
    assert report["previously_reported_at"] is None
    recorded = web.client.post(f"/v1/incidents/{iid}/report", headers=po).json()
    assert recorded["incident"]["id"] == iid
    later = web.client.get(f"/v1/incidents/{iid}/report", headers=auditor).json()
    assert later["previously_reported_at"] is not None
    assert _error(web.client.get("/v1/incidents/999999/report", headers=auditor), 404)["code"] == "not_found"


def test_bad_incident_bodies_answer_422_with_where_and_bad_values_400(web: Web) -> None:
    po = web.as_role("privacy_officer")
    base = {"started_at": NOW.isoformat(), "systems": ["shop"], "categories": ["email"], "reference": "INC-1"}
    assert _error(web.client.post("/v1/incidents", json={**base, "systems": []}, headers=po), 422)["where"] == \
        "body.systems"
    assert _error(web.client.post("/v1/incidents", json={k: v for k, v in base.items() if k != "reference"},
                                  headers=po), 422)["where"] == "body.reference"
    assert _error(web.client.post("/v1/incidents", json={**base, "categories": ["BAD KEY"]}, headers=po),
                  422)["where"] == "body.categories.0"
    future = {**base, "started_at": (NOW + dt.timedelta(days=3)).isoformat()}
    assert "future" in str(_error(web.client.post("/v1/incidents", json=future, headers=po), 400)["message"])
    unknown = {**base, "categories": ["shoe_size"]}
    assert "shoe_size" in str(_error(web.client.post("/v1/incidents", json=unknown, headers=po), 400)["message"])
    naive = {**base, "started_at": "2025-01-01T00:00:00"}  # no zone: UTC
    assert web.client.post("/v1/incidents", json=naive, headers=po).status_code == 201
    assert _error(web.client.post("/v1/incidents/1/notify", json={**CONTENT, "channel": "fax"}, headers=po),
                  422)["where"] == "body.channel"
    assert _error(web.client.post("/v1/incidents/0/steps", json={"step": "analysis", "reference": "x"}, headers=po),
                  422)["where"] == "path.incident_id"


def test_the_data_map_follows_each_category_to_purposes_recipients_and_regions(web: Web) -> None:
    got = web.client.get("/v1/datamap", headers=web.as_role("auditor"))
    assert got.status_code == 200, got.text
    dm = got.json()
    cats = {c["id"]: c for c in dm["categories"]}
    assert dm["pack"] == "kamoer" and set(cats) == {c.id for c in web.ctx.pack.data_categories}
    recipients = {r["id"] for c in dm["categories"] for p in c["purposes"] for r in p["recipients"]}
    assert recipients and recipients <= {r.id for r in web.ctx.pack.recipients}
    assert any(p["purposes"] for p in dm["categories"])
    for c in dm["categories"]:
        for p in c["purposes"]:
            assert p["legal_basis"] and all(isinstance(r["regions"], list) for r in p["recipients"])


def test_the_evidence_names_the_rules_that_encode_every_promise(web: Web) -> None:
    ev = web.client.get("/v1/evidence", headers=web.as_role("auditor")).json()
    assert ev["total"] == 78 and ev["encoded"] == 78 and ev["missing"] == []
    by_id = {p["id"]: p for p in ev["promises"]}
    assert all(p["rules"] for p in ev["promises"])
    assert any(path.startswith("breach") for path in by_id["KAMOER-46"]["rules"])


def test_the_outbox_delivers_through_the_in_memory_mailer_too(web: Web) -> None:
    from policykeeper.web import MemoryMailer

    memory = MemoryMailer()
    web.ctx.mailer = memory
    _signup(web, "zhang", "zhang@example.cn")
    po = web.as_role("privacy_officer")
    iid = web.client.post("/v1/incidents", json={"started_at": (NOW - dt.timedelta(hours=1)).isoformat(),
                                                 "systems": ["shop"], "categories": ["email"], "reference": "INC-9"},
                          headers=po).json()["id"]
    assert web.client.post(f"/v1/incidents/{iid}/notify", json=CONTENT, headers=po).json()["queued"] == 1
    assert web.client.post("/v1/outbox/deliver", headers=po).json() == {"sent": 1, "retry": 0, "dead": 0, "unsure": 0}
    assert [m["to"] for m in memory.messages] == ["zhang@example.cn"]
    assert web.client.post("/v1/outbox/deliver", headers=po).json() == {"sent": 0, "retry": 0, "dead": 0, "unsure": 0}


def test_the_privacy_department_and_staff_training_by_api(web: Web) -> None:
    empty = web.client.get("/v1/organisation", headers=web.as_role("auditor"))
    assert empty.status_code == 200 and empty.json()["department"] is None and empty.json()["training"] == []
    body = {"name": "Personal Information Protection Department", "contact": "privacy@kamoer.example",
            "roles": {"Data Protection Officer": 1, "Privacy Analyst": 2}}
    assert web.client.put("/v1/organisation/department", json=body, headers=web.as_role("auditor")).status_code == 403
    assert web.client.put("/v1/organisation/department", json=body).status_code == 401
    got = web.client.put("/v1/organisation/department", json=body, headers=web.as_role("privacy_officer"))
    assert got.status_code == 200 and got.json()["department"]["roles"][0] == {"role": "Data Protection Officer",
                                                                               "count": 1}
    session = {"held_on": dt.date.today().isoformat(), "topic": "Privacy law update", "attendance": 9}
    added = web.client.post("/v1/organisation/training", json=session, headers=web.as_role("privacy_officer"))
    assert added.status_code == 201, added.text
    status = added.json()["status"]
    assert status["last"]["topic"] == "Privacy law update" and status["promises"] == ["KAMOER-41"]
    for bad in ({**session, "attendance": 0}, {**session, "staff": ["Ann"]}, {**session, "held_on": "soon"}):
        wrong = web.client.post("/v1/organisation/training", json=bad, headers=web.as_role("privacy_officer"))
        assert wrong.status_code == 422, wrong.text
    future = {**session, "held_on": (dt.date.today() + dt.timedelta(days=3)).isoformat()}
    assert web.client.post("/v1/organisation/training", json=future,
                           headers=web.as_role("privacy_officer")).status_code == 400
    bad_contact = web.client.put("/v1/organisation/department", json={**body, "contact": "Ann Lee"},
                                 headers=web.as_role("privacy_officer"))
    assert bad_contact.status_code == 400
    listed = web.client.get("/v1/organisation", headers=web.as_role("auditor")).json()
    assert len(listed["training"]) == 1 and listed["department"]["contact"] == "privacy@kamoer.example"
