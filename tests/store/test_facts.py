"""The facts repository's register entries (store/facts.py): the person's and the party-level entries of one pack, in
entry order, as frozen rows, on both backends."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from policykeeper.clock import utc
from policykeeper.store import facts as fact_store
from policykeeper.store import open_database

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_register_entries_are_the_person_s_and_the_parties_of_one_pack_in_entry_order(db_url: str) -> None:
    db = open_database(db_url)
    entries = [  # (pack, subject, fact, arg, party, action), written in this order
        ("p", "li", "member", "", None, "recorded"),
        ("p", None, "agreement", "confidentiality", "sdk", "recorded"),
        ("p", "wu", "member", "", None, "recorded"),  # another person's
        ("q", None, "agreement", "confidentiality", "sdk", "recorded"),  # another pack's
        ("q", "li", "subscribed", "news", None, "recorded"),
        ("p", "li", "member", "", None, "revoked"),
    ]
    with db.begin() as conn:
        for i, (pack, sid, fact, arg, party, action) in enumerate(entries):
            fact_store.insert_fact(conn, pack_id=pack, subject_id=sid, fact=fact, arg=arg, party=party, action=action,
                                   reference=f"ref {i}", at=T0 + dt.timedelta(minutes=i), actor="staff")
    with db.connect() as conn:
        li = fact_store.register_entries(conn, "p", "li")
        parties = fact_store.register_entries(conn, "p", None)
        nobody = fact_store.register_entries(conn, "r", "li")
    assert [(e.subject_id, e.fact, e.arg, e.party, e.action) for e in li] == [
        ("li", "member", "", None, "recorded"), (None, "agreement", "confidentiality", "sdk", "recorded"),
        ("li", "member", "", None, "revoked")]
    assert [utc(e.at) for e in li] == [T0, T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=5)]
    assert [(e.subject_id, e.fact, e.party) for e in parties] == [(None, "agreement", "sdk")]
    assert nobody == []
    assert dataclasses.is_dataclass(li[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        li[0].action = "recorded"  # type: ignore[misc]
