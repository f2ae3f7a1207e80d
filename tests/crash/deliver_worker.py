"""Run ``policykeeper outbox deliver`` (the real command) so a test can kill it with SIGKILL mid-delivery:
``python deliver_worker.py HOME DB_URL``. Prints ``ready`` once everything is imported."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from policykeeper.cli import app

    home, url = argv
    print("ready", flush=True)
    app(["outbox", "deliver", "--home", home, "--database-url", url, "--pack", "kokkok"], standalone_mode=False)
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
