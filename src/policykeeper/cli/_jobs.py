"""``policykeeper outbox ...``, ``retention ...`` and ``worker``: message delivery, the retention sweep and its
events, and the background jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._settings import Settings
from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    PersonArg,
    _engine,
    _when,
    app,
    err,
    groups,
    out,
)

if TYPE_CHECKING:
    from ..worker import RetentionConfig


outbox_app = groups["outbox"]
retention_app = groups["retention"]


@outbox_app.command("deliver")
def outbox_deliver(
    routes: Annotated[Path | None, typer.Option("--routes", help="Recipient routes (YAML); default HOME/recipients.yaml.")]
    = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Send every due message; failures are retried later with a growing delay, then dead-lettered."""
    from ..notify import RoutedTransport, SmtpMailer, deliver

    settings = Settings.load(home, database_url, pack)
    eng = _engine(home, database_url, pack)
    route_file = routes or settings.home / "recipients.yaml"
    if routes is None and not route_file.exists():  # messages to people need no routes; recipients' will retry
        transport = RoutedTransport(SmtpMailer.from_url())
    else:
        transport = RoutedTransport.from_file(route_file, SmtpMailer.from_url())
    counts = deliver(eng.db, eng.keys, transport, pack_version=eng.compiled.version)
    out.print(f"sent: {counts['sent']}; retry later: {counts['retry']}; dead-lettered: {counts['dead']}; "
              f"unsure: {counts['unsure']}")


@outbox_app.command("dead")
def outbox_dead(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Messages that need a person: dead letters, and unsure ones (a worker died sending them); never the content."""
    from ..notify import dead_letters

    rows = dead_letters(_engine(home, database_url, pack).db)
    for r in rows:
        out.print(f"{r['id']}\t{r['status']}\t{r['kind']}\t{r['recipient']}\t{r['attempts']} attempts\t"
                  f"{r['last_error']}", markup=False)
    out.print(f"dead: {sum(r['status'] == 'dead' for r in rows)}; unsure: {sum(r['status'] == 'unsure' for r in rows)}")


@outbox_app.command("retry")
def outbox_retry(
    message: Annotated[int, typer.Argument(help="The id of a dead or unsure message (see 'outbox dead').")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Queue a dead or unsure message again; the next 'outbox deliver' sends it, with its same Message-ID."""
    from ..notify import requeue

    requeue(_engine(home, database_url, pack).db, message)
    out.print(f"message {message}: queued again", markup=False)


def _retention_config(home: Path | None) -> RetentionConfig:
    from ..worker import RetentionConfig

    return RetentionConfig.from_file(Settings.load(home).home / "retention.yaml")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would change; change nothing.")] = False,
    batch: Annotated[int, typer.Option("--batch", help="Record ids per transaction.")] = 50_000,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Apply every end-of-retention action that is due (periods and actions from HOME/retention.yaml); safe to re-run."""
    from rich.progress import Progress

    from ..retention import sweep

    eng, config = _engine(home, database_url, pack), _retention_config(home)
    with Progress(console=err, transient=True) as bar:
        tasks: dict[str, object] = {}

        def progress(rule: str, done: int, total: int) -> None:
            if rule not in tasks:
                tasks[rule] = bar.add_task(f"rule {rule}", total=total)
            bar.update(tasks[rule], completed=done)  # type: ignore[arg-type]

        report = sweep(eng, dry_run=dry_run, periods=config.periods, actions=config.actions, batch=batch,
                       progress=progress)
    verb = "would change" if dry_run else "changed"
    for r in report.rules:
        why = f" ({r.skipped})" if r.skipped else ""
        held = f"; {r.held} under legal hold" if r.held else ""
        out.print(f"{r.rule}\t{r.action}\t{verb} {r.affected}{held}{why}", markup=False)
    out.print(f"{'dry run: ' if dry_run else f'run {report.run_id}: '}{report.affected} record(s) {verb}", markup=False)


ReferenceOpt = Annotated[str, typer.Option("--reference", help="The legal matter or decision id (no personal data).")]
CategoryListOpt = Annotated[list[str] | None, typer.Option("--category", help="Only these categories (repeatable).")]


@retention_app.command("hold")
def retention_hold(person: PersonArg, reference: ReferenceOpt, category: CategoryListOpt = None,
                   home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Put a legal hold on a person's records: they outlive their retention period until released."""
    from ..retention import place_legal_hold

    n = place_legal_hold(_engine(home, database_url, pack), person, reference=reference, categories=category)
    out.print(f"legal hold {reference}: {n} record(s) held", markup=False)


@retention_app.command("release")
def retention_release(person: PersonArg, reference: ReferenceOpt, category: CategoryListOpt = None,
                      home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Take a legal hold off; the records fall to their retention rules at the next sweep."""
    from ..retention import release_legal_hold

    n = release_legal_hold(_engine(home, database_url, pack), person, reference=reference, categories=category)
    out.print(f"legal hold {reference} released: {n} record(s)", markup=False)


@retention_app.command("end-purpose")
def retention_end_purpose(
    purpose: Annotated[str, typer.Argument(help="The purpose that has ended.")],
    person: Annotated[str | None, typer.Option("--person", help="Only for this person (default: for everyone).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record that a purpose has ended; records serving no other purpose fall to the next sweep."""
    from ..retention import end_purpose

    end_purpose(_engine(home, database_url, pack), purpose, person, actor="operator")
    out.print(f"purpose {purpose} ended {'for that person' if person else 'for everyone'}", markup=False)


@retention_app.command("cancel-account")
def retention_cancel_account(person: PersonArg, home: HomeOpt = None, database_url: DbOpt = None,
                             pack: EnginePackOpt = None) -> None:
    """Record that a person closed their account; data kept "while the service is used" falls to the next sweep."""
    from ..retention import cancel_account

    cancel_account(_engine(home, database_url, pack), person, actor="operator")
    out.print("account cancellation recorded", markup=False)


@retention_app.command("cease-service")
def retention_cease_service(
    at: Annotated[str, typer.Option("--at", help="When the service shuts down (ISO date or date-time).")],
    reference: ReferenceOpt,
    announcement: Annotated[str, typer.Option("--announcement", help="The public announcement text.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record and announce a shutdown; from then on the pack's cessation rule deletes or anonymises the data."""
    from ..retention import cease_service

    when = _when(at, "--at")
    assert when is not None
    cease_service(_engine(home, database_url, pack), at=when, reference=reference, announcement=announcement,
                  actor="operator")
    out.print(f"shutdown on {when.isoformat()} recorded and announced", markup=False)


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run every job once, then stop.")] = False,
    every: Annotated[int, typer.Option("--every", help="Minutes between runs of each job.")] = 5,
    routes: Annotated[Path | None, typer.Option("--routes", help="Recipient routes (YAML); default HOME/recipients.yaml.")]
    = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Run the background jobs: retention sweeps, outbox delivery, the deletion queue. On PostgreSQL several workers
    share one queue (procrastinate); on SQLite one worker runs them in a loop."""
    import logging
    import os

    from ..notify import ENV_SMTP_URL, RoutedTransport, SmtpMailer
    from ..worker import JobContext, run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.load(home, database_url, pack)
    route_file = routes or settings.home / "recipients.yaml"

    def transport() -> RoutedTransport:
        if route_file.exists():
            return RoutedTransport.from_file(route_file, SmtpMailer.from_url())
        return RoutedTransport(SmtpMailer.from_url())

    ctx = JobContext(engine=lambda: _engine(home, database_url, pack), retention=_retention_config(home),
                     transport=transport if os.environ.get(ENV_SMTP_URL) else None)
    ctx.engine()  # fail now, not in the first job, if the set-up is wrong
    results = run_worker(settings.database_url, ctx, once=once, every_minutes=every)
    out.print(json.dumps(results, sort_keys=True, default=str), markup=False)
