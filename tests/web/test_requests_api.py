"""The REST API's requests: what a person says with one (bounded, encrypted, clear 422s), no second code when signed
in, and the staff queue's filters, search, sort and pages; a request's detail with its timeline, notes and audited
reveals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from policykeeper.store import audit_log, requests

from .conftest import Web
from .test_api import LI, ZHANG, _bearer, _error, _signup


def _ask(web: Web, token: str, body: dict[str, object]) -> dict[str, object]:
    got = web.client.post("/v1/me/requests", json=body, headers=_bearer(token))
    assert got.status_code == 201, got.text
    return dict(got.json())


def _buys(web: Web, person: str, values: dict[str, str]) -> None:
    """The person buys something: their name and mailing address are held too."""
    got = web.client.post("/v1/collect", headers=web.as_role("service"), json={
        "person": person, "context": "purchase", "values": {
            "name": "Zhang Wei", "phone": values["phone"], "email": values["email"], "mailing_address": "1 Old Street",
            "id_number": "110101199003070000", "bank_card": "6222 0000 0000 0000"}})
    assert got.status_code == 200 and got.json()["allowed"], got.text


def test_a_signed_in_person_says_what_to_correct_and_staff_read_it_and_correct_it(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _buys(web, "zhang", ZHANG)
    token = web.sign_in("zhang", ZHANG["email"])
    mails = len(web.inbox.messages)
    t = _ask(web, token, {"right": "correct", "email": ZHANG["email"], "note": "I moved in March",
                          "correction": {"category": "mailing_address", "value": "8 Reef Road, Xiamen"}})
    assert t["status"] == "verified" and len(web.inbox.messages) == mails  # no second code
    ref = t["ref"]
    with web.ctx.db.connect() as conn:
        dumped = repr(conn.execute(select(requests)).all()) + repr(conn.execute(select(audit_log)).all())
    assert "Reef Road" not in dumped and "moved in March" not in dumped
    detail = web.client.get(f"/v1/requests/{ref}", headers=web.as_role("support_agent"))
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["content"] == {"note": "I moved in March",
                               "correction": {"category": "mailing_address", "value": "8 Reef Road, Xiamen"}}
    assert body["requester"] == "z•••@e•••.cn" and ZHANG["email"] not in detail.text
    assert [(e["event"], e["actor"]) for e in body["timeline"]] == [("received", "subject"), ("verified", "subject")]
    # staff note (support agents may), reveal (officers only, audited), then fulfil with what the person asked
    officer = web.as_role("privacy_officer")
    assert web.client.post(f"/v1/requests/{ref}/notes", json={"text": "asked for proof of address"},
                           headers=web.as_role("support_agent")).status_code == 201
    assert web.client.post(f"/v1/requests/{ref}/reveal", json={}, headers=web.as_role("support_agent")
                           ).status_code == 403
    shown = web.client.post(f"/v1/requests/{ref}/reveal", json={"categories": ["phone"]}, headers=officer)
    assert shown.status_code == 200 and set(shown.json()) == {"phone"} and set(shown.json()["phone"]) == {ZHANG["phone"]}
    done = web.client.post(f"/v1/requests/{ref}/fulfil", json={}, headers=officer)
    assert done.status_code == 200 and done.json()["detail"] == {"corrected": "mailing_address"}
    me = web.client.get("/v1/me", headers=_bearer(token)).json()
    assert {v["category"]: v["value"] for v in me["values"]}["mailing_address"] == "8 Reef Road, Xiamen"
    steps = web.client.get(f"/v1/requests/{ref}", headers=officer).json()["timeline"]
    assert [e["event"] for e in steps] == ["received", "verified", "note_added", "values_revealed", "fulfilled"]
    assert steps[2]["note"] == "asked for proof of address" and steps[3]["detail"] == {"categories": ["phone"]}
    assert ZHANG["phone"] not in repr(steps)


def test_bad_request_content_answers_422_naming_the_field_and_records_nothing(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    token = web.sign_in("zhang", ZHANG["email"])
    cases = [
        ({"right": "access", "note": "x" * 2001}, "note"),
        ({"right": "correct", "correction": {"category": "mailing_address", "value": ""}}, "correction.value"),
        ({"right": "correct", "correction": {"category": "mailing_address", "value": "v" * 2001}}, "correction.value"),
        ({"right": "correct", "correction": {"category": "shoe_size", "value": "42"}}, "correction.category"),
        ({"right": "correct", "correction": {"category": "email", "value": "new@example.cn"}}, "correction.category"),
        ({"right": "correct", "correction": {"category": "password", "value": "hunter2"}}, "correction.category"),
        ({"right": "access", "correction": {"category": "mailing_address", "value": "x"}}, "correction"),
        ({"right": "correct", "correction": {"category": "name"}}, "correction.value"),
        ({"right": "correct", "correction": {"category": "name", "value": "x", "extra": 1}}, "correction.extra"),
    ]
    for body, where in cases:
        got = web.client.post("/v1/me/requests", json={"email": ZHANG["email"], **body}, headers=_bearer(token))
        assert got.status_code == 422, (body, got.text)
        assert str(_error(got)["where"]).endswith(where), (where, got.json())
    assert web.client.get("/v1/requests?status=all", headers=web.as_role("admin")).json() == []
    locked = web.client.post("/v1/me/requests", headers=_bearer(token), json={
        "email": ZHANG["email"], "right": "correct", "correction": {"category": "email", "value": "n@example.cn"}})
    assert "cannot be changed once registered" in str(_error(locked)["message"])


def test_the_queue_filters_searches_sorts_and_pages_in_the_api(web: Web) -> None:
    _signup(web, "zhang", ZHANG)
    _signup(web, "li", LI)
    zhang, li = web.sign_in("zhang", ZHANG["email"]), web.sign_in("li", LI["email"])
    a = _ask(web, zhang, {"right": "access", "email": ZHANG["email"]})["ref"]
    b = _ask(web, li, {"right": "delete", "email": LI["email"]})["ref"]
    c = _ask(web, zhang, {"right": "correct", "email": ZHANG["email"]})["ref"]
    d = _ask(web, li, {"right": "access", "email": LI["email"]})["ref"]
    now = dt.datetime.now(dt.UTC)
    with web.ctx.db.begin() as conn:  # Kamoer gives no deadline: set dates as if it did
        for ref, due in ((a, now - dt.timedelta(days=2)), (b, now + dt.timedelta(days=1)),
                         (c, now + dt.timedelta(days=20))):
            conn.execute(update(requests).where(requests.c.ref == ref).values(due_at=due))
    officer = web.as_role("privacy_officer")
    web.client.post(f"/v1/requests/{d}/refuse", json={"ground": "unreasonably_repetitive"}, headers=officer)
    staff = web.as_role("support_agent")

    def refs(query: str = "") -> list[str]:
        got = web.client.get(f"/v1/requests{query}", headers=staff)
        assert got.status_code == 200, got.text
        return [r["ref"] for r in got.json()]

    assert refs() == [a, b, c, d] == refs("?status=all")  # every request by default, as the console's queue
    assert refs("?status=open") == [a, b, c]  # overdue first, soonest next
    assert refs("?status=closed") == [d] == refs("?status=refused")
    assert refs("?right=delete") == [b] and refs("?state=overdue") == [a] and refs("?state=due_soon") == [b]
    assert refs(f"?ref={c[:5]}") == [c] and refs(f"?ref={c.upper()}") == [c]
    assert refs("?sort=received&order=desc&status=all") == [a, d, c, b]
    page = web.client.get("/v1/requests?status=all&limit=2&offset=1", headers=staff)
    assert [r["ref"] for r in page.json()] == [b, c] and page.headers["x-total-count"] == "4"
    rows = {r["ref"]: r for r in web.client.get("/v1/requests?status=all", headers=staff).json()}
    assert rows[a]["state"] == "overdue" and rows[a]["days_left"] == -2 and rows[d]["state"] == "closed"
    assert rows[b]["requester"] == "l•••@e•••.cn" and rows[d]["days_left"] is None
    for bad in ("?status=lost", "?sort=size", "?limit=0", "?limit=501", "?offset=-1", "?ref=xyz", "?state=late",
                "?right=Not%20A%20Key", "?order=up"):
        got = web.client.get(f"/v1/requests{bad}", headers=staff)
        assert got.status_code == 422, (bad, got.text)
    assert web.client.get("/v1/requests/0123456789abcdef", headers=staff).status_code == 404
    assert web.client.get("/v1/requests", headers=web.as_role("service")).status_code == 403
