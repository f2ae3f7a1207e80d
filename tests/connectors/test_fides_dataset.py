"""A dataset in the shape of Fides' own sample loads as it is and is walked, erased and proven like ours: inherited
dataset-level categories, Fides metadata policykeeper does not use (kept, with a note), a composite key and a table
with no key at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from policykeeper import ErasureIncompleteError
from policykeeper.cli import app
from policykeeper.connectors import access, erase, load_dataset_map

from ..conftest import DATA

MAP = DATA / "dataset_fides_example.yaml"

SCHEMA = [
    "CREATE TABLE address (id INTEGER PRIMARY KEY, house VARCHAR(20), street VARCHAR(100), city VARCHAR(50),"
    " state VARCHAR(20), zip VARCHAR(10))",
    "CREATE TABLE customer (id INTEGER PRIMARY KEY, email VARCHAR(100), name VARCHAR(40), created TIMESTAMP,"
    " address_id INTEGER REFERENCES address(id))",
    "CREATE TABLE employee (id INTEGER PRIMARY KEY, email VARCHAR(100), name VARCHAR(40), profile TEXT,"
    " address_id INTEGER REFERENCES address(id))",
    "CREATE TABLE login (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(id), time TIMESTAMP)",
    "CREATE TABLE product (id INTEGER PRIMARY KEY, name VARCHAR(50), price DECIMAL(10, 2))",
    "CREATE TABLE orders (id VARCHAR(20) PRIMARY KEY, customer_id INTEGER REFERENCES customer(id),"
    " shipping_address_id INTEGER REFERENCES address(id))",
    "CREATE TABLE order_item (order_id VARCHAR(20) REFERENCES orders(id), product_id INTEGER REFERENCES product(id),"
    " quantity INTEGER, gift_note VARCHAR(100), PRIMARY KEY (order_id, product_id))",
    "CREATE TABLE payment_card (id VARCHAR(20) PRIMARY KEY, name VARCHAR(40), ccn BIGINT, code SMALLINT,"
    " preferred BOOLEAN, customer_id INTEGER REFERENCES customer(id), billing_address_id INTEGER REFERENCES address(id))",
    "CREATE TABLE report (id INTEGER PRIMARY KEY, email VARCHAR(100), name VARCHAR(100), year INTEGER, month INTEGER,"
    " total_visits INTEGER)",
    "CREATE TABLE service_request (id VARCHAR(20) PRIMARY KEY, email VARCHAR(100), alt_email VARCHAR(100), opened DATE,"
    " closed DATE, employee_id INTEGER REFERENCES employee(id), site_id VARCHAR(20))",
    "CREATE TABLE visit (email VARCHAR(100), last_visit TIMESTAMP)",
]
ROWS = [
    "INSERT INTO address VALUES (1, '123', 'Example Street', 'Exampletown', 'NY', '12345'),"
    " (2, '4', 'Example Lane', 'Exampletown', 'NY', '12321'), (3, '555', 'Example Ave', 'Example City', 'NY', '12000')",
    "INSERT INTO customer VALUES (1, 'Customer-1@Example.com', 'John Customer', '2020-04-01 11:47:42', 1),"
    " (2, 'customer-2@example.com', 'Jill Customer', '2020-04-01 11:47:42', 2)",
    "INSERT INTO employee VALUES (1, 'employee-1@example.com', 'Jack Employee', '{\"bio\": \"x\"}', 3),"
    " (2, 'employee-2@example.com', 'Jane Employee', NULL, 3)",
    "INSERT INTO login VALUES (1, 1, '2021-01-01 01:00:00'), (2, 1, '2021-01-02 01:00:00'), (3, 2, '2021-01-03 01:00:00')",
    "INSERT INTO product VALUES (1, 'Example Product 1', 10.00), (2, 'Example Product 2', 20.00)",
    "INSERT INTO orders VALUES ('ord_aaa-aaa', 1, 2), ('ord_bbb-bbb', 2, 1), ('ord_ccc-ccc', 1, 1)",
    "INSERT INTO order_item VALUES ('ord_aaa-aaa', 1, 1, 'for John'), ('ord_aaa-aaa', 2, 1, NULL),"
    " ('ord_bbb-bbb', 1, 2, 'for Jill'), ('ord_ccc-ccc', 2, 1, 'again')",
    "INSERT INTO payment_card VALUES ('pay_aaa-aaa', 'Example Card 1', 123456789, 321, true, 1, 1),"
    " ('pay_bbb-bbb', 'Example Card 2', 987654321, 123, false, 2, 1)",
    "INSERT INTO report VALUES (1, 'customer-1@example.com', 'Monthly Report', 2021, 8, 100),"
    " (2, 'customer-2@example.com', 'Monthly Report', 2021, 9, 100)",
    "INSERT INTO service_request VALUES ('ser_aaa-aaa', 'customer-1@example.com', 'customer-1-alt@example.com',"
    " '2021-01-01', '2021-01-03', 1, 's1'), ('ser_bbb-bbb', 'customer-2@example.com', NULL, '2021-01-04', NULL, 1, 's1')",
    "INSERT INTO visit VALUES ('customer-1@example.com', '2021-01-06 01:00:00'),"
    " ('customer-1@example.com', '2021-01-07 01:00:00'), ('customer-2@example.com', '2021-01-06 01:00:00')",
]


@pytest.fixture
def fides_db(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for stmt in SCHEMA + ROWS:
            conn.execute(text(stmt))
    yield engine
    engine.dispose()


def test_the_fides_sample_loads_as_it_is_and_says_what_it_does_not_use() -> None:
    dmap = load_dataset_map(MAP)
    ds = dmap.dataset[0]
    assert [n for n in dmap.notes() if "after" in n or "namespace" in n or "skip_processing" in n] == [
        "postgres_example_test_dataset: fides_meta.after is kept, not used",
        "postgres_example_test_dataset: fides_meta.namespace is kept, not used",
        "postgres_example_test_dataset.customer: fides_meta.skip_processing is kept, not used"]
    assert any("site_id: fides_meta.custom_request_field is kept" in n for n in dmap.notes())
    visit = next(c for c in ds.collections if c.name == "visit")
    assert [f.name for f in ds.personal(visit)] == ["email", "last_visit"]  # last_visit inherits the dataset's `user`
    assert next(c for c in ds.collections if c.name == "order_item").key_fields == ("order_id", "product_id")
    assert visit.key_fields == ()


def test_dataset_check_finds_the_sample_covers_its_schema(fides_db: Engine, db_url: str) -> None:
    got = CliRunner().invoke(app, ["dataset", "check", str(MAP), "--url", db_url])
    assert got.exit_code == 0, got.output
    assert got.stdout.splitlines()[-1] == "covered: 0 gap(s)" and "note: " in got.stdout


def test_access_and_erasure_walk_the_fides_sample(fides_db: Engine) -> None:
    dmap = load_dataset_map(MAP)
    who = {"email": "customer-1@example.com"}  # stored as Customer-1@Example.com in customer
    got = access(fides_db, dmap, who)
    key = "postgres_example_test_dataset."
    assert got[key + "customer"] == [{"email": "Customer-1@Example.com", "id": 1, "name": "John Customer"}]
    assert [r["street"] for r in got[key + "address"]] == ["Example Street"]
    assert len(got[key + "login"]) == 2 and len(got[key + "visit"]) == 2 and len(got[key + "report"]) == 1
    assert sorted(r["gift_note"] or "" for r in got[key + "order_item"]) == ["", "again", "for John"]
    assert got[key + "service_request"] == [{"alt_email": "customer-1-alt@example.com", "email": "customer-1@example.com",
                                             "employee_id": 1}]  # an identity is personal whatever its category
    assert "Jill" not in repr(got) and "employee-1" not in repr(got)
    counts = erase(fides_db, dmap, who, secret=b"k" * 32)
    assert counts[key + "visit"] == 2 and counts[key + "order_item"] == 3 and counts[key + "customer"] == 1
    assert counts[key + "payment_card"] == 1 and counts[key + "product"] == 0
    with fides_db.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
        assert q("SELECT id, email, name, created FROM customer WHERE id = 1")[0][:3] == (1, None, None)  # key kept
        assert q("SELECT created FROM customer WHERE id = 1")[0][0] is not None  # not personal, read-only: left
        assert q("SELECT count(*) FROM visit WHERE email IS NULL AND last_visit IS NULL") == [(2,)]
        assert q("SELECT count(*) FROM visit WHERE email = 'customer-2@example.com' AND last_visit IS NOT NULL") == [(1,)]
        assert q("SELECT gift_note FROM order_item WHERE order_id = 'ord_bbb-bbb'") == [("for Jill",)]
        assert q("SELECT count(*) FROM order_item WHERE gift_note IS NOT NULL") == [(1,)]
        assert q("SELECT street FROM address WHERE id = 2") == [("Example Lane",)]  # Jill's address untouched
        assert q("SELECT name FROM customer WHERE id = 2") == [("Jill Customer",)]
        assert q("SELECT alt_email, email, employee_id, site_id FROM service_request WHERE id = 'ser_aaa-aaa'") == [
            (None, None, None, "s1")]
    assert access(fides_db, dmap, who) == {}


def test_a_trigger_that_puts_a_keyless_value_back_fails_the_erasure(fides_db: Engine) -> None:
    """The table with no key is proven by the rows' physical ids, as the others are by their keys."""
    with fides_db.begin() as conn:
        if fides_db.dialect.name == "postgresql":
            conn.execute(text("CREATE FUNCTION keep_visit() RETURNS trigger AS $$ BEGIN "
                              "NEW.last_visit = OLD.last_visit; RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER keep_visit BEFORE UPDATE ON visit FOR EACH ROW "
                              "EXECUTE FUNCTION keep_visit()"))
        else:
            conn.execute(text("CREATE TRIGGER keep_visit AFTER UPDATE ON visit BEGIN "
                              "UPDATE visit SET last_visit = OLD.last_visit WHERE rowid = NEW.rowid; END"))
    with pytest.raises(ErasureIncompleteError, match="visit.last_visit could not be masked"):
        erase(fides_db, load_dataset_map(MAP), {"email": "customer-1@example.com"})
    with fides_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM visit WHERE email = 'customer-1@example.com'")).scalar() == 2
