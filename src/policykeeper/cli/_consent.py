"""``policykeeper consent ...``, ``transfer assess``, ``fact record`` and ``deletions ...``: what the engine keeps on
record about consent, transfers, register facts and the deletion queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    PersonArg,
    _engine,
    _evidence,
    _when,
    groups,
    out,
)

if TYPE_CHECKING:
    from ..consent import ConsentAction


consent_app = groups["consent"]
transfer_app = groups["transfer"]
fact_app = groups["fact"]
deletions_app = groups["deletions"]


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
