"""``policykeeper pack ...``: validate, render, compare, lint, draft, review and publish packs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    PackArg,
    _engine,
    _load,
    _when,
    err,
    groups,
    out,
)

pack_app = groups["pack"]


@pack_app.command("check")
def pack_check(
    source: PackArg,
    strict: Annotated[bool, typer.Option("--strict", help="Fail when any promise is not encoded by a rule.")] = False,
) -> None:
    """Validate a pack; print a summary ending with 'promises: N/M encoded'."""
    from ..pack import coverage

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
    from ..pack import Pack

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
    from ..pack import people_document, people_markdown, render_pack
    from ..pack._people import people_page

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
    from ..pack import diff_packs

    a, b = _load(old), _load(new)
    changes = diff_packs(a, b)
    for change in changes:
        out.print(str(change), markup=False)
    sig = sum(1 for c in changes if c.significant)
    out.print(f"changes: {len(changes)} ({sig} significant, {len(changes) - sig} minor)")


@pack_app.command("lint")
def pack_lint(source: PackArg) -> None:
    """Find contradictions inside one pack and print both quotes. Exits 1 when any is found."""
    from ..pack import lint_pack

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
    from ..compiler import draft_pack, read_policy

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

    from ..compiler import read_policy
    from ..compiler._review import review_html, review_rows

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
    from ..pack import load_pack
    from ..versions import publish

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
    from ..versions import versions

    rows = versions(_engine(home, database_url, pack))
    for v in rows:
        kind = "significant" if v["significant"] else "minor"
        out.print(f"{v['label']}  effective {v['effective_at'].isoformat()}  {kind}  by {v['published_by']}", markup=False)
    out.print(f"versions: {len(rows)}", markup=False)
