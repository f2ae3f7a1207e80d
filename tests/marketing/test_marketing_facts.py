"""Marketing decides on the engine's one fact path: a restriction, a declined policy or the marketing choice on
record stop a message that the caller sends without stating them (an omitted fact never lets one through)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from policykeeper import DeniedError, load_pack
from policykeeper.cli import app
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.marketing import send_message, tracking_allowed
from policykeeper.store import open_database
from policykeeper.store._schema import audit_log, message_log

from .test_marketing import KAMOER_USER

runner = CliRunner()
URL = "https://shop.example"


@pytest.fixture
def home(db_url: str, tmp_path: Path) -> tuple[PolicyEngine, list[str]]:
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    eng = PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.open(home / "keys"))
    eng.collect("wang", "registration", KAMOER_USER)
    return eng, ["--home", str(home), "--database-url", db_url, "--pack", "kamoer"]


def _send(opts: list[str], topic: str) -> tuple[int, str]:
    got = runner.invoke(app, ["marketing", "send", "wang", "--topic", topic, "--subject", "Sale", "--body", "20% off.",
                              "--base-url", URL, *opts])
    return got.exit_code, got.stdout + got.stderr


def _sid(eng: PolicyEngine) -> str:
    with eng.db.connect() as conn:
        found = eng.subject_id_of(conn, "wang")
    assert found is not None
    return found


def test_a_restricted_person_gets_no_marketing_though_the_sender_states_nothing(
        home: tuple[PolicyEngine, list[str]]) -> None:
    eng, opts = home
    assert _send(opts, "618")[0] == 0  # opt-out pack, nothing withdrawn: it goes
    assert tracking_allowed(eng, "wang")
    eng.restrict_subject(_sid(eng))  # e.g. a restriction request fulfilled
    code, said = _send(opts, "619")
    assert code == 1 and "[denied]" in said and "restricted" in said
    with pytest.raises(DeniedError) as info:
        send_message(eng, "wang", kind="marketing", channel="email", topic="620", subject="s", body="b", base_url=URL)
    assert {r.code for r in info.value.decision.denials} == {"restricted"}
    assert not tracking_allowed(eng, "wang")  # no open-tracking pixel either
    with eng.db.connect() as conn:
        assert conn.execute(select(message_log.c.topic)).scalars().all() == ["618"]
        refused = conn.execute(select(audit_log.c.detail).where(audit_log.c.allowed.is_(False))).scalars().all()
    assert [d["codes"] for d in refused] == [["restricted"], ["restricted"]]  # audited, no values
    assert all("wang@example.cn" not in str(d) for d in refused)
    eng.restrict_subject(_sid(eng), False)  # lifted: marketing may go again
    assert _send(opts, "621")[0] == 0
    service = runner.invoke(app, ["marketing", "send", "wang", "--topic", "r-1", "--kind", "service", "--subject", "s",
                                  "--body", "Your receipt.", *opts])
    assert service.exit_code == 0  # service messages are not marketing


def test_a_declined_policy_stops_marketing_and_the_ledger_not_the_caller_decides(
        home: tuple[PolicyEngine, list[str]]) -> None:
    eng, opts = home
    eng.set_consent("wang", "marketing", "withdrawn")
    code, said = _send(opts, "618")
    assert code == 1 and "opted out" in said  # the withdrawal on record, read through the fact path
    assert not tracking_allowed(eng, "wang")  # KAMOER-28: unsubscribing stops tracking
    eng.set_consent("wang", "marketing", "given")
    assert _send(opts, "619")[0] == 0
    eng.set_consent("wang", "policy", "refused")
    code, said = _send(opts, "620")
    assert code == 1 and "declined the policy" in said
