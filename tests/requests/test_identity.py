"""Which person a request reaches in the company's own database: the address is matched by the identity rules of the
dataset map, an erasure that finds nobody fails closed, and staff cannot aim a request at someone else unnoticed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from policykeeper import BadValueError, ErasureIncompleteError
from policykeeper.cli import app
from policykeeper.connectors import load_dataset_map
from policykeeper.notify import SmtpMailer
from policykeeper.requests import RequestService
from policykeeper.store import audit_log

from ..conftest import DATA, Inbox
from ..connectors.test_connectors import ROWS, SCHEMA
from .test_requests import BUYER, NOW, _service

runner = CliRunner()


def _company(url: str, stored: str) -> Any:
    """The shop database, Ana's address stored as ``stored``."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for stmt in SCHEMA + [r.replace("ana@example.com", stored) for r in ROWS]:
            conn.execute(text(stmt))
    return engine


def _events(svc: RequestService) -> list[dict[str, Any]]:
    with svc.engine.db.connect() as conn:
        return [d for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")).scalars()]


@pytest.mark.parametrize(("stored", "asked"), [("Some.One@Example.NET", "some.one@example.net"),
                                               ("some.one@example.net", " Some.One@Example.NET")])
def test_the_company_address_is_matched_by_the_maps_email_rule_in_either_direction(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer], stored: str, asked: str
) -> None:
    """The code check ignores case; so must the company lookup, or the erasure reports done and the rows remain."""
    company = _company(db_url, stored)
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    svc.engine.collect("some", "purchase", {**BUYER, "email": "some.one@example.net"}, now=NOW)
    svc.databases = ((load_dataset_map(DATA / "dataset_shop.yaml"), company),)
    access = svc.submit("some", "access", email=asked, now=NOW)
    svc.verify(access.ref, smtp[0].code_for(asked.strip()), now=NOW)
    svc.fulfil_access(access.ref, tmp_path / "a.zip", now=NOW)
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        doc = json.loads(zf.read("data.json"))
    assert doc["databases"]["shop.customers"] == [{"email": stored, "full_name": "Ana Lima"}]
    ticket = svc.submit("some", "delete", email=asked, now=NOW)
    svc.verify(ticket.ref, smtp[0].code_for(asked.strip()), now=NOW)
    svc.fulfil_erasure(ticket.ref, ground="processing_violates_law", now=NOW)
    with company.connect() as conn:
        assert conn.execute(text("SELECT email FROM customers WHERE id = 1")).scalar_one() is None
        assert conn.execute(text("SELECT count(*) FROM order_lines WHERE order_id = 100")).scalar() == 0
        assert conn.execute(text("SELECT email FROM customers WHERE id = 2")).scalar_one() == "ben@example.com"


def test_an_erasure_that_finds_nobody_in_the_company_database_fails_closed_until_staff_say_why(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    company = _company(db_url, "ana@example.com")
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    svc.engine.collect("zhang", "purchase", BUYER, now=NOW)  # zhang@example.cn: not a customer of the shop
    svc.databases = ((load_dataset_map(DATA / "dataset_shop.yaml"), company),)
    ticket = svc.submit("zhang", "delete", email="zhang@example.cn", now=NOW)
    svc.verify(ticket.ref, smtp[0].code_for("zhang@example.cn"), now=NOW)
    with pytest.raises(ErasureIncompleteError, match="no rows matched: nothing erased"):
        svc.fulfil_erasure(ticket.ref, ground="processing_violates_law", now=NOW)
    assert svc.get(ticket.ref)["status"] == "verified"
    assert svc.engine.read("zhang", "purchase_delivery", {"name"}, now=NOW)["name"]  # not shredded either
    with pytest.raises(BadValueError, match="say why the company database holds nothing"):
        svc.fulfil_erasure(ticket.ref, ground="processing_violates_law", not_held_reason=" ", now=NOW)
    svc.fulfil_erasure(ticket.ref, ground="processing_violates_law", now=NOW,
                       not_held_reason="never a shop customer (CRM ticket 88)")
    assert svc.get(ticket.ref)["status"] == "fulfilled"
    assert {"event": "company_not_held", "reason": "never a shop customer (CRM ticket 88)"}.items() \
        <= next(e for e in _events(svc) if e["event"] == "company_not_held").items()


def test_staff_verification_shows_an_address_that_matched_no_person_and_needs_a_reason(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    """Zhang asks with Ana's address: no code goes to Ana; staff who verify Zhang's identity document see that the
    address is not Zhang's and must say why they go on, or Zhang's export would hold Ana's rows."""
    company = _company(db_url, "ana@example.com")
    svc = _service("kamoer", db_url, tmp_path, smtp[1])
    svc.engine.collect("zhang", "purchase", BUYER, now=NOW)
    svc.databases = ((load_dataset_map(DATA / "dataset_shop.yaml"), company),)
    for right in ("access", "delete"):
        ticket = svc.submit("zhang", right, email="ana@example.com", now=NOW)
        assert smtp[0].to("ana@example.com") == []
        assert svc.get(ticket.ref)["address_match"] == "not_held"
        with pytest.raises(BadValueError, match="does not match the person on record"):
            svc.verify_by_staff(ticket.ref, "written_request", reference="letter 7", now=NOW)
        assert svc.get(ticket.ref)["status"] == "received"
        with pytest.raises(BadValueError):
            svc.fulfil_access(ticket.ref, tmp_path / "x.zip", now=NOW)
        assert not (tmp_path / "x.zip").exists()
    # a matching address needs no reason, and says so
    own = svc.submit("zhang", "access", email="ZHANG@example.cn", now=NOW)
    assert svc.get(own.ref)["address_match"] == "matched"
    assert svc.verify_by_staff(own.ref, "written_request", reference="letter 8", now=NOW).status == "verified"
    # going on with a reason is audited (the reason, never the address)
    ticket = svc.submit("zhang", "access", email="ana@example.com", now=NOW)
    svc.verify_by_staff(ticket.ref, "written_request", reference="letter 9", now=NOW,
                        mismatch_reason="new address confirmed by phone, call log 12")
    got = next(e for e in _events(svc) if e.get("request") == ticket.ref and e["event"] == "verified")
    assert got["address_match"] == "not_held" and got["mismatch_reason"] == "new address confirmed by phone, call log 12"
    assert "ana@example.com" not in json.dumps(_events(svc))


def test_a_person_unknown_to_the_engine_is_shown_as_no_person_on_record(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    svc = _service("kalos", db_url, tmp_path, smtp[1])
    ticket = svc.submit("li", "access", email="li@example.cn", now=NOW)
    assert svc.get(ticket.ref)["address_match"] == "no_person"
    with pytest.raises(BadValueError, match="no person on record"):
        svc.verify_by_staff(ticket.ref, "identity_proof", reference="ID 9", now=NOW)
    svc.verify_by_staff(ticket.ref, "identity_proof", reference="ID 9", mismatch_reason="first contact, ID checked",
                        now=NOW)
    assert svc.get(ticket.ref)["status"] == "verified"


def _cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]) -> list[str]:
    monkeypatch.setenv("POLICYKEEPER_SMTP_URL", f"smtp://{smtp[1].host}:{smtp[1].port}")
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    return ["--home", str(home), "--pack", "kamoer"]


@pytest.mark.parametrize(("stored", "asked"), [("Some.One@Example.NET", "some.one@example.net"),
                                               ("some.one@example.net", "Some.One@Example.NET")])
def test_fulfil_with_a_dataset_erases_the_rows_it_reports_erased(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer], stored: str, asked: str
) -> None:
    from ..test_cli import _engine_at

    opts = _cli_home(tmp_path, monkeypatch, smtp)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    company = _company(url, stored)
    _engine_at(tmp_path / "home", "kamoer").collect("some", "purchase", {**BUYER, "email": "some.one@example.net"})
    ref = runner.invoke(app, ["request", "submit", "some", "delete", "--email", asked, *opts]).stdout.split()[1]
    ref = ref.rstrip(":")
    assert runner.invoke(app, ["request", "verify", ref, smtp[0].code_for(asked), *opts]).exit_code == 0
    done = runner.invoke(app, ["request", "fulfil", ref, "--ground", "processing_violates_law",
                               "--dataset", str(DATA / "dataset_shop.yaml"), "--dataset-url", url, *opts])
    assert done.exit_code == 0, done.output
    assert "fulfilled; erased" in done.stdout
    with company.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers WHERE email IS NOT NULL")).scalar() == 1  # Ben only
    company.dispose()


def test_staff_verification_on_the_command_line_shows_the_mismatch_and_takes_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    from ..test_cli import _engine_at

    opts = _cli_home(tmp_path, monkeypatch, smtp)
    _engine_at(tmp_path / "home", "kamoer").collect("zhang", "purchase", BUYER)
    ref = runner.invoke(app, ["request", "submit", "zhang", "access", "--email", "ana@example.com", *opts]).stdout
    ref = ref.split()[1].rstrip(":")
    refused = runner.invoke(app, ["request", "verify-staff", ref, "--method", "written_request", "--reference", "l 7",
                                  *opts])
    assert refused.exit_code == 1 and "does not match the person on record" in refused.stderr
    assert "mismatch reason" in refused.stderr
    done = runner.invoke(app, ["request", "verify-staff", ref, "--method", "written_request", "--reference", "l 7",
                               "--mismatch-reason", "address confirmed by letter", *opts])
    assert done.exit_code == 0 and "verified" in done.stdout
