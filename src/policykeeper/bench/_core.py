"""``policykeeper bench core``: the decision point, guarded reads and the consent ledger, each next to a baseline.

- decisions: ``decide`` against pycasbin enforcing the same use rules (purpose, category, consent) as an ABAC
  model, on the same requests, with a parity check that both give the same answer;
- guarded read (decide + decrypt + audit) against a bare SQLAlchemy select of the same rows;
- consent ledger: appends per second (one transaction each) and the time to verify a million entries.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from .. import consent
from .._exceptions import ConfigError
from ..crypto import KeyRing
from ..engine import Facts, PolicyEngine, Use, compile_pack, decide
from ..pack import Pack, load_pack
from ..store import bench as bench_store
from ..store import open_database

__all__ = ["run_core"]

_scratch_database = bench_store.scratch_database
"""The scratch database every benchmark runs in (``store/bench.py``); the other benchmarks take it from here."""

PACK = "kamoer"
GOALS = {"decisions_vs_casbin_min": 20.0, "decision_p99_us_max": 50.0, "guarded_read_overhead_max": 3.0,
         "verify_1m_seconds_max": 3.0}

_MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = act, obj, consent

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && r.obj == p.obj && (p.consent == "none" || hasConsent(r.sub, p.consent))
"""


def run_core(*, quick: bool, database_url: str | None, ledger_entries: int | None = None) -> dict[str, Any]:
    """``ledger_entries``: verify a ledger of that many entries instead of a million (the figure is still given per
    million), for a machine where filling a million entries takes too long."""
    out: dict[str, Any] = {"pack": PACK, "decisions": _decisions(quick)}
    with _scratch_database(database_url) as (url, backend):
        out["backend"] = backend
        out["guarded_read"] = _guarded_read(url, quick)
        out["ledger"] = _ledger(url, quick, ledger_entries)
    d, g, led = out["decisions"], out["guarded_read"], out["ledger"]
    out["goals"] = {
        "decisions_vs_casbin": {"goal": f">= {GOALS['decisions_vs_casbin_min']}x", "value": d["ratio_vs_casbin"],
                                "met": d["ratio_vs_casbin"] >= GOALS["decisions_vs_casbin_min"]},
        "decision_p99_us": {"goal": f"< {GOALS['decision_p99_us_max']}", "value": d["p99_us"],
                            "met": d["p99_us"] < GOALS["decision_p99_us_max"]},
        "guarded_read_overhead": {"goal": f"<= {GOALS['guarded_read_overhead_max']}x", "value": g["overhead"],
                                  "met": g["overhead"] <= GOALS["guarded_read_overhead_max"]},
        "verify_1m_seconds": {"goal": f"< {GOALS['verify_1m_seconds_max']}", "value": led["verify_1m_seconds"],
                              "met": led["verify_1m_seconds"] < GOALS["verify_1m_seconds_max"]},
    }
    return out


# -- decisions ------------------------------------------------------------------------------------------------


def _casbin_rules(pack: Pack) -> list[tuple[str, str, str]]:
    """The pack's use rules as ABAC policy lines (purpose, category, consent that satisfies it or 'none')."""
    cp = compile_pack(pack)
    every = [c.id for c in pack.data_categories]
    rules: list[tuple[str, str, str]] = []
    for p in pack.purposes.items:
        cats = every if isinstance(p.categories, str) else list(p.categories)
        needs = p.requires_consent not in ("none", "implied_by_use")
        ids = sorted(cp.consent_targets.get(p.id, frozenset({p.id}))) if needs else ["none"]
        rules += [(p.id, c, i) for c in cats for i in ids]
    return rules


def _requests(pack: Pack, n: int, seed: int = 7) -> list[tuple[str, str, frozenset[str]]]:
    rnd = random.Random(seed)
    purposes = [p.id for p in pack.purposes.items] + ["resale_to_brokers", "profiling"]
    cats = [c.id for c in pack.data_categories]
    universe = sorted({c.id for c in pack.consents} | {p.id for p in pack.purposes.items})
    return [(rnd.choice(purposes), rnd.choice(cats), frozenset(u for u in universe if rnd.random() < 0.3))
            for _ in range(n)]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _decisions(quick: bool) -> dict[str, Any]:
    try:
        import casbin
    except ImportError:  # pragma: no cover - the bench extra is part of the test extra
        raise ConfigError("bench core compares against pycasbin: pip install 'policykeeper[bench]'") from None
    pack = load_pack(PACK)
    if pack.purposes.undeclared not in ("reject", "require_prior_consent"):
        raise ConfigError(f"bench pack {PACK} has an undeclared-purpose rule the ABAC model does not express")
    cp = compile_pack(pack)
    reqs = _requests(pack, 2_000 if quick else 20_000)
    ours = [(Facts(consents=cons), Use(purpose, frozenset({cat}))) for purpose, cat, cons in reqs]
    with tempfile.TemporaryDirectory() as tmp:
        model, policy = Path(tmp) / "model.conf", Path(tmp) / "policy.csv"
        model.write_text(_MODEL)
        rules = _casbin_rules(pack)
        policy.write_text("".join(f"p, {a}, {o}, {c}\n" for a, o, c in rules))
        enforcer = casbin.Enforcer(str(model), str(policy))
    enforcer.add_function("hasConsent", lambda sub, c: c in sub)

    reps = 1 if quick else 3
    start = time.perf_counter()
    for _ in range(reps):
        for facts, action in ours:
            decide(cp, facts, action)
    ours_rate = reps * len(ours) / (time.perf_counter() - start)
    lat: list[float] = []
    clock = time.perf_counter_ns
    for facts, action in ours:
        t0 = clock()
        decide(cp, facts, action)
        lat.append((clock() - t0) / 1000)

    sample = reqs[: 300 if quick else 3_000]
    start = time.perf_counter()
    theirs = [enforcer.enforce(cons, cat, purpose) for purpose, cat, cons in sample]
    casbin_rate = len(sample) / (time.perf_counter() - start)
    mismatches = sum(decide(cp, f, a).allowed != t for (f, a), t in zip(ours, theirs, strict=False))
    allowed = sum(theirs)
    return {
        "requests": len(ours), "policy_lines": len(rules), "per_s": round(ours_rate),
        "p50_us": round(statistics.median(lat), 2), "p99_us": round(_percentile(lat, 0.99), 2),
        "casbin_per_s": round(casbin_rate), "ratio_vs_casbin": round(ours_rate / casbin_rate, 1),
        "parity_checked": len(sample), "parity_mismatches": mismatches, "allowed_share": round(allowed / len(sample), 3),
    }


# -- guarded reads -------------------------------------------------------------------------------------------------


def _guarded_read(url: str, quick: bool) -> dict[str, Any]:
    db = open_database(url)
    with tempfile.TemporaryDirectory() as tmp:
        eng = PolicyEngine(load_pack(PACK), db, KeyRing.init(Path(tmp) / "keys"))
        people = [f"buyer-{i}@example.cn" for i in range(20 if quick else 200)]
        sids: dict[str, str] = {}
        for i, person in enumerate(people):
            got = eng.collect(person, "purchase", {
                "name": f"Buyer {i}", "phone": f"+86 139 {i:04d} 0000", "email": person,
                "mailing_address": f"{i} Huaihai Road, Shanghai", "id_number": f"31010119900101{i:04d}",
                "bank_card": f"6222 0000 {i:04d} 2222"})
            sids[person] = got.subject_id
        cats = frozenset({"name", "mailing_address", "phone"})
        rnd = random.Random(11)
        order = [rnd.choice(people) for _ in range(300 if quick else 3_000)]
        bare_read = bench_store.bare_reader(cats)  # a bare SELECT of the same rows (store/bench.py)

        def guarded(person: str) -> None:
            eng.read(person, "purchase_delivery", cats)

        def bare(person: str) -> None:
            with db.connect() as conn:
                bare_read(conn, sids[person])

        totals = {"guarded": 0.0, "bare": 0.0}
        lat: list[float] = []
        half = len(order) // 2
        for block in (order[:half], order[half:]):  # alternate blocks so drift hits both sides alike
            for name, fn in (("guarded", guarded), ("bare", bare)):
                start = time.perf_counter()
                for person in block:
                    t0 = time.perf_counter()
                    fn(person)
                    if name == "guarded":
                        lat.append((time.perf_counter() - t0) * 1e6)
                totals[name] += time.perf_counter() - start
        db.dispose()
    g_rate, b_rate = len(order) / totals["guarded"], len(order) / totals["bare"]
    return {"reads": len(order), "subjects": len(people), "per_s": round(g_rate), "bare_select_per_s": round(b_rate),
            "overhead": round(b_rate / g_rate, 2), "p50_us": round(statistics.median(lat)),
            "p99_us": round(_percentile(lat, 0.99))}


# -- the consent ledger ------------------------------------------------------------------------------------------


def _ledger(url: str, quick: bool, entries: int | None = None) -> dict[str, Any]:
    db = open_database(url)
    pack = load_pack(PACK)
    appends = 200 if quick else 2_000
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    start = time.perf_counter()
    for i in range(appends):
        with db.begin() as conn:
            consent.record(conn, subject_id=f"{i % 97:032x}", pack=pack, target="improvement_program",
                           action="given" if i % 3 else "withdrawn", at=at + dt.timedelta(seconds=i),
                           evidence={"by": "bench"})
    append_rate = appends / (time.perf_counter() - start)
    entries = entries or (20_000 if quick else 1_000_000)
    with db.connect() as conn:  # the ledger may hold entries already (acceptances recorded by earlier steps)
        held = bench_store.ledger_size(conn)
    fill_s = _fill(db, pack, entries - held, at + dt.timedelta(seconds=appends))
    # a real ledger grows over months and autovacuum keeps it vacuumed and analysed (on PostgreSQL); this one was
    # bulk-loaded a moment ago, so do what autovacuum would have done
    bench_store.vacuum_analyze(db, "consent_events")
    runs: list[float] = []
    for _ in range(3):  # the first run also pays for cold caches (and, on PostgreSQL, hint bits after a bulk load)
        with db.connect() as conn:
            start = time.perf_counter()
            report = consent.verify(conn)
            runs.append(time.perf_counter() - start)
    verify_s = min(runs)
    db.dispose()
    if not report.ok or report.entries != entries:
        raise ConfigError(f"ledger verification failed during the benchmark: {report}")
    return {"appends": appends, "appends_per_s": round(append_rate), "entries_verified": entries,
            "verify_seconds": round(verify_s, 3), "verify_1m_seconds": round(verify_s * 1_000_000 / entries, 3),
            "verify_runs_seconds": [round(r, 3) for r in runs],
            "fill_seconds": round(fill_s, 1)}


def _fill(db: Engine, pack: Pack, n: int, at: dt.datetime) -> float:
    """Append n well-formed entries fast (batched inserts of pre-chained rows), to have a big ledger to verify."""

    def contents() -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield {"subject_id": f"{i % 5000:032x}", "pack_id": pack.id, "pack_version": pack.version.label,
                   "target": "improvement_program", "action": "given" if i % 3 else "withdrawn",
                   "at": at + dt.timedelta(seconds=i), "evidence": {"by": "bench"}}

    start = time.perf_counter()
    bench_store.append_prechained(db, contents())
    return time.perf_counter() - start
