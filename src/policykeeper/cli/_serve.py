"""``policykeeper serve``, ``demo``, ``apikey ...`` and ``bench``: running the web service, demo data, API keys and
benchmarks."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from .. import __version__
from .._exceptions import ConfigError
from .._settings import Settings
from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    app,
    err,
    groups,
    out,
)

if TYPE_CHECKING:
    from ..web._errors import ApiError

apikey_app = groups["apikey"]


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Web processes (more than 1 needs a mail server).")] = 1,
    dataset: Annotated[Path | None, typer.Option("--dataset", help="A dataset map (Fides YAML) of a company database.")]
    = None,
    dataset_url: Annotated[str | None, typer.Option("--dataset-url", help="That database's SQLAlchemy URL.")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Run the REST API, the privacy center and the admin console (uvicorn). On first run it creates the master key
    and an admin API key, and says where they are. With --workers N, N processes serve the same port; sessions and
    abuse limits are shared through the database. With --dataset and --dataset-url, erasures and access exports done
    through the API and the admin console reach the company's own database too, as 'request fulfil' does."""
    import os

    import uvicorn

    from ..notify import ENV_SMTP_URL
    from ..web import WebContext, create_api_key, create_app
    from ..web._auth import list_api_keys
    from ..web._context import ENV_DATASET, ENV_DATASET_URL, company_databases

    settings = Settings.load(home, database_url, pack)
    first = not settings.keystore.exists()
    ctx = WebContext.from_settings(settings, create_keys=True)
    if dataset is not None or dataset_url is not None:
        ctx.databases = company_databases(None if dataset is None else str(dataset), dataset_url)
    if first:
        out.print(f"created the master key in {settings.keystore} (keep it outside the database; back it up)",
                  markup=False)
    if not list_api_keys(ctx):
        key = create_api_key(ctx, "first admin (created by serve)", "admin")
        out.print(f"admin API key (shown once): {key}", markup=False)
    app_ = create_app(ctx)
    info = ctx.info()
    out.print(f"policykeeper {__version__}: pack {info['pack']} ({info['version']}) on {info['database']}; "
              f"privacy center http://{host}:{port}/  admin console http://{host}:{port}/admin  "
              f"API http://{host}:{port}/v1/docs", markup=False)
    if workers > 1:
        if not os.environ.get(ENV_SMTP_URL):
            raise ConfigError(f"--workers {workers} needs a mail server ({ENV_SMTP_URL}): the in-memory "
                              "mailbox belongs to one process")
        ctx.db.dispose()
        os.environ.update({"POLICYKEEPER_HOME": str(settings.home), "POLICYKEEPER_DATABASE_URL": settings.database_url,
                           "POLICYKEEPER_PACK": settings.pack})
        if dataset is not None and dataset_url is not None:  # each web process opens the company database itself
            os.environ.update({ENV_DATASET: str(dataset.resolve()), ENV_DATASET_URL: dataset_url})
        out.print(f"{workers} web processes", markup=False)
        from uvicorn.supervisors import Multiprocess

        config = uvicorn.Config("policykeeper.web:app_from_environment", factory=True, workers=workers, host=host,
                                port=port, log_level="warning", access_log=False)
        try:
            sock = tcp_listener(host, port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        with sock:
            Multiprocess(config, sockets=[sock]).run()
        return
    if not hasattr(ctx.mailer, "host"):
        out.print("no mail server (POLICYKEEPER_SMTP_URL): outgoing mail is kept in memory and shown in the admin "
                  "console's mailbox", markup=False)
    uvicorn.run(app_, host=host, port=port, log_level="warning", access_log=False)


def tcp_listener(host: str, port: int) -> socket.socket:
    """The listening socket ``serve --workers N`` hands its processes, made as a TCP socket (IPPROTO_TCP). uvicorn's
    own has protocol 0, and asyncio turns TCP_NODELAY on only for accepted sockets whose protocol says TCP: without it
    every response on a kept-alive connection waited about 40 ms for the client's delayed ACK (uvicorn issue 3149)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@app.command("demo")
def demo(
    people: Annotated[int, typer.Option("--people", min=1, max=99, help="How many demo people.")] = 25,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Fill the database with realistic, made-up demo data: people collected through the pack's contexts, consents
    given and withdrawn, requests in various states (some overdue where the pack sets a fixed deadline) and one
    security incident. Sends no email. Running it again adds nothing."""
    from ..demo import fill_demo
    from ..web import MemoryMailer, WebContext

    settings = Settings.load(home, database_url, pack)
    first = not settings.keystore.exists()
    ctx = WebContext.from_settings(settings, mailer=MemoryMailer(limit=10_000), create_keys=True)
    if first:
        out.print(f"created the master key in {settings.keystore} (keep it outside the database; back it up)",
                  markup=False)
    example = settings.home / "requests.yaml"
    handling = ctx.pack.requests
    deferred = not isinstance(handling, str) and not isinstance(handling.deadlines, str) and any(
        d.duration == "per_applicable_law" for d in handling.deadlines)
    if deferred and not example.exists():
        from ..demo import LAW_DEADLINE_EXAMPLE

        d = LAW_DEADLINE_EXAMPLE
        example.write_text("# Request deadlines this pack leaves to the applicable law. An EXAMPLE written by\n"
                           "# 'policykeeper demo': replace it with what your law requires.\n"
                           f"deadlines:\n  per_applicable_law: {{value: {d.value}, unit: {d.unit}}}\n", encoding="utf-8")
        ctx.deadlines = {"per_applicable_law": d}
        out.print(f"this pack leaves request deadlines to the applicable law: wrote {example} with "
                  f"{d.value} {d.unit.replace('_', ' ')} as an example (set what your law requires)", markup=False)
    try:
        summary = fill_demo(ctx.engine(), ctx.mailer, people=people, deadlines=ctx.deadlines)
    finally:
        ctx.db.dispose()
    for line in summary.lines():
        out.print(line, markup=False)
    if not summary.already_there:
        out.print("no email was sent; see it all with 'policykeeper serve' (admin console and API)", markup=False)


def _refused(exc: ApiError) -> typer.Exit:
    """An API key command's refusal, printed as every command's error is: its code in brackets, then the message."""
    err.print(f"[red]error[/red] {escape(f'[{exc.code}]')} {escape(exc.message)}")
    return typer.Exit(1)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Whose key it is (a person or a service).")],
    role: Annotated[str, typer.Option("--role", help="admin, privacy_officer, support_agent, auditor or service.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Create a key; it is printed once and not kept."""
    from ..web import WebContext, create_api_key
    from ..web._errors import ApiError

    try:
        key = create_api_key(WebContext.from_settings(Settings.load(home, database_url, pack)), name, role)
    except ApiError as exc:
        raise _refused(exc) from None
    out.print(key, markup=False)


@apikey_app.command("list")
def apikey_list(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Every key: id, name, role, when created, revoked and last used (never the secret)."""
    from ..web import WebContext
    from ..web._auth import list_api_keys

    rows = list_api_keys(WebContext.from_settings(Settings.load(home, database_url, pack)))
    for r in rows:
        state = "revoked" if r["revoked_at"] else "active"
        out.print(f"{r['id']}  {r['role']:<16} {state:<8} {r['name']}", markup=False)
    out.print(f"keys: {len(rows)}", markup=False)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from 'apikey list').")],
                  home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Revoke a key and the console sessions opened with it."""
    from ..web import WebContext
    from ..web._auth import revoke_api_key
    from ..web._errors import ApiError

    try:
        revoke_api_key(WebContext.from_settings(Settings.load(home, database_url, pack)), key_id)
    except ApiError as exc:
        raise _refused(exc) from None
    out.print(f"revoked {key_id}", markup=False)


@app.command("bench")
def bench(
    name: Annotated[str, typer.Argument(help="Which benchmark: core, requests, retention, draft or api.")],
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes: checks that it runs, not how fast.")] = False,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="A PostgreSQL server to run on (in a throwaway schema); default a temporary SQLite file.",
    )] = None,
    results: Annotated[Path, typer.Option("--results", help="Where to save the figures.")] = Path("bench/results"),
    ledger_entries: Annotated[int | None, typer.Option(
        "--ledger-entries", help="core only: verify a ledger of N entries instead of 1,000,000 (still given per million).",
    )] = None,
) -> None:
    """Run a benchmark; print its figures, the last line as one JSON object, and save them under bench/results/."""
    from .. import bench as benchmarks

    figures = benchmarks.run(name, quick=quick, database_url=database_url, ledger_entries=ledger_entries)
    path = benchmarks.save(figures, results)
    for key, goal in figures.get("goals", {}).items():
        out.print(f"{key}: {goal['value']} (goal {goal['goal']}: {'met' if goal['met'] else 'NOT met'})", markup=False)
    out.print(f"saved to {path}", markup=False)
    out.print(json.dumps(figures, sort_keys=True), markup=False)
