"""The marketing and tracker commands: send, unsubscribe through the link's token, register and list trackers."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from policykeeper import load_pack
from policykeeper.cli import app
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.notify import RoutedTransport, SmtpMailer, deliver
from policykeeper.store import open_database

from ..conftest import Inbox
from .test_marketing import KAMOER_USER, LINK

runner = CliRunner()


def test_marketing_send_and_unsubscribe_commands(tmp_path: Path, smtp: tuple[Inbox, SmtpMailer]) -> None:
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kamoer"]
    eng = PolicyEngine(load_pack("kamoer"), open_database(f"sqlite:///{home / 'policykeeper.db'}"),
                       KeyRing.open(home / "keys"))
    eng.collect("wang", "registration", KAMOER_USER)
    send = ["marketing", "send", "wang", "--topic", "618", "--subject", "Sale", "--body", "All pumps 20% off.",
            "--base-url", "https://shop.example", *opts]
    first = runner.invoke(app, send)
    assert first.exit_code == 0, first.output
    assert "marketing message queued: outbox" in first.stdout
    assert "already sent: marketing 618" in runner.invoke(app, send).stdout
    sms = runner.invoke(app, [*send[:3], "--channel", "sms", *send[3:]])
    assert sms.exit_code == 1 and "no transport" in sms.stderr
    deliver(eng.db, eng.keys, RoutedTransport(smtp[1]))
    raw = smtp[0].to("wang@example.cn")[-1].get_payload(decode=True)
    assert isinstance(raw, bytes)
    found = LINK.search(raw.decode())
    assert found
    done = runner.invoke(app, ["marketing", "unsubscribe", found.group(2), *opts])
    assert done.exit_code == 0 and done.stdout.strip() == "unsubscribed"
    assert runner.invoke(app, ["marketing", "unsubscribe", found.group(2), *opts]).stdout.strip() == "already unsubscribed"
    forged = runner.invoke(app, ["marketing", "unsubscribe", found.group(2)[:-3] + "xyz", *opts])
    assert forged.exit_code == 1 and "[bad_value]" in forged.stderr and "forged" in forged.stderr
    again = runner.invoke(app, [*send[:4], "619", *send[5:]])
    assert again.exit_code == 1 and "[denied]" in again.stderr and "opted out" in again.stderr
    service = runner.invoke(app, [*send[:4], "receipt-1", "--kind", "service", *send[5:]])
    assert service.exit_code == 0 and "service message queued" in service.stdout


def test_tracker_add_and_list_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert runner.invoke(app, ["keys", "init", "--home", str(home)]).exit_code == 0
    opts = ["--home", str(home), "--pack", "kokkok"]
    added = runner.invoke(app, ["tracker", "add", "_ga", "--technology", "cookie", "--purpose", "cookie_traffic_analysis",
                                "--placement", "browser", "--lifetime", "persistent", "--party", "third",
                                "--recipient", "third_party_cookies", *opts])
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("tracker 1: _ga")
    refused = runner.invoke(app, ["tracker", "add", "fp", "--technology", "cookie", "--purpose", "credit_scoring",
                                  "--placement", "browser", *opts])
    assert refused.exit_code == 1 and "[denied]" in refused.stderr and "KOKKOK-48" in refused.stderr
    kalos = runner.invoke(app, ["tracker", "add", "sid", "--technology", "cookie", "--purpose", "navigation",
                                "--placement", "browser", "--home", str(home), "--pack", "kalos"])
    assert kalos.exit_code == 1 and "KALOS-12" in kalos.stderr
    listed = runner.invoke(app, ["tracker", "list", *opts])
    assert listed.exit_code == 0
    assert [line.split() for line in listed.stdout.splitlines()] == [
        ["1", "_ga", "cookie", "cookie_traffic_analysis", "third", "third_party_cookies", "persistent", "browser"],
        ["trackers:", "1"]]
