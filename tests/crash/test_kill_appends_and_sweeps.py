"""kill -9 at random points while the engine appends to its ledgers and while a retention sweep runs; after each kill:
the audit and consent chains verify, every append the killed process saw acknowledged is there, and the next sweep
leaves no run "running" and finishes the work.

Short by default (a few kills per backend, for CI); the long run is
``POLICYKEEPER_CRASH_KILLS=200 .venv/bin/python -m pytest -m crash tests/crash -q -s`` (see docs/reliability.md).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policykeeper import audit, consent, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.retention import end_purpose, sweep
from policykeeper.store import open_database
from policykeeper.store._schema import retention_runs

pytestmark = pytest.mark.crash
KILLS = int(os.environ.get("POLICYKEEPER_CRASH_KILLS", "3"))
SIGNUP = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper",
          "password": "Coral#2025!"}

_APPENDER = """
import sys
from pathlib import Path
from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.store import open_database

eng = PolicyEngine(load_pack("kamoer"), open_database(sys.argv[1]), KeyRing.open(Path(sys.argv[2])))
start = int(sys.argv[3])
for i in range(start, start + 100_000):
    eng.collect(f"user{i}", "registration", {"phone": "+86 139 0000 1111", "email": f"u{i}@example.cn",
                                             "username": f"u{i}", "password": "Coral#2025!"})
    print(i, flush=True)  # acknowledged: the collection committed
"""


def _engine(db_url: str, keys: Path) -> PolicyEngine:
    return PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.open(keys))


def _chains_verify(eng: PolicyEngine) -> None:
    with eng.db.connect() as conn:
        assert audit.verify(conn).ok
        assert consent.verify(conn).ok


def test_kill_9_during_ledger_appends_loses_no_acknowledged_append(db_url: str, tmp_path: Path) -> None:
    KeyRing.init(tmp_path / "keys")
    eng = _engine(db_url, tmp_path / "keys")
    rng = random.Random(13)
    next_id = total = 0
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", _APPENDER, db_url, str(tmp_path / "keys"), str(next_id)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(1.5, 4.0))  # some appends done, one likely in flight
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        acknowledged = [int(line) for line in out.split()]
        assert proc.returncode == -9, err[-2000:]
        total += len(acknowledged)
        _chains_verify(eng)
        for i in acknowledged:
            assert eng.read(f"user{i}", "account_registration", {"email"}) == {"email": [f"u{i}@example.cn"]}
        next_id = (acknowledged[-1] if acknowledged else next_id) + 2  # the one in flight may or may not be there
    assert total > 0, "no append was acknowledged before the kills: the test proved nothing"
    eng.db.dispose()


_SWEEPER = """
import sys, time, datetime as dt
from pathlib import Path
from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.retention import sweep
from policykeeper.store import open_database

eng = PolicyEngine(load_pack("kamoer"), open_database(sys.argv[1]), KeyRing.open(Path(sys.argv[2])))
sweep(eng, batch=2, now=dt.datetime.fromisoformat(sys.argv[3]),
      progress=lambda rule, done, total: time.sleep(0.01))  # slowed, so that a kill lands part-way at random
"""


def test_kill_9_during_sweeps_leaves_no_run_running_after_recovery(db_url: str, tmp_path: Path) -> None:
    import datetime as dt

    KeyRing.init(tmp_path / "keys")
    eng = _engine(db_url, tmp_path / "keys")
    now = dt.datetime.now(dt.UTC)
    for i in range(150):
        eng.collect(f"user{i}", "registration", {**SIGNUP, "email": f"u{i}@example.cn"}, now=now)
    for p in eng.compiled.contexts["registration"][1].purposes:
        end_purpose(eng, p, now=now)
    later = now + dt.timedelta(days=1)
    rng = random.Random(7)
    interrupted = 0
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", _SWEEPER, db_url, str(tmp_path / "keys"), later.isoformat()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(1.5, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        _chains_verify(eng)
        with eng.db.connect() as conn:
            interrupted += conn.execute(select(func.count()).select_from(retention_runs)
                                        .where(retention_runs.c.status == "running")).scalar_one()
    assert interrupted > 0, "no sweep was cut off by the kills: the test proved nothing"
    report = sweep(eng, batch=2, now=later)  # recovery: takes over whatever the kills left "running"
    with eng.db.connect() as conn:
        running = conn.execute(select(func.count()).select_from(retention_runs)
                               .where(retention_runs.c.status == "running")).scalar_one()
    assert running == 0 and report.run_id is not None
    assert sweep(eng, batch=2, now=later).affected == 0  # the work is finished
    _chains_verify(eng)
    eng.db.dispose()
