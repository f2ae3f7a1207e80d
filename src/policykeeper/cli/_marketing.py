"""``policykeeper marketing ...`` and ``tracker ...``: messages to people, unsubscribe links, registered trackers."""

from __future__ import annotations

from typing import Annotated

import typer

from ._base import (
    DbOpt,
    EnginePackOpt,
    HomeOpt,
    PersonArg,
    _engine,
    groups,
    out,
)

marketing_app = groups["marketing"]
tracker_app = groups["tracker"]


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
    from ..marketing import send_message

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
    from ..marketing import unsubscribe

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
    from ..marketing import register_tracker

    tid = register_tracker(_engine(home, database_url, pack), name=name, technology=technology, purpose=purpose,
                           party=party, lifetime=lifetime, placement=placement,  # type: ignore[arg-type]
                           recipient=recipient)
    out.print(f"tracker {tid}: {name} ({technology}, {purpose})", markup=False)


@tracker_app.command("list")
def tracker_list(home: HomeOpt = None, database_url: DbOpt = None, pack: EnginePackOpt = None) -> None:
    """The registered trackers: id, name, technology, purpose, party, recipient, lifetime, placement."""
    from ..marketing import list_trackers

    rows = list_trackers(_engine(home, database_url, pack))
    for r in rows:
        out.print("\t".join(str(r[k] or "-") for k in ("id", "name", "technology", "purpose", "party", "recipient",
                                                        "lifetime", "placement")), markup=False)
    out.print(f"trackers: {len(rows)}")
