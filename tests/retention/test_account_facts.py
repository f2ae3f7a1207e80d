"""Whether a person has an account is the engine's fact (records of a context the pack marks ``creates_account``),
never the caller's: a cancellation for someone with no account is refused at every entry point and changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from policykeeper import BadValueError, DeniedError, load_pack
from policykeeper.cli import app
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import SmtpMailer
from policykeeper.pack import Pack
from policykeeper.requests import RequestService
from policykeeper.retention import cancel_account
from policykeeper.store import open_database
from policykeeper.store._schema import lifecycle_events, records

from ..conftest import Inbox
from ..helpers import subscribe
from ..web.conftest import Web, make_web

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
DEVICE = {"browser_name": "Firefox 126", "device_type": "Pixel 8", "connection_info": "Android 14"}
TRIP = {"location": "25.03,121.56", "trip_history": "Taipei loop"}
runner = CliRunner()


def _events(eng: PolicyEngine) -> list[str]:
    with eng.db.connect() as conn:
        return [str(k) for k in conn.execute(select(lifecycle_events.c.kind)).scalars()]


def _koso(pack: Pack, db_url: str, home: Path) -> PolicyEngine:
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    return PolicyEngine(pack, open_database(db_url), KeyRing.open(home / "keys"))


def test_cancel_account_from_the_cli_needs_an_account_the_engine_knows(db_url: str, tmp_path: Path) -> None:
    koso = _koso(load_pack("koso"), db_url, tmp_path)
    koso.collect("visitor", "any_interaction", DEVICE, now=NOW)  # data, but no account
    koso.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    opts = ["--home", str(tmp_path), "--database-url", db_url, "--pack", "koso"]
    refused = runner.invoke(app, ["retention", "cancel-account", "visitor", *opts])
    assert refused.exit_code == 1 and "[bad_value]" in refused.stderr and "no account to cancel" in refused.stderr
    assert _events(koso) == []  # nothing recorded: the account rules' clock never starts
    done = runner.invoke(app, ["retention", "cancel-account", "mei", *opts])
    assert done.exit_code == 0 and _events(koso) == ["account_cancelled"]
    again = runner.invoke(app, ["retention", "cancel-account", "mei", *opts])
    assert again.exit_code == 0 and _events(koso) == ["account_cancelled"]  # a re-run changes nothing


def test_a_pack_that_marks_no_account_context_has_no_accounts(db_url: str, tmp_path: Path) -> None:
    base = load_pack("koso")
    contexts = tuple(c.model_copy(update={"creates_account": False}) for c in base.collection.contexts)
    pack = base.model_copy(update={"collection": base.collection.model_copy(update={"contexts": contexts})})
    koso = _koso(pack, db_url, tmp_path)
    koso.collect("mei", "account_creation", {"email": "mei@example.com"}, now=NOW)
    subscribe(koso, "mei", "dashboard_app", now=NOW)
    with pytest.raises(DeniedError) as info:  # the member-only history needs an account the pack never opens
        koso.collect("mei", "dashboard_location", TRIP, now=NOW)
    assert "members_only" in {r.code for r in info.value.decision.denials}
    with pytest.raises(BadValueError, match="no account to cancel"):
        cancel_account(koso, "mei", now=NOW)
    koso.record_fact("member", person="mei", reference="membership card 42", now=NOW)  # the register's 'member'
    with pytest.raises(DeniedError) as info:  # activation still names account_exists, which nothing establishes
        koso.collect("mei", "dashboard_location", TRIP, now=NOW)
    assert {r.code for r in info.value.decision.denials} == {"condition_unmet"}


def test_kokkoks_membership_registration_opens_an_account(db_url: str, tmp_path: Path) -> None:
    kokkok = _koso(load_pack("kokkok"), db_url, tmp_path)
    sid = kokkok.collect("alice", "personal_customer", {
        "name": "Alice", "password": "pw-123456", "uuid": "u-1", "phone": "+856 20 5555 1234",
        "email": "alice@example.com", "date_of_birth": "1990-01-01"}, kokkok_facts(), now=NOW).subject_id
    kokkok.collect("bob", "one_to_one_inquiry", {"consultation_records": "price?"}, kokkok_facts("consultation"), now=NOW)
    with kokkok.db.connect() as conn:
        assert kokkok.facts_for(conn, sid, now=NOW).holds("account_exists")
    cancel_account(kokkok, "alice", now=NOW)
    with pytest.raises(BadValueError, match="no account to cancel"):
        cancel_account(kokkok, "bob", now=NOW)
    with kokkok.db.connect() as conn:
        assert not kokkok.facts_for(conn, sid, now=NOW).holds("account_exists")  # cancelled


def kokkok_facts(channel: str = "online") -> Facts:
    return Facts(channel=channel)


def test_a_cancellation_request_for_someone_with_no_account_is_refused_and_erases_nothing(
        db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    kamoer = PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    svc = RequestService(kamoer, smtp[1])
    kamoer.collect("zhang", "purchase", {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "zhang@example.cn",
                                         "mailing_address": "88 Huaihai Road", "id_number": "310101199001011234",
                                         "bank_card": "6222 0000 1111 2222"}, now=NOW)
    ticket = svc.submit("zhang", "cancel_account", email="zhang@example.cn", now=NOW)
    svc.verify(ticket.ref, smtp[0].code_for("zhang@example.cn"), now=NOW)
    with pytest.raises(BadValueError, match="no account to cancel"):  # staff cannot make one up by fulfilling it
        svc.fulfil_erasure(ticket.ref, now=NOW)
    assert svc.get(ticket.ref)["status"] == "verified" and _events(kamoer) == []
    with kamoer.db.connect() as conn:
        assert len(conn.execute(select(records.c.id).where(records.c.status == "active")).all()) == 6
    kamoer.collect("zhang", "registration", {"phone": "+86 139 0000 1111", "email": "zhang@example.cn",
                                             "username": "reefkeeper", "password": "Coral#2025!"}, now=NOW)
    svc.fulfil_erasure(ticket.ref, now=NOW)  # with an account on record, the cancellation goes through
    assert svc.get(ticket.ref)["status"] == "fulfilled" and _events(kamoer) == ["account_cancelled"]


def test_closing_an_account_over_the_api_and_the_center_needs_one(db_url: str, tmp_path: Path,
                                                                  smtp: tuple[Inbox, SmtpMailer]) -> None:
    gen = make_web("kamoer", db_url, tmp_path, smtp)
    web: Web = next(gen)
    try:
        got = web.client.post("/v1/collect", json={"person": "zhang", "context": "purchase", "values": {
            "name": "Zhang San", "phone": "+86 139 0000 1111", "email": "zhang@example.cn",
            "mailing_address": "88 Huaihai Road", "id_number": "310101199001011234",
            "bank_card": "6222 0000 1111 2222"}}, headers=web.as_role("service"))
        assert got.status_code == 200, got.text
        token = web.sign_in("zhang", "zhang@example.cn")
        closed = web.client.post("/v1/me/close", headers={"Authorization": f"Bearer {token}"})
        assert closed.status_code == 400 and "no account to cancel" in closed.json()["error"]["message"]
        assert web.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        with web.ctx.db.connect() as conn:
            assert conn.execute(select(lifecycle_events.c.kind)).scalars().all() == []
    finally:
        gen.close()


def test_lint_shows_a_member_only_rule_in_a_pack_where_no_account_opens() -> None:
    from policykeeper.pack import lint_pack

    base = load_pack("koso")
    assert [f for f in lint_pack(base) if f.code == "account_never_opens"] == []
    contexts = tuple(c.model_copy(update={"creates_account": False}) for c in base.collection.contexts)
    pack = base.model_copy(update={"collection": base.collection.model_copy(update={"contexts": contexts})})
    found = [f.first_path for f in lint_pack(pack) if f.code == "account_never_opens"]
    assert "collection.contexts[2]" in found and any(p.startswith("purposes.items[") for p in found)
