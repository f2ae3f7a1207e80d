"""``policykeeper demo``: synthetic people, consents, requests (overdue ones where the pack sets a fixed deadline)
and an incident, filled once into the configured database; then seen through the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from policykeeper._settings import Settings
from policykeeper.cli import app
from policykeeper.web import MemoryMailer, WebContext, create_api_key, create_app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("POLICYKEEPER_HOME", "POLICYKEEPER_DATABASE_URL", "POLICYKEEPER_PACK", "POLICYKEEPER_SMTP_URL",
                 "POLICYKEEPER_REGION"):
        monkeypatch.delenv(name, raising=False)


def _demo(home: Path, *args: str) -> str:
    result = runner.invoke(app, ["demo", "--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _queue(home: Path, pack: str | None = None) -> list[dict[str, object]]:
    ctx = WebContext.from_settings(Settings.load(home, None, pack), mailer=MemoryMailer())
    try:
        key = create_api_key(ctx, "demo test", "auditor")
        with TestClient(create_app(ctx)) as client:
            got = client.get("/v1/requests", headers={"Authorization": f"Bearer {key}"})
            assert got.status_code == 200, got.text
            incidents = client.get("/v1/incidents", headers={"Authorization": f"Bearer {key}"}).json()
            assert [i["reference"] for i in incidents] == ["DEMO-INC-1"]
            return list(got.json())
    finally:
        ctx.db.dispose()


def test_demo_fills_the_default_kokkok_home_once_and_the_api_shows_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _demo(home)
    assert "created the master key" in first and "demo data for the kokkok pack" in first
    assert re.search(r"people: 25 \(\d+ records", first), first
    given = int(re.search(r"consents: (\d+) given, (\d+) withdrawn", first).group(1))  # type: ignore[union-attr]
    assert given > 0 and re.search(r"withdrawn", first)
    assert "security incident: 1" in first and "no email was sent" in first
    # KOKKOK's deadline is "as the applicable law requires": the demo writes an example number, says so, and the
    # old open requests are then overdue
    assert "leaves request deadlines to the applicable law" in first and "set what your law requires" in first
    assert "per_applicable_law: {value: 30, unit: calendar_days}" in (home / "requests.yaml").read_text()
    overdue = int(re.search(r"overdue requests: (\d+)", first).group(1))  # type: ignore[union-attr]
    assert overdue >= 2
    again = _demo(home)
    assert "already there (25 demo people in the kokkok pack)" in again and "nothing was added" in again
    queue = _queue(home)
    assert len(queue) >= 5 and sum(1 for r in queue if r["state"] == "overdue") == overdue
    assert all("configured" in str(r["deadline"]) for r in queue if r["status"] == "verified")
    assert {r["status"] for r in queue if r["state"] != "closed"} == {"received", "verified"}  # closed ones listed too


def test_demo_leaves_an_operators_own_request_settings_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "requests.yaml").write_text("deadlines:\n  per_applicable_law: {value: 90, unit: calendar_days}\n")
    out = _demo(home)
    assert "as an example" not in out and "overdue requests: 0" in out
    assert "90" in (home / "requests.yaml").read_text()


def test_demo_with_a_fixed_deadline_pack_makes_overdue_requests_the_api_shows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    out = _demo(home, "--pack", "kalos")
    assert "demo data for the kalos pack" in out
    overdue = int(re.search(r"overdue requests: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert overdue >= 2
    queue = _queue(home, "kalos")
    assert sum(1 for r in queue if r["state"] == "overdue") == overdue
    assert any(r["state"] in ("on_time", "due_soon") for r in queue)
    assert "already there" in _demo(home, "--pack", "kalos")


@pytest.mark.parametrize("pack", ["kamoer", "koso", "konzen"])
def test_demo_works_with_every_bundled_pack(tmp_path: Path, pack: str) -> None:
    out = _demo(tmp_path / "home", "--pack", pack, "--people", "8")
    assert f"demo data for the {pack} pack" in out and "people: 8 (" in out
    assert "already there (8 demo people" in _demo(tmp_path / "home", "--pack", pack)


@pytest.mark.parametrize("pack", ["kokkok", "kamoer"])
def test_demo_prints_ready_sign_ins_and_every_demo_person_holds_an_email(tmp_path: Path, pack: str) -> None:
    import random

    from policykeeper.demo import SEED, _people

    home = tmp_path / "home"
    out = _demo(home, "--pack", pack)
    shown = re.findall(r"identifier (\S+)  email (\S+)", out)
    assert 2 <= len(shown) <= 3, out
    ctx = WebContext.from_settings(Settings.load(home, None, pack), mailer=MemoryMailer())
    try:
        eng = ctx.engine()
        crowd = _people(pack, 25, random.Random(SEED))
        with eng.db.connect() as conn:
            known = [p for p in crowd if eng.subject_id_of(conn, p.external_id) is not None]
        assert len(known) == 25
        assert all(eng.holds_contact(p.external_id, p.email) for p in known), \
            [p.external_id for p in known if not eng.holds_contact(p.external_id, p.email)]
        with TestClient(create_app(ctx)) as client:  # each printed sign-in gets its code
            for identifier, email in shown:
                got = client.post("/v1/session/code", json={"identifier": identifier, "email": email})
                assert got.status_code == 202, got.text
                assert ctx.mailer.messages[0]["to"] == email  # type: ignore[union-attr]
                assert "Your code is" in ctx.mailer.messages[0]["body"]  # type: ignore[union-attr]
    finally:
        ctx.db.dispose()
