"""Every channel the pack names for a notice is used, or the operation fails naming the channel with no transport
(policy change notices; shutdown notices are in test_deletion.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policykeeper import ConfigError, load_pack, parse_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.pack import Pack, bundled_pack_path
from policykeeper.store import open_database
from policykeeper.store._schema import message_log, outbox, policy_versions
from policykeeper.versions import publish

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
SUPPORT = {"name": "Chen Mei", "email": "mei@example.tw", "support_info": "speedometer flickers"}
KOSO_V2 = (('label: "2021-06-22"', 'label: "2025-06-02"'), ("updated_date: 2021-06-22", "updated_date: 2025-06-02"))


def _koso(channels: tuple[str, ...], db_url: str, tmp_path: Path) -> PolicyEngine:
    pack = load_pack("koso")
    pack = pack.model_copy(update={"changes": pack.changes.model_copy(update={"notice_channels": channels})})
    return PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))


def _v2() -> Pack:
    text = bundled_pack_path("koso").read_text(encoding="utf-8")
    for old, new in KOSO_V2:
        text = text.replace(old, new, 1)
    return parse_pack(text, "koso-next.yaml")


def test_a_change_notice_on_push_reaches_every_person_through_the_outbox(db_url: str, tmp_path: Path) -> None:
    koso = _koso(("page", "push"), db_url, tmp_path)
    mei = koso.collect("mei", "warranty_support", SUPPORT, now=NOW - dt.timedelta(days=30)).subject_id
    got = publish(koso, _v2(), now=NOW)
    assert got.channels == ("page", "push")
    with koso.db.connect() as conn:
        log = conn.execute(select(message_log.c.channel, message_log.c.subject_id)).all()
        queued = conn.execute(select(outbox.c.kind, outbox.c.recipient)).all()
    assert ("page", "") in log and ("push", mei) in log
    assert queued == [("policy_notice", "person")]


def test_a_change_notice_on_a_channel_with_no_transport_fails_naming_it(db_url: str, tmp_path: Path) -> None:
    koso = _koso(("page", "sms"), db_url, tmp_path)
    koso.collect("mei", "warranty_support", SUPPORT, now=NOW - dt.timedelta(days=30))
    with pytest.raises(ConfigError, match="'sms'.*no transport"):
        publish(koso, _v2(), now=NOW)
    with koso.db.connect() as conn:
        for table in (message_log, outbox, policy_versions):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
