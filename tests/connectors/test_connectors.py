"""The company's own database, walked from a person's identity: access, set-based erasure, fail-closed proof."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from policykeeper import ConfigError, ErasureIncompleteError
from policykeeper.connectors import access, dry_run, erase, load_dataset_map

from ..conftest import DATA

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), full_name VARCHAR(200), tier VARCHAR(20))",
    "CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), street VARCHAR(200))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), note VARCHAR(200),"
    " total INTEGER)",
    "CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id), gift_message VARCHAR(200))",
]
ROWS = [
    "INSERT INTO customers VALUES (1, 'ana@example.com', 'Ana Lima', 'gold'), (2, 'ben@example.com', 'Ben Okafor', 'basic')",
    "INSERT INTO addresses VALUES (10, 1, '1 Rua Augusta'), (11, 1, '9 Rua Nova'), (12, 2, '5 Baker St')",
    "INSERT INTO orders VALUES (100, 1, 'leave at door', 30), (101, 2, 'ring twice', 12)",
    "INSERT INTO order_lines VALUES (1000, 100, 'happy birthday Ana'), (1001, 101, 'for Ben')",
]


@pytest.fixture
def shop(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for stmt in SCHEMA + ROWS:
            conn.execute(text(stmt))
    yield engine
    engine.dispose()


def test_access_walks_the_references_from_the_identity(shop: Engine) -> None:
    got = access(shop, load_dataset_map(DATA / "dataset_shop.yaml"), {"email": "ana@example.com"})
    assert got["shop.customers"] == [{"email": "ana@example.com", "full_name": "Ana Lima"}]
    assert sorted(r["street"] for r in got["shop.addresses"]) == ["1 Rua Augusta", "9 Rua Nova"]
    assert got["shop.orders"] == [{"note": "leave at door"}]
    assert got["shop.order_lines"] == [{"gift_message": "happy birthday Ana"}]
    assert "Ben" not in repr(got)  # only the person's rows
    assert access(shop, load_dataset_map(DATA / "dataset_shop.yaml"), {"email": "nobody@example.com"}) == {}


def test_erasure_is_set_based_masks_each_field_as_mapped_and_proves_it(shop: Engine) -> None:
    dmap = load_dataset_map(DATA / "dataset_shop.yaml")
    preview = dry_run(shop, dmap, {"email": "ana@example.com"})
    assert preview == {"shop.order_lines": 1, "shop.orders": 1, "shop.addresses": 2, "shop.customers": 1}
    with shop.connect() as conn:  # the dry run changed nothing
        assert conn.execute(text("SELECT full_name FROM customers WHERE id = 1")).scalar_one() == "Ana Lima"
    statements: list[str] = []
    from sqlalchemy import event

    event.listen(shop, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert erase(shop, dmap, {"email": "ana@example.com"}, secret=b"k" * 32) == preview
    writes = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "DELETE"))]
    assert len(writes) == 4  # one statement per collection, however many rows
    with shop.connect() as conn:
        ana = conn.execute(text("SELECT email, full_name, tier FROM customers WHERE id = 1")).one()
        assert ana.email is None and ana.full_name.startswith("h:") and ana.tier == "gold"
        streets = conn.execute(text("SELECT street FROM addresses WHERE customer_id = 1")).scalars().all()
        assert all(s.startswith("r:") for s in streets) and len(set(streets)) == 2
        assert conn.execute(text("SELECT note, total FROM orders WHERE id = 100")).one() == (None, 30)
        assert conn.execute(text("SELECT count(*) FROM order_lines WHERE order_id = 100")).scalar() == 0
        ben = conn.execute(text("SELECT email, full_name FROM customers WHERE id = 2")).one()
        assert tuple(ben) == ("ben@example.com", "Ben Okafor")  # nobody else touched
    assert access(shop, dmap, {"email": "ana@example.com"}) == {}


def add_unmaskable_table(engine: Engine, tmp_path: Path) -> Path:
    """A NOT NULL column the map wants nulled: erasure cannot finish. Returns the map that names it."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE loyalty (id INTEGER PRIMARY KEY, customer_id INTEGER, card VARCHAR(40) NOT NULL)"))
        conn.execute(text("INSERT INTO loyalty VALUES (1, 1, 'LOY-0001')"))
    path = tmp_path / "map.yaml"
    path.write_text((DATA / "dataset_shop.yaml").read_text() + """      - name: loyalty
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - name: customer_id
            fides_meta: {references: [{dataset: shop, field: customers.id, direction: from}]}
          - {name: card, data_categories: [user.unique_id]}
""")
    return path


def test_a_field_that_cannot_be_masked_fails_loudly_and_changes_nothing(shop: Engine, tmp_path: Path) -> None:
    path = add_unmaskable_table(shop, tmp_path)
    with pytest.raises(ErasureIncompleteError, match="changed nothing"):
        erase(shop, load_dataset_map(path), {"email": "ana@example.com"})
    with shop.connect() as conn:
        assert conn.execute(text("SELECT email FROM customers WHERE id = 1")).scalar_one() == "ana@example.com"
        assert conn.execute(text("SELECT count(*) FROM order_lines")).scalar() == 2


def test_bad_maps_are_refused_with_the_place(tmp_path: Path, shop: Engine) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset:\n  - fides_key: shop\n    collections:\n      - name: customers\n        fields:\n"
                   "          - {name: id, fides_meta: {primary_key: true}, colour: blue}\n")
    with pytest.raises(ConfigError, match="colour"):
        load_dataset_map(bad)
    bad.write_text("dataset:\n  - fides_key: shop\n    collections:\n      - name: orders\n        fields:\n"
                   "          - {name: id, fides_meta: {primary_key: true}}\n"
                   "          - {name: c, fides_meta: {references: [{dataset: shop, field: customers.id}]}}\n")
    with pytest.raises(ConfigError, match="unknown field shop.customers.id"):
        load_dataset_map(bad)
    missing = tmp_path / "missing.yaml"
    missing.write_text("dataset:\n  - fides_key: shop\n    collections:\n      - name: no_such_table\n        fields:\n"
                       "          - {name: id, fides_meta: {primary_key: true}}\n")
    with pytest.raises(ConfigError, match="does not match the database"):
        access(shop, load_dataset_map(missing), {"email": "ana@example.com"})


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "keys-recorded-first"])
def test_large_row_sets_give_the_same_result_by_either_path(
    shop: Engine, monkeypatch: pytest.MonkeyPatch, returning: bool
) -> None:
    """Masking with RETURNING proves by one array parameter; databases without it record the keys in temporary
    tables first."""
    from policykeeper.store import connectors as connector_store

    monkeypatch.setattr(connector_store, "_IN_LIST_MAX", 1)  # Ana has two addresses: over the limit
    if not returning:
        monkeypatch.setattr(connector_store, "_RETURNING", ())
    dmap = load_dataset_map(DATA / "dataset_shop.yaml")
    assert erase(shop, dmap, {"email": "ana@example.com"}) == {
        "shop.order_lines": 1, "shop.orders": 1, "shop.addresses": 2, "shop.customers": 1}
    assert access(shop, dmap, {"email": "ana@example.com"}) == {}
    with shop.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM addresses WHERE street LIKE 'r:%'")).scalar() == 2


def test_erasure_re_reads_the_rows_so_a_value_put_back_behind_its_back_fails_it(shop: Engine) -> None:
    """A trigger that restores the street after the UPDATE: what the statement reports is masked, what is stored is
    not. Only reading the rows again shows it, and the erasure must fail and change nothing."""
    with shop.begin() as conn:
        if shop.dialect.name == "postgresql":
            conn.execute(text("CREATE FUNCTION put_back() RETURNS trigger AS $$ BEGIN "
                              "UPDATE addresses SET street = OLD.street WHERE id = NEW.id AND street <> OLD.street; "
                              "RETURN NULL; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER put_back AFTER UPDATE ON addresses FOR EACH ROW "
                              "WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION put_back()"))
        else:
            conn.execute(text("CREATE TRIGGER put_back AFTER UPDATE ON addresses BEGIN "
                              "UPDATE addresses SET street = OLD.street WHERE id = NEW.id; END"))
    with pytest.raises(ErasureIncompleteError, match="addresses.street could not be masked"):
        erase(shop, load_dataset_map(DATA / "dataset_shop.yaml"), {"email": "ana@example.com"})
    with shop.connect() as conn:
        assert conn.execute(text("SELECT email FROM customers WHERE id = 1")).scalar_one() == "ana@example.com"
