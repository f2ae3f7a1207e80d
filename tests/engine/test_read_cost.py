"""What a decision costs in statements, pinned without timing: the person, their facts and (for a read) their values
come back in one statement, then the audit entry is appended. And the facts read are those the pack's rules can
consult, worked out once per pack. (Speed itself is measured by ``policykeeper bench core``.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.pack import Pack
from policykeeper.store import open_database

BUYER = {"name": "Buyer", "phone": "+86 139 0000 0000", "email": "buyer@example.cn",
         "mailing_address": "1 Huaihai Road, Shanghai", "id_number": "310101199001010000", "bank_card": "6222 0000"}


def test_a_guarded_read_is_one_statement_for_the_person_facts_and_values_then_the_audit_entry(
    db_url: str, tmp_path: Path
) -> None:
    eng = PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("buyer@example.cn", "purchase", BUYER)
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(eng.db, "before_cursor_execute", count)
    got = eng.read("buyer@example.cn", "purchase_delivery", {"name", "mailing_address", "phone"})
    event.remove(eng.db, "before_cursor_execute", count)
    assert got == {"name": ["Buyer"], "mailing_address": ["1 Huaihai Road, Shanghai"], "phone": ["+86 139 0000 0000"]}
    work = [s for s in seen if s not in ("BEGIN", "COMMIT")]
    # the facts and values; then on PostgreSQL the chain head and the entry (the head moved with it); on SQLite the
    # entry, chained to the head in the statement that inserts it, and the head moved
    assert work == (["SELECT", "SELECT", "WITH"] if eng.db.dialect.name == "postgresql"
                    else ["SELECT", "INSERT", "UPDATE"])


def _consults(pack: Pack, tmp_path: Path) -> frozenset[str]:
    keys = tmp_path / "keys"
    ring = KeyRing.open(keys) if keys.exists() else KeyRing.init(keys)
    return PolicyEngine(pack, open_database(f"sqlite:///{tmp_path / 'pk.db'}"), ring).consulted_facts


def test_the_facts_a_decision_reads_are_those_the_packs_rules_can_consult(tmp_path: Path) -> None:
    assert "account" in _consults(load_pack("koso"), tmp_path)  # member-only contexts and account_exists conditions
    kalos = load_pack("kalos")  # no age threshold, no member-only rule, no condition on an account or a hold
    assert _consults(kalos, tmp_path) == {"register"}  # its corporate-transaction rule asks whether the successor is bound
    assert {"age_collect", "age_use"} <= _consults(load_pack("kamoer"), tmp_path)  # limits on what a minor's data is used for
    kokkok = _consults(load_pack("kokkok"), tmp_path)  # an age threshold for collection, no limit on later uses
    assert "age_collect" in kokkok and "age_use" not in kokkok
    doc = kalos.model_dump(mode="json", exclude_none=True)
    doc["collection"]["contexts"][0]["activation"] = {"all": ["legal_hold"]}
    assert "hold" in _consults(Pack.model_validate(doc), tmp_path)
