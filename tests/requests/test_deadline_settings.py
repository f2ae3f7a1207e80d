"""Deadlines a pack leaves to the applicable law: the operator states them; nothing is invented."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policykeeper import ConfigError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.pack._types import FixedDuration
from policykeeper.requests import RequestService, load_deadlines
from policykeeper.store import open_database

from ..conftest import Inbox

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ALICE = {"name": "Alice P", "password": "correct horse battery", "uuid": "u-7f3a9c", "phone": "+856 20 5555 0101",
         "email": "alice@example.com", "date_of_birth": "1990-04-02"}


def test_a_deadline_left_to_the_law_has_no_date_until_the_operator_states_it(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, object]
) -> None:
    inbox, mailer = smtp
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("alice", "personal_customer", ALICE, Facts(channel="online"), now=NOW)
    plain = RequestService(eng, mailer)  # type: ignore[arg-type]
    ref = plain.submit("alice", "access", email="alice@example.com", now=NOW).ref
    assert plain.verify(ref, inbox.code_for("alice@example.com"), now=NOW).due_at is None
    stated = RequestService(eng, mailer, deadlines={"per_applicable_law": FixedDuration(value=30, unit="calendar_days")})  # type: ignore[arg-type]
    ref = stated.submit("alice", "access", email="alice@example.com", now=NOW).ref
    ticket = stated.verify(ref, inbox.code_for("alice@example.com"), now=NOW)
    assert ticket.due_at == NOW + dt.timedelta(days=30)  # KOKKOK's clock starts at verification
    assert ticket.deadline == "30 calendar_days (law, configured)"


def test_request_settings_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "requests.yaml"
    assert load_deadlines(path) == {}
    path.write_text("deadlines:\n  per_applicable_law: {value: 15, unit: business_days}\n")
    assert load_deadlines(path)["per_applicable_law"].value == 15
    path.write_text("deadlines:\n  per_applicable_law: {value: 15, unit: weeks}\n")
    with pytest.raises(ConfigError, match="deadlines.per_applicable_law"):
        load_deadlines(path)
    path.write_text("deadline: {}\n")
    with pytest.raises(ConfigError, match="expected only 'deadlines'"):
        load_deadlines(path)
