"""The sweep: every end-of-retention action that is due, window by window, with a run that says what it did.

A window is one transaction holding the change and its audit entry, so a crash loses nothing and a re-run only does
what is still due. A run records its process and a heartbeat with every window, so the next sweep can tell a run
that died from one still working, and take the dead one over.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from .. import audit
from .._exceptions import BadValueError
from ..clock import Clock, utc
from ..engine import PolicyEngine
from ..pack._types import FixedDuration
from ..store import lifecycle as lifecycle_store
from ..store.lifecycle import Condition
from ._plans import Action, _due, _Plan, _plans


@dataclass
class RuleOutcome:
    """What a sweep did (or, on a dry run, would do) for one rule; counts only."""

    rule: str
    action: str
    promises: tuple[str, ...]
    affected: int = 0
    held: int = 0
    skipped: str | None = None
    conflict: str | None = None
    """Set when held records are due under a rule that makes no exception for a longer legal requirement
    (``legal_hold_override: false``): they are kept (a hold is never broken) but the pack's promise is not, and a
    person must resolve it."""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "action": self.action, "affected": self.affected, "held": self.held,
                "skipped": self.skipped, "conflict": self.conflict, "promises": list(self.promises)}


@dataclass
class SweepReport:
    """One sweep: its id in ``retention_runs`` (None on a dry run) and each rule's outcome."""

    run_id: int | None
    dry_run: bool
    rules: list[RuleOutcome] = field(default_factory=list)

    @property
    def affected(self) -> int:
        return sum(r.affected for r in self.rules)

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "dry_run": self.dry_run, "affected": self.affected,
                "rules": [r.as_dict() for r in self.rules]}


def _apply(eng: PolicyEngine, conn: Connection, action: Action, cond: Condition, now: dt.datetime) -> int:
    """One window of a rule's end action. Deleting and anonymising go through the deletion service, which destroys
    the keys of what goes (so no backup brings it back readable)."""
    from ..deletion import delete_where

    if action == "restrict_access":
        return lifecycle_store.block(conn, cond)
    if action == "anonymize":
        lifecycle_store.add_aggregates(conn, eng.pack.id, cond)
    return delete_where(eng, conn, cond, now=now)[0]


Progress = Callable[[str, int, int], None]
"""Called as ``progress(rule_id, windows_done, windows_total)`` during long sweeps."""


def sweep(
    eng: PolicyEngine,
    *,
    dry_run: bool = False,
    periods: Mapping[str, FixedDuration] | None = None,
    actions: Mapping[str, str] | None = None,
    batch: int = 50_000,
    progress: Progress | None = None,
    actor: str = "worker",
    now: dt.datetime | None = None,
) -> SweepReport:
    """Apply every end-of-retention action that is due; safe to re-run at any time, also after a crash.

    ``periods`` gives numbers to open-ended rules (by rule id, or by word such as ``reasonable_period``);
    ``actions`` picks the end action where the pack leaves a choice (by rule id; default the first the pack names,
    usually delete). A dry run counts what would change and changes nothing. The sweep is as of ``now`` (default:
    the engine's clock)."""
    now = eng.clock.at(now)
    if batch < 1:
        raise BadValueError("batch must be at least 1")
    plans = _plans(eng, {**(periods or {})}, actions or {})
    report = SweepReport(None, dry_run)
    with eng.db.begin() as conn:
        bounds = lifecycle_store.id_bounds(conn, eng.pack.id)
        held_any = lifecycle_store.any_held(conn, eng.pack.id)
        owner = _owner(eng.clock)
        if not dry_run:
            report.run_id = lifecycle_store.start_run(conn, eng.pack.id, started_at=now, actor=actor, detail=owner)
            _take_over(conn, eng, report.run_id, actor, now)
    if dry_run:
        return _sweep(eng, plans, report, bounds, held_any, batch, progress, actor, now, owner)
    try:
        return _sweep(eng, plans, report, bounds, held_any, batch, progress, actor, now, owner)
    except BaseException:
        with eng.db.begin() as conn:  # what was done stays done (and audited); the run says it did not finish
            lifecycle_store.finish_run(conn, report.run_id, status="failed", finished_at=eng.clock.now(),
                                       detail={**report.as_dict(), **owner})
        raise


STALE_AFTER = dt.timedelta(minutes=15)
"""A run not heard from for this long (no window finished) is taken to be dead, wherever it ran."""


def _start_tag(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), to tell it from a later one with its pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner(clock: Clock) -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_started": _start_tag(os.getpid()),
            "heartbeat": clock.now().isoformat()}


def _gone(detail: Any, now: dt.datetime) -> bool:
    """Whether the process a run recorded is no longer running (on this host), or has not been heard from for
    :data:`STALE_AFTER` (anywhere) by ``now``."""
    detail = detail if isinstance(detail, dict) else {}
    try:
        beat = dt.datetime.fromisoformat(str(detail["heartbeat"]))
    except (KeyError, ValueError):
        beat = None
    if beat is None or utc(beat) < now - STALE_AFTER:
        return True
    if detail.get("host") != socket.gethostname() or not isinstance(detail.get("pid"), int):
        return False
    pid = int(detail["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    tag = _start_tag(pid)
    return detail.get("pid_started") is not None and tag is not None and tag != detail["pid_started"]


def _take_over(conn: Connection, eng: PolicyEngine, run_id: int, actor: str, now: dt.datetime) -> None:
    """Mark runs of this pack left "running" by a process that is gone as failed, taken over by ``run_id``: the
    sweep is idempotent, so this run does what they left undone."""
    for old in lifecycle_store.running_runs(conn, eng.pack.id, besides=run_id):
        if not _gone(old.detail, eng.clock.now()):
            continue
        detail = {**(old.detail if isinstance(old.detail, dict) else {}), "taken_over_by": run_id}
        lifecycle_store.fail_run(conn, old.id, finished_at=eng.clock.now(), detail=detail)
        audit.record(conn, kind="retention", actor=actor, at=now, pack_version=eng.compiled.version,
                     detail={"run": old.id, "event": "taken_over", "by": run_id})


def _sweep(eng: PolicyEngine, plans: list[_Plan], report: SweepReport, bounds: tuple[int, int] | None,
           held_any: bool, batch: int, progress: Progress | None, actor: str, now: dt.datetime,
           owner: dict[str, Any]) -> SweepReport:
    dry_run = report.dry_run
    lo, hi = bounds if bounds is not None else (1, 0)
    for plan in plans:
        out = RuleOutcome(plan.rule_id, plan.action or "keep_as_record", plan.promises)
        report.rules.append(out)
        if plan.action is None:
            out.skipped = "kept as a record (exempt from end-of-purpose deletion)"
            continue
        if plan.period is None:
            out.skipped = "the pack gives no period; configure one for this rule to sweep it"
            continue
        with eng.db.connect() as conn:
            conds = _due(eng, conn, plan, now)
            if conds is None:
                continue
            due = lifecycle_store.any_of(conds)
            if held_any:
                out.held = lifecycle_store.count(conn, due, held=True)
            if out.held and not plan.law_wins:
                out.conflict = (f"{out.held} record(s) under legal hold are due, and rule {plan.rule_id} "
                                f"({', '.join(plan.promises)}) makes no exception for a longer legal requirement: "
                                "kept, as a hold is never broken; release the hold or amend the pack")
            if dry_run:
                out.affected = lifecycle_store.count(conn, due, held=False)
                continue
        windows = max(1, (hi - lo) // batch + 1)
        for n in range(windows):
            start = lo + n * batch
            cond = lifecycle_store.in_window(due, start, start + batch)
            with eng.db.begin() as conn:
                done = _apply(eng, conn, plan.action, cond, now)
                if done:
                    out.affected += done
                    audit.record(conn, kind="retention", actor=actor, at=now, pack_version=eng.compiled.version,
                                 promises=plan.promises, detail={"run": report.run_id, "rule": plan.rule_id,
                                                                 "action": plan.action, "records": done})
                owner["heartbeat"] = eng.clock.now().isoformat()  # alive: nobody takes this run over
                lifecycle_store.set_run_detail(conn, report.run_id, {**report.as_dict(), **owner})
            if progress is not None:
                progress(plan.rule_id, n + 1, windows)
    if not dry_run:
        with eng.db.begin() as conn:
            for out in report.rules:
                if out.conflict:
                    audit.record(conn, kind="deletion_blocked", actor=actor, at=now, pack_version=eng.compiled.version,
                                 promises=out.promises, detail={"run": report.run_id, "rule": out.rule,
                                                                "held": out.held, "why": out.conflict})
            lifecycle_store.finish_run(conn, report.run_id, status="done", finished_at=eng.clock.now(),
                                       detail={**report.as_dict(), **owner})
    return report
