"""A dataset map that cannot silently miss data: uncovered columns stop erasure and are reported by `dataset check`;
identities are matched by the map's rules; an erasure that finds nobody fails closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from policykeeper import ErasureIncompleteError
from policykeeper.cli import app
from policykeeper.connectors import access, dry_run, erase, load_dataset_map
from policykeeper.connectors._coverage import looks_personal
from policykeeper.connectors._identity import normalise

from ..conftest import DATA
from .test_connectors import shop  # noqa: F401 - the fixture

runner = CliRunner()
SHOP = DATA / "dataset_shop.yaml"


def _add_notes(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE customers ADD COLUMN notes VARCHAR(200)"))
        conn.execute(text("UPDATE customers SET notes = 'Ana Lima, call +351 912 345 678' WHERE id = 1"))


def _map_with(tmp_path: Path, notes_line: str) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(SHOP.read_text().replace(
        "          - {name: tier, data_categories: [system.operations]}\n",
        "          - {name: tier, data_categories: [system.operations]}\n" + notes_line))
    return path


def _untouched(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email, notes FROM customers WHERE id = 1")).one() == (
            "ana@example.com", "Ana Lima, call +351 912 345 678")
        assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 2


def test_a_column_the_map_does_not_name_stops_erasure_and_changes_nothing(shop: Engine) -> None:  # noqa: F811
    _add_notes(shop)
    with pytest.raises(ErasureIncompleteError, match=r"does not cover shop\.customers\.notes.*nothing was changed"):
        erase(shop, load_dataset_map(SHOP), {"email": "ana@example.com"})
    _untouched(shop)


def test_a_column_the_map_names_without_a_category_stops_erasure_too(shop: Engine, tmp_path: Path) -> None:  # noqa: F811
    _add_notes(shop)
    with pytest.raises(ErasureIncompleteError, match=r"shop\.customers\.notes"):
        erase(shop, load_dataset_map(_map_with(tmp_path, "          - {name: notes}\n")), {"email": "ana@example.com"})
    _untouched(shop)


def test_a_column_marked_not_personal_is_left_and_a_personal_one_is_erased(shop: Engine, tmp_path: Path) -> None:  # noqa: F811
    _add_notes(shop)
    kept = _map_with(tmp_path, "          - {name: notes, data_categories: [system.operations]}\n")
    assert erase(shop, load_dataset_map(kept), {"email": "ana@example.com"})["shop.customers"] == 1
    with shop.connect() as conn:
        assert conn.execute(text("SELECT notes FROM customers WHERE id = 1")).scalar_one().startswith("Ana")
        conn.execute(text("UPDATE customers SET email = 'ben2@example.com' WHERE id = 1"))
        conn.commit()
    erased = _map_with(tmp_path, "          - {name: notes, data_categories: [user.content]}\n")
    erase(shop, load_dataset_map(erased), {"email": "ben2@example.com"})
    with shop.connect() as conn:
        assert conn.execute(text("SELECT notes FROM customers WHERE id = 1")).scalar_one() is None


def test_an_erasure_that_finds_nobody_fails_closed(shop: Engine) -> None:  # noqa: F811
    dmap = load_dataset_map(SHOP)
    with pytest.raises(ErasureIncompleteError, match="no rows matched: nothing erased"):
        erase(shop, dmap, {"email": "nobody@example.com"})
    nothing = {"shop.customers": 0, "shop.addresses": 0, "shop.orders": 0, "shop.order_lines": 0}
    assert erase(shop, dmap, {"email": "nobody@example.com"}, require_match=False) == nothing
    assert dry_run(shop, dmap, {"email": "nobody@example.com"}) == nothing


def test_identities_are_matched_by_the_maps_rules_on_both_sides(shop: Engine, tmp_path: Path) -> None:  # noqa: F811
    with shop.begin() as conn:
        conn.execute(text("ALTER TABLE customers ADD COLUMN phone VARCHAR(40)"))
        conn.execute(text("UPDATE customers SET phone = '+856 20 5555-0101', email = ' Ana@Example.COM' WHERE id = 1"))
        conn.execute(text("UPDATE customers SET phone = '020 5555 0101' WHERE id = 2"))  # a national number: not Ana's
    path = _map_with(tmp_path, "          - {name: phone, data_categories: [user.contact.phone_number], "
                               "fides_meta: {identity: phone}}\n")
    dmap = load_dataset_map(path)
    assert dmap.dataset[0].rule("phone") == "phone" and dmap.dataset[0].rule("email") == "email"
    got = access(shop, dmap, {"phone": "0085620 5555 0101"})
    assert [r["full_name"] for r in got["shop.customers"]] == ["Ana Lima"]
    assert access(shop, dmap, {"email": "ana@EXAMPLE.com "})["shop.customers"][0]["full_name"] == "Ana Lima"
    assert erase(shop, dmap, {"phone": "856.20.5555.0101"})["shop.customers"] == 1
    with shop.connect() as conn:
        assert conn.execute(text("SELECT email, phone FROM customers WHERE id = 1")).one() == (None, None)
        assert conn.execute(text("SELECT phone FROM customers WHERE id = 2")).scalar_one() == "020 5555 0101"
    # an identity rule the map declares wins over the name: exact keeps case
    strict = tmp_path / "strict.yaml"
    strict.write_text(SHOP.read_text().replace("    name: Shop database\n",
                                               "    name: Shop database\n    identities: {email: exact}\n"))
    assert access(shop, load_dataset_map(strict), {"email": "BEN@example.com"}) == {}
    assert access(shop, load_dataset_map(strict), {"email": "ben@example.com"})["shop.customers"]


def test_the_rules_themselves() -> None:
    assert normalise("email", "  Some.One@Example.NET ") == "some.one@example.net"
    assert {normalise("phone", p) for p in ("+856 20 5555-0101", "0085620 5555 0101", "(856) 20.5555/0101")} == \
        {"8562055550101"}
    assert normalise("exact", " AbC ") == "AbC"
    assert [looks_personal(v) for v in ("write to ana@example.com", "+351 912 345 678", "Ana Lima", "gold", "12",
                                        "2025-06-02")] == ["email", "phone", "name", None, None, None]


def test_dataset_check_reports_every_gap_and_the_scan_flags_what_looks_personal(
    shop: Engine, db_url: str  # noqa: F811
) -> None:
    ok = runner.invoke(app, ["dataset", "check", str(SHOP), "--url", db_url])
    assert ok.exit_code == 0 and ok.stdout.strip() == "covered: 0 gap(s)", ok.output
    _add_notes(shop)
    with shop.begin() as conn:
        conn.execute(text("CREATE TABLE newsletter (id INTEGER PRIMARY KEY, addr VARCHAR(200), sent INTEGER)"))
        conn.execute(text("INSERT INTO newsletter VALUES (1, 'ana@example.com', 1), (2, 'ben@example.com', 0)"))
    got = runner.invoke(app, ["dataset", "check", str(SHOP), "--url", db_url])
    assert got.exit_code == 1
    assert got.stdout.splitlines() == ["table not in the map: newsletter", "column not covered: shop.customers.notes",
                                       "not covered: 2 gap(s)"]
    scanned = runner.invoke(app, ["dataset", "check", str(SHOP), "--url", db_url, "--scan"])
    assert "table not in the map: newsletter (looks personal: email)" in scanned.stdout
    assert "column not covered: shop.customers.notes (looks personal: name)" in scanned.stdout
    assert "ana@example.com" not in scanned.stdout and "Lima" not in scanned.stdout  # values are never printed


def test_with_two_datasets_one_that_holds_the_person_is_enough(shop: Engine, tmp_path: Path) -> None:  # noqa: F811
    with shop.begin() as conn:
        conn.execute(text("CREATE TABLE contacts (id INTEGER PRIMARY KEY, mail VARCHAR(200))"))
        conn.execute(text("INSERT INTO contacts VALUES (1, 'ben@example.com')"))
    path = tmp_path / "two.yaml"
    path.write_text(SHOP.read_text() + "  - fides_key: crm\n    collections:\n      - name: contacts\n        fields:\n"
                    "          - {name: id, fides_meta: {primary_key: true}}\n"
                    "          - {name: mail, data_categories: [user.contact.email], fides_meta: {identity: email}}\n")
    dmap = load_dataset_map(path)
    with pytest.raises(ErasureIncompleteError, match="no rows matched: nothing erased"):
        erase(shop, dmap, {"email": "nobody@example.com"})
    got = erase(shop, dmap, {"email": "ana@example.com"})  # in shop, not in crm
    assert got["shop.customers"] == 1 and got["crm.contacts"] == 0
    assert erase(shop, dmap, {"email": "BEN@example.com"})["crm.contacts"] == 1


def test_a_column_added_after_the_tables_were_read_still_stops_erasure(shop: Engine) -> None:  # noqa: F811
    dmap = load_dataset_map(SHOP)
    assert access(shop, dmap, {"email": "ben@example.com"})  # the tables are reflected and kept for the process
    _add_notes(shop)
    with pytest.raises(ErasureIncompleteError, match=r"does not cover shop\.customers\.notes"):
        erase(shop, dmap, {"email": "ana@example.com"})
    _untouched(shop)
