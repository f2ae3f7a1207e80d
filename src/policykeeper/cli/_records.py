"""``policykeeper records ...``: the standard records (ISO/IEC TS 27560 consent records, the pack as DPV, the record
of processing activities)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from .._exceptions import BadValueError
from ._base import DbOpt, EnginePackOpt, HomeOpt, _engine, groups, out

if TYPE_CHECKING:
    from ..pack import Pack

records_app = groups["records"]

OutOpt = Annotated[Path | None, typer.Option("--out", help="Write to this file instead of printing.")]
PackNameOpt = Annotated[str | None, typer.Option("--pack", help="A pack file or a bundled name (default "
                                                               "$POLICYKEEPER_PACK or kokkok).")]


def _emit(text: str, to: Path | None) -> None:
    if to is None:
        out.print(text, markup=False, end="" if text.endswith("\n") else "\n")
    else:
        to.write_text(text, encoding="utf-8")
        out.print(f"wrote {to}", markup=False)


def _format(fmt: str, first: str, second: str) -> str:
    """``--format``: one of the two formats a command writes."""
    if fmt not in (first, second):
        raise BadValueError(f"--format is {first} or {second}, not {fmt!r}")
    return fmt


def _pack(name: str | None) -> Pack:
    from .._settings import Settings
    from ..pack import load_pack

    return load_pack(name or Settings.load().pack)


@records_app.command("consent")
def records_consent(
    person: Annotated[str | None, typer.Argument(help="The person's identifier in your application; "
                                                       "leave out with --all.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Everyone in the consent ledger (website devices included).")] = False,
    to: OutOpt = None, home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None,
) -> None:
    """Print consent records as ISO/IEC TS 27560 records in DPV JSON-LD, for one person or (--all) everyone."""
    from ..records import consent_records_jsonld

    if (person is None) == (not all_):
        raise BadValueError("name one person, or give --all for everyone (not both)")
    text = consent_records_jsonld(_engine(home, database_url, pack), None if all_ else person)
    _emit(text, to)


@records_app.command("pack")
def records_pack(
    fmt: Annotated[str, typer.Option("--format", help="turtle or json-ld.")] = "turtle",
    pack: PackNameOpt = None, to: OutOpt = None,
) -> None:
    """Print the pack as DPV: purposes, personal data, legal bases, recipients, retention, rights, transfers."""
    from ..records import pack_dpv

    chosen: Literal["turtle", "json-ld"] = "turtle" if _format(fmt, "turtle", "json-ld") == "turtle" else "json-ld"
    _emit(pack_dpv(_pack(pack), chosen), to)


@records_app.command("ropa")
def records_ropa(
    fmt: Annotated[str, typer.Option("--format", help="csv or html.")] = "csv",
    pack: PackNameOpt = None, to: OutOpt = None,
) -> None:
    """Print the record of processing activities (GDPR Article 30 style, one row per purpose) as CSV or HTML."""
    from ..records import ropa_csv, ropa_html

    write = ropa_csv if _format(fmt, "csv", "html") == "csv" else ropa_html
    _emit(write(_pack(pack)), to)
