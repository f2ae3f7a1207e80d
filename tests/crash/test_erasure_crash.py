"""Erasure under ``kill -9`` (issue 12's crash suite): a real ``policykeeper request fulfil`` process is killed at a
random point while it erases people, in policykeeper's database and, through a Fides dataset map, in the company's
own shop database, while a real ``policykeeper serve`` (same home, database, keystore and dataset map) erases others
through ``POST /v1/requests/{ref}/fulfil``; in some rounds the server is killed too, at its own random point, and
started again. Then an operator re-runs the command and fulfils the rest through the server. After every kill and
every recovery:

- nothing is half-erased: a person is either whole (key, values) or erased (no key, every value blanked);
- nothing is reported done that is not: a request the command or the server said was fulfilled is fulfilled and its
  person erased (and the server answers every call it lives through with 200 and "fulfilled", never an error);
- the journal is complete: every erased person and every delivered message is in the keystore's erasure journal;
- no "done" mail goes out twice, and a message is sent, queued, dead or held as unsure (never silently lost);
- the audit chain verifies;
- the company database: a request reported done has its person's shop rows erased (emails gone, names hashed,
  streets random, notes blank, gift messages deleted), no one's shop rows are half-erased (all as they were, or all
  erased), and every fulfilled request has exactly one ``company_erased`` audit entry, with the person's row counts;

and at the end a restore of the backup taken before any erasure brings nobody back.

The short run (CI) kills the command twice and the server once per backend; the long run is
``POLICYKEEPER_CRASH_KILLS=200 .venv/bin/python -m pytest -m crash tests/crash -q -s`` (see docs/reliability.md).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from policykeeper import SubjectNotFoundError, audit, load_pack
from policykeeper.cli import app
from policykeeper.connectors import load_dataset_map
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.notify import LEASE, RoutedTransport, SmtpMailer, deliver
from policykeeper.requests import RequestService
from policykeeper.store import (
    audit_log,
    backup_database,
    open_database,
    outbox,
    records,
    requests,
    restore_database,
    subjects,
)

from ..conftest import DATA, Inbox

pytestmark = pytest.mark.crash

KILLS = int(os.environ.get("POLICYKEEPER_CRASH_KILLS", "2"))
"""Kills per backend; 2 in the short run CI makes."""
WORKER = Path(__file__).with_name("erase_worker.py")
PER_ROUND = 3
"""Requests the killed process works through in one round."""


DATASET = DATA / "dataset_shop.yaml"
SHOP = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200), full_name VARCHAR(200), tier VARCHAR(20))",
    "CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), street VARCHAR(200))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), note VARCHAR(200),"
    " total INTEGER)",
    "CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id), gift_message VARCHAR(200))",
]
SHOP_ROWS = {"shop.customers": 1, "shop.addresses": 2, "shop.orders": 1, "shop.order_lines": 1}
"""Each person's rows in the shop database: what its ``company_erased`` audit entry must count."""


def _shop(engine: Any, n_people: int) -> None:
    """The company's shop database: every person has a customer row, two addresses, an order and an order line."""
    with engine.begin() as conn:
        for stmt in SHOP:
            conn.execute(text(stmt))
        for n in range(n_people):
            conn.execute(text("INSERT INTO customers VALUES (:id, :email, :name, 'gold')"),
                         {"id": n, "email": f"p{n}@example.com", "name": f"Person {n}"})
            conn.execute(text("INSERT INTO addresses VALUES (:a, :id, :s), (:b, :id, :t)"),
                         {"a": 2 * n, "b": 2 * n + 1, "id": n, "s": f"{n} Main St", "t": f"{n} Side St"})
            conn.execute(text("INSERT INTO orders VALUES (:id, :id, :note, 30)"), {"id": n, "note": f"note {n}"})
            conn.execute(text("INSERT INTO order_lines VALUES (:id, :id, :gift)"), {"id": n, "gift": f"gift {n}"})


def _shop_state(shop: Any) -> dict[str, str]:
    """Each shop customer's state: 'whole' (every row as it was), 'erased' (every personal field masked as the map
    says, the order line deleted) or 'half' (anything else)."""
    with shop.connect() as conn:
        cust = {r.id: r for r in conn.execute(text("SELECT id, email, full_name, tier FROM customers"))}
        streets: dict[int, list[str | None]] = {}
        for r in conn.execute(text("SELECT customer_id, street FROM addresses")):
            streets.setdefault(r.customer_id, []).append(r.street)
        orders = {r.id: r for r in conn.execute(text("SELECT id, customer_id, note, total FROM orders"))}
        lines = {r.order_id: r.gift_message for r in conn.execute(text("SELECT order_id, gift_message FROM order_lines"))}
    state = {}
    for n, c in cust.items():
        whole = (c.email == f"p{n}@example.com" and c.full_name == f"Person {n}"
                 and sorted(streets.get(n, [])) == [f"{n} Main St", f"{n} Side St"]
                 and orders[n].note == f"note {n}" and lines.get(n) == f"gift {n}")
        erased = (c.email is None and str(c.full_name).startswith("h:") and len(streets.get(n, [])) == 2
                  and all(str(s).startswith("r:") for s in streets[n]) and orders[n].note is None
                  and n not in lines)
        kept = c.tier == "gold" and orders[n].total == 30  # what the map does not mark as personal stays
        state[f"p{n}@example.com"] = "whole" if whole and kept else "erased" if erased and kept else "half"
    return state


class _Server:
    """A real ``policykeeper serve`` on a loopback port, on the same home, database, keystore and company database as
    the command; it fulfils erasures through ``POST /v1/requests/{ref}/fulfil`` with the admin API key it printed on
    its first start. It can be killed (SIGKILL) and started again."""

    def __init__(self, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.args, self.env, self.logs, self.key, self.starts = args, env, logs, "", 0
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.starts += 1
        self.log = self.logs / f"serve-{self.starts}.log"
        with self.log.open("w") as fh:
            self.proc = subprocess.Popen([sys.executable, "-m", "policykeeper", "serve", "--port", str(self.port),
                                          *self.args], env=self.env, stdout=fh, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/health", timeout=5) as resp:  # noqa: S310
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("serve did not answer in time")
        if not self.key:
            self.key = next(line.split(": ", 1)[1].strip() for line in self.log.read_text().splitlines()
                            if line.startswith("admin API key"))

    def fulfil(self, ref: str) -> tuple[int, dict[str, Any]] | None:
        """The server's answer, or None when it was killed before answering."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/requests/{ref}/fulfil", method="POST",
                                     data=b"{}", headers={"Authorization": f"Bearer {self.key}",
                                                          "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (a local test server)
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except (OSError, http.client.HTTPException):
            return None

    def stop(self, *, kill: bool = False) -> None:
        assert self.proc is not None
        if kill:
            os.kill(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.terminate()
        self.proc.wait(60)
        assert "Traceback" not in self.log.read_text(), self.log.read_text()


def _into(answers: list[Any], fn: Any, *args: Any) -> None:
    answers.append(fn(*args))


def _person(n: int) -> dict[str, str]:
    return {"name": f"Person {n}", "password": "pw", "uuid": f"u-{n}", "phone": f"+856 20 {n:04d}",
            "email": f"p{n}@example.com", "date_of_birth": "1990-01-01"}


def _second_database(db_url: str, name: str) -> Iterator[str]:
    if db_url.startswith("sqlite"):
        yield db_url.replace("pk.db", name)
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    base = make_url(db_url)
    admin = create_engine(base.set(query={k: v for k, v in base.query.items() if k != "options"}))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield base.set(query={**base.query, "options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def fresh_url(db_url: str) -> Iterator[str]:
    """A second empty database on the same backend, to restore into."""
    yield from _second_database(db_url, "restored.db")


@pytest.fixture
def shop_url(db_url: str) -> Iterator[str]:
    """The company's own shop database, on the same backend."""
    yield from _second_database(db_url, "shop.db")


def _check(db: Any, shop: Any, email_of: dict[str, str], keystore: Path, inbox: Inbox, reported: set[str],
           figures: Counter[str], *,
           after_kill: bool = False, seen: dict[str, set[Any]] | None = None) -> None:
    """Every invariant of the module docstring, on the live database as it is now; after a kill, also count the
    in-between states the kill left (showing the kills land inside the erasures, not only around them)."""
    with db.connect() as conn:
        people = {r.id: r for r in conn.execute(select(subjects.c.id, subjects.c.status, subjects.c.wrapped_key))}
        values = conn.execute(select(records.c.subject_id, records.c.status, records.c.value)).all()
        asked = {r.ref: r for r in conn.execute(select(requests.c.ref, requests.c.status, requests.c.subject_id))}
        mails = conn.execute(select(outbox.c.id, outbox.c.status, outbox.c.kind)).all()
        company = [d for d in conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "request")).scalars()
                   if d["event"] == "company_erased"]
        assert audit.verify(conn).ok
    shop_state = _shop_state(shop)
    half = [who for who, st in shop_state.items() if st == "half"]
    assert not half, f"half-erased in the shop database: {half}"
    entries = Counter(d["request"] for d in company)
    assert all(n == 1 for n in entries.values()), f"company_erased more than once: {entries}"
    assert all(d["rows"] == SHOP_ROWS for d in company), company
    journal = KeyRing.open(keystore).read_journal()
    for sid, p in people.items():
        held = [v for v in values if v.subject_id == sid]
        if p.status == "erased":
            assert p.wrapped_key is None and all(v.status == "erased" and v.value == b"" for v in held), sid
            assert sid in journal, f"{sid} erased but not journalled"
        else:
            assert p.wrapped_key is not None and not any(v.status == "erased" for v in held), f"{sid} half-erased"
    for ref, r in asked.items():
        if ref in reported:
            assert r.status == "fulfilled", f"{ref} reported done but {r.status}"
        if r.status == "fulfilled":
            assert people[r.subject_id].status == "erased", f"{ref} fulfilled but its person is not erased"
            assert shop_state[email_of[ref]] == "erased", f"{ref} fulfilled but its shop rows are {shop_state[email_of[ref]]}"
            assert entries[ref] == 1, f"{ref} fulfilled without its company_erased entry"
        if entries[ref]:
            assert shop_state[email_of[ref]] == "erased", f"{ref}: company_erased audited, rows not erased"
    for m in mails:
        assert m.status in ("pending", "sending", "sent", "dead", "unsure")
        if m.status == "sent":
            assert f"msg:{m.id}" in journal, f"message {m.id} sent but not journalled"
    if after_kill and seen is not None:
        left = {"left journalled, not yet erased": {sid for sid, p in people.items()
                                                    if sid in journal and p.status != "erased"},
                "left erased, request still open": {ref for ref, r in asked.items() if r.status != "fulfilled"
                                                    and people[r.subject_id].status == "erased"},
                "left shop rows erased, request still open": {ref for ref, r in asked.items()
                                                              if r.status != "fulfilled"
                                                              and shop_state[email_of[ref]] == "erased"},
                "left shop rows erased, not yet audited": {ref for ref in asked
                                                           if shop_state[email_of[ref]] == "erased"
                                                           and not entries[ref]},
                "left a message claimed (sending)": {m.id for m in mails if m.status == "sending"},
                "left a message queued, not sent": {m.id for m in mails if m.status == "pending"}}
        for what, found in left.items():
            figures[what] += len(found - seen.setdefault(what, set()))
            seen[what] |= found
    done = Counter(str(m["Subject"]) for m in inbox.messages if str(m["Subject"]).endswith(" is done"))
    duplicates = [s for s, n in done.items() if n > 1]
    figures["duplicates"] = len(duplicates)
    assert not duplicates, duplicates


def test_erasure_killed_at_random_points_recovers_and_a_restore_brings_nobody_back(
    db_url: str, fresh_url: str, shop_url: str, tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]
) -> None:
    inbox, mailer = smtp
    home = tmp_path / "home"
    keystore = home / "keys"
    n_people = (KILLS + 2) * (PER_ROUND + 1) + 1
    shop = create_engine(shop_url)
    _shop(shop, n_people)
    svc = RequestService(PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(keystore)), mailer,
                         databases=((load_dataset_map(DATASET), shop),))
    eng = svc.engine
    now = dt.datetime.now(dt.UTC)
    refs: list[str] = []
    for i in range(n_people):
        eng.collect(f"p{i}", "personal_customer", _person(i), Facts(channel="online"), now=now)
        ticket = svc.submit(f"p{i}", "delete", email=f"p{i}@example.com", now=now)
        svc.verify(ticket.ref, inbox.code_for(f"p{i}@example.com"), now=now)
        refs.append(ticket.ref)
    email_of = {ref: f"p{i}@example.com" for i, ref in enumerate(refs)}
    backup_database(eng.db, tmp_path / "before.pkbak")
    env = {**os.environ, "POLICYKEEPER_SMTP_URL": f"smtp://{mailer.host}:{mailer.port}",
           "POLICYKEEPER_MAIL_FROM": mailer.sender}
    opts = ["--home", str(home), "--database-url", db_url, "--pack", "kokkok", "--dataset", str(DATASET),
            "--dataset-url", shop_url]
    server = _Server(opts, env, tmp_path)
    server.start()
    rng = random.Random(int(os.environ.get("POLICYKEEPER_CRASH_SEED", "0")) or None)
    figures: Counter[str] = Counter()
    seen: dict[str, set[Any]] = {}
    reported: set[str] = set()
    todo = list(refs)
    span, server_span, killed = [0.0, 0.0], 0.0, False

    def answered(ref: str, answer: tuple[int, dict[str, Any]] | None) -> bool:
        """Whether the server reported the request fulfilled (an answer other than that is a defect)."""
        if answer is None:
            return False
        assert answer == (200, {**answer[1], "status": "fulfilled"}), answer
        reported.add(ref)
        return True

    try:
        for _round in range(KILLS + 2):
            batch, todo = todo[:PER_ROUND], todo[PER_ROUND:]
            alongside = todo.pop(0)  # erased at the same time by the running `serve`, through its API
            mode = ["--library"] if _round % 2 else []  # the command, and the library in one long process, in turn
            kill_server = _round == 3 or (_round > 1 and rng.random() < 0.5)  # always once in the short run
            proc = subprocess.Popen([sys.executable, str(WORKER), *mode, str(home), db_url, str(DATASET), shop_url,
                                     *batch], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            answers: list[tuple[int, dict[str, Any]] | None] = []
            call = threading.Thread(target=_into, args=(answers, server.fulfil, alongside))
            started = time.monotonic()
            call.start()
            if _round < 2:
                proc.wait(60)  # the first round of each mode runs through: how long a batch takes sets where kills land
                span[_round % 2] = time.monotonic() - started
                call.join(60)
                server_span = max(server_span, time.monotonic() - started)
            else:
                events = [(rng.uniform(0, span[_round % 2]), "command")]
                if kill_server:
                    events.append((rng.uniform(0, server_span), "server"))
                for at, who in sorted(events):
                    time.sleep(max(0.0, at - (time.monotonic() - started)))
                    if who == "command":
                        killed = proc.poll() is None
                        if killed:
                            os.kill(proc.pid, signal.SIGKILL)
                            figures["kills"] += 1
                    else:
                        figures["server kills"] += 1
                        figures["server kills while it fulfilled a request"] += call.is_alive()
                        server.stop(kill=True)
            out, err = proc.communicate(timeout=60)
            call.join(60)
            assert not call.is_alive() and "Traceback" not in err, err
            reported |= {line.split()[1].rstrip(":") for line in out.splitlines() if "fulfilled; erased" in line}
            if _round > 1 and killed:  # before the recovery reports the rest
                figures[f"kills after {len(set(batch) & reported)} of {PER_ROUND} requests reported done"] += 1
            server_done = answered(alongside, answers[0])
            assert server_done or kill_server, "the server, not killed, gave no answer"
            _check(eng.db, shop, email_of, keystore, inbox, reported, figures, after_kill=True, seen=seen)
            if kill_server:
                server.start()  # the operator starts the server again
                figures["server restarts"] += 1
            for i, ref in enumerate(batch):  # the operator runs the command again, or fulfils through the server
                if i == 0:
                    result = CliRunner().invoke(app, ["request", "fulfil", ref, *opts], env=env)
                    assert result.exit_code == 0, result.output
                    reported.add(ref)
                else:
                    assert answered(ref, server.fulfil(ref))
            if not server_done:
                assert answered(alongside, server.fulfil(alongside))
            figures["recoveries"] += _round > 1
            _check(eng.db, shop, email_of, keystore, inbox, reported | set(batch) | {alongside}, figures)
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()
    # delivery after the lease: a dead deliverer's claim is settled, never re-sent by itself
    settled = deliver(eng.db, eng.keys, RoutedTransport(mailer), now=dt.datetime.now(dt.UTC) + LEASE * 2)
    figures["unsure"] += settled["unsure"]
    _check(eng.db, shop, email_of, keystore, inbox, reported, figures)
    with eng.db.connect() as conn:
        told = Counter(conn.execute(select(outbox.c.status).where(outbox.c.kind == "request_done")).scalars())
    assert set(told) <= {"sent", "unsure"}, told  # every "done" mail went out, or waits for a person
    assert told["sent"] <= sum(1 for m in inbox.messages if str(m["Subject"]).endswith(" is done"))
    with eng.db.connect() as conn:
        erased = set(conn.execute(select(subjects.c.id).where(subjects.c.status == "erased")).scalars())
    # a restore of the backup taken before any erasure brings nobody back
    target = PolicyEngine(load_pack("kokkok"), open_database(fresh_url), KeyRing.open(keystore))
    restore_database(target.db, tmp_path / "before.pkbak", target.keys)
    with target.db.connect() as conn:
        back = set(conn.execute(select(subjects.c.id).where(subjects.c.status == "erased")).scalars())
        assert audit.verify(conn).ok
    assert erased and erased <= back
    for i in range(n_people):
        person = f"p{i}"
        live_erased = i < (KILLS + 2) * (PER_ROUND + 1)
        if live_erased:
            with pytest.raises(SubjectNotFoundError):
                target.read(person, "p1_contract_performance", {"email"}, now=now)
    print(f"\ncrash figures ({db_url.split(':')[0]}): {dict(figures)}")  # the long run's numbers for the docs
