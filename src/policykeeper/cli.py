"""The ``policykeeper`` command line. Library errors become clean messages here, and only here."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from . import __version__
from ._exceptions import BadValueError, ConfigError, PackError, PolicykeeperError
from ._settings import Settings

if TYPE_CHECKING:  # the commands import what they use, so that starting the CLI stays cheap (tests/test_cli_start.py)
    from typer.models import CommandFunctionType

    from .consent import ConsentAction
    from .engine import PolicyEngine
    from .pack import Pack
    from .requests import RequestService, Ticket
    from .worker import RetentionConfig

__all__ = ["app", "main"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _translating(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """``command``, with a library error turned into its clean message on stderr and exit code 1 (see ``_fail``)."""

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except PolicykeeperError as exc:
            raise _fail(exc) from None

    return run


class _App(typer.Typer):
    """A Typer app whose every command goes through ``_translating``: the one place where a library error becomes a
    message, so no command repeats ``try ... except PolicykeeperError``."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunctionType], CommandFunctionType]:
        register = super().command(*args, **kwargs)

        def decorator(f: CommandFunctionType) -> CommandFunctionType:
            register(_translating(f))
            return f

        return decorator

app = _App(
    name="policykeeper",
    help="policykeeper: a privacy policy as a machine-readable pack, enforced, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
pack_app = _App(help="Validate, render, compare and lint policy packs.", no_args_is_help=True)
app.add_typer(pack_app, name="pack")
keys_app = _App(help="Create and rotate the master key (kept outside the database).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
audit_app = _App(help="Check the hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
consent_app = _App(help="Record consent given or withdrawn; print a consent receipt.", no_args_is_help=True)
app.add_typer(consent_app, name="consent")
transfer_app = _App(help="Cross-border transfer records.", no_args_is_help=True)
app.add_typer(transfer_app, name="transfer")
fact_app = _App(help="The fact register: facts that unlock a protection, on record.", no_args_is_help=True)
app.add_typer(fact_app, name="fact")
request_app = _App(help="Data subject requests: submit, verify, list, fulfil, refuse.", no_args_is_help=True)
app.add_typer(request_app, name="request")
dataset_app = _App(help="Dataset maps of the company's own databases (Fides datasets).", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")
deletions_app = _App(help="The deletion queue (e.g. minors found without parental consent).",
                            no_args_is_help=True)
app.add_typer(deletions_app, name="deletions")

HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="policykeeper's home directory (default $POLICYKEEPER_HOME or ~/.policykeeper).")
]
DbOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default $POLICYKEEPER_DATABASE_URL or a SQLite file in home)."),
]

EnginePackOpt = Annotated[
    str | None,
    typer.Option("--pack", help="The pack to enforce: a file or a bundled name (default $POLICYKEEPER_PACK or kokkok)."),
]
PersonArg = Annotated[str, typer.Argument(help="The person's identifier in your application (never stored in clear).")]

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
    from .pack import load_pack

    return load_pack(source)


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
    from .pack import coverage

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
    from .pack import Pack

    out.print(json.dumps(Pack.model_json_schema(), indent=2, sort_keys=True), markup=False)


@pack_app.command("render")
def pack_render(
    source: PackArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output format: md or html.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    people: Annotated[bool, typer.Option("--people", help="The plain-language notice for the people it is about "
                                                          "(as the privacy center shows it), not the full record.")]
    = False,
) -> None:
    """Render a readable privacy policy from a pack, every section, promise IDs as anchors (or, with --people, the
    plain-language notice)."""
    from .pack import people_document, people_markdown, render_pack
    from .pack._people import people_page

    if fmt not in ("md", "html"):
        err.print(f"[red]error[/red] --format must be 'md' or 'html', not {escape(repr(fmt))}")
        raise typer.Exit(code=2)
    pack = _load(source)
    if people:
        text = people_page(pack) if fmt == "html" else people_markdown(people_document(pack))
    else:
        text = render_pack(pack, "md" if fmt == "md" else "html")
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
    from .pack import diff_packs

    a, b = _load(old), _load(new)
    changes = diff_packs(a, b)
    for change in changes:
        out.print(str(change), markup=False)
    sig = sum(1 for c in changes if c.significant)
    out.print(f"changes: {len(changes)} ({sig} significant, {len(changes) - sig} minor)")


@pack_app.command("lint")
def pack_lint(source: PackArg) -> None:
    """Find contradictions inside one pack and print both quotes. Exits 1 when any is found."""
    from .pack import lint_pack

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


@pack_app.command("draft")
def pack_draft(
    policy: Annotated[str, typer.Argument(help="The policy: a .txt, .md or .html file, or '-' for standard input.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the draft here instead of stdout.")] = None,
    pack_id: Annotated[str | None, typer.Option("--id", help="Pack id (default: from the file name).")] = None,
) -> None:
    """Draft a pack from a policy's text: every value quoted, the rest 'unspecified' with a review note."""
    from .compiler import draft_pack, read_policy

    if pack_id is not None and not re.fullmatch(r"[a-z][a-z0-9_]*", pack_id):
        err.print(f"[red]error[/red] --id {escape(repr(pack_id))}: use lower case letters, digits and underscores")
        raise typer.Exit(code=2)
    draft = draft_pack(read_policy(policy), pack_id=pack_id)
    if output is None:
        sys.stdout.write(draft.yaml_text)
    else:
        output.write_text(draft.yaml_text, encoding="utf-8")
        err.print(f"wrote {escape(str(output))}")
    unspecified = sum(1 for it in draft.items if it.value == "unspecified")
    flagged = sum(1 for it in draft.items if it.value != "unspecified" and it.confidence < 0.5)
    err.print(f"promises: {len(draft.pack.promises)}, values quoted: {len(draft.items) - unspecified}, "
              f"unspecified: {unspecified}, low confidence: {flagged}, source issues: {len(draft.pack.source_issues)}; "
              "the draft passes pack check", markup=False)


@pack_app.command("review")
def pack_review(
    draft: Annotated[str, typer.Argument(help="The draft pack (from 'pack draft').")],
    policy: Annotated[str, typer.Argument(help="The policy it was drafted from (.txt, .md, .html or '-').")],
    html_out: Annotated[Path | None, typer.Option("--html", help="Also write a review page (HTML) here.")] = None,
) -> None:
    """Show each drafted item next to its quote in the policy, with its confidence."""
    from rich.table import Table

    from .compiler import read_policy
    from .compiler._review import review_html, review_rows

    pack = _load(draft)
    source = read_policy(policy)
    rows = review_rows(pack, source)
    table = Table(title=f"review of {pack.id}", show_lines=True)
    table.add_column("item", no_wrap=True)
    for col in ("value", "conf.", "quote [offsets]", "note"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = "red" if r.confidence == 0 else ("yellow" if r.confidence < 0.5 else "")
        where = f" [{r.start}:{r.end}]" if r.start is not None else ""
        table.add_row(escape(r.item), escape(r.value[:200]), f"{r.confidence:.2f}", escape((r.quote or "") + where),
                      escape(r.note), style=style)
    Console(highlight=False, width=max(out.size.width, 160)).print(table)
    missing = sum(1 for r in rows if "NOT FOUND" in r.note)
    if html_out is not None:
        html_out.write_text(review_html(pack, source, rows), encoding="utf-8")
        err.print(f"wrote {escape(str(html_out))}")
    out.print(f"items: {len(rows)}, low confidence: {sum(1 for r in rows if r.confidence < 0.5)}, "
              f"quotes not found in the policy: {missing}", markup=False)


@pack_app.command("publish")
def pack_publish(
    source: PackArg,
    effective: Annotated[str | None, typer.Option("--effective", help="When it takes effect (default: the date the "
                                                  "version states, else at once).")] = None,
    notice: Annotated[str | None, typer.Option("--notice", help="When people are told (default now).")] = None,
    explicit_consent: Annotated[bool, typer.Option("--explicit-consent", help="A version that reduces rights applies "
                                                   "to each person only once they explicitly agree.")] = False,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Publish a new version of the pack in force: its diff, the pack's change rules checked, notices queued."""
    from .pack import load_pack
    from .versions import publish

    new = load_pack(source)
    got = publish(_engine(home, database_url, pack or new.id), new, effective_at=_when(effective, "--effective"),
                  notice_at=_when(notice, "--notice"), explicit_consent=explicit_consent, actor="operator")
    for c in got.changes:
        out.print(str(c), markup=False)
    out.print(f"published {got.label}: {'significant' if got.significant else 'minor'} change; notice "
              f"{got.notice_at.isoformat()}, effective {got.effective_at.isoformat()}; channels: "
              f"{', '.join(got.channels) or 'none'}; emails queued: {got.emails}", markup=False)


@pack_app.command("versions")
def pack_versions(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """The published versions of the pack in force, oldest first."""
    from .versions import versions

    rows = versions(_engine(home, database_url, pack))
    for v in rows:
        kind = "significant" if v["significant"] else "minor"
        out.print(f"{v['label']}  effective {v['effective_at'].isoformat()}  {kind}  by {v['published_by']}", markup=False)
    out.print(f"versions: {len(rows)}", markup=False)


@keys_app.command("init")
def keys_init(home: HomeOpt = None) -> None:
    """Create the keystore and a new master key; refuses to overwrite an existing one."""
    from .crypto import KeyRing

    settings = Settings.load(home)
    ring = KeyRing.init(settings.keystore)
    out.print(f"master key {ring.current.id} created in {settings.keystore}", markup=False)
    out.print("keep this directory out of database backups; losing it makes every personal value unreadable", markup=False)


@keys_app.command("rotate")
def keys_rotate(home: HomeOpt = None, database_url: DbOpt = None) -> None:
    """Make a new master key, re-wrap every subject's data key under it, retire the old key."""
    from .crypto import KeyRing, rotate_master_key
    from .store import open_database

    settings = Settings.load(home, database_url)
    ring = KeyRing.open(settings.keystore)
    engine = open_database(settings.database_url)
    key_id, count = rotate_master_key(ring, engine)
    out.print(f"master key {key_id} is current; {count} data key(s) re-wrapped; old keys retired", markup=False)


@keys_app.command("regroup")
def keys_regroup(home: HomeOpt = None, database_url: DbOpt = None,
                 batch: Annotated[int, typer.Option(help="Records per transaction.")] = 500) -> None:
    """Move records written before record group keys (migration 0010) onto a key per person and category, so a
    partial deletion (cleared history, a retention end) destroys their key too. Safe to re-run, also after a crash."""
    from .crypto import KeyRing, regroup_records
    from .store import open_database

    settings = Settings.load(home, database_url)
    ring = KeyRing.open(settings.keystore)
    engine = open_database(settings.database_url, create=False)
    moved = regroup_records(ring, engine, batch=batch)
    out.print(f"{moved} record(s) moved onto their group keys; take a fresh backup and retire the older ones",
              markup=False)


@audit_app.command("verify")
def audit_verify(home: HomeOpt = None, database_url: DbOpt = None) -> None:
    """Recompute the audit chain; name the first edited, deleted or reordered entry. Exits 1 if any."""
    from . import audit
    from .store import open_database

    settings = Settings.load(home, database_url)
    engine = open_database(settings.database_url, create=False)  # a mistyped --home is no empty, "intact" log
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
    from .store import backup_database, open_database

    settings = Settings.load(home, database_url)
    counts = backup_database(open_database(settings.database_url), file)
    out.print(f"backed up {sum(counts.values())} rows to {file}", markup=False)


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by 'policykeeper backup'.")],
    home: HomeOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Restore a backup into an empty database, then re-apply erasures made since (from the keystore)."""
    from .crypto import KeyRing
    from .store import open_database, restore_database

    settings = Settings.load(home, database_url)
    ring = KeyRing.open(settings.keystore)
    counts = restore_database(open_database(settings.database_url), file, ring)
    out.print(f"restored {sum(counts.values())} rows; {len(ring.shredded)} erasure(s) re-applied", markup=False)


def _engine(home: Path | None, database_url: str | None, pack: str | None) -> PolicyEngine:
    """The engine for the version of the pack in force now (a version published with ``pack publish`` takes over
    from its effective date)."""
    from .crypto import KeyRing
    from .engine import PolicyEngine
    from .pack import load_pack
    from .store import open_database
    from .versions import engine_at

    settings = Settings.load(home, database_url, pack)
    eng = PolicyEngine(load_pack(settings.pack), open_database(settings.database_url), KeyRing.open(settings.keystore),
                       region=settings.region)
    return engine_at(eng)


def _evidence(items: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadValueError(f"evidence {item!r} must be KEY=VALUE")
        found[key.strip()] = value
    return found


def _when(text: str | None, what: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadValueError(f"{what} must be an ISO date or date-time, not {text!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _consent(action: ConsentAction, person: str, target: str, evidence: list[str], home: Path | None,
             database_url: str | None, pack: str | None) -> None:
    eng = _engine(home, database_url, pack)
    seq = eng.set_consent(person, target, action, actor="operator", evidence=_evidence(evidence))
    out.print(f"consent {action} for {target}: ledger entry {seq} (pack {eng.pack.id} {eng.compiled.version})",
              markup=False)


EvidenceOpt = Annotated[list[str] | None, typer.Option("--evidence", "-e", help="KEY=VALUE kept with the event (repeat).")]
TargetArg = Annotated[str, typer.Argument(help="What the consent is for: a consent rule, purpose or recipient id.")]


@consent_app.command("give")
def consent_give(person: PersonArg, target: TargetArg, evidence: EvidenceOpt = None, home: HomeOpt = None,
                 database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Record that the person gave consent for TARGET (appended to the hash-chained ledger)."""
    _consent("given", person, target, evidence or [], home, database_url, pack)


@consent_app.command("withdraw")
def consent_withdraw(person: PersonArg, target: TargetArg, evidence: EvidenceOpt = None, home: HomeOpt = None,
                     database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Record that the person withdrew consent for TARGET: future processing stops, past processing stays valid."""
    _consent("withdrawn", person, target, evidence or [], home, database_url, pack)


@consent_app.command("receipt")
def consent_receipt(
    person: PersonArg,
    at: Annotated[str | None, typer.Option("--at", help="The moment (ISO date-time, UTC if no zone); default now.")] = None,
    home: HomeOpt = None,
    database_url: DbOpt = None,
    pack: EnginePackOpt = None,
) -> None:
    """Print the person's consent receipt (JSON, Kantara consent-receipt fields) as of now or --at."""
    eng = _engine(home, database_url, pack)
    receipt = eng.consent_receipt(person, _when(at, "--at"))
    out.print(json.dumps(receipt, indent=2, default=str), markup=False)


@transfer_app.command("assess")
def transfer_assess(
    destination: Annotated[str, typer.Argument(help="The region (e.g. DE) or recipient id the assessment covers.")],
    reference: Annotated[str, typer.Option("--reference", help="The assessment document, e.g. a filing number.")],
    outcome: Annotated[str, typer.Option("--outcome", help="adequate or inadequate.")] = "adequate",
    valid_until: Annotated[str | None, typer.Option("--valid-until", help="ISO date the assessment lapses.")] = None,
    home: HomeOpt = None,
    database_url: DbOpt = None,
    pack: EnginePackOpt = None,
) -> None:
    """Record a cross-border security assessment; transfer rules that require one then let data go there."""
    eng = _engine(home, database_url, pack)
    aid = eng.record_transfer_assessment(destination, reference=reference, outcome=outcome,
                                         valid_until=_when(valid_until, "--valid-until"), actor="operator")
    out.print(f"assessment {aid} recorded: {destination} {outcome}", markup=False)


@fact_app.command("record")
def fact_record(
    fact: Annotated[str, typer.Argument(help="subscribed, product_authorized, member, transfer_informed, "
                                             "consent_by_recipient, successor_bound or agreement.")],
    reference: Annotated[str, typer.Option("--reference", help="The document or record behind the fact.")],
    person: Annotated[str | None, typer.Option("--person", help="The person it is about (the app's identifier).")] = None,
    party: Annotated[str | None, typer.Option("--party", help="The recipient or successor it concerns.")] = None,
    arg: Annotated[str, typer.Option("--arg", help="What it is about: a service, a product, an agreement.")] = "",
    revoke: Annotated[bool, typer.Option("--revoke", help="Withdraw the fact instead of recording it.")] = False,
    home: HomeOpt = None,
    database_url: DbOpt = None,
    pack: EnginePackOpt = None,
) -> None:
    """Record (or revoke) a fact in the fact register; the engine reads it there, no caller may state it."""
    eng = _engine(home, database_url, pack)
    fid = eng.record_fact(fact, person=person, party=party, arg=arg, reference=reference, revoke=revoke,
                          actor="operator")
    out.print(f"fact {fid} {'revoked' if revoke else 'recorded'}: {fact}", markup=False)


@deletions_app.command("list")
def deletions_list(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """List pending deletions (pseudonymous subject ids, reason, due date)."""
    items = _engine(home, database_url, pack).pending_deletions()
    for item in items:
        out.print(f"{item['id']}\t{item['subject_id']}\t{item['reason']}\tdue {item['due_at']}", markup=False)
    out.print(f"pending: {len(items)}")


@deletions_app.command("run")
def deletions_run(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Erase (crypto-shred) every subject whose queued deletion is due. Safe to re-run after a crash."""
    done = _engine(home, database_url, pack).run_deletion_queue(actor="operator")
    out.print(f"erased: {done}")


def _requests(home: Path | None, database_url: str | None, pack: str | None) -> RequestService:
    from .requests import RequestService, load_deadlines

    deadlines = load_deadlines(Settings.load(home, database_url, pack).home / "requests.yaml")
    return RequestService(_engine(home, database_url, pack), _SmtpWhenNeeded(), deadlines=deadlines)


class _SmtpWhenNeeded:
    """The mail server ($POLICYKEEPER_SMTP_URL), looked up only when a message goes out: commands that send nothing
    (``request list``, ``request show``) run without one."""

    def send(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> None:
        from .notify import SmtpMailer

        SmtpMailer.from_url().send(to, subject, body, message_id=message_id)


RefArg = Annotated[str, typer.Argument(help="The request's reference (from 'request submit').")]


def _ticket(t: Ticket) -> None:
    due = t.due_at.isoformat(timespec="minutes") if t.due_at else "no fixed date"
    fee = "" if t.fee == "none" else f"; fee: {t.fee.replace('_', ' ')}"
    out.print(f"request {t.ref}: {t.status}; deadline {t.deadline} (due {due}){fee}", markup=False)
    if t.unsent:
        err.print(f"warning: request {t.ref} is recorded, but its code was not sent ({t.unsent}); once the mail "
                  f"server is back, run: policykeeper request resend {t.ref}", markup=False)


@request_app.command("submit")
def request_submit(
    person: PersonArg,
    right: Annotated[str | None, typer.Argument(help="The right (access, delete, correct...); none for a question.")] = None,
    email: Annotated[str, typer.Option("--email", help="Where the one-time code and the answer go.")] = "",
    kind: Annotated[str, typer.Option("--kind", help="rights_request, general_question or complaint.")] = "rights_request",
    agent: Annotated[bool, typer.Option("--agent", help="Made by an agent for the person (--email is the agent's): "
                                        "verified by staff with proof of authority, no code.")] = False,
    language: Annotated[str | None, typer.Option(
        "--language", help="The language the person asked in (en, zh-Hans): every mail about the request is written "
                           "in it; the policy's language by default.")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Receive a request and email the person a one-time code (only if the address is one held for them)."""
    from .i18n import LANGUAGES, known

    if language is not None and known(language) is None:
        raise BadValueError(f"--language: one of {', '.join(LANGUAGES)}, not {language!r}")
    _ticket(_requests(home, database_url, pack).submit(person, right, email=email, kind=kind, agent=agent,
                                                       language=language))


@request_app.command("verify")
def request_verify(ref: RefArg, code: Annotated[str, typer.Argument(help="The code from the email.")],
                   home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Check the person's one-time code (expiry and attempt limits apply)."""
    _ticket(_requests(home, database_url, pack).verify(ref, code))


@request_app.command("verify-staff")
def request_verify_staff(
    ref: RefArg,
    method: Annotated[str, typer.Option("--method", help="One of the pack's methods, e.g. identity_proof.")],
    reference: Annotated[str, typer.Option("--reference", help="Where the evidence is kept (no personal data).")],
    mismatch_reason: Annotated[str | None, typer.Option(
        "--mismatch-reason", help="Why go on when the request's address is not one held for the person (audited).")]
    = None,
    authority: Annotated[str | None, typer.Option(
        "--authority", help="For a request by an agent: where the proof of their authority (the person's signed "
        "permission) is kept (no personal data).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Verify identity or an agent's authority by one of the pack's own methods, checked by staff.

    Where the request's address is not one held for the person (or nothing is held to compare it with), this says so
    and needs --mismatch-reason: the address is what the company's databases are searched by."""
    _ticket(_requests(home, database_url, pack).verify_by_staff(ref, method, reference=reference,
                                                                mismatch_reason=mismatch_reason,
                                                                authority_reference=authority, actor="operator"))


@request_app.command("resend")
def request_resend(ref: RefArg, home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Send a fresh one-time code (the old one stops working)."""
    _requests(home, database_url, pack).resend_code(ref)
    out.print(f"request {ref}: a new code was sent", markup=False)


@request_app.command("list")
def request_list(
    due_within: Annotated[int, typer.Option("--due-within", help="Days that count as due soon.")] = 3,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Open requests, the oldest deadline first: overdue, due soon, on time, or no fixed date."""
    rows = _requests(home, database_url, pack).open_requests(due_within=dt.timedelta(days=due_within))
    for r in rows:
        due = r["due_at"].date().isoformat() if r["due_at"] else r["deadline"]
        out.print(f"{r['ref']}\t{r['right'] or r['kind']}\t{r['status']}\t{r['state']}\tdue {due}", markup=False)
    out.print(f"open: {len(rows)}; overdue: {sum(r['state'] == 'overdue' for r in rows)}")


@request_app.command("show")
def request_show(ref: RefArg, home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """One request as JSON (never its reply address)."""
    row = _requests(home, database_url, pack).get(ref)
    out.print(json.dumps(row, indent=2, default=str), markup=False)


@request_app.command("fulfil")
def request_fulfil(
    ref: RefArg,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write an access export (zip).")] = None,
    ground: Annotated[str | None, typer.Option("--ground", help="The erasure ground, where the pack lists them.")] = None,
    dataset: Annotated[Path | None, typer.Option("--dataset", help="A dataset map (Fides YAML) of a company database.")]
    = None,
    dataset_url: Annotated[str | None, typer.Option("--dataset-url", help="That database's SQLAlchemy URL.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Correction: the category to correct.")] = None,
    value: Annotated[str | None, typer.Option("--value", help="Correction: the corrected value.")] = None,
    purpose: Annotated[list[str] | None, typer.Option("--purpose", help="Objection: a purpose objected to (repeat).")]
    = None,
    decision: Annotated[str | None, typer.Option("--decision", help="Explanation: the decision id to explain.")] = None,
    not_held_reason: Annotated[str | None, typer.Option(
        "--not-held-reason", help="Erasure: why the company database holds no row for the person (audited).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Carry out a verified request: an access export to --output, or an erasure with notices to recipients.

    With --dataset and --dataset-url the company's own database is included: its rows in the export, or erased
    (fail-closed: if anything personal would be left, a column is not covered by the map, or no row matched the
    person, nothing changes and the request stays open; --not-held-reason goes on where no row is right)."""
    from .connectors import load_dataset_map, open_target

    svc = _requests(home, database_url, pack)
    if (dataset is None) != (dataset_url is None):
        raise BadValueError("--dataset and --dataset-url go together")
    if dataset is not None and dataset_url is not None:
        svc.databases = ((load_dataset_map(dataset), open_target(dataset_url)),)
    right = svc.get(ref)["right"]
    if right == "correct":
        if category is None or value is None:
            raise BadValueError("a correction needs --category and --value")
        svc.fulfil_correction(ref, category, value, actor="operator")
        out.print(f"request {ref}: fulfilled; {category} corrected", markup=False)
        return
    if right in ("restrict", "object"):
        svc.fulfil_restriction(ref, purposes=tuple(purpose or ()), actor="operator")
        out.print(f"request {ref}: fulfilled; processing {'restricted' if right == 'restrict' else 'objected to'}",
                  markup=False)
        return
    if right == "automated_decision_explanation":
        if decision is None:
            raise BadValueError("an explanation needs --decision ID")
        out.print(svc.fulfil_explanation(ref, decision, actor="operator"), markup=False)
        return
    if right in ("delete", "cancel_account"):
        notices = svc.fulfil_erasure(ref, ground=ground, actor="operator",
                                     not_held_reason=not_held_reason)["notices"]
        out.print(f"request {ref}: fulfilled; erased; {notices} recipient notice(s) queued", markup=False)
        return
    if output is None:
        raise BadValueError("an access request needs --output FILE for the export")
    n = svc.fulfil_access(ref, output, actor="operator")
    out.print(f"request {ref}: fulfilled; {n} value(s) exported to {output}", markup=False)


@dataset_app.command("check")
def dataset_check(
    dataset: Annotated[Path, typer.Argument(help="The dataset map (Fides YAML).")],
    url: Annotated[str, typer.Option("--url", help="The company database's SQLAlchemy URL.")],
    scan: Annotated[bool, typer.Option("--scan", help="Sample values of uncovered columns; flag those that look "
                                                      "personal (emails, phones, names).")] = False,
    sample: Annotated[int, typer.Option("--sample", help="Values sampled per column with --scan.")] = 200,
) -> None:
    """Compare a dataset map with the live schema: every table and column it does not cover (exit 1 if any).

    Erasure refuses a table with a column the map does not cover; a data category outside 'user' marks a column
    not personal. Sampled values are never printed."""
    from .connectors import load_dataset_map, open_target
    from .connectors._coverage import check_coverage

    if not 1 <= sample <= 10_000:
        raise BadValueError("--sample is 1 to 10000")
    report = check_coverage(open_target(url), load_dataset_map(dataset), scan=scan, sample=sample)
    for t in report.tables_not_in_map:
        kinds = sorted({k for c, k in report.looks_personal.items() if c.startswith(t + ".")})
        out.print(f"table not in the map: {t}" + (f" (looks personal: {', '.join(kinds)})" if kinds else ""),
                  markup=False)
    for c in report.collections_not_in_database:
        out.print(f"collection not in the database: {c}", markup=False)
    for f in report.fields_not_in_database:
        out.print(f"field not in the database: {f}", markup=False)
    for col in report.uncovered:
        hint = report.looks_personal.get(col)
        out.print(f"column not covered: {col}" + (f" (looks personal: {hint})" if hint else ""), markup=False)
    for note in report.notes:
        out.print(f"note: {note}", markup=False)
    gaps = (len(report.tables_not_in_map) + len(report.collections_not_in_database) + len(report.fields_not_in_database)
            + len(report.uncovered))
    out.print(f"{'covered' if report.ok else 'not covered'}: {gaps} gap(s)", markup=False)
    if not report.ok:
        raise typer.Exit(1)


@request_app.command("extend")
def request_extend(
    ref: RefArg,
    days: Annotated[int, typer.Option("--days", help="How many calendar days more (1 to 90).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, told to the person (no personal data).")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Push a verified request's deadline and tell the person why."""
    _ticket(_requests(home, database_url, pack).extend(ref, days, reason=reason, actor="operator"))


@request_app.command("refuse")
def request_refuse(
    ref: RefArg,
    ground: Annotated[str, typer.Option("--ground", help="One of the pack's refusal grounds.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Refuse a request on one of the pack's grounds; the person is told the ground."""
    _requests(home, database_url, pack).refuse(ref, ground, actor="operator")
    out.print(f"request {ref}: refused ({ground})", markup=False)


outbox_app = _App(help="Messages to recipients (erasure notices): deliver with retries, dead letters.",
                         no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("deliver")
def outbox_deliver(
    routes: Annotated[Path | None, typer.Option("--routes", help="Recipient routes (YAML); default HOME/recipients.yaml.")]
    = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Send every due message; failures are retried later with a growing delay, then dead-lettered."""
    from .notify import RoutedTransport, SmtpMailer, deliver

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
    from .notify import dead_letters

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
    from .notify import requeue

    requeue(_engine(home, database_url, pack).db, message)
    out.print(f"message {message}: queued again", markup=False)


retention_app = _App(help="Retention: the end-of-retention sweep, legal holds and the events that end periods.",
                             no_args_is_help=True)
app.add_typer(retention_app, name="retention")


def _retention_config(home: Path | None) -> RetentionConfig:
    from .worker import RetentionConfig

    return RetentionConfig.from_file(Settings.load(home).home / "retention.yaml")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would change; change nothing.")] = False,
    batch: Annotated[int, typer.Option("--batch", help="Record ids per transaction.")] = 50_000,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Apply every end-of-retention action that is due (periods and actions from HOME/retention.yaml); safe to re-run."""
    from rich.progress import Progress

    from .retention import sweep

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
    from .retention import place_legal_hold

    n = place_legal_hold(_engine(home, database_url, pack), person, reference=reference, categories=category)
    out.print(f"legal hold {reference}: {n} record(s) held", markup=False)


@retention_app.command("release")
def retention_release(person: PersonArg, reference: ReferenceOpt, category: CategoryListOpt = None,
                      home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Take a legal hold off; the records fall to their retention rules at the next sweep."""
    from .retention import release_legal_hold

    n = release_legal_hold(_engine(home, database_url, pack), person, reference=reference, categories=category)
    out.print(f"legal hold {reference} released: {n} record(s)", markup=False)


@retention_app.command("end-purpose")
def retention_end_purpose(
    purpose: Annotated[str, typer.Argument(help="The purpose that has ended.")],
    person: Annotated[str | None, typer.Option("--person", help="Only for this person (default: for everyone).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record that a purpose has ended; records serving no other purpose fall to the next sweep."""
    from .retention import end_purpose

    end_purpose(_engine(home, database_url, pack), purpose, person, actor="operator")
    out.print(f"purpose {purpose} ended {'for that person' if person else 'for everyone'}", markup=False)


@retention_app.command("cancel-account")
def retention_cancel_account(person: PersonArg, home: HomeOpt = None, database_url: DbOpt = None,
                             pack: EnginePackOpt = None) -> None:
    """Record that a person closed their account; data kept "while the service is used" falls to the next sweep."""
    from .retention import cancel_account

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
    from .retention import cease_service

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

    from .notify import ENV_SMTP_URL, RoutedTransport, SmtpMailer
    from .worker import JobContext, run_worker

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

marketing_app = _App(help="Marketing and service messages to people; unsubscribe links.", no_args_is_help=True)
app.add_typer(marketing_app, name="marketing")
tracker_app = _App(help="Cookies and similar trackers, registered against the pack's lists.", no_args_is_help=True)
app.add_typer(tracker_app, name="tracker")


@marketing_app.command("send")
def marketing_send(
    person: PersonArg,
    topic: Annotated[str, typer.Option("--topic", help="Campaign or notice id; the same topic goes once per person.")],
    subject: Annotated[str, typer.Option("--subject", help="The message subject.")],
    body: Annotated[str, typer.Option("--body", help="The message text (an unsubscribe link is added to marketing).")],
    kind: Annotated[str, typer.Option("--kind", help="marketing or service.")] = "marketing",
    channel: Annotated[str, typer.Option("--channel", help="email or push.")] = "email",
    purpose: Annotated[str | None, typer.Option("--purpose", help="A pack purpose the message serves.")] = None,
    source: Annotated[str, typer.Option("--source", help="own, partners, sponsors or advertisers.")] = "own",
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="Where /unsubscribe is served (default $POLICYKEEPER_PUBLIC_URL).")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Queue one message to the person if the pack and their marketing choice allow it."""
    from .marketing import send_message

    eng = _engine(home, database_url, pack)
    oid = send_message(eng, person, kind=kind, channel=channel, topic=topic, subject=subject,  # type: ignore[arg-type]
                       body=body, purpose=purpose, source=source, base_url=base_url)  # type: ignore[arg-type]
    out.print(f"{kind} message queued: outbox {oid}" if oid is not None else f"already sent: {kind} {topic}",
              markup=False)


@marketing_app.command("unsubscribe")
def marketing_unsubscribe(
    token: Annotated[str, typer.Argument(help="The token from an unsubscribe link.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Act on an unsubscribe link's token: the person's marketing choice becomes 'withdrawn'."""
    from .marketing import unsubscribe

    changed = unsubscribe(_engine(home, database_url, pack), token)
    out.print("unsubscribed" if changed else "already unsubscribed", markup=False)


@tracker_app.command("add")
def tracker_add(
    name: Annotated[str, typer.Argument(help="The tracker's name (e.g. the cookie name).")],
    technology: Annotated[str, typer.Option("--technology", help="cookie, web_beacon, pixel_tag, ...")],
    purpose: Annotated[str, typer.Option("--purpose", help="One of the pack's cookie purposes.")],
    placement: Annotated[str, typer.Option("--placement", help="browser, device, email, web_page or app.")],
    lifetime: Annotated[str, typer.Option("--lifetime", help="session or persistent.")] = "session",
    party: Annotated[str, typer.Option("--party", help="first or third.")] = "first",
    recipient: Annotated[str | None, typer.Option("--recipient", help="The listed recipient setting a third-party one.")]
    = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Register a tracker; refused unless the pack lists its technology, purpose, lifetime and placement."""
    from .marketing import register_tracker

    tid = register_tracker(_engine(home, database_url, pack), name=name, technology=technology, purpose=purpose,
                           party=party, lifetime=lifetime, placement=placement,  # type: ignore[arg-type]
                           recipient=recipient)
    out.print(f"tracker {tid}: {name} ({technology}, {purpose})", markup=False)


@tracker_app.command("list")
def tracker_list(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """The registered trackers: id, name, technology, purpose, party, recipient, lifetime, placement."""
    from .marketing import list_trackers

    rows = list_trackers(_engine(home, database_url, pack))
    for r in rows:
        out.print("\t".join(str(r[k] or "-") for k in ("id", "name", "technology", "purpose", "party", "recipient",
                                                        "lifetime", "placement")), markup=False)
    out.print(f"trackers: {len(rows)}")


incident_app = _App(help="Security incidents: record, promised steps, close, notify the people affected, "
                                "report to the regulator.", no_args_is_help=True)
app.add_typer(incident_app, name="incident")
IncidentArg = Annotated[int, typer.Argument(help="The incident id (printed by 'incident record').")]
TicketOpt = Annotated[str, typer.Option("--reference", help="A ticket or report id (never personal data).")]


@incident_app.command("record")
def incident_record(
    system: Annotated[list[str], typer.Option("--system", help="A system involved (repeat).")],
    category: Annotated[list[str], typer.Option("--category", help="A data category of the pack involved (repeat).")],
    reference: TicketOpt,
    started_at: Annotated[str, typer.Option("--started-at", help="Start of the window (ISO date-time, UTC if no zone).")],
    ended_at: Annotated[str | None, typer.Option("--ended-at", help="End of the window; omit while ongoing.")] = None,
    harm: Annotated[bool, typer.Option("--harm", help="People were harmed (sets the liability flag where the pack "
                                                       "accepts liability).")] = False,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Open an incident record: its time window, systems, data categories and reference."""
    from .incidents import get_incident, record_incident

    eng = _engine(home, database_url, pack)
    start = _when(started_at, "--started-at") or dt.datetime.now(dt.UTC)
    iid = record_incident(eng, started_at=start, ended_at=_when(ended_at, "--ended-at"), systems=system,
                          categories=category, reference=reference, harm_to_subjects=harm, actor="operator")
    liability = get_incident(eng, iid)["liability"]
    out.print(f"incident {iid} recorded" + ("; liability flag set" if liability else ""), markup=False)


@incident_app.command("step")
def incident_step_cmd(
    incident: IncidentArg,
    step: Annotated[str, typer.Argument(help="The step done, one the pack records (e.g. analysis).")],
    reference: TicketOpt,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record that one of the pack's promised incident steps was done."""
    from .incidents import incident_step, required_steps

    eng = _engine(home, database_url, pack)
    incident_step(eng, incident, step, reference=reference, actor="operator")
    out.print(f"incident {incident}: {step} recorded (steps: {', '.join(required_steps(eng))})", markup=False)


@incident_app.command("close")
def incident_close(
    incident: IncidentArg,
    ended_at: Annotated[str | None, typer.Option("--ended-at", help="End of the window, if not yet given.")] = None,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Close an incident once every promised step is on record."""
    from .incidents import close_incident

    close_incident(_engine(home, database_url, pack), incident, ended_at=_when(ended_at, "--ended-at"),
                   actor="operator")
    out.print(f"incident {incident}: closed", markup=False)


@incident_app.command("notify")
def incident_notify(
    incident: IncidentArg,
    what_happened: Annotated[str, typer.Option("--what-happened", help="The basic situation.")] = "",
    possible_impact: Annotated[str, typer.Option("--possible-impact", help="The possible impact.")] = "",
    measures: Annotated[str, typer.Option("--measures", help="Measures taken or planned.")] = "",
    advice: Annotated[str, typer.Option("--advice", help="What people can do to protect themselves.")] = "",
    remedies: Annotated[str, typer.Option("--remedies", help="Remedies offered.")] = "",
    channel: Annotated[str, typer.Option("--channel", help="email or push.")] = "email",
    impractical: Annotated[bool, typer.Option("--impractical", help="Individual notice is impractical: make the "
                                                                    "public announcement instead.")] = False,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Queue one breach notice to each affected, reachable person (never twice); print the announcement if one is
    due. Deliver with 'outbox deliver'."""
    from .incidents import notify_affected

    run = notify_affected(_engine(home, database_url, pack), incident, what_happened=what_happened,
                          possible_impact=possible_impact, measures=measures, advice=advice, remedies=remedies,
                          channel=channel, impractical=impractical, actor="operator")
    if run.announcement:
        out.print(run.announcement, markup=False)
    out.print(f"affected: {run.affected}; queued: {run.queued}; already notified: {run.already_notified}; "
              f"unreachable: {run.unreachable}; announcement: {'yes' if run.announcement else 'no'}", markup=False)


@incident_app.command("report")
def incident_report(
    incident: IncidentArg,
    preview: Annotated[bool, typer.Option("--preview", help="Print without recording that it was reported.")] = False,
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Print the regulator's report of an incident and its handling (JSON, no personal values) and record it."""
    from .incidents import regulator_report

    report = regulator_report(_engine(home, database_url, pack), incident, record=not preview, actor="operator")
    out.print(json.dumps(report, indent=2), markup=False)


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

    from .notify import ENV_SMTP_URL
    from .web import WebContext, create_api_key, create_app
    from .web._auth import list_api_keys
    from .web._context import ENV_DATASET, ENV_DATASET_URL, company_databases

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
    from .demo import fill_demo
    from .web import MemoryMailer, WebContext

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
        from .demo import LAW_DEADLINE_EXAMPLE

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


apikey_app = _App(help="API keys for staff and services, each bound to one role.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Whose key it is (a person or a service).")],
    role: Annotated[str, typer.Option("--role", help="admin, privacy_officer, support_agent, auditor or service.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Create a key; it is printed once and not kept."""
    from .web import WebContext, create_api_key
    from .web._errors import ApiError

    try:
        key = create_api_key(WebContext.from_settings(Settings.load(home, database_url, pack)), name, role)
    except ApiError as exc:
        err.print(f"[red]error[/red] [{exc.code}] {escape(exc.message)}")
        raise typer.Exit(1) from None
    out.print(key, markup=False)


@apikey_app.command("list")
def apikey_list(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Every key: id, name, role, when created, revoked and last used (never the secret)."""
    from .web import WebContext
    from .web._auth import list_api_keys

    rows = list_api_keys(WebContext.from_settings(Settings.load(home, database_url, pack)))
    for r in rows:
        state = "revoked" if r["revoked_at"] else "active"
        out.print(f"{r['id']}  {r['role']:<16} {state:<8} {r['name']}", markup=False)
    out.print(f"keys: {len(rows)}", markup=False)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from 'apikey list').")],
                  home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Revoke a key and the console sessions opened with it."""
    from .web import WebContext
    from .web._auth import revoke_api_key
    from .web._errors import ApiError

    try:
        revoke_api_key(WebContext.from_settings(Settings.load(home, database_url, pack)), key_id)
    except ApiError as exc:
        err.print(f"[red]error[/red] [{exc.code}] {escape(exc.message)}")
        raise typer.Exit(1) from None
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
    from . import bench as benchmarks

    figures = benchmarks.run(name, quick=quick, database_url=database_url, ledger_entries=ledger_entries)
    path = benchmarks.save(figures, results)
    for key, goal in figures.get("goals", {}).items():
        out.print(f"{key}: {goal['value']} (goal {goal['goal']}: {'met' if goal['met'] else 'NOT met'})", markup=False)
    out.print(f"saved to {path}", markup=False)
    out.print(json.dumps(figures, sort_keys=True), markup=False)


organisation_app = _App(help="Organisational measures: the privacy department and staff training (KAMOER-41).",
                                no_args_is_help=True)
app.add_typer(organisation_app, name="organisation")


@organisation_app.command("department")
def organisation_department(
    name: Annotated[str, typer.Option("--name", help="The department's name.")],
    contact: Annotated[str, typer.Option("--contact", help="Its functional address (email or https page), not a "
                                                            "person's.")],
    role: Annotated[list[str], typer.Option("--role", help="A role title and its head count, 'Title=N' (repeat). "
                                                            "Role titles only: staff names are never recorded.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record (or replace) the privacy department: name, contact and members by role."""
    from .organisation import set_department

    roles: dict[str, int] = {}
    for item in role:
        title, sep, count = item.rpartition("=")
        if not sep or not count.strip().isdigit():
            raise BadValueError(f"--role {item!r}: expected 'Title=N', e.g. 'Data Protection Officer=1'")
        roles[title.strip()] = int(count)
    got = set_department(_engine(home, database_url, pack), name=name, contact=contact, roles=roles,
                         actor="operator")
    out.print(f"privacy department recorded: {got['name']} ({sum(r['count'] for r in got['roles'])} staff in "
              f"{len(got['roles'])} role(s))", markup=False)


@organisation_app.command("training")
def organisation_training(
    held_on: Annotated[str, typer.Option("--held-on", help="The day it was held (YYYY-MM-DD).")],
    topic: Annotated[str, typer.Option("--topic", help="What it covered.")],
    attendance: Annotated[int, typer.Option("--attendance", help="How many staff attended.")],
    home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Record a staff security and privacy training session."""
    from .organisation import record_training

    try:
        day = dt.date.fromisoformat(held_on)
    except ValueError:
        raise BadValueError(f"--held-on {held_on!r} is not a date (YYYY-MM-DD)") from None
    sid = record_training(_engine(home, database_url, pack), held_on=day, topic=topic, attendance=attendance,
                          actor="operator")
    out.print(f"training session {sid} recorded", markup=False)


@organisation_app.command("show")
def organisation_show(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """Show the department, the last training session and whether the next one is overdue (recurrence from the pack,
    or from HOME/organisation.yaml where the pack leaves it unspecified)."""
    from .organisation import department, load_recurrence, training_status

    eng = _engine(home, database_url, pack)
    dept = department(eng)
    status = training_status(eng, load_recurrence(Settings.load(home).home / "organisation.yaml"))
    if dept is None:
        out.print("privacy department: none on record", markup=False)
    else:
        roles = ", ".join(f"{r['role']} x{r['count']}" for r in dept["roles"])
        out.print(f"privacy department: {dept['name']} <{dept['contact']}>; {roles}", markup=False)
    last = status.last
    out.print("last training: " + (f"{last['held_on']} {last['topic']} ({last['attendance']} attended)" if last
                                   else "none on record"), markup=False)
    if status.every is None:
        out.print("recurrence: not stated (the pack leaves it unspecified; set recurrence.staff_training in "
                  "HOME/organisation.yaml)", markup=False)
    else:
        every = status.every
        out.print(f"recurrence: every {every.value} {every.unit} ({status.source}); next due "
                  f"{status.due_on or 'now'}" + ("; OVERDUE" if status.overdue else ""), markup=False)


from ._cli_records import records_app  # noqa: E402 (it uses the helpers above)

app.add_typer(records_app, name="records")


def main() -> None:
    """Entry point of the ``policykeeper`` console script."""
    app()
