"""``policykeeper bench api``: a bounded load on the REST API over loopback, next to the same operations in process.

For each combination that can run here (a SQLite file with 1 web process; PostgreSQL with 1 and 2 web processes when
a server is named), ``policykeeper serve`` is started on 127.0.0.1 with a local SMTP server (aiosmtpd) for the
sign-in codes, and a few client threads (httpx) send a fixed number of rounds of five operations: a service's
collect and read (an API key with the service role), a staff listing of open requests (support agent), a person's
``/v1/me`` with a session opened by an emailed code, and a consent change. The same five operations are then called
in process (the engine and the request service, as the handlers call them) with as many threads, on the same
database. Afterwards the audit chain and the consent ledger are verified. The load is bounded in requests and in
time, and stops by itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._core import _scratch_database

__all__ = ["run_api"]

GOAL_SHARE = 0.40
PACK = "kamoer"
ENV_BENCH_PG = "POLICYKEEPER_BENCH_PG_URL"
OPERATIONS = ("collect", "read", "staff_requests", "me", "consent")


@dataclass
class _Inbox:
    """Sign-in codes a local SMTP server received, by address."""

    codes: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        found = re.search(rb"code is (\d{6})", envelope.content)
        if found:
            with self.lock:
                for to in envelope.rcpt_tos:
                    self.codes[str(to)] = found.group(1).decode()
        return "250 OK"

    def code_for(self, address: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                code = self.codes.pop(address, None)
            if code:
                return code
            time.sleep(0.02)
        raise RuntimeError(f"no sign-in code reached {address}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _smtp() -> Iterator[tuple[_Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@contextlib.contextmanager
def _serve(home: Path, url: str, workers: int, smtp_port: int) -> Iterator[str]:
    """``policykeeper serve`` on a free loopback port for as long as the block runs; yields its base URL."""
    import httpx

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKEEPER_")}
    env["POLICYKEEPER_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    log = home / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
            [sys.executable, "-m", "policykeeper", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--home", str(home), "--database-url", url, "--pack", PACK],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not answer within 90 s")
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _person_values(name: str) -> dict[str, str]:
    n = sum(map(ord, name)) % 10_000
    return {"phone": f"+86 139 {n:04d} {len(name):04d}", "email": f"{name}@example.cn", "username": name,
            "password": "Coral#2025!"}


@dataclass
class _Load:
    latencies: list[float] = field(default_factory=list)
    by_op: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    errors: int = 0
    first_error: str | None = None
    stopped_by_time: bool = False
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        n = len(lat)

        def pct(p: float) -> float:
            return round(lat[min(n - 1, int(p * n))] * 1000, 2) if n else 0.0

        p50_by_op = {op: round(sorted(v)[len(v) // 2] * 1000, 2) for op, v in self.by_op.items() if v}
        return {"requests": n, "errors": self.errors, "first_error": self.first_error, "seconds": round(self.seconds, 3),
                "requests_per_s": round(n / self.seconds, 1) if self.seconds else 0.0, "p50_ms": pct(0.50),
                "p99_ms": pct(0.99), "p50_ms_by_operation": p50_by_op,
                "stopped_by_time": self.stopped_by_time}


WARM_ROUNDS = 2
"""Untimed rounds first on each thread (their errors still count): the first request a process serves builds its
engine and fills its caches, which is start-up, not load."""


def _drive(rounds: int, threads: int, budget_s: float, make: Callable[[int], Callable[[int], list[Callable[[], None]]]]
           ) -> _Load:
    """Run ``rounds`` rounds of operations on each of ``threads`` threads (stopping early past ``budget_s``), after
    :data:`WARM_ROUNDS` untimed ones. ``make(t)`` gives thread t its round function: round i -> the operations, each
    raising on a failure."""
    warm = _drive_timed(WARM_ROUNDS, threads, budget_s, make, first=rounds)
    load = _drive_timed(rounds, threads, budget_s, make, first=0)
    load.errors += warm.errors
    load.first_error = warm.first_error or load.first_error
    return load


def _drive_timed(rounds: int, threads: int, budget_s: float,
                 make: Callable[[int], Callable[[int], list[Callable[[], None]]]], *, first: int) -> _Load:
    load = _Load()
    start = time.perf_counter()
    deadline = start + budget_s

    def worker(t: int) -> None:
        round_of = make(t)
        mine: list[tuple[str, float]] = []
        for i in range(first, first + rounds):
            if time.perf_counter() > deadline:
                load.stopped_by_time = True
                break
            for name, op in zip(OPERATIONS, round_of(i), strict=True):
                began = time.perf_counter()
                try:
                    op()
                except Exception as exc:  # noqa: BLE001 (every failure is counted and the first one shown)
                    with load.lock:
                        load.errors += 1
                        load.first_error = load.first_error or f"{type(exc).__name__}: {exc}"[:300]
                mine.append((name, time.perf_counter() - began))
        with load.lock:
            for name, took in mine:
                load.latencies.append(took)
                load.by_op[name].append(took)

    pool = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=budget_s + 60)
    load.seconds = time.perf_counter() - start
    return load


def _http_load(base: str, keys: dict[str, str], inbox: _Inbox, tag: str, rounds: int, threads: int,
               budget_s: float) -> _Load:
    import httpx

    service = {"Authorization": f"Bearer {keys['service']}"}
    staff = {"Authorization": f"Bearer {keys['support_agent']}"}
    clients = [httpx.Client(base_url=base, timeout=30) for _ in range(threads)]
    tokens: list[str] = []
    try:
        for t, client in enumerate(clients):  # each thread's person signs up and signs in (not timed)
            person = f"{tag}-person-{t}"
            values = _person_values(person)
            got = client.post("/v1/collect", json={"person": person, "context": "registration", "values": values},
                              headers=service)
            got.raise_for_status()
            client.post("/v1/session/code", json={"identifier": person, "email": values["email"]}).raise_for_status()
            opened = client.post("/v1/session", json={"identifier": person, "code": inbox.code_for(values["email"])})
            opened.raise_for_status()
            tokens.append(str(opened.json()["token"]))
            client.cookies.clear()

        def check(resp: httpx.Response) -> None:
            if resp.status_code != 200:
                raise RuntimeError(f"{resp.request.method} {resp.request.url.path}: {resp.status_code} "
                                   f"{resp.text[:200]}")

        def make(t: int) -> Callable[[int], list[Callable[[], None]]]:
            client, me = clients[t], {"Authorization": f"Bearer {tokens[t]}"}

            def round_of(i: int) -> list[Callable[[], None]]:
                person = f"{tag}-http-{t}-{i}"
                return [
                    lambda: check(client.post("/v1/collect", headers=service, json={
                        "person": person, "context": "registration", "values": _person_values(person)})),
                    lambda: check(client.post("/v1/read", headers=service, json={
                        "person": person, "purpose": "account_registration", "categories": ["email", "phone"]})),
                    lambda: check(client.get("/v1/requests", headers=staff)),
                    lambda: check(client.get("/v1/me", headers=me)),
                    lambda: check(client.put("/v1/me/consents/marketing", headers=me,
                                             json={"action": "withdrawn" if i % 2 else "given"})),
                ]

            return round_of

        return _drive(rounds, threads, budget_s, make)
    finally:
        for client in clients:
            client.close()


def _in_process_load(ctx: Any, tag: str, rounds: int, threads: int, budget_s: float) -> _Load:
    """The same five operations, called as the handlers call them: the engine and the request service."""
    from .. import consent
    from ..engine import Facts

    eng = ctx.engine()
    sids = [eng.collect(f"{tag}-inproc-person-{t}", "registration",
                        _person_values(f"{tag}-inproc-person-{t}")).subject_id for t in range(threads)]

    def make(t: int) -> Callable[[int], list[Callable[[], None]]]:
        sid = sids[t]

        def collect(person: str) -> None:
            got = ctx.engine().collect(person, "registration", _person_values(person), Facts(), actor="key:bench")
            if not got.decision.allowed:
                raise RuntimeError("collect refused")

        def read(person: str) -> None:
            got = ctx.engine().read(person, "account_registration", {"email", "phone"}, Facts(), actor="key:bench")
            if not dict(got):
                raise RuntimeError("read found nothing")

        def me() -> None:
            ctx.engine().export_subject(sid, actor="subject")
            with ctx.db.connect() as conn:
                consent.state_as_of(conn, sid)

        def change(action: consent.ConsentAction) -> None:
            e = ctx.engine()
            if action == "withdrawn":
                e.refusal_notice("marketing")
            e.record_subject_consent(sid, "marketing", action, actor="subject")

        def round_of(i: int) -> list[Callable[[], None]]:
            person = f"{tag}-inproc-{t}-{i}"
            action: consent.ConsentAction = "withdrawn" if i % 2 else "given"
            return [lambda: collect(person), lambda: read(person), lambda: ctx.requests().open_requests(), me,
                    lambda: change(action)]

        return round_of

    return _drive(rounds, threads, budget_s, make)


def _chains(ctx: Any) -> dict[str, Any]:
    from .. import audit, consent

    with ctx.db.connect() as conn:
        a, c = audit.verify(conn), consent.verify(conn)
    return {"audit_ok": a.ok, "audit_entries": a.entries, "ledger_ok": c.ok, "ledger_entries": c.entries,
            "intact": a.ok and c.ok}


def _combo(url: str, backend: str, workers: int, inbox: _Inbox, smtp_port: int, rounds: int, threads: int,
           budget_s: float) -> dict[str, Any]:
    from .._settings import Settings
    from ..notify import SmtpMailer
    from ..web import WebContext, create_api_key

    tag = f"{backend}{workers}"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        mailer = SmtpMailer("127.0.0.1", smtp_port, sender="privacy@policykeeper.test")
        ctx = WebContext.from_settings(Settings.load(home, url, PACK), mailer=mailer, create_keys=True)
        try:
            keys = {role: create_api_key(ctx, f"bench {role}", role) for role in ("admin", "service", "support_agent")}
            svc = ctx.requests()  # a few open requests, so the staff listing has rows to show
            for k in range(5):
                person = f"{tag}-asker-{k}"
                ctx.engine().collect(person, "registration", _person_values(person))
                svc.submit(person, "access", email=f"{person}@example.cn")
            with _serve(home, url, workers, smtp_port) as base:
                http = _http_load(base, keys, inbox, tag, rounds, threads, budget_s)
            inproc = _in_process_load(ctx, tag, rounds, threads, budget_s)
            chains = _chains(ctx)
        finally:
            ctx.db.dispose()
    h, p = http.figures(), inproc.figures()
    share = round(h["requests_per_s"] / p["requests_per_s"], 3) if p["requests_per_s"] else 0.0
    return {"backend": backend, "workers": workers, "http": h, "in_process": p, "http_share_of_in_process": share,
            "chains": chains}


def _pg_url(database_url: str | None) -> str | None:
    return database_url or os.environ.get(ENV_BENCH_PG) or os.environ.get("POLICYKEEPER_TEST_PG_URL") or None


def run_api(*, quick: bool, database_url: str | None) -> dict[str, Any]:
    rounds, threads, budget = (3, 2, 20.0) if quick else (20, 3, 15.0)
    pg = _pg_url(database_url)
    plan: list[tuple[str | None, int]] = [(None, 1)]
    if pg:
        plan += [(pg, 1), (pg, 2)]
    combos: list[dict[str, Any]] = []
    with _smtp() as (inbox, smtp_port):
        for url, workers in plan:
            with _scratch_database(url) as (scoped, backend):
                combos.append(_combo(scoped, backend, workers, inbox, smtp_port, rounds, threads, budget))
    ran = [f"{c['backend']}x{c['workers']}" for c in combos]
    skipped = [] if pg else [f"postgresql x1 and x2: no server (set --database-url or {ENV_BENCH_PG})"]
    errors = sum(c["http"]["errors"] + c["in_process"]["errors"] for c in combos)
    intact = all(c["chains"]["intact"] for c in combos)
    worst = min(c["http_share_of_in_process"] for c in combos)
    return {"backend": ",".join(sorted({c["backend"] for c in combos})), "pack": PACK, "operations": list(OPERATIONS),
            "rounds_per_thread": rounds, "client_threads": threads, "ran": ran, "skipped": skipped, "combos": combos,
            "goals": {
                "zero_errors": {"goal": "0", "value": errors, "met": errors == 0},
                "chains_intact": {"goal": "audit and ledger verify", "value": intact, "met": intact},
                "http_share_of_in_process": {"goal": f">= {GOAL_SHARE}", "value": worst, "met": worst >= GOAL_SHARE},
            }}
