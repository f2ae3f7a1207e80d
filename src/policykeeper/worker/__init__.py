"""Background jobs and the worker that runs them.

Jobs, each safe to re-run at any time (also after a crash half-way):

* ``retention``: the end-of-retention sweep (:func:`policykeeper.retention.sweep`), with the periods and end actions
  of ``HOME/retention.yaml`` (:class:`RetentionConfig`);
* ``outbox``: deliver due messages (erasure notices, policy and breach notices, marketing) with retries;
* ``deletions``: the deletion queue (minors found without parental consent).

On PostgreSQL the queue is `procrastinate <https://procrastinate.readthedocs.io>`_: jobs are rows in the database,
every worker schedules the periodic ones (the database keeps each period's job unique) and a per-job lock stops two
workers from running the same job at once, so several workers share one queue safely. SQLite has one writer, so there
the worker runs the jobs in a loop in its own process.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, PolicykeeperError
from ..engine import PolicyEngine
from ..pack._types import FixedDuration

__all__ = ["JOBS", "QUEUE", "JobContext", "RetentionConfig", "procrastinate_app", "run_all", "run_job", "run_worker"]

JOBS = ("retention", "outbox", "deletions")
"""The jobs a worker runs, in this order."""

QUEUE = "policykeeper"
"""The procrastinate queue policykeeper's jobs go to."""

log = logging.getLogger("policykeeper.worker")


@dataclass(frozen=True)
class RetentionConfig:
    """Numbers and choices the pack leaves open: ``periods`` by rule id or word (``reasonable_period``) and the end
    ``actions`` by rule id (delete, anonymize, restrict_access)."""

    periods: Mapping[str, FixedDuration] = field(default_factory=dict)
    actions: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def from_file(path: Path) -> RetentionConfig:
        """Read ``periods: {rule: {value: 30, unit: calendar_days}}`` and ``actions: {rule: anonymize}``; a missing
        file means the pack's defaults."""
        from .._settings import durations, read_settings_file

        found = read_settings_file(path, ("periods", "actions"), "retention settings")
        return RetentionConfig(durations(path, "periods", found["periods"]),
                               {str(k): str(v) for k, v in found["actions"].items()})


@dataclass(frozen=True)
class JobContext:
    """What the jobs need: a way to open the engine, the retention settings and, for delivery, a transport."""

    engine: Callable[[], PolicyEngine]
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    transport: Callable[[], Any] | None = None


def run_job(ctx: JobContext, name: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Run one job once; returns its counts (no personal values)."""
    if name not in JOBS:
        raise ConfigError(f"no job {name!r}; the jobs are {', '.join(JOBS)}")
    eng = ctx.engine()
    if name == "retention":
        from ..retention import sweep

        report = sweep(eng, periods=ctx.retention.periods, actions=ctx.retention.actions, now=now)
        return {"run": report.run_id, "affected": report.affected}
    if name == "deletions":
        return {"deleted": eng.run_deletion_queue(now=now)}
    if ctx.transport is None:
        return {"skipped": "no mail server configured (POLICYKEEPER_SMTP_URL)"}
    from ..notify import deliver

    return dict(deliver(eng.db, eng.keys, ctx.transport(), pack_version=eng.compiled.version, now=now))


def run_all(ctx: JobContext, *, now: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
    """Run every job once, in order; a job that fails is reported and the others still run."""
    results: dict[str, dict[str, Any]] = {}
    for name in JOBS:
        try:
            results[name] = run_job(ctx, name, now=now)
        except PolicykeeperError as exc:
            log.error("job %s failed: [%s] %s", name, exc.code, exc.message)
            results[name] = {"error": exc.code}
    return results


def _conninfo(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def procrastinate_app(database_url: str, ctx: JobContext, *, every_minutes: int = 5) -> Any:
    """A procrastinate app on the PostgreSQL database, with one task per job, each locked so only one worker runs
    it at a time, and scheduled every ``every_minutes``."""
    import procrastinate

    if not 1 <= every_minutes <= 59:
        raise ConfigError("the job interval must be 1 to 59 minutes")
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(database_url)))

    def task_for(name: str) -> None:
        def job(timestamp: int | None = None) -> None:
            log.info("job %s: %s", name, run_job(ctx, name))

        job.__name__ = f"job_{name}"
        task = app.task(name=f"policykeeper.{name}", queue=QUEUE, lock=f"policykeeper.{name}",
                        queueing_lock=f"policykeeper.{name}", pass_context=False)(job)
        app.periodic(cron=f"*/{every_minutes} * * * *", periodic_id=name)(task)

    for name in JOBS:
        task_for(name)
    return app


def _ensure_schema(app: Any, database_url: str) -> None:
    """Install procrastinate's tables once. Its schema script is not idempotent, so workers starting together take
    an advisory lock, look, and only the first installs it."""
    import psycopg

    with psycopg.connect(_conninfo(database_url)) as conn:  # one transaction, committed on leaving the block
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('policykeeper.procrastinate_schema'))")
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if found is None or found[0] is None:
            conn.execute(app.schema_manager.get_schema())


def _defer_all(app: Any) -> None:
    from procrastinate import exceptions

    for name in JOBS:
        try:
            app.tasks[f"policykeeper.{name}"].defer()
        except exceptions.AlreadyEnqueued:
            pass  # another worker queued it already: the queue runs it once


def run_worker(database_url: str, ctx: JobContext, *, once: bool = False, every_minutes: int = 5,
               concurrency: int = 1) -> dict[str, Any]:
    """Run the worker until stopped (or, with ``once``, run every job once and return).

    PostgreSQL: a procrastinate worker on the shared queue; SQLite: a loop in this process."""
    from sqlalchemy.engine import make_url

    if make_url(database_url).get_backend_name() != "postgresql":
        results = run_all(ctx)
        while not once:
            time.sleep(every_minutes * 60)
            results = run_all(ctx)
        return results
    app = procrastinate_app(database_url, ctx, every_minutes=every_minutes)
    with app.open():
        _ensure_schema(app, database_url)
        if once:
            _defer_all(app)
    app.run_worker(queues=[QUEUE], wait=not once, concurrency=concurrency, install_signal_handlers=not once,
                   listen_notify=not once)
    return {"queue": QUEUE}
