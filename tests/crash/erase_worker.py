"""Run ``policykeeper request fulfil`` (the real command) for each reference given, in one process, so a test can
kill it with SIGKILL at a random point of the erasures: ``python erase_worker.py HOME DB_URL REF...``.

Prints ``ready`` once everything is imported, then the command's own output, one line per fulfilled request."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from policykeeper.cli import app

    home, url, *refs = argv
    print("ready", flush=True)
    for ref in refs:
        app(["request", "fulfil", ref, "--home", home, "--database-url", url, "--pack", "kokkok"],
            standalone_mode=False)
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
