"""The ``policykeeper`` command line. Library errors become clean messages here, and only here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__, audit
from ._exceptions import PackError, PolicykeeperError
from ._settings import Settings
from .crypto import KeyRing, rotate_master_key
from .pack import Pack, coverage, diff_packs, lint_pack, load_pack, render_pack
from .store import backup_database, open_database, restore_database

__all__ = ["app", "main"]

app = typer.Typer(
    name="policykeeper",
    help="policykeeper: a privacy policy as a machine-readable pack, enforced, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
pack_app = typer.Typer(help="Validate, render, compare and lint policy packs.", no_args_is_help=True)
app.add_typer(pack_app, name="pack")
keys_app = typer.Typer(help="Create and rotate the master key (kept outside the database).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(help="Check the hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="policykeeper's home directory (default $POLICYKEEPER_HOME or ~/.policykeeper).")
]
DbOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default $POLICYKEEPER_DATABASE_URL or a SQLite file in home)."),
]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PackArg = Annotated[str, typer.Argument(help="A pack file, or the name of a bundled pack (e.g. 'kokkok').")]


def _fail(exc: PolicykeeperError) -> typer.Exit:
    if isinstance(exc, PackError):
        for issue in exc.issues:
            err.print(f"[red]error[/red] {escape(f'[{exc.code}]')} {escape(str(issue))}")
        err.print(f"{len(exc.issues)} problem(s) found")
    else:
        err.print(f"[red]error[/red] {escape(f'[{exc.code}]')} {escape(exc.message)}")
    return typer.Exit(code=1)


def _load(source: str) -> Pack:
    try:
        return load_pack(source)
    except PolicykeeperError as exc:
        raise _fail(exc) from None


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


@pack_app.command("check")
def pack_check(
    source: PackArg,
    strict: Annotated[bool, typer.Option("--strict", help="Fail when any promise is not encoded by a rule.")] = False,
) -> None:
    """Validate a pack; print a summary ending with 'promises: N/M encoded'."""
    pack = _load(source)
    cov = coverage(pack)
    out.print(f"file: {source}", markup=False)
    out.print(f"pack: {pack.id} ({pack.name})")
    out.print(f"controller: {pack.controller.legal_name}")
    out.print(f"version: {pack.version.label}")
    out.print(
        f"data categories: {len(pack.data_categories)}, purposes: {len(pack.purposes.items)}, "
        f"contexts: {len(pack.collection.contexts)}, recipients: {len(pack.recipients)}"
    )
    if cov.missing:
        err.print(f"not encoded by any rule: {', '.join(cov.missing)}")
    out.print(cov.summary())
    if strict and cov.missing:
        raise typer.Exit(code=1)


@pack_app.command("schema")
def pack_schema() -> None:
    """Print the JSON Schema of the pack format."""
    out.print(json.dumps(Pack.model_json_schema(), indent=2, sort_keys=True), markup=False)


@pack_app.command("render")
def pack_render(
    source: PackArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output format: md or html.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Render a readable privacy policy from a pack, every section, promise IDs as anchors."""
    if fmt not in ("md", "html"):
        err.print(f"[red]error[/red] --format must be 'md' or 'html', not {escape(repr(fmt))}")
        raise typer.Exit(code=2)
    text = render_pack(_load(source), "md" if fmt == "md" else "html")
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {escape(str(output))}")


@pack_app.command("diff")
def pack_diff(
    old: Annotated[str, typer.Argument(help="The pack in force (its change rules decide significance).")],
    new: Annotated[str, typer.Argument(help="The proposed pack.")],
) -> None:
    """List the changes from OLD to NEW, each marked significant or minor."""
    a, b = _load(old), _load(new)
    changes = diff_packs(a, b)
    for change in changes:
        out.print(str(change), markup=False)
    sig = sum(1 for c in changes if c.significant)
    out.print(f"changes: {len(changes)} ({sig} significant, {len(changes) - sig} minor)")


@pack_app.command("lint")
def pack_lint(source: PackArg) -> None:
    """Find contradictions inside one pack and print both quotes. Exits 1 when any is found."""
    pack = _load(source)
    findings = lint_pack(pack)
    for f in findings:
        out.print(f"{f.code}: {f.message}", markup=False)
        first = ", ".join(f.first_promises) or f.first_path
        out.print(f"  {first}: \"{f.first_quote or '(no quote)'}\"", markup=False)
        if f.second_path is not None:
            second = ", ".join(f.second_promises) or f.second_path
            out.print(f"  {second}: \"{f.second_quote or '(no quote)'}\"", markup=False)
    out.print(f"findings: {len(findings)}")
    if findings:
        raise typer.Exit(code=1)


@keys_app.command("init")
def keys_init(home: HomeOpt = None) -> None:
    """Create the keystore and a new master key; refuses to overwrite an existing one."""
    settings = Settings.load(home)
    try:
        ring = KeyRing.init(settings.keystore)
    except PolicykeeperError as exc:
        raise _fail(exc) from None
    out.print(f"master key {ring.current.id} created in {settings.keystore}", markup=False)
    out.print("keep this directory out of database backups; losing it makes every personal value unreadable", markup=False)


@keys_app.command("rotate")
def keys_rotate(home: HomeOpt = None, database_url: DbOpt = None) -> None:
    """Make a new master key, re-wrap every subject's data key under it, retire the old key."""
    settings = Settings.load(home, database_url)
    try:
        ring = KeyRing.open(settings.keystore)
        engine = open_database(settings.database_url)
        key_id, count = rotate_master_key(ring, engine)
    except PolicykeeperError as exc:
        raise _fail(exc) from None
    out.print(f"master key {key_id} is current; {count} data key(s) re-wrapped; old keys retired", markup=False)


@audit_app.command("verify")
def audit_verify(home: HomeOpt = None, database_url: DbOpt = None) -> None:
    """Recompute the audit chain; name the first edited, deleted or reordered entry. Exits 1 if any."""
    settings = Settings.load(home, database_url)
    try:
        engine = open_database(settings.database_url)
    except PolicykeeperError as exc:
        raise _fail(exc) from None
    with engine.connect() as conn:
        report = audit.verify(conn)
    if report.ok:
        out.print(f"audit log intact: {report.entries} entries")
        return
    out.print(f"audit log broken at entry {report.first_bad_seq}: {report.reason}", markup=False)
    raise typer.Exit(code=1)


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (gzip'd JSON lines).")],
    home: HomeOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Back up the database: ciphertext, wrapped keys, pseudonymous ids and hash chains (never the keystore)."""
    settings = Settings.load(home, database_url)
    try:
        counts = backup_database(open_database(settings.database_url), file)
    except PolicykeeperError as exc:
        raise _fail(exc) from None
    out.print(f"backed up {sum(counts.values())} rows to {file}", markup=False)


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by 'policykeeper backup'.")],
    home: HomeOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Restore a backup into an empty database, then re-apply erasures made since (from the keystore)."""
    settings = Settings.load(home, database_url)
    try:
        ring = KeyRing.open(settings.keystore)
        counts = restore_database(open_database(settings.database_url), file, ring.shredded)
    except PolicykeeperError as exc:
        raise _fail(exc) from None
    out.print(f"restored {sum(counts.values())} rows; {len(ring.shredded)} erasure(s) re-applied", markup=False)


def main() -> None:
    """Entry point of the ``policykeeper`` console script."""
    app()
