"""The worker: jobs run once or in a loop, a failing job does not stop the others, several PostgreSQL workers share
one procrastinate queue, and the operator commands behind it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from policykeeper import ConfigError, audit, load_pack
from policykeeper.cli import app
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.retention import end_purpose
from policykeeper.store import open_database
from policykeeper.store._schema import records, retention_runs
from policykeeper.worker import JobContext, RetentionConfig, run_all, run_job

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
SIGNUP = {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper", "password": "Coral#2025!"}
runner = CliRunner()


def _kamoer(db_url: str, keys: Path, people: int = 3) -> PolicyEngine:
    eng = PolicyEngine(load_pack("kamoer"), open_database(db_url), KeyRing.init(keys))
    for i in range(people):
        eng.collect(f"user{i}", "registration", {**SIGNUP, "email": f"u{i}@example.cn"}, now=NOW)
    for p in eng.compiled.contexts["registration"][1].purposes:
        end_purpose(eng, p, now=NOW)
    return eng


def _active(eng: PolicyEngine) -> int:
    with eng.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(records).where(records.c.status == "active"))
                   .scalar_one())


def test_kamoer_74_the_worker_runs_the_end_of_retention_job_and_the_others(db_url: str, tmp_path: Path) -> None:
    eng = _kamoer(db_url, tmp_path / "keys")
    ctx = JobContext(engine=lambda: eng, retention=RetentionConfig(actions={"shortest_necessary": "anonymize"}))
    results = run_all(ctx)
    assert results["retention"]["affected"] == 12 and _active(eng) == 0
    assert results["deletions"] == {"deleted": 0}
    assert "skipped" in results["outbox"]  # no mail server: delivery waits, nothing is lost
    assert run_all(ctx)["retention"]["affected"] == 0  # again: no harm
    with pytest.raises(ConfigError, match="no job 'nap'"):
        run_job(ctx, "nap")


def test_a_failing_job_is_reported_and_the_others_still_run(db_url: str, tmp_path: Path) -> None:
    eng = _kamoer(db_url, tmp_path / "keys")
    ctx = JobContext(engine=lambda: eng, retention=RetentionConfig(actions={"shortest_necessary": "shred"}))
    results = run_all(ctx)
    assert results["retention"] == {"error": "config"} and results["deletions"] == {"deleted": 0}
    assert _active(eng) == 12  # the bad setting changed nothing


def test_retention_settings_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "retention.yaml"
    assert RetentionConfig.from_file(path) == RetentionConfig()
    path.write_text("periods:\n  reasonable_period: {value: 14, unit: calendar_days}\nactions:\n  x: anonymize\n")
    got = RetentionConfig.from_file(path)
    assert got.periods["reasonable_period"].value == 14 and got.actions == {"x": "anonymize"}
    path.write_text("periods:\n  reasonable_period: {value: 14, unit: fortnights}\n")
    with pytest.raises(ConfigError, match="periods.reasonable_period"):
        RetentionConfig.from_file(path)
    path.write_text("period: {}\n")
    with pytest.raises(ConfigError, match="only 'periods' and 'actions'"):
        RetentionConfig.from_file(path)


def _env(home: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "POLICYKEEPER_SMTP_URL"}
    return {**env, "POLICYKEEPER_HOME": str(home), "POLICYKEEPER_DATABASE_URL": db_url, "POLICYKEEPER_PACK": "kamoer"}


def test_retention_commands_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    eng = _kamoer(db_url, home / "keys", people=2)
    env = _env(home, db_url)
    held = runner.invoke(app, ["retention", "hold", "user0", "--reference", "CASE-1", "--category", "phone"], env=env)
    assert held.exit_code == 0 and "1 record(s) held" in held.stdout
    dry = runner.invoke(app, ["retention", "run", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.strip().splitlines()[-1] == "dry run: 7 record(s) would change" and _active(eng) == 8
    (home / "retention.yaml").write_text("actions:\n  shortest_necessary: anonymize\n")
    run = runner.invoke(app, ["retention", "run"], env=env)
    line = next(x for x in run.stdout.splitlines() if x.startswith("shortest_necessary"))
    assert run.exit_code == 0 and line.split()[1] == "anonymize" and line.endswith("changed 7; 1 under legal hold")
    assert _active(eng) == 1
    bad = runner.invoke(app, ["retention", "end-purpose", "naps"], env=env)
    assert bad.exit_code == 1 and "'naps' is not a purpose" in bad.stderr
    (home / "retention.yaml").write_text("actions: [x]\n")
    broken = runner.invoke(app, ["retention", "run"], env=env)
    assert broken.exit_code == 1 and "retention.yaml" in broken.stderr and "Traceback" not in broken.output
    assert _active(eng) == 1


def test_worker_once_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    eng = _kamoer(db_url, home / "keys")
    result = runner.invoke(app, ["worker", "--once"], env=_env(home, db_url))
    assert result.exit_code == 0, result.output
    assert _active(eng) == 0


def test_several_postgresql_workers_share_one_queue_safely(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the shared queue is PostgreSQL's (SQLite has one writer and one worker)")
    home = tmp_path / "home"
    eng = _kamoer(db_url, home / "keys", people=20)
    cmd = [sys.executable, "-m", "policykeeper", "worker", "--once"]
    workers = [subprocess.Popen(cmd, env=_env(home, db_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    outcomes = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), outcomes
    assert _active(eng) == 0
    with eng.db.connect() as conn:
        jobs = conn.execute(text("SELECT task_name, status FROM procrastinate_jobs")).all()
        runs = conn.execute(select(retention_runs.c.started_at, retention_runs.c.finished_at, retention_runs.c.detail)
                            .order_by(retention_runs.c.started_at)).all()
        assert audit.verify(conn).ok
    assert jobs and {s for _, s in jobs} == {"succeeded"}
    assert {t for t, _ in jobs} == {"policykeeper.retention", "policykeeper.outbox", "policykeeper.deletions"}
    assert sum(r.detail["affected"] for r in runs) == 80  # every record swept exactly once
    for a, b in zip(runs, runs[1:], strict=False):  # the job lock: never two sweeps at once
        assert a.finished_at <= b.started_at
