"""What every command group shares: the one error translation (``_translating``, applied by ``_App`` to every
command it registers), the app and its sub-apps (registered here, in the order the help lists them), the common
options, the consoles, and opening the engine for the pack in force."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__
from .._exceptions import BadValueError, PackError, PolicykeeperError
from .._settings import Settings

if TYPE_CHECKING:  # the commands import what they use, so that starting the CLI stays cheap (tests/test_cli_start.py)
    from typer.models import CommandFunctionType

    from ..engine import PolicyEngine
    from ..pack import Pack


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


_GROUPS = {  # each command group (``policykeeper NAME ...``) and its help, in the order the help lists them
    "pack": "Validate, render, compare and lint policy packs.",
    "keys": "Create and rotate the master key (kept outside the database).",
    "audit": "Check the hash-chained audit log.",
    "consent": "Record consent given or withdrawn; print a consent receipt.",
    "transfer": "Cross-border transfer records.",
    "fact": "The fact register: facts that unlock a protection, on record.",
    "request": "Data subject requests: submit, verify, list, fulfil, refuse.",
    "dataset": "Dataset maps of the company's own databases (Fides datasets).",
    "deletions": "The deletion queue (e.g. minors found without parental consent).",
    "outbox": "Messages to recipients (erasure notices): deliver with retries, dead letters.",
    "retention": "Retention: the end-of-retention sweep, legal holds and the events that end periods.",
    "marketing": "Marketing and service messages to people; unsubscribe links.",
    "tracker": "Cookies and similar trackers, registered against the pack's lists.",
    "incident": "Security incidents: record, promised steps, close, notify the people affected, report to the regulator.",
    "apikey": "API keys for staff and services, each bound to one role.",
    "organisation": "Organisational measures: the privacy department and staff training (KAMOER-41).",
    "records": "Standard records: ISO/IEC TS 27560 consent records, the pack as DPV, a record of processing activities "
               "(Kantara receipts: 'consent receipt').",
}


def _group(name: str, help: str) -> _App:
    """A command group (``policykeeper NAME ...``), registered on the app; without a command it prints its help."""
    group = _App(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


groups = {name: _group(name, help) for name, help in _GROUPS.items()}
"""The command groups by name; each command module takes the ones whose commands it holds."""

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
    from ..pack import load_pack

    return load_pack(source)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()



def _engine(home: Path | None, database_url: str | None, pack: str | None) -> PolicyEngine:
    """The engine for the version of the pack in force now (a version published with ``pack publish`` takes over
    from its effective date)."""
    from ..crypto import KeyRing
    from ..engine import PolicyEngine
    from ..pack import load_pack
    from ..store import open_database
    from ..versions import engine_at

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

